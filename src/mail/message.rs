//! Building RFC 5322 messages with lettre.
//!
//! Structure, from the simplest to the richest:
//!
//! - text only: `text/plain`;
//! - text + HTML: `multipart/alternative` (text, html);
//! - text + HTML + inline images: `multipart/alternative` (text, `multipart/related`
//!   (html, images…)), each image carrying the `Content-ID` that the HTML references as
//!   `cid:…` — so plain-text readers never see the images as attachments;
//! - with attachments: all of the above wrapped in `multipart/mixed`, followed by the
//!   attachments.
//!
//! Headers and bodies are UTF-8 (RFC 2047 encoded words for the subject and names, RFC 2231
//! for file names, quoted-printable or base64 for bodies), so Arabic and French survive.

use super::MailError;
use lettre::message::header::{ContentType, MessageId};
use lettre::message::{Attachment as LettreAttachment, Mailbox, MultiPart, SinglePart};
use lettre::Message;

/// One email to one recipient.
#[derive(Debug, Clone, Default)]
pub struct Email {
    /// The recipient: `a@b.org` or `Name <a@b.org>`.
    pub to: String,
    pub subject: String,
    /// The plain-text body (always sent; the alternative to `html`).
    pub text: String,
    pub html: Option<String>,
    /// Images shown by the HTML (`<img src="cid:{cid}">`); needs `html`.
    pub inline: Vec<Inline>,
    pub attachments: Vec<Attachment>,
}

/// An image (or other resource) referenced from the HTML by `cid:{cid}`.
#[derive(Debug, Clone)]
pub struct Inline {
    /// The content id without angle brackets, e.g. `status-grid@clusterpulse`.
    pub cid: String,
    /// e.g. `image/png`.
    pub content_type: String,
    /// The name offered if the reader saves the image.
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// A file attached to the message.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: String,
    /// e.g. `text/csv; charset=utf-8`.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Parses `a@b.org` or `Name <a@b.org>`. `what` names the field in the error (the value
/// itself is never echoed: it is personal data).
pub fn parse_mailbox(value: &str, what: &str) -> Result<Mailbox, MailError> {
    value
        .trim()
        .parse::<Mailbox>()
        .map_err(|_| MailError::Build(format!("{what} is not a valid email address")))
}

fn content_type(value: &str, what: &str) -> Result<ContentType, MailError> {
    ContentType::parse(value)
        .map_err(|_| MailError::Build(format!("{what}: invalid content type {value:?}")))
}

/// Removes characters that have no place in a header parameter.
fn clean_filename(name: &str) -> String {
    let n: String = name
        .chars()
        .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
        .collect();
    if n.trim().is_empty() {
        "attachment".into()
    } else {
        n
    }
}

fn valid_cid(cid: &str) -> bool {
    !cid.is_empty()
        && cid
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\\' | '(' | ')'))
}

/// Builds the message `from` → `email.to` (see the module docs for the MIME structure).
pub fn build_message(from: &str, email: &Email) -> Result<Message, MailError> {
    let from = parse_mailbox(from, "MAIL_FROM")?;
    let to = parse_mailbox(&email.to, "the recipient")?;
    if email.subject.contains(['\r', '\n']) {
        return Err(MailError::Build("the subject contains a line break".into()));
    }
    let message_id = format!(
        "<{}@{}>",
        uuid::Uuid::new_v4().simple(),
        from.email.domain()
    );
    let builder = Message::builder()
        .from(from)
        .to(to)
        .subject(email.subject.clone())
        .header(MessageId::from(message_id));

    let text = SinglePart::plain(email.text.clone());
    let body: Body = match &email.html {
        None => {
            if !email.inline.is_empty() {
                return Err(MailError::Build(
                    "inline images need an HTML body to reference them".into(),
                ));
            }
            Body::Single(text)
        }
        Some(html) => {
            let html = SinglePart::html(html.clone());
            let rich = if email.inline.is_empty() {
                Body::Single(html)
            } else {
                let mut related = MultiPart::related().singlepart(html);
                for img in &email.inline {
                    if !valid_cid(&img.cid) {
                        return Err(MailError::Build(format!(
                            "inline content id {:?} is not valid (printable ASCII, no brackets)",
                            img.cid
                        )));
                    }
                    let ct = content_type(&img.content_type, "inline image")?;
                    related = related.singlepart(
                        LettreAttachment::new_inline_with_name(
                            img.cid.clone(),
                            clean_filename(&img.filename),
                        )
                        .body(img.bytes.clone(), ct),
                    );
                }
                Body::Multi(related)
            };
            let alternative = MultiPart::alternative().singlepart(text);
            Body::Multi(match rich {
                Body::Single(p) => alternative.singlepart(p),
                Body::Multi(m) => alternative.multipart(m),
            })
        }
    };

    let body = if email.attachments.is_empty() {
        body
    } else {
        let mut mixed = match body {
            Body::Single(p) => MultiPart::mixed().singlepart(p),
            Body::Multi(m) => MultiPart::mixed().multipart(m),
        };
        for a in &email.attachments {
            let ct = content_type(&a.content_type, "attachment")?;
            mixed = mixed.singlepart(
                LettreAttachment::new(clean_filename(&a.filename)).body(a.bytes.clone(), ct),
            );
        }
        Body::Multi(mixed)
    };

    match body {
        Body::Single(p) => builder.singlepart(p),
        Body::Multi(m) => builder.multipart(m),
    }
    .map_err(|e| MailError::Build(e.to_string()))
}

enum Body {
    Single(SinglePart),
    Multi(MultiPart),
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_1: &[u8] = b"\x89PNG\r\n\x1a\n-first-image-bytes\x00\x01\x02";
    const PNG_2: &[u8] = b"\x89PNG\r\n\x1a\n-second-image-bytes\xff\xfe";

    fn rich() -> Email {
        Email {
            to: "Chef de file <lead@shelter.example.org>".into(),
            subject: "بطاقة الأداء — Fiche de résultats, novembre".into(),
            text: "Résumé : 3 opérations.\nملخص: ثلاث عمليات".into(),
            html: Some(
                "<p dir=\"rtl\">ملخص</p><img src=\"cid:grid@cp\"><img src=\"cid:scores@cp\">"
                    .into(),
            ),
            inline: vec![
                Inline {
                    cid: "grid@cp".into(),
                    content_type: "image/png".into(),
                    filename: "grid.png".into(),
                    bytes: PNG_1.to_vec(),
                },
                Inline {
                    cid: "scores@cp".into(),
                    content_type: "image/png".into(),
                    filename: "scores.png".into(),
                    bytes: PNG_2.to_vec(),
                },
            ],
            attachments: vec![Attachment {
                filename: "scores-2026-11.csv".into(),
                content_type: "text/csv; charset=utf-8".into(),
                bytes: "operation,function,score\nshelter-yemen,1,72.5\n"
                    .as_bytes()
                    .to_vec(),
            }],
        }
    }

    /// Bodies come back in MIME's canonical CRLF form.
    fn norm(s: &str) -> String {
        s.replace("\r\n", "\n").trim_end().to_string()
    }

    fn parse(raw: &[u8]) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(raw)
            .expect("parses")
    }

    fn ctype(part: &mail_parser::MessagePart<'_>) -> String {
        use mail_parser::MimeHeaders;
        let ct = part.content_type().expect("content type");
        format!(
            "{}/{}",
            ct.ctype().to_ascii_lowercase(),
            ct.subtype().unwrap_or("").to_ascii_lowercase()
        )
    }

    fn children<'a>(
        msg: &'a mail_parser::Message<'a>,
        part: &mail_parser::MessagePart<'_>,
    ) -> Vec<&'a mail_parser::MessagePart<'a>> {
        match &part.body {
            mail_parser::PartType::Multipart(ids) => {
                ids.iter().map(|i| &msg.parts[*i as usize]).collect()
            }
            _ => vec![],
        }
    }

    #[test]
    fn text_only_is_text_plain_and_utf8_survives() {
        let email = Email {
            to: "p@x.org".into(),
            subject: "Enquête de performance — Yémen".into(),
            text: "Merci de répondre avant le 30 novembre. شكرا".into(),
            ..Default::default()
        };
        let raw = build_message("clusterpulse <noreply@cp.example>", &email)
            .unwrap()
            .formatted();
        assert!(raw.is_ascii(), "headers and bodies are transfer-encoded");
        let msg = parse(&raw);
        assert_eq!(ctype(msg.root_part()), "text/plain");
        assert_eq!(msg.subject(), Some("Enquête de performance — Yémen"));
        assert_eq!(
            norm(&msg.body_text(0).unwrap()),
            "Merci de répondre avant le 30 novembre. شكرا"
        );
        let mid = msg.message_id().unwrap();
        assert!(mid.ends_with("@cp.example"), "{mid}");
    }

    #[test]
    fn html_without_inline_is_alternative() {
        let email = Email {
            to: "p@x.org".into(),
            subject: "s".into(),
            text: "plain".into(),
            html: Some("<b>rich</b>".into()),
            ..Default::default()
        };
        let raw = build_message("noreply@cp.example", &email)
            .unwrap()
            .formatted();
        let msg = parse(&raw);
        let root = msg.root_part();
        assert_eq!(ctype(root), "multipart/alternative");
        let kids: Vec<String> = children(&msg, root).into_iter().map(ctype).collect();
        assert_eq!(kids, ["text/plain", "text/html"]);
    }

    #[test]
    fn rich_message_structure_cids_and_arabic_subject() {
        use mail_parser::MimeHeaders;
        let email = rich();
        let raw = build_message("clusterpulse <noreply@cp.example>", &email)
            .unwrap()
            .formatted();
        let msg = parse(&raw);
        assert_eq!(msg.subject(), Some(email.subject.as_str()));
        let to = msg.to().unwrap().first().unwrap();
        assert_eq!(to.address(), Some("lead@shelter.example.org"));
        assert_eq!(to.name(), Some("Chef de file"));

        // multipart/mixed > [multipart/alternative > [text/plain, multipart/related >
        // [text/html, image/png, image/png]], text/csv]
        let root = msg.root_part();
        assert_eq!(ctype(root), "multipart/mixed");
        let mixed = children(&msg, root);
        assert_eq!(mixed.len(), 2);
        assert_eq!(ctype(mixed[0]), "multipart/alternative");
        assert_eq!(ctype(mixed[1]), "text/csv");
        assert_eq!(mixed[1].attachment_name(), Some("scores-2026-11.csv"));
        assert_eq!(
            mixed[1].contents(),
            email.attachments[0].bytes.as_slice(),
            "CSV survives"
        );
        let alt = children(&msg, mixed[0]);
        assert_eq!(alt.len(), 2);
        assert_eq!(ctype(alt[0]), "text/plain");
        assert_eq!(norm(alt[0].text_contents().unwrap()), email.text);
        assert_eq!(ctype(alt[1]), "multipart/related");
        let related = children(&msg, alt[1]);
        assert_eq!(related.len(), 3);
        assert_eq!(ctype(related[0]), "text/html");
        let html = related[0].text_contents().unwrap();
        assert!(html.contains("ملخص"));
        for (img, expected) in related[1..].iter().zip(&email.inline) {
            assert_eq!(ctype(img), "image/png");
            let cid = img.content_id().expect("Content-ID");
            assert_eq!(cid.trim_matches(['<', '>']), expected.cid);
            assert!(html.contains(&format!("cid:{}", expected.cid)));
            assert_eq!(img.contents(), expected.bytes.as_slice());
            assert!(img.content_disposition().unwrap().is_inline());
        }
    }

    #[test]
    fn errors_name_the_field_not_the_value() {
        let mut e = rich();
        e.to = "not an address".into();
        let err = build_message("noreply@cp.example", &e)
            .unwrap_err()
            .to_string();
        assert!(err.contains("recipient"), "{err}");
        assert!(!err.contains("not an address"));
        let err = build_message("nope", &rich()).unwrap_err().to_string();
        assert!(err.contains("MAIL_FROM"), "{err}");
        let mut e = rich();
        e.html = None;
        assert!(build_message("noreply@cp.example", &e).is_err());
        let mut e = rich();
        e.inline[0].cid = "bad id".into();
        assert!(build_message("noreply@cp.example", &e).is_err());
        let mut e = rich();
        e.subject = "a\r\nBcc: x@y.z".into();
        assert!(build_message("noreply@cp.example", &e).is_err());
    }
}
