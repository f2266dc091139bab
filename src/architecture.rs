//! The dependency rule of `docs/architecture.md`, checked on the sources: every `crate::…`
//! path in code (comments aside) names a folder, and a folder may only reach down.
//!
//! | rank | folders |
//! |---|---|
//! | entry points | the crate root (`lib.rs`, `main.rs`), `web`, `scheduler` |
//! | domain | `domain` |
//! | engines | `db`, `surveys`, `scoring`, `charts`, `mail`, `render` |
//! | config | `config` |
//! | kernel | `kernel` |
//!
//! Engines may use each other as long as no two folders reach each other, directly or
//! round about; entry points never use each other (the crate root assembles them); inside
//! `web`, API handlers and pages never call each other; nothing below the entry points
//! names actix.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const ENTRY: u8 = 4;
const DOMAIN: u8 = 3;
const ENGINE: u8 = 2;
const CONFIG: u8 = 1;
const KERNEL: u8 = 0;

/// The rank of a top-level folder (or top-level file without `.rs`).
fn rank(folder: &str) -> Option<u8> {
    Some(match folder {
        "lib" | "main" | "web" | "scheduler" => ENTRY,
        "domain" => DOMAIN,
        "db" | "surveys" | "scoring" | "charts" | "mail" | "render" => ENGINE,
        "config" => CONFIG,
        "kernel" => KERNEL,
        _ => return None,
    })
}

/// Every `.rs` file under `dir` (also used by the route-table test).
pub(crate) fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// `src/domain/feedback/mod.rs` → `["domain", "feedback", "mod"]`.
fn parts(root: &Path, file: &Path) -> Vec<String> {
    file.strip_prefix(root)
        .unwrap()
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect()
}

/// The code of a file without comments (line comments and doc comments; block comments
/// are not used in this crate) and without string literals, so that prose and messages
/// never count as a dependency.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut in_str = false;
        let mut escaped = false;
        let mut prev = ' ';
        for c in line.chars() {
            if in_str {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_str = false;
                }
                continue;
            }
            if c == '/' && prev == '/' {
                out.pop();
                break;
            }
            if c == '"' {
                in_str = true;
            } else {
                out.push(c);
            }
            prev = c;
        }
        out.push('\n');
    }
    out
}

/// The top-level folders named by `crate::x` paths in `code`, and the full paths.
fn references(code: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        let tail = &rest[i + "crate::".len()..];
        rest = tail;
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let path: String = tail
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let first = path.split("::").next().unwrap_or("").to_string();
        // Items the crate root re-exports (`crate::Config`).
        let first = match first.as_str() {
            "Config" => "config".to_string(),
            _ => first,
        };
        out.push((first, path));
    }
    out
}

struct Tree {
    /// file (relative) → its parts and code.
    files: Vec<(String, Vec<String>, String)>,
}

fn tree() -> Tree {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    files.sort();
    Tree {
        files: files
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(f).unwrap();
                (
                    f.strip_prefix(&root).unwrap().display().to_string(),
                    parts(&root, f),
                    code_of(&text),
                )
            })
            .collect(),
    }
}

#[test]
fn every_folder_reaches_only_down() {
    let mut wrong = Vec::new();
    for (file, parts, code) in &tree().files {
        if parts[0] == "architecture" {
            continue;
        }
        let Some(own) = rank(&parts[0]) else {
            wrong.push(format!("{file}: the folder {:?} has no rank; give it one in src/architecture.rs and docs/architecture.md", parts[0]));
            continue;
        };
        for (folder, path) in references(code) {
            // This checker is test-only tooling other tests may share.
            if folder == parts[0] || folder.is_empty() || folder == "architecture" {
                continue;
            }
            let Some(theirs) = rank(&folder) else {
                wrong.push(format!("{file}: crate::{path} names no known folder"));
                continue;
            };
            let allowed = theirs < own
                || (theirs == own && own == ENGINE)
                || (own == ENTRY && (parts[0] == "lib" || parts[0] == "main"));
            if !allowed {
                wrong.push(format!(
                    "{file} ({}) uses crate::{path} ({})",
                    parts[0], folder
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the dependency rule (docs/architecture.md):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_two_folders_reach_each_other() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, parts, code) in &tree().files {
        for (folder, _) in references(code) {
            if folder != parts[0] && rank(&folder).is_some() {
                edges.entry(parts[0].clone()).or_default().insert(folder);
            }
        }
    }
    // Depth-first search for a cycle; report it as a path.
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == n) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(n.to_string());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for n in edges.keys() {
        if let Some(cycle) = visit(n, &edges, &mut Vec::new(), &mut done) {
            panic!("folders in a circle: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn handlers_and_pages_never_call_each_other() {
    let mut wrong = Vec::new();
    for (file, parts, code) in &tree().files {
        if parts.len() < 3 || parts[0] != "web" {
            continue;
        }
        let other = match parts[1].as_str() {
            "api" => "pages",
            "pages" => "api",
            _ => continue,
        };
        for (_, path) in references(code) {
            if path.starts_with(&format!("web::{other}")) {
                wrong.push(format!("{file} uses crate::{path}"));
            }
        }
        if code.contains(&format!("super::super::{other}")) {
            wrong.push(format!("{file} reaches web::{other} through super"));
        }
    }
    assert!(
        wrong.is_empty(),
        "pages and API handlers both call the domain, never each other:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn nothing_below_the_entry_points_names_actix() {
    let mut wrong = Vec::new();
    for (file, parts, code) in &tree().files {
        if rank(&parts[0]).is_some_and(|r| r < ENTRY) && code.contains("actix") {
            wrong.push(file.clone());
        }
    }
    assert!(
        wrong.is_empty(),
        "the domain, engines, config and kernel know nothing of HTTP: {wrong:?}"
    );
}

#[test]
fn the_checker_sees_what_it_must() {
    let code = code_of("use crate::web::auth; // crate::domain\nlet s = \"crate::db\";\n");
    let refs: Vec<String> = references(&code).into_iter().map(|(f, _)| f).collect();
    assert_eq!(refs, ["web"]);
    assert_eq!(rank("kernel"), Some(KERNEL));
    assert!(rank("domain") > rank("db"));
    assert!(rank("config") < rank("db"));
}
