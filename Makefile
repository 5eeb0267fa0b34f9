# lkvm — lightweight KVM hypervisor.  `make`, `make check`, `make run`.
#
#   make V=1            show every command
#   make SANITIZE=1     ASan + UBSan build (objects in build/obj-san)
#   make SANITIZE=thread  ThreadSanitizer build (objects in build/obj-tsan)
#   make fuzz [FUZZ_SECONDS=60]  libFuzzer targets (clang, build/obj-fuzz)
#   make fuzz-cov       line/branch coverage of the fuzz corpora (llvm-cov)
#   make CC=clang       any C11 compiler with GNU extensions
#   make STATIC=0       link the x86 lkvm dynamically (default: static-pie)
#   make install PREFIX=/usr/local DESTDIR=

ARCH		?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
CROSS_COMPILE	?=
CC		:= $(if $(filter default,$(origin CC)),$(CROSS_COMPILE)gcc,$(CC))
PKG_CONFIG	?= pkg-config
PREFIX		?= /usr/local
DESTDIR		?=
BUILD		:= build

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Objects from another compiler (make CC=clang) never mix with gcc's.
CC_NAME		:= $(notdir $(firstword $(CC)))
OBJ_SUFFIX	:= $(if $(filter gcc $(CROSS_COMPILE)gcc cc,$(CC_NAME)),,-$(CC_NAME))

# --- arm64 cross build: objects apart, static, libraries from a sysroot ---
# make ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- -> build/obj-arm64/lkvm.
# scripts/setup-arm64.sh unpacks Debian's arm64 libfdt/libaio/zlib/libseccomp into
# ARM64_SYSROOT; a native arm64 build uses the system's libraries.
ifeq ($(ARCH),arm64)
OBJ_SUFFIX	:= -arm64$(OBJ_SUFFIX)
ifneq ($(CROSS_COMPILE),)
LKVM_CACHE	?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/lkvm
ARM64_SYSROOT	?= $(LKVM_CACHE)/arm64-sysroot
PKG_CONFIG	:= false
ifneq ($(ARM64_DYNAMIC),1)
PROBE_FLAGS	:= -isystem $(ARM64_SYSROOT)/usr/include -static \
		   -L$(ARM64_SYSROOT)/usr/lib/aarch64-linux-gnu
CPPFLAGS	+= -isystem $(ARM64_SYSROOT)/usr/include
LDFLAGS		+= -static -L$(ARM64_SYSROOT)/usr/lib/aarch64-linux-gnu
endif
endif
endif

# --- arm64 cross build, dynamic variant: the same with -n mode=user -------
# make ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- ARM64_DYNAMIC=1
#   -> build/obj-arm64-dyn/lkvm.  Debian ships no static libslirp (nor a
# static-friendly glib), so this one links libslirp (and through it glib)
# dynamically from ARM64_SLIRP (scripts/arm64-fetch.sh), libfdt/libaio/
# zlib still statically.  At run time it needs the dynamic loader, libc
# and the libraries tests/arm64 copies next to it (scripts/arm64-initramfs.sh).
ifeq ($(ARCH)$(ARM64_DYNAMIC),arm641)
ifeq ($(CROSS_COMPILE),)
$(error ARM64_DYNAMIC=1 is for the cross build (CROSS_COMPILE=aarch64-linux-gnu-))
endif
OBJ_SUFFIX	:= $(subst -arm64,-arm64-dyn,$(OBJ_SUFFIX))
ARM64_SLIRP	?= $(LKVM_CACHE)/arm64-slirp
ARM64_LIBDIRS	:= -L$(ARM64_SYSROOT)/usr/lib/aarch64-linux-gnu \
		   -L$(ARM64_SLIRP)/usr/lib/aarch64-linux-gnu \
		   -Wl,-rpath-link,$(ARM64_SLIRP)/usr/lib/aarch64-linux-gnu \
		   -Wl,-rpath-link,$(ARM64_SLIRP)/lib/aarch64-linux-gnu
PROBE_FLAGS	:= -isystem $(ARM64_SYSROOT)/usr/include \
		   -isystem $(ARM64_SLIRP)/usr/include $(ARM64_LIBDIRS)
CPPFLAGS	+= -isystem $(ARM64_SYSROOT)/usr/include \
		   -isystem $(ARM64_SLIRP)/usr/include
LDFLAGS		+= $(ARM64_LIBDIRS)
endif

ifeq ($(SANITIZE),1)
OBJDIR		:= $(BUILD)/obj-san$(OBJ_SUFFIX)
SAN_FLAGS	:= -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
else ifeq ($(SANITIZE),thread)
# ThreadSanitizer: -O1 keeps reports' stacks readable and the run fast
# enough for the stress tests.  TSan cannot share a process with ASan.
OBJDIR		:= $(BUILD)/obj-tsan$(OBJ_SUFFIX)
SAN_FLAGS	:= -fsanitize=thread -fno-omit-frame-pointer
CFLAGS		?= -O1 -g
else ifeq ($(SANITIZE),fuzz)
# libFuzzer targets (tests/fuzz/): clang only; every object is built with
# the fuzzer's coverage hooks plus ASan/UBSan, the targets link the
# fuzzer's main() (-fsanitize=fuzzer at link time only).
CC		:= clang
OBJDIR		:= $(BUILD)/obj-fuzz
SAN_FLAGS	:= -fsanitize=fuzzer-no-link,address,undefined \
		   -fno-sanitize-recover=all -fno-omit-frame-pointer
else ifeq ($(SANITIZE),fuzzcov)
# The fuzz targets again, with clang's source-based coverage instead of
# the sanitizers, to replay a corpus and report which lines and branches
# it reached (`make fuzz-cov`).
CC		:= clang
OBJDIR		:= $(BUILD)/obj-fuzzcov
SAN_FLAGS	:= -fprofile-instr-generate -fcoverage-mapping
else ifneq ($(filter-out 0,$(SANITIZE)),)
$(error SANITIZE=$(SANITIZE): use SANITIZE=1 (ASan + UBSan), SANITIZE=thread (TSan), SANITIZE=fuzz (libFuzzer) or SANITIZE=fuzzcov (fuzz targets with coverage))
else
OBJDIR		:= $(BUILD)/obj$(OBJ_SUFFIX)
SAN_FLAGS	:=
endif
LKVM		:= $(OBJDIR)/lkvm

# A sanitizer report must never look like a guest's status: the default
# exit code 1 is exactly what a guest writing 0 to the test port gives.
# 66 is even (not a test-port status) and not one of lkvm's own codes.
SAN_ENV		:= ASAN_OPTIONS=exitcode=66:detect_leaks=1 \
		   UBSAN_OPTIONS=exitcode=66:print_stacktrace=1:halt_on_error=1 \
		   LSAN_OPTIONS=exitcode=66
# TSan: the first report ends the process with 66, and goes to a file
# in TSAN_LOGS as well as failing the process: a test that expects lkvm
# to fail, or kills it, cannot hide a race, because the run then fails
# on the file (tsan_run below).  tests/tsan.supp lists (and explains) the
# only reports that are not bugs.
TSAN_SUPP	:= $(abspath tests/tsan.supp)
TSAN_LOGS	:= $(abspath $(OBJDIR))/tsan-reports
ifeq ($(SANITIZE),thread)
SAN_ENV		+= TSAN_OPTIONS=exitcode=66:halt_on_error=1:second_deadlock_stack=1:suppressions=$(TSAN_SUPP):log_path=$(TSAN_LOGS)/report
# TSan runs the stress tests' threads 5-10x slower: a tenth of the
# buffers still interleave them millions of times (tests/stress/*.t).
SAN_ENV		+= STRESS_DIV=10
# $(call tsan_run,command): run it with TSAN_LOGS empty, then fail (with
# each report shown) if any process left one, whatever its status was.
tsan_run	= rm -rf $(TSAN_LOGS) && mkdir -p $(TSAN_LOGS) && { $(1); st=$$?; \
		  if [ -n "$$(ls -A $(TSAN_LOGS))" ]; then \
			cat $(TSAN_LOGS)/*; \
			echo "ThreadSanitizer reported (reports in $(TSAN_LOGS))" >&2; \
			exit 1; \
		  fi; exit $$st; }
else
tsan_run	= $(1)
endif

ifeq ($(ARCH),x86)
ARCH_DIR	:= x86
else ifeq ($(ARCH),arm64)
ARCH_DIR	:= arm
else
$(error lkvm does not support ARCH=$(ARCH) (x86 or arm64))
endif

GIT_VERSION	:= $(shell git describe --always --dirty 2>/dev/null || echo unknown)

CFLAGS		?= -O2 -g
CFLAGS		+= -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
		   -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
		   -D_GNU_SOURCE -pthread $(SAN_FLAGS)
CPPFLAGS	+= -Iinclude -I$(ARCH_DIR)/include -DLKVM_VERSION='"$(GIT_VERSION)"' -MMD -MP
LDFLAGS		+= -pthread $(SAN_FLAGS)
LDLIBS		:=

# --- libraries: pkg-config first, a compile probe second -----------------
# $(call lib_probe,pc-name,header,-lname,debian-package)
# PROBE_CC is the compiler the probe asks (tests/build/fresh-setup.t
# stands in one that sees no libraries until its fake set-up has run).
PROBE_CC	?= $(CC)
define lib_probe
$(if $(shell $(PKG_CONFIG) --exists $(1) 2>/dev/null && echo y),\
  $(eval CPPFLAGS += $(shell $(PKG_CONFIG) --cflags $(1)))\
  $(eval LDLIBS += $(shell $(PKG_CONFIG) --libs $(1))),\
  $(if $(shell printf '#include <$(2)>\nint main(void){return 0;}\n' | \
		$(PROBE_CC) $(PROBE_FLAGS) -x c - -o /dev/null $(3) 2>/dev/null && echo y),\
    $(eval LDLIBS += $(3)),\
    $(eval MISSING_PKGS += $(4))))
endef

# Make expands $(error) while it reads this file, before any recipe runs,
# so the probe must not run in a make whose job is to install the
# libraries first: `make run` and `make check` run set-up, then build in a
# sub-make that reads this file (and probes) again.  Any other goal
# (plain `make` included) probes now and names what is missing.
NO_PROBE_GOALS	:= clean help setup run check check-tsan fuzz fuzz-cov bench
ifneq ($(MAKECMDGOALS),)
ifeq ($(filter-out $(NO_PROBE_GOALS),$(MAKECMDGOALS)),)
SKIP_PROBE	:= 1
endif
endif

ifneq ($(SKIP_PROBE),1)
$(call lib_probe,libfdt,libfdt.h,-lfdt,libfdt-dev)
$(call lib_probe,libaio,libaio.h,-laio,libaio-dev)
$(call lib_probe,zlib,zlib.h,-lz,zlib1g-dev)
# The per-thread syscall filters (kvm/seccomp.c); the arm64 cross build
# links Debian's static libseccomp.a from the sysroot.
$(call lib_probe,libseccomp,seccomp.h,-lseccomp,libseccomp-dev)
# libslirp is optional: static and cross builds (Debian ships no
# libslirp.a) get lkvm without -n mode=user, which then says so.
$(call lib_probe,slirp,slirp/libslirp.h,-lslirp,libslirp-dev)
ifneq ($(filter libslirp-dev,$(MISSING_PKGS)),)
MISSING_PKGS	:= $(filter-out libslirp-dev,$(MISSING_PKGS))
NO_SLIRP	:= 1
endif
# The dynamic arm64 variant: only libslirp (and glib under it) shared.
ifeq ($(ARCH)$(ARM64_DYNAMIC),arm641)
ifeq ($(NO_SLIRP),1)
$(error ARM64_DYNAMIC=1: no arm64 libslirp in $(ARM64_SLIRP) (scripts/arm64-fetch.sh))
endif
# --no-as-needed: lkvm calls libslirp only through dlopen() (net/slirp-dl.c),
# and scripts/arm64-initramfs.sh copies what the binary says it needs.
LDLIBS		:= -Wl,-Bstatic $(filter-out -lslirp,$(LDLIBS)) -Wl,-Bdynamic \
		   -Wl,--no-as-needed -lslirp
else
# Elsewhere libslirp is not linked but dlopen()ed by the first
# -n mode=user (net/slirp-dl.c): no glib in a VM without user networking.
LDLIBS		:= $(filter-out -lslirp,$(LDLIBS))
endif
ifneq ($(strip $(MISSING_PKGS)),)
$(error missing libraries; install the Debian packages: $(MISSING_PKGS) (`make setup` or scripts/setup.sh installs them; `make run` and `make check` do it first))
endif
endif

.DELETE_ON_ERROR:

# --- sources ---------------------------------------------------------------
CORE_SRCS	:= $(wildcard kvm/*.c) $(wildcard cli/*.c) $(wildcard term/*.c) \
		   $(wildcard ctl/*.c) \
		   $(wildcard hw/*.c) $(wildcard virtio/*.c) \
		   $(wildcard net/*.c) $(wildcard disk/*.c) \
		   $(wildcard fs/*.c) $(wildcard sandbox/*.c) \
		   $(wildcard $(ARCH_DIR)/*.c)
# net/user-fds.c (slirp's fd table) needs no libslirp: built either way,
# so its unit test runs on every build.
ifeq ($(NO_SLIRP),1)
CORE_SRCS	:= $(filter-out net/user.c net/slirp-dl.c,$(CORE_SRCS))
else
CORE_SRCS	:= $(filter-out net/user-none.c,$(CORE_SRCS))
endif
CORE_OBJS	:= $(patsubst %.c,$(OBJDIR)/%.o,$(CORE_SRCS)) \
		   $(OBJDIR)/sandbox/init-blob.o
MAIN_OBJ	:= $(OBJDIR)/main.o

# Pure parsers of the other architecture's boot formats, built on every
# host so that their unit tests run in every `make check`; lkvm itself
# links only its own architecture's copy.
XARCH_SRCS	:= arm/image.c
XARCH_OBJS	:= $(patsubst %.c,$(OBJDIR)/%.o,$(filter-out $(CORE_SRCS),$(XARCH_SRCS)))
.SECONDARY: $(XARCH_OBJS)

# Unit tests mirror the source: tests/unit/<dir>/<file>.c tests <dir>/<file>.c
# (a second test of the same file adds -<aspect>).  The other architecture's
# tests build only where its code does (arm/image.c is built everywhere).
UNIT_SRCS	:= $(wildcard tests/unit/*/*.c)
ifneq ($(ARCH),x86)
UNIT_SRCS	:= $(filter-out tests/unit/x86/%,$(UNIT_SRCS))
endif
ifneq ($(ARCH),arm64)
ARM64_UNIT_SRCS	:= $(filter-out $(patsubst %.c,tests/unit/%.c,$(XARCH_SRCS)),\
		     $(filter tests/unit/arm/%,$(UNIT_SRCS)))
UNIT_SRCS	:= $(filter-out $(ARM64_UNIT_SRCS),$(UNIT_SRCS))
endif
UNIT_TESTS	:= $(patsubst tests/unit/%.c,$(OBJDIR)/tests/unit/%.t,$(UNIT_SRCS))

# On x86 the other arm tests still run: scripts/arm64-unit.sh cross-builds
# them (static, in build/obj-arm64/) and makes each .t here run its binary
# under qemu-user, or report SKIP with what is missing.
ifeq ($(ARCH),x86)
ARM64_UNIT_TESTS := $(patsubst tests/unit/%.c,$(OBJDIR)/tests/unit/%.t,$(ARM64_UNIT_SRCS))
UNIT_TESTS	+= $(ARM64_UNIT_TESTS)
endif

# Unit tests that replace a libc call with a scripted fake (the vGIC's
# KVM ioctls): the test defines __wrap_<call>, lkvm's code is unchanged.
$(OBJDIR)/tests/unit/arm/gic.t: TEST_LDFLAGS := -Wl,--wrap=ioctl
# hw/: the tests record (or silence) the interrupt levels devices drive.
$(OBJDIR)/tests/unit/hw/pm.t $(OBJDIR)/tests/unit/hw/serial8250.t \
	$(OBJDIR)/tests/unit/hw/pl061.t: \
	TEST_LDFLAGS := -Wl,--wrap=kvm__set_irq_line
# fs/p9 on a kernel without fchmodat2: the test answers ENOSYS for it.
$(OBJDIR)/tests/unit/fs/p9-ops-compat.t: TEST_LDFLAGS := -Wl,--wrap=syscall
# virtio/9p: the test delays the workers' completions to widen a window.
$(OBJDIR)/tests/unit/virtio/9p.t: TEST_LDFLAGS := -Wl,--wrap=virtio_queue_complete
# disk/qcow2: the test fails one chosen metadata write.
$(OBJDIR)/tests/unit/disk/qcow2-wfail.t: TEST_LDFLAGS := -Wl,--wrap=full_pwrite
# disk/disk.c: the test's free() changes errno, as C allows.
$(OBJDIR)/tests/unit/disk/open-errno.t: TEST_LDFLAGS := -Wl,--wrap=free

# --- lkvm sandbox's guest init: static, one per guest architecture --------
# Built with gcc for the guest (never $(CC): make CC=clang or a sanitized
# build must not change what runs inside the guest), only where that
# compiler exists: on x86, build/sandbox-init-arm64 needs
# aarch64-linux-gnu-gcc (scripts/setup-arm64.sh installs it).
HOST_MACHINE	:= $(shell uname -m)
ifeq ($(HOST_MACHINE),aarch64)
INIT_CC_arm64	?= gcc
INIT_CC_x86_64	?= x86_64-linux-gnu-gcc
else
INIT_CC_x86_64	?= gcc
INIT_CC_arm64	?= aarch64-linux-gnu-gcc
endif
SANDBOX_INIT_SRCS := sandbox/init/init.c sandbox/initcfg.c sandbox/report.c
SANDBOX_INIT_DEPS := $(SANDBOX_INIT_SRCS) sandbox/initcfg.h sandbox/report.h
SANDBOX_INITS	:= $(foreach a,x86_64 arm64,$(if $(shell command -v $(INIT_CC_$(a)) 2>/dev/null),$(BUILD)/sandbox-init-$(a)))
INIT_CFLAGS	:= -std=gnu11 -Os -static -s -Wall -Wextra -Werror -Wshadow \
		   -Wstrict-prototypes -Wmissing-prototypes -D_GNU_SOURCE

$(BUILD)/sandbox-init-%: $(SANDBOX_INIT_DEPS)
	@mkdir -p $(dir $@)
	@echo "  INIT    $@"
	$(Q)$(INIT_CC_$*) $(INIT_CFLAGS) -o $@ $(SANDBOX_INIT_SRCS)

.PHONY: all
all: $(LKVM) lkvm $(SANDBOX_INITS)

# lkvm carries its own architecture's init (sandbox/init-blob.S), so it
# is built before lkvm links, whatever SANDBOX_INITS found.
SANDBOX_INIT	:= $(BUILD)/sandbox-init-$(if $(filter x86,$(ARCH)),x86_64,arm64)

$(OBJDIR)/sandbox/init-blob.o: sandbox/init-blob.S $(SANDBOX_INIT)
	@mkdir -p $(dir $@)
	@echo "  AS      $@"
	$(Q)$(CC) $(filter-out -MMD -MP,$(CPPFLAGS)) -DSANDBOX_INIT_PATH='"$(SANDBOX_INIT)"' -c -o $@ $<

# The x86 lkvm links statically (static-pie, so ASLR still moves it): a
# dynamic one maps libc, ld.so, libz, libaio and libseccomp whole, and
# the kernel's fault-around keeps about 0.8 MiB more of their pages
# resident in every VM (README "Performance").  A section per function
# lets the linker drop what is unused and keep start-up-only and cold
# code (.text.startup, .text.unlikely) together, away from the pages an
# idle VM runs: another ~70 KiB.  libslirp is dlopen()ed either way
# (net/slirp-dl.c checks the system's glibc is the one linked in: the
# reason for the linker's warning about dlopen in a static program).
# STATIC=0 links dynamically; sanitizer builds always do.
ifeq ($(ARCH)$(SAN_FLAGS),x86)
ifneq ($(STATIC),0)
LKVM_LDFLAGS	:= -static-pie -Wl,--gc-sections
CFLAGS		+= -ffunction-sections -fdata-sections
endif
endif

$(LKVM): $(MAIN_OBJ) $(CORE_OBJS)
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) $(LKVM_LDFLAGS) -o $@ $(filter %.o,$^) $(LDLIBS)

# The conventional ./lkvm is the plain gcc build; others stay in build/.
lkvm: $(LKVM)
ifeq ($(SANITIZE)$(OBJ_SUFFIX),)
	$(Q)ln -sf $(LKVM) $@
else
	@true
endif

$(OBJDIR)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(OBJDIR)/tests/unit/%.t: tests/unit/%.c $(CORE_OBJS) $(XARCH_OBJS)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(CPPFLAGS) -I. -Itests/lib $(CFLAGS) $(LDFLAGS) $(TEST_LDFLAGS) -o $@ $< $(CORE_OBJS) $(XARCH_OBJS) $(LDLIBS)

ifneq ($(ARM64_UNIT_TESTS),)
$(ARM64_UNIT_TESTS) &: $(ARM64_UNIT_SRCS) scripts/arm64-unit.sh FORCE
	$(Q)scripts/arm64-unit.sh "$(MAKE)" $(BUILD) "$(V)" $(ARM64_UNIT_TESTS)
endif
.PHONY: FORCE
FORCE:

# The virtqueue ordering stress test, linked against the real queue code,
# and copies with one full barrier compiled out each (VRING_TEST_NO_MB_*,
# for this only) to prove the test catches the absence of either.  The
# same for the vCPU request/kick protocol (kvm/vcpu-req.c): on x86 only
# the vCPU side's barrier can be shown needed natively.
STRESS_BINS	:= $(OBJDIR)/tests/stress/vring-order \
		   $(OBJDIR)/tests/stress/vring-order-nomb-irq \
		   $(OBJDIR)/tests/stress/vring-order-nomb-arm \
		   $(OBJDIR)/tests/stress/vcpu-req \
		   $(OBJDIR)/tests/stress/vcpu-req-nomb-enter
STRESS_DEPS	:= $(OBJDIR)/kvm/guest_mem.o

# The barrier-less mutants show that a missing fence loses a wakeup on
# this CPU.  Under TSan they are built without it: a missing fence between
# atomic accesses is no data race, so TSan has nothing to say about them,
# and its slowdown makes the lost wakeup they must show rare (no loss in
# 10^6 buffers seen here).  Their barrier-keeping twins are TSan's.
ifeq ($(SANITIZE),thread)
MUTANT_CFLAGS	= $(filter-out -fsanitize=thread,$(CFLAGS))
MUTANT_LDFLAGS	= $(filter-out -fsanitize=thread,$(LDFLAGS))
MUTANT_DEPS	:= $(OBJDIR)/tests/stress/guest_mem-mutant.o

$(OBJDIR)/tests/stress/guest_mem-mutant.o: kvm/guest_mem.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(MUTANT_CFLAGS) -c -o $@ $<
else
MUTANT_CFLAGS	= $(CFLAGS)
MUTANT_LDFLAGS	= $(LDFLAGS)
MUTANT_DEPS	:= $(STRESS_DEPS)
endif

# Static pattern rules: a plain pattern would also offer to build the
# included .d files (through make's %: %.o), with a bogus -D.
VRING_NOMB	:= irq arm

$(patsubst %,$(OBJDIR)/tests/stress/vring-nomb-%.o,$(VRING_NOMB)): \
		$(OBJDIR)/tests/stress/vring-nomb-%.o: virtio/vring.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(MUTANT_CFLAGS) \
		-DVRING_TEST_NO_MB_$(shell echo $* | tr a-z A-Z) -c -o $@ $<

$(OBJDIR)/tests/stress/vring-order: tests/stress/vring-order.c \
		$(OBJDIR)/virtio/vring.o $(STRESS_DEPS)
	@mkdir -p $(dir $@)
	@echo "  STRESS  $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^)

$(patsubst %,$(OBJDIR)/tests/stress/vring-order-nomb-%,$(VRING_NOMB)): \
		$(OBJDIR)/tests/stress/vring-order-nomb-%: tests/stress/vring-order.c \
		$(OBJDIR)/tests/stress/vring-nomb-%.o $(MUTANT_DEPS)
	@mkdir -p $(dir $@)
	@echo "  STRESS  $@"
	$(Q)$(CC) $(CPPFLAGS) $(MUTANT_CFLAGS) $(MUTANT_LDFLAGS) -o $@ $(filter %.c %.o,$^)

$(OBJDIR)/tests/stress/vcpu-req-nomb-enter.o: kvm/vcpu-req.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(MUTANT_CFLAGS) -DVCPU_REQ_TEST_NO_MB_ENTER -c -o $@ $<

$(OBJDIR)/tests/stress/vcpu-req: tests/stress/vcpu-req.c $(OBJDIR)/kvm/vcpu-req.o
	@mkdir -p $(dir $@)
	@echo "  STRESS  $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^) -lpthread

$(OBJDIR)/tests/stress/vcpu-req-nomb-enter: tests/stress/vcpu-req.c \
		$(OBJDIR)/tests/stress/vcpu-req-nomb-enter.o
	@mkdir -p $(dir $@)
	@echo "  STRESS  $@"
	$(Q)$(CC) $(CPPFLAGS) $(MUTANT_CFLAGS) $(MUTANT_LDFLAGS) -o $@ $(filter %.c %.o,$^) -lpthread

# --- tests/disk: disk-tool drives the block backends without a guest ------
# (linked like the unit tests: every lkvm object but main.o).  Built by
# `make check` with the stress binaries; tests/disk/*.t find it next to
# $(LKVM).
DISK_TOOL	:= $(OBJDIR)/tests/disk/disk-tool
STRESS_BINS	+= $(DISK_TOOL)

$(DISK_TOOL): tests/disk/disk-tool.c $(CORE_OBJS)
	@mkdir -p $(dir $@)
	@echo "  TOOL    $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(CORE_OBJS) $(LDLIBS)

# --- tests/ctl: misbehaving control-socket clients (tests/guest/60-control.t)
CTL_ABUSE	:= $(OBJDIR)/tests/ctl/ctl-abuse
STRESS_BINS	+= $(CTL_ABUSE)
CTL_CLIENT_OBJS	:= $(patsubst %,$(OBJDIR)/ctl/%.o,proto client path)

$(CTL_ABUSE): tests/ctl/ctl-abuse.c $(CTL_CLIENT_OBJS)
	@mkdir -p $(dir $@)
	@echo "  TOOL    $@"
	$(Q)$(CC) $(CPPFLAGS) -I. $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^)

# The pause/resume driver of tests/guest/56-pause-stress.t.
PAUSE_CYCLES	:= $(OBJDIR)/tests/stress/pause-cycles
STRESS_BINS	+= $(PAUSE_CYCLES)

$(PAUSE_CYCLES): tests/stress/pause-cycles.c $(CTL_CLIENT_OBJS)
	@mkdir -p $(dir $@)
	@echo "  TOOL    $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^)

# --- tests/fuzz: libFuzzer targets, linked like the unit tests ------------
# Built only with SANITIZE=fuzz (`make fuzz` and tests/fuzz/fuzz.t ask
# for them so).  Each is tests/fuzz/<target>.c with its seed corpus in
# tests/fuzz/corpus/<target>/.
FUZZ_TARGETS	:= $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/*.c))
FUZZ_BINS	:= $(patsubst %,$(OBJDIR)/tests/fuzz/%,$(FUZZ_TARGETS))
FUZZ_SECONDS	?= 60

$(OBJDIR)/tests/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(CORE_OBJS)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)$(CC) $(CPPFLAGS) -I. $(CFLAGS) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< $(CORE_OBJS) $(LDLIBS)

.PHONY: fuzz fuzz-bins fuzz-cov
fuzz-bins: $(FUZZ_BINS)

# make fuzz: each target for FUZZ_SECONDS; new inputs go to
# build/fuzz/<target>/corpus (the committed seeds stay as they are), a
# crash to build/fuzz/<target>/.
fuzz:
	$(Q)$(MAKE) --no-print-directory SANITIZE=fuzz fuzz-bins
	$(Q)st=0; for t in $(FUZZ_TARGETS); do \
		tests/fuzz/run.sh $(BUILD)/obj-fuzz/tests/fuzz/$$t $$t \
			$(BUILD)/fuzz $(FUZZ_SECONDS) || st=1; \
	done; exit $$st

# make fuzz-cov: replays each target's seeds plus what `make fuzz` found
# (FUZZ_OUT, default build/fuzz) through a coverage build and writes
# llvm-cov's per-file line and branch figures to build/fuzz-cov/.
FUZZ_OUT	?= $(BUILD)/fuzz
fuzz-cov:
	$(Q)$(MAKE) --no-print-directory SANITIZE=fuzzcov fuzz-bins
	$(Q)tests/fuzz/cov.sh $(BUILD)/obj-fuzzcov/tests/fuzz $(FUZZ_OUT) \
		$(BUILD)/fuzz-cov $(FUZZ_TARGETS)

-include $(wildcard $(OBJDIR)/*.d $(OBJDIR)/*/*.d $(OBJDIR)/*/*/*.d $(OBJDIR)/*/*/*/*.d)

# --- bare-metal test guests (always the host gcc, never sanitized) ----------
ifeq ($(ARCH),x86)
-include guest/Makefile.inc
endif

# --- set-up, tests, running --------------------------------------------------
.PHONY: setup check check-unit check-tsan run bench install clean

# SETUP: the set-up command (tests/build/fresh-setup.t replaces it).
SETUP		?= scripts/setup.sh
setup:
	$(Q)$(SETUP)

PROVE		?= prove
PROVE_FLAGS	?= --timer
TESTS		?= $(UNIT_TESTS) $(sort $(wildcard tests/guest/*.t tests/linux/*.t tests/qemu/*.t tests/build/*.t \
			   tests/stress/*.t tests/models/*.t tests/arm64/*.t tests/net/*.t tests/disk/*.t \
			   tests/sandbox/*.t tests/fuzz/*.t))

# The main guest suite runs as an ordinary user (scripts/as-test-user.sh:
# lkvm-test when make check runs as root, else the caller); the rest as
# the caller, as before.
GUEST_TESTS	= $(filter tests/guest/%,$(TESTS))
OTHER_TESTS	= $(filter-out tests/guest/%,$(TESTS))
# Guest tests with checks only root can make (another uid against the
# control socket, a hugetlbfs mount) say `# also-as-root`; under root,
# make check runs them a second time as root so those checks still run.
ROOT_GUEST_TESTS = $(if $(GUEST_TESTS),$(shell grep -l '^# also-as-root' $(GUEST_TESTS)))
# Every test runs through scripts/tap-keep.sh, which keeps the output of
# those that fail in CHECK_FAILS; a failed run ends with what they said
# (scripts/check-recap.sh), where a CI log's tail shows it.
CHECK_FAILS	:= $(abspath $(OBJDIR))/check-failed
CHECK_ENV	= LKVM=$(abspath $(LKVM)) GUEST_DIR=$(abspath $(BUILD)/guest) \
		  LKVM_BUILD=$(abspath $(BUILD)) LKVM_CHECK_FAILS=$(CHECK_FAILS) \
		  $(SAN_ENV)
CHECK_RUN	= $(PROVE) --exec $(abspath scripts/tap-keep.sh) $(PROVE_FLAGS)
CHECK_PROVE	= rm -rf $(CHECK_FAILS) && mkdir -p $(CHECK_FAILS) && { cst=0; \
		  $(if $(OTHER_TESTS),$(CHECK_ENV) $(CHECK_RUN) $(OTHER_TESTS) || cst=1;) \
		  $(if $(GUEST_TESTS),$(CHECK_ENV) \
			LKVM_TEST_WRITABLE="$(CHECK_FAILS) $(if $(filter thread,$(SANITIZE)),$(TSAN_LOGS))" \
			scripts/as-test-user.sh $(CHECK_RUN) $(GUEST_TESTS) || cst=1;) \
		  $(if $(ROOT_GUEST_TESTS),[ "$$(id -u)" != 0 ] || { $(CHECK_ENV) \
			$(CHECK_RUN) $(ROOT_GUEST_TESTS) || cst=1; };) \
		  [ $$cst = 0 ] || { scripts/check-recap.sh $(CHECK_FAILS); false; }; }

# make check: install what is missing, build, and run every test under prove.
check: setup
	$(Q)$(MAKE) --no-print-directory all $(if $(GUEST_IMAGES),guests) \
		$(UNIT_TESTS) $(STRESS_BINS)
	$(Q)$(call tsan_run,$(CHECK_PROVE))
ifeq ($(filter-out 0,$(SANITIZE))$(filter 0,$(CHECK_TSAN)),)
	$(Q)$(MAKE) --no-print-directory check-tsan
endif

# make check-tsan: the ThreadSanitizer build's suite -- unit, stress and
# guest tests, and the disk guest test whose queues each have a thread, a
# prove run of its own (`make check` ends with it; the Linux, qemu and
# arm64 suites are not repeated under TSan).  CHECK_TSAN=0 leaves it out
# of `make check`.
TSAN_TESTS	= $(UNIT_TESTS) $(sort $(wildcard tests/stress/*.t tests/guest/*.t)) \
		  tests/disk/40-guest.t
check-tsan:
	$(Q)$(MAKE) --no-print-directory SANITIZE=thread CHECK_TSAN=0 \
		TESTS='$$(TSAN_TESTS)' check

# make check-unit [T=virtio/core]: the unit tests, or those of the source
# files named (T=virtio/core runs tests/unit/virtio/core*.c; T=virtio all of
# virtio/).
T		?=
CHECK_UNIT	:= $(if $(T),$(filter $(foreach t,$(T),$(OBJDIR)/tests/unit/$(t).t \
			$(OBJDIR)/tests/unit/$(t)-%.t $(OBJDIR)/tests/unit/$(t)/%.t),$(UNIT_TESTS)),$(UNIT_TESTS))
check-unit: $(CHECK_UNIT)
	$(if $(CHECK_UNIT),,$(error no unit test matches T=$(T); they are tests/unit/<dir>/<file>.c))
	$(Q)$(call tsan_run,$(SAN_ENV) $(PROVE) $(PROVE_FLAGS) $(CHECK_UNIT))

# make bench: every benchmark of tests/bench/ against lkvm and QEMU in the
# same run (tests/bench/run.sh: BENCH_ONLY, BENCH_REPS, ... there); the
# Markdown table and the plot go to build/bench/.
bench: setup
	$(Q)$(MAKE) --no-print-directory all guests
	$(Q)LKVM=$(abspath $(LKVM)) GUEST_DIR=$(abspath $(BUILD)/guest) \
		tests/bench/run.sh $(abspath $(BUILD)/bench)

# make run: boot the demo guest, or KERNEL=... [INITRD=...] [PARAMS=...].
KERNEL		?=
INITRD		?=
PARAMS		?=
RUN_ARGS	?= -c 2 -m 128M
run: setup
	$(Q)$(MAKE) --no-print-directory all $(if $(KERNEL),,guests)
	$(Q)$(LKVM) run $(RUN_ARGS) \
		-k $(if $(KERNEL),$(KERNEL),$(BUILD)/guest/demo.bzImage) \
		$(if $(INITRD),-i $(INITRD)) $(if $(PARAMS),-p "$(PARAMS)")

install: $(LKVM)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(LKVM) $(DESTDIR)$(PREFIX)/bin/lkvm

clean:
	rm -rf $(BUILD) lkvm
