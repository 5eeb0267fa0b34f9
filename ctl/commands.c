// SPDX-License-Identifier: GPL-2.0
/*
 * What a running VM answers on its control socket.  Requests are the
 * client's internal vocabulary (ctl/cli.c speaks it), not user syntax:
 *
 *	info | pause | resume | poweroff | kill | stat | dump
 *	nmi CPU | sysrq KEY | balloon inflate|deflate MIB
 *
 * each optionally followed by --json for a JSON reply.  Runs on the main
 * thread, in its event loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "balloon.h"
#include "server.h"
#include "lkvm/control.h"
#include "lkvm/exit.h"
#include "lkvm/kvm.h"
#include "lkvm/virtio.h"

struct ctl_req {
	struct ctl_server *srv;
	struct kvm *kvm;
	int argc;
	const char **argv;
	bool json;
	struct ctl_buf *out;
};

static const char *const ctl_transports[] = {
	[VIRTIO_TRANSPORT_PCI] = "pci",
	[VIRTIO_TRANSPORT_PCI_LEGACY] = "pci-legacy",
	[VIRTIO_TRANSPORT_MMIO] = "mmio",
	[VIRTIO_TRANSPORT_MMIO_LEGACY] = "mmio-legacy",
	[VIRTIO_TRANSPORT_PCI_MODERN] = "pci-modern",
};

static const char *ctl_state(struct kvm *kvm)
{
	return kvm__paused(kvm) ? "paused" : "running";
}

/* Replies with the outcome of an action: "<what>" or {"name":...,"result":...}. */
static int ctl_result(struct ctl_req *r, int err, const char *done)
{
	if (err) {
		ctl_buf_printf(r->out, "%s: %s\n", r->argv[0], strerror(-err));
		return err;
	}
	if (r->json) {
		ctl_buf_add(r->out, "{\"name\":", 8);
		ctl_buf_json_str(r->out, r->srv->name);
		ctl_buf_printf(r->out, ",\"result\":\"%s\"}\n", done);
	} else {
		ctl_buf_printf(r->out, "%s\n", done);
	}
	return 0;
}

static int ctl_cmd_info(struct ctl_req *r)
{
	struct kvm *kvm = r->kvm;
	unsigned long long up = (ctl_now_ms() - r->srv->start_ms) / 1000;

	if (r->json) {
		ctl_buf_add(r->out, "{\"name\":", 8);
		ctl_buf_json_str(r->out, r->srv->name);
		ctl_buf_printf(r->out,
			       ",\"pid\":%d,\"state\":\"%s\",\"vcpus\":%u,\"memory_mib\":%llu,\"uptime_s\":%llu}\n",
			       (int)getpid(), ctl_state(kvm), kvm->nr_cpus,
			       (unsigned long long)(kvm->ram_size >> 20), up);
	} else {
		/* One line the client parses: pid state vcpus MiB seconds. */
		ctl_buf_printf(r->out, "%d %s %u %llu %llu\n", (int)getpid(),
			       ctl_state(kvm), kvm->nr_cpus,
			       (unsigned long long)(kvm->ram_size >> 20), up);
	}
	return 0;
}

static int ctl_cmd_pause(struct ctl_req *r)
{
	return ctl_result(r, kvm__pause(r->kvm), "paused");
}

static int ctl_cmd_resume(struct ctl_req *r)
{
	return ctl_result(r, kvm__resume(r->kvm), "resumed");
}

static int ctl_cmd_poweroff(struct ctl_req *r)
{
	int err = 0;

	/* A paused guest could not see the request. */
	if (kvm__paused(r->kvm))
		err = kvm__resume(r->kvm);
	if (!err)
		err = arch__request_poweroff(r->kvm);
	return ctl_result(r, err, "power-off requested");
}

static int ctl_cmd_kill(struct ctl_req *r)
{
	kvm__request_stop(r->kvm, LKVM_EXIT_STOPPED);
	return ctl_result(r, 0, "stopping");
}

/*
 * /proc/self/statm, opened while lkvm sets up: the main thread's seccomp
 * filter lets it read an open fd, never open a file.
 */
static int statm_fd = -1;

void ctl_commands_init(void)
{
	if (statm_fd < 0)
		statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
}

/* lkvm's resident set, in KiB, from /proc/self/statm; 0 if unknown. */
static unsigned long long ctl_rss_kib(void)
{
	unsigned long long size, pages;
	char buf[128];
	ssize_t n;

	if (statm_fd < 0)
		return 0;
	n = pread(statm_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* "size resident shared text lib data dt", in pages. */
	if (sscanf(buf, "%llu %llu", &size, &pages) != 2)
		return 0;
	return pages * ((unsigned long long)sysconf(_SC_PAGESIZE) >> 10);
}

#define CTL_LD(x) ((unsigned long long)atomic_load_explicit(&(x), memory_order_relaxed))

static void ctl_stat_devices(struct ctl_req *r)
{
	struct kvm *kvm = r->kvm;
	const char *tr = (unsigned int)kvm->cfg->virtio_transport <
			 ARRAY_SIZE(ctl_transports) ?
			 ctl_transports[kvm->cfg->virtio_transport] : "?";

	if (!r->json)
		ctl_buf_printf(r->out, "%-10s %-11s %10s %10s %10s %14s %7s %11s\n",
			       "device", "transport", "kicks", "interrupts",
			       "requests", "bytes", "errors", "needs_reset");
	for (unsigned int i = 0; i < kvm->nr_vdevs; i++) {
		/*
		 * Counters only: relaxed loads, each exact on its own,
		 * not a snapshot consistent across them.
		 */
		struct virtio_device *v = kvm->vdevs[i];
		const char *name = v->ops && v->ops->name ? v->ops->name : "?";

		if (r->json) {
			ctl_buf_printf(r->out, "%s{\"name\":", i ? "," : "");
			ctl_buf_json_str(r->out, name);
			ctl_buf_printf(r->out,
				       ",\"transport\":\"%s\",\"kicks\":%llu,\"interrupts\":%llu,\"requests\":%llu,\"bytes\":%llu,\"errors\":%llu,\"needs_reset\":%llu}",
				       tr, CTL_LD(v->nr_kicks),
				       CTL_LD(v->nr_interrupts),
				       (unsigned long long)virtio_stat_requests(v),
				       (unsigned long long)virtio_stat_bytes_moved(v),
				       CTL_LD(v->nr_errors),
				       CTL_LD(v->nr_needs_reset));
		} else {
			ctl_buf_printf(r->out,
				       "%-10s %-11s %10llu %10llu %10llu %14llu %7llu %11llu\n",
				       name, tr, CTL_LD(v->nr_kicks),
				       CTL_LD(v->nr_interrupts),
				       (unsigned long long)virtio_stat_requests(v),
				       (unsigned long long)virtio_stat_bytes_moved(v),
				       CTL_LD(v->nr_errors),
				       CTL_LD(v->nr_needs_reset));
		}
	}
}

static int ctl_cmd_stat(struct ctl_req *r)
{
	struct ctl_balloon_figures bf;
	unsigned long long ram = r->kvm->ram_size >> 20;
	unsigned long long rss = ctl_rss_kib();
	bool balloon;

	memset(&bf, 0, sizeof(bf));
	balloon = !ctl_balloon_figures(r->kvm, &bf);
	if (balloon)
		ctl_balloon_refresh_stats(r->kvm);
	if (bf.nr_stats > CTL_BALLOON_MAX_STATS)
		bf.nr_stats = CTL_BALLOON_MAX_STATS;
	if (r->json) {
		ctl_buf_add(r->out, "{\"name\":", 8);
		ctl_buf_json_str(r->out, r->srv->name);
		ctl_buf_printf(r->out, ",\"state\":\"%s\",\"devices\":[",
			       ctl_state(r->kvm));
		ctl_stat_devices(r);
		ctl_buf_printf(r->out,
			       "],\"memory\":{\"guest_ram_mib\":%llu,\"rss_kib\":%llu",
			       ram, rss);
		if (balloon) {
			ctl_buf_printf(r->out,
				       ",\"balloon\":{\"target_mib\":%llu,\"actual_mib\":%llu",
				       (unsigned long long)(bf.target_bytes >> 20),
				       (unsigned long long)(bf.actual_bytes >> 20));
			for (unsigned int i = 0; i < bf.nr_stats; i++) {
				ctl_buf_add(r->out, ",", 1);
				ctl_buf_json_str(r->out, bf.stats[i].name ?
						 bf.stats[i].name : "?");
				ctl_buf_printf(r->out, ":%llu",
					       (unsigned long long)bf.stats[i].value);
			}
			ctl_buf_add(r->out, "}", 1);
		}
		ctl_buf_add(r->out, "}}\n", 3);
		return 0;
	}
	ctl_stat_devices(r);
	ctl_buf_printf(r->out, "memory: guest RAM %llu MiB, lkvm RSS %llu KiB\n",
		       ram, rss);
	if (balloon) {
		ctl_buf_printf(r->out, "balloon: target %llu MiB, actual %llu MiB\n",
			       (unsigned long long)(bf.target_bytes >> 20),
			       (unsigned long long)(bf.actual_bytes >> 20));
		for (unsigned int i = 0; i < bf.nr_stats; i++)
			ctl_buf_printf(r->out, "balloon: %s %llu\n",
				       bf.stats[i].name ? bf.stats[i].name : "?",
				       (unsigned long long)bf.stats[i].value);
	}
	return 0;
}

static int ctl_cmd_dump(struct ctl_req *r)
{
	if (r->json)
		ctl_buf_add(r->out, "{\"vcpus\":[", 10);
	for (unsigned int i = 0; i < r->kvm->nr_cpus; i++) {
		char *text = NULL;
		int err = kvm_cpu__dump_text(r->kvm, i, &text);

		if (err) {
			free(text);
			r->out->len = 0;
			ctl_buf_printf(r->out, "dump of vCPU %u: %s\n", i,
				       strerror(-err));
			return err;
		}
		if (r->json) {
			ctl_buf_printf(r->out, "%s{\"id\":%u,\"text\":",
				       i ? "," : "", i);
			ctl_buf_json_str(r->out, text ? text : "");
			ctl_buf_add(r->out, "}", 1);
		} else {
			ctl_buf_printf(r->out, "--- vCPU %u ---\n%s", i,
				       text ? text : "");
		}
		free(text);
	}
	if (r->json)
		ctl_buf_add(r->out, "]}\n", 3);
	return 0;
}

/* A vCPU index from the request; -EINVAL with the reply said otherwise. */
static int ctl_cpu_arg(struct ctl_req *r, unsigned int *id)
{
	char *end;
	unsigned long v;

	if (r->argc < 2)
		return -EINVAL;
	errno = 0;
	v = strtoul(r->argv[1], &end, 10);
	if (errno || end == r->argv[1] || *end || r->argv[1][0] == '-' ||
	    v >= r->kvm->nr_cpus) {
		ctl_buf_printf(r->out, "no vCPU '%s' (this VM has 0..%u)\n",
			       r->argv[1], r->kvm->nr_cpus - 1);
		return -EINVAL;
	}
	*id = (unsigned int)v;
	return 0;
}

static int ctl_cmd_nmi(struct ctl_req *r)
{
	unsigned int id;
	int err = ctl_cpu_arg(r, &id);

	if (err)
		return err;
	return ctl_result(r, kvm_cpu__inject_nmi(r->kvm, id), "nmi sent");
}

static int ctl_cmd_sysrq(struct ctl_req *r)
{
	if (r->argc < 2 || strlen(r->argv[1]) != 1) {
		ctl_buf_printf(r->out, "sysrq: expected one character\n");
		return -EINVAL;
	}
	return ctl_result(r, kvm__sysrq(r->kvm, r->argv[1][0]), "sysrq sent");
}

static int ctl_cmd_balloon(struct ctl_req *r)
{
	struct ctl_balloon_figures bf;
	unsigned long long mib;
	u64 target, delta;
	char *end;
	int err;

	if (r->argc < 3 || (strcmp(r->argv[1], "inflate") &&
			    strcmp(r->argv[1], "deflate"))) {
		ctl_buf_printf(r->out, "balloon: expected inflate|deflate MiB\n");
		return -EINVAL;
	}
	errno = 0;
	mib = strtoull(r->argv[2], &end, 10);
	if (errno || end == r->argv[2] || *end || r->argv[2][0] == '-' ||
	    !mib || mib > (r->kvm->ram_size >> 20)) {
		ctl_buf_printf(r->out, "balloon: '%s' is not 1..%llu MiB\n",
			       r->argv[2],
			       (unsigned long long)(r->kvm->ram_size >> 20));
		return -EINVAL;
	}
	memset(&bf, 0, sizeof(bf));
	err = ctl_balloon_figures(r->kvm, &bf);
	if (err == -ENODEV) {
		ctl_buf_printf(r->out, "balloon: this VM has no balloon (run it with --balloon)\n");
		return err;
	}
	if (err)
		return ctl_result(r, err, "");
	delta = (u64)mib << 20;
	target = bf.target_bytes;
	if (r->argv[1][0] == 'i')
		target = target + delta > r->kvm->ram_size ?
			 r->kvm->ram_size : target + delta;
	else
		target = target > delta ? target - delta : 0;
	err = ctl_balloon_set_target(r->kvm, target);
	if (err)
		return ctl_result(r, err, "");
	if (r->json) {
		ctl_buf_add(r->out, "{\"name\":", 8);
		ctl_buf_json_str(r->out, r->srv->name);
		ctl_buf_printf(r->out, ",\"target_mib\":%llu}\n",
			       (unsigned long long)(target >> 20));
	} else {
		ctl_buf_printf(r->out, "balloon target %llu MiB\n",
			       (unsigned long long)(target >> 20));
	}
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct ctl_req *r);
} ctl_cmds[] = {
	{ "info", ctl_cmd_info },
	{ "pause", ctl_cmd_pause },
	{ "resume", ctl_cmd_resume },
	{ "poweroff", ctl_cmd_poweroff },
	{ "kill", ctl_cmd_kill },
	{ "stat", ctl_cmd_stat },
	{ "dump", ctl_cmd_dump },
	{ "nmi", ctl_cmd_nmi },
	{ "sysrq", ctl_cmd_sysrq },
	{ "balloon", ctl_cmd_balloon },
};

int ctl_dispatch(struct ctl_server *srv, int argc, const char **argv,
		 struct ctl_buf *body)
{
	struct ctl_req r = {
		.srv = srv, .kvm = srv->kvm, .argv = argv, .out = body,
	};

	/* --json may come anywhere after the command; it is not an argument. */
	for (int i = 0; i < argc; i++) {
		if (i && !strcmp(argv[i], "--json"))
			r.json = true;
		else
			argv[r.argc++] = argv[i];
	}
	for (size_t i = 0; i < ARRAY_SIZE(ctl_cmds); i++)
		if (!strcmp(argv[0], ctl_cmds[i].name))
			return ctl_cmds[i].fn(&r);
	ctl_buf_add(body, "unknown request '", 17);
	for (const char *p = argv[0]; *p && p - argv[0] < 32; p++)
		ctl_buf_printf(body, "%c", *p >= 0x20 && *p < 0x7f ? *p : '?');
	ctl_buf_add(body, "'\n", 2);
	return -EOPNOTSUPP;
}
