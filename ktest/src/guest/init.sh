#!/bin/busybox sh
# kbisect guest /init (PID 1), packed into the initramfs by ktest.
#
# It talks to ktest on the serial console with lines that start with the
# marker "@@kbisect@@": "booted", "sanity-ok", "sanity-failed: WHAT",
# "repro-start", "repro-cannot-run rc=N", "alive" (heartbeat), "done
# iterations=N", and with kbisect.bug=exit "exit status=N" or "timed-out".
# Run time, heartbeat period and the kind of bug come from the kernel
# command line (kbisect.run_seconds=, kbisect.heartbeat=, kbisect.bug=) so
# the initramfs does not depend on them and can be cached by content.
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /tmp
mount -t tmpfs tmpfs /tmp

run_seconds=30
heartbeat=10
probe=0
bug=crash
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        kbisect.run_seconds=*) run_seconds=${arg#*=} ;;
        kbisect.bug=*) bug=${arg#*=} ;;
        kbisect.heartbeat=*) heartbeat=${arg#*=} ;;
        kbisect.probe=1) probe=1 ;;
    esac
done

# Say the last word, then power off. `poweroff -f` needs no init system;
# if the machine cannot power off, ktest stops QEMU once it sees the word.
finish() {
    echo "@@kbisect@@ $*"
    poweroff -f
    sleep 3600
}

echo "@@kbisect@@ booted"
[ "$probe" = 1 ] && finish "probe-done"

# syzbot-style basic kernel testing: fork, exec, mmap, file write/read.
# kbisect-sanity prints "@@kbisect@@ sanity-failed: ..." itself on failure.
if ! /bin/kbisect-sanity; then
    finish "sanity-failed: kbisect-sanity exited with status $?"
fi
echo "@@kbisect@@ sanity-ok"

# A boot bisection asks only whether the kernel boots: it did.
[ "$bug" = boot ] && finish "done iterations=0"

# A heartbeat keeps the console talking while a quiet reproducer runs, so
# silence on the console means the kernel (not the reproducer) is stuck.
(while :; do sleep "$heartbeat"; echo "@@kbisect@@ alive"; done) &

# As syzkaller's executor does: the kernel prints no report for a user
# process that dies of a fault (reproducers fault on purpose, and such a
# report is no kernel crash).
echo 0 > /proc/sys/debug/exception-trace 2>/dev/null

cd /tmp
start=$(date +%s)
n=0
echo "@@kbisect@@ repro-start"

# The reproducer is a test (git bisect run's contract): run it once, to its
# end or the run time, and report its exit status.
if [ "$bug" = exit ]; then
    if [ -f /repro.sh ]; then
        timeout -s KILL "$run_seconds" sh /repro.sh
    else
        timeout -s KILL "$run_seconds" /repro
    fi
    rc=$?
    if [ $(($(date +%s) - start)) -ge "$run_seconds" ] && [ "$rc" -ge 128 ]; then
        finish "timed-out"
    fi
    finish "exit status=$rc"
fi
while :; do
    now=$(date +%s)
    left=$((start + run_seconds - now))
    [ "$left" -le 0 ] && break
    if [ -f /repro.sh ]; then
        timeout -s KILL "$left" sh /repro.sh
    elif [ -f /repro ]; then
        timeout -s KILL "$left" /repro
    else
        sleep "$left"
    fi
    rc=$?
    n=$((n + 1))
    # 126: found but not executable; 127: not found (e.g. a dynamically
    # linked binary whose loader is missing in the guest).
    if [ "$n" = 1 ] && { [ "$rc" = 126 ] || [ "$rc" = 127 ]; }; then
        finish "repro-cannot-run rc=$rc"
    fi
done
finish "done iterations=$n"
