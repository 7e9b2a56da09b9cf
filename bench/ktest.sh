#!/usr/bin/env bash
# ktest figures: median boot-to-reproducer seconds (VM start until the
# reproducer first starts: kernel boot + guest sanity test) and VM runs per
# minute, with --jobs 1 and --jobs 2, on the v6.1 default-config kernel.
#
# Env: KTEST_BENCH_RUNS (default 6), KTEST_BENCH_RUN_SECONDS (default 5),
# KTEST_BENCH_KERNEL (a bzImage to use instead of building v6.1 with kbuild).
# Binaries come from PATH (make bench puts target/<profile> first).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${KTEST_BENCH_RUNS:-6}
run_seconds=${KTEST_BENCH_RUN_SECONDS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -n "${KTEST_BENCH_KERNEL:-}" ]; then
    build=$(jq -nc --arg k "$KTEST_BENCH_KERNEL" \
        '{kind:"build",commit:("0"*40),ok:true,kernel:$k}')
else
    base=$(scripts/linux-base-repo)
    echo "ktest bench: building v6.1 with kbuild (cached after the first time)" >&2
    build=$(kbuild --repo "$base" --commit v6.1 --ccache -j2 | jq -c 'select(.kind=="build")' | tail -n1)
fi
if [ "$(jq -r .ok <<<"$build")" != true ]; then
    echo "ktest bench: no kernel to boot: $build" >&2
    exit 1
fi

cat > "$work/repro.c" <<'C'
#include <unistd.h>
int main(void) { for (int i = 0; i < 1000; i++) getppid(); return 0; }
C

for jobs in 1 2; do
    start=$(date +%s.%N)
    jq -c --argjson n "$runs" '.runs=$n' <<<"$build" \
        | ktest --repro "$work/repro.c" --jobs "$jobs" --timeout-run "$run_seconds" \
            --log-dir "$work/logs" >"$work/out-$jobs.jsonl"
    end=$(date +%s.%N)
    jq -s -r --argjson wall "$(echo "$end - $start" | bc)" --argjson jobs "$jobs" --argjson rs "$run_seconds" '
        [.[] | select(.kind=="run")] as $r
        | ($r | map(.boot_seconds // empty) | sort) as $b
        | (if ($b|length)==0 then null
           elif ($b|length)%2==1 then $b[($b|length-1)/2]
           else ($b[($b|length)/2-1] + $b[($b|length)/2]) / 2 end) as $median
        | "ktest --jobs \($jobs): \($r|length) runs of \($rs)s in \($wall*10|round/10)s wall"
          + " = \(($r|length)/$wall*60*10|round/10) runs/min;"
          + " median boot-to-reproducer \(if $median then ($median*100|round/100|tostring)+"s" else "n/a" end)"
          + " (accel \($r[0].accel // "?"), outcomes \([$r[].outcome]|group_by(.)|map("\(.[0])=\(length)")|join(",")))"
    ' "$work/out-$jobs.jsonl"
done
