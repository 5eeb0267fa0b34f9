// SPDX-License-Identifier: GPL-2.0
/*
 * bzimage__load() on synthetic images: what it must refuse, and where an
 * accepted image, its zero page, command line, initrd and boot page
 * tables end up in guest memory.
 */
#include <errno.h>
#include <stddef.h>
#include <sys/mman.h>

#include <asm/e820.h>

#include "tap.h"
#include "arch/boot.h"
#include "lkvm/guest_mem.h"

#define SETUP_SECTS	4
#define SETUP_LEN	((SETUP_SECTS + 1) * 512)
#define PAYLOAD_LEN	8192
#define IMG_LEN		(SETUP_LEN + PAYLOAD_LEN)

static u8 img[IMG_LEN];
static u8 initrd[3 * 4096 + 123];

static struct setup_header *hdr(void)
{
	return (struct setup_header *)(img + 0x1f1);
}

/* A minimal but valid protocol 2.15 bzImage. */
static void make_image(void)
{
	struct setup_header h = {
		.setup_sects = SETUP_SECTS,
		.boot_flag = 0xaa55,
		.jump = 0xeb | (0x6a << 8),	/* header ends at 0x26c */
		.header = 0x53726448,
		.version = 0x020f,
		.loadflags = LOADED_HIGH,
		.code32_start = 0x100000,
		.initrd_addr_max = 0x7fffffff,
		.kernel_alignment = 0x200000,
		.relocatable_kernel = 1,
		.xloadflags = XLF_KERNEL_64,
		.cmdline_size = 2047,
		.setup_data = 0x1234,		/* must not reach the guest */
		.pref_address = 0x1000000,
		.init_size = 0x20000,
	};

	memset(img, 0, sizeof(img));
	memcpy(img + 0x1f1, &h, sizeof(h));
	for (size_t i = 0; i < PAYLOAD_LEN; i++)
		img[SETUP_LEN + i] = (u8)(i * 7 + 3);
	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (u8)(i ^ 0x5a);
}

struct vm {
	struct guest_mem gm;
	u8 *ram;
	u64 size;
};

static void vm_init(struct vm *vm, u64 size)
{
	u64 below = x86_ram_below_hole(size);

	memset(vm, 0, sizeof(*vm));
	vm->size = size;
	vm->ram = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED) {
		printf("Bail out! mmap %llu\n", (unsigned long long)size);
		exit(1);
	}
	guest_mem_add(&vm->gm, 0, below, vm->ram);
	if (size > below)
		guest_mem_add(&vm->gm, X86_4G, size - below, vm->ram + below);
}

static void vm_exit(struct vm *vm)
{
	munmap(vm->ram, vm->size);
}

static int load(u64 ram, size_t len, const void *rd, size_t rd_len,
		const char *cmdline)
{
	struct x86_boot_state bs = { 0 };
	struct x86_load_args a = {
		.kernel_path = "test.bzImage",
		.kernel = img,
		.kernel_len = len,
		.initrd_path = "test.initrd",
		.initrd = rd,
		.initrd_len = rd_len,
		.cmdline = cmdline,
		.ram_size = ram,
	};
	struct vm vm;
	int ret;

	vm_init(&vm, ram);
	ret = bzimage__load(&vm.gm, &a, &bs);
	vm_exit(&vm);
	return ret;
}

static void test_rejects(void)
{
	make_image();
	memcpy(img + 0x202, "HdrX", 4);
	is_int(load(64 * SZ_1M, IMG_LEN, NULL, 0, "x"), -EINVAL,
	       "rejected without HdrS");
	ok(!bzimage__detect(img, IMG_LEN), "not detected without HdrS");

	make_image();
	ok(bzimage__detect(img, IMG_LEN), "detected with HdrS");
	hdr()->boot_flag = 0;
	is_int(load(64 * SZ_1M, IMG_LEN, NULL, 0, "x"), -EINVAL,
	       "rejected without boot_flag 0xaa55");

	make_image();
	hdr()->version = 0x0206;
	is_int(load(64 * SZ_1M, IMG_LEN, NULL, 0, "x"), -EINVAL,
	       "rejected: protocol 2.06 too old");

	make_image();
	hdr()->xloadflags = 0;
	is_int(load(64 * SZ_1M, IMG_LEN, NULL, 0, "x"), -EINVAL,
	       "rejected without XLF_KERNEL_64");

	make_image();
	is_int(load(64 * SZ_1M, 0x100, NULL, 0, "x"), -EINVAL,
	       "rejected: truncated before the header");
	is_int(load(64 * SZ_1M, 0x240, NULL, 0, "x"), -EINVAL,
	       "rejected: truncated inside the header");
	is_int(load(64 * SZ_1M, SETUP_LEN, NULL, 0, "x"), -EINVAL,
	       "rejected: no protected-mode part");

	make_image();
	img[0x201] = 0x10;
	is_int(load(64 * SZ_1M, IMG_LEN, NULL, 0, "x"), -EINVAL,
	       "rejected: header length too short for 2.12");

	make_image();
	hdr()->setup_sects = 200;
	is_int(load(64 * SZ_1M, IMG_LEN, NULL, 0, "x"), -EINVAL,
	       "rejected: setup_sects past EOF");

	make_image();
	hdr()->init_size = 64 * SZ_1M;
	is_int(load(64 * SZ_1M, IMG_LEN, NULL, 0, "x"), -EINVAL,
	       "rejected: init_size larger than RAM");
	hdr()->init_size = 0xffffffff;
	is_int(load(64 * SZ_1M, IMG_LEN, NULL, 0, "x"), -EINVAL,
	       "rejected: init_size 4 GiB");

	make_image();
	hdr()->relocatable_kernel = 0;
	hdr()->pref_address = 0xfffffffffffff000ULL;
	is_int(load(64 * SZ_1M, IMG_LEN, NULL, 0, "x"), -EINVAL,
	       "rejected: non-relocatable with pref_address outside RAM");

	make_image();
	hdr()->initrd_addr_max = 0x1ffff;
	is_int(load(64 * SZ_1M, IMG_LEN, initrd, sizeof(initrd), "x"),
	       -EINVAL, "rejected: initrd_addr_max below the kernel");

	make_image();
	hdr()->init_size = 0xfe000;
	is_int(load(2 * SZ_1M, IMG_LEN, initrd, sizeof(initrd), "x"),
	       -EINVAL, "rejected: initrd does not fit in 2 MiB");
}

static void test_accept(void)
{
	struct x86_boot_state bs = { 0 };
	struct x86_load_args a = {
		.kernel_path = "test.bzImage",
		.kernel = img,
		.kernel_len = IMG_LEN,
		.initrd_path = "test.initrd",
		.initrd = initrd,
		.initrd_len = sizeof(initrd),
		.cmdline = "console=ttyS0 root=/dev/vda",
		.ram_size = 64 * SZ_1M,
	};
	struct boot_params *zp;
	const u64 *gdt, *pml4, *pdpt, *pd;
	struct vm vm;
	u64 rd;

	make_image();
	hdr()->initrd_addr_max = 32 * SZ_1M - 1;
	vm_init(&vm, a.ram_size);
	is_int(bzimage__load(&vm.gm, &a, &bs), 0, "valid image accepted");

	ok(!memcmp(vm.ram + 0x100000, img + SETUP_LEN, PAYLOAD_LEN),
	   "payload copied to 1 MiB");
	is_int(bs.mode, X86_BOOT_LONG64, "boot mode is LONG64");
	is_int(bs.entry, 0x100200, "rip = 1 MiB + 0x200");
	is_int(bs.arg, BOOT_ZERO_PAGE_ADDR, "rsi = zero page");
	ok(bs.stack && bs.stack < 0x9fc00, "a low stack is provided");

	zp = (struct boot_params *)(vm.ram + BOOT_ZERO_PAGE_ADDR);
	is_int(zp->hdr.type_of_loader, 0xff, "type_of_loader = 0xff");
	ok(zp->hdr.loadflags & CAN_USE_HEAP, "CAN_USE_HEAP set");
	ok(zp->hdr.loadflags & LOADED_HIGH, "LOADED_HIGH kept");
	is_int(zp->hdr.version, 0x020f, "header copied (version)");
	is_int(zp->hdr.boot_flag, 0xaa55, "header copied (boot_flag)");
	is_int(zp->hdr.setup_data, 0, "setup_data cleared");
	is_int(zp->hdr.cmd_line_ptr, BOOT_CMDLINE_ADDR, "cmd_line_ptr");
	is_str((char *)vm.ram + zp->hdr.cmd_line_ptr,
	       "console=ttyS0 root=/dev/vda", "command line in guest memory");
	is_int(zp->ext_cmd_line_ptr | zp->ext_ramdisk_image |
	       zp->ext_ramdisk_size, 0, "ext_* fields zero");
	is_int(zp->sentinel, 0, "sentinel zero");

	rd = zp->hdr.ramdisk_image;
	is_int(zp->hdr.ramdisk_size, sizeof(initrd), "ramdisk_size");
	is_int(rd & 0xfff, 0, "initrd page aligned");
	ok(rd + sizeof(initrd) <= 32 * SZ_1M, "initrd below initrd_addr_max");
	ok(rd + sizeof(initrd) > 32 * SZ_1M - 2 * 4096,
	   "initrd as high as possible");
	ok(rd >= 0x100000 + 0x20000, "initrd above the kernel's init_size");
	ok(!memcmp(vm.ram + rd, initrd, sizeof(initrd)), "initrd copied");

	is_int(zp->e820_entries, 4, "4 e820 entries");
	is_int(zp->e820_table[0].type, E820_RAM, "e820[0] RAM");
	is_int(zp->e820_table[0].size, 0x9fc00, "e820[0] ends at the EBDA");
	is_int(zp->e820_table[3].addr, 0x100000, "e820[3] at 1 MiB");
	is_int(zp->e820_table[3].size, 63 * SZ_1M, "e820[3] to end of RAM");

	gdt = (const u64 *)(vm.ram + bs.gdt);
	is_int(gdt[2], 0x00af9b000000ffffULL, "GDT 0x10 is 64-bit code");
	is_int(gdt[3], 0x00cf93000000ffffULL, "GDT 0x18 is data");
	pml4 = (const u64 *)(vm.ram + bs.pml4);
	pdpt = (const u64 *)(vm.ram + (pml4[0] & ~0xfffULL));
	ok((pml4[0] & 3) == 3 && (pdpt[3] & 3) == 3, "PML4/PDPT present");
	pd = (const u64 *)(vm.ram + (pdpt[0] & ~0xfffULL));
	is_int(pd[0], 0x83, "PD maps 0 with a 2 MiB page");
	pd = (const u64 *)(vm.ram + (pdpt[3] & ~0xfffULL));
	is_int(pd[511], (4 * SZ_1G - 2 * SZ_1M) | 0x83,
	       "identity map reaches 4 GiB");
	vm_exit(&vm);

	/* An overlong command line is refused, never cut. */
	char *longcmd = malloc(5000);

	memset(longcmd, 'a', 4999);
	longcmd[4999] = '\0';
	a.cmdline = longcmd;
	a.initrd = NULL;
	vm_init(&vm, a.ram_size);
	is_int(bzimage__load(&vm.gm, &a, &bs), -E2BIG,
	       "command line longer than cmdline_size refused");
	vm_exit(&vm);
	longcmd[2047] = '\0';
	vm_init(&vm, a.ram_size);
	is_int(bzimage__load(&vm.gm, &a, &bs), 0,
	       "command line of exactly cmdline_size - 1 accepted");
	is_int(strlen((char *)vm.ram + BOOT_CMDLINE_ADDR), 2047,
	       "whole command line written");
	zp = (struct boot_params *)(vm.ram + BOOT_ZERO_PAGE_ADDR);
	is_int(zp->hdr.ramdisk_image | zp->hdr.ramdisk_size, 0,
	       "no initrd: ramdisk fields zero");
	vm_exit(&vm);
	free(longcmd);

	/* RAM above the hole: e820 gets a 4 GiB entry, initrd stays low. */
	a.cmdline = NULL;
	a.initrd = initrd;
	a.ram_size = 3 * SZ_1G + 16 * SZ_1M;
	make_image();
	vm_init(&vm, a.ram_size);
	is_int(bzimage__load(&vm.gm, &a, &bs), 0, "3 GiB + 16 MiB accepted");
	zp = (struct boot_params *)(vm.ram + BOOT_ZERO_PAGE_ADDR);
	is_int(zp->e820_entries, 5, "5 e820 entries");
	is_int(zp->e820_table[4].addr, 4 * SZ_1G, "high RAM at 4 GiB");
	is_int(zp->e820_table[4].size, 16 * SZ_1M, "high RAM size");
	ok(zp->hdr.ramdisk_image + sizeof(initrd) <= 3 * SZ_1G,
	   "initrd below the PCI hole");
	is_str((char *)vm.ram + BOOT_CMDLINE_ADDR, "", "empty command line");
	vm_exit(&vm);
}

int main(void)
{
	tap_plan(58);
	test_rejects();
	test_accept();
	return tap_done();
}
