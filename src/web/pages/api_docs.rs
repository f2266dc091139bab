//! `GET /api/docs`: the OpenAPI document as a page a person can read (server-rendered, no
//! script), built from the same document as `/api/v1/openapi.json`.

use crate::kernel::error::AppError;
use crate::web::pages::html;
use crate::web::State;
use actix_web::HttpResponse;
use serde_json::{json, Map, Value};

crate::web::routes::route_table! {
    "/api/docs" => { GET page },
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn page(state: State) -> Result<HttpResponse, AppError> {
    let doc: Value = serde_json::from_str(crate::web::openapi::spec_json())
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("the OpenAPI document")))?;
    let body = state.templates.render("api_docs", &context(&doc))?;
    Ok(html(body))
}

/// The page's data: operations grouped by tag, then every schema with its fields.
pub fn context(doc: &Value) -> Value {
    let empty = Map::new();
    let mut groups: Vec<Value> = Vec::new();
    for tag in doc["tags"].as_array().into_iter().flatten() {
        let name = tag["name"].as_str().unwrap_or_default();
        let mut ops = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap_or(&empty) {
            for method in METHODS {
                let op = &item[method];
                if op.is_null()
                    || !op["tags"]
                        .as_array()
                        .is_some_and(|t| t.contains(&json!(name)))
                {
                    continue;
                }
                ops.push(operation(method, path, op));
            }
        }
        groups.push(json!({"name": name, "description": tag["description"], "operations": ops}));
    }
    let schemas: Vec<Value> = doc["components"]["schemas"]
        .as_object()
        .unwrap_or(&empty)
        .iter()
        .map(|(name, s)| {
            let required: Vec<&str> = s["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let fields: Vec<Value> = s["properties"]
                .as_object()
                .unwrap_or(&empty)
                .iter()
                .map(|(f, fs)| {
                    json!({"name": f, "type": type_name(fs), "required": required.contains(&f.as_str()),
                           "description": fs["description"]})
                })
                .collect();
            json!({"name": name, "description": s["description"], "fields": fields,
                   "shape": if fields.is_empty() { Value::from(type_name(s)) } else { Value::Null }})
        })
        .collect();
    json!({
        "title": "API",
        "info": doc["info"],
        "groups": groups,
        "schemas": schemas,
    })
}

fn operation(method: &str, path: &str, op: &Value) -> Value {
    let public = op["security"] == json!([{}]);
    let params: Vec<Value> = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            json!({"name": p["name"], "in": p["in"], "required": p["required"],
                   "type": type_name(&p["schema"]), "description": p["description"]})
        })
        .collect();
    let body = op["requestBody"]["content"]
        .as_object()
        .and_then(|c| c.values().next())
        .map(|c| type_name(&c["schema"]));
    let responses: Vec<Value> = op["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(status, r)| {
            let content: Vec<String> = r["content"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(mime, c)| match c.get("schema") {
                    Some(s) if mime == "application/json" => type_name(s),
                    _ => mime.clone(),
                })
                .collect();
            json!({"status": status, "description": r["description"], "content": content.join(" or ")})
        })
        .collect();
    json!({
        "method": method.to_uppercase(),
        "path": path,
        "anchor": format!("{method}-{}", path.trim_matches('/').replace(['/', '{', '}', '.'], "-")),
        "summary": op["summary"],
        "description": op["description"],
        "public": public,
        "params": params,
        "body": body,
        "responses": responses,
    })
}

/// A short, readable type: `RoundView`, `[string]`, `integer?`, `A | B`, `{string: integer}`.
pub fn type_name(s: &Value) -> String {
    if let Some(r) = s["$ref"].as_str() {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(alts) = s[key].as_array() {
            let names: Vec<String> = alts
                .iter()
                .filter(|a| a["type"] != "null")
                .map(type_name)
                .collect();
            let nullable = alts.iter().any(|a| a["type"] == "null");
            let sep = if key == "allOf" { " & " } else { " | " };
            return format!("{}{}", names.join(sep), if nullable { "?" } else { "" });
        }
    }
    let (ty, nullable) = match &s["type"] {
        Value::String(t) => (t.clone(), false),
        Value::Array(ts) => (
            ts.iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .unwrap_or("null")
                .to_string(),
            ts.iter().any(|t| t == "null"),
        ),
        _ => ("any".to_string(), false),
    };
    let base = match ty.as_str() {
        "array" => format!("[{}]", type_name(&s["items"])),
        "object" if s["additionalProperties"].is_object() => {
            format!("{{string: {}}}", type_name(&s["additionalProperties"]))
        }
        "object" => "object".to_string(),
        other => match s["enum"].as_array() {
            Some(vals) => vals
                .iter()
                .map(|v| v.as_str().map(str::to_string).unwrap_or(v.to_string()))
                .collect::<Vec<_>>()
                .join(" | "),
            None => other.to_string(),
        },
    };
    format!("{base}{}", if nullable { "?" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_are_readable() {
        assert_eq!(
            type_name(&json!({"$ref": "#/components/schemas/RoundView"})),
            "RoundView"
        );
        assert_eq!(type_name(&json!({"type": ["string", "null"]})), "string?");
        assert_eq!(
            type_name(&json!({"type": "array", "items": {"type": "integer"}})),
            "[integer]"
        );
        assert_eq!(
            type_name(&json!({"type": "object", "additionalProperties": {"type": "string"}})),
            "{string: string}"
        );
        assert_eq!(
            type_name(&json!({"oneOf": [{"type": "null"}, {"$ref": "#/x/Progress"}]})),
            "Progress?"
        );
        assert_eq!(
            type_name(&json!({"type": "string", "enum": ["good", "weak"]})),
            "good | weak"
        );
    }

    #[test]
    fn every_documented_operation_is_on_the_page() {
        let doc: Value = serde_json::from_str(crate::web::openapi::spec_json()).unwrap();
        let ctx = context(&doc);
        let on_page: usize = ctx["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["operations"].as_array().unwrap().len())
            .sum();
        let documented: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|i| METHODS.iter().filter(|m| !i[**m].is_null()).count())
            .sum();
        assert_eq!(
            on_page, documented,
            "an operation has no tag listed in ApiDoc"
        );
        assert!(ctx["schemas"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "ErrorBody"));
    }
}
