//! The data directory: its layout (`porchlight.sqlite3`, `files/`, `mail/`, `tmp/`), the checks
//! that it is usable before anything is served, and the lock that keeps two servers off it.
//!
//! Why a lock: two `serve` processes on one directory both accepted writes (SQLite serialises
//! them, but each server's background work and caches assume they are alone), and two started
//! at once failed with "database is locked". The first server now holds an exclusive `flock` on
//! `porchlight.lock` for its lifetime; a second one is refused with the first one's pid. The
//! lock is advisory and only servers take it: `backup`, `staff list` and the other CLI commands
//! keep working beside a running server. The kernel drops it when the process dies (kill -9
//! included), so a crash never leaves a stale lock behind.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};

/// The lock file's name inside the data directory.
const LOCK_FILE: &str = "porchlight.lock";

/// Creates the data directory and its subdirectories, and checks that it is a writable
/// directory. Errors name the directory and say what to fix.
pub fn prepare(dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::Other(format!(
            "data directory {} exists but is not a directory: point data_dir (or --data-dir) at a directory",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::Other(format!(
            "cannot create the data directory {}: {e}",
            dir.display()
        ))
    })?;
    for sub in ["files", "mail", "tmp"] {
        let path = dir.join(sub);
        if path.exists() && !path.is_dir() {
            return Err(Error::Other(format!(
                "{} exists but is not a directory: move it aside",
                path.display()
            )));
        }
        std::fs::create_dir_all(&path).map_err(|e| not_writable(dir, e))?;
    }
    // A probe write: a read-only directory is reported now, not at the first sign-in.
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"").map_err(|e| not_writable(dir, e))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

fn not_writable(dir: &Path, e: std::io::Error) -> Error {
    Error::Other(format!(
        "the data directory {} is not writable ({e}): run Porchlight as the user that owns it, or fix its permissions",
        dir.display()
    ))
}

/// The exclusive lock of a serving process on its data directory; released on drop (or when the
/// process ends, however it ends).
#[derive(Debug)]
pub struct Lock {
    _file: File,
    path: PathBuf,
}

impl Lock {
    /// Takes the lock, or explains who holds it.
    pub fn acquire(dir: &Path) -> Result<Lock> {
        let path = dir.join(LOCK_FILE);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| not_writable(dir, e))?;
        // SAFETY: flock only reads the descriptor, which `file` keeps open.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        if !locked {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() {
                "another process".to_string()
            } else {
                format!("another Porchlight (pid {holder})")
            };
            return Err(Error::Other(format!(
                "{who} is already serving the data directory {}: stop it first, or use another --data-dir",
                dir.display()
            )));
        }
        file.set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| writeln!(file, "{}", std::process::id()))
            .io_context(|| format!("writing {}", path.display()))?;
        Ok(Lock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_lock_per_directory() {
        let dir = tempfile::tempdir().unwrap();
        prepare(dir.path()).unwrap();
        let first = Lock::acquire(dir.path()).unwrap();
        let err = Lock::acquire(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        Lock::acquire(dir.path()).expect("released on drop");
    }

    #[test]
    fn a_file_is_not_a_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("afile");
        std::fs::write(&file, b"x").unwrap();
        let err = prepare(&file).unwrap_err().to_string();
        assert!(err.contains("is not a directory"), "{err}");
        assert!(err.contains("afile"), "{err}");
    }
}
