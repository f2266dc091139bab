//! Shared by the HTTP benchmarks: a scratch database (SQLite in a temp folder, or a fresh
//! PostgreSQL database under `BENCH_DATABASE_URL`), the server settings, percentiles.
#![allow(dead_code)]

use clusterpulse::config::Config;
use std::collections::HashMap;

pub struct ScratchDb {
    pub url: String,
    pub backend: &'static str,
    pg: Option<(String, String)>,
    pub dir: tempfile::TempDir,
}

impl ScratchDb {
    pub fn create() -> ScratchDb {
        let dir = tempfile::tempdir().unwrap();
        match std::env::var("BENCH_DATABASE_URL") {
            Ok(admin_url) => {
                use diesel::connection::SimpleConnection;
                use diesel::Connection;
                let name = format!("cp_bench_{}", std::process::id());
                let mut c = diesel::pg::PgConnection::establish(&admin_url).unwrap();
                // Two statements: CREATE DATABASE cannot run in a multi-statement batch.
                c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
                    .unwrap();
                c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
                let base = admin_url.rsplit_once('/').unwrap().0.to_string();
                ScratchDb {
                    url: format!("{base}/{name}"),
                    backend: "PostgreSQL",
                    pg: Some((admin_url, name)),
                    dir,
                }
            }
            Err(_) => ScratchDb {
                url: format!("sqlite://{}", dir.path().join("bench.db").display()),
                backend: "SQLite",
                pg: None,
                dir,
            },
        }
    }

    /// Server settings for a benchmark run; `extra` overrides.
    pub fn config(&self, extra: &[(&str, &str)]) -> Config {
        let mut env: HashMap<String, String> = HashMap::new();
        env.insert("DATABASE_URL".into(), self.url.clone());
        env.insert("CLUSTERPULSE_BIND".into(), "127.0.0.1:0".into());
        env.insert(
            "CLUSTERPULSE_DATA_DIR".into(),
            self.dir.path().display().to_string(),
        );
        env.insert(
            "CLUSTERPULSE_SECRET_KEY".into(),
            "bench-secret-key-bench-secret-key-0123456789".into(),
        );
        env.insert(
            "CLUSTERPULSE_SURVEYS_DIR".into(),
            concat!(env!("CARGO_MANIFEST_DIR"), "/surveys").into(),
        );
        env.insert("CLUSTERPULSE_MAIL_WORKER".into(), "false".into());
        env.insert("CLUSTERPULSE_DB_POOL_SIZE".into(), "16".into());
        // Writer lanes on PostgreSQL, to compare with the pool (`CLUSTERPULSE_DB_WRITERS=2`).
        if let Ok(lanes) = std::env::var("CLUSTERPULSE_DB_WRITERS") {
            env.insert("CLUSTERPULSE_DB_WRITERS".into(), lanes);
        }
        for (k, v) in extra {
            env.insert(k.to_string(), v.to_string());
        }
        Config::from_lookup(|k| env.get(k).cloned()).unwrap()
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.pg {
            use diesel::connection::SimpleConnection;
            use diesel::Connection;
            if let Ok(mut c) = diesel::pg::PgConnection::establish(admin_url) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[idx]
}

/// The cluster `bench` and its operation `bench-op`, inserted directly.
pub fn bench_operation(
    conn: &mut clusterpulse::db::DbConnection,
    now: chrono::NaiveDateTime,
) -> clusterpulse::db::models::Operation {
    use clusterpulse::db::models;
    use clusterpulse::db::schema::{clusters, operations};
    use diesel::RunQueryDsl;
    diesel::insert_into(clusters::table)
        .values(models::NewCluster {
            code: "bench",
            name: "Bench Cluster",
            lead_emails: "[]".into(),
            language: "en",
            created_at: now,
        })
        .execute(conn)
        .unwrap();
    let cluster = models::cluster_by_code(conn, "bench").unwrap().unwrap();
    diesel::insert_into(operations::table)
        .values(models::NewOperation {
            slug: "bench-op",
            cluster_id: cluster.id,
            country: "YE",
            name: "Bench operation",
            created_at: now,
            default_language: None,
        })
        .execute(conn)
        .unwrap();
    models::operation_by_slug(conn, "bench-op")
        .unwrap()
        .unwrap()
}

/// What `wrk` (the outside load generator) measured.
pub struct WrkRun {
    /// 201 answers.
    pub created: u64,
    /// Any other answer (or socket error status).
    pub other: u64,
    pub seconds: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    /// CPU time this process (the server: nothing else of it runs meanwhile) used while
    /// wrk ran, in seconds.
    pub server_cpu: f64,
    /// The same by kind of thread (see [`thread_kind`]), in seconds.
    pub by_thread: Vec<(&'static str, f64)>,
}

impl WrkRun {
    pub fn print(&self, what: &str) {
        println!(
            "wrk: {:.0} {what}/s (201 answers: {}, other answers: {}); latency ms p50 {:.1}, p90 {:.1}, p99 {:.1}, max {:.1}",
            self.created as f64 / self.seconds as f64,
            self.created,
            self.other,
            self.p50,
            self.p90,
            self.p99,
            self.max
        );
        if self.created > 0 {
            println!(
                "wrk: server CPU {:.2} s in {} s: {:.0} µs per 201 answer, {:.2} cores busy",
                self.server_cpu,
                self.seconds,
                self.server_cpu * 1e6 / self.created as f64,
                self.server_cpu / self.seconds as f64
            );
            let parts: Vec<String> = self
                .by_thread
                .iter()
                .map(|(kind, cpu)| format!("{kind} {:.0}", cpu * 1e6 / self.created as f64))
                .collect();
            println!(
                "wrk: server CPU per 201 answer by thread, µs: {}",
                parts.join(", ")
            );
        }
    }
}

/// What a thread of the server does, by its name: the database writer, the WAL
/// checkpointer, actix's HTTP workers, the blocking pool (checks and reads), or other.
pub fn thread_kind(name: &str) -> &'static str {
    if name.starts_with("db-writer") {
        "writer"
    } else if name.starts_with("db-checkpoint") {
        "checkpoint"
    } else if name.starts_with("actix") {
        "http"
    } else if name.starts_with("tokio-rt-worker") {
        "blocking"
    } else {
        "other"
    }
}

/// CPU time (user + system) of each live thread of this process, by thread id, with its
/// name, from /proc/self/task (Linux; empty elsewhere). A thread that ends between two
/// readings takes its time with it, so per-kind figures are lower bounds.
pub fn thread_cpu_seconds() -> HashMap<u32, (String, f64)> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let hz = if hz > 0.0 { hz } else { 100.0 };
    for entry in dir.flatten() {
        let Ok(tid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_string();
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        if fields.len() < 13 {
            continue;
        }
        let ticks: f64 =
            fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
        out.insert(tid, (name, ticks / hz));
    }
    out
}

/// CPU used by each kind of thread between two [`thread_cpu_seconds`] readings.
pub fn cpu_by_kind(
    before: &HashMap<u32, (String, f64)>,
    after: &HashMap<u32, (String, f64)>,
) -> Vec<(&'static str, f64)> {
    let kinds = ["writer", "checkpoint", "http", "blocking", "other"];
    let mut sums = [0.0f64; 5];
    for (tid, (name, cpu)) in after {
        let start = before.get(tid).map_or(0.0, |(_, c)| *c);
        let k = kinds
            .iter()
            .position(|k| *k == thread_kind(name))
            .unwrap_or(4);
        sums[k] += cpu - start;
    }
    kinds.iter().copied().zip(sums).collect()
}

/// CPU time (user + system) this process has used so far, in seconds, from
/// /proc/self/stat (Linux; 0 elsewhere).
pub fn process_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses and may hold spaces):
    // utime and stime are the 12th and 13th of them, in clock ticks.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 =
        fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ticks / if hz > 0.0 { hz } else { 100.0 }
}

/// Drives `url` with `wrk` (2 threads, `connections` keep-alive connections, `seconds`),
/// POSTing `bodies` (each sent once unless wrk gets through all of them). `None` when wrk is
/// not installed: on Debian, `apt-get install wrk`.
pub fn run_wrk(url: &str, bodies: &[String], seconds: u64, connections: usize) -> Option<WrkRun> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bodies.jsonl");
    std::fs::write(&file, bodies.join("\n") + "\n").unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/support/wrk_post.lua");
    let cpu0 = process_cpu_seconds();
    let threads0 = thread_cpu_seconds();
    let out = match std::process::Command::new("wrk")
        .args(["-t2", &format!("-c{connections}"), &format!("-d{seconds}s")])
        .args(["--timeout", "10s", "-s", script, url, "--"])
        .arg(&file)
        .arg("2")
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            println!("wrk: not run ({e}); install it with `apt-get install wrk` (Debian)");
            return None;
        }
    };
    let server_cpu = process_cpu_seconds() - cpu0;
    let by_thread = cpu_by_kind(&threads0, &thread_cpu_seconds());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "wrk failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value = |key: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(key).map(|v| v.trim().parse().unwrap()))
            .unwrap_or_else(|| panic!("wrk printed no {key}: {text}"))
    };
    Some(WrkRun {
        created: value("wrk-created ") as u64,
        other: value("wrk-other ") as u64,
        seconds,
        p50: value("wrk-p50-ms "),
        p90: value("wrk-p90-ms "),
        p99: value("wrk-p99-ms "),
        max: value("wrk-max-ms "),
        server_cpu,
        by_thread,
    })
}
