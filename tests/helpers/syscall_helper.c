/*
 * Makes an exact, known set of system calls, for tests that check counts.
 *
 *   syscall_helper GETPPID OPENAT_ENOENT PIPE2
 *       GETPPID getppid calls, OPENAT_ENOENT openat calls that fail with
 *       ENOENT, and PIPE2 pipe2 calls (each pipe is closed: 2 closes).
 *   syscall_helper --loop SECONDS
 *       getppid in a loop for SECONDS seconds.
 *   syscall_helper --int80 N
 *       N getppid calls through the 32-bit ABI (int 0x80, ia32 number 64).
 *   syscall_helper --unpaged N
 *       N openat calls that fail with ENOENT, each on a path in a page of
 *       a fresh file mapping that nothing has touched yet: the kernel
 *       faults it in during the call, so a tracer cannot read it at entry.
 *   syscall_helper --exec-unpaged PROGRAM [ARG...]
 *       A forked child runs PROGRAM with ARGs, its path and argv strings in
 *       a page of a fresh file mapping that nothing has touched (as string
 *       literals of a forked child are): a tracer cannot read them at
 *       entry. Exits with the child's status.
 *   syscall_helper --bad-path N
 *       N openat calls on a path pointer nothing is mapped at (EFAULT).
 *   syscall_helper --stat PATH
 *       newfstatat, fstat, statx (STATX_BASIC_STATS|STATX_BTIME), statfs
 *       and fstatfs of PATH, then a newfstatat of PATH/nonexistent.
 *   syscall_helper --getrandom N FLAGS
 *       One getrandom of N bytes with FLAGS.
 *   syscall_helper --path-len LEN GETPPID OPENAT_ENOENT PIPE2
 *       As above, the openat path LEN bytes long (at least 32): a missing
 *       directory, then 'a's.
 *   syscall_helper --stack N
 *       N getppid calls made by helper_stack_probe(), a function of its
 *       own that main calls: what tracectl trace -k names. It sleeps for
 *       0.2 s first, so that the tracer reads its mappings while it runs
 *       (it reads them when a process starts; one that has exited by then
 *       cannot be named).
 *
 * Built static, so the dynamic loader adds no openat of its own.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/stat.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long count_arg(const char *s);

/* --exec-unpaged: the strings go to a temporary file that the child maps
 * and passes to execve without touching. */
static int exec_unpaged(int argc, char **argv)
{
	char file[] = "/tmp/tracectl-exec-XXXXXX";
	char *args[32];
	size_t offsets[32], size = 0;
	int fd = mkstemp(file), i, status;
	pid_t pid;

	if (fd < 0 || argc < 1 || argc > 31)
		return 2;
	unlink(file);
	for (i = 0; i < argc; i++) {
		size_t len = strlen(argv[i]) + 1;

		offsets[i] = size;
		if (write(fd, argv[i], len) != (ssize_t)len)
			return 2;
		size += len;
	}
	pid = fork();
	if (pid == 0) {
		char *page = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (page == MAP_FAILED)
			_exit(126);
		for (i = 0; i < argc; i++)
			args[i] = page + offsets[i];
		args[argc] = NULL;
		syscall(SYS_execve, args[0], args, environ);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 2;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int stat_calls(const char *path)
{
	char missing[4096];
	struct statx stx;
	struct statfs sfs;
	struct stat st;
	int fd;

	if (syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0) != 0)
		return 1;
	fd = open(path, O_RDONLY);
	if (fd < 0 || syscall(SYS_fstat, fd, &st) != 0)
		return 1;
	if (syscall(SYS_statx, AT_FDCWD, path, 0, STATX_BASIC_STATS | STATX_BTIME,
		    &stx) != 0)
		return 1;
	if (syscall(SYS_statfs, path, &sfs) != 0 ||
	    syscall(SYS_fstatfs, fd, &sfs) != 0)
		return 1;
	close(fd);
	snprintf(missing, sizeof(missing), "%s/nonexistent", path);
	if (syscall(SYS_newfstatat, AT_FDCWD, missing, &st, 0) == 0)
		return 1;
	return 0;
}

/* --stack: not static and not inlined, so that it keeps its name, and not
 * a tail call of syscall(), so that it stays on the stack. */
__attribute__((noinline)) long helper_stack_probe(long n)
{
	long i, sum = 0;

	for (i = 0; i < n; i++)
		sum += syscall(SYS_getppid);
	return sum;
}

static long count_arg(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || n < 0) {
		fprintf(stderr, "syscall_helper: bad count '%s'\n", s);
		exit(2);
	}
	return n;
}

int main(int argc, char **argv)
{
	char path[4096] = "/nonexistent/tracectl-syscall-helper";
	long i, getppids, openats, pipes;

	if (argc == 3 && strcmp(argv[1], "--loop") == 0) {
		struct timespec start, now;
		long seconds = count_arg(argv[2]);

		clock_gettime(CLOCK_MONOTONIC, &start);
		do {
			for (i = 0; i < 1000; i++)
				syscall(SYS_getppid);
			clock_gettime(CLOCK_MONOTONIC, &now);
		} while (now.tv_sec - start.tv_sec < seconds);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--int80") == 0) {
		long n = count_arg(argv[2]);

		for (i = 0; i < n; i++) {
			long ret;

			asm volatile("int $0x80" : "=a"(ret) : "a"(64L) : "memory");
			if (ret != getppid())
				return 1;
		}
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--unpaged") == 0) {
		static const char unpaged[] = "/nonexistent/tracectl-unpaged-path";
		char file[] = "/tmp/tracectl-unpaged-XXXXXX";
		long n = count_arg(argv[2]);
		int fd = mkstemp(file);

		if (fd < 0 || write(fd, unpaged, sizeof(unpaged)) != sizeof(unpaged))
			return 1;
		unlink(file);
		for (i = 0; i < n; i++) {
			char *page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);

			if (page == MAP_FAILED)
				return 1;
			if (syscall(SYS_openat, AT_FDCWD, page, O_RDONLY) != -1)
				return 1;
			munmap(page, 4096);
		}
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "--exec-unpaged") == 0)
		return exec_unpaged(argc - 2, argv + 2);
	if (argc == 3 && strcmp(argv[1], "--bad-path") == 0) {
		long n = count_arg(argv[2]);

		for (i = 0; i < n; i++) {
			if (syscall(SYS_openat, AT_FDCWD, (char *)16, O_RDONLY) != -1)
				return 1;
		}
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--stack") == 0) {
		const struct timespec pause = { 0, 200 * 1000 * 1000 };
		long n = count_arg(argv[2]);

		nanosleep(&pause, NULL);
		return helper_stack_probe(n) < 0;
	}
	if (argc == 3 && strcmp(argv[1], "--stat") == 0)
		return stat_calls(argv[2]);
	if (argc == 4 && strcmp(argv[1], "--getrandom") == 0) {
		char buf[4096];
		long n = count_arg(argv[2]);

		if (n > (long)sizeof(buf))
			return 2;
		syscall(SYS_getrandom, buf, n, count_arg(argv[3]));
		return 0;
	}
	if (argc == 6 && strcmp(argv[1], "--path-len") == 0) {
		long len = count_arg(argv[2]);

		if (len < 32 || len >= (long)sizeof(path)) {
			fprintf(stderr, "syscall_helper: bad path length\n");
			return 2;
		}
		strcpy(path, "/nonexistent/tracectl-");
		memset(path + strlen(path), 'a', len - strlen(path));
		path[len] = '\0';
		argc -= 2;
		argv += 2;
	}
	if (argc != 4) {
		fprintf(stderr,
			"usage: syscall_helper [--path-len LEN] GETPPID OPENAT_ENOENT PIPE2 |\n"
			"       --loop SECONDS | --int80 N\n");
		return 2;
	}
	getppids = count_arg(argv[1]);
	openats = count_arg(argv[2]);
	pipes = count_arg(argv[3]);
	for (i = 0; i < getppids; i++)
		syscall(SYS_getppid);
	for (i = 0; i < openats; i++) {
		if (syscall(SYS_openat, AT_FDCWD,
			    path, O_RDONLY) != -1)
			return 1;
	}
	for (i = 0; i < pipes; i++) {
		int fds[2];

		if (syscall(SYS_pipe2, fds, O_CLOEXEC) != 0)
			return 1;
		close(fds[0]);
		close(fds[1]);
	}
	return 0;
}
