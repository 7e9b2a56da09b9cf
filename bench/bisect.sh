#!/usr/bin/env bash
# bisect-step benchmarks (issue 6), figures on stdout:
#  1. Speed of the first bisection choice on a kernel-shaped history (1M
#     commits, ~80k merged topic branches, made with git fast-import and cached
#     under $KBISECT_CACHE/bench), against `git rev-list --bisect` on the same
#     range, at ~300k and ~1M candidates: both wall times, the ratio, and each
#     choice's split |reach - N/2| / N. Both tools get the repository's
#     commit-graph file (git gc / fetch write one in any real clone). git is
#     capped with `timeout` ($GIT_CAP seconds, default 300): past that the
#     ratio printed is a lower bound.
#  2. Accuracy, VM runs and builds of simulated bisections: $CASES random
#     scenarios (default 200) and $CASES_AT03 at reproduction rate 0.3
#     (default 1000), our policy against syzbot's fixed policy and plain
#     one-run bisection. BENCH_SEED=N (default 7) draws another set.
# Usage: bench/bisect.sh   (binaries from PATH, else target/release; the
# bench binary needs `cargo build --release -p bisect-step --features sim`,
# which make bench does)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PATH="$PATH:$here/../target/release"
cache=${KBISECT_CACHE:-$HOME/.cache/kbisect}/bench
repo=$cache/history-1m.git
GIT_CAP=${GIT_CAP:-300}
CASES=${CASES:-200}
CASES_AT03=${CASES_AT03:-1000}
mkdir -p "$cache"

if [ ! -e "$repo/.complete" ]; then
    echo "generating the 1M-commit history in $repo (once)..." >&2
    rm -rf "$repo"
    git init -q --bare "$repo"
    bisect-step-bench history 1000000 80000 | git -C "$repo" fast-import --quiet
    git -C "$repo" commit-graph write --reachable 2>/dev/null
    touch "$repo/.complete"
fi

now() { date +%s.%N; }
root=$(git -C "$repo" rev-list --max-parents=0 main)

bench_range() { # label good
    local label=$1 good=$2 n t0 t1 ours ours_s git_sha git_s status ratio
    n=$(git -C "$repo" rev-list --count main "^$good")
    t0=$(now)
    ours=$(bisect-step --repo "$repo" --bad main --good "$good" --repro-rate 1 </dev/null 2>/dev/null)
    t1=$(now)
    ours_s=$(echo "$t1 - $t0" | bc -l)
    # CPU seconds too: on a shared machine wall time includes waiting.
    local cpu
    cpu=$( { TIMEFORMAT='%U+%S'; time bisect-step --repo "$repo" --bad main --good "$good" --repro-rate 1 </dev/null >/dev/null 2>&1; } 2>&1 | tail -1 | bc -l)
    ours=$(printf '%s' "$ours" | sed -n 's/.*"commit":"\([0-9a-f]\{40\}\)".*/\1/p')
    t0=$(now)
    status=0
    git_sha=$(timeout "$GIT_CAP" git -C "$repo" rev-list --bisect main "^$good") || status=$?
    t1=$(now)
    git_s=$(echo "$t1 - $t0" | bc -l)
    echo "$label: $n candidates (main ^$good)"
    printf '  bisect-step first choice: %8.3f s (%.3f s CPU)  split %s\n' "$ours_s" "$cpu" \
        "$(bisect-step-bench split "$repo" main "$good" "$ours" | sed 's/.*"split":\([0-9.]*\).*/\1/')"
    if [ "$status" = 124 ]; then
        printf '  git rev-list --bisect:    > %6.0f s  (stopped at the cap)\n' "$GIT_CAP"
        printf '  speed-up: > %.0fx (lower bound)\n' "$(echo "$git_s / $ours_s" | bc -l)"
    else
        printf '  git rev-list --bisect:    %8.3f s  split %s\n' "$git_s" \
            "$(bisect-step-bench split "$repo" main "$good" "$git_sha" | sed 's/.*"split":\([0-9.]*\).*/\1/')"
        printf '  speed-up: %.0fx\n' "$(echo "$git_s / $ours_s" | bc -l)"
    fi
}

echo "## first bisection choice, kernel-shaped history ($(git -C "$repo" rev-list --count main) commits, $(git -C "$repo" rev-list --count --merges main) merges)"
bench_range "~300k" v11
bench_range "~1M" "$root"
echo
echo "## simulated bisections"
bisect-step-bench simulate "$CASES" "$CASES_AT03"
