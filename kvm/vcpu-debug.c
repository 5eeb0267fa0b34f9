// SPDX-License-Identifier: GPL-2.0
/*
 * `lkvm debug --dump` and `--nmi`: both act on a vCPU's registers, which
 * KVM only lets the vCPU's own thread touch while it is out of KVM_RUN,
 * so they run there as work items (kvm/pause.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/control.h"
#include "lkvm/kvm.h"

struct vcpu_dump {
	char *text;
	size_t len;
	int err;
};

static void vcpu_debug__dump(struct kvm_cpu *cpu, void *arg)
{
	struct vcpu_dump *d = arg;
	FILE *f = open_memstream(&d->text, &d->len);

	if (!f) {
		d->err = -errno;
		return;
	}
	arch__dump_vcpu(cpu, f);
	if (fclose(f))
		d->err = -errno;
}

int kvm_cpu__dump_text(struct kvm *kvm, unsigned int id, char **out)
{
	struct vcpu_dump d = { 0 };
	char *w;
	int ret;

	if (id >= kvm->nr_cpus)
		return -EINVAL;
	ret = kvm_cpu__run_work(kvm->cpus[id], vcpu_debug__dump, &d);
	if (!ret)
		ret = d.err;
	if (ret) {
		free(d.text);
		return ret;
	}
	/* The dump is written for a raw terminal: drop its carriage returns. */
	w = d.text;
	for (const char *r = d.text; *r; r++)
		if (*r != '\r')
			*w++ = *r;
	*w = '\0';
	*out = d.text;
	return 0;
}

static void vcpu_debug__nmi(struct kvm_cpu *cpu, void *arg)
{
	*(int *)arg = arch__inject_nmi(cpu);
}

int kvm_cpu__inject_nmi(struct kvm *kvm, unsigned int id)
{
	int err = 0, ret;

	if (id >= kvm->nr_cpus)
		return -EINVAL;
	ret = kvm_cpu__run_work(kvm->cpus[id], vcpu_debug__nmi, &err);
	return ret ? ret : err;
}
