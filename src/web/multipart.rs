//! `multipart/form-data` bodies (RFC 7578) for the pages that take a file: a survey upload,
//! an operation's areas list. The whole body is already in memory (the route's payload
//! limit bounds it); this splits it into named parts, a file part keeping its bytes as sent.

use crate::kernel::error::AppError;

/// One part of the form.
#[derive(Debug, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    /// The file name the browser gave, for a file input.
    pub file_name: Option<String>,
    pub data: Vec<u8>,
}

/// A parsed form: its parts in the order sent.
#[derive(Debug, Default)]
pub struct Form {
    pub parts: Vec<Part>,
}

impl Form {
    /// The first part called `name`.
    pub fn part(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.name == name)
    }

    /// A text field's value (empty when missing or not UTF-8).
    pub fn text(&self, name: &str) -> &str {
        self.part(name)
            .and_then(|p| std::str::from_utf8(&p.data).ok())
            .unwrap_or("")
    }
}

fn refused(why: &str) -> AppError {
    AppError::field("file", format!("the form could not be read: {why}"))
}

/// The boundary named in a `Content-Type: multipart/form-data; boundary=…` header.
pub fn boundary(content_type: &str) -> Result<String, AppError> {
    let mut params = content_type.split(';');
    let kind = params.next().unwrap_or("").trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return Err(refused(
            "it was not sent as multipart/form-data (the form needs enctype=\"multipart/form-data\")",
        ));
    }
    params
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .filter(|b| !b.is_empty() && b.len() <= 70)
        .ok_or_else(|| refused("the multipart boundary is missing"))
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

/// A quoted or bare parameter of a `Content-Disposition` header (`name="file"`).
fn param(header: &str, key: &str) -> Option<String> {
    let lower = header.to_ascii_lowercase();
    let mut at = 0;
    while let Some(i) = lower[at..].find(key) {
        let start = at + i;
        at = start + key.len();
        let before = lower[..start].trim_end();
        let after = &header[at..];
        if !(before.ends_with(';') || before.is_empty()) || !after.starts_with('=') {
            continue;
        }
        let value = &after[1..];
        return Some(if let Some(rest) = value.strip_prefix('"') {
            let end = rest.find('"').unwrap_or(rest.len());
            rest[..end].replace("%22", "\"")
        } else {
            value.split(';').next().unwrap_or("").trim().to_string()
        });
    }
    None
}

/// Splits a body into its parts. Refused (400 on `file`) when it is not well formed.
pub fn parse(content_type: &str, body: &[u8]) -> Result<Form, AppError> {
    let boundary = boundary(content_type)?;
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut form = Form::default();
    let mut at = find(body, delimiter, 0).ok_or_else(|| refused("no part was sent"))?;
    loop {
        at += delimiter.len();
        if body[at..].starts_with(b"--") {
            return Ok(form);
        }
        if !body[at..].starts_with(b"\r\n") {
            return Err(refused("a part boundary is malformed"));
        }
        at += 2;
        let head_end = find(body, b"\r\n\r\n", at)
            .ok_or_else(|| refused("a part has no end (was the upload cut off?)"))?;
        let head = std::str::from_utf8(&body[at..head_end])
            .map_err(|_| refused("a part's headers are not UTF-8"))?;
        let disposition = head
            .split("\r\n")
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition"))
                    .map(|(_, v)| v.trim().to_string())
            })
            .ok_or_else(|| refused("a part has no Content-Disposition"))?;
        let name = param(&disposition, "name").ok_or_else(|| refused("a part has no name"))?;
        let file_name = param(&disposition, "filename");
        let data_start = head_end + 4;
        let mut closing = b"\r\n".to_vec();
        closing.extend_from_slice(delimiter);
        let data_end = find(body, &closing, data_start)
            .ok_or_else(|| refused("the last part is not closed (was the upload cut off?)"))?;
        form.parts.push(Part {
            name,
            file_name,
            data: body[data_start..data_end].to_vec(),
        });
        at = data_end + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPE: &str = "multipart/form-data; boundary=----WebKitFormBoundaryX3";

    fn body(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, file, data) in parts {
            out.extend_from_slice(b"------WebKitFormBoundaryX3\r\n");
            let disposition = match file {
                Some(f) => format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                ),
                None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
            };
            out.extend_from_slice(disposition.as_bytes());
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"------WebKitFormBoundaryX3--\r\n");
        out
    }

    #[test]
    fn reads_fields_and_binary_files_as_sent() {
        let file: &[u8] = b"PK\x03\x04\r\n--not a boundary\r\n\x00\xff";
        let b = body(&[
            ("csrf_token", None, b"abc"),
            ("file", Some("form v2.xlsx"), file),
        ]);
        let form = parse(TYPE, &b).unwrap();
        assert_eq!(form.text("csrf_token"), "abc");
        let part = form.part("file").unwrap();
        assert_eq!(part.file_name.as_deref(), Some("form v2.xlsx"));
        assert_eq!(part.data, file);
        assert_eq!(form.text("missing"), "");
    }

    #[test]
    fn an_empty_file_input_is_a_part_with_no_bytes() {
        let form = parse(TYPE, &body(&[("file", Some(""), b"")])).unwrap();
        assert_eq!(form.part("file").unwrap().data, b"");
    }

    #[test]
    fn refuses_what_is_not_a_well_formed_form() {
        assert!(parse("application/x-www-form-urlencoded", b"a=b").is_err());
        assert!(parse("multipart/form-data", b"").is_err());
        let mut cut = body(&[("file", Some("a.xlsx"), b"12345")]);
        cut.truncate(cut.len() - 12);
        let e = parse(TYPE, &cut).unwrap_err();
        assert!(e.to_string().contains("cut off"), "{e}");
        assert!(parse(TYPE, b"nothing here").is_err());
    }

    #[test]
    fn the_boundary_may_be_quoted_and_params_in_any_order() {
        assert_eq!(
            boundary("multipart/form-data; charset=utf-8; boundary=\"a b\"").unwrap(),
            "a b"
        );
        assert_eq!(
            param("form-data; filename=\"x.csv\"; name=\"areas\"", "name").as_deref(),
            Some("areas")
        );
    }
}
