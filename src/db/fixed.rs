//! Statements of the busiest write paths that diesel would otherwise prepare again on
//! every run, written so that each connection prepares them once.
//!
//! diesel marks every `UPDATE` it builds as not to be cached (a changeset may leave out a
//! `None` field, so the text can vary), and every `diesel::sql_query` too. Under the
//! submission load the two `UPDATE`s of a submission were 3% of the server's CPU, and the
//! feedback summaries' four `sql_query` upserts most of what an item cost more than a
//! submission (BENCHMARKS.md). The statements here have one text each, cached by a type of
//! their own ([`ClaimInvitation`], [`MarkSnapshot`], [`ClaimAndStore`]) or by their text
//! ([`WithId`], [`WithIds`]), with their values bound as usual.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Integer, Text, Timestamp};
use diesel::{QueryResult, RunQueryDsl};

/// The SQL of a statement with a type of its own (the key diesel caches it by): `$body`
/// writes it with `$s` for the statement and `$out` for diesel's pass. `Name<'_>` for a
/// type that borrows its values, `Name` for one that owns them.
macro_rules! fixed_statement {
    ($t:ident<'_>, |$s:ident, $out:ident| $body:block) => {
        fixed_statement!(@impl $t<'_>, $t<'static>, |$s, $out| $body);
    };
    ($t:ident, |$s:ident, $out:ident| $body:block) => {
        fixed_statement!(@impl $t, $t, |$s, $out| $body);
    };
    (@impl $ty:ty, $id:ty, |$s:ident, $out:ident| $body:block) => {
        impl<DB: Backend> QueryFragment<DB> for $ty
        where
            str: diesel::serialize::ToSql<Text, DB>,
            chrono::NaiveDateTime: diesel::serialize::ToSql<Timestamp, DB>,
            i32: diesel::serialize::ToSql<Integer, DB>,
            DB: diesel::sql_types::HasSqlType<Text>
                + diesel::sql_types::HasSqlType<Timestamp>
                + diesel::sql_types::HasSqlType<Integer>,
        {
            fn walk_ast<'b>(&'b self, mut $out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
                let $s = self;
                $body
                Ok(())
            }
        }

        impl QueryId for $ty {
            type QueryId = $id;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl<Conn> RunQueryDsl<Conn> for $ty {}
    };
}

/// Claims an invitation for a response: sets its submission key and the day it was
/// answered, only if no response has claimed it yet (`execute` returns 1 when this did).
pub struct ClaimInvitation<'a> {
    pub invitation: i32,
    pub key: &'a str,
    pub responded: chrono::NaiveDateTime,
}

fixed_statement!(ClaimInvitation<'_>, |s, out| {
    out.push_sql("UPDATE invitations SET submission_key = ");
    out.push_bind_param::<Text, _>(s.key)?;
    out.push_sql(", responded_at = ");
    out.push_bind_param::<Timestamp, _>(&s.responded)?;
    out.push_sql(" WHERE id = ");
    out.push_bind_param::<Integer, _>(&s.invitation)?;
    out.push_sql(" AND submission_key IS NULL");
});

/// Publishes a snapshot of a round: marks its `count` oldest unpublished responses in
/// (time, UUID) order with the snapshot's number (`crate::domain::snapshots`). One
/// statement, so the responses it picks and those it marks are the same set: marking by a
/// bound read in a statement before let a response that committed in between, with an
/// earlier time, join the snapshot on PostgreSQL (a snapshot larger than its batch).
pub struct MarkSnapshot {
    pub round: i32,
    pub snapshot: i32,
    pub count: i32,
}

fixed_statement!(MarkSnapshot, |s, out| {
    out.push_sql("UPDATE responses SET snapshot = ");
    out.push_bind_param::<Integer, _>(&s.snapshot)?;
    out.push_sql(" WHERE id IN (SELECT id FROM responses WHERE round_id = ");
    out.push_bind_param::<Integer, _>(&s.round)?;
    out.push_sql(" AND snapshot IS NULL ORDER BY submitted_at, uuid LIMIT ");
    out.push_bind_param::<Integer, _>(&s.count)?;
    out.push_sql(")");
});

/// A whole submission in one statement, for PostgreSQL (where each statement is a round
/// trip): claims the invitation as [`ClaimInvitation`] does, and only if that claimed it,
/// inserts the response and deletes the invitation's draft. Returns how many responses it
/// stored (1, or 0 when the invitation was claimed already). PostgreSQL runs every
/// data-modifying part of a `WITH` to completion, in the statement's snapshot.
pub struct ClaimAndStore<'a> {
    pub claim: ClaimInvitation<'a>,
    pub uuid: &'a str,
    pub round: i32,
    pub survey: &'a str,
    pub survey_version: i32,
    pub org_type: &'a str,
    pub language: &'a str,
    pub digest: &'a str,
    pub at: chrono::NaiveDateTime,
    pub answers: &'a str,
    pub scores: &'a str,
}

fixed_statement!(ClaimAndStore<'_>, |s, out| {
    out.push_sql("WITH claimed AS (");
    s.claim.walk_ast(out.reborrow())?;
    out.push_sql(
        " RETURNING id), stored AS (INSERT INTO responses (uuid, round_id, survey_id, \
         survey_version, org_type, language, answers_digest, submitted_at, answers, scores) \
         SELECT ",
    );
    out.push_bind_param::<Text, _>(s.uuid)?;
    out.push_sql(", ");
    out.push_bind_param::<Integer, _>(&s.round)?;
    out.push_sql(", ");
    out.push_bind_param::<Text, _>(s.survey)?;
    out.push_sql(", ");
    out.push_bind_param::<Integer, _>(&s.survey_version)?;
    for text in [s.org_type, s.language, s.digest] {
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(text)?;
    }
    out.push_sql(", ");
    out.push_bind_param::<Timestamp, _>(&s.at)?;
    for text in [s.answers, s.scores] {
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(text)?;
    }
    out.push_sql(
        " FROM claimed RETURNING id), cleared AS (DELETE FROM response_drafts \
         WHERE invitation_id = ",
    );
    out.push_bind_param::<Integer, _>(&s.claim.invitation)?;
    out.push_sql(" AND EXISTS (SELECT 1 FROM stored)) SELECT count(*) FROM stored");
});

impl diesel::query_builder::Query for ClaimAndStore<'_> {
    type SqlType = diesel::sql_types::BigInt;
}

/// A statement written as text whose parameters are all the same integer (an id): `parts`
/// are the text between the parameters. Cached by its text, unlike `diesel::sql_query`,
/// which prepares its statement again on every run.
pub struct WithId<'a> {
    pub parts: &'a [String],
    pub id: i32,
}

impl<DB: Backend> QueryFragment<DB> for WithId<'_>
where
    i32: diesel::serialize::ToSql<Integer, DB>,
    DB: diesel::sql_types::HasSqlType<Integer>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                out.push_bind_param::<Integer, _>(&self.id)?;
            }
            out.push_sql(part);
        }
        Ok(())
    }
}

/// Keyed by the text (no type of its own).
impl QueryId for WithId<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Conn> RunQueryDsl<Conn> for WithId<'_> {}

/// PostgreSQL: a statement written as text whose parameters are all the same array of
/// integers (ids): `parts` are the text between the parameters. Cached by its text.
pub struct WithIds<'a> {
    pub parts: &'a [String],
    pub ids: &'a [i32],
}

impl QueryFragment<diesel::pg::Pg> for WithIds<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                out.push_bind_param::<diesel::sql_types::Array<Integer>, _>(self.ids)?;
            }
            out.push_sql(part);
        }
        Ok(())
    }
}

/// Keyed by the text (no type of its own).
impl QueryId for WithIds<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Conn> RunQueryDsl<Conn> for WithIds<'_> {}

/// A statement written as text whose parameters are all the same text (on SQLite a list of
/// ids as a JSON array, read with `json_each`): `parts` are the text between the
/// parameters. Cached by its text.
pub struct WithText<'a> {
    pub parts: &'a [String],
    pub text: &'a str,
}

impl<DB: Backend> QueryFragment<DB> for WithText<'_>
where
    str: diesel::serialize::ToSql<Text, DB>,
    DB: diesel::sql_types::HasSqlType<Text>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                out.push_bind_param::<Text, _>(self.text)?;
            }
            out.push_sql(part);
        }
        Ok(())
    }
}

/// Keyed by the text (no type of its own).
impl QueryId for WithText<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Conn> RunQueryDsl<Conn> for WithText<'_> {}
