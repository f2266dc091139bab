//! Expressions parsed once per thread: checking a response evaluates each question's
//! `relevant`, `constraint`, `calculation` and `choice_filter`, and parsing the same text
//! again for every response was a tenth of a submission's CPU time (BENCHMARKS.md).
//!
//! The cache is keyed by the expression's text and kind, so it needs no invalidation: a
//! survey edited or uploaded again brings new texts, and the same text always parses the
//! same way. It holds at most [`CAPACITY`] texts per thread and starts again when full,
//! so surveys uploaded over months cannot grow it without bound.

use super::expr::{self, Expr, ParseError};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// The most expression texts a thread keeps parsed.
pub const CAPACITY: usize = 4096;

type Parsed = Result<Rc<Expr>, ParseError>;

/// One map per way of parsing (a bare name means something else in a `choice_filter`).
#[derive(Default)]
struct Cache {
    expressions: HashMap<Box<str>, Parsed>,
    choice_filters: HashMap<Box<str>, Parsed>,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// [`expr::parse`] of `src`, from this thread's cache when it was parsed before.
pub fn expression(src: &str) -> Parsed {
    CACHE.with(|c| cached(&mut c.borrow_mut().expressions, src, expr::parse))
}

/// [`expr::parse_choice_filter`] of `src`, from this thread's cache when it was parsed
/// before.
pub fn choice_filter(src: &str) -> Parsed {
    CACHE.with(|c| {
        cached(
            &mut c.borrow_mut().choice_filters,
            src,
            expr::parse_choice_filter,
        )
    })
}

fn cached(
    map: &mut HashMap<Box<str>, Parsed>,
    src: &str,
    parse: fn(&str) -> Result<Expr, ParseError>,
) -> Parsed {
    if let Some(hit) = map.get(src) {
        return hit.clone();
    }
    let parsed = parse(src).map(Rc::new);
    if map.len() >= CAPACITY {
        map.clear();
    }
    map.insert(src.into(), parsed.clone());
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_once_and_keeps_the_two_kinds_apart() {
        let a = expression("${age} > 17").unwrap();
        let b = expression("${age} > 17").unwrap();
        assert!(
            Rc::ptr_eq(&a, &b),
            "the second call is served from the cache"
        );
        assert_eq!(*a, expr::parse("${age} > 17").unwrap());
        // The same text as a choice filter: a bare name is a choice column there.
        let f = choice_filter("region = ${region}").unwrap();
        assert_eq!(*f, expr::parse_choice_filter("region = ${region}").unwrap());
        assert_ne!(
            *f,
            expr::parse("region = ${region}").unwrap_or(Expr::Bool(false))
        );
        // Errors are kept too, with their column.
        let e = expression("1 +").unwrap_err();
        assert_eq!(expression("1 +").unwrap_err(), e);
    }

    #[test]
    fn a_full_cache_starts_again() {
        for i in 0..CAPACITY + 10 {
            expression(&format!("{i} > 1")).unwrap();
        }
        CACHE.with(|c| assert!(c.borrow().expressions.len() <= CAPACITY));
        assert_eq!(*expression("0 > 1").unwrap(), expr::parse("0 > 1").unwrap());
    }
}
