//! The OData v4 feed (JSON) under `/odata`: one service per round, for Power BI's and
//! Excel's "OData feed" connectors. What it serves and which query options it takes:
//! `crate::domain::exports::odata`. Credentials: `Authorization: Bearer <api token>`, or
//! Basic with the API token as the password (a 401 asks for Basic, so the connectors
//! prompt for it).

use crate::domain::exports::odata::{self, Query, Set};
use crate::domain::rounds::manage::{round_for, Access};
use crate::kernel::error::AppError;
use crate::web::auth::CurrentUser;
use crate::web::State;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

crate::web::routes::route_table! {
    "/rounds/{id}" => { GET service },
    "/rounds/{id}/{set}" => { GET set },
    "/rounds/{id}/{set}/$count" => { GET count },
}

const JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true";

/// An error in OData's JSON shape (`{"error": {"code", "message", "target", "details"}}`),
/// which the connectors show; `target` names the query option or parameter at fault.
fn odata_error(e: &AppError) -> HttpResponse {
    let details: Vec<serde_json::Value> = e
        .fields()
        .iter()
        .map(|(f, problem)| serde_json::json!({"code": e.code(), "target": f, "message": problem}))
        .collect();
    let mut error = serde_json::json!({"code": e.code(), "message": e.client_message()});
    if let Some((f, problem)) = e.fields().iter().next() {
        error["target"] = f.clone().into();
        error["message"] = format!("{f}: {problem}").into();
        error["details"] = details.into();
    }
    HttpResponse::build(e.status_code()).json(serde_json::json!({ "error": error }))
}

/// The reply for `result`: errors in OData's shape, a 401 with the Basic challenge.
fn reply(result: Result<HttpResponse, AppError>) -> HttpResponse {
    let mut r = result.unwrap_or_else(|e| odata_error(&e));
    r.headers_mut().insert(
        header::HeaderName::from_static("odata-version"),
        header::HeaderValue::from_static("4.0"),
    );
    if r.status() == actix_web::http::StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"clusterpulse\", charset=\"UTF-8\""),
        );
    }
    r
}

/// The service root of round `id`, as the client reached it.
fn root(req: &HttpRequest, id: i32) -> String {
    let info = req.connection_info();
    format!("{}://{}/odata/rounds/{id}", info.scheme(), info.host())
}

/// The next page's URL: the same options, `$skip` moved on and `$top` what is left of it.
fn next_link(req: &HttpRequest, q: &Query, next_skip: usize) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(req.query_string().as_bytes()) {
        if k != "$skip" && k != "$top" {
            out.append_pair(&k, &v);
        }
    }
    if let Some(top) = q.top {
        out.append_pair("$top", &(top - (next_skip - q.skip)).to_string());
    }
    out.append_pair("$skip", &next_skip.to_string());
    let info = req.connection_info();
    format!(
        "{}://{}{}?{}",
        info.scheme(),
        info.host(),
        req.path(),
        out.finish()
    )
}

async fn service(
    state: State,
    req: HttpRequest,
    user: Result<CurrentUser, AppError>,
    path: web::Path<i32>,
) -> HttpResponse {
    reply(
        async {
            let actor = user?.actor.clone();
            let id = path.into_inner();
            state
                .db(move |conn| round_for(conn, &actor, id, Access::Read).map(|_| ()))
                .await?;
            let doc = odata::service_document(&format!("{}/$metadata", root(&req, id)));
            Ok(HttpResponse::Ok().content_type(JSON).json(doc))
        }
        .await,
    )
}

/// One page of `set` of round `id` for `q`.
async fn read_page(
    state: &State,
    actor: crate::kernel::access::Actor,
    id: i32,
    set: Set,
    q: Query,
) -> Result<odata::Page, AppError> {
    let catalog = state.catalog.current();
    let now = crate::kernel::time::now();
    state
        .db(move |conn| odata::page(conn, |c| set.build(c, &catalog, &actor, id, now), &q))
        .await
}

async fn set(
    state: State,
    req: HttpRequest,
    user: Result<CurrentUser, AppError>,
    path: web::Path<(i32, String)>,
) -> HttpResponse {
    reply(
        async {
            let actor = user?.actor.clone();
            let (id, name) = path.into_inner();
            let catalog = state.catalog.current();
            let now = crate::kernel::time::now();
            if name == "$metadata" {
                let xml = state
                    .db(move |conn| odata::metadata(conn, &catalog, &actor, id, now))
                    .await?;
                return Ok(HttpResponse::Ok().content_type("application/xml").body(xml));
            }
            let set = Set::parse(&name)?;
            let mut q = Query::parse(req.query_string())?;
            let applied = req
                .headers()
                .get("prefer")
                .and_then(|h| h.to_str().ok())
                .and_then(|h| q.prefer(h));
            let page = read_page(&state, actor, id, set, q.clone()).await?;
            let mut body = serde_json::json!({
                "@odata.context": format!("{}/$metadata#{}", root(&req, id), set.name()),
            });
            if let Some(n) = page.count {
                body["@odata.count"] = n.into();
            }
            body["value"] = page.value();
            if let Some(next) = page.next_skip {
                body["@odata.nextLink"] = next_link(&req, &q, next).into();
            }
            let mut r = HttpResponse::Ok();
            r.content_type(JSON);
            if let Some(n) = applied {
                r.insert_header(("preference-applied", format!("odata.maxpagesize={n}")));
            }
            Ok(r.json(body))
        }
        .await,
    )
}

/// `/{set}/$count`: the number of matching entities as plain text.
async fn count(
    state: State,
    req: HttpRequest,
    user: Result<CurrentUser, AppError>,
    path: web::Path<(i32, String)>,
) -> HttpResponse {
    reply(
        async {
            let actor = user?.actor.clone();
            let (id, name) = path.into_inner();
            let set = Set::parse(&name)?;
            let mut q = Query::parse(req.query_string())?;
            (q.count, q.top, q.skip) = (true, Some(0), 0);
            let page = read_page(&state, actor, id, set, q).await?;
            Ok(HttpResponse::Ok()
                .content_type("text/plain")
                .body(page.count.unwrap_or(0).to_string()))
        }
        .await,
    )
}
