//! A round's response rate split by membership: how many of the invited were members,
//! observers or outside the register (their standing when invited), and how many of each
//! answered. Counts of invitations only, never scores: nothing here is joined to a
//! response, and scores are never broken down by membership.
//!
//! While a round is open, "responded" elsewhere counts only the responses its snapshots
//! have published (`crate::domain::snapshots`), and published responses carry no
//! invitation; so the split gives `responded` and `rate` only once the round is closed
//! (null before), and an open round's progress never reveals an unpublished answer.

use crate::db::models::Round;
use crate::db::schema::invitations;
use crate::db::DbConnection;
use crate::kernel::time::now;
use crate::kernel::vocab::RoundState;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

/// The invitations of one standing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MembershipProgress {
    /// member, observer, or not_registered (not in the operation's register when invited).
    pub membership: String,
    pub invited: i64,
    /// Null while the round is open.
    pub responded: Option<i64>,
    /// 0–1; null while the round is open.
    pub rate: Option<f64>,
}

/// The name of invitations without a standing.
pub const NOT_REGISTERED: &str = "not_registered";

/// Members, observers and the rest, always in that order (zeros included).
pub fn by_membership(
    conn: &mut DbConnection,
    round: &Round,
) -> QueryResult<Vec<MembershipProgress>> {
    let rows: Vec<(Option<String>, bool)> = invitations::table
        .filter(invitations::round_id.eq(round.id))
        .select((
            invitations::membership,
            invitations::submission_key.is_not_null(),
        ))
        .load(conn)?;
    let closed = round.effective_state(now()) == RoundState::Closed;
    Ok(["member", "observer", NOT_REGISTERED]
        .into_iter()
        .map(|standing| {
            let of: Vec<bool> = rows
                .iter()
                .filter(|(m, _)| m.as_deref().unwrap_or(NOT_REGISTERED) == standing)
                .map(|(_, answered)| *answered)
                .collect();
            let invited = of.len() as i64;
            let responded = of.iter().filter(|a| **a).count() as i64;
            MembershipProgress {
                membership: standing.to_string(),
                invited,
                responded: closed.then_some(responded),
                rate: closed.then(|| {
                    if invited > 0 {
                        responded as f64 / invited as f64
                    } else {
                        0.0
                    }
                }),
            }
        })
        .collect())
}
