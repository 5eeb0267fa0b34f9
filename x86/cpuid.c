// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's CPUID: what KVM supports on this host, minus what the user
 * took away with --cpu-features (a QEMU-style list: "-name" clears,
 * "+name" or "name" keeps/sets a feature KVM supports, "name=on|off"),
 * made consistent (no AVX without XSAVE, ...) and then given per-vCPU
 * topology.  Everything here except cpuid__get_supported() is pure and
 * testable without /dev/kvm.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include "arch/boot.h"
#include "lkvm/log.h"

enum cpuid_reg { R_EAX, R_EBX, R_ECX, R_EDX };

struct cpuid_feature {
	const char *name;
	u32 function;
	u32 index;
	enum cpuid_reg reg;
	u8 bit;
};

#define F1D(n, b)	{ n, 1, 0, R_EDX, b }
#define F1C(n, b)	{ n, 1, 0, R_ECX, b }
#define F7B(n, b)	{ n, 7, 0, R_EBX, b }
#define F7C(n, b)	{ n, 7, 0, R_ECX, b }
#define F7D(n, b)	{ n, 7, 0, R_EDX, b }
#define F71A(n, b)	{ n, 7, 1, R_EAX, b }
#define FXD(n, b)	{ n, 0x80000001, 0, R_EDX, b }
#define FXC(n, b)	{ n, 0x80000001, 0, R_ECX, b }
#define FDA(n, b)	{ n, 0xd, 1, R_EAX, b }

/* Names as QEMU and /proc/cpuinfo spell them ('_', '-', '.' are equal). */
static const struct cpuid_feature features[] = {
	F1D("fpu", 0), F1D("vme", 1), F1D("de", 2), F1D("pse", 3),
	F1D("tsc", 4), F1D("msr", 5), F1D("pae", 6), F1D("mce", 7),
	F1D("cx8", 8), F1D("apic", 9), F1D("sep", 11), F1D("mtrr", 12),
	F1D("pge", 13), F1D("mca", 14), F1D("cmov", 15), F1D("pat", 16),
	F1D("pse36", 17), F1D("clflush", 19), F1D("ds", 21), F1D("acpi", 22),
	F1D("mmx", 23), F1D("fxsr", 24), F1D("sse", 25), F1D("sse2", 26),
	F1D("ss", 27), F1D("ht", 28), F1D("tm", 29), F1D("pbe", 31),

	F1C("sse3", 0), F1C("pclmulqdq", 1), F1C("dtes64", 2),
	F1C("monitor", 3), F1C("ds-cpl", 4), F1C("vmx", 5), F1C("smx", 6),
	F1C("est", 7), F1C("tm2", 8), F1C("ssse3", 9), F1C("cid", 10),
	F1C("fma", 12), F1C("cx16", 13), F1C("xtpr", 14), F1C("pdcm", 15),
	F1C("pcid", 17), F1C("dca", 18), F1C("sse4-1", 19),
	F1C("sse4-2", 20), F1C("x2apic", 21), F1C("movbe", 22),
	F1C("popcnt", 23), F1C("tsc-deadline", 24), F1C("aes", 25),
	F1C("xsave", 26), F1C("osxsave", 27), F1C("avx", 28),
	F1C("f16c", 29), F1C("rdrand", 30), F1C("hypervisor", 31),

	F7B("fsgsbase", 0), F7B("tsc-adjust", 1), F7B("bmi1", 3),
	F7B("hle", 4), F7B("avx2", 5), F7B("smep", 7), F7B("bmi2", 8),
	F7B("erms", 9), F7B("invpcid", 10), F7B("rtm", 11), F7B("mpx", 14),
	F7B("avx512f", 16), F7B("avx512dq", 17), F7B("rdseed", 18),
	F7B("adx", 19), F7B("smap", 20), F7B("avx512ifma", 21),
	F7B("clflushopt", 23), F7B("clwb", 24), F7B("avx512pf", 26),
	F7B("avx512er", 27), F7B("avx512cd", 28), F7B("sha", 29),
	F7B("avx512bw", 30), F7B("avx512vl", 31),

	F7C("avx512vbmi", 1), F7C("umip", 2), F7C("pku", 3),
	F7C("ospke", 4), F7C("waitpkg", 5), F7C("avx512vbmi2", 6),
	F7C("gfni", 8), F7C("vaes", 9), F7C("vpclmulqdq", 10),
	F7C("avx512vnni", 11), F7C("avx512bitalg", 12),
	F7C("avx512-vpopcntdq", 14), F7C("la57", 16), F7C("rdpid", 22),

	F7D("avx512-4vnniw", 2), F7D("avx512-4fmaps", 3), F7D("fsrm", 4),
	F7D("avx512-vp2intersect", 8), F7D("md-clear", 10),
	F7D("serialize", 14), F7D("amx-bf16", 22), F7D("avx512-fp16", 23),
	F7D("amx-tile", 24), F7D("amx-int8", 25), F7D("spec-ctrl", 26),
	F7D("stibp", 27), F7D("arch-capabilities", 29), F7D("ssbd", 31),

	F71A("avx-vnni", 4), F71A("avx512-bf16", 5),

	FXD("syscall", 11), FXD("nx", 20), FXD("mmxext", 22),
	FXD("fxsr-opt", 25), FXD("pdpe1gb", 26), FXD("rdtscp", 27),
	FXD("lm", 29),

	FXC("lahf-lm", 0), FXC("cmp-legacy", 1), FXC("svm", 2),
	FXC("extapic", 3), FXC("cr8legacy", 4), FXC("abm", 5),
	FXC("sse4a", 6), FXC("misalignsse", 7), FXC("3dnowprefetch", 8),
	FXC("xop", 11), FXC("fma4", 16), FXC("tbm", 21), FXC("topoext", 22),

	FDA("xsaveopt", 0), FDA("xsavec", 1), FDA("xgetbv1", 2),
	FDA("xsaves", 3),
};

#define NR_FEATURES ARRAY_SIZE(features)

static const struct {
	const char *alias, *name;
} aliases[] = {
	{ "pni", "sse3" },
	{ "pclmuldq", "pclmulqdq" },
	{ "sha-ni", "sha" },
	{ "xd", "nx" },
	{ "i64", "lm" },
	{ "tsc-deadline-timer", "tsc-deadline" },
};

/* Clearing the first feature clears the second: (parent, child). */
static const struct {
	const char *parent, *child;
} deps[] = {
	{ "fxsr", "sse" }, { "sse", "sse2" }, { "sse2", "sse3" },
	{ "sse3", "ssse3" }, { "ssse3", "sse4-1" }, { "sse4-1", "sse4-2" },
	{ "apic", "x2apic" }, { "apic", "tsc-deadline" },
	{ "xsave", "osxsave" }, { "xsave", "avx" }, { "xsave", "xsaveopt" },
	{ "xsave", "xsavec" }, { "xsave", "xgetbv1" }, { "xsave", "xsaves" },
	{ "xsave", "mpx" }, { "xsave", "pku" }, { "xsave", "amx-tile" },
	{ "pku", "ospke" },
	{ "avx", "avx2" }, { "avx", "fma" }, { "avx", "f16c" },
	{ "avx", "avx512f" }, { "avx", "vaes" }, { "avx", "vpclmulqdq" },
	{ "avx", "avx-vnni" }, { "avx", "fma4" }, { "avx", "xop" },
	{ "avx512f", "avx512dq" }, { "avx512f", "avx512ifma" },
	{ "avx512f", "avx512pf" }, { "avx512f", "avx512er" },
	{ "avx512f", "avx512cd" }, { "avx512f", "avx512bw" },
	{ "avx512f", "avx512vl" }, { "avx512f", "avx512vbmi" },
	{ "avx512f", "avx512vbmi2" }, { "avx512f", "avx512vnni" },
	{ "avx512f", "avx512bitalg" }, { "avx512f", "avx512-vpopcntdq" },
	{ "avx512f", "avx512-4vnniw" }, { "avx512f", "avx512-4fmaps" },
	{ "avx512f", "avx512-vp2intersect" }, { "avx512f", "avx512-fp16" },
	{ "avx512f", "avx512-bf16" },
	{ "amx-tile", "amx-bf16" }, { "amx-tile", "amx-int8" },
};

/* XSAVE state components that go away with a feature (XCR0 bits). */
static const struct {
	const char *feature;
	u64 xcr0;
} xsave_state[] = {
	{ "avx", 1ULL << 2 },
	{ "mpx", (1ULL << 3) | (1ULL << 4) },
	{ "avx512f", (1ULL << 5) | (1ULL << 6) | (1ULL << 7) },
	{ "pku", 1ULL << 9 },
	{ "amx-tile", (1ULL << 17) | (1ULL << 18) },
};

#define CPUID_HYPERVISOR_BIT	31
#define XSAVE_LEGACY_SIZE	576	/* legacy area + XSAVE header */
#define MAX_NAME		48

static bool name_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = *a, y = *b;

		if (x == '_' || x == '.')
			x = '-';
		if (y == '_' || y == '.')
			y = '-';
		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (x != y)
			return false;
		if (!x)
			return true;
	}
}

static int feature_index(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		if (name_eq(name, aliases[i].alias))
			name = aliases[i].name;
	for (size_t i = 0; i < NR_FEATURES; i++)
		if (name_eq(name, features[i].name))
			return (int)i;
	return -1;
}

struct kvm_cpuid_entry2 *cpuid__find(struct kvm_cpuid2 *c, u32 function,
				     u32 index)
{
	for (u32 i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function != function)
			continue;
		if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) &&
		    e->index != index)
			continue;
		return e;
	}
	return NULL;
}

static u32 *cpuid_reg(struct kvm_cpuid_entry2 *e, enum cpuid_reg r)
{
	switch (r) {
	case R_EAX:
		return &e->eax;
	case R_EBX:
		return &e->ebx;
	case R_ECX:
		return &e->ecx;
	default:
		return &e->edx;
	}
}

static bool feature_get(struct kvm_cpuid2 *c, const struct cpuid_feature *f)
{
	struct kvm_cpuid_entry2 *e = cpuid__find(c, f->function, f->index);

	return e && (*cpuid_reg(e, f->reg) >> f->bit & 1);
}

static void feature_set(struct kvm_cpuid2 *c, const struct cpuid_feature *f,
			bool on)
{
	struct kvm_cpuid_entry2 *e = cpuid__find(c, f->function, f->index);
	u32 *r;

	if (!e)
		return;
	r = cpuid_reg(e, f->reg);
	if (on)
		*r |= 1U << f->bit;
	else
		*r &= ~(1U << f->bit);
}

/*
 * Calls @fn for each item of @spec with the feature index and the wanted
 * state.  Empty items ("a,,b") are skipped.  Returns -EINVAL, after one
 * error line, on an unknown name or bad syntax.
 */
static int cpuid__parse(const char *spec,
			void (*fn)(void *opaque, int idx, bool on),
			void *opaque)
{
	const char *p = spec;

	while (p && *p) {
		size_t len = strcspn(p, ",");
		char item[MAX_NAME], *name = item, *eq;
		bool on = true;
		int idx;

		if (!len) {
			p++;
			continue;
		}
		if (len >= sizeof(item)) {
			pr_err("--cpu-features: unknown CPU feature '%.*s'",
			       (int)len, p);
			return -EINVAL;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		p += len;

		eq = strchr(item, '=');
		if (eq) {
			*eq = '\0';
			if (!strcmp(eq + 1, "on")) {
				on = true;
			} else if (!strcmp(eq + 1, "off")) {
				on = false;
			} else {
				pr_err("--cpu-features: '%s=%s' must be =on or =off",
				       item, eq + 1);
				return -EINVAL;
			}
		} else if (*name == '+' || *name == '-') {
			on = *name == '+';
			name++;
		}
		idx = feature_index(name);
		if (idx < 0) {
			pr_err("--cpu-features: unknown CPU feature '%s'",
			       *name ? name : item);
			return -EINVAL;
		}
		if (fn)
			fn(opaque, idx, on);
	}
	return 0;
}

int cpuid__check_spec(const char *spec)
{
	return cpuid__parse(spec, NULL, NULL);
}

struct filter_state {
	struct kvm_cpuid2 *c;
	bool supported[NR_FEATURES];
	bool on[NR_FEATURES];
	bool asked[NR_FEATURES];
};

static void filter_item(void *opaque, int idx, bool on)
{
	struct filter_state *st = opaque;

	st->asked[idx] = on;
	if (on && !st->supported[idx]) {
		pr_warn("--cpu-features: KVM does not support '%s' on this host, leaving it off",
			features[idx].name);
		return;
	}
	st->on[idx] = on;
}

/* Turns off every feature whose prerequisite is off, transitively. */
static void filter_deps(struct filter_state *st)
{
	bool changed = true;

	while (changed) {
		changed = false;
		for (size_t i = 0; i < ARRAY_SIZE(deps); i++) {
			int p = feature_index(deps[i].parent);
			int ch = feature_index(deps[i].child);

			if (st->on[p] || !st->on[ch])
				continue;
			st->on[ch] = false;
			changed = true;
			if (st->asked[ch])
				pr_warn("--cpu-features: '%s' needs '%s', leaving it off",
					features[ch].name, features[p].name);
		}
	}
}

/*
 * Keeps leaf 0xd in line with the features: no XSAVE means no leaf 0xd at
 * all, and a removed state component disappears from XCR0's supported
 * mask, its sub-leaf, and the maximum save area size.
 */
static void filter_xsave(struct filter_state *st)
{
	struct kvm_cpuid2 *c = st->c;
	struct kvm_cpuid_entry2 *e0 = cpuid__find(c, 0xd, 0);
	u64 xcr0, drop = 0;
	u32 size = XSAVE_LEGACY_SIZE;

	if (!e0)
		return;
	if (!st->on[feature_index("xsave")]) {
		for (u32 i = 0; i < c->nent; i++) {
			struct kvm_cpuid_entry2 *e = &c->entries[i];

			if (e->function == 0xd)
				e->eax = e->ebx = e->ecx = e->edx = 0;
		}
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(xsave_state); i++)
		if (!st->on[feature_index(xsave_state[i].feature)])
			drop |= xsave_state[i].xcr0;

	xcr0 = ((u64)e0->edx << 32 | e0->eax) & ~drop;
	e0->eax = (u32)xcr0;
	e0->edx = (u32)(xcr0 >> 32);
	for (u32 i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function != 0xd || e->index < 2 || e->index > 63)
			continue;
		if (drop >> e->index & 1) {
			e->eax = e->ebx = e->ecx = e->edx = 0;
			continue;
		}
		/* Only user (XCR0) components count towards ECX. */
		if (xcr0 >> e->index & 1 && e->eax && e->ebx &&
		    e->ebx + e->eax > size)
			size = e->ebx + e->eax;
	}
	e0->ecx = size;
	if (e0->ebx > size)
		e0->ebx = size;
}

int cpuid__filter(struct kvm_cpuid2 *c, const char *spec)
{
	struct filter_state *st;
	struct kvm_cpuid_entry2 *e1;
	int ret;

	/* Validate first so that a bad spec leaves the table untouched. */
	ret = cpuid__check_spec(spec);
	if (ret)
		return ret;

	/* Guests may rely on it to find the KVM leaves (paravirt clock...). */
	e1 = cpuid__find(c, 1, 0);
	if (e1)
		e1->ecx |= 1U << CPUID_HYPERVISOR_BIT;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->c = c;
	for (size_t i = 0; i < NR_FEATURES; i++) {
		st->supported[i] = feature_get(c, &features[i]);
		st->on[i] = st->supported[i];
	}
	cpuid__parse(spec, filter_item, st);
	filter_deps(st);
	for (size_t i = 0; i < NR_FEATURES; i++)
		if (st->supported[i] && !st->on[i])
			feature_set(c, &features[i], false);
	filter_xsave(st);
	free(st);
	return 0;
}

int cpuid__get_supported(int sys_fd, struct kvm_cpuid2 **out)
{
	struct kvm_cpuid2 *c;
	/*
	 * KVM's own limit (KVM_MAX_CPUID_ENTRIES): one call, where a guess
	 * that is too small costs an E2BIG round of 0.3 ms on this host.
	 */
	u32 nent = 256;

	for (;;) {
		c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = nent;
		if (!ioctl(sys_fd, KVM_GET_SUPPORTED_CPUID, c))
			break;
		free(c);
		if (errno != E2BIG || nent >= 4096) {
			int err = errno;

			pr_err("KVM_GET_SUPPORTED_CPUID failed: %s",
			       strerror(err));
			return -err;
		}
		nent *= 2;
	}
	*out = c;
	return 0;
}

static unsigned int order_base_2(unsigned int n)
{
	unsigned int order = 0;

	while ((1U << order) < n)
		order++;
	return order;
}

/*
 * Per-vCPU topology: one socket with @nr_cpus single-threaded cores, APIC
 * ID = vCPU index.  Host values would describe the host's topology, which
 * confuses the guest's scheduler (and its APIC ID decoding).
 */
int cpuid__fixup_vcpu(struct kvm_cpuid2 *c, unsigned int id,
		      unsigned int nr_cpus)
{
	unsigned int shift = order_base_2(nr_cpus);
	unsigned int span = min_t(unsigned int, 1U << shift, 255);
	struct kvm_cpuid_entry2 *e;
	bool amd = false;

	if (!nr_cpus || id >= nr_cpus)
		return -EINVAL;
	e = cpuid__find(c, 0, 0);
	/* "AuthenticAMD" / "HygonGenuine" */
	if (e && (e->ebx == 0x68747541 || e->ebx == 0x6f677948))
		amd = true;

	for (u32 i = 0; i < c->nent; i++) {
		e = &c->entries[i];
		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0xffff) | id << 24 | span << 16;
			if (nr_cpus > 1)
				e->edx |= 1U << 28;	/* HTT: EBX[23:16] valid */
			break;
		case 4:
			if (!(e->eax & 0x1f))	/* no more caches */
				break;
			e->eax &= 0x3fff;
			e->eax |= (min_t(u32, 1U << shift, 64) - 1) << 26;
			/* Only the L3 is shared by all cores. */
			if (((e->eax >> 5) & 7) == 3)
				e->eax |= ((1U << shift) - 1) << 14;
			break;
		case 0xb:
		case 0x1f:
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = 1 << 8;		/* SMT level */
			} else if (e->index == 1) {
				e->eax = shift;
				e->ebx = nr_cpus;
				e->ecx = 2 << 8 | 1;		/* core level */
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index & 0xff;	/* invalid */
			}
			e->edx = id;
			break;
		case 0x80000008:
			if (amd)
				e->ecx = (e->ecx & ~0xf0ffU) | shift << 12 |
					 (nr_cpus - 1);
			break;
		case 0x8000001e:
			if (amd) {
				e->eax = id;
				e->ebx = id & 0xff;	/* compute unit, 1 thread */
				e->ecx = 0;
			}
			break;
		}
	}
	return 0;
}
