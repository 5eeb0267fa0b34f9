// SPDX-License-Identifier: GPL-2.0
/* cpuid__filter() and friends on a fake KVM_GET_SUPPORTED_CPUID table. */
#include <errno.h>

#include <linux/kvm.h>

#include "tap.h"
#include "arch/boot.h"

#define IDX KVM_CPUID_FLAG_SIGNIFCANT_INDEX
#define BIT(n) (1U << (n))

static const struct kvm_cpuid_entry2 base[] = {
	{ .function = 0, .eax = 0x1f, .ebx = 0x756e6547, .edx = 0x49656e69,
	  .ecx = 0x6c65746e },
	{ .function = 1, .eax = 0x806ea, .ebx = 0x00010800,
	  /* sse3 ssse3 fma cx16 sse4.1 sse4.2 x2apic xsave avx f16c */
	  .ecx = BIT(0) | BIT(9) | BIT(12) | BIT(13) | BIT(19) | BIT(20) |
		 BIT(21) | BIT(26) | BIT(28) | BIT(29),
	  /* fpu apic fxsr sse sse2 */
	  .edx = BIT(0) | BIT(9) | BIT(24) | BIT(25) | BIT(26) },
	{ .function = 4, .index = 0, .flags = IDX, .eax = 0x1c004121 },
	{ .function = 4, .index = 1, .flags = IDX, .eax = 0x1c004163 },
	{ .function = 7, .index = 0, .flags = IDX,
	  /* avx2 avx512f avx512bw, ecx: avx512vbmi */
	  .ebx = BIT(5) | BIT(16) | BIT(30), .ecx = BIT(1) },
	{ .function = 0xb, .index = 0, .flags = IDX, .eax = 1, .ebx = 2,
	  .ecx = 0x100 },
	{ .function = 0xb, .index = 1, .flags = IDX, .eax = 4, .ebx = 8,
	  .ecx = 0x201 },
	/* XCR0: x87 SSE AVX opmask ZMM_Hi256 Hi16_ZMM */
	{ .function = 0xd, .index = 0, .flags = IDX, .eax = 0xe7,
	  .ebx = 2688, .ecx = 2688 },
	{ .function = 0xd, .index = 1, .flags = IDX, .eax = 0xf },
	{ .function = 0xd, .index = 2, .flags = IDX, .eax = 256, .ebx = 576 },
	{ .function = 0xd, .index = 5, .flags = IDX, .eax = 64, .ebx = 1088 },
	{ .function = 0xd, .index = 6, .flags = IDX, .eax = 512, .ebx = 1152 },
	{ .function = 0xd, .index = 7, .flags = IDX, .eax = 1024,
	  .ebx = 1664 },
	{ .function = 0x40000000, .eax = 0x40000001, .ebx = 0x4b4d564b },
	/* lahf_lm, syscall nx lm */
	{ .function = 0x80000001, .ecx = BIT(0),
	  .edx = BIT(11) | BIT(20) | BIT(29) },
};

#define NENT ARRAY_SIZE(base)

static struct kvm_cpuid2 *table(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + sizeof(base));

	c->nent = NENT;
	memcpy(c->entries, base, sizeof(base));
	return c;
}

static u32 reg(struct kvm_cpuid2 *c, u32 fn, u32 idx, char r)
{
	struct kvm_cpuid_entry2 *e = cpuid__find(c, fn, idx);

	if (!e)
		return 0xdeadbeef;
	return r == 'a' ? e->eax : r == 'b' ? e->ebx : r == 'c' ? e->ecx :
								e->edx;
}

/* Number of entries that differ from the base table, ignoring leaf 1 ECX. */
static int changed(struct kvm_cpuid2 *c)
{
	int n = 0;

	for (size_t i = 0; i < NENT; i++) {
		struct kvm_cpuid_entry2 a = c->entries[i], b = base[i];

		if (a.function == 1) {
			a.ecx &= ~BIT(31);
			b.ecx &= ~BIT(31);
		}
		n += !!memcmp(&a, &b, sizeof(a));
	}
	return n;
}

int main(void)
{
	struct kvm_cpuid2 *c;

	tap_plan(47);

	c = table();
	is_int(cpuid__filter(c, ""), 0, "empty spec accepted");
	ok(reg(c, 1, 0, 'c') & BIT(31), "hypervisor bit set");
	is_int(changed(c), 0, "empty spec changes nothing else");
	free(c);

	c = table();
	is_int(cpuid__filter(c, NULL), 0, "NULL spec accepted");
	is_int(changed(c), 0, "NULL spec changes nothing else");
	free(c);

	c = table();
	is_int(cpuid__filter(c, "-xsave"), 0, "-xsave accepted");
	is_int(reg(c, 1, 0, 'c') & (BIT(26) | BIT(28) | BIT(12) | BIT(29)), 0,
	       "-xsave clears xsave avx fma f16c");
	ok(reg(c, 1, 0, 'c') & BIT(13), "-xsave keeps cx16");
	is_int(reg(c, 7, 0, 'b') & (BIT(5) | BIT(16) | BIT(30)), 0,
	       "-xsave clears avx2 avx512f avx512bw");
	is_int(reg(c, 7, 0, 'c') & BIT(1), 0, "-xsave clears avx512vbmi");
	is_int(reg(c, 0xd, 0, 'a') | reg(c, 0xd, 0, 'c') | reg(c, 0xd, 1, 'a') |
	       reg(c, 0xd, 2, 'a') | reg(c, 0xd, 7, 'b'), 0,
	       "-xsave empties leaf 0xd");
	free(c);

	c = table();
	is_int(cpuid__filter(c, "-cx16"), 0, "-cx16 accepted");
	is_int(reg(c, 1, 0, 'c') & BIT(13), 0, "cx16 cleared");
	is_int(changed(c), 1, "-cx16 changes only leaf 1");
	is_int(reg(c, 1, 0, 'c') | BIT(13) | BIT(31),
	       base[1].ecx | BIT(31), "-cx16 leaves other leaf 1 bits");
	free(c);

	c = table();
	is_int(cpuid__filter(c, "+unknown"), -EINVAL, "+unknown refused");
	is_int(changed(c), 0, "refused spec leaves the table alone");
	ok(!(reg(c, 1, 0, 'c') & BIT(31)), "... not even the hypervisor bit");
	is_int(cpuid__filter(c, "garbage,,"), -EINVAL, "garbage,, refused");
	is_int(cpuid__filter(c, "-cx16,bogus"), -EINVAL,
	       "one bad name refuses the whole spec");
	is_int(changed(c), 0, "... and changes nothing");
	is_int(cpuid__filter(c, "avx=maybe"), -EINVAL, "avx=maybe refused");
	is_int(cpuid__filter(c, "+"), -EINVAL, "lone + refused");
	free(c);

	c = table();
	is_int(cpuid__filter(c, ",,-cx16,,"), 0, "empty items skipped");
	is_int(reg(c, 1, 0, 'c') & BIT(13), 0, "cx16 cleared");
	free(c);

	c = table();
	is_int(cpuid__filter(c, "-sse4.1"), 0, "dotted name accepted");
	is_int(reg(c, 1, 0, 'c') & (BIT(19) | BIT(20)), 0,
	       "-sse4.1 clears sse4.1 and sse4.2");
	ok(reg(c, 1, 0, 'c') & BIT(9), "ssse3 kept");
	free(c);

	c = table();
	is_int(cpuid__filter(c, "-SSE4_2,-lahf-lm,-tsc_deadline,-NX"), 0,
	       "case and _/- spellings accepted");
	is_int(reg(c, 1, 0, 'c') & BIT(20), 0, "sse4_2 cleared");
	ok(reg(c, 1, 0, 'c') & BIT(19), "sse4_1 kept");
	is_int(reg(c, 0x80000001, 0, 'c') & BIT(0), 0, "lahf_lm cleared");
	is_int(reg(c, 0x80000001, 0, 'd') & BIT(20), 0, "nx cleared");
	free(c);

	c = table();
	is_int(cpuid__filter(c, "+svm,vmx"), 0, "+svm (unsupported) only warns");
	is_int(reg(c, 0x80000001, 0, 'c') & BIT(2), 0, "svm stays off");
	is_int(changed(c), 0, "nothing else changes");
	free(c);

	c = table();
	is_int(cpuid__filter(c, "avx512f=off"), 0, "avx512f=off accepted");
	is_int(reg(c, 0xd, 0, 'a'), 0x7, "XCR0 mask loses AVX-512 state");
	is_int(reg(c, 0xd, 0, 'c'), 832, "max XSAVE size = AVX end");
	is_int(reg(c, 0xd, 6, 'a'), 0, "ZMM sub-leaf emptied");
	ok(reg(c, 7, 0, 'b') & BIT(5), "avx2 kept");
	free(c);

	c = table();
	is_int(cpuid__filter(c, "-avx,+avx"), 0, "-avx,+avx accepted");
	is_int(changed(c), 0, "later +avx restores everything");
	free(c);

	c = table();
	is_int(cpuid__filter(c, "-xsave,+avx"), 0, "-xsave,+avx accepted");
	is_int(reg(c, 1, 0, 'c') & BIT(28), 0, "avx stays off without xsave");
	free(c);

	c = table();
	cpuid__filter(c, "");
	cpuid__fixup_vcpu(c, 3, 4);
	ok(reg(c, 1, 0, 'b') >> 24 == 3 && reg(c, 0xb, 0, 'd') == 3 &&
	   reg(c, 0xb, 1, 'd') == 3, "vCPU 3: APIC ID in leaves 1 and 0xb");
	ok(reg(c, 0xb, 1, 'b') == 4 && reg(c, 0xb, 1, 'a') == 2 &&
	   reg(c, 0xb, 0, 'b') == 1, "leaf 0xb: 4 cores of 1 thread");
	free(c);
	return tap_done();
}
