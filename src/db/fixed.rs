//! `UPDATE` statements of the busiest write paths, written out so that each connection
//! prepares them once.
//!
//! diesel marks every `UPDATE` it builds as not to be cached (a changeset may leave out a
//! `None` field, so the text can vary), and prepares it again on every run: under the
//! submission load that was 3% of the server's CPU (BENCHMARKS.md). The statements here have
//! one text each, a type of their own as the cache key, and their values bound as usual.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Integer, Text, Timestamp};
use diesel::{QueryResult, RunQueryDsl};

/// Claims an invitation for a response: sets its submission key and the day it was
/// answered, only if no response has claimed it yet (`execute` returns 1 when this did).
pub struct ClaimInvitation<'a> {
    pub invitation: i32,
    pub key: &'a str,
    pub responded: chrono::NaiveDateTime,
}

impl<DB: Backend> QueryFragment<DB> for ClaimInvitation<'_>
where
    str: diesel::serialize::ToSql<Text, DB>,
    chrono::NaiveDateTime: diesel::serialize::ToSql<Timestamp, DB>,
    i32: diesel::serialize::ToSql<Integer, DB>,
    DB: diesel::sql_types::HasSqlType<Text>
        + diesel::sql_types::HasSqlType<Timestamp>
        + diesel::sql_types::HasSqlType<Integer>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE invitations SET submission_key = ");
        out.push_bind_param::<Text, _>(self.key)?;
        out.push_sql(", responded_at = ");
        out.push_bind_param::<Timestamp, _>(&self.responded)?;
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<Integer, _>(&self.invitation)?;
        out.push_sql(" AND submission_key IS NULL");
        Ok(())
    }
}

impl QueryId for ClaimInvitation<'_> {
    type QueryId = ClaimInvitation<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Conn> RunQueryDsl<Conn> for ClaimInvitation<'_> {}

/// Publishes a snapshot of a round: marks its unpublished responses up to `(at, uuid)` in
/// (time, UUID) order with the snapshot's number (`crate::domain::snapshots`).
pub struct MarkSnapshot<'a> {
    pub round: i32,
    pub snapshot: i32,
    pub at: chrono::NaiveDateTime,
    pub uuid: &'a str,
}

impl<DB: Backend> QueryFragment<DB> for MarkSnapshot<'_>
where
    str: diesel::serialize::ToSql<Text, DB>,
    chrono::NaiveDateTime: diesel::serialize::ToSql<Timestamp, DB>,
    i32: diesel::serialize::ToSql<Integer, DB>,
    DB: diesel::sql_types::HasSqlType<Text>
        + diesel::sql_types::HasSqlType<Timestamp>
        + diesel::sql_types::HasSqlType<Integer>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE responses SET snapshot = ");
        out.push_bind_param::<Integer, _>(&self.snapshot)?;
        out.push_sql(" WHERE round_id = ");
        out.push_bind_param::<Integer, _>(&self.round)?;
        out.push_sql(" AND snapshot IS NULL AND (submitted_at < ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(" OR (submitted_at = ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(" AND uuid <= ");
        out.push_bind_param::<Text, _>(self.uuid)?;
        out.push_sql("))");
        Ok(())
    }
}

impl QueryId for MarkSnapshot<'_> {
    type QueryId = MarkSnapshot<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Conn> RunQueryDsl<Conn> for MarkSnapshot<'_> {}

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
