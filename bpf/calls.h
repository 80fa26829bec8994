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

/* --by-caller: calls of one probe (row) made from one file (the mapping
 * holding the return address at entry). ino 0: from anonymous memory (JIT
 * code); dev and ino ~0: the return address was not in any mapping or could
 * not be read. */
struct caller_key {
	__u32 row;
	__u32 dev;
	__u64 ino;
};

/* Set in caller_key.row when the caller is the process's executable. */
#define CALLER_FROM_EXE (1U << 31)

#define CALLER_NAME_LEN 64
/* The base name of a caller file, recorded when its first row is made. */
struct caller_file_key {
	__u32 dev;
	__u32 pad;
	__u64 ino;
};

#define MAX_CALLER_ROWS 16384
#define MAX_CALLER_FILES 4096

/* USDT probes: the attachment's USDT cookie is its row in `stats` (low 32
 * bits) and what its arguments are (above). */
#define USDT_COOKIE_ROW_MASK 0xffffffffULL
/* CPython's function__entry/function__return: (filename, funcname, lineno),
 * counted per function and file in `py_functions` too. */
#define USDT_COOKIE_PYTHON_FUNCTION (1ULL << 32)

/* Bytes kept of a Python function's name and file (with the NUL); longer
 * ones are cut and flagged. */
#define PY_FUNCTION_LEN 64
#define PY_FILE_LEN 128
#define MAX_PY_FUNCTION_ROWS 10240

#define PY_CUT_FUNCTION 1
#define PY_CUT_FILE 2

/* One Python function of one probe (row). Zeroed before it is filled: the
 * bytes after each string's NUL are part of the key. */
struct py_function_key {
	__u32 row;
	__u32 cut; /* PY_CUT_* */
	char function[PY_FUNCTION_LEN];
	char file[PY_FILE_LEN];
};

/* Indexes of the per-CPU drop counters. */
enum calls_drop {
	CALLS_DROP_PID_MAP_FULL, /* a followed child could not be added */
	CALLS_DROP_BAD_COOKIE,	 /* a probe without a row (never expected) */
	CALLS_DROP_TOO_DEEP,	 /* a call nested too deep to be timed */
	CALLS_DROP_NO_STORAGE,	 /* no task storage for entry times */
	CALLS_DROP_CALLERS_FULL, /* a call whose caller found no row */
	CALLS_DROP_CALLER_BUSY,	 /* caller not looked up: mm lock busy */
	CALLS_DROP_PY_FULL,	 /* a Python call whose function found no row */
	CALLS_DROP_PY_UNREADABLE, /* a Python call whose names were unreadable */
	CALLS_DROP_REASON_COUNT,
};

#endif /* TRACECTL_BPF_CALLS_H */
