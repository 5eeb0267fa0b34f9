// SPDX-License-Identifier: GPL-2.0
/*
 * pit__insn_len(): finding the IN/OUT that made the guest's first PIT
 * access from the bytes before RIP, once KVM has retired it.  A wrong
 * answer would re-execute some other instruction, so every near miss must
 * give 0.
 */
#include "tap.h"
#include "arch/pit.h"

#define OUT_IMM8	0xe6
#define IN_IMM8		0xe4
#define OUT_DX		0xee
#define IN_DX		0xec

struct insn_case {
	const char *name;
	u16 port, dx;
	u8 size;
	bool in;
	u8 tail[PIT_INSN_MAX];	/* tail[0]: the byte just before RIP */
	unsigned int n, want;
};

static const struct insn_case cases[] = {
	{ "out %al,$0x43", 0x43, 0, 1, false, { 0x43, OUT_IMM8 }, 2, 2 },
	{ "in $0x61,%al", 0x61, 0, 1, true, { 0x61, IN_IMM8 }, 2, 2 },
	{ "out %al,$0x40", 0x40, 0x40, 1, false, { 0x40, OUT_IMM8 }, 2, 2 },
	{ "out %al,(%dx), dx 0x43", 0x43, 0x43, 1, false, { OUT_DX, 0x90 }, 2, 1 },
	{ "in (%dx),%al, dx 0x61", 0x61, 0x61, 1, true, { IN_DX }, 1, 1 },
	/* e6 ee would be out to port 0xee: at port 0x43 the ee is the opcode. */
	{ "ee after e6, port 0x43", 0x43, 0x43, 1, false, { OUT_DX, OUT_IMM8 }, 2, 1 },
	{ "DX form, DX is another port", 0x43, 0x44, 1, false, { OUT_DX }, 1, 0 },
	{ "imm8 form, another port", 0x43, 0, 1, false, { 0x42, OUT_IMM8 }, 2, 0 },
	{ "IN opcode, OUT access", 0x61, 0, 1, false, { 0x61, IN_IMM8 }, 2, 0 },
	{ "OUT opcode, IN access", 0x43, 0x43, 1, true, { OUT_DX }, 1, 0 },
	{ "outsb", 0x43, 0x43, 1, false, { 0x6e }, 1, 0 },
	{ "rep outsb", 0x43, 0x43, 1, false, { 0x6e, 0xf3 }, 2, 0 },
	{ "insb", 0x61, 0x61, 1, true, { 0x6c }, 1, 0 },
	{ "outw %ax,(%dx): KVM's PIT refuses it", 0x40, 0x40, 2, false,
	  { 0xef }, 1, 0 },
	{ "outl %eax,$0x40", 0x40, 0, 4, false, { 0x40, 0xe7 }, 2, 0 },
	{ "imm8 form, only one byte readable", 0x43, 0, 1, false, { 0x43 }, 1, 0 },
	{ "nothing readable", 0x43, 0x43, 1, false, { OUT_DX }, 0, 0 },
	{ "not a PIT port", 0x44, 0x44, 1, false, { OUT_DX }, 1, 0 },
};

int main(void)
{
	static const u16 pit_ports[] = { 0x40, 0x41, 0x42, 0x43, 0x61 };
	static const u16 others[] = { 0x3f, 0x44, 0x60, 0x62, 0x20, 0x3f8 };

	tap_plan(ARRAY_SIZE(cases) + 2);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct insn_case *c = &cases[i];
		struct pit_access a = {
			.port = c->port, .size = c->size, .in = c->in,
			.dx = c->dx,
		};

		is_int(pit__insn_len(&a, c->tail, c->n), c->want, c->name);
	}

	bool all = true;

	for (size_t i = 0; i < ARRAY_SIZE(pit_ports); i++)
		all &= pit__is_port(pit_ports[i]);
	ok(all, "0x40-0x43 and 0x61 are PIT ports");
	all = true;
	for (size_t i = 0; i < ARRAY_SIZE(others); i++)
		all &= !pit__is_port(others[i]);
	ok(all, "their neighbours are not");
	return tap_done();
}
