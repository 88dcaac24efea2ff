//! Pack metadata is validated at load; errors name file, control and field.

use mamori_policy::{Engine, Pack, PackError, PackFiles};
use std::collections::BTreeMap;

const PACK: &str = "id: demo\nname: {en: Demo, ja: デモ}\nversion: '1'\ninput: scubagear\nproducts: [p]\nsections: {things: array}\n";
const PRODUCT_HEAD: &str = "id: p\nname: {en: P, ja: ピー}\npackage: mamori.demo.p\ncontrols:\n";
const GOOD_CONTROL: &str = "  - id: DEMO.1\n    criticality: shall\n    severity: high\n    title: {en: T, ja: タ}\n    remediation: {en: R, ja: ア}\n    permissions: [Read]\n    sections: [things]\n    references: [https://example.org]\n";
const RULES: &str = "package mamori.demo.p\nimport rego.v1\nresults contains {\"id\": \"DEMO.1\", \"requirement_met\": count(input.things) == 0} if is_array(input.things)\nresults contains {\"id\": \"DEMO.1\", \"requirement_met\": false} if not is_array(input.things)\n";

fn files(product: &str, rules: &str) -> PackFiles {
    let mut files = BTreeMap::new();
    files.insert("pack.yaml".to_string(), PACK.to_string());
    files.insert("p/product.yaml".to_string(), product.to_string());
    files.insert("p/rules.rego".to_string(), rules.to_string());
    PackFiles {
        origin: "test".into(),
        files,
    }
}

fn invalid(product_controls: &str) -> String {
    let err =
        Pack::from_files(files(&format!("{PRODUCT_HEAD}{product_controls}"), RULES)).unwrap_err();
    err.to_string()
}

#[test]
fn a_good_pack_loads_and_evaluates() {
    let pack = Pack::from_files(files(&format!("{PRODUCT_HEAD}{GOOD_CONTROL}"), RULES)).unwrap();
    let mut engine = Engine::new();
    engine.add_pack(pack).unwrap();
    let input = mamori_policy::Value::from_json_str(r#"{"things": [1]}"#).unwrap();
    let e = engine.evaluate(
        "x",
        mamori_core::snapshot::SourceKind::Scubagear,
        input,
        &Default::default(),
    );
    assert_eq!(e.results.len(), 1);
    assert_eq!(e.results[0].status, mamori_core::Status::Fail);
}

#[test]
fn errors_name_file_control_and_field() {
    let cases = [
        (
            GOOD_CONTROL.replace("    severity: high\n", ""),
            "control DEMO.1: field severity",
        ),
        (
            GOOD_CONTROL.replace("ja: タ", "ja: ''"),
            "control DEMO.1: field title.ja",
        ),
        (
            GOOD_CONTROL.replace("    permissions: [Read]\n", ""),
            "control DEMO.1: field permissions",
        ),
        (
            GOOD_CONTROL.replace("    references: [https://example.org]\n", ""),
            "field references",
        ),
        (
            GOOD_CONTROL.replace("sections: [things]", "sections: [other]"),
            "field sections",
        ),
        (
            format!("{GOOD_CONTROL}{GOOD_CONTROL}"),
            "duplicate control id",
        ),
        (
            GOOD_CONTROL.replace("criticality: shall", "criticality: must"),
            "criticality",
        ),
        (
            GOOD_CONTROL.replace("severity: high", "severity: high\n    colour: red"),
            "unknown field `colour`",
        ),
        (
            GOOD_CONTROL.replace("    permissions: [Read]\n", "    automated: false\n"),
            "field manual_procedure",
        ),
    ];
    for (controls, expected) in cases {
        let message = invalid(&controls);
        assert!(message.contains("test/p/product.yaml"), "{message}");
        assert!(
            message.contains(expected),
            "{message:?} should contain {expected:?}"
        );
    }
}

#[test]
fn broken_rego_is_refused_at_load() {
    let pack = Pack::from_files(files(
        &format!("{PRODUCT_HEAD}{GOOD_CONTROL}"),
        "package mamori.demo.p\nresults contains x if {",
    ))
    .unwrap();
    let err = Engine::new().add_pack(pack).unwrap_err();
    assert!(matches!(err, PackError::Rego { .. }), "{err}");
}

#[test]
fn a_missing_product_file_is_named() {
    let mut f = files(&format!("{PRODUCT_HEAD}{GOOD_CONTROL}"), RULES);
    f.files.remove("p/product.yaml");
    let err = Pack::from_files(f).unwrap_err().to_string();
    assert!(err.contains("p/product.yaml is missing"), "{err}");
}

#[test]
fn missing_or_misshapen_sections_are_errors_not_passes() {
    let pack = Pack::from_files(files(&format!("{PRODUCT_HEAD}{GOOD_CONTROL}"), RULES)).unwrap();
    let mut engine = Engine::new();
    engine.add_pack(pack).unwrap();
    let options = mamori_policy::EvalOptions {
        products: vec!["p".into()],
        ..Default::default()
    };
    for (input, needle) in [
        (r#"{}"#, "not collected"),
        (r#"{"things": "oops"}"#, "wrong shape"),
    ] {
        let e = engine.evaluate(
            "x",
            mamori_core::snapshot::SourceKind::Scubagear,
            mamori_policy::Value::from_json_str(input).unwrap(),
            &options,
        );
        assert_eq!(e.results[0].status, mamori_core::Status::Error, "{input}");
        assert!(
            e.results[0].details.en.contains(needle),
            "{}",
            e.results[0].details.en
        );
        assert!(
            e.results[0].details.ja.contains("セクション"),
            "{}",
            e.results[0].details.ja
        );
    }
}
