//! End-to-end tests of the `mamori` binary: output contract, exit codes, bad input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn mamori(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("MAMORI_LANG")
        .output()
        .expect("runs mamori")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

const GOOD_SPO: &str = r#"{"SharePoint_successful_commands": ["Get-SPOTenantRest"], "SPO_tenant": [{"SharingCapability": 0, "ODBSharingCapability": 0, "SharingDomainRestrictionMode": 0, "DefaultSharingLinkType": 1, "DefaultLinkPermission": 1, "RequireAnonymousLinksExpireInDays": 30, "FileAnonymousLinkType": 1, "FolderAnonymousLinkType": 1, "EmailAttestationRequired": true, "EmailAttestationReAuthDays": 30}]}"#;

fn bad_spo() -> String {
    GOOD_SPO.replace(r#""SharingCapability": 0"#, r#""SharingCapability": 2"#)
}

#[test]
fn json_lines_contract_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.json", GOOD_SPO.as_bytes());
    let bad = write(dir.path(), "bad.json.gz", &gzip(bad_spo().as_bytes()));

    let ok = mamori(&[
        "evaluate",
        "--from",
        "scubagear",
        good.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));

    let both = mamori(&[
        "evaluate",
        "--from",
        "scubagear",
        good.to_str().unwrap(),
        bad.to_str().unwrap(),
        "--format",
        "json",
        "--lang",
        "en",
    ]);
    assert_eq!(
        both.status.code(),
        Some(1),
        "a failing control exits 1: {}",
        stderr(&both)
    );
    let lines: Vec<serde_json::Value> = stdout(&both)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "one JSON object per input file");
    assert_eq!(lines[1]["source"], bad.to_str().unwrap());
    let controls = lines[1]["controls"].as_array().unwrap();
    assert_eq!(controls.len(), 8);
    for c in controls {
        for field in [
            "id",
            "status",
            "requirement_met",
            "criticality",
            "severity",
            "details",
        ] {
            assert!(c.get(field).is_some(), "{field} missing in {c}");
        }
    }
    let spo11 = controls
        .iter()
        .find(|c| c["id"] == "MS.SHAREPOINT.1.1v1")
        .unwrap();
    assert_eq!(spo11["status"], "fail");
    assert_eq!(spo11["requirement_met"], false);
    assert_eq!(spo11["criticality"], "shall");
}

#[test]
fn formats_and_languages_write_where_asked() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.json", bad_spo().as_bytes());
    for (format, name, needle) in [
        ("html", "r.html", "推奨される対策"),
        ("csv", "plan.csv", "担当者"),
        ("table", "t.txt", "不合格"),
        ("json", "r.jsonl", "MS.SHAREPOINT.1.1v1"),
    ] {
        let out = dir.path().join(name);
        let o = mamori(&[
            "evaluate",
            "--from",
            "scubagear",
            bad.to_str().unwrap(),
            "--format",
            format,
            "--lang",
            "ja",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(1), "{format}: {}", stderr(&o));
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.contains(needle), "{format} output lacks {needle}");
        assert!(
            stderr(&o).contains(out.to_str().unwrap()),
            "says where it wrote"
        );
    }
    let en = mamori(&[
        "evaluate",
        "--from",
        "scubagear",
        bad.to_str().unwrap(),
        "--lang",
        "en",
    ]);
    assert!(stdout(&en).contains("Fail") && !stdout(&en).contains("不合格"));
    assert!(
        !stdout(&en).contains('\x1b'),
        "no colour when not a terminal"
    );
}

#[test]
fn bad_input_is_a_one_line_error_naming_the_file_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let truncated_gz = gzip(GOOD_SPO.as_bytes());
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "notjson.json",
            b"this is not json".to_vec(),
            "not valid JSON",
        ),
        ("array.json", b"[1, 2, 3]".to_vec(), "wrong shape"),
        (
            "latin1.json",
            b"{\"SPO_tenant\": \"caf\xe9\"}".to_vec(),
            "not valid JSON",
        ),
        (
            "truncated.json",
            GOOD_SPO.as_bytes()[..60].to_vec(),
            "ends early",
        ),
        (
            "truncated.json.gz",
            truncated_gz[..truncated_gz.len() / 2].to_vec(),
            "corrupt or truncated",
        ),
        ("empty.json", Vec::new(), "empty"),
        (
            "unrelated.json",
            br#"{"hello": "world"}"#.to_vec(),
            "no section",
        ),
    ];
    for (name, bytes, expected) in cases {
        let path = write(dir.path(), name, &bytes);
        let o = mamori(&[
            "evaluate",
            "--from",
            "scubagear",
            path.to_str().unwrap(),
            "--format",
            "json",
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(
            err.contains(name) && err.contains(expected),
            "{name}: {err:?} should name the file and say {expected:?}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{name}: one line: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // A good file next to a bad one is still evaluated.
    let good = write(dir.path(), "good.json", GOOD_SPO.as_bytes());
    let bad = dir.path().join("notjson.json");
    let o = mamori(&[
        "evaluate",
        "--from",
        "scubagear",
        bad.to_str().unwrap(),
        good.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o).lines().count(), 1);
}

#[test]
fn oversized_input_is_refused_above_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "big.json.gz", &gzip(GOOD_SPO.as_bytes()));
    let o = mamori(&[
        "evaluate",
        "--from",
        "scubagear",
        path.to_str().unwrap(),
        "--max-input-size",
        "100",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("larger than the limit of 100 bytes"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn missing_and_misshapen_sections_are_errors_not_passes() {
    let dir = tempfile::tempdir().unwrap();
    let wrong = write(
        dir.path(),
        "wrong.json",
        br#"{"SharePoint_successful_commands": ["Get-SPOTenantRest"], "SPO_tenant": "oops"}"#,
    );
    let failed = write(dir.path(), "failed.json", br#"{"SharePoint_successful_commands": [], "SharePoint_unsuccessful_commands": ["Get-SPOTenantRest"]}"#);
    for path in [wrong, failed] {
        let o = mamori(&[
            "evaluate",
            "--from",
            "scubagear",
            path.to_str().unwrap(),
            "--format",
            "json",
        ]);
        let line: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
        for c in line["controls"].as_array().unwrap() {
            assert_eq!(c["status"], "error", "{c}");
            assert_eq!(c["requirement_met"], false, "{c}");
        }
        assert_eq!(
            o.status.code(),
            Some(0),
            "errors are not failures: {}",
            stderr(&o)
        );
    }
}

#[test]
fn unknown_flags_and_values_are_usage_errors() {
    for args in [
        vec!["evaluate", "--from", "scubagear", "x.json", "--colour"],
        vec!["evaluate", "--from", "nonsense", "x.json"],
        vec!["evaluate", "--from", "scubagear", "x.json", "--lang", "fr"],
        vec!["evaluate", "--from", "scubagear"],
    ] {
        let o = mamori(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(!stderr(&o).is_empty());
    }
}

#[test]
fn config_omits_with_rationale_until_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.json", bad_spo().as_bytes());
    let config = write(dir.path(), "config.yaml", b"OmitPolicy:\n  MS.SHAREPOINT.1.1v1:\n    Rationale: Approved partner sharing\n    Expiration: 2999-12-31\n  MS.SHAREPOINT.1.3v1:\n    Rationale: lapsed\n    Expiration: 2000-01-01\n");
    let o = mamori(&[
        "evaluate",
        "--from",
        "scubagear",
        bad.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--format",
        "json",
        "--lang",
        "en",
    ]);
    let line: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let get = |id: &str| {
        line["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(get("MS.SHAREPOINT.1.1v1")["status"], "omitted");
    assert!(get("MS.SHAREPOINT.1.1v1")["details"]
        .as_str()
        .unwrap()
        .contains("Approved partner sharing"));
    assert_eq!(get("MS.SHAREPOINT.1.3v1")["status"], "fail");
    assert!(get("MS.SHAREPOINT.1.3v1")["details"]
        .as_str()
        .unwrap()
        .contains("expired"));

    let broken = write(dir.path(), "broken.yaml", b"OmitPolicy: [1, 2]\n");
    let o = mamori(&[
        "evaluate",
        "--from",
        "scubagear",
        bad.to_str().unwrap(),
        "--config",
        broken.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("broken.yaml"), "{}", stderr(&o));
}

#[test]
fn packs_list_show_and_test() {
    let o = mamori(&["packs", "list"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("m365"));
    let o = mamori(&["packs", "show", "MS.SHAREPOINT.1.1v1", "--lang", "ja"]);
    assert!(stdout(&o).contains("外部共有"), "{}", stdout(&o));
    let o = mamori(&["packs", "show", "NOPE.1"]);
    assert_eq!(o.status.code(), Some(2));

    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packs/m365/tests/sharepoint");
    let o = mamori(&["packs", "test", tests.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "wrong.yaml",
        format!("input: {GOOD_SPO}\nexpect:\n  - {{id: MS.SHAREPOINT.1.1v1, status: fail}}\n")
            .as_bytes(),
    );
    let o = mamori(&["packs", "test", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "a failing case exits 1");
    assert!(
        stdout(&o).contains("status is pass, expected fail"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn an_invalid_user_pack_is_refused_with_file_control_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("bad-pack");
    std::fs::create_dir_all(pack.join("p")).unwrap();
    write(&pack, "pack.yaml", "id: custom\nname: {en: Custom, ja: カスタム}\nversion: '1'\ninput: scubagear\nproducts: [p]\n".as_bytes());
    write(&pack.join("p"), "product.yaml", b"id: p\nname: {en: P, ja: P}\npackage: custom.p\ncontrols:\n  - id: CUSTOM.1\n    criticality: shall\n    severity: high\n    title: {en: T, ja: ''}\n    remediation: {en: R, ja: R}\n    permissions: [x]\n    references: [y]\n");
    let o = mamori(&["packs", "list", "--pack", pack.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("product.yaml") && err.contains("CUSTOM.1") && err.contains("title.ja"),
        "{err}"
    );
}

#[test]
fn demo_writes_reports_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    // `--no-serve`: without it the demo goes on to serve the dashboard until stopped.
    let o = mamori(&[
        "demo",
        "--no-serve",
        "--out-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for name in [
        "report-ja.html",
        "report-en.html",
        "action-plan-ja.csv",
        "results.jsonl",
    ] {
        assert!(dir.path().join(name).exists(), "{name} missing");
        assert!(stdout(&o).contains(name), "demo says where {name} is");
    }
    let ja = std::fs::read_to_string(dir.path().join("report-ja.html")).unwrap();
    assert!(ja.contains("lang=\"ja\"") && ja.contains("製品別サマリー"));
    // The demo tenants' audit logs were pulled and matched: the week's attacks are alerts, in
    // the `mamori detect --format json` shape, and every log source was read.
    assert!(
        stdout(&o).contains("alerts.jsonl"),
        "demo says where alerts.jsonl is"
    );
    assert!(!stderr(&o).contains("not read"), "{}", stderr(&o));
    let alerts: Vec<serde_json::Value> = std::fs::read_to_string(dir.path().join("alerts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let rules: std::collections::BTreeSet<&str> = alerts
        .iter()
        .filter_map(|a| a["rule_id"].as_str())
        .collect();
    for must in [
        "mamori.entra-signin.password_spray",
        "mamori.entra-signin.mfa_fatigue",
        "mamori.entra-audit.consent_high_risk_scopes",
        "mamori.gws.oauth_high_risk_scopes",
        "mamori.entra-signin.impossible_travel",
    ] {
        assert!(
            rules.contains(must),
            "no {must} alert in the demo: {rules:?}"
        );
    }
    for a in &alerts {
        assert!(
            a["event_ids"].as_array().is_some_and(|ids| !ids.is_empty()),
            "{a}"
        );
        assert!(a["attack"].as_array().is_some_and(|t| !t.is_empty()), "{a}");
    }
    // The reports carry the same alerts, in their language.
    let en = std::fs::read_to_string(dir.path().join("report-en.html")).unwrap();
    assert!(en.contains("Threat alerts from audit logs"));
    assert!(
        en.contains(&format!("{} alerts from", alerts.len())),
        "the report counts every alert"
    );
    assert!(en.contains("mamori.entra-signin.password_spray"));
    let ja = std::fs::read_to_string(dir.path().join("report-ja.html")).unwrap();
    assert!(ja.contains("監査ログから検知した脅威アラート"));
    assert!(ja.contains(&format!("{} 件のアラート", alerts.len())));
    // The collected snapshots evaluate through the normal path too, with no control in error:
    // every section the packs read was collected through the connectors.
    for file in [
        "sakura-trading-m365.snapshot.json.gz",
        "sakura-trading-gws.snapshot.json.gz",
    ] {
        let snapshot = dir.path().join(file);
        let o = mamori(&[
            "evaluate",
            "--from",
            "mamori",
            snapshot.to_str().unwrap(),
            "--format",
            "json",
        ]);
        assert_eq!(o.status.code(), Some(1), "{file}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(
            !out.contains("\"status\":\"error\""),
            "{file} has controls in error"
        );
        assert!(out.contains("\"status\":\"pass\"") && out.contains("\"status\":\"fail\""));
    }
}

#[test]
fn framework_view_and_unknown_framework() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.json", bad_spo().as_bytes());
    let o = mamori(&[
        "evaluate",
        "--from",
        "scubagear",
        bad.to_str().unwrap(),
        "--framework",
        "nist-800-53",
        "--format",
        "json",
        "--lang",
        "en",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let line: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let reqs = line["frameworks"][0]["requirements"].as_array().unwrap();
    assert!(!reqs.is_empty());
    assert!(
        reqs.iter().any(|r| r["status"].is_null()),
        "uncovered requirements are listed"
    );
    let o = mamori(&[
        "evaluate",
        "--from",
        "scubagear",
        bad.to_str().unwrap(),
        "--framework",
        "sox",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown framework") && stderr(&o).contains("nist-800-53"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn mamori_snapshot_envelope_is_unwrapped() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = format!(
        r#"{{"mamori_snapshot": 1, "schema": "scubagear", "tenant": "t", "data": {}}}"#,
        bad_spo()
    );
    let path = write(dir.path(), "snap.json", snapshot.as_bytes());
    let o = mamori(&[
        "evaluate",
        "--from",
        "mamori",
        path.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("MS.SHAREPOINT.1.1v1"));
    for (name, body, needle) in [
        (
            "v2.json",
            r#"{"mamori_snapshot": 2, "schema": "scubagear", "data": {}}"#,
            "unsupported",
        ),
        (
            "noschema.json",
            r#"{"mamori_snapshot": 1, "data": {}}"#,
            "schema",
        ),
        (
            "nodata.json",
            r#"{"mamori_snapshot": 1, "schema": "scubagoggles"}"#,
            "data",
        ),
        ("plain.json", GOOD_SPO, "not a Mamori snapshot"),
    ] {
        let path = write(dir.path(), name, body.as_bytes());
        let o = mamori(&["evaluate", "--from", "mamori", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{name}");
        assert!(
            stderr(&o).contains(needle) && stderr(&o).contains(name),
            "{name}: {}",
            stderr(&o)
        );
    }
}

/// `mamori imitate` in the background, killed when dropped.
struct Imitation {
    child: std::process::Child,
    dir: tempfile::TempDir,
}

impl Drop for Imitation {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn imitation() -> Imitation {
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(["imitate", "--credentials-dir", dir.path().to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let imitation = Imitation { child, dir };
    for _ in 0..300 {
        if imitation.dir.path().join("gws-credentials.json").exists() {
            return imitation;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("mamori imitate did not start within 30 s");
}

#[test]
fn collect_and_scan_against_the_imitation_apis() {
    let imitation = imitation();
    let creds = |app: &str| imitation.dir.path().join(format!("{app}-credentials.json"));
    let out = imitation.dir.path().join("snap.json.gz");
    let o = mamori(&[
        "collect",
        "m365",
        "--credentials",
        creds("m365").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("requests"),
        "summary line: {}",
        stderr(&o)
    );
    let o = mamori(&[
        "evaluate",
        "--from",
        "mamori",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!stdout(&o).contains("\"status\":\"error\""));

    let report = imitation.dir.path().join("gws.html");
    let o = mamori(&[
        "scan",
        "gws",
        "--credentials",
        creds("gws").to_str().unwrap(),
        "--quiet",
        "--format",
        "html",
        "--lang",
        "ja",
        "--out",
        report.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).is_empty(),
        "--quiet prints nothing: {}",
        stderr(&o)
    );
    assert!(std::fs::read_to_string(&report)
        .unwrap()
        .contains("lang=\"ja\""));

    // Operator exceptions apply to a live scan as to `evaluate`.
    let cfg = write(
        imitation.dir.path(),
        "scuba.yaml",
        b"OmitPolicy:\n  MS.AAD.1.1v1:\n    Rationale: Legacy clients blocked at the proxy (SEC-1)\n    Expiration: 2099-12-31\n",
    );
    let o = mamori(&[
        "scan",
        "m365",
        "--credentials",
        creds("m365").to_str().unwrap(),
        "--quiet",
        "--format",
        "json",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let line: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    let aad11 = line["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "MS.AAD.1.1v1")
        .unwrap();
    assert_eq!(aad11["status"], "omitted", "{aad11}");

    // A wrong secret: one clear line naming the endpoint's refusal, never the secret itself.
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(creds("m365")).unwrap()).unwrap();
    let obj = config.as_object_mut().unwrap();
    obj.remove("certificate_private_key");
    obj.remove("certificate_thumbprint");
    obj.insert("client_secret".into(), "Wrong~Secret-Value-123456".into());
    let bad = write(
        imitation.dir.path(),
        "bad.json",
        config.to_string().as_bytes(),
    );
    let bad_out = imitation.dir.path().join("never.json.gz");
    let o = mamori(&[
        "collect",
        "m365",
        "--credentials",
        bad.to_str().unwrap(),
        "--out",
        bad_out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("invalid_client") && err.contains("AADSTS7000215"),
        "{err}"
    );
    assert!(
        !err.contains("Wrong~Secret-Value-123456"),
        "secret leaked: {err}"
    );
    assert!(!bad_out.exists(), "no snapshot after a failed sign-in");
}

#[test]
fn collect_without_credentials_or_with_a_broken_file() {
    let o = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(["collect", "m365"])
        .env_remove("MAMORI_M365_TENANT_ID")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("MAMORI_M365_TENANT_ID"),
        "{}",
        stderr(&o)
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "creds.yaml",
        b"tenant_id: x\nclient_id: y\nclient_secret: hunter2-secret-text\nbogus: 1\n",
    );
    let o = mamori(&["collect", "m365", "--credentials", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bogus"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("hunter2-secret-text"));
    let o = mamori(&["collect", "m365", "--client-secret", "x"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "secrets are not accepted on the command line"
    );
}

#[test]
fn connect_docs_list_the_permissions_the_connectors_need() {
    for pack in ["m365", "gws"] {
        let o = mamori(&["packs", "permissions", pack]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let doc_path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../docs/connect-{pack}.md"));
        let doc = std::fs::read_to_string(&doc_path).unwrap();
        let begin = format!("<!-- BEGIN generated: mamori packs permissions {pack} -->");
        let start = doc.find(&begin).expect("generated block") + begin.len();
        let end = doc[start..]
            .find("<!-- END generated -->")
            .expect("end of generated block")
            + start;
        assert_eq!(
            doc[start..end].trim(),
            stdout(&o).trim(),
            "docs/connect-{pack}.md is stale: regenerate it with `mamori packs permissions {pack}`"
        );
    }
}

/// `mamori scan` exit codes through the binary: 1 with findings, 0 once every finding is
/// omitted by the operator, 2 when the tool fails (refused credentials, unreachable API).
#[test]
fn scan_exit_codes() {
    let imitation = imitation();
    let creds = imitation.dir.path().join("m365-credentials.json");
    let scan = |extra: &[&str], creds: &Path| {
        let mut args = vec![
            "scan",
            "m365",
            "--credentials",
            creds.to_str().unwrap(),
            "--quiet",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        mamori(&args)
    };

    let o = scan(&[], &creds);
    assert_eq!(o.status.code(), Some(1), "findings: {}", stderr(&o));
    let line: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let failing: Vec<String> = line["controls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail" || c["status"] == "warning")
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!failing.is_empty());

    // The operator omits every failing control (with a rationale): nothing is left to report.
    let mut config = String::from("OmitPolicy:\n");
    for id in &failing {
        config.push_str(&format!(
            "  {id}:\n    Rationale: accepted for the exit-code test\n"
        ));
    }
    let config_path = imitation.dir.path().join("omit-all.yaml");
    std::fs::write(&config_path, config).unwrap();
    let o = scan(&["--config", config_path.to_str().unwrap()], &creds);
    assert_eq!(o.status.code(), Some(0), "clean: {}", stderr(&o));

    // Refused credentials: a tool error, one line, and the secret is not printed.
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&creds).unwrap()).unwrap();
    // Whichever credential the connector uses (secret or certificate), it is refused.
    doc["client_secret"] = "Wrong~Secret~For~Exit~Test".into();
    if doc.get("certificate_thumbprint").is_some() {
        doc["certificate_thumbprint"] = "00112233445566778899AABBCCDDEEFF00112233".into();
    }
    let wrong = imitation.dir.path().join("wrong.json");
    std::fs::write(&wrong, doc.to_string()).unwrap();
    let o = scan(&[], &wrong);
    assert_eq!(o.status.code(), Some(2), "refused: {}", stderr(&o));
    assert!(stdout(&o).is_empty());
    assert!(!stderr(&o).contains("Wrong~Secret"), "{}", stderr(&o));

    // An API that answers nothing useful: a tool error too, never a clean exit.
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&creds).unwrap()).unwrap();
    doc["endpoints"]["graph"] = "http://127.0.0.1:9/nothing".into();
    let broken = imitation.dir.path().join("broken.json");
    std::fs::write(&broken, doc.to_string()).unwrap();
    let o = scan(&["--timeout", "2", "--attempts", "3"], &broken);
    assert_eq!(o.status.code(), Some(2), "unreachable: {}", stderr(&o));
}

/// CLI diagnostics follow MAMORI_LANG (or --lang) like the reports.
#[test]
fn diagnostics_in_japanese() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.json", b"{}");
    let o = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(["evaluate", "--from", "scubagear", empty.to_str().unwrap()])
        .env("MAMORI_LANG", "ja")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("mamori: エラー:"), "{err}");
    assert!(err.contains("エクスポートですか"), "{err}");
}

/// An export trimmed by hand: Exchange Online's sections are there but its command list is not,
/// while SharePoint's is. Exchange Online is skipped, and the warning names the missing list and
/// the way out, in both languages; SharePoint is still evaluated.
#[test]
fn product_sections_without_their_command_list_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let trimmed = GOOD_SPO.replacen('{', r#"{"spf_records": [], "remote_domains": [], "#, 1);
    let file = write(dir.path(), "trimmed.json", trimmed.as_bytes());
    let path = file.to_str().unwrap();

    let run = mamori(&["evaluate", "--from", "scubagear", path, "--format", "json"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let err = stderr(&run);
    assert!(err.contains("warning"), "{err}");
    assert!(err.contains("exo_successful_commands"), "{err}");
    assert!(err.contains("--product exo"), "{err}");
    assert!(stdout(&run).contains("MS.SHAREPOINT."), "{}", stdout(&run));
    assert!(!stdout(&run).contains("MS.EXO."), "{}", stdout(&run));

    let ja = mamori(&[
        "evaluate",
        "--from",
        "scubagear",
        path,
        "--format",
        "json",
        "--lang",
        "ja",
    ]);
    let err = stderr(&ja);
    assert!(
        err.contains("警告") && err.contains("評価していません"),
        "{err}"
    );

    // Naming the product evaluates it, and says nothing more.
    let named = mamori(&[
        "evaluate",
        "--from",
        "scubagear",
        path,
        "--format",
        "json",
        "--product",
        "exo",
    ]);
    assert!(stdout(&named).contains("MS.EXO."), "{}", stdout(&named));
    assert!(
        !stderr(&named).contains("exo_successful_commands"),
        "{}",
        stderr(&named)
    );
}

#[test]
fn users_are_offboarded_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let run = |args: &[&str], password: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_mamori"));
        c.args(args)
            .args(["--data-dir", data])
            .env("NO_COLOR", "1")
            .env_remove("MAMORI_LANG");
        match password {
            Some(p) => c.env("MAMORI_PASSWORD", p),
            None => c.env_remove("MAMORI_PASSWORD"),
        };
        c.output().expect("runs mamori")
    };
    let o = run(
        &[
            "users",
            "create",
            "--username",
            "leaver",
            "--role",
            "analyst",
        ],
        Some("a long enough password"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for (args, says) in [
        (
            vec!["users", "disable", "--username", "leaver"],
            "user.disable",
        ),
        (
            vec!["users", "enable", "--username", "Leaver"],
            "user.enable",
        ),
        (
            vec!["users", "revoke", "--username", "leaver"],
            "tokens revoked: 0",
        ),
    ] {
        let o = run(&args, None);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).contains(says), "{args:?}: {}", stdout(&o));
    }
    let o = run(
        &["users", "reset-password", "--username", "leaver"],
        Some("another long password"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("user.password_reset"), "{}", stdout(&o));
    // A short password is refused with the store's reason; an unknown user is named.
    let o = run(
        &["users", "reset-password", "--username", "leaver"],
        Some("short"),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = run(&["users", "disable", "--username", "nobody"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nobody"), "{}", stderr(&o));
}
