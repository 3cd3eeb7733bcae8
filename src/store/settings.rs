//! Instance-wide settings edited in the web UI: the agency's name and accent colour, shown on
//! share-link pages (and later in portals and emails).

use rusqlite::params;
use serde::Serialize;

use crate::error::Result;
use crate::store::{Conn, Context, Reader, Tx};

/// The agency's branding. Defaults apply until an admin saves the settings page.
#[derive(Debug, Clone, Serialize)]
pub struct Branding {
    pub agency_name: String,
    /// `#rrggbb`.
    pub accent_color: String,
    /// The logo's file name, `{sha256}.{png|jpg|webp}`, served at `/brand/logo/{logo}`.
    pub logo: Option<String>,
}

impl Default for Branding {
    fn default() -> Self {
        Branding {
            agency_name: "Porchlight".into(),
            accent_color: "#b45309".into(),
            logo: None,
        }
    }
}

impl Branding {
    /// This branding with a portal's own accent colour and logo, where it has them.
    pub fn for_portal(mut self, portal: &crate::store::portals::Portal) -> Branding {
        if let Some(color) = &portal.accent_color {
            self.accent_color = color.clone();
        }
        if let Some(logo) = &portal.logo {
            self.logo = Some(logo.clone());
        }
        self
    }

    /// This branding with a shareable link's own accent colour and logo, where it has them.
    pub fn for_link(mut self, link: &crate::store::projects::ShareSettings) -> Branding {
        if let Some(color) = &link.accent_color {
            self.accent_color = color.clone();
        }
        if let Some(logo) = &link.logo {
            self.logo = Some(logo.clone());
        }
        self
    }
}

/// Whether `logo` (`{sha256}.{ext}`) is a logo in use — the workspace's or a link's — and so
/// may be served. Files under data/files that are not (attachments, old logos) never are.
pub fn logo_in_use(r: &impl Reader, logo: &str) -> Result<bool> {
    r.conn()
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM settings WHERE key = 'logo' AND value = ?1)
                 OR EXISTS (SELECT 1 FROM projects WHERE share_logo = ?1)
                 OR EXISTS (SELECT 1 FROM portals WHERE logo = ?1)",
        )
        .and_then(|mut s| s.query_row([logo], |row| row.get(0)))
        .context(|| "checking whether a logo is in use".to_string())
}

pub fn branding(r: &impl Reader) -> Result<Branding> {
    let run = || -> rusqlite::Result<Branding> {
        let mut branding = Branding::default();
        let mut stmt = r.conn().prepare_cached(
            "SELECT key, value FROM settings WHERE key IN ('agency_name', 'accent_color', 'logo')",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let (key, value): (String, String) = (row.get(0)?, row.get(1)?);
            match key.as_str() {
                "agency_name" => branding.agency_name = value,
                "accent_color" => branding.accent_color = value,
                "logo" => branding.logo = Some(value),
                _ => {}
            }
        }
        Ok(branding)
    };
    run().context(|| "loading the branding settings".to_string())
}

pub fn set_branding(tx: &Tx<'_>, branding: &Branding) -> Result<()> {
    let run = || -> rusqlite::Result<()> {
        let mut stmt = tx.conn.prepare_cached(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )?;
        stmt.execute(params!["agency_name", branding.agency_name.trim()])?;
        stmt.execute(params!["accent_color", branding.accent_color])?;
        match &branding.logo {
            Some(logo) => stmt.execute(params!["logo", logo])?,
            None => tx
                .conn
                .execute("DELETE FROM settings WHERE key = 'logo'", [])?,
        };
        Ok(())
    };
    run().context(|| "saving the branding settings".to_string())
}

/// The agency's name in the database at `path`, read on a read-only connection of its own: no
/// migration, no start-up check, nothing written (for `mail test`, beside a running server).
/// The default name when the database has none saved.
pub fn agency_name_in(path: &std::path::Path) -> Result<String> {
    use rusqlite::OptionalExtension;
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .context(|| format!("opening {}", path.display()))?;
    let saved: Option<String> = conn
        .query_row(
            "SELECT value FROM settings WHERE key = 'agency_name'",
            [],
            |r| r.get(0),
        )
        .optional()
        .context(|| "reading the agency's name".to_string())?;
    Ok(saved.unwrap_or_else(|| Branding::default().agency_name))
}
