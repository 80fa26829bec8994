"""A fixed amount of CPU-bound Python work for bench/flame_bench.sh
(FLAME_WORKLOAD=python): ROUNDS rounds of three functions that take about
60%, 30% and 10% of the time. Prints the loop's own seconds last."""
import sys
import time


def spin(n):
    x = 0
    for i in range(n):
        x += i
    return x


def sixty():
    return spin(6000)


def thirty():
    return spin(3000)


def ten():
    return spin(1000)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    start = time.monotonic()
    for _ in range(rounds):
        sixty()
        thirty()
        ten()
    print("%.6f" % (time.monotonic() - start))


main()
