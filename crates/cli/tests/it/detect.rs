//! `mamori detect` end to end: the alert contract, exit codes, bad files, quarantine, third-party
//! rule folders, OCSF (validated against the OCSF JSON schema where the validator is installed).

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn mamori(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("MAMORI_LANG")
        .env("LANG", "C")
        .output()
        .expect("runs mamori")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn case(rule: &str, which: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../rules/tests")
        .join(rule)
        .join(format!("{which}.jsonl"))
}

const SPRAY: &str = "mamori.entra-signin.password_spray";

fn spray_lines() -> Vec<Value> {
    std::fs::read_to_string(case(SPRAY, "positive"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn json_alerts_have_the_documented_shape_and_exit_1() {
    let file = case(SPRAY, "positive");
    let out = mamori(&[
        "detect",
        "--source",
        "entra-signin",
        file.to_str().unwrap(),
        "--format",
        "json",
        "--tenant",
        "sakura",
        "--lang",
        "en",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let alerts: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let spray = alerts
        .iter()
        .find(|a| a["rule_id"] == SPRAY)
        .expect("the spray alert");
    for key in [
        "rule_id",
        "title",
        "severity",
        "source",
        "tenant",
        "first_seen",
        "last_seen",
        "count",
        "attack",
        "entities",
        "event_ids",
    ] {
        assert!(spray.get(key).is_some(), "no {key} in {spray}");
    }
    assert_eq!(spray["source"], "entra-signin");
    assert_eq!(spray["tenant"], "sakura");
    assert_eq!(spray["severity"], "high");
    assert_eq!(spray["attack"], serde_json::json!(["T1110.003"]));
    assert_eq!(spray["entities"]["ipAddress"], "203.0.113.50");
    assert!(spray["count"].as_u64().unwrap() >= 10, "{spray}");
    assert!(!spray["event_ids"].as_array().unwrap().is_empty());
    assert!(spray["first_seen"].as_str().unwrap() <= spray["last_seen"].as_str().unwrap());
    // The base rule feeding the correlation never alerts alone.
    assert!(alerts
        .iter()
        .all(|a| a["rule_id"] != "mamori.entra-signin.wrong_password"));

    let ja = mamori(&[
        "detect",
        "--source",
        "entra-signin",
        file.to_str().unwrap(),
        "--format",
        "json",
        "--lang",
        "ja",
    ]);
    assert!(
        stdout(&ja).contains("パスワード スプレー"),
        "{}",
        stdout(&ja)
    );
}

#[test]
fn no_alert_exits_0_with_a_summary() {
    let file = case(SPRAY, "negative");
    let out = mamori(&[
        "detect",
        "--source",
        "entra-signin",
        file.to_str().unwrap(),
        "--lang",
        "en",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("0 alerts from 24 events"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn pages_arrays_and_gzip_read_alike_and_repeats_count_once() {
    let dir = tempfile::tempdir().unwrap();
    let lines = spray_lines();
    let page = dir.path().join("page.json");
    std::fs::write(
        &page,
        serde_json::json!({"@odata.context": "x", "value": lines}).to_string(),
    )
    .unwrap();
    let gz = dir.path().join("array.json.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(Value::Array(lines.clone()).to_string().as_bytes())
        .unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    // The same events twice (a page saved again): each counted once.
    let out = mamori(&[
        "detect",
        "--source",
        "entra-signin",
        page.to_str().unwrap(),
        gz.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let spray: Value = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|a| a["rule_id"] == SPRAY)
        .unwrap();
    assert_eq!(spray["count"].as_u64(), Some(lines.len() as u64), "{spray}");
    let table = mamori(&[
        "detect",
        "--source",
        "entra-signin",
        page.to_str().unwrap(),
        gz.to_str().unwrap(),
        "--lang",
        "en",
    ]);
    assert!(
        stdout(&table).contains(&format!("{} duplicates skipped", lines.len())),
        "{}",
        stdout(&table)
    );
}

#[test]
fn a_bad_file_is_one_line_naming_it_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("cut.json");
    std::fs::write(&bad, b"[{\"id\": \"a\", \"createdDateTime\": ").unwrap();
    let out = mamori(&["detect", "--source", "entra-signin", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("cut.json"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let missing = mamori(&["detect", "--source", "entra-signin", "/nonexistent/x.json"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent/x.json"));

    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, b"\n").unwrap();
    let out = mamori(&[
        "detect",
        "--source",
        "gws",
        empty.to_str().unwrap(),
        "--lang",
        "en",
    ]);
    assert_eq!(out.status.code(), Some(2), "no event is not a clean result");
    assert!(stderr(&out).contains("no gws event"), "{}", stderr(&out));

    let unknown = mamori(&["detect", "--source", "slack", bad.to_str().unwrap()]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("slack"), "{}", stderr(&unknown));
}

#[test]
fn malformed_records_are_quarantined_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for (i, line) in spray_lines().iter().enumerate() {
        text.push_str(&line.to_string());
        text.push('\n');
        if i == 3 {
            text.push_str("{\"id\": \"broken\", \"createdDateTime\": \n");
            text.push_str("{\"id\": \"no-time\"}\n");
            text.push_str("[1, 2]\n");
        }
    }
    let file = dir.path().join("mixed.jsonl");
    std::fs::write(&file, text).unwrap();
    let quarantine = dir.path().join("q.jsonl");
    let out = mamori(&[
        "detect",
        "--source",
        "entra-signin",
        file.to_str().unwrap(),
        "--format",
        "json",
        "--quarantine",
        quarantine.to_str().unwrap(),
        "--lang",
        "en",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the good events still alert: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("3 records could not be used"),
        "{}",
        stderr(&out)
    );
    let kept: Vec<Value> = std::fs::read_to_string(&quarantine)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(kept.len(), 3);
    assert_eq!(kept[0]["position"], "line 5");
    assert!(
        kept[1]["reason"]
            .as_str()
            .unwrap()
            .contains("createdDateTime"),
        "{}",
        kept[1]
    );
    assert_eq!(kept[1]["raw"], "{\"id\":\"no-time\"}");
}

#[test]
fn third_party_rule_folders_are_mapped_or_counted() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(rules.join("azure")).unwrap();
    std::fs::create_dir_all(rules.join("windows")).unwrap();
    // Written for the Azure Monitor export of sign-in logs: its field names are mapped to Graph's.
    std::fs::write(
        rules.join("azure/failed.yml"),
        "title: Failed sign-in (Azure Monitor naming)\nid: 9a4f2c1e-0000-4000-8000-000000000001\n\
         logsource:\n  product: azure\n  service: signinlogs\ndetection:\n  selection:\n    ResultType: 50126\n\
         \x20 condition: selection\nlevel: low\n",
    )
    .unwrap();
    std::fs::write(
        rules.join("windows/proc.yml"),
        "title: Some process\nid: 9a4f2c1e-0000-4000-8000-000000000002\nlogsource:\n  product: windows\n  category: process_creation\n\
         detection:\n  selection:\n    Image|endswith: '\\\\x.exe'\n  condition: selection\nlevel: low\n",
    )
    .unwrap();
    let file = case(SPRAY, "negative");
    let out = mamori(&[
        "detect",
        "--source",
        "entra-signin",
        file.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--no-builtin-rules",
        "--format",
        "json",
        "--lang",
        "en",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 rules read logs Mamori does not collect"),
        "{}",
        stderr(&out)
    );
    let first: Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(first["rule_id"], "9a4f2c1e-0000-4000-8000-000000000001");
    assert_eq!(first["severity"], "low");

    std::fs::write(rules.join("broken.yml"), "title: [unclosed\n").unwrap();
    let out = mamori(&[
        "detect",
        "--source",
        "entra-signin",
        file.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("broken.yml"), "{}", stderr(&out));
}

#[test]
fn ocsf_detection_findings() {
    let file = case(SPRAY, "positive");
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("findings.ocsf.jsonl");
    let out = mamori(&[
        "detect",
        "--source",
        "entra-signin",
        file.to_str().unwrap(),
        "--format",
        "ocsf",
        "--out",
        out_path.to_str().unwrap(),
        "--lang",
        "en",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = std::fs::read_to_string(&out_path).unwrap();
    for line in text.lines() {
        let f: Value = serde_json::from_str(line).unwrap();
        assert_eq!(f["class_uid"], 2004);
        assert_eq!(
            f["type_uid"].as_u64(),
            Some(f["class_uid"].as_u64().unwrap() * 100 + f["activity_id"].as_u64().unwrap())
        );
        assert_eq!(f["finding_info"]["analytic"]["uid"], SPRAY);
        assert_eq!(f["finding_info"]["attacks"][0]["technique"]["uid"], "T1110");
        assert_eq!(
            f["finding_info"]["attacks"][0]["sub_technique"]["uid"],
            "T1110.003"
        );
        assert_eq!(f["severity_id"], 4);
    }
    crate::ocsf::validate(&out_path);
}

/// Posture results as OCSF Compliance Findings: one per control, status mapped (a control that
/// could not see its data is Unknown, never Pass), validated against the schema.
#[test]
fn posture_results_as_ocsf_compliance_findings() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/samples/scubagear-ProviderSettingsExport.json.gz");
    if !sample.exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "../shared missing under CI"
        );
        println!("SKIPPED: no ../shared/samples");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("posture.ocsf.jsonl");
    let out = mamori(&[
        "evaluate",
        "--from",
        "scubagear",
        sample.to_str().unwrap(),
        "--format",
        "ocsf",
        "--out",
        out_path.to_str().unwrap(),
        "--lang",
        "ja",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = std::fs::read_to_string(&out_path).unwrap();
    let findings: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(findings.len() > 100, "{}", findings.len());
    let statuses: std::collections::BTreeSet<&str> = findings
        .iter()
        .map(|f| f["compliance"]["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.contains("Pass") && statuses.contains("Fail"),
        "{statuses:?}"
    );
    for f in &findings {
        assert_eq!(f["class_uid"], 2003);
        assert_eq!(f["type_uid"], 200301);
        let control = f["compliance"]["control"].as_str().unwrap();
        assert!(
            control.starts_with("MS.") || control.starts_with("MAMORI."),
            "{control}"
        );
    }
    crate::ocsf::validate(&out_path);
}
