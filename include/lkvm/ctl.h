/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_CTL_H
#define LKVM_CTL_H

/*
 * The per-VM control socket (ctl/): `lkvm list|stop|pause|resume|stat|
 * debug|balloon` talk to a running `lkvm run` through it.  Wire format in
 * ctl/proto.h, socket location in ctl/path.h.
 */
#include <stdbool.h>
#include <stdio.h>

struct kvm;
struct lkvm_config;
struct ctl_server;

/*
 * Server, in kvm__run().  ctl_server_open() runs before the VM is built:
 * it checks cfg->name, makes the directory and binds the socket (a stale
 * one is replaced, a live one is an error), printing why it failed;
 * -EINVAL/-EEXIST/-EPERM are usage errors.  ctl_server_attach() starts
 * answering on kvm->loop.  ctl_server_close() (NULL is fine) removes the
 * socket file and closes every connection.
 */
int ctl_server_open(const struct lkvm_config *cfg, struct ctl_server **out);
int ctl_server_attach(struct ctl_server *srv, struct kvm *kvm);
void ctl_server_close(struct ctl_server *srv);

/*
 * Client.  ctl_connect(): a connection to VM @name, or -ENOENT (no such
 * VM), -ECONNREFUSED (stale socket), another -errno.  ctl_request() sends
 * @argv (NULL-terminated) and waits for the reply: 0 with *@status (0 or
 * a negative errno from the VM) and *@body (malloc'ed, NUL-terminated),
 * or a negative errno when the connection failed.  A connection carries
 * any number of requests.
 *
 * ctl_call() is the one-shot form: the VM's status (0 or -errno) or the
 * connection's error, *@reply as ctl_request()'s body (NULL on failure).
 */
int ctl_connect(const char *name);
int ctl_request(int fd, const char *const argv[], int *status, char **body);
int ctl_call(const char *name, const char *const argv[], char **reply);

/* The client commands: `lkvm <cmd> ...`, argv[0] being <cmd>. */
bool ctl_cli_is_command(const char *cmd);
int ctl_cli_main(int argc, char **argv);
void ctl_cli_help(const char *cmd, FILE *f);

#endif
