// SPDX-License-Identifier: GPL-2.0
/*
 * Flat binary loader: anything that is neither a bzImage nor an ELF file
 * is copied to 0x1000:0000 (guest-physical 0x10000) and entered in real
 * mode with cs = ds = es = fs = gs = ss = 0x1000, ip = 0, sp = 0x8000,
 * the same entry state kvmtool uses for flat binaries.
 *
 * There is no BIOS.  A minimal one keeps stray software interrupts from
 * jumping to address 0: every IVT vector points at an iret in the BIOS
 * area, and the BIOS data area is zero.
 */
#include <errno.h>
#include <string.h>

#include "arch/boot.h"
#include "lkvm/guest_mem.h"
#include "lkvm/log.h"

#define IVT_ADDR	0x0ULL
#define IVT_VECTORS	256
#define BDA_ADDR	0x400ULL
#define BDA_SIZE	0x100ULL
#define OPCODE_IRET	0xcf

static int flat__setup_bios(struct guest_mem *gm)
{
	u32 *ivt = guest_mem_ptr(gm, IVT_ADDR, IVT_VECTORS * sizeof(u32));
	u8 *bda = guest_mem_ptr(gm, BDA_ADDR, BDA_SIZE);
	u8 *stub = guest_mem_ptr(gm, BIOS_IRET_STUB_ADDR, 1);
	/* Real-mode far pointer: segment in the high half, offset low. */
	u32 vec = (u32)(BIOS_IRET_STUB_ADDR >> 4) << 16 |
		  (u32)(BIOS_IRET_STUB_ADDR & 0xf);

	if (!ivt || !bda || !stub)
		return -EFAULT;
	for (unsigned int i = 0; i < IVT_VECTORS; i++)
		memcpy(&ivt[i], &vec, sizeof(vec));
	memset(bda, 0, BDA_SIZE);
	*stub = OPCODE_IRET;
	return 0;
}

int flat__load(struct guest_mem *gm, const struct x86_load_args *a,
	       struct x86_boot_state *out)
{
	u64 max = EBDA_START - FLAT_LOAD_ADDR;

	if (!a->kernel_len) {
		pr_err("%s: kernel file is empty", a->kernel_path);
		return -EINVAL;
	}
	if (a->kernel_len > max) {
		pr_err("%s: flat binary is %zu bytes, at most %llu fit between 0x%llx and 0x%llx",
		       a->kernel_path, a->kernel_len, (unsigned long long)max,
		       (unsigned long long)FLAT_LOAD_ADDR,
		       (unsigned long long)EBDA_START);
		return -EINVAL;
	}
	if (a->initrd)
		pr_warn("%s: flat binaries get no initrd, ignoring %s",
			a->kernel_path, a->initrd_path ? a->initrd_path : "");
	if (flat__setup_bios(gm) ||
	    guest_mem_write(gm, FLAT_LOAD_ADDR, a->kernel, a->kernel_len)) {
		pr_err("%s: guest RAM too small for a flat binary",
		       a->kernel_path);
		return -EINVAL;
	}

	*out = (struct x86_boot_state){
		.mode = X86_BOOT_REAL16,
		.entry = FLAT_IP,
		.cs = FLAT_SELECTOR,
		.stack = FLAT_SP,
	};
	return 0;
}
