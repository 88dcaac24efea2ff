//! The both-backends harness shared by the store's test binaries: each body runs on SQLite (a
//! fresh temporary file) and on PostgreSQL when MAMORI_TEST_DATABASE_URL is set (a fresh
//! database per test, dropped afterwards).
#![allow(dead_code)]

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use mamori_store::{Backend, Store};

pub const PG_ENV: &str = "MAMORI_TEST_DATABASE_URL";

/// What a test body gets: the store, plus a way to re-open the same database.
pub struct Ctx {
    pub store: Store,
    pub url: String,
}

pub async fn run_sqlite<F, Fut>(body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = Store::default_url(&dir.path().join("sub"));
    let store = Store::open(&url).await.expect("open SQLite");
    assert_eq!(store.backend(), Backend::Sqlite);
    body(Ctx { store, url }).await;
}

fn unique_name() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "mamori_test_{}_{}_{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub async fn run_postgres<F, Fut>(test: &str, body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    let admin_url = std::env::var(PG_ENV).unwrap_or_default();
    if admin_url.trim().is_empty() {
        let message = format!("SKIPPED: PostgreSQL (set {PG_ENV}) [{test}]");
        // Under CI a suite that cannot run fails: a green CI means it ran.
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: {message}"
        );
        eprintln!("{message}");
        return;
    }
    use sqlx::Connection;
    let db = unique_name();
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("connect to MAMORI_TEST_DATABASE_URL");
    sqlx::query(&format!("CREATE DATABASE {db}"))
        .execute(&mut admin)
        .await
        .expect("CREATE DATABASE");
    let mut url = url::Url::parse(&admin_url).expect("MAMORI_TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{db}"));
    let url = url.to_string();
    let store = Store::open(&url).await.expect("open PostgreSQL");
    assert_eq!(store.backend(), Backend::Postgres);
    // Run the body in its own task so that a failing assertion still lets us drop the database.
    let outcome = {
        use futures_like::CatchUnwind;
        CatchUnwind(Box::pin(body(Ctx { store, url }))).await
    };
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .expect("DROP DATABASE");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// A minimal catch_unwind for futures (avoids a futures dependency).
mod futures_like {
    use std::future::Future;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::pin::Pin;
    use std::task::{Context, Poll};

    pub struct CatchUnwind<F>(pub Pin<Box<F>>);

    impl<F: Future> Future for CatchUnwind<F> {
        type Output = Result<F::Output, Box<dyn std::any::Any + Send>>;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let fut = self.0.as_mut();
            match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
                Ok(Poll::Pending) => Poll::Pending,
                Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
                Err(p) => Poll::Ready(Err(p)),
            }
        }
    }
}

/// Declares `mod name { sqlite(), postgres() }` running `body` on both backends.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::common::run_sqlite(super::$body).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::common::run_postgres(stringify!($name), super::$body).await;
            }
        }
    };
}

/// Runs `sql` (one text column, no parameters) on a separate connection to the test database
/// and returns the values: for looking at what is really stored.
pub async fn raw_texts(url: &str, sql: &str) -> Vec<String> {
    use sqlx::Connection;
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
    }
}

/// Runs a statement without parameters on a separate connection.
pub async fn raw_execute(url: &str, sql: &str) {
    use sqlx::Connection;
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
    }
}
