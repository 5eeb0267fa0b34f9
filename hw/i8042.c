// SPDX-License-Identifier: GPL-2.0
/*
 * The i8042 keyboard controller, for what guests use it for here: the
 * reset line (command 0xfe, or output-port bit 0 cleared through 0xd1) and
 * enough of the command set that Linux's probe sees a controller with no
 * keyboard attached instead of timing out.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/exit.h"
#include "lkvm/hw.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"

#define I8042_DATA		0x60
#define I8042_CMD		0x64

#define I8042_STR_OBF		0x01
#define I8042_STR_SYSFLAG	0x04
#define I8042_STR_CMDDAT	0x08
#define I8042_STR_KEYLOCK	0x10

#define I8042_CMD_READ_CTR	0x20
#define I8042_CMD_WRITE_CTR	0x60
#define I8042_CMD_AUX_DISABLE	0xa7
#define I8042_CMD_AUX_ENABLE	0xa8
#define I8042_CMD_AUX_TEST	0xa9
#define I8042_CMD_SELF_TEST	0xaa
#define I8042_CMD_KBD_TEST	0xab
#define I8042_CMD_KBD_DISABLE	0xad
#define I8042_CMD_KBD_ENABLE	0xae
#define I8042_CMD_READ_OUTPORT	0xd0
#define I8042_CMD_WRITE_OUTPORT	0xd1
#define I8042_CMD_PULSE_RESET	0xfe

struct i8042 {
	struct kvm *kvm;
	pthread_mutex_t lock;
	u8 ctr;			/* controller configuration ("command") byte */
	u8 outport;
	u8 out;			/* output buffer */
	bool out_full;
	u8 pending_cmd;		/* command waiting for its data byte */
	u8 status_cmd;
};

static void i8042__reply(struct i8042 *k, u8 v)
{
	k->out = v;
	k->out_full = true;
}

static void i8042__command(struct i8042 *k, u8 cmd)
{
	k->status_cmd = I8042_STR_CMDDAT;
	switch (cmd) {
	case I8042_CMD_READ_CTR:
		i8042__reply(k, k->ctr);
		break;
	case I8042_CMD_WRITE_CTR:
	case I8042_CMD_WRITE_OUTPORT:
		k->pending_cmd = cmd;
		break;
	case I8042_CMD_SELF_TEST:
		i8042__reply(k, 0x55);
		break;
	case I8042_CMD_KBD_TEST:
	case I8042_CMD_AUX_TEST:
		i8042__reply(k, 0x00);
		break;
	case I8042_CMD_READ_OUTPORT:
		i8042__reply(k, k->outport);
		break;
	case I8042_CMD_KBD_DISABLE:
	case I8042_CMD_KBD_ENABLE:
	case I8042_CMD_AUX_DISABLE:
	case I8042_CMD_AUX_ENABLE:
		break;
	default:
		/* 0xf0-0xff pulse output lines; bit 0 is the CPU reset. */
		if ((cmd & 0xf0) == 0xf0 && !(cmd & 0x01)) {
			pr_info("guest reset through the i8042");
			kvm__request_stop(k->kvm, LKVM_EXIT_RESET);
		} else {
			pr_debug("i8042: ignoring command %#x", cmd);
		}
		break;
	}
}

static void i8042__data(struct i8042 *k, u8 v)
{
	k->status_cmd = 0;
	switch (k->pending_cmd) {
	case I8042_CMD_WRITE_CTR:
		k->ctr = v;
		break;
	case I8042_CMD_WRITE_OUTPORT:
		k->outport = v;
		if (!(v & 0x01)) {
			pr_info("guest reset through the i8042 output port");
			kvm__request_stop(k->kvm, LKVM_EXIT_RESET);
		}
		break;
	default:
		/* A byte for the (absent) keyboard: answer "resend". */
		i8042__reply(k, 0xfe);
		break;
	}
	k->pending_cmd = 0;
}

static void i8042__io(struct i8042 *k, bool cmd_port, u8 *p, bool is_write)
{
	pthread_mutex_lock(&k->lock);
	if (cmd_port) {
		if (is_write)
			i8042__command(k, *p);
		else
			*p = I8042_STR_SYSFLAG | I8042_STR_KEYLOCK |
			     k->status_cmd | (k->out_full ? I8042_STR_OBF : 0);
	} else if (is_write) {
		i8042__data(k, *p);
	} else {
		*p = k->out;
		k->out_full = false;
	}
	pthread_mutex_unlock(&k->lock);
}

/* Both ports are byte-wide; the bus only hands us accesses inside them. */
static void i8042__data_io(void *opaque, u64 offset __unused, void *data,
			   u32 len __unused, bool is_write)
{
	i8042__io(opaque, false, data, is_write);
}

static void i8042__cmd_io(void *opaque, u64 offset __unused, void *data,
			  u32 len __unused, bool is_write)
{
	i8042__io(opaque, true, data, is_write);
}

static void i8042__free(void *opaque)
{
	struct i8042 *k = opaque;

	pthread_mutex_destroy(&k->lock);
	free(k);
}

int i8042__init(struct kvm *kvm, struct bus *bus)
{
	struct i8042 *k;
	int ret;

	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	pthread_mutex_init(&k->lock, NULL);
	k->kvm = kvm;
	k->ctr = 0x30;		/* both ports disabled, no interrupts */
	k->outport = 0x01;	/* reset line not asserted */
	ret = kvm__on_exit(kvm, i8042__free, k);
	if (ret) {
		i8042__free(k);
		return ret;
	}
	ret = bus_register(bus, I8042_DATA, 1, i8042__data_io, k, "i8042-data");
	if (ret)
		return ret;
	return bus_register(bus, I8042_CMD, 1, i8042__cmd_io, k, "i8042-cmd");
}
