// SPDX-License-Identifier: GPL-2.0
/*
 * arm64's vetting of the run options (arch__check_config(),
 * arch__check_cpu_features()): what arm64 cannot do is refused with one
 * line naming the option, never accepted and ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stderr-capture.h"
#include "tap.h"
#include "lkvm/arch.h"
#include "lkvm/config.h"

static char msg[512];

/*
 * Runs arch__check_config(@cfg), or arch__check_cpu_features(@spec) if
 * @cfg is NULL, with stderr caught in msg[] (its one line, no newline).
 */
static int check_any(const struct lkvm_config *cfg, const char *spec)
{
	struct stderr_capture c;
	int ret;

	stderr_capture_begin(&c);
	ret = cfg ? arch__check_config(cfg, "sandbox") :
		    arch__check_cpu_features(spec, "sandbox");
	stderr_capture_end(&c, msg, sizeof(msg));
	msg[strcspn(msg, "\n")] = '\0';
	return ret;
}

static int check(const struct lkvm_config *cfg)
{
	return check_any(cfg, NULL);
}

int main(void)
{
	struct lkvm_config cfg;
	int ret;

	tap_plan(6);

	memset(&cfg, 0, sizeof(cfg));
	ok(!check(&cfg) && !msg[0], "defaults pass, silently");

	cfg.debug_exit = true;
	ret = check(&cfg);
	ok(ret == -EINVAL, "--debug-exit refused (%d)", ret);
	ok(strstr(msg, "lkvm sandbox: --debug-exit") && strstr(msg, "arm64"),
	   "the line names the command, --debug-exit and arm64: %s", msg);

	memset(&cfg, 0, sizeof(cfg));
	cfg.irqchip = "gicv4";
	ok(check(&cfg) == -EINVAL && strstr(msg, "'gicv4' for --irqchip"),
	   "an unknown --irqchip is named: %s", msg);

	cfg.irqchip = "gicv3-its";
	ok(!check(&cfg), "--irqchip gicv3-its passes");

	ok(check_any(NULL, "-sve") == -EINVAL &&
	   strstr(msg, "--cpu-features '-sve'"),
	   "--cpu-features refused on arm64: %s", msg);
	return tap_done();
}
