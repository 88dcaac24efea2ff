//! One tenant's detector: the rules compiled per source, correlation state bounded, and the
//! alerts they raise deduplicated by rule and entity within a window.

use crate::error::DetectError;
use crate::fields::FieldFilter;
use crate::record::Record;
use crate::rules::{RuleMeta, RuleSet, AZURE_PIPELINE};
use crate::source::{epoch_text, Event, Source, ENVELOPE};
use crate::stateful::StatefulState;
use crate::{FastMap, FastSet};
use mamori_core::Localized;
use rsigma_eval::{
    CorrelationConfig, CorrelationEngine, CorrelationEventMode, CorrelationSnapshot,
    EvaluationResult, EventValue, ResultBody,
};
use rsigma_parser::LogSource;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;

/// Rule id and entity: what makes two hits one alert.
type DedupKey = (String, Vec<(String, String)>);

/// Google Workspace applications whose Sigma logsource is built once and kept.
const MAX_GWS_APPLICATIONS: usize = 64;

/// Distinct event ids an alert remembers for its count.
const MAX_IDS_COUNTED: usize = 10_000;

/// Limits that keep one tenant's state bounded.
#[derive(Debug, Clone)]
pub struct DetectorOptions {
    /// Alerts of one rule about one entity closer than this are one alert (seconds).
    pub dedup_window_secs: i64,
    /// Correlation state entries across all correlations and groups before eviction.
    pub max_state_entries: usize,
    /// Entries kept within one group's window.
    pub max_group_entries: usize,
    /// Event ids kept per alert.
    pub max_event_ids: usize,
    /// Open alerts kept before the oldest are handed out.
    pub max_open_alerts: usize,
    pub stateful: crate::stateful::StatefulOptions,
}

impl Default for DetectorOptions {
    fn default() -> Self {
        DetectorOptions {
            dedup_window_secs: 3600,
            max_state_entries: 100_000,
            max_group_entries: 10_000,
            max_event_ids: 100,
            max_open_alerts: 10_000,
            stateful: crate::stateful::StatefulOptions::default(),
        }
    }
}

/// Whether an alert comes from a single event's detection or from a correlation (the stateful
/// detections count as correlations: they too join several events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    Detection,
    Correlation,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Detection => "detection",
            AlertKind::Correlation => "correlation",
        }
    }
}

impl std::fmt::Display for AlertKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An alert: one rule, one entity, the events behind it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Alert {
    pub rule_id: String,
    pub title: Localized,
    pub severity: String,
    pub source: Source,
    pub tenant: String,
    /// Events behind the alert (for a correlation: the events it counted).
    pub count: u64,
    pub attack: Vec<String>,
    pub entities: BTreeMap<String, String>,
    pub event_ids: Vec<String>,
    pub response: Localized,
    pub kind: AlertKind,
    /// Event ids counted while the alert is open, so an event seen again is not counted twice.
    /// Emptied when the alert leaves the detector; saved in a [`DetectorState`] apart from the
    /// alert's own shape.
    #[serde(skip)]
    seen: FastSet<String>,
    /// Unix seconds of the first and last event behind the alert; the RFC 3339 forms are
    /// derived (`first_seen`, `last_seen`).
    pub first_epoch: i64,
    pub last_epoch: i64,
}

impl Alert {
    /// The `mamori detect --format json` shape, in one language.
    pub fn to_json(&self, lang: mamori_core::Lang) -> Value {
        json!({
            "rule_id": self.rule_id,
            "title": self.title.get(lang),
            "severity": self.severity,
            "source": self.source,
            "tenant": self.tenant,
            "first_seen": self.first_seen(),
            "last_seen": self.last_seen(),
            "count": self.count,
            "attack": self.attack,
            "entities": self.entities,
            "event_ids": self.event_ids,
            "response": self.response.get(lang),
            "kind": self.kind,
        })
    }

    /// A name that stays the same while later batches add events to the alert, for upserting
    /// it: the first 128 bits of SHA-256 over rule, entities and first event time, in hex.
    /// Unique within a tenant (another tenant may have the same rule, user and second).
    pub fn key(&self) -> String {
        let mut hash = Sha256::new();
        // Each text behind its length, so no two different alerts hash the same bytes.
        let mut part = |text: &str| {
            hash.update((text.len() as u64).to_le_bytes());
            hash.update(text.as_bytes());
        };
        part(&self.rule_id);
        for (name, value) in &self.entities {
            part(name);
            part(value);
        }
        hash.update(self.first_epoch.to_le_bytes());
        let digest = hash.finalize();
        let mut hex = String::with_capacity(32);
        for b in &digest[..16] {
            use std::fmt::Write as _;
            let _ = write!(hex, "{b:02x}");
        }
        hex
    }

    /// The alert as handed out: what it counted stays behind.
    fn leaving(mut self) -> Alert {
        self.seen = FastSet::default();
        self
    }

    /// A copy of an open alert as handed out, without copying what it counted.
    fn copy_out(&self) -> Alert {
        Alert {
            rule_id: self.rule_id.clone(),
            title: self.title.clone(),
            severity: self.severity.clone(),
            source: self.source,
            tenant: self.tenant.clone(),
            count: self.count,
            attack: self.attack.clone(),
            entities: self.entities.clone(),
            event_ids: self.event_ids.clone(),
            response: self.response.clone(),
            kind: self.kind,
            seen: FastSet::default(),
            first_epoch: self.first_epoch,
            last_epoch: self.last_epoch,
        }
    }

    /// RFC 3339, UTC.
    pub fn first_seen(&self) -> String {
        epoch_text(self.first_epoch)
    }

    /// RFC 3339, UTC.
    pub fn last_seen(&self) -> String {
        epoch_text(self.last_epoch)
    }
}

/// Every member named to the evaluator (a source without its own list; alert entities).
static EVERY_MEMBER: FieldFilter = FieldFilter::all();

/// Event time between sweeps of expired correlation windows.
const SWEEP_EVERY_SECS: i64 = 60;

/// What rsigma sees: the vendor's record, with the envelope answered from Mamori's own struct
/// (the record is never copied or changed), and the event's id as its JSON form so
/// correlations keep ids rather than copies.
struct SigmaEvent<'a> {
    event: &'a Event,
    /// The members this source's rules read: the only ones named to the evaluator's index,
    /// which looks each named member up.
    roots: &'a FieldFilter,
}

/// `mamori.params.<name>`: a parameter of the vendors' name/value lists as a plain field, so
/// correlations can count or group by it (Reports API `events[0].parameters`, Management
/// Activity API `Parameters`, `ExtendedProperties`, `ModifiedProperties`).
fn parameter<'v>(record: &'v Record, name: &str) -> Option<EventValue<'v>> {
    let lists = [
        record
            .get("events")
            .and_then(|events| events.items().next())
            .and_then(|event| event.get("parameters")),
        record.get("Parameters"),
        record.get("ExtendedProperties"),
        record.get("ModifiedProperties"),
    ];
    for list in lists.into_iter().flatten() {
        for p in list.items() {
            let matches = p
                .get("name")
                .or_else(|| p.get("Name"))
                .and_then(|n| n.as_str())
                == Some(name);
            if !matches {
                continue;
            }
            for key in [
                "value",
                "Value",
                "NewValue",
                "intValue",
                "boolValue",
                "multiValue",
            ] {
                if let Some(v) = p.get(key) {
                    return Some(v.to_event_value());
                }
            }
        }
    }
    None
}

impl<'a> rsigma_eval::Event for SigmaEvent<'a> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        if let Some(field) = path
            .strip_prefix(ENVELOPE)
            .and_then(|p| p.strip_prefix('.'))
        {
            let e = self.event;
            let s = |v: &'a str| Some(EventValue::Str(Cow::Borrowed(v)));
            return match field {
                "tenant" => s(e.tenant()),
                "source" => s(e.source().as_str()),
                "time" => Some(EventValue::Str(Cow::Owned(e.time()))),
                "id" => Some(EventValue::Str(e.id())),
                "actor" => e.actor().and_then(s),
                "src_ip" => e.src_ip().and_then(s),
                "action" => e.action().and_then(s),
                "outcome" => s(e.outcome()),
                "target" => e.target().and_then(s),
                "service" => s(e.service()),
                _ => field
                    .strip_prefix("params.")
                    .and_then(|name| parameter(&e.record, name)),
            };
        }
        self.event.record.get_field(path)
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        self.event.record.any_string_value(pred)
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        self.event.record.all_string_values()
    }

    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        self.event.record.visit_string_values(visit)
    }

    fn to_json(&self) -> Value {
        json!({ "id": self.event.id() })
    }

    fn top_level_keys(&self) -> Option<Vec<Cow<'_, str>>> {
        let mut keys: Vec<Cow<'_, str>> = self
            .event
            .record
            .top_level_keys()
            .into_iter()
            .map(Cow::Borrowed)
            .collect();
        keys.push(Cow::Borrowed(ENVELOPE));
        Some(keys)
    }

    fn visit_top_level_keys(&self, visit: &mut dyn FnMut(&str)) -> bool {
        visit(ENVELOPE);
        self.event.record.visit_top_level_keys(&mut |key| {
            if self.roots.keeps(key.as_bytes()) {
                visit(key)
            }
        });
        true
    }
}

/// One tenant's detector.
pub struct Detector {
    engines: FxHashMap<Source, CorrelationEngine>,
    /// Per source, the members its rules read (see [`SigmaEvent`]).
    roots: FxHashMap<Source, FieldFilter>,
    /// Per source, the event time its expired correlation windows were last dropped.
    swept: FxHashMap<Source, i64>,
    meta: BTreeMap<String, Arc<RuleMeta>>,
    options: DetectorOptions,
    open: FastMap<DedupKey, Alert>,
    done: Vec<Alert>,
    /// Open alerts created or changed since the last `take_changed`; closed ones leave it, so
    /// it is bounded by the open table whether or not anyone takes the changes.
    dirty: FastSet<DedupKey>,
    stateful: crate::stateful::Stateful,
    /// The Sigma logsource of each Google Workspace application seen.
    gws_logsources: FxHashMap<String, LogSource>,
}

impl Detector {
    pub fn new(rules: &RuleSet, options: DetectorOptions) -> Result<Self, DetectError> {
        let mut engines = FxHashMap::default();
        let mut roots = FxHashMap::default();
        let mapped = crate::rules::pipeline_mappings();
        for &source in Source::ALL {
            let collection = rules.collection_for(source);
            if collection.rules.is_empty() {
                continue;
            }
            roots.insert(source, FieldFilter::rule_roots(&collection, &mapped));
            let config = CorrelationConfig {
                max_state_entries: options.max_state_entries,
                max_group_entries: Some(options.max_group_entries),
                // No suppression: a correlation that goes on firing adds its events to the open
                // alert, which Mamori deduplicates by rule and entity.
                suppress: None,
                emit_detections: false,
                correlation_event_mode: CorrelationEventMode::Refs,
                max_correlation_events: options.max_event_ids,
                ..CorrelationConfig::default()
            };
            let mut engine = CorrelationEngine::new(config);
            let pipeline =
                rsigma_eval::parse_pipeline(AZURE_PIPELINE).map_err(|e| DetectError::Rule {
                    origin: "field mapping".into(),
                    reason: e.to_string(),
                })?;
            engine.add_pipeline(pipeline);
            engine
                .add_collection(&collection)
                .map_err(|e| DetectError::Rule {
                    origin: format!("{source} rules"),
                    reason: e.to_string(),
                })?;
            engines.insert(source, engine);
        }
        let mut meta = rules.metadata();
        if rules.has_builtin() {
            for m in crate::stateful::catalogue() {
                meta.insert(m.rule_id.clone(), m);
            }
        }
        Ok(Detector {
            engines,
            roots,
            swept: FxHashMap::default(),
            stateful: crate::stateful::Stateful::new(options.stateful.clone()),
            gws_logsources: FxHashMap::default(),
            meta: meta.into_iter().map(|(k, m)| (k, Arc::new(m))).collect(),
            options,
            open: FastMap::default(),
            done: Vec::new(),
            dirty: FastSet::default(),
        })
    }

    /// Correlation state entries held now (bounded by the options).
    pub fn state_entries(&self) -> usize {
        self.engines
            .values()
            .map(|e| e.state_count())
            .sum::<usize>()
            + self.stateful.state_entries()
    }

    /// Runs every rule of the event's source on it. Events should come in time order per
    /// source (correlation windows are in event time).
    pub fn process(&mut self, event: &Event) {
        let source = event.source();
        let Some(engine) = self.engines.get_mut(&source) else {
            return;
        };
        let roots = self.roots.get(&source).unwrap_or(&EVERY_MEMBER);
        let sigma = SigmaEvent { event, roots };
        // Rules are routed to a source when loaded; within Google Workspace the logsource
        // service is the Reports API application, so a `login` rule never sees `drive` events.
        // One LogSource per application, built once (not two strings per event).
        let detections = if source == Source::Gws {
            let service = event.service();
            let built;
            let logsource = match self.gws_logsources.get(service) {
                Some(known) => known,
                None => {
                    let logsource = LogSource {
                        product: Some(crate::source::product(source).to_string()),
                        service: Some(service.to_string()),
                        ..LogSource::default()
                    };
                    // Google's applications are a few dozen; names beyond that are not kept.
                    if self.gws_logsources.len() < MAX_GWS_APPLICATIONS {
                        self.gws_logsources.insert(service.to_string(), logsource);
                        &self.gws_logsources[service]
                    } else {
                        built = logsource;
                        &built
                    }
                }
            };
            engine.engine().evaluate_with_logsource(&sigma, logsource)
        } else {
            engine.engine().evaluate(&sigma)
        };
        // Once the correlation state is half full, expired windows are dropped once a minute
        // of event time. Left to the evaluator, they go only when its state is full — and a
        // table that stays nearly full is then scanned whole on almost every event. Below half
        // a sweep would cost more than it saves.
        let epoch = event.epoch();
        let swept = self.swept.entry(source).or_insert(epoch);
        if epoch - *swept >= SWEEP_EVERY_SECS {
            if engine.state_count() * 2 >= self.options.max_state_entries {
                engine.evict_expired(epoch);
            }
            *swept = epoch;
        }
        let results = engine.process_with_detections(&sigma, detections, epoch);
        for result in results {
            self.raise(result, event);
        }
        for hit in self.stateful.observe(event) {
            self.raise_hit(hit, event);
        }
    }

    fn raise(&mut self, result: EvaluationResult, event: &Event) {
        let header = &result.header;
        let key = header.rule_id.as_deref().unwrap_or(&header.rule_title);
        let Some(meta) = self.meta.get(key) else {
            return;
        };
        // A rule that only feeds a correlation speaks through it.
        if !meta.correlation && !meta.alerts_alone {
            return;
        }
        let (entities, ids, count) = match &result.body {
            ResultBody::Correlation(body) => {
                let entities: Vec<(String, String)> = body
                    .group_key
                    .iter()
                    .map(|(k, v)| (entity_name(k), v.clone()))
                    .collect();
                let ids: Vec<String> = body
                    .event_refs
                    .iter()
                    .flatten()
                    .filter_map(|r| r.id.clone())
                    .collect();
                let count = ids.len().max(1) as u64;
                (entities, ids, count)
            }
            _ => {
                let mut entities: Vec<(String, String)> = Vec::new();
                let sigma = SigmaEvent {
                    event,
                    roots: &EVERY_MEMBER,
                };
                use rsigma_eval::Event as _;
                for field in &meta.entity_fields {
                    if let Some(v) = sigma.get_field(field).and_then(|v| value_text(&v)) {
                        entities.push((entity_name(field), v));
                    }
                }
                if meta.entity_fields.is_empty() {
                    if let Some(actor) = event.actor() {
                        entities.push(("user".into(), actor.to_string()));
                    }
                }
                (entities, vec![event.id().into_owned()], 1)
            }
        };
        let first = match &result.body {
            ResultBody::Correlation(body) => body
                .event_refs
                .iter()
                .flatten()
                .map(|r| r.timestamp)
                .min()
                .unwrap_or(event.epoch()),
            _ => event.epoch(),
        };
        let meta = meta.clone();
        self.open_or_merge(&meta, entities, ids, count, first, event);
    }

    /// A stateful detection's hit, through the same deduplication.
    fn raise_hit(&mut self, hit: crate::stateful::Hit, event: &Event) {
        let Some(meta) = self.meta.get(&hit.rule_id).cloned() else {
            return;
        };
        let count = hit.event_ids.len().max(1) as u64;
        self.open_or_merge(
            &meta,
            hit.entities,
            hit.event_ids,
            count,
            hit.first_epoch,
            event,
        );
    }

    fn open_or_merge(
        &mut self,
        meta: &RuleMeta,
        entities: Vec<(String, String)>,
        ids: Vec<String>,
        count: u64,
        first: i64,
        event: &Event,
    ) {
        let epoch = event.epoch();
        let dedup_key = (meta.rule_id.clone(), entities);
        let window = self.options.dedup_window_secs;
        if let Some(alert) = self.open.get_mut(&dedup_key) {
            if epoch - alert.last_epoch <= window {
                let before = (alert.count, alert.last_epoch);
                alert.last_epoch = alert.last_epoch.max(epoch);
                for id in ids {
                    // Past the cap the count goes on, exact no longer (an id may repeat).
                    let new = if alert.seen.len() < MAX_IDS_COUNTED {
                        alert.seen.insert(id.clone())
                    } else {
                        !alert.event_ids.contains(&id)
                    };
                    if new {
                        alert.count += 1;
                        if alert.event_ids.len() < self.options.max_event_ids {
                            alert.event_ids.push(id);
                        }
                    }
                }
                if (alert.count, alert.last_epoch) != before {
                    self.dirty.insert(dedup_key);
                }
                return;
            }
            if let Some(old) = self.open.remove(&dedup_key) {
                self.done.push(old.leaving());
            }
        }
        let seen: FastSet<String> = ids.iter().cloned().collect();
        let count = count.max(seen.len() as u64);
        let mut event_ids = ids;
        event_ids.truncate(self.options.max_event_ids);
        let alert = Alert {
            rule_id: meta.rule_id.clone(),
            title: meta.title.clone(),
            severity: meta.severity.clone(),
            source: event.source(),
            tenant: event.tenant().to_string(),
            count,
            attack: meta.attack.clone(),
            entities: dedup_key.1.iter().cloned().collect(),
            event_ids,
            response: meta.response.clone(),
            seen,
            kind: if meta.correlation {
                AlertKind::Correlation
            } else {
                AlertKind::Detection
            },
            first_epoch: first,
            last_epoch: epoch,
        };
        if self.open.len() >= self.options.max_open_alerts {
            self.make_room(epoch);
        }
        self.dirty.insert(dedup_key.clone());
        self.open.insert(dedup_key, alert);
    }

    /// The open-alert table is full: hand out every alert whose window has passed; if that
    /// frees too little, the quietest tenth. Amortised, so a flood of alerts stays linear.
    fn make_room(&mut self, now_epoch: i64) {
        let window = self.options.dedup_window_secs;
        let before = self.open.len();
        for (k, a) in self
            .open
            .extract_if(|_, a| now_epoch - a.last_epoch > window)
        {
            self.dirty.remove(&k);
            self.done.push(a.leaving());
        }
        if self.open.len() * 10 > before * 9 {
            let mut ages: Vec<(i64, DedupKey)> = self
                .open
                .iter()
                .map(|(k, a)| (a.last_epoch, k.clone()))
                .collect();
            ages.sort();
            for (_, k) in ages.into_iter().take(before / 10 + 1) {
                if let Some(a) = self.open.remove(&k) {
                    self.dirty.remove(&k);
                    self.done.push(a.leaving());
                }
            }
        }
    }

    /// Alerts whose dedup window has passed by `now` (event time), handed out once.
    pub fn take_closed(&mut self, now_epoch: i64) -> Vec<Alert> {
        let window = self.options.dedup_window_secs;
        let closed: Vec<_> = self
            .open
            .iter()
            .filter(|(_, a)| now_epoch - a.last_epoch > window)
            .map(|(k, _)| k.clone())
            .collect();
        for k in closed {
            if let Some(a) = self.open.remove(&k) {
                self.dirty.remove(&k);
                self.done.push(a.leaving());
            }
        }
        let mut out = std::mem::take(&mut self.done);
        sort_alerts(&mut out);
        out
    }

    /// What a caller storing alerts after each batch upserts (by [`Alert::key`]): alerts that
    /// closed (their window passed by `now`, event time, or the open table was full) and
    /// copies of open alerts created or changed (count, last event) since the last call.
    /// Closed alerts are handed out once, here or by `take_closed`: a caller uses one of them.
    pub fn take_changed(&mut self, now_epoch: i64) -> Vec<Alert> {
        let mut out = self.take_closed(now_epoch);
        for k in self.dirty.drain() {
            if let Some(a) = self.open.get(&k) {
                out.push(a.copy_out());
            }
        }
        sort_alerts(&mut out);
        out
    }

    /// Every alert, open or not, in time order.
    pub fn finish(mut self) -> Vec<Alert> {
        let mut out = std::mem::take(&mut self.done);
        out.extend(self.open.drain().map(|(_, a)| a.leaving()));
        sort_alerts(&mut out);
        out
    }

    /// Everything the detector remembers between events, to be saved with the alerts and the
    /// checkpoint of a batch so that a restarted worker resumes where this one stopped.
    pub fn export_state(&self) -> DetectorState {
        let mut correlations = BTreeMap::new();
        for (source, engine) in &self.engines {
            correlations.insert(*source, engine.export_state());
        }
        let open = self
            .open
            .iter()
            .map(|(key, alert)| OpenAlert {
                entities: key.1.clone(),
                alert: alert.copy_out(),
                seen: alert.seen.iter().cloned().collect(),
                changed: self.dirty.contains(key),
            })
            .collect();
        DetectorState {
            version: STATE_VERSION,
            correlations,
            stateful: self.stateful.export_state(),
            open,
            closed: self.done.clone(),
        }
    }

    /// Restores a saved state into a detector that has processed nothing yet (correlation
    /// state already held would be merged with the saved one; the rest is replaced). Refused
    /// whole, before anything changes, if the state or one of its correlation snapshots is of
    /// a version this build cannot read. State of rules no longer loaded is dropped, as rsigma
    /// drops it; alerts already raised are kept whatever became of their rule.
    pub fn import_state(&mut self, state: DetectorState) -> Result<(), DetectError> {
        if state.version != STATE_VERSION {
            return Err(version_refused(state.version));
        }
        // rsigma does not publish its snapshot version; an empty engine's snapshot carries it.
        let readable = CorrelationEngine::new(CorrelationConfig::default())
            .export_state()
            .version;
        for (source, snapshot) in &state.correlations {
            if snapshot.version != readable {
                return Err(DetectError::State {
                    reason: format!(
                        "{source} correlation snapshot version {} (rsigma reads version {readable})",
                        snapshot.version
                    ),
                });
            }
        }
        for (source, snapshot) in state.correlations {
            // A source whose rules are all gone has no engine to hold its state.
            if let Some(engine) = self.engines.get_mut(&source) {
                if !engine.import_state(snapshot) {
                    return Err(DetectError::State {
                        reason: format!("{source} correlation snapshot refused by rsigma"),
                    });
                }
            }
        }
        self.stateful.import_state(state.stateful);
        self.open.clear();
        self.dirty.clear();
        for saved in state.open {
            let mut alert = saved.alert;
            alert.seen = saved.seen.into_iter().collect();
            let key = (alert.rule_id.clone(), saved.entities);
            if saved.changed {
                self.dirty.insert(key.clone());
            }
            self.open.insert(key, alert);
        }
        self.done = state.closed;
        Ok(())
    }
}

/// Layout version of [`DetectorState`]. A state of another version is refused rather than
/// guessed at: the caller then starts the tenant's detector afresh.
pub const STATE_VERSION: u32 = 1;

/// Decompressed size a saved state may reach before it is refused: a bounded detector's state
/// is far smaller, and a corrupt or hostile blob must not exhaust memory.
pub const MAX_STATE_BYTES: u64 = 256 << 20;

/// A detector's state, as [`Detector::export_state`] gives it: per source the rsigma
/// correlation snapshot, the stateful detections' tables, and the alerts not yet handed out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DetectorState {
    pub version: u32,
    correlations: BTreeMap<Source, CorrelationSnapshot>,
    stateful: StatefulState,
    open: Vec<OpenAlert>,
    /// Alerts closed but not yet taken.
    closed: Vec<Alert>,
}

/// An open alert with what its deduplication needs beyond the alert's shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct OpenAlert {
    /// The dedup key's entities in the rule's order (the alert's map is sorted and would not
    /// give back the same key).
    entities: Vec<(String, String)>,
    alert: Alert,
    seen: Vec<String>,
    /// Changed since the last `take_changed`.
    changed: bool,
}

impl DetectorState {
    /// Alerts open in the saved detector.
    pub fn open_alerts(&self) -> usize {
        self.open.len()
    }

    /// Gzip-compressed JSON.
    pub fn to_bytes(&self) -> Result<Vec<u8>, DetectError> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        serde_json::to_writer(&mut gz, self).map_err(|e| DetectError::State {
            reason: format!("cannot be written: {e}"),
        })?;
        gz.finish().map_err(|e| DetectError::State {
            reason: format!("cannot be compressed: {e}"),
        })
    }

    /// Reads what [`DetectorState::to_bytes`] wrote, refusing input that is not gzip, not a
    /// state, or larger than [`MAX_STATE_BYTES`] once decompressed.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DetectError> {
        Self::from_bytes_capped(bytes, MAX_STATE_BYTES)
    }

    fn from_bytes_capped(bytes: &[u8], max: u64) -> Result<Self, DetectError> {
        if !bytes.starts_with(&[0x1f, 0x8b]) {
            return Err(DetectError::State {
                reason: "not gzip-compressed".into(),
            });
        }
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .take(max + 1)
            .read_to_end(&mut json)
            .map_err(|e| DetectError::State {
                reason: format!("not gzip-compressed or truncated: {e}"),
            })?;
        if json.len() as u64 > max {
            return Err(DetectError::State {
                reason: format!("larger than {max} bytes after decompression"),
            });
        }
        match serde_json::from_slice::<DetectorState>(&json) {
            Ok(state) if state.version == STATE_VERSION => Ok(state),
            Ok(state) => Err(version_refused(state.version)),
            Err(e) => {
                // Another layout fails on some field; its version says why better than the
                // field does.
                #[derive(Deserialize)]
                struct Version {
                    version: u32,
                }
                match serde_json::from_slice::<Version>(&json) {
                    Ok(v) if v.version != STATE_VERSION => Err(version_refused(v.version)),
                    _ => Err(DetectError::State {
                        reason: format!("not a detector state: {e}"),
                    }),
                }
            }
        }
    }
}

fn version_refused(version: u32) -> DetectError {
    DetectError::State {
        reason: format!("version {version} (this build reads version {STATE_VERSION})"),
    }
}

fn sort_alerts(alerts: &mut [Alert]) {
    alerts.sort_by(|a, b| {
        (a.first_epoch, &a.rule_id, &a.entities).cmp(&(b.first_epoch, &b.rule_id, &b.entities))
    });
}

/// Entity names in alerts: the envelope's for its fields, the vendor's otherwise.
fn entity_name(field: &str) -> String {
    match field {
        "mamori.actor" => "user".into(),
        "mamori.src_ip" => "ip".into(),
        "mamori.target" => "target".into(),
        "mamori.tenant" => "tenant".into(),
        other => other.to_string(),
    }
}

fn value_text(v: &EventValue<'_>) -> Option<String> {
    match v {
        EventValue::Str(s) => Some(s.to_string()),
        EventValue::Int(i) => Some(i.to_string()),
        EventValue::Float(f) => Some(f.to_string()),
        EventValue::Bool(b) => Some(b.to_string()),
        EventValue::Array(items) => items.iter().find_map(value_text),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_state_past_the_cap_is_refused() {
        // Blanks compress a thousandfold: a small blob that would grow past the cap.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![b' '; 1 << 20]).unwrap();
        let bytes = gz.finish().unwrap();
        let e = DetectorState::from_bytes_capped(&bytes, 4096).unwrap_err();
        assert!(e.to_string().contains("larger than 4096 bytes"), "{e}");
    }

    #[test]
    fn the_kind_is_written_as_before() {
        let alert = Alert {
            rule_id: "r".into(),
            title: Localized::default(),
            severity: "high".into(),
            source: Source::Gws,
            tenant: "t".into(),
            count: 1,
            attack: Vec::new(),
            entities: BTreeMap::new(),
            event_ids: Vec::new(),
            response: Localized::default(),
            kind: AlertKind::Correlation,
            seen: FastSet::default(),
            first_epoch: 0,
            last_epoch: 0,
        };
        assert_eq!(
            alert.to_json(mamori_core::Lang::En)["kind"],
            json!("correlation")
        );
        assert_eq!(serde_json::to_value(&alert).unwrap()["kind"], "correlation");
        let back: Alert = serde_json::from_value(serde_json::to_value(&alert).unwrap()).unwrap();
        assert_eq!(back, alert);
    }
}
