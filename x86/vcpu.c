// SPDX-License-Identifier: GPL-2.0
/*
 * Per-vCPU x86 state: CPUID with this vCPU's APIC ID, the MSRs and FPU
 * state a firmware would leave behind, the LAPIC's LINT pins, and for the
 * boot CPU the register state each boot protocol expects.  Application
 * processors wait for INIT/SIPI like on real hardware.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/boot.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"

#define X86_CR0_PE		(1ULL << 0)
#define X86_CR0_ET		(1ULL << 4)
#define X86_CR0_PG		(1ULL << 31)
#define X86_CR4_PAE		(1ULL << 5)
#define X86_RFLAGS_FIXED	0x2ULL

#define MSR_IA32_TSC		0x00000010
#define MSR_IA32_SYSENTER_CS	0x00000174
#define MSR_IA32_SYSENTER_ESP	0x00000175
#define MSR_IA32_SYSENTER_EIP	0x00000176
#define MSR_IA32_MISC_ENABLE	0x000001a0
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MISC_ENABLE_FAST_STRING	(1ULL << 0)

#define APIC_LVT0		0x350
#define APIC_LVT1		0x360
#define APIC_MODE_MASK		(7U << 8)
#define APIC_MODE_NMI		(4U << 8)
#define APIC_MODE_EXTINT	(7U << 8)

#define SEG_TYPE_CODE		0xb	/* execute/read, accessed */
#define SEG_TYPE_DATA		0x3	/* read/write, accessed */
#define SEG_TYPE_TSS_BUSY	0xb

static int vcpu__ioctl(struct kvm_cpu *cpu, unsigned long req, void *arg,
		       const char *name)
{
	if (ioctl(cpu->fd, req, arg) < 0) {
		int err = errno;

		pr_err("vCPU %u: %s: %s", cpu->id, name, strerror(err));
		return -err;
	}
	return 0;
}

static int vcpu__setup_cpuid(struct kvm_cpu *cpu)
{
	struct kvm_cpuid2 *src = cpu->kvm->arch.cpuid, *c;
	size_t size = sizeof(*src) + src->nent * sizeof(src->entries[0]);
	int ret;

	c = malloc(size);
	if (!c)
		return -ENOMEM;
	memcpy(c, src, size);
	ret = cpuid__fixup_vcpu(c, cpu->id, cpu->kvm->cfg->nr_cpus);
	if (!ret)
		ret = vcpu__ioctl(cpu, KVM_SET_CPUID2, c, "KVM_SET_CPUID2");
	free(c);
	return ret;
}

/* What firmware leaves in the MSRs, as kvmtool sets them. */
static const struct {
	u32 index;
	u64 data;
} boot_msrs[] = {
	{ MSR_IA32_SYSENTER_CS, 0 },
	{ MSR_IA32_SYSENTER_ESP, 0 },
	{ MSR_IA32_SYSENTER_EIP, 0 },
	{ MSR_STAR, 0 },
	{ MSR_CSTAR, 0 },
	{ MSR_KERNEL_GS_BASE, 0 },
	{ MSR_SYSCALL_MASK, 0 },
	{ MSR_LSTAR, 0 },
	{ MSR_IA32_TSC, 0 },
	{ MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
};

static int vcpu__setup_msrs(struct kvm_cpu *cpu)
{
	struct kvm_msrs *m;
	size_t done = 0;
	int ret = 0;

	m = calloc(1, sizeof(*m) + ARRAY_SIZE(boot_msrs) * sizeof(m->entries[0]));
	if (!m)
		return -ENOMEM;
	/*
	 * KVM_SET_MSRS stops at the first MSR it refuses.  None of these is
	 * essential, so report it and carry on with the rest.
	 */
	while (done < ARRAY_SIZE(boot_msrs)) {
		size_t n = ARRAY_SIZE(boot_msrs) - done;
		int set;

		m->nmsrs = (u32)n;
		for (size_t i = 0; i < n; i++) {
			m->entries[i] = (struct kvm_msr_entry){
				.index = boot_msrs[done + i].index,
				.data = boot_msrs[done + i].data,
			};
		}
		set = ioctl(cpu->fd, KVM_SET_MSRS, m);
		if (set < 0) {
			ret = -errno;
			pr_err("vCPU %u: KVM_SET_MSRS: %s", cpu->id,
			       strerror(errno));
			break;
		}
		done += (size_t)set;
		if (done < ARRAY_SIZE(boot_msrs)) {
			pr_warn("vCPU %u: KVM refused MSR 0x%x, leaving it at its reset value",
				cpu->id, boot_msrs[done].index);
			done++;
		}
	}
	free(m);
	return ret;
}

static int vcpu__setup_fpu(struct kvm_cpu *cpu)
{
	struct kvm_fpu fpu = {
		.fcw = 0x37f,		/* FNINIT: all exceptions masked */
		.mxcsr = 0x1f80,	/* reset value */
	};

	return vcpu__ioctl(cpu, KVM_SET_FPU, &fpu, "KVM_SET_FPU");
}

static u32 lapic_get(const struct kvm_lapic_state *l, unsigned int reg)
{
	u32 v;

	memcpy(&v, &l->regs[reg], sizeof(v));
	return v;
}

static void lapic_set(struct kvm_lapic_state *l, unsigned int reg, u32 v)
{
	memcpy(&l->regs[reg], &v, sizeof(v));
}

/* The 8259 is wired to LINT0 (ExtINT) and NMI to LINT1, as on a PC. */
static int vcpu__setup_lapic(struct kvm_cpu *cpu)
{
	struct kvm_lapic_state lapic;
	int ret;

	ret = vcpu__ioctl(cpu, KVM_GET_LAPIC, &lapic, "KVM_GET_LAPIC");
	if (ret)
		return ret;
	lapic_set(&lapic, APIC_LVT0,
		  (lapic_get(&lapic, APIC_LVT0) & ~APIC_MODE_MASK) |
		  APIC_MODE_EXTINT);
	lapic_set(&lapic, APIC_LVT1,
		  (lapic_get(&lapic, APIC_LVT1) & ~APIC_MODE_MASK) |
		  APIC_MODE_NMI);
	return vcpu__ioctl(cpu, KVM_SET_LAPIC, &lapic, "KVM_SET_LAPIC");
}

static void seg_flat(struct kvm_segment *s, u16 sel, u8 type, bool l)
{
	*s = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = l ? 0 : 1,
		.s = 1,
		.l = l,
		.g = 1,
	};
}

static void seg_real(struct kvm_segment *s, u16 sel)
{
	s->selector = sel;
	s->base = (u64)sel << 4;
}

static int vcpu__setup_boot_regs(struct kvm_cpu *cpu)
{
	const struct x86_boot_state *bs = &cpu->kvm->arch.boot;
	struct kvm_regs regs = {
		.rflags = X86_RFLAGS_FIXED,	/* interrupts off */
		.rip = bs->entry,
		.rsp = bs->stack,
		.rbp = bs->stack,
	};
	struct kvm_sregs sregs;
	int ret;

	ret = vcpu__ioctl(cpu, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
	if (ret)
		return ret;

	switch (bs->mode) {
	case X86_BOOT_REAL16:
		seg_real(&sregs.cs, bs->cs);
		seg_real(&sregs.ds, bs->cs);
		seg_real(&sregs.es, bs->cs);
		seg_real(&sregs.fs, bs->cs);
		seg_real(&sregs.gs, bs->cs);
		seg_real(&sregs.ss, bs->cs);
		break;
	case X86_BOOT_PVH32:
	case X86_BOOT_LONG64: {
		bool lm = bs->mode == X86_BOOT_LONG64;

		seg_flat(&sregs.cs, lm ? BOOT_CS64 : BOOT_CS32, SEG_TYPE_CODE,
			 lm);
		seg_flat(&sregs.ds, BOOT_DS, SEG_TYPE_DATA, false);
		sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
		/* VM entry wants a busy TSS in TR, even if never used. */
		sregs.tr = (struct kvm_segment){
			.limit = 0x67, .type = SEG_TYPE_TSS_BUSY, .present = 1,
		};
		sregs.gdt.base = bs->gdt;
		sregs.gdt.limit = BOOT_GDT_ENTRIES * 8 - 1;
		/* Caches on (CD/NW clear), protection on, paging per mode. */
		sregs.cr0 = X86_CR0_PE | X86_CR0_ET;
		sregs.cr4 = 0;
		sregs.efer = 0;
		if (lm) {
			sregs.cr0 |= X86_CR0_PG;
			sregs.cr3 = bs->pml4;
			sregs.cr4 = X86_CR4_PAE;
			sregs.efer = EFER_LME | EFER_LMA;
			regs.rsi = bs->arg;
		} else {
			regs.rbx = bs->arg;
		}
		break;
	}
	default:
		return -EINVAL;
	}

	ret = vcpu__ioctl(cpu, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
	if (!ret)
		ret = vcpu__ioctl(cpu, KVM_SET_REGS, &regs, "KVM_SET_REGS");
	return ret;
}

int arch__vcpu_init(struct kvm_cpu *cpu)
{
	int ret;

	/* CPUID first: KVM checks later state (EFER.LME, MSRs) against it. */
	ret = vcpu__setup_cpuid(cpu);
	if (!ret)
		ret = vcpu__setup_msrs(cpu);
	if (!ret)
		ret = vcpu__setup_fpu(cpu);
	if (!ret)
		ret = vcpu__setup_lapic(cpu);
	if (ret)
		return ret;

	if (cpu->id == 0)
		return vcpu__setup_boot_regs(cpu);

	/* APs sleep until the BSP sends INIT/SIPI. */
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_UNINITIALIZED };

	return vcpu__ioctl(cpu, KVM_SET_MP_STATE, &mp, "KVM_SET_MP_STATE");
}

static void dump_seg(FILE *f, const char *name, const struct kvm_segment *s)
{
	fprintf(f,
		" %-3s sel %04x base %016llx limit %08x type %x p %u dpl %u db %u s %u l %u g %u%s\r\n",
		name, s->selector, (unsigned long long)s->base, s->limit,
		s->type, s->present, s->dpl, s->db, s->s, s->l, s->g,
		s->unusable ? " unusable" : "");
}

/* Prints up to 16 code bytes at cs:rip, if they are in guest RAM. */
static void dump_code(FILE *f, struct kvm_cpu *cpu, const struct kvm_regs *regs,
		      const struct kvm_sregs *sregs)
{
	struct kvm_translation tr = {
		.linear_address = sregs->cs.base + regs->rip,
	};
	u64 len = 16, room;
	const u8 *p;

	if (ioctl(cpu->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid) {
		fprintf(f, " code: rip not mapped\r\n");
		return;
	}
	/* Stay inside the page: the next one may not be contiguous. */
	room = 0x1000 - (tr.physical_address & 0xfff);
	if (len > room)
		len = room;
	p = guest_mem_ptr(&cpu->kvm->mem, tr.physical_address, len);
	if (!p) {
		fprintf(f, " code: gpa %016llx is not RAM\r\n",
			(unsigned long long)tr.physical_address);
		return;
	}
	fprintf(f, " code at gpa %016llx:",
		(unsigned long long)tr.physical_address);
	for (u64 i = 0; i < len; i++)
		fprintf(f, " %02x", p[i]);
	fprintf(f, "\r\n");
}

void arch__dump_vcpu(struct kvm_cpu *cpu, FILE *f)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(cpu->fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(cpu->fd, KVM_GET_SREGS, &s) < 0) {
		fprintf(f, "vCPU %u: cannot read registers: %s\r\n", cpu->id,
			strerror(errno));
		return;
	}
	fprintf(f, "vCPU %u registers:\r\n", cpu->id);
	fprintf(f, " rip %016llx rflags %016llx\r\n",
		(unsigned long long)r.rip, (unsigned long long)r.rflags);
	fprintf(f, " rax %016llx rbx %016llx rcx %016llx rdx %016llx\r\n",
		(unsigned long long)r.rax, (unsigned long long)r.rbx,
		(unsigned long long)r.rcx, (unsigned long long)r.rdx);
	fprintf(f, " rsi %016llx rdi %016llx rsp %016llx rbp %016llx\r\n",
		(unsigned long long)r.rsi, (unsigned long long)r.rdi,
		(unsigned long long)r.rsp, (unsigned long long)r.rbp);
	fprintf(f, " r8  %016llx r9  %016llx r10 %016llx r11 %016llx\r\n",
		(unsigned long long)r.r8, (unsigned long long)r.r9,
		(unsigned long long)r.r10, (unsigned long long)r.r11);
	fprintf(f, " r12 %016llx r13 %016llx r14 %016llx r15 %016llx\r\n",
		(unsigned long long)r.r12, (unsigned long long)r.r13,
		(unsigned long long)r.r14, (unsigned long long)r.r15);
	fprintf(f, " cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx\r\n",
		(unsigned long long)s.cr0, (unsigned long long)s.cr2,
		(unsigned long long)s.cr3, (unsigned long long)s.cr4);
	fprintf(f, " cr8 %016llx efer %016llx apic_base %016llx\r\n",
		(unsigned long long)s.cr8, (unsigned long long)s.efer,
		(unsigned long long)s.apic_base);
	dump_seg(f, "cs", &s.cs);
	dump_seg(f, "ss", &s.ss);
	dump_seg(f, "ds", &s.ds);
	dump_seg(f, "es", &s.es);
	dump_seg(f, "fs", &s.fs);
	dump_seg(f, "gs", &s.gs);
	dump_seg(f, "tr", &s.tr);
	dump_seg(f, "ldt", &s.ldt);
	fprintf(f, " gdt %016llx/%04x idt %016llx/%04x\r\n",
		(unsigned long long)s.gdt.base, s.gdt.limit,
		(unsigned long long)s.idt.base, s.idt.limit);
	dump_code(f, cpu, &r, &s);
}

int arch__inject_nmi(struct kvm_cpu *cpu)
{
	return ioctl(cpu->fd, KVM_NMI) < 0 ? -errno : 0;
}
