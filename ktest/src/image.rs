//! Is a file a kernel QEMU can boot with `-kernel`? Checked before a VM is
//! started so that a wrong path in a build record is a clear `infra_error`
//! rather than an obscure QEMU message.

use std::io::Read;
use std::path::Path;

/// Ok when `path` is an x86 bzImage (boot protocol magic "HdrS" at 0x202)
/// or an ELF file (QEMU boots a vmlinux with a PVH note); else why not.
pub fn check(path: &Path) -> Result<(), String> {
    let mut f =
        std::fs::File::open(path).map_err(|e| format!("kernel image {}: {e}", path.display()))?;
    let mut head = [0u8; 0x206];
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => return Err(format!("kernel image {}: {e}", path.display())),
        }
    }
    if head[..n].starts_with(b"\x7fELF") || (n >= 0x206 && &head[0x202..0x206] == b"HdrS") {
        Ok(())
    } else {
        Err(format!(
            "kernel image {} is not a bzImage or ELF kernel ({n} bytes read, no boot header)",
            path.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_images() {
        let d = tempfile::tempdir().unwrap();
        let txt = d.path().join("x");
        std::fs::write(&txt, b"hello").unwrap();
        assert!(check(&txt).unwrap_err().contains("not a bzImage"));
        assert!(check(&d.path().join("missing")).is_err());
        let mut bz = vec![0u8; 0x300];
        bz[0x202..0x206].copy_from_slice(b"HdrS");
        std::fs::write(&txt, &bz).unwrap();
        assert!(check(&txt).is_ok());
    }
}
