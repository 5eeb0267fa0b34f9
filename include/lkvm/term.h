/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_TERM_H
#define LKVM_TERM_H

#include "lkvm/types.h"

/*
 * The console's terminal (term/term.c): raw while the guest owns it,
 * restored on every exit path, or a pty with --tty.
 */
void term__init(void);
/* The console's fds: stdin/stdout, or the pty of term__open_pty(). */
int term__in_fd(void);
int term__out_fd(void);
/* --tty N: moves the console to a new pty and prints its name. */
int term__open_pty(unsigned int n);
void term__restore(void);
bool term__is_raw(void);
bool term__output_lost(void);
void term__output_failed(const char *who, int err);

#endif
