//! The questionnaire a partner opens from their invitation link: `/s/{token}`.
//! Server-rendered, small, usable without JavaScript; with JavaScript, skip logic runs in
//! the browser from the same expressions the server checks.

use crate::db::models::Round;
use crate::domain::rounds::{self, Submitted};
use crate::kernel::error::AppError;
use crate::kernel::secrets;
use crate::kernel::vocab::RoundState;
use crate::render::i18n;
use crate::surveys::model::{Question, QuestionType, Survey, Text, MAX_REPEAT_ROWS};
use crate::web::pages::html;
use crate::web::State;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Map, Value};

crate::web::routes::route_table! {
    "/s/{token}" => { GET show, POST post },
    "/s/{token}/thanks" => { GET thanks },
    "/s/{token}/logic.js" => { GET logic_js },
}

#[derive(Deserialize)]
pub struct LangQuery {
    pub lang: Option<String>,
}

pub fn text<'a>(t: &'a Text, lang: &str, default: &str) -> &'a str {
    t.get(lang)
        .or_else(|| t.get(default))
        .map(|s| s.as_str())
        .unwrap_or("")
}

pub fn pick_lang(survey: &Survey, candidates: &[Option<&str>]) -> String {
    candidates
        .iter()
        .flatten()
        .find(|l| survey.languages.iter().any(|s| s == *l))
        .map(|l| l.to_string())
        .unwrap_or_else(|| survey.default_language().to_string())
}

fn form_csrf(state: &State, token: &str) -> String {
    secrets::keyed_digest(&state.config.secret_key, "survey-form", token)
}

/// Where a rendered questionnaire posts to, and what differs between the invitation survey
/// and the public feedback form.
pub struct FormTarget {
    pub action: String,
    pub logic_src: String,
    pub csrf_token: String,
    pub can_save: bool,
    pub note: &'static str,
    pub submit_label: &'static str,
    /// The operation's administrative areas: `admin1` and `admin2` are then chosen from
    /// them (admin2 grouped by admin1, so the choice cascades without JavaScript).
    pub areas: Option<crate::domain::areas::Areas>,
    /// Lines under the title saying what the form is about and where it goes.
    pub about: Vec<String>,
    /// The OpenRosa address to fill the form in offline with ODK Collect or KoboCollect
    /// (an invitation's, when its survey can be written as an XForm).
    pub offline_url: Option<String>,
}

impl FormTarget {
    fn survey(state: &State, token: &str, lang: &str, about: &About) -> FormTarget {
        FormTarget {
            action: format!("/s/{token}"),
            logic_src: format!("/s/{token}/logic.js"),
            csrf_token: form_csrf(state, token),
            can_save: true,
            note: i18n::t(lang, "anonymous_note"),
            submit_label: i18n::t(lang, "submit"),
            areas: None,
            about: about.lines(lang),
            offline_url: None,
        }
    }
}

/// Which operation, cluster and round a survey link belongs to, for the heading.
pub struct About {
    place: rounds::RoundPlace,
    round: String,
    closes_at: chrono::NaiveDateTime,
}

impl About {
    fn load(conn: &mut crate::db::DbConnection, round: &Round) -> Result<About, AppError> {
        Ok(About {
            place: rounds::place_of(conn, round)?,
            round: round.title.clone(),
            closes_at: round.closes_at,
        })
    }

    fn lines(&self, lang: &str) -> Vec<String> {
        vec![
            if self.place.charter {
                self.place.cluster.clone()
            } else {
                format!("{} · {}", self.place.operation, self.place.cluster)
            },
            i18n::fill(
                i18n::t(lang, "survey_round"),
                &[
                    ("round", &self.round),
                    ("closes", &i18n::date_time(self.closes_at, lang)),
                ],
            ),
        ]
    }
}

/// Everything the template needs for one rendering of the form.
pub fn render_form(
    state: &State,
    target: &FormTarget,
    survey: &Survey,
    lang: &str,
    answers: &Map<String, Value>,
    errors: &std::collections::BTreeMap<String, String>,
    notice: Option<&str>,
) -> Result<String, AppError> {
    let default = survey.default_language();
    // The first field in error takes the focus when the page opens (no script needed).
    let first_error = survey
        .questions
        .iter()
        .find(|q| errors.contains_key(&q.name) || errors.keys().any(|k| is_row_field(k, &q.name)))
        .map(|q| {
            errors
                .keys()
                .find(|k| *k == &q.name || is_row_field(k, &q.name))
                .map(String::as_str)
                .unwrap_or(&q.name)
        });
    // A question as the template shows it. `field`: its form name (`member.0.age` for a
    // question of a repeat row, whose answer is `current`), `row`: the row's name.
    let question_json = |q: &crate::surveys::model::Question,
                         field: &str,
                         row: Option<&str>,
                         current: Option<&Value>|
     -> Value {
        let current_text = match current {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let selected: Vec<String> = match current {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        };
        let options: Vec<Value> = survey
            .choice_list(q)
            .unwrap_or(&[])
            .iter()
            .map(|c| {
                // The columns a choice filter tests, for the page's script.
                let columns = (q.choice_filter.is_some())
                    .then(|| serde_json::to_string(&c.columns).unwrap_or_default());
                json!({
                    "value": c.value,
                    "label": text(&c.label, lang, default),
                    "checked": selected.contains(&c.value),
                    "columns": columns,
                })
            })
            .collect();
        let range_hint = q.range.map(|r| {
            i18n::fill(
                i18n::t(lang, "range_hint"),
                &[
                    ("start", &r.start.to_string()),
                    ("end", &r.end.to_string()),
                    ("step", &r.step.to_string()),
                ],
            )
        });
        let areas = target
            .areas
            .as_ref()
            .filter(|a| !a.is_empty() && (q.name == "admin1" || q.name == "admin2"));
        let area_groups: Vec<Value> = match areas {
            Some(a) if q.name == "admin1" => vec![json!({"label": null, "options":
                a.admin1.iter().map(|x| json!({"value": x.pcode, "label": x.name,
                    "selected": current_text == x.pcode})).collect::<Vec<_>>()})],
            Some(a) => a
                .admin1
                .iter()
                .map(|r| {
                    json!({"label": r.name, "options": a.admin2.iter()
                        .filter(|d| d.parent.as_deref() == Some(r.pcode.as_str()))
                        .map(|d| json!({"value": d.pcode, "label": d.name,
                            "selected": current_text == d.pcode}))
                        .collect::<Vec<_>>()})
                })
                .collect(),
            None => Vec::new(),
        };
        json!({
            "name": field,
            "qname": q.name,
            "row": row,
            "is_area": areas.is_some(),
            "area_groups": area_groups,
            "area_other_selected": current_text == crate::domain::areas::OTHER,
            "label": text(&q.label, lang, default),
            "hint": text(&q.hint, lang, default),
            "required": q.required,
            "has_relevant": q.relevant.is_some(),
            "value": current_text,
            "options": options,
            "error": errors.get(field),
            "autofocus": first_error == Some(field),
            "is_text": q.qtype == QuestionType::Text,
            "is_integer": q.qtype == QuestionType::Integer,
            "is_decimal": q.qtype == QuestionType::Decimal,
            "is_date": q.qtype == QuestionType::Date,
            "is_select_one": q.qtype == QuestionType::SelectOne,
            "is_select_multiple": q.qtype == QuestionType::SelectMultiple,
            "is_note": q.qtype == QuestionType::Note,
            "is_geopoint": q.qtype == QuestionType::Geopoint,
            "is_calculate": q.qtype == QuestionType::Calculate,
            "is_acknowledge": q.qtype == QuestionType::Acknowledge,
            "is_range": q.qtype == QuestionType::Range,
            "is_repeat": q.qtype == QuestionType::Repeat,
            "range_hint": range_hint,
        })
    };
    // A repeat: its rows so far, then empty ones to fill (one when drafts can be saved,
    // which brings another; three otherwise).
    let repeat_json = |q: &crate::surveys::model::Question| -> Value {
        let mut out = question_json(q, &q.name, None, None);
        let existing: Vec<&Map<String, Value>> = match answers.get(&q.name) {
            Some(Value::Array(rows)) => rows.iter().filter_map(Value::as_object).collect(),
            _ => Vec::new(),
        };
        let blank = if target.can_save { 1 } else { 3 };
        let n = (existing.len() + blank).min(MAX_REPEAT_ROWS);
        let rows: Vec<Value> = (0..n)
            .map(|i| {
                let row_name = format!("{}.{i}", q.name);
                let values = existing.get(i);
                let questions: Vec<Value> = q
                    .questions
                    .iter()
                    .map(|c| {
                        question_json(
                            c,
                            &format!("{row_name}.{}", c.name),
                            Some(&row_name),
                            values.and_then(|r| r.get(&c.name)),
                        )
                    })
                    .collect();
                json!({
                    "id": row_name,
                    "title": i18n::fill(i18n::t(lang, "repeat_row"), &[("n", &(i + 1).to_string())]),
                    "questions": questions,
                })
            })
            .collect();
        out["rows"] = Value::Array(rows);
        out
    };
    // Group questions by section, in order of first appearance.
    let mut sections: Vec<Value> = Vec::new();
    let mut current: Option<String> = None;
    for q in &survey.questions {
        if sections.is_empty() || q.section != current {
            current = q.section.clone();
            let title = q
                .section
                .as_ref()
                .and_then(|id| survey.sections.iter().find(|s| &s.id == id))
                .map(|s| text(&s.title, lang, default).to_string());
            sections.push(json!({"title": title, "questions": []}));
        }
        if let Some(Value::Array(qs)) = sections.last_mut().and_then(|s| s.get_mut("questions")) {
            qs.push(if q.qtype == QuestionType::Repeat {
                repeat_json(q)
            } else {
                question_json(q, &q.name, None, answers.get(&q.name))
            });
        }
    }
    let languages: Vec<Value> = survey
        .languages
        .iter()
        .map(|l| json!({"code": l, "name": i18n::language_name(l), "current": l == lang}))
        .collect();
    // The summary at the top links each message to its question, in the survey's order.
    let mut error_list: Vec<Value> = Vec::new();
    for q in &survey.questions {
        let label = text(&q.label, lang, default);
        if let Some(e) = errors.get(&q.name) {
            error_list.push(json!({"name": q.name, "label": label, "message": e}));
        }
        // Errors of a repeat's rows: `member.0.age` is "Members, row 1: Age".
        for (key, e) in errors.iter().filter(|(k, _)| is_row_field(k, &q.name)) {
            let mut parts = key[q.name.len() + 1..].splitn(2, '.');
            let (Some(i), Some(inner)) = (parts.next(), parts.next()) else {
                continue;
            };
            let row = i.parse::<usize>().map(|i| i + 1).unwrap_or(0);
            let inner_label = q
                .questions
                .iter()
                .find(|c| c.name == inner)
                .map(|c| text(&c.label, lang, default))
                .unwrap_or(inner);
            let row_title = i18n::fill(i18n::t(lang, "repeat_row"), &[("n", &row.to_string())]);
            error_list.push(json!({
                "name": key,
                "label": format!("{label}, {row_title}: {inner_label}"),
                "message": e,
            }));
        }
    }
    let other_errors: Vec<&String> = errors
        .iter()
        .filter(|(k, _)| {
            survey.question(k).is_none()
                && !survey.questions.iter().any(|q| is_row_field(k, &q.name))
        })
        .map(|(_, v)| v)
        .collect();
    Ok(state.templates.render(
        "survey",
        &json!({
            "title": text(&survey.title, lang, default),
            "lang": lang,
            "rtl": i18n::is_rtl(lang),
            "t": i18n::all(lang),
            "action": target.action,
            "logic_src": target.logic_src,
            "csrf_token": target.csrf_token,
            "can_save": target.can_save,
            "note": target.note,
            "submit_label": target.submit_label,
            "description": text(&survey.description, lang, default),
            "sections": sections,
            "languages": languages,
            "has_errors": !errors.is_empty(),
            "error_list": error_list,
            "about": target.about,
            "other_errors": other_errors,
            "notice": notice,
            "offline_url": target.offline_url,
        }),
    )?)
}

/// Whether `key` names a field of a row of repeat `repeat` (`member.0.age`).
fn is_row_field(key: &str, repeat: &str) -> bool {
    key.strip_prefix(repeat)
        .and_then(|rest| rest.strip_prefix('.'))
        .is_some()
}

pub fn message_page(
    state: &State,
    lang: &str,
    title: &str,
    body: &str,
) -> Result<String, AppError> {
    Ok(state.templates.render(
        "message",
        &json!({"title": title, "lang": lang, "rtl": i18n::is_rtl(lang), "heading": title, "body": body}),
    )?)
}

async fn show(
    state: State,
    req: actix_web::HttpRequest,
    path: web::Path<String>,
    query: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let catalog = state.catalog.current();
    let tok = token.clone();
    let (inv, round, draft, about) = state
        .db(move |conn| {
            let (inv, round) = rounds::invitation_for_token(conn, &tok)?;
            let draft = rounds::load_draft(conn, inv.id)?;
            let about = About::load(conn, &round)?;
            Ok((inv, round, draft, about))
        })
        .await?;
    let survey = catalog
        .survey(&inv.survey_id)
        .ok_or_else(|| AppError::not_found("survey"))?;
    let draft_lang = draft.as_ref().map(|(l, _)| l.as_str());
    let lang = pick_lang(
        survey,
        &[query.lang.as_deref(), draft_lang, inv.language.as_deref()],
    );
    if inv.submission_key.is_some() {
        let t = i18n::t(&lang, "thanks_title");
        return Ok(html(message_page(
            &state,
            &lang,
            t,
            i18n::t(&lang, "already_submitted"),
        )?));
    }
    match round.effective_state(crate::kernel::time::now()) {
        RoundState::Closed => {
            let body = message_page(
                &state,
                &lang,
                &survey.title[survey.default_language()],
                i18n::t(&lang, "round_closed"),
            )?;
            return Ok(HttpResponse::Gone()
                .content_type("text/html; charset=utf-8")
                .body(body));
        }
        RoundState::Scheduled => {
            let body = message_page(
                &state,
                &lang,
                &survey.title[survey.default_language()],
                i18n::t(&lang, "round_not_open"),
            )?;
            return Ok(html(body));
        }
        _ => {}
    }
    let answers = draft.map(|(_, a)| a).unwrap_or_default();
    let mut target = FormTarget::survey(&state, &token, &lang, &about);
    if crate::surveys::xform::write(survey, &Default::default()).is_ok() {
        target.offline_url = Some(format!(
            "{}{}{token}",
            crate::web::public_base(&state, &req),
            rounds::collect::PATH_PREFIX
        ));
    }
    let page = render_form(
        &state,
        &target,
        survey,
        &lang,
        &answers,
        &Default::default(),
        None,
    )?;
    Ok(html(page))
}

/// Reads a urlencoded form into answers: repeated keys (checkboxes) become arrays for
/// `select_multiple` questions; control fields are returned separately.
pub fn parse_form(survey: &Survey, body: &[u8]) -> (Map<String, Value>, Map<String, Value>) {
    let mut answers = Map::new();
    let mut control = Map::new();
    for (k, v) in form_urlencoded::parse(body) {
        let (k, v) = (k.into_owned(), v.into_owned());
        if let Some(name) = k.strip_prefix("q_") {
            if let Some((repeat, i, inner)) = row_field(survey, name) {
                if let Some(row) = row_of(&mut answers, repeat, i) {
                    put_value(row, &inner.name, Some(inner.qtype), v);
                }
                continue;
            }
            put_value(
                &mut answers,
                name,
                survey.question(name).map(|q| q.qtype),
                v,
            );
        } else {
            control.insert(k, Value::String(v));
        }
    }
    (answers, control)
}

/// One form value into `map`: checkboxes of a `select_multiple` gather in an array;
/// numbers typed with Arabic-Indic or Persian digits read as any other number, before
/// skip logic looks at them.
fn put_value(map: &mut Map<String, Value>, name: &str, qtype: Option<QuestionType>, v: String) {
    let v = match qtype {
        Some(
            QuestionType::Integer
            | QuestionType::Decimal
            | QuestionType::Date
            | QuestionType::Range
            | QuestionType::Geopoint,
        ) => crate::kernel::text::ascii_digits(&v).into_owned(),
        _ => v,
    };
    if qtype == Some(QuestionType::SelectMultiple) {
        let entry = map
            .entry(name.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(a) = entry {
            a.push(Value::String(v));
        }
    } else {
        map.insert(name.to_string(), Value::String(v));
    }
}

/// `member.3.age` → (the repeat, row 3, its question `age`), for a repeat of the survey,
/// a row below [`MAX_REPEAT_ROWS`] and a question of the repeat.
fn row_field<'s>(survey: &'s Survey, name: &str) -> Option<(&'s Question, usize, &'s Question)> {
    let mut parts = name.splitn(3, '.');
    let (repeat, i, inner) = (parts.next()?, parts.next()?, parts.next()?);
    let repeat = survey
        .question(repeat)
        .filter(|q| q.qtype == QuestionType::Repeat)?;
    let i = i.parse::<usize>().ok().filter(|i| *i < MAX_REPEAT_ROWS)?;
    let inner = repeat.questions.iter().find(|c| c.name == inner)?;
    Some((repeat, i, inner))
}

/// Row `i` of repeat `repeat` in `answers` (rows before it are added empty, as the
/// validation drops empty rows).
fn row_of<'a>(
    answers: &'a mut Map<String, Value>,
    repeat: &Question,
    i: usize,
) -> Option<&'a mut Map<String, Value>> {
    let rows = answers
        .entry(repeat.name.clone())
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(rows) = rows else {
        return None;
    };
    while rows.len() <= i {
        rows.push(Value::Object(Map::new()));
    }
    rows[i].as_object_mut()
}

async fn post(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    if body.len() > crate::web::BODY_LIMIT_SUBMISSION {
        return Err(AppError::PayloadTooLarge("the form is too large".into()));
    }
    // The page's script saves the draft between sections and asks for a short JSON reply
    // instead of the whole page again.
    let wants_json = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.starts_with("application/json"));
    let catalog = state.catalog.current();
    let tok = token.clone();
    let (inv, about) = state
        .db(move |conn| {
            let (inv, round) = rounds::invitation_for_token(conn, &tok)?;
            Ok((inv, About::load(conn, &round)?))
        })
        .await?;
    let survey = catalog
        .survey(&inv.survey_id)
        .ok_or_else(|| AppError::not_found("survey"))?
        .clone();
    let (raw, control) = parse_form(&survey, &body);
    let csrf = control
        .get("csrf_token")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    if !secrets::ct_eq(csrf, &form_csrf(&state, &token)) {
        return Err(AppError::Forbidden(
            "the form was not sent from this survey page; reload the page and try again".into(),
        ));
    }
    // A language button saves what was typed and shows the form again in that language.
    let switch = control.get("switch_lang").and_then(|v| v.as_str());
    let lang = pick_lang(
        &survey,
        &[switch, control.get("lang").and_then(|v| v.as_str())],
    );
    let action = match switch {
        Some(_) => "save".to_string(),
        None => control
            .get("action")
            .and_then(|v| v.as_str())
            .unwrap_or("submit")
            .to_string(),
    };
    // What a person could not see (without JavaScript, every question shows) is dropped.
    let answers = rounds::prune_irrelevant(&survey, &raw);
    if action == "save" {
        let (st, s2, a2, l2, inv2) = (
            state.clone(),
            survey.clone(),
            answers.clone(),
            lang.clone(),
            inv.clone(),
        );
        let saved = state
            .db(move |conn| Ok(rounds::save_draft(conn, &s2, &inv2, &l2, &a2)))
            .await?;
        let _ = st;
        if wants_json {
            return Ok(match saved {
                Ok(()) => HttpResponse::Ok()
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .json(json!({"saved": true})),
                Err(errors) => HttpResponse::UnprocessableEntity()
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .json(json!({"saved": false, "errors": errors})),
            });
        }
        let page = match saved {
            Ok(()) => render_form(
                &state,
                &FormTarget::survey(&state, &token, &lang, &about),
                &survey,
                &lang,
                &answers,
                &Default::default(),
                switch.is_none().then(|| i18n::t(&lang, "draft_saved")),
            )?,
            Err(errors) => render_form(
                &state,
                &FormTarget::survey(&state, &token, &lang, &about),
                &survey,
                &lang,
                &answers,
                &errors,
                None,
            )?,
        };
        return Ok(html(page));
    }
    let response_id = control
        .get("response_id")
        .and_then(|v| v.as_str())
        .and_then(|s| uuid::Uuid::parse_str(s).ok())
        .unwrap_or_else(uuid::Uuid::new_v4)
        .to_string();
    let (tok, l2, a2) = (token.clone(), lang.clone(), answers.clone());
    let result = rounds::submit_grouped(&state.app, tok, response_id, Some(l2), a2).await;
    match result {
        Ok(submitted) => {
            if let Submitted::Created(_) = submitted {
                state
                    .metrics
                    .response_submitted(crate::web::metrics::Via::Form);
            }
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("/s/{token}/thanks?lang={lang}")))
                .finish())
        }
        Err(AppError::Unprocessable { fields, .. }) => {
            let page = render_form(
                &state,
                &FormTarget::survey(&state, &token, &lang, &about),
                &survey,
                &lang,
                &answers,
                &fields,
                None,
            )?;
            Ok(HttpResponse::UnprocessableEntity()
                .content_type("text/html; charset=utf-8")
                .body(page))
        }
        Err(AppError::Conflict(_)) => {
            let t = i18n::t(&lang, "thanks_title");
            Ok(html(message_page(
                &state,
                &lang,
                t,
                i18n::t(&lang, "already_submitted"),
            )?))
        }
        Err(AppError::Gone(_)) => {
            let body = message_page(
                &state,
                &lang,
                &survey.title[survey.default_language()],
                i18n::t(&lang, "round_closed"),
            )?;
            Ok(HttpResponse::Gone()
                .content_type("text/html; charset=utf-8")
                .body(body))
        }
        Err(e) => Err(e),
    }
}

async fn thanks(
    state: State,
    path: web::Path<String>,
    query: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let catalog = state.catalog.current();
    let inv = state
        .db(move |conn| rounds::invitation_for_token(conn, &token).map(|(i, _)| i))
        .await?;
    let survey = catalog
        .survey(&inv.survey_id)
        .ok_or_else(|| AppError::not_found("survey"))?;
    let lang = pick_lang(survey, &[query.lang.as_deref(), inv.language.as_deref()]);
    let body = if inv.submission_key.is_some() {
        i18n::t(&lang, "thanks_body")
    } else {
        i18n::t(&lang, "round_not_open")
    };
    Ok(html(message_page(
        &state,
        &lang,
        i18n::t(&lang, "thanks_title"),
        body,
    )?))
}

/// The survey's skip logic compiled to JavaScript (served as a script so the page's
/// Content-Security-Policy can forbid inline scripts).
async fn logic_js(state: State, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let catalog = state.catalog.current();
    let inv = state
        .db(move |conn| rounds::invitation_for_token(conn, &token).map(|(i, _)| i))
        .await?;
    let survey = catalog
        .survey(&inv.survey_id)
        .ok_or_else(|| AppError::not_found("survey"))?;
    Ok(HttpResponse::Ok()
        .content_type("application/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "private, max-age=600"))
        .body(compile_rules(survey)))
}

/// `CP_RULES = {question: function(a, d) {...}}` for every question with `relevant`,
/// `CP_CALC` the same for calculations and `CP_FILTERS = {question: function(a, d, c)}`
/// for choice filters (`c`: the option's columns and its `name`).
pub fn compile_rules(survey: &Survey) -> String {
    use crate::surveys::expr;
    let mut js = String::from(expr::JS_RUNTIME);
    type Pick = fn(&crate::surveys::model::Question) -> Option<expr::Expr>;
    let tables: [(&str, Pick); 3] = [
        ("CP_RULES", |q| {
            q.relevant.as_deref().and_then(|s| expr::parse(s).ok())
        }),
        ("CP_CALC", |q| {
            q.calculation.as_deref().and_then(|s| expr::parse(s).ok())
        }),
        ("CP_FILTERS", |q| {
            q.choice_filter
                .as_deref()
                .and_then(|s| expr::parse_choice_filter(s).ok())
        }),
    ];
    for (var, pick) in tables {
        js.push_str(&format!("\nvar {var} = {{"));
        let mut first = true;
        // Names are unique across the survey, so a repeat's questions are keyed alike.
        for q in survey.all_questions() {
            if let Some(e) = pick(q) {
                if !first {
                    js.push(',');
                }
                first = false;
                js.push_str(&format!(
                    "\n{}: function (a, d, c) {{ return {}; }}",
                    serde_json::to_string(&q.name).unwrap_or_default(),
                    e.to_js()
                ));
            }
        }
        js.push_str("\n};\n");
    }
    js
}
