//! The config search through bisect-step's whole contract, with kbuild and
//! ktest played by a model: a small git history whose Kconfig defines the
//! options, an `olddefconfig` that drops an option whose dependency is off,
//! and a bug that shows only with two options on, after a planted commit.

mod common;

use bisect_step::Options;
use common::step;
use git2::{Oid, Repository, Signature};
use kbisect_records::{ConfigSearch, ConfigSearchMode, Object};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const TITLE: &str = "BUG: unable to handle kernel NULL pointer dereference in stats_show";
/// Options beyond the baseline's in the big config; NEEDED (which depends
/// on DEP) is what the bug needs.
const EXTRA: usize = 40;

struct World {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    repo: PathBuf,
    commits: Vec<Oid>,
    culprit: Oid,
    /// The runs' crash reports show their stack (else title only).
    stack: bool,
}

/// The crash report of a run with `stack`.
const REPORT: &str = "BUG: kernel NULL pointer dereference, address: 0000000000000000\n\
RIP: 0010:stats_show+0x1d/0x60\nCall Trace:\n <TASK>\n seq_read_iter+0x2bf/0x1130\n\
 vfs_read+0x4c7/0x8a0\n </TASK>\n";

fn kconfig() -> String {
    let mut k = String::from(
        "config BASE\n\tbool\nconfig DEP\n\tbool\nconfig NEEDED\n\tbool\n\tdepends on DEP\n",
    );
    for i in 0..EXTRA {
        k.push_str(&format!("config OPT_{i:02}\n\tbool\n"));
    }
    k
}

/// A linear history of 10 commits; the bug comes with the 6th.
fn world() -> World {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let repo_path = dir.join("linux");
    let repo = Repository::init(&repo_path).unwrap();
    let sig = Signature::new("t", "t@example.org", &git2::Time::new(1_700_000_000, 0)).unwrap();
    let mut parent: Option<Oid> = None;
    let mut commits = Vec::new();
    for i in 0..10 {
        let mut tb = repo.treebuilder(None).unwrap();
        let k = repo.blob(kconfig().as_bytes()).unwrap();
        tb.insert("Kconfig", k, 0o100644).unwrap();
        // stats_show, the crashing function, is built by NEEDED and sits
        // in a block that needs DEP: what the search's guess reads.
        let f = repo
            .blob(
                format!(
                    "/* version {i} */\n#ifdef CONFIG_DEP\nstatic int stats_show(struct seq_file *m)\n{{\n}}\n#endif\n"
                )
                .as_bytes(),
            )
            .unwrap();
        tb.insert("stats.c", f, 0o100644).unwrap();
        let mk = repo.blob(b"obj-$(CONFIG_NEEDED) += stats.o\n").unwrap();
        tb.insert("Makefile", mk, 0o100644).unwrap();
        let tree = repo.find_tree(tb.write().unwrap()).unwrap();
        let parents: Vec<git2::Commit> = parent
            .iter()
            .map(|p| repo.find_commit(*p).unwrap())
            .collect();
        let refs: Vec<&git2::Commit> = parents.iter().collect();
        let oid = repo
            .commit(
                Some("HEAD"),
                &sig,
                &sig,
                &format!("commit {i}"),
                &tree,
                &refs,
            )
            .unwrap();
        commits.push(oid);
        parent = Some(oid);
    }
    World {
        culprit: commits[5],
        stack: false,
        _tmp: tmp,
        dir,
        repo: repo_path,
        commits,
    }
}

fn big_config(w: &World) -> PathBuf {
    let mut t = String::from("CONFIG_BASE=y\nCONFIG_DEP=y\nCONFIG_NEEDED=y\n");
    for i in 0..EXTRA {
        t.push_str(&format!("CONFIG_OPT_{i:02}=y\n"));
    }
    let p = w.dir.join("big.config");
    std::fs::write(&p, t).unwrap();
    p
}

fn small_config(w: &World) -> PathBuf {
    let p = w.dir.join("small.config");
    std::fs::write(&p, "CONFIG_BASE=y\n# CONFIG_DEP is not set\n").unwrap();
    p
}

fn opts(w: &World, mode: ConfigSearchMode, journal: &str) -> Options {
    let (full, baseline) = (big_config(w), small_config(w));
    Options {
        journal: Some(w.dir.join(journal)),
        repo: Some(w.repo.display().to_string()),
        bad: Some(w.commits[9].to_string()),
        good: match mode {
            ConfigSearchMode::Minimize => vec![w.commits[0].to_string()],
            ConfigSearchMode::Bisect => vec![],
        },
        target: vec![TITLE.into()],
        slots: 2,
        config_search: Some(ConfigSearch {
            mode,
            full: full.display().to_string(),
            baseline: baseline.display().to_string(),
            max_candidates: None,
        }),
        ..Default::default()
    }
}

fn options_of(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// kbuild, ksig and ktest for one `next`: olddefconfig (NEEDED needs DEP),
/// a build record with the resolved .config, and runs that crash when the
/// commit has the culprit and the config both options.
fn build_and_test(w: &World, next: &Object, n: &mut u32) -> String {
    let commit = next["commit"].as_str().unwrap();
    let oid = Oid::from_str(commit).unwrap();
    let asked = next["build_config"]
        .as_str()
        .expect("every next names its config");
    let mut opts = options_of(&std::fs::read_to_string(asked).unwrap());
    // olddefconfig drops what Kconfig does not know, and NEEDED without DEP.
    let known = kconfig();
    opts.retain(|k, _| known.contains(&format!("config {}\n", &k["CONFIG_".len()..])));
    if opts.get("CONFIG_DEP").map(String::as_str) != Some("y") {
        opts.remove("CONFIG_NEEDED");
    }
    let text: String = opts.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    *n += 1;
    let resolved = w.dir.join(format!("resolved-{n}.config"));
    std::fs::write(&resolved, &text).unwrap();
    let mut build = next.clone();
    build.insert("kind".into(), json!("build"));
    build.insert("ok".into(), json!(true));
    build.insert("config".into(), json!(resolved.display().to_string()));
    build.insert("seconds".into(), json!(60.0));
    let sig = format!("{:064x}", *n as u128 * 7919);
    build.insert("signature".into(), json!(sig));
    let repo = Repository::open(&w.repo).unwrap();
    let has_culprit = oid == w.culprit || repo.graph_descendant_of(oid, w.culprit).unwrap();
    let crashes = has_culprit && opts.get("CONFIG_NEEDED").map(String::as_str) == Some("y");
    let runs = next["runs"].as_u64().unwrap_or(1).max(1);
    let stop = next.get("stop_on_target") != Some(&Value::Bool(false));
    let mut out = serde_json::to_string(&build).unwrap() + "\n";
    for r in 0..runs {
        let mut run = json!({"kind":"run","commit":commit,"run":r,"signature":sig,"seconds":10.0});
        if crashes {
            run["outcome"] = json!("crashed");
            run["crashed"] = json!(true);
            run["title"] = json!(TITLE);
            if w.stack {
                run["frame"] = json!("stats_show");
                run["report"] = json!(REPORT);
            }
        } else {
            run["outcome"] = json!("ok");
            run["crashed"] = json!(false);
        }
        if let Some(id) = next.get("config_id") {
            run["config_id"] = id.clone();
        }
        out += &(serde_json::to_string(&run).unwrap() + "\n");
        if crashes && stop {
            break;
        }
    }
    out
}

/// Steps until a result, or `max_steps` calls; the last records printed.
fn drive(w: &World, o: &Options, max_steps: usize, n: &mut u32) -> Vec<Object> {
    let (code, mut recs, err) = step(o, "");
    assert_eq!(code, 0, "{err}");
    for _ in 0..max_steps {
        if recs.iter().any(|r| r["kind"] == "result") {
            break;
        }
        let input: String = recs.iter().map(|r| build_and_test(w, r, n)).collect();
        let (code, out, err) = step(o, &input);
        assert_eq!(code, 0, "{err}");
        if std::env::var_os("CONFIGSEARCH_LOG").is_some() {
            eprint!("{err}");
        }
        recs = out;
    }
    recs
}

fn result(recs: &[Object]) -> &Object {
    recs.iter()
        .find(|r| r["kind"] == "result")
        .expect("a result")
}

#[test]
fn minimisation_keeps_what_the_bug_needs_then_the_bisection_names_the_culprit() {
    let w = world();
    let o = opts(&w, ConfigSearchMode::Minimize, "j.jsonl");
    let recs = drive(&w, &o, 200, &mut 0);
    let r = result(&recs);
    assert_eq!(r["status"], "found", "{r:?}");
    assert_eq!(r["culprit"]["commit"], w.culprit.to_string());
    let c = &r["config"];
    assert_eq!(c["mode"], "minimize");
    assert_eq!(c["differing"], EXTRA + 2);
    assert_eq!(c["kept"], 2, "{c}");
    assert_eq!(c["options"], json!(["CONFIG_DEP=y", "CONFIG_NEEDED=y"]));
    assert_eq!(c["full_config_check"], "bug_absent");
    let file = c["file"].as_str().unwrap();
    assert!(file.starts_with(&format!(
        "{}.configs/",
        o.journal.as_ref().unwrap().display()
    )));
    assert!(std::fs::read_to_string(file)
        .unwrap()
        .contains("CONFIG_NEEDED=y"));
    // The journal says every config's runs apart: the commit phase's under
    // the minimized config's id.
    let journal = std::fs::read_to_string(o.journal.as_ref().unwrap()).unwrap();
    let id = Path::new(file).file_stem().unwrap().to_str().unwrap();
    assert!(journal
        .lines()
        .any(|l| l.contains("\"reason\":\"bisect\"") && l.contains(id)));
    assert!(
        journal
            .lines()
            .any(|l| l.contains("\"reason\":\"config_check\"")
                && l.contains("\"config_id\":\"full\""))
    );
}

/// With the crash's stack in its runs, the search tries first the options
/// that build the crashing function (NEEDED, from the Makefile; DEP, from
/// the `#ifdef` around it): they reproduce, and the few candidates after
/// them only search those two.
#[test]
fn the_options_that_build_the_crashing_code_are_tried_first() {
    let plain = result(&drive(
        &world(),
        &opts(&world(), ConfigSearchMode::Minimize, "plain.jsonl"),
        200,
        &mut 0,
    ))
    .clone();
    let w = World {
        stack: true,
        ..world()
    };
    let o = opts(&w, ConfigSearchMode::Minimize, "j.jsonl");
    let recs = drive(&w, &o, 200, &mut 0);
    let r = result(&recs);
    assert_eq!(r["status"], "found", "{r:?}");
    assert_eq!(r["culprit"]["commit"], w.culprit.to_string());
    let c = &r["config"];
    assert_eq!(
        c["options"],
        json!(["CONFIG_DEP=y", "CONFIG_NEEDED=y"]),
        "{c}"
    );
    assert_eq!(
        c["suspects"],
        json!(["CONFIG_DEP=y", "CONFIG_NEEDED=y"]),
        "{c}"
    );
    assert_eq!(c["suspects_reproduced"], true, "{c}");
    // full, baseline, the guess, then each of its two options alone.
    assert_eq!(c["candidates"], 5, "{c}");
    assert!(
        plain["config"]["candidates"].as_u64() > c["candidates"].as_u64(),
        "without the stack: {}",
        plain["config"]
    );
    assert!(plain["config"].get("suspects").is_none());
    let journal = std::fs::read_to_string(o.journal.as_ref().unwrap()).unwrap();
    let first = journal
        .lines()
        .filter(|l| l.contains("\"reason\":\"config_search\""))
        .find(|l| {
            !l.contains("\"config_id\":\"full\"") && !l.contains("\"config_id\":\"baseline\"")
        })
        .expect("a candidate");
    let path: Value = serde_json::from_str::<Value>(first).unwrap()["build_config"].clone();
    let text = std::fs::read_to_string(path.as_str().unwrap()).unwrap();
    assert!(text.contains("CONFIG_NEEDED=y") && text.contains("CONFIG_DEP=y"));
    assert!(!text.contains("CONFIG_OPT_00=y"), "{text}");
}

#[test]
fn a_search_stopped_midway_resumes_to_the_same_config() {
    let w = world();
    let whole = drive(
        &w,
        &opts(&w, ConfigSearchMode::Minimize, "whole.jsonl"),
        200,
        &mut 0,
    );
    let o = opts(&w, ConfigSearchMode::Minimize, "cut.jsonl");
    let mut n = 1000;
    let cut = drive(&w, &o, 4, &mut n);
    assert!(
        cut.iter().all(|r| r["kind"] == "next"),
        "still searching after 4 steps"
    );
    assert!(cut.iter().any(|r| r["reason"] == "config_search"));
    let resumed = drive(
        &w,
        &Options {
            config_search: None,
            good: vec![],
            ..o.clone()
        },
        200,
        &mut n,
    );
    assert_eq!(
        result(&resumed)["config"]["options"],
        result(&whole)["config"]["options"]
    );
    assert_eq!(result(&resumed)["culprit"], result(&whole)["culprit"]);
}

#[test]
fn config_bisection_names_the_options_that_bring_the_bug_in() {
    let w = world();
    let recs = drive(
        &w,
        &opts(&w, ConfigSearchMode::Bisect, "cb.jsonl"),
        200,
        &mut 0,
    );
    let r = result(&recs);
    assert_eq!(r["status"], "found", "{r:?}");
    assert!(r.get("culprit").is_none());
    assert_eq!(r["config"]["mode"], "bisect");
    assert_eq!(
        r["config"]["options"],
        json!(["CONFIG_DEP=y", "CONFIG_NEEDED=y"])
    );
    assert!(r["message"].as_str().unwrap().contains("CONFIG_NEEDED=y"));
}

/// A full config made for another version of the tree (as syzbot's 6.1
/// config, with options of later stables and of syzbot's own patches) sets
/// a few options Kconfig does not know: they are named, olddefconfig drops
/// them, and the search and the bisection go on as without them.
#[test]
fn a_config_from_another_version_of_the_tree_is_searched_without_its_unknown_options() {
    let w = world();
    let mut o = opts(&w, ConfigSearchMode::Minimize, "drift.jsonl");
    let full = w.dir.join("drift.config");
    let mut text = std::fs::read_to_string(big_config(&w)).unwrap();
    text.push_str("CONFIG_TWIST_KERNEL_BEHAVIOR=y\nCONFIG_UNIX_SCM=y\n");
    std::fs::write(&full, text).unwrap();
    o.config_search.as_mut().unwrap().full = full.display().to_string();
    let (code, _, err) = step(&o, "");
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("2 of its 45 option(s) Kconfig does not know")
            && err.contains("CONFIG_TWIST_KERNEL_BEHAVIOR, CONFIG_UNIX_SCM")
            && err.contains("olddefconfig drops them"),
        "{err}"
    );
    let recs = drive(&w, &o, 200, &mut 0);
    let r = result(&recs);
    assert_eq!(r["status"], "found", "{r:?}");
    assert_eq!(r["culprit"]["commit"], w.culprit.to_string());
    assert_eq!(r["config"]["differing"], EXTRA + 2, "{r:?}");
    assert_eq!(
        r["config"]["options"],
        json!(["CONFIG_DEP=y", "CONFIG_NEEDED=y"])
    );
}

#[test]
fn bad_configs_are_named_before_anything_is_written() {
    let w = world();
    let o = opts(&w, ConfigSearchMode::Minimize, "bad.jsonl");
    let journal = o.journal.clone().unwrap();
    let with_full = |text: &str| {
        let p = w.dir.join(format!("odd-{}.config", text.len()));
        std::fs::write(&p, text).unwrap();
        let mut o = o.clone();
        o.config_search.as_mut().unwrap().full = p.display().to_string();
        o
    };
    let cases = [
        (
            with_full("CONFIG_BASE=y\nCONFIG_NEEDED=y\nCONFIG_NO_SUCH_OPTION=y\n"),
            "Kconfig does not know",
        ),
        (
            with_full("# Linux/arm64 6.1.0 Kernel Configuration\nCONFIG_BASE=y\n"),
            "a config for arm64",
        ),
        (with_full("CONFIG_BASE=y\n"), "must be the smaller config"),
        (
            with_full("CONFIG_OPT_01=y\nCONFIG_OPT_02=y\nCONFIG_OPT_03=y\n"),
            "contradicts",
        ),
        (with_full("just text\n"), "not a kernel config"),
    ];
    for (o, want) in cases {
        let (code, recs, err) = step(&o, "");
        assert_eq!(code, 2, "{want}: {err}");
        assert!(err.contains(want), "{want}: {err}");
        assert!(recs.is_empty());
        assert!(!journal.exists(), "{want}: the journal is left untouched");
    }
}
