/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which sanitizer this translation unit is built with, for the few places
 * that must know (seccomp's extra calls, the capability drop's treatment
 * of TSan's own thread, tests that budget RSS): GCC says so with
 * __SANITIZE_*__, clang with __has_feature().  Each is 0 or 1.
 */
#ifndef LKVM_SANITIZER_H
#define LKVM_SANITIZER_H

#if defined(__SANITIZE_ADDRESS__)
#define LKVM_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LKVM_ASAN	1
#endif
#endif
#ifndef LKVM_ASAN
#define LKVM_ASAN	0
#endif

#if defined(__SANITIZE_THREAD__)
#define LKVM_TSAN	1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LKVM_TSAN	1
#endif
#endif
#ifndef LKVM_TSAN
#define LKVM_TSAN	0
#endif

#endif
