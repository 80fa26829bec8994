/*
 * Runs a program on which bpf(2) fails with ENOSYS, as on a kernel built
 * without CONFIG_BPF_SYSCALL: a seccomp filter, kept across exec.
 *
 *   no_bpf PROGRAM [ARG...]
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	scmp_filter_ctx ctx;

	if (argc < 2) {
		fprintf(stderr, "usage: no_bpf PROGRAM [ARG...]\n");
		return 2;
	}
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(bpf), 0) ||
	    seccomp_load(ctx)) {
		fprintf(stderr, "no_bpf: cannot install the seccomp filter\n");
		return 1;
	}
	seccomp_release(ctx);
	execv(argv[1], argv + 1);
	perror(argv[1]);
	return 127;
}
