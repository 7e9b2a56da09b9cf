#!/usr/bin/env bash
# The config search's own cost in candidate configs (a build and a round of
# VM runs each), from bisect-step's search over random placements of the
# options a bug needs: 25 differing options (the demo's big config), 300,
# and 2,700 (syzbot's 6.1 KASAN config against its baseline). CASES (default
# 200) placements each; BENCH_SEED=N draws another set. The real builds of
# a minimisation are measured by the end-to-end tests (tests/tests/kbisect.rs,
# config_*), which print the result's `config` counts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PATH="$PATH:$here/../target/release"
bisect-step-bench configsearch "${CASES:-200}"
