/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest init (build/sandbox-init-<arch>, sandbox/init/init.c) inside
 * lkvm itself, so `lkvm sandbox` needs nothing next to the binary.  The
 * Makefile passes its path as SANDBOX_INIT_PATH.
 */
	.section .rodata
	.balign 16
	.globl sandbox_init_blob
sandbox_init_blob:
	.incbin SANDBOX_INIT_PATH
	.globl sandbox_init_blob_end
sandbox_init_blob_end:
	.byte 0

	.section .note.GNU-stack,"",%progbits
