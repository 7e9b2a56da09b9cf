#!/usr/bin/env python3
"""Build the demo kernel history on top of the v6.1 base repository.

The history looks like kernel development: topic branches merged into a
mainline, release tags (Makefile version bumps), real edits in compiled
files, comment-only, docs-only and out-of-config commits. Planted in it (see
PLANTED below and examples/demo/README.md):

  * the culprit: kernel/prctl_ra_hint.c dereferences a reserved NULL policy
    when prctl(PR_SET_RA_HINT, 3) is called (examples/demo/repro.c);
  * a stretch whose kernels WARN in alloc_pid() on every boot, later fixed;
  * a stretch where /dev/null writes of a page or more hit a BUG in
    null_account() about one time in three (an unrelated crash the
    reproducer's first syscall reaches), later fixed;
  * a stretch that does not compile (fs/libfs.c), later fixed;
  * a functional regression that does not crash: prctl(PR_GET_NAME) gives
    back a 15-character task name cut to 14 (examples/demo/test-comm.c);
  * the v6.2 release boundary, across which the compiler table changes gcc;
  * on a branch of its own (ra-stats, on v6.3-rc2), a bug reachable only
    with CONFIG_RA_HINT_STATS: reading /proc/ra_hint_stats dereferences a
    reserved NULL policy (examples/demo/repro-config.c, big.fragment).

Everything is made with git plumbing (no checkout) and fixed identities and
dates, so the commit ids are the same on every machine that has the same base
tree. Usage: history.py REPO  (REPO already holds tag v6.1). Writes
REPO/.git/kbisect-demo.json naming the planted commits.
"""
import json
import os
import random
import re
import subprocess
import sys

REPO = sys.argv[1]
ENV = dict(os.environ)
ENV["GIT_INDEX_FILE"] = os.path.join(REPO, ".git", "kbisect-demo-index")
ENV.pop("GIT_DIR", None)
RNG = random.Random(20230219)

LINUS = ("Linus Torvalds", "torvalds@linux-foundation.org")

# Fictional developers (example.* domains): authors, maintainers, reviewers.
PEOPLE = {
    "mira": ("Mira Kowalski", "mira.kowalski@example.org"),
    "tomas": ("Tomas Lindqvist", "tomas.lindqvist@example.com"),
    "aiko": ("Aiko Tanabe", "aiko.tanabe@example.net"),
    "rafael": ("Rafael Quintero", "rquintero@example.com"),
    "nadia": ("Nadia Haddad", "nadia.haddad@example.org"),
    "sven": ("Sven Olsson", "sven.olsson@example.net"),
    "priya": ("Priya Raman", "priya.raman@example.com"),
    "jonas": ("Jonas Becker", "jbecker@example.org"),
    "lena": ("Lena Petrova", "lena.petrova@example.net"),
    "omar": ("Omar Said", "omar.said@example.com"),
    "chloe": ("Chloe Martin", "chloe.martin@example.org"),
    "wei": ("Wei Zhang", "wei.zhang@example.net"),
}


def person(key):
    name, mail = PEOPLE[key]
    return f"{name} <{mail}>"


def git(*args, inp=None):
    res = subprocess.run(["git", "-C", REPO, *args], env=ENV, input=inp,
                         capture_output=True, check=False)
    if res.returncode != 0:
        sys.stderr.write(res.stderr.decode(errors="replace") + res.stdout.decode(errors="replace")[:2000])
        raise SystemExit(f"history.py: git {args[0]} failed")
    return res.stdout


_clock = [1670835600]  # 2022-12-12T09:00:00Z, advanced per object


def tick(hours=3):
    _clock[0] += hours * 3600
    return f"{_clock[0]} +0000"


def blob(rev, path):
    return git("cat-file", "blob", f"{rev}:{path}").decode()


_index_at = [None]  # the commit whose tree the scratch index holds


def commit(parent, author, subject, body, trailers, edits, committer=None):
    """Commit `edits` ({path: new text}) on top of `parent`."""
    if _index_at[0] != parent:
        git("read-tree", parent)
    for path, text in edits.items():
        oid = git("hash-object", "-w", "--stdin", "--path", path, inp=text.encode()).decode().strip()
        git("update-index", "--add", "--cacheinfo", f"100644,{oid},{path}")
    tree = git("write-tree").decode().strip()
    _index_at[0] = make_commit(tree, [parent], author, subject, body, trailers, committer)
    return _index_at[0]


def make_commit(tree, parents, author, subject, body, trailers, committer=None):
    author = PEOPLE.get(author, author) if isinstance(author, str) else author
    committer = committer or author
    date = tick()
    env = dict(ENV, GIT_AUTHOR_NAME=author[0], GIT_AUTHOR_EMAIL=author[1],
               GIT_AUTHOR_DATE=date, GIT_COMMITTER_NAME=committer[0],
               GIT_COMMITTER_EMAIL=committer[1], GIT_COMMITTER_DATE=date)
    msg = subject + "\n"
    if body:
        msg += "\n" + body.strip("\n") + "\n"
    if trailers:
        msg += "\n" + "\n".join(trailers) + "\n"
    args = ["git", "-C", REPO, "commit-tree", tree]
    for p in parents:
        args += ["-p", p]
    res = subprocess.run(args, env=env, input=msg.encode(), capture_output=True, check=True)
    return res.stdout.decode().strip()


def merge(ours, theirs, subject, body=""):
    tree = git("merge-tree", "--write-tree", "--no-messages", ours, theirs).decode().split()[0]
    return make_commit(tree, [ours, theirs], LINUS, subject, body, [], LINUS)


def tag(name, rev):
    date = tick(1)
    env = dict(ENV, GIT_COMMITTER_NAME=LINUS[0], GIT_COMMITTER_EMAIL=LINUS[1], GIT_COMMITTER_DATE=date)
    subprocess.run(["git", "-C", REPO, "tag", "-f", "-a", "-m", "Linux " + name[1:], name, rev],
                   env=env, check=True, capture_output=True)


def release(parent, version, patchlevel, sublevel, extra, name):
    mk = blob(parent, "Makefile")
    mk = re.sub(r"(?m)^PATCHLEVEL = .*$", f"PATCHLEVEL = {patchlevel}", mk, count=1)
    mk = re.sub(r"(?m)^SUBLEVEL = .*$", f"SUBLEVEL = {sublevel}", mk, count=1)
    mk = re.sub(r"(?m)^EXTRAVERSION =.*$", f"EXTRAVERSION = {extra}".rstrip(), mk, count=1)
    mk = re.sub(r"(?m)^NAME = .*$", f"NAME = {name}", mk, count=1)
    c = commit(parent, LINUS, "Linux " + version[1:], "", [], {"Makefile": mk}, LINUS)
    tag(version, c)
    return c


# ---------------------------------------------------------------- filler edits

COMMENTS = [
    "Nothing to undo on this path.",
    "All state is published at this point; callers may rely on it.",
    "Keep this last: the caller treats 0 as complete success.",
    "No locks are held here.",
    "Any error was reported above.",
]
SUBJECTS_DEBUG = ["add debug output to {fn}()", "trace the success path of {fn}()",
                  "report {fn}() completion under pr_debug"]
SUBJECTS_COMMENT = ["document the return path of {fn}()", "clarify a comment in {fn}()",
                    "explain why {fn}() returns 0 here"]

_edits_per_file = {}


def prefix_of(path):
    parts = path.rsplit(".", 1)[0].split("/")
    if parts[0] == "kernel" and len(parts) > 2:
        return "/".join(parts[1:])
    if parts[0] == "drivers":
        return ": ".join(parts[1:3]) if len(parts) > 2 else parts[1]
    if parts[0] == "sound":
        return "ALSA: " + parts[-1]
    return "/".join(parts[:2]) if parts[0] in ("mm", "fs") else parts[-1]


def nth_return(text, n):
    """Offset of the n-th (mod count) `\\treturn 0;\\n}` and the function it ends."""
    hits = [m.start() for m in re.finditer(r"\n\treturn 0;\n}\n", text)]
    at = hits[n % len(hits)]
    fn = "this"
    for m in re.finditer(r"(?m)^[a-z][^\n;(]*?\b(\w+)\(", text[:at]):
        fn = m.group(1)
    return at, fn


def filler(parent, path, author, maint, style):
    """One realistic small commit in `path`: debug output, comment, or docs."""
    text = blob(parent, path)
    k = _edits_per_file.get(path, 0)
    _edits_per_file[path] = k + 1
    if path.endswith(".rst"):
        note = RNG.choice([
            "The behaviour described above is unchanged when the feature is disabled.",
            "See the kernel-parameters documentation for the matching boot options.",
            "Distributions may set a different default; check your kernel configuration.",
        ])
        text = text.rstrip("\n") + "\n\n.. note::\n\n   " + note + "\n"
        topic = path.split("/")[-1].rsplit(".", 1)[0]
        subject = f"docs: {topic}: " + RNG.choice(["add a note on defaults", "clarify behaviour when disabled",
                                                     "point to the boot parameters"])
        body = "Readers keep asking about this on the list; say it in the document."
    else:
        at, fn = nth_return(text, k * 3)
        if style == "debug":
            line = f'\n\tpr_debug("%s: done\\n", __func__);'
            subject = f"{prefix_of(path)}: " + RNG.choice(SUBJECTS_DEBUG).format(fn=fn)
            body = (f"When chasing problems in {fn}() it helps to see that the function\n"
                    "completed. pr_debug() costs nothing unless dynamic debug enables it.")
        else:
            line = "\n\t/* " + RNG.choice(COMMENTS) + " */"
            subject = f"{prefix_of(path)}: " + RNG.choice(SUBJECTS_COMMENT).format(fn=fn)
            body = f"The return path of {fn}() confused a reviewer; add a comment.\nNo functional change."
        text = text[:at] + line + text[at:]
    trailers = [f"Signed-off-by: {person(author)}"]
    reviewer = RNG.choice([k for k in PEOPLE if k not in (author, maint)])
    if RNG.random() < 0.5:
        trailers.append(f"Reviewed-by: {person(reviewer)}")
    elif RNG.random() < 0.5:
        trailers.append(f"Acked-by: {person(reviewer)}")
    if maint != author:
        trailers.append(f"Signed-off-by: {person(maint)}")
    return commit(parent, author, subject, body, trailers, {path: text}, PEOPLE[maint])


def branch(base, maint, items):
    """A topic branch: items are (path, author, style) or callables(parent)->sha."""
    tip = base
    for it in items:
        tip = it(tip) if callable(it) else filler(tip, it[0], it[1], maint, it[2])
    return tip


COMPILED = ["kernel/fork.c", "kernel/exit.c", "kernel/signal.c", "kernel/sched/core.c",
            "kernel/workqueue.c", "kernel/printk/printk.c", "mm/mmap.c", "mm/memory.c",
            "mm/filemap.c", "mm/page_alloc.c", "fs/namei.c", "fs/open.c", "fs/exec.c",
            "fs/inode.c", "fs/super.c", "fs/pipe.c", "fs/namespace.c"]
NOT_BUILT = ["drivers/net/ethernet/intel/e1000e/netdev.c", "drivers/gpu/drm/drm_gem.c",
             "drivers/usb/core/hub.c", "drivers/scsi/sd.c", "sound/core/pcm.c",
             "drivers/net/wireless/ath/ath9k/main.c", "drivers/input/mouse/psmouse-base.c",
             "drivers/md/dm.c", "fs/ext4/super.c", "fs/btrfs/inode.c"]
DOCS = ["Documentation/admin-guide/bug-hunting.rst", "Documentation/admin-guide/cputopology.rst",
        "Documentation/mm/highmem.rst", "Documentation/core-api/circular-buffers.rst",
        "Documentation/filesystems/api-summary.rst", "Documentation/process/adding-syscalls.rst",
        "Documentation/admin-guide/bootconfig.rst", "Documentation/mm/balance.rst"]
AUTHORS = list(PEOPLE)


# Files edited by each concurrent topic branch of the current merge window:
# branches of one window touch disjoint files, so their merges are clean.
CLAIMED = {}


def pick(pool, owner):
    free = [p for p in pool if CLAIMED.get(p, owner) == owner]
    path = RNG.choice(free)
    CLAIMED[path] = owner
    return path


def items(n, pool, styles=("debug", "comment"), owner=None):
    out = []
    for _ in range(n):
        out.append((pick(pool, owner), RNG.choice(AUTHORS), RNG.choice(styles)))
    return out


def mixed(n, owner=None):
    pools = [(COMPILED, ("debug", "comment")), (NOT_BUILT, ("debug", "comment")), (DOCS, ("doc",))]
    out = []
    for _ in range(n):
        pool, styles = RNG.choice(pools)
        out.append((pick(pool, owner), RNG.choice(AUTHORS), RNG.choice(styles)))
    return out


# ------------------------------------------------------------ planted commits

PLANTED = {}


def edit(parent, path, old, new, count=1):
    text = blob(parent, path)
    if text.count(old) < 1:
        raise SystemExit(f"history.py: anchor not found in {path}: {old[:60]!r}")
    return text.replace(old, new, count)


RA_HINT_H = """/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_RA_HINT_H
#define _LINUX_RA_HINT_H

/* prctl(PR_SET_RA_HINT / PR_GET_RA_HINT): per-task readahead hints. */
int prctl_set_ra_hint(unsigned long hint);
int prctl_get_ra_hint(void);

#endif /* _LINUX_RA_HINT_H */
"""

RA_HINT_C_V1 = """// SPDX-License-Identifier: GPL-2.0
/*
 * Readahead hints set with prctl(PR_SET_RA_HINT): a task says whether it
 * reads sequentially or randomly, and readahead sizes its window to match.
 */
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/compiler.h>
#include <linux/ra_hint.h>
#include <uapi/linux/prctl.h>

/* Readahead window, in pages, for each hint. */
static const unsigned int ra_hint_windows[] = {
	[PR_RA_HINT_DEFAULT]	= 32,
	[PR_RA_HINT_SEQUENTIAL]	= 128,
	[PR_RA_HINT_RANDOM]	= 0,
};

static unsigned int ra_hint_last_window = 32;

int prctl_set_ra_hint(unsigned long hint)
{
	if (hint >= ARRAY_SIZE(ra_hint_windows))
		return -EINVAL;
	WRITE_ONCE(ra_hint_last_window, ra_hint_windows[hint]);
	return 0;
}

int prctl_get_ra_hint(void)
{
	return READ_ONCE(ra_hint_last_window);
}
"""

RA_HINT_C_V2 = """// SPDX-License-Identifier: GPL-2.0
/*
 * Readahead hints set with prctl(PR_SET_RA_HINT): a task says whether it
 * reads sequentially or randomly, and readahead sizes its window to match.
 */
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/compiler.h>
#include <linux/ra_hint.h>
#include <uapi/linux/prctl.h>

struct ra_hint_policy {
	const char *name;
	unsigned int window;	/* pages */
};

static const struct ra_hint_policy ra_hint_default = { "default", 32 };
static const struct ra_hint_policy ra_hint_sequential = { "sequential", 128 };
static const struct ra_hint_policy ra_hint_random = { "random", 0 };

/*
 * One policy per hint. PR_RA_HINT_ADAPTIVE is reserved for the adaptive
 * policy series and has no policy yet.
 */
static const struct ra_hint_policy *const ra_hint_policies[] = {
	[PR_RA_HINT_DEFAULT]	= &ra_hint_default,
	[PR_RA_HINT_SEQUENTIAL]	= &ra_hint_sequential,
	[PR_RA_HINT_RANDOM]	= &ra_hint_random,
	[PR_RA_HINT_ADAPTIVE]	= NULL,
};

static unsigned int ra_hint_last_window = 32;

int prctl_set_ra_hint(unsigned long hint)
{
	const struct ra_hint_policy *policy;

	if (hint >= ARRAY_SIZE(ra_hint_policies))
		return -EINVAL;
	policy = READ_ONCE(ra_hint_policies[hint]);
	WRITE_ONCE(ra_hint_last_window, policy->window);
	return 0;
}

int prctl_get_ra_hint(void)
{
	return READ_ONCE(ra_hint_last_window);
}
"""

MAINTAINERS_ENTRY = """READAHEAD HINTS (PRCTL)
M:	Mira Kowalski <mira.kowalski@example.org>
R:	Tomas Lindqvist <tomas.lindqvist@example.com>
L:	linux-mm@kvack.org
S:	Maintained
F:	include/linux/ra_hint.h
F:	kernel/prctl_ra_hint.c

"""


def ra_hint_feature(parent):
    hdr = edit(parent, "include/uapi/linux/prctl.h", "\n#endif /* _LINUX_PRCTL_H */",
               "\n/* Per-task readahead hint */\n#define PR_SET_RA_HINT\t\t0x52414849\t/* \"RAHI\" */\n"
               "# define PR_RA_HINT_DEFAULT\t0\n# define PR_RA_HINT_SEQUENTIAL\t1\n"
               "# define PR_RA_HINT_RANDOM\t2\n#define PR_GET_RA_HINT\t\t0x52414847\t/* \"RAHG\" */\n"
               "\n#endif /* _LINUX_PRCTL_H */")
    sysc = edit(parent, "kernel/sys.c", "#include <linux/compat.h>\n",
                "#include <linux/compat.h>\n#include <linux/ra_hint.h>\n")
    sysc = sysc.replace("\tcase PR_SET_VMA:\n", "\tcase PR_SET_RA_HINT:\n\t\tif (arg3 || arg4 || arg5)\n"
                        "\t\t\treturn -EINVAL;\n\t\terror = prctl_set_ra_hint(arg2);\n\t\tbreak;\n"
                        "\tcase PR_GET_RA_HINT:\n\t\terror = prctl_get_ra_hint();\n\t\tbreak;\n"
                        "\tcase PR_SET_VMA:\n", 1)
    mk = edit(parent, "kernel/Makefile", "obj-y += sched/\n", "obj-y += prctl_ra_hint.o\nobj-y += sched/\n")
    maint = edit(parent, "MAINTAINERS", "READ-COPY UPDATE (RCU)\n", MAINTAINERS_ENTRY + "READ-COPY UPDATE (RCU)\n")
    c = commit(parent, "mira", "mm/readahead: add PR_SET_RA_HINT to size readahead per task",
               "Databases and media servers know their access pattern better than the\n"
               "readahead heuristics do. Let a task tell the kernel with\n"
               "prctl(PR_SET_RA_HINT, hint): default, sequential or random, and read the\n"
               "resulting window back with PR_GET_RA_HINT.\n\nAdd a MAINTAINERS entry for it.",
               [f"Signed-off-by: {person('mira')}", f"Reviewed-by: {person('tomas')}",
                f"Acked-by: {person('nadia')}"],
               {"include/uapi/linux/prctl.h": hdr, "kernel/sys.c": sysc, "kernel/Makefile": mk,
                "MAINTAINERS": maint, "include/linux/ra_hint.h": RA_HINT_H,
                "kernel/prctl_ra_hint.c": RA_HINT_C_V1}, PEOPLE["mira"])
    PLANTED["feature"] = c
    return c


def ra_hint_culprit(parent):
    hdr = edit(parent, "include/uapi/linux/prctl.h", "# define PR_RA_HINT_RANDOM\t2\n",
               "# define PR_RA_HINT_RANDOM\t2\n# define PR_RA_HINT_ADAPTIVE\t3\t/* reserved */\n")
    c = commit(parent, "aiko", "mm/readahead: describe readahead hints by policy",
               "A bare table of window sizes does not leave room for the adaptive\n"
               "readahead policy that is coming. Describe each hint by a policy (name\n"
               "and window) and reserve PR_RA_HINT_ADAPTIVE for the adaptive one.",
               [f"Signed-off-by: {person('aiko')}", f"Reviewed-by: {person('tomas')}",
                f"Reported-by: {person('wei')}", f"Signed-off-by: {person('mira')}"],
               {"include/uapi/linux/prctl.h": hdr, "kernel/prctl_ra_hint.c": RA_HINT_C_V2},
               PEOPLE["mira"])
    PLANTED["culprit"] = c
    return c


def boot_warning(parent):
    pidc = edit(parent, "kernel/pid.c", "\tupid = pid->numbers + ns->level;\n\tspin_lock_irq(&pidmap_lock);\n",
                "\t/* Allocating in a namespace that is going away is a caller bug. */\n"
                "\tWARN_ON_ONCE(ns->pid_allocated & PIDNS_ADDING);\n\n"
                "\tupid = pid->numbers + ns->level;\n\tspin_lock_irq(&pidmap_lock);\n")
    c = commit(parent, "rafael", "pid: warn when allocating a pid in a dying namespace",
               "alloc_pid() quietly fails with -ENOMEM when the namespace no longer\n"
               "accepts new pids, which hides caller bugs. Warn once so they show up.",
               [f"Signed-off-by: {person('rafael')}", f"Signed-off-by: {person('sven')}"],
               {"kernel/pid.c": pidc}, PEOPLE["sven"])
    PLANTED["boot_warning"] = c
    return c


def boot_warning_fix(parent):
    pidc = edit(parent, "kernel/pid.c", "\tWARN_ON_ONCE(ns->pid_allocated & PIDNS_ADDING);\n",
                "\tWARN_ON_ONCE(!(ns->pid_allocated & PIDNS_ADDING));\n")
    c = commit(parent, "rafael", "pid: fix inverted PIDNS_ADDING check in alloc_pid()",
               "PIDNS_ADDING is set while the namespace accepts new pids, so the new\n"
               "warning fired on every allocation, starting with the first kernel\n"
               "thread at boot. Warn when the bit is clear instead.",
               [f"Reported-by: {person('priya')}", f"Signed-off-by: {person('rafael')}",
                f"Signed-off-by: {person('sven')}"],
               {"kernel/pid.c": pidc}, PEOPLE["sven"])
    PLANTED["boot_warning_fix"] = c
    return c


def null_crash(parent):
    mem = edit(parent, "drivers/char/mem.c",
               "static ssize_t write_null(struct file *file, const char __user *buf,\n"
               "\t\t\t  size_t count, loff_t *ppos)\n{\n\treturn count;\n}\n",
               "/* Bytes sunk into /dev/null by large writes, spread over slots. */\n"
               "static unsigned long null_sink_bytes[2];\n\n"
               "static noinline void null_account(size_t count)\n{\n"
               "\tunsigned int slot = get_random_u32() % 3;\n\n"
               "\tBUG_ON(slot >= ARRAY_SIZE(null_sink_bytes));\n"
               "\tnull_sink_bytes[slot] += count;\n}\n\n"
               "static ssize_t write_null(struct file *file, const char __user *buf,\n"
               "\t\t\t  size_t count, loff_t *ppos)\n{\n"
               "\tif (count >= PAGE_SIZE)\n\t\tnull_account(count);\n\treturn count;\n}\n")
    c = commit(parent, "omar", "char: mem: account large writes to /dev/null",
               "Benchmarks use /dev/null as a sink; count what large writes push into\n"
               "it. Spread the counter over a few slots to keep cache lines cool.",
               [f"Signed-off-by: {person('omar')}", f"Acked-by: {person('chloe')}",
                f"Signed-off-by: {person('chloe')}"],
               {"drivers/char/mem.c": mem}, PEOPLE["chloe"])
    PLANTED["unrelated_crash"] = c
    return c


def null_crash_fix(parent):
    mem = edit(parent, "drivers/char/mem.c", "\tunsigned int slot = get_random_u32() % 3;\n",
               "\tunsigned int slot = get_random_u32() % ARRAY_SIZE(null_sink_bytes);\n")
    c = commit(parent, "omar", "char: mem: fix slot selection in null_account()",
               "There are two slots, not three: a third of all large writes to\n"
               "/dev/null hit the BUG_ON().",
               [f"Reported-by: {person('jonas')}", f"Signed-off-by: {person('omar')}",
                f"Signed-off-by: {person('chloe')}"],
               {"drivers/char/mem.c": mem}, PEOPLE["chloe"])
    PLANTED["unrelated_crash_fix"] = c
    return c


def comm_regression(parent):
    sysc = edit(parent, "kernel/sys.c", "\tcase PR_GET_NAME:\n\t\tget_task_comm(comm, me);\n",
                "\tcase PR_GET_NAME:\n\t\t/* Keep the last byte for the terminator. */\n"
                "\t\t__get_task_comm(comm, sizeof(comm) - 1, me);\n")
    c = commit(parent, "omar", "prctl: leave room for the terminator in PR_GET_NAME",
               "get_task_comm() fills the whole buffer; copy one byte less so the\n"
               "name handed to userspace is always terminated.",
               [f"Signed-off-by: {person('omar')}", f"Signed-off-by: {person('sven')}"],
               {"kernel/sys.c": sysc}, PEOPLE["sven"])
    PLANTED["exit_regression"] = c
    return c


def build_break(parent):
    libfs = edit(parent, "fs/libfs.c",
                 "\tbuf->f_type = dentry->d_sb->s_magic;\n\tbuf->f_bsize = PAGE_SIZE;\n",
                 "\tstruct super_block *sb = dentry->d_sb;\n\n"
                 "\tbuf->f_type = s->s_magic;\n\tbuf->f_bsize = PAGE_SIZE;\n")
    c = commit(parent, "lena", "libfs: simplify simple_statfs()",
               "Look the superblock up once.",
               [f"Signed-off-by: {person('lena')}", f"Signed-off-by: {person('jonas')}"],
               {"fs/libfs.c": libfs}, PEOPLE["jonas"])
    PLANTED["build_break"] = c
    return c


def build_fix(parent):
    libfs = edit(parent, "fs/libfs.c", "\tbuf->f_type = s->s_magic;\n", "\tbuf->f_type = sb->s_magic;\n")
    c = commit(parent, "lena", "libfs: fix build of simple_statfs()",
               "The variable is called sb, not s.",
               [f"Reported-by: kernel test robot <lkp@intel.com>", f"Signed-off-by: {person('lena')}",
                f"Signed-off-by: {person('jonas')}"],
               {"fs/libfs.c": libfs}, PEOPLE["jonas"])
    PLANTED["build_fix"] = c
    return c


# ------------------------------------------------- the config-dependent bug
#
# A second planted bug on a branch of its own (refs/heads/ra-stats, on top of
# v6.3-rc2), reachable only with CONFIG_RA_HINT_STATS, which the default
# config (tinyconfig + kbuild's default fragment) lacks: reading
# /proc/ra_hint_stats dereferences the reserved NULL policy
# (examples/demo/repro-config.c, big.fragment). Made after the main history,
# so that the main history's commit ids do not depend on it.

RA_STATS_KCONFIG = """config RA_HINT_STATS
	bool "Readahead hint statistics in /proc"
	depends on PROC_FS
	default n
	help
	  Count how often each readahead hint is set with
	  prctl(PR_SET_RA_HINT) and show the counts, together with the
	  readahead window each hint selects, in /proc/ra_hint_stats.

	  The counters cost an atomic increment per prctl() call.

	  If unsure, say N.

"""

RA_STATS_H = """
#ifdef CONFIG_RA_HINT_STATS
void ra_hint_stats_count(unsigned long hint);
#else
static inline void ra_hint_stats_count(unsigned long hint) { }
#endif
"""

RA_STATS_C_V1 = """// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/ra_hint_stats: how often each readahead hint was set with
 * prctl(PR_SET_RA_HINT), and the readahead window the hint selects.
 */
#include <linux/atomic.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/proc_fs.h>
#include <linux/ra_hint.h>
#include <linux/seq_file.h>
#include <uapi/linux/prctl.h>

struct ra_hint_stat {
	const char *name;
	unsigned int window;	/* pages, as prctl_set_ra_hint() sets it */
};

static const struct ra_hint_stat ra_hint_stats[] = {
	[PR_RA_HINT_DEFAULT]	= { "default", 32 },
	[PR_RA_HINT_SEQUENTIAL]	= { "sequential", 128 },
	[PR_RA_HINT_RANDOM]	= { "random", 0 },
};

static atomic_long_t ra_hint_set_count[ARRAY_SIZE(ra_hint_stats)];

void ra_hint_stats_count(unsigned long hint)
{
	if (hint < ARRAY_SIZE(ra_hint_set_count))
		atomic_long_inc(&ra_hint_set_count[hint]);
}

static int ra_hint_stats_show(struct seq_file *m, void *v)
{
	unsigned int i;

	seq_puts(m, "hint        window        set\\n");
	for (i = 0; i < ARRAY_SIZE(ra_hint_stats); i++)
		seq_printf(m, "%-11s %6u %10ld\\n", ra_hint_stats[i].name,
			   ra_hint_stats[i].window,
			   atomic_long_read(&ra_hint_set_count[i]));
	return 0;
}

static int __init ra_hint_stats_init(void)
{
	if (!proc_create_single("ra_hint_stats", 0444, NULL, ra_hint_stats_show))
		return -ENOMEM;
	return 0;
}
late_initcall(ra_hint_stats_init);
"""

RA_STATS_C_V2 = """// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/ra_hint_stats: how often each readahead hint was set with
 * prctl(PR_SET_RA_HINT), and the readahead window the hint selects.
 */
#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/proc_fs.h>
#include <linux/ra_hint.h>
#include <linux/seq_file.h>
#include <uapi/linux/prctl.h>

struct ra_hint_stat {
	const char *name;
	unsigned int window;	/* pages, as prctl_set_ra_hint() sets it */
};

static const struct ra_hint_stat ra_hint_stat_default = { "default", 32 };
static const struct ra_hint_stat ra_hint_stat_sequential = { "sequential", 128 };
static const struct ra_hint_stat ra_hint_stat_random = { "random", 0 };

/*
 * One entry per PR_RA_HINT_* value, as in prctl_ra_hint.c.
 * PR_RA_HINT_ADAPTIVE is reserved for the adaptive policy series and has
 * no policy yet.
 */
static const struct ra_hint_stat *const ra_hint_stats[] = {
	[PR_RA_HINT_DEFAULT]	= &ra_hint_stat_default,
	[PR_RA_HINT_SEQUENTIAL]	= &ra_hint_stat_sequential,
	[PR_RA_HINT_RANDOM]	= &ra_hint_stat_random,
	[PR_RA_HINT_ADAPTIVE]	= NULL,
};

static atomic_long_t ra_hint_set_count[ARRAY_SIZE(ra_hint_stats)];

void ra_hint_stats_count(unsigned long hint)
{
	if (hint < ARRAY_SIZE(ra_hint_set_count))
		atomic_long_inc(&ra_hint_set_count[hint]);
}

static noinline int ra_hint_stats_show(struct seq_file *m, void *v)
{
	const struct ra_hint_stat *stat;
	unsigned int i;

	seq_puts(m, "hint        window        set\\n");
	for (i = 0; i < ARRAY_SIZE(ra_hint_stats); i++) {
		stat = READ_ONCE(ra_hint_stats[i]);
		seq_printf(m, "%-11s %6u %10ld\\n", stat->name, stat->window,
			   atomic_long_read(&ra_hint_set_count[i]));
	}
	return 0;
}

static int __init ra_hint_stats_init(void)
{
	if (!proc_create_single("ra_hint_stats", 0444, NULL, ra_hint_stats_show))
		return -ENOMEM;
	return 0;
}
late_initcall(ra_hint_stats_init);
"""


def ra_stats_feature(parent):
    kconfig = edit(parent, "mm/Kconfig", "config PERCPU_STATS\n", RA_STATS_KCONFIG + "config PERCPU_STATS\n")
    mk = edit(parent, "kernel/Makefile", "obj-y += prctl_ra_hint.o\n",
              "obj-y += prctl_ra_hint.o\nobj-$(CONFIG_RA_HINT_STATS) += ra_hint_stats.o\n")
    hdr = edit(parent, "include/linux/ra_hint.h", "int prctl_get_ra_hint(void);\n",
               "int prctl_get_ra_hint(void);\n" + RA_STATS_H)
    # prctl_ra_hint.c already includes <linux/ra_hint.h>.
    prc = edit(parent, "kernel/prctl_ra_hint.c", "\tWRITE_ONCE(ra_hint_last_window, policy->window);\n\treturn 0;\n",
               "\tWRITE_ONCE(ra_hint_last_window, policy->window);\n\tra_hint_stats_count(hint);\n\treturn 0;\n")
    maint = edit(parent, "MAINTAINERS", "F:\tkernel/prctl_ra_hint.c\n",
                 "F:\tkernel/prctl_ra_hint.c\nF:\tkernel/ra_hint_stats.c\n")
    c = commit(parent, "nadia", "mm/readahead: add /proc/ra_hint_stats",
               "Whether an application's readahead hint helps is hard to judge without\n"
               "knowing which hints are in use. Count how often each hint is set with\n"
               "prctl(PR_SET_RA_HINT) and show the counts, with the window each hint\n"
               "selects, in /proc/ra_hint_stats.\n\n"
               "The counters are behind CONFIG_RA_HINT_STATS (default n), so kernels\n"
               "that do not want them pay nothing.",
               [f"Signed-off-by: {person('nadia')}", f"Reviewed-by: {person('tomas')}",
                f"Signed-off-by: {person('mira')}"],
               {"mm/Kconfig": kconfig, "kernel/Makefile": mk, "include/linux/ra_hint.h": hdr,
                "kernel/prctl_ra_hint.c": prc, "MAINTAINERS": maint,
                "kernel/ra_hint_stats.c": RA_STATS_C_V1}, PEOPLE["mira"])
    PLANTED["config_feature"] = c
    return c


def ra_stats_culprit(parent):
    c = commit(parent, "priya", "mm/readahead: list every hint in /proc/ra_hint_stats",
               "/proc/ra_hint_stats keeps its own array of hints, which has to be\n"
               "resized by hand whenever a PR_RA_HINT_* value is added. Describe each\n"
               "hint by a pointer to its policy, one entry per PR_RA_HINT_* value as in\n"
               "prctl_ra_hint.c, with the slot of the reserved PR_RA_HINT_ADAPTIVE left\n"
               "for the adaptive policy series to fill in.",
               [f"Signed-off-by: {person('priya')}", f"Acked-by: {person('nadia')}",
                f"Signed-off-by: {person('mira')}"],
               {"kernel/ra_hint_stats.c": RA_STATS_C_V2}, PEOPLE["mira"])
    PLANTED["config_culprit"] = c
    return c


def ra_stats_branch(head):
    """refs/heads/ra-stats: feature, fillers, culprit, fillers, on `head`."""
    CLAIMED.clear()
    tip = branch(head, "mira", [ra_stats_feature] + items(3, COMPILED, owner="ra-stats") +
                 [ra_stats_culprit] + items(4, COMPILED, owner="ra-stats"))
    git("update-ref", "refs/heads/ra-stats", tip)
    PLANTED.update({"config_head": tip, "config_option": "CONFIG_RA_HINT_STATS"})
    return tip


# ------------------------------------------------------------------- history

def main():
    v61 = git("rev-parse", "v6.1^{commit}").decode().strip()
    MM = [p for p in COMPILED if p.startswith("mm/")]
    FS = [p for p in COMPILED if p.startswith("fs/")]
    KERNEL = [p for p in COMPILED if p.startswith("kernel/")]
    # v6.2 merge window.
    CLAIMED.clear()
    mm = branch(v61, "sven", items(6, MM, owner="mm"))
    docs = branch(v61, "chloe", items(5, DOCS, ("doc",), owner="docs"))
    drv = branch(v61, "jonas", items(6, NOT_BUILT, owner="drv"))
    fs = branch(v61, "jonas", items(6, FS, owner="fs"))
    core = branch(v61, "sven", items(6, KERNEL, owner="core"))
    ml = v61
    for name, tip, tree in [("mm-stable", mm, "akpm/mm"), ("docs-6.2", docs, "docs/linux"),
                            ("drivers-6.2", drv, "jonas/drivers"), ("vfs-6.2", fs, "vfs/vfs"),
                            ("sched-core", core, "tip/tip")]:
        ml = merge(ml, tip, f"Merge tag '{name}' of git://git.kernel.org/pub/scm/linux/kernel/git/{tree}",
                   f"Pull {name} updates.")
    CLAIMED.clear()
    rc1 = ml = release(ml, "v6.2-rc1", 2, 0, "-rc1", "Hurr durr I'ma ninja sloth")
    ml = branch(ml, "sven", items(3, COMPILED))
    rc2 = ml = release(ml, "v6.2-rc2", 2, 0, "-rc2", "Hurr durr I'ma ninja sloth")
    ml = branch(ml, "jonas", mixed(4, owner="mainline"))
    ml = release(ml, "v6.2-rc3", 2, 0, "-rc3", "Hurr durr I'ma ninja sloth")
    ml = branch(ml, "sven", mixed(3, owner="mainline"))
    v62 = ml = release(ml, "v6.2", 2, 0, "", "Hurr durr I'ma ninja sloth")

    # v6.3 merge window: topic branches based on v6.2-rc2 (so they build with
    # the older compiler, as trees based on an older rc do). Mainline after
    # rc2 touched files of its own ("mainline"), which the topics avoid.
    # The mm tree also carries the misc patches Andrew takes (kernel/, char/):
    # every planted stretch lies on it, around the culprit, so that a
    # bisection of v6.2..v6.3-rc2 has to walk through them.
    MISC = MM + DOCS + ["kernel/fork.c", "kernel/exit.c"]
    ra = branch(rc2, "mira", items(2, MISC, owner="ra") + [null_crash] + items(3, MISC, owner="ra") +
                [boot_warning] + items(8, MISC, owner="ra") + [boot_warning_fix] + [build_break] +
                [ra_hint_feature] + items(1, MISC, owner="ra") + [build_fix] + [null_crash_fix] +
                items(1, MISC, owner="ra") + [ra_hint_culprit] + items(4, MISC, owner="ra") +
                [comm_regression] + items(4, MISC, owner="ra"))
    core = branch(rc2, "sven", items(8, KERNEL, owner="core"))
    char = branch(rc2, "chloe", items(6, NOT_BUILT, owner="char"))
    vfs = branch(rc2, "jonas", items(9, FS, owner="vfs"))
    drv = branch(rc2, "jonas", mixed(8, owner="drv"))
    for name, tip, tree in [("char-misc-6.3-rc1", char, "gregkh/char-misc"), ("vfs-6.3", vfs, "vfs/vfs"),
                            ("sched-core-2023-02-20", core, "tip/tip"), ("drivers-6.3", drv, "jonas/drivers"),
                            ("mm-stable-2023-02-20", ra, "akpm/mm")]:
        ml = merge(ml, tip, f"Merge tag '{name}' of git://git.kernel.org/pub/scm/linux/kernel/git/{tree}",
                   f"Pull {name.split('-2023')[0]} updates.")
    v63rc1 = ml = release(ml, "v6.3-rc1", 3, 0, "-rc1", "Hurr durr I'ma ninja sloth")
    CLAIMED.clear()
    ml = branch(ml, "sven", mixed(4))
    head = ml = release(ml, "v6.3-rc2", 3, 0, "-rc2", "Hurr durr I'ma ninja sloth")
    git("update-ref", "refs/heads/master", head)
    git("symbolic-ref", "HEAD", "refs/heads/master")
    count = int(git("rev-list", "--count", f"{v61}..{head}").decode())
    PLANTED.update({"v6.1": v61, "v6.2-rc1": rc1, "v6.2": v62, "v6.3-rc1": v63rc1, "head": head,
                    "commits": count})
    # Last: everything above keeps its ids whatever this branch does.
    ra_stats_branch(head)
    os.remove(ENV["GIT_INDEX_FILE"])
    with open(os.path.join(REPO, ".git", "kbisect-demo.json"), "w") as f:
        json.dump(PLANTED, f, indent=1)
        f.write("\n")
    print(f"history.py: {count} commits on top of v6.1, head {head}", file=sys.stderr)


main()
