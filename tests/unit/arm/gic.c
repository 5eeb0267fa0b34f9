// SPDX-License-Identifier: GPL-2.0
/*
 * arm/gic.c against a scripted KVM: which vGIC lkvm picks and creates,
 * the attributes and addresses it sets and in which order, how it fails
 * (negative errno, a message naming what KVM lacks, no device fd left
 * open), and the GICv2m frame it emulates.
 *
 * The test is linked with -Wl,--wrap=ioctl (see the Makefile): every
 * ioctl() lkvm makes lands in __wrap_ioctl below, which plays KVM for the
 * VM fd and the device fds it hands out and passes anything else to the
 * real ioctl.  Device fds are real (/dev/null), so "closed" is checked
 * with fcntl().  The fake enforces the rules of KVM's vGIC device API
 * (Documentation/virt/kvm/devices/arm-vgic*.rst): one vGIC per VM,
 * addresses aligned and set once, NR_IRQS 64..1024 in steps of 32 and
 * only before CTRL_INIT.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tap.h"
#include "stderr-capture.h"
#include "lkvm/kvm.h"

int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

#define MAX_DEVS	4
#define MAX_LOG		16

struct fake_dev {
	int fd;
	u32 type;
	u32 addr_set;		/* bit per address type */
	bool nr_irqs_set;
	bool inited;
};

struct fake_attr {
	int fd;
	u32 group;
	u64 attr;
	u64 val;
};

static struct {
	int vm_fd;
	/* The script: what KVM offers, what fails. */
	bool offer_v2, offer_v3, offer_its;
	u32 create_fails_type;	/* a real create of this type fails... */
	int create_fails_err;	/* ...with this errno, though TEST says yes */
	unsigned int fail_attr;	/* the nth KVM_SET_DEVICE_ATTR fails (from 1) */
	int fail_attr_err;
	/* What lkvm did. */
	struct fake_dev dev[MAX_DEVS];
	unsigned int nr_dev;
	bool vgic_exists;
	struct fake_attr log[MAX_LOG];
	unsigned int nr_log;
	unsigned int nr_refused;	/* API rules lkvm broke */
	u32 irq_line[4];
	u32 irq_level[4];
	unsigned int nr_irq_line;
} fk;

static bool fake_offers(u32 type)
{
	switch (type) {
	case KVM_DEV_TYPE_ARM_VGIC_V2:
		return fk.offer_v2;
	case KVM_DEV_TYPE_ARM_VGIC_V3:
		return fk.offer_v3;
	case KVM_DEV_TYPE_ARM_VGIC_ITS:
		return fk.offer_its;
	}
	return false;
}

static int fake_fail(int err)
{
	errno = err;
	return -1;
}

static int fake_refuse(int err)
{
	fk.nr_refused++;
	return fake_fail(err);
}

static int fake_create_device(struct kvm_create_device *cd)
{
	struct fake_dev *d;
	bool vgic = cd->type != KVM_DEV_TYPE_ARM_VGIC_ITS;

	if (!fake_offers(cd->type))
		return fake_fail(ENODEV);
	if (cd->flags & KVM_CREATE_DEVICE_TEST)
		return 0;
	if (cd->type == fk.create_fails_type && fk.create_fails_err)
		return fake_fail(fk.create_fails_err);
	/* "Only one VGIC instance may be instantiated" */
	if (vgic && fk.vgic_exists)
		return fake_refuse(EEXIST);
	if (fk.nr_dev == MAX_DEVS)
		return fake_refuse(ENOSPC);
	d = &fk.dev[fk.nr_dev++];
	d->fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	d->type = cd->type;
	fk.vgic_exists |= vgic;
	cd->fd = (u32)d->fd;
	return 0;
}

static struct fake_dev *fake_dev_of(int fd)
{
	for (unsigned int i = 0; i < fk.nr_dev; i++)
		if (fk.dev[i].fd == fd)
			return &fk.dev[i];
	return NULL;
}

/* The address types valid for @d, and the alignment each needs. */
static int fake_addr_check(const struct fake_dev *d, u64 type, u64 addr)
{
	u64 align = 0x10000;

	switch (d->type) {
	case KVM_DEV_TYPE_ARM_VGIC_V2:
		if (type != KVM_VGIC_V2_ADDR_TYPE_DIST &&
		    type != KVM_VGIC_V2_ADDR_TYPE_CPU)
			return ENXIO;
		align = 0x1000;
		break;
	case KVM_DEV_TYPE_ARM_VGIC_V3:
		if (type != KVM_VGIC_V3_ADDR_TYPE_DIST &&
		    type != KVM_VGIC_V3_ADDR_TYPE_REDIST)
			return ENXIO;
		break;
	case KVM_DEV_TYPE_ARM_VGIC_ITS:
		if (type != KVM_VGIC_ITS_ADDR_TYPE)
			return ENXIO;
		break;
	}
	if (addr & (align - 1))
		return EINVAL;
	if (d->addr_set & (1u << type))
		return EEXIST;
	if (d->inited)
		return EBUSY;
	return 0;
}

static int fake_set_attr(int fd, const struct kvm_device_attr *a)
{
	struct fake_dev *d = fake_dev_of(fd);
	struct fake_attr *l;
	u64 val = 0;
	int err;

	if (!d)
		return fake_refuse(ENOTTY);
	if (a->group == KVM_DEV_ARM_VGIC_GRP_ADDR)
		memcpy(&val, (const void *)(uintptr_t)a->addr, sizeof(u64));
	else if (a->group == KVM_DEV_ARM_VGIC_GRP_NR_IRQS)
		val = *(const u32 *)(uintptr_t)a->addr;
	if (fk.nr_log < MAX_LOG) {
		l = &fk.log[fk.nr_log];
		*l = (struct fake_attr){ fd, a->group, a->attr, val };
	}
	if (++fk.nr_log == fk.fail_attr)
		return fake_fail(fk.fail_attr_err);

	switch (a->group) {
	case KVM_DEV_ARM_VGIC_GRP_ADDR:
		err = fake_addr_check(d, a->attr, val);
		if (err)
			return fake_refuse(err);
		d->addr_set |= 1u << a->attr;
		return 0;
	case KVM_DEV_ARM_VGIC_GRP_NR_IRQS:
		if (d->type == KVM_DEV_TYPE_ARM_VGIC_ITS)
			return fake_refuse(ENXIO);
		if (val < 64 || val > 1024 || val % 32)
			return fake_refuse(EINVAL);
		if (d->nr_irqs_set || d->inited)
			return fake_refuse(EBUSY);
		d->nr_irqs_set = true;
		return 0;
	case KVM_DEV_ARM_VGIC_GRP_CTRL:
		if (a->attr != KVM_DEV_ARM_VGIC_CTRL_INIT)
			return fake_refuse(ENXIO);
		d->inited = true;
		return 0;
	}
	return fake_refuse(ENXIO);
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);

	if (fd == fk.vm_fd && req == KVM_CREATE_DEVICE)
		return fake_create_device(arg);
	if (fd == fk.vm_fd && req == KVM_IRQ_LINE) {
		const struct kvm_irq_level *l = arg;

		if (fk.nr_irq_line < ARRAY_SIZE(fk.irq_line)) {
			fk.irq_line[fk.nr_irq_line] = l->irq;
			fk.irq_level[fk.nr_irq_line] = l->level;
		}
		fk.nr_irq_line++;
		return 0;
	}
	if (fd == fk.vm_fd)
		return fake_refuse(ENOTTY);
	if (fake_dev_of(fd)) {
		if (req == KVM_SET_DEVICE_ATTR)
			return fake_set_attr(fd, arg);
		return fake_refuse(ENOTTY);
	}
	return __real_ioctl(fd, req, arg);
}

/* --- the VM under test ---------------------------------------------------- */

static struct lkvm_config cfg;
static struct kvm kvm;
static char errbuf[1024];

/* A VM as arch__init_vm leaves it for gic__create; KVM offers @offer. */
static void vm_new(const char *irqchip, unsigned int nr_cpus, const char *offer)
{
	int vm_fd = fk.vm_fd;

	memset(&fk, 0, sizeof(fk));
	fk.vm_fd = vm_fd;
	fk.offer_v2 = strstr(offer, "v2");
	fk.offer_v3 = strstr(offer, "v3");
	fk.offer_its = strstr(offer, "its");

	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = nr_cpus;
	memset(&kvm, 0, sizeof(kvm));
	kvm.cfg = &cfg;
	kvm.vm_fd = fk.vm_fd;
	kvm.nr_cpus = nr_cpus;
	kvm.arch.gic_fd = kvm.arch.its_fd = -1;
	if (gic__parse(irqchip, &kvm.arch.irqchip) ||
	    bus_init(&kvm.mmio_bus, "mmio")) {
		diag("test set-up failed for irqchip %s", irqchip);
		exit(1);
	}
}

static void vm_free(void)
{
	gic__exit(&kvm);
	bus_exit(&kvm.mmio_bus);
}

/* lkvm's messages (on stderr) of the last create()/init(), in errbuf. */
static struct stderr_capture capture;

static void capture_begin(void)
{
	stderr_capture_begin(&capture);
}

static void capture_end(void)
{
	if (stderr_capture_end(&capture, errbuf, sizeof(errbuf)))
		diag("lkvm said: %.*s", (int)strcspn(errbuf, "\r\n"), errbuf);
}

static int create(void)
{
	int ret;

	capture_begin();
	ret = gic__create(&kvm);
	capture_end();
	return ret;
}

static int init(void)
{
	int ret;

	capture_begin();
	ret = gic__init(&kvm);
	capture_end();
	return ret;
}

static bool fd_closed(int fd)
{
	return fcntl(fd, F_GETFD) < 0 && errno == EBADF;
}

/* Every device fd the fake handed out is closed again. */
static bool all_closed(void)
{
	for (unsigned int i = 0; i < fk.nr_dev; i++)
		if (!fd_closed(fk.dev[i].fd))
			return false;
	return true;
}

static bool logged(unsigned int i, int fd, u32 group, u64 attr, u64 val)
{
	const struct fake_attr *l = &fk.log[i];

	if (i < fk.nr_log && l->fd == fd && l->group == group &&
	    l->attr == attr && l->val == val)
		return true;
	diag("  attribute %u: want fd %d group %u attr %llu value %#llx", i,
	     fd, group, (unsigned long long)attr, (unsigned long long)val);
	if (i < fk.nr_log)
		diag("  got fd %d group %u attr %llu value %#llx", l->fd,
		     l->group, (unsigned long long)l->attr,
		     (unsigned long long)l->val);
	return false;
}

#define G_ADDR	KVM_DEV_ARM_VGIC_GRP_ADDR
#define G_CTRL	KVM_DEV_ARM_VGIC_GRP_CTRL
#define G_NR_IRQS	KVM_DEV_ARM_VGIC_GRP_NR_IRQS
#define G_INIT	KVM_DEV_ARM_VGIC_CTRL_INIT

static void test_auto_v3_its(void)
{
	int gic, its;

	/* A GICv3 host with GICv2 compatibility offers all three. */
	vm_new("auto", 4, "v2,v3,its");
	is_int(create(), 0, "auto, KVM with v3+ITS: created");
	is_str(gic__name(kvm.arch.irqchip), "gicv3-its", "auto picks gicv3-its");
	is_int(fk.nr_dev, 2, "auto creates only the vGICv3 and its ITS (the rest probed)");
	ok(fk.dev[0].type == KVM_DEV_TYPE_ARM_VGIC_V3 &&
	   fk.dev[1].type == KVM_DEV_TYPE_ARM_VGIC_ITS,
	   "the vGICv3 first, then the ITS");
	gic = fk.dev[0].fd;
	its = fk.dev[1].fd;
	ok(kvm.arch.gic_fd == gic && kvm.arch.its_fd == its,
	   "gic_fd and its_fd are the devices' fds");
	is_int(fk.nr_log, 3, "three attributes set at creation");
	ok(logged(0, gic, G_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, ARM_GIC_DIST_BASE),
	   "distributor at ARM_GIC_DIST_BASE");
	ok(logged(1, gic, G_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST,
		  ARM_GIC_REDIST_BASE),
	   "redistributors at ARM_GIC_REDIST_BASE");
	ok(logged(2, its, G_ADDR, KVM_VGIC_ITS_ADDR_TYPE, ARM_GIC_ITS_BASE),
	   "ITS at ARM_GIC_ITS_BASE");
	ok(gic__has_msi(&kvm), "gicv3-its has MSIs");

	is_int(init(), 0, "gicv3-its: gic__init");
	is_int(fk.nr_log, 6, "gic__init sets three attributes");
	ok(logged(3, gic, G_NR_IRQS, 0, ARM_GIC_NR_IRQS),
	   "NR_IRQS = 32 + ARM_GIC_NR_SPIS, first");
	ok(logged(4, gic, G_CTRL, G_INIT, 0), "then the vGIC's CTRL_INIT");
	ok(logged(5, its, G_CTRL, G_INIT, 0), "then the ITS's CTRL_INIT");
	is_int(fk.nr_refused, 0, "no vGIC API rule broken");

	gic__exit(&kvm);
	ok(fd_closed(gic) && fd_closed(its), "gic__exit closes both fds");
	ok(kvm.arch.gic_fd == -1 && kvm.arch.its_fd == -1,
	   "and forgets them");
	vm_free();
}

static void test_auto_v3(void)
{
	vm_new("auto", 2, "v3");
	is_int(create(), 0, "auto, KVM with v3 but no ITS: created");
	is_str(gic__name(kvm.arch.irqchip), "gicv3", "auto settles for gicv3");
	ok(fk.nr_dev == 1 && fk.dev[0].type == KVM_DEV_TYPE_ARM_VGIC_V3,
	   "only the vGICv3 is created");
	is_int(kvm.arch.its_fd, -1, "no ITS fd");
	ok(!gic__has_msi(&kvm), "gicv3 without ITS has no MSIs");
	is_int(init(), 0, "gicv3: gic__init");
	ok(fk.nr_log == 4 && logged(2, fk.dev[0].fd, G_NR_IRQS, 0,
				    ARM_GIC_NR_IRQS) &&
	   logged(3, fk.dev[0].fd, G_CTRL, G_INIT, 0),
	   "gicv3: NR_IRQS, then CTRL_INIT, nothing for an ITS");
	is_int(fk.nr_refused, 0, "no vGIC API rule broken");
	vm_free();
	ok(all_closed(), "fds closed");
}

static void test_auto_v2m(void)
{
	u32 v = 0, intid = ARM_SPI_INTID(ARM_V2M_SPI_BASE);
	u32 want_line = ((u32)KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) |
			intid;
	int gic;

	vm_new("auto", 8, "v2");
	is_int(create(), 0, "auto, KVM with v2 only: created");
	is_str(gic__name(kvm.arch.irqchip), "gicv2m", "auto picks gicv2m");
	ok(fk.nr_dev == 1 && fk.dev[0].type == KVM_DEV_TYPE_ARM_VGIC_V2,
	   "only the vGICv2 is created");
	gic = fk.dev[0].fd;
	ok(fk.nr_log == 2 &&
	   logged(0, gic, G_ADDR, KVM_VGIC_V2_ADDR_TYPE_DIST, ARM_GIC_DIST_BASE) &&
	   logged(1, gic, G_ADDR, KVM_VGIC_V2_ADDR_TYPE_CPU, ARM_GIC_CPUI_BASE),
	   "distributor and CPU interface at their bases");
	ok(gic__has_msi(&kvm), "gicv2m has MSIs");

	/* The frame lkvm emulates: MSI_TYPER says base SPI and count. */
	ok(bus_dispatch(&kvm.mmio_bus, ARM_GIC_V2M_BASE + 0x008, &v, 4, false),
	   "the v2m frame is on the MMIO bus");
	is_int(v, (intid << 16) | ARM_V2M_SPIS, "MSI_TYPER: first INTID, count");
	bus_dispatch(&kvm.mmio_bus, ARM_GIC_V2M_BASE + 0x040, &intid, 4, true);
	ok(fk.nr_irq_line == 2 && fk.irq_line[0] == want_line &&
	   fk.irq_level[0] == 1 && fk.irq_line[1] == want_line &&
	   fk.irq_level[1] == 0,
	   "a SETSPI_NS write is one edge on that SPI (KVM_IRQ_LINE 1, 0)");
	v = ARM_SPI_INTID(ARM_V2M_SPI_BASE + ARM_V2M_SPIS);
	bus_dispatch(&kvm.mmio_bus, ARM_GIC_V2M_BASE + 0x040, &v, 4, true);
	is_int(fk.nr_irq_line, 2, "an INTID past the frame raises nothing");

	is_int(init(), 0, "gicv2m: gic__init");
	ok(fk.nr_log == 4 && logged(2, gic, G_NR_IRQS, 0, ARM_GIC_NR_IRQS) &&
	   logged(3, gic, G_CTRL, G_INIT, 0), "gicv2m: NR_IRQS, then CTRL_INIT");
	is_int(fk.nr_refused, 0, "no vGIC API rule broken");
	vm_free();
	ok(all_closed(), "fds closed");
}

static void test_auto_none(void)
{
	vm_new("auto", 1, "");
	is_int(create(), -ENODEV, "auto, KVM with no vGIC: -ENODEV");
	is_int(fk.nr_dev, 0, "nothing created");
	ok(strstr(errbuf, "no vGICv3 or vGICv2") != NULL,
	   "the error says KVM has no vGIC");
	vm_free();
}

/*
 * An explicit --irqchip that this KVM cannot give: refused before
 * anything is created, with a message naming what is missing.
 */
static void test_explicit_missing(const char *want, const char *offer,
				  const char *says)
{
	char name[80];
	int ret;

	vm_new(want, 2, offer);
	ret = create();
	snprintf(name, sizeof(name), "--irqchip=%s, KVM offers '%s': -ENODEV",
		 want, offer);
	is_int(ret, -ENODEV, name);
	snprintf(name, sizeof(name), "--irqchip=%s: nothing created", want);
	is_int(fk.nr_dev, 0, name);
	ok(kvm.arch.gic_fd == -1 && kvm.arch.its_fd == -1,
	   "--irqchip=%s: no fd kept", want);
	ok(strstr(errbuf, want) && strstr(errbuf, says),
	   "--irqchip=%s: the error names it and says '%s'", want, says);
	vm_free();
}

static void test_v2_too_many_cpus(void)
{
	vm_new("gicv2", 9, "v2,v3");
	is_int(create(), -EINVAL, "gicv2 with 9 vCPUs: -EINVAL");
	ok(strstr(errbuf, "at most 8") != NULL, "the error says at most 8");
	is_int(fk.nr_dev, 0, "refused before anything is created");
	ok(all_closed() && kvm.arch.gic_fd == -1, "no fd left open");
	vm_free();
}

/* The nth attribute fails: negative errno, every fd closed. */
static void test_attr_fails(unsigned int nth, int err, const char *what)
{
	char name[96];

	vm_new("auto", 2, "v3,its");
	fk.fail_attr = nth;
	fk.fail_attr_err = err;
	snprintf(name, sizeof(name), "setting %s fails: -%s", what,
		 strerrorname_np(err));
	is_int(create(), -err, name);
	snprintf(name, sizeof(name), "setting %s fails: every fd closed", what);
	ok(all_closed() && kvm.arch.gic_fd == -1 && kvm.arch.its_fd == -1,
	   "%s", name);
	is_int(fk.nr_log, nth, "nothing set after the failure");
	ok(strstr(errbuf, what) != NULL, "the error names %s", what);
	vm_free();
}

static void test_create_fails(void)
{
	/* TEST says yes, the real creation fails (e.g. out of memory). */
	vm_new("auto", 2, "v3,its");
	fk.create_fails_type = KVM_DEV_TYPE_ARM_VGIC_ITS;
	fk.create_fails_err = ENOMEM;
	is_int(create(), -ENOMEM, "ITS creation fails: -ENOMEM");
	is_int(fk.nr_dev, 1, "the vGICv3 was created before");
	ok(all_closed() && kvm.arch.gic_fd == -1, "and its fd is closed");
	vm_free();

	vm_new("gicv3", 2, "v3");
	fk.create_fails_type = KVM_DEV_TYPE_ARM_VGIC_V3;
	fk.create_fails_err = ENOMEM;
	is_int(create(), -ENOMEM, "vGICv3 creation fails: -ENOMEM");
	is_int(kvm.arch.gic_fd, -1, "no fd kept");
	vm_free();
}

static void test_init_fails(void)
{
	vm_new("gicv3-its", 2, "v3,its");
	is_int(create(), 0, "gicv3-its created");
	fk.fail_attr = fk.nr_log + 1;
	fk.fail_attr_err = EBUSY;
	is_int(init(), -EBUSY, "NR_IRQS fails: gic__init -EBUSY");
	is_int(fk.nr_log, 4, "no CTRL_INIT after it");
	vm_free();
	ok(all_closed(), "gic__exit closes the fds after a failed init");

	vm_new("gicv3-its", 2, "v3,its");
	create();
	fk.fail_attr = fk.nr_log + 3;
	fk.fail_attr_err = ENXIO;
	is_int(init(), -ENXIO, "ITS CTRL_INIT fails: gic__init -ENXIO");
	vm_free();
}

static void test_names(void)
{
	static const char *const names[] = {
		"auto", "gicv2", "gicv2m", "gicv3", "gicv3-its",
	};
	enum arm_irqchip t;
	bool round = true;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		round &= !gic__parse(names[i], &t) &&
			 !strcmp(gic__name(t), names[i]);
	ok(round, "gic__parse and gic__name agree on every name");
	is_int(gic__parse("gicv4", &t), -EINVAL, "gicv4: -EINVAL");
	is_int(gic__parse("", &t), -EINVAL, "empty name: -EINVAL");
}

static void test_v2m_msi_spi(void)
{
	u64 db = ARM_GIC_V2M_BASE + 0x040;
	u32 first = ARM_SPI_INTID(ARM_V2M_SPI_BASE);

	is_int(gic__v2m_msi_spi(db, first), ARM_V2M_SPI_BASE,
	       "first frame INTID -> its SPI");
	is_int(gic__v2m_msi_spi(db, first + ARM_V2M_SPIS - 1),
	       ARM_V2M_SPI_BASE + ARM_V2M_SPIS - 1, "last frame INTID");
	is_int(gic__v2m_msi_spi(db, first - 1), -EINVAL,
	       "INTID below the frame: -EINVAL");
	is_int(gic__v2m_msi_spi(db, first + ARM_V2M_SPIS), -EINVAL,
	       "INTID above the frame: -EINVAL");
	is_int(gic__v2m_msi_spi(db + 4, first), -EINVAL,
	       "any other address: -EINVAL");
	ok(ARM_V2M_SPI_BASE + ARM_V2M_SPIS <= ARM_GIC_NR_SPIS,
	   "the frame's SPIs exist in a GIC of ARM_GIC_NR_IRQS");
}

static void test_layout(void)
{
	/* What the fake does not see: regions that must not collide. */
	ok(ARM_GIC_REDIST_BASE + LKVM_MAX_CPUS * ARM_GIC_REDIST_STRIDE <=
	   ARM_VIRTIO_MMIO_BASE,
	   "redistributors of LKVM_MAX_CPUS vCPUs end below virtio-mmio");
	ok(ARM_GIC_ITS_BASE + ARM_GIC_ITS_SIZE <= ARM_GIC_REDIST_BASE &&
	   ARM_GIC_V2M_BASE + ARM_GIC_V2M_SIZE <= ARM_GIC_ITS_BASE &&
	   ARM_GIC_CPUI_BASE + ARM_GIC_CPUI_SIZE <= ARM_GIC_V2M_BASE &&
	   ARM_GIC_DIST_BASE + ARM_GIC_DIST_SIZE <= ARM_GIC_CPUI_BASE,
	   "distributor, CPU interface, v2m frame, ITS, redistributors in order, apart");
}

int main(void)
{
	tap_plan(96);

	fk.vm_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	test_auto_v3_its();
	test_auto_v3();
	test_auto_v2m();
	test_auto_none();
	test_explicit_missing("gicv3", "v2", "no vGICv3");
	test_explicit_missing("gicv3-its", "v3", "no ITS");
	test_explicit_missing("gicv2", "v3,its", "no vGICv2");
	test_explicit_missing("gicv2m", "v3,its", "no vGICv2");
	test_v2_too_many_cpus();
	test_attr_fails(1, EINVAL, "the distributor address");
	test_attr_fails(2, E2BIG, "the redistributor address");
	test_attr_fails(3, EEXIST, "the ITS address");
	test_create_fails();
	test_init_fails();
	test_names();
	test_v2m_msi_spi();
	test_layout();
	close(fk.vm_fd);
	return tap_done();
}
