//! QR codes as SVG, and the settings code ODK Collect (and KoboCollect) scans to connect
//! to a server: the settings JSON, zlib-compressed, in standard base64.

use base64::Engine;
use std::io::Write;

/// A QR code of `data` as an SVG document (black on white, quiet zone included), or `None`
/// when `data` is too long for any QR code.
pub fn svg(data: &str) -> Option<String> {
    let code =
        qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .build(),
    )
}

/// The text of an ODK Collect settings code: the app downloads forms from and sends
/// finished ones to `server_url` (with no user name: the credential is in the URL), keeps
/// exactly the server's forms, and labels the project `project`.
pub fn collect_settings(server_url: &str, project: &str) -> String {
    let settings = serde_json::json!({
        "general": {
            "server_url": server_url,
            "username": "",
            "form_update_mode": "match_exactly",
            "autosend": "wifi_and_cellular",
        },
        "admin": {},
        "project": {"name": project},
    });
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(settings.to_string().as_bytes())
        .expect("writing to memory");
    let packed = z.finish().expect("writing to memory");
    base64::engine::general_purpose::STANDARD.encode(packed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn settings_unpack_to_the_json_collect_reads() {
        let code = collect_settings("https://cp.example/openrosa/c/abc", "Shelter Yemen");
        let packed = base64::engine::general_purpose::STANDARD
            .decode(&code)
            .unwrap();
        let mut json = String::new();
        flate2::read::ZlibDecoder::new(&packed[..])
            .read_to_string(&mut json)
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            v["general"]["server_url"],
            "https://cp.example/openrosa/c/abc"
        );
        assert_eq!(v["general"]["username"], "");
        assert_eq!(v["general"]["form_update_mode"], "match_exactly");
        assert!(v["admin"].is_object());
        assert_eq!(v["project"]["name"], "Shelter Yemen");
    }

    #[test]
    fn qr_svg_is_an_svg_document() {
        let s = svg(&collect_settings("https://cp.example/openrosa/c/abc", "x")).unwrap();
        let doc = roxmltree::Document::parse(&s).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        assert!(svg(&"x".repeat(5000)).is_none());
    }
}
