//! Validation of OCSF output against the OCSF JSON schema, by `.ci/ocsf_validate.py` (Python:
//! ocsf-json-schema + jsonschema). `.ci/run` installs them and sets MAMORI_OCSF_PYTHON; without
//! it a plain `python3` that has both is used, else the check prints SKIPPED — except under
//! CI=true, where it fails.

use std::path::Path;
use std::process::Command;

pub fn validate(file: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/ocsf_validate.py");
    let python = match std::env::var("MAMORI_OCSF_PYTHON") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let usable = Command::new("python3")
                .args(["-c", "import jsonschema, ocsf_json_schema"])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            if !usable {
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!(
                        "OCSF validation needs MAMORI_OCSF_PYTHON (set by .ci/run) under CI=true"
                    );
                }
                println!(
                    "SKIPPED: OCSF schema validation (pip install ocsf-json-schema jsonschema)"
                );
                return;
            }
            "python3".into()
        }
    };
    let out = Command::new(&python)
        .arg(&script)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{python} {}: {e}", script.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{}", text.trim());
    assert!(out.status.success(), "OCSF validation failed:\n{text}");
}
