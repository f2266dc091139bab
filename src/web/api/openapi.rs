//! `GET /api/v1/openapi.json`: the API described for clients and for schema-based testing.

use actix_web::HttpResponse;
use serde_json::{json, Value};

fn error_response(desc: &str) -> Value {
    json!({"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn ok_json(desc: &str, schema: Value) -> Value {
    json!({"description": desc, "content": {"application/json": {"schema": schema}}})
}

fn body(schema: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema}}})
}

fn secured() -> Value {
    json!([{"bearer": []}, {"cookie": []}])
}

pub fn spec() -> Value {
    let std_errors = |mut responses: serde_json::Map<String, Value>| {
        responses.insert("400".into(), error_response("malformed request"));
        responses.insert("401".into(), error_response("not signed in"));
        responses.insert("403".into(), error_response("not allowed"));
        Value::Object(responses)
    };
    let obj = |pairs: Vec<(&str, Value)>| -> serde_json::Map<String, Value> {
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    };
    json!({
        "openapi": "3.0.3",
        "info": {"title": "clusterpulse API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "cp_session"}
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error", "message"], "properties": {
                    "error": {"type": "string"}, "message": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}}}},
                "Cluster": {"type": "object", "required": ["code", "name"], "additionalProperties": false, "properties": {
                    "code": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*[a-z0-9]$"},
                    "name": {"type": "string", "minLength": 1, "maxLength": 200},
                    "lead_emails": {"type": "array", "items": {"type": "string", "format": "email"}},
                    "language": {"type": "string", "enum": ["en", "fr", "es", "ar"]}}},
                "Operation": {"type": "object", "required": ["slug", "cluster", "country", "name"], "additionalProperties": false, "properties": {
                    "slug": {"type": "string"}, "cluster": {"type": "string"},
                    "country": {"type": "string", "minLength": 2, "maxLength": 2}, "name": {"type": "string"}}},
                "Organization": {"type": "object", "required": ["name", "org_type"], "additionalProperties": false, "properties": {
                    "name": {"type": "string"},
                    "org_type": {"type": "string", "enum": crate::db::models::ORG_TYPES}}},
                "Login": {"type": "object", "required": ["email", "password"], "additionalProperties": false, "properties": {
                    "email": {"type": "string"}, "password": {"type": "string"}}}
            }
        },
        "paths": {
            "/session": {
                "post": {"summary": "Sign in (sets the session cookie; returns csrf_token for cookie-authenticated writes)",
                         "requestBody": body(json!({"$ref": "#/components/schemas/Login"})),
                         "responses": {"200": ok_json("signed in", json!({"type": "object"})), "401": error_response("wrong email or password"), "429": error_response("rate limited")}},
                "get": {"summary": "Who am I", "security": secured(), "responses": {"200": ok_json("the signed-in user", json!({"type": "object"})), "401": error_response("not signed in")}},
                "delete": {"summary": "Sign out", "responses": {"204": {"description": "signed out"}}}
            },
            "/clusters": {
                "get": {"summary": "Clusters visible to the caller", "security": secured(), "responses": std_errors(obj(vec![("200", ok_json("clusters", json!({"type": "object"})))]))},
                "post": {"summary": "Create a cluster (admin)", "security": secured(),
                         "requestBody": body(json!({"$ref": "#/components/schemas/Cluster"})),
                         "responses": std_errors(obj(vec![("201", ok_json("created", json!({"type": "object"}))), ("409", error_response("code taken"))]))}
            },
            "/clusters/{code}": {"get": {"summary": "One cluster with its operations", "security": secured(),
                "parameters": [{"name": "code", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": std_errors(obj(vec![("200", ok_json("cluster", json!({"type": "object"}))), ("404", error_response("unknown"))]))}},
            "/operations": {
                "get": {"summary": "Operations visible to the caller", "security": secured(), "responses": std_errors(obj(vec![("200", ok_json("operations", json!({"type": "object"})))]))},
                "post": {"summary": "Create an operation (admin)", "security": secured(),
                         "requestBody": body(json!({"$ref": "#/components/schemas/Operation"})),
                         "responses": std_errors(obj(vec![("201", ok_json("created", json!({"type": "object"}))), ("409", error_response("slug taken"))]))}
            },
            "/operations/{slug}": {"get": {"summary": "One operation", "security": secured(),
                "parameters": [{"name": "slug", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": std_errors(obj(vec![("200", ok_json("operation", json!({"type": "object"}))), ("404", error_response("unknown"))]))}},
            "/organizations": {
                "get": {"summary": "Partner organizations", "security": secured(), "responses": std_errors(obj(vec![("200", ok_json("organizations", json!({"type": "object"})))]))},
                "post": {"summary": "Add an organization (admin, coordinator)", "security": secured(),
                         "requestBody": body(json!({"$ref": "#/components/schemas/Organization"})),
                         "responses": std_errors(obj(vec![("201", ok_json("created", json!({"type": "object"}))), ("409", error_response("name taken"))]))}
            },
            "/surveys": {"get": {"summary": "Survey definitions (public)", "responses": {"200": ok_json("surveys", json!({"type": "object"}))}}},
            "/surveys/{id}": {"get": {"summary": "One parsed survey definition (public)",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": ok_json("survey", json!({"type": "object"})), "404": error_response("unknown")}}},
            "/frameworks": {"get": {"summary": "Frameworks (public)", "responses": {"200": ok_json("frameworks", json!({"type": "object"}))}}},
            "/frameworks/{id}": {"get": {"summary": "One framework (public)",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": ok_json("framework", json!({"type": "object"})), "404": error_response("unknown")}}}
        }
    })
}

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(spec())
}
