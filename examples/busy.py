"""A CPU-bound pure-Python program for tracectl flame's demo: about three
quarters of its time in count_primes, a quarter in checksum."""
import time


def is_prime(n):
    if n < 2:
        return False
    i = 2
    while i * i <= n:
        if n % i == 0:
            return False
        i += 1
    return True


def count_primes(limit):
    return sum(1 for n in range(limit) if is_prime(n))


def checksum(data):
    total = 0
    for b in data:
        total = (total * 31 + b) & 0xFFFFFFFF
    return total


end = time.monotonic() + 2
rounds = 0
while time.monotonic() < end:
    count_primes(6000)
    checksum(bytes(range(256)) * 100)
    rounds += 1
print(f"busy: {rounds} rounds")
