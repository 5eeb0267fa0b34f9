// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's first PIT access, in the form first=<form> names, must take
 * effect although lkvm creates the PIT only then (x86/pit.c):
 *   out    outb %al,$0x43       the control word, port in the instruction
 *   outdx  outb %al,(%dx)       the control word, port in DX
 *   in     inb $0x61,%al        the speaker/gate port, port in the instruction
 *   indx   inb (%dx),%al        the same, port in DX
 *   outw   outw to port 0x40 first, which KVM's PIT refuses; then as "out"
 *   outs   outsb of the control word first (a string access lkvm cannot
 *          repeat, so it is lost); then as "out"
 *   none   no PIT access at all
 * Then a read-back of channel 2's status must show the control word's
 * access and mode (lost, they stay KVM's reset values), and channel 2,
 * loaded with a count and gated on, must count down: its output (port 0x61
 * bit 5) rises.
 */
#include "guest.h"

#define PIT_CMD		0x43
#define PIT_CH2		0x42
#define SPEAKER		0x61
#define CH2_LOHI_MODE0	0xb0
#define READBACK_CH2	0xe8		/* status only, channel 2 */
#define COUNT		0x1000		/* 3.4 ms */
#define GIVE_UP_CYCLES	(1ULL << 36)	/* tens of seconds */

static void control_word_outdx(void)
{
	asm volatile("outb %%al, (%%dx)"
		     : : "a"(CH2_LOHI_MODE0), "d"(PIT_CMD));
}

static uint8_t speaker_indx(void)
{
	uint8_t v;

	asm volatile("inb (%%dx), %%al" : "=a"(v) : "d"(SPEAKER));
	return v;
}

static void control_word_outs(void)
{
	static const uint8_t cw = CH2_LOHI_MODE0;
	const void *src = &cw;

	asm volatile("outsb" : "+S"(src) : "d"(PIT_CMD) : "memory");
}

static bool is(const char *form, const char *name)
{
	return !strncmp(form, name, strlen(name) + 1);
}

/* Returns the port 0x61 value the first access read, or -1 for a write. */
static int first_access(const char *form)
{
	if (is(form, "out")) {
		outb(PIT_CMD, CH2_LOHI_MODE0);
	} else if (is(form, "outdx")) {
		control_word_outdx();
	} else if (is(form, "in")) {
		return inb(SPEAKER);
	} else if (is(form, "indx")) {
		return speaker_indx();
	} else if (is(form, "outw")) {
		outw(0x40, 0x1234);
		outb(PIT_CMD, CH2_LOHI_MODE0);
	} else if (is(form, "outs")) {
		control_word_outs();
		outb(PIT_CMD, CH2_LOHI_MODE0);
	} else {
		printf("pit: unknown first=%s\n", form);
		guest_exit(2);
	}
	return -1;
}

void guest_main(struct boot_info *bi)
{
	char form[16];
	uint64_t t0;
	uint8_t gate, status;
	int first;

	(void)bi;
	if (!cmdline_get_str("first", form, sizeof(form))) {
		puts("pit: no first= on the command line");
		guest_exit(2);
	}
	if (is(form, "none")) {
		puts("pit: ok, never touched");
		guest_exit(0);
	}
	first = first_access(form);
	if (first >= 0) {
		/* KVM's port 0x61 has nothing in bits 6-7; a lost read gives 0xff. */
		printf("pit: first read of port 0x61: %02x\n", first);
		if (first & 0xc0) {
			puts("pit: the first read did not reach the PIT");
			guest_exit(1);
		}
		outb(PIT_CMD, CH2_LOHI_MODE0);
	}
	outb(PIT_CMD, READBACK_CH2);
	status = inb(PIT_CH2);
	if ((status & 0x3f) != (CH2_LOHI_MODE0 & 0x3f)) {
		printf("pit: channel 2 status %02x, not lo/hi mode 0\n", status);
		guest_exit(1);
	}
	gate = inb(SPEAKER) & ~0x03;		/* gate low, speaker off */
	outb(SPEAKER, gate);
	outb(PIT_CH2, COUNT & 0xff);
	outb(PIT_CH2, COUNT >> 8);
	outb(SPEAKER, gate | 0x01);		/* rising gate edge */
	t0 = rdtsc();
	while (!(inb(SPEAKER) & 0x20)) {
		if (rdtsc() - t0 > GIVE_UP_CYCLES) {
			puts("pit: channel 2 output never rose");
			guest_exit(1);
		}
	}
	puts("pit: ok, channel 2 counted down");
	guest_exit(0);
}
