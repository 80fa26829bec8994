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

/* The thread state of thread `tid`: from the cache when it still names the
 * thread, else by walking every interpreter's threads. 0 if none. */
static __always_inline __u64 python_thread_state(const struct python_proc *p,
						 __u32 tid)
{
	__u64 *cached = bpf_map_lookup_elem(&python_threads, &tid);
	__u64 interp, tstate, native_id;
	int seen = 0, interps;

	if (cached && !read_user_u64(*cached + p->tstate_native_thread_id,
				     &native_id) &&
	    native_id == tid)
		return *cached;
	if (read_user_u64(p->runtime + p->runtime_interpreters_head, &interp))
		return 0;
	for (interps = 0; interp && interps < PYTHON_MAX_INTERPRETERS;
	     interps++) {
		if (read_user_u64(interp + p->interp_threads_head, &tstate))
			return 0;
		while (tstate && seen < PYTHON_MAX_THREADS) {
			seen++;
			if (read_user_u64(tstate + p->tstate_native_thread_id,
					  &native_id))
				return 0;
			if (native_id == tid) {
				bpf_map_update_elem(&python_threads, &tid,
						    &tstate, BPF_ANY);
				return tstate;
			}
			if (read_user_u64(tstate + p->tstate_next, &tstate))
				return 0;
		}
		if (read_user_u64(interp + p->interp_next, &interp))
			return 0;
	}
	return 0;
}

/* Fills `out` with the Python frames of thread `tid` of process `tgid`
 * (address space `mm`), innermost first. A global function: verified once,
 * whichever program calls it. */
__noinline int read_python_stack(__u32 tgid, __u32 tid, __u64 mm,
				 struct python_stack *out)
{
	const struct python_proc *p;
	__u64 tstate, cframe, frame;
	int i;

	if (!out)
		return 0;
	out->count = 0;
	out->status = PYTHON_STACK_NONE;
	p = bpf_map_lookup_elem(&python_procs, &tgid);
	if (!p || p->mm != mm)
		return 0;
	tstate = python_thread_state(p, tid);
	if (!tstate) {
		out->status = PYTHON_STACK_NO_THREAD;
		return 0;
	}
	if (read_user_u64(tstate + p->tstate_cframe, &cframe) || !cframe ||
	    read_user_u64(cframe + p->cframe_current_frame, &frame)) {
		out->status = PYTHON_STACK_BAD_POINTER;
		return 0;
	}
	out->status = PYTHON_STACK_OK;
	for (i = 0; i < PYTHON_MAX_FRAMES && frame; i++) {
		struct python_frame *f = &out->frames[i];

		if (read_user_u64(frame + p->frame_code, &f->code) ||
		    read_user_u64(f->code + p->code_qualname, &f->qualname) ||
		    read_user_u64(frame + p->frame_prev_instr,
				  &f->prev_instr) ||
		    bpf_probe_read_user(&f->is_entry, 1,
					(const void *)(frame +
						       p->frame_is_entry)) ||
		    bpf_probe_read_user(&f->owner, 1,
					(const void *)(frame + p->frame_owner)) ||
		    read_user_u64(frame + p->frame_previous, &frame)) {
			out->status = PYTHON_STACK_BAD_POINTER;
			break;
		}
		out->count = i + 1;
	}
	if (frame && out->status == PYTHON_STACK_OK)
		out->status = PYTHON_STACK_TRUNCATED;
	return out->count;
}

#endif /* TRACECTL_BPF_PYTHON_FRAMES_BPF_H */
