//! AAP indicators benchmark: `cargo bench --bench feedback_metrics` (release).
//!
//! Seeds `BENCH_FEEDBACK_ITEMS` (default 5,000,000) feedback items for one operation, plus
//! 1,000 for a second operation that must not count, with bulk multi-row `INSERT`s into a
//! fresh SQLite file in a temp folder (migrations applied first, so with every index), and
//! also into a scratch PostgreSQL database when `BENCH_DATABASE_URL=postgres://…/postgres`
//! is set (created, then dropped; `VACUUM ANALYZE` after seeding, as autovacuum would do).
//! Seeding is not timed; the summary rows are then rebuilt from the items (timed, reported;
//! `BENCH_REBUILD=1` forces it on a reused file). Then times
//! `clusterpulse::domain::feedback::metrics::feedback_metrics` (from the summaries) — all
//! time, and the last 12 months — `BENCH_RUNS` times (default 5) after one warm-up, and
//! reports the median, CPU time and the peak resident memory (VmHWM) of the timed runs;
//! then `feedback_metrics_from_items` (every item, the way before the summaries)
//! `BENCH_RAW_RUNS` times (default 3), whose result must be identical.
//!
//! The data: created times spread evenly over two years before `now`, ids in time order;
//! realistic mixes of categories, channels, languages, sexes, age groups, 25 regions plus
//! NULLs and free-text variants for admin1; messages of 20–620 characters; acknowledgement
//! delays around the SLA, responses, closures, satisfaction. Every run is checked against a
//! straightforward computation over the generated items (counts exactly, rates and medians
//! to 1e-9).
//!
//! With `BENCH_BASELINE=1`, it also times once (all time) the straightforward way this
//! replaces: every item of the operation loaded through diesel (only the columns needed),
//! then one group per item handed to the same polars code.
//!
//! `BENCH_SQLITE_FILE=/path/bench.db` keeps the SQLite database, and reuses it on the next
//! run (same `BENCH_FEEDBACK_ITEMS`) instead of seeding again.
//!
//! `BENCH_SKIP_SQLITE=1` runs PostgreSQL only.
//!
//! `BENCH_TRACE=1` logs the time of each query and of the polars part on stderr.
//!
//! Without `--bench` (e.g. `cargo test --benches`) it runs a small version (2,000 items,
//! one run) with the same checks.

use chrono::{Duration as Span, NaiveDate, NaiveDateTime};
use clusterpulse::db::{self, DbConnection};
use clusterpulse::domain::feedback::metrics::{feedback_metrics, feedback_metrics_from_items};
use clusterpulse::scoring::aap::{month_index, month_label, AapMetrics};
use diesel::connection::SimpleConnection;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const CATEGORIES: [(&str, u32); 6] = [
    ("complaint", 30),
    ("question", 20),
    ("request", 20),
    ("suggestion", 12),
    ("appreciation", 12),
    ("sensitive", 6),
];
const CHANNELS: [(&str, u32); 6] = [
    ("web", 35),
    ("hotline", 25),
    ("helpdesk", 15),
    ("sms", 12),
    ("box", 8),
    ("email", 5),
];
const LANGUAGES: [(&str, u32); 4] = [("ar", 55), ("en", 25), ("fr", 12), ("es", 8)];
const SEXES: [(Option<&str>, u32); 4] = [
    (Some("female"), 48),
    (Some("male"), 40),
    (Some("prefer_not_to_say"), 4),
    (None, 8),
];
const AGES: [(Option<&str>, u32); 5] = [
    (Some("under_18"), 8),
    (Some("18_59"), 65),
    (Some("60_plus"), 12),
    (Some("prefer_not_to_say"), 5),
    (None, 10),
];
const REGIONS: [&str; 25] = [
    "Aden",
    "Abyan",
    "Amanat Al Asimah",
    "Al Bayda",
    "Al Dhale",
    "Al Hudaydah",
    "Al Jawf",
    "Al Maharah",
    "Al Mahwit",
    "Amran",
    "Dhamar",
    "Hadramawt",
    "Hajjah",
    "Ibb",
    "Lahj",
    "Marib",
    "Raymah",
    "Sadah",
    "Sanaa",
    "Shabwah",
    "Socotra",
    "Taiz",
    "North District",
    "South District",
    "Coastal Zone",
];
const LOREM: &str = "The distribution at the site was late again and many families waited all \
day without water or shade. The committee said the lists would be checked but nobody came \
back to us. Please tell us when the next round of vouchers will be given and where. Some \
older people could not walk to the point and asked neighbours to collect for them, which was \
refused. We thank the team for the repairs to the shelters before the rains. The hotline did \
not answer in the evening. Children in the camp need more blankets because nights are cold. ";

/// CPU time (user + system, all threads) of this process so far.
fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// A line of /proc/self/status, in kB.
fn status_kb(key: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0), so the next reading is the peak since.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

struct Rng(ChaCha8Rng);

impl Rng {
    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u32) -> u32 {
        (self.0.next_u64() % n as u64) as u32
    }
    fn pick<T: Copy>(&mut self, table: &[(T, u32)]) -> T {
        let total: u32 = table.iter().map(|(_, w)| w).sum();
        let mut r = self.below(total);
        for (v, w) in table {
            if r < *w {
                return *v;
            }
            r -= w;
        }
        table[table.len() - 1].0
    }
}

/// One generated item, with what the checks need.
struct Item {
    channel: &'static str,
    language: &'static str,
    category: &'static str,
    sensitive: bool,
    sex: Option<&'static str>,
    age_group: Option<&'static str>,
    admin1: Option<String>,
    message_len: usize,
    created: NaiveDateTime,
    due: NaiveDateTime,
    acknowledged: Option<NaiveDateTime>,
    responded: Option<NaiveDateTime>,
    closed: Option<NaiveDateTime>,
    referred: bool,
    satisfied: Option<bool>,
    consent: bool,
}

fn span_hours(h: f64) -> Span {
    Span::milliseconds((h * 3_600_000.0).round() as i64)
}

fn generate(rng: &mut Rng, i: u64, n: u64, start: NaiveDateTime, now: NaiveDateTime) -> Item {
    let total_ms = (now - start).num_milliseconds() as f64;
    let created =
        start + Span::milliseconds(((i as f64 + rng.unit()) / n as f64 * total_ms) as i64);
    let category = rng.pick(&CATEGORIES);
    let sensitive = category == "sensitive" || rng.below(100) == 0;
    let sla = match category {
        "sensitive" => 24.0,
        "complaint" => 72.0,
        _ => 168.0,
    };
    let due = created + span_hours(sla);
    let before_now = |t: NaiveDateTime| (t <= now).then_some(t);
    let mut acknowledged = None;
    if rng.below(100) < 95 {
        acknowledged = before_now(created + span_hours(sla * rng.unit().powi(2) * 2.2));
    }
    let (mut responded, mut closed, mut referred) = (None, None, false);
    if let Some(ack) = acknowledged {
        if rng.below(100) < 85 {
            responded = before_now(ack + span_hours(24.0 * 30.0 * rng.unit().powi(2)));
        }
        if let Some(resp) = responded {
            if rng.below(100) < 90 {
                closed = before_now(resp + span_hours(24.0 * 3.0 * rng.unit()));
            }
        } else if rng.below(100) < 30 {
            closed = before_now(ack + span_hours(24.0 * 10.0 * rng.unit()));
        } else {
            referred = rng.below(2) == 0;
        }
    }
    let satisfied = closed.and_then(|_| match rng.below(100) {
        0..=54 => Some(true),
        55..=74 => Some(false),
        _ => None,
    });
    let r = rng.below(1000);
    let admin1 = match r {
        0..=119 => None,
        120..=134 => Some(format!("region {} variant", rng.below(400))),
        _ => Some(REGIONS[rng.below(REGIONS.len() as u32) as usize].to_string()),
    };
    Item {
        channel: rng.pick(&CHANNELS),
        language: rng.pick(&LANGUAGES),
        category,
        sensitive,
        sex: rng.pick(&SEXES),
        age_group: rng.pick(&AGES),
        admin1,
        message_len: 20 + (rng.unit().powi(2) * 600.0) as usize,
        created,
        due,
        acknowledged,
        responded,
        closed,
        referred,
        satisfied,
        consent: rng.below(100) < 30,
    }
}

fn ts(t: NaiveDateTime) -> String {
    // What diesel writes (and PostgreSQL accepts as a timestamp literal).
    format!("'{}'", t.format("%F %T%.f"))
}

fn opt_ts(t: Option<NaiveDateTime>) -> String {
    t.map(ts).unwrap_or_else(|| "NULL".into())
}

fn opt_str(s: Option<&str>) -> String {
    s.map(|s| format!("'{}'", s.replace('\'', "''")))
        .unwrap_or_else(|| "NULL".into())
}

fn row_sql(item: &Item, reference: &str, operation_id: i32) -> String {
    let status = if item.closed.is_some() {
        "closed"
    } else if item.responded.is_some() {
        "responded"
    } else if item.referred {
        "referred"
    } else if item.acknowledged.is_some() {
        "acknowledged"
    } else {
        "received"
    };
    let priority = match item.category {
        "sensitive" => "high",
        "complaint" => "medium",
        _ => "low",
    };
    let updated = [item.acknowledged, item.responded, item.closed]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(item.created);
    let message = &LOREM.repeat(2)[..item.message_len];
    let answers = format!(
        "{{\"category\":\"{}\",\"message\":\"{}\"}}",
        item.category, message
    );
    let satisfied = match item.satisfied {
        None => "NULL",
        Some(true) => "TRUE",
        Some(false) => "FALSE",
    };
    format!(
        "('{reference}', {operation_id}, '{}', '{}', '{}', '{priority}', '{status}', {}, '{message}', \
         '{answers}', {}, {}, {}, {}, NULL, {}, {}, NULL, {}, {}, {}, {}, {}, {}, {satisfied})",
        item.channel,
        item.language,
        item.category,
        if item.sensitive { "TRUE" } else { "FALSE" },
        if item.consent { "TRUE" } else { "FALSE" },
        if item.consent {
            "'v1:c2VhbGVkIGNvbnRhY3QgZGV0YWlscyBvZiB0aGUgcGVyc29uIHdobyBzZW50IHRoaXMgZmVlZGJhY2sgaXRlbQ=='"
        } else {
            "NULL"
        },
        opt_str(item.sex),
        opt_str(item.age_group),
        opt_str(item.admin1.as_deref()),
        opt_str(item.admin1.as_deref().map(|_| "Some district")),
        ts(item.created),
        ts(updated),
        ts(item.due),
        opt_ts(item.acknowledged),
        opt_ts(item.responded),
        opt_ts(item.closed),
    )
}

const COLUMNS: &str = "reference, operation_id, channel, language, category, priority, status, \
    sensitive, message, answers, consent_to_contact, contact_encrypted, sex, age_group, \
    disability, admin1, admin2, created_by, created_at, updated_at, ack_due_at, \
    acknowledged_at, responded_at, closed_at, satisfied";

/// What the metrics must be, computed item by item.
#[derive(Default)]
struct Expected {
    total: u64,
    by_category: BTreeMap<String, u64>,
    by_channel: BTreeMap<String, u64>,
    by_sex: BTreeMap<String, u64>,
    by_age_group: BTreeMap<String, u64>,
    by_admin1: BTreeMap<String, u64>,
    by_month: BTreeMap<(i32, String), u64>,
    sla_due: u64,
    sla_met: u64,
    closed: u64,
    responded: u64,
    recorded: u64,
    satisfied: u64,
    sensitive: u64,
    overdue: u64,
    /// (closing month, milliseconds to close)
    closures: Vec<(i32, i64)>,
}

impl Expected {
    fn add(&mut self, it: &Item, now: NaiveDateTime) {
        let key = |s: Option<&str>| s.unwrap_or("unknown").to_string();
        self.total += 1;
        *self.by_category.entry(it.category.into()).or_default() += 1;
        *self.by_channel.entry(it.channel.into()).or_default() += 1;
        *self.by_sex.entry(key(it.sex)).or_default() += 1;
        *self.by_age_group.entry(key(it.age_group)).or_default() += 1;
        *self.by_admin1.entry(key(it.admin1.as_deref())).or_default() += 1;
        let month = |t: NaiveDateTime| {
            use chrono::Datelike;
            month_index(t.year(), t.month())
        };
        *self
            .by_month
            .entry((month(it.created), it.category.into()))
            .or_default() += 1;
        if it.acknowledged.is_some() || it.due <= now {
            self.sla_due += 1;
        }
        if it.acknowledged.is_some_and(|a| a <= it.due) {
            self.sla_met += 1;
        }
        if let Some(c) = it.closed {
            self.closed += 1;
            self.responded += it.responded.is_some() as u64;
            self.recorded += it.satisfied.is_some() as u64;
            self.satisfied += (it.satisfied == Some(true)) as u64;
            self.closures
                .push((month(c), (c - it.created).num_milliseconds()));
        }
        self.sensitive += it.sensitive as u64;
        if it.closed.is_none() && it.acknowledged.is_none() && it.due < now {
            self.overdue += 1;
        }
    }

    fn check(&self, m: &AapMetrics) {
        let close = |a: Option<f64>, b: Option<f64>, what: &str| match (a, b) {
            (Some(a), Some(b)) => assert!((a - b).abs() < 1e-9, "{what}: {a} vs {b}"),
            _ => assert_eq!(a, b, "{what}"),
        };
        let pct = |n: u64, d: u64| (d > 0).then(|| 100.0 * n as f64 / d as f64);
        assert_eq!(m.total, self.total, "total");
        assert_eq!(m.by_category, self.by_category, "by_category");
        assert_eq!(m.by_channel, self.by_channel, "by_channel");
        assert_eq!(m.by_sex, self.by_sex, "by_sex");
        assert_eq!(m.by_age_group, self.by_age_group, "by_age_group");
        assert_eq!(m.by_admin1, self.by_admin1, "by_admin1");
        let by_month: BTreeMap<(i32, String), u64> = m
            .by_month
            .iter()
            .map(|r| {
                let (y, mo) = r.month.split_once('-').unwrap();
                let idx = month_index(y.parse().unwrap(), mo.parse().unwrap());
                ((idx, r.category.clone()), r.count)
            })
            .collect();
        assert_eq!(by_month, self.by_month, "by_month");
        close(
            m.acknowledged_within_sla_pct,
            pct(self.sla_met, self.sla_due),
            "acknowledged_within_sla_pct",
        );
        close(m.closed_pct, pct(self.closed, self.total), "closed_pct");
        close(
            m.responded_pct,
            pct(self.responded, self.closed),
            "responded_pct",
        );
        close(
            m.satisfied_pct,
            pct(self.satisfied, self.recorded),
            "satisfied_pct",
        );
        assert_eq!(m.sensitive, Some(self.sensitive), "sensitive");
        assert_eq!(m.overdue, self.overdue, "overdue");
        let median = |mut v: Vec<i64>| -> Option<f64> {
            if v.is_empty() {
                return None;
            }
            v.sort_unstable();
            let k = v.len() / 2;
            let days = |ms: i64| ms as f64 / 86_400_000.0;
            Some(if v.len() % 2 == 1 {
                days(v[k])
            } else {
                (days(v[k - 1]) + days(v[k])) / 2.0
            })
        };
        close(
            m.median_days_to_close,
            median(self.closures.iter().map(|c| c.1).collect()),
            "median_days_to_close",
        );
        let mut per_month: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
        for (mo, ms) in &self.closures {
            per_month.entry(*mo).or_default().push(*ms);
        }
        assert_eq!(
            m.days_to_close_by_month.len(),
            per_month.len(),
            "closing months"
        );
        for (row, (mo, v)) in m.days_to_close_by_month.iter().zip(per_month) {
            assert_eq!(row.month, month_label(mo));
            assert_eq!(row.closed, v.len() as u64, "closed in {}", row.month);
            close(Some(row.median_days), median(v), &row.month);
        }
    }
}

struct Seeded {
    all_time: Expected,
    last_year: Expected,
    from: NaiveDate,
}

/// Seeds the items, or with `write` false only generates them again (same seed) for the
/// expected values of an already seeded database.
fn seed(
    conn: &mut DbConnection,
    n: u64,
    now: NaiveDateTime,
    postgres: bool,
    write: bool,
) -> Seeded {
    let start = now - Span::days(730);
    let from = (now - Span::days(365)).date();
    let exec = |conn: &mut DbConnection, sql: &str| {
        if write {
            conn.batch_execute(sql).unwrap();
        }
    };
    exec(
        conn,
        "INSERT INTO clusters (code, name, created_at) VALUES ('shelter', 'Shelter', '2024-01-01 00:00:00');
         INSERT INTO operations (slug, cluster_id, country, name, created_at)
             VALUES ('shelter-yemen', 1, 'YE', 'Shelter Yemen', '2024-01-01 00:00:00');
         INSERT INTO operations (slug, cluster_id, country, name, created_at)
             VALUES ('other-op', 1, 'SD', 'Other', '2024-01-01 00:00:00');",
    );
    let mut rng = Rng(ChaCha8Rng::seed_from_u64(2026));
    let mut seeded = Seeded {
        all_time: Expected::default(),
        last_year: Expected::default(),
        from,
    };
    const BATCH: u64 = 500;
    let other = 1000u64;
    let mut i = 0u64;
    let t = Instant::now();
    exec(conn, "BEGIN");
    while i < n + other {
        let mut sql = String::with_capacity(BATCH as usize * 1200);
        sql.push_str(&format!("INSERT INTO feedback ({COLUMNS}) VALUES "));
        let end = (i + BATCH).min(n + other);
        for k in i..end {
            // The first `n` items go to the measured operation, the rest to the other one.
            let (op, idx, count) = if k < n { (1, k, n) } else { (2, k - n, other) };
            let item = generate(&mut rng, idx, count, start, now);
            if op == 1 {
                seeded.all_time.add(&item, now);
                if item.created.date() >= from {
                    seeded.last_year.add(&item, now);
                }
            }
            if k > i {
                sql.push_str(", ");
            }
            sql.push_str(&row_sql(&item, &format!("FB-{k:09}"), op));
        }
        exec(conn, &sql);
        i = end;
        if i % 200_000 < BATCH {
            exec(conn, "COMMIT; BEGIN");
            if write && n > 100_000 {
                eprintln!("  seeded {i} items ({:.0} s)", t.elapsed().as_secs_f64());
            }
        }
    }
    exec(conn, "COMMIT");
    if postgres {
        exec(conn, "VACUUM ANALYZE feedback");
    }
    seeded
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    if std::env::var("BENCH_TRACE").is_ok_and(|v| v == "1") {
        // Per-query times of `feedback_metrics` on stderr.
        tracing_subscriber::fmt()
            .with_env_filter("clusterpulse::domain::feedback::metrics=debug")
            .with_writer(std::io::stderr)
            .init();
    }
    let n: u64 = std::env::var("BENCH_FEEDBACK_ITEMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 5_000_000 } else { 2_000 });
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 5 } else { 1 });
    let raw_runs: usize = std::env::var("BENCH_RAW_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 3 } else { 1 });
    let now = NaiveDate::from_ymd_opt(2026, 11, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // BENCH_SQLITE_FILE: keep the SQLite database there, and reuse it when it exists.
    let sqlite_file = std::env::var("BENCH_SQLITE_FILE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| dir.path().join("bench.db"));
    let reuse = sqlite_file.exists();
    let mut targets = Vec::new();
    if !std::env::var("BENCH_SKIP_SQLITE").is_ok_and(|v| v == "1") {
        targets.push((
            "SQLite".to_string(),
            format!("sqlite://{}", sqlite_file.display()),
            None,
        ));
    }
    if let Ok(admin_url) = std::env::var("BENCH_DATABASE_URL") {
        use diesel::Connection;
        let name = format!("cp_bench_aap_{}", std::process::id());
        let mut c = diesel::pg::PgConnection::establish(&admin_url).unwrap();
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .unwrap();
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let base = admin_url.rsplit_once('/').unwrap().0.to_string();
        targets.push((
            "PostgreSQL".into(),
            format!("{base}/{name}"),
            Some((admin_url, name)),
        ));
    }
    for (backend, url, cleanup) in targets {
        let pool = db::connect(&url, 1).unwrap();
        db::migrate(&pool).unwrap();
        let mut conn = pool.get().unwrap();
        let t = Instant::now();
        let write = cleanup.is_some() || !reuse;
        let seeded = seed(&mut conn, n, now, cleanup.is_some(), write);
        println!(
            "{backend}: {} {n} items (+1,000 of another operation) in {:.1} s",
            if write {
                "seeded"
            } else {
                "reused a database of"
            },
            t.elapsed().as_secs_f64()
        );
        // The summaries: built by the same statements as the migration and
        // `clusterpulse feedback rebuild-summaries` (seeding bypasses the write path).
        let built = clusterpulse::domain::feedback::summaries::row_counts(&mut conn).unwrap();
        if write
            || built.iter().all(|(_, n)| *n == 0)
            || std::env::var("BENCH_REBUILD").is_ok_and(|v| v == "1")
        {
            let t = Instant::now();
            let rows = clusterpulse::domain::feedback::summaries::rebuild(&mut conn).unwrap();
            println!(
                "{backend}: summaries rebuilt in {:.1} s: {rows:?}",
                t.elapsed().as_secs_f64()
            );
        } else {
            println!("{backend}: summaries kept: {built:?}");
        }
        if let Some(size) = db_size(&mut conn, &url) {
            println!("{backend}: database size {size}");
        }
        for (label, from, expected) in [
            ("all time", None, &seeded.all_time),
            ("last 12 months", Some(seeded.from), &seeded.last_year),
        ] {
            let run = |conn: &mut DbConnection| {
                feedback_metrics(
                    conn,
                    1,
                    from,
                    None,
                    now,
                    clusterpulse::domain::feedback::metrics::Visibility::All,
                )
                .unwrap()
            };
            let first = run(&mut conn); // warm-up (page cache, polars pool)
            expected.check(&first);
            reset_peak();
            let rss_before = status_kb("VmRSS:").unwrap_or(0);
            let mut times = Vec::with_capacity(runs);
            let cpu = cpu_time();
            for _ in 0..runs {
                let t = Instant::now();
                let m = run(&mut conn);
                times.push(t.elapsed());
                assert_eq!(m, first, "the same metrics every run");
            }
            let cpu = (cpu_time() - cpu) / runs as u32;
            let peak = status_kb("VmHWM:").unwrap_or(0);
            times.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            // Before the summaries: the same indicators from every item, which must be
            // identical (not just close).
            let mut raw_times = Vec::with_capacity(raw_runs);
            let raw_cpu = cpu_time();
            for _ in 0..raw_runs.max(1) {
                let t = Instant::now();
                let raw = feedback_metrics_from_items(
                    &mut conn,
                    1,
                    from,
                    None,
                    now,
                    clusterpulse::domain::feedback::metrics::Visibility::All,
                )
                .unwrap();
                raw_times.push(t.elapsed());
                assert_eq!(raw, first, "summaries and items give identical metrics");
            }
            let raw_cpu = (cpu_time() - raw_cpu) / raw_times.len() as u32;
            raw_times.sort();
            println!(
                "{backend} {label} from every item (before the summaries): median {:.0} ms, \
                 min {:.0} ms over {} runs; CPU {:.0} ms per run",
                ms(raw_times[raw_times.len() / 2]),
                ms(raw_times[0]),
                raw_times.len(),
                ms(raw_cpu),
            );
            println!(
                "{backend} {label} ({} items, {} closed): median {:.0} ms, min {:.0} ms, \
                 max {:.0} ms over {runs} runs; CPU {:.0} ms per run (all threads of this \
                 process, not the database server's); peak RSS {:.0} MB (+{:.0} MB over \
                 the {:.0} MB before the runs)",
                first.total,
                expected.closed,
                ms(times[times.len() / 2]),
                ms(times[0]),
                ms(times[times.len() - 1]),
                ms(cpu),
                peak as f64 / 1024.0,
                peak.saturating_sub(rss_before) as f64 / 1024.0,
                rss_before as f64 / 1024.0,
            );
        }
        if std::env::var("BENCH_BASELINE").is_ok_and(|v| v == "1") || !full {
            let t = Instant::now();
            let m = baseline(&mut conn, 1, now);
            let elapsed = t.elapsed();
            seeded.all_time.check(&m);
            println!(
                "{backend} baseline, every row through diesel (all time): {:.0} ms",
                elapsed.as_secs_f64() * 1e3
            );
        }
        drop(conn);
        drop(pool);
        if let Some((admin_url, name)) = cleanup {
            use diesel::Connection;
            let mut c = diesel::pg::PgConnection::establish(&admin_url).unwrap();
            c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .unwrap();
        }
    }
}

fn db_size(conn: &mut DbConnection, url: &str) -> Option<String> {
    match conn {
        DbConnection::Sqlite(_) => {
            let path = url.strip_prefix("sqlite://")?;
            let len = std::fs::metadata(path).ok()?.len()
                + std::fs::metadata(format!("{path}-wal"))
                    .map(|m| m.len())
                    .unwrap_or(0);
            Some(format!("{:.0} MB", len as f64 / 1e6))
        }
        DbConnection::Postgres(_) => None,
    }
}

/// The way this replaces: every row through diesel, one group per item.
fn baseline(conn: &mut DbConnection, operation_id: i32, now: NaiveDateTime) -> AapMetrics {
    use chrono::Datelike;
    use clusterpulse::db::schema::feedback::dsl as f;
    use clusterpulse::scoring::aap::{aap_metrics, AapInput, Closure, ProfileGroup, VolumeGroup};
    use diesel::prelude::*;
    type Row = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        bool,
        NaiveDateTime,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
        Option<bool>,
    );
    let rows: Vec<Row> = f::feedback
        .filter(f::operation_id.eq(operation_id))
        .select((
            f::category,
            f::channel,
            f::sex,
            f::age_group,
            f::admin1,
            f::sensitive,
            f::created_at,
            f::ack_due_at,
            f::acknowledged_at,
            f::responded_at,
            f::closed_at,
            f::satisfied,
        ))
        .load(conn)
        .unwrap();
    let mut input = AapInput::default();
    for (
        category,
        channel,
        sex,
        age_group,
        admin1,
        sensitive,
        created,
        due,
        ack,
        resp,
        closed,
        sat,
    ) in rows
    {
        let month = |t: NaiveDateTime| month_index(t.year(), t.month());
        let c = closed.is_some() as u64;
        input.volume.push(VolumeGroup {
            month: month(created),
            category,
            count: 1,
            sensitive: sensitive as u64,
            sla_due: (ack.is_some() || due <= now) as u64,
            sla_met: ack.is_some_and(|a| a <= due) as u64,
            closed: c,
            responded: c * resp.is_some() as u64,
            satisfaction_recorded: c * sat.is_some() as u64,
            satisfied: c * (sat == Some(true)) as u64,
            overdue: (closed.is_none() && ack.is_none() && due < now) as u64,
        });
        input.profile.push(ProfileGroup {
            channel,
            sex,
            age_group,
            admin1,
            count: 1,
        });
        if let Some(closed) = closed {
            input.closures.push(Closure {
                month: month(closed),
                millis: (closed - created).num_milliseconds(),
            });
        }
    }
    aap_metrics(&input).unwrap()
}
