//! The engine: compiled packs plus the status layering on top of the rules' verdicts.

use crate::config::EvalConfig;
use crate::pack::{Control, Pack, PackFiles, Product, SectionType};
use crate::{PackError, BUILTIN_PACKS};
use mamori_core::snapshot::{Snapshot, SnapshotError, SourceKind};
use mamori_core::{ControlResult, Criticality, Evaluation, Localized, Status};
use regorus::Value;
use std::collections::BTreeMap;

/// Options of one evaluation.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub config: EvalConfig,
    /// The day omissions are checked against (the operator's local date).
    pub today: jiff::civil::Date,
    /// Only these products (e.g. `aad`), or all when empty.
    pub products: Vec<String>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            config: EvalConfig::default(),
            today: jiff::Zoned::now().date(),
            products: Vec::new(),
        }
    }
}

/// Compiled packs. Cloning a compiled engine per input is cheap; compiling is not, so one
/// `Engine` serves any number of inputs.
#[derive(Clone)]
pub struct Engine {
    packs: Vec<Pack>,
    rego: regorus::Engine,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

/// Inputs larger than this are freed on a background thread after evaluation.
const BACKGROUND_DROP_BYTES: usize = 8 << 20;

/// One verdict emitted by a rule.
struct Verdict {
    requirement_met: bool,
    not_applicable: bool,
    details: Option<Localized>,
    resources: Vec<String>,
}

impl Engine {
    /// An engine with no packs.
    pub fn new() -> Self {
        Engine {
            packs: Vec::new(),
            rego: new_rego(),
        }
    }

    /// An engine with every pack shipped in the binary.
    pub fn with_builtin_packs() -> Result<Self, PackError> {
        let mut engine = Engine::new();
        engine.add_packs(builtin_packs()?)?;
        Ok(engine)
    }

    /// An engine with the built-in packs that read `kind` (all of them for a Mamori snapshot,
    /// whose schema is only known once read): a one-shot evaluation compiles no more Rego than
    /// it runs.
    pub fn with_builtin_packs_for(kind: SourceKind) -> Result<Self, PackError> {
        let mut engine = Engine::new();
        engine.add_packs(
            builtin_packs()?
                .into_iter()
                .filter(|p| kind == SourceKind::Mamori || p.input == kind),
        )?;
        Ok(engine)
    }

    pub fn packs(&self) -> &[Pack] {
        &self.packs
    }

    /// Adds a pack, replacing a loaded pack with the same id. Compiles its Rego and runs each
    /// product's rules once on an empty input, so a broken pack is refused at load.
    pub fn add_pack(&mut self, pack: Pack) -> Result<(), PackError> {
        self.add_packs([pack])
    }

    /// Adds several packs with one compilation (each [`Engine::add_pack`] recompiles everything
    /// loaded so far).
    pub fn add_packs(&mut self, added: impl IntoIterator<Item = Pack>) -> Result<(), PackError> {
        let mut packs = self.packs.clone();
        let mut new_ids = Vec::new();
        for pack in added {
            packs.retain(|p| p.id != pack.id);
            new_ids.push(pack.id.clone());
            packs.push(pack);
        }
        let mut rego = new_rego();
        for p in &packs {
            for (path, source) in &p.modules {
                rego.add_policy(path.clone(), source.clone())
                    .map_err(|e| PackError::Rego {
                        pack: p.id.clone(),
                        message: format!("{e:#}"),
                    })?;
            }
        }
        // Evaluating on the stored engine (not a clone) also leaves it prepared, so the clones
        // made per input skip regorus' analysis of the modules.
        rego.set_input(Value::new_object());
        for added in packs.iter().filter(|p| new_ids.contains(&p.id)) {
            for product in &added.products {
                rego.eval_rule(format!("data.{}.results", product.package))
                    .map_err(|e| PackError::Rego {
                        pack: added.id.clone(),
                        message: format!("product {}: {e:#}", product.id),
                    })?;
            }
        }
        self.packs = packs;
        self.rego = rego;
        Ok(())
    }

    /// Evaluates one snapshot with the packs of its schema: the single evaluation entry of the
    /// CLI, the scan worker and the benchmarks. Results are named after `snapshot.name`. Fails
    /// only when the data cannot be parsed into the engine's value (it was checked when read).
    pub fn evaluate_snapshot(
        &self,
        snapshot: &Snapshot,
        options: &EvalOptions,
    ) -> Result<Evaluation, SnapshotError> {
        let input = parse_snapshot(snapshot)?;
        let (evaluation, input) =
            self.evaluate_owned(&snapshot.name, snapshot.schema, input, options);
        drop_large(input, snapshot.data_json().len());
        Ok(evaluation)
    }

    /// [`Engine::evaluate_snapshot`], freeing the snapshot's text as soon as it is parsed, so a
    /// large export's bytes are not held through the evaluation beside its parsed tree.
    pub fn evaluate_snapshot_owned(
        &self,
        snapshot: Snapshot,
        options: &EvalOptions,
    ) -> Result<Evaluation, SnapshotError> {
        let input = parse_snapshot(&snapshot)?;
        let (name, schema, size) = (
            snapshot.name.clone(),
            snapshot.schema,
            snapshot.data_json().len(),
        );
        drop(snapshot);
        let (evaluation, input) = self.evaluate_owned(&name, schema, input, options);
        drop_large(input, size);
        Ok(evaluation)
    }

    /// Evaluates every pack that reads `kind` on `input` (prefer [`Engine::evaluate_snapshot`];
    /// this is for values built in memory, such as test cases). Never fails: a rule that errors turns
    /// the controls of its product into `error` results naming the problem.
    pub fn evaluate(
        &self,
        source: &str,
        kind: SourceKind,
        input: Value,
        options: &EvalOptions,
    ) -> Evaluation {
        self.evaluate_owned(source, kind, input, options).0
    }

    /// [`Engine::evaluate`], handing the input back so the caller decides when to free it.
    fn evaluate_owned(
        &self,
        source: &str,
        kind: SourceKind,
        mut input: Value,
        options: &EvalOptions,
    ) -> (Evaluation, Value) {
        merge_scuba_config(&mut input, &options.config);
        let mut selected: Vec<(&Pack, &Product)> = Vec::new();
        for pack in self.packs.iter().filter(|p| p.input == kind) {
            let lists_commands = pack.products.iter().any(|p| {
                p.commands_key
                    .as_deref()
                    .is_some_and(|k| input_get(&input, k).is_some())
            });
            for product in &pack.products {
                let wanted = if options.products.is_empty() {
                    product.present_in(|k| input_get(&input, k).is_some(), lists_commands)
                } else {
                    options
                        .products
                        .iter()
                        .any(|p| p.eq_ignore_ascii_case(&product.id))
                };
                if wanted {
                    selected.push((pack, product));
                }
            }
        }
        // Products are independent: each runs on its own clone of the compiled engine, in
        // parallel (a large tenant's Entra ID rules no longer hold up everything else).
        let verdicts: Vec<Result<BTreeMap<String, Vec<Verdict>>, String>> =
            std::thread::scope(|scope| {
                let handles: Vec<_> = selected
                    .iter()
                    .map(|(_, product)| {
                        let mut rego = self.rego.clone();
                        let input = input.clone();
                        scope.spawn(move || {
                            rego.set_input(input);
                            rego.eval_rule(format!("data.{}.results", product.package))
                                .map_err(|e| format!("{e:#}"))
                                .and_then(|v| parse_verdicts(&v))
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join()
                            .unwrap_or_else(|_| Err("the rule evaluation panicked".to_string()))
                    })
                    .collect()
            });
        let mut results = Vec::new();
        for ((pack, product), verdicts) in selected.iter().zip(&verdicts) {
            for control in &product.controls {
                results.push(judge(pack, product, control, verdicts, &input, options));
            }
        }
        let evaluation = Evaluation {
            source: source.to_string(),
            results,
            frameworks: Vec::new(),
        };
        (evaluation, input)
    }
}

/// The snapshot's data parsed into the engine's value, every section checked.
fn parse_snapshot(snapshot: &Snapshot) -> Result<Value, SnapshotError> {
    crate::input::parse_members(snapshot.data_json(), snapshot.members(), &|_| true).map_err(|e| {
        SnapshotError::Json {
            path: snapshot.name.clone().into(),
            message: e.to_string(),
        }
    })
}

/// Frees a large input on a background thread: releasing a large tenant's millions of values
/// takes a tenth of a second or more, and nobody needs to wait for it (a one-shot CLI exits
/// before it is done).
fn drop_large(input: Value, size: usize) {
    if size > BACKGROUND_DROP_BYTES {
        std::thread::spawn(move || drop(input));
    }
}

fn new_rego() -> regorus::Engine {
    let mut rego = regorus::Engine::new();
    rego.set_strict_builtin_errors(false);
    rego
}

/// The packs compiled into this binary, validated.
pub fn builtin_packs() -> Result<Vec<Pack>, PackError> {
    let mut packs = Vec::new();
    for dir in BUILTIN_PACKS.dirs() {
        if dir.get_file(dir.path().join("pack.yaml")).is_none() {
            continue;
        }
        let name = dir.path().to_string_lossy().to_string();
        let files = PackFiles::from_embedded(dir, &format!("builtin:{name}"))?;
        packs.push(Pack::from_files(files)?);
    }
    Ok(packs)
}

fn merge_scuba_config(input: &mut Value, config: &EvalConfig) {
    if config.scuba_config.is_empty() {
        return;
    }
    let Ok(root) = input.as_object_mut() else {
        return;
    };
    let key = Value::from("scuba_config");
    let mut merged = match root.get(&key) {
        Some(existing @ Value::Object(_)) => existing.clone(),
        _ => Value::new_object(),
    };
    if let Ok(map) = merged.as_object_mut() {
        for (k, v) in &config.scuba_config {
            map.insert(Value::from(k.as_str()), Value::from(v.clone()));
        }
    }
    root.insert(key, merged);
}

fn parse_verdicts(value: &Value) -> Result<BTreeMap<String, Vec<Verdict>>, String> {
    let mut map: BTreeMap<String, Vec<Verdict>> = BTreeMap::new();
    let items: Vec<&Value> = match value {
        Value::Undefined => return Ok(map),
        Value::Set(s) => s.iter().collect(),
        Value::Array(a) => a.iter().collect(),
        other => {
            return Err(format!(
                "`results` must be a set or array, found {}",
                type_name(other)
            ))
        }
    };
    for item in items {
        let Ok(obj) = item.as_object() else {
            return Err("each entry of `results` must be an object".into());
        };
        let get = |k: &str| obj.get(&Value::from(k));
        let id = match get("id") {
            Some(Value::String(s)) => s.to_string(),
            _ => return Err("a result has no string `id`".into()),
        };
        let requirement_met = match get("requirement_met") {
            Some(Value::Bool(b)) => *b,
            _ => return Err(format!("result {id} has no boolean `requirement_met`")),
        };
        let not_applicable = matches!(get("not_applicable"), Some(Value::Bool(true)));
        let details = match get("details") {
            Some(Value::Object(d)) => {
                let text = |lang: &str| match d.get(&Value::from(lang)) {
                    Some(Value::String(s)) => s.to_string(),
                    _ => String::new(),
                };
                Some(Localized::new(text("en"), text("ja")))
            }
            Some(Value::String(s)) => Some(Localized::new(s.to_string(), s.to_string())),
            _ => None,
        };
        let resources = match get("resources") {
            Some(Value::Array(a)) => a.iter().map(display_value).collect(),
            Some(Value::Set(s)) => s.iter().map(display_value).collect(),
            _ => Vec::new(),
        };
        map.entry(id).or_default().push(Verdict {
            requirement_met,
            not_applicable,
            details,
            resources,
        });
    }
    Ok(map)
}

fn display_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        other => other.to_json_str().unwrap_or_default(),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Set(_) => "set",
        Value::Object(_) => "object",
        Value::Undefined => "undefined",
    }
}

fn matches_type(v: &Value, t: SectionType) -> bool {
    matches!(
        (t, v),
        (SectionType::Any, _)
            | (SectionType::Array, Value::Array(_))
            | (SectionType::Object, Value::Object(_))
            | (SectionType::Boolean, Value::Bool(_))
            | (SectionType::String, Value::String(_))
            | (SectionType::Number, Value::Number(_))
    )
}

/// Why Mamori's connector could not collect a section (HTTP status, missing permission), from
/// the snapshot's `mamori_collection` table.
fn collection_reason(input: &Value, section: &str) -> Option<String> {
    input_get(input, "mamori_collection")
        .and_then(|c| input_get(c, section))
        .and_then(|o| input_get(o, "reason"))
        .and_then(|r| r.as_string().ok().map(|s| s.to_string()))
}

fn input_get<'a>(input: &'a Value, key: &str) -> Option<&'a Value> {
    input.as_object().ok()?.get(&Value::from(key))
}

fn string_list(v: Option<&Value>) -> Option<Vec<String>> {
    match v? {
        Value::Array(a) => Some(
            a.iter()
                .filter_map(|x| x.as_string().ok().map(|s| s.to_string()))
                .collect(),
        ),
        _ => None,
    }
}

/// Why the data a control needs is missing, if it is.
fn missing_data(
    product: &Product,
    control: &Control,
    pack: &Pack,
    input: &Value,
) -> Option<(Localized, bool)> {
    // A provider command that did not succeed: the reference fails the policy.
    if let Some(key) = &product.commands_key {
        let succeeded = string_list(input_get(input, key));
        let failed = product
            .unsuccessful_commands_key
            .as_ref()
            .and_then(|k| string_list(input_get(input, k)))
            .unwrap_or_default();
        if let Some(succeeded) = succeeded {
            for command in &control.commands {
                // `A|B`: older and newer provider versions name the same command differently.
                let ok = command.split('|').any(|alt| {
                    succeeded.iter().any(|s| s == alt) && !failed.iter().any(|f| f == alt)
                });
                if !ok {
                    let why = control
                        .sections
                        .iter()
                        .find_map(|s| collection_reason(input, s))
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default();
                    return Some((
                        Localized::new(
                            format!("The provider command {command} did not succeed, so the data this control needs was not collected{why}."),
                            format!("プロバイダーのコマンド {command} が成功しなかったため、このコントロールに必要なデータを収集できませんでした{why}。"),
                        ),
                        true,
                    ));
                }
            }
        }
    }
    for section in &control.sections {
        match input_get(input, section) {
            None | Some(Value::Undefined) => {
                return Some((
                    match collection_reason(input, section) {
                        Some(reason) => Localized::new(
                            format!("Section `{section}` was not collected: {reason}"),
                            format!("セクション `{section}` を収集できませんでした: {reason}"),
                        ),
                        None => Localized::new(
                            format!("Section `{section}` was not collected."),
                            format!("セクション `{section}` が収集されていません。"),
                        ),
                    },
                    false,
                ));
            }
            Some(value) => {
                let expected = pack
                    .sections
                    .get(section)
                    .copied()
                    .unwrap_or(SectionType::Any);
                if !matches_type(value, expected) {
                    return Some((
                        Localized::new(
                            format!(
                                "Section `{section}` has the wrong shape: expected {}, found {}.",
                                expected.as_str(),
                                type_name(value)
                            ),
                            format!(
                                "セクション `{section}` の形式が不正です（期待: {}、実際: {}）。",
                                expected.as_str(),
                                type_name(value)
                            ),
                        ),
                        false,
                    ));
                }
            }
        }
    }
    None
}

fn judge(
    pack: &Pack,
    product: &Product,
    control: &Control,
    verdicts: &Result<BTreeMap<String, Vec<Verdict>>, String>,
    input: &Value,
    options: &EvalOptions,
) -> ControlResult {
    let mut result = ControlResult {
        id: control.id.clone(),
        pack: pack.id.clone(),
        product: product.id.clone(),
        product_name: product.name.clone(),
        title: control.title.clone(),
        status: Status::Error,
        requirement_met: false,
        criticality: control.criticality,
        severity: control.severity,
        details: Localized::default(),
        resources: Vec::new(),
        remediation: control.remediation.clone(),
        references: control.references.clone(),
    };

    if !control.automated {
        result.status = Status::Manual;
        result.details = control.manual_procedure.clone().unwrap_or_else(|| {
            Localized::new(
                "Check this setting by hand.",
                "この設定は手動で確認してください。",
            )
        });
        return result;
    }

    let verdict = match verdicts {
        Err(message) => Err(Localized::new(
            format!(
                "The rules for {} could not be evaluated: {message}",
                product.id
            ),
            format!("{} のルールを評価できませんでした: {message}", product.id),
        )),
        Ok(map) => match map.get(&control.id).map(Vec::as_slice) {
            None | Some([]) => Err(Localized::new(
                "The rule produced no verdict for this input.",
                "この入力に対してルールが判定を返しませんでした。",
            )),
            Some([single]) => Ok(single),
            Some(many) => {
                if many
                    .iter()
                    .all(|v| v.requirement_met == many[0].requirement_met)
                {
                    Ok(&many[0])
                } else {
                    Err(Localized::new(
                        "The rule produced conflicting verdicts.",
                        "ルールが矛盾する判定を返しました。",
                    ))
                }
            }
        },
    };

    match &verdict {
        Ok(v) => {
            result.requirement_met = v.requirement_met;
            result.resources = v.resources.clone();
            result.details = v.details.clone().unwrap_or_else(|| default_details(v));
        }
        Err(why) => result.details = why.clone(),
    }

    // Omissions outrank everything but manual: the operator has decided.
    if let Some(omission) = options.config.omissions.get(&control.id) {
        match omission.expiration {
            Some(expiry) if expiry < options.today => {
                let note = Localized::new(
                    format!(" (The omission expired on {expiry}; the control is evaluated again.)"),
                    format!("（除外設定は {expiry} に期限切れとなったため、再び評価しています。）"),
                );
                result.details.en.push_str(&note.en);
                result.details.ja.push_str(&note.ja);
            }
            _ => {
                result.status = Status::Omitted;
                let until = omission
                    .expiration
                    .map(|d| (format!(" until {d}"), format!("（{d} まで）")))
                    .unwrap_or_default();
                result.details = Localized::new(
                    format!("Omitted by the operator{}: {}", until.0, omission.rationale),
                    format!("運用者により除外{}: {}", until.1, omission.rationale),
                );
                return result;
            }
        }
    }

    if let Some((why, command_failed)) = missing_data(product, control, pack, input) {
        if command_failed {
            result.requirement_met = false;
        }
        result.status = Status::Error;
        result.details = why;
        return result;
    }

    let Ok(v) = verdict else {
        result.status = Status::Error;
        return result;
    };
    result.status = if v.not_applicable {
        Status::NotApplicable
    } else if v.requirement_met {
        Status::Pass
    } else if control.criticality == Criticality::Should {
        Status::Warning
    } else {
        Status::Fail
    };
    result
}

fn default_details(v: &Verdict) -> Localized {
    if v.requirement_met {
        return Localized::new("Requirement met.", "要件を満たしています。");
    }
    if v.resources.is_empty() {
        Localized::new("Requirement not met.", "要件を満たしていません。")
    } else {
        Localized::new(
            format!("Requirement not met: {}", v.resources.join(", ")),
            format!("要件を満たしていません: {}", v.resources.join("、")),
        )
    }
}
