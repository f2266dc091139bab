//! Survey definitions over HTTP, and stored versions.

mod common;
use common::{Backend, TestApp};
use serde_json::Value;

async fn definitions_as_json(app: TestApp) {
    let list: Value = app
        .client
        .get(app.url("/api/v1/surveys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list["surveys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "aap-feedback",
            "ccpm-coordinator",
            "ccpm-partner",
            "service-charter-coordinator"
        ]
    );
    for s in list["surveys"].as_array().unwrap() {
        assert_eq!(s["languages"], serde_json::json!(["en", "fr", "es", "ar"]));
        assert!(s["version"].as_u64().unwrap() >= 1);
        assert!(s["title"]["ar"].is_string());
    }

    let s: Value = app
        .client
        .get(app.url("/api/v1/surveys/ccpm-partner"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["kind"], "performance");
    assert_eq!(s["framework"], "ccpm");
    let qs = s["questions"].as_array().unwrap();
    assert!((20..=40).contains(&qs.len()));
    let scored: Vec<&Value> = qs.iter().filter(|q| q["indicator"].is_string()).collect();
    let first = scored[0];
    assert_eq!(first["type"], "select_one");
    let list = first["list"].as_str().unwrap();
    let options = s["choices"][list].as_array().unwrap();
    assert!(
        options.iter().any(|o| o["score"].is_null()),
        "a no-score option exists"
    );
    assert!(options.iter().any(|o| o["score"].as_f64() == Some(100.0)));
    for q in qs {
        for key in [
            "name",
            "type",
            "list",
            "label",
            "hint",
            "required",
            "relevant",
            "constraint",
            "indicator",
            "section",
        ] {
            assert!(q.get(key).is_some(), "question field {key}");
        }
    }

    let fw: Value = app
        .client
        .get(app.url("/api/v1/frameworks/ccpm"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        fw["thresholds"],
        serde_json::json!({"good": 75.0, "satisfactory": 50.0, "unsatisfactory": 25.0})
    );
    assert_eq!(fw["min_respondents"], 3);
    assert_eq!(fw["functions"].as_array().unwrap().len(), 7);
    let indicators: usize = fw["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["indicators"].as_array().unwrap().len())
        .sum();
    assert_eq!(indicators, 14);

    for path in ["/api/v1/surveys/nope", "/api/v1/frameworks/nope"] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(r.json::<Value>().await.unwrap()["error"], "not_found");
    }
}
both_backends!(definitions, definitions_as_json);

/// Copies the shipped definitions to a temp folder the test may edit.
fn copy_surveys() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("frameworks")).unwrap();
    for entry in std::fs::read_dir(common::surveys_dir()).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml") {
            std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
        }
    }
    for entry in std::fs::read_dir(common::surveys_dir().join("frameworks")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(
            &p,
            dir.path().join("frameworks").join(p.file_name().unwrap()),
        )
        .unwrap();
    }
    dir
}

async fn versions_are_kept_and_changes_need_a_bump(app: TestApp) {
    use clusterpulse::db::schema::survey_definitions as sd;
    use diesel::prelude::*;
    let count = |app: &TestApp| -> i64 {
        let mut c = app.pool.get().unwrap();
        sd::table.count().get_result(&mut c).unwrap()
    };
    assert_eq!(count(&app), 4);

    let surveys = copy_surveys();
    let path = surveys.path().join("aap-feedback.toml");
    let original = std::fs::read_to_string(&path).unwrap();
    // Change a label without bumping: refused, naming the survey and the fix.
    std::fs::write(
        &path,
        original.replacen("label.en = \"", "label.en = \"Changed: ", 1),
    )
    .unwrap();
    let env_for = |dir: &std::path::Path| {
        let mut env = common::base_env(app.dir.path(), &app.config.database_url);
        env.insert("CLUSTERPULSE_SURVEYS_DIR".into(), dir.display().to_string());
        env
    };
    let env = env_for(surveys.path());
    let config = clusterpulse::Config::from_lookup(|k| env.get(k).cloned()).unwrap();
    let err = clusterpulse::Application::build(config)
        .await
        .err()
        .expect("refused");
    let msg = format!("{err:#}");
    assert!(
        msg.contains("aap-feedback") && msg.contains("bump"),
        "{msg}"
    );

    // With the version bumped, both versions are kept.
    let bumped = original.replacen("version = 2", "version = 3", 1).replacen(
        "label.en = \"",
        "label.en = \"Changed: ",
        1,
    );
    std::fs::write(&path, bumped).unwrap();
    let config = clusterpulse::Config::from_lookup(|k| env.get(k).cloned()).unwrap();
    let app2 = clusterpulse::Application::build(config)
        .await
        .expect("starts with a bumped version");
    drop(app2);
    assert_eq!(count(&app), 5);
    let mut c = app.pool.get().unwrap();
    let old = clusterpulse::domain::catalog::stored_version(&mut c, "aap-feedback", 2)
        .unwrap()
        .unwrap();
    let new = clusterpulse::domain::catalog::stored_version(&mut c, "aap-feedback", 3)
        .unwrap()
        .unwrap();
    assert!(!serde_json::to_string(&old).unwrap().contains("Changed: "));
    assert!(serde_json::to_string(&new).unwrap().contains("Changed: "));
    assert_eq!(new.version, 3);
}
both_backends!(versions, versions_are_kept_and_changes_need_a_bump);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_in_definitions_are_used_when_the_folder_is_missing() {
    let app = TestApp::spawn_with(Backend::Sqlite, |env| {
        env.insert(
            "CLUSTERPULSE_SURVEYS_DIR".into(),
            "/nonexistent/surveys".into(),
        );
    })
    .await
    .unwrap();
    let list: Value = app
        .client
        .get(app.url("/api/v1/surveys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["surveys"].as_array().unwrap().len(), 4);
}
