//! A small fixed-window rate limiter keyed by client address. Per instance: with several
//! instances behind a load balancer each enforces the limit on the traffic it sees.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimiter {
    per_minute: u32,
    window: Duration,
    state: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    /// `per_minute == 0` turns the limit off.
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            window: Duration::from_secs(60),
            state: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request; `false` when the address is over its limit for this window.
    pub fn check(&self, addr: IpAddr) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let now = Instant::now();
        let mut map = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = map.entry(addr).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.per_minute
    }
}

/// The client address of a request (the TCP peer; proxies are not trusted).
pub fn client_ip(req: &actix_web::HttpRequest) -> IpAddr {
    req.peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_address_and_can_be_off() {
        let l = RateLimiter::new(3);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(l.check(a) && l.check(a) && l.check(a));
        assert!(!l.check(a));
        assert!(l.check(b));
        let off = RateLimiter::new(0);
        assert!((0..1000).all(|_| off.check(a)));
    }
}
