/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Structures shared by calls.bpf.c and the daemon: nothing else. */
#ifndef TRACECTL_BPF_CALLS_H
#define TRACECTL_BPF_CALLS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* At most this many probes (functions) per session: the cookie of each
 * attached uprobe is its row in `counts`. */
#define MAX_CALL_PROBES 1000

/* hist[k] counts calls that took [2^k, 2^(k+1)) ns; the last slot also
 * holds everything longer. */
#define CALLS_HIST_SLOTS 40
/* Entry times kept per task for --latency: calls nested deeper (across all
 * probes) are counted but not timed. A power of two. */
#define CALLS_MAX_DEPTH 32

/* One probe's row. calls: entries; the rest only with --latency, from the
 * returns (timed = how many). */
struct call_stats {
	__u64 calls;
	__u64 timed;
	__u64 total_ns;
	__u64 max_ns;
	__u64 hist[CALLS_HIST_SLOTS];
};

/* Indexes of the per-CPU drop counters. */
enum calls_drop {
	CALLS_DROP_PID_MAP_FULL, /* a followed child could not be added */
	CALLS_DROP_BAD_COOKIE,	 /* a probe without a row (never expected) */
	CALLS_DROP_TOO_DEEP,	 /* a call nested too deep to be timed */
	CALLS_DROP_NO_STORAGE,	 /* no task storage for entry times */
	CALLS_DROP_REASON_COUNT,
};

#endif /* TRACECTL_BPF_CALLS_H */
