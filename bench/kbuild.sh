#!/usr/bin/env bash
# kbuild: seconds for a full build (fresh build dir, no ccache), an
# incremental build (one .c file changed), and a no-op rebuild, with the
# default config (tinyconfig + default.fragment) on linux-source-6.1.
# BENCH_CCACHE=1 builds through ccache (a warm ccache makes "full" cheap).
# Binaries on PATH (make bench sets it). Uses $KBISECT_CACHE/bench/kbuild.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${KBISECT_CACHE:-$HOME/.cache/kbisect}
work=$cache/bench/kbuild
mkdir -p "$work"
base_repo=$(scripts/linux-base-repo)
repo=$work/repo
[ -d "$repo/.git" ] || git clone -q --shared --no-checkout "$base_repo" "$repo"

# A commit on v6.1 that changes one line of code in init/main.c, made with
# a temporary index and fixed dates (same sha every run).
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@kbisect GIT_COMMITTER_NAME=bench \
       GIT_COMMITTER_EMAIL=bench@kbisect GIT_AUTHOR_DATE=2023-01-01T00:00:00Z \
       GIT_COMMITTER_DATE=2023-01-01T00:00:00Z
base=$(git -C "$repo" rev-parse 'v6.1^{commit}')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$build"' EXIT
git -C "$repo" show "$base:init/main.c" | sed '0,/\treturn 0;/s//\treturn 3;/' > "$tmp/main.c"
blob=$(git -C "$repo" hash-object -w "$tmp/main.c")
export GIT_INDEX_FILE=$tmp/index
git -C "$repo" read-tree "$base"
git -C "$repo" update-index --cacheinfo "100644,$blob,init/main.c"
tree=$(git -C "$repo" write-tree)
unset GIT_INDEX_FILE
changed=$(git -C "$repo" commit-tree "$tree" -p "$base" -m "bench: one-line change")

build=$work/build-$$
jobs=$(nproc)
run() { # label, kbuild args...
    local label=$1; shift
    local rec
    rec=$(kbuild --repo "$repo" --build-dir "$build" --no-cache -j"$jobs" ${BENCH_CCACHE:+--ccache} "$@" 2>"$tmp/err") || true
    local ok secs
    ok=$(printf '%s' "$rec" | sed -n 's/.*"ok":\([a-z]*\).*/\1/p')
    secs=$(printf '%s' "$rec" | sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p')
    if [ "$ok" != true ]; then
        echo "kbuild $label failed:" >&2; tail -5 "$tmp/err" >&2; printf '%s\n' "$rec" >&2; exit 1
    fi
    printf '%-44s %8.1f s\n' "$label" "$secs"
}
echo "kbuild, default config, -j$jobs, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
if [ -n "${BENCH_CCACHE:-}" ]; then how="ccache"; else how="no ccache"; fi
run "full build (fresh build dir, $how)" --commit "$base"
run "incremental (init/main.c changed)" --commit "$changed"
run "no-op rebuild (same commit again)" --commit "$changed"
run "switch back (init/main.c changed back)" --commit "$base"
