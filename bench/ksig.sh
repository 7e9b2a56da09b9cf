#!/usr/bin/env bash
# ksig: signing throughput on a real vmlinux against sha256sum of the same
# file in the same run (target: ksig at least 0.9x sha256sum's MB/s).
# The vmlinux is VMLINUX if set, else the default-config build of v6.1
# (kbuild builds it, or answers from its cache). A tinyconfig vmlinux is
# small (tens of MB, no debug info); each tool runs REPS times over it, file
# in the page cache, and the best run counts.
# Binaries on PATH (make bench sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${REPS:-9}
vmlinux=${VMLINUX:-}
if [ -z "$vmlinux" ]; then
    cache=${KBISECT_CACHE:-$HOME/.cache/kbisect}
    repo=$cache/bench/kbuild/repo
    mkdir -p "$cache/bench/kbuild"
    [ -d "$repo/.git" ] || git clone -q --shared --no-checkout "$(scripts/linux-base-repo)" "$repo"
    rec=$(kbuild --repo "$repo" --commit v6.1 --compiler gcc-12 --ccache 2>/dev/null)
    vmlinux=$(printf '%s' "$rec" | sed -n 's/.*"vmlinux":"\([^"]*\)".*/\1/p')
    [ -n "$vmlinux" ] || { echo "could not build a vmlinux: $rec" >&2; exit 1; }
fi
size=$(stat -c %s "$vmlinux")
cat "$vmlinux" > /dev/null
hashed=$(ksig "$vmlinux" | sed -n 's/.*"bytes":\([0-9]*\).*/\1/p')

best() { # command... ; prints the best wall seconds of $reps runs
    local best=999999 s e t
    for _ in $(seq "$reps"); do
        s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N)
        t=$(echo "$e - $s" | bc -l)
        best=$(echo "if ($t < $best) $t else $best" | bc -l)
    done
    echo "$best"
}
t_ksig=$(best ksig "$vmlinux")
t_sha=$(best sha256sum "$vmlinux")
mb() { echo "scale=1; $1 / 1048576 / $2" | bc -l; }
echo "vmlinux: $vmlinux"
printf 'file %.1f MB; ksig hashes %.1f MB of it (loaded sections)\n' \
    "$(echo "$size/1048576" | bc -l)" "$(echo "$hashed/1048576" | bc -l)"
printf '%-40s %8.4f s  %8.1f MB/s hashed   %8.1f MB/s of file\n' "ksig" "$t_ksig" \
    "$(mb "$hashed" "$t_ksig")" "$(mb "$size" "$t_ksig")"
printf '%-40s %8.4f s  %8.1f MB/s\n' "sha256sum" "$t_sha" "$(mb "$size" "$t_sha")"
printf 'ratio ksig/sha256sum, bytes hashed per second: %.2f (target >= 0.9)\n' \
    "$(echo "($hashed / $t_ksig) / ($size / $t_sha)" | bc -l)"
printf 'ratio ksig/sha256sum, wall time per vmlinux:   %.2f x faster\n' \
    "$(echo "$t_sha / $t_ksig" | bc -l)"
