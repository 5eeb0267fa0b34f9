/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Protected-mode part of the test guest, loaded at 0x100000.
 *
 *   offset 0x000: startup_32 - entered from our real-mode setup (QEMU/BIOS)
 *   offset 0x200: startup_64 - entered by lkvm (64-bit boot protocol)
 *
 * Both paths switch to our own GDT and page tables and end up in
 * runtime_start(zero_page).  Everything here runs at CPL0, which this
 * machine emulates one instruction at a time, so keep it short.
 */
#include "../include/bootparam.h"

#define CR0_PE		0x00000001
#define CR0_PG		0x80000000
#define CR4_PAE		0x00000020
#define CR4_SMEP	(1 << 20)
#define CR4_SMAP	(1 << 21)
#define CR4_PKE		(1 << 22)
#define MSR_EFER	0xc0000080
#define EFER_LME	0x100

#define BSP_STACK_SIZE	16384

	.section .head.text, "ax"
	.code32
	.globl	startup_32
startup_32:
	cli
	lgdt	gdt_ptr
	ljmp	$SEL_CODE32, $1f
1:
	movl	$SEL_KDATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs

	movl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$pml4, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	$(CR0_PG | CR0_PE), %eax
	movl	%eax, %cr0
	ljmp	$SEL_KCODE, $startup_32_64

	.code64
startup_32_64:
	/* Upper halves of GPRs are undefined after the mode switch. */
	movl	%esi, %esi
	jmp	common_64

	.org	0x200
	.globl	startup_64
startup_64:
	cli
	lgdt	gdt_ptr
	/*
	 * lkvm's page tables map the first 4 GiB too, so switching to ours
	 * (which add the U/S bit) is safe while running from here.
	 */
	movl	$pml4, %eax
	movq	%rax, %cr3
	/* CPL3 code runs on kernel pages: no SMEP/SMAP/PKEYS. */
	movq	%cr4, %rax
	andq	$~(CR4_SMEP | CR4_SMAP | CR4_PKE), %rax
	movq	%rax, %cr4
	pushq	$SEL_KCODE
	pushq	$common_64
	lretq

common_64:
	movl	$SEL_KDATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	xorl	%eax, %eax
	movl	%eax, %fs
	movl	%eax, %gs
	movq	$bsp_stack_top, %rsp
	pushq	$0
	popfq				/* IF=0, DF=0, IOPL=0 */

	movq	%rsi, %rbx
	movq	$__bss_start, %rdi
	movq	$__bss_end, %rcx
	subq	%rdi, %rcx
	shrq	$3, %rcx
	xorl	%eax, %eax
	rep stosq

	movq	%rbx, %rdi
	call	runtime_start
	jmp	halt_forever

	.text
	.globl	halt_forever
halt_forever:
	cli
	hlt
	jmp	halt_forever

/*
 * AP entry in 64-bit mode, jumped to from the trampoline below with the
 * final GDT and page tables already loaded.  smp.c hands us a stack.
 */
	.globl	ap_start64
ap_start64:
	movl	$SEL_KDATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	xorl	%eax, %eax
	movl	%eax, %fs
	movl	%eax, %gs
	movq	ap_boot_stack, %rsp
	pushq	$0
	popfq
	call	ap_main
	jmp	halt_forever

/*
 * Real-mode AP trampoline, copied to AP_TRAMPOLINE_ADDR.  It goes straight
 * from real mode to long mode (PE and PG set together), since real-mode
 * instructions are the slowest thing to emulate here.  Addressing is
 * relative to CS = AP_TRAMPOLINE_ADDR >> 4.
 */
	.section .rodata
	.code16
	.globl	ap_trampoline, ap_trampoline_end
ap_trampoline:
	cli
	movw	%cs, %ax
	movw	%ax, %ds
	lgdtl	ap_tramp_gdt_ptr - ap_trampoline
	movl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$pml4, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	$(CR0_PG | CR0_PE), %eax
	movl	%eax, %cr0
	ljmpl	*(ap_tramp_farptr - ap_trampoline)
	.balign	4
ap_tramp_farptr:
	.long	ap_start64
	.word	SEL_KCODE
ap_tramp_gdt_ptr:
	.word	gdt_end - gdt - 1
	.long	gdt
ap_trampoline_end:
	.code64

/*
 * Exception/interrupt entry stubs, 16 bytes each: stub n is at
 * trap_stubs + 16 * n.  Vectors without a CPU error code push a dummy one
 * so that struct trap_frame has a single layout.
 */
	.text
	.balign	16
	.globl	trap_stubs
trap_stubs:
	.set	vec, 0
	.rept	256
	.balign	16
	.if	vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30
	.else
	pushq	$0
	.endif
	.if	vec < 128
	.byte	0x6a, vec		/* pushq $vec, imm8 form */
	.else
	pushq	$vec
	.endif
	jmp	trap_common
	.set	vec, vec + 1
	.endr

trap_common:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, %rdi
	cld
	call	trap_dispatch
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$16, %rsp		/* vector, error code */
	iretq

/*
 * long run_user(long (*fn)(long), long arg)
 *
 * Runs fn(arg) at CPL3 on the user stack and returns its result.  It asks
 * for IOPL=3, but this project's nested KVM runs CPL3 with IOPL 0 and
 * IF 1 regardless, so port I/O from user mode traps (user_io.c emulates
 * it).  The user side comes back with
 * "int $0x80" (DPL=3 gate), whose handler calls user_return(); SYSCALL is
 * not usable on this machine (and INT n turns into #UD, see below).
 * Not reentrant; BSP only.
 */
	.globl	run_user
run_user:
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, run_user_saved_rsp
	pushq	$SEL_UDATA
	pushq	$user_stack_top
	pushq	$0x3002			/* IOPL=3, IF=0, reserved bit 1 */
	pushq	$SEL_UCODE
	pushq	$user_trampoline
	iretq

	/* CPL3 from here: rdi = fn, rsi = arg */
user_trampoline:
	movq	%rdi, %rax
	movq	%rsi, %rdi
	call	*%rax
	movq	%rax, %rdi
	/*
	 * On the nested host here INT n at CPL3 raises #UD instead; the #UD
	 * handler recognises this address and treats it the same way.
	 */
	.globl	user_int80
user_int80:
	int	$0x80
	ud2

	/* void user_return(long ret), called from the int 0x80 handler */
	.globl	user_return
user_return:
	movq	run_user_saved_rsp, %rsp
	movl	$SEL_KDATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movq	%rdi, %rax
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	ret

/*
 * GDT.  The TSS descriptor is filled in at runtime (needs the split base).
 */
	.data
	.balign	16
	.globl	gdt, gdt_tss
gdt:
	.quad	0			/* 0x00 null */
	.quad	0x00cf9a000000ffff	/* 0x08 32-bit code (startup_32) */
	.quad	0x00af9a000000ffff	/* 0x10 64-bit kernel code */
	.quad	0x00cf92000000ffff	/* 0x18 kernel data */
	.quad	0x00cff2000000ffff	/* 0x20 user data (DPL3) */
	.quad	0x00affa000000ffff	/* 0x28 64-bit user code (DPL3) */
gdt_tss:
	.quad	0, 0			/* 0x30 64-bit TSS */
gdt_end:

	.balign	8
	.word	0, 0, 0
gdt_ptr:
	.word	gdt_end - gdt - 1
	.quad	gdt

/*
 * Identity map of 0..4 GiB with 2 MiB pages, built at link time so that
 * no CPL0 cycles are spent on it.  Present, writable, user (so CPL3 test
 * code can run anywhere), PS.
 */
	.balign	4096
	.globl	pml4
pml4:
	.quad	pdpt + 0x7
	.fill	511, 8, 0
pdpt:
	.quad	pd + 0x0000 + 0x7
	.quad	pd + 0x1000 + 0x7
	.quad	pd + 0x2000 + 0x7
	.quad	pd + 0x3000 + 0x7
	.fill	508, 8, 0
pd:
	.set	addr, 0
	.rept	2048
	.quad	addr + 0x87
	.set	addr, addr + 0x200000
	.endr

	.bss
	.balign	16
bsp_stack:
	.skip	BSP_STACK_SIZE
bsp_stack_top:
	.globl	user_stack_top
user_stack:
	.skip	16384
user_stack_top:
run_user_saved_rsp:
	.quad	0

	.section .note.GNU-stack, "", @progbits
