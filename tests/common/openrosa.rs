//! Speaking OpenRosa as ODK Collect does: multipart submissions and the response documents
//! the apps show.

use super::TestApp;

/// The namespace of OpenRosa response documents.
pub const OR: &str = "http://openrosa.org/http/response";

/// POSTs `xml` to `{server_url}/submission` as ODK Collect does: multipart with the part
/// `xml_submission_file`. The status and the body; every reply must say its OpenRosa version.
pub async fn submit(app: &TestApp, server_url: &str, xml: &str) -> (u16, String) {
    let boundary = "----odkcollect7d1f";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"xml_submission_file\"; \
         filename=\"instance.xml\"\r\nContent-Type: text/xml\r\n\r\n{xml}\r\n--{boundary}--\r\n"
    );
    let r = app
        .client
        .post(format!("{server_url}/submission"))
        .header("X-OpenRosa-Version", "1.0")
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-openrosa-version"], "1.0");
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// The message of an OpenRosa response document.
pub fn or_message(body: &str) -> String {
    let doc = roxmltree::Document::parse(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert!(doc.root_element().has_tag_name((OR, "OpenRosaResponse")));
    doc.descendants()
        .find(|n| n.has_tag_name((OR, "message")))
        .and_then(|n| n.text())
        .unwrap_or("")
        .to_string()
}
