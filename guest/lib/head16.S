/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Real-mode setup part of the lkvm test-guest bzImage.
 *
 * Only used when a BIOS boot loader (QEMU's linuxboot option ROM) starts
 * us at setup_seg+0x20:0 in real mode.  lkvm uses the 64-bit boot
 * protocol instead and never executes any of this, but still parses the
 * setup header below.
 *
 * The setup segment doubles as the zero page (struct boot_params), just
 * like for Linux with the 16-bit boot path, so the e820 table we collect
 * ends up at the offsets the 64-bit code expects.  The code therefore lives
 * at 0x1000, past the end of struct boot_params, where the e820 entries
 * (0x2d0..0xcd0) cannot overwrite it.
 */
#include "../include/bootparam.h"

	.code16
	.section .setup, "ax"

	.globl	setup_start
setup_start:
	/* Boot sector: unused, must stay zero (it is the zero page). */
	.org	0x1f1
hdr:
setup_sects:	.byte	SETUP_SECTS
root_flags:	.word	0
syssize:	.long	guest_syssize	/* from guest.ld */
ram_size:	.word	0
vid_mode:	.word	0xffff		/* "normal" */
root_dev:	.word	0
boot_flag:	.word	0xaa55

	/* offset 0x200: the real-mode entry point */
	.byte	0xeb, start_of_setup - 1f	/* short jmp */
1:
	.ascii	"HdrS"
version:	.word	0x020f
realmode_swtch:	.long	0
start_sys_seg:	.word	0x1000		/* obsolete */
kernel_version:	.word	kernel_version_str - 0x200
type_of_loader:	.byte	0
loadflags:	.byte	0x01		/* LOADED_HIGH */
setup_move_size: .word	0x8000
code32_start:	.long	0x100000
ramdisk_image:	.long	0
ramdisk_size:	.long	0
bootsect_kludge: .long	0
heap_end_ptr:	.word	0
ext_loader_ver:	.byte	0
ext_loader_type: .byte	0
cmd_line_ptr:	.long	0
initrd_addr_max: .long	0x7fffffff
kernel_alignment: .long	0x200000
relocatable_kernel: .byte 0
min_alignment:	.byte	21
xloadflags:	.word	0x0001		/* XLF_KERNEL_64 */
cmdline_size:	.long	2047
hardware_subarch: .long	0
hardware_subarch_data: .quad 0
payload_offset:	.long	0
payload_length:	.long	0
setup_data:	.quad	0
pref_address:	.quad	0x100000
init_size:	.long	guest_init_size	/* from guest.ld */
handover_offset: .long	0
kernel_info_offset: .long 0
hdr_end:

	/*
	 * struct boot_params padding at 0x26c..0x290: room for a near jump
	 * to the real code, which must live above the zero page.
	 */
start_of_setup:
	jmp	setup_main

kernel_version_str:
	.asciz	"lkvm-guest"

	.org	0x1000
setup_main:
	cli
	cld
	/*
	 * We were entered with CS = DS + 0x20; normalise CS so that the
	 * offsets we were linked with (relative to the segment base) work.
	 */
	movw	%ds, %ax
	movw	%ax, %es
	pushw	%ax
	pushw	$1f
	lretw
1:
	/* Fast A20 gate, in case the BIOS left it off. */
	inb	$0x92, %al
	orb	$0x02, %al
	andb	$0xfe, %al
	outb	%al, $0x92

	/* Collect the BIOS memory map into boot_params.e820_table. */
	movb	$0, BP_E820_ENTRIES
	movw	$BP_E820_TABLE, %di
	xorl	%ebx, %ebx
2:
	movl	$0xe820, %eax
	movl	$0x534d4150, %edx	/* "SMAP" */
	movl	$20, %ecx
	int	$0x15
	jc	3f
	cmpl	$0x534d4150, %eax
	jne	3f
	addw	$20, %di
	incb	BP_E820_ENTRIES
	cmpb	$E820_MAX_ENTRIES, BP_E820_ENTRIES
	jae	3f
	testl	%ebx, %ebx
	jnz	2b
3:
	cli
	/* Linear address of the zero page, passed on in %esi. */
	xorl	%esi, %esi
	movw	%ds, %si
	shll	$4, %esi

	/* The GDT pointer needs a linear address; patch it in. */
	leal	setup_gdt(%esi), %eax
	movl	%eax, setup_gdt_ptr + 2
	lgdtl	setup_gdt_ptr

	movl	%cr0, %eax
	orl	$1, %eax
	movl	%eax, %cr0

	/* The 32-bit boot protocol wants flat %ds/%es/%ss at code32_start. */
	movw	$0x18, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss

	/* ljmpl $0x08, $0x100000 (code32_start, startup_32) */
	.byte	0x66, 0xea
	.long	0x100000
	.word	0x08

	.balign	8
setup_gdt:
	.quad	0			/* null */
	.quad	0x00cf9a000000ffff	/* 0x08: 32-bit flat code */
	.quad	0			/* 0x10: unused here */
	.quad	0x00cf92000000ffff	/* 0x18: flat data */
setup_gdt_end:
setup_gdt_ptr:
	.word	setup_gdt_end - setup_gdt - 1
	.long	0

	.org	(SETUP_SECTS + 1) * 512
