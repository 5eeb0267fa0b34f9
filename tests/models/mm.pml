/*
 * A weak memory model for lkvm's protocol models, close to what arm64
 * allows (tests/models/README.md says how it is used and what it leaves
 * out).  A model defines NPROC (threads that use memory) and NVAR (shared
 * variables, named with #define X 0, Y 1, ...) before including this,
 * declares MM_LOCALS in every thread and runs MM_START(t) for each.
 *
 * - Stores go into the thread's store buffer (SBSZ entries) and reach
 *   memory later, in any order (store->store reordering), except that
 *   two stores to one variable keep their order and smp_wmb() keeps the
 *   stores before it ahead of those after it.  A thread reads its own
 *   buffered stores (store forwarding); others do not see them until
 *   they commit.  A committer process per thread drains its buffer at
 *   any moment, so the stores of a thread that blocks still land.
 * - Loads may be satisfied early: a load returns memory's value now, or
 *   the value the variable had at the thread's last read barrier
 *   (smp_rmb, smp_mb, an acquire), unless the thread has already read a
 *   newer one (coherence).  That is load->load reordering.
 * - smp_mb() waits for the buffer to drain and refreshes the view.
 * - An atomic RMW reads the newest value and buffers its write like a
 *   store: as with a C11 RMW, it orders nothing around it, so a later
 *   load may be satisfied before other threads see the write.  Only its
 *   atomicity is kept: while the write is buffered (rmw_owner), no
 *   other thread's RMW of the variable proceeds and no other thread's
 *   store to it commits.
 *
 * Not modelled: load->store reordering (the load-buffering shape), and
 * reading a value between the view's and memory's; neither is needed
 * for the lost wake-ups these models look for.
 */
#define SBSZ	3

int mem[NVAR];
/* The thread (+ 1) whose RMW write to a variable is still buffered. */
byte rmw_owner[NVAR];

typedef sbuf_t {
	byte var[SBSZ];
	int val[SBSZ];
	byte seq[SBSZ];		/* program order of the stores */
	byte ep[SBSZ];		/* smp_wmb() epoch of the store */
	bool used[SBSZ];
	byte nextseq;
	byte epoch;
};
sbuf_t sb[NPROC];

/*
 * Per thread: each variable's value at its last read barrier, whether
 * memory changed since (dirty), and whether it has read the newer value
 * (after which the old one may not come back).
 */
typedef view_t {
	int val[NVAR];
	bool dirty[NVAR];
	bool seen_new[NVAR];
};
view_t vw[NPROC];

/* Entry j of thread t must commit before entry i. */
#define MM_BEFORE(t, j, i)						\
	(j != i && sb[t].used[j] &&					\
	 ((sb[t].var[j] == sb[t].var[i] && sb[t].seq[j] < sb[t].seq[i]) || \
	  sb[t].ep[j] < sb[t].ep[i]))
/*
 * ... and while another thread's RMW write to the same variable is
 * buffered, no plain store to it lands between that RMW's read and its
 * write (atomicity).
 */
#define MM_CAN_COMMIT(t, i)						\
	(sb[t].used[i] && !MM_BEFORE(t, 0, i) && !MM_BEFORE(t, 1, i) &&	\
	 !MM_BEFORE(t, 2, i) &&						\
	 (rmw_owner[sb[t].var[i]] == 0 ||				\
	  rmw_owner[sb[t].var[i]] == t + 1))
#define MM_PENDING(t, x, j)	(sb[t].used[j] && sb[t].var[j] == x)
#define MM_NONE_PENDING(t, x)						\
	(!MM_PENDING(t, x, 0) && !MM_PENDING(t, x, 1) && !MM_PENDING(t, x, 2))
#define MM_EMPTY(t)	(!sb[t].used[0] && !sb[t].used[1] && !sb[t].used[2])
#define MM_FULL(t)	(sb[t].used[0] && sb[t].used[1] && sb[t].used[2])

/*
 * After entry i left the buffer: sequence numbers and epochs are kept
 * as ranks among the entries still buffered, so that a thread looping
 * forever does not make the state space infinite.
 */
#define MM_RENUMBER(t, i, k)						\
	k = 0;								\
	do								\
	:: k < SBSZ ->							\
		if							\
		:: sb[t].used[k] && sb[t].seq[k] > sb[t].seq[i] ->	\
			sb[t].seq[k]--					\
		:: else -> skip						\
		fi;							\
		k++							\
	:: else -> break						\
	od;								\
	sb[t].nextseq--;						\
	if								\
	:: (!sb[t].used[0] || sb[t].ep[0] > 0) &&			\
	   (!sb[t].used[1] || sb[t].ep[1] > 0) &&			\
	   (!sb[t].used[2] || sb[t].ep[2] > 0) && sb[t].epoch > 0 ->	\
		/* no entry is left in the oldest epoch: shift down */	\
		k = 0;							\
		do							\
		:: k < SBSZ ->						\
			if						\
			:: sb[t].used[k] -> sb[t].ep[k]--		\
			:: else -> skip					\
			fi;						\
			k++						\
		:: else -> break					\
		od;							\
		sb[t].epoch--						\
	:: else -> skip							\
	fi

/* Commits entry i of thread t (inside an atomic sequence, k a local). */
#define MM_COMMIT(t, i, k)						\
	mem[sb[t].var[i]] = sb[t].val[i];				\
	k = 0;								\
	do								\
	:: k < NPROC -> vw[k].dirty[sb[t].var[i]] = true; k++		\
	:: else -> break						\
	od;								\
	sb[t].used[i] = false;						\
	if								\
	:: rmw_owner[sb[t].var[i]] == t + 1 &&				\
	   MM_NONE_PENDING(t, sb[t].var[i]) ->				\
		rmw_owner[sb[t].var[i]] = 0				\
	:: else -> skip							\
	fi;								\
	MM_RENUMBER(t, i, k)

/* The committer of thread t: drains its store buffer, in any order. */
proctype committer(byte t)
{
	byte k;

end:	do
	:: atomic { MM_CAN_COMMIT(t, 0) -> MM_COMMIT(t, 0, k) }
	:: atomic { MM_CAN_COMMIT(t, 1) -> MM_COMMIT(t, 1, k) }
	:: atomic { MM_CAN_COMMIT(t, 2) -> MM_COMMIT(t, 2, k) }
	od
}

/* The view half of a read barrier: later loads see at least this. */
#define MM_REFRESH(t, k)						\
	k = 0;								\
	do								\
	:: k < NVAR ->							\
		vw[t].val[k] = mem[k];					\
		vw[t].dirty[k] = false;					\
		vw[t].seen_new[k] = false;				\
		k++							\
	:: else -> break						\
	od

/* Appends a store of v to x to thread t's buffer (room checked). */
#define MM_BUFFER(t, x, v)						\
	mm_i = 0;							\
	do								\
	:: sb[t].used[mm_i] -> mm_i++					\
	:: else -> break						\
	od;								\
	sb[t].var[mm_i] = x;						\
	sb[t].val[mm_i] = v;						\
	sb[t].seq[mm_i] = sb[t].nextseq;				\
	sb[t].ep[mm_i] = sb[t].epoch;					\
	sb[t].used[mm_i] = true;					\
	sb[t].nextseq++

/* The newest value of x thread t can see: its own buffer, or memory. */
#define MM_NEWEST(t, x, r)						\
	mm_i = 0; mm_f = 255;						\
	do								\
	:: mm_i < SBSZ ->						\
		if							\
		:: MM_PENDING(t, x, mm_i) &&				\
		   (mm_f == 255 || sb[t].seq[mm_i] > sb[t].seq[mm_f]) ->	\
			mm_f = mm_i					\
		:: else -> skip						\
		fi;							\
		mm_i++							\
	:: else -> break						\
	od;								\
	if								\
	:: mm_f != 255 -> r = sb[t].val[mm_f]				\
	:: else -> r = mem[x];						\
		if							\
		:: vw[t].dirty[x] -> vw[t].seen_new[x] = true		\
		:: else -> skip						\
		fi							\
	fi

/* STORE(t, x, v): buffered; waits while the buffer is full. */
#define STORE(t, x, v)	atomic { !MM_FULL(t) -> MM_BUFFER(t, x, v) }

/* LOAD(t, x, r): the newest value, or the one at the last read barrier. */
#define LOAD(t, x, r)							\
	atomic {							\
		if							\
		:: true -> MM_NEWEST(t, x, r)				\
		:: MM_NONE_PENDING(t, x) && vw[t].dirty[x] &&		\
		   !vw[t].seen_new[x] -> r = vw[t].val[x]		\
		fi							\
	}

/* Barriers. */
#define SMP_MB(t)	atomic { MM_EMPTY(t) -> MM_REFRESH(t, mm_i) }
/* A new epoch only if the current one holds stores (bounded epochs). */
#define SMP_WMB(t)							\
	atomic {							\
		if							\
		:: (sb[t].used[0] && sb[t].ep[0] == sb[t].epoch) ||	\
		   (sb[t].used[1] && sb[t].ep[1] == sb[t].epoch) ||	\
		   (sb[t].used[2] && sb[t].ep[2] == sb[t].epoch) ->	\
			sb[t].epoch++					\
		:: else -> skip						\
		fi							\
	}
#define SMP_RMB(t)	atomic { MM_REFRESH(t, mm_i) }
/* A release store: earlier stores first.  An acquire load: then a read barrier. */
#define STORE_RELEASE(t, x, v)	SMP_WMB(t); STORE(t, x, v)
#define LOAD_ACQUIRE(t, x, r)	LOAD(t, x, r); SMP_RMB(t)

/* Atomic read-modify-writes (see the top). */
#define MM_RMW(t, x, old, newval)					\
	atomic {							\
		(rmw_owner[x] == 0 || rmw_owner[x] == t + 1) &&		\
		!MM_FULL(t) ->						\
		MM_NEWEST(t, x, old);					\
		MM_BUFFER(t, x, newval);				\
		rmw_owner[x] = t + 1					\
	}
#define RMW_OR(t, x, v, old)		MM_RMW(t, x, old, old | (v))
#define RMW_ANDNOT(t, x, v, old)	MM_RMW(t, x, old, old & ~(v))
#define RMW_ADD(t, x, v, old)		MM_RMW(t, x, old, old + (v))
#define XCHG(t, x, v, old)		MM_RMW(t, x, old, v)
/* CMPXCHG(t, x, expect, new, okv): okv = whether x held expect. */
#define CMPXCHG(t, x, expect, new, okv)					\
	atomic {							\
		(rmw_owner[x] == 0 || rmw_owner[x] == t + 1) &&		\
		!MM_FULL(t) ->						\
		MM_NEWEST(t, x, mm_v);					\
		okv = (mm_v == expect);					\
		if							\
		:: okv -> MM_BUFFER(t, x, new); rmw_owner[x] = t + 1	\
		:: else -> skip						\
		fi							\
	}

/* Every thread that uses memory declares these locals. */
#define MM_LOCALS	byte mm_i, mm_f; int mm_v
/* Starts thread t's committer (from init, once per thread). */
#define MM_START(t)	run committer(t)
