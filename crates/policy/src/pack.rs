//! Pack format: a folder with `pack.yaml`, one sub-folder per product with `product.yaml`
//! (control metadata) and Rego modules, optional shared Rego anywhere else, and `tests/`.

use mamori_core::snapshot::SourceKind;
use mamori_core::{Criticality, Localized, Severity};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::PackError;

/// The files of a pack, read from disk or from the binary. Paths are relative to the pack root
/// and use `/` separators.
#[derive(Debug, Clone, Default)]
pub struct PackFiles {
    /// Where the files came from, for messages (`builtin:m365` or a directory).
    pub origin: String,
    pub files: BTreeMap<String, String>,
}

impl PackFiles {
    pub fn from_dir(dir: &Path) -> Result<Self, PackError> {
        let mut files = BTreeMap::new();
        walk(dir, dir, &mut files)?;
        Ok(PackFiles {
            origin: dir.display().to_string(),
            files,
        })
    }

    pub fn from_embedded(dir: &include_dir::Dir<'_>, origin: &str) -> Result<Self, PackError> {
        let mut files = BTreeMap::new();
        collect_embedded(dir, &mut files, origin)?;
        Ok(PackFiles {
            origin: origin.to_string(),
            files,
        })
    }

    fn display(&self, rel: &str) -> String {
        format!("{}/{}", self.origin.trim_end_matches('/'), rel)
    }
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> Result<(), PackError> {
    let entries = std::fs::read_dir(dir).map_err(|e| PackError::Io {
        path: dir.to_owned(),
        message: e.to_string(),
    })?;
    for entry in entries {
        let entry = entry.map_err(|e| PackError::Io {
            path: dir.to_owned(),
            message: e.to_string(),
        })?;
        let path = entry.path();
        if path.is_dir() {
            walk(root, &path, out)?;
        } else if is_pack_file(&path) {
            let text = std::fs::read_to_string(&path).map_err(|e| PackError::Io {
                path: path.clone(),
                message: e.to_string(),
            })?;
            let rel = relative(root, &path);
            out.insert(rel, text);
        }
    }
    Ok(())
}

fn collect_embedded(
    dir: &include_dir::Dir<'_>,
    out: &mut BTreeMap<String, String>,
    origin: &str,
) -> Result<(), PackError> {
    for file in dir.files() {
        if is_pack_file(file.path()) {
            let text = file.contents_utf8().ok_or_else(|| PackError::Io {
                path: PathBuf::from(origin).join(file.path()),
                message: "not UTF-8".into(),
            })?;
            // Embedded paths are relative to the packs/ root; strip the pack folder.
            let rel: PathBuf = file.path().components().skip(1).collect();
            out.insert(rel.to_string_lossy().replace('\\', "/"), text.to_string());
        }
    }
    for sub in dir.dirs() {
        collect_embedded(sub, out, origin)?;
    }
    Ok(())
}

fn is_pack_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("rego" | "yaml" | "yml" | "json")
    )
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// `pack.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackManifest {
    id: String,
    name: Localized,
    #[serde(default)]
    description: Option<Localized>,
    version: String,
    input: SourceKind,
    /// Product folders, in report order.
    products: Vec<String>,
    /// Expected JSON type of each top-level input section the controls read.
    #[serde(default)]
    sections: BTreeMap<String, SectionType>,
    /// Sections the rules read that may be absent by design (configuration, licence flags,
    /// exclusion lists), each with why absence is handled; all other sections a control's rules
    /// read must be among its declared `sections` (checked by the tests against the Rego).
    #[serde(default)]
    optional_sections: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SectionType {
    Array,
    Object,
    Boolean,
    String,
    Number,
    Any,
}

impl SectionType {
    pub fn as_str(self) -> &'static str {
        match self {
            SectionType::Array => "array",
            SectionType::Object => "object",
            SectionType::Boolean => "boolean",
            SectionType::String => "string",
            SectionType::Number => "number",
            SectionType::Any => "any",
        }
    }
}

/// `<product>/product.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductFile {
    id: String,
    name: Localized,
    /// Rego package whose `results` rule holds this product's verdicts.
    package: String,
    /// Input key listing the provider commands that succeeded (ScubaGear).
    #[serde(default)]
    commands_key: Option<String>,
    /// Input key listing the provider commands that failed (ScubaGear).
    #[serde(default)]
    unsuccessful_commands_key: Option<String>,
    /// Expected JSON type of sections only this product reads (added to pack.yaml's).
    #[serde(default)]
    sections: BTreeMap<String, SectionType>,
    controls: Vec<ControlFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ControlFile {
    id: Option<String>,
    criticality: Option<Criticality>,
    severity: Option<Severity>,
    #[serde(default = "yes")]
    automated: bool,
    title: Option<Localized>,
    remediation: Option<Localized>,
    #[serde(default)]
    manual_procedure: Option<Localized>,
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default)]
    commands: Vec<String>,
    #[serde(default)]
    sections: Vec<String>,
    #[serde(default)]
    optional_sections: Vec<String>,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    frameworks: BTreeMap<String, Vec<String>>,
}

fn yes() -> bool {
    true
}

/// A validated control.
#[derive(Debug, Clone)]
pub struct Control {
    pub id: String,
    pub criticality: Criticality,
    pub severity: Severity,
    /// False for policies the baseline marks as not automatable: reported as `manual`.
    pub automated: bool,
    pub title: Localized,
    pub remediation: Localized,
    pub manual_procedure: Option<Localized>,
    /// API permissions (Graph scopes, admin roles) the collector needs for this control.
    pub permissions: Vec<String>,
    /// Provider commands whose output the control reads (ScubaGear `*_successful_commands`).
    pub commands: Vec<String>,
    /// Top-level input sections the control reads.
    pub sections: Vec<String>,
    /// Sections its rules also read whose absence the rules handle themselves (an alternative
    /// source, or a verdict that says what is missing); never used to pass on missing data (the
    /// section-deletion test checks it).
    pub optional_sections: Vec<String>,
    pub references: Vec<String>,
    pub frameworks: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Product {
    pub id: String,
    pub name: Localized,
    pub package: String,
    pub commands_key: Option<String>,
    pub unsuccessful_commands_key: Option<String>,
    pub controls: Vec<Control>,
}

impl Product {
    /// Whether an input carries this product. An export that lists provider commands
    /// (ScubaGear's `<product>_successful_commands`) names the products that ran: then only those
    /// count. Otherwise (a hand-made fragment) any section a control reads makes it present.
    pub fn present_in(&self, has_key: impl Fn(&str) -> bool, export_lists_commands: bool) -> bool {
        if export_lists_commands {
            if let Some(key) = &self.commands_key {
                return has_key(key);
            }
        }
        self.controls
            .iter()
            .flat_map(|c| c.sections.iter())
            .any(|s| has_key(s))
    }
}

/// A loaded, validated pack.
#[derive(Debug, Clone)]
pub struct Pack {
    pub id: String,
    pub name: Localized,
    pub description: Option<Localized>,
    pub version: String,
    pub input: SourceKind,
    pub origin: String,
    pub products: Vec<Product>,
    pub sections: BTreeMap<String, SectionType>,
    /// Sections the rules may read that are absent by design, with the reason.
    pub optional_sections: BTreeMap<String, String>,
    /// (display path, source) of every Rego module outside `tests/`.
    pub modules: Vec<(String, String)>,
}

impl Pack {
    pub fn controls(&self) -> impl Iterator<Item = (&Product, &Control)> {
        self.products
            .iter()
            .flat_map(|p| p.controls.iter().map(move |c| (p, c)))
    }

    pub fn find_control(&self, id: &str) -> Option<(&Product, &Control)> {
        self.controls().find(|(_, c)| c.id == id)
    }

    /// Parses and validates a pack; every problem names file, control and field.
    pub fn from_files(files: PackFiles) -> Result<Pack, PackError> {
        let manifest_text = files
            .files
            .get("pack.yaml")
            .ok_or_else(|| PackError::Invalid {
                file: files.display("pack.yaml"),
                control: None,
                field: None,
                message: "missing pack.yaml".into(),
            })?;
        let manifest: PackManifest =
            serde_norway::from_str(manifest_text).map_err(|e| PackError::Invalid {
                file: files.display("pack.yaml"),
                control: None,
                field: None,
                message: e.to_string(),
            })?;
        if !valid_ident(&manifest.id) {
            return Err(PackError::Invalid {
                file: files.display("pack.yaml"),
                control: None,
                field: Some("id".into()),
                message: format!(
                    "{:?} is not a valid pack id (lowercase letters, digits, - and _)",
                    manifest.id
                ),
            });
        }
        check_localized(&files.display("pack.yaml"), None, "name", &manifest.name)?;

        let mut products = Vec::new();
        let mut sections = manifest.sections.clone();
        let mut seen_ids: BTreeMap<String, String> = BTreeMap::new();
        for product_dir in &manifest.products {
            let rel = format!("{product_dir}/product.yaml");
            let file = files.display(&rel);
            let text = files.files.get(&rel).ok_or_else(|| PackError::Invalid {
                file: file.clone(),
                control: None,
                field: None,
                message: format!("pack.yaml lists product {product_dir:?} but {rel} is missing"),
            })?;
            let parsed: ProductFile =
                serde_norway::from_str(text).map_err(|e| PackError::Invalid {
                    file: file.clone(),
                    control: None,
                    field: None,
                    message: e.to_string(),
                })?;
            for (name, kind) in &parsed.sections {
                if let Some(previous) = sections.insert(name.clone(), *kind) {
                    if previous != *kind {
                        return Err(PackError::Invalid {
                            file: file.clone(),
                            control: None,
                            field: Some(format!("sections.{name}")),
                            message: format!(
                                "declared as {} elsewhere in the pack",
                                previous.as_str()
                            ),
                        });
                    }
                }
            }
            let product = validate_product(&file, parsed, &sections, &mut seen_ids)?;
            products.push(product);
        }

        // Rules of the listed products plus the shared `lib/`; a product folder not listed in
        // pack.yaml (work in progress) is not compiled.
        let in_scope = |rel: &str| {
            rel.starts_with("lib/")
                || manifest.products.iter().any(|p| {
                    rel.strip_prefix(p.as_str())
                        .is_some_and(|r| r.starts_with('/'))
                })
        };
        let modules = files
            .files
            .iter()
            .filter(|(rel, _)| rel.ends_with(".rego") && in_scope(rel))
            .map(|(rel, src)| (files.display(rel), src.clone()))
            .collect();

        Ok(Pack {
            id: manifest.id,
            name: manifest.name,
            description: manifest.description,
            version: manifest.version,
            input: manifest.input,
            origin: files.origin,
            products,
            sections,
            optional_sections: manifest.optional_sections,
            modules,
        })
    }
}

fn valid_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn valid_control_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
}

fn check_localized(
    file: &str,
    control: Option<&str>,
    field: &str,
    text: &Localized,
) -> Result<(), PackError> {
    for (lang, value) in [("en", &text.en), ("ja", &text.ja)] {
        if value.trim().is_empty() {
            return Err(PackError::Invalid {
                file: file.to_string(),
                control: control.map(str::to_string),
                field: Some(format!("{field}.{lang}")),
                message: "must not be empty".into(),
            });
        }
    }
    Ok(())
}

fn validate_product(
    file: &str,
    parsed: ProductFile,
    sections: &BTreeMap<String, SectionType>,
    seen_ids: &mut BTreeMap<String, String>,
) -> Result<Product, PackError> {
    let invalid = |control: Option<&str>, field: &str, message: String| PackError::Invalid {
        file: file.to_string(),
        control: control.map(str::to_string),
        field: Some(field.to_string()),
        message,
    };
    if !valid_ident(&parsed.id) {
        return Err(invalid(
            None,
            "id",
            format!("{:?} is not a valid product id", parsed.id),
        ));
    }
    check_localized(file, None, "name", &parsed.name)?;
    if parsed.package.is_empty() || parsed.package.split('.').any(|p| p.is_empty()) {
        return Err(invalid(
            None,
            "package",
            "must be a Rego package path".into(),
        ));
    }
    let mut controls = Vec::new();
    for (index, c) in parsed.controls.into_iter().enumerate() {
        let id = c
            .id
            .clone()
            .ok_or_else(|| invalid(Some(&format!("#{}", index + 1)), "id", "is required".into()))?;
        if !valid_control_id(&id) {
            return Err(invalid(
                Some(&id),
                "id",
                "must be letters, digits, '.', '-' or '_'".into(),
            ));
        }
        if let Some(previous) = seen_ids.insert(id.clone(), file.to_string()) {
            return Err(invalid(
                Some(&id),
                "id",
                format!("duplicate control id (also in {previous})"),
            ));
        }
        let criticality = c.criticality.ok_or_else(|| {
            invalid(
                Some(&id),
                "criticality",
                "is required (shall or should)".into(),
            )
        })?;
        let severity = c.severity.ok_or_else(|| {
            invalid(
                Some(&id),
                "severity",
                "is required (critical, high, medium, low, info)".into(),
            )
        })?;
        let title = c
            .title
            .ok_or_else(|| invalid(Some(&id), "title", "is required with en and ja".into()))?;
        check_localized(file, Some(&id), "title", &title)?;
        let remediation = c.remediation.ok_or_else(|| {
            invalid(
                Some(&id),
                "remediation",
                "is required with en and ja".into(),
            )
        })?;
        check_localized(file, Some(&id), "remediation", &remediation)?;
        if let Some(proc_) = &c.manual_procedure {
            check_localized(file, Some(&id), "manual_procedure", proc_)?;
        }
        if !c.automated && c.manual_procedure.is_none() {
            return Err(invalid(
                Some(&id),
                "manual_procedure",
                "is required when automated is false".into(),
            ));
        }
        if c.automated && c.permissions.is_empty() {
            return Err(invalid(
                Some(&id),
                "permissions",
                "an automated control must name the API permission it needs".into(),
            ));
        }
        if c.references.is_empty() {
            return Err(invalid(
                Some(&id),
                "references",
                "at least one reference is required".into(),
            ));
        }
        for (field, section) in c
            .sections
            .iter()
            .map(|s| ("sections", s))
            .chain(c.optional_sections.iter().map(|s| ("optional_sections", s)))
        {
            if !sections.contains_key(section) {
                return Err(invalid(
                    Some(&id),
                    field,
                    format!("section {section:?} is not declared in pack.yaml sections"),
                ));
            }
        }
        controls.push(Control {
            id,
            criticality,
            severity,
            automated: c.automated,
            title,
            remediation,
            manual_procedure: c.manual_procedure,
            permissions: c.permissions,
            commands: c.commands,
            sections: c.sections,
            optional_sections: c.optional_sections,
            references: c.references,
            frameworks: c.frameworks,
        });
    }
    let unique: BTreeSet<_> = controls.iter().map(|c| &c.id).collect();
    debug_assert_eq!(unique.len(), controls.len());
    Ok(Product {
        id: parsed.id,
        name: parsed.name,
        package: parsed.package,
        commands_key: parsed.commands_key,
        unsuccessful_commands_key: parsed.unsuccessful_commands_key,
        controls,
    })
}
