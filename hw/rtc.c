// SPDX-License-Identifier: GPL-2.0
/*
 * MC146818 CMOS RTC: the host's UTC time in BCD or binary as the guest
 * selects in register B, plus the CMOS memory-size bytes that BIOS-era
 * code reads.  No alarms or periodic interrupts: nothing we boot uses them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lkvm/hw.h"
#include "lkvm/kvm.h"

#define RTC_SECONDS		0x00
#define RTC_MINUTES		0x02
#define RTC_HOURS		0x04
#define RTC_DAY_OF_WEEK		0x06
#define RTC_DAY_OF_MONTH	0x07
#define RTC_MONTH		0x08
#define RTC_YEAR		0x09
#define RTC_REG_A		0x0a
#define RTC_REG_B		0x0b
#define RTC_REG_C		0x0c
#define RTC_REG_D		0x0d
#define RTC_CENTURY		0x32

#define RTC_B_24H		0x02
#define RTC_B_BINARY		0x04
#define RTC_D_VRT		0x80	/* "valid RAM and time" */

struct rtc {
	pthread_mutex_t lock;
	u8 index;
	u8 cmos[128];
};

static u8 rtc__encode(const struct rtc *r, unsigned int v)
{
	if (r->cmos[RTC_REG_B] & RTC_B_BINARY)
		return (u8)v;
	return (u8)(((v / 10) << 4) | (v % 10));
}

static u8 rtc__hours(const struct rtc *r, int h)
{
	u8 pm = 0;

	if (!(r->cmos[RTC_REG_B] & RTC_B_24H)) {
		pm = h >= 12 ? 0x80 : 0;
		h %= 12;
		if (!h)
			h = 12;
	}
	return rtc__encode(r, (unsigned int)h) | pm;
}

static u8 rtc__read(struct rtc *r, u8 idx)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (idx) {
	case RTC_SECONDS:
		return rtc__encode(r, (unsigned int)tm.tm_sec);
	case RTC_MINUTES:
		return rtc__encode(r, (unsigned int)tm.tm_min);
	case RTC_HOURS:
		return rtc__hours(r, tm.tm_hour);
	case RTC_DAY_OF_WEEK:
		return rtc__encode(r, (unsigned int)tm.tm_wday + 1);
	case RTC_DAY_OF_MONTH:
		return rtc__encode(r, (unsigned int)tm.tm_mday);
	case RTC_MONTH:
		return rtc__encode(r, (unsigned int)tm.tm_mon + 1);
	case RTC_YEAR:
		return rtc__encode(r, (unsigned int)tm.tm_year % 100);
	case RTC_CENTURY:
		return rtc__encode(r, (unsigned int)(tm.tm_year + 1900) / 100);
	case RTC_REG_A:
		/* Update-in-progress never set: reads are always coherent. */
		return r->cmos[RTC_REG_A] & 0x7f;
	case RTC_REG_C:
		return 0;
	case RTC_REG_D:
		return RTC_D_VRT;
	default:
		return r->cmos[idx];
	}
}

static void rtc__io(void *opaque, u64 offset, void *data, u32 len,
		    bool is_write)
{
	struct rtc *r = opaque;
	u8 *p = data;

	if (len != 1) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&r->lock);
	if (offset == 0) {
		/* Bit 7 of the index port is the NMI mask, not an address. */
		if (is_write)
			r->index = *p & 0x7f;
		else
			*p = 0xff;
	} else if (is_write) {
		switch (r->index) {
		case RTC_REG_C:
		case RTC_REG_D:
			break;
		default:
			/* Time writes are accepted but time stays the host's. */
			r->cmos[r->index] = *p;
		}
	} else {
		*p = rtc__read(r, r->index);
	}
	pthread_mutex_unlock(&r->lock);
}

/* Memory size in the classic CMOS locations, as PC firmware reports it. */
static void rtc__set_memory(struct rtc *r, u64 ram_size)
{
	u64 below_4g = ram_size < 3 * SZ_1G ? ram_size : 3 * SZ_1G;
	u64 above_4g = ram_size - below_4g;
	u64 ext_kb = below_4g > SZ_1M ? (below_4g - SZ_1M) >> 10 : 0;
	u64 above_16m = below_4g > 16 * SZ_1M ? (below_4g - 16 * SZ_1M) >> 16 : 0;

	if (ext_kb > 0xffff)
		ext_kb = 0xffff;
	if (above_16m > 0xffff)
		above_16m = 0xffff;
	above_4g >>= 16;
	r->cmos[0x15] = 640 & 0xff;
	r->cmos[0x16] = 640 >> 8;
	r->cmos[0x17] = r->cmos[0x30] = ext_kb & 0xff;
	r->cmos[0x18] = r->cmos[0x31] = (ext_kb >> 8) & 0xff;
	r->cmos[0x34] = above_16m & 0xff;
	r->cmos[0x35] = (above_16m >> 8) & 0xff;
	r->cmos[0x5b] = above_4g & 0xff;
	r->cmos[0x5c] = (above_4g >> 8) & 0xff;
	r->cmos[0x5d] = (above_4g >> 16) & 0xff;
}

static void rtc__free(void *opaque)
{
	struct rtc *r = opaque;

	pthread_mutex_destroy(&r->lock);
	free(r);
}

int rtc__init(struct kvm *kvm, struct bus *bus, u64 base)
{
	struct rtc *r;
	int ret;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	r->cmos[RTC_REG_A] = 0x26;	/* 32.768 kHz time base, 1024 Hz rate */
	r->cmos[RTC_REG_B] = RTC_B_24H;
	rtc__set_memory(r, kvm->ram_size);
	ret = kvm__on_exit(kvm, rtc__free, r);
	if (ret) {
		rtc__free(r);
		return ret;
	}
	return bus_register(bus, base, 2, rtc__io, r, "cmos-rtc");
}
