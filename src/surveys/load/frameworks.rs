//! Reading a framework file: functions, indicators, thresholds and their checks.

use super::*;

/// Like [`parse_framework`], also returning where things are in the file.
pub fn parse_framework_located(src: &Source) -> Result<(Framework, FileLines), Vec<Problem>> {
    let (root, mut ctx) = parse_tree(src).map_err(|p| vec![p])?;
    let top = Tbl {
        pos: None,
        entries: &root,
    };
    let mut lines = FileLines::new(&src.path);

    let id = ctx.string(top, "id", "the framework", true);
    let what = match &id {
        Some(id) => format!("framework \"{}\"", id.val),
        None => "the framework".to_owned(),
    };
    ctx.check_keys(top, FRAMEWORK_KEYS, &what);
    if let Some(id) = &id {
        lines.set("id".into(), ctx.line(id.pos));
        check_id_matches_file(&mut ctx, &src.path, id, "framework");
        if id.val.trim().is_empty() {
            ctx.report(id.pos, "id of the framework is empty");
        }
    }
    let langs = ctx.languages(top, &what);
    let title = ctx.text(top, "title", &what, true, &langs);

    let min_respondents = match ctx.integer(top, "min_respondents", &what, false) {
        None => DEFAULT_MIN_RESPONDENTS,
        Some(m) if m.val < 1 || m.val > i64::from(u32::MAX) => {
            ctx.report(
                m.pos,
                format!("min_respondents of {what} must be 1 or more, not {}", m.val),
            );
            DEFAULT_MIN_RESPONDENTS
        }
        Some(m) => m.val as u32,
    };

    let mut thresholds = Thresholds::default();
    if let Some(node) = top.get("thresholds") {
        if let Val::Table(entries) = &node.val {
            let t = Tbl {
                pos: node.pos,
                entries,
            };
            let twhat = format!("the thresholds of {what}");
            ctx.check_keys(t, THRESHOLD_KEYS, &twhat);
            let fields = [
                ("good", &mut thresholds.good),
                ("satisfactory", &mut thresholds.satisfactory),
                ("unsatisfactory", &mut thresholds.unsatisfactory),
            ];
            for (key, slot) in fields {
                if let Some(x) = ctx.number(t, key, &twhat) {
                    if (0.0..=100.0).contains(&x.val) {
                        *slot = x.val;
                    } else {
                        ctx.report(
                            x.pos,
                            format!(
                                "threshold {key} of {what} must be within 0–100, not {}",
                                format_number(x.val)
                            ),
                        );
                    }
                }
            }
            let Thresholds {
                good,
                satisfactory,
                unsatisfactory,
            } = thresholds;
            if !(good > satisfactory && satisfactory > unsatisfactory) {
                ctx.report(
                    node.pos,
                    format!(
                        "thresholds of {what} must satisfy good > satisfactory > unsatisfactory \
                         (they are {}, {}, {})",
                        format_number(good),
                        format_number(satisfactory),
                        format_number(unsatisfactory)
                    ),
                );
            }
        } else {
            ctx.wrong(node, "thresholds", &what, "a table ([thresholds])");
        }
    }

    let mut functions = Vec::new();
    let mut function_ids: Seen = BTreeMap::new();
    let mut indicator_ids: Seen = BTreeMap::new();
    if let Some(node) = ctx.value(top, "functions", &what, true) {
        let tables = ctx.tables(node, "functions", &what);
        if tables.is_empty() && matches!(node.val, Val::Array(_)) {
            ctx.report(node.pos, format!("{what} has no functions"));
        }
        for (i, f) in tables.into_iter().enumerate() {
            let fid = ctx.string(f, "id", &format!("function {} of {what}", i + 1), true);
            let fwhat = match &fid {
                Some(fid) => format!("function \"{}\"", fid.val),
                None => format!("function {} of {what}", i + 1),
            };
            ctx.check_keys(f, FUNCTION_KEYS, &fwhat);
            if let Some(fid) = &fid {
                check_unique(&mut ctx, &mut function_ids, fid, "function id", "");
            }
            let ftitle = ctx.text(f, "title", &fwhat, true, &langs);
            let indicators = match ctx.value(f, "indicators", &fwhat, true) {
                Some(node) => read_indicators(&mut ctx, node, &fwhat, &langs, &mut indicator_ids),
                None => Vec::new(),
            };
            functions.push(Function {
                id: fid.map(|x| x.val).unwrap_or_default(),
                title: ftitle,
                indicators,
            });
        }
    }

    let id = id.map(|x| x.val).unwrap_or_default();
    ctx.finish(|| {
        (
            Framework {
                id,
                languages: langs,
                title,
                thresholds,
                min_respondents,
                functions,
            },
            lines,
        )
    })
}

pub(super) fn read_indicators(
    ctx: &mut Ctx,
    node: &Node,
    fwhat: &str,
    langs: &[String],
    seen: &mut Seen,
) -> Vec<Indicator> {
    let tables = ctx.tables(node, "indicators", fwhat);
    if tables.is_empty() && matches!(node.val, Val::Array(_)) {
        ctx.report(node.pos, format!("{fwhat} has no indicators"));
    }
    let mut indicators = Vec::new();
    for (j, ind) in tables.into_iter().enumerate() {
        let numbered = format!("indicator {} of {fwhat}", j + 1);
        let id = ctx.string(ind, "id", &numbered, true);
        let what = match &id {
            Some(id) => format!("indicator \"{}\"", id.val),
            None => numbered,
        };
        ctx.check_keys(ind, INDICATOR_KEYS, &what);
        if let Some(id) = &id {
            check_unique(ctx, seen, id, "indicator id", "");
        }
        let title = ctx.text(ind, "title", &what, true, langs);
        indicators.push(Indicator {
            id: id.map(|x| x.val).unwrap_or_default(),
            title,
        });
    }
    indicators
}

pub(super) fn check_id_matches_file(ctx: &mut Ctx, path: &str, id: &At<String>, kind: &str) {
    let stem = file_stem(path);
    if !stem.is_empty() && stem != id.val {
        ctx.report(
            id.pos,
            format!(
                "{kind} id \"{}\" does not match the file name \"{stem}.toml\" (a file must be \
                 named after its id)",
                id.val
            ),
        );
    }
}

/// Reports `id` if it is already in `seen` (ids must be unique), else records it.
pub(super) fn check_unique(
    ctx: &mut Ctx,
    seen: &mut Seen,
    id: &At<String>,
    what: &str,
    within: &str,
) {
    if id.val.trim().is_empty() {
        ctx.report(id.pos, format!("{what} is empty"));
        return;
    }
    let line = ctx.line(id.pos);
    match seen.get(&id.val) {
        Some(first) => {
            let at = first
                .map(|l| format!(" (first at line {l})"))
                .unwrap_or_default();
            ctx.report(
                id.pos,
                format!("{what} \"{}\" is used twice{within}{at}", id.val),
            );
        }
        None => {
            seen.insert(id.val.clone(), line);
        }
    }
}
