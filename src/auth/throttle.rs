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
    let (count, oldest) = store::throttle::count_since(r, scope, now - limit.window_secs)?;
    if count < limit.max {
        return Ok(None);
    }
    let until = oldest.unwrap_or(now) + limit.window_secs;
    Ok(Some((until - now).max(1)))
}

/// Counts one event against `scope`.
pub fn record(tx: &Tx<'_>, scope: &str) -> Result<()> {
    store::throttle::record(tx, scope)
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
    fn minutes_round_up() {
        assert_eq!(minutes_text(1), "1 minute");
        assert_eq!(minutes_text(61), "2 minutes");
        assert_eq!(minutes_text(900), "15 minutes");
    }
}
