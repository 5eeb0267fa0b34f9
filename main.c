// SPDX-License-Identifier: GPL-2.0
/*
 * lkvm's command dispatcher: `lkvm run|sandbox|version|help` and the
 * control commands list|stop|pause|resume|stat|debug|balloon (ctl/).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lkvm/arch.h"
#include "lkvm/config.h"
#include "lkvm/ctl.h"
#include "lkvm/disk.h"
#include "lkvm/exit.h"
#include "lkvm/kvm.h"
#include "lkvm/privs.h"
#include "sandbox/sandbox.h"

#ifndef LKVM_VERSION
#define LKVM_VERSION "unknown"
#endif

static void usage(FILE *f)
{
	fprintf(f,
"usage: lkvm [--version] [--help] <command> [<args>]\n"
"\n"
"The most commonly used lkvm commands are:\n"
"   run        Start a virtual machine\n"
"   sandbox    Run a command in a throwaway VM on the host's files\n"
"   list       List the running VMs\n"
"   stop       Stop a VM, or all of them (--all)\n"
"   pause      Pause a VM\n"
"   resume     Resume a paused VM\n"
"   stat       Print a VM's device counters and memory figures\n"
"   debug      Dump a VM's registers, inject an NMI or a SysRq key\n"
"   balloon    Inflate or deflate a VM's balloon\n"
"   version    Print the version of the lkvm binary\n"
"   help       Show this text, or `lkvm help <command>` for its options\n"
"\n"
"See 'lkvm help <command>' for more information on a specific command.\n");
}

static int cmd_run(int argc, char **argv)
{
	struct lkvm_config cfg;
	int ret;

	ret = config_parse_run(&cfg, argc, argv);
	if (ret < 0)
		return LKVM_EXIT_USAGE;
	if (ret > 0)
		return 0;
	if (config_resolve_kernel(&cfg, "run") || config_check_disks(&cfg, "run"))
		return LKVM_EXIT_USAGE;
	return kvm__run(&cfg);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	/*
	 * A closed stdout (`lkvm run ... | head`) or a guest's slirp socket
	 * whose peer has gone must not kill the VMM with the terminal left
	 * raw: writes see EPIPE instead, and their callers treat it as lost
	 * output.  Children (tap scripts) get the default back before exec.
	 */
	signal(SIGPIPE, SIG_IGN);
	privs_cloexec_inherited();
	if (!cmd) {
		usage(stderr);
		return LKVM_EXIT_USAGE;
	}
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "sandbox"))
		return sandbox_main(argc - 1, argv + 1);
	if (ctl_cli_is_command(cmd))
		return ctl_cli_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("lkvm version %s\n", LKVM_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") ||
	    !strcmp(cmd, "-h")) {
		if (argc > 2 && !strcmp(argv[2], "run"))
			config_print_run_help(stdout);
		else if (argc > 2 && !strcmp(argv[2], "sandbox"))
			return sandbox_main(2, (char *[]){ "sandbox", "--help", NULL });
		else if (argc > 2 && ctl_cli_is_command(argv[2]))
			ctl_cli_help(argv[2], stdout);
		else
			usage(stdout);
		return 0;
	}
	fprintf(stderr, "lkvm: '%s' is not an lkvm command. See 'lkvm --help'.\n",
		cmd);
	return LKVM_EXIT_USAGE;
}
