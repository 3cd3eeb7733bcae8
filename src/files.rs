//! Files under `data_dir/files/`, named by the SHA-256 of their content: a file is written once
//! (atomically) and never changes, so a name can be cached forever. Used for the agency logo now,
//! ticket attachments later.

use std::path::{Path, PathBuf};

use crate::auth::sha256;
use crate::error::{IoContext, Result};

fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("files")
}

/// Stores `bytes`; returns their SHA-256 in hex (the file's name). The file is on disk for good
/// (written, fsynced, renamed, directory fsynced) before this returns, so a database row that
/// names it afterwards never points at a file a power cut took away.
pub fn store(data_dir: &Path, bytes: &[u8]) -> Result<String> {
    use std::io::Write;
    let hash: String = sha256(bytes).iter().map(|b| format!("{b:02x}")).collect();
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
        std::fs::File::open(dir(data_dir))
            .and_then(|d| d.sync_all())
            .io_context(|| format!("syncing {}", dir(data_dir).display()))?;
    }
    Ok(hash)
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

#[cfg(test)]
mod tests {
    use super::*;

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
