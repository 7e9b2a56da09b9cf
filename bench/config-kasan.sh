#!/usr/bin/env bash
# Issue 16's measurement: what config minimisation saves on a debug config.
# The "big" config is defconfig + kbisect's default fragment + a KASAN and
# lockdep debug fragment (bench/data/kasan-lockdep.fragment) + the option the
# demo's config-dependent bug needs (CONFIG_RA_HINT_STATS, branch ra-stats).
#
#   builds   cold full builds at the bug's commit, each in a fresh cache: the
#            big config, and the config minimisation ends with (the baseline,
#            tinyconfig + default fragment, plus the one needed option). Prints
#            both build seconds, their ratio and the options each has.
#   bisect   the demo bisection of that bug from the big config, with and
#            without minimisation, each from a fresh cache: total seconds,
#            builds, VM runs, and the config search's own cost.
#
# Hours of work on 2 cores, so `make bench` skips it unless
# KBISECT_BENCH_LONG=1; BENCH_PHASES picks phases (default "builds bisect"),
# BENCH_LEGS the bisect phase's legs (default "minimized full").
# Work goes to $BENCH_DIR (default: a new directory under /tmp, kept).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export PATH="$root/target/release:$PATH"
if [ "${KBISECT_BENCH_LONG:-}" != 1 ]; then
    echo "config-kasan: skipped (hours of kernel builds; KBISECT_BENCH_LONG=1 runs it)"
    exit 0
fi
phases=${BENCH_PHASES:-builds bisect}
work=${BENCH_DIR:-$(mktemp -d /tmp/kbisect-config-kasan.XXXXXX)}
mkdir -p "$work"
echo "config-kasan: work in $work" >&2
repo=$("$root/examples/demo/make-history")
planted() { jq -r --arg k "$1" '.[$k]' "$repo/.git/kbisect-demo.json"; }
bad=$(planted config_head) good=$(planted head) option=$(planted config_option)
printf '%s=y\n' "$option" > "$work/needed.fragment"

# count_options CONFIG: the options a .config sets (=y, =m or a value).
count_options() { grep -c '^CONFIG_[A-Za-z0-9_]*=' "$1"; }

# cold_build NAME KBUILD-ARGS...: a build at the bug's commit in a fresh cache;
# prints its seconds, keeps its .config as $work/NAME.config.
cold_build() {
    local name=$1; shift
    rm -rf "$work/cache-$name"
    local rec
    rec=$(kbuild --repo "$repo" --commit "$bad" --ccache --cache-dir "$work/cache-$name" \
                 --build-dir "$work/cache-$name/build" "$@" </dev/null | tail -n1)
    [ "$(jq -r .ok <<<"$rec")" = true ] || { echo "config-kasan: $name did not build: $rec" >&2; exit 1; }
    cp "$(jq -r .config <<<"$rec")" "$work/$name.config"
    jq -r .seconds <<<"$rec"
}

if [[ " $phases " == *" builds "* ]]; then
    big_s=$(cold_build big --config defconfig \
        --config-fragment "$here/data/kasan-lockdep.fragment" --config-fragment "$work/needed.fragment")
    min_s=$(cold_build minimized --config-fragment "$work/needed.fragment")
    grep -q "^$option=y" "$work/big.config" || { echo "config-kasan: $option not in the big config" >&2; exit 1; }
    printf 'big config (defconfig+default+kasan-lockdep+%s): %d options, cold build %.0f s\n' \
        "$option" "$(count_options "$work/big.config")" "$big_s"
    printf 'minimized config (tinyconfig+default+%s): %d options, cold build %.0f s\n' \
        "$option" "$(count_options "$work/minimized.config")" "$min_s"
    awk -v a="$min_s" -v b="$big_s" 'BEGIN { printf "minimized/big build time: %.3f (target <= 0.3)\n", a / b }'
fi

# bisect NAME KBISECT-ARGS...: the demo bisection from a fresh cache; prints
# one line of its totals.
bisect() {
    local name=$1; shift
    rm -rf "$work/kb-$name"; mkdir -p "$work/kb-$name"
    local start end
    start=$(date +%s)
    KBISECT_CACHE="$work/kb-$name" "$root/kbisect" --repo "$repo" --bad "$bad" --good "$good" \
        --repro "$root/examples/demo/repro-config.c" --title "$(head -n1 "$root/examples/demo/titles-config")" \
        --journal "$work/kb-$name/journal.jsonl" "$@" > "$work/kb-$name/result.json" 2> "$work/kb-$name/log.txt"
    end=$(date +%s)
    local j=$work/kb-$name/journal.jsonl
    printf '%s: %d s total; culprit %s (expected %s); %d builds (%d not cached, %.0f s), %d VM runs (%.0f s)\n' \
        "$name" $((end - start)) "$(jq -r '.culprit.commit // .status' "$work/kb-$name/result.json" | cut -c1-12)" \
        "$(planted config_culprit | cut -c1-12)" \
        "$(jq -s '[.[] | select(.kind=="build")] | length' "$j")" \
        "$(jq -s '[.[] | select(.kind=="build" and (.cached|not))] | length' "$j")" \
        "$(jq -s '[.[] | select(.kind=="build") | .seconds] | add // 0' "$j")" \
        "$(jq -s '[.[] | select(.kind=="run")] | length' "$j")" \
        "$(jq -s '[.[] | select(.kind=="run") | .seconds] | add // 0' "$j")"
    jq -c '.config // empty | {kept, differing, candidates, builds, vm_runs, seconds, full_build_seconds, kept_build_seconds}' \
        "$work/kb-$name/result.json"
}

if [[ " $phases " == *" bisect "* ]]; then
    [ -f "$work/big.config" ] || { echo "config-kasan: run the builds phase first (BENCH_DIR=$work)" >&2; exit 1; }
    legs=${BENCH_LEGS:-minimized full}
    [[ " $legs " != *" minimized "* ]] || bisect minimized --config "$work/big.config"
    [[ " $legs " != *" full "* ]] || bisect full --config "$work/big.config" --no-minimize-config
fi
