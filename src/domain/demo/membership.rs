//! The demo world's membership registers: members, observers and a former member in two
//! operations, some of them onboarded, and this year's self-assessments of a few members.
//! Seeded once per operation (a register that has entries is left alone).

use crate::db::models::{self, Operation};
use crate::db::schema::{memberships, onboarding_ticks};
use crate::db::DbConnection;
use crate::domain::membership::assessments::{self, AnswerView, Answers};
use crate::domain::membership::commitments::{COMMITMENTS, ONBOARDING};
use crate::domain::membership::register;
use crate::kernel::time::now;
use crate::kernel::vocab::{CommitmentRating, MembershipLevel, MembershipStatus};
use anyhow::Context;
use chrono::{Datelike, Duration};
use diesel::prelude::*;

/// Organization, type, status, level, days a member, focal point's mailbox.
type Entry = (
    &'static str,
    &'static str,
    MembershipStatus,
    MembershipLevel,
    i64,
    &'static str,
);

const YEMEN: &[Entry] = &[
    (
        "UNHCR",
        "un",
        MembershipStatus::Member,
        MembershipLevel::National,
        1400,
        "shelter.ye",
    ),
    (
        "IOM",
        "un",
        MembershipStatus::Member,
        MembershipLevel::National,
        1200,
        "dtm.ye",
    ),
    (
        "International Relief Alliance 1",
        "ingo",
        MembershipStatus::Member,
        MembershipLevel::National,
        700,
        "ira1",
    ),
    (
        "International Relief Alliance 2",
        "ingo",
        MembershipStatus::Member,
        MembershipLevel::Subnational,
        90,
        "ira2",
    ),
    (
        "Yemen Community Development Association 1",
        "nngo",
        MembershipStatus::Member,
        MembershipLevel::Subnational,
        40,
        "ycda1",
    ),
    (
        "Yemen Community Development Association 2",
        "nngo",
        MembershipStatus::Member,
        MembershipLevel::Subnational,
        15,
        "ycda2",
    ),
    (
        "Yemen Ministry of Public Works",
        "government",
        MembershipStatus::Member,
        MembershipLevel::National,
        900,
        "mpw",
    ),
    (
        "Yemen Red Cross / Red Crescent Society",
        "rcrc",
        MembershipStatus::Observer,
        MembershipLevel::National,
        800,
        "rcrc",
    ),
    (
        "ECHO",
        "donor",
        MembershipStatus::Observer,
        MembershipLevel::National,
        600,
        "echo.ye",
    ),
    (
        "Humanitarian Research Institute",
        "academic",
        MembershipStatus::Observer,
        MembershipLevel::National,
        200,
        "hri",
    ),
    (
        "International Relief Alliance 3",
        "ingo",
        MembershipStatus::Former,
        MembershipLevel::National,
        60,
        "ira3",
    ),
];

const SUDAN: &[Entry] = &[
    (
        "UNHCR",
        "un",
        MembershipStatus::Member,
        MembershipLevel::National,
        1000,
        "shelter.sd",
    ),
    (
        "International Relief Alliance 1",
        "ingo",
        MembershipStatus::Member,
        MembershipLevel::National,
        500,
        "ira1.sd",
    ),
    (
        "Sudan Community Development Association 1",
        "nngo",
        MembershipStatus::Member,
        MembershipLevel::Subnational,
        20,
        "scda1",
    ),
    (
        "Sudan Red Cross / Red Crescent Society",
        "rcrc",
        MembershipStatus::Observer,
        MembershipLevel::National,
        700,
        "rcrc.sd",
    ),
    (
        "USAID BHA",
        "donor",
        MembershipStatus::Observer,
        MembershipLevel::National,
        300,
        "bha.sd",
    ),
];

/// Seeds the registers of the demo's shelter operations in Yemen and Sudan.
pub fn seed(conn: &mut DbConnection) -> anyhow::Result<()> {
    for (slug, entries) in [("shelter-yemen", YEMEN), ("shelter-sudan", SUDAN)] {
        let op = models::operation_by_slug(conn, slug)?.context("demo operation")?;
        let existing: i64 = memberships::table
            .filter(memberships::operation_id.eq(op.id))
            .count()
            .get_result(conn)?;
        if existing == 0 {
            seed_one(conn, &op, entries)?;
        }
    }
    Ok(())
}

fn seed_one(conn: &mut DbConnection, op: &Operation, entries: &[Entry]) -> anyhow::Result<()> {
    let today = now().date();
    for (i, (name, t, status, level, days, mailbox)) in entries.iter().enumerate() {
        let org = match models::organization_by_name(conn, name)? {
            Some(o) => o,
            None => models::insert_organization(conn, name, t)?,
        };
        let values = register::Values {
            status: *status,
            level: *level,
            since: today - Duration::days(*days),
            focal_point_email: Some(format!("focal.point@{mailbox}.demo.example")),
        };
        let m = register::insert_values(conn, op, &org, &values, None)?;
        // Established members are onboarded; the newest are part way through.
        let ticked = if *days > 60 {
            ONBOARDING.len()
        } else {
            i % 3 + 1
        };
        for item in ONBOARDING.iter().take(ticked) {
            diesel::insert_into(onboarding_ticks::table)
                .values((
                    onboarding_ticks::membership_id.eq(m.id),
                    onboarding_ticks::item.eq(item.id),
                    onboarding_ticks::ticked_by.eq(None::<i32>),
                    onboarding_ticks::ticked_at.eq(now() - Duration::days((*days).min(30))),
                ))
                .execute(conn)?;
        }
        // This year's statements of most members: older members meet more.
        if *status == MembershipStatus::Member && i % 4 != 3 {
            let answers: Answers = COMMITMENTS
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    let rating = match (k + i * 5 + *days as usize / 100) % 7 {
                        0 => CommitmentRating::NotYet,
                        1 | 2 => CommitmentRating::Partly,
                        _ => CommitmentRating::Meets,
                    };
                    let comment = match rating {
                        CommitmentRating::NotYet => "We plan to address this in the coming months.",
                        _ => "",
                    };
                    (
                        c.id.to_string(),
                        AnswerView {
                            rating,
                            comment: comment.to_string(),
                        },
                    )
                })
                .collect();
            let via = if i % 2 == 0 { "link" } else { "coordinator" };
            assessments::store(conn, &m, today.year(), &answers, via, None)?;
        }
    }
    Ok(())
}
