//! The `clusterpulse` command line.

use anyhow::Context;
use clap::{Parser, Subcommand};
use clusterpulse::domain::{accounts as admin, catalog as definitions};
use clusterpulse::{config::Config, db, Application};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "clusterpulse",
    version,
    about = "Cluster coordination performance monitoring and accountability to affected populations"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (settings from the environment or .env).
    Serve,
    /// Seed a realistic demo world, print the sign-in details, and serve it.
    Demo {
        /// Seed and print, but do not start the server.
        #[arg(long)]
        no_serve: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Survey definitions: check or import.
    Surveys {
        #[command(subcommand)]
        command: SurveysCommand,
    },
    /// Staff accounts.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Print a round's scores (all responses so far; provisional while the round is open).
    Scores {
        /// The round id.
        round: i32,
        /// json or csv
        #[arg(long, default_value = "json", value_parser = ["json", "csv"])]
        format: String,
    },
    /// Bearer tokens for scripts.
    Tokens {
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// Scorecards for the global cluster leads.
    Scorecards {
        #[command(subcommand)]
        command: ScorecardsCommand,
    },
    /// Community feedback maintenance.
    Feedback {
        #[command(subcommand)]
        command: FeedbackCommand,
    },
    /// Operation settings.
    Operations {
        #[command(subcommand)]
        command: OperationsCommand,
    },
}

#[derive(Subcommand)]
enum OperationsCommand {
    /// Load an operation's administrative areas (replacing its list) from a CSV laid out as
    /// a COD table: admin1Pcode,admin1Name_en,admin2Pcode,admin2Name_en (one row per admin2).
    Areas {
        /// The operation's slug.
        operation: String,
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum ScorecardsCommand {
    /// Queue the scorecard emails (delivered by the server's mail worker), or with
    /// --dry-run write them to a folder to look at.
    Send {
        /// One cluster code (default: every cluster).
        #[arg(long)]
        cluster: Option<String>,
        /// The month, e.g. 2026-11 (default: this month).
        #[arg(long)]
        period: Option<String>,
        /// Send again even if this cluster and period was already sent.
        #[arg(long)]
        force: bool,
        /// Write the emails (.eml) and an HTML preview to --out instead of queueing them.
        #[arg(long)]
        dry_run: bool,
        /// Folder for --dry-run.
        #[arg(long, default_value = "data/scorecards-preview")]
        out: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum FeedbackCommand {
    /// Erase the contact details of feedback items closed longer ago than the retention
    /// period; each erasure is recorded in the item's history.
    Purge {
        /// Retention period, e.g. 365d, 52w or 12h.
        #[arg(long, default_value = "365d")]
        older_than: String,
    },
    /// Rebuild the summary rows the feedback (AAP) indicators are read from, from every
    /// feedback item, in one transaction. Writes keep them up to date; run this after
    /// changing feedback rows by hand or restoring them from elsewhere.
    RebuildSummaries,
}

#[derive(Subcommand)]
enum SurveysCommand {
    /// Validate every definition in DIR (default: CLUSTERPULSE_SURVEYS_DIR or ./surveys).
    Check { dir: Option<PathBuf> },
    /// Write a survey of DIR (default: CLUSTERPULSE_SURVEYS_DIR or ./surveys) as an XLSForm
    /// workbook that imports back to the same definition.
    Export {
        id: String,
        /// Only `xlsx` (an XLSForm workbook).
        #[arg(long, default_value = "xlsx")]
        format: String,
        /// The file to write (default: ID.xlsx in the current folder).
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Convert an XLSForm (.xlsx or .xls) into a TOML survey definition.
    Import {
        form: PathBuf,
        /// Where to write the TOML (default: print it): a folder (the file is named after
        /// the survey's id) or a file (the survey's id is taken from its name).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Create a staff account; the password is read from standard input.
    Add {
        #[arg(long)]
        email: String,
        /// admin | global_lead | coordinator | psea_focal_point | inter_cluster_coordinator
        #[arg(long)]
        role: String,
        /// The cluster a global lead leads.
        #[arg(long)]
        cluster: Option<String>,
        /// An operation of a coordinator or PSEA focal point (repeatable).
        #[arg(long = "operation")]
        operations: Vec<String>,
        /// A country (ISO code) of an inter-cluster coordinator (repeatable).
        #[arg(long = "country")]
        countries: Vec<String>,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum TokensCommand {
    /// Create a bearer token for a user; prints one line, the token.
    Create {
        #[arg(long)]
        email: String,
        /// A label to recognise the token by.
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

fn init_logging() {
    let filter = clusterpulse::kernel::logging::filter_from_env();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn open_db(config: &Config) -> anyhow::Result<db::Pool> {
    let pool = db::connect(&config.database_url, 2)?;
    db::migrate(&pool)?;
    Ok(pool)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config.clone()).await?;
    let host = config
        .bind
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or("127.0.0.1");
    println!("clusterpulse is listening on http://{host}:{}", app.port());
    if config.smtp_url.is_none() {
        println!(
            "mail: no SMTP_URL set, messages are written to {}",
            config.outbox_dir().display()
        );
    }
    app.run_until_stopped().await?;
    Ok(())
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Surveys {
            command: SurveysCommand::Check { dir },
        } => {
            let dir = match dir {
                Some(d) => d,
                None => Config::from_env()?.surveys_dir,
            };
            match clusterpulse::surveys::load::load_dir(&dir) {
                Ok(catalog) => {
                    println!(
                        "{}: {} framework(s), {} survey(s), all valid",
                        dir.display(),
                        catalog.frameworks.len(),
                        catalog.surveys.len()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(problems) => {
                    for p in &problems {
                        eprintln!("{p}");
                    }
                    eprintln!("{} problem(s) found", problems.len());
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Surveys {
            command:
                SurveysCommand::Export {
                    id,
                    format,
                    out,
                    dir,
                },
        } => {
            if format != "xlsx" {
                anyhow::bail!("--format {format:?}: the only format is xlsx (an XLSForm workbook)");
            }
            let dir = match dir {
                Some(d) => d,
                None => Config::from_env()?.surveys_dir,
            };
            let catalog = clusterpulse::surveys::load::load_dir(&dir).map_err(|problems| {
                anyhow::anyhow!(
                    "{}",
                    clusterpulse::domain::catalog::format_problems(&problems)
                )
            })?;
            let survey = catalog.survey(&id).with_context(|| {
                format!(
                    "no survey {id:?} in {} (there: {})",
                    dir.display(),
                    catalog
                        .surveys
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            let bytes = clusterpulse::surveys::xlsform::export_xlsx(survey)
                .map_err(|e| anyhow::anyhow!("writing the workbook: {e}"))?;
            let path = out.unwrap_or_else(|| PathBuf::from(format!("{id}.xlsx")));
            let tmp = path.with_extension("xlsx.tmp");
            std::fs::write(&tmp, &bytes).with_context(|| format!("writing {}", tmp.display()))?;
            std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "wrote {} ({} questions, version {})",
                path.display(),
                survey.questions.len(),
                survey.version
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Surveys {
            command: SurveysCommand::Import { form, out },
        } => {
            let mut imported = clusterpulse::surveys::xlsform::import_path(&form)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            // `surveys check` wants a file named after its survey's id: into a folder, the
            // file is named after the id; to a file, the id follows the file's name.
            let out = match out {
                Some(dir) if dir.is_dir() => Some(dir.join(format!("{}.toml", imported.survey.id))),
                Some(file) => {
                    let stem = file
                        .file_stem()
                        .map(|s| s.to_string_lossy().to_string())
                        .unwrap_or_default();
                    let valid = !stem.is_empty()
                        && stem
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                    if !valid {
                        anyhow::bail!(
                            "{}: a survey file is named after its id, which uses only a-z, 0-9 \
                             and '-' (e.g. --out surveys/{}.toml, or --out a folder)",
                            file.display(),
                            imported.survey.id
                        );
                    }
                    if stem != imported.survey.id {
                        imported.notes.push(format!(
                            "the survey id is '{stem}', from the file name {} (the form said \
                             '{}')",
                            file.display(),
                            imported.survey.id
                        ));
                        imported.survey.id = stem;
                    }
                    Some(file)
                }
                None => None,
            };
            let text = clusterpulse::surveys::write::survey_to_toml(&imported.survey);
            for n in &imported.notes {
                eprintln!("note: {n}");
            }
            for s in &imported.skipped {
                eprintln!(
                    "not carried over: sheet {}, row {}: {}",
                    s.sheet, s.row, s.what
                );
            }
            match out {
                Some(path) => {
                    let tmp = path.with_extension("toml.tmp");
                    std::fs::write(&tmp, &text)
                        .with_context(|| format!("writing {}", tmp.display()))?;
                    std::fs::rename(&tmp, &path)
                        .with_context(|| format!("writing {}", path.display()))?;
                    eprintln!(
                        "wrote {} ({} questions, {} row(s) not carried over)",
                        path.display(),
                        imported.survey.questions.len(),
                        imported.skipped.len()
                    );
                }
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Users {
            command:
                UsersCommand::Add {
                    email,
                    role,
                    cluster,
                    operations,
                    countries,
                    password_stdin,
                },
        } => {
            if !password_stdin {
                anyhow::bail!("--password-stdin is required: pipe the password in (e.g. `echo \"$PW\" | clusterpulse users add … --password-stdin`)");
            }
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\n', '\r']);
            let config = Config::from_env()?;
            let pool = open_db(&config)?;
            let mut conn = pool.get()?;
            let id = admin::add_user(
                &mut conn,
                &admin::NewAccount {
                    email: &email,
                    role: &role,
                    cluster: cluster.as_deref(),
                    operations: &operations,
                    countries: &countries,
                    password,
                },
            )?;
            println!("created user {id} ({role})");
            Ok(ExitCode::SUCCESS)
        }
        Command::Tokens {
            command: TokensCommand::Create { email, label },
        } => {
            let config = Config::from_env()?;
            let pool = open_db(&config)?;
            let mut conn = pool.get()?;
            let token = admin::create_token_for(&mut conn, &email, &label)?;
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Scores { round, format } => {
            let config = Config::from_env()?;
            let catalog = definitions::load_or_explain(&config.surveys_dir)?;
            let pool = open_db(&config)?;
            let mut conn = pool.get()?;
            let r = clusterpulse::db::models::round_by_id(&mut conn, round)?
                .ok_or_else(|| anyhow::anyhow!("ROUND: no round with id {round}"))?;
            let result = clusterpulse::domain::scores::compute(&mut conn, &catalog, r)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if format == "csv" {
                print!("{}", clusterpulse::scoring::to_csv(&result.scores));
            } else {
                println!("{}", serde_json::to_string_pretty(&result.to_json())?);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Scorecards {
            command:
                ScorecardsCommand::Send {
                    cluster,
                    period,
                    force,
                    dry_run,
                    out,
                },
        } => {
            let config = Config::from_env()?;
            let catalog = definitions::load_or_explain(&config.surveys_dir)?;
            let templates =
                clusterpulse::render::templates::Templates::load(config.templates_dir.as_deref())?;
            let pool = open_db(&config)?;
            let mut conn = pool.get()?;
            let opts = clusterpulse::domain::scorecards::SendOptions {
                cluster,
                period,
                force,
                at: clusterpulse::kernel::time::now(),
            };
            if dry_run {
                let files = clusterpulse::domain::scorecards::dry_run(
                    &mut conn, &catalog, &templates, &config, &opts, &out,
                )?;
                for f in &files {
                    println!("{}", f.display());
                }
                eprintln!("{} file(s) written; nothing was queued", files.len());
            } else {
                let report = clusterpulse::domain::scorecards::send(
                    &mut conn, &catalog, &templates, &config, &opts,
                )
                .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Feedback {
            command: FeedbackCommand::Purge { older_than },
        } => {
            let age = clusterpulse::domain::feedback::parse_age(&older_than)
                .map_err(|e| anyhow::anyhow!("--older-than: {e}"))?;
            let config = Config::from_env()?;
            let pool = open_db(&config)?;
            let mut conn = pool.get()?;
            let n = clusterpulse::domain::feedback::purge_contacts(
                &mut conn,
                age,
                clusterpulse::kernel::time::now(),
            )?;
            println!(
                "contact details erased from {n} closed feedback item(s) older than {older_than}"
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Feedback {
            command: FeedbackCommand::RebuildSummaries,
        } => {
            let config = Config::from_env()?;
            let pool = open_db(&config)?;
            let mut conn = pool.get()?;
            let started = std::time::Instant::now();
            let rows = clusterpulse::domain::feedback::summaries::rebuild(&mut conn)?;
            for (table, n) in rows {
                println!("{table}: {n} row(s)");
            }
            println!(
                "feedback summaries rebuilt in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Operations {
            command: OperationsCommand::Areas { operation, file },
        } => {
            let config = Config::from_env()?;
            let pool = open_db(&config)?;
            let mut conn = pool.get()?;
            let areas = clusterpulse::domain::areas::import_file(&mut conn, &operation, &file)?;
            println!(
                "{operation}: {} admin1 and {} admin2 area(s) loaded from {}",
                areas.admin1.len(),
                areas.admin2.len(),
                file.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let config = Config::from_env()?;
            let pool = db::connect(&config.database_url, 1)?;
            let n = db::migrate(&pool)?;
            println!("{n} migration(s) applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve => {
            let config = Config::from_env()?;
            actix_web::rt::System::new().block_on(serve(config))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { no_serve } => {
            let config = Config::from_env()?;
            // Validate definitions before touching the database.
            let catalog = definitions::load_or_explain(&config.surveys_dir)?;
            let pool = open_db(&config)?;
            let creds = {
                let mut conn = pool.get()?;
                let creds = clusterpulse::domain::demo::seed_demo(&mut conn, &catalog)?;
                clusterpulse::domain::demo::feedback::seed_demo(&mut conn, &config)?;
                let psea_password = clusterpulse::kernel::secrets::random_token(12);
                clusterpulse::domain::demo::upsert_demo_user(
                    &mut conn,
                    "psea@demo.example",
                    "psea_focal_point",
                    None,
                    &["shelter-yemen".to_string()],
                    &psea_password,
                )?;
                (creds, psea_password)
            };
            let (creds, psea_password) = creds;
            drop(pool);
            println!("demo world ready ({})", config.database_url);
            println!(
                "  admin:       {}  password: {}",
                creds.admin_email, creds.admin_password
            );
            println!(
                "  coordinator: {}  password: {}",
                creds.coordinator_email, creds.coordinator_password
            );
            println!(
                "  PSEA focal point (sensitive feedback, shelter-yemen): psea@demo.example  password: {psea_password}"
            );
            println!("  sign in at {}/login", config.public_url);
            if no_serve {
                return Ok(ExitCode::SUCCESS);
            }
            actix_web::rt::System::new().block_on(serve(config))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
