/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_X86_ACPI_H
#define LKVM_X86_ACPI_H

/*
 * Minimal ACPI tables (RSDP, XSDT, RSDT, FADT, FACS, DSDT, MADT) so that
 * kernels built without MP table support still find every vCPU, and can
 * power off and reset the VM.  They live at ACPI_TABLES_ADDR (boot.h).
 */

#include <stddef.h>

#include "lkvm/types.h"

struct guest_mem;

/* I/O ports named in the FADT. */
#define ACPI_PM1A_EVT_PORT	0x600	/* hw/pm.c: PM1_STS, PM1_EN */
#define ACPI_PM1A_CNT_PORT	0x604	/* hw/pm.c: SLP_EN powers off */
#define ACPI_RESET_PORT		0xcf9	/* hw/pci.c: PIIX reset control */
#define ACPI_RESET_VALUE	0x06	/* SYS_RST | RST_CPU */
#define ACPI_SCI_IRQ		9

/*
 * Builds the tables into @buf as they will appear at guest address @gpa
 * (16-byte aligned; the RSDP comes first).  Returns the number of bytes
 * used, -ENOSPC if @size is too small, or -EINVAL.
 */
int acpi__build(void *buf, size_t size, u64 gpa, unsigned int nr_cpus);

/* Writes the tables at ACPI_TABLES_ADDR in guest memory. */
int acpi__write(struct guest_mem *gm, unsigned int nr_cpus);

/*
 * Points boot_params.acpi_rsdp_addr in the zero page at @zero_page to the
 * RSDP, when the kernel's boot protocol (2.14+) knows the field.
 */
int acpi__set_boot_params_rsdp(struct guest_mem *gm, u64 zero_page);

#endif
