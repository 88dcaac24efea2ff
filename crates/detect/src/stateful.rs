//! Detections that need memory Sigma cannot express, in Rust with the same alert shape:
//! impossible travel (from the location the sign-in log carries; no GeoIP database), bulk file
//! downloads or deletions far above the user's own baseline, and an administrator role granted
//! outside business hours or by an actor never seen granting one. State is bounded per tenant:
//! each table keeps at most `max_entities` keys and forgets the least recently seen.

use crate::rules::RuleMeta;
use crate::source::{Event, Source};
use crate::FastMap;
use mamori_core::Localized;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A stateful detection's finding, raised through the detector's deduplication.
#[derive(Debug, Clone)]
pub struct Hit {
    pub rule_id: String,
    pub entities: Vec<(String, String)>,
    pub event_ids: Vec<String>,
    pub first_epoch: i64,
}

/// The stateful detections' metadata, as rule files carry it for Sigma rules.
pub fn catalogue() -> Vec<RuleMeta> {
    let meta = |rule_id: &str,
                en: &str,
                ja: &str,
                severity: &str,
                attack: &[&str],
                resp_en: &str,
                resp_ja: &str| RuleMeta {
        rule_id: rule_id.into(),
        title: Localized::new(en, ja),
        response: Localized::new(resp_en, resp_ja),
        severity: severity.into(),
        attack: attack.iter().map(|s| s.to_string()).collect(),
        origin: "builtin (stateful)".into(),
        correlation: true,
        alerts_alone: true,
        entity_fields: Vec::new(),
    };
    let mut out = Vec::new();
    let kinds = [
        meta(
            IMPOSSIBLE_TRAVEL,
            "Impossible travel between two successful sign-ins",
            "移動不可能な 2 地点からのサインイン成功",
            "high",
            &["T1078.004"],
            "Two successful sign-ins of the same user came from places too far apart for the time between them. Ask the user which one was theirs; if either was not, revoke the user's sessions and refresh tokens, reset the password, and review what the other session did (mail rules, consents, downloads).",
            "同じユーザーのサインイン成功が、時間差では移動できない距離の 2 地点から記録されました。どちらが本人か確認し、本人でないものがあればセッションとリフレッシュ トークンを失効させ、パスワードをリセットし、そのセッションの操作（メール ルール、同意、ダウンロード）を調査してください。",
        ),
        meta(
            BULK_DOWNLOAD,
            "File downloads far above the user's own baseline",
            "ユーザー自身の平常値を大きく超えるファイル ダウンロード",
            "high",
            &["T1530"],
            "The user downloaded many more files within an hour than they usually do in a whole day. Confirm with the user and their manager; if unexpected, suspend the user's sessions, check the device and the destination of the files, and review sharing changes made at the same time.",
            "このユーザーが 1 時間にダウンロードしたファイル数が、普段の 1 日分を大きく上回っています。本人と上長に確認し、想定外であればセッションを停止し、端末とファイルの持ち出し先を確認し、同時刻の共有設定の変更を調査してください。",
        ),
        meta(
            BULK_DELETE,
            "File deletions far above the user's own baseline",
            "ユーザー自身の平常値を大きく超えるファイル削除",
            "high",
            &["T1485"],
            "The user deleted many more files within an hour than they usually do in a whole day — sabotage or ransomware-like behaviour. Suspend the user's sessions, restore the files from the recycle bin or version history, and check the user's device.",
            "このユーザーが 1 時間に削除したファイル数が、普段の 1 日分を大きく上回っています（妨害やランサムウェアの可能性）。セッションを停止し、ごみ箱や版履歴からファイルを復元し、端末を確認してください。",
        ),
        meta(
            ADMIN_GRANT_UNUSUAL,
            "Administrator role granted at night or by someone who never granted one",
            "夜間または付与経験のない管理者による管理者ロールの付与",
            "critical",
            &["T1098.003"],
            "An administrator role was granted outside business hours, or by an account that has not granted roles before. Confirm the change with the granting administrator through another channel; if it was not planned, remove the role, revoke both accounts' sessions and reset their credentials, and review what the new administrator did.",
            "業務時間外、またはこれまでロールを付与したことのないアカウントによって管理者ロールが付与されました。付与した管理者に別経路で確認し、計画外であればロールを削除し、両アカウントのセッション失効と認証情報のリセットを行い、新しい管理者の操作を調査してください。",
        ),
    ];
    for kind in kinds {
        for source in sources_of_kind(&kind.rule_id) {
            let mut m = kind.clone();
            m.rule_id = rule_id(*source, &kind.rule_id);
            out.push(m);
        }
    }
    out
}

/// `mamori.<source>.<kind>`: one id per source, like the Sigma rules'.
pub fn rule_id(source: Source, kind: &str) -> String {
    format!("mamori.{}.{kind}", source.as_str())
}

fn sources_of_kind(kind: &str) -> &'static [Source] {
    match kind {
        IMPOSSIBLE_TRAVEL => &[Source::EntraSignin],
        BULK_DOWNLOAD | BULK_DELETE => &[Source::M365, Source::Gws],
        _ => &[Source::EntraAudit, Source::M365, Source::Gws],
    }
}

pub const IMPOSSIBLE_TRAVEL: &str = "impossible_travel";
pub const BULK_DOWNLOAD: &str = "bulk_download_baseline";
pub const BULK_DELETE: &str = "bulk_delete_baseline";
pub const ADMIN_GRANT_UNUSUAL: &str = "role_grant_unusual";

/// Settings of the stateful detections.
#[derive(Debug, Clone)]
pub struct StatefulOptions {
    /// Faster than this between two successful sign-ins is impossible (km/h; airliners ~900).
    pub max_speed_kmh: f64,
    /// Closer than this is never travel (km): nearby cities, mobile networks.
    pub min_distance_km: f64,
    /// Hourly files above max(this, `baseline_factor` × the user's usual day) alert.
    pub bulk_min_files: u32,
    pub baseline_factor: f64,
    /// Business hours in the tenant's time zone: [start, end) hour, Monday–Friday.
    pub business_hours: (u8, u8),
    /// The tenant's UTC offset in hours (Japan: 9).
    pub utc_offset_hours: i32,
    /// Keys (users, actors) each table keeps.
    pub max_entities: usize,
    /// "Never seen granting a role" means something only after this much history (seconds):
    /// a detector that has just started has seen nobody.
    pub learning_secs: i64,
}

impl Default for StatefulOptions {
    fn default() -> Self {
        StatefulOptions {
            max_speed_kmh: 900.0,
            min_distance_km: 500.0,
            bulk_min_files: 100,
            baseline_factor: 5.0,
            business_hours: (8, 20),
            utc_offset_hours: 9,
            max_entities: 100_000,
            learning_secs: 7 * 86_400,
        }
    }
}

/// A map that forgets its least recently touched keys past a bound.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Bounded<V> {
    map: FastMap<String, (u64, V)>,
    clock: u64,
    /// The bound is the detector's option, not part of the saved state: a restored table takes
    /// the bound of the detector it is restored into.
    #[serde(skip, default = "one")]
    max: usize,
}

fn one() -> usize {
    1
}

impl<V: Default> Bounded<V> {
    fn new(max: usize) -> Self {
        Bounded {
            map: FastMap::default(),
            clock: 0,
            max: max.max(1),
        }
    }

    /// The entry of `key`, made if new (`None` never happens: the entry is there by then).
    fn entry(&mut self, key: &str) -> Option<&mut V> {
        self.clock += 1;
        let clock = self.clock;
        // Looked up before inserting: a key already known costs no copy of it.
        if let Some(slot) = self.map.get_mut(key) {
            slot.0 = clock;
        } else {
            if self.map.len() >= self.max {
                // Evict the oldest tenth at once, so eviction stays rare.
                let mut ages: Vec<(u64, String)> =
                    self.map.iter().map(|(k, (t, _))| (*t, k.clone())).collect();
                ages.sort();
                for (_, k) in ages.into_iter().take(self.max / 10 + 1) {
                    self.map.remove(&k);
                }
            }
            self.map.insert(key.to_string(), (clock, V::default()));
        }
        self.map.get_mut(key).map(|slot| &mut slot.1)
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    /// Takes a restored table's entries under this table's bound, forgetting the least recently
    /// seen if the bound is now smaller than when the state was saved.
    fn restore(&mut self, saved: Bounded<V>) {
        self.map = saved.map;
        self.clock = saved.clock;
        if self.map.len() > self.max {
            let mut ages: Vec<(u64, String)> =
                self.map.iter().map(|(k, (t, _))| (*t, k.clone())).collect();
            ages.sort();
            let excess = self.map.len() - self.max;
            for (_, k) in ages.into_iter().take(excess) {
                self.map.remove(&k);
            }
        }
        // A clock behind a saved entry's time would make new entries look older than it.
        let newest = self.map.values().map(|(t, _)| *t).max().unwrap_or(0);
        self.clock = self.clock.max(newest);
    }
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct LastSignin {
    epoch: i64,
    #[serde(with = "exact_f64")]
    lat: f64,
    #[serde(with = "exact_f64")]
    lon: f64,
    place: String,
    id: String,
    set: bool,
}

/// Per user: file operations in the current hour, and finished days' totals.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct FileActivity {
    hour_start: i64,
    hour_ids: Vec<String>,
    hour_count: u32,
    alerted_hour: i64,
    day: i64,
    day_count: u32,
    /// Totals of the user's last active days (at most 14).
    days: Vec<u32>,
}

impl FileActivity {
    fn baseline(&self) -> f64 {
        if self.days.is_empty() {
            0.0
        } else {
            self.days.iter().map(|d| *d as f64).sum::<f64>() / self.days.len() as f64
        }
    }
}

/// Coordinates as text, written and read by Rust's own shortest round-trip formatting:
/// serde_json's default number parser may round a 17-digit float one unit off, and a restored
/// detector must compute the same distances as the one that saved it.
mod exact_f64 {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(D::Error::custom)
    }
}

#[derive(Debug)]
pub struct Stateful {
    options: StatefulOptions,
    signins: Bounded<LastSignin>,
    downloads: Bounded<FileActivity>,
    deletes: Bounded<FileActivity>,
    granters: Bounded<u32>,
    /// Time of the first event seen, per source: the start of the learning period.
    since: FastMap<Source, i64>,
    /// Where per-source keys are written, reused from event to event.
    key: String,
}

/// `<source>\u{1f}<name>`: a table key per source (a user's OneDrive and Google Drive habits
/// differ), written into a reused buffer.
fn source_key<'k>(buffer: &'k mut String, source: Source, name: &str) -> &'k str {
    buffer.clear();
    buffer.push_str(source.as_str());
    buffer.push('\u{1f}');
    buffer.push_str(name);
    buffer
}

/// The stateful detections' tables, saved with a detector's state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatefulState {
    signins: Bounded<LastSignin>,
    downloads: Bounded<FileActivity>,
    deletes: Bounded<FileActivity>,
    granters: Bounded<u32>,
    since: BTreeMap<Source, i64>,
}

impl Stateful {
    pub fn new(options: StatefulOptions) -> Self {
        let max = options.max_entities;
        Stateful {
            options,
            signins: Bounded::new(max),
            downloads: Bounded::new(max),
            deletes: Bounded::new(max),
            granters: Bounded::new(max),
            since: FastMap::default(),
            key: String::new(),
        }
    }

    pub fn state_entries(&self) -> usize {
        self.signins.len() + self.downloads.len() + self.deletes.len() + self.granters.len()
    }

    pub fn export_state(&self) -> StatefulState {
        StatefulState {
            signins: self.signins.clone(),
            downloads: self.downloads.clone(),
            deletes: self.deletes.clone(),
            granters: self.granters.clone(),
            since: self.since.iter().map(|(s, t)| (*s, *t)).collect(),
        }
    }

    /// Replaces every table with the saved one, under this detector's bounds.
    pub fn import_state(&mut self, state: StatefulState) {
        self.signins.restore(state.signins);
        self.downloads.restore(state.downloads);
        self.deletes.restore(state.deletes);
        self.granters.restore(state.granters);
        self.since = state.since.into_iter().collect();
    }

    pub fn observe(&mut self, event: &Event) -> Vec<Hit> {
        let (source, epoch) = (event.source(), event.epoch());
        let mut hits = Vec::new();
        let since = *self.since.entry(source).or_insert(epoch);
        match source {
            Source::EntraSignin if event.outcome() == "success" => {
                if let Some(hit) = self.travel(event) {
                    hits.push(hit);
                }
            }
            _ => {}
        }
        let action = event.action().unwrap_or_default();
        let file_op = match (source, action) {
            (Source::M365, "FileDownloaded" | "FileSyncDownloadedFull") => Some(false),
            (Source::M365, "FileDeleted" | "FileRecycled" | "FileDeletedFirstStageRecycleBin") => {
                Some(true)
            }
            (Source::Gws, "download") if event.service() == "drive" => Some(false),
            (Source::Gws, "delete" | "trash") if event.service() == "drive" => Some(true),
            _ => None,
        };
        if let (Some(delete), Some(user)) = (file_op, event.actor()) {
            if let Some(hit) = self.files(source, user, delete, epoch, &event.id()) {
                hits.push(hit);
            }
        }
        let grant = match source {
            Source::EntraAudit | Source::M365 => action.starts_with("Add member to role"),
            Source::Gws => {
                event.service() == "admin"
                    && matches!(action, "ASSIGN_ROLE" | "GRANT_ADMIN_PRIVILEGE")
            }
            _ => false,
        };
        if grant && event.outcome() != "failure" {
            if let Some(actor) = event.actor() {
                if let Some(hit) =
                    self.grant(source, actor, epoch, &event.id(), event.target(), since)
                {
                    hits.push(hit);
                }
            }
        }
        hits
    }

    fn travel(&mut self, event: &Event) -> Option<Hit> {
        let epoch = event.epoch();
        let user = event.actor()?;
        let loc = event.record.get("location")?;
        let coords = loc.get("geoCoordinates")?;
        let lat = coords.get("latitude").and_then(|v| v.as_f64())?;
        let lon = coords.get("longitude").and_then(|v| v.as_f64())?;
        let place = [
            loc.get("city").and_then(|v| v.as_str()),
            loc.get("countryOrRegion").and_then(|v| v.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
        let options = self.options.clone();
        let last = self.signins.entry(user)?;
        let mut hit = None;
        if last.set && epoch >= last.epoch {
            let km = haversine_km(last.lat, last.lon, lat, lon);
            let hours = ((epoch - last.epoch) as f64 / 3600.0).max(1.0 / 60.0);
            if km >= options.min_distance_km && km / hours > options.max_speed_kmh {
                hit = Some(Hit {
                    rule_id: rule_id(Source::EntraSignin, IMPOSSIBLE_TRAVEL),
                    entities: vec![
                        ("user".into(), user.to_string()),
                        ("from".into(), last.place.clone()),
                        ("to".into(), place.clone()),
                    ],
                    event_ids: vec![last.id.clone(), event.id().into_owned()],
                    first_epoch: last.epoch,
                });
            }
        }
        *last = LastSignin {
            epoch,
            lat,
            lon,
            place,
            id: event.id().into_owned(),
            set: true,
        };
        hit
    }

    fn files(
        &mut self,
        source: Source,
        user: &str,
        delete: bool,
        epoch: i64,
        id: &str,
    ) -> Option<Hit> {
        let options = self.options.clone();
        let table = if delete {
            &mut self.deletes
        } else {
            &mut self.downloads
        };
        // Per source: a user's OneDrive and Google Drive habits differ.
        let a = table.entry(source_key(&mut self.key, source, user))?;
        let day = epoch.div_euclid(86_400);
        if a.day != day {
            if a.day_count > 0 {
                a.days.push(a.day_count);
                if a.days.len() > 14 {
                    a.days.remove(0);
                }
            }
            a.day = day;
            a.day_count = 0;
        }
        a.day_count += 1;
        // A sliding hour, restarted when an hour passes without reaching the threshold.
        if epoch - a.hour_start >= 3600 {
            a.hour_start = epoch;
            a.hour_count = 0;
            a.hour_ids.clear();
        }
        a.hour_count += 1;
        if a.hour_ids.len() < 100 {
            a.hour_ids.push(id.to_string());
        }
        let threshold = (options.bulk_min_files as f64).max(options.baseline_factor * a.baseline());
        if a.hour_count as f64 >= threshold && a.alerted_hour != a.hour_start {
            a.alerted_hour = a.hour_start;
            return Some(Hit {
                rule_id: rule_id(source, if delete { BULK_DELETE } else { BULK_DOWNLOAD }),
                entities: vec![("user".into(), user.to_string())],
                event_ids: a.hour_ids.clone(),
                first_epoch: a.hour_start,
            });
        }
        None
    }

    fn grant(
        &mut self,
        source: Source,
        actor: &str,
        epoch: i64,
        id: &str,
        target: Option<&str>,
        since: i64,
    ) -> Option<Hit> {
        let (start, end) = self.options.business_hours;
        let local = epoch + self.options.utc_offset_hours as i64 * 3600;
        let hour = local.rem_euclid(86_400) / 3600;
        // 1970-01-01 was a Thursday: day 0 → weekday 3 (Monday = 0).
        let weekday = (local.div_euclid(86_400) + 3).rem_euclid(7);
        let off_hours = weekday >= 5 || hour < start as i64 || hour >= end as i64;
        let count = self
            .granters
            .entry(source_key(&mut self.key, source, actor))?;
        let first_time = *count == 0 && epoch - since >= self.options.learning_secs;
        *count += 1;
        if !(off_hours || first_time) {
            return None;
        }
        let mut entities = vec![("user".into(), actor.to_string())];
        if let Some(t) = target {
            entities.push(("target".into(), t.to_string()));
        }
        entities.push((
            "why".into(),
            match (off_hours, first_time) {
                (true, true) => "outside business hours, first grant by this actor",
                (true, false) => "outside business hours",
                _ => "first grant by this actor",
            }
            .into(),
        ));
        Some(Hit {
            rule_id: rule_id(source, ADMIN_GRANT_UNUSUAL),
            entities,
            event_ids: vec![id.to_string()],
            first_epoch: epoch,
        })
    }
}

fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    6371.0 * 2.0 * a.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokyo_to_london_is_9560_km() {
        let km = haversine_km(35.68, 139.69, 51.51, -0.13);
        assert!((km - 9_560.0).abs() < 30.0, "{km}");
    }

    fn grant_event(actor: &str, time: &str) -> Event {
        let record = serde_json::json!({
            "id": format!("{actor}-{time}"), "activityDateTime": time,
            "activityDisplayName": "Add member to role", "result": "success",
            "initiatedBy": {"user": {"userPrincipalName": actor}},
            "targetResources": [{"userPrincipalName": "x@example.jp"}]
        });
        crate::source::normalise(Source::EntraAudit, record, Some(&std::sync::Arc::from("t")))
            .unwrap()
            .remove(0)
    }

    #[test]
    fn a_new_granter_counts_only_after_the_learning_period() {
        let mut s = Stateful::new(StatefulOptions::default());
        // Monday 2026-11-02 10:00 JST = 01:00 UTC: business hours.
        assert!(s
            .observe(&grant_event("a@example.jp", "2026-11-02T01:00:00Z"))
            .is_empty());
        assert!(s
            .observe(&grant_event("b@example.jp", "2026-11-03T01:00:00Z"))
            .is_empty());
        // Ten days on, b has granted before, c never has.
        assert!(s
            .observe(&grant_event("b@example.jp", "2026-11-12T01:00:00Z"))
            .is_empty());
        let hits = s.observe(&grant_event("c@example.jp", "2026-11-12T02:00:00Z"));
        assert_eq!(hits.len(), 1);
        assert!(hits[0]
            .entities
            .iter()
            .any(|(k, v)| k == "why" && v.contains("first grant")));
        // 03:00 JST on a weekday is outside business hours, whoever grants.
        let hits = s.observe(&grant_event("b@example.jp", "2026-11-12T18:00:00Z"));
        assert!(hits[0]
            .entities
            .iter()
            .any(|(k, v)| k == "why" && v == "outside business hours"));
    }

    #[test]
    fn the_map_stays_bounded() {
        let mut b: Bounded<u32> = Bounded::new(100);
        for i in 0..1_000 {
            *b.entry(&format!("k{i}")).unwrap() += 1;
        }
        assert!(b.len() <= 100);
        assert!(b.map.contains_key("k999"));
    }

    #[test]
    fn a_restored_table_keeps_its_clock_and_takes_the_new_bound() {
        let mut b: Bounded<u32> = Bounded::new(100);
        for i in 0..50 {
            *b.entry(&format!("k{i}")).unwrap() += 1;
        }
        let text = serde_json::to_string(&b).unwrap();
        let mut small: Bounded<u32> = Bounded::new(10);
        small.restore(serde_json::from_str(&text).unwrap());
        assert_eq!(small.len(), 10);
        assert_eq!(small.clock, 50);
        // The ten most recently seen survive.
        assert!((40..50).all(|i| small.map.contains_key(&format!("k{i}"))));
    }

    #[test]
    fn coordinates_survive_json_exactly() {
        // Computed values print with up to 17 significant digits, where a float parser that is
        // not correctly rounded slips (0.1 + 0.2 is 0.30000000000000004).
        for i in 0..2_000 {
            let lat = (i as f64 * std::f64::consts::PI / 180.0).sin() * 90.0;
            let last = LastSignin {
                lat,
                lon: 0.1 + 0.2 * i as f64 / 3.0,
                ..LastSignin::default()
            };
            let text = serde_json::to_string(&last).unwrap();
            let back: LastSignin = serde_json::from_str(&text).unwrap();
            assert_eq!(back.lat.to_bits(), last.lat.to_bits(), "{text}");
            assert_eq!(back.lon.to_bits(), last.lon.to_bits(), "{text}");
        }
    }
}
