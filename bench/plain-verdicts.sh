#!/usr/bin/env bash
# Plain verdicts, bisect-step against `git bisect` (issue 12): on $DAGS random
# merge-heavy histories (default 20; 50-1,000 candidates, topic branches
# forked from older mainline commits and merged back), a culprit drawn at
# random, both tools are driven by the same oracle ("bad" when the culprit is
# the commit or one of its ancestors): git by `git bisect run`, bisect-step
# by plain `verdict` records fed back to it, as a person or a CI script would.
# Printed: tests per DAG for both, bisect-step's start (bad end) and parent
# tests counted apart, the means and the worst excess over git.
# BENCH_SEED=N (default 7) draws another set.
# Usage: bench/plain-verdicts.sh   (binaries from PATH, else target/release)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PATH="$PATH:$here/../target/release"
exec python3 - "${DAGS:-20}" "${BENCH_SEED:-7}" <<'EOF'
import json, os, random, subprocess, sys, tempfile

dags, seed = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)

def git(repo, *args, stdin=None, check=True):
    r = subprocess.run(["git", "-C", repo, *args], input=stdin, capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit(f"git {' '.join(args)}: {r.stderr}")
    return r.stdout

def make_history(repo, n):
    """A mainline of n commits (after a root) where about a third of the
    commits arrive through merged topic branches of 1-12 commits forked
    from an older mainline commit. Returns (root mark, head mark, count)."""
    out, mark, when = [], 0, 1_600_000_000
    def commit(parents, msg):
        nonlocal mark, when
        mark += 1; when += 60
        out.append(f"commit refs/heads/main\nmark :{mark}\n"
                   f"committer B <b@example.invalid> {when} +0000\n"
                   f"data {len(msg)}\n{msg}\n")
        if parents:
            out.append(f"from :{parents[0]}\n")
            for p in parents[1:]:
                out.append(f"merge :{p}\n")
        else:
            out.append("deleteall\n")
        out.append("\n")
        return mark
    root = commit([], "root")
    main = [root]
    made = 1
    while made < n:
        if rng.random() < 0.25 and len(main) > 2:
            fork = main[max(0, len(main) - 1 - rng.randint(1, 30))]
            tip = fork
            for i in range(min(rng.randint(1, 12), n - made - 1) or 1):
                tip = commit([tip], f"topic commit {made}"); made += 1
            main.append(commit([main[-1], tip], f"merge topic at {made}")); made += 1
        else:
            main.append(commit([main[-1]], f"mainline commit {made}")); made += 1
    out.append("done\n")
    git(repo, "fast-import", "--quiet", "--done", stdin="".join(out))
    return root, main[-1]

def is_bad(repo, culprit, commit):
    r = subprocess.run(["git", "-C", repo, "merge-base", "--is-ancestor", culprit, commit])
    return r.returncode == 0

def git_bisect_steps(repo, bad, good, culprit):
    git(repo, "checkout", "-q", "--detach", bad)
    git(repo, "bisect", "start", bad, good)
    out = git(repo, "bisect", "run", "sh", "-c",
              f"! git merge-base --is-ancestor {culprit} HEAD")
    log = git(repo, "bisect", "log")
    git(repo, "bisect", "reset")
    found = f"{culprit} is the first bad commit" in out
    steps = sum(1 for l in log.splitlines() if l.startswith(("git bisect good", "git bisect bad")))
    return steps, found

def bisect_step_steps(repo, bad, good, culprit, journal):
    def call(args, stdin=""):
        r = subprocess.run(["bisect-step", "--journal", journal, *args], input=stdin,
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"bisect-step exited {r.returncode}: {r.stderr}")
        return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    recs = call(["--repo", repo, "--bad", bad, "--good", good])
    counts = {"start": 0, "parent": 0, "bisect": 0}
    for _ in range(500):
        result = [r for r in recs if r.get("kind") == "result"]
        if result:
            c = result[0].get("culprit") or {}
            return counts, c.get("commit") == culprit
        nxt = [r for r in recs if r.get("kind") == "next"][0]
        reason = nxt.get("reason", "bisect")
        key = reason if reason in ("start", "parent") else "bisect"
        counts[key] += 1
        v = "bad" if is_bad(repo, culprit, nxt["commit"]) else "good"
        recs = call([], json.dumps({"kind": "verdict", "commit": nxt["commit"], "verdict": v}) + "\n")
    sys.exit("bisect-step did not finish in 500 steps")

rows = []
with tempfile.TemporaryDirectory() as tmp:
    for i in range(dags):
        repo = os.path.join(tmp, f"dag{i}")
        subprocess.run(["git", "init", "-q", repo], check=True)
        n = rng.randint(50, 1000)
        make_history(repo, n + 1)
        commits = git(repo, "rev-list", "--topo-order", "main").split()
        bad, good = commits[0], commits[-1]
        candidates = commits[:-1]
        culprit = rng.choice(candidates)
        g, g_ok = git_bisect_steps(repo, bad, good, culprit)
        ours, ok = bisect_step_steps(repo, bad, good, culprit, os.path.join(tmp, f"j{i}.jsonl"))
        rows.append((len(candidates), g, ours, ok and g_ok))
        print(f"  dag {i:2}: {len(candidates):4} candidates  git {g:2}  bisect-step {ours['bisect']:2}"
              f" (+{ours['start']} start, +{ours['parent']} parent){'' if ok and g_ok else '  WRONG CULPRIT'}")

mean = lambda xs: sum(xs) / len(xs)
gits = [r[1] for r in rows]
ours = [r[2]["bisect"] for r in rows]
alls = [r[2]["bisect"] + r[2]["start"] + r[2]["parent"] for r in rows]
worst = max(o - g for o, g in zip(ours, gits))
print(f"plain verdicts, {len(rows)} DAGs (seed {seed}): git bisect {mean(gits):.2f} tests,"
      f" bisect-step {mean(ours):.2f} (all tests, start and parent included: {mean(alls):.2f});"
      f" worst excess over git {worst:+d}; right culprit {sum(r[3] for r in rows)}/{len(rows)}")
EOF
