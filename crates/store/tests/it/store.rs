//! One body per behaviour, run on SQLite (a fresh temporary file per test) and on PostgreSQL
//! when MAMORI_TEST_DATABASE_URL is set (a fresh database per test, dropped afterwards).

use crate::common;

use common::Ctx;
use mamori_core::{Severity, Status};
use mamori_store::{
    App, Error, FindingStatus, MasterKey, NewCustomer, NewTenant, ResultInput, ScanStatus, Store,
};

// ---------------------------------------------------------------------------------------------

fn pass(id: &str) -> ResultInput {
    ResultInput::new(id, Status::Pass, Severity::High)
}
fn fail(id: &str) -> ResultInput {
    ResultInput::new(id, Status::Fail, Severity::High)
}

async fn tenant(store: &Store, key: &MasterKey) -> i64 {
    let c = store
        .create_customer(&NewCustomer::new("Sakura Trading"))
        .await
        .unwrap();
    store
        .create_tenant(
            key,
            &NewTenant::new(c.id, App::M365, "sakura.onmicrosoft.com", b"{}"),
        )
        .await
        .unwrap()
        .id
}

async fn succeeded_scan(store: &Store, tenant_id: i64, results: &[ResultInput]) -> i64 {
    let scan = store.create_scan(tenant_id).await.unwrap();
    store.start_scan(scan.id).await.unwrap();
    store.record_results(scan.id, results).await.unwrap();
    store
        .finish_scan(scan.id, ScanStatus::Succeeded, 42, None)
        .await
        .unwrap();
    scan.id
}

// ---------------------------------------------------------------------------------------------

both_backends!(migrations_on_empty_db_and_reopen, migrations_body);
async fn migrations_body(ctx: Ctx) {
    assert_eq!(ctx.store.schema_version().await.unwrap(), 5);
    let c = ctx
        .store
        .create_customer(&NewCustomer::new("Kept"))
        .await
        .unwrap();
    ctx.store.close().await;
    let again = Store::open(&ctx.url)
        .await
        .expect("re-open runs no migration twice");
    assert_eq!(again.schema_version().await.unwrap(), 5);
    assert_eq!(
        again.get_customer(c.id).await.unwrap().unwrap().name,
        "Kept"
    );
    again.close().await;
}

both_backends!(customer_and_tenant_crud, crud_body);
async fn crud_body(ctx: Ctx) {
    let s = &ctx.store;
    let key = MasterKey::generate();
    let mut new = NewCustomer::new("Sakura Trading");
    new.name_ja = Some("株式会社さくら商事".into());
    let c = s.create_customer(&new).await.unwrap();
    assert_eq!(c.time_zone, "Asia/Tokyo");
    assert_eq!(c.name_ja.as_deref(), Some("株式会社さくら商事"));
    assert_eq!(s.get_customer(c.id).await.unwrap().unwrap(), c);

    new.name = "Sakura Holdings".into();
    new.time_zone = Some("Europe/Berlin".into());
    let c2 = s.update_customer(c.id, &new).await.unwrap();
    assert_eq!(
        (c2.name.as_str(), c2.time_zone.as_str()),
        ("Sakura Holdings", "Europe/Berlin")
    );
    assert!(matches!(
        s.update_customer(9999, &new).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        s.create_customer(&NewCustomer::new("  ")).await,
        Err(Error::Invalid { .. })
    ));

    let t1 = s
        .create_tenant(
            &key,
            &NewTenant::new(c.id, App::M365, "sakura.onmicrosoft.com", b"m365"),
        )
        .await
        .unwrap();
    let t2 = s
        .create_tenant(
            &key,
            &NewTenant::new(c.id, App::Gws, "sakura.example.jp", b"gws"),
        )
        .await
        .unwrap();
    assert!(t1.has_credentials);
    assert_eq!(
        t1.credentials_key_id.as_deref(),
        Some(key.key_id().as_str())
    );
    assert_eq!(t1.schedule_time_zone, "Asia/Tokyo");
    assert_eq!(s.list_tenants(Some(c.id)).await.unwrap().len(), 2);
    assert_eq!(s.list_tenants(None).await.unwrap().len(), 2);
    assert_eq!(s.get_tenant(t2.id).await.unwrap().unwrap().app, App::Gws);

    let renamed = s.rename_tenant(t1.id, "Sakura M365").await.unwrap();
    assert_eq!(renamed.display_name, "Sakura M365");
    let scheduled = s
        .set_tenant_schedule(t1.id, Some("0 3 * * *"), None)
        .await
        .unwrap();
    assert_eq!(scheduled.schedule_cron.as_deref(), Some("0 3 * * *"));

    // A tenant of a customer that does not exist is refused by the foreign key.
    assert!(s
        .create_tenant(&key, &NewTenant::new(9999, App::M365, "x", b""))
        .await
        .is_err());

    s.delete_tenant(t2.id).await.unwrap();
    assert!(s.get_tenant(t2.id).await.unwrap().is_none());
    s.delete_customer(c.id).await.unwrap();
    assert!(
        s.get_tenant(t1.id).await.unwrap().is_none(),
        "tenants go with their customer"
    );
    assert!(s.list_customers().await.unwrap().is_empty());
}

both_backends!(credentials_encrypted_at_rest, credentials_body);
async fn credentials_body(ctx: Ctx) {
    let s = &ctx.store;
    let key = MasterKey::generate();
    let secret = br#"{"tenant_id":"x","client_secret":"SUPER-SECRET-VALUE-123"}"#;
    let c = s.create_customer(&NewCustomer::new("C")).await.unwrap();
    let t = s
        .create_tenant(&key, &NewTenant::new(c.id, App::M365, "t", secret))
        .await
        .unwrap();

    // Read the raw column through a separate connection: the secret text is absent.
    let raw: Vec<u8> = raw_ciphertext(&ctx.url, t.id).await;
    let needle = b"SUPER-SECRET-VALUE-123";
    assert!(
        !raw.windows(needle.len()).any(|w| w == needle),
        "plaintext found in the database"
    );
    assert!(raw.len() >= secret.len() + 24 + 16);

    assert_eq!(
        s.tenant_credentials(&key, t.id).await.unwrap().as_bytes(),
        secret
    );
    let debug = format!("{:?}", s.tenant_credentials(&key, t.id).await.unwrap());
    assert!(
        !debug.contains("SUPER-SECRET"),
        "Debug must redact: {debug}"
    );

    s.set_tenant_credentials(&key, t.id, b"new secret")
        .await
        .unwrap();
    assert_eq!(
        s.tenant_credentials(&key, t.id).await.unwrap().as_bytes(),
        b"new secret"
    );
}

async fn raw_ciphertext(url: &str, tenant_id: i64) -> Vec<u8> {
    use sqlx::Connection;
    let sql = "SELECT credentials_ciphertext FROM tenants WHERE id = $1";
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql)
            .bind(tenant_id)
            .fetch_one(&mut conn)
            .await
            .unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql)
            .bind(tenant_id)
            .fetch_one(&mut conn)
            .await
            .unwrap()
    }
}

both_backends!(wrong_master_key_is_a_clear_error, wrong_key_body);
async fn wrong_key_body(ctx: Ctx) {
    let s = &ctx.store;
    let (key, other) = (MasterKey::generate(), MasterKey::generate());
    let t = tenant(s, &key).await;
    let err = s.tenant_credentials(&other, t).await.unwrap_err();
    assert!(matches!(err, Error::WrongMasterKey { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains(&key.key_id()) && msg.contains(&other.key_id()),
        "{msg}"
    );
    assert!(msg.contains("MAMORI_MASTER_KEY"), "{msg}");
    // Rotation with the wrong "old" key changes nothing.
    assert!(matches!(
        s.rotate_master_key(&other, &MasterKey::generate()).await,
        Err(Error::WrongMasterKey { .. })
    ));
    assert_eq!(
        s.tenant_credentials(&key, t).await.unwrap().as_bytes(),
        b"{}"
    );
}

both_backends!(master_key_rotation, rotation_body);
async fn rotation_body(ctx: Ctx) {
    let s = &ctx.store;
    let (old, new) = (MasterKey::generate(), MasterKey::generate());
    let c = s.create_customer(&NewCustomer::new("C")).await.unwrap();
    let mut ids = vec![];
    for i in 0..3 {
        let secret = format!("secret-{i}");
        ids.push(
            s.create_tenant(
                &old,
                &NewTenant::new(c.id, App::Gws, format!("t{i}"), secret.as_bytes()),
            )
            .await
            .unwrap()
            .id,
        );
    }
    let before = raw_ciphertext(&ctx.url, ids[0]).await;
    assert_eq!(s.rotate_master_key(&old, &new).await.unwrap(), 3);
    assert_ne!(raw_ciphertext(&ctx.url, ids[0]).await, before);
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            s.tenant_credentials(&new, *id).await.unwrap().as_bytes(),
            format!("secret-{i}").as_bytes()
        );
        assert!(matches!(
            s.tenant_credentials(&old, *id).await,
            Err(Error::WrongMasterKey { .. })
        ));
        assert_eq!(
            s.get_tenant(*id).await.unwrap().unwrap().credentials_key_id,
            Some(new.key_id())
        );
    }
    // Running it again is harmless.
    assert_eq!(s.rotate_master_key(&old, &new).await.unwrap(), 0);
}

both_backends!(finding_lifecycle_over_three_scans, lifecycle_body);
async fn lifecycle_body(ctx: Ctx) {
    let s = &ctx.store;
    let key = MasterKey::generate();
    let t = tenant(s, &key).await;

    let s1 = succeeded_scan(s, t, &[fail("MS.AAD.1.1v1"), pass("MS.AAD.2.1v1")]).await;
    let f = s.findings(t, None).await.unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(
        (
            f[0].control_id.as_str(),
            f[0].status,
            f[0].resource_key.as_str()
        ),
        ("MS.AAD.1.1v1", FindingStatus::Open, "")
    );
    assert_eq!(f[0].first_scan_id, s1);

    let s2 = succeeded_scan(s, t, &[pass("MS.AAD.1.1v1"), pass("MS.AAD.2.1v1")]).await;
    let f = s.findings(t, None).await.unwrap();
    assert_eq!(f[0].status, FindingStatus::Resolved);
    assert!(f[0].resolved_at.is_some());
    assert_eq!(f[0].last_scan_id, s2);

    let s3 = succeeded_scan(s, t, &[fail("MS.AAD.1.1v1"), pass("MS.AAD.2.1v1")]).await;
    let f = s.findings(t, None).await.unwrap();
    assert_eq!(f.len(), 1, "the same finding reopens, no new one");
    assert_eq!(f[0].status, FindingStatus::Reopened);
    assert_eq!(f[0].resolved_at, None);
    assert_eq!(f[0].reopen_count, 1);
    assert_eq!((f[0].first_scan_id, f[0].last_scan_id), (s1, s3));
    assert!(f[0].last_seen >= f[0].first_seen);
    assert_eq!(
        s.findings(t, Some(FindingStatus::Reopened))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.findings(t, Some(FindingStatus::Open))
            .await
            .unwrap()
            .len(),
        0
    );

    // Per resource: a failing control opens one finding per named resource and resolves the
    // resources it no longer names.
    let r = |res: &[&str]| {
        ResultInput::new("MG.USERS.1", Status::Warning, Severity::Medium)
            .with_resources(res.iter().copied())
    };
    succeeded_scan(s, t, &[r(&["alice", "bob"])]).await;
    succeeded_scan(s, t, &[r(&["bob"])]).await;
    let f = s.findings(t, None).await.unwrap();
    let of = |k: &str| {
        f.iter()
            .find(|x| x.control_id == "MG.USERS.1" && x.resource_key == k)
            .unwrap()
            .status
    };
    assert_eq!(
        (of("alice"), of("bob")),
        (FindingStatus::Resolved, FindingStatus::Open)
    );

    // Statuses that judge nothing (error, manual…) leave findings alone.
    succeeded_scan(
        s,
        t,
        &[ResultInput::new(
            "MG.USERS.1",
            Status::Error,
            Severity::Medium,
        )],
    )
    .await;
    assert_eq!(
        s.findings(t, Some(FindingStatus::Open))
            .await
            .unwrap()
            .len(),
        1
    );
    // Statuses are typed: an unknown text is refused with the store's one Invalid error.
    assert!(matches!(
        "bad".parse::<Status>().map_err(Error::from),
        Err(Error::Invalid {
            field: "status",
            ..
        })
    ));
}

both_backends!(
    recording_a_scan_twice_creates_no_duplicates,
    idempotent_body
);
async fn idempotent_body(ctx: Ctx) {
    let s = &ctx.store;
    let key = MasterKey::generate();
    let t = tenant(s, &key).await;
    let results = vec![fail("A"), fail("B").with_resources(["x", "y"]), pass("C")];
    let scan = s.create_scan(t).await.unwrap();
    let first = s.record_results(scan.id, &results).await.unwrap();
    assert_eq!((first.results, first.opened), (3, 3));
    let second = s.record_results(scan.id, &results).await.unwrap();
    assert_eq!((second.opened, second.reopened, second.resolved), (0, 0, 0));
    assert_eq!(s.findings(t, None).await.unwrap().len(), 3);
    assert_eq!(s.control_results(scan.id).await.unwrap().len(), 3);

    // An older scan recorded again after a newer one does not move findings back.
    let newer = s.create_scan(t).await.unwrap();
    s.record_results(newer.id, &[pass("A"), pass("B"), pass("C")])
        .await
        .unwrap();
    s.record_results(scan.id, &results).await.unwrap();
    assert!(s
        .findings(t, None)
        .await
        .unwrap()
        .iter()
        .all(|f| f.status == FindingStatus::Resolved));

    // Concurrent recordings of the same scan still give one finding per (control, resource).
    let again = s.create_scan(t).await.unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (s, results) = (s.clone(), results.clone());
            tokio::spawn(async move { s.record_results(again.id, &results).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let f = s.findings(t, None).await.unwrap();
    assert_eq!(f.len(), 3);
    assert_eq!(
        f.iter()
            .filter(|f| f.status == FindingStatus::Reopened)
            .count(),
        3
    );
}

both_backends!(drift_against_previous_succeeded_scan, drift_body);
async fn drift_body(ctx: Ctx) {
    let s = &ctx.store;
    let key = MasterKey::generate();
    let t = tenant(s, &key).await;
    let first = succeeded_scan(
        s,
        t,
        &[
            pass("P2F"),
            fail("F2P"),
            fail("F2F"),
            pass("P2P"),
            ResultInput::new("E2F", Status::Error, Severity::Low),
        ],
    )
    .await;
    let d = s.drift(first).await.unwrap();
    assert_eq!(d.previous_scan_id, None);
    assert_eq!(ids(&d.new_failures), ["F2F", "F2P"]);

    // A failed scan in between is not the baseline.
    let failed = s.create_scan(t).await.unwrap();
    s.record_results(failed.id, &[fail("P2P")]).await.unwrap();
    s.finish_scan(failed.id, ScanStatus::Failed, 3, Some("token expired"))
        .await
        .unwrap();

    let second = succeeded_scan(
        s,
        t,
        &[
            fail("P2F"),
            pass("F2P"),
            fail("F2F"),
            pass("P2P"),
            fail("E2F"),
            fail("NEW"),
        ],
    )
    .await;
    let d = s.drift(second).await.unwrap();
    assert_eq!(d.previous_scan_id, Some(first));
    assert_eq!(ids(&d.regressions), ["P2F"]);
    assert_eq!(ids(&d.resolved), ["F2P"]);
    assert_eq!(ids(&d.new_failures), ["E2F", "NEW"]);
    assert_eq!(d.new_failures[0].previous_status, Some(Status::Error));
    assert_eq!(d.new_failures[1].previous_status, None);

    let scans = s.list_scans(t).await.unwrap();
    assert_eq!(scans.len(), 3);
    assert_eq!(scans[1].status, ScanStatus::Failed);
    assert_eq!(scans[1].error.as_deref(), Some("token expired"));
    assert_eq!(scans[0].request_count, 42);
    assert!(scans[0].finished_at.unwrap() >= scans[0].started_at.unwrap());
}

fn ids(items: &[mamori_store::DriftItem]) -> Vec<&str> {
    items.iter().map(|i| i.control_id.as_str()).collect()
}

both_backends!(snapshots_compressed_and_retained, snapshot_body);
async fn snapshot_body(ctx: Ctx) {
    let s = &ctx.store;
    let key = MasterKey::generate();
    let (t1, t2) = (tenant(s, &key).await, tenant(s, &key).await);
    let doc = serde_json::json!({"aad": {"users": (0..200).map(|i| format!("user{i}@example.jp")).collect::<Vec<_>>()}});
    let mut snaps = vec![];
    for _ in 0..4 {
        let scan = s.create_scan(t1).await.unwrap();
        snaps.push(s.save_snapshot_json(scan.id, &doc).await.unwrap());
    }
    let other = s
        .save_snapshot_json(s.create_scan(t2).await.unwrap().id, &doc)
        .await
        .unwrap();
    assert!(snaps[0].compressed_bytes < snaps[0].size_bytes);
    assert_eq!(s.load_snapshot_json(snaps[0].id).await.unwrap(), doc);
    assert!(s
        .save_snapshot_bytes(snaps[0].scan_id, b"not json")
        .await
        .is_err());

    assert_eq!(s.prune_snapshots(2).await.unwrap(), 2);
    let kept: Vec<i64> = s
        .list_snapshots(t1)
        .await
        .unwrap()
        .iter()
        .map(|x| x.id)
        .collect();
    assert_eq!(kept, [snaps[3].id, snaps[2].id], "the newest two stay");
    assert_eq!(
        s.list_snapshots(t2).await.unwrap()[0].id,
        other.id,
        "other tenants keep theirs"
    );
    assert!(matches!(
        s.load_snapshot(snaps[0].id).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(s.prune_snapshots(2).await.unwrap(), 0);

    // One tenant's retention leaves the others alone.
    let newest = s
        .save_snapshot_json(s.create_scan(t1).await.unwrap().id, &doc)
        .await
        .unwrap();
    let other2 = s
        .save_snapshot_json(s.create_scan(t2).await.unwrap().id, &doc)
        .await
        .unwrap();
    assert_eq!(s.prune_tenant_snapshots(t1, 1).await.unwrap(), 2);
    let ids = |v: Vec<mamori_store::SnapshotRecord>| v.iter().map(|x| x.id).collect::<Vec<_>>();
    assert_eq!(ids(s.list_snapshots(t1).await.unwrap()), [newest.id]);
    assert_eq!(
        ids(s.list_snapshots(t2).await.unwrap()),
        [other2.id, other.id]
    );
    assert_eq!(s.prune_tenant_snapshots(t1, 1).await.unwrap(), 0);
}

// ---------------------------------------------------------------------------------------------
// Backend-independent

#[test]
fn master_key_file_is_created_private_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let path = mamori_store::key_file_path(&data);
    let k1 = MasterKey::load_or_create_file(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let k2 = MasterKey::load_or_create_file(&path).unwrap();
        assert_eq!(k1.key_id(), k2.key_id());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = MasterKey::load_or_create_file(&path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }
    assert!(!format!("{k1:?}").contains(&k1.to_base64()));
    assert_eq!(
        MasterKey::from_base64(&k1.to_base64()).unwrap().key_id(),
        k1.key_id()
    );
    assert!(MasterKey::from_base64("c2hvcnQ=")
        .unwrap_err()
        .to_string()
        .contains("32 bytes"));
    assert!(MasterKey::from_base64("***").is_err());
}

#[tokio::test]
async fn unsupported_urls_are_refused() {
    let err = Store::open("mysql://user:hunter2@db/x").await.unwrap_err();
    assert!(matches!(err, Error::UnsupportedUrl { .. }));
    assert!(
        !err.to_string().contains("hunter2"),
        "no password in errors: {err}"
    );
}

both_backends!(
    tampered_ciphertext_and_duplicate_findings_are_refused,
    integrity_body
);
async fn integrity_body(ctx: Ctx) {
    let s = &ctx.store;
    let key = MasterKey::generate();
    let t = tenant(s, &key).await;
    let scan = s.create_scan(t).await.unwrap();
    s.record_results(scan.id, &[fail("A")]).await.unwrap();

    let mut raw = raw_ciphertext(&ctx.url, t).await;
    let last = raw.len() - 1;
    raw[last] ^= 0x01;
    let dup = "INSERT INTO findings (tenant_id, control_id, resource_key, status, severity, first_seen, last_seen, \
               first_scan_id, last_scan_id) VALUES ($1, 'A', '', 'open', 'high', 0, 0, $2, $2)";
    let update = "UPDATE tenants SET credentials_ciphertext = $1 WHERE id = $2";
    use sqlx::Connection;
    let dup_result = if ctx.url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(&ctx.url).await.unwrap();
        sqlx::query(update)
            .bind(&raw)
            .bind(t)
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query(dup)
            .bind(t)
            .bind(scan.id)
            .execute(&mut conn)
            .await
            .map(|_| ())
    } else {
        let mut conn = sqlx::PgConnection::connect(&ctx.url).await.unwrap();
        sqlx::query(update)
            .bind(&raw)
            .bind(t)
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query(dup)
            .bind(t)
            .bind(scan.id)
            .execute(&mut conn)
            .await
            .map(|_| ())
    };
    let err =
        dup_result.expect_err("UNIQUE (tenant, control, resource) refuses a duplicate finding");
    assert!(err.to_string().to_lowercase().contains("unique"), "{err}");
    assert!(matches!(
        s.tenant_credentials(&key, t).await,
        Err(Error::CorruptCredentials { .. })
    ));
}

#[test]
fn master_key_from_environment_wins_over_the_file() {
    // The only test that touches MAMORI_MASTER_KEY.
    let dir = tempfile::tempdir().unwrap();
    let key = MasterKey::generate();
    std::env::set_var(mamori_store::MASTER_KEY_ENV, key.to_base64());
    let from_env = MasterKey::from_env_or_file(dir.path()).map(|k| k.key_id());
    std::env::set_var(mamori_store::MASTER_KEY_ENV, "not base64!");
    let bad = MasterKey::from_env_or_file(dir.path()).map(|k| k.key_id());
    std::env::remove_var(mamori_store::MASTER_KEY_ENV);
    assert_eq!(from_env.unwrap(), key.key_id());
    assert!(
        !dir.path().join("master.key").exists(),
        "no key file when the variable is set"
    );
    let err = bad.unwrap_err().to_string();
    assert!(
        err.contains("MAMORI_MASTER_KEY") && !err.contains("not base64!"),
        "{err}"
    );
    let created = MasterKey::from_env_or_file(dir.path()).unwrap();
    assert!(dir.path().join("master.key").exists());
    assert_ne!(created.key_id(), key.key_id());
}
