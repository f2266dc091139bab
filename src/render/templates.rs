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
