/*
 * Known library calls for `tracectl calls`: getenv N times, and through
 * dlopen/dlsym libm's frexp (a plain FUNC, not an IFUNC) 3N times; or, in
 * strlen mode, only libc's strlen (an IFUNC) 2N times. Built with -fno-plt
 * -Wl,-z,now -fno-builtin: every call is a real call through the GOT, so
 * `ltrace -c` sees none of them (it reports 0 calls here), while uprobes on
 * the functions count every one.
 *
 * Usage: calls_helper N [MODE]  where MODE holds "strlen" for the strlen
 * loop, "usleep" for N calls of usleep(2000) (2 ms each, at least), and "pause" to wait for a line on stdin before the calls and another
 * before exiting. Output is written with write(2) only: no stdio call may
 * use strlen inside the counted window.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void say(const char *text, size_t len)
{
	if (write(1, text, len) != (ssize_t)len)
		exit(3);
}

static void wait_line(void)
{
	char c;

	do {
		if (read(0, &c, 1) != 1)
			exit(3);
	} while (c != '\n');
}

int main(int argc, char **argv)
{
	double (*frexp_fn)(double, int *);
	const char *mode = argc > 2 ? argv[2] : "";
	volatile unsigned long sink = 0;
	int pause_mode = strstr(mode, "pause") != NULL;
	int strlen_mode = strstr(mode, "strlen") != NULL;
	int usleep_mode = strstr(mode, "usleep") != NULL;
	void *libm;
	long n, i;
	int e;

	if (argc < 2)
		return 2;
	n = strtol(argv[1], NULL, 10);
	libm = dlopen("libm.so.6", RTLD_NOW);
	if (!libm)
		return 1;
	frexp_fn = (double (*)(double, int *))dlsym(libm, "frexp");
	if (!frexp_fn)
		return 1;
	if (pause_mode) {
		say("ready\n", 6);
		wait_line();
	}
	for (i = 0; i < n; i++) {
		if (usleep_mode) {
			usleep(2000);
			continue;
		}
		if (strlen_mode) {
			sink += strlen(argv[0]);
			sink += strlen(mode);
			continue;
		}
		sink += getenv("TRACECTL_CALLS_HELPER") != NULL;
		sink += (unsigned long)frexp_fn((double)i + 1.5, &e);
		sink += (unsigned long)frexp_fn((double)i + 2.5, &e);
		sink += (unsigned long)frexp_fn((double)i + 3.5, &e);
	}
	say("done\n", 5);
	if (pause_mode)
		wait_line();
	return sink == 0xdeadbeef;
}
