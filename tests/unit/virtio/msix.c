// SPDX-License-Identifier: GPL-2.0
/*
 * MSI-X table emulation: access rules (only aligned 4/8-byte accesses
 * inside the table, PBA read-only), mask and function-mask semantics,
 * pending bits delivered on unmask, and when the route gets updated.
 */
#include <errno.h>
#include <string.h>

#include "lkvm/pci.h"
#include "tap.h"

struct rec {
	int updates, fires;
	unsigned int last_update_vec, last_fire_vec;
	u64 last_addr;
	u32 last_data;
};

static void rec_update(void *opaque, unsigned int vec, u64 addr, u32 data)
{
	struct rec *r = opaque;

	r->updates++;
	r->last_update_vec = vec;
	r->last_addr = addr;
	r->last_data = data;
}

static void rec_fire(void *opaque, unsigned int vec)
{
	struct rec *r = opaque;

	r->fires++;
	r->last_fire_vec = vec;
}

static const struct msix_ops ops = { .update = rec_update, .fire = rec_fire };

static u32 rd32(struct msix_table *t, u64 off)
{
	u32 v = 0xdeadbeef;

	msix_table_access(t, off, &v, 4, false);
	return v;
}

static bool wr32(struct msix_table *t, u64 off, u32 v)
{
	return msix_table_access(t, off, &v, 4, true);
}

/* Programs vector @vec's message (it stays masked). */
static void program(struct msix_table *t, unsigned int vec, u64 addr, u32 data)
{
	u64 base = (u64)vec * 16;

	wr32(t, base + PCI_MSIX_ENTRY_LOWER_ADDR, (u32)addr);
	wr32(t, base + PCI_MSIX_ENTRY_UPPER_ADDR, (u32)(addr >> 32));
	wr32(t, base + PCI_MSIX_ENTRY_DATA, data);
}

static void unmask(struct msix_table *t, unsigned int vec)
{
	wr32(t, (u64)vec * 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
}

static void mask(struct msix_table *t, unsigned int vec)
{
	wr32(t, (u64)vec * 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 1);
}

static void test_init(void)
{
	struct msix_table t;
	struct rec r = { 0 };

	is_int(msix_init(&t, 0, &ops, &r), -EINVAL, "zero vectors refused");
	is_int(msix_init(&t, MSIX_MAX_VECTORS + 1, &ops, &r), -EINVAL,
	       "too many vectors refused");
	is_int(msix_init(&t, 3, &ops, &r), 0, "3 vectors");
	is_int(msix_table_size(&t), 48, "table is 16 bytes per vector");
	is_int(msix_pba_size(&t), 8, "PBA is one qword");
	ok(msix_masked(&t, 0) && msix_masked(&t, 2), "entries start masked");
	is_int(rd32(&t, 2 * 16 + 12), 1, "vector control reads mask bit set");
	is_int(msix_notify(&t, 0), -EINVAL, "notify with MSI-X disabled");
}

static void test_access_rules(void)
{
	struct msix_table t;
	struct rec r = { 0 };
	u64 q = 0;
	u32 v;
	u16 h;

	msix_init(&t, 3, &ops, &r);
	ok(wr32(&t, 16, 0xfee00003), "aligned dword write honoured");
	is_int(rd32(&t, 16), 0xfee00000, "address bits 1:0 read as zero");
	ok(wr32(&t, 20, 0x12345678), "upper address written");
	is_int(rd32(&t, 20), 0x12345678, "upper address reads back");

	q = 0x0000000100000042ULL;	/* data 0x42, control: mask set */
	ok(msix_table_access(&t, 24, &q, 8, true),
	   "aligned qword write of data+control honoured");
	is_int(rd32(&t, 24), 0x42, "qword write: data");
	is_int(rd32(&t, 28), 1, "qword write: control");
	q = 0;
	ok(msix_table_access(&t, 16, &q, 8, false), "aligned qword read");
	is_int(q, 0x12345678fee00000ULL, "qword read returns both halves");

	v = 0xffffffff;
	ok(!msix_table_access(&t, 18, &v, 4, true), "misaligned dword ignored");
	is_int(rd32(&t, 16), 0xfee00000, "misaligned write changed nothing");
	q = ~0ULL;
	ok(!msix_table_access(&t, 20, &q, 8, true),
	   "qword not 8-byte aligned ignored");
	is_int(rd32(&t, 20), 0x12345678, "misaligned qword changed nothing");
	h = 0xffff;
	ok(!msix_table_access(&t, 16, &h, 2, true), "word write ignored");
	ok(!msix_table_access(&t, 16, &h, 2, false) && h == 0,
	   "word read ignored, reads 0");
	v = 0x5a5a5a5a;
	ok(!msix_table_access(&t, 48, &v, 4, true),
	   "write past the last entry unclaimed");
	v = 0x5a5a5a5a;
	ok(!msix_table_access(&t, 48, &v, 4, false) && v == 0,
	   "read past the last entry reads 0");
	ok(!msix_table_access(&t, ~0ULL - 3, &v, 4, false),
	   "huge offset refused without wrapping");

	wr32(&t, 12, 0xfffffffe);
	is_int(rd32(&t, 12), 0, "reserved control bits read as zero");
	wr32(&t, 12, 0xffffffff);
	is_int(rd32(&t, 12), 1, "only the mask bit sticks");

	v = 0xffffffff;
	ok(!msix_pba_access(&t, 0, &v, 4, true), "PBA write refused");
	ok(msix_pba_access(&t, 0, &v, 4, false) && v == 0, "PBA reads 0");
	ok(!msix_pba_access(&t, 8, &v, 4, false), "read past the PBA refused");
	ok(!msix_pba_access(&t, 2, &v, 4, false), "misaligned PBA read refused");
	is_int(r.updates + r.fires, 0, "no callbacks while disabled and masked");
}

static void test_masking(void)
{
	struct msix_table t;
	struct rec r = { 0 };
	u64 pba = 0;

	msix_init(&t, 3, &ops, &r);
	program(&t, 1, 0xfee01000, 0x4041);
	is_int(r.updates, 0, "masked entry: route not updated on each write");

	msix_set_control(&t, true, false);
	is_int(r.updates, 0, "enabling MSI-X: masked entries still not routed");
	is_int(msix_notify(&t, 1), 0, "masked vector: signal is pending");
	ok(msix_pending(&t, 1), "pending bit set");
	ok(msix_pba_access(&t, 0, &pba, 8, false) && pba == 2,
	   "PBA shows bit 1");
	is_int(r.fires, 0, "masked vector not delivered");

	unmask(&t, 1);
	is_int(r.updates, 1, "unmask: route updated once");
	ok(r.last_update_vec == 1 && r.last_addr == 0xfee01000 &&
	   r.last_data == 0x4041, "route carries the programmed message");
	is_int(r.fires, 1, "unmask delivers the pending vector");
	ok(!msix_pending(&t, 1), "pending bit cleared on delivery");

	is_int(msix_notify(&t, 1), 1, "unmasked vector delivered at once");
	is_int(r.fires, 2, "fire called");
	is_int(r.updates, 1, "no route update for an unchanged entry");

	wr32(&t, 16 + PCI_MSIX_ENTRY_DATA, 0x4042);
	is_int(r.updates, 2, "rewriting a live entry updates the route");
	wr32(&t, 16 + PCI_MSIX_ENTRY_DATA, 0x4042);
	is_int(r.updates, 2, "writing the same value does not");

	msix_set_control(&t, true, true);
	is_int(msix_notify(&t, 1), 0, "function mask: signal pending");
	is_int(r.fires, 2, "function mask blocks delivery");
	msix_set_control(&t, true, false);
	is_int(r.fires, 3, "clearing the function mask delivers");
	ok(!msix_pending(&t, 1), "and clears the pending bit");

	mask(&t, 1);
	msix_notify(&t, 1);
	wr32(&t, 16 + PCI_MSIX_ENTRY_DATA, 0x4043);
	is_int(r.updates, 2, "masked rewrite defers the route update");
	unmask(&t, 1);
	ok(r.updates == 3 && r.last_data == 0x4043 && r.fires == 4,
	   "unmask: route updated, then the pending vector delivered");

	is_int(msix_notify(&t, 3), -EINVAL, "vector beyond the table refused");
	is_int(msix_notify(&t, 0xffff), -EINVAL, "NO_VECTOR refused");
	is_int(msix_notify(&t, 2), 0, "masked, unprogrammed vector pends");
	msix_set_control(&t, false, false);
	is_int(msix_notify(&t, 1), -EINVAL, "disabled: nothing delivered");
	is_int(r.fires, 4, "no delivery while disabled");
}

static void test_bus_master(void)
{
	struct msix_table t;
	struct rec r = { 0 };

	msix_init(&t, 2, &ops, &r);
	msix_set_control(&t, true, false);
	program(&t, 0, 0xfee02000, 0x4050);
	msix_set_bus_master(&t, false);
	unmask(&t, 0);
	is_int(r.updates, 1, "bus master off: unmask still updates the route");
	is_int(msix_notify(&t, 0), 0, "bus master off: signal is pending");
	ok(msix_pending(&t, 0) && r.fires == 0, "and not delivered");
	mask(&t, 0);
	unmask(&t, 0);
	is_int(r.fires, 0, "unmask without bus mastering delivers nothing");
	msix_set_bus_master(&t, true);
	ok(r.fires == 1 && !msix_pending(&t, 0),
	   "bus master on delivers the pending vector");
	is_int(msix_notify(&t, 0), 1, "and later signals go at once");
}

int main(void)
{
	tap_plan(65);
	test_init();
	test_access_rules();
	test_masking();
	test_bus_master();
	return tap_done();
}
