//! A minimal writer for the cpio "newc" format, the one the Linux kernel
//! unpacks as an initramfs (Documentation/driver-api/early-userspace).
//!
//! Only what a guest image needs: directories, regular files, symlinks and
//! device nodes, owned by root, with mtime 0 so the same inputs always give
//! the same bytes (the guest cache is keyed by content).

/// File type bits of `st_mode`.
const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;
const S_IFCHR: u32 = 0o020000;

/// Builds a cpio newc archive in memory.
#[derive(Default)]
pub struct Archive {
    out: Vec<u8>,
    next_ino: u32,
}

impl Archive {
    pub fn new() -> Self {
        Archive {
            out: Vec::new(),
            next_ino: 1,
        }
    }

    /// A directory (`path` without a leading slash).
    pub fn dir(&mut self, path: &str, perm: u32) {
        self.entry(path, S_IFDIR | perm, 2, (0, 0), &[]);
    }

    /// A regular file.
    pub fn file(&mut self, path: &str, perm: u32, data: &[u8]) {
        self.entry(path, S_IFREG | perm, 1, (0, 0), data);
    }

    /// A symbolic link pointing at `target`.
    pub fn symlink(&mut self, path: &str, target: &str) {
        self.entry(path, S_IFLNK | 0o777, 1, (0, 0), target.as_bytes());
    }

    /// A character device node.
    pub fn char_dev(&mut self, path: &str, perm: u32, major: u32, minor: u32) {
        self.entry(path, S_IFCHR | perm, 1, (major, minor), &[]);
    }

    /// Close the archive with its trailer and return the bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.header("TRAILER!!!", 0, 1, (0, 0), 0, 0);
        // The kernel does not need it, but cpio(1) pads archives to 512 bytes.
        while self.out.len() & 511 != 0 {
            self.out.push(0);
        }
        self.out
    }

    fn entry(&mut self, path: &str, mode: u32, nlink: u32, rdev: (u32, u32), data: &[u8]) {
        let ino = self.next_ino;
        self.next_ino += 1;
        self.header(path, mode, nlink, rdev, data.len(), ino);
        self.out.extend_from_slice(data);
        self.pad4();
    }

    fn header(
        &mut self,
        name: &str,
        mode: u32,
        nlink: u32,
        rdev: (u32, u32),
        size: usize,
        ino: u32,
    ) {
        let fields: [u32; 13] = [
            ino,
            mode,
            0, // uid
            0, // gid
            nlink,
            0, // mtime
            size as u32,
            0, // devmajor
            0, // devminor
            rdev.0,
            rdev.1,
            name.len() as u32 + 1, // with its NUL
            0,                     // check
        ];
        self.out.extend_from_slice(b"070701");
        for f in fields {
            self.out.extend_from_slice(format!("{f:08X}").as_bytes());
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad4();
    }

    fn pad4(&mut self) {
        while self.out.len() & 3 != 0 {
            self.out.push(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_newc() {
        let mut a = Archive::new();
        a.dir("bin", 0o755);
        a.file("bin/x", 0o755, b"hello");
        a.symlink("bin/sh", "busybox");
        a.char_dev("dev/console", 0o600, 5, 1);
        let bytes = a.finish();
        assert!(bytes.starts_with(b"070701"));
        assert_eq!(bytes.len() & 511, 0);
        // Header is 110 bytes; "bin\0" makes 114, padded to 116.
        assert_eq!(&bytes[116..122], b"070701");
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("bin/x\0"));
        assert!(text.contains("hello"));
        assert!(text.contains("TRAILER!!!"));
    }

    #[test]
    fn cpio_tool_can_list_it() {
        // Cross-check with GNU cpio when it is installed.
        let Ok(cpio) = which("cpio") else { return };
        let mut a = Archive::new();
        a.dir("etc", 0o755);
        a.file("etc/motd", 0o644, b"hi\n");
        a.symlink("etc/link", "motd");
        let bytes = a.finish();
        let out = duct::cmd!(cpio, "-it", "--quiet")
            .stdin_bytes(bytes)
            .stdout_capture()
            .run()
            .expect("cpio -t");
        let names = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            names.lines().collect::<Vec<_>>(),
            vec!["etc", "etc/motd", "etc/link"]
        );
    }

    fn which(name: &str) -> Result<std::path::PathBuf, ()> {
        std::env::var_os("PATH")
            .and_then(|p| {
                std::env::split_paths(&p)
                    .map(|d| d.join(name))
                    .find(|f| f.is_file())
            })
            .ok_or(())
    }
}
