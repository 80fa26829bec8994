/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Python frames read at sample time: what tracectld tells the kernel about
 * a CPython process (where its runtime is, the offsets of its release), and
 * what a program records per frame. Shared by every program that records
 * user stacks (bpf/python_frames.bpf.h) and by tracectld.
 */
#ifndef TRACECTL_BPF_PYTHON_FRAMES_H
#define TRACECTL_BPF_PYTHON_FRAMES_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define PYTHON_MAX_FRAMES 96
/* Thread states looked at when finding the current thread's. */
#define PYTHON_MAX_THREADS 64
#define PYTHON_MAX_INTERPRETERS 8
#define MAX_PYTHON_PROCESSES 4096

/* One CPython process, keyed by tgid in the python_procs map. Offsets in
 * bytes, from daemon/python/python_offsets.cc. */
struct python_proc {
	__u64 mm;      /* the address space this was read from */
	__u64 runtime; /* &_PyRuntime in the process */
	__u32 runtime_interpreters_head;
	__u32 interp_next;
	__u32 interp_threads_head;
	__u32 tstate_next;
	__u32 tstate_native_thread_id;
	__u32 tstate_cframe;
	__u32 cframe_current_frame;
	__u32 frame_code;
	__u32 frame_previous;
	__u32 frame_prev_instr;
	__u32 frame_is_entry;
	__u32 frame_owner;
	__u32 code_qualname;
	__u32 pad;
};

/* One _PyInterpreterFrame, innermost first: its code object and the last
 * instruction it started. The daemon names them. */
struct python_frame {
	__u64 code;
	__u64 prev_instr;
	/* The code object's co_qualname when sampled: the daemon names the
	 * code later, and a code object freed since (and its memory reused)
	 * no longer points there. */
	__u64 qualname;
	__u8 is_entry; /* C called the eval loop for this frame */
	__u8 owner;
	__u8 pad[6];
};

/* The current thread's Python frames, as a program records them. */
struct python_stack {
	__u16 count;  /* frames[0..count) hold frames */
	__u8 status;  /* enum python_stack_status */
	__u8 pad[5];
	struct python_frame frames[PYTHON_MAX_FRAMES];
};

/* What reading the current thread's Python stack came to. */
enum python_stack_status {
	PYTHON_STACK_NONE,	   /* not a known Python process */
	PYTHON_STACK_OK,	   /* every frame, outermost included */
	PYTHON_STACK_NO_THREAD,	   /* no thread state for this thread */
	PYTHON_STACK_TRUNCATED,	   /* more than PYTHON_MAX_FRAMES */
	PYTHON_STACK_BAD_POINTER,  /* a read failed: the chain ends there */
};

#endif /* TRACECTL_BPF_PYTHON_FRAMES_H */
