//! `mamori server`, `mamori keys rotate` and `mamori users create`: the long-running service
//! and the two chores an operator does by hand. Settings come from flags, then `MAMORI_*`
//! environment variables, then defaults.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use mamori_server::{AppState, HttpLimits, Role as ProcessRole, ServerConfig};
use mamori_store::{MasterKey, NewUser, Role, Store};
use mamori_work::logs::{GuardConfig, LogsConfig};
use mamori_work::{ConnectorCollector, WorkConfig};

use crate::{load_engine, PackArgs};

#[derive(Args, Clone)]
pub struct StoreArgs {
    /// Where the SQLite database and the master key file live
    /// [env: MAMORI_DATA_DIR; default: ./mamori-data].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite:///path/file.db or postgres://user@host/db
    /// [env: MAMORI_DATABASE_URL; default: sqlite in the data directory].
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

impl StoreArgs {
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .or_else(|| std::env::var_os("MAMORI_DATA_DIR").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("mamori-data"))
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .or_else(|| {
                std::env::var("MAMORI_DATABASE_URL")
                    .ok()
                    .filter(|u| !u.is_empty())
            })
            .unwrap_or_else(|| Store::default_url(&self.data_dir()))
    }

    pub async fn open(&self) -> Result<(Store, MasterKey)> {
        let dir = self.data_dir();
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating the data directory {}", dir.display()))?;
        let store = Store::open(&self.database_url())
            .await
            .context("opening the database")?;
        let key = MasterKey::from_env_or_file(&dir).context("loading the master key")?;
        Ok((store, key))
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ServerRole {
    /// API, pages, scheduler and workers.
    All,
    /// API and pages only.
    Api,
    /// Scheduler and workers only (health and metrics on --listen).
    Worker,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Args)]
pub struct ServerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long, value_enum, default_value = "all")]
    pub role: ServerRole,
    /// Log lines as text or JSON (one object per line) on stderr.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Where people reach the dashboard (links in notifications); https makes cookies Secure.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Scans this process runs at once.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Seconds between scheduler passes.
    #[arg(long, default_value_t = 15)]
    pub tick: u64,
    /// Seconds a claimed scan stays this worker's without a heartbeat; after that another
    /// worker re-runs it.
    #[arg(long, default_value_t = 60)]
    pub lease_secs: u64,
    /// Seconds a scan that failed because the database was unreachable or full waits before
    /// it is tried again (times the attempts so far, up to 10×).
    #[arg(long, default_value_t = 30)]
    pub retry_secs: u64,
    /// Let notification channels reach loopback, private and link-local addresses (for an
    /// internal relay). Off by default: channel addresses are typed in by users. Also
    /// `MAMORI_NOTIFY_PRIVATE_TARGETS=true`.
    #[arg(long)]
    pub notify_private_targets: bool,
    #[command(flatten)]
    pub packs: PackArgs,
    /// Seconds between pulls of each tenant's audit logs (threat detection); 0: no scheduled
    /// pulls (logs only pushed to the API).
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub log_pull_secs: u64,
    /// How far back a tenant's first log pull reaches (hours; the sources keep 7 days).
    #[arg(long, default_value_t = 24, value_name = "HOURS")]
    pub log_lookback_hours: u64,
    /// Start tenants' first log pulls at this time instead (RFC 3339; a backfill). The sources
    /// refuse more than 7 days back.
    #[arg(long, value_name = "TIME")]
    pub log_start: Option<jiff::Timestamp>,
    /// Log workers of this process (pushed batches and log pulls). One worker waits on the
    /// database about half the time, so two share a core well.
    #[arg(long, default_value_t = 2)]
    pub log_workers: usize,
    /// A folder of Sigma rules to load beside Mamori's own (repeatable), e.g. a SigmaHQ checkout.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Leave Mamori's own detection rules out (only those of --rules).
    #[arg(long)]
    pub no_builtin_rules: bool,
    /// Flood guard: complete minutes a tenant's log rate must stay over a limit.
    #[arg(long, default_value_t = 5, value_name = "MINUTES")]
    pub flood_window_minutes: i64,
    /// Flood guard: events per minute (sustained) over which a tenant is throttled.
    #[arg(long, default_value_t = 60_000, value_name = "EVENTS")]
    pub flood_throttle_events: i64,
    /// Flood guard: events per minute (sustained) over which a tenant's log processing is
    /// suspended.
    #[arg(long, default_value_t = 240_000, value_name = "EVENTS")]
    pub flood_suspend_events: i64,
    /// Flood guard: hours a suspension lasts before processing resumes by itself; 0: until an
    /// operator resumes it.
    #[arg(long, default_value_t = 6, value_name = "HOURS")]
    pub flood_suspend_hours: u64,
    /// A reverse proxy (address or CIDR, repeatable) whose `X-Forwarded-For` names the client
    /// for sign-in limits. From any other peer the header is ignored.
    #[arg(long = "trusted-proxy", value_name = "CIDR", value_parser = parse_net)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Seconds a client has to send a request's headers (a guard against slowloris).
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub header_timeout_secs: u64,
    /// Seconds a request may take, body upload included; then 408.
    #[arg(long, default_value_t = 120, value_name = "SECS")]
    pub request_timeout_secs: u64,
    /// Connections served at once; more wait until one closes.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub max_connections: usize,
    /// Sign-in password hashes computed at once (Argon2, 19 MiB each).
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub login_hashes: usize,
}

/// An address (one host) or a CIDR block.
fn parse_net(s: &str) -> Result<ipnet::IpNet, String> {
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{s:?} is neither an address nor a CIDR block"))
}

pub fn config(args: &ServerArgs) -> ServerConfig {
    ServerConfig {
        secure_cookies: args
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://")),
        work: WorkConfig {
            public_url: args.public_url.clone(),
            worker_concurrency: args.workers.max(1),
            tick: Duration::from_secs(args.tick.max(1)),
            lease: Duration::from_secs(args.lease_secs.max(3)),
            retry: Duration::from_secs(args.retry_secs.max(1)),
            notify_private_targets: args.notify_private_targets
                || std::env::var("MAMORI_NOTIFY_PRIVATE_TARGETS")
                    .is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes")),
            logs: LogsConfig {
                rules_dirs: args.rules.clone(),
                no_builtin_rules: args.no_builtin_rules,
                pull_interval: (args.log_pull_secs > 0)
                    .then(|| Duration::from_secs(args.log_pull_secs)),
                first_pull_lookback: Duration::from_secs(
                    args.log_lookback_hours.clamp(1, 168) * 3600,
                ),
                first_pull_start: args.log_start,
                workers: args.log_workers,
                guard: GuardConfig {
                    window_minutes: args.flood_window_minutes.max(1),
                    throttle_events_per_minute: args.flood_throttle_events.max(1),
                    suspend_events_per_minute: args.flood_suspend_events.max(1),
                    suspend_for: (args.flood_suspend_hours > 0)
                        .then(|| Duration::from_secs(args.flood_suspend_hours * 3600)),
                    ..GuardConfig::default()
                },
                ..LogsConfig::default()
            },
            ..WorkConfig::default()
        },
        trusted_proxies: args.trusted_proxies.clone(),
        login_concurrent_hashes: args.login_hashes.max(1),
        http: HttpLimits {
            header_read_timeout: Duration::from_secs(args.header_timeout_secs.max(1)),
            request_timeout: Duration::from_secs(args.request_timeout_secs.max(1)),
            max_connections: args.max_connections.max(1),
            ..HttpLimits::default()
        },
        ..ServerConfig::default()
    }
}

pub fn run_server(args: ServerArgs) -> Result<u8> {
    let engine = load_engine(&args.packs)?;
    let rt = crate::collect::runtime()?;
    rt.block_on(async {
        let (store, key) = args.store.open().await?;
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let addr = listener.local_addr()?;
        let state = AppState::new(
            store,
            key,
            engine,
            Arc::new(ConnectorCollector),
            config(&args),
        );
        // A rule folder that does not load stops the server at start, not its first batch.
        state
            .work
            .detection
            .rules(&state.work.config.logs)
            .context("loading the detection rules")?;
        let role = match args.role {
            ServerRole::All => ProcessRole::All,
            ServerRole::Api => ProcessRole::Api,
            ServerRole::Worker => ProcessRole::Worker,
        };
        tracing::info!(%addr, "mamori server listening");
        eprintln!("mamori server listening on http://{addr}");
        mamori_server::run(listener, state, role, shutdown_signal())
            .await
            .context("serving")?;
        anyhow::Ok(0)
    })
}

/// Ctrl-C or SIGTERM: stop taking requests and jobs, finish what runs.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Re-encrypt every stored credential with a new master key (one transaction), then
    /// replace the key file. With MAMORI_MASTER_KEY set, the new key is printed instead.
    Rotate {
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn run_keys(cmd: KeysCommand) -> Result<u8> {
    let KeysCommand::Rotate { store } = cmd;
    let rt = crate::collect::runtime()?;
    rt.block_on(async {
        let (db, old) = store.open().await?;
        let new = MasterKey::generate();
        let from_env = std::env::var_os(mamori_store::MASTER_KEY_ENV).is_some();
        let dir = store.data_dir();
        let key_file = mamori_store::key_file_path(&dir);
        let pending = key_file.with_extension("key.new");
        if !from_env {
            // The new key reaches the disk before any credential depends on it.
            write_key_file(&pending, &new)?;
        }
        let n = db
            .rotate_master_key(&old, &new)
            .await
            .context("re-encrypting the credentials")?;
        if from_env {
            println!(
                "{}",
                crate::text::format(crate::text::lang(), "keys_rotated_env", &[("count", &n)])
            );
            println!("{}", new.to_base64());
        } else {
            std::fs::rename(&pending, &key_file)
                .with_context(|| format!("replacing {}", key_file.display()))?;
            println!(
                "{}",
                crate::text::format(
                    crate::text::lang(),
                    "keys_rotated_file",
                    &[
                        ("count", &n),
                        ("path", &key_file.display()),
                        ("key", &new.key_id())
                    ]
                )
            );
        }
        db.close().await;
        anyhow::Ok(0)
    })
}

fn write_key_file(path: &Path, key: &MasterKey) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(key.to_base64().as_bytes())?;
    f.sync_all()?;
    Ok(())
}

#[derive(Subcommand)]
pub enum UsersCommand {
    /// Create a user. The password is read from MAMORI_PASSWORD or standard input (never argv).
    Create {
        #[arg(long)]
        username: String,
        /// operator_admin, analyst, investigator, billing, customer_admin, customer_viewer
        #[arg(long)]
        role: String,
        /// Required for customer roles.
        #[arg(long)]
        customer_id: Option<i64>,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long, default_value = "ja")]
        lang: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Disable a user: their sessions end at once and their API tokens stop working.
    Disable {
        #[arg(long)]
        username: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Enable a disabled user again.
    Enable {
        #[arg(long)]
        username: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Set a user's password (read from MAMORI_PASSWORD or standard input); every session and
    /// API token of theirs ends.
    ResetPassword {
        #[arg(long)]
        username: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// End every session and revoke every API token of a user.
    Revoke {
        #[arg(long)]
        username: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// The password of a user command: MAMORI_PASSWORD, else a line of standard input.
fn read_password(username: &str) -> Result<String> {
    let password = match std::env::var("MAMORI_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            if std::io::stdin().is_terminal() {
                eprint!("Password for {username}: ");
            }
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    if password.is_empty() {
        bail!("no password given (MAMORI_PASSWORD or standard input)");
    }
    Ok(password)
}

/// Disable, enable, reset or revoke: found by name, done, audited as the command line's.
fn run_user_lifecycle(cmd: UsersCommand) -> Result<u8> {
    let (username, store, what) = match cmd {
        UsersCommand::Disable { username, store } => (username, store, "disable"),
        UsersCommand::Enable { username, store } => (username, store, "enable"),
        UsersCommand::ResetPassword { username, store } => (username, store, "password_reset"),
        UsersCommand::Revoke { username, store } => (username, store, "revoke_access"),
        UsersCommand::Create { .. } => bail!("not a lifecycle command"),
    };
    let password = if what == "password_reset" {
        Some(read_password(&username)?)
    } else {
        None
    };
    let rt = crate::collect::runtime()?;
    rt.block_on(async {
        let (db, _) = store.open().await?;
        let user = db
            .get_user_by_username(&username)
            .await?
            .with_context(|| format!("no user named {username:?}"))?;
        let detail = match what {
            "disable" => {
                db.set_user_disabled(user.id, true).await?;
                String::new()
            }
            "enable" => {
                db.set_user_disabled(user.id, false).await?;
                String::new()
            }
            _ => {
                if let Some(password) = &password {
                    db.set_password(user.id, password)
                        .await
                        .context("setting the password")?;
                }
                db.end_user_access(user.id, mamori_store::KeptAccess::default())
                    .await?
                    .to_string()
            }
        };
        db.audit(
            None,
            user.customer_id,
            &format!("user.{what}"),
            &format!("user/{}", user.id),
            &format!("command line; {detail}"),
        )
        .await?;
        println!("{}: user.{what} {detail}", user.username);
        db.close().await;
        anyhow::Ok(0)
    })
}

pub fn run_users(cmd: UsersCommand) -> Result<u8> {
    let UsersCommand::Create {
        username,
        role,
        customer_id,
        display_name,
        lang,
        store,
    } = cmd
    else {
        return run_user_lifecycle(cmd);
    };
    let role: Role = role
        .parse()
        .map_err(|e| anyhow::anyhow!("{}", mamori_store::Error::from(e)))?;
    let password = read_password(&username)?;
    let rt = crate::collect::runtime()?;
    rt.block_on(async {
        let (db, _) = store.open().await?;
        let user = db
            .create_user(&NewUser {
                display_name: display_name.unwrap_or_else(|| username.clone()),
                username,
                role,
                customer_id,
                lang,
                password,
            })
            .await
            .context("creating the user")?;
        println!(
            "{}",
            crate::text::format(
                crate::text::lang(),
                "user_created",
                &[
                    ("name", &user.username),
                    ("role", &user.role.as_str()),
                    ("id", &user.id)
                ]
            )
        );
        db.close().await;
        anyhow::Ok(0)
    })
}
