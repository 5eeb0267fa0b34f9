// SPDX-License-Identifier: GPL-2.0
/*
 * The device tree: the only description of the machine the guest gets.
 * Built with libfdt's sequential-write API once all devices exist (from
 * arch__load_kernel), so it lists exactly what the VM has.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <libfdt.h>

#include "lkvm/hw.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/pci.h"

#define PHANDLE_GIC	1
#define PHANDLE_MSI	2
#define PHANDLE_APB_CLK	3
#define PHANDLE_GPIO	4

#define KEY_POWER	116	/* linux/input-event-codes.h */

/* The GIC binding's first cell and trigger types. */
#define GIC_SPI			0
#define GIC_PPI			1
#define IRQ_TYPE_EDGE_RISING	1
#define IRQ_TYPE_LEVEL_HIGH	4

#define FDT_TRY(x) do { int __e = (x); if (__e) return __e; } while (0)

static int fdt_reg(void *fdt, u64 base, u64 size)
{
	fdt64_t reg[2] = { cpu_to_fdt64(base), cpu_to_fdt64(size) };

	return fdt_property(fdt, "reg", reg, sizeof(reg));
}

static int fdt_irq(void *fdt, u32 type, u32 num, u32 flags)
{
	fdt32_t irq[3] = {
		cpu_to_fdt32(type), cpu_to_fdt32(num), cpu_to_fdt32(flags),
	};

	return fdt_property(fdt, "interrupts", irq, sizeof(irq));
}

/* GICv2 PPIs name the CPUs they go to; GICv3 ignores the mask. */
static u32 ppi_flags(const struct kvm *kvm, u32 type)
{
	unsigned int n = kvm->cfg->nr_cpus;

	if (kvm->arch.irqchip == ARM_IRQCHIP_GICV3 ||
	    kvm->arch.irqchip == ARM_IRQCHIP_GICV3_ITS || n > 8)
		return type;
	return type | (((1u << n) - 1) << 8);
}

/*
 * /chosen/bootargs, kvmtool's way (kvm/cmdline.c): the console words and
 * the root disk, then -p.  A --firmware payload is not Linux: like
 * kvmtool, it gets -p alone.  malloc'ed; NULL when out of memory.
 */
char *fdt__bootargs(struct kvm *kvm)
{
	const struct lkvm_config *cfg = kvm->cfg;
	const char *defaults = "console=ttyS0 earlycon";

	if (cfg->firmware)
		defaults = NULL;
	else if (cfg->console == CONSOLE_VIRTIO)
		defaults = "console=hvc0";
	return cmdline__build(cfg, defaults, NULL);
}

static int fdt__chosen(struct kvm *kvm, void *fdt, const char *cmdline)
{
	char path[32];

	FDT_TRY(fdt_begin_node(fdt, "chosen"));
	FDT_TRY(fdt_property_string(fdt, "bootargs", cmdline));
	snprintf(path, sizeof(path), "/uart@%llx",
		 (unsigned long long)ARM_UART_BASE);
	FDT_TRY(fdt_property_string(fdt, "stdout-path", path));
	if (kvm->arch.initrd_size) {
		FDT_TRY(fdt_property_u64(fdt, "linux,initrd-start",
					 kvm->arch.initrd_start));
		FDT_TRY(fdt_property_u64(fdt, "linux,initrd-end",
					 kvm->arch.initrd_start +
					 kvm->arch.initrd_size));
	}
	if (!kvm->cfg->nodefaults) {
		u64 seed;
		u8 rng[32];

		/* Randomness the guest would otherwise lack this early. */
		if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) ==
		    sizeof(seed))
			FDT_TRY(fdt_property_u64(fdt, "kaslr-seed", seed));
		if (getrandom(rng, sizeof(rng), GRND_NONBLOCK) == sizeof(rng))
			FDT_TRY(fdt_property(fdt, "rng-seed", rng,
					     sizeof(rng)));
	}
	FDT_TRY(fdt_end_node(fdt));

	FDT_TRY(fdt_begin_node(fdt, "aliases"));
	FDT_TRY(fdt_property_string(fdt, "serial0", path));
	return fdt_end_node(fdt);
}

static int fdt__cpus(struct kvm *kvm, void *fdt)
{
	char name[32];

	FDT_TRY(fdt_begin_node(fdt, "cpus"));
	FDT_TRY(fdt_property_u32(fdt, "#address-cells", 1));
	FDT_TRY(fdt_property_u32(fdt, "#size-cells", 0));
	for (unsigned int i = 0; i < kvm->cfg->nr_cpus; i++) {
		u64 mpidr = arm_vcpu_mpidr(i);

		snprintf(name, sizeof(name), "cpu@%llx",
			 (unsigned long long)mpidr);
		FDT_TRY(fdt_begin_node(fdt, name));
		FDT_TRY(fdt_property_string(fdt, "device_type", "cpu"));
		FDT_TRY(fdt_property_string(fdt, "compatible", "arm,arm-v8"));
		FDT_TRY(fdt_property_string(fdt, "enable-method", "psci"));
		FDT_TRY(fdt_property_u32(fdt, "reg", (u32)mpidr));
		FDT_TRY(fdt_end_node(fdt));
	}
	return fdt_end_node(fdt);
}

static int fdt__psci_timer_pmu(struct kvm *kvm, void *fdt)
{
	static const char psci_compat[] = "arm,psci-0.2\0arm,psci";
	static const u32 timer_ppis[] = {
		ARM_PPI_TIMER_SEC, ARM_PPI_TIMER_PHYS, ARM_PPI_TIMER_VIRT,
		ARM_PPI_TIMER_HYP,
	};
	fdt32_t irqs[3 * ARRAY_SIZE(timer_ppis)];
	u32 flags = ppi_flags(kvm, IRQ_TYPE_LEVEL_HIGH);

	FDT_TRY(fdt_begin_node(fdt, "psci"));
	FDT_TRY(fdt_property(fdt, "compatible", psci_compat,
			     sizeof(psci_compat)));
	FDT_TRY(fdt_property_string(fdt, "method", "hvc"));
	FDT_TRY(fdt_end_node(fdt));

	for (size_t i = 0; i < ARRAY_SIZE(timer_ppis); i++) {
		irqs[3 * i] = cpu_to_fdt32(GIC_PPI);
		irqs[3 * i + 1] = cpu_to_fdt32(timer_ppis[i]);
		irqs[3 * i + 2] = cpu_to_fdt32(flags);
	}
	FDT_TRY(fdt_begin_node(fdt, "timer"));
	FDT_TRY(fdt_property_string(fdt, "compatible", "arm,armv8-timer"));
	FDT_TRY(fdt_property(fdt, "interrupts", irqs, sizeof(irqs)));
	FDT_TRY(fdt_property(fdt, "always-on", NULL, 0));
	FDT_TRY(fdt_end_node(fdt));

	if (!kvm->arch.pmu)
		return 0;
	FDT_TRY(fdt_begin_node(fdt, "pmu"));
	FDT_TRY(fdt_property_string(fdt, "compatible", "arm,armv8-pmuv3"));
	FDT_TRY(fdt_irq(fdt, GIC_PPI, ARM_PPI_PMU, flags));
	return fdt_end_node(fdt);
}

static int fdt__uart(void *fdt)
{
	char name[32];

	snprintf(name, sizeof(name), "uart@%llx",
		 (unsigned long long)ARM_UART_BASE);
	FDT_TRY(fdt_begin_node(fdt, name));
	FDT_TRY(fdt_property_string(fdt, "compatible", "ns16550a"));
	FDT_TRY(fdt_reg(fdt, ARM_UART_BASE, ARM_UART_SIZE));
	FDT_TRY(fdt_irq(fdt, GIC_SPI, ARM_UART_SPI, IRQ_TYPE_LEVEL_HIGH));
	FDT_TRY(fdt_property_u32(fdt, "clock-frequency", ARM_UART_CLOCK));
	FDT_TRY(fdt_property_u32(fdt, "reg-shift", 0));
	FDT_TRY(fdt_property_u32(fdt, "reg-io-width", 1));
	return fdt_end_node(fdt);
}

/*
 * The PL061 and its power key, as QEMU's virt describes them: the PrimeCell
 * binding wants the APB clock (Linux's AMBA bus reads the ID registers
 * only with it), here a fixed clock; gpio-keys names line 3, active high.
 */
static int fdt__gpio(void *fdt)
{
	static const char compat[] = "arm,pl061\0arm,primecell";
	const fdt32_t gpios[] = {
		cpu_to_fdt32(PHANDLE_GPIO), cpu_to_fdt32(ARM_PL061_POWER_LINE),
		cpu_to_fdt32(0),
	};
	char name[32];

	FDT_TRY(fdt_begin_node(fdt, "apb-pclk"));
	FDT_TRY(fdt_property_string(fdt, "compatible", "fixed-clock"));
	FDT_TRY(fdt_property_u32(fdt, "#clock-cells", 0));
	FDT_TRY(fdt_property_u32(fdt, "clock-frequency", ARM_APB_CLOCK));
	FDT_TRY(fdt_property_string(fdt, "clock-output-names", "clk24mhz"));
	FDT_TRY(fdt_property_u32(fdt, "phandle", PHANDLE_APB_CLK));
	FDT_TRY(fdt_end_node(fdt));

	snprintf(name, sizeof(name), "gpio@%llx",
		 (unsigned long long)ARM_PL061_BASE);
	FDT_TRY(fdt_begin_node(fdt, name));
	FDT_TRY(fdt_property(fdt, "compatible", compat, sizeof(compat)));
	FDT_TRY(fdt_reg(fdt, ARM_PL061_BASE, PL061_SIZE));
	FDT_TRY(fdt_irq(fdt, GIC_SPI, ARM_PL061_SPI, IRQ_TYPE_LEVEL_HIGH));
	FDT_TRY(fdt_property(fdt, "gpio-controller", NULL, 0));
	FDT_TRY(fdt_property_u32(fdt, "#gpio-cells", 2));
	FDT_TRY(fdt_property_u32(fdt, "clocks", PHANDLE_APB_CLK));
	FDT_TRY(fdt_property_string(fdt, "clock-names", "apb_pclk"));
	FDT_TRY(fdt_property_u32(fdt, "phandle", PHANDLE_GPIO));
	FDT_TRY(fdt_end_node(fdt));

	FDT_TRY(fdt_begin_node(fdt, "gpio-keys"));
	FDT_TRY(fdt_property_string(fdt, "compatible", "gpio-keys"));
	FDT_TRY(fdt_begin_node(fdt, "poweroff"));
	FDT_TRY(fdt_property_string(fdt, "label", "GPIO Key Poweroff"));
	FDT_TRY(fdt_property_u32(fdt, "linux,code", KEY_POWER));
	FDT_TRY(fdt_property(fdt, "gpios", gpios, sizeof(gpios)));
	FDT_TRY(fdt_end_node(fdt));
	return fdt_end_node(fdt);
}

static int fdt__pci(struct kvm *kvm, void *fdt)
{
	/*
	 * The I/O window (PCI 0x10000 at CPU 0x3eff0000), and one 32-bit
	 * non-prefetchable memory window with PCI == CPU address.
	 */
	const fdt32_t ranges[] = {
		cpu_to_fdt32(0x01000000), cpu_to_fdt32(0),
		cpu_to_fdt32((u32)ARM_PCI_IO_BUS_BASE),
		cpu_to_fdt32(0), cpu_to_fdt32((u32)ARM_PCI_IO_CPU_BASE),
		cpu_to_fdt32(0), cpu_to_fdt32((u32)ARM_PCI_IO_SIZE),
		cpu_to_fdt32(0x02000000), cpu_to_fdt32(0),
		cpu_to_fdt32((u32)ARM_PCI_MMIO_BASE),
		cpu_to_fdt32(0), cpu_to_fdt32((u32)ARM_PCI_MMIO_BASE),
		cpu_to_fdt32(0), cpu_to_fdt32((u32)ARM_PCI_MMIO_SIZE),
	};
	const fdt32_t bus_range[] = { cpu_to_fdt32(0), cpu_to_fdt32(0) };
	const fdt32_t map_mask[] = {
		cpu_to_fdt32(0xf800), 0, 0, cpu_to_fdt32(7),
	};
	/* Per slot: child addr (3), pin, parent, parent addr (2), irq (3). */
	fdt32_t map[PCI_MAX_DEVICES][10];
	char name[32];

	snprintf(name, sizeof(name), "pci@%llx",
		 (unsigned long long)ARM_PCI_ECAM_BASE);
	FDT_TRY(fdt_begin_node(fdt, name));
	FDT_TRY(fdt_property_string(fdt, "compatible",
				    "pci-host-ecam-generic"));
	FDT_TRY(fdt_property_string(fdt, "device_type", "pci"));
	FDT_TRY(fdt_property_u32(fdt, "#address-cells", 3));
	FDT_TRY(fdt_property_u32(fdt, "#size-cells", 2));
	FDT_TRY(fdt_property_u32(fdt, "#interrupt-cells", 1));
	FDT_TRY(fdt_property(fdt, "bus-range", bus_range, sizeof(bus_range)));
	FDT_TRY(fdt_reg(fdt, ARM_PCI_ECAM_BASE, ARM_PCI_ECAM_SIZE));
	FDT_TRY(fdt_property(fdt, "ranges", ranges, sizeof(ranges)));
	FDT_TRY(fdt_property(fdt, "dma-coherent", NULL, 0));
	if (kvm->arch.irqchip == ARM_IRQCHIP_GICV3_ITS) {
		/* The ITS device ID is the requester ID, 1:1. */
		fdt32_t msi_map[] = {
			0, cpu_to_fdt32(PHANDLE_MSI), 0,
			cpu_to_fdt32(0x10000),
		};

		FDT_TRY(fdt_property(fdt, "msi-map", msi_map,
				     sizeof(msi_map)));
	} else if (kvm->arch.irqchip == ARM_IRQCHIP_GICV2M) {
		FDT_TRY(fdt_property_u32(fdt, "msi-parent", PHANDLE_MSI));
	}
	for (unsigned int dev = 0; dev < PCI_MAX_DEVICES; dev++) {
		fdt32_t *m = map[dev];

		m[0] = cpu_to_fdt32(dev << 11);
		m[1] = m[2] = 0;
		m[3] = cpu_to_fdt32(1);		/* INTA */
		m[4] = cpu_to_fdt32(PHANDLE_GIC);
		m[5] = m[6] = 0;
		m[7] = cpu_to_fdt32(GIC_SPI);
		m[8] = cpu_to_fdt32(arch__pci_intx_line(dev));
		m[9] = cpu_to_fdt32(IRQ_TYPE_LEVEL_HIGH);
	}
	FDT_TRY(fdt_property(fdt, "interrupt-map", map, sizeof(map)));
	FDT_TRY(fdt_property(fdt, "interrupt-map-mask", map_mask,
			     sizeof(map_mask)));
	return fdt_end_node(fdt);
}

static int fdt__virtio(struct kvm *kvm, void *fdt)
{
	char name[40];

	for (unsigned int i = 0; i < kvm->arch.nr_virtio_announced; i++) {
		const struct arm_virtio_slot *s = &kvm->arch.virtio[i];

		snprintf(name, sizeof(name), "virtio_mmio@%llx",
			 (unsigned long long)s->base);
		FDT_TRY(fdt_begin_node(fdt, name));
		FDT_TRY(fdt_property_string(fdt, "compatible", "virtio,mmio"));
		FDT_TRY(fdt_reg(fdt, s->base, s->size));
		FDT_TRY(fdt_irq(fdt, GIC_SPI, s->spi, IRQ_TYPE_LEVEL_HIGH));
		FDT_TRY(fdt_property(fdt, "dma-coherent", NULL, 0));
		FDT_TRY(fdt_end_node(fdt));
	}
	return 0;
}

static int fdt__tree(struct kvm *kvm, void *fdt, const char *cmdline)
{
	char name[32];

	FDT_TRY(fdt_finish_reservemap(fdt));
	FDT_TRY(fdt_begin_node(fdt, ""));
	FDT_TRY(fdt_property_string(fdt, "compatible", "linux,dummy-virt"));
	FDT_TRY(fdt_property_string(fdt, "model", "lkvm arm64"));
	FDT_TRY(fdt_property_u32(fdt, "#address-cells", 2));
	FDT_TRY(fdt_property_u32(fdt, "#size-cells", 2));
	FDT_TRY(fdt_property_u32(fdt, "interrupt-parent", PHANDLE_GIC));

	FDT_TRY(fdt__chosen(kvm, fdt, cmdline));
	snprintf(name, sizeof(name), "memory@%llx",
		 (unsigned long long)ARM_RAM_BASE);
	FDT_TRY(fdt_begin_node(fdt, name));
	FDT_TRY(fdt_property_string(fdt, "device_type", "memory"));
	FDT_TRY(fdt_reg(fdt, ARM_RAM_BASE, kvm->ram_size));
	FDT_TRY(fdt_end_node(fdt));

	FDT_TRY(fdt__cpus(kvm, fdt));
	FDT_TRY(fdt__psci_timer_pmu(kvm, fdt));
	FDT_TRY(gic__generate_fdt(kvm, fdt, PHANDLE_GIC, PHANDLE_MSI));
	FDT_TRY(fdt__uart(fdt));
	FDT_TRY(fdt__gpio(fdt));
	FDT_TRY(fdt__pci(kvm, fdt));
	FDT_TRY(fdt__virtio(kvm, fdt));

	FDT_TRY(fdt_end_node(fdt));
	return fdt_finish(fdt);
}

int fdt__build(struct kvm *kvm, void *buf, u32 size, const char *cmdline)
{
	int ret = fdt_create(buf, (int)size);

	if (!ret)
		ret = fdt__tree(kvm, buf, cmdline);
	if (!ret)
		ret = fdt_pack(buf);
	if (ret) {
		pr_err("cannot build the device tree: %s", fdt_strerror(ret));
		return -EINVAL;
	}
	return 0;
}
