//! The command line: `serve`, `init`, `staff`, `backup`, `restore`, `check-config`, `demo`.
//!
//! Every command prints a clear error and exits non-zero on failure (1 for a failure, 2 for a
//! usage mistake, as clap does).

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::accounts::{self, NewStaffInput};
use crate::app::App;
use crate::background::Background;
use crate::config::{self, Config};
use crate::domain::Role;
use crate::error::{Error, IoContext, Result};
use crate::store::{self, Store, Synchronous};
use crate::{auth, datadir, demo, logging, server};

/// The default config file, read when present and no --config is given.
const DEFAULT_CONFIG: &str = "porchlight.toml";

#[derive(Parser)]
#[command(
    name = "porchlight",
    version,
    about = "A self-hosted customer portal: one binary, one SQLite file."
)]
struct Cli {
    /// Config file (default: ./porchlight.toml when it exists, else built-in defaults).
    #[arg(long, global = true, env = "PORCHLIGHT_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server.
    Serve(ServeArgs),
    /// Write a commented config file and create the data directory and database.
    Init,
    /// Manage staff accounts.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Copy the database consistently (safe while the server runs), verify it, and copy the
    /// stored files (attachments, logos, pictures) it refers to: a directory with both.
    Backup {
        /// The directory to write; must not exist yet.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[command(flatten)]
        location: DataDirArg,
    },
    /// Put a backup (from `backup --out`) in place of the data directory's database and stored
    /// files, after checking it. Refused while a server runs on the directory; the data that
    /// was there is moved into a `before-restore-…` folder inside it, never deleted.
    Restore {
        /// The backup directory to restore.
        #[arg(long, value_name = "BACKUP")]
        from: PathBuf,
        #[command(flatten)]
        location: DataDirArg,
    },
    /// Validate the configuration and print the effective settings (secrets masked).
    CheckConfig,
    /// Outgoing email.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Create a demo workspace and serve it, printing every login and link.
    Demo {
        /// Directory for the demo's data (default: a new temporary directory).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// Address to listen on (host:port).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// How many tickets to create in the busy ACME project (the other projects get 15 each).
        #[arg(long, default_value_t = 60, value_name = "N")]
        tickets: usize,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on, host:port (overrides `listen`).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    #[command(flatten)]
    location: DataDirArg,
}

#[derive(Args)]
struct DataDirArg {
    /// Data directory (overrides `data_dir`).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum MailCommand {
    /// Send one message through the configured transport now and print the server's answer.
    Test {
        /// The address to send the test message to.
        #[arg(long, value_name = "ADDR")]
        to: String,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Add a staff account. The password is read from stdin when it is not a terminal,
    /// otherwise asked for twice.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin or agent
        #[arg(long, value_parser = ["admin", "agent"])]
        role: String,
        #[command(flatten)]
        location: DataDirArg,
    },
    /// Set a new password for a staff account (ends its sessions).
    ResetPassword {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        location: DataDirArg,
    },
    /// List staff accounts.
    List {
        #[command(flatten)]
        location: DataDirArg,
    },
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let config_path = cli.config.clone().or_else(|| {
        Path::new(DEFAULT_CONFIG)
            .exists()
            .then(|| DEFAULT_CONFIG.into())
    });
    let load = |data_dir: &Option<PathBuf>| -> Result<Config> {
        let mut config = Config::load(config_path.as_deref(), std::env::vars())?;
        if let Some(dir) = data_dir {
            config.data_dir = dir.clone();
        }
        Ok(config)
    };
    match cli.command {
        Command::Serve(args) => {
            let mut config = load(&args.location.data_dir)?;
            if let Some(listen) = args.listen {
                config.listen = listen;
            }
            serve(config, None)
        }
        Command::Init => init(cli.config.as_deref().unwrap_or(Path::new(DEFAULT_CONFIG))),
        Command::Staff(cmd) => staff(cmd, load),
        Command::Mail(MailCommand::Test { to }) => mail_test(&load(&None)?, &to),
        Command::Backup { out, location } => backup(&load(&location.data_dir)?, &out),
        Command::Restore { from, location } => restore(&load(&location.data_dir)?, &from),
        Command::CheckConfig => {
            let config = load(&None)?;
            match &config_path {
                Some(p) => println!(
                    "# Configuration OK: {} (plus any PORCHLIGHT_* overrides)",
                    p.display()
                ),
                None => println!(
                    "# Configuration OK: built-in defaults (plus any PORCHLIGHT_* overrides)"
                ),
            }
            print!("{}", config.to_masked_toml());
            Ok(())
        }
        Command::Demo {
            data_dir,
            listen,
            tickets,
        } => {
            let mut config = load(&None)?;
            if let Some(listen) = listen {
                config.listen = listen;
            }
            match data_dir {
                Some(dir) => {
                    config.data_dir = dir;
                    serve(config, Some(tickets))
                }
                None => {
                    // A demo in a directory of its own: removed again when the demo fails (it
                    // holds nothing but demo data); kept after a normal stop, as the guide says.
                    let dir = demo::fresh_data_dir()?;
                    config.data_dir = dir.clone();
                    let outcome = serve(config, Some(tickets));
                    if outcome.is_err() {
                        let _ = std::fs::remove_dir_all(&dir);
                    }
                    outcome
                }
            }
        }
    }
}

/// Runs the server; with `demo_tickets`, seeds a demo workspace first (when the data directory
/// holds none yet) and prints how to look around.
///
/// Everything that can be wrong with the data directory or the database is found before the
/// "listening" line: a server that says it listens is one that can serve.
fn serve(mut config: Config, demo_tickets: Option<usize>) -> Result<()> {
    logging::init(&config.log_level, &config.log_format);
    datadir::prepare(&config.data_dir)?;
    let lock = datadir::Lock::acquire(&config.data_dir)?;
    if let Some(why) = crate::restore::interrupted(&config.data_dir) {
        return Err(Error::Other(why));
    }
    let listener = server::bind(config.listen_addr()?)?;
    // With port 0 the OS picks one: links and the banner must show the real address.
    let bound = listener
        .local_addr()
        .io_context(|| "reading the bound address")?;
    config.listen = bound.to_string();
    let metrics_listener = match config.metrics_addr()? {
        Some(addr) => {
            let l = server::bind(addr)?;
            let at = l
                .local_addr()
                .io_context(|| "reading the metrics address")?;
            config.metrics.listen = at.to_string();
            Some(l)
        }
        None => None,
    };
    let app = Arc::new(App::new_prepared(config)?);
    log::debug!("holding {}", lock.path().display());
    let base = app.config.base_url();
    let db = app.store.connect()?;
    // Files a crash left behind: half-written, or stored for a row that never committed. Only
    // here, under the data directory's lock: no upload can be in flight.
    let swept = crate::files::sweep(&app.config.data_dir, |name| {
        crate::store::attachments::file_in_use(&db, name)
    })?;
    if swept > 0 {
        log::info!("removed {swept} stored file(s) nothing refers to");
    }
    if let Some(tickets) = demo_tickets {
        let guide = demo::ensure(&app, &db, tickets)?;
        println!("{}", guide.render(&base));
    }
    println!(
        "Porchlight {} listening on {base} (data in {})",
        env!("CARGO_PKG_VERSION"),
        app.config.data_dir.display()
    );
    println!("Email goes to {}", app.mailer.destination());
    if let Some(l) = metrics_listener {
        server::serve_metrics(Arc::clone(&app), l)?;
        println!(
            "Metrics (Prometheus) on http://{}/metrics",
            app.config.metrics.listen
        );
    } else if app.config.metrics.enabled {
        println!("Metrics (Prometheus) on {base}/metrics, with the configured bearer token");
    }
    if let Some(token) = auth::issue_setup_token(&db)? {
        println!(
            "No staff account exists yet. Create the first admin here (the link works until used):"
        );
        println!("  {base}/setup/{}", token.expose());
    }
    let _ = std::io::stdout().flush();

    let background = Background::start(Arc::clone(&app));
    let outcome = server::run(Arc::clone(&app), listener);
    background.stop();
    if let Err(e) = db.checkpoint() {
        log::warn!("final WAL checkpoint: {e}");
    }
    log::info!("stopped");
    drop(lock);
    outcome
}

/// Writes the commented config file and creates the data directory and database. Everything
/// that can fail is done before the config file is written, so a failed `init` leaves nothing
/// half-done behind (run it again once the cause is fixed).
fn init(path: &Path) -> Result<()> {
    if path.exists() {
        return Err(Error::Other(format!(
            "{} already exists; not overwriting it",
            path.display()
        )));
    }
    let config = Config::parse(config::EXAMPLE, None, std::env::vars())?;
    datadir::prepare(&config.data_dir)?;
    let existed = config.db_path().exists();
    open_store(&config)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .io_context(|| format!("creating {}", path.display()))?;
    file.write_all(config::EXAMPLE.as_bytes())
        .io_context(|| format!("writing {}", path.display()))?;
    println!("Wrote {}", path.display());
    if existed {
        println!(
            "Using the existing database {} (left as it was, migrated if needed)",
            config.db_path().display()
        );
    } else {
        println!("Created the database {}", config.db_path().display());
    }
    println!("Next: `porchlight serve --config {}`", path.display());
    Ok(())
}

/// `mail test`: one message through the configured transport, at once, with what the server
/// said — or why it failed (refused, TLS, authentication, time-out).
fn mail_test(config: &Config, to: &str) -> Result<()> {
    if !crate::domain::plausible_email(to.trim()) {
        return Err(Error::Other(format!("--to {to:?} is not an email address")));
    }
    let mailer = crate::mail::Mailer::new(config)?;
    if let Some(dir) = mailer.dir() {
        std::fs::create_dir_all(dir).io_context(|| format!("creating {}", dir.display()))?;
    }
    let templates = crate::render::Templates::load(crate::render::StaticFiles::load().urls())?;
    println!(
        "Sending a test message to {} through {}…",
        to.trim(),
        mailer.destination()
    );
    // The agency's name from the workspace when there is one (the name mail is sent as).
    let sender_name = crate::store::settings::agency_name_in(&config.db_path())
        .unwrap_or_else(|_| crate::store::settings::Branding::default().agency_name);
    match mailer.send_test(&templates, to.trim(), &sender_name) {
        Ok(answer) => {
            println!("Accepted: {answer}");
            Ok(())
        }
        Err(why) => Err(Error::Other(format!("not sent: {why}"))),
    }
}

fn open_store(config: &Config) -> Result<Store> {
    let sync = Synchronous::parse(&config.sqlite_synchronous).expect("validated");
    Store::open(&config.db_path(), sync)
}

/// Opens an existing database (commands other than serve/init must not create one by accident).
fn open_existing(config: &Config) -> Result<store::Db> {
    let path = config.db_path();
    if !path.exists() {
        return Err(Error::Other(format!(
            "no database at {} (run `porchlight init` or `porchlight serve` first, or pass --data-dir)",
            path.display()
        )));
    }
    open_store(config)?.connect()
}

fn staff(cmd: StaffCommand, load: impl Fn(&Option<PathBuf>) -> Result<Config>) -> Result<()> {
    match cmd {
        StaffCommand::Add {
            email,
            name,
            role,
            location,
        } => {
            let config = load(&location.data_dir)?;
            let db = open_existing(&config)?;
            let password = read_password("Password for the new account")?;
            let role = Role::parse(&role).expect("clap checked the value");
            let input = NewStaffInput {
                name: &name,
                email: &email,
                password: &password,
                role,
            };
            match accounts::create_staff(&db, config.bcrypt_cost, &input)? {
                Ok(id) => {
                    println!(
                        "Added {} <{}> as {} (id {id})",
                        name.trim(),
                        email.trim(),
                        role.key()
                    );
                    Ok(())
                }
                Err(errors) => Err(Error::Other(errors.to_string())),
            }
        }
        StaffCommand::ResetPassword { email, location } => {
            let config = load(&location.data_dir)?;
            let db = open_existing(&config)?;
            let staff = store::staff::get_by_email(&db, &email)?.ok_or_else(|| {
                Error::Other(format!("no staff account with email {}", email.trim()))
            })?;
            let password = read_password("New password")?;
            accounts::reset_password(&db, config.bcrypt_cost, staff.id, &password)?
                .map_err(|why| Error::Other(format!("password: {why}")))?;
            println!(
                "Password changed for {}; their sessions were ended.",
                staff.email
            );
            Ok(())
        }
        StaffCommand::List { location } => {
            let config = load(&location.data_dir)?;
            let db = open_existing(&config)?;
            let staff = store::staff::list(&db)?;
            if staff.is_empty() {
                println!("No staff accounts yet.");
            }
            for s in staff {
                let state = if s.active { "active" } else { "deactivated" };
                println!(
                    "{:<5} {:<6} {:<12} {:<30} {}",
                    s.id,
                    s.role.key(),
                    state,
                    s.email,
                    s.name
                );
            }
            Ok(())
        }
    }
}

/// Reads a password: one line from stdin when piped, otherwise a hidden prompt, asked twice.
fn read_password(prompt: &str) -> Result<String> {
    if !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .io_context(|| "reading the password from stdin")?;
        let password = line.trim_end_matches(['\n', '\r']).to_string();
        if password.is_empty() {
            return Err(Error::Other("no password on stdin".into()));
        }
        return Ok(password);
    }
    let first =
        rpassword::prompt_password(format!("{prompt}: ")).io_context(|| "reading the password")?;
    let second =
        rpassword::prompt_password("Again, to confirm: ").io_context(|| "reading the password")?;
    if first != second {
        return Err(Error::Other("the two passwords differ".into()));
    }
    Ok(first)
}

fn backup(config: &Config, out: &Path) -> Result<()> {
    if out.exists() {
        return Err(Error::Other(format!(
            "{} already exists; choose a new name",
            out.display()
        )));
    }
    let db = open_existing(config)?;
    let result = backup_into(config, &db, out);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(out);
    }
    let (db_size, files, files_size) = result?;
    println!(
        "Backed up {} to {}: the database ({}; integrity check: ok) and the {} stored file(s) it refers to ({}).",
        config.data_dir.display(),
        out.display(),
        human_size(db_size),
        files,
        human_size(files_size)
    );
    println!(
        "To restore: stop Porchlight, then run `porchlight restore --from {}` (with the same --data-dir or config).",
        out.display()
    );
    Ok(())
}

fn restore(config: &Config, from: &Path) -> Result<()> {
    let done = crate::restore::restore(config, from)?;
    let dir = config.data_dir.display();
    println!(
        "Restored {} into {dir}: the database ({}; integrity check: ok; schema {} of {}) and the {} stored file(s) it refers to (each checked against its SHA-256).",
        from.display(),
        human_size(done.db_bytes),
        done.schema.0,
        done.schema.1,
        done.files
    );
    match &done.aside {
        Some(aside) => {
            println!(
                "The data that was there before is in {} (nothing was deleted).",
                aside.display()
            );
            println!(
                "To undo: stop Porchlight, then run `porchlight restore --from {}` (with the same --data-dir or config).",
                aside.display()
            );
        }
        None => println!("The data directory held no data before, so nothing was moved aside."),
    }
    if done.schema.0 < done.schema.1 {
        println!("The next `porchlight serve` brings the database up to this version's schema.");
    }
    println!("Start Porchlight (`porchlight serve`) to serve it.");
    Ok(())
}

/// The backup directory: one consistent copy of the database, then every stored file that copy
/// refers to (attachments, logos, pictures). Returns (database bytes, files, file bytes).
fn backup_into(config: &Config, db: &crate::store::Db, out: &Path) -> Result<(u64, usize, u64)> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(out)
        .io_context(|| format!("creating {}", out.display()))?;
    let copy = out.join("porchlight.sqlite3");
    db.backup_to(&copy)?;
    let db_size = std::fs::metadata(&copy)
        .io_context(|| format!("reading {}", copy.display()))?
        .len();
    // What the copy names — not the live database, which may have moved on meanwhile.
    let named = crate::store::attachments::files_named_in(&copy)?;
    let files_dir = out.join("files");
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&files_dir)
        .io_context(|| format!("creating {}", files_dir.display()))?;
    let (mut count, mut bytes) = (0, 0);
    for hash in named {
        let Some(from) = crate::files::path_of(&config.data_dir, &hash) else {
            continue;
        };
        let to = files_dir.join(&hash);
        match crate::files::copy_synced(&from, &to) {
            Ok(n) => {
                count += 1;
                bytes += n;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Other(format!(
                    "stored file {hash} was removed while backing up (a file was deleted meanwhile); run the backup again"
                )));
            }
            Err(e) => return Err(Error::Io(format!("copying stored file {hash}"), e)),
        }
    }
    crate::files::sync_dir(&files_dir)?;
    crate::files::sync_dir(out)?;
    Ok((db_size, count, bytes))
}

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}
