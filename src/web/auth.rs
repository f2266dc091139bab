//! Who is asking: bearer tokens for scripts, signed session cookies for people, and the
//! access rules of each role.

use super::{AppState, State};
use crate::db::models::{self, User};
use crate::db::schema::{api_tokens, users};
use crate::kernel::access::{Actor, Role};
use crate::kernel::error::AppError;
use crate::kernel::secrets;
use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use std::future::Future;
use std::pin::Pin;

pub const SESSION_COOKIE: &str = "cp_session";
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// An authenticated staff member: who they are ([`Actor`], the policy's view) and the CSRF
/// token of their cookie session (None for bearer tokens).
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub actor: Actor,
    pub csrf: Option<String>,
}

impl std::ops::Deref for CurrentUser {
    type Target = Actor;
    fn deref(&self) -> &Actor {
        &self.actor
    }
}

fn load_user(
    conn: &mut crate::db::DbConnection,
    user: User,
    csrf: Option<String>,
) -> Result<CurrentUser, AppError> {
    if user.disabled {
        return Err(AppError::Unauthorized("this account is disabled".into()));
    }
    let role = Role::parse(&user.role).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let operation_ids = models::user_operation_ids(conn, user.id)?;
    let countries = models::user_countries(conn, user.id)?;
    Ok(CurrentUser {
        actor: Actor {
            id: user.id,
            email: user.email,
            role,
            cluster_id: user.cluster_id,
            operation_ids,
            countries,
        },
        csrf,
    })
}

/// What a cookie session of a role that requires an authenticator app, without one, is
/// told everywhere but on [`ENROLMENT_PATHS`] (pages redirect to `/account#totp`).
pub const TOTP_REQUIRED: &str = "your role requires sign-in with an authenticator app: set one up first (the account page /account#totp, or POST /api/v1/account/totp)";

/// Where such a session may go: setting up the app, and signing out.
const ENROLMENT_PATHS: &[&str] = &[
    "/api/v1/account/totp",
    "/api/v1/account/totp/confirm",
    "/api/v1/session",
    "/account",
    "/account/totp",
    "/account/totp/confirm",
    "/logout",
];

enum Credential {
    Bearer(String),
    /// The session cookie's token (`domain::sessions`).
    Cookie(String),
}

fn credential(req: &HttpRequest) -> Result<Option<Credential>, AppError> {
    if let Some(h) = req.headers().get(actix_web::http::header::AUTHORIZATION) {
        let v = h.to_str().map_err(|_| {
            AppError::Unauthorized("the Authorization header is not readable".into())
        })?;
        // Basic with the API token as the password (any user name): what Power BI's and
        // Excel's OData connectors send. Only for reading the feed: a browser that was once
        // given Basic credentials sends them with every request, cross-site forms included,
        // and a credential that skips the CSRF check must not reach a write.
        let odata_read =
            req.path().starts_with("/odata") && matches!(*req.method(), Method::GET | Method::HEAD);
        let basic = v
            .strip_prefix("Basic ")
            .filter(|_| odata_read)
            .and_then(|b| {
                use base64::Engine;
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(b.trim())
                    .ok()?;
                let pair = String::from_utf8(raw).ok()?;
                pair.split_once(':').map(|(_, token)| token.to_string())
            });
        let token = v
            .strip_prefix("Bearer ")
            .map(str::to_string)
            .or(basic)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AppError::Unauthorized("use Authorization: Bearer <token>".into()))?;
        return Ok(Some(Credential::Bearer(token)));
    }
    Ok(req
        .cookie(SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
        .map(Credential::Cookie))
}

async fn authenticate(
    req: &HttpRequest,
    check_csrf_header: bool,
) -> Result<Option<CurrentUser>, AppError> {
    let state = req
        .app_data::<State>()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("app state missing")))?
        .clone();
    let Some(cred) = credential(req)? else {
        return Ok(None);
    };
    let is_cookie = matches!(cred, Credential::Cookie(_));
    let limits = state.config.sessions;
    let required = state.config.totp_required_roles.clone();
    let enrolment_path = ENROLMENT_PATHS.contains(&req.path());
    let user = state
        .db(move |conn| match cred {
            Credential::Bearer(token) => {
                let hash = secrets::hash_token(&token);
                let found: Option<(i32, User)> = api_tokens::table
                    .inner_join(users::table)
                    .filter(api_tokens::token_hash.eq(&hash))
                    .filter(api_tokens::revoked_at.is_null())
                    .filter(
                        api_tokens::expires_at
                            .is_null()
                            .or(api_tokens::expires_at.gt(crate::kernel::time::now())),
                    )
                    .select((api_tokens::id, User::as_select()))
                    .first(conn)
                    .optional()?;
                let Some((token_id, user)) = found else {
                    return Err(AppError::Unauthorized(
                        "the bearer token is not valid".into(),
                    ));
                };
                diesel::update(api_tokens::table.find(token_id))
                    .set(api_tokens::last_used_at.eq(crate::kernel::time::now()))
                    .execute(conn)?;
                load_user(conn, user, None).map(Some)
            }
            Credential::Cookie(token) => {
                let now = crate::kernel::time::now();
                let Some((u, csrf)) = crate::domain::sessions::resume(conn, &token, limits, now)?
                else {
                    return Ok(None);
                };
                let user = load_user(conn, u, Some(csrf))?;
                if required.contains(&user.role)
                    && !enrolment_path
                    && !crate::domain::totp::is_enabled(conn, user.id)?
                {
                    return Err(AppError::Forbidden(TOTP_REQUIRED.into()));
                }
                Ok(Some(user))
            }
        })
        .await?;
    if let Some(u) = &user {
        let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        if is_cookie && check_csrf_header && unsafe_method {
            let given = req
                .headers()
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !secrets::ct_eq(given, u.csrf.as_deref().unwrap_or("")) {
                return Err(AppError::Forbidden(format!(
                    "missing or wrong {CSRF_HEADER} header (cookie sessions must send the csrf_token from POST /api/v1/session)"
                )));
            }
        }
    }
    Ok(user)
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            authenticate(&req, true).await?.ok_or_else(|| {
                AppError::Unauthorized(
                    "sign in first (POST /api/v1/session) or send Authorization: Bearer <token>"
                        .into(),
                )
            })
        })
    }
}

/// For HTML pages: the signed-in person, if any (forms check their own CSRF field).
pub struct PageUser(pub Option<CurrentUser>);

impl FromRequest for PageUser {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match authenticate(&req, false).await {
                Ok(u) => Ok(PageUser(u)),
                Err(AppError::Unauthorized(_)) => Ok(PageUser(None)),
                // A role that requires an authenticator app, without one: to its set-up.
                Err(AppError::Forbidden(m)) if m == TOTP_REQUIRED => {
                    let to_setup = HttpResponse::SeeOther()
                        .insert_header((actix_web::http::header::LOCATION, "/account#totp"))
                        .finish();
                    Err(
                        actix_web::error::InternalError::from_response(TOTP_REQUIRED, to_setup)
                            .into(),
                    )
                }
                Err(e) => Err(e.into()),
            }
        })
    }
}

/// Email and password of an account.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

/// The cookie that marks a browser which has signed in to an account before: it may keep
/// trying when that account is under a guessing attack from many places
/// (`domain::sign_in`). It holds a keyed digest of the email, nothing readable.
pub const DEVICE_COOKIE: &str = "cp_device";
const DEVICE_DAYS: i64 = 365;

fn device_mark(state: &AppState, email: &str) -> String {
    secrets::keyed_digest(
        &state.config.secret_key,
        "sign-in device",
        &crate::domain::sign_in::email_key(email),
    )
}

/// The device mark for `email`, set with every successful sign-in.
pub fn device_cookie(state: &AppState, email: &str) -> Cookie<'static> {
    Cookie::build(DEVICE_COOKIE, device_mark(state, email))
        .path("/")
        .http_only(true)
        .secure(state.config.secure_cookies)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::days(DEVICE_DAYS))
        .finish()
}

/// Checks credentials under the sign-in throttle (`domain::sign_in`): a refusal or a wrong
/// password is answered the same whether or not the email has an account, and the work
/// done is the same (a password hash is checked either way).
pub async fn check_credentials(
    state: &State,
    req: &HttpRequest,
    email: String,
    password: String,
) -> Result<SignIn, AppError> {
    let ip = super::ratelimit::client_ip(req);
    if !state.login_limiter.check(ip) {
        return Err(AppError::TooManyRequests(
            "too many sign-in attempts from this address; wait a minute and try again".into(),
        ));
    }
    let address = ip.to_string();
    let known_device = req
        .cookie(DEVICE_COOKIE)
        .is_some_and(|c| secrets::ct_eq(c.value(), &device_mark(state, &email)));
    let started = std::time::Instant::now();
    if let Err(refusal) = state.sign_in.check(&email, &address, known_device, started) {
        return Err(AppError::TooManyRequests(refusal.message()));
    }
    // The password hash is checked off the database pool: Argon2 is slow on purpose, and a
    // connection held through it would let a burst of sign-ins starve every other request.
    let lookup = email.clone();
    let found = state
        .db(move |conn| Ok(models::user_by_email(conn, &lookup)?))
        .await?;
    let (ok, user) = match found {
        Some(user) => {
            // Someone invited who has not set a password yet has an empty hash: checked
            // against the dummy, so the work (and the time) is the same as for anyone.
            let usable = !user.password_hash.is_empty();
            let hash = if usable {
                user.password_hash.clone()
            } else {
                secrets::dummy_password_hash().to_string()
            };
            let ok = web::block(move || secrets::verify_password(&password, &hash)).await?;
            (ok && usable, Some(user))
        }
        None => {
            // Same work as a real check, so timing does not reveal which emails exist.
            web::block(move || secrets::verify_password(&password, secrets::dummy_password_hash()))
                .await?;
            (false, None)
        }
    };
    let user = match (ok, user) {
        (true, Some(user)) => user,
        _ => {
            state
                .sign_in
                .failed(&email, &address, std::time::Instant::now());
            return Err(AppError::Unauthorized("wrong email or password".into()));
        }
    };
    let uid = user.id;
    if state
        .db(move |conn| crate::domain::totp::is_enabled(conn, uid))
        .await?
    {
        // The throttle's counts stay until the code is right too.
        return Ok(SignIn::CodeNeeded(pending_cookie(state, uid)));
    }
    state.sign_in.succeeded(&email);
    start_session(state, user).await.map(SignIn::Done)
}

/// Starts a session for someone who has proven who they are.
pub async fn start_session(state: &State, user: User) -> Result<SignedIn, AppError> {
    let limits = state.config.sessions;
    state
        .db(move |conn| {
            let started =
                crate::domain::sessions::start(conn, user.id, limits, crate::kernel::time::now())?;
            let user = load_user(conn, user, Some(started.csrf))?;
            Ok(SignedIn {
                user,
                token: started.token,
            })
        })
        .await
}

/// Where a right password leads.
pub enum SignIn {
    Done(SignedIn),
    /// The account has an authenticator app: this cookie marks the pending sign-in until
    /// `POST /api/v1/session/totp` (or the login page's code step) gets a code.
    CodeNeeded(Cookie<'static>),
}

/// The pending second step: `USER_ID.EXPIRES.MAC`, valid five minutes.
pub const PENDING_COOKIE: &str = "cp_totp_pending";
const PENDING_SECONDS: i64 = 300;

fn pending_mac(state: &AppState, payload: &str) -> String {
    secrets::keyed_digest(&state.config.secret_key, "totp pending sign-in", payload)
}

fn pending_cookie(state: &AppState, user_id: i32) -> Cookie<'static> {
    let expires = crate::kernel::time::now().and_utc().timestamp() + PENDING_SECONDS;
    let payload = format!("{user_id}.{expires}");
    let value = format!("{payload}.{}", pending_mac(state, &payload));
    Cookie::build(PENDING_COOKIE, value)
        .path("/")
        .http_only(true)
        .secure(state.config.secure_cookies)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(PENDING_SECONDS))
        .finish()
}

/// Completes a pending sign-in with a code from the app or a recovery code, under the same
/// throttle as passwords (a wrong code counts as a wrong password).
pub async fn complete_with_code(
    state: &State,
    req: &HttpRequest,
    code: String,
) -> Result<SignedIn, AppError> {
    let expired = || {
        AppError::Unauthorized(
            "no sign-in is waiting for a code, or it took longer than five minutes; sign in again with your password".into(),
        )
    };
    let value = req
        .cookie(PENDING_COOKIE)
        .map(|c| c.value().to_string())
        .ok_or_else(expired)?;
    let (payload, mac) = value.rsplit_once('.').ok_or_else(expired)?;
    if !secrets::ct_eq(mac, &pending_mac(state, payload)) {
        return Err(expired());
    }
    let (uid, expires) = payload.split_once('.').ok_or_else(expired)?;
    let (uid, expires): (i32, i64) = (
        uid.parse().map_err(|_| expired())?,
        expires.parse().map_err(|_| expired())?,
    );
    if expires <= crate::kernel::time::now().and_utc().timestamp() {
        return Err(expired());
    }
    let user = state
        .db(move |conn| {
            users::table
                .find(uid)
                .select(User::as_select())
                .first(conn)
                .optional()
                .map_err(AppError::from)
        })
        .await?
        .ok_or_else(expired)?;
    let address = super::ratelimit::client_ip(req).to_string();
    let email = user.email.clone();
    let known_device = req
        .cookie(DEVICE_COOKIE)
        .is_some_and(|c| secrets::ct_eq(c.value(), &device_mark(state, &email)));
    if let Err(refusal) =
        state
            .sign_in
            .check(&email, &address, known_device, std::time::Instant::now())
    {
        return Err(AppError::TooManyRequests(refusal.message()));
    }
    let key = state.config.secret_key.clone();
    let proof = state
        .db(move |conn| {
            crate::domain::totp::verify(conn, &key, uid, &code, crate::kernel::time::now())
        })
        .await?;
    if proof.is_none() {
        state
            .sign_in
            .failed(&email, &address, std::time::Instant::now());
        return Err(AppError::field(
            "code",
            "is not the current code of your authenticator app, nor an unused recovery code",
        ));
    }
    state.sign_in.succeeded(&email);
    start_session(state, user).await
}

/// Removes the pending-sign-in cookie.
pub fn clear_pending_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = Cookie::build(PENDING_COOKIE, "")
        .path("/")
        .http_only(true)
        .secure(state.config.secure_cookies)
        .same_site(SameSite::Lax)
        .finish();
    c.make_removal();
    c
}

/// A successful sign-in: who, and the new session's cookie token.
pub struct SignedIn {
    pub user: CurrentUser,
    pub token: String,
}

/// The session cookie: the token only; it lasts as long as the session may.
pub fn session_cookie(state: &AppState, token: &str) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token.to_string())
        .path("/")
        .http_only(true)
        .secure(state.config.secure_cookies)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::hours(
            state.config.sessions.absolute_hours as i64,
        ))
        .finish()
}

/// Ends the session whose cookie `req` carries, if any (signing out).
pub async fn end_session(state: &State, req: &HttpRequest) -> Result<(), AppError> {
    if let Some(token) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()) {
        state
            .db(move |conn| crate::domain::sessions::end(conn, &token, crate::kernel::time::now()))
            .await?;
    }
    Ok(())
}

pub fn clear_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .secure(state.config.secure_cookies)
        .same_site(SameSite::Lax)
        .finish();
    c.make_removal();
    c
}

/// The signed-in account.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub id: i32,
    pub email: String,
    /// admin, global_lead, coordinator, psea_focal_point or viewer.
    pub role: &'static str,
    /// The cluster of a global lead.
    pub cluster_id: Option<i32>,
    /// The operations of a coordinator or PSEA focal point.
    pub operation_ids: Vec<i32>,
    /// Send it back as `X-CSRF-Token` on cookie-authenticated writes (sign-in reply only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub csrf_token: Option<String>,
}

fn user_json(u: &CurrentUser) -> SessionView {
    SessionView {
        id: u.id,
        email: u.email.clone(),
        role: u.role.as_str(),
        cluster_id: u.cluster_id,
        operation_ids: u.operation_ids.clone(),
        csrf_token: None,
    }
}

/// `POST /api/v1/session`
#[utoipa::path(post, path = "/api/v1/session", tag = "session", security(()),
    summary = "Sign in: sets the session cookie (throttled per email and address)",
    request_body = LoginBody,
    responses((status = 200, description = "signed in; or, for an account with an authenticator app, `{\"totp_required\": true}` and a pending-sign-in cookie (no session yet)", body = SessionView),
              (status = 401, description = "wrong email or password", body = crate::web::error::ErrorBody),
              (status = 429, description = "too many attempts from this address, or for this email from unknown browsers", body = crate::web::error::ErrorBody)))]
pub async fn create_session(
    state: State,
    req: HttpRequest,
    body: crate::web::api::JsonObject<LoginBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let SignedIn { user, token } =
        match check_credentials(&state, &req, body.email, body.password).await? {
            SignIn::Done(s) => s,
            SignIn::CodeNeeded(pending) => {
                return Ok(HttpResponse::Ok().cookie(pending).json(CodeNeeded {
                    totp_required: true,
                }))
            }
        };
    signed_in_reply(&state, user, token)
}

fn signed_in_reply(
    state: &State,
    user: CurrentUser,
    token: String,
) -> Result<HttpResponse, AppError> {
    let cookie = session_cookie(state, &token);
    let mut view = user_json(&user);
    view.csrf_token = user.csrf.clone();
    Ok(HttpResponse::Ok()
        .cookie(cookie)
        .cookie(device_cookie(state, &user.email))
        .cookie(clear_pending_cookie(state))
        .json(view))
}

/// The password was right; the account signs in with an authenticator app too.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CodeNeeded {
    /// Always true: send a code to `POST /api/v1/session/totp` within five minutes.
    pub totp_required: bool,
}

/// A code from the authenticator app (6 digits) or a recovery code.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    pub code: String,
}

/// `POST /api/v1/session/totp`
#[utoipa::path(post, path = "/api/v1/session/totp", tag = "session", security(()),
    summary = "Second sign-in step: a code from the authenticator app, or a recovery code (once)",
    request_body = CodeBody,
    responses((status = 200, description = "signed in", body = SessionView),
              (status = 400, description = "the code is wrong, already used, or a recovery code already spent", body = crate::web::error::ErrorBody),
              (status = 401, description = "no sign-in is waiting for a code (or it expired)", body = crate::web::error::ErrorBody),
              (status = 429, description = "too many wrong passwords or codes", body = crate::web::error::ErrorBody)))]
pub async fn create_session_totp(
    state: State,
    req: HttpRequest,
    body: crate::web::api::JsonObject<CodeBody>,
) -> Result<HttpResponse, AppError> {
    let SignedIn { user, token } = complete_with_code(&state, &req, body.into_inner().code).await?;
    signed_in_reply(&state, user, token)
}

/// `GET /api/v1/session`
#[utoipa::path(get, path = "/api/v1/session", tag = "session", summary = "Who am I",
    responses((status = 200, description = "the signed-in account", body = SessionView)))]
pub async fn get_session(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(user_json(&user))
}

/// `DELETE /api/v1/session`
#[utoipa::path(delete, path = "/api/v1/session", tag = "session", security(()),
    summary = "Sign out: ends this session on the server and clears its cookie",
    responses((status = 204, description = "signed out")))]
pub async fn delete_session(state: State, req: HttpRequest) -> Result<HttpResponse, AppError> {
    end_session(&state, &req).await?;
    Ok(HttpResponse::NoContent()
        .cookie(clear_cookie(&state))
        .finish())
}

/// How many sessions were ended.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SessionsEnded {
    pub ended: usize,
}

/// `DELETE /api/v1/sessions`
#[utoipa::path(delete, path = "/api/v1/sessions", tag = "session",
    summary = "Sign out everywhere: ends every session of the caller's account",
    responses((status = 200, description = "sessions ended", body = SessionsEnded)))]
pub async fn delete_sessions(state: State, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let uid = user.id;
    let ended = state
        .db(move |conn| {
            let n = crate::domain::sessions::end_all(conn, uid, crate::kernel::time::now())?;
            models::audit(
                conn,
                Some(uid),
                "sessions.end_all",
                &format!("user:{uid}"),
                serde_json::json!({"ended": n}),
            )?;
            Ok(n)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .cookie(clear_cookie(&state))
        .json(SessionsEnded { ended }))
}

/// The caller if signed in (bearer token or cookie with its CSRF header), else `None`: for
/// endpoints open to the public that do more for staff.
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequest for MaybeUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(MaybeUser(authenticate(&req, true).await?)) })
    }
}

/// `POST /api/v1/session/password`
#[utoipa::path(post, path = "/api/v1/session/password", tag = "session",
    summary = "Change your password (ends your other sessions)",
    request_body = crate::domain::passwords::PasswordBody,
    responses((status = 204, description = "changed"),
              (status = 400, description = "the current password is wrong, or the new one is too weak", body = crate::web::error::ErrorBody)))]
pub async fn change_password(
    state: State,
    req: HttpRequest,
    user: CurrentUser,
    body: crate::web::api::JsonObject<crate::domain::passwords::PasswordBody>,
) -> Result<HttpResponse, AppError> {
    change_own_password(&state, &req, &user, body.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Changes the caller's password (the API's and the account page's way): checks the
/// current one and the new one's strength, and ends the caller's other sessions.
pub async fn change_own_password(
    state: &State,
    req: &HttpRequest,
    user: &CurrentUser,
    b: crate::domain::passwords::PasswordBody,
) -> Result<(), AppError> {
    use crate::domain::passwords;
    passwords::check_new(&b)?;
    let uid = user.id;
    let stored = state
        .db(move |conn| passwords::current_hash(conn, uid))
        .await?;
    let current = b.current_password;
    let ok = web::block(move || secrets::verify_password(&current, &stored)).await?;
    if !ok {
        return Err(AppError::field(
            "current_password",
            "is not your current password",
        ));
    }
    let hash = hash_new_password(b.new_password).await?;
    let keep = req
        .cookie(SESSION_COOKIE)
        .map(|c| secrets::hash_token(c.value()));
    state
        .db(move |conn| {
            passwords::replace(
                conn,
                uid,
                &hash,
                keep.as_deref(),
                crate::kernel::time::now(),
            )
        })
        .await?;
    Ok(())
}

/// Hashes a new password off the async workers (Argon2 is slow on purpose).
pub async fn hash_new_password(password: String) -> Result<String, AppError> {
    web::block(move || secrets::hash_password(&password))
        .await?
        .map_err(AppError::Internal)
}

/// What "forgot password" answers, whatever the address.
pub const RESET_ANSWER: &str = "If an account has this address, an email with a link to choose a new password is on its way. The link works once, for 72 hours.";

/// "Forgot password" (the API's and the page's way): refuses only what says nothing about
/// accounts (too many requests from this address, not an email address), then answers
/// [`RESET_ANSWER`] at once. Whether the address has an account is looked at after the
/// answer, in the background, so neither the reply nor its timing depends on it.
pub fn request_password_reset(
    state: &State,
    req: &HttpRequest,
    email: &str,
) -> Result<String, AppError> {
    let ip = super::ratelimit::client_ip(req);
    if !state.login_limiter.check(ip) {
        return Err(AppError::TooManyRequests(
            "too many requests from this address; wait a minute and try again".into(),
        ));
    }
    models::check_email(email).map_err(|e| AppError::field("email", e))?;
    let (state, email) = (state.clone(), email.to_string());
    actix_web::rt::spawn(async move {
        let svc = state.app.clone();
        let done = state
            .db(move |conn| crate::domain::account_links::request_reset(conn, &svc, &email))
            .await;
        if let Err(e) = done {
            tracing::warn!(error = %e, "a password reset request failed");
        }
    });
    Ok(RESET_ANSWER.to_string())
}
