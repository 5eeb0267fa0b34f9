// SPDX-License-Identifier: GPL-2.0
/*
 * Port I/O and cli/sti from CPL3 through the #GP handler.
 *
 * run_user() asks for IOPL=3, and TCG honours it, but the nested KVM on
 * the development host runs CPL3 with RFLAGS = 0x202 whatever iretq
 * popped (IOPL 0, IF 1): IN/OUT/CLI/STI at CPL3 then raise #GP.  Code
 * that runs at CPL3 for speed (the virtio guests) installs this handler,
 * which performs the instruction at CPL0 and skips it.  Each trapped
 * access costs one emulated exception (some 50 us here), so the hot
 * paths use MMIO, which CPL3 reaches directly.
 */
#include "../include/guest.h"

#define X86_EFLAGS_IF	0x200

static void gp_fatal(struct trap_frame *tf)
{
	console_force_unlock();
	printf("EXCEPTION 13 (#GP general protection) at rip=%lx err=%lx cs=%lx rsp=%lx\n",
	       tf->rip, tf->error, tf->cs, tf->rsp);
	guest_exit(0x7f);
}

static void gp_handler(struct trap_frame *tf)
{
	const uint8_t *ip = (const uint8_t *)tf->rip;
	unsigned int len = 0, size = 4;
	uint16_t port;
	uint8_t op;

	if ((tf->cs & 3) != 3 || tf->error)
		gp_fatal(tf);
	if (ip[0] == 0x66) {
		size = 2;
		len++;
	}
	op = ip[len++];
	switch (op) {
	case 0xfa:		/* cli */
		tf->rflags &= ~X86_EFLAGS_IF;
		tf->rip += len;
		return;
	case 0xfb:		/* sti */
		tf->rflags |= X86_EFLAGS_IF;
		tf->rip += len;
		return;
	case 0xe4: case 0xe5: case 0xe6: case 0xe7:
		port = ip[len++];
		break;
	case 0xec: case 0xed: case 0xee: case 0xef:
		port = tf->rdx & 0xffff;
		break;
	default:
		gp_fatal(tf);
	}
	if (!(op & 1))
		size = 1;
	if (op & 2) {		/* out */
		if (size == 1)
			outb(port, tf->rax);
		else if (size == 2)
			outw(port, tf->rax);
		else
			outl(port, tf->rax);
	} else {
		if (size == 1)
			tf->rax = (tf->rax & ~0xffUL) | inb(port);
		else if (size == 2)
			tf->rax = (tf->rax & ~0xffffUL) | inw(port);
		else
			tf->rax = inl(port);	/* 32-bit results zero-extend */
	}
	tf->rip += len;
}

void user_io_init(void)
{
	set_trap_handler(13, gp_handler);
}
