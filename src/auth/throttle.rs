//! Throttling: at most `max` counted events per scope within a sliding window. Used for failed
//! sign-ins (per account and per IP) and share-link submissions (per IP and link).

use crate::error::Result;
use crate::store::{self, Reader, Tx};

/// A limit: `max` events per `window_secs`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: u32,
    pub window_secs: i64,
}

/// `Some(seconds)` until `scope` may act again when it has used up `limit`, else `None`.
pub fn blocked_for(r: &impl Reader, scope: &str, limit: Limit, now: i64) -> Result<Option<i64>> {
    // The limit is reached when the max-th most recent event is still inside the window; it
    // lifts when that event leaves it.
    let nth = store::throttle::nth_newest_since(r, scope, now - limit.window_secs, limit.max)?;
    Ok(nth.map(|at| (at + limit.window_secs - now).max(1)))
}

/// Counts one event against `scope`; returns its id.
pub fn record(tx: &Tx<'_>, scope: &str) -> Result<i64> {
    store::throttle::record(tx, scope)
}

/// The part of a client address throttles count by: the whole IPv4 address, but an IPv6 /64 —
/// one subscriber usually holds a whole /64 and could otherwise rotate through it.
pub fn client_key(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().expect("checked").to_string(),
        v4 => v4.to_string(),
    }
}

/// "5 minutes", rounded up, for "try again in …" messages.
pub fn minutes_text(secs: i64) -> String {
    let minutes = (secs + 59) / 60;
    if minutes == 1 {
        "1 minute".into()
    } else {
        format!("{minutes} minutes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_keys() {
        assert_eq!(client_key("203.0.113.9".parse().unwrap()), "203.0.113.9");
        assert_eq!(
            client_key("2001:db8:1:2:aaaa::1".parse().unwrap()),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            client_key("2001:db8:1:2:bbbb::7".parse().unwrap()),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            client_key("::ffff:203.0.113.9".parse().unwrap()),
            "203.0.113.9"
        );
    }

    #[test]
    fn minutes_round_up() {
        assert_eq!(minutes_text(1), "1 minute");
        assert_eq!(minutes_text(61), "2 minutes");
        assert_eq!(minutes_text(900), "15 minutes");
    }
}
