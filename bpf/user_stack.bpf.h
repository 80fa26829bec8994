/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A task's user registers and the top of its user stack, copied into a
 * struct profile_sample for tracectld to unwind with DWARF CFI. Shared by
 * every program that records user stacks (CPU samples, traced calls).
 */
#ifndef TRACECTL_BPF_USER_STACK_BPF_H
#define TRACECTL_BPF_USER_STACK_BPF_H

#include <bpf/bpf_helpers.h>
#include "profile.h"

static __always_inline void copy_user_regs(struct profile_sample *s,
					   struct pt_regs *regs)
{
	s->user_regs[0] = regs->ax;
	s->user_regs[1] = regs->dx;
	s->user_regs[2] = regs->cx;
	s->user_regs[3] = regs->bx;
	s->user_regs[4] = regs->si;
	s->user_regs[5] = regs->di;
	s->user_regs[6] = regs->bp;
	s->user_regs[7] = regs->sp;
	s->user_regs[8] = regs->r8;
	s->user_regs[9] = regs->r9;
	s->user_regs[10] = regs->r10;
	s->user_regs[11] = regs->r11;
	s->user_regs[12] = regs->r12;
	s->user_regs[13] = regs->r13;
	s->user_regs[14] = regs->r14;
	s->user_regs[15] = regs->r15;
	s->user_regs[16] = regs->ip;
}

/* Copies the user stack page by page from the page holding sp, up to the
 * first page that cannot be read: the end of the stack's mapping, or a page
 * the process never touched (exec leaves a random gap below the argument
 * strings). Whole pages keep every size and offset constant. Returns false
 * when not even the first page could be read. */
static __always_inline bool copy_user_stack(struct profile_sample *s)
{
	__u64 page = s->user_regs[7] & ~(__u64)(PROFILE_PAGE_SIZE - 1);

	s->ustack_addr = page;
	s->ustack_bytes = 0;
#pragma unroll
	for (int i = 0; i < PROFILE_USTACK_PAGES; i++) {
		if (bpf_probe_read_user(s->ustack + i * PROFILE_PAGE_SIZE,
					PROFILE_PAGE_SIZE,
					(void *)(page + i * PROFILE_PAGE_SIZE)))
			break;
		s->ustack_bytes += PROFILE_PAGE_SIZE;
	}
	return s->ustack_bytes != 0;
}

#endif /* TRACECTL_BPF_USER_STACK_BPF_H */
