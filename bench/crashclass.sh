#!/usr/bin/env bash
# crashclass: throughput (MB/s) and peak memory (max RSS) over a >= 1 GiB
# console log built in /tmp from the shared corpus's no-crash logs and
# kernel-like noise lines (with near-miss lines such as "INFO: lockdep is
# turned off" that the header prefilter must look at and reject), with the
# seed's kvm_wait WARNING at the very end: the whole log is searched.
# Then the guilty-file hit rate over the corpus's guilty/ cases.
# The log is deleted on exit. Binaries on PATH (make bench sets it);
# falls back to target/release.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(command -v crashclass || echo "$PWD/target/release/crashclass")
[ -x "$bin" ] || { echo "crashclass binary not found; run make build" >&2; exit 1; }
shared=${KBISECT_SHARED:-$(cd .. && pwd)/shared}
size_mib=${CRASHCLASS_BENCH_MIB:-1100}

tmp=$(mktemp -d /tmp/crashclass-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# CRASHCLASS_BENCH_KEEP=1 keeps the log (for profiling); delete it yourself.
if [ -n "${CRASHCLASS_BENCH_KEEP:-}" ]; then trap - EXIT; echo "keeping $tmp" >&2; fi
log=$tmp/console.log

python3 - "$shared/crash-corpus/linux" "$tmp/block" <<'EOF'
import os, random, sys
corpus, out = sys.argv[1], sys.argv[2]
random.seed(1)
parts = []
# No-crash corpus logs (cases without a TITLE): real console text.
if os.path.isdir(corpus):
    for name in sorted(os.listdir(corpus)):
        data = open(os.path.join(corpus, name), 'rb').read()
        head, _, body = data.partition(b'\n\n')
        if b'TITLE:' in head and not b'TITLE: \n' in head + b'\n':
            continue
        parts.append(body)
noise = [
    b'[%6d.%06d] audit: type=1400 audit(%d.123:%d): avc:  denied  { read } for  pid=%d comm="syz-executor" name="x" dev="sda1"',
    b'[%6d.%06d] EXT4-fs (sda1): mounted filesystem with ordered data mode. Quota mode: none. %d %d %d',
    b'[%6d.%06d] INFO: lockdep is turned off. %d %d %d',
    b'[%6d.%06d] netdevsim netdevsim0 netdevsim%d: set [1, 0] type 2 family 0 port 6081 - 0 %d %d',
    b'[%6d.%06d] random: crng init done %d %d %d',
    b'[%6d.%06d] WARNING: The mand mount option has been deprecated %d %d %d',
    b'syzkaller login: [%6d.%06d] program output line %d %d %d',
]
lines = []
t = 0
size = 0
while size < 32 << 20:
    t += 1
    if parts and t % 997 == 0:
        chunk = random.choice(parts)
    else:
        chunk = random.choice(noise) % (t // 1000, t % 1000000, t, t * 7, t * 13) + b'\n'
    lines.append(chunk)
    size += len(chunk)
open(out, 'wb').write(b''.join(lines))
EOF

block_mib=$(( $(stat -c %s "$tmp/block") / 1048576 ))
reps=$(( (size_mib + block_mib - 1) / block_mib ))
for _ in $(seq "$reps"); do cat "$tmp/block"; done > "$log"
cat crashclass/tests/fixtures/seed-kvm-wait.log >> "$log"
bytes=$(stat -c %s "$log")

# Warm the page cache so the figure is the classifier's, not the disk's.
cat "$log" > /dev/null
/usr/bin/time -f '%e %M %U %S' -o "$tmp/time" "$bin" --no-report "$log" > "$tmp/out"
read -r secs rss_kib usr sys < "$tmp/time"
title=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["title"])' "$tmp/out")
python3 - "$bytes" "$secs" "$rss_kib" "$title" "$usr" "$sys" <<'EOF'
import sys
b, s, rss, title = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
cpu = max(float(sys.argv[5]) + float(sys.argv[6]), 0.001)
s = max(s, 0.001)
print(f"crashclass log size:        {b / 2**20:.0f} MiB")
print(f"crashclass wall time:       {s:.2f} s")
print(f"crashclass throughput:      {b / 1e6 / s:.0f} MB/s")
print(f"crashclass CPU throughput:  {b / 1e6 / cpu:.0f} MB/s (user+sys; wall is noisy on a shared machine)")
print(f"crashclass peak RSS:        {rss / 1024:.1f} MiB")
print(f"crashclass title found:     {title}")
EOF

# Guilty-file hit rate over the shared corpus's guilty/ cases (FILE: header,
# blank line, log): the logs are written to $tmp without their header and
# classified in one call.
guilty=$shared/crash-corpus/guilty
if [ -d "$guilty" ]; then
  python3 - "$guilty" "$tmp/guilty" "$bin" <<'EOF2'
import json, os, subprocess, sys
src, out, binary = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out, exist_ok=True)
want = {}
for name in sorted(os.listdir(src)):
    head, _, body = open(os.path.join(src, name), 'rb').read().partition(b'\n\n')
    path = os.path.join(out, name)
    open(path, 'wb').write(body)
    want[path] = head.decode('utf-8', 'replace').split('FILE:', 1)[-1].strip() or None
res = subprocess.run([binary, '--no-report', *want], capture_output=True, check=False)
got = {r['log']: r.get('guilty_file') for r in map(json.loads, res.stdout.splitlines())}
hits = sum(got.get(p) == f for p, f in want.items())
print(f"crashclass guilty file:     {hits}/{len(want)} corpus cases")
EOF2
fi
