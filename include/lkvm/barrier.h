/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_BARRIER_H
#define LKVM_BARRIER_H

/*
 * Memory ordering for memory shared with the guest (virtio rings).  Guest
 * memory is not declared _Atomic, so single accesses go through the
 * __atomic builtins (the same operations C11 atomics compile to) and
 * ordering comes from C11 fences.  Every use must say in a comment which
 * barrier on the other side it pairs with and what reordering it forbids.
 *
 * smp_mb():  full fence; the only one that orders an earlier store before
 *            a later load (the store-buffer pattern).
 * smp_wmb(): orders earlier stores before later stores (publishing data,
 *            then the index that makes it visible: message passing).
 * smp_rmb(): orders earlier loads before later loads (reading an index,
 *            then the data it covers).
 * smp_store_release()/smp_load_acquire(): the same message passing tied
 *            to the index access, preferred where one access publishes.
 *
 * A seq_cst read-modify-write does not order the plain accesses around it
 * against each other; follow it with smp_mb() where that matters.
 */
#include <stdatomic.h>

/*
 * ThreadSanitizer (make SANITIZE=thread) does not model fences: gcc warns
 * that it ignores them (-Wtsan).  The fences stay in the code and still
 * order the hardware; TSan merely derives no happens-before from them, so
 * the worst it can do is report a race that a fence in fact prevents --
 * never hide one.  Such a report is handled where it appears (see
 * tests/tsan.supp), not by silencing TSan here.
 */
#if defined(__SANITIZE_THREAD__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#define smp_mb()	atomic_thread_fence(memory_order_seq_cst)
#define smp_wmb()	atomic_thread_fence(memory_order_release)
#define smp_rmb()	atomic_thread_fence(memory_order_acquire)
#define smp_mb__after_rmw()	smp_mb()

/*
 * Message passing in the access itself: a release store orders every
 * earlier load and store before it, an acquire load every later one after
 * it.  Where one index publishes what precedes it, these say the same as
 * smp_wmb() before the store or smp_rmb() after the load (on arm64 they
 * are cheaper: stlr/ldar rather than a dmb), and ThreadSanitizer, which
 * models no fence, sees the pairing.
 */
#define smp_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define smp_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)

/* One untorn access the compiler may not split, merge or re-load. */
#define READ_ONCE(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

#endif
