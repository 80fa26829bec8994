/*
 * A stand-in for a JIT: copies a counting loop into anonymous executable
 * memory, names it in /tmp/perf-PID.map as JIT compilers do for perf, and
 * runs it for as many seconds as argv[1] says (default 1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* mov rcx, 1000000; 1: dec rcx; jnz 1b; ret */
static const unsigned char loop_code[] = {
	0x48, 0xc7, 0xc1, 0x40, 0x42, 0x0f, 0x00,
	0x48, 0xff, 0xc9,
	0x75, 0xfb,
	0xc3,
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double end = now() + (argc > 1 ? atof(argv[1]) : 1.0);
	char path[64];
	void (*jitted)(void);
	unsigned char *code;
	FILE *map;

	code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED)
		return 1;
	memcpy(code, loop_code, sizeof(loop_code));
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
	map = fopen(path, "w");
	if (!map)
		return 1;
	fprintf(map, "%lx %zx jitted_counting_loop\n", (unsigned long)code,
		sizeof(loop_code));
	fclose(map);
	jitted = (void (*)(void))code;
	while (now() < end)
		jitted();
	unlink(path);
	return 0;
}
