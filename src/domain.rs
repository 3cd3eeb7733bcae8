//! The shared vocabulary: ids, statuses, priorities, roles, sources. Plain data, no I/O.

use std::fmt;

use serde::Serialize;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(/// A staff member's row id.
    StaffId);
id_type!(/// A project's row id.
    ProjectId);
id_type!(/// A ticket's row id (never shown to users; they see `ACME-12`).
    TicketId);
id_type!(/// An organisation's row id (a group of customers).
    OrganizationId);
id_type!(/// A customer's row id (an agency's client account).
    CustomerId);
id_type!(/// A contact's row id (a portal account).
    ContactId);
id_type!(/// A portal's row id.
    PortalId);

/// Defines a closed set of string-valued states with their stored key and their label.
macro_rules! labelled_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $key:literal, $label:literal;)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),* }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The value stored in the database and used in URLs and forms.
            pub fn key(self) -> &'static str {
                match self { $($name::$variant => $key),* }
            }

            /// What people read.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),* }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s { $($key => Some($name::$variant),)* _ => None }
            }

            /// `[{key, label}]` for select boxes and filters.
            pub fn options() -> Vec<Choice> {
                Self::ALL.iter().map(|v| Choice { key: v.key(), label: v.label() }).collect()
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.key())
            }
        }
    };
}

/// One option of a select box.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub key: &'static str,
    pub label: &'static str,
}

labelled_enum!(
    /// Where a ticket stands. Resolved and Closed are "done"; the rest are "open work".
    Status {
        Open = "open", "Open";
        Pending = "pending", "Pending";
        AwaitingReply = "awaiting_reply", "Awaiting Reply";
        OnHold = "on_hold", "On Hold";
        Resolved = "resolved", "Resolved";
        Closed = "closed", "Closed";
    }
);

labelled_enum!(
    /// How urgent a ticket is.
    Priority {
        Low = "low", "Low";
        Normal = "normal", "Normal";
        High = "high", "High";
        Urgent = "urgent", "Urgent";
        Critical = "critical", "Critical";
    }
);

labelled_enum!(
    /// What a staff member may do: admins also manage staff and settings.
    Role {
        Admin = "admin", "Admin";
        Agent = "agent", "Agent";
    }
);

labelled_enum!(
    /// How a ticket came in.
    Source {
        Share = "share", "Shared link";
        Portal = "portal", "Portal";
        Staff = "staff", "Staff";
        Api = "api", "API";
    }
);

labelled_enum!(
    /// Who may read a comment. Internal notes never reach a client, on any page.
    Visibility {
        Public = "public", "Reply to client";
        Internal = "internal", "Internal note";
    }
);

labelled_enum!(
    /// What a contact may do in one portal module (seed 002), in increasing order: comment =
    /// reply, create = new items (and close/reopen them), full = also edit.
    Level {
        Off = "off", "Off";
        View = "view", "View Only";
        Comment = "comment", "View & Comment";
        Create = "create", "View & Create";
        Full = "full", "Full Access";
    }
);

impl Level {
    fn rank(self) -> u8 {
        match self {
            Level::Off => 0,
            Level::View => 1,
            Level::Comment => 2,
            Level::Create => 3,
            Level::Full => 4,
        }
    }

    /// Whether this level allows at least `other`.
    pub fn at_least(self, other: Level) -> bool {
        self.rank() >= other.rank()
    }
}

labelled_enum!(
    /// Which tickets a contact sees in a portal: their own, their customer's, or their whole
    /// organisation's.
    TicketVisibility {
        Own = "own", "Own tickets only";
        Customer = "customer", "Same customer";
        Organization = "organization", "Same organisation";
    }
);

labelled_enum!(
    /// A contact's role: a manager also sees all of their customer's tickets.
    ContactRole {
        Member = "member", "Member";
        Manager = "manager", "Manager";
    }
);

labelled_enum!(
    /// Whether a contact may sign in: invited accounts have not set up access yet.
    ContactStatus {
        Active = "active", "Active";
        Invited = "invited", "Invited";
        Disabled = "disabled", "Disabled";
    }
);

/// A portal slug: 2–40 lowercase letters, digits and dashes, starting and ending with a letter
/// or digit (`acme`, `acme-support`).
pub fn valid_slug(slug: &str) -> bool {
    (2..=40).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--")
}

/// An email domain as customers list them (`acme.com`): lowercase, no `@`, at least one dot.
pub fn parse_domain(raw: &str) -> Option<String> {
    let d = raw.trim().trim_start_matches('@').to_ascii_lowercase();
    let ok = d.len() <= 253
        && d.contains('.')
        && !d.starts_with('.')
        && !d.ends_with('.')
        && !d.contains("..")
        && d.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    ok.then_some(d)
}

/// A project key as used in ticket references: 2–10 capital letters or digits, starting with a
/// letter (`ACME`, `WEB2`).
pub fn valid_project_key(key: &str) -> bool {
    (2..=10).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_uppercase())
        && key
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Splits a ticket reference `ACME-12` into key and number.
pub fn parse_ticket_ref(r: &str) -> Option<(&str, i64)> {
    let (key, number) = r.rsplit_once('-')?;
    let number: i64 = number.parse().ok().filter(|n| *n > 0)?;
    valid_project_key(key).then_some((key, number))
}

/// A plausible email address: something@something.something, no spaces, at most 254 bytes.
/// Deliverability is checked by sending, not by regex.
pub fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
}

/// A colour as `#rrggbb` (lower-case), or `None`.
pub fn parse_hex_color(raw: &str) -> Option<String> {
    let hex = raw.trim().strip_prefix('#').unwrap_or(raw.trim());
    (hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("#{}", hex.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_refs() {
        assert_eq!(parse_ticket_ref("ACME-12"), Some(("ACME", 12)));
        assert_eq!(parse_ticket_ref("WEB2-1"), Some(("WEB2", 1)));
        assert_eq!(parse_ticket_ref("acme-12"), None);
        assert_eq!(parse_ticket_ref("ACME-0"), None);
        assert_eq!(parse_ticket_ref("ACME-"), None);
        assert_eq!(parse_ticket_ref("2ACME-3"), None);
    }

    #[test]
    fn enums_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.key()), Some(*s));
        }
        assert_eq!(Status::AwaitingReply.label(), "Awaiting Reply");
        assert_eq!(Priority::parse("urgent"), Some(Priority::Urgent));
        assert_eq!(Priority::parse("URGENT"), None);
    }

    #[test]
    fn colours() {
        assert_eq!(parse_hex_color("#B45309").as_deref(), Some("#b45309"));
        assert_eq!(parse_hex_color("b45309").as_deref(), Some("#b45309"));
        assert_eq!(parse_hex_color("#b4530"), None);
        assert_eq!(parse_hex_color("red"), None);
        assert_eq!(parse_hex_color("#b45309;}body{"), None);
    }

    #[test]
    fn slugs_and_domains() {
        assert!(valid_slug("acme") && valid_slug("acme-support-2"));
        assert!(!valid_slug("Acme") && !valid_slug("-acme") && !valid_slug("a--b"));
        assert!(!valid_slug("a") && !valid_slug("acme/x") && !valid_slug("acme_x"));
        assert_eq!(parse_domain(" @Acme.COM ").as_deref(), Some("acme.com"));
        assert_eq!(parse_domain("localhost"), None);
        assert_eq!(parse_domain("a..b.com"), None);
        assert_eq!(parse_domain("a b.com"), None);
    }

    #[test]
    fn emails() {
        assert!(plausible_email("ana@example.com"));
        assert!(!plausible_email("ana@localhost"));
        assert!(!plausible_email("ana example@x.com"));
        assert!(!plausible_email("@x.com"));
    }
}
