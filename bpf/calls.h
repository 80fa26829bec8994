/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Structures shared by calls.bpf.c and the daemon: nothing else. */
#ifndef TRACECTL_BPF_CALLS_H
#define TRACECTL_BPF_CALLS_H

/* At most this many probes (functions) per session: the cookie of each
 * attached uprobe is its row in `counts`. */
#define MAX_CALL_PROBES 1000

/* Indexes of the per-CPU drop counters. */
enum calls_drop {
	CALLS_DROP_PID_MAP_FULL, /* a followed child could not be added */
	CALLS_DROP_BAD_COOKIE,	 /* a probe without a row (never expected) */
	CALLS_DROP_REASON_COUNT,
};

#endif /* TRACECTL_BPF_CALLS_H */
