//! Handlebars templates: compiled into the binary, overridable from
//! `CLUSTERPULSE_TEMPLATES_DIR`. HTML escaping stays on.

use handlebars::Handlebars;
use rust_embed::RustEmbed;
use std::path::Path;

#[derive(RustEmbed)]
#[folder = "templates/"]
pub struct Assets;

pub struct Templates {
    hb: Handlebars<'static>,
}

impl Templates {
    pub fn load(override_dir: Option<&Path>) -> anyhow::Result<Templates> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(false);
        hb.register_helper("when", Box::new(when));
        for name in Assets::iter() {
            if let Some(stem) = name.strip_suffix(".hbs") {
                let file = Assets::get(&name).expect("listed asset exists");
                let text = std::str::from_utf8(&file.data)
                    .map_err(|_| anyhow::anyhow!("template {name} is not UTF-8"))?;
                hb.register_template_string(stem, text)
                    .map_err(|e| anyhow::anyhow!("template {name}: {e}"))?;
            }
        }
        if let Some(dir) = override_dir {
            if !dir.is_dir() {
                anyhow::bail!(
                    "CLUSTERPULSE_TEMPLATES_DIR: {} is not a folder",
                    dir.display()
                );
            }
            for entry in std::fs::read_dir(dir)? {
                let path = entry?.path();
                if path.extension().and_then(|e| e.to_str()) == Some("hbs") {
                    let stem = path
                        .file_stem()
                        .and_then(|s| s.to_str())
                        .unwrap_or_default()
                        .to_string();
                    let text = std::fs::read_to_string(&path)?;
                    hb.register_template_string(&stem, text)
                        .map_err(|e| anyhow::anyhow!("template {}: {e}", path.display()))?;
                }
            }
        }
        Ok(Templates { hb })
    }

    pub fn render(&self, name: &str, data: &serde_json::Value) -> anyhow::Result<String> {
        self.hb
            .render(name, data)
            .map_err(|e| anyhow::anyhow!("rendering template {name}: {e}"))
    }
}

/// `{{when value}}` or `{{when value lang}}`: an RFC 3339 moment or a `YYYY-MM-DD` day as
/// people read it ("14 December 2026, 06:06 UTC"); anything else is shown as it is.
fn when(
    h: &handlebars::Helper,
    _: &Handlebars,
    _: &handlebars::Context,
    _: &mut handlebars::RenderContext,
    out: &mut dyn handlebars::Output,
) -> handlebars::HelperResult {
    let value = h.param(0).and_then(|p| p.value().as_str()).unwrap_or("");
    let lang = h.param(1).and_then(|p| p.value().as_str()).unwrap_or("en");
    out.write(&handlebars::html_escape(&human_time(value, lang)))?;
    Ok(())
}

pub fn human_time(value: &str, lang: &str) -> String {
    use crate::render::i18n;
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(value) {
        return i18n::date_time(t.naive_utc(), lang);
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return i18n::date(d, lang);
    }
    value.to_string()
}

/// A static file compiled in under `templates/static/`.
pub fn static_file(name: &str) -> Option<(std::borrow::Cow<'static, [u8]>, &'static str)> {
    let file = Assets::get(&format!("static/{name}"))?;
    let mime = match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "application/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    Some((file.data, mime))
}

#[cfg(test)]
mod tests {
    #[test]
    fn moments_and_days_read_as_people_write_them() {
        let t = super::Templates::load(None).unwrap();
        let out = t.hb.render_template(
            "{{when a}} | {{when b 'fr'}} | {{when c}}",
            &serde_json::json!({"a": "2025-12-22T06:06:24Z", "b": "2025-12-22", "c": "<b>"}),
        );
        assert_eq!(
            out.unwrap(),
            "22 December 2025, 06:06 UTC | 22 décembre 2025 | &lt;b&gt;"
        );
    }
}
