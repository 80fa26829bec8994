/*
 * N malloc/free pairs (default 200000) through the PLT, as ordinary
 * programs call them: ltrace sees these. The pointer escapes through a
 * volatile so the compiler keeps every call.
 */
#include <stdlib.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
	void *volatile sink;

	for (long i = 0; i < n; i++) {
		sink = malloc(64);
		free(sink);
	}
	return 0;
}
