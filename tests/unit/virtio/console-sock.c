// SPDX-License-Identifier: GPL-2.0
/*
 * virtio/console.c's output to a socket whose reader stops reading (a
 * journal stream, a harness's socketpair): console-stall.c's checks, the
 * output a stream socket with a small send buffer that the device writes
 * with MSG_DONTWAIT.
 */
#define STALL_SOCKET 1
#include "console-stall.c"
