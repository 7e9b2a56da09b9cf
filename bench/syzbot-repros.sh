#!/usr/bin/env bash
# Issue 18's survey: every syzbot reproducer in ../shared/syzbot/repros,
# compiled by ktest and run once for RUN_SECONDS (default 8) on one kernel,
# two VMs at a time. Prints how many compiled, ran to their time limit,
# exited by themselves (and were run again), were failed by the guest or the
# harness (with the reasons), and crashed (with the titles), and what the
# kernel lacked of syzbot's guest.
#
#   KERNEL=path/to/bzImage bench/syzbot-repros.sh     any kernel
#   KBISECT_BENCH_LONG=1 bench/syzbot-repros.sh       the default config's
#                                                     kernel of the v6.1 base
# Without either, `make bench` skips it (a kernel build and ~10 minutes).
# LIMIT=N tries only the first N (in name order). JOBS=N VMs at a time
# (default 2). CONFIG=path/to/.config names the kernel's config in the
# build record, so ktest's per-kernel choices apply as in a bisection
# (guest memory and boot time for a sanitizer kernel, one TCG thread for a
# KFENCE kernel). KTEST_ARGS adds ktest options, split on spaces, e.g.
# KTEST_ARGS="--smp 1". WORK=dir keeps the run records there and skips the
# reproducers that already have one, so a survey cut short (all 80 take
# about 95 minutes on a KASAN kernel under TCG) is continued, not redone;
# the figures are over every record in WORK, so one WORK is one kernel's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export PATH="$root/target/release:$PATH"
shared=${KBISECT_SHARED:-$root/../shared}
repros=$shared/syzbot/repros
[ -d "$repros" ] || { echo "syzbot-repros: skipped (no $repros)"; exit 0; }
kernel=${KERNEL:-}
if [ -z "$kernel" ]; then
    if [ "${KBISECT_BENCH_LONG:-}" != 1 ]; then
        echo "syzbot-repros: skipped (give KERNEL=bzImage, or KBISECT_BENCH_LONG=1 to build the default one)"
        exit 0
    fi
    base=$("$root/scripts/linux-base-repo")
    built=$(kbuild --repo "$base" --commit v6.1 --ccache </dev/null | jq -c 'select(.ok)')
    kernel=$(jq -r '.kernel // empty' <<<"$built")
    [ -n "$kernel" ] || { echo "syzbot-repros: the default kernel did not build" >&2; exit 1; }
    CONFIG=$(jq -r '.config // empty' <<<"$built")
fi
if [ -n "${WORK:-}" ]; then
    work=$WORK
    mkdir -p "$work"
else
    work=$(mktemp -d /tmp/kbisect-syzbot-repros.XXXXXX)
fi
echo "syzbot-repros: kernel $kernel, logs in $work" >&2
commit=$(printf '0%.0s' {1..40})
# One ktest per reproducer (its own guest image), JOBS at a time.
config=${CONFIG:-}
export kernel config commit work KTEST_ARGS
run_one() {
    local id extra
    id=$(basename "$1" .c)
    # A record from an earlier, cut-short survey of this WORK stands.
    [ -s "$work/$id.json" ] && return 0
    read -r -a extra <<<"${KTEST_ARGS:-}"
    jq -nc --arg c "$commit" --arg k "$kernel" --arg f "$config" \
        '{kind:"build",commit:$c,ok:true,kernel:$k,runs:1} + (if $f == "" then {} else {config:$f} end)' |
        ktest --repro "$1" --jobs 1 --timeout-run "${RUN_SECONDS:-8}" --log-dir "$work/logs" "${extra[@]}" 2>"$work/$id.err" |
        jq -c --arg id "$id" 'select(.kind=="run") | . + {id: $id}' >"$work/$id.json" || true
}
export -f run_one
start=$(date +%s)
find "$repros" -name '*.c' -print0 | sort -z | head -z -n "${LIMIT:-100000}" |
    xargs -0 -P"${JOBS:-2}" -n1 bash -c 'run_one "$0"'
end=$(date +%s)
all=$(cat "$work"/*.json)
count() { jq -s "[.[] | select($1)] | length" <<<"$all"; }
total=$(find "$repros" -name '*.c' | head -n "${LIMIT:-100000}" | wc -l)
printf 'reproducers: %d, run records: %d, this call took %d s\n' "$total" "$(count true)" $((end - start))
jq -s -r '[.[] | .boot_seconds // empty] | sort | if length > 0 then "boot seconds (VM start to the reproducer): median \(.[length/2|floor]), max \(.[-1])" else "boot seconds: none booted" end' <<<"$all"
printf 'did not compile: %d\n' "$(count '.outcome=="test_failed" and ((.detail // "") | test("compile|32-bit program .*needs"))')"
printf 'ran to their time limit: %d\n' "$(count '.outcome=="ok" and (.iterations // 1) <= 1')"
printf 'exited by themselves (run again until the time was up): %d\n' "$(count '.outcome=="ok" and (.iterations // 0) > 1')"
printf 'crashed: %d\n' "$(count '.outcome=="crashed"')"
jq -r 'select(.outcome=="crashed") | "  \(.id[0:12]): \(.title)"' <<<"$all"
printf 'failed by the guest or harness: %d\n' "$(count '.outcome=="test_failed" or .outcome=="infra_error" or .outcome=="boot_failed"')"
jq -r 'select(.outcome=="test_failed" or .outcome=="infra_error" or .outcome=="boot_failed") | "  \(.id[0:12]): \(.outcome): \(.detail)"' <<<"$all"
echo "the kernel lacked (guest_missing):"
jq -s -r '[.[] | .guest_missing // [] | .[]] | group_by(.) | map("  \(.[0]): \(length) runs") | if length == 0 then "  nothing" else .[] end' <<<"$all"
