/*
 * Known library calls for `tracectl calls`: getenv N times, and through
 * dlopen/dlsym libm's frexp (a plain FUNC, not an IFUNC) 3N times. Built
 * with -fno-plt -Wl,-z,now: calls go through the GOT, so ltrace -c sees none
 * of them (it counts 0 here), while uprobes on the functions count every
 * one.
 *
 * Usage: calls_helper N [pause]  (with "pause": waits for a line on stdin
 * before the calls, and for another before it exits)
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void wait_line(void)
{
	char line[16];

	if (!fgets(line, sizeof(line), stdin))
		exit(3);
}

int main(int argc, char **argv)
{
	double (*frexp_fn)(double, int *);
	void *libm;
	volatile unsigned long sink = 0;
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
	if (argc > 2 && strcmp(argv[2], "pause") == 0) {
		printf("ready\n");
		fflush(stdout);
		wait_line();
	}
	for (i = 0; i < n; i++) {
		sink += getenv("TRACECTL_CALLS_HELPER") != NULL;
		sink += (unsigned long)frexp_fn((double)i + 1.5, &e);
		sink += (unsigned long)frexp_fn((double)i + 2.5, &e);
		sink += (unsigned long)frexp_fn((double)i + 3.5, &e);
	}
	printf("done %lu\n", sink);
	fflush(stdout);
	if (argc > 2 && strcmp(argv[2], "pause") == 0)
		wait_line();
	return 0;
}
