//! Issue #19's restore drill, for real: the README's "Off-site copies" script (a `porchlight
//! backup`, then restic) against a local restic repository, the machine wiped, and the README's
//! "Restore drill" steps (restic restore, `porchlight restore`, serve) — then the same tickets
//! and the same files, byte for byte. Needs the `restic` program (Debian package `restic`).

use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::util::{Server, binary, csrf_from, http_agent, http_get, http_post};

/// restic, when installed.
pub fn restic() -> Option<std::path::PathBuf> {
    crate::chromium::find_program(&["/usr/bin/restic", "restic"])
}

/// Runs `program args` in `cwd` with the drill's restic settings; panics with its output when
/// it fails.
fn sh(program: &Path, args: &[&str], cwd: &Path, env: &[(&str, &Path)]) -> String {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("PORCHLIGHT_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run a command");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{} {args:?} failed:\n{text}",
        program.display()
    );
    text
}

struct Expected {
    tickets: i64,
    newest: String,
    /// (ticket reference, attachment id, SHA-256 of its bytes)
    files: Vec<(String, i64, String)>,
}

fn expected(db: &Path) -> Expected {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let tickets = conn
        .query_row("SELECT COUNT(*) FROM tickets", [], |r| r.get(0))
        .unwrap();
    let newest = conn
        .query_row(
            "SELECT subject FROM tickets ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT p.key || '-' || t.number, a.id, a.sha256 FROM attachments a
             JOIN tickets t ON t.id = a.ticket_id JOIN projects p ON p.id = t.project_id
             ORDER BY a.id",
        )
        .unwrap();
    let files = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    Expected {
        tickets,
        newest,
        files,
    }
}

pub fn restic_backup_wipe_restore_serve() {
    let restic = restic().expect("restic is installed");
    let porchlight = Path::new(binary());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let data = w.join("data");
    let repo = w.join("restic-repo");
    let password = w.join("restic-password");
    std::fs::write(&password, "a long drill passphrase\n").unwrap();
    let env: [(&str, &Path); 2] = [
        ("RESTIC_REPOSITORY", &repo),
        ("RESTIC_PASSWORD_FILE", &password),
    ];

    // A workspace with tickets and attachments, serving.
    let server = Server::spawn(
        &[
            "demo",
            "--data-dir",
            data.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--tickets",
            "30",
        ],
        &[],
        data.clone(),
    );
    let want = expected(&data.join("porchlight.sqlite3"));
    assert!(!want.files.is_empty(), "the demo has attachments");

    // The README's porchlight-offsite script, with the server running.
    sh(&restic, &["init"], w, &env);
    let stage = w.join("backups").join("latest");
    std::fs::create_dir_all(stage.parent().unwrap()).unwrap();
    let stage_arg = stage.to_str().unwrap();
    sh(
        porchlight,
        &[
            "backup",
            "--out",
            stage_arg,
            "--data-dir",
            data.to_str().unwrap(),
        ],
        w,
        &[],
    );
    sh(
        &restic,
        &["backup", "--tag", "porchlight", stage_arg],
        w,
        &env,
    );
    sh(
        &restic,
        &[
            "forget",
            "--tag",
            "porchlight",
            "--keep-daily",
            "14",
            "--keep-weekly",
            "8",
            "--keep-monthly",
            "12",
            "--prune",
        ],
        w,
        &env,
    );

    // The disk dies: the server, its data and the local staging copy are gone.
    drop(server);
    std::fs::remove_dir_all(&data).unwrap();
    std::fs::remove_dir_all(w.join("backups")).unwrap();

    // The README's restore drill.
    let listed = sh(&restic, &["snapshots", "--tag", "porchlight"], w, &env);
    assert!(listed.contains("1 snapshots"), "{listed}");
    let target = w.join("restore");
    sh(
        &restic,
        &[
            "restore",
            "latest",
            "--tag",
            "porchlight",
            "--target",
            target.to_str().unwrap(),
        ],
        w,
        &env,
    );
    let restored_copy = target.join(stage.strip_prefix("/").unwrap());
    let fresh = w.join("data-restored");
    let said = sh(
        porchlight,
        &[
            "restore",
            "--from",
            restored_copy.to_str().unwrap(),
            "--data-dir",
            fresh.to_str().unwrap(),
        ],
        w,
        &[],
    );
    assert!(said.contains("integrity check: ok"), "{said}");

    // Served again: the same tickets, the same files.
    let got = expected(&fresh.join("porchlight.sqlite3"));
    assert_eq!(
        (got.tickets, &got.newest, &got.files),
        (want.tickets, &want.newest, &want.files)
    );
    let server = Server::spawn(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            fresh.to_str().unwrap(),
        ],
        &[],
        fresh.clone(),
    );
    let agent = http_agent();
    let (_, login) = http_get(&agent, &server.url("/login"));
    let (status, _, _) = http_post(
        &agent,
        &server.url("/login"),
        &[
            ("csrf_token", &csrf_from(&login)),
            ("email", "admin@demo.example"),
            ("password", "demo-admin-pass"),
        ],
    );
    assert_eq!(status, 303, "the demo admin signs in on the restored copy");
    for (reference, id, sha256) in &want.files {
        let (status, page) = http_get(&agent, &server.url(&format!("/tickets/{reference}")));
        assert_eq!(status, 200);
        // Attribute values come HTML-escaped ("/" as "&#x2f;").
        let page = page.replace("&#x2f;", "/");
        let needle = format!("/tickets/{reference}/files/{id}/");
        let at = page
            .find(&needle)
            .unwrap_or_else(|| panic!("no link to file {id} on {reference}"));
        let href: String = page[at..].chars().take_while(|c| *c != '"').collect();
        let bytes = agent
            .get(server.url(&href.replace("&amp;", "&")))
            .call()
            .expect("download")
            .body_mut()
            .read_to_vec()
            .expect("bytes");
        let actual: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            &actual, sha256,
            "file {id} of {reference} came back changed"
        );
    }
}
