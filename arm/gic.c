// SPDX-License-Identifier: GPL-2.0
/*
 * The interrupt controller: an in-kernel vGIC created through the KVM
 * device API (v2 or v3, optionally with an ITS), plus a user-space GICv2m
 * MSI frame for --irqchip=gicv2m.  Creation happens before any vCPU
 * exists (gic__create); the vGIC can only be initialised once they all
 * do (gic__init, from arch__post_vcpu_init).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <libfdt.h>

#include "lkvm/kvm.h"
#include "lkvm/log.h"

/* GICv2m frame registers. */
#define V2M_MSI_TYPER		0x008
#define V2M_MSI_SETSPI_NS	0x040
#define V2M_MSI_IIDR		0xfcc

static const struct {
	const char *name;
	enum arm_irqchip type;
} gic_names[] = {
	{ "auto", ARM_IRQCHIP_AUTO },
	{ "gicv2", ARM_IRQCHIP_GICV2 },
	{ "gicv2m", ARM_IRQCHIP_GICV2M },
	{ "gicv3", ARM_IRQCHIP_GICV3 },
	{ "gicv3-its", ARM_IRQCHIP_GICV3_ITS },
};

int gic__parse(const char *s, enum arm_irqchip *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(gic_names); i++) {
		if (!strcmp(s, gic_names[i].name)) {
			*out = gic_names[i].type;
			return 0;
		}
	}
	return -EINVAL;
}

const char *gic__name(enum arm_irqchip type)
{
	for (size_t i = 0; i < ARRAY_SIZE(gic_names); i++)
		if (gic_names[i].type == type)
			return gic_names[i].name;
	return "?";
}

static bool gic__is_v3(enum arm_irqchip type)
{
	return type == ARM_IRQCHIP_GICV3 || type == ARM_IRQCHIP_GICV3_ITS;
}

bool gic__has_msi(const struct kvm *kvm)
{
	return kvm->arch.irqchip == ARM_IRQCHIP_GICV3_ITS ||
	       kvm->arch.irqchip == ARM_IRQCHIP_GICV2M;
}

static int gic__set_attr(int fd, u32 group, u64 attr, const void *val,
			 const char *what)
{
	struct kvm_device_attr a = {
		.group = group,
		.attr = attr,
		.addr = (u64)(uintptr_t)val,
	};

	if (ioctl(fd, KVM_SET_DEVICE_ATTR, &a)) {
		int err = errno;

		pr_err("vGIC: cannot set %s: %s", what, strerror(err));
		return -err;
	}
	return 0;
}

/* Returns the device fd, or -errno (quietly: auto probes with it). */
static int gic__create_device(struct kvm *kvm, u32 type)
{
	struct kvm_create_device cd = { .type = type };

	if (ioctl(kvm->vm_fd, KVM_CREATE_DEVICE, &cd))
		return -errno;
	return (int)cd.fd;
}

static int gic__create_its(struct kvm *kvm)
{
	u64 addr = ARM_GIC_ITS_BASE;
	int fd = gic__create_device(kvm, KVM_DEV_TYPE_ARM_VGIC_ITS);

	if (fd < 0)
		return fd;
	kvm->arch.its_fd = fd;
	return gic__set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
			     KVM_VGIC_ITS_ADDR_TYPE, &addr, "the ITS address");
}

static int gic__create_type(struct kvm *kvm, enum arm_irqchip type)
{
	u64 dist = ARM_GIC_DIST_BASE, cpui = ARM_GIC_CPUI_BASE;
	u64 redist = ARM_GIC_REDIST_BASE;
	int fd, ret;

	fd = gic__create_device(kvm, gic__is_v3(type) ?
				KVM_DEV_TYPE_ARM_VGIC_V3 :
				KVM_DEV_TYPE_ARM_VGIC_V2);
	if (fd < 0)
		return fd;
	kvm->arch.gic_fd = fd;
	if (gic__is_v3(type)) {
		ret = gic__set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
				    KVM_VGIC_V3_ADDR_TYPE_DIST, &dist,
				    "the distributor address");
		if (!ret)
			ret = gic__set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
					    KVM_VGIC_V3_ADDR_TYPE_REDIST,
					    &redist,
					    "the redistributor address");
	} else {
		ret = gic__set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
				    KVM_VGIC_V2_ADDR_TYPE_DIST, &dist,
				    "the distributor address");
		if (!ret)
			ret = gic__set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
					    KVM_VGIC_V2_ADDR_TYPE_CPU, &cpui,
					    "the CPU interface address");
	}
	if (!ret && type == ARM_IRQCHIP_GICV3_ITS)
		ret = gic__create_its(kvm);
	return ret;
}

static void gic__close(struct kvm *kvm)
{
	if (kvm->arch.its_fd >= 0)
		close(kvm->arch.its_fd);
	if (kvm->arch.gic_fd >= 0)
		close(kvm->arch.gic_fd);
	kvm->arch.its_fd = kvm->arch.gic_fd = -1;
}

/*
 * A GICv2m MSI is a write of an INTID to the frame's SETSPI_NS doorbell:
 * returns the SPI it raises (numbered from 0, as kvm__set_irq_line
 * takes it), or -EINVAL for any other address and for INTIDs outside
 * the frame's range, which never trusts the guest's data.
 */
int gic__v2m_msi_spi(u64 addr, u32 data)
{
	if (addr != ARM_GIC_V2M_BASE + V2M_MSI_SETSPI_NS ||
	    data < ARM_SPI_INTID(ARM_V2M_SPI_BASE) ||
	    data >= ARM_SPI_INTID(ARM_V2M_SPI_BASE + ARM_V2M_SPIS))
		return -EINVAL;
	return (int)(data - ARM_SPI_INTID(0));
}

static void gic__v2m_io(void *opaque, u64 offset, void *data, u32 len,
			bool is_write)
{
	struct kvm *kvm = opaque;
	u32 v = 0;
	int spi;

	if (len != 4) {
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	if (is_write) {
		memcpy(&v, data, 4);
		spi = gic__v2m_msi_spi(ARM_GIC_V2M_BASE + offset, v);
		if (spi >= 0) {
			/* The frame's SPIs are edge-triggered: one edge. */
			kvm__set_irq_line(kvm, (unsigned int)spi, 1);
			kvm__set_irq_line(kvm, (unsigned int)spi, 0);
		}
		return;
	}
	if (offset == V2M_MSI_TYPER)
		v = ((u32)ARM_SPI_INTID(ARM_V2M_SPI_BASE) << 16) | ARM_V2M_SPIS;
	else if (offset == V2M_MSI_IIDR)
		v = 0x53b;	/* ARM's JEP106 code, as in real frames */
	memcpy(data, &v, 4);
}

/* Whether KVM offers a device of @type, creating nothing (DEVICE_TEST). */
static bool gic__offered(struct kvm *kvm, u32 type)
{
	struct kvm_create_device cd = {
		.type = type,
		.flags = KVM_CREATE_DEVICE_TEST,
	};

	return !ioctl(kvm->vm_fd, KVM_CREATE_DEVICE, &cd);
}

/*
 * --irqchip=auto: the first of gicv3-its, gicv3, gicv2m that KVM offers.
 * Only probes: a vGIC once created stays in the VM whatever becomes of
 * its fd, and any other vGIC after it fails with EEXIST, so only the one
 * chosen is ever created.
 */
static enum arm_irqchip gic__pick(struct kvm *kvm)
{
	if (gic__offered(kvm, KVM_DEV_TYPE_ARM_VGIC_V3))
		return gic__offered(kvm, KVM_DEV_TYPE_ARM_VGIC_ITS) ?
		       ARM_IRQCHIP_GICV3_ITS : ARM_IRQCHIP_GICV3;
	if (gic__offered(kvm, KVM_DEV_TYPE_ARM_VGIC_V2))
		return ARM_IRQCHIP_GICV2M;
	return ARM_IRQCHIP_AUTO;
}

/*
 * An explicit --irqchip: whether KVM offers what it needs, asked before
 * anything is created (a vGIC once created stays, see gic__pick), and
 * if not, an error naming what is missing and what would work.
 */
static int gic__check_offered(struct kvm *kvm, enum arm_irqchip want)
{
	enum arm_irqchip avail;
	const char *missing;

	if (!gic__is_v3(want))
		missing = gic__offered(kvm, KVM_DEV_TYPE_ARM_VGIC_V2) ? NULL :
			  "no vGICv2";
	else if (!gic__offered(kvm, KVM_DEV_TYPE_ARM_VGIC_V3))
		missing = "no vGICv3";
	else if (want == ARM_IRQCHIP_GICV3_ITS &&
		 !gic__offered(kvm, KVM_DEV_TYPE_ARM_VGIC_ITS))
		missing = "a vGICv3 but no ITS";
	else
		missing = NULL;
	if (!missing)
		return 0;
	avail = gic__pick(kvm);
	if (avail == ARM_IRQCHIP_AUTO)
		pr_err("--irqchip=%s: this KVM offers %s, nor any other vGIC",
		       gic__name(want), missing);
	else
		pr_err("--irqchip=%s: this KVM offers %s; --irqchip=auto would pick %s",
		       gic__name(want), missing, gic__name(avail));
	return -ENODEV;
}

/* On failure nothing is left open: gic_fd and its_fd stay -1. */
int gic__create(struct kvm *kvm)
{
	enum arm_irqchip want = kvm->arch.irqchip;
	int ret;

	if (want == ARM_IRQCHIP_AUTO) {
		want = gic__pick(kvm);
		if (want == ARM_IRQCHIP_AUTO) {
			pr_err("cannot create an in-kernel GIC: KVM offers no vGICv3 or vGICv2");
			return -ENODEV;
		}
		pr_debug("irqchip auto: KVM offers %s", gic__name(want));
	} else {
		ret = gic__check_offered(kvm, want);
		if (ret)
			return ret;
	}
	if (kvm->cfg->nr_cpus > 8 && !gic__is_v3(want)) {
		pr_err("%s: a GICv2 serves at most 8 vCPUs, not %u",
		       gic__name(want), kvm->cfg->nr_cpus);
		return -EINVAL;
	}
	ret = gic__create_type(kvm, want);
	if (ret) {
		pr_err("cannot create the in-kernel %s: %s", gic__name(want),
		       strerror(-ret));
		goto err;
	}
	kvm->arch.irqchip = want;
	if (want == ARM_IRQCHIP_GICV2M) {
		ret = bus_register(&kvm->mmio_bus, ARM_GIC_V2M_BASE,
				   ARM_GIC_V2M_SIZE, gic__v2m_io, kvm,
				   "gicv2m");
		if (ret) {
			pr_err("cannot map the GICv2m frame: %s",
			       strerror(-ret));
			goto err;
		}
	}
	pr_info("irqchip: %s", gic__name(want));
	return 0;
err:
	gic__close(kvm);
	return ret;
}

/* After every vCPU exists: size the GIC, then initialise it and the ITS. */
int gic__init(struct kvm *kvm)
{
	u32 nr_irqs = ARM_GIC_NR_IRQS;
	int ret;

	ret = gic__set_attr(kvm->arch.gic_fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0,
			    &nr_irqs, "the number of interrupts");
	if (!ret)
		ret = gic__set_attr(kvm->arch.gic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL,
				    KVM_DEV_ARM_VGIC_CTRL_INIT, NULL,
				    "CTRL_INIT");
	if (!ret && kvm->arch.its_fd >= 0)
		ret = gic__set_attr(kvm->arch.its_fd, KVM_DEV_ARM_VGIC_GRP_CTRL,
				    KVM_DEV_ARM_VGIC_CTRL_INIT, NULL,
				    "ITS CTRL_INIT");
	return ret;
}

void gic__exit(struct kvm *kvm)
{
	gic__close(kvm);
}

/* fdt helpers return libfdt errors; fold them into one check per node. */
#define FDT_TRY(x) do { int __e = (x); if (__e) return __e; } while (0)

static int fdt_reg2(void *fdt, u64 a, u64 as, u64 b, u64 bs)
{
	fdt64_t reg[4] = {
		cpu_to_fdt64(a), cpu_to_fdt64(as),
		cpu_to_fdt64(b), cpu_to_fdt64(bs),
	};

	return fdt_property(fdt, "reg", reg, b || bs ? sizeof(reg) :
						       sizeof(reg) / 2);
}

int gic__generate_fdt(struct kvm *kvm, void *fdt, u32 phandle, u32 msi_phandle)
{
	bool v3 = gic__is_v3(kvm->arch.irqchip);
	char name[32];

	snprintf(name, sizeof(name), "intc@%llx",
		 (unsigned long long)ARM_GIC_DIST_BASE);
	FDT_TRY(fdt_begin_node(fdt, name));
	FDT_TRY(fdt_property_string(fdt, "compatible",
				    v3 ? "arm,gic-v3" : "arm,cortex-a15-gic"));
	FDT_TRY(fdt_property_u32(fdt, "#interrupt-cells", 3));
	FDT_TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
	FDT_TRY(fdt_property_u32(fdt, "#address-cells", 2));
	FDT_TRY(fdt_property_u32(fdt, "#size-cells", 2));
	FDT_TRY(fdt_property(fdt, "ranges", NULL, 0));
	if (v3)
		FDT_TRY(fdt_reg2(fdt, ARM_GIC_DIST_BASE, ARM_GIC_DIST_SIZE,
				 ARM_GIC_REDIST_BASE,
				 kvm->cfg->nr_cpus * ARM_GIC_REDIST_STRIDE));
	else
		FDT_TRY(fdt_reg2(fdt, ARM_GIC_DIST_BASE, ARM_GIC_DIST_SIZE,
				 ARM_GIC_CPUI_BASE, ARM_GIC_CPUI_SIZE));
	FDT_TRY(fdt_property_u32(fdt, "phandle", phandle));

	if (kvm->arch.irqchip == ARM_IRQCHIP_GICV3_ITS) {
		snprintf(name, sizeof(name), "msi-controller@%llx",
			 (unsigned long long)ARM_GIC_ITS_BASE);
		FDT_TRY(fdt_begin_node(fdt, name));
		FDT_TRY(fdt_property_string(fdt, "compatible",
					    "arm,gic-v3-its"));
		FDT_TRY(fdt_property(fdt, "msi-controller", NULL, 0));
		FDT_TRY(fdt_property_u32(fdt, "#msi-cells", 1));
		FDT_TRY(fdt_reg2(fdt, ARM_GIC_ITS_BASE, ARM_GIC_ITS_SIZE, 0, 0));
		FDT_TRY(fdt_property_u32(fdt, "phandle", msi_phandle));
		FDT_TRY(fdt_end_node(fdt));
	} else if (kvm->arch.irqchip == ARM_IRQCHIP_GICV2M) {
		snprintf(name, sizeof(name), "v2m@%llx",
			 (unsigned long long)ARM_GIC_V2M_BASE);
		FDT_TRY(fdt_begin_node(fdt, name));
		FDT_TRY(fdt_property_string(fdt, "compatible",
					    "arm,gic-v2m-frame"));
		FDT_TRY(fdt_property(fdt, "msi-controller", NULL, 0));
		FDT_TRY(fdt_reg2(fdt, ARM_GIC_V2M_BASE, ARM_GIC_V2M_SIZE, 0, 0));
		FDT_TRY(fdt_property_u32(fdt, "phandle", msi_phandle));
		FDT_TRY(fdt_end_node(fdt));
	}
	return fdt_end_node(fdt);
}
