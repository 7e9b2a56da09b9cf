//! ksig: the build signature of a vmlinux — a sha-256 that changes when the
//! code or data the kernel loads changes, and only then.
//!
//! Method (syzbot's idea, with per-section digests): take the ELF sections
//! that are loaded (SHF_ALLOC), have bytes in the file (not SHT_NOBITS) and
//! are not notes (SHT_NOTE — the GNU build-id note hashes everything,
//! debug info included). Skip empty ones. In file order, hash each section's
//! bytes with sha-256; the signature is the sha-256 of those digests
//! concatenated. Debug info, symbol tables and notes do not count, so a
//! comment-only change keeps the signature while a code change alters it.
//!
//! Only the ELF headers and the hashed sections are read (streamed in 1 MiB
//! blocks), so a 600 MB vmlinux with debug info costs what its 30 MB of
//! loaded sections cost.

pub mod cli;
pub mod tool;

use object::elf;
use object::read::elf::{FileHeader, SectionHeader};
use object::read::ReadCache;
use object::Endianness;
use sha2::{Digest, Sha256};
use std::fmt;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// A signature and how much went into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// 64 lower-case hex digits.
    pub hex: String,
    /// Bytes of section contents hashed.
    pub bytes: u64,
    /// Sections hashed.
    pub sections: usize,
}

/// Why a file has no signature.
#[derive(Debug)]
pub enum SigError {
    /// The file could not be opened or read.
    Io(std::io::Error),
    /// The path names a directory, a device or a pipe, not a file.
    NotAFile(String),
    /// The file is not an ELF file.
    NotElf(String),
    /// An ELF file whose headers or sections do not add up.
    BadElf(String),
}

impl SigError {
    /// Machine-readable name, the `error` field of an `error` record.
    pub fn name(&self) -> &'static str {
        match self {
            SigError::Io(_) => "unreadable",
            SigError::NotAFile(_) => "not_a_file",
            SigError::NotElf(_) => "not_elf",
            SigError::BadElf(_) => "bad_elf",
        }
    }
}

impl fmt::Display for SigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SigError::Io(e) => write!(f, "cannot read: {e}"),
            SigError::NotAFile(what) => write!(f, "not a file: {what}"),
            SigError::NotElf(m) => write!(f, "not an ELF file: {m}"),
            SigError::BadElf(m) => write!(f, "malformed ELF file: {m}"),
        }
    }
}

impl std::error::Error for SigError {}

/// A section to hash: where its bytes are in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Range {
    offset: u64,
    size: u64,
}

/// The signature of the ELF file at `path`.
pub fn signature(path: &Path) -> Result<Signature, SigError> {
    let file = File::open(path).map_err(SigError::Io)?;
    let meta = file.metadata().map_err(SigError::Io)?;
    if meta.is_dir() {
        return Err(SigError::NotAFile("it is a directory".into()));
    }
    if !meta.is_file() {
        return Err(SigError::NotAFile("it is not a regular file".into()));
    }
    let len = meta.len();
    // The ELF reader below turns a read error into "not ELF"; read the
    // header here first so that a failing disk is named as such.
    let mut head = [0u8; 64];
    let got = file.read_at(&mut head, 0).map_err(SigError::Io)?;
    if got < 4 || &head[..4] != b"\x7fELF" {
        return Err(SigError::NotElf(format!(
            "no ELF magic in its first bytes ({len} bytes long)"
        )));
    }
    let ranges = {
        let cache = ReadCache::new(&file);
        let ranges = hashed_ranges(&cache)?;
        drop(cache);
        ranges
    };
    for r in &ranges {
        if r.offset.checked_add(r.size).is_none_or(|end| end > len) {
            return Err(SigError::BadElf(format!(
                "a section at offset {} of {} bytes runs past the end of the file ({len} bytes)",
                r.offset, r.size
            )));
        }
    }
    let mut outer = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    for r in &ranges {
        let mut inner = Sha256::new();
        let mut done = 0u64;
        while done < r.size {
            let n = (r.size - done).min(buf.len() as u64) as usize;
            file.read_exact_at(&mut buf[..n], r.offset + done)
                .map_err(SigError::Io)?;
            inner.update(&buf[..n]);
            done += n as u64;
        }
        outer.update(inner.finalize());
        bytes += r.size;
    }
    Ok(Signature {
        hex: hex(&outer.finalize()),
        bytes,
        sections: ranges.len(),
    })
}

/// The signature of an ELF image held in memory (same method).
pub fn signature_of_bytes(data: &[u8]) -> Result<Signature, SigError> {
    let ranges = hashed_ranges(data)?;
    let mut outer = Sha256::new();
    let mut bytes = 0u64;
    for r in &ranges {
        let start = usize::try_from(r.offset).ok();
        let end = start.and_then(|s| s.checked_add(usize::try_from(r.size).ok()?));
        let section = match (start, end) {
            (Some(s), Some(e)) if e <= data.len() => &data[s..e],
            _ => {
                return Err(SigError::BadElf(
                    "a section runs past the end of the file".into(),
                ))
            }
        };
        outer.update(Sha256::digest(section));
        bytes += r.size;
    }
    Ok(Signature {
        hex: hex(&outer.finalize()),
        bytes,
        sections: ranges.len(),
    })
}

/// The file ranges of the sections that count, in file order.
fn hashed_ranges<'data, R: object::ReadRef<'data>>(data: R) -> Result<Vec<Range>, SigError> {
    let kind = object::FileKind::parse(data).map_err(|e| SigError::NotElf(e.to_string()))?;
    match kind {
        object::FileKind::Elf64 => ranges_of::<elf::FileHeader64<Endianness>, R>(data),
        object::FileKind::Elf32 => ranges_of::<elf::FileHeader32<Endianness>, R>(data),
        other => Err(SigError::NotElf(format!("file kind {other:?}"))),
    }
}

fn ranges_of<'data, Elf: FileHeader<Endian = Endianness>, R: object::ReadRef<'data>>(
    data: R,
) -> Result<Vec<Range>, SigError> {
    let bad = |e: object::Error| SigError::BadElf(e.to_string());
    let header = Elf::parse(data).map_err(bad)?;
    let endian = header.endian().map_err(bad)?;
    let sections = header.sections(endian, data).map_err(bad)?;
    let mut ranges: Vec<Range> = sections
        .iter()
        .filter(|s| {
            let flags: u64 = s.sh_flags(endian).into();
            let ty = s.sh_type(endian);
            flags & u64::from(elf::SHF_ALLOC) != 0 && ty != elf::SHT_NOBITS && ty != elf::SHT_NOTE
        })
        .map(|s| Range {
            offset: s.sh_offset(endian).into(),
            size: s.sh_size(endian).into(),
        })
        .filter(|r| r.size > 0)
        .collect();
    // File order; sort is stable, so equal offsets keep header order.
    ranges.sort_by_key(|r| r.offset);
    Ok(ranges)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use object::write::{Object, StandardSection};
    use object::{Architecture, BinaryFormat, Endianness, SectionKind};

    /// A small relocatable ELF with text, rodata, bss, a note and debug info.
    fn elf(text: &[u8], rodata: &[u8], debug: &[u8], note: &[u8]) -> Vec<u8> {
        let mut obj = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
        let t = obj.section_id(StandardSection::Text);
        obj.append_section_data(t, text, 16);
        let r = obj.section_id(StandardSection::ReadOnlyData);
        obj.append_section_data(r, rodata, 8);
        let b = obj.section_id(StandardSection::UninitializedData);
        obj.append_section_bss(b, 4096, 8);
        let d = obj.add_section(Vec::new(), b".debug_info".to_vec(), SectionKind::Debug);
        obj.append_section_data(d, debug, 1);
        let n = obj.add_section(
            Vec::new(),
            b".note.gnu.build-id".to_vec(),
            SectionKind::Note,
        );
        obj.append_section_data(n, note, 4);
        obj.write().unwrap()
    }

    #[test]
    fn debug_info_and_notes_do_not_count() {
        let a = signature_of_bytes(&elf(b"\x90\xc3", b"hello", b"dbg1", b"note1")).unwrap();
        let b = signature_of_bytes(&elf(b"\x90\xc3", b"hello", b"other debug", b"note2")).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.sections, 2);
        assert_eq!(a.bytes, 7);
        assert_eq!(a.hex.len(), 64);
    }

    #[test]
    fn code_and_data_count() {
        let a = signature_of_bytes(&elf(b"\x90\xc3", b"hello", b"", b"n")).unwrap();
        let b = signature_of_bytes(&elf(b"\x90\x90", b"hello", b"", b"n")).unwrap();
        let c = signature_of_bytes(&elf(b"\x90\xc3", b"hellO", b"", b"n")).unwrap();
        assert_ne!(a.hex, b.hex);
        assert_ne!(a.hex, c.hex);
    }

    #[test]
    fn is_the_hash_of_section_digests() {
        let s = signature_of_bytes(&elf(b"\x90\xc3", b"hello", b"", b"n")).unwrap();
        let mut outer = Sha256::new();
        outer.update(Sha256::digest(b"\x90\xc3"));
        outer.update(Sha256::digest(b"hello"));
        assert_eq!(s.hex, hex(&outer.finalize()));
    }

    #[test]
    fn file_and_memory_agree() {
        let data = elf(b"\x55\x48\x89\xe5", b"rodata", b"dbg", b"n");
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), &data).unwrap();
        assert_eq!(
            signature(tmp.path()).unwrap(),
            signature_of_bytes(&data).unwrap()
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(
            signature_of_bytes(b"#!/bin/sh\necho hi\n"),
            Err(SigError::NotElf(_))
        ));
        assert!(signature_of_bytes(b"").is_err());
        let data = elf(b"\x90", b"r", b"d", b"n");
        // Every truncation of a valid file fails cleanly.
        for cut in (0..data.len()).step_by(7) {
            let _ = signature_of_bytes(&data[..cut]);
        }
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), &data[..data.len() / 2]).unwrap();
        assert!(signature(tmp.path()).is_err());
        let e = signature(Path::new("/nonexistent/vmlinux")).unwrap_err();
        assert_eq!(e.name(), "unreadable");
    }

    #[test]
    fn a_directory_or_device_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let e = signature(dir.path()).unwrap_err();
        assert_eq!(e.name(), "not_a_file");
        assert_eq!(e.to_string(), "not a file: it is a directory");
        let e = signature(Path::new("/dev/null")).unwrap_err();
        assert_eq!(e.name(), "not_a_file");
    }

    #[test]
    fn a_read_error_is_not_called_not_elf() {
        // /proc/self/mem opens but fails every read at offset 0.
        if let Ok(meta) = std::fs::metadata("/proc/self/mem") {
            if meta.is_file() {
                let e = signature(Path::new("/proc/self/mem")).unwrap_err();
                assert_eq!(e.name(), "unreadable", "{e}");
            }
        }
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), b"#!/bin/sh\n").unwrap();
        let e = signature(tmp.path()).unwrap_err();
        assert_eq!(e.name(), "not_elf");
    }
}
