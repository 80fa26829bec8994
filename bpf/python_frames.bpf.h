/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reads the current thread's Python frames from a CPython 3.11-style
 * interpreter (chains of _PyInterpreterFrame), for programs that record user
 * stacks. The frames live on the heap, not on the C stack that the daemon
 * unwinds later, so they are read here, when the sample is taken; the daemon
 * names the code objects afterwards.
 *
 * tracectld fills python_procs when it finds an interpreter in a sampled
 * process. Every pointer comes from the target's memory: each read may fail
 * (the chain ends there, with a status saying so), and every loop is
 * bounded.
 */
#ifndef TRACECTL_BPF_PYTHON_FRAMES_BPF_H
#define TRACECTL_BPF_PYTHON_FRAMES_BPF_H

#include <bpf/bpf_helpers.h>
#include "python_frames.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_PYTHON_PROCESSES);
	__type(key, __u32);
	__type(value, struct python_proc);
} python_procs SEC(".maps");

/* Thread id -> its PyThreadState, checked on every use (ids come back). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} python_threads SEC(".maps");

static __always_inline int read_user_u64(__u64 address, __u64 *value)
{
	return bpf_probe_read_user(value, sizeof(*value), (const void *)address);
}

/* The loops below are bpf_loop callbacks: the verifier checks each body
 * once, not once per iteration (walked in full, the frame and thread loops
 * took 190 ms of every session's start). */

/* Looking for the thread state of thread `tid`, one step a call: the next
 * interpreter when the current one's threads are done, else the next
 * thread. */
struct thread_walk {
	struct python_proc p;
	__u64 interp;
	__u64 tstate; /* the next to look at; 0: this interpreter is done */
	__u64 found;
	__u32 tid;
	__u32 interps; /* interpreters entered */
	__u32 seen;    /* thread states looked at */
};

static long thread_step(__u64 index, void *ctx)
{
	struct thread_walk *w = ctx;
	__u64 native_id;

	if (!w->tstate) {
		if (w->interps > 0 &&
		    read_user_u64(w->interp + w->p.interp_next, &w->interp))
			return 1;
		if (!w->interp || w->interps >= PYTHON_MAX_INTERPRETERS)
			return 1;
		w->interps++;
		if (read_user_u64(w->interp + w->p.interp_threads_head,
				  &w->tstate))
			return 1;
		return 0;
	}
	if (w->seen >= PYTHON_MAX_THREADS)
		return 1;
	w->seen++;
	if (read_user_u64(w->tstate + w->p.tstate_native_thread_id, &native_id))
		return 1;
	if (native_id == w->tid) {
		w->found = w->tstate;
		return 1;
	}
	if (read_user_u64(w->tstate + w->p.tstate_next, &w->tstate))
		return 1;
	return 0;
}

/* The thread state of thread `tid`: from the cache when it still names the
 * thread, else by walking every interpreter's threads (`w` holds the
 * process's offsets). 0 if none. */
static __always_inline __u64 python_thread_state(struct thread_walk *w,
						 __u32 tid)
{
	__u64 *cached = bpf_map_lookup_elem(&python_threads, &tid);
	__u64 native_id;

	if (cached && !read_user_u64(*cached + w->p.tstate_native_thread_id,
				     &native_id) &&
	    native_id == tid)
		return *cached;
	if (read_user_u64(w->p.runtime + w->p.runtime_interpreters_head,
			  &w->interp))
		return 0;
	w->tid = tid;
	bpf_loop(PYTHON_MAX_INTERPRETERS * (PYTHON_MAX_THREADS + 1), thread_step,
		 w, 0);
	if (w->found)
		bpf_map_update_elem(&python_threads, &tid, &w->found, BPF_ANY);
	return w->found;
}

/* Reading the frames, one a call, into out->frames. */
struct frame_walk {
	struct python_stack *out;
	__u64 frame; /* the next to read */
	__u32 frame_code;
	__u32 frame_previous;
	__u32 frame_prev_instr;
	__u32 frame_is_entry;
	__u32 frame_owner;
	__u32 code_qualname;
};

static long frame_step(__u64 index, void *ctx)
{
	struct frame_walk *w = ctx;
	struct python_stack *out = w->out;
	struct python_frame *f;
	__u64 frame = w->frame;

	if (!frame || !out || index >= PYTHON_MAX_FRAMES)
		return 1;
	f = &out->frames[index];
	if (read_user_u64(frame + w->frame_code, &f->code) ||
	    read_user_u64(f->code + w->code_qualname, &f->qualname) ||
	    read_user_u64(frame + w->frame_prev_instr, &f->prev_instr) ||
	    bpf_probe_read_user(&f->is_entry, 1,
				(const void *)(frame + w->frame_is_entry)) ||
	    bpf_probe_read_user(&f->owner, 1,
				(const void *)(frame + w->frame_owner)) ||
	    read_user_u64(frame + w->frame_previous, &w->frame)) {
		out->status = PYTHON_STACK_BAD_POINTER;
		return 1;
	}
	out->count = index + 1;
	return 0;
}

/* Fills `out` with the Python frames of thread `tid` of process `tgid`
 * (address space `mm`), innermost first. A global function: verified once,
 * whichever program calls it. */
__noinline int read_python_stack(__u32 tgid, __u32 tid, __u64 mm,
				 struct python_stack *out)
{
	struct thread_walk threads = {};
	struct frame_walk frames = {};
	const struct python_proc *p;
	__u64 tstate, cframe, frame;

	if (!out)
		return 0;
	out->count = 0;
	out->status = PYTHON_STACK_NONE;
	p = bpf_map_lookup_elem(&python_procs, &tgid);
	if (!p || p->mm != mm)
		return 0;
	threads.p = *p;
	tstate = python_thread_state(&threads, tid);
	if (!tstate) {
		out->status = PYTHON_STACK_NO_THREAD;
		return 0;
	}
	if (read_user_u64(tstate + threads.p.tstate_cframe, &cframe) ||
	    !cframe ||
	    read_user_u64(cframe + threads.p.cframe_current_frame, &frame)) {
		out->status = PYTHON_STACK_BAD_POINTER;
		return 0;
	}
	out->status = PYTHON_STACK_OK;
	frames.out = out;
	frames.frame = frame;
	frames.frame_code = threads.p.frame_code;
	frames.frame_previous = threads.p.frame_previous;
	frames.frame_prev_instr = threads.p.frame_prev_instr;
	frames.frame_is_entry = threads.p.frame_is_entry;
	frames.frame_owner = threads.p.frame_owner;
	frames.code_qualname = threads.p.code_qualname;
	bpf_loop(PYTHON_MAX_FRAMES, frame_step, &frames, 0);
	if (frames.frame && out->status == PYTHON_STACK_OK)
		out->status = PYTHON_STACK_TRUNCATED;
	return out->count;
}

#endif /* TRACECTL_BPF_PYTHON_FRAMES_BPF_H */
