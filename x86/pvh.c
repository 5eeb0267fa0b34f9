// SPDX-License-Identifier: GPL-2.0
/*
 * ELF (vmlinux) loader for the PVH boot protocol: segments go to their
 * physical addresses, and the boot CPU enters the address given by the
 * XEN_ELFNOTE_PHYS32_ENTRY note in 32-bit protected mode with paging off
 * and ebx pointing at an hvm_start_info (version 1, with a memory map).
 *
 * The ELF file is untrusted: every offset and size is checked against the
 * file and against guest RAM before anything is copied.
 */
#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <asm/e820.h>

#include "arch/boot.h"
#include "lkvm/guest_mem.h"
#include "lkvm/log.h"

#define XEN_ELFNOTE_PHYS32_ENTRY	18
#define HVM_START_MAGIC			0x336ec578
#define HVM_START_VERSION		1

/* xen/include/public/arch-x86/hvm/start_info.h, version 1 */
struct hvm_start_info {
	u32 magic;
	u32 version;
	u32 flags;
	u32 nr_modules;
	u64 modlist_paddr;
	u64 cmdline_paddr;
	u64 rsdp_paddr;
	u64 memmap_paddr;
	u32 memmap_entries;
	u32 reserved;
} __attribute__((packed));

struct hvm_modlist_entry {
	u64 paddr;
	u64 size;
	u64 cmdline_paddr;
	u64 reserved;
} __attribute__((packed));

struct hvm_memmap_table_entry {
	u64 addr;
	u64 size;
	u32 type;
	u32 reserved;
} __attribute__((packed));

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "memmap entry");

#define PVH_MODLIST_ADDR	(PVH_START_INFO_ADDR + 0x40)
#define PVH_MEMMAP_ADDR		(PVH_START_INFO_ADDR + 0x80)
#define PVH_MEMMAP_MAX		16

/* A program header, whatever the ELF class. */
struct elf_phdr {
	u32 type;
	u64 offset;
	u64 paddr;
	u64 filesz;
	u64 memsz;
};

struct elf_image {
	const char *name;
	const u8 *data;
	size_t len;
	bool is64;
	u64 phoff;
	unsigned int phnum;
};

bool elf__detect(const void *img, size_t len)
{
	return len >= SELFMAG && !memcmp(img, ELFMAG, SELFMAG);
}

/* True if [off, off + size) lies inside the file. */
static bool in_file(const struct elf_image *e, u64 off, u64 size)
{
	return off <= e->len && size <= e->len - off;
}

static int elf__parse_ehdr(struct elf_image *e)
{
	u16 machine, phentsize;

	if (e->len < EI_NIDENT) {
		pr_err("%s: truncated ELF header", e->name);
		return -EINVAL;
	}
	if (e->data[EI_DATA] != ELFDATA2LSB) {
		pr_err("%s: ELF kernel is not little-endian", e->name);
		return -EINVAL;
	}
	if (e->data[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr h;

		if (e->len < sizeof(h))
			goto truncated;
		memcpy(&h, e->data, sizeof(h));
		machine = h.e_machine;
		phentsize = h.e_phentsize;
		e->phoff = h.e_phoff;
		e->phnum = h.e_phnum;
		e->is64 = true;
		if (phentsize != sizeof(Elf64_Phdr))
			goto bad_phdr;
	} else if (e->data[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr h;

		if (e->len < sizeof(h))
			goto truncated;
		memcpy(&h, e->data, sizeof(h));
		machine = h.e_machine;
		phentsize = h.e_phentsize;
		e->phoff = h.e_phoff;
		e->phnum = h.e_phnum;
		e->is64 = false;
		if (phentsize != sizeof(Elf32_Phdr))
			goto bad_phdr;
	} else {
		pr_err("%s: unknown ELF class %u", e->name,
		       e->data[EI_CLASS]);
		return -EINVAL;
	}
	if (machine != EM_X86_64 && machine != EM_386) {
		pr_err("%s: ELF kernel is for machine %u, not x86", e->name,
		       machine);
		return -EINVAL;
	}
	if (!e->phnum || !in_file(e, e->phoff, (u64)e->phnum * phentsize)) {
		pr_err("%s: ELF program headers missing or past the end of the file",
		       e->name);
		return -EINVAL;
	}
	return 0;

truncated:
	pr_err("%s: truncated ELF header", e->name);
	return -EINVAL;
bad_phdr:
	pr_err("%s: unexpected ELF program header size %u", e->name,
	       phentsize);
	return -EINVAL;
}

static void elf__phdr(const struct elf_image *e, unsigned int i,
		      struct elf_phdr *ph)
{
	if (e->is64) {
		Elf64_Phdr p;

		memcpy(&p, e->data + e->phoff + (u64)i * sizeof(p), sizeof(p));
		*ph = (struct elf_phdr){ p.p_type, p.p_offset, p.p_paddr,
					 p.p_filesz, p.p_memsz };
	} else {
		Elf32_Phdr p;

		memcpy(&p, e->data + e->phoff + (u64)i * sizeof(p), sizeof(p));
		*ph = (struct elf_phdr){ p.p_type, p.p_offset, p.p_paddr,
					 p.p_filesz, p.p_memsz };
	}
}

/* Scans one PT_NOTE segment; returns 1 and sets *entry if found. */
static int elf__scan_notes(const struct elf_image *e,
			   const struct elf_phdr *ph, u64 *entry)
{
	u64 off = ph->offset, end;

	if (!in_file(e, ph->offset, ph->filesz)) {
		pr_err("%s: ELF note segment runs past the end of the file",
		       e->name);
		return -EINVAL;
	}
	end = ph->offset + ph->filesz;
	while (end - off >= 12) {
		u32 namesz, descsz, type;
		u64 name_off, desc_off, next;

		memcpy(&namesz, e->data + off, 4);
		memcpy(&descsz, e->data + off + 4, 4);
		memcpy(&type, e->data + off + 8, 4);
		name_off = off + 12;
		desc_off = name_off + ALIGN_UP((u64)namesz, 4);
		next = desc_off + ALIGN_UP((u64)descsz, 4);
		if (desc_off > end || next > end) {
			pr_err("%s: malformed ELF note", e->name);
			return -EINVAL;
		}
		if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
		    !memcmp(e->data + name_off, "Xen", 4)) {
			if (descsz == 4) {
				u32 v;

				memcpy(&v, e->data + desc_off, 4);
				*entry = v;
			} else if (descsz == 8) {
				memcpy(entry, e->data + desc_off, 8);
			} else {
				pr_err("%s: PVH entry note has bad size %u",
				       e->name, descsz);
				return -EINVAL;
			}
			return 1;
		}
		off = next;
	}
	return 0;
}

static int elf__find_pvh_entry(const struct elf_image *e, u64 *entry)
{
	struct elf_phdr ph;

	for (unsigned int i = 0; i < e->phnum; i++) {
		int ret;

		elf__phdr(e, i, &ph);
		if (ph.type != PT_NOTE)
			continue;
		ret = elf__scan_notes(e, &ph, entry);
		if (ret)
			return ret < 0 ? ret : 0;
	}
	pr_err("%s: ELF kernel has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); build it with CONFIG_PVH=y or use a bzImage",
	       e->name);
	return -EINVAL;
}

/* Copies every PT_LOAD segment; *end is the highest byte + 1 loaded. */
static int elf__load_segments(struct guest_mem *gm, const struct elf_image *e,
			      u64 below, u64 *end)
{
	struct elf_phdr ph;
	bool any = false;
	u8 *dst;

	*end = 0;
	for (unsigned int i = 0; i < e->phnum; i++) {
		elf__phdr(e, i, &ph);
		if (ph.type != PT_LOAD || !ph.memsz)
			continue;
		if (ph.filesz > ph.memsz || !in_file(e, ph.offset, ph.filesz)) {
			pr_err("%s: ELF segment %u has bad sizes or runs past the end of the file",
			       e->name, i);
			return -EINVAL;
		}
		if (ph.paddr < KERNEL_LOAD_ADDR || ph.paddr >= below ||
		    ph.memsz > below - ph.paddr) {
			pr_err("%s: ELF segment %u [0x%llx, +0x%llx) is outside guest RAM [1 MiB, 0x%llx)",
			       e->name, i, (unsigned long long)ph.paddr,
			       (unsigned long long)ph.memsz,
			       (unsigned long long)below);
			return -EINVAL;
		}
		dst = guest_mem_ptr(gm, ph.paddr, ph.memsz);
		if (!dst)
			return -EFAULT;
		memcpy(dst, e->data + ph.offset, ph.filesz);
		memset(dst + ph.filesz, 0, ph.memsz - ph.filesz);
		*end = max_t(u64, *end, ph.paddr + ph.memsz);
		any = true;
	}
	if (!any) {
		pr_err("%s: ELF kernel has no loadable segments", e->name);
		return -EINVAL;
	}
	return 0;
}

static int pvh__start_info(struct guest_mem *gm, const struct x86_load_args *a,
			   u64 initrd_addr)
{
	struct boot_e820_entry e820[PVH_MEMMAP_MAX];
	struct hvm_memmap_table_entry *mm;
	struct hvm_start_info *si;
	int n;

	n = e820__build(a->ram_size, e820, PVH_MEMMAP_MAX);
	if (n < 0)
		return n;
	si = guest_mem_ptr(gm, PVH_START_INFO_ADDR, sizeof(*si));
	mm = guest_mem_ptr(gm, PVH_MEMMAP_ADDR, n * sizeof(*mm));
	if (!si || !mm)
		return -EFAULT;
	for (int i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_table_entry){
			.addr = e820[i].addr,
			.size = e820[i].size,
			.type = e820[i].type,
		};

	*si = (struct hvm_start_info){
		.magic = HVM_START_MAGIC,
		.version = HVM_START_VERSION,
		.cmdline_paddr = BOOT_CMDLINE_ADDR,
		/* PVH kernels do not scan the BIOS area for the RSDP. */
		.rsdp_paddr = ACPI_RSDP_ADDR,
		.memmap_paddr = PVH_MEMMAP_ADDR,
		.memmap_entries = (u32)n,
	};
	if (initrd_addr) {
		struct hvm_modlist_entry mod = {
			.paddr = initrd_addr,
			.size = a->initrd_len,
		};

		if (guest_mem_write(gm, PVH_MODLIST_ADDR, &mod, sizeof(mod)))
			return -EFAULT;
		si->nr_modules = 1;
		si->modlist_paddr = PVH_MODLIST_ADDR;
	}
	return 0;
}

int pvh__load(struct guest_mem *gm, const struct x86_load_args *a,
	      struct x86_boot_state *out)
{
	struct elf_image e = {
		.name = a->kernel_path,
		.data = a->kernel,
		.len = a->kernel_len,
	};
	u64 below = x86_ram_below_hole(a->ram_size);
	u64 entry = 0, end, initrd_addr, cmdline_len;
	int ret;

	if (!elf__detect(a->kernel, a->kernel_len)) {
		pr_err("%s: not an ELF file", e.name);
		return -EINVAL;
	}
	ret = elf__parse_ehdr(&e);
	if (!ret)
		ret = elf__find_pvh_entry(&e, &entry);
	if (ret)
		return ret;
	if (entry < KERNEL_LOAD_ADDR || entry >= below) {
		pr_err("%s: PVH entry point 0x%llx is outside guest RAM [1 MiB, 0x%llx)",
		       e.name, (unsigned long long)entry,
		       (unsigned long long)below);
		return -EINVAL;
	}
	ret = elf__load_segments(gm, &e, below, &end);
	if (ret)
		goto out_err;
	if (entry >= end) {
		pr_err("%s: PVH entry point 0x%llx is not inside a loaded segment",
		       e.name, (unsigned long long)entry);
		return -EINVAL;
	}
	ret = boot__write_cmdline(gm, a->cmdline, BOOT_CMDLINE_MAX,
				  &cmdline_len);
	if (ret)
		goto out_err;
	ret = boot__place_initrd(gm, a, end, below, &initrd_addr);
	if (ret)
		return ret;
	ret = pvh__start_info(gm, a, initrd_addr);
	if (ret)
		goto out_err;
	ret = boot_tables__setup(gm, out);
	if (ret)
		goto out_err;

	out->mode = X86_BOOT_PVH32;
	out->entry = entry;
	out->arg = PVH_START_INFO_ADDR;
	out->stack = BOOT_STACK_TOP;
	out->cs = BOOT_CS32;
	pr_debug("PVH kernel %s: entry 0x%llx, loaded up to 0x%llx, initrd at 0x%llx",
		 e.name, (unsigned long long)entry, (unsigned long long)end,
		 (unsigned long long)initrd_addr);
	return 0;

out_err:
	if (ret == -EFAULT) {
		pr_err("%s: guest RAM too small for the PVH boot structures",
		       e.name);
		ret = -EINVAL;
	}
	return ret;
}
