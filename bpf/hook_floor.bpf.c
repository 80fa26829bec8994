// SPDX-License-Identifier: GPL-2.0
/*
 * Two empty programs on the hooks syscalls.bpf.c uses: what attaching to
 * sys_enter and sys_exit costs before any work is done. For bench/ only.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("tp_btf/sys_enter")
int BPF_PROG(floor_enter, struct pt_regs *regs, long id)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_exit, struct pt_regs *regs, long ret)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
