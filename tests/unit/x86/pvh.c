// SPDX-License-Identifier: GPL-2.0
/*
 * pvh__load() on synthetic ELF kernels with and without the PVH entry
 * note, and flat__load() placement of raw binaries.
 */
#include <elf.h>
#include <errno.h>

#include <asm/e820.h>

#include "tap.h"
#include "arch/boot.h"
#include "lkvm/guest_mem.h"

#define RAM		(64 * SZ_1M)
#define SEG_PADDR	0x1000000ULL
#define SEG_OFF		0x1000
#define SEG_FILESZ	0x100
#define SEG_MEMSZ	0x2000
#define ENTRY		(SEG_PADDR + 0x40)
#define NOTE_OFF	0x400

struct hvm_start_info {
	u32 magic, version, flags, nr_modules;
	u64 modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	u32 memmap_entries, reserved;
};

struct hvm_modlist_entry {
	u64 paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_table_entry {
	u64 addr, size;
	u32 type, reserved;
};

static u8 elf[SEG_OFF + SEG_FILESZ];
static u8 *ram;
static struct guest_mem gm;

/* Note: namesz, descsz, type, "Xen\0", desc. */
static size_t put_note(u8 *p, u32 type, u32 descsz, u64 desc)
{
	u32 hdr[3] = { 4, descsz, type };

	memcpy(p, hdr, sizeof(hdr));
	memcpy(p + 12, "Xen", 4);
	memcpy(p + 16, &desc, descsz);
	return 16 + ALIGN_UP(descsz, 4);
}

static void make_elf64(u32 note_type, u32 descsz)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)elf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(elf + sizeof(*eh));
	size_t notesz;

	memset(elf, 0, sizeof(elf));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = 0xffffffff81000000ULL;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 2;

	/* An unrelated note first, then ours. */
	notesz = put_note(elf + NOTE_OFF, 1, 4, 0x1234);
	notesz += put_note(elf + NOTE_OFF + notesz, note_type, descsz, ENTRY);

	ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = SEG_OFF,
			      .p_paddr = SEG_PADDR,
			      .p_vaddr = 0xffffffff81000000ULL,
			      .p_filesz = SEG_FILESZ, .p_memsz = SEG_MEMSZ };
	ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = NOTE_OFF,
			      .p_filesz = notesz };
	for (size_t i = 0; i < SEG_FILESZ; i++)
		elf[SEG_OFF + i] = (u8)(i + 1);
}

static void make_elf32(void)
{
	Elf32_Ehdr *eh = (Elf32_Ehdr *)elf;
	Elf32_Phdr *ph = (Elf32_Phdr *)(elf + sizeof(*eh));
	size_t notesz;

	memset(elf, 0, sizeof(elf));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_machine = EM_386;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 2;
	notesz = put_note(elf + NOTE_OFF, 18, 4,
			  ENTRY);
	ph[0] = (Elf32_Phdr){ .p_type = PT_NOTE, .p_offset = NOTE_OFF,
			      .p_filesz = notesz };
	ph[1] = (Elf32_Phdr){ .p_type = PT_LOAD, .p_offset = SEG_OFF,
			      .p_paddr = SEG_PADDR, .p_filesz = SEG_FILESZ,
			      .p_memsz = SEG_MEMSZ };
}

static int load_pvh(size_t len, const void *rd, size_t rd_len,
		    struct x86_boot_state *bs)
{
	struct x86_load_args a = {
		.kernel_path = "vmlinux",
		.kernel = elf,
		.kernel_len = len,
		.initrd_path = "initrd",
		.initrd = rd,
		.initrd_len = rd_len,
		.cmdline = "console=ttyS0",
		.ram_size = RAM,
	};

	memset(ram, 0xff, RAM);
	return pvh__load(&gm, &a, bs);
}

static Elf64_Phdr *ph64(int i)
{
	return (Elf64_Phdr *)(elf + sizeof(Elf64_Ehdr)) + i;
}

static void test_pvh(void)
{
	static const u8 initrd[5000] = { 1, 2, 3 };
	struct x86_boot_state bs = { 0 };
	struct hvm_start_info *si;
	struct hvm_memmap_table_entry *mm;
	struct hvm_modlist_entry *mod;
	bool zero = true;

	make_elf64(18, 4);
	ok(elf__detect(elf, sizeof(elf)), "ELF detected");
	ok(!bzimage__detect(elf, sizeof(elf)), "ELF is not a bzImage");
	is_int(load_pvh(sizeof(elf), initrd, sizeof(initrd), &bs), 0,
	       "ELF64 with PVH note accepted");
	is_int(bs.mode, X86_BOOT_PVH32, "boot mode PVH32");
	is_int(bs.entry, ENTRY, "entry from the note");
	is_int(bs.arg, PVH_START_INFO_ADDR, "ebx = start_info");
	ok(!memcmp(ram + SEG_PADDR, elf + SEG_OFF, SEG_FILESZ),
	   "segment loaded at p_paddr");
	for (u64 i = SEG_FILESZ; i < SEG_MEMSZ; i++)
		zero &= ram[SEG_PADDR + i] == 0;
	ok(zero, "bss zeroed");

	si = (struct hvm_start_info *)(ram + bs.arg);
	is_int(si->magic, 0x336ec578, "start_info magic");
	is_int(si->version, 1, "start_info version 1");
	is_str((char *)ram + si->cmdline_paddr, "console=ttyS0",
	       "command line");
	is_int(si->memmap_entries, 4, "4 memory map entries");
	mm = (struct hvm_memmap_table_entry *)(ram + si->memmap_paddr);
	ok(mm[0].addr == 0 && mm[0].size == 0x9fc00 && mm[0].type == 1 &&
	   mm[3].addr == SZ_1M && mm[3].size == RAM - SZ_1M &&
	   mm[1].type == E820_RESERVED && mm[3].reserved == 0,
	   "memory map matches e820");
	is_int(si->nr_modules, 1, "one module (initrd)");
	mod = (struct hvm_modlist_entry *)(ram + si->modlist_paddr);
	ok(mod->size == sizeof(initrd) && !(mod->paddr & 0xfff) &&
	   mod->paddr >= SEG_PADDR + SEG_MEMSZ &&
	   mod->paddr + mod->size <= RAM &&
	   !memcmp(ram + mod->paddr, initrd, sizeof(initrd)),
	   "initrd placed high, page aligned, copied");

	is_int(load_pvh(sizeof(elf), NULL, 0, &bs), 0, "no initrd");
	si = (struct hvm_start_info *)(ram + bs.arg);
	ok(si->nr_modules == 0 && si->modlist_paddr == 0, "no modules");

	make_elf64(18, 8);
	is_int(load_pvh(sizeof(elf), NULL, 0, &bs), 0, "8-byte note desc");
	is_int(bs.entry, ENTRY, "... entry read as 64 bits");

	make_elf32();
	is_int(load_pvh(sizeof(elf), NULL, 0, &bs), 0, "ELF32 accepted");
	is_int(bs.entry, ENTRY, "ELF32 entry");

	make_elf64(17, 4);
	is_int(load_pvh(sizeof(elf), NULL, 0, &bs), -EINVAL,
	       "ELF without PVH note refused");

	make_elf64(18, 4);
	ph64(0)->p_paddr = 0x80000000;
	is_int(load_pvh(sizeof(elf), NULL, 0, &bs), -EINVAL,
	       "segment beyond RAM refused");
	make_elf64(18, 4);
	ph64(0)->p_paddr = 0xfffffffffffff000ULL;
	is_int(load_pvh(sizeof(elf), NULL, 0, &bs), -EINVAL,
	       "wrapping segment refused");
	make_elf64(18, 4);
	ph64(0)->p_paddr = 0x8000;
	is_int(load_pvh(sizeof(elf), NULL, 0, &bs), -EINVAL,
	       "segment in low memory refused");
	make_elf64(18, 4);
	ph64(0)->p_filesz = SEG_MEMSZ + 1;
	is_int(load_pvh(sizeof(elf), NULL, 0, &bs), -EINVAL,
	       "filesz > memsz refused");
	make_elf64(18, 4);
	ph64(0)->p_offset = ~0ULL - 8;
	is_int(load_pvh(sizeof(elf), NULL, 0, &bs), -EINVAL,
	       "segment offset past EOF refused");
	make_elf64(18, 4);
	((Elf64_Ehdr *)elf)->e_phoff = sizeof(elf) - 8;
	is_int(load_pvh(sizeof(elf), NULL, 0, &bs), -EINVAL,
	       "program headers past EOF refused");
	make_elf64(18, 4);
	((Elf64_Ehdr *)elf)->e_phnum = 0;
	is_int(load_pvh(sizeof(elf), NULL, 0, &bs), -EINVAL,
	       "no program headers refused");
	make_elf64(18, 4);
	memset(elf + NOTE_OFF, 0xff, 4);	/* namesz 4 GiB */
	is_int(load_pvh(sizeof(elf), NULL, 0, &bs), -EINVAL,
	       "note with huge namesz refused");
	make_elf64(18, 4);
	put_note(elf + NOTE_OFF + 20, 18, 4, 0x100);
	is_int(load_pvh(sizeof(elf), NULL, 0, &bs), -EINVAL,
	       "entry outside the kernel refused");
	make_elf64(18, 4);
	is_int(load_pvh(40, NULL, 0, &bs), -EINVAL, "truncated header");
	make_elf64(18, 4);
	elf[EI_DATA] = ELFDATA2MSB;
	is_int(load_pvh(sizeof(elf), NULL, 0, &bs), -EINVAL,
	       "big-endian refused");
}

static void test_flat(void)
{
	static u8 bin[EBDA_START - FLAT_LOAD_ADDR + 1];
	struct x86_boot_state bs = { 0 };
	struct x86_load_args a = {
		.kernel_path = "flat.bin",
		.kernel = bin,
		.kernel_len = 512,
		.ram_size = RAM,
	};
	u32 vec;

	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (u8)(i * 13);
	ok(!elf__detect(bin, 512) && !bzimage__detect(bin, 512),
	   "flat binary is neither ELF nor bzImage");
	memset(ram, 0xff, SZ_1M);
	is_int(flat__load(&gm, &a, &bs), 0, "512-byte flat binary");
	ok(!memcmp(ram + 0x10000, bin, 512), "placed at 0x10000");
	ok(bs.mode == X86_BOOT_REAL16 && bs.cs == 0x1000 && bs.entry == 0 &&
	   bs.stack == 0x8000, "entry 1000:0000, sp 0x8000");
	memcpy(&vec, ram + 0x10 * 4, 4);
	is_int(vec, 0xf0000000, "IVT vector 0x10 -> f000:0000");
	is_int(ram[0xf0000], 0xcf, "iret stub at 0xf0000");
	is_int(ram[0x400] | ram[0x4ff], 0, "BDA zeroed");

	a.kernel_len = sizeof(bin) - 1;
	is_int(flat__load(&gm, &a, &bs), 0, "largest flat binary fits");
	a.kernel_len = sizeof(bin);
	is_int(flat__load(&gm, &a, &bs), -EINVAL, "one byte more is refused");
	a.kernel_len = 0;
	is_int(flat__load(&gm, &a, &bs), -EINVAL, "empty file refused");
}

int main(void)
{
	tap_plan(43);
	ram = malloc(RAM);
	guest_mem_add(&gm, 0, RAM, ram);
	test_pvh();
	test_flat();
	free(ram);
	return tap_done();
}
