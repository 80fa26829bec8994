/*
 * A CPU-bound program with known proportions, for tracectl flame's tests
 * and benchmark: main -> work -> hot_a runs 3/4 of the time and
 * main -> work -> hot_b 1/4. Built -O2 -fomit-frame-pointer: only DWARF CFI
 * can unwind it.
 *
 *   hot_helper [SECONDS]    for SECONDS of wall time (default 2)
 *   hot_helper --calls N    N calls of work(), a fixed amount of CPU work;
 *                           prints the seconds its loop took
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile unsigned long sink;

/* The same loop, inlined in both: time is proportional to `units`. */
static inline __attribute__((always_inline)) unsigned long spin(unsigned long units,
						    unsigned long seed)
{
	unsigned long x = seed;

	for (unsigned long i = 0; i < units * 1000; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	return x;
}

__attribute__((noinline)) unsigned long hot_a(unsigned long seed)
{
	return spin(3, seed) ^ 1;
}

__attribute__((noinline)) unsigned long hot_b(unsigned long seed)
{
	return spin(1, seed) ^ 2;
}

__attribute__((noinline)) unsigned long work(unsigned long seed)
{
	unsigned long a = hot_a(seed);
	unsigned long b = hot_b(a);

	return a + b;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned long x = 1;
	double start = now();

	if (argc == 3 && strcmp(argv[1], "--calls") == 0) {
		long calls = atol(argv[2]);

		for (long i = 0; i < calls; i++)
			x = work(x);
		sink = x;
		printf("%.6f\n", now() - start);
		return 0;
	}
	double end = start + (argc > 1 ? atof(argv[1]) : 2.0);

	while (now() < end) {
		for (int i = 0; i < 100; i++)
			x = work(x);
	}
	sink = x;
	return 0;
}
