//! Sign-in throttling that slows a password guesser without locking the owner out and
//! without telling which accounts exist.
//!
//! - Every count is keyed by the normalised email as typed, whether or not an account has
//!   it, so an unknown address is throttled, and answered, exactly like a real one.
//! - Failures are counted per email *and* client address: after [`PAIR_LIMIT`] failures in
//!   a row that pair waits one minute, doubling with each further failure up to an hour.
//!   Someone guessing from elsewhere does not lock the owner's own address.
//! - Failures of one email from all addresses together are counted over an hour: past
//!   [`ACCOUNT_LIMIT`], only a browser that has signed in to that account before (it holds
//!   a signed device mark) may keep trying; a distributed guesser is stopped, the owner is
//!   not.
//! - A successful sign-in clears the counts of that email.
//!
//! The counts are in memory, per server process: a restart forgets them (the per-address
//! request limit in `web::ratelimit` still applies).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures in a row from one address before that address waits.
pub const PAIR_LIMIT: u32 = 5;
/// Failures of one email from all addresses within [`ACCOUNT_WINDOW`] before only known
/// devices may try.
pub const ACCOUNT_LIMIT: u32 = 20;
pub const ACCOUNT_WINDOW: Duration = Duration::from_secs(3600);
const LONGEST_WAIT: Duration = Duration::from_secs(3600);
/// Entries kept before old ones are swept.
const SWEEP_AT: usize = 100_000;

/// Why a sign-in attempt is refused before its password is even checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// This email from this address failed too often; wait this long.
    FromHere(Duration),
    /// This email failed too often from many places; only a known device may try now.
    UnknownDevice,
}

impl Refusal {
    /// The sentence shown to the person: the same whether or not the account exists.
    pub fn message(&self) -> String {
        match self {
            Refusal::FromHere(wait) => {
                let minutes = wait.as_secs().div_ceil(60).max(1);
                format!(
                    "sign-in for this email from this address is locked after repeated \
                     failures; try again in {minutes} minute(s)"
                )
            }
            Refusal::UnknownDevice => "sign-in for this email is locked after many failures \
                 from several places; sign in from a browser that has signed in to it before, \
                 or try again in an hour"
                .to_string(),
        }
    }
}

#[derive(Default)]
struct Pair {
    failures: u32,
    locked_until: Option<Instant>,
}

struct Account {
    since: Instant,
    failures: u32,
}

#[derive(Default)]
struct Counts {
    pairs: HashMap<(String, String), Pair>,
    accounts: HashMap<String, Account>,
}

/// The throttle, shared by the sign-in routes of one server.
#[derive(Default)]
pub struct Throttle {
    counts: Mutex<Counts>,
}

/// The key an email is counted under: trimmed and lowercased.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Throttle {
    pub fn new() -> Self {
        Self::default()
    }

    /// May `email` try a password from `address` now? `known_device`: the request holds
    /// this account's device mark.
    pub fn check(
        &self,
        email: &str,
        address: &str,
        known_device: bool,
        now: Instant,
    ) -> Result<(), Refusal> {
        let key = email_key(email);
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(until) = counts
            .pairs
            .get(&(key.clone(), address.to_string()))
            .and_then(|p| p.locked_until)
        {
            if until > now {
                return Err(Refusal::FromHere(until - now));
            }
        }
        if !known_device {
            if let Some(a) = counts.accounts.get(&key) {
                if now.duration_since(a.since) < ACCOUNT_WINDOW && a.failures >= ACCOUNT_LIMIT {
                    return Err(Refusal::UnknownDevice);
                }
            }
        }
        Ok(())
    }

    /// Counts a wrong password (or an unknown email).
    pub fn failed(&self, email: &str, address: &str, now: Instant) {
        let key = email_key(email);
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.pairs.len() + counts.accounts.len() > SWEEP_AT {
            sweep(&mut counts, now);
        }
        let pair = counts
            .pairs
            .entry((key.clone(), address.to_string()))
            .or_default();
        pair.failures += 1;
        if pair.failures >= PAIR_LIMIT {
            let doublings = (pair.failures - PAIR_LIMIT).min(6);
            let wait = (Duration::from_secs(60) * 2u32.pow(doublings)).min(LONGEST_WAIT);
            pair.locked_until = Some(now + wait);
        }
        let account = counts.accounts.entry(key).or_insert(Account {
            since: now,
            failures: 0,
        });
        if now.duration_since(account.since) >= ACCOUNT_WINDOW {
            *account = Account {
                since: now,
                failures: 0,
            };
        }
        account.failures += 1;
    }

    /// A successful sign-in: the email's counts start again.
    pub fn succeeded(&self, email: &str) {
        let key = email_key(email);
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.pairs.retain(|(k, _), _| *k != key);
        counts.accounts.remove(&key);
    }
}

fn sweep(counts: &mut Counts, now: Instant) {
    counts.pairs.retain(|_, p| {
        p.locked_until.is_some_and(|u| u > now) || p.failures > 0 && p.locked_until.is_none()
    });
    counts
        .accounts
        .retain(|_, a| now.duration_since(a.since) < ACCOUNT_WINDOW);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guesser_elsewhere_does_not_lock_the_owner_out() {
        let t = Throttle::new();
        let now = Instant::now();
        for _ in 0..PAIR_LIMIT {
            assert!(t.check("Owner@x.org", "10.0.0.9", false, now).is_ok());
            t.failed("Owner@x.org", "10.0.0.9", now);
        }
        assert!(matches!(
            t.check("owner@x.org", "10.0.0.9", false, now),
            Err(Refusal::FromHere(_))
        ));
        assert!(t.check("owner@x.org", "10.0.0.1", false, now).is_ok());
        // The wait runs out, and doubles with the next failure.
        let later = now + Duration::from_secs(61);
        assert!(t.check("owner@x.org", "10.0.0.9", false, later).is_ok());
        t.failed("owner@x.org", "10.0.0.9", later);
        match t.check("owner@x.org", "10.0.0.9", false, later) {
            Err(Refusal::FromHere(w)) => assert!(w > Duration::from_secs(100), "{w:?}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn many_places_stop_unknown_devices_only() {
        let t = Throttle::new();
        let now = Instant::now();
        for i in 0..ACCOUNT_LIMIT {
            t.failed("a@x.org", &format!("10.0.1.{}", i / 4), now);
        }
        assert_eq!(
            t.check("a@x.org", "10.0.9.9", false, now),
            Err(Refusal::UnknownDevice)
        );
        assert!(t.check("a@x.org", "10.0.9.9", true, now).is_ok());
        assert!(t
            .check("a@x.org", "10.0.9.9", false, now + ACCOUNT_WINDOW)
            .is_ok());
        t.succeeded("a@x.org");
        assert!(t.check("a@x.org", "10.0.1.0", false, now).is_ok());
    }
}
