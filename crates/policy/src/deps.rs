//! Which input sections each control reads, derived from the Rego it runs.
//!
//! A control may only be judged on data that was collected: the engine reports `error` for a
//! control whose declared sections are missing. Declarations written by hand drift from the
//! rules, so this module reads the rules themselves: every `input.<section>` (or
//! `input["section"]`) reached from the `results` rule that emits a control's id, through the
//! rules and functions it uses, across packages. Tests check the declarations against it, and
//! the engine uses it to parse only the sections the selected products read.
//!
//! Attribution is by the control-id literals in the rules: a `results` rule naming one id gives
//! it everything the rule reads; an object literal keyed by ids (`{"MS.X.1v1": {...}}`) or
//! carrying `"id": "MS.X.1v1"` gives each id what its own entry reads plus what the rule reads
//! outside such entries. Reading `input` as a whole counts as reading every section.

use crate::pack::Pack;
use crate::PackError;
use regorus::unstable::{Expr, Literal, Module, Parser, Query, Rule, RuleHead};
use regorus::Source;
use std::collections::{BTreeMap, BTreeSet};

/// What a control reads from the input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reads {
    pub sections: BTreeSet<String>,
    /// `input` used as a whole (iterated, indexed by a variable): every section.
    pub whole_input: bool,
    /// `input` handed whole to a function that looks through whatever sections exist (e.g. the
    /// admin logs of any product); such a scan finds nothing when they are absent.
    pub scans_input: bool,
}

impl Reads {
    fn extend(&mut self, other: &Reads) {
        self.sections.extend(other.sections.iter().cloned());
        self.whole_input |= other.whole_input;
        self.scans_input |= other.scans_input;
    }
}

type RuleKey = (String, String);

/// What one expression tree refers to.
#[derive(Debug, Clone, Default)]
struct Refs {
    rules: BTreeSet<RuleKey>,
    input: Reads,
}

impl Refs {
    fn extend(&mut self, other: &Refs) {
        self.rules.extend(other.rules.iter().cloned());
        self.input.extend(&other.input);
    }
}

/// One rule definition (a rule may have several).
#[derive(Debug, Default)]
struct RuleFacts {
    /// Everything outside id-scoped entries.
    unscoped: Refs,
    /// Ids named outside id-scoped entries.
    ids: BTreeSet<String>,
    /// Per id: what its own entry refers to.
    scoped: BTreeMap<String, Refs>,
}

impl RuleFacts {
    fn all_refs(&self) -> Refs {
        let mut all = self.unscoped.clone();
        for r in self.scoped.values() {
            all.extend(r);
        }
        all
    }
}

fn string_literal(e: &Expr) -> Option<String> {
    match e {
        Expr::String { value, .. } | Expr::RawString { value, .. } => {
            value.as_string().ok().map(|s| s.to_string())
        }
        _ => None,
    }
}

fn var_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Var { value, .. } => value.as_string().ok().map(|s| s.to_string()),
        _ => None,
    }
}

/// `a.b.c` as its parts when the expression is a plain dotted reference.
fn dotted(e: &Expr) -> Option<Vec<String>> {
    match e {
        Expr::Var { .. } => Some(vec![var_name(e)?]),
        Expr::RefDot { refr, field, .. } => {
            let mut parts = dotted(refr)?;
            parts.push(field.1.as_string().ok()?.to_string());
            Some(parts)
        }
        Expr::RefBrack { refr, index, .. } => {
            let mut parts = dotted(refr)?;
            parts.push(string_literal(index)?);
            Some(parts)
        }
        _ => None,
    }
}

struct Walker<'a> {
    package: &'a str,
    /// Import aliases: `lib` → `mamori.m365.lib`.
    aliases: &'a BTreeMap<String, String>,
    /// The control ids of the pack.
    ids: &'a BTreeSet<String>,
    /// Functions of this package that look up `input[<argument n>]` (`section(name)`).
    accessors: &'a BTreeMap<String, usize>,
    /// Walking one of those: its own `input[<parameter>]` is not a read of everything.
    in_accessor: bool,
    /// Rules of this package that are `input` itself (`doc := input if is_object(input)`).
    input_aliases: &'a BTreeSet<String>,
}

/// Built-ins that only test a value's type: `is_object(input)` reads no section.
const TYPE_TESTS: &[&str] = &[
    "is_object",
    "is_array",
    "is_string",
    "is_number",
    "is_boolean",
    "is_null",
    "is_set",
    "type_name",
];

fn is_input(e: &Expr) -> bool {
    var_name(e).as_deref() == Some("input")
}

impl Walker<'_> {
    /// `input` or a rule that is `input` itself.
    fn is_input(&self, e: &Expr) -> bool {
        var_name(e).is_some_and(|v| v == "input" || self.input_aliases.contains(&v))
    }
}

/// The section named by a lookup key: `"name"` or `["name", …]`.
fn key_section(e: &Expr) -> Option<String> {
    match e {
        Expr::Array { items, .. } => items.first().and_then(|i| string_literal(i)),
        other => string_literal(other),
    }
}

impl Walker<'_> {
    fn expr(&self, e: &Expr, facts: &mut RuleFacts, scope: Option<&str>) {
        // A dotted reference: input.<section>, data.<pkg>.<rule>, alias.<rule>, or a rule name.
        if let Some(parts) = dotted(e) {
            self.reference(&parts, facts, scope);
            // Brackets with variable indexes are walked below for their own references.
            if !matches!(e, Expr::RefBrack { .. }) {
                return;
            }
        }
        match e {
            Expr::String { value, .. } | Expr::RawString { value, .. } => {
                if let Ok(s) = value.as_string() {
                    if self.ids.contains(s.as_ref()) && scope.is_none() {
                        facts.ids.insert(s.to_string());
                    }
                }
            }
            Expr::Number { .. } | Expr::Bool { .. } | Expr::Null { .. } | Expr::Var { .. } => {}
            Expr::Array { items, .. } | Expr::Set { items, .. } => {
                for i in items {
                    self.expr(i, facts, scope);
                }
            }
            Expr::Object { fields, .. } => {
                // `"id": "<control>"` scopes the whole object to that control.
                let own_id = fields.iter().find_map(|(_, k, v)| {
                    (string_literal(k).as_deref() == Some("id"))
                        .then(|| string_literal(v))
                        .flatten()
                        .filter(|s| self.ids.contains(s))
                });
                let scope_here = scope.map(str::to_string).or(own_id);
                for (_, k, v) in fields {
                    match string_literal(k).filter(|s| self.ids.contains(s) && scope_here.is_none())
                    {
                        Some(id) => {
                            facts.scoped.entry(id.clone()).or_default();
                            self.expr(v, facts, Some(&id));
                        }
                        None => {
                            self.expr(k, facts, scope_here.as_deref());
                            self.expr(v, facts, scope_here.as_deref());
                        }
                    }
                }
                if let (Some(id), None) = (&scope_here, scope) {
                    facts.scoped.entry(id.clone()).or_default();
                }
            }
            Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
                self.expr(term, facts, scope);
                self.query(query, facts, scope);
            }
            Expr::ObjectCompr {
                key, value, query, ..
            } => {
                self.expr(key, facts, scope);
                self.expr(value, facts, scope);
                self.query(query, facts, scope);
            }
            Expr::Call { fcn, params, .. } => {
                let name = dotted(fcn).map(|p| p.join(".")).unwrap_or_default();
                let first_is_input = params.first().is_some_and(|p| self.is_input(p));
                if first_is_input && TYPE_TESTS.contains(&name.as_str()) {
                    return;
                }
                if first_is_input && params.len() >= 2 {
                    // get(input, "x"), object.get(input, ["x", …], default): one section.
                    if let Some(section) = key_section(&params[1]) {
                        Self::refs(facts, scope).input.sections.insert(section);
                        self.expr(fcn, facts, scope);
                        for p in &params[2..] {
                            self.expr(p, facts, scope);
                        }
                        return;
                    }
                }
                let last = name.rsplit('.').next().unwrap_or_default();
                if let Some(&n) = self.accessors.get(last) {
                    match params.get(n).and_then(|p| string_literal(p)) {
                        Some(section) => {
                            Self::refs(facts, scope).input.sections.insert(section);
                        }
                        // A computed section name: which one is unknown here.
                        None => Self::refs(facts, scope).input.scans_input = true,
                    }
                }
                self.expr(fcn, facts, scope);
                for p in params {
                    if self.is_input(p) {
                        if !self.in_accessor {
                            Self::refs(facts, scope).input.scans_input = true;
                        }
                    } else {
                        self.expr(p, facts, scope);
                    }
                }
            }
            Expr::UnaryExpr { expr, .. } => self.expr(expr, facts, scope),
            Expr::RefDot { refr, .. } => self.expr(refr, facts, scope),
            Expr::RefBrack { refr, index, .. } => {
                if dotted(e).is_none() {
                    if self.is_input(refr) && self.in_accessor {
                        // input[<parameter>] of an accessor: its callers name the section.
                    } else {
                        self.expr(refr, facts, scope);
                    }
                }
                self.expr(index, facts, scope);
            }
            Expr::BinExpr { lhs, rhs, .. }
            | Expr::BoolExpr { lhs, rhs, .. }
            | Expr::ArithExpr { lhs, rhs, .. }
            | Expr::AssignExpr { lhs, rhs, .. } => {
                self.expr(lhs, facts, scope);
                self.expr(rhs, facts, scope);
            }
            Expr::Membership {
                key,
                value,
                collection,
                ..
            } => {
                if let Some(k) = key {
                    self.expr(k, facts, scope);
                }
                self.expr(value, facts, scope);
                self.expr(collection, facts, scope);
            }
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }

    fn refs<'f>(facts: &'f mut RuleFacts, scope: Option<&str>) -> &'f mut Refs {
        match scope {
            Some(id) => facts.scoped.entry(id.to_string()).or_default(),
            None => &mut facts.unscoped,
        }
    }

    fn reference(&self, parts: &[String], facts: &mut RuleFacts, scope: Option<&str>) {
        let refs = Self::refs(facts, scope);
        match parts[0].as_str() {
            "input" => match parts.get(1) {
                Some(section) => {
                    refs.input.sections.insert(section.clone());
                }
                None => refs.input.whole_input = true,
            },
            "data" => {
                // data.<package…>.<rule>: every split point is a candidate (resolved later).
                for split in 2..parts.len() {
                    refs.rules
                        .insert((parts[1..split].join("."), parts[split].clone()));
                }
            }
            alias if self.input_aliases.contains(alias) => match parts.get(1) {
                Some(section) => {
                    refs.input.sections.insert(section.clone());
                }
                None => refs.input.whole_input = true,
            },
            first => {
                if let Some(package) = self.aliases.get(first) {
                    if let Some(rule) = parts.get(1) {
                        refs.rules.insert((package.clone(), rule.clone()));
                    }
                } else {
                    refs.rules
                        .insert((self.package.to_string(), first.to_string()));
                }
            }
        }
    }

    fn query(&self, q: &Query, facts: &mut RuleFacts, scope: Option<&str>) {
        for stmt in &q.stmts {
            match &stmt.literal {
                Literal::SomeVars { .. } => {}
                Literal::SomeIn {
                    key,
                    value,
                    collection,
                    ..
                } => {
                    if let Some(k) = key {
                        self.expr(k, facts, scope);
                    }
                    self.expr(value, facts, scope);
                    if self.is_input(collection) {
                        // `some x in input`: looks through whatever sections exist.
                        Self::refs(facts, scope).input.scans_input = true;
                    } else {
                        self.expr(collection, facts, scope);
                    }
                }
                Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => {
                    self.expr(expr, facts, scope)
                }
                Literal::Every { domain, query, .. } => {
                    self.expr(domain, facts, scope);
                    self.query(query, facts, scope);
                }
            }
            for w in &stmt.with_mods {
                self.expr(&w.refr, facts, scope);
                self.expr(&w.r#as, facts, scope);
            }
        }
    }

    fn rule(&self, rule: &Rule) -> (String, RuleFacts) {
        let mut facts = RuleFacts::default();
        let name = match rule {
            Rule::Spec { head, bodies, .. } => {
                let refr = match head {
                    RuleHead::Compr { refr, assign, .. } => {
                        if let Some(a) = assign {
                            self.expr(&a.value, &mut facts, None);
                        }
                        refr
                    }
                    RuleHead::Set { refr, key, .. } => {
                        if let Some(k) = key {
                            self.expr(k, &mut facts, None);
                        }
                        refr
                    }
                    RuleHead::Func {
                        refr, args, assign, ..
                    } => {
                        for a in args {
                            self.expr(a, &mut facts, None);
                        }
                        if let Some(a) = assign {
                            self.expr(&a.value, &mut facts, None);
                        }
                        refr
                    }
                };
                for body in bodies {
                    if let Some(a) = &body.assign {
                        self.expr(&a.value, &mut facts, None);
                    }
                    self.query(&body.query, &mut facts, None);
                }
                refr
            }
            Rule::Default { refr, value, .. } => {
                self.expr(value, &mut facts, None);
                refr
            }
        };
        // The rule's own name is not a reference to itself.
        let name = dotted(name).map(|p| p.join(".")).unwrap_or_default();
        let first = name.split('.').next().unwrap_or_default().to_string();
        facts
            .unscoped
            .rules
            .remove(&(self.package.to_string(), first.clone()));
        (first, facts)
    }
}

/// The derived reads of every automated control of `pack` (rules of `others`, such as shared
/// libraries in other packs, are followed too). Controls whose id no `results` rule names are
/// absent from the map.
pub fn control_reads(pack: &Pack, others: &[Pack]) -> Result<BTreeMap<String, Reads>, PackError> {
    let ids: BTreeSet<String> = pack.controls().map(|(_, c)| c.id.clone()).collect();
    let mut modules = Vec::new();
    for p in std::iter::once(pack).chain(others.iter().filter(|p| p.id != pack.id)) {
        for (path, source) in &p.modules {
            let module = parse_module(path, source).map_err(|message| PackError::Rego {
                pack: p.id.clone(),
                message,
            })?;
            modules.push(module);
        }
    }
    let mut input_aliases: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for module in &modules {
        for rule in &module.policy {
            if let Rule::Spec {
                head:
                    RuleHead::Compr {
                        refr,
                        assign: Some(a),
                        ..
                    },
                ..
            } = &**rule
            {
                if let (true, Some(name)) = (is_input(&a.value), var_name(refr)) {
                    input_aliases
                        .entry(module_package(module))
                        .or_default()
                        .insert(name);
                }
            }
        }
    }
    let mut accessors = BTreeMap::new();
    for module in &modules {
        let inputs = input_aliases
            .get(&module_package(module))
            .cloned()
            .unwrap_or_default();
        accessors.extend(accessor_functions(module, &inputs));
    }
    let mut rules: BTreeMap<RuleKey, Vec<RuleFacts>> = BTreeMap::new();
    for module in &modules {
        let package_of = module_package(module);
        let input_aliases = input_aliases.get(&package_of).cloned().unwrap_or_default();
        let package = dotted(&module.package.refr)
            .map(|parts| {
                parts
                    .into_iter()
                    .skip_while(|s| s == "data")
                    .collect::<Vec<_>>()
                    .join(".")
            })
            .unwrap_or_default();
        let mut aliases = BTreeMap::new();
        for import in &module.imports {
            if let Some(parts) = dotted(&import.refr) {
                let alias = import
                    .r#as
                    .as_ref()
                    .map(|s| s.text().to_string())
                    .unwrap_or_else(|| parts.last().cloned().unwrap_or_default());
                if parts.first().map(String::as_str) == Some("data") {
                    aliases.insert(alias, parts[1..].join("."));
                }
            }
        }
        for rule in &module.policy {
            let head = match &**rule {
                Rule::Spec {
                    head: RuleHead::Func { refr, .. },
                    ..
                } => dotted(refr).map(|p| p.join(".")),
                _ => None,
            };
            let walker = Walker {
                package: &package,
                aliases: &aliases,
                ids: &ids,
                accessors: &accessors,
                in_accessor: head.is_some_and(|h| accessors.contains_key(&h)),
                input_aliases: &input_aliases,
            };
            let (name, facts) = walker.rule(rule);
            if input_aliases.contains(&name) {
                continue; // `doc := input`: its readers name the sections
            }
            rules
                .entry((package.clone(), name))
                .or_default()
                .push(facts);
        }
    }

    let mut closure_memo: BTreeMap<RuleKey, Reads> = BTreeMap::new();
    let mut out: BTreeMap<String, Reads> = BTreeMap::new();
    for product in &pack.products {
        let key = (product.package.clone(), "results".to_string());
        for facts in rules.get(&key).into_iter().flatten() {
            for (id, reads) in emits(&rules, facts, &mut closure_memo, &mut BTreeSet::new()) {
                out.entry(id).or_default().extend(&reads);
            }
        }
    }
    Ok(out)
}

/// Functions that look up `input[<argument n>]` (`section(name) := object.get(input, name,
/// null)`, `read_log(name, …)` reading `input[name]`): name → argument position. A call with a
/// literal there reads that section.
fn accessor_functions(module: &Module, inputs: &BTreeSet<String>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for rule in &module.policy {
        let Rule::Spec {
            head: RuleHead::Func { refr, args, .. },
            ..
        } = &**rule
        else {
            continue;
        };
        let params: Vec<Option<String>> = args.iter().map(|a| var_name(a)).collect();
        let text = rule_text(rule);
        for (n, p) in params.iter().enumerate() {
            let Some(p) = p else { continue };
            let looks_up = inputs.iter().chain(["input".to_string()].iter()).any(|i| {
                text.contains(&format!("{i}[{p}]"))
                    || text.contains(&format!("object.get({i}, {p},"))
                    || text.contains(&format!("get({i}, {p})"))
            });
            if looks_up {
                if let Some(name) = dotted(refr) {
                    out.insert(name.join("."), n);
                }
            }
        }
    }
    out
}

fn rule_text(rule: &Rule) -> &str {
    match rule {
        Rule::Spec { span, .. } | Rule::Default { span, .. } => span.text(),
    }
}

fn module_package(module: &Module) -> String {
    dotted(&module.package.refr)
        .map(|parts| {
            parts
                .into_iter()
                .skip_while(|s| s == "data")
                .collect::<Vec<_>>()
                .join(".")
        })
        .unwrap_or_default()
}

fn parse_module(path: &str, source: &str) -> Result<Module, String> {
    let source = Source::from_contents(path.to_string(), source.to_string())
        .map_err(|e| format!("{path}: {e}"))?;
    let mut parser = Parser::new(&source).map_err(|e| format!("{path}: {e}"))?;
    parser.parse().map_err(|e| format!("{path}: {e}"))
}

/// Everything reachable from `refs`, through the rules they name.
fn closure(
    rules: &BTreeMap<RuleKey, Vec<RuleFacts>>,
    refs: &Refs,
    memo: &mut BTreeMap<RuleKey, Reads>,
    visiting: &mut BTreeSet<RuleKey>,
) -> Reads {
    let mut reads = refs.input.clone();
    for key in &refs.rules {
        reads.extend(&rule_reads(rules, key, memo, visiting));
    }
    reads
}

fn rule_reads(
    rules: &BTreeMap<RuleKey, Vec<RuleFacts>>,
    key: &RuleKey,
    memo: &mut BTreeMap<RuleKey, Reads>,
    visiting: &mut BTreeSet<RuleKey>,
) -> Reads {
    if let Some(r) = memo.get(key) {
        return r.clone();
    }
    let Some(defs) = rules.get(key) else {
        return Reads::default(); // a local variable or a built-in, not a rule
    };
    if !visiting.insert(key.clone()) {
        return Reads::default(); // recursion is refused by Rego; the cycle adds nothing
    }
    let mut reads = Reads::default();
    for facts in defs {
        reads.extend(&closure(rules, &facts.all_refs(), memo, visiting));
    }
    visiting.remove(key);
    memo.insert(key.clone(), reads.clone());
    reads
}

/// The control ids a rule definition emits (directly or through the id tables it uses) with
/// what each reads. `stack` holds the rules being expanded, so a shared helper is not
/// re-entered.
fn emits(
    rules: &BTreeMap<RuleKey, Vec<RuleFacts>>,
    facts: &RuleFacts,
    memo: &mut BTreeMap<RuleKey, Reads>,
    stack: &mut BTreeSet<RuleKey>,
) -> BTreeMap<String, Reads> {
    let mut out: BTreeMap<String, Reads> = BTreeMap::new();
    let shared = closure(rules, &facts.unscoped, memo, &mut BTreeSet::new());
    for id in &facts.ids {
        let entry = out.entry(id.clone()).or_default();
        entry.extend(&shared);
        for r in facts.scoped.values() {
            entry.extend(&closure(rules, r, memo, &mut BTreeSet::new()));
        }
    }
    for (id, refs) in &facts.scoped {
        let own = closure(rules, refs, memo, &mut BTreeSet::new());
        let entry = out.entry(id.clone()).or_default();
        entry.extend(&shared);
        entry.extend(&own);
    }
    // Ids that come from the rules this one uses (id tables, per-control helpers).
    for key in &facts.unscoped.rules {
        if !stack.insert(key.clone()) {
            continue;
        }
        if let Some(defs) = rules.get(key) {
            for def in defs {
                for (id, reads) in emits(rules, def, memo, stack) {
                    let entry = out.entry(id).or_default();
                    entry.extend(&shared);
                    entry.extend(&reads);
                }
            }
        }
        stack.remove(key);
    }
    out
}
