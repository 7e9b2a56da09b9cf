//! The guest image: an initramfs with static busybox, the sanity test, the
//! reproducer and an `/init` that drives a run (see `guest/init.sh`).
//!
//! It is built once per reproducer and cached by the hash of everything that
//! goes into it (init script, sanity source, busybox, compiler, reproducer),
//! so a bisection that tests twenty kernels packs its guest once.

use crate::cpio::Archive;
use crate::procs;
use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};

/// The `/init` script; the markers it prints are parsed by `vm`.
pub const INIT_SCRIPT: &str = include_str!("guest/init.sh");
/// Source of `/bin/kbisect-sanity`, compiled statically for the guest.
pub const SANITY_SOURCE: &str = include_str!("guest/sanity.c");
/// Bumped when the image layout changes, so old cache entries are not used.
const LAYOUT_VERSION: &str = "kbisect-guest-v2";
/// The users a reproducer may switch to (syzkaller's sandboxes drop to
/// `nobody`), and their groups.
const PASSWD: &str =
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const GROUP: &str = "root:x:0:\nnogroup:x:65534:\n";

/// True when C `source` is a 32-bit program: syzkaller's reproducers for
/// i386 call `__NR_mmap2`, a system call x86_64 does not have.
pub fn needs_m32(source: &[u8]) -> bool {
    source.windows(10).any(|w| w == b"__NR_mmap2")
}

/// What the reproducer file is, judged from its name and first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReproKind {
    /// C source, compiled with `gcc -static -O1`.
    CSource,
    /// An executable (ELF) copied as it is; it should be static.
    Binary,
    /// A shell script, run by busybox `sh`.
    Script,
}

impl ReproKind {
    /// Classify `path` with its contents `bytes`.
    pub fn of(path: &Path, bytes: &[u8]) -> ReproKind {
        if path.extension().is_some_and(|e| e == "c") {
            ReproKind::CSource
        } else if bytes.starts_with(b"\x7fELF") {
            ReproKind::Binary
        } else if bytes.starts_with(b"#!") || std::str::from_utf8(bytes).is_ok() {
            ReproKind::Script
        } else {
            ReproKind::Binary
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            ReproKind::CSource => "c",
            ReproKind::Binary => "binary",
            ReproKind::Script => "script",
        }
    }
}

/// Inputs of a guest image.
#[derive(Debug, Clone)]
pub struct GuestSpec {
    /// The reproducer; None boots, tests and idles for the run time.
    pub repro: Option<PathBuf>,
    /// A statically linked busybox.
    pub busybox: PathBuf,
    /// C compiler for the sanity test and C reproducers.
    pub cc: String,
    /// Sysctls `/init` sets before the reproducer (`--sysctl`).
    pub sysctls: Vec<crate::sysctl::Sysctl>,
    /// Where finished images are kept.
    pub cache_dir: PathBuf,
    /// Scratch space for compiling (removed by the caller).
    pub scratch_dir: PathBuf,
}

/// A packed guest image.
#[derive(Debug, Clone)]
pub struct Guest {
    /// The gzip-compressed cpio archive to pass as `-initrd`.
    pub initrd: PathBuf,
    /// True when it came from the cache.
    pub cached: bool,
    /// The reproducer is a 32-bit program (built with `-m32`): the kernel
    /// needs `CONFIG_IA32_EMULATION` to run it.
    pub m32: bool,
}

/// Why a guest could not be made.
#[derive(Debug, Clone, PartialEq)]
pub enum GuestError {
    /// The reproducer does not compile: runs are `test_failed`.
    ReproCompile { lines: Vec<String> },
    /// Something about the host (busybox, compiler, disk): runs are `infra_error`.
    Infra(String),
}

impl std::fmt::Display for GuestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GuestError::ReproCompile { lines } => {
                write!(f, "reproducer does not compile:\n{}", lines.join("\n"))
            }
            GuestError::Infra(m) => f.write_str(m),
        }
    }
}

/// Build the guest image, or take it from the cache.
pub fn build(spec: &GuestSpec) -> Result<Guest, GuestError> {
    let busybox = fs::read(&spec.busybox).map_err(|e| {
        GuestError::Infra(format!(
            "cannot read busybox {}: {e}",
            spec.busybox.display()
        ))
    })?;
    if elf_is_dynamic(&busybox) {
        return Err(GuestError::Infra(format!(
            "{} is dynamically linked; the guest needs a static busybox (Debian: busybox-static)",
            spec.busybox.display()
        )));
    }
    let repro = match &spec.repro {
        Some(p) => {
            let bytes = fs::read(p).map_err(|e| {
                GuestError::Infra(format!("cannot read reproducer {}: {e}", p.display()))
            })?;
            Some((ReproKind::of(p, &bytes), bytes))
        }
        None => None,
    };
    let cc_version = compiler_version(&spec.cc)?;
    let m32 = matches!(&repro, Some((ReproKind::CSource, src)) if needs_m32(src));
    let sysctl_file = crate::sysctl::guest_file(&spec.sysctls);

    let mut h = Sha256::new();
    for part in [
        LAYOUT_VERSION.as_bytes(),
        INIT_SCRIPT.as_bytes(),
        SANITY_SOURCE.as_bytes(),
        cc_version.as_bytes(),
        &busybox,
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    if let Some((kind, bytes)) = &repro {
        h.update(kind.as_str().as_bytes());
        h.update(bytes);
    }
    h.update((sysctl_file.len() as u64).to_le_bytes());
    h.update(sysctl_file.as_bytes());
    let key: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let initrd = spec.cache_dir.join(format!("{key}.cpio.gz"));
    if initrd.is_file() {
        return Ok(Guest {
            initrd,
            cached: true,
            m32,
        });
    }

    let sanity = compile(
        &spec.cc,
        SANITY_SOURCE.as_bytes(),
        "sanity",
        "sanity.c",
        &spec.scratch_dir,
        false,
    )
    .map_err(|e| match e {
        GuestError::ReproCompile { lines } => GuestError::Infra(format!(
            "cannot compile the sanity test: {}",
            lines.join("; ")
        )),
        other => other,
    })?;

    let mut a = Archive::new();
    for d in [
        "bin",
        "sbin",
        "usr",
        "usr/bin",
        "usr/sbin",
        "proc",
        "sys",
        "dev",
        "tmp",
        "etc",
        "etc/kbisect",
        "root",
    ] {
        a.dir(d, 0o755);
    }
    a.file("etc/passwd", 0o644, PASSWD.as_bytes());
    a.file("etc/group", 0o644, GROUP.as_bytes());
    if !sysctl_file.is_empty() {
        a.file("etc/kbisect/sysctl", 0o644, sysctl_file.as_bytes());
    }
    if m32 {
        // /init checks that the kernel can run it before the first run.
        a.file("etc/kbisect/repro-32bit", 0o644, b"");
    }
    // PID 1 needs a console to inherit before devtmpfs is mounted.
    a.char_dev("dev/console", 0o600, 5, 1);
    a.file("bin/busybox", 0o755, &busybox);
    a.symlink("bin/sh", "busybox");
    a.file("bin/kbisect-sanity", 0o755, &sanity);
    a.file("init", 0o755, INIT_SCRIPT.as_bytes());
    match &repro {
        Some((ReproKind::CSource, src)) => {
            // Errors name the file the user gave, not ktest's copy of it.
            let shown_as = spec
                .repro
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "repro.c".into());
            let bin = compile(&spec.cc, src, "repro", &shown_as, &spec.scratch_dir, m32)?;
            a.file("repro", 0o755, &bin);
        }
        Some((ReproKind::Binary, bytes)) => a.file("repro", 0o755, bytes),
        Some((ReproKind::Script, bytes)) => a.file("repro.sh", 0o755, bytes),
        None => {}
    }
    let cpio = a.finish();
    let gz = duct::cmd!("gzip", "-n", "-6", "-c")
        .stdin_bytes(cpio)
        .stdout_capture()
        .stderr_capture()
        .run()
        .map_err(|e| GuestError::Infra(format!("gzip failed: {e}")))?
        .stdout;

    fs::create_dir_all(&spec.cache_dir).map_err(|e| {
        GuestError::Infra(format!("cannot create {}: {e}", spec.cache_dir.display()))
    })?;
    // Write then rename: a concurrent ktest never sees half an image.
    let tmp = spec
        .cache_dir
        .join(format!(".{key}.{}.tmp", std::process::id()));
    fs::write(&tmp, &gz)
        .and_then(|_| fs::rename(&tmp, &initrd))
        .map_err(|e| {
            let _ = fs::remove_file(&tmp);
            GuestError::Infra(format!("cannot write {}: {e}", initrd.display()))
        })?;
    Ok(Guest {
        initrd,
        cached: false,
        m32,
    })
}

/// `cc --version`'s first line: part of the cache key.
fn compiler_version(cc: &str) -> Result<String, GuestError> {
    let out = duct::cmd!(cc, "--version")
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| GuestError::Infra(format!("C compiler {cc} not usable: {e}")))?;
    if !out.status.success() {
        return Err(GuestError::Infra(format!(
            "C compiler {cc} --version failed"
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .to_string())
}

/// Compile C `source` statically (with `-m32` for a 32-bit program); the
/// binary's bytes, or the compiler's error lines, with the source file
/// named `shown_as`.
fn compile(
    cc: &str,
    source: &[u8],
    name: &str,
    shown_as: &str,
    scratch: &Path,
    m32: bool,
) -> Result<Vec<u8>, GuestError> {
    fs::create_dir_all(scratch)
        .map_err(|e| GuestError::Infra(format!("cannot create {}: {e}", scratch.display())))?;
    let src = scratch.join(format!("{name}.c"));
    let bin = scratch.join(name);
    fs::write(&src, source)
        .map_err(|e| GuestError::Infra(format!("cannot write {}: {e}", src.display())))?;
    let mut argv: Vec<std::ffi::OsString> = vec!["-static".into(), "-O1".into(), "-pthread".into()];
    if m32 {
        argv.push("-m32".into());
    }
    argv.extend(["-o".into(), bin.clone().into(), src.clone().into()]);
    let expr = duct::cmd(cc, argv)
        .before_spawn(|cmd| {
            procs::own_process_group(cmd);
            Ok(())
        })
        .stdout_capture()
        .stderr_capture()
        .unchecked();
    let out = procs::run_registered(&expr)
        .map_err(|e| GuestError::Infra(format!("cannot run {cc}: {e}")))?;
    if !out.status.success() {
        if m32 && !builds_32bit(cc, scratch) {
            return Err(GuestError::ReproCompile {
                lines: vec![format!(
                    "{shown_as} is a 32-bit program (it uses __NR_mmap2) and needs `{cc} -m32 -static`, \
                     which this toolchain cannot build: install 32-bit support (Debian: gcc-multilib)"
                )],
            });
        }
        let text =
            String::from_utf8_lossy(&out.stderr).replace(&src.display().to_string(), shown_as);
        return Err(GuestError::ReproCompile {
            lines: compiler_error_lines(&text),
        });
    }
    fs::read(&bin).map_err(|e| GuestError::Infra(format!("cannot read {}: {e}", bin.display())))
}

/// True when `cc` builds a static 32-bit program (`-m32` needs the 32-bit C
/// library: gcc-multilib on Debian).
fn builds_32bit(cc: &str, scratch: &Path) -> bool {
    let src = scratch.join("m32-probe.c");
    let bin = scratch.join("m32-probe");
    fs::write(&src, "int main(void) { return 0; }\n").is_ok()
        && duct::cmd!(cc, "-m32", "-static", "-o", &bin, &src)
            .stdout_null()
            .stderr_null()
            .unchecked()
            .run()
            .is_ok_and(|o| o.status.success())
}

/// The lines of compiler output worth showing: errors first, else the tail.
pub fn compiler_error_lines(stderr: &str) -> Vec<String> {
    let errors: Vec<String> = stderr
        .lines()
        .filter(|l| l.contains("error:") || l.contains("undefined reference"))
        .take(20)
        .map(str::to_string)
        .collect();
    if !errors.is_empty() {
        return errors;
    }
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(10)..]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>();
    if tail.is_empty() {
        vec!["compiler failed with no output".to_string()]
    } else {
        tail
    }
}

/// True when `elf` has a PT_INTERP program header (needs a dynamic loader).
pub fn elf_is_dynamic(elf: &[u8]) -> bool {
    const PT_INTERP: u32 = 3;
    if elf.len() < 64 || !elf.starts_with(b"\x7fELF") || elf[4] != 2 || elf[5] != 1 {
        return false; // only 64-bit little-endian ELF is understood
    }
    let u16_at = |o: usize| {
        elf.get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
    };
    let u32_at = |o: usize| {
        elf.get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |o: usize| {
        elf.get(o..o + 8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_le_bytes)
    };
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38))
    else {
        return false;
    };
    (0..phnum).any(|i| {
        let off = (phoff as usize).saturating_add(i * phentsize);
        u32_at(off) == Some(PT_INTERP)
    })
}

/// The default busybox: the first static one found at the usual places.
pub fn find_busybox() -> PathBuf {
    for p in [
        "/bin/busybox",
        "/usr/bin/busybox",
        "/usr/lib/initramfs-tools/bin/busybox",
    ] {
        let p = Path::new(p);
        if p.is_file() && fs::read(p).map(|b| !elf_is_dynamic(&b)).unwrap_or(false) {
            return p.to_path_buf();
        }
    }
    PathBuf::from("/bin/busybox")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repro_kinds() {
        assert_eq!(
            ReproKind::of(Path::new("r.c"), b"int main"),
            ReproKind::CSource
        );
        assert_eq!(
            ReproKind::of(Path::new("r"), b"\x7fELF\x02"),
            ReproKind::Binary
        );
        assert_eq!(
            ReproKind::of(Path::new("r"), b"#!/bin/sh\n"),
            ReproKind::Script
        );
        assert_eq!(
            ReproKind::of(Path::new("r"), b"echo hi\n"),
            ReproKind::Script
        );
        assert_eq!(
            ReproKind::of(Path::new("r"), b"\xff\xfe\x00"),
            ReproKind::Binary
        );
    }

    #[test]
    fn compiler_errors_are_picked() {
        let text = "r.c: In function 'main':\nr.c:3:5: error: 'x' undeclared\nr.c:3:5: note: each undeclared\n";
        assert_eq!(
            compiler_error_lines(text),
            vec!["r.c:3:5: error: 'x' undeclared"]
        );
        assert_eq!(
            compiler_error_lines(""),
            vec!["compiler failed with no output"]
        );
    }

    #[test]
    fn host_binaries_are_judged() {
        // /bin/sh on the host is dynamic; busybox-static is not.
        if let Ok(sh) = fs::read("/bin/sh") {
            assert!(elf_is_dynamic(&sh));
        }
        assert!(!elf_is_dynamic(b"not an elf"));
    }

    #[test]
    fn builds_and_caches_a_guest() {
        let busybox = find_busybox();
        if !busybox.is_file() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let repro = dir.path().join("r.sh");
        fs::write(&repro, "#!/bin/sh\necho hi\n").unwrap();
        let spec = GuestSpec {
            repro: Some(repro),
            busybox,
            cc: "gcc".into(),
            sysctls: Vec::new(),
            cache_dir: dir.path().join("cache"),
            scratch_dir: dir.path().join("scratch"),
        };
        let g = build(&spec).unwrap();
        assert!(!g.cached);
        let g2 = build(&spec).unwrap();
        assert!(g2.cached);
        assert_eq!(g.initrd, g2.initrd);
        // Sysctls are part of the image.
        let with_sysctl = GuestSpec {
            sysctls: crate::sysctl::parse("s", "kernel.printk = 7 4 1 3").settings,
            ..spec.clone()
        };
        let g3 = build(&with_sysctl).unwrap();
        assert!(!g3.cached && g3.initrd != g.initrd);

        let bad = dir.path().join("bad.c");
        fs::write(&bad, "int main(void) { return undeclared_thing; }\n").unwrap();
        let spec = GuestSpec {
            repro: Some(bad),
            ..spec
        };
        match build(&spec) {
            Err(GuestError::ReproCompile { lines }) => {
                assert!(lines[0].contains("undeclared_thing"), "{lines:?}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_32_bit_reproducer_is_built_with_m32_or_named_as_one() {
        assert!(needs_m32(
            b"syscall(__NR_mmap2, 0x20000000ul, 0x1000000ul, 3ul);"
        ));
        assert!(!needs_m32(
            b"syscall(__NR_mmap, 0x20000000ul, 0x1000000ul, 3ul);"
        ));
        let busybox = find_busybox();
        if !busybox.is_file() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let repro = dir.path().join("r32.c");
        fs::write(
            &repro,
            "#include <unistd.h>\n#include <sys/syscall.h>\nint main(void) { return syscall(__NR_mmap2, 0, 4096, 3, 0x22, -1, 0) == -1; }\n",
        )
        .unwrap();
        let spec = GuestSpec {
            repro: Some(repro),
            busybox,
            cc: "gcc".into(),
            sysctls: Vec::new(),
            cache_dir: dir.path().join("cache"),
            scratch_dir: dir.path().join("scratch"),
        };
        match build(&spec) {
            Ok(g) => assert!(g.m32 && builds_32bit("gcc", &dir.path().join("scratch"))),
            Err(GuestError::ReproCompile { lines }) => {
                assert!(lines[0].contains("is a 32-bit program"), "{lines:?}");
                assert!(lines[0].contains("gcc-multilib"), "{lines:?}");
            }
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn compile_errors_name_the_users_file() {
        if duct::cmd!("gcc", "--version")
            .stdout_null()
            .stderr_null()
            .run()
            .is_err()
        {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let source = b"int main(void) { return undeclared_thing; }\n";
        match compile("gcc", source, "repro", "bugs/my-bug.c", dir.path(), false) {
            Err(GuestError::ReproCompile { lines }) => {
                assert!(lines[0].starts_with("bugs/my-bug.c:"), "{lines:?}");
                assert!(!lines.iter().any(|l| l.contains("repro.c")), "{lines:?}");
            }
            other => panic!("{other:?}"),
        }
    }
}
