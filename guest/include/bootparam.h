/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The bits of the Linux x86 boot protocol (Documentation/arch/x86/boot.rst
 * and zero-page.rst) that the test guests use.  Shared by C and assembly.
 */
#ifndef GUEST_BOOTPARAM_H
#define GUEST_BOOTPARAM_H

/* Real-mode setup is (SETUP_SECTS + 1) * 512 bytes; code sits at 0x1000. */
#define SETUP_SECTS		8

#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define BP_HDR			0x1f1
#define BP_CMD_LINE_PTR		0x228
#define BP_E820_TABLE		0x2d0
#define E820_MAX_ENTRIES	128

#define E820_TYPE_RAM		1

/* Physical load address of the protected-mode part. */
#define GUEST_LOAD_ADDR		0x100000

/* GDT selectors, see head.S. */
#define SEL_CODE32		0x08
#define SEL_KCODE		0x10
#define SEL_KDATA		0x18
#define SEL_UDATA		0x23
#define SEL_UCODE		0x2b
#define SEL_TSS			0x30

/* Where the AP real-mode trampoline is copied (SIPI vector 0x08). */
#define AP_TRAMPOLINE_ADDR	0x8000

#endif
