/* SPDX-License-Identifier: GPL-2.0 */
/* floor(log2(v)) for v > 0 (0 for 0), without loops: the bucket of a log2
 * histogram kept in a map (daemon/log2_histogram reads it). */
#ifndef TRACECTL_BPF_LOG2_BPF_H
#define TRACECTL_BPF_LOG2_BPF_H

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xffffffffULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xffff) << 4; v >>= shift; r |= shift;
	shift = (v > 0xff) << 3; v >>= shift; r |= shift;
	shift = (v > 0xf) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

#endif /* TRACECTL_BPF_LOG2_BPF_H */
