//! Files under `data_dir/files/`, named by the SHA-256 of their content: a file is written once
//! (atomically) and never changes, so a name can be cached forever. Used for the agency logo now,
//! ticket attachments later.

use std::path::{Path, PathBuf};

use crate::auth::sha256;
use crate::error::{IoContext, Result};

/// Storing a file and committing the row that names it, against deciding a file is unnamed and
/// removing it: content is stored once, so an upload of the same bytes must not find the file,
/// skip writing it, and then lose it to a removal before its row commits.
static NAMING: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// Held from storing files until the rows that name them have committed (many at once).
pub fn storing() -> std::sync::RwLockReadGuard<'static, ()> {
    NAMING.read().unwrap_or_else(|e| e.into_inner())
}

/// Held while deciding that stored files are unnamed and removing them (alone).
pub fn removing() -> std::sync::RwLockWriteGuard<'static, ()> {
    NAMING.write().unwrap_or_else(|e| e.into_inner())
}

fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("files")
}

/// A digest as lower-case hex: the stored files' names.
fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of the file at `path` in hex (read in 64 KiB pieces): what it is stored as.
pub fn hash_of(path: &Path) -> std::io::Result<String> {
    use sha2::Digest;
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Copies `from` to `to` and fsyncs the copy; returns the bytes copied.
pub fn copy_synced(from: &Path, to: &Path) -> std::io::Result<u64> {
    let n = std::fs::copy(from, to)?;
    std::fs::File::open(to)?.sync_all()?;
    Ok(n)
}

/// Fsyncs the directory `dir`, so the names created or renamed in it last through a power cut.
pub fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .io_context(|| format!("syncing {}", dir.display()))
}

/// Stores `bytes`; returns their SHA-256 in hex (the file's name). The file is on disk for good
/// (written, fsynced, renamed, directory fsynced) before this returns, so a database row that
/// names it afterwards never points at a file a power cut took away.
pub fn store(data_dir: &Path, bytes: &[u8]) -> Result<String> {
    use std::io::Write;
    let hash = hex(&sha256(bytes));
    let path = dir(data_dir).join(&hash);
    if !path.exists() {
        let mut tmp = tempfile::NamedTempFile::new_in(dir(data_dir))
            .io_context(|| format!("creating a file in {}", dir(data_dir).display()))?;
        tmp.write_all(bytes)
            .and_then(|_| tmp.as_file().sync_all())
            .io_context(|| format!("writing {}", tmp.path().display()))?;
        tmp.persist(&path)
            .map_err(|e| e.error)
            .io_context(|| format!("storing {}", path.display()))?;
        sync_dir(&dir(data_dir))?;
    }
    Ok(hash)
}

/// Stores the file at `src` (an upload's temporary file), streaming: returns its SHA-256 in hex.
/// Durable before it returns, like [`store`].
pub fn store_from(data_dir: &Path, src: &Path) -> Result<String> {
    use sha2::Digest;
    use std::io::{Read, Write};
    let mut input = std::fs::File::open(src).io_context(|| format!("opening {}", src.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir(data_dir))
        .io_context(|| format!("creating a file in {}", dir(data_dir).display()))?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = input
            .read(&mut buf)
            .io_context(|| format!("reading {}", src.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        tmp.write_all(&buf[..n])
            .io_context(|| format!("writing {}", tmp.path().display()))?;
    }
    let hash = hex(&hasher.finalize());
    let path = dir(data_dir).join(&hash);
    if !path.exists() {
        tmp.as_file()
            .sync_all()
            .io_context(|| format!("syncing {}", tmp.path().display()))?;
        tmp.persist(&path)
            .map_err(|e| e.error)
            .io_context(|| format!("storing {}", path.display()))?;
        sync_dir(&dir(data_dir))?;
    }
    Ok(hash)
}

/// Where the file stored as `hash` is, when `hash` looks like one (no path tricks).
pub fn path_of(data_dir: &Path, hash: &str) -> Option<PathBuf> {
    let plain = hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    plain.then(|| dir(data_dir).join(hash))
}

/// Removes the stored file `hash` (when nothing names it any more). Gone already is fine.
pub fn remove(data_dir: &Path, hash: &str) -> Result<()> {
    let Some(path) = path_of(data_dir, hash) else {
        return Ok(());
    };
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(crate::error::Error::Io(format!("removing file {hash}"), e)),
    }
}

/// At start, before serving: removes what a crash can leave under `files/` — half-written
/// temporary files, and stored files no row names (`in_use` says which are named). Returns how
/// many were removed.
pub fn sweep(data_dir: &Path, in_use: impl Fn(&str) -> Result<bool>) -> Result<usize> {
    let entries = match std::fs::read_dir(dir(data_dir)) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(crate::error::Error::Io("listing stored files".into(), e)),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let stored = path_of(data_dir, &name).is_some();
        if stored && in_use(&name)? {
            continue;
        }
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            std::fs::remove_file(entry.path())
                .io_context(|| format!("removing {}", entry.path().display()))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// What a stored file is, by its first bytes: its content type and whether it may be shown
/// inline (a PNG, JPEG, GIF or WebP). Anything else — SVG, HTML, PDF, unknown — is a download.
pub fn kind_of(head: &[u8]) -> (&'static str, bool) {
    if let Some((_, content_type)) = image_kind(head) {
        return (content_type, true);
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return ("image/gif", true);
    }
    if head.starts_with(b"%PDF-") {
        return ("application/pdf", false);
    }
    ("application/octet-stream", false)
}

/// The content stored as `hash`, if any. `hash` must look like one (no path tricks).
pub fn read(data_dir: &Path, hash: &str) -> Result<Option<Vec<u8>>> {
    if hash.len() != 64
        || !hash
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return Ok(None);
    }
    match std::fs::read(dir(data_dir).join(hash)) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(crate::error::Error::Io(format!("reading file {hash}"), e)),
    }
}

/// The raster image types shown inline: (extension, content type), judged by the bytes, never
/// by the name or the type the client claimed. SVG is not among them (it can carry script).
pub fn image_kind(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    match bytes {
        [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, ..] => Some(("png", "image/png")),
        [0xff, 0xd8, 0xff, ..] => Some(("jpg", "image/jpeg")),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => Some(("webp", "image/webp")),
        _ => None,
    }
}

/// `bytes` (a PNG, JPEG or WebP, see [`image_kind`]) without the metadata a camera or phone
/// puts in — EXIF (with its GPS position), XMP, comments, text chunks — and with the pixels,
/// colour profile and everything else untouched. `None` when the file is not well-formed enough
/// to be sure nothing was left: the caller refuses it.
pub fn strip_metadata(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return strip_gif(bytes);
    }
    match image_kind(bytes)?.0 {
        "jpg" => strip_jpeg(bytes),
        "png" => strip_png(bytes),
        _ => strip_webp(bytes),
    }
}

/// JPEG: drops APP1 (EXIF, XMP), APP3–APP13, COM and APP2 "MPF" (pointers to more pictures)
/// segments, and everything after the end-of-image marker (where phones put extra pictures and
/// video, with their own EXIF); keeps APP0 (JFIF), APP2 ICC profiles, APP14 (Adobe), the tables
/// and every scan.
fn strip_jpeg(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![0xff, 0xd8];
    let mut i = 2;
    loop {
        if *bytes.get(i)? != 0xff {
            return None;
        }
        let marker = *bytes.get(i + 1)?;
        if marker == 0xff {
            i += 1; // fill byte
            continue;
        }
        if marker == 0xd9 {
            out.extend_from_slice(&[0xff, 0xd9]);
            return Some(out);
        }
        if marker == 0xda {
            // Start of scan: its header, then entropy-coded data up to the next real marker
            // (0xFF 0x00 is a stuffed byte, 0xFF 0xD0–D7 a restart: both part of the data).
            let len = u16::from_be_bytes([*bytes.get(i + 2)?, *bytes.get(i + 3)?]) as usize;
            let mut j = i + 2 + len;
            // Fill bytes (0xFF runs) before the next marker are dropped, as between segments,
            // so stripping a stripped file changes nothing.
            let mut fill: Option<usize> = None;
            loop {
                let at = j + bytes.get(j..)?.iter().position(|b| *b == 0xff)?;
                let next = *bytes.get(at + 1)?;
                if next == 0xff {
                    fill.get_or_insert(at);
                    j = at + 1;
                    continue;
                }
                // A stuffed byte, a restart or TEM: all part of the scan.
                if next == 0x00 || next == 0x01 || (0xd0..=0xd7).contains(&next) {
                    fill = None;
                    j = at + 2;
                    continue;
                }
                out.extend_from_slice(&bytes[i..fill.unwrap_or(at)]);
                i = at;
                break;
            }
            continue;
        }
        if (0xd0..=0xd7).contains(&marker) || marker == 0x01 {
            out.extend_from_slice(&bytes[i..i + 2]);
            i += 2;
            continue;
        }
        let len = u16::from_be_bytes([*bytes.get(i + 2)?, *bytes.get(i + 3)?]) as usize;
        if len < 2 || i + 2 + len > bytes.len() {
            return None;
        }
        let payload = &bytes[i + 4..i + 2 + len];
        let mpf = marker == 0xe2 && payload.starts_with(b"MPF\0");
        let drop = marker == 0xe1 || (0xe3..=0xed).contains(&marker) || marker == 0xfe || mpf;
        if !drop {
            out.extend_from_slice(&bytes[i..i + 2 + len]);
        }
        i += 2 + len;
    }
}

/// GIF: walks every block (so a file that is not a well-formed GIF is refused) and drops
/// comment extensions and application extensions other than NETSCAPE2.0 (animation looping) —
/// XMP and other metadata live there. Nothing after the trailer is kept.
fn strip_gif(bytes: &[u8]) -> Option<Vec<u8>> {
    // The sub-blocks from `i` to their terminator; returns the index after it.
    fn sub_blocks(bytes: &[u8], mut i: usize) -> Option<usize> {
        loop {
            let n = *bytes.get(i)? as usize;
            i += 1;
            if n == 0 {
                return Some(i);
            }
            i += n;
            if i > bytes.len() {
                return None;
            }
        }
    }
    let flags = *bytes.get(10)?;
    let mut i = 13;
    if flags & 0x80 != 0 {
        i += 3 << ((flags & 0x07) + 1);
    }
    let mut out = bytes.get(..i)?.to_vec();
    loop {
        match *bytes.get(i)? {
            0x3b => {
                out.push(0x3b);
                return Some(out);
            }
            0x21 => {
                let label = *bytes.get(i + 1)?;
                let end = sub_blocks(bytes, i + 2)?;
                let keep = match label {
                    0xfe => false,
                    0xff => bytes.get(i + 2..i + 14) == Some(&b"\x0bNETSCAPE2.0"[..]),
                    _ => true,
                };
                if keep {
                    out.extend_from_slice(&bytes[i..end]);
                }
                i = end;
            }
            0x2c => {
                let image_flags = *bytes.get(i + 9)?;
                let mut j = i + 10;
                if image_flags & 0x80 != 0 {
                    j += 3 << ((image_flags & 0x07) + 1);
                }
                j += 1; // LZW minimum code size
                let end = sub_blocks(bytes, j)?;
                out.extend_from_slice(bytes.get(i..end)?);
                i = end;
            }
            _ => return None,
        }
    }
}

/// PNG: drops eXIf, tEXt, zTXt, iTXt and tIME chunks (each chunk's CRC covers only itself).
fn strip_png(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = bytes[..8].to_vec();
    let mut i = 8;
    while i < bytes.len() {
        let len = u32::from_be_bytes(bytes.get(i..i + 4)?.try_into().ok()?) as usize;
        let kind = bytes.get(i + 4..i + 8)?;
        let end = i.checked_add(12)?.checked_add(len)?;
        if end > bytes.len() {
            return None;
        }
        if !matches!(kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"tIME") {
            out.extend_from_slice(&bytes[i..end]);
        }
        i = end;
        if kind == b"IEND" {
            return Some(out);
        }
    }
    None
}

/// WebP: drops the EXIF and XMP chunks, clears their flags in VP8X and fixes the RIFF size.
fn strip_webp(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = bytes[..12].to_vec();
    let mut i = 12;
    while i < bytes.len() {
        let kind = bytes.get(i..i + 4)?;
        let len = u32::from_le_bytes(bytes.get(i + 4..i + 8)?.try_into().ok()?) as usize;
        let padded = len + (len & 1);
        let end = i.checked_add(8)?.checked_add(padded)?.min(bytes.len());
        if i + 8 + len > bytes.len() {
            return None;
        }
        if kind != b"EXIF" && kind != b"XMP " {
            let start = out.len();
            out.extend_from_slice(&bytes[i..end]);
            if kind == b"VP8X" && len >= 1 {
                out[start + 8] &= !0b0000_1100; // the EXIF and XMP flags
            }
        }
        i = end;
    }
    let size = u32::try_from(out.len() - 8).ok()?;
    out[4..8].copy_from_slice(&size.to_le_bytes());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_stripped_and_pixels_kept() {
        // A JPEG with JFIF, an EXIF segment carrying "GPS", a comment, then scan data.
        let mut jpeg = vec![0xff, 0xd8, 0xff, 0xe0, 0, 4, b'J', b'F'];
        jpeg.extend_from_slice(&[0xff, 0xe1, 0, 7, b'E', b'x', b'G', b'P', b'S']);
        jpeg.extend_from_slice(&[0xff, 0xfe, 0, 5, b'h', b'i', b'!']);
        jpeg.extend_from_slice(&[0xff, 0xda, 0, 2, 1, 2, 3, 0xff, 0xd9]);
        let clean = strip_metadata(&jpeg).unwrap();
        assert_eq!(
            clean,
            [
                0xff, 0xd8, 0xff, 0xe0, 0, 4, b'J', b'F', 0xff, 0xda, 0, 2, 1, 2, 3, 0xff, 0xd9
            ]
        );
        // A cut-off segment is refused rather than passed through.
        assert_eq!(strip_metadata(&jpeg[..12]), None);

        let chunk = |kind: &[u8], data: &[u8]| {
            let mut c = (data.len() as u32).to_be_bytes().to_vec();
            c.extend_from_slice(kind);
            c.extend_from_slice(data);
            c.extend_from_slice(&[0, 0, 0, 0]);
            c
        };
        let mut png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
        png.extend(chunk(b"IHDR", &[1; 13]));
        png.extend(chunk(b"eXIf", b"GPS here"));
        png.extend(chunk(b"IDAT", &[7; 5]));
        png.extend(chunk(b"IEND", &[]));
        let clean = strip_metadata(&png).unwrap();
        assert!(!clean.windows(3).any(|w| w == b"GPS"));
        assert!(clean.windows(4).any(|w| w == b"IDAT") && clean.ends_with(&chunk(b"IEND", &[])));

        let mut webp = b"RIFF\0\0\0\0WEBP".to_vec();
        webp.extend_from_slice(b"VP8X\x0a\0\0\0\x08\0\0\0\0\0\0\0\0\0");
        webp.extend_from_slice(b"VP8L\x03\0\0\0abc\0");
        webp.extend_from_slice(b"EXIF\x03\0\0\0GPS\0");
        let clean = strip_metadata(&webp).unwrap();
        assert!(!clean.windows(3).any(|w| w == b"GPS"));
        assert_eq!(clean[20] & 0b1000, 0, "EXIF flag cleared");
        assert_eq!(
            u32::from_le_bytes(clean[4..8].try_into().unwrap()) as usize,
            clean.len() - 8
        );

        // A phone JPEG: an MPF pointer segment, and a second picture with its own EXIF after EOI.
        let mut phone = vec![0xff, 0xd8, 0xff, 0xe2, 0, 8, b'M', b'P', b'F', 0, 1, 2];
        phone.extend_from_slice(&[
            0xff, 0xda, 0, 2, 9, 0xff, 0x00, 8, 0xff, 0xd0, 7, 0xff, 0xd9,
        ]);
        phone.extend_from_slice(&[0xff, 0xd8, 0xff, 0xe1, 0, 5, b'G', b'P', b'S', 0xff, 0xd9]);
        let clean = strip_metadata(&phone).unwrap();
        assert_eq!(
            clean,
            [
                0xff, 0xd8, 0xff, 0xda, 0, 2, 9, 0xff, 0x00, 8, 0xff, 0xd0, 7, 0xff, 0xd9
            ]
        );

        // A GIF with a comment and an XMP application extension: both go, the image stays.
        let mut gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00".to_vec();
        gif.extend_from_slice(b"\x21\xfe\x03GPS\x00");
        gif.extend_from_slice(b"\x21\xff\x0bXMP DataXMP\x03GPS\x00");
        let image = b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00\x3b";
        gif.extend_from_slice(image);
        let clean = strip_metadata(&gif).unwrap();
        assert!(!clean.windows(3).any(|w| w == b"GPS"));
        assert!(clean.ends_with(image));
        assert_eq!(strip_metadata(b"GIF89a<html>"), None, "not a GIF");
    }

    #[test]
    fn stores_by_content_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("files")).unwrap();
        let a = store(dir.path(), b"hello").unwrap();
        assert_eq!(
            a,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(store(dir.path(), b"hello").unwrap(), a);
        assert_eq!(
            read(dir.path(), &a).unwrap().as_deref(),
            Some(&b"hello"[..])
        );
        assert_eq!(read(dir.path(), "../../etc/passwd").unwrap(), None);
        assert_eq!(read(dir.path(), &"0".repeat(64)).unwrap(), None);
    }

    #[test]
    fn image_types_by_content() {
        assert_eq!(image_kind(b"PNG but no signature").map(|k| k.0), None);
        assert_eq!(
            image_kind(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0]).map(|k| k.0),
            Some("png")
        );
        assert_eq!(
            image_kind(&[0xff, 0xd8, 0xff, 0xe0]).map(|k| k.0),
            Some("jpg")
        );
        assert_eq!(
            image_kind(b"RIFF\0\0\0\0WEBPVP8 ").map(|k| k.0),
            Some("webp")
        );
        assert_eq!(
            image_kind(br#"<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>"#),
            None
        );
    }
}
