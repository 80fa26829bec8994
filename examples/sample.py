"""A small program that does what programs do: looks for its configuration,
reads files, starts a child, and talks through a pipe."""
import os
import subprocess
import sys

CANDIDATES = [
    os.path.expanduser("~/.config/sample/sample.ini"),
    "/etc/sample/sample.ini",
    "/etc/os-release",
]

for path in CANDIDATES:
    try:
        with open(path) as f:
            config = f.read()
        print(f"sample: configuration from {path} ({len(config)} bytes)")
        break
    except FileNotFoundError:
        pass

for _ in range(1000):
    os.stat("/etc/hostname")
r, w = os.pipe()
os.write(w, b"x" * 100)
os.read(r, 100)
out = subprocess.run(["uname", "-r"], capture_output=True, text=True).stdout
print(f"sample: kernel {out.strip()}, python {sys.version.split()[0]}")
