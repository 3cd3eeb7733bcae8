//! The command line, run as the real binary (issue #2).

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::util::{Server, binary};

fn run(args: &[&str], stdin: &str, cwd: &std::path::Path) -> Output {
    let mut child = Command::new(binary())
        .args(args)
        .current_dir(cwd)
        .env("PORCHLIGHT_BCRYPT_COST", "4")
        .env_remove("PORCHLIGHT_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run porchlight");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["init", "--help"],
        vec!["staff", "--help"],
        vec!["staff", "add", "--help"],
        vec!["staff", "reset-password", "--help"],
        vec!["staff", "list", "--help"],
        vec!["backup", "--help"],
        vec!["check-config", "--help"],
        vec!["demo", "--help"],
    ] {
        let o = run(&args, "", dir.path());
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        assert!(text(&o).contains("Usage:"), "{args:?}");
    }
    let o = run(&["frobnicate"], "", dir.path());
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn init_writes_the_config_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["init"], "", dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let written = std::fs::read_to_string(dir.path().join("porchlight.toml")).unwrap();
    assert_eq!(written, porchlight::config::EXAMPLE);
    assert!(dir.path().join("data/porchlight.sqlite3").exists());
    let again = run(&["init"], "", dir.path());
    assert!(!again.status.success());
    assert!(text(&again).contains("already exists"), "{}", text(&again));
}

#[test]
fn staff_add_list_and_reset_password() {
    let dir = tempfile::tempdir().unwrap();
    let no_db = run(&["staff", "list"], "", dir.path());
    assert!(!no_db.status.success());
    assert!(text(&no_db).contains("no database"), "{}", text(&no_db));

    assert!(run(&["init"], "", dir.path()).status.success());
    let o = run(
        &[
            "staff",
            "add",
            "--email",
            "ada@example.com",
            "--name",
            "Ada",
            "--role",
            "admin",
        ],
        "correct horse\n",
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run(
        &[
            "staff",
            "add",
            "--email",
            "ADA@example.com",
            "--name",
            "Ada 2",
            "--role",
            "agent",
        ],
        "correct horse\n",
        dir.path(),
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("already exists"), "{}", text(&o));
    let o = run(
        &[
            "staff",
            "add",
            "--email",
            "bo@example.com",
            "--name",
            "Bo",
            "--role",
            "agent",
        ],
        "short\n",
        dir.path(),
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("at least 8"), "{}", text(&o));
    let o = run(
        &[
            "staff",
            "add",
            "--email",
            "bo@example.com",
            "--name",
            "Bo",
            "--role",
            "boss",
        ],
        "long enough\n",
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    let list = run(&["staff", "list"], "", dir.path());
    let listed = text(&list);
    assert!(
        listed.contains("ada@example.com")
            && listed.contains("admin")
            && !listed.contains("bo@example.com"),
        "{listed}"
    );

    let o = run(
        &["staff", "reset-password", "--email", "ada@example.com"],
        "a new password\n",
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run(
        &["staff", "reset-password", "--email", "nobody@example.com"],
        "a new password\n",
        dir.path(),
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("no staff account"), "{}", text(&o));
}

#[test]
fn check_config_validates_masks_and_names_bad_keys() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["check-config"], "", dir.path());
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("listen = \"127.0.0.1:8080\""),
        "{}",
        text(&o)
    );

    std::fs::write(dir.path().join("bad.toml"), "[server]\nidle_timeout = 5\n").unwrap();
    let o = run(&["check-config", "--config", "bad.toml"], "", dir.path());
    assert!(!o.status.success());
    assert!(text(&o).contains("idle_timeout"), "{}", text(&o));

    std::fs::write(dir.path().join("bad2.toml"), "upload_limit_mb = 0\n").unwrap();
    let o = run(&["check-config", "--config", "bad2.toml"], "", dir.path());
    assert!(!o.status.success());
    assert!(text(&o).contains("upload_limit_mb"), "{}", text(&o));

    let o = Command::new(binary())
        .arg("check-config")
        .current_dir(dir.path())
        .env("PORCHLIGHT_LISTEN", "0.0.0.0:9999")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("listen = \"0.0.0.0:9999\""));
    let o = Command::new(binary())
        .arg("check-config")
        .current_dir(dir.path())
        .env("PORCHLIGHT_LISTN", "x")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("PORCHLIGHT_LISTN"));
}

#[test]
fn backup_copies_a_running_database_and_checks_it() {
    let server = Server::start(&[]);
    let out = server.dir.join("copy.sqlite3");
    let data_dir = server.dir.to_str().unwrap();
    let o = run(
        &[
            "backup",
            "--out",
            out.to_str().unwrap(),
            "--data-dir",
            data_dir,
        ],
        "",
        &server.dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("integrity check: ok"), "{}", text(&o));
    let conn = rusqlite::Connection::open(&out).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        version as usize,
        porchlight::store::migrate::MIGRATIONS.len()
    );
    let again = run(
        &[
            "backup",
            "--out",
            out.to_str().unwrap(),
            "--data-dir",
            data_dir,
        ],
        "",
        &server.dir,
    );
    assert!(!again.status.success());
    assert!(text(&again).contains("already exists"));
}

#[test]
fn serve_prints_a_one_time_setup_link() {
    let server = Server::start(&[]);
    let line = server.line_with("/setup/").expect("setup link printed");
    let url = line.trim();
    let agent = crate::util::http_agent();
    let (status, body) = crate::util::http_get(&agent, url);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Create the first admin"));
}
