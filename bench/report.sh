#!/usr/bin/env bash
# kbisect-log report --html on a synthetic journal of RECORDS records
# (default 100,000) over COMMITS tested commits (default 1,000): each commit
# a next, a build, its runs (one in ten a target crash with a 4 KiB
# report, some other crashes, boot and test failures) and a verdict. Prints
# the seconds, the peak RSS (when /usr/bin/time is there) and the page's
# size in bytes. Binaries on PATH (make bench sets it).
set -euo pipefail
records=${RECORDS:-100000}
commits=${COMMITS:-1000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$records" "$commits" > "$dir/j.jsonl" <<'PY'
import hashlib, json, sys
records, commits = int(sys.argv[1]), int(sys.argv[2])
sha = lambda i: hashlib.sha1(b"commit %d" % i).hexdigest()
report = "\n".join("  frame_%d+0x%x/0x200 kernel/f%d.c:%d" % (i, i * 7, i % 9, i) for i in range(120))[:4096]
out = sys.stdout
def w(o): out.write(json.dumps(o, separators=(",", ":")) + "\n")
w({"kind": "start", "repo": "/src/linux", "bad": sha(0), "good": [sha(10**6)],
   "target": ["KASAN: use-after-free Read in f"], "direction": "cause", "seconds": 0.0})
runs = max(1, -(-(records - 2) // commits) - 3)
left = 2 ** 20
for c in range(commits):
    s = sha(c)
    left = max(0, left // 2 if c < 20 else left - 1)
    w({"kind": "next", "commit": s, "subject": "subsys: change <%d> & more" % c, "reason": "bisect",
       "runs": runs, "revisions_left": left, "steps_left": 10, "seconds": 0.01})
    w({"kind": "build", "commit": s, "ok": True, "compiler": "gcc (Debian 12.2.0-14) 12.2.0, GNU ld 2.40",
       "signature": hashlib.sha256(s.encode()).hexdigest(), "kernel": "/cache/%s/bzImage" % s, "seconds": 40.0 + c % 17})
    bad = c % 2 == 0
    for r in range(runs):
        o = {"kind": "run", "commit": s, "run": r, "log": "/cache/logs/%s/run-%d.log" % (s, r), "seconds": 9.5}
        k = (c + r) % 10
        if bad and k == 0:
            o.update(outcome="crashed", crashed=True, title="KASAN: use-after-free Read in f", same_bug=True, report=report)
        elif k == 1:
            o.update(outcome="crashed", crashed=True, title="WARNING in kvm_wait %d" % (r % 5), same_bug=False)
        elif k == 2:
            o.update(outcome="boot_failed", crashed=False, detail="no booted mark")
        else:
            o.update(outcome="ok", crashed=False)
        w(o)
    w({"kind": "verdict", "commit": s, "verdict": "bad" if bad else "good", "runs": runs, "by": "bisect-step", "seconds": 0.001})
w({"kind": "result", "status": "found", "direction": "cause", "culprit": {"commit": sha(998), "subject": "subsys: change <998> & more"},
   "confidence": 0.993, "flaky": True, "revisions_tested": commits, "builds": commits, "vm_runs": commits * runs,
   "seconds": 1e6, "build_seconds": 4e5, "test_seconds": 6e5})
PY
lines=$(wc -l < "$dir/j.jsonl")
echo "journal: $lines records, $commits tested commits, $(stat -c %s "$dir/j.jsonl") bytes"
cat "$dir/j.jsonl" > /dev/null
timer=()
[ -x /usr/bin/time ] && timer=(/usr/bin/time -v -o "$dir/time")
s=$(date +%s.%N)
"${timer[@]}" kbisect-log report --html "$dir/r.html" --journal "$dir/j.jsonl"
e=$(date +%s.%N)
printf 'report --html: %.2f s\n' "$(echo "$e - $s" | bc -l)"
if [ -e "$dir/time" ]; then
    echo "peak RSS: $(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/time") KiB"
else
    echo "peak RSS: not measured (no /usr/bin/time)"
fi
echo "html: $(stat -c %s "$dir/r.html") bytes"
