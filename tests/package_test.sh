#!/usr/bin/env bash
# The Debian package: `cpack -G DEB` in the build directory makes a .deb
# that holds both programs, the systemd units, the man pages and the bash
# completion, depends on the libraries the programs link, and whose man
# pages render without warnings.
#
#   tests/package_test.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
OUT=$(mktemp -d /tmp/tracectl-deb.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

(cd "$BUILD" && cpack -G DEB -B "$OUT" >"$OUT/cpack.log" 2>&1) ||
  { cat "$OUT/cpack.log" >&2; fail "cpack -G DEB failed"; }
debs=("$OUT"/tracectl_*_amd64.deb)
[[ -f "${debs[0]}" ]] || fail "no tracectl_*_amd64.deb in $OUT: $(ls "$OUT")"
DEB=${debs[0]}
echo "built $(basename "$DEB") ($(stat -c %s "$DEB") bytes)"

contents=$(dpkg-deb -c "$DEB")
for path in ./usr/bin/tracectl ./usr/sbin/tracectld \
    ./usr/lib/systemd/system/tracectld.service \
    ./usr/lib/systemd/system/tracectld.socket \
    ./usr/share/man/man1/tracectl.1 ./usr/share/man/man8/tracectld.8 \
    ./usr/share/bash-completion/completions/tracectl \
    ./usr/share/bash-completion/completions/tracectld; do
  grep -qE " ${path//./\\.}(\.gz)?$" <<<"$contents" ||
    fail "$path is not in the package:"$'\n'"$contents"
done

depends=$(dpkg-deb -f "$DEB" Depends)
for lib in 'libgrpc\+\+1\.51' libbpf1 libdw1 libprotobuf32 libseccomp2; do
  grep -qE "(^|, )$lib( |,|$)" <<<"$depends" ||
    fail "Depends lacks $lib: $depends"
done
dpkg-deb -e "$DEB" "$OUT/control"
grep -q 'addgroup --system tracectl' "$OUT/control/postinst" ||
  fail "postinst does not make the tracectl group"

dpkg-deb -x "$DEB" "$OUT/root"
# The service runs the packaged daemon.
grep -qx 'ExecStart=/usr/sbin/tracectld --admin-group tracectl' \
  "$OUT/root/usr/lib/systemd/system/tracectld.service" ||
  fail "ExecStart: $(grep ExecStart "$OUT/root/usr/lib/systemd/system/tracectld.service")"
for page in man1/tracectl.1 man8/tracectld.8; do
  file=$(ls "$OUT/root/usr/share/man/$page"* | head -1)
  text=$(MANWIDTH=80 man --warnings -l "$file" 2>"$OUT/warnings")
  [[ ! -s "$OUT/warnings" ]] || fail "man $page warns: $(cat "$OUT/warnings")"
  grep -q "^NAME" <<<"$text" || fail "man $page has no NAME:"$'\n'"$text"
  grep -q "SEE ALSO" <<<"$text" || fail "man $page has no SEE ALSO"
  echo "man -l $page: $(wc -l <<<"$text") lines"
done
bash -n "$OUT/root/usr/share/bash-completion/completions/tracectl" ||
  fail "the completion script does not parse"
"$OUT/root/usr/bin/tracectl" --version | grep -q . ||
  fail "the packaged tracectl does not run"
echo "PASS"
