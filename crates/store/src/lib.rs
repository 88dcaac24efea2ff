//! Mamori's persistence layer: customers, tenants with encrypted credentials, scans, snapshots,
//! control results, findings over time and drift, on SQLite (one file) or PostgreSQL.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mamori_store::Error> {
//! use mamori_store::{MasterKey, NewCustomer, NewTenant, App, Store};
//! let store = Store::open("sqlite:///var/lib/mamori/mamori.db").await?;
//! let key = MasterKey::from_env_or_file("/var/lib/mamori".as_ref())?;
//! let customer = store.create_customer(&NewCustomer::new("Sakura Trading")).await?;
//! let tenant = store
//!     .create_tenant(&key, &NewTenant::new(customer.id, App::M365, "sakura.onmicrosoft.com", b"{}"))
//!     .await?;
//! # let _ = tenant; Ok(()) }
//! ```
//!
//! Every query is written once and runs on both backends (`$1` placeholders, `RETURNING`,
//! `ON CONFLICT`, window functions); the [`with_pool!`] macro compiles it against each pool type.
//! Timestamps are stored as microseconds since the Unix epoch and exposed as [`jiff::Timestamp`].

mod auth;
/// Bulk seeding for `mamori-bench` only; not part of the product's API.
#[cfg(feature = "bench")]
pub mod bench_seed;
mod crypto;
mod jobs;
mod logs;
mod model;
mod posture;

pub use auth::*;
pub use crypto::{key_file_path, Credentials, MasterKey, MASTER_KEY_ENV, MASTER_KEY_FILE};
pub use jobs::*;
pub use logs::*;
pub use model::*;
pub use posture::*;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// Errors of the store. Messages never contain credentials or the master key.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unsupported database URL (scheme {scheme:?}): use sqlite:///path/to/file.db or postgres://user@host/db")]
    UnsupportedUrl { scheme: String },
    // The cause is in the message and deliberately not a `source`: printed as a chain
    // (`{:#}`) it would otherwise appear twice, or three times with sqlx's own source.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    #[error("master key: {0}")]
    MasterKey(String),
    #[error(
        "credentials of tenant {tenant_id} were encrypted with master key {stored_key_id}, but the key in use is {current_key_id}: \
         set MAMORI_MASTER_KEY (or the key file) to the key they were stored with"
    )]
    WrongMasterKey {
        tenant_id: i64,
        stored_key_id: String,
        current_key_id: String,
    },
    #[error("credentials of tenant {tenant_id} could not be decrypted: the stored ciphertext is corrupted or was tampered with")]
    CorruptCredentials { tenant_id: i64 },
    #[error("tenant {tenant_id} has no credentials stored")]
    NoCredentials { tenant_id: i64 },
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: i64 },
    #[error("invalid {field}: {value:?}")]
    Invalid { field: &'static str, value: String },
    #[error("snapshot data: {0}")]
    Snapshot(String),
    /// The request conflicts with the current state (a duplicate username, an exception already
    /// decided, the four-eyes rule…).
    #[error("conflict: {0}")]
    Conflict(String),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Database(e)
    }
}

/// The one conversion of a domain enum's text (a stored column, a caller's argument) that is
/// none of its values: [`Error::Invalid`] naming what it was meant to be ("role", "scan
/// status", …). Rows are read with `text.parse()?`.
impl From<mamori_core::vocab::UnknownVariant> for Error {
    fn from(e: mamori_core::vocab::UnknownVariant) -> Self {
        Error::Invalid {
            field: e.what,
            value: e.value,
        }
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Error::Migrate(e)
    }
}

impl Error {
    /// Whether trying again later may succeed: the database was unreachable, busy, out of
    /// space or restarting, or the transaction lost a race (serialization failure, deadlock).
    /// Constraint violations, bad data and missing rows are not transient.
    pub fn is_transient(&self) -> bool {
        let Error::Database(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_) => true,
            sqlx::Error::Database(d) => {
                let code = d.code().unwrap_or_default();
                match backend_of(d.as_ref()) {
                    // SQLite primary result codes (the extended code's low byte): BUSY 5,
                    // LOCKED 6, NOMEM 7, IOERR 10, FULL 13, CANTOPEN 14, PROTOCOL 15.
                    Backend::Sqlite => code
                        .parse::<i64>()
                        .is_ok_and(|c| matches!(c & 0xff, 5 | 6 | 7 | 10 | 13 | 14 | 15)),
                    // SQLSTATE classes: 08 connection, 53 insufficient resources, 57 operator
                    // intervention (shutdown), 58 system error; 40001 serialization failure,
                    // 40P01 deadlock.
                    Backend::Postgres => {
                        ["08", "53", "57", "58"].iter().any(|c| code.starts_with(c))
                            || code == "40001"
                            || code == "40P01"
                    }
                }
            }
            _ => false,
        }
    }
}

fn backend_of(e: &dyn sqlx::error::DatabaseError) -> Backend {
    if e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .is_some()
    {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

/// Whose data a query may see: everything (operator staff) or one customer's (customer users).
/// Every scoped function filters in SQL, so an id outside the scope behaves exactly like a
/// missing one (`None`, [`Error::NotFound`] or an empty list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Scope {
    All,
    Customer(i64),
}

impl Scope {
    /// The customer the scope is limited to; `None` for [`Scope::All`]. This is the value the
    /// queries bind for `($n IS NULL OR customer_id = $n)`.
    pub fn customer(self) -> Option<i64> {
        match self {
            Scope::All => None,
            Scope::Customer(id) => Some(id),
        }
    }

    /// Whether data of `customer_id` is visible in this scope.
    pub fn allows(self, customer_id: i64) -> bool {
        self.customer().is_none_or(|c| c == customer_id)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which database the store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same code against whichever pool the store holds: `$pool` is bound to a
/// `&SqlitePool` or a `&PgPool` and the body is compiled once for each.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($pool) => $body,
            $crate::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A handle on the database: cheap to clone (it is a connection pool).
#[derive(Clone)]
pub struct Store {
    pool: Pool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({:?})", self.backend())
    }
}

impl Store {
    /// Opens (creating when needed) the database and runs the embedded migrations.
    ///
    /// * `sqlite:///absolute/path/file.db` or `sqlite://relative/file.db`: the file and its
    ///   directory are created; WAL journal, foreign keys on, 5 s busy timeout.
    /// * `postgres://…` or `postgresql://…`: any URL libpq would accept (the database must exist).
    pub async fn open(url: &str) -> Result<Store> {
        let store = if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() || path == ":memory:" {
                return Err(Error::Invalid {
                    field: "SQLite path",
                    value: path.to_string(),
                });
            }
            let path = std::path::Path::new(path);
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    Error::Database(sqlx::Error::Configuration(
                        format!("cannot create directory {}: {e}", dir.display()).into(),
                    ))
                })?;
            }
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                // A connection reads the planner's statistics when it opens: replacing them
                // every half hour is how the others see what `Store::optimize` refreshed.
                .max_lifetime(Duration::from_secs(30 * 60))
                // When SQLite rolls a transaction back by itself (SQLITE_FULL on commit), sqlx's
                // own ROLLBACK fails and the connection keeps a stale transaction depth: every
                // later BEGIN on it would fail. Never hand such a connection out again.
                .after_release(|conn, _| {
                    Box::pin(async move {
                        use sqlx::Connection;
                        conn.ping().await?;
                        Ok(!conn.is_in_transaction())
                    })
                })
                .connect_with(options)
                .await?;
            SQLITE_MIGRATIONS.run(&pool).await?;
            // As SQLite advises for long-lived connections: analyse at open what was never
            // analysed; `Store::optimize` keeps it current afterwards. Full statistics, not a
            // sample (`analysis_limit`): sampled ones told the planner a severity matched 1,001
            // of a million findings, and a customer's page took 400 ms instead of 1 ms. A full
            // ANALYZE costs ~1.4 s per million findings, and runs only when tables changed a lot.
            sqlx::query("PRAGMA optimize=0x10002")
                .execute(&pool)
                .await?;
            Store {
                pool: Pool::Sqlite(pool),
            }
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            POSTGRES_MIGRATIONS.run(&pool).await?;
            Store {
                pool: Pool::Postgres(pool),
            }
        } else {
            let scheme = url.split(':').next().unwrap_or_default().to_string();
            return Err(Error::UnsupportedUrl { scheme });
        };
        Ok(store)
    }

    /// The default database of a data directory: `sqlite://DATA_DIR/mamori.db`.
    pub fn default_url(data_dir: &std::path::Path) -> String {
        format!("sqlite://{}", data_dir.join("mamori.db").display())
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Refreshes the query planner's statistics where they are missing or stale. On SQLite,
    /// which never does it by itself, this is `PRAGMA optimize` (cheap when nothing changed;
    /// without statistics the planner picked an index that made a customer's page 2,500×
    /// slower in `mamori bench --api`). PostgreSQL's autovacuum does it already: a no-op there.
    /// The scheduler runs it hourly.
    pub async fn optimize(&self) -> Result<()> {
        if let Pool::Sqlite(pool) = &self.pool {
            sqlx::query("PRAGMA optimize=0x10002").execute(pool).await?;
        }
        Ok(())
    }

    /// The highest migration version applied (the schema version).
    pub async fn schema_version(&self) -> Result<i64> {
        let v: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(pool)
                .await?
        });
        Ok(v.unwrap_or(0))
    }

    /// The statement that begins a transaction which writes: `BEGIN IMMEDIATE` on SQLite takes
    /// the database's write lock at once (instead of upgrading a read snapshot later, which
    /// fails with SQLITE_BUSY under contention), plain `BEGIN` on PostgreSQL (row locks).
    pub(crate) fn begin_write(&self) -> &'static str {
        match self.backend() {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }

    /// Row-locking suffix for a queue's candidate SELECT: `FOR UPDATE SKIP LOCKED` on
    /// PostgreSQL; nothing on SQLite, where the writer holds the whole database.
    pub(crate) fn skip_locked(&self) -> &'static str {
        match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Row-locking suffix for a SELECT that must hold its rows until commit: `FOR UPDATE` on
    /// PostgreSQL; nothing on SQLite, where `BEGIN IMMEDIATE` already holds the database.
    pub(crate) fn for_update(&self) -> &'static str {
        match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// Closes every connection (waits for those in use to be returned).
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }
}

pub(crate) fn now_us() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

pub(crate) fn ts(us: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_microsecond(us).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// A duration in microseconds (saturating).
pub(crate) fn duration_us(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// Clamps a caller's list limit.
pub(crate) fn clamp_limit(limit: i64, max: i64) -> i64 {
    limit.clamp(1, max)
}

/// One condition of a query whose optional filter is bound at `param`: `cond` when the filter is
/// given, else `param IS NULL` (true, as NULL is bound there). Listings of big tables are built
/// this way rather than with `(param IS NULL OR cond)`, for which neither SQLite nor PostgreSQL
/// (whose sub-select pull-up runs before the bound value is folded in) would use an index.
pub(crate) fn filter(given: bool, param: &str, cond: &str) -> String {
    if given {
        cond.to_string()
    } else {
        format!("{param} IS NULL")
    }
}

/// Whether a database error is a UNIQUE violation.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Whether a database error is a FOREIGN KEY violation.
pub(crate) fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_foreign_key_violation())
}
