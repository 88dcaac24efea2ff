//! Listing findings at scale: 1000 customers x 5 tenants x 200 findings (1,000,000 findings),
//! on both backends. Ignored by default (it takes a minute or two to build the data); run with
//!
//! ```sh
//! cargo test --release -p mamori-store --test large -- --ignored --nocapture
//! ```

#[macro_use]
mod common;

use std::time::{Duration, Instant};

use common::{raw_execute, Ctx};
use mamori_store::{FindingQuery, FindingStatus, Scope, Store};

mod million_findings {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "builds 1,000,000 findings; run with --ignored"]
    async fn sqlite() {
        crate::common::run_sqlite(super::million_body).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "builds 1,000,000 findings; run with --ignored"]
    async fn postgres() {
        crate::common::run_postgres("million_findings", super::million_body).await;
    }
}

const CUSTOMERS: i64 = 1000;
const TENANTS: i64 = 5;
const FINDINGS: i64 = 200;

async fn million_body(ctx: Ctx) {
    let s = &ctx.store;
    let started = Instant::now();
    let fill = format!(
        "CREATE TABLE nums (i BIGINT PRIMARY KEY);
         INSERT INTO nums (i) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) SELECT i FROM n;
         INSERT INTO customers (name, time_zone, created_at) SELECT 'Customer ' || i, 'Asia/Tokyo', 0 FROM nums WHERE i <= {CUSTOMERS};
         INSERT INTO tenants (customer_id, app, display_name, schedule_time_zone, created_at)
           SELECT c.id, 'm365', 'tenant ' || c.id || '-' || n.i, 'Asia/Tokyo', 0 FROM customers c JOIN nums n ON n.i <= {TENANTS};
         INSERT INTO scans (tenant_id, status, created_at, started_at, finished_at) SELECT id, 'succeeded', 0, 0, 0 FROM tenants;
         INSERT INTO findings (tenant_id, control_id, resource_key, status, severity, severity_rank, first_seen, last_seen,
                               first_scan_id, last_scan_id)
           SELECT t.id, 'MS.C.' || (n.i % 50), 'r' || n.i,
                  CASE WHEN n.i % 4 = 0 THEN 'resolved' WHEN n.i % 7 = 0 THEN 'reopened' ELSE 'open' END,
                  CASE n.i % 6 WHEN 0 THEN 'critical' WHEN 1 THEN 'high' WHEN 2 THEN 'medium' WHEN 3 THEN 'low' WHEN 4 THEN 'info' ELSE 'other' END,
                  n.i % 6, n.i * 1000 + t.id, n.i * 1000 + t.id, sc.id, sc.id
           FROM tenants t JOIN scans sc ON sc.tenant_id = t.id JOIN nums n ON n.i <= {FINDINGS};
         ANALYZE;"
    );
    raw_execute(&ctx.url, &fill).await;
    eprintln!(
        "[{:?}] built {} findings in {:.1?}",
        s.backend(),
        CUSTOMERS * TENANTS * FINDINGS,
        started.elapsed()
    );

    let customer = s.list_customers_scoped(Scope::All).await.unwrap()[500].id;
    let tenant = s
        .list_tenants_scoped(Scope::All, Some(customer))
        .await
        .unwrap()[2]
        .id;
    let cases: Vec<(&str, FindingQuery)> = vec![
        ("all, first page", FindingQuery::default()),
        (
            "all, active",
            FindingQuery {
                active_only: true,
                ..Default::default()
            },
        ),
        (
            "all, page 200",
            FindingQuery {
                offset: 10_000,
                ..Default::default()
            },
        ),
        (
            "all, critical",
            FindingQuery {
                severity: Some("critical".into()),
                active_only: true,
                ..Default::default()
            },
        ),
        (
            "all, control prefix",
            FindingQuery {
                control: Some("MS.C.1".into()),
                ..Default::default()
            },
        ),
        (
            "all, reopened",
            FindingQuery {
                status: Some(FindingStatus::Reopened),
                ..Default::default()
            },
        ),
        (
            "all, accepted",
            FindingQuery {
                accepted: Some(true),
                ..Default::default()
            },
        ),
        (
            "customer scope",
            FindingQuery {
                scope: Scope::Customer(customer),
                active_only: true,
                ..Default::default()
            },
        ),
        (
            "customer scope, tenant",
            FindingQuery {
                scope: Scope::Customer(customer),
                tenant_id: Some(tenant),
                ..Default::default()
            },
        ),
        (
            "operator, one customer",
            FindingQuery {
                customer_id: Some(customer),
                severity: Some("high".into()),
                ..Default::default()
            },
        ),
    ];
    let mut worst = Duration::ZERO;
    for (name, q) in &cases {
        // Twice: the second run is the steady state (statement cache, warm pages).
        let _ = s.list_findings(q).await.unwrap();
        let t = Instant::now();
        let page = s.list_findings(q).await.unwrap();
        let took = t.elapsed();
        worst = worst.max(took);
        eprintln!(
            "[{:?}] list_findings {name:<24} total {:>7} items {:>3} in {took:.1?}",
            s.backend(),
            page.total,
            page.items.len()
        );
        assert!(page.items.len() as i64 <= page.limit);
    }
    let all = s.list_findings(&FindingQuery::default()).await.unwrap();
    assert_eq!(all.total, CUSTOMERS * TENANTS * FINDINGS);
    assert_eq!(all.items[0].finding.severity, "critical");
    let scoped = s
        .list_findings(&FindingQuery {
            scope: Scope::Customer(customer),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(scoped.total, TENANTS * FINDINGS);
    assert!(scoped.items.iter().all(|f| f.customer_id == customer));

    timed(s, "severity_counts, all", || async {
        s.severity_counts(Scope::All, None).await.unwrap().len()
    })
    .await;
    timed(s, "severity_counts, customer", || async {
        s.severity_counts(Scope::Customer(customer), None)
            .await
            .unwrap()
            .len()
    })
    .await;
    timed(s, "tenant_overview, all", || async {
        s.tenant_overview(Scope::All, None).await.unwrap().len()
    })
    .await;
    timed(s, "tenant_overview, customer", || async {
        s.tenant_overview(Scope::Customer(customer), None)
            .await
            .unwrap()
            .len()
    })
    .await;
    eprintln!("[{:?}] slowest listing {worst:.1?}", s.backend());
    assert!(
        worst < Duration::from_secs(5),
        "a listing took {worst:?} with a million findings"
    );
}

async fn timed<F, Fut>(s: &Store, name: &str, f: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let _ = f().await;
    let t = Instant::now();
    let n = f().await;
    eprintln!(
        "[{:?}] {name:<30} {n:>5} rows in {:.1?}",
        s.backend(),
        t.elapsed()
    );
}
