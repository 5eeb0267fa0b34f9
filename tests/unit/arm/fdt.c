// SPDX-License-Identifier: GPL-2.0
/*
 * arm/fdt.c: the device tree lkvm hands the guest, built for a few
 * machines and read back with libfdt.  Checked against the Linux DT
 * bindings: arm,gic (GICv2: reg = distributor, CPU interface; PPI flags
 * carry a CPU mask in bits 15:8), arm,gic-v3 (reg = GICD, GICR; ITS
 * child with #msi-cells = 1), arm,gic-v2m-frame, arm,armv8-timer
 * (secure, non-secure, virtual, hypervisor PPIs in that order), PSCI,
 * pci-host-ecam-generic (interrupt-map entries of child address, pin,
 * parent phandle, parent address, parent specifier; msi-map), /chosen,
 * arm,pl061 + arm,primecell (clocks/clock-names apb_pclk, the common
 * clock binding's fixed-clock), gpio-keys (linux,code, gpios of the
 * controller's phandle, line, flags), and the DT spec's rule that a
 * node's unit address is its first reg address.  Slots come from the real arch__virtio_mmio_alloc/announce.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <libfdt.h>

#include "tap.h"
#include "lkvm/hw.h"
#include "lkvm/irq.h"
#include "lkvm/kvm.h"
#include "lkvm/pci.h"

#define GIC_SPI		0
#define GIC_PPI		1
#define LEVEL_HIGH	4

static u8 dtb[64 * 1024];
static struct lkvm_config cfg;
static struct kvm kvm;
static char *bootargs;

struct machine {
	const char *name;
	const char *irqchip;
	unsigned int nr_cpus;
	u64 ram;
	unsigned int nr_virtio;
	u64 initrd_start, initrd_size;
	bool pmu, virtio_console, nodefaults;
	const char *params, *firmware;
};

static int build(const struct machine *m)
{
	u64 base, size;
	unsigned int irq;

	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = m->nr_cpus;
	cfg.params = m->params;
	cfg.firmware = m->firmware;
	cfg.nodefaults = m->nodefaults;
	cfg.console = m->virtio_console ? CONSOLE_VIRTIO : CONSOLE_SERIAL;
	cfg.initrd = m->initrd_size ? "initrd.img" : NULL;
	memset(&kvm, 0, sizeof(kvm));
	kvm.cfg = &cfg;
	kvm.nr_cpus = m->nr_cpus;
	kvm.ram_size = m->ram;
	kvm.arch.pmu = m->pmu;
	kvm.arch.initrd_start = m->initrd_start;
	kvm.arch.initrd_size = m->initrd_size;
	if (gic__parse(m->irqchip, &kvm.arch.irqchip))
		return -EINVAL;
	for (unsigned int i = 0; i < m->nr_virtio; i++)
		if (arch__virtio_mmio_alloc(&kvm, &base, &size, &irq) ||
		    arch__virtio_mmio_announce(&kvm, base, size, irq))
			return -ENOSPC;
	free(bootargs);
	bootargs = fdt__bootargs(&kvm);
	if (!bootargs)
		return -ENOMEM;
	return fdt__build(&kvm, dtb, sizeof(dtb), bootargs);
}

/* --- reading it back ------------------------------------------------------ */

static int node(const char *path)
{
	int off = fdt_path_offset(dtb, path);

	if (off < 0)
		diag("  no node %s: %s", path, fdt_strerror(off));
	return off;
}

static bool has(int off, const char *prop)
{
	return off >= 0 && fdt_getprop(dtb, off, prop, NULL) != NULL;
}

/* Cell @i of @prop, or ~0 when there is no such cell. */
static u32 cell(int off, const char *prop, int i)
{
	int len;
	const fdt32_t *p = off < 0 ? NULL : fdt_getprop(dtb, off, prop, &len);

	if (!p || (i + 1) * 4 > len)
		return ~0u;
	return fdt32_to_cpu(p[i]);
}

static u64 cell2(int off, const char *prop, int i)
{
	return ((u64)cell(off, prop, i) << 32) | cell(off, prop, i + 1);
}

static int ncells(int off, const char *prop)
{
	int len;

	if (off < 0 || !fdt_getprop(dtb, off, prop, &len))
		return -1;
	return len / 4;
}

static const char *str(int off, const char *prop)
{
	return off < 0 ? NULL : fdt_getprop(dtb, off, prop, NULL);
}

static bool compat(int off, const char *c)
{
	return off >= 0 && !fdt_node_check_compatible(dtb, off, c);
}

static bool irq_is(int off, int i, u32 type, u32 num, u32 flags)
{
	return cell(off, "interrupts", 3 * i) == type &&
	       cell(off, "interrupts", 3 * i + 1) == num &&
	       cell(off, "interrupts", 3 * i + 2) == flags;
}

static int count_nodes(const char *prefix)
{
	int n = 0, depth = 0;
	size_t len = strlen(prefix);

	for (int off = fdt_next_node(dtb, -1, &depth); off >= 0;
	     off = fdt_next_node(dtb, off, &depth))
		if (!strncmp(fdt_get_name(dtb, off, NULL), prefix, len))
			n++;
	return n;
}

/*
 * Every reg is whole (address + size) tuples of its parent's cells, and
 * the first address is the node's unit address; every interrupts
 * property is whole 3-cell GIC specifiers.
 */
static void check_generic(const char *m)
{
	bool reg_ok = true, unit_ok = true, irq_ok = true;
	int depth = 0;

	for (int off = fdt_next_node(dtb, -1, &depth); off >= 0;
	     off = fdt_next_node(dtb, off, &depth)) {
		const char *name = fdt_get_name(dtb, off, NULL);
		const char *at = strchr(name, '@');
		int parent = fdt_parent_offset(dtb, off);
		int ac = fdt_address_cells(dtb, parent);
		int sc = fdt_size_cells(dtb, parent);
		int n = ncells(off, "reg");
		u64 addr;

		if (n >= 0 && (n == 0 || n % (ac + sc))) {
			diag("  %s: reg of %d cells, parent has %d+%d", name, n,
			     ac, sc);
			reg_ok = false;
		}
		if (at && n > 0) {
			addr = ac == 2 ? cell2(off, "reg", 0) : cell(off, "reg", 0);
			if (strtoull(at + 1, NULL, 16) != addr) {
				diag("  %s: reg starts at %#llx", name,
				     (unsigned long long)addr);
				unit_ok = false;
			}
		}
		n = ncells(off, "interrupts");
		if (n >= 0 && (n == 0 || n % 3)) {
			diag("  %s: interrupts of %d cells", name, n);
			irq_ok = false;
		}
	}
	ok(reg_ok, "%s: every reg fits its parent's #address/#size-cells", m);
	ok(unit_ok, "%s: every unit address is the node's first reg address", m);
	ok(irq_ok, "%s: every interrupts is whole GIC specifiers", m);
}

static void check_root(const char *m)
{
	int root = node("/"), gic, chosen = node("/chosen");
	u32 ph = cell(root, "interrupt-parent", 0);

	ok(fdt_check_full(dtb, sizeof(dtb)) == 0, "%s: a valid FDT", m);
	ok(compat(root, "linux,dummy-virt") &&
	   cell(root, "#address-cells", 0) == 2 &&
	   cell(root, "#size-cells", 0) == 2,
	   "%s: root: linux,dummy-virt, 2 address and 2 size cells", m);
	gic = fdt_node_offset_by_phandle(dtb, ph);
	ok(gic >= 0 && has(gic, "interrupt-controller") &&
	   cell(gic, "#interrupt-cells", 0) == 3,
	   "%s: interrupt-parent is the GIC, 3 interrupt cells", m);
	ok(str(chosen, "bootargs") && !strcmp(str(chosen, "bootargs"), bootargs),
	   "%s: chosen/bootargs is the command line", m);
	ok(str(chosen, "stdout-path") &&
	   compat(node(str(chosen, "stdout-path")), "ns16550a"),
	   "%s: stdout-path leads to the UART", m);
	ok(str(node("/aliases"), "serial0") &&
	   !strcmp(str(node("/aliases"), "serial0"), str(chosen, "stdout-path")),
	   "%s: serial0 alias is the UART", m);
}

static void check_memory_cpus(const char *m, const struct machine *mc)
{
	char path[32];
	int mem, cpus = node("/cpus"), last;
	u64 mpidr = arm_vcpu_mpidr(mc->nr_cpus - 1);

	snprintf(path, sizeof(path), "/memory@%llx",
		 (unsigned long long)ARM_RAM_BASE);
	mem = node(path);
	ok(!strcmp(str(mem, "device_type") ?: "", "memory") &&
	   cell2(mem, "reg", 0) == ARM_RAM_BASE && cell2(mem, "reg", 2) == mc->ram,
	   "%s: one memory node: RAM_BASE, %llu MiB", m,
	   (unsigned long long)(mc->ram >> 20));
	ok(cell(cpus, "#address-cells", 0) == 1 && cell(cpus, "#size-cells", 0) == 0,
	   "%s: /cpus: 1 address cell (MPIDR), no size", m);
	is_int(count_nodes("cpu@"), mc->nr_cpus, "one cpu node per vCPU");
	snprintf(path, sizeof(path), "/cpus/cpu@%llx", (unsigned long long)mpidr);
	last = node(path);
	ok(cell(last, "reg", 0) == mpidr &&
	   !strcmp(str(last, "enable-method") ?: "", "psci") &&
	   !strcmp(str(last, "device_type") ?: "", "cpu"),
	   "%s: the last vCPU is %s, reg its MPIDR, enable-method psci", m,
	   path);
}

static void check_psci_timer(const char *m, const struct machine *mc)
{
	int psci = node("/psci"), timer = node("/timer");
	u32 flags = LEVEL_HIGH;

	/* GICv2 PPIs carry the mask of the CPUs they go to. */
	if (!strncmp(mc->irqchip, "gicv2", 5))
		flags |= ((1u << mc->nr_cpus) - 1) << 8;
	ok(compat(psci, "arm,psci-0.2") && compat(psci, "arm,psci") &&
	   !strcmp(str(psci, "method") ?: "", "hvc"),
	   "%s: psci 0.2 (and the old compatible) through hvc", m);
	ok(compat(timer, "arm,armv8-timer") && ncells(timer, "interrupts") == 12 &&
	   irq_is(timer, 0, GIC_PPI, 13, flags) &&
	   irq_is(timer, 1, GIC_PPI, 14, flags) &&
	   irq_is(timer, 2, GIC_PPI, 11, flags) &&
	   irq_is(timer, 3, GIC_PPI, 10, flags),
	   "%s: timer PPIs 13 14 11 10 (sec, phys, virt, hyp), flags %#x", m,
	   flags);
	if (mc->pmu)
		ok(compat(node("/pmu"), "arm,armv8-pmuv3") &&
		   irq_is(node("/pmu"), 0, GIC_PPI, ARM_PPI_PMU, flags),
		   "%s: pmu node on PPI %d", m, ARM_PPI_PMU);
	else
		ok(fdt_path_offset(dtb, "/pmu") < 0,
		   "%s: no pmu node without --pmu", m);
}

static void check_gic(const char *m, const struct machine *mc)
{
	char path[48];
	int gic, msi;
	bool v3 = !strncmp(mc->irqchip, "gicv3", 5);
	bool its = !strcmp(mc->irqchip, "gicv3-its");
	bool v2m = !strcmp(mc->irqchip, "gicv2m");

	snprintf(path, sizeof(path), "/intc@%llx",
		 (unsigned long long)ARM_GIC_DIST_BASE);
	gic = node(path);
	if (v3)
		ok(compat(gic, "arm,gic-v3") && ncells(gic, "reg") == 8 &&
		   cell2(gic, "reg", 0) == ARM_GIC_DIST_BASE &&
		   cell2(gic, "reg", 2) == ARM_GIC_DIST_SIZE &&
		   cell2(gic, "reg", 4) == ARM_GIC_REDIST_BASE &&
		   cell2(gic, "reg", 6) == mc->nr_cpus * ARM_GIC_REDIST_STRIDE,
		   "%s: arm,gic-v3: GICD, then GICR of 128K per vCPU", m);
	else
		ok(compat(gic, "arm,cortex-a15-gic") && ncells(gic, "reg") == 8 &&
		   cell2(gic, "reg", 0) == ARM_GIC_DIST_BASE &&
		   cell2(gic, "reg", 4) == ARM_GIC_CPUI_BASE &&
		   cell2(gic, "reg", 6) == ARM_GIC_CPUI_SIZE,
		   "%s: arm,cortex-a15-gic: distributor, then CPU interface", m);
	ok(fdt_node_offset_by_phandle(dtb, cell(gic, "phandle", 0)) == gic,
	   "%s: the GIC's phandle is its own", m);

	snprintf(path, sizeof(path), "msi-controller@%llx",
		 (unsigned long long)ARM_GIC_ITS_BASE);
	msi = fdt_subnode_offset(dtb, gic, path);
	if (its)
		ok(compat(msi, "arm,gic-v3-its") && has(msi, "msi-controller") &&
		   cell(msi, "#msi-cells", 0) == 1 &&
		   cell2(msi, "reg", 0) == ARM_GIC_ITS_BASE,
		   "%s: ITS child: arm,gic-v3-its, msi-controller, 1 msi cell", m);
	else
		ok(msi < 0, "%s: no ITS node", m);
	ok((count_nodes("v2m@") == 1) == v2m,
	   "%s: a v2m frame node iff gicv2m", m);
	if (v2m) {
		snprintf(path, sizeof(path), "v2m@%llx",
			 (unsigned long long)ARM_GIC_V2M_BASE);
		msi = fdt_subnode_offset(dtb, gic, path);
		ok(compat(msi, "arm,gic-v2m-frame") && has(msi, "msi-controller") &&
		   cell2(msi, "reg", 0) == ARM_GIC_V2M_BASE,
		   "%s: v2m frame: arm,gic-v2m-frame, msi-controller", m);
	}
}

static void check_uart_virtio(const char *m, const struct machine *mc)
{
	char path[48];
	int uart, v;
	bool all = true;

	snprintf(path, sizeof(path), "/uart@%llx",
		 (unsigned long long)ARM_UART_BASE);
	uart = node(path);
	ok(compat(uart, "ns16550a") && cell2(uart, "reg", 2) == ARM_UART_SIZE &&
	   irq_is(uart, 0, GIC_SPI, ARM_UART_SPI, LEVEL_HIGH) &&
	   cell(uart, "clock-frequency", 0) == ARM_UART_CLOCK,
	   "%s: ns16550a UART, SPI %d level, its clock", m, ARM_UART_SPI);

	is_int(count_nodes("virtio_mmio@"), mc->nr_virtio,
	       "a virtio_mmio node per device");
	for (unsigned int i = 0; i < mc->nr_virtio; i++) {
		u64 base = ARM_VIRTIO_MMIO_BASE + i * ARM_VIRTIO_MMIO_SLOT;

		snprintf(path, sizeof(path), "/virtio_mmio@%llx",
			 (unsigned long long)base);
		v = node(path);
		all &= compat(v, "virtio,mmio") &&
		       cell2(v, "reg", 2) == ARM_VIRTIO_MMIO_SLOT &&
		       irq_is(v, 0, GIC_SPI, ARM_VIRTIO_MMIO_SPI + i,
			      LEVEL_HIGH) &&
		       has(v, "dma-coherent");
	}
	if (mc->nr_virtio)
		ok(all, "%s: virtio,mmio nodes: slot base and size, SPI %d + n, dma-coherent",
		   m, ARM_VIRTIO_MMIO_SPI);
}

/* The PL061 and its power key: always there, as on QEMU's virt. */
static void check_gpio(const char *m)
{
	struct kvm_irq_routing_entry routes[64];
	char path[32];
	int gpio, clk, keys = node("/gpio-keys"), key = node("/gpio-keys/poweroff");
	u32 first_free, n;
	bool routed = false;

	snprintf(path, sizeof(path), "/gpio@%llx",
		 (unsigned long long)ARM_PL061_BASE);
	gpio = node(path);
	ok(compat(gpio, "arm,pl061") && compat(gpio, "arm,primecell") &&
	   cell2(gpio, "reg", 0) == ARM_PL061_BASE &&
	   cell2(gpio, "reg", 2) == PL061_SIZE &&
	   irq_is(gpio, 0, GIC_SPI, ARM_PL061_SPI, LEVEL_HIGH) &&
	   has(gpio, "gpio-controller") && cell(gpio, "#gpio-cells", 0) == 2,
	   "%s: %s: arm,pl061 + arm,primecell, 4K, SPI %d level, gpio-controller, 2 gpio cells",
	   m, path, ARM_PL061_SPI);
	clk = fdt_node_offset_by_phandle(dtb, cell(gpio, "clocks", 0));
	ok(ncells(gpio, "clocks") == 1 &&
	   !strcmp(str(gpio, "clock-names") ?: "", "apb_pclk") &&
	   compat(clk, "fixed-clock") && cell(clk, "#clock-cells", 0) == 0 &&
	   cell(clk, "clock-frequency", 0) == ARM_APB_CLOCK,
	   "%s: its apb_pclk is a fixed-clock of %d Hz", m, ARM_APB_CLOCK);
	ok(compat(keys, "gpio-keys") && cell(key, "linux,code", 0) == 116 &&
	   ncells(key, "gpios") == 3 &&
	   fdt_node_offset_by_phandle(dtb, cell(key, "gpios", 0)) == gpio &&
	   cell(key, "gpios", 1) == ARM_PL061_POWER_LINE &&
	   cell(key, "gpios", 2) == 0 && str(key, "label"),
	   "%s: gpio-keys/poweroff: KEY_POWER (116) on the PL061's line %d, active high",
	   m, ARM_PL061_POWER_LINE);
	n = arch__irq_default_routes(routes, ARRAY_SIZE(routes), &first_free);
	for (u32 i = 0; i < n; i++)
		routed |= routes[i].gsi == ARM_PL061_SPI &&
			  routes[i].u.irqchip.pin == ARM_PL061_SPI;
	ok(routed && ARM_PL061_SPI != ARM_UART_SPI &&
	   (ARM_PL061_SPI < ARM_PCI_INTX_SPI ||
	    ARM_PL061_SPI >= ARM_PCI_INTX_SPI + ARM_PCI_INTX_SPIS) &&
	   ARM_PL061_SPI < ARM_VIRTIO_MMIO_SPI,
	   "%s: the PL061's SPI is its own and has a default GSI route", m);
}

static void check_pci(const char *m, const struct machine *mc)
{
	char path[32];
	int pci, gic, its;
	bool map_ok = true;
	int entry;

	snprintf(path, sizeof(path), "/pci@%llx",
		 (unsigned long long)ARM_PCI_ECAM_BASE);
	pci = node(path);
	ok(compat(pci, "pci-host-ecam-generic") &&
	   !strcmp(str(pci, "device_type") ?: "", "pci") &&
	   cell(pci, "#address-cells", 0) == 3 &&
	   cell(pci, "#size-cells", 0) == 2 &&
	   cell(pci, "#interrupt-cells", 0) == 1 &&
	   cell(pci, "bus-range", 0) == 0 && cell(pci, "bus-range", 1) == 0 &&
	   cell2(pci, "reg", 0) == ARM_PCI_ECAM_BASE &&
	   cell2(pci, "reg", 2) == ARM_PCI_ECAM_SIZE,
	   "%s: pci-host-ecam-generic, bus 0, ECAM window", m);
	/* ranges: (flags, pci addr 2, cpu addr 2, size 2) per window. */
	ok(ncells(pci, "ranges") == 14 &&
	   cell(pci, "ranges", 0) == 0x01000000 &&
	   cell2(pci, "ranges", 1) == ARM_PCI_IO_BUS_BASE &&
	   cell2(pci, "ranges", 3) == ARM_PCI_IO_CPU_BASE &&
	   cell2(pci, "ranges", 5) == ARM_PCI_IO_SIZE &&
	   cell(pci, "ranges", 7) == 0x02000000 &&
	   cell2(pci, "ranges", 8) == ARM_PCI_MMIO_BASE &&
	   cell2(pci, "ranges", 10) == ARM_PCI_MMIO_BASE &&
	   cell2(pci, "ranges", 12) == ARM_PCI_MMIO_SIZE,
	   "%s: ranges: the I/O window, then 32-bit memory 1:1", m);

	/* interrupt-map: 3 + 1 + phandle + parent's address and irq cells. */
	gic = fdt_node_offset_by_phandle(dtb, cell(pci, "interrupt-map", 4));
	entry = 3 + 1 + 1 + fdt_address_cells(dtb, gic) +
		(int)cell(gic, "#interrupt-cells", 0);
	ok(gic >= 0 && ncells(pci, "interrupt-map") == PCI_MAX_DEVICES * entry,
	   "%s: interrupt-map: %d entries of %d cells, to the GIC", m,
	   PCI_MAX_DEVICES, entry);
	for (int dev = 0; gic >= 0 && dev < PCI_MAX_DEVICES; dev++) {
		int b = dev * entry, s = b + 5 + fdt_address_cells(dtb, gic);

		map_ok &= cell(pci, "interrupt-map", b) == (u32)dev << 11 &&
			  cell(pci, "interrupt-map", b + 3) == 1 &&
			  cell(pci, "interrupt-map", s) == GIC_SPI &&
			  cell(pci, "interrupt-map", s + 1) ==
				  arch__pci_intx_line((unsigned int)dev) &&
			  cell(pci, "interrupt-map", s + 2) == LEVEL_HIGH;
	}
	ok(map_ok, "%s: slot n's INTA is SPI arch__pci_intx_line(n), level", m);
	ok(cell(pci, "interrupt-map-mask", 0) == 0xf800 &&
	   cell(pci, "interrupt-map-mask", 3) == 7,
	   "%s: interrupt-map-mask: device number and pin", m);

	if (!strcmp(mc->irqchip, "gicv3-its")) {
		its = fdt_node_offset_by_phandle(dtb, cell(pci, "msi-map", 1));
		ok(compat(its, "arm,gic-v3-its") && cell(pci, "msi-map", 0) == 0 &&
		   cell(pci, "msi-map", 2) == 0 &&
		   cell(pci, "msi-map", 3) == 0x10000,
		   "%s: msi-map: every requester ID 1:1 to the ITS", m);
	} else if (!strcmp(mc->irqchip, "gicv2m")) {
		its = fdt_node_offset_by_phandle(dtb, cell(pci, "msi-parent", 0));
		ok(compat(its, "arm,gic-v2m-frame"),
		   "%s: msi-parent is the v2m frame", m);
	} else {
		ok(!has(pci, "msi-map") && !has(pci, "msi-parent"),
		   "%s: no MSI controller named without ITS or v2m", m);
	}
}

static void check_chosen(const char *m, const struct machine *mc)
{
	int chosen = node("/chosen");

	if (mc->initrd_size) {
		ok(ncells(chosen, "linux,initrd-start") == 2 &&
		   cell2(chosen, "linux,initrd-start", 0) == mc->initrd_start &&
		   cell2(chosen, "linux,initrd-end", 0) ==
			   mc->initrd_start + mc->initrd_size,
		   "%s: linux,initrd-start/end: the initrd, end exclusive", m);
	} else {
		ok(!has(chosen, "linux,initrd-start") &&
		   !has(chosen, "linux,initrd-end"), "%s: no initrd properties", m);
	}
	if (mc->nodefaults)
		ok(!has(chosen, "kaslr-seed") && !has(chosen, "rng-seed"),
		   "%s: --nodefaults: no kaslr-seed, no rng-seed", m);
	else
		ok(ncells(chosen, "kaslr-seed") == 2 &&
		   ncells(chosen, "rng-seed") == 8,
		   "%s: kaslr-seed (64-bit) and rng-seed (32 bytes)", m);
}

static const struct machine machines[] = {
	{
		.name = "1 vCPU gicv3-its", .irqchip = "gicv3-its",
		.nr_cpus = 1, .ram = 256ULL << 20, .params = "quiet",
	}, {
		.name = "4 vCPUs gicv2", .irqchip = "gicv2", .nr_cpus = 4,
		.ram = 1ULL << 30, .nr_virtio = 3, .pmu = true,
		.initrd_start = 0x88000000, .initrd_size = 0x123456,
		.virtio_console = true,
	}, {
		.name = "20 vCPUs gicv3 16G", .irqchip = "gicv3", .nr_cpus = 20,
		.ram = 16ULL << 30, .nr_virtio = ARM_VIRTIO_MMIO_SLOTS,
		.nodefaults = true, .params = "root=/dev/vdb",
	}, {
		.name = "2 vCPUs gicv2m firmware", .irqchip = "gicv2m",
		.nr_cpus = 2, .ram = 64ULL << 20, .firmware = "fw.bin",
		.params = "x=1",
	},
};

static void test_bootargs(void)
{
	build(&machines[0]);
	is_str(bootargs, "console=ttyS0 earlycon quiet",
	       "bootargs: the UART console words, then -p");
	build(&machines[1]);
	is_str(bootargs, "console=hvc0 root=/dev/vda rw",
	       "bootargs: --console virtio says hvc0; an initrd adds root=");
	build(&machines[2]);
	is_str(bootargs, "root=/dev/vdb", "bootargs: --nodefaults keeps -p alone");
	build(&machines[3]);
	is_str(bootargs, "x=1", "bootargs: a --firmware payload gets -p alone");
}

int main(void)
{
	int saved, null, ret;

	tap_plan(148);

	for (size_t i = 0; i < ARRAY_SIZE(machines); i++) {
		const struct machine *m = &machines[i];

		if (!is_int(build(m), 0, m->name)) {
			diag("  %s: no device tree, its checks are skipped", m->name);
			continue;
		}
		check_root(m->name);
		check_generic(m->name);
		check_memory_cpus(m->name, m);
		check_psci_timer(m->name, m);
		check_gic(m->name, m);
		check_uart_virtio(m->name, m);
		check_pci(m->name, m);
		check_gpio(m->name);
		check_chosen(m->name, m);
	}
	test_bootargs();

	/* A buffer too small: an error, not a truncated tree. */
	build(&machines[0]);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	null = open("/dev/null", O_WRONLY);
	dup2(null, STDERR_FILENO);	/* its error message is expected */
	ret = fdt__build(&kvm, dtb, 256, bootargs);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(null);
	is_int(ret, -EINVAL, "a too small buffer: -EINVAL");
	free(bootargs);
	return tap_done();
}
