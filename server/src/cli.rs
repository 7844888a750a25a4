//! The `latchkey` command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::Arc;

use clap::{Parser, Subcommand};
use latchkey_core::audit::Caller;
use latchkey_core::auth_flow::FlowScope;
use latchkey_core::authz::Role;
use latchkey_core::error::CoreError;
use latchkey_core::factor::FactorKind;
use latchkey_core::lockout::{LockDuration, LockoutPolicy};
use latchkey_core::operators::NewOperator;
use latchkey_core::outbox::{DeliveryStatus, NotificationId};
use latchkey_core::service::AuditVerification;
use latchkey_core::store::{copy_sqlite_to_postgres, Database, Store};
use latchkey_core::Latchkey;
use secrecy::SecretString;
use time::Duration;

use crate::config::{Config, Overrides};
use crate::startup::{domain, shutdown_signal, AppOptions, Application};
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(
    name = "latchkey",
    version,
    about = "Self-service account unlock and recovery portal"
)]
struct Cli {
    /// A TOML configuration file; `LATCHKEY_*` environment variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the portal, the console and the API.
    Serve(ServeArgs),
    /// Create the database if needed, apply pending migrations and exit.
    Migrate,
    /// Work with the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Show or set the self-service authentication flow of each channel.
    #[command(subcommand, name = "auth-flow")]
    AuthFlow(AuthFlowCommand),
    /// Show or set when failed sign-ins lock an account, per organisation.
    #[command(subcommand, name = "lockout-policy")]
    LockoutPolicy(LockoutPolicyCommand),
    /// List the mail in the outbox, or send a failed mail again.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Copy every table of the configured SQLite database into a new, empty PostgreSQL
    /// database, then check the copy (rows in every table, the audit chain).
    #[command(name = "copy-to")]
    CopyTo {
        /// The PostgreSQL database, e.g. postgres://latchkey:PASSWORD@db.example.org/latchkey
        #[arg(value_name = "POSTGRES_URL")]
        url: String,
    },
    /// Copy the configured SQLite database into a new file while servers keep running,
    /// then check the copy (integrity, audit chain), e.g. `latchkey backup
    /// /backups/latchkey-2026-11-24.sqlite3`. The secret key is not in it: keep
    /// `secret.key` (or the configured `secret_key`) with your backups, apart from them.
    Backup {
        /// The new file to write; an existing file is never overwritten.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Replace the configured SQLite database with a backup, after checking the backup;
    /// refused while a server uses the database (stop every server on it first). The
    /// replaced database is kept beside it as `<database>.before-restore-<time>`.
    Restore {
        /// A file written by `latchkey backup`.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Create an organisation (with its first identity store).
    #[command(subcommand)]
    Organisation(OrganisationCommand),
    /// Add console operators, list them, grant and revoke their roles.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Print the OpenAPI description of the server functions (`docs/openapi.json`;
    /// `make openapi` writes it) and exit.
    Openapi,
}

#[derive(Debug, Subcommand)]
enum OrganisationCommand {
    /// A new organisation, e.g.
    /// `latchkey organisation add example --name "Example Health" --store EXAMPLE`.
    Add {
        /// Its short name: lower-case letters, digits and hyphens.
        slug: String,
        /// Its name, as people read it.
        #[arg(long)]
        name: String,
        /// The name of its first identity store, e.g. EXAMPLE.
        #[arg(long)]
        store: String,
    },
}

#[derive(Debug, Subcommand)]
enum OperatorCommand {
    /// A new operator account with its roles; its password is read from standard input
    /// (there is no default password), e.g.
    /// `latchkey operator add ada --organisation example --name "Ada Admin"
    /// --email ada@example.org --role global_administrator`.
    Add {
        /// `STORE\username`, or a username in the organisation's first identity store.
        username: String,
        #[arg(long, value_name = "SLUG")]
        organisation: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// `global_administrator`, `local_administrator`, `helpdesk_operator` or
        /// `support_agent`; repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
    /// Every operator: username, organisation, roles.
    List,
    /// Grant roles to an account.
    Grant {
        username: String,
        #[arg(required = true)]
        roles: Vec<String>,
    },
    /// Revoke roles from an account.
    Revoke {
        username: String,
        #[arg(required = true)]
        roles: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum OutboxCommand {
    /// The newest mail first: number, status, attempts, kind, recipient, last error.
    List {
        /// Only mail in this state: `pending`, `sent` or `failed`.
        #[arg(long, value_name = "STATUS")]
        status: Option<String>,
        #[arg(long, value_name = "N", default_value_t = 50)]
        limit: u32,
    },
    /// Send a failed mail again (its number is in `outbox list`).
    Resend { id: i64 },
}

#[derive(Debug, Subcommand)]
enum LockoutPolicyCommand {
    /// Print each organisation's policy.
    Show,
    /// Set an organisation's policy, e.g.
    /// `latchkey lockout-policy set --failed-attempts 5 --window-minutes 15 --lock-minutes 30`.
    Set {
        /// The organisation's short name; needed only when there are several.
        #[arg(long, value_name = "SLUG")]
        organisation: Option<String>,
        /// Failed attempts before automatic lock (0 = never lock).
        #[arg(long, value_name = "N")]
        failed_attempts: u32,
        /// Failures further apart than this start the count again.
        #[arg(long, value_name = "MINUTES", default_value_t = 15)]
        window_minutes: u32,
        /// A temporary lock that ends by itself after this long...
        #[arg(long, value_name = "MINUTES", conflicts_with = "until_unlocked")]
        lock_minutes: Option<u32>,
        /// ...or locked until someone unlocks it (the default).
        #[arg(long)]
        until_unlocked: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AuthFlowCommand {
    /// Print each channel's factors, in the order they are asked.
    Show,
    /// Set the factors of one channel, or of all channels at once (replacing the
    /// per-channel flows), e.g. `latchkey auth-flow set --channel mobile captcha
    /// email_code/security_questions` (an emailed code, or the security questions instead).
    Set {
        /// `web`, `mobile`, `desktop`, or `all`.
        #[arg(long, default_value = "all")]
        channel: String,
        /// In order: `captcha`, `security_questions`, `email_code`, `totp`; `a/b` asks
        /// `a` and lets the person answer `b` instead.
        #[arg(required = true)]
        factors: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check the audit log's hash chain; names the first broken record (exit status 1).
    Verify,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Seed the demo organisation and users (once) — see README.
    #[arg(long)]
    demo: bool,
    /// Use a fresh database in a temporary directory, deleted at exit (for tests).
    #[arg(long, conflicts_with = "database")]
    ephemeral: bool,
    /// Listen on this address instead of the configured one.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Use this database (`sqlite://PATH`, `postgres://…`, or a file path) instead of the
    /// configured one.
    #[arg(long, value_name = "DATABASE")]
    database: Option<String>,
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        return openapi();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("latchkey: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve(cli.config, args).await,
            Command::Migrate => migrate(cli.config).await,
            Command::Audit(AuditCommand::Verify) => audit_verify(cli.config).await,
            Command::AuthFlow(command) => auth_flow(cli.config, command).await,
            Command::LockoutPolicy(command) => lockout_policy(cli.config, command).await,
            Command::Outbox(command) => outbox(cli.config, command).await,
            Command::CopyTo { url } => copy_to(cli.config, &url).await,
            Command::Backup { file } => backup(cli.config, &file).await,
            Command::Restore { file } => restore(cli.config, &file).await,
            Command::Organisation(command) => organisation(cli.config, command).await,
            Command::Operator(command) => operator(cli.config, command).await,
            Command::Openapi => openapi(),
        }
    })
}

/// `latchkey openapi`: the description on standard output; needs no configuration.
fn openapi() -> ExitCode {
    use std::io::Write as _;
    match crate::openapi::document() {
        Ok(text) => match std::io::stdout().lock().write_all(text.as_bytes()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("latchkey: cannot write the OpenAPI description: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("latchkey: {e}");
            ExitCode::FAILURE
        }
    }
}

fn load(file: Option<&std::path::Path>, overrides: &Overrides) -> Result<Config, ExitCode> {
    Config::load(file, overrides).map_err(|e| {
        eprintln!("latchkey: {e}");
        ExitCode::from(2)
    })
}

/// A `--database` value: a URL as it is, a file path as `sqlite://PATH`.
fn database_url(value: &str) -> String {
    if value.contains("://") || value.starts_with("sqlite:") {
        value.to_owned()
    } else {
        format!("sqlite://{value}")
    }
}

async fn serve(config_file: Option<PathBuf>, args: ServeArgs) -> ExitCode {
    // Kept alive until the server stops; dropping it deletes the database.
    let tempdir = match args.ephemeral.then(tempfile::tempdir).transpose() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("latchkey: cannot create a temporary directory: {e}");
            return ExitCode::FAILURE;
        }
    };
    let overrides = Overrides {
        listen: args.listen,
        database: tempdir
            .as_ref()
            .map(|t| database_url(&t.path().join("latchkey.sqlite3").display().to_string()))
            .or(args.database.as_deref().map(database_url)),
    };
    let config = match load(config_file.as_deref(), &overrides) {
        Ok(c) => c,
        Err(code) => return code,
    };
    telemetry::init(&config.log);
    let options = AppOptions {
        demo: args.demo,
        ..AppOptions::default()
    };
    let app = match Application::build(&config, options).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("latchkey: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addr = app.local_addr().map(|a| a.to_string()).unwrap_or_default();
    tracing::info!(%addr, base_url = %config.base_url, "Latchkey is listening");
    let result = app.run(shutdown_signal()).await;
    drop(tempdir);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("latchkey: {e}");
            ExitCode::FAILURE
        }
    }
}

/// An operator's command: the domain service on the configured database, acting as
/// Latchkey itself on the operator's word.
struct Operation {
    config: Config,
    core: Latchkey,
    store: Arc<dyn Store>,
    caller: Caller,
}

async fn open(config_file: Option<PathBuf>) -> Result<Operation, ExitCode> {
    let config = load(config_file.as_deref(), &Overrides::default())?;
    match domain(&config, &AppOptions::default()).await {
        Ok((core, store, _)) => Ok(Operation {
            config,
            core,
            store,
            caller: Caller::system("command line"),
        }),
        Err(e) => {
            eprintln!("latchkey: {e}");
            Err(ExitCode::FAILURE)
        }
    }
}

async fn migrate(config_file: Option<PathBuf>) -> ExitCode {
    match open(config_file).await {
        Ok(command) => {
            command.store.close().await;
            let shown = command
                .config
                .database()
                .map(|d| d.to_string())
                .unwrap_or_default();
            println!("database {shown} is up to date");
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

async fn audit_verify(config_file: Option<PathBuf>) -> ExitCode {
    let command = match open(config_file).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let result = command.core.verify_audit_log(&command.caller).await;
    command.store.close().await;
    match result {
        Ok(AuditVerification::Intact { records }) => {
            println!("audit log intact: {records} records verified");
            ExitCode::SUCCESS
        }
        Ok(AuditVerification::Broken(broken)) => {
            println!("audit log BROKEN: {broken}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("latchkey: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The configured database's file, or the reason there is none (PostgreSQL has its own
/// tools, named in the message).
fn sqlite_file(config_file: Option<PathBuf>, verb: &str) -> Result<PathBuf, ExitCode> {
    let config = load(config_file.as_deref(), &Overrides::default())?;
    match config.database() {
        Ok(Database::Sqlite { path, .. }) => Ok(path),
        Ok(Database::Postgres(_)) => {
            eprintln!(
                "latchkey: `{verb}` is for the embedded SQLite database; on PostgreSQL use its own \
                 tools: `pg_dump --format=custom --file=FILE DATABASE_URL` while servers run, \
                 `pg_restore --clean --dbname=DATABASE_URL FILE` with them stopped (README)"
            );
            Err(ExitCode::from(2))
        }
        Err(e) => {
            eprintln!("latchkey: {e}");
            Err(ExitCode::from(2))
        }
    }
}

async fn backup(config_file: Option<PathBuf>, file: &std::path::Path) -> ExitCode {
    let database = match sqlite_file(config_file, "backup") {
        Ok(d) => d,
        Err(code) => return code,
    };
    if let Err(e) = latchkey_core::store::backup_sqlite(&database, file).await {
        eprintln!("latchkey: backup: {e}");
        return ExitCode::FAILURE;
    }
    match latchkey_core::store::check_sqlite(file).await {
        Ok(checked) if checked.is_sound() => {
            println!(
                "backed up {} to {}; {}",
                database.display(),
                file.display(),
                checked.summary()
            );
            println!(
                "the secret key is not in the backup: keep {} (or your configured secret_key) \
                 with your backups",
                database.with_file_name("secret.key").display()
            );
            ExitCode::SUCCESS
        }
        Ok(checked) => {
            eprintln!(
                "latchkey: the copy at {} failed its check: {}",
                file.display(),
                checked.summary()
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("latchkey: checking {}: {e}", file.display());
            ExitCode::FAILURE
        }
    }
}

async fn restore(config_file: Option<PathBuf>, file: &std::path::Path) -> ExitCode {
    let database = match sqlite_file(config_file, "restore") {
        Ok(d) => d,
        Err(code) => return code,
    };
    let stamp = latchkey_core::clock::Clock::now(&latchkey_core::clock::SystemClock)
        .unix_timestamp()
        .to_string();
    match latchkey_core::store::restore_sqlite(file, &database, &stamp).await {
        Ok(restored) => {
            println!(
                "restored {} from {}; {}",
                database.display(),
                file.display(),
                restored.checked.summary()
            );
            if let Some(kept) = restored.replaced {
                println!("the database it replaced is kept at {}", kept.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("latchkey: restore: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A refused command's message: a refused field as the option that was typed.
fn refusal(e: CoreError) -> String {
    refusal_as(&[])(e)
}

/// [`refusal`] for a command whose arguments are not all named like the fields they
/// carry: `typed` maps such a field to what was typed (`("display_name", "--name")`, or
/// a positional argument's name such as `("slug", "SLUG")`).
fn refusal_as(typed: &'static [(&'static str, &'static str)]) -> impl Fn(CoreError) -> String {
    move |e| match e {
        CoreError::Invalid(i) => {
            let shown = typed
                .iter()
                .find(|(field, _)| *field == i.field)
                .map(|(_, as_typed)| (*as_typed).to_owned())
                .unwrap_or_else(|| format!("--{}", i.field.replace('_', "-")));
            format!("{shown}: {}", i.message)
        }
        other => other.to_string(),
    }
}

async fn auth_flow(config_file: Option<PathBuf>, command: AuthFlowCommand) -> ExitCode {
    let c = match open(config_file).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let result = match command {
        AuthFlowCommand::Show => show_auth_flows(&c).await,
        AuthFlowCommand::Set { channel, factors } => {
            let scope = channel
                .parse::<FlowScope>()
                .map_err(|_| format!("--channel: {channel:?} is not web, mobile, desktop or all"));
            match (scope, parse_factors(&factors)) {
                (Ok(scope), Ok((kinds, alternatives))) => c
                    .core
                    .set_auth_flow_with_alternatives(&c.caller, scope, &kinds, &alternatives)
                    .await
                    .map(|()| println!("{channel}: {}", factors.join(", ")))
                    .map_err(|e| e.to_string()),
                (Err(e), _) | (_, Err(e)) => Err(e),
            }
        }
    };
    close_with(c.store, result).await
}

/// One line per configured flow: `mobile: captcha, email_code/security_questions`.
async fn show_auth_flows(c: &Operation) -> Result<(), String> {
    let flows = c.core.auth_flows(&c.caller).await.map_err(refusal)?;
    for (scope, factors) in flows {
        let instead = c
            .core
            .auth_flow_alternatives(&c.caller, scope)
            .await
            .map_err(refusal)?;
        let names: Vec<String> = factors
            .iter()
            .map(|f| match instead.iter().find(|(g, _)| g == f) {
                Some((_, alt)) => format!("{}/{}", f.as_str(), alt.as_str()),
                None => f.as_str().to_owned(),
            })
            .collect();
        println!("{}: {}", scope.as_str(), names.join(", "));
    }
    Ok(())
}

/// Factors as typed, in order; `a/b` is factor `a` with `b` allowed instead.
#[allow(clippy::type_complexity)] // the two lists the core method takes
fn parse_factors(
    typed: &[String],
) -> Result<(Vec<FactorKind>, Vec<(FactorKind, FactorKind)>), String> {
    let parse = |f: &str| {
        f.parse::<FactorKind>().map_err(|_| {
            format!("factors: {f:?} is not captcha, security_questions, email_code or totp")
        })
    };
    let mut kinds = Vec::new();
    let mut alternatives = Vec::new();
    for f in typed {
        match f.split_once('/') {
            Some((first, instead)) => {
                let first = parse(first)?;
                kinds.push(first);
                alternatives.push((first, parse(instead)?));
            }
            None => kinds.push(parse(f)?),
        }
    }
    Ok((kinds, alternatives))
}

async fn lockout_policy(config_file: Option<PathBuf>, command: LockoutPolicyCommand) -> ExitCode {
    let c = match open(config_file).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let result = match command {
        LockoutPolicyCommand::Show => c
            .core
            .lockout_policies(&c.caller)
            .await
            .map_err(refusal)
            .map(|policies| {
                for (org, policy) in policies {
                    println!("{}: {policy}", org.slug);
                }
            }),
        LockoutPolicyCommand::Set {
            organisation,
            failed_attempts,
            window_minutes,
            lock_minutes,
            until_unlocked: _,
        } => {
            let policy = LockoutPolicy {
                threshold: failed_attempts,
                window: Duration::minutes(i64::from(window_minutes)),
                duration: lock_minutes.map_or(LockDuration::UntilUnlocked, |m| {
                    LockDuration::Temporary(Duration::minutes(i64::from(m)))
                }),
            };
            set_lockout_policy(&c, organisation.as_deref(), &policy).await
        }
    };
    close_with(c.store, result).await
}

async fn set_lockout_policy(
    c: &Operation,
    slug: Option<&str>,
    policy: &LockoutPolicy,
) -> Result<(), String> {
    let organisations = c.core.organisations(&c.caller).await.map_err(refusal)?;
    let slugs = || {
        organisations
            .iter()
            .map(|o| o.slug.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let org = match (slug, organisations.as_slice()) {
        (None, [only]) => only,
        (None, []) => return Err("there is no organisation yet".to_owned()),
        (None, _) => return Err(format!("--organisation: say which one of {}", slugs())),
        (Some(slug), all) => all
            .iter()
            .find(|o| o.slug == slug)
            .ok_or_else(|| format!("--organisation: {slug:?} is not one of {}", slugs()))?,
    };
    c.core
        .set_lockout_policy(&c.caller, org.id, policy)
        .await
        .map_err(refusal)?;
    println!("{}: {policy}", org.slug);
    Ok(())
}

async fn outbox(config_file: Option<PathBuf>, command: OutboxCommand) -> ExitCode {
    let c = match open(config_file).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let result = match command {
        OutboxCommand::List { status, limit } => list_outbox(&c, status.as_deref(), limit).await,
        OutboxCommand::Resend { id } => c
            .core
            .resend_notification(&c.caller, NotificationId(id))
            .await
            .map(|entry| {
                println!(
                    "mail {id} ({}, to {}) is queued to be sent again",
                    entry.notification.kind(),
                    entry.recipient.email.as_str()
                );
            })
            .map_err(|e| match e {
                CoreError::Invalid(i) => format!("{}: {}", i.field, i.message),
                other => other.to_string(),
            }),
    };
    close_with(c.store, result).await
}

async fn list_outbox(c: &Operation, status: Option<&str>, limit: u32) -> Result<(), String> {
    let status = status
        .map(|s| {
            s.parse::<DeliveryStatus>()
                .map_err(|_| format!("--status: {s:?} is not pending, sent or failed"))
        })
        .transpose()?;
    let rows = c
        .core
        .notifications(&c.caller, status, limit.min(10_000))
        .await
        .map_err(refusal)?;
    for row in rows {
        let created = row
            .created_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        println!(
            "{}\t{}\t{} attempts\t{}\t{}\t{}\t{}",
            row.id.0,
            row.status.as_str(),
            row.attempts,
            row.notification.kind(),
            row.recipient.email.as_str(),
            created,
            row.last_error.as_deref().unwrap_or("")
        );
    }
    Ok(())
}

async fn organisation(config_file: Option<PathBuf>, command: OrganisationCommand) -> ExitCode {
    let c = match open(config_file).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let OrganisationCommand::Add { slug, name, store } = command;
    let result = c
        .core
        .create_organisation(&c.caller, &slug, &name, &store)
        .await
        .map(|org| println!("organisation {} ({}) created", org.slug, org.name))
        .map_err(refusal_as(&[("slug", "SLUG")]));
    close_with(c.store, result).await
}

/// Role names as typed, or the message naming the one that is not a role.
fn roles(names: &[String]) -> Result<Vec<Role>, String> {
    names
        .iter()
        .map(|n| {
            n.parse().map_err(|_| {
                format!(
                    "--role: {n:?} is not global_administrator, local_administrator, \
                     helpdesk_operator or support_agent"
                )
            })
        })
        .collect()
}

/// The new operator's password: typed without echo at a terminal, else the first line
/// of standard input (for scripts: `printf '%s\n' "$PASSWORD" | latchkey operator add …`).
fn read_password(username: &str) -> Result<SecretString, String> {
    use std::io::{BufRead, IsTerminal};
    let line = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("Password for {username}: "))
            .map_err(|e| format!("cannot read the password: {e}"))?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password: {e}"))?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    Ok(SecretString::from(line))
}

async fn operator(config_file: Option<PathBuf>, command: OperatorCommand) -> ExitCode {
    let c = match open(config_file).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let result = match command {
        OperatorCommand::Add {
            username,
            organisation,
            name,
            email,
            roles: role_names,
        } => match (roles(&role_names), read_password(&username)) {
            (Ok(roles), Ok(password)) => c
                .core
                .add_operator(
                    &c.caller,
                    NewOperator {
                        organisation,
                        name: username,
                        display_name: name,
                        email,
                        password,
                        roles,
                    },
                )
                .await
                .map(|account| {
                    println!(
                        "operator {} added ({})",
                        account.qualified_name(),
                        role_names.join(", ")
                    )
                })
                .map_err(refusal_as(&[
                    ("username", "USERNAME"),
                    ("display_name", "--name"),
                    ("password", "the password"),
                ])),
            (Err(e), _) | (_, Err(e)) => Err(e),
        },
        OperatorCommand::List => {
            async {
                let organisations = c.core.organisations(&c.caller).await.map_err(refusal)?;
                let all = c.core.operators(&c.caller).await.map_err(refusal)?;
                for (account, roles) in all {
                    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
                    let organisation = organisations
                        .iter()
                        .find(|o| o.id == account.organisation_id)
                        .map_or("?", |o| o.slug.as_str());
                    println!(
                        "{}\t{}\t{}",
                        account.qualified_name(),
                        organisation,
                        names.join(", ")
                    );
                }
                Ok(())
            }
            .await
        }
        OperatorCommand::Grant { username, roles: r } => set_roles(&c, &username, &r, true).await,
        OperatorCommand::Revoke { username, roles: r } => set_roles(&c, &username, &r, false).await,
    };
    close_with(c.store, result).await
}

async fn set_roles(
    c: &Operation,
    username: &str,
    names: &[String],
    grant: bool,
) -> Result<(), String> {
    let roles = roles(names)?;
    let held = c
        .core
        .set_roles(&c.caller, username, &roles, grant)
        .await
        .map_err(refusal)?;
    let names: Vec<&str> = held.iter().map(|r| r.as_str()).collect();
    println!(
        "{username}: {}",
        if names.is_empty() {
            "no roles".to_owned()
        } else {
            names.join(", ")
        }
    );
    Ok(())
}

/// Closes the database and turns an operator command's result into its exit status:
/// 2 with the message on standard error when the command was refused.
async fn close_with(store: Arc<dyn Store>, result: Result<(), String>) -> ExitCode {
    store.close().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("latchkey: {e}");
            ExitCode::from(2)
        }
    }
}

/// `latchkey copy-to URL`: the configured SQLite database into PostgreSQL, checked.
async fn copy_to(config_file: Option<PathBuf>, url: &str) -> ExitCode {
    let config = match load(config_file.as_deref(), &Overrides::default()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    telemetry::init(&config.log);
    let Ok(Database::Sqlite { path, .. }) = config.database() else {
        eprintln!(
            "latchkey: copy-to copies from an SQLite `database`; this configuration names another"
        );
        return ExitCode::from(2);
    };
    // Never echo the argument: it may hold a password.
    let Ok(Database::Postgres(mut target)) = Database::parse(url) else {
        eprintln!("latchkey: copy-to: the target must be a postgres:// URL");
        return ExitCode::from(2);
    };
    target.pool_size = config.postgres.pool_size;
    match copy_sqlite_to_postgres(&path, &target).await {
        Ok(copied) => {
            for (table, rows) in &copied.tables {
                println!("{table}: {rows} rows");
            }
            println!(
                "copied {} to {target}; audit log intact: {} records verified",
                path.display(),
                copied.audit_records
            );
            if config.secret_key.is_none() {
                println!(
                    "servers on PostgreSQL need this database's key: set secret_key to the \
                     contents of {}",
                    config.data_dir().join("secret.key").display()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("latchkey: {e}");
            ExitCode::FAILURE
        }
    }
}
