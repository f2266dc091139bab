//! The authorization matrix: every route of the app, called as every role, with the status
//! each role must get. The routes come from `clusterpulse::web::route_list()` (generated from
//! the same table the router is built from), so a route added without a row here fails the
//! test. Runs on SQLite and, when `TEST_DATABASE_URL` is set, on PostgreSQL.
//!
//! Roles: anonymous; the holder of an invitation (no account: their token in the URL or body);
//! the coordinator of operation A (shelter-yemen) and of operation B (shelter-sudan, same
//! cluster); the global lead of the shelter cluster and of another cluster (health); the PSEA
//! focal point of A; an admin. Staff call the JSON API with bearer tokens and the HTML pages
//! with their session cookie (forms carry the session's CSRF token), except where a row says
//! otherwise (cookie without CSRF, bearer on a page, …).
//!
//! Each row names its targets with placeholders (`<round>`, `<fresh_item>`, …). `fresh_*`
//! targets are created anew for every call, so one role's successful write never changes what
//! the next role meets.

mod common;
use common::{Backend, TestApp, PASSWORD, SECRET};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Anonymous,
    Holder,
    CoordA,
    CoordB,
    Lead,
    OtherLead,
    PseaA,
    Admin,
}

const ROLES: [Role; 8] = [
    Role::Anonymous,
    Role::Holder,
    Role::CoordA,
    Role::CoordB,
    Role::Lead,
    Role::OtherLead,
    Role::PseaA,
    Role::Admin,
];

/// How a staff role presents itself (anonymous and the holder send no credential, except
/// with `InvitationBearer`).
#[derive(Clone, Copy, Debug)]
enum Cred {
    /// `Authorization: Bearer <api token>`.
    Bearer,
    /// The session cookie; unsafe methods send `X-CSRF-Token` (API) and forms the
    /// `csrf_token` field (pages, via `<csrf>` in the body).
    Cookie,
    /// The session cookie, but no `X-CSRF-Token` header.
    CookieNoCsrfHeader,
    /// Everyone sends the invitation token as a bearer token.
    InvitationBearer,
}

enum Body {
    None,
    Json(&'static str),
    Form(&'static str),
    /// A file sent as the whole body (`application/octet-stream`).
    File(&'static str),
    /// A page form with a file input (`multipart/form-data`): the `csrf_token` field and
    /// the file's name and content.
    Multipart(&'static str, &'static str, &'static str),
    /// An OpenRosa submission (`multipart/form-data`): a new feedback instance as the part
    /// `xml_submission_file`, as ODK Collect sends it.
    OpenRosa,
    /// The same for a partner's `ccpm-partner` response (an invitation's OpenRosa address).
    OpenRosaResponse,
}

/// A small areas list to upload.
const AREAS_FILE: &str =
    "admin1Pcode,admin1Name_en,admin2Pcode,admin2Name_en\nYE24,Aden,YE2401,Al Buraiqeh\n";

/// "303 See Other to /login": what a page answers someone not signed in.
const LOGIN: u16 = 1303;

struct Row {
    method: &'static str,
    /// The route pattern, exactly as in `route_list()`.
    pattern: &'static str,
    /// The concrete path, with placeholders.
    path: &'static str,
    cred: Cred,
    body: Body,
    /// In the order of [`ROLES`].
    expect: [u16; 8],
    note: &'static str,
}

fn row(
    method: &'static str,
    pattern: &'static str,
    path: &'static str,
    cred: Cred,
    body: Body,
    expect: [u16; 8],
) -> Row {
    Row {
        method,
        pattern,
        path,
        cred,
        body,
        expect,
        note: "",
    }
}

impl Row {
    fn note(mut self, note: &'static str) -> Row {
        self.note = note;
        self
    }
}

// Common columns: [anonymous, holder, coord A, coord B, lead, other lead, PSEA A, admin].
const EVERYONE: [u16; 8] = [200; 8];
const STAFF: [u16; 8] = [401, 401, 200, 200, 200, 200, 200, 200];
const READ_A: [u16; 8] = [401, 401, 200, 403, 200, 403, 200, 200];
const MANAGE_A: [u16; 8] = [401, 401, 200, 403, 403, 403, 403, 200];
const CREATE_A: [u16; 8] = [401, 401, 201, 403, 403, 403, 403, 201];
const ADMIN_CREATES: [u16; 8] = [401, 401, 403, 403, 403, 403, 403, 201];
const PAGE_STAFF: [u16; 8] = [LOGIN, LOGIN, 200, 200, 200, 200, 200, 200];
const PAGE_READ_A: [u16; 8] = [LOGIN, LOGIN, 200, 403, 200, 403, 200, 200];
const PAGE_MANAGE_A: [u16; 8] = [LOGIN, LOGIN, 200, 403, 403, 403, 403, 200];
const PAGE_MANAGE_A_REDIRECT: [u16; 8] = [LOGIN, LOGIN, 303, 403, 403, 403, 403, 303];
const ADMIN_ONLY: [u16; 8] = [401, 401, 403, 403, 403, 403, 403, 200];
const PAGE_ADMIN: [u16; 8] = [LOGIN, LOGIN, 403, 403, 403, 403, 403, 200];
const PAGE_ADMIN_REDIRECT: [u16; 8] = [LOGIN, LOGIN, 403, 403, 403, 403, 403, 303];
/// A global cluster's (shelter's) service charter: its lead and admins.
const CHARTER: [u16; 8] = [401, 401, 403, 403, 200, 403, 403, 200];
const TOKEN_ONLY: [u16; 8] = [404, 200, 404, 404, 404, 404, 404, 404];
/// The membership register of A: its coordinators manage it, its cluster's lead reads it.
const READ_MEMBERS_A: [u16; 8] = [401, 401, 200, 403, 200, 403, 403, 200];
const PAGE_READ_MEMBERS_A: [u16; 8] = [LOGIN, LOGIN, 200, 403, 200, 403, 403, 200];
const ALL_COMMITMENTS: &str = r#"{"answers": {"principles": {"rating": "meets"}, "protection": {"rating": "meets"},
    "aap": {"rating": "partly"}, "duties": {"rating": "meets"}, "participation": {"rating": "meets"},
    "response_plan": {"rating": "meets"}, "cross_cutting": {"rating": "not_yet", "comment": "next year"},
    "senior_staff": {"rating": "meets"}, "resources": {"rating": "meets"}, "working_groups": {"rating": "partly"},
    "advocacy": {"rating": "meets"}, "interpretation": {"rating": "meets"}}}"#;
const ALL_COMMITMENTS_FORM: &str = "csrf_token=<csrf>&rating.principles=meets&rating.protection=meets&rating.aap=meets\
&rating.duties=meets&rating.participation=meets&rating.response_plan=meets&rating.cross_cutting=partly\
&rating.senior_staff=meets&rating.resources=meets&rating.working_groups=meets&rating.advocacy=meets\
&rating.interpretation=not_yet&comment.interpretation=soon";
const MEMBERS_FILE: &str = "organization,org_type,status\nImported <uniq>,nngo,observer\n";

/// A small survey file to upload (`<uniq>` makes its id new).
const SURVEY_FILE: &str = "id = \"upload-<uniq>\"\nversion = 1\nkind = \"feedback\"\n\
respondent = \"public\"\nlanguages = [\"en\"]\ntitle.en = \"Site feedback\"\n\n\
[[questions]]\nname = \"message\"\ntype = \"text\"\nlabel.en = \"Your message\"\n";

const ROUND_BODY: &str = r#"{"operation": "shelter-yemen", "framework": "ccpm",
    "surveys": ["ccpm-partner", "ccpm-coordinator"], "opens_at": "<now>", "closes_at": "<in_30_days>"}"#;
const FEEDBACK_WEB: &str = r#"{"operation": "shelter-yemen", "channel": "web", "language": "en",
    "answers": {"category": "question", "message": "When is the next distribution?", "consent_to_contact": "no"}}"#;

#[rustfmt::skip]
fn rows() -> Vec<Row> {
    use Body::{File, Form, Json, Multipart, OpenRosa, OpenRosaResponse};
    use Cred::*;
    let none = || Body::None;
    vec![
        // ---- outside the API
        row("GET", "/healthz", "/healthz", Bearer, none(), EVERYONE),
        row("GET", "/metrics", "/metrics", Bearer, none(), [401, 401, 403, 403, 403, 403, 403, 200])
            .note("CLUSTERPULSE_METRICS_PUBLIC is off"),
        row("GET", "/metrics", "/metrics", Cookie, none(), [401, 401, 403, 403, 403, 403, 403, 200]),
        // ---- API: documentation, sessions
        row("GET", "/api/v1/openapi.json", "/api/v1/openapi.json", Bearer, none(), EVERYONE),
        row("GET", "/api/docs", "/api/docs", Cookie, none(), EVERYONE),
        row("POST", "/api/v1/session", "/api/v1/session", Bearer,
            Json(r#"{"email": "login@test.example", "password": "<password>"}"#), EVERYONE)
            .note("signing in needs no prior credential"),
        row("POST", "/api/v1/session", "/api/v1/session", Bearer,
            Json(r#"{"email": "nobody@test.example", "password": "wrong password here"}"#), [401; 8]),
        row("GET", "/api/v1/session", "/api/v1/session", Bearer, none(), STAFF),
        row("GET", "/api/v1/session", "/api/v1/session", Cookie, none(), STAFF),
        row("DELETE", "/api/v1/session", "/api/v1/session", Bearer, none(), [204; 8])
            .note("signing out ends the cookie's session, if any, and clears the cookie"),
        row("POST", "/api/v1/session/password", "/api/v1/session/password", Bearer,
            Json(r#"{"current_password": "not the password", "new_password": "a new long password <uniq>"}"#),
            [401, 401, 400, 400, 400, 400, 400, 400])
            .note("a wrong current password changes nothing"),
        // ---- API: tokens
        row("GET", "/api/v1/tokens", "/api/v1/tokens", Bearer, none(), STAFF),
        row("POST", "/api/v1/tokens", "/api/v1/tokens", Bearer,
            Json(r#"{"label": "script <uniq>", "expires_in_days": 30}"#), [401, 401, 201, 201, 201, 201, 201, 201]),
        row("DELETE", "/api/v1/tokens/{id}", "/api/v1/tokens/<own_api_token>", Bearer, none(), STAFF)
            .note("everyone revokes their own"),
        row("DELETE", "/api/v1/tokens/{id}", "/api/v1/tokens/<coord_a_api_token>", Bearer, none(),
            [401, 401, 200, 404, 404, 404, 404, 200])
            .note("someone else's: admins only; others get 404, which confirms nothing"),
        // ---- API: two-factor sign-in (each acts on the caller's own account)
        row("POST", "/api/v1/account/totp", "/api/v1/account/totp", Bearer, none(),
            [401, 401, 201, 201, 201, 201, 201, 201]),
        row("POST", "/api/v1/account/totp/confirm", "/api/v1/account/totp/confirm", Bearer,
            Json(r#"{"code": "000000"}"#), [401, 401, 400, 400, 400, 400, 400, 400])
            .note("a set-up is waiting (the row above), the code is wrong"),
        row("DELETE", "/api/v1/account/totp", "/api/v1/account/totp", Bearer,
            Json(r#"{"code": "000000"}"#), [401, 401, 409, 409, 409, 409, 409, 409])
            .note("nobody has an app on"),
        row("POST", "/api/v1/session/totp", "/api/v1/session/totp", Bearer,
            Json(r#"{"code": "000000"}"#), [401; 8])
            .note("without a pending sign-in (password first) a code proves nothing"),
        // ---- API: accounts
        row("POST", "/api/v1/password-resets", "/api/v1/password-resets", Bearer,
            Json(r#"{"email": "nobody-<uniq>@test.example"}"#), [202; 8])
            .note("anyone may ask; the answer never says whether the address has an account"),
        row("GET", "/api/v1/users", "/api/v1/users", Bearer, none(), ADMIN_ONLY),
        row("POST", "/api/v1/users/invitations", "/api/v1/users/invitations", Bearer,
            Json(r#"{"email": "inv-<uniq>@test.example", "role": "coordinator", "operations": ["shelter-yemen"]}"#),
            ADMIN_CREATES),
        row("PATCH", "/api/v1/users/{id}", "/api/v1/users/<fresh_user>", Bearer,
            Json(r#"{"role": "coordinator", "operations": ["shelter-sudan"]}"#), ADMIN_ONLY),
        row("PATCH", "/api/v1/users/{id}", "/api/v1/users/<fresh_user>", CookieNoCsrfHeader,
            Json(r#"{"disabled": true}"#), [401, 401, 403, 403, 403, 403, 403, 403]),
        // ---- API: directory
        row("GET", "/api/v1/clusters", "/api/v1/clusters", Bearer, none(), STAFF),
        row("POST", "/api/v1/clusters", "/api/v1/clusters", Bearer,
            Json(r#"{"code": "c-<uniq>", "name": "Cluster <uniq>"}"#), ADMIN_CREATES),
        row("GET", "/api/v1/clusters/{code}", "/api/v1/clusters/shelter", Bearer, none(),
            [401, 401, 200, 200, 200, 403, 200, 200]),
        row("GET", "/api/v1/clusters/{code}", "/api/v1/clusters/health", Bearer, none(),
            [401, 401, 403, 403, 403, 200, 403, 200]),
        row("GET", "/api/v1/operations", "/api/v1/operations", Bearer, none(), STAFF),
        row("POST", "/api/v1/operations", "/api/v1/operations", Bearer,
            Json(r#"{"slug": "op-<uniq>", "cluster": "shelter", "country": "YE", "name": "Op <uniq>"}"#),
            ADMIN_CREATES),
        row("GET", "/api/v1/operations/{slug}", "/api/v1/operations/shelter-yemen", Bearer, none(), READ_A),
        row("GET", "/api/v1/operations/{slug}", "/api/v1/operations/no-such-op", Bearer, none(),
            [401, 401, 404, 404, 404, 404, 404, 404]),
        row("GET", "/api/v1/operations/{slug}/feedback/metrics",
            "/api/v1/operations/shelter-yemen/feedback/metrics", Bearer, none(), READ_A),
        row("GET", "/api/v1/operations/{slug}/feedback/charts/{file}",
            "/api/v1/operations/shelter-yemen/feedback/charts/volume.svg", Bearer, none(), READ_A),
        row("GET", "/api/v1/operations/{slug}/exports/{file}",
            "/api/v1/operations/shelter-yemen/exports/feedback.csv", Bearer, none(), READ_A),
        row("GET", "/api/v1/operations/{slug}/exports/{file}",
            "/api/v1/operations/shelter-yemen/exports/scores.parquet", Bearer, none(), READ_A),
        row("GET", "/api/v1/operations/{slug}/exports/{file}",
            "/api/v1/operations/shelter-yemen/exports/actions.xlsx", Bearer, none(), READ_A),
        row("GET", "/api/v1/clusters/{code}/exports/{file}", "/api/v1/clusters/shelter/exports/scores.csv",
            Bearer, none(), [401, 401, 200, 200, 200, 403, 200, 200])
            .note("coordinators get the rows of their own operations only"),
        row("GET", "/api/v1/clusters/{code}/exports/{file}", "/api/v1/clusters/health/exports/actions.parquet",
            Bearer, none(), [401, 401, 403, 403, 403, 200, 403, 200]),
        row("GET", "/api/v1/organizations", "/api/v1/organizations", Bearer, none(), STAFF),
        row("POST", "/api/v1/organizations", "/api/v1/organizations", Bearer,
            Json(r#"{"name": "Org <uniq>", "org_type": "ingo"}"#),
            [401, 401, 201, 201, 403, 403, 403, 201]),
        row("PATCH", "/api/v1/clusters/{code}", "/api/v1/clusters/<fresh_cluster>", Bearer,
            Json(r#"{"name": "Renamed <uniq>", "lead_emails": ["lead@renamed.example.org"]}"#), ADMIN_ONLY),
        row("PATCH", "/api/v1/clusters/{code}", "/api/v1/clusters/<fresh_cluster>", CookieNoCsrfHeader,
            Json(r#"{"name": "Renamed"}"#), [401, 401, 403, 403, 403, 403, 403, 403]),
        row("PATCH", "/api/v1/operations/{slug}", "/api/v1/operations/<fresh_operation>", Bearer,
            Json(r#"{"name": "Renamed <uniq>", "default_language": "fr", "archived": true}"#), ADMIN_ONLY)
            .note("coordinators manage their operations' rounds, not the directory"),
        row("GET", "/api/v1/operations/{slug}/areas", "/api/v1/operations/shelter-yemen/areas", Bearer,
            none(), READ_A),
        row("GET", "/api/v1/operations/{slug}/collectors", "/api/v1/operations/shelter-yemen/collectors",
            Bearer, none(), MANAGE_A),
        row("POST", "/api/v1/operations/{slug}/collectors", "/api/v1/operations/shelter-yemen/collectors",
            Bearer, Json(r#"{"name": "Desk <uniq>"}"#), CREATE_A),
        row("POST", "/api/v1/operations/{slug}/collectors", "/api/v1/operations/shelter-yemen/collectors",
            CookieNoCsrfHeader, Json(r#"{"name": "Desk <uniq>"}"#), [401, 401, 403, 403, 403, 403, 403, 403]),
        row("DELETE", "/api/v1/operations/{slug}/collectors/{id}",
            "/api/v1/operations/shelter-yemen/collectors/<fresh_collector>", Bearer, none(), MANAGE_A),
        row("DELETE", "/api/v1/operations/{slug}/collectors/{id}",
            "/api/v1/operations/shelter-sudan/collectors/<fresh_collector>", Bearer, none(),
            [401, 401, 403, 404, 403, 403, 403, 404])
            .note("a collector is revoked only through its own operation"),
        row("PUT", "/api/v1/operations/{slug}/areas", "/api/v1/operations/<fresh_operation>/areas?file_name=a.csv",
            Bearer, File(AREAS_FILE), ADMIN_ONLY),
        row("PUT", "/api/v1/operations/{slug}/areas", "/api/v1/operations/<fresh_operation>/areas",
            CookieNoCsrfHeader, File(AREAS_FILE), [401, 401, 403, 403, 403, 403, 403, 403])
            .note("a cross-site upload with the session cookie alone is refused"),
        row("PATCH", "/api/v1/organizations/{id}", "/api/v1/organizations/<fresh_org>", Bearer,
            Json(r#"{"name": "Renamed <uniq>", "org_type": "un", "archived": true}"#), ADMIN_ONLY),
        row("POST", "/api/v1/organizations/{id}/merge", "/api/v1/organizations/<fresh_org>/merge", Bearer,
            Json(r#"{"into": <fresh_org_survivor>}"#), ADMIN_ONLY),
        // ---- API: definitions (public by design)
        row("GET", "/api/v1/surveys", "/api/v1/surveys", Bearer, none(), EVERYONE),
        row("GET", "/api/v1/surveys/{id}", "/api/v1/surveys/ccpm-partner", Bearer, none(), EVERYONE),
        row("GET", "/api/v1/surveys/{id}/xlsform", "/api/v1/surveys/ccpm-partner/xlsform", Bearer, none(), EVERYONE),
        row("GET", "/api/v1/surveys/uploads", "/api/v1/surveys/uploads", Bearer, none(), ADMIN_ONLY),
        row("POST", "/api/v1/surveys/uploads", "/api/v1/surveys/uploads?file_name=s.toml", Bearer,
            File(SURVEY_FILE), ADMIN_CREATES),
        row("POST", "/api/v1/surveys/uploads", "/api/v1/surveys/uploads?file_name=s.toml",
            CookieNoCsrfHeader, File(SURVEY_FILE), [401, 401, 403, 403, 403, 403, 403, 403])
            .note("a cross-site upload with the session cookie alone is refused"),
        row("GET", "/api/v1/surveys/uploads/{id}", "/api/v1/surveys/uploads/<fresh_upload>", Bearer,
            none(), ADMIN_ONLY),
        row("POST", "/api/v1/surveys/uploads/{id}/publish",
            "/api/v1/surveys/uploads/<fresh_upload>/publish", Bearer, none(), ADMIN_ONLY),
        row("GET", "/api/v1/frameworks", "/api/v1/frameworks", Bearer, none(), EVERYONE),
        row("GET", "/api/v1/frameworks/{id}", "/api/v1/frameworks/ccpm", Bearer, none(), EVERYONE),
        // ---- API: rounds
        row("GET", "/api/v1/rounds", "/api/v1/rounds", Bearer, none(), STAFF),
        row("POST", "/api/v1/rounds", "/api/v1/rounds", Bearer, Json(ROUND_BODY), CREATE_A),
        row("POST", "/api/v1/rounds", "/api/v1/rounds", Cookie, Json(ROUND_BODY), CREATE_A),
        row("POST", "/api/v1/rounds", "/api/v1/rounds", CookieNoCsrfHeader, Json(ROUND_BODY),
            [401, 401, 403, 403, 403, 403, 403, 403]),
        row("POST", "/api/v1/rounds", "/api/v1/rounds", InvitationBearer, Json(ROUND_BODY), [401; 8])
            .note("an invitation token is not an API credential"),
        row("GET", "/api/v1/rounds/{id}", "/api/v1/rounds/<round>", Bearer, none(), READ_A),
        row("GET", "/api/v1/rounds/{id}", "/api/v1/rounds/<round>", InvitationBearer, none(), [401; 8]),
        row("GET", "/api/v1/rounds/{id}", "/api/v1/rounds/999999", Bearer, none(),
            [401, 401, 404, 404, 404, 404, 404, 404]),
        row("POST", "/api/v1/rounds/{id}/open", "/api/v1/rounds/<scheduled_round>/open", Bearer, none(), MANAGE_A),
        row("POST", "/api/v1/rounds/{id}/close", "/api/v1/rounds/<fresh_round>/close", Bearer, none(), MANAGE_A),
        row("POST", "/api/v1/rounds/{id}/close", "/api/v1/rounds/<fresh_round>/close", CookieNoCsrfHeader, none(),
            [401, 401, 403, 403, 403, 403, 403, 403]),
        row("GET", "/api/v1/rounds/{id}/progress", "/api/v1/rounds/<round>/progress", Bearer, none(), READ_A),
        row("POST", "/api/v1/rounds/{id}/invitations", "/api/v1/rounds/<round>/invitations", Bearer,
            Json(r#"{"send": false, "invitations": [{"email": "p-<uniq>@partner.example.org",
                "organization": "Partner <uniq>", "org_type": "nngo", "survey": "ccpm-partner"}]}"#),
            CREATE_A),
        row("POST", "/api/v1/rounds/{id}/remind", "/api/v1/rounds/<round>/remind", Bearer, none(), MANAGE_A),
        row("GET", "/api/v1/rounds/{id}/scores", "/api/v1/rounds/<round>/scores", Bearer, none(), READ_A),
        row("GET", "/api/v1/rounds/{id}/scores.csv", "/api/v1/rounds/<round>/scores.csv", Bearer, none(), READ_A),
        row("GET", "/api/v1/rounds/{id}/charts/{file}", "/api/v1/rounds/<round>/charts/functions.svg", Bearer, none(), READ_A),
        row("GET", "/api/v1/rounds/{id}/exports/{file}", "/api/v1/rounds/<round>/exports/actions.csv", Bearer, none(), READ_A),
        row("GET", "/api/v1/rounds/{id}/exports/{file}", "/api/v1/rounds/<round>/exports/actions.parquet", Bearer, none(), READ_A),
        row("GET", "/api/v1/rounds/{id}/exports/{file}", "/api/v1/rounds/<round>/exports/responses.xlsx", Bearer, none(),
            [401, 401, 409, 403, 409, 403, 409, 409])
            .note("readers of an open round without a published snapshot learn only that"),
        row("GET", "/api/v1/rounds/{id}/exports/{file}", "/api/v1/rounds/999999/exports/responses.csv", Bearer, none(),
            [401, 401, 404, 404, 404, 404, 404, 404]),
        row("GET", "/api/v1/rounds/{id}/actions", "/api/v1/rounds/<round>/actions", Bearer, none(), READ_A),
        row("POST", "/api/v1/rounds/{id}/actions", "/api/v1/rounds/<round>/actions", Bearer,
            Json(r#"{"indicator": "1.1", "action": "Share the 4W monthly", "owner": "IM officer"}"#), CREATE_A),
        row("PATCH", "/api/v1/rounds/{id}/actions/{action}", "/api/v1/rounds/<round>/actions/<action>", Bearer,
            Json(r#"{"status": "in_progress"}"#), MANAGE_A),
        row("PATCH", "/api/v1/rounds/{id}/actions/{action}", "/api/v1/rounds/<round>/actions/<action>",
            CookieNoCsrfHeader, Json(r#"{"status": "done"}"#), [401, 401, 403, 403, 403, 403, 403, 403]),
        // ---- API: a global cluster's service charter (its leads and admins only)
        row("POST", "/api/v1/clusters/{code}/charter-rounds", "/api/v1/clusters/shelter/charter-rounds", Bearer,
            Json(r#"{"opens_at": "<now>", "closes_at": "<in_30_days>"}"#), [401, 401, 403, 403, 201, 403, 403, 201]),
        row("GET", "/api/v1/clusters/{code}/charter-rounds", "/api/v1/clusters/shelter/charter-rounds", Bearer,
            none(), CHARTER),
        row("POST", "/api/v1/charter-rounds/{id}/invitations", "/api/v1/charter-rounds/<charter_round>/invitations",
            Bearer, Json(r#"{"coordinators": false, "emails": ["co-<uniq>@shelter.example.org"]}"#),
            [401, 401, 403, 403, 201, 403, 403, 201]),
        row("POST", "/api/v1/charter-rounds/{id}/close", "/api/v1/charter-rounds/<fresh_charter_round>/close",
            Bearer, none(), CHARTER),
        row("GET", "/api/v1/charter-rounds/{id}/scores", "/api/v1/charter-rounds/<charter_round>/scores", Bearer,
            none(), CHARTER)
            .note("the coordinators who rate the charter never read it; nor does another cluster's lead"),
        row("GET", "/api/v1/charter-rounds/{id}/scores", "/api/v1/charter-rounds/<round>/scores", Bearer,
            none(), [401, 401, 404, 404, 404, 404, 404, 404])
            .note("an operation's round is no charter round"),
        row("GET", "/api/v1/rounds/{id}", "/api/v1/rounds/<charter_round>", Bearer,
            none(), [401, 401, 404, 404, 404, 404, 404, 404])
            .note("a charter round is no operation's round"),
        // ---- API: the inter-cluster view and the consolidated reports (the role
        // inter_cluster_coordinator, scoped to countries, is tested in tests/intercluster.rs:
        // another country's coordinator gets 403)
        row("GET", "/api/v1/countries/{country}", "/api/v1/countries/YE", Bearer, none(), ADMIN_ONLY)
            .note("admins and the country's inter-cluster coordinators"),
        row("GET", "/api/v1/countries/{country}/action-plan", "/api/v1/countries/YE/action-plan", Bearer,
            none(), ADMIN_ONLY),
        row("GET", "/api/v1/reports/consolidated", "/api/v1/reports/consolidated", Bearer, none(),
            [401, 401, 403, 403, 200, 200, 403, 200])
            .note("a global lead: their cluster's operations"),
        row("GET", "/api/v1/reports/consolidated", "/api/v1/reports/consolidated?cluster=health", Bearer, none(),
            [401, 401, 403, 403, 403, 200, 403, 200]),
        // ---- the OData feed (bearer, or Basic with the API token as password)
        row("GET", "/odata/rounds/{id}", "/odata/rounds/<round>", Bearer, none(), READ_A),
        row("GET", "/odata/rounds/{id}", "/odata/rounds/<round>", Cookie, none(), READ_A),
        row("GET", "/odata/rounds/{id}/{set}", "/odata/rounds/<round>/$metadata", Bearer, none(), READ_A),
        row("GET", "/odata/rounds/{id}/{set}", "/odata/rounds/<round>/Responses", Bearer, none(), READ_A)
            .note("an open round without a published snapshot: an empty set"),
        row("GET", "/odata/rounds/{id}/{set}", "/odata/rounds/<round>/Feedback?$orderby=x", Bearer, none(),
            [401, 401, 400, 400, 400, 400, 400, 400])
            .note("query options are checked before access"),
        row("GET", "/odata/rounds/{id}/{set}/$count", "/odata/rounds/<round>/Scores/$count", Bearer, none(), READ_A),
        row("GET", "/odata/rounds/{id}/{set}", "/odata/rounds/999999/Scores", Bearer, none(),
            [401, 401, 404, 404, 404, 404, 404, 404]),
        // ---- OpenRosa (ODK Collect): a collector's token in the address is the credential
        row("GET", "/openrosa/c/{token}/formList", "/openrosa/c/<collector_token>/formList", Bearer, none(), EVERYONE)
            .note("whoever holds the address; staff credentials add nothing"),
        row("GET", "/openrosa/c/{token}/formList", "/openrosa/c/<revoked_collector_token>/formList", Bearer,
            none(), [403; 8]),
        row("GET", "/openrosa/c/{token}/forms/{form}/form.xml",
            "/openrosa/c/<collector_token>/forms/aap-feedback/form.xml", Bearer, none(), EVERYONE),
        row("GET", "/openrosa/c/{token}/forms/{form}/form.xml",
            "/openrosa/c/<unknown_collector_token>/forms/aap-feedback/form.xml", Bearer, none(), [403; 8]),
        row("GET", "/openrosa/c/{token}/forms/{form}/manifest",
            "/openrosa/c/<collector_token>/forms/aap-feedback/manifest", Bearer, none(), EVERYONE),
        row("HEAD", "/openrosa/c/{token}/submission", "/openrosa/c/<collector_token>/submission", Bearer,
            none(), [204; 8]),
        row("POST", "/openrosa/c/{token}/submission", "/openrosa/c/<collector_token>/submission", Bearer,
            OpenRosa, [201; 8]),
        row("POST", "/openrosa/c/{token}/submission", "/openrosa/c/<revoked_collector_token>/submission",
            Bearer, OpenRosa, [403; 8]),
        // ---- OpenRosa for a survey invitation: its token in the address is the credential
        row("GET", "/openrosa/i/{token}/formList", "/openrosa/i/<fresh_token>/formList", Bearer, none(),
            TOKEN_ONLY).note("only the invitation's holder; staff credentials add nothing"),
        row("GET", "/openrosa/i/{token}/forms/{form}/form.xml",
            "/openrosa/i/<fresh_token>/forms/ccpm-partner/form.xml", Bearer, none(), TOKEN_ONLY),
        row("GET", "/openrosa/i/{token}/forms/{form}/form.xml",
            "/openrosa/i/<fresh_token>/forms/aap-feedback/form.xml", Bearer, none(), [404; 8])
            .note("an invitation's address serves its own survey only"),
        row("GET", "/openrosa/i/{token}/forms/{form}/manifest",
            "/openrosa/i/<fresh_token>/forms/ccpm-partner/manifest", Bearer, none(), TOKEN_ONLY),
        row("HEAD", "/openrosa/i/{token}/submission", "/openrosa/i/<fresh_token>/submission", Bearer,
            none(), [404, 204, 404, 404, 404, 404, 404, 404]),
        row("POST", "/openrosa/i/{token}/submission", "/openrosa/i/<fresh_token>/submission", Bearer,
            OpenRosaResponse, [404, 201, 404, 404, 404, 404, 404, 404]),
        // ---- API: responses (the invitation token is the credential)
        row("POST", "/api/v1/responses", "/api/v1/responses", Bearer,
            Json(r#"{"token": "<fresh_token>", "id": "<uuid>", "language": "en", "answers":
                {"meeting_attendance": "always", "meetings_useful": "agree", "overall_rating": 7}}"#),
            [404, 201, 404, 404, 404, 404, 404, 404])
            .note("staff credentials give no access to a questionnaire"),
        // ---- API: feedback
        row("GET", "/api/v1/feedback", "/api/v1/feedback", Bearer, none(), STAFF),
        row("GET", "/api/v1/feedback", "/api/v1/feedback?operation=shelter-yemen", Bearer, none(), READ_A),
        row("POST", "/api/v1/feedback", "/api/v1/feedback", Bearer, Json(FEEDBACK_WEB),
            [201, 201, 201, 403, 403, 403, 201, 201])
            .note("staff who send credentials are held to their operations"),
        row("POST", "/api/v1/feedback", "/api/v1/feedback", CookieNoCsrfHeader, Json(FEEDBACK_WEB),
            [201, 201, 403, 403, 403, 403, 403, 403]),
        row("POST", "/api/v1/feedback", "/api/v1/feedback", Bearer,
            Json(r#"{"operation": "shelter-yemen", "channel": "hotline", "answers":
                {"category": "complaint", "message": "Logged from the hotline", "consent_to_contact": "no"}}"#),
            [401, 401, 201, 403, 403, 403, 201, 201]),
        row("POST", "/api/v1/feedback", "/api/v1/feedback", Bearer,
            Json(r#"{"operation": "shelter-yemen", "channel": "hotline", "answers":
                {"category": "sensitive", "message": "Reported at the desk", "consent_to_contact": "no"}}"#),
            [401, 401, 201, 403, 403, 403, 201, 201])
            .note("staff who log for the operation log sensitive items too: sealed at once"),
        row("GET", "/api/v1/feedback/status/{reference}", "/api/v1/feedback/status/<reference>", Bearer, none(), EVERYONE),
        row("GET", "/api/v1/feedback/status/{reference}", "/api/v1/feedback/status/<sensitive_reference>", Bearer, none(), EVERYONE)
            .note("status only, never content"),
        row("GET", "/api/v1/feedback/{reference}", "/api/v1/feedback/<item>", Bearer, none(),
            [401, 401, 200, 404, 200, 404, 200, 200]),
        row("GET", "/api/v1/feedback/{reference}", "/api/v1/feedback/<sensitive_item>", Bearer, none(),
            [401, 401, 404, 404, 404, 404, 200, 404]),
        row("POST", "/api/v1/feedback/{reference}/events", "/api/v1/feedback/<fresh_item>/events", Bearer,
            Json(r#"{"action": "acknowledge"}"#), [401, 401, 200, 404, 403, 404, 200, 200]),
        row("POST", "/api/v1/feedback/{reference}/events", "/api/v1/feedback/<fresh_sensitive_item>/events", Bearer,
            Json(r#"{"action": "acknowledge"}"#), [401, 401, 404, 404, 404, 404, 200, 404]),
        row("POST", "/api/v1/feedback/{reference}/events", "/api/v1/feedback/<fresh_item>/events", CookieNoCsrfHeader,
            Json(r#"{"action": "acknowledge"}"#), [401, 401, 403, 403, 403, 403, 403, 403]),
        // ---- pages: sign-in, dashboard, assets
        row("GET", "/", "/", Cookie, none(), PAGE_STAFF),
        row("GET", "/login", "/login", Cookie, none(), [200, 200, 303, 303, 303, 303, 303, 303]),
        row("POST", "/login", "/login", Cookie,
            Form("csrf_token=forged&email=login%40test.example&password=<password>"), [403; 8])
            .note("the sign-in form needs its own CSRF cookie"),
        row("POST", "/logout", "/logout", Cookie, Form("csrf_token=<csrf>"), [LOGIN; 8]),
        row("POST", "/logout", "/logout", Cookie, Form("csrf_token="),
            [LOGIN, LOGIN, 403, 403, 403, 403, 403, 403]),
        row("GET", "/static/{file}", "/static/app.css", Cookie, none(), EVERYONE),
        // ---- pages: accounts
        row("GET", "/login/forgot", "/login/forgot", Cookie, none(), EVERYONE),
        row("POST", "/login/forgot", "/login/forgot", Cookie,
            Form("csrf_token=forged&email=login%40test.example"), [403; 8])
            .note("the form needs its own CSRF cookie"),
        row("GET", "/password/{token}", "/password/<token>", Cookie, none(), [404; 8])
            .note("an unknown link"),
        row("POST", "/password/{token}", "/password/<token>", Cookie,
            Form("csrf_token=forged&password=a+long+new+password&confirm=a+long+new+password"), [403; 8]),
        row("GET", "/admin/users", "/admin/users", Cookie, none(), PAGE_ADMIN),
        row("POST", "/account/totp", "/account/totp", Cookie, Form("csrf_token=<csrf>"), PAGE_STAFF),
        row("POST", "/account/totp/confirm", "/account/totp/confirm", Cookie,
            Form("csrf_token=<csrf>&code=000000"), [LOGIN, LOGIN, 400, 400, 400, 400, 400, 400])
            .note("a set-up is waiting (the row above), the code is wrong: the page again"),
        row("POST", "/account/totp/disable", "/account/totp/disable", Cookie,
            Form("csrf_token=<csrf>&code=000000"), [LOGIN, LOGIN, 409, 409, 409, 409, 409, 409])
            .note("nobody has an app on"),
        row("POST", "/login/code", "/login/code", Cookie, Form("code=000000"), [403; 8])
            .note("without a pending sign-in (password first) a code proves nothing"),
        row("POST", "/admin/users/invitations", "/admin/users/invitations", Cookie,
            Form("csrf_token=<csrf>&email=inv-<uniq>%40test.example&role=coordinator&operations=shelter-yemen"),
            PAGE_ADMIN_REDIRECT),
        row("POST", "/admin/users/{id}", "/admin/users/<fresh_user>", Cookie,
            Form("csrf_token=<csrf>&role=coordinator&operations=shelter-sudan"), PAGE_ADMIN_REDIRECT),
        row("POST", "/admin/users/{id}/status", "/admin/users/<fresh_user>/status", Cookie,
            Form("csrf_token=<csrf>&disabled=1"), PAGE_ADMIN_REDIRECT),
        row("POST", "/admin/users/{id}/status", "/admin/users/<fresh_user>/status", Cookie,
            Form("csrf_token=&disabled=1"), [LOGIN, LOGIN, 403, 403, 403, 403, 403, 403]),
        row("GET", "/admin/audit", "/admin/audit", Cookie, none(), PAGE_ADMIN),
        row("GET", "/admin/directory", "/admin/directory", Cookie, none(), PAGE_ADMIN),
        row("POST", "/admin/directory/clusters/{code}", "/admin/directory/clusters/<fresh_cluster>", Cookie,
            Form("csrf_token=<csrf>&name=Renamed&language=fr&lead_emails=a%40x.example.org"), PAGE_ADMIN_REDIRECT),
        row("POST", "/admin/directory/clusters/{code}", "/admin/directory/clusters/<fresh_cluster>", Cookie,
            Form("csrf_token=&name=Renamed&language=fr"), [LOGIN, LOGIN, 403, 403, 403, 403, 403, 403]),
        row("POST", "/admin/directory/operations/{slug}", "/admin/directory/operations/<fresh_operation>", Cookie,
            Form("csrf_token=<csrf>&name=Renamed&default_language=&archived=1"), PAGE_ADMIN_REDIRECT),
        row("POST", "/admin/directory/organizations/{id}", "/admin/directory/organizations/<fresh_org>", Cookie,
            Form("csrf_token=<csrf>&name=Renamed+<uniq>&org_type=ingo"), PAGE_ADMIN_REDIRECT),
        row("POST", "/admin/directory/organizations/{id}/merge", "/admin/directory/organizations/<fresh_org>/merge", Cookie,
            Form("csrf_token=<csrf>&into=<fresh_org_survivor>"), PAGE_ADMIN_REDIRECT),
        row("POST", "/admin/directory/operations/{slug}/areas", "/admin/directory/operations/<fresh_operation>/areas",
            Cookie, Multipart("<csrf>", "areas.csv", AREAS_FILE), PAGE_ADMIN_REDIRECT),
        row("POST", "/admin/directory/operations/{slug}/areas", "/admin/directory/operations/<fresh_operation>/areas",
            Cookie, Multipart("", "areas.csv", AREAS_FILE), [LOGIN, LOGIN, 403, 403, 403, 403, 403, 403])
            .note("a form without its CSRF token changes nothing"),
        row("GET", "/admin/surveys", "/admin/surveys", Cookie, none(), PAGE_ADMIN),
        row("POST", "/admin/surveys/uploads", "/admin/surveys/uploads", Cookie,
            Multipart("<csrf>", "s.toml", SURVEY_FILE), PAGE_ADMIN_REDIRECT),
        row("POST", "/admin/surveys/uploads", "/admin/surveys/uploads", Cookie,
            Multipart("", "s.toml", SURVEY_FILE), [LOGIN, LOGIN, 403, 403, 403, 403, 403, 403]),
        row("GET", "/admin/surveys/uploads/{id}", "/admin/surveys/uploads/<fresh_upload>", Cookie,
            none(), PAGE_ADMIN),
        row("POST", "/admin/surveys/uploads/{id}/publish", "/admin/surveys/uploads/<fresh_upload>/publish",
            Cookie, Form("csrf_token=<csrf>"), PAGE_ADMIN_REDIRECT),
        row("GET", "/account", "/account", Cookie, none(), PAGE_STAFF),
        row("POST", "/account/password", "/account/password", Cookie,
            Form("csrf_token=<csrf>&current_password=wrong+password+here&new_password=a+long+new+password&confirm=a+long+new+password"),
            [LOGIN, LOGIN, 400, 400, 400, 400, 400, 400])
            .note("a wrong current password changes nothing"),
        row("POST", "/account/tokens", "/account/tokens", Cookie,
            Form("csrf_token=<csrf>&label=page+<uniq>&expires_in_days=30"), PAGE_STAFF),
        row("POST", "/account/tokens/{id}/revoke", "/account/tokens/<own_api_token>/revoke", Cookie,
            Form("csrf_token=<csrf>"), [LOGIN, LOGIN, 303, 303, 303, 303, 303, 303]),
        // ---- pages: the questionnaire
        row("GET", "/s/{token}", "/s/<token>", Cookie, none(), TOKEN_ONLY),
        row("POST", "/s/{token}", "/s/<token>", Cookie,
            Form("csrf_token=<survey_csrf>&action=save&q_meetings_useful=agree"), TOKEN_ONLY),
        row("POST", "/s/{token}", "/s/<holder_token>", Cookie,
            Form("csrf_token=forged&action=save&q_meetings_useful=agree"), [403; 8])
            .note("the questionnaire form carries a token bound to the invitation"),
        row("GET", "/s/{token}/thanks", "/s/<token>/thanks", Cookie, none(), TOKEN_ONLY),
        row("GET", "/s/{token}/logic.js", "/s/<token>/logic.js", Cookie, none(), TOKEN_ONLY),
        // ---- pages: rounds and reports
        row("POST", "/rounds", "/rounds", Cookie,
            Form("csrf_token=<csrf>&operation=shelter-yemen&opens_on=<today>&closes_on=<in_30_days_date>"),
            PAGE_MANAGE_A_REDIRECT),
        row("GET", "/rounds/{id}", "/rounds/<round>", Cookie, none(), PAGE_READ_A),
        row("GET", "/rounds/{id}", "/rounds/<round>", Bearer, none(), PAGE_READ_A)
            .note("pages accept bearer tokens for reading"),
        row("POST", "/rounds/{id}/invitations", "/rounds/<round>/invitations", Cookie,
            Form("csrf_token=<csrf>&lines=p-<uniq>%40partner.example.org%2C+Partner+<uniq>%2C+ingo%2C+ccpm-partner"),
            PAGE_MANAGE_A),
        row("POST", "/rounds/{id}/remind", "/rounds/<round>/remind", Cookie, Form("csrf_token=<csrf>"), PAGE_MANAGE_A),
        row("POST", "/rounds/{id}/remind", "/rounds/<round>/remind", Cookie, Form("csrf_token="),
            [LOGIN, LOGIN, 403, 403, 403, 403, 403, 403]),
        row("POST", "/rounds/{id}/remind", "/rounds/<round>/remind", Bearer, Form("csrf_token="),
            [LOGIN, LOGIN, 403, 403, 403, 403, 403, 403])
            .note("forms need a cookie session's CSRF token; bearer tokens cannot post forms"),
        row("POST", "/rounds/{id}/close", "/rounds/<fresh_round>/close", Cookie, Form("csrf_token=<csrf>&confirm=yes"),
            PAGE_MANAGE_A_REDIRECT),
        row("GET", "/rounds/{id}/report", "/rounds/<round>/report", Cookie, none(), PAGE_READ_A),
        row("POST", "/rounds/{id}/actions", "/rounds/<round>/actions", Cookie,
            Form("csrf_token=<csrf>&indicator=2.1&action=Run+a+joint+assessment&owner=Coordinator"),
            PAGE_MANAGE_A_REDIRECT),
        row("POST", "/rounds/{id}/actions/{action}", "/rounds/<round>/actions/<action>", Cookie,
            Form("csrf_token=<csrf>&status=done"), PAGE_MANAGE_A_REDIRECT),
        // ---- pages: public feedback
        row("GET", "/f/status", "/f/status", Cookie, none(), EVERYONE),
        row("GET", "/f/status", "/f/status?ref=<reference>", Cookie, none(), EVERYONE),
        row("GET", "/f/{operation}", "/f/shelter-yemen", Cookie, none(), EVERYONE),
        row("POST", "/f/{operation}", "/f/shelter-yemen", Cookie,
            Form("csrf_token=<feedback_form_csrf>&q_category=question&q_message=Where+do+I+register%3F&q_consent_to_contact=no"),
            [303; 8]),
        row("POST", "/f/{operation}", "/f/shelter-yemen", Cookie,
            Form("csrf_token=forged&q_category=question&q_message=x&q_consent_to_contact=no"), [403; 8]),
        row("GET", "/f/{operation}/logic.js", "/f/shelter-yemen/logic.js", Cookie, none(), EVERYONE),
        // ---- pages: feedback inbox
        row("GET", "/feedback", "/feedback", Cookie, none(), PAGE_STAFF),
        row("POST", "/feedback", "/feedback", Cookie,
            Form("csrf_token=<csrf>&operation=shelter-yemen&channel=hotline&q_category=question&q_message=Logged+by+phone&q_consent_to_contact=no"),
            [LOGIN, LOGIN, 303, 403, 403, 403, 303, 303]),
        row("GET", "/feedback/{reference}", "/feedback/<item>", Cookie, none(),
            [LOGIN, LOGIN, 200, 404, 200, 404, 200, 200]),
        row("GET", "/feedback/{reference}", "/feedback/<sensitive_item>", Cookie, none(),
            [LOGIN, LOGIN, 404, 404, 404, 404, 200, 404]),
        row("POST", "/feedback/{reference}/events", "/feedback/<fresh_item>/events", Cookie,
            Form("csrf_token=<csrf>&action=acknowledge"), [LOGIN, LOGIN, 303, 404, 403, 404, 303, 303]),
        row("POST", "/feedback/{reference}/events", "/feedback/<fresh_item>/events", Cookie,
            Form("csrf_token=&action=acknowledge"), [LOGIN, LOGIN, 403, 403, 403, 403, 403, 403]),
        row("GET", "/operations/{slug}/feedback", "/operations/shelter-yemen/feedback", Cookie, none(), PAGE_READ_A),
        // ---- membership: the register, self-assessments, onboarding
        row("GET", "/api/v1/operations/{slug}/members", "/api/v1/operations/shelter-yemen/members", Bearer,
            none(), READ_MEMBERS_A),
        row("POST", "/api/v1/operations/{slug}/members", "/api/v1/operations/shelter-yemen/members", Bearer,
            Json(r#"{"organization": "Member <uniq>", "org_type": "nngo", "status": "member"}"#), CREATE_A),
        row("POST", "/api/v1/operations/{slug}/members", "/api/v1/operations/shelter-yemen/members",
            CookieNoCsrfHeader, Json(r#"{"organization": "Member <uniq>", "org_type": "nngo", "status": "member"}"#),
            [401, 401, 403, 403, 403, 403, 403, 403]),
        row("POST", "/api/v1/operations/{slug}/members/import",
            "/api/v1/operations/shelter-yemen/members/import?file_name=m.csv", Bearer, File(MEMBERS_FILE), MANAGE_A),
        row("GET", "/api/v1/operations/{slug}/members/{id}", "/api/v1/operations/shelter-yemen/members/<member>",
            Bearer, none(), READ_MEMBERS_A),
        row("GET", "/api/v1/operations/{slug}/members/{id}", "/api/v1/operations/shelter-sudan/members/<member>",
            Bearer, none(), [401, 401, 403, 404, 404, 403, 403, 404])
            .note("an entry of A is not found through B's register"),
        row("PATCH", "/api/v1/operations/{slug}/members/{id}", "/api/v1/operations/shelter-yemen/members/<member>",
            Bearer, Json(r#"{"level": "subnational"}"#), MANAGE_A),
        row("POST", "/api/v1/operations/{slug}/members/{id}/end",
            "/api/v1/operations/shelter-yemen/members/<fresh_member>/end", Bearer, Json("{}"), MANAGE_A),
        row("GET", "/api/v1/operations/{slug}/members/{id}/onboarding",
            "/api/v1/operations/shelter-yemen/members/<member>/onboarding", Bearer, none(), READ_MEMBERS_A),
        row("POST", "/api/v1/operations/{slug}/members/{id}/onboarding",
            "/api/v1/operations/shelter-yemen/members/<member>/onboarding", Bearer,
            Json(r#"{"item": "meetings", "done": true}"#), MANAGE_A),
        row("POST", "/api/v1/operations/{slug}/members/{id}/self-assessments",
            "/api/v1/operations/shelter-yemen/members/<member>/self-assessments", Bearer, Json(ALL_COMMITMENTS), CREATE_A),
        row("GET", "/api/v1/operations/{slug}/self-assessments", "/api/v1/operations/shelter-yemen/self-assessments",
            Bearer, none(), READ_MEMBERS_A),
        row("POST", "/api/v1/operations/{slug}/self-assessments/links",
            "/api/v1/operations/shelter-yemen/self-assessments/links", Bearer, Json(r#"{"send": false}"#), CREATE_A),
        row("GET", "/operations/{slug}/members", "/operations/shelter-yemen/members", Cookie, none(), PAGE_READ_MEMBERS_A),
        row("POST", "/operations/{slug}/members", "/operations/shelter-yemen/members", Cookie,
            Form("csrf_token=<csrf>&organization=Page+<uniq>&org_type=ingo&status=observer"), PAGE_MANAGE_A_REDIRECT),
        row("POST", "/operations/{slug}/members", "/operations/shelter-yemen/members", Cookie,
            Form("csrf_token=&organization=Page+<uniq>&org_type=ingo&status=observer"),
            [LOGIN, LOGIN, 403, 403, 403, 403, 403, 403]),
        row("POST", "/operations/{slug}/members/import", "/operations/shelter-yemen/members/import", Cookie,
            Multipart("<csrf>", "members.csv", MEMBERS_FILE), PAGE_MANAGE_A_REDIRECT),
        row("GET", "/operations/{slug}/members/{id}", "/operations/shelter-yemen/members/<member>", Cookie, none(),
            PAGE_READ_MEMBERS_A),
        row("POST", "/operations/{slug}/members/{id}", "/operations/shelter-yemen/members/<member>", Cookie,
            Form("csrf_token=<csrf>&action=save&level=national&focal_point_email=fp%40member.example.org"),
            PAGE_MANAGE_A_REDIRECT),
        row("POST", "/operations/{slug}/members/{id}/onboarding", "/operations/shelter-yemen/members/<member>/onboarding",
            Cookie, Form("csrf_token=<csrf>&items=tools&items=meetings"), PAGE_MANAGE_A_REDIRECT),
        row("POST", "/operations/{slug}/members/{id}/self-assessment",
            "/operations/shelter-yemen/members/<member>/self-assessment", Cookie, Form(ALL_COMMITMENTS_FORM),
            PAGE_MANAGE_A_REDIRECT),
        row("POST", "/operations/{slug}/self-assessments/links", "/operations/shelter-yemen/self-assessments/links",
            Cookie, Form("csrf_token=<csrf>&year="), PAGE_MANAGE_A),
        row("GET", "/operations/{slug}/commitments", "/operations/shelter-yemen/commitments", Cookie, none(),
            PAGE_READ_MEMBERS_A),
        row("GET", "/m/{token}", "/m/<token>", Cookie, none(), [404; 8])
            .note("an unknown self-assessment link"),
        row("POST", "/m/{token}", "/m/<token>", Cookie, Form("csrf_token=forged&rating.aap=meets"), [404; 8]),
        row("GET", "/operations/{slug}/collectors", "/operations/shelter-yemen/collectors", Cookie, none(),
            PAGE_MANAGE_A),
        row("POST", "/operations/{slug}/collectors", "/operations/shelter-yemen/collectors", Cookie,
            Form("csrf_token=<csrf>&name=Desk+<uniq>&channel=helpdesk"), PAGE_MANAGE_A),
        row("POST", "/operations/{slug}/collectors", "/operations/shelter-yemen/collectors", Cookie,
            Form("csrf_token=&name=Desk&channel=helpdesk"), [LOGIN, LOGIN, 403, 403, 403, 403, 403, 403]),
        row("POST", "/operations/{slug}/collectors/{id}/revoke",
            "/operations/shelter-yemen/collectors/<fresh_collector>/revoke", Cookie, Form("csrf_token=<csrf>"),
            PAGE_MANAGE_A_REDIRECT),
        // ---- scorecards and the outbox
        row("GET", "/api/v1/clusters/{code}/scorecard/charts/{file}",
            "/api/v1/clusters/shelter/scorecard/charts/grid.svg", Bearer, none(),
            [401, 401, 200, 200, 200, 403, 200, 200]),
        row("POST", "/api/v1/scorecards/send", "/api/v1/scorecards/send", Bearer,
            Json(r#"{"cluster": "shelter", "period": "2026-01"}"#),
            [401, 401, 403, 403, 200, 403, 403, 200])
            .note("admins, and the global leads of that cluster"),
        row("GET", "/api/v1/outbox", "/api/v1/outbox", Bearer, none(), [401, 401, 403, 403, 403, 403, 403, 200]),
        row("GET", "/clusters/{code}/scorecard", "/clusters/shelter/scorecard", Cookie, none(),
            [LOGIN, LOGIN, 200, 200, 200, 403, 200, 200]),
        row("POST", "/clusters/{code}/scorecard/send", "/clusters/shelter/scorecard/send", Cookie,
            Form("csrf_token=<csrf>&period=2026-02"), [LOGIN, LOGIN, 403, 403, 303, 403, 403, 303]),
        row("POST", "/clusters/{code}/scorecard/send", "/clusters/shelter/scorecard/send", Cookie,
            Form("csrf_token=&period=2026-02"), [LOGIN, LOGIN, 403, 403, 403, 403, 403, 403]),
        // ---- the inter-cluster pages
        row("GET", "/countries/{country}", "/countries/YE", Cookie, none(), PAGE_ADMIN),
        row("GET", "/countries/{country}/action-plan", "/countries/YE/action-plan", Cookie, none(), PAGE_ADMIN),
        row("GET", "/reports/consolidated", "/reports/consolidated", Cookie, none(),
            [LOGIN, LOGIN, 403, 403, 200, 200, 403, 200]),
        // ---- the service-charter report page
        row("GET", "/clusters/{code}/charter", "/clusters/shelter/charter", Cookie, none(),
            [LOGIN, LOGIN, 403, 403, 200, 403, 403, 200]),
        row("POST", "/clusters/{code}/charter", "/clusters/shelter/charter", Cookie,
            Form("csrf_token=<csrf>&title=Review&opens_on=<today>&closes_on=<in_30_days_date>"),
            [LOGIN, LOGIN, 403, 403, 303, 403, 403, 303]),
        row("POST", "/clusters/{code}/charter", "/clusters/shelter/charter", Cookie,
            Form("csrf_token=&opens_on=<today>&closes_on=<in_30_days_date>"),
            [LOGIN, LOGIN, 403, 403, 403, 403, 403, 403]),
        row("POST", "/clusters/{code}/charter/{id}/close", "/clusters/shelter/charter/<fresh_charter_round>/close",
            Cookie, Form("csrf_token=<csrf>"), [LOGIN, LOGIN, 403, 403, 303, 403, 403, 303]),
        // ---- Last: signing out everywhere ends the roles' shared sessions too.
        row("DELETE", "/api/v1/sessions", "/api/v1/sessions", CookieNoCsrfHeader, none(), [401, 401, 403, 403, 403, 403, 403, 403])
            .note("a cookie write without the CSRF header is refused"),
        row("DELETE", "/api/v1/sessions", "/api/v1/sessions", Cookie, none(), STAFF)
            .note("sign out everywhere: the caller's own sessions"),
    ]
}

/// Routes that end the cookie's own session: their rows sign in afresh. (Signing out
/// everywhere ends every session of the role, so its rows come last.)
const ENDS_SESSIONS: [&str; 1] = ["/logout"];

/// A staff member's credentials.
struct Staff {
    email: &'static str,
    token: String,
    cookie: String,
    csrf: String,
}

struct World {
    admin: String,
    staff: HashMap<&'static str, Staff>,
    round: i64,
    holder_token: String,
    action: i64,
    item: String,
    sensitive_item: String,
    /// An open service-charter round of the shelter cluster.
    charter_round: i64,
    member: i64,
}

/// Key, email, role, cluster, operations.
type Account = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static [&'static str],
);

fn staff_key(role: Role) -> Option<&'static str> {
    Some(match role {
        Role::CoordA => "coord-a",
        Role::CoordB => "coord-b",
        Role::Lead => "lead",
        Role::OtherLead => "other-lead",
        Role::PseaA => "psea-a",
        Role::Admin => "admin",
        Role::Anonymous | Role::Holder => return None,
    })
}

fn rfc3339_in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()
}

fn uniq() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

async fn sign_in(app: &TestApp, email: &str) -> (String, String) {
    let r = app
        .new_client()
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "sign in as {email}");
    let cookie = r
        .cookies()
        .find(|c| c.name() == "cp_session")
        .map(|c| format!("cp_session={}", c.value()))
        .expect("session cookie");
    let body: Value = r.json().await.unwrap();
    (cookie, body["csrf_token"].as_str().unwrap().to_string())
}

async fn expect_json(r: reqwest::Response, status: u16) -> Value {
    let got = r.status().as_u16();
    let text = r.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

impl World {
    async fn build(app: &TestApp) -> World {
        let admin = app.admin_token();
        app.seed_directory(&admin).await;
        let accounts: [Account; 6] = [
            (
                "coord-a",
                "coord-a@test.example",
                "coordinator",
                None,
                &["shelter-yemen"],
            ),
            (
                "coord-b",
                "coord-b@test.example",
                "coordinator",
                None,
                &["shelter-sudan"],
            ),
            (
                "lead",
                "lead@test.example",
                "global_lead",
                Some("shelter"),
                &[],
            ),
            (
                "other-lead",
                "lead-h@test.example",
                "global_lead",
                Some("health"),
                &[],
            ),
            (
                "psea-a",
                "psea-a@test.example",
                "psea_focal_point",
                None,
                &["shelter-yemen"],
            ),
            ("admin", "admin@test.example", "admin", None, &[]),
        ];
        let mut staff = HashMap::new();
        for (key, email, role, cluster, ops) in accounts {
            let token = if role == "admin" {
                admin.clone()
            } else {
                app.user_token(email, role, cluster, ops)
            };
            let (cookie, csrf) = sign_in(app, email).await;
            staff.insert(
                key,
                Staff {
                    email,
                    token,
                    cookie,
                    csrf,
                },
            );
        }
        // The account the sign-in rows use.
        app.user_token(
            "login@test.example",
            "coordinator",
            None,
            &["shelter-sudan"],
        );
        let mut w = World {
            admin,
            staff,
            round: 0,
            holder_token: String::new(),
            action: 0,
            item: String::new(),
            sensitive_item: String::new(),
            charter_round: 0,
            member: 0,
        };
        w.charter_round = w.new_charter_round(app).await;
        w.round = w.new_round(app, false).await;
        w.holder_token = w.new_token(app).await;
        let v = expect_json(
            app.post_json(
                &w.admin,
                &format!("/api/v1/rounds/{}/actions", w.round),
                json!({"indicator": "1.2", "action": "Map who does what where", "owner": "IMO"}),
            )
            .await,
            201,
        )
        .await;
        w.action = v["id"].as_i64().unwrap();
        w.item = w.new_item(app, false).await;
        w.sensitive_item = w.new_item(app, true).await;
        w.member = w.new_member(app).await;
        w
    }

    /// An entry of shelter-yemen's membership register (with a focal point); its id.
    async fn new_member(&self, app: &TestApp) -> i64 {
        let v = expect_json(
            app.post_json(
                &self.admin,
                "/api/v1/operations/shelter-yemen/members",
                json!({"organization": format!("Member {}", uniq()), "org_type": "ingo",
                       "status": "member", "focal_point_email": "fp@member.example.org"}),
            )
            .await,
            201,
        )
        .await;
        v["id"].as_i64().unwrap()
    }

    /// An open (or scheduled) round of shelter-yemen.
    async fn new_round(&self, app: &TestApp, scheduled: bool) -> i64 {
        let opens = if scheduled {
            rfc3339_in_days(2)
        } else {
            chrono::Utc::now().to_rfc3339()
        };
        let v = expect_json(
            app.post_json(
                &self.admin,
                "/api/v1/rounds",
                json!({"operation": "shelter-yemen", "framework": "ccpm",
                       "surveys": ["ccpm-partner", "ccpm-coordinator"],
                       "opens_at": opens, "closes_at": rfc3339_in_days(30)}),
            )
            .await,
            201,
        )
        .await;
        v["id"].as_i64().unwrap()
    }

    /// An open service-charter round of the shelter cluster.
    async fn new_charter_round(&self, app: &TestApp) -> i64 {
        let v = expect_json(
            app.post_json(
                &self.admin,
                "/api/v1/clusters/shelter/charter-rounds",
                json!({"opens_at": chrono::Utc::now().to_rfc3339(), "closes_at": rfc3339_in_days(30)}),
            )
            .await,
            201,
        )
        .await;
        v["id"].as_i64().unwrap()
    }

    /// A new invitation to the shared round; its token.
    async fn new_token(&self, app: &TestApp) -> String {
        let v = expect_json(
            app.post_json(
                &self.admin,
                &format!("/api/v1/rounds/{}/invitations", self.round),
                json!({"send": false, "invitations": [{"email": format!("holder-{}@partner.example.org", uniq()),
                       "organization": "Holder Org", "org_type": "ingo", "survey": "ccpm-partner"}]}),
            )
            .await,
            201,
        )
        .await;
        v["invitations"][0]["token"].as_str().unwrap().to_string()
    }

    /// A fresh API token of the staff member `key` (made with their own bearer token); its id.
    async fn new_api_token(&self, app: &TestApp, key: &str) -> String {
        let v = expect_json(
            app.post_json(
                &self.staff[key].token,
                "/api/v1/tokens",
                json!({"label": format!("authz {}", uniq())}),
            )
            .await,
            201,
        )
        .await;
        v["id"].to_string()
    }

    /// A collector of shelter-yemen (made by the admin), revoked if asked: its id and token.
    async fn new_collector(&self, app: &TestApp, revoked: bool) -> (String, String) {
        let v = expect_json(
            app.post_json(
                &self.admin,
                "/api/v1/operations/shelter-yemen/collectors",
                json!({"name": format!("Desk {}", uniq())}),
            )
            .await,
            201,
        )
        .await;
        let id = v["id"].to_string();
        if revoked {
            let r = app
                .client
                .delete(app.url(&format!("/api/v1/operations/shelter-yemen/collectors/{id}")))
                .bearer_auth(&self.admin)
                .send()
                .await
                .unwrap();
            expect_json(r, 200).await;
        }
        let url = v["server_url"].as_str().unwrap();
        (id, url.rsplit('/').next().unwrap().to_string())
    }

    /// A feedback item of shelter-yemen from the public form; its reference.
    async fn new_item(&self, app: &TestApp, sensitive: bool) -> String {
        let category = if sensitive { "sensitive" } else { "complaint" };
        let v = expect_json(
            app.new_client()
                .post(app.url("/api/v1/feedback"))
                .json(&json!({"operation": "shelter-yemen", "answers":
                    {"category": category, "message": "The water point is broken", "consent_to_contact": "no"}}))
                .send()
                .await
                .unwrap(),
            201,
        )
        .await;
        v["reference"].as_str().unwrap().to_string()
    }

    /// Fills the placeholders of one call (fresh targets are created here).
    async fn resolve(
        &self,
        app: &TestApp,
        role: Role,
        template: &str,
        vars: &mut HashMap<String, String>,
    ) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find('<') {
            let Some(len) = rest[start..].find('>') else {
                break;
            };
            let name = &rest[start + 1..start + len];
            out.push_str(&rest[..start]);
            if !vars.contains_key(name) {
                let value = self.value(app, role, name, vars).await;
                vars.insert(name.to_string(), value);
            }
            out.push_str(&vars[name]);
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        out
    }

    async fn value(
        &self,
        app: &TestApp,
        role: Role,
        name: &str,
        vars: &HashMap<String, String>,
    ) -> String {
        let unknown_token = "QmFkVG9rZW5Ob2JvZHlIb2xkcw";
        let today = chrono::Utc::now().date_naive();
        match name {
            "password" => PASSWORD.to_string(),
            "uniq" => uniq(),
            "uuid" => uuid::Uuid::new_v4().to_string(),
            "now" => chrono::Utc::now().to_rfc3339(),
            "in_30_days" => rfc3339_in_days(30),
            "today" => today.to_string(),
            "in_30_days_date" => (today + chrono::Duration::days(30)).to_string(),
            "round" => self.round.to_string(),
            "fresh_round" => self.new_round(app, false).await.to_string(),
            "charter_round" => self.charter_round.to_string(),
            "fresh_charter_round" => self.new_charter_round(app).await.to_string(),
            "scheduled_round" => self.new_round(app, true).await.to_string(),
            "action" => self.action.to_string(),
            "member" => self.member.to_string(),
            "fresh_member" => self.new_member(app).await.to_string(),
            "item" | "reference" => self.item.clone(),
            "sensitive_item" | "sensitive_reference" => self.sensitive_item.clone(),
            "fresh_item" => self.new_item(app, false).await,
            "fresh_sensitive_item" => self.new_item(app, true).await,
            "holder_token" => self.holder_token.clone(),
            // Collector accounts of shelter-yemen made for this call: an id, a token, a
            // revoked one's token, and one that was never made.
            "fresh_collector" => self.new_collector(app, false).await.0,
            "collector_token" => self.new_collector(app, false).await.1,
            "revoked_collector_token" => self.new_collector(app, true).await.1,
            "unknown_collector_token" => "Tm9ib2R5SG9sZHNUaGlzQ29sbGVjdG9yVG9rZW4xMjM0".to_string(),
            // A token of the caller's own (the admin's for those without an account).
            "own_api_token" => {
                self.new_api_token(app, staff_key(role).unwrap_or("admin"))
                    .await
            }
            "coord_a_api_token" => self.new_api_token(app, "coord-a").await,
            // A coordinator invited for this call; its user id.
            "fresh_user" => {
                let v = expect_json(
                    app.post_json(
                        &self.admin,
                        "/api/v1/users/invitations",
                        json!({"email": format!("fresh-{}@test.example", uniq()), "role": "coordinator",
                               "operations": ["shelter-yemen"]}),
                    )
                    .await,
                    201,
                )
                .await;
                v["user"]["id"].to_string()
            }
            // A survey draft uploaded for this call; its upload id.
            "fresh_upload" => {
                let r = app
                    .client
                    .post(app.url("/api/v1/surveys/uploads?file_name=fresh.toml"))
                    .bearer_auth(&self.admin)
                    .body(SURVEY_FILE.replace("<uniq>", &uniq()))
                    .send()
                    .await
                    .unwrap();
                expect_json(r, 201).await["id"].to_string()
            }
            // Directory entries made for this call: a cluster's code, an operation's slug,
            // organizations' ids.
            "fresh_cluster" => {
                let code = format!("c-{}", uniq());
                let body = json!({"code": code, "name": "Fresh cluster"});
                expect_json(
                    app.post_json(&self.admin, "/api/v1/clusters", body).await,
                    201,
                )
                .await;
                code
            }
            "fresh_operation" => {
                let slug = format!("op-{}", uniq());
                let body =
                    json!({"slug": slug, "cluster": "shelter", "country": "YE", "name": "Fresh"});
                expect_json(
                    app.post_json(&self.admin, "/api/v1/operations", body).await,
                    201,
                )
                .await;
                slug
            }
            "fresh_org" | "fresh_org_survivor" => {
                let body = json!({"name": format!("Org {}", uniq()), "org_type": "nngo"});
                let v = expect_json(
                    app.post_json(&self.admin, "/api/v1/organizations", body)
                        .await,
                    201,
                )
                .await;
                v["id"].to_string()
            }
            // Only the holder holds a token; everyone else tries one that nobody holds.
            "token" if role == Role::Holder => self.holder_token.clone(),
            "fresh_token" if role == Role::Holder => self.new_token(app).await,
            "token" | "fresh_token" => unknown_token.to_string(),
            "survey_csrf" => {
                let token = vars
                    .get("token")
                    .or(vars.get("holder_token"))
                    .or(vars.get("fresh_token"))
                    .expect("survey_csrf follows a token in the row");
                clusterpulse::kernel::secrets::keyed_digest(SECRET, "survey-form", token)
            }
            "feedback_form_csrf" => clusterpulse::kernel::secrets::keyed_digest(
                SECRET,
                "feedback-form",
                &format!("shelter-yemen|{}", chrono::Utc::now().format("%Y-%m-%d")),
            ),
            "csrf" => staff_key(role)
                .map(|k| self.staff[k].csrf.clone())
                .unwrap_or_default(),
            other => panic!("unknown placeholder <{other}>"),
        }
    }
}

fn status_of(r: &reqwest::Response) -> u16 {
    let s = r.status().as_u16();
    let to_login = r
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .is_some_and(|l| l == "/login");
    if s == 303 && to_login {
        LOGIN
    } else {
        s
    }
}

fn show(code: u16) -> String {
    if code == LOGIN {
        "303→/login".into()
    } else {
        code.to_string()
    }
}

/// Makes one call; a description of the mismatch if the status is not `expect`.
async fn call(
    app: &TestApp,
    w: &World,
    client: &reqwest::Client,
    row: &Row,
    role: Role,
    expect: u16,
) -> Option<String> {
    let mut vars = HashMap::new();
    let path = w.resolve(app, role, row.path, &mut vars).await;
    let method = reqwest::Method::from_bytes(row.method.as_bytes()).unwrap();
    let mut req = client.request(method.clone(), app.url(&path));
    let staff = staff_key(role).map(|k| &w.staff[k]);
    match (row.cred, staff) {
        (Cred::InvitationBearer, _) => req = req.bearer_auth(&w.holder_token),
        (_, None) => {}
        (Cred::Bearer, Some(s)) => req = req.bearer_auth(&s.token),
        (Cred::Cookie, Some(s)) => {
            // Signing out ends the session: those rows get a session of their own, so the
            // role's shared one lives on for the rows after them.
            let (cookie, csrf) = if ENDS_SESSIONS.contains(&row.path) {
                let (cookie, csrf) = sign_in(app, s.email).await;
                vars.insert("csrf".to_string(), csrf.clone());
                (cookie, csrf)
            } else {
                (s.cookie.clone(), s.csrf.clone())
            };
            req = req.header("Cookie", cookie);
            if method != reqwest::Method::GET {
                req = req.header("X-CSRF-Token", csrf);
            }
        }
        (Cred::CookieNoCsrfHeader, Some(s)) => req = req.header("Cookie", &s.cookie),
    }
    match &row.body {
        Body::None => {}
        Body::Json(t) => {
            let body = w.resolve(app, role, t, &mut vars).await;
            let v: Value = serde_json::from_str(&body).expect("row body is JSON");
            req = req.json(&v);
        }
        Body::Form(t) => {
            let body = w.resolve(app, role, t, &mut vars).await;
            req = req
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body);
        }
        Body::File(t) => {
            let body = w.resolve(app, role, t, &mut vars).await;
            req = req
                .header("Content-Type", "application/octet-stream")
                .body(body);
        }
        Body::Multipart(csrf, name, t) => {
            let csrf = w.resolve(app, role, csrf, &mut vars).await;
            let file = w.resolve(app, role, t, &mut vars).await;
            let body = format!(
                "--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n\
                 --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n{file}\r\n--XyZ--\r\n"
            );
            req = req
                .header("Content-Type", "multipart/form-data; boundary=XyZ")
                .body(body);
        }
        Body::OpenRosa | Body::OpenRosaResponse => {
            let answers = if matches!(row.body, Body::OpenRosa) {
                "<data id=\"aap-feedback\"><category>question</category>\
                 <message>Collected offline</message><consent_to_contact>no</consent_to_contact>"
            } else {
                "<data id=\"ccpm-partner\"><meeting_attendance>always</meeting_attendance>\
                 <meetings_useful>agree</meetings_useful><overall_rating>7</overall_rating>"
            };
            let xml = format!(
                "{answers}<meta><instanceID>uuid:{}</instanceID></meta></data>",
                uuid::Uuid::new_v4()
            );
            let body = format!(
                "--XyZ\r\nContent-Disposition: form-data; name=\"xml_submission_file\"; \
                 filename=\"instance.xml\"\r\nContent-Type: text/xml\r\n\r\n{xml}\r\n--XyZ--\r\n"
            );
            req = req
                .header("Content-Type", "multipart/form-data; boundary=XyZ")
                .body(body);
        }
    }
    let r = req.send().await.expect("request");
    let got = status_of(&r);
    if got == expect {
        return None;
    }
    let text = r.text().await.unwrap_or_default();
    Some(format!(
        "{:<10} {} {} [{:?}{}]: expected {}, got {} — {}",
        format!("{role:?}"),
        row.method,
        path,
        row.cred,
        if row.note.is_empty() {
            String::new()
        } else {
            format!("; {}", row.note)
        },
        show(expect),
        show(got),
        text.chars()
            .take(160)
            .collect::<String>()
            .replace('\n', " ")
    ))
}

async fn matrix(app: TestApp) {
    let started = std::time::Instant::now();
    let rows = rows();
    // Every route has a row, and every row names a real route.
    let routes: BTreeSet<(String, String)> = clusterpulse::web::route_list()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p))
        .collect();
    let covered: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r.method.to_string(), r.pattern.to_string()))
        .collect();
    let missing: Vec<_> = routes.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the authorization matrix (tests/authz.rs): {missing:?}"
    );
    let unknown: Vec<_> = covered.difference(&routes).collect();
    assert!(
        unknown.is_empty(),
        "rows for routes the app does not have: {unknown:?}"
    );

    let w = World::build(&app).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut failures = Vec::new();
    let mut calls = 0;
    for row in &rows {
        // The roles of one row run concurrently: each call has its own fresh targets.
        let results = futures_util::future::join_all(
            ROLES
                .iter()
                .enumerate()
                .map(|(i, role)| call(&app, &w, &client, row, *role, row.expect[i])),
        )
        .await;
        calls += results.len();
        failures.extend(results.into_iter().flatten());
    }
    eprintln!(
        "authorization matrix on {:?}: {} routes, {} rows × {} roles = {} calls in {:.1?}",
        app.backend,
        routes.len(),
        rows.len(),
        ROLES.len(),
        calls,
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} of {calls} calls got an unexpected status:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

async fn spawn(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |env| {
        // Every call comes from 127.0.0.1: limits would turn later rows into 429s.
        env.insert("CLUSTERPULSE_RATE_LIMIT_PUBLIC".into(), "0".into());
        env.insert("CLUSTERPULSE_RATE_LIMIT_LOGIN".into(), "0".into());
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix_sqlite() {
    matrix(spawn(Backend::Sqlite).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix_postgres() {
    match spawn(Backend::Postgres).await {
        Some(app) => matrix(app).await,
        None => eprintln!("skipped: TEST_DATABASE_URL is not set, PostgreSQL not tested"),
    }
}
