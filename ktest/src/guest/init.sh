#!/bin/busybox sh
# kbisect guest /init (PID 1), packed into the initramfs by ktest.
#
# It talks to ktest on the serial console with lines that start with the
# marker "@@kbisect@@": "booted run_seconds=N" (the run time it read, so
# ktest sees when its command line did not reach the kernel), "sanity-ok",
# "sanity-failed: WHAT", "guest-missing: WHAT…" (what the kernel lacks of
# syzbot's guest), "sysctl-failed NAME", "repro-start", "repro-cannot-run
# rc=N", "alive" (heartbeat), "done iterations=N", and with kbisect.bug=exit
# "exit status=N" or "timed-out".
# Run time, heartbeat period and the kind of bug come from the kernel
# command line (kbisect.run_seconds=, kbisect.heartbeat=, kbisect.bug=) so
# the initramfs does not depend on them and can be cached by content.
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

# syzbot's reproducers expect a real root file system: the namespace
# sandbox calls pivot_root(2), which refuses the initramfs's rootfs. So the
# image first moves itself into a tmpfs and starts again from there
# (switch_root empties the rootfs and runs /init again as PID 1). Without
# tmpfs, or when that fails, the run goes on in the rootfs.
if [ "$$" = 1 ] && [ ! -e /.kbisect-root ]; then
    mkdir -p /newroot
    if mount -t tmpfs -o mode=0755 tmpfs /newroot 2>/dev/null; then
        for f in /*; do
            case $f in /newroot|/proc|/sys|/dev) mkdir -p "/newroot$f" ;; *) cp -a "$f" /newroot/ ;; esac
        done
        : > /newroot/.kbisect-root
        exec switch_root /newroot /init
    fi
    rootfs=initramfs
fi

# What the kernel lacks of the guest syzbot's VMs give; said once, as
# "guest-missing: WHAT ...", and kept in every run record.
missing=${rootfs:+real-root}
# mount_fs TYPE DIR [OPTIONS]: mount a file system when the kernel has it.
mount_fs() {
    if grep -qw "$1" /proc/filesystems 2>/dev/null; then
        mkdir -p "$2"
        mount -t "$1" ${3:+-o "$3"} "$1" "$2" 2>/dev/null && return
    fi
    missing="$missing $1"
}
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount_fs tmpfs /tmp
mount_fs devpts /dev/pts
mount_fs tmpfs /dev/shm mode=1777
mount_fs debugfs /sys/kernel/debug
mount_fs configfs /sys/kernel/config
mount_fs securityfs /sys/kernel/security
mount_fs binfmt_misc /proc/sys/fs/binfmt_misc
# The rest of the file systems in the fstab of syzbot's images.
mount_fs tracefs /sys/kernel/tracing
mount_fs bpf /sys/fs/bpf
mount_fs pstore /sys/fs/pstore
mount_fs fusectl /sys/fs/fuse/connections
# A security module's file system exists only with that module built in;
# a kernel without it lacks nothing syzbot's guest would give it.
for lsm in selinuxfs:/sys/fs/selinux smackfs:/sys/fs/smackfs; do
    grep -qw "${lsm%%:*}" /proc/filesystems 2>/dev/null && mount_fs "${lsm%%:*}" "${lsm#*:}"
done
# cgroup v2 where systemd puts it; the reproducers that use cgroups mount
# their own v1 and v2 hierarchies under /syzcgroup (as syzbot's do).
mount_fs cgroup2 /sys/fs/cgroup
ip link set lo up 2>/dev/null || missing="$missing loopback"
# No core files from reproducers that crash on purpose.
ulimit -c 0

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

echo "@@kbisect@@ booted run_seconds=$run_seconds"
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

# The sysctls syzkaller's executor writes before a program runs, each when
# the kernel has it: among them debug.exception-trace=0, so the kernel
# prints no report for a user process that dies of a fault (reproducers
# fault on purpose, and such a report is no kernel crash).
# set_sysctl NAME VALUE: true when the kernel took it.
set_sysctl() {
    case $1 in */*) path=/proc/sys/$1 ;; *) path=/proc/sys/$(echo "$1" | tr . /) ;; esac
    [ -e "$path" ] && echo "$2" > "$path" 2>/dev/null
}
while IFS='=' read -r name value; do
    set_sysctl "$name" "$value"
done <<'SYZKALLER'
kernel.hung_task_check_interval_secs=20
net.core.bpf_jit_kallsyms=1
net.core.bpf_jit_harden=0
kernel.kptr_restrict=0
kernel.softlockup_all_cpu_backtrace=1
fs.mount-max=100
vm.oom_dump_tasks=0
debug.exception-trace=0
kernel.printk=7 4 1 3
net.ipv4.ping_group_range=0 65535
kernel.keys.gc_delay=1
vm.oom_kill_allocating_task=1
kernel.ctrl-alt-del=0
SYZKALLER
# The user's (ktest --sysctl): each one the kernel does not take is named.
if [ -f /etc/kbisect/sysctl ]; then
    while IFS='=' read -r name value; do
        [ -n "$name" ] || continue
        set_sysctl "$name" "$value" || echo "@@kbisect@@ sysctl-failed $name"
    done < /etc/kbisect/sysctl
fi
[ -z "$missing" ] || echo "@@kbisect@@ guest-missing:$missing"

# Each reproducer run starts in a new, empty, writable directory; the last
# one's is removed as far as it can be (a reproducer may leave mounts in it).
# workdir N: make and enter the directory of run N.
workdir() {
    cd /
    [ "$1" = 0 ] || rm -rf "/tmp/run.$(($1 - 1))" 2>/dev/null
    mkdir -p "/tmp/run.$1" && cd "/tmp/run.$1"
}
workdir 0
# A 32-bit reproducer needs the kernel's IA32 emulation (abi.vsyscall32
# exists only with it): without it exec fails and busybox would run the
# ELF as a shell script, a run that looks fine and tests nothing.
if [ -f /etc/kbisect/repro-32bit ] && [ -d /proc/sys/kernel ] && [ ! -e /proc/sys/abi/vsyscall32 ]; then
    finish "repro-cannot-run no IA32 emulation"
fi
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
    [ "$n" = 0 ] || workdir "$n"
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
