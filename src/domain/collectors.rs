//! Collector accounts: how field teams send feedback from ODK Collect, KoboCollect or Enketo
//! (OpenRosa) without a person's account, the way ODK Central's app users work.
//!
//! A coordinator of an operation (or an admin) makes one per device or team, with a name
//! and the channel its items are logged under (`helpdesk` unless said otherwise). Its
//! token (256 random bits, stored only as its SHA-256 digest) is the last part of the
//! server address the app is given (`…/openrosa/c/{token}`), because those apps send no
//! bearer headers; it is shown once, with the settings QR code the app scans. A revoked
//! token stops working at once (403). The token gives nothing but the operation's feedback
//! form and its submission address.

use crate::db::models::{self, Collector, Operation};
use crate::db::schema::collectors;
use crate::db::{write_tx, DbConnection};
use crate::domain::feedback::CHANNELS;
use crate::kernel::access::Actor;
use crate::kernel::error::{fields_result, AppError, Fields};
use crate::kernel::secrets::{hash_token, random_token};
use crate::kernel::time::{now, rfc3339};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// The channel of a collector's items unless its maker chose another.
pub const DEFAULT_CHANNEL: &str = "helpdesk";
/// Random bytes of a collector token (256 bits).
const TOKEN_BYTES: usize = 32;
/// Where OpenRosa clients are pointed, under the server's public address.
pub const PATH_PREFIX: &str = "/openrosa/c/";

/// A collector account to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectorBody {
    /// Who or what collects, e.g. `Help desk, Al Buraiqeh distribution site`.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// The channel its items are logged under: helpdesk (default), hotline, sms, box,
    /// email or web.
    #[serde(default)]
    pub channel: Option<String>,
}

/// A collector account as listed: never its token.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollectorView {
    pub id: i32,
    pub name: String,
    pub channel: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC; absent if it never sent anything.
    pub last_used_at: Option<String>,
    /// RFC 3339, UTC; absent unless revoked.
    pub revoked_at: Option<String>,
    pub active: bool,
}

impl CollectorView {
    pub fn of(c: &Collector) -> CollectorView {
        CollectorView {
            id: c.id,
            name: c.name.clone(),
            channel: c.channel.clone(),
            created_at: rfc3339(c.created_at),
            last_used_at: c.last_used_at.map(rfc3339),
            revoked_at: c.revoked_at.map(rfc3339),
            active: c.revoked_at.is_none(),
        }
    }
}

/// A new collector account with what the app needs: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedCollector {
    #[serde(flatten)]
    pub collector: CollectorView,
    /// The server address to give ODK Collect (Settings → Project → Server); it holds the
    /// token, so it is a secret.
    pub server_url: String,
    /// The text of ODK Collect's settings QR code (zlib-compressed JSON, base64).
    pub settings: String,
    /// That QR code as an SVG document.
    pub qr_svg: String,
}

fn operation_to_manage(
    conn: &mut DbConnection,
    actor: &Actor,
    slug: &str,
) -> Result<Operation, AppError> {
    let op = models::operation_by_slug(conn, slug)?
        .ok_or_else(|| AppError::not_found(format!("no operation with slug {slug:?}")))?;
    if !actor.can_manage_operation(&op) {
        return Err(AppError::Forbidden(
            "only the operation's coordinators and admins manage its collectors".into(),
        ));
    }
    Ok(op)
}

/// Makes a collector account for operation `slug`. `base_url` is the server's public
/// address (no trailing slash).
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    slug: &str,
    body: CollectorBody,
    base_url: &str,
) -> Result<CreatedCollector, AppError> {
    let op = operation_to_manage(conn, actor, slug)?;
    let mut fields = Fields::new();
    let name = body.name.trim().to_string();
    if let Err(e) = crate::kernel::text::check_name(&name, 100) {
        fields.insert("name".into(), e);
    }
    let channel = body
        .channel
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .unwrap_or(DEFAULT_CHANNEL)
        .to_string();
    if !CHANNELS.contains(&channel.as_str()) {
        fields.insert(
            "channel".into(),
            format!("must be one of {}", CHANNELS.join(", ")),
        );
    }
    fields_result(fields)?;
    let token = random_token(TOKEN_BYTES);
    let at = now();
    let row: Collector = write_tx(conn, |conn| {
        let id: i32 = diesel::insert_into(collectors::table)
            .values((
                collectors::operation_id.eq(op.id),
                collectors::name.eq(&name),
                collectors::channel.eq(&channel),
                collectors::token_hash.eq(hash_token(&token)),
                collectors::created_by.eq(Some(actor.id)),
                collectors::created_at.eq(at),
            ))
            .returning(collectors::id)
            .get_result(conn)?;
        models::audit(
            conn,
            Some(actor.id),
            "collector.create",
            &format!("collector:{id}"),
            json!({"operation": op.slug, "channel": channel}),
        )?;
        collectors::table
            .find(id)
            .select(Collector::as_select())
            .first(conn)
    })?;
    let server_url = format!("{base_url}{PATH_PREFIX}{token}");
    let settings = crate::render::qr::collect_settings(&server_url, &op.name);
    let qr_svg = crate::render::qr::svg(&settings).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!("the settings code does not fit a QR code"))
    })?;
    Ok(CreatedCollector {
        collector: CollectorView::of(&row),
        server_url,
        settings,
        qr_svg,
    })
}

/// The collector accounts of operation `slug`, newest first.
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    slug: &str,
) -> Result<Vec<CollectorView>, AppError> {
    let op = operation_to_manage(conn, actor, slug)?;
    let rows: Vec<Collector> = collectors::table
        .filter(collectors::operation_id.eq(op.id))
        .order(collectors::id.desc())
        .select(Collector::as_select())
        .load(conn)?;
    Ok(rows.iter().map(CollectorView::of).collect())
}

/// Revokes collector `id` of operation `slug` (404 for one of another operation).
pub fn revoke(
    conn: &mut DbConnection,
    actor: &Actor,
    slug: &str,
    id: i32,
) -> Result<CollectorView, AppError> {
    let op = operation_to_manage(conn, actor, slug)?;
    write_tx(conn, |conn| {
        let c: Collector = collectors::table
            .find(id)
            .filter(collectors::operation_id.eq(op.id))
            .select(Collector::as_select())
            .first(conn)
            .optional()?
            .ok_or_else(|| AppError::not_found(format!("no collector {id} in {slug:?}")))?;
        if c.revoked_at.is_none() {
            diesel::update(collectors::table.find(id))
                .set(collectors::revoked_at.eq(Some(now())))
                .execute(conn)?;
            models::audit(
                conn,
                Some(actor.id),
                "collector.revoke",
                &format!("collector:{id}"),
                json!({"operation": op.slug}),
            )?;
        }
        let c: Collector = collectors::table
            .find(id)
            .select(Collector::as_select())
            .first(conn)?;
        Ok(CollectorView::of(&c))
    })
}

/// The active collector holding `token`, with its operation. Unknown and revoked tokens
/// get the same 403 (a token is never confirmed to exist).
pub fn authenticate(
    conn: &mut DbConnection,
    token: &str,
) -> Result<(Collector, Operation), AppError> {
    let refused = || {
        AppError::Forbidden(
            "this collection address is not valid (revoked or mistyped): ask the operation's coordinator for a new QR code".into(),
        )
    };
    if token.len() > 100 {
        return Err(refused());
    }
    let c: Collector = collectors::table
        .filter(collectors::token_hash.eq(hash_token(token)))
        .filter(collectors::revoked_at.is_null())
        .select(Collector::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(refused)?;
    let op = crate::db::schema::operations::table
        .find(c.operation_id)
        .select(Operation::as_select())
        .first(conn)?;
    Ok((c, op))
}

/// Notes that collector `id` sent something now.
pub fn touch(conn: &mut DbConnection, id: i32) -> QueryResult<()> {
    diesel::update(collectors::table.find(id))
        .set(collectors::last_used_at.eq(Some(now())))
        .execute(conn)
        .map(|_| ())
}
