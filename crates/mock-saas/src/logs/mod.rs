//! Seeded audit-log streams for threat-detection tests, the demo and the benchmark: ordinary
//! activity of a tenant's users with attacks placed among it, in each vendor's own JSON shape.
//!
//! Four sources:
//!
//! - [`Source::M365`]: Office 365 Management Activity API records (the common schema plus the
//!   per-workload fields), grouped by content type (`Audit.AzureActiveDirectory`,
//!   `Audit.Exchange`, `Audit.SharePoint`, `Audit.General`);
//! - [`Source::EntraSignIn`]: Microsoft Graph `signIn` resources (beta shape);
//! - [`Source::EntraAudit`]: Microsoft Graph `directoryAudit` resources;
//! - [`Source::Gws`]: Admin SDK Reports API `activity` resources per application (`login`,
//!   `admin`, `token`, `drive`, `saml`).
//!
//! Everything is a pure function of the [`LogSpec`] (seed, populations, time range): the same
//! spec gives the same events, byte for byte. [`stream`] produces the events in time order five
//! minutes at a time without holding them (for benchmarks that stream gigabytes); [`generate`]
//! collects them; [`manifest`] lists the attacks, each with its time range, actor, IP and the
//! ids of its events, so tests can assert that a detector finds them.
//!
//! Attack IPs come from 192.0.2.0/24 (TEST-NET-1) and are used by nothing else; ordinary
//! office traffic uses 203.0.113.0/24 and home or mobile traffic 198.51.100.0/24 and
//! 2001:db8::/32. No address belongs to anyone.

mod attacks;
mod gws;
mod m365;
pub mod store;

pub use attacks::{Attack, AttackKind, Manifest};
pub use store::LogStore;

use crate::names::Rng;
use serde::Serialize;
use serde_json::Value;

/// Milliseconds.
pub const MINUTE: i64 = 60_000;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;
/// The generator's unit of work: events are produced (and ordered) five minutes at a time.
pub const BUCKET: i64 = 5 * MINUTE;
/// Japan Standard Time, the tenants' local time (diurnal shape, business hours).
pub const JST_OFFSET: i64 = 9 * HOUR;

/// Ordinary events per user per day in the imitation servers' streams.
pub const SERVER_EVENTS_PER_USER_DAY: f64 = 12.0;

/// An imitation server's log clock: the given time, or the wall clock, to the minute.
pub fn clock_ms(given: Option<jiff::Timestamp>) -> i64 {
    let t = given.unwrap_or_else(jiff::Timestamp::now).as_millisecond();
    t - t.rem_euclid(MINUTE)
}

/// Where an event comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// Office 365 Management Activity API (unified audit log).
    M365,
    /// Microsoft Graph `auditLogs/signIns`.
    EntraSignin,
    /// Microsoft Graph `auditLogs/directoryAudits`.
    EntraAudit,
    /// Admin SDK Reports API activities.
    Gws,
}

impl Source {
    pub const ALL: [Source; 4] = [
        Source::M365,
        Source::EntraSignin,
        Source::EntraAudit,
        Source::Gws,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Source::M365 => "m365",
            Source::EntraSignin => "entra-signin",
            Source::EntraAudit => "entra-audit",
            Source::Gws => "gws",
        }
    }
}

/// The Management Activity API content types the generator fills.
pub const CONTENT_TYPES: [&str; 4] = [
    "Audit.AzureActiveDirectory",
    "Audit.Exchange",
    "Audit.SharePoint",
    "Audit.General",
];

/// The Reports API applications the generator fills.
pub const GWS_APPLICATIONS: [&str; 5] = ["login", "admin", "token", "drive", "saml"];

/// One event: its source, the stream within the source (a Management Activity content type,
/// `signIns`, `directoryAudits`, or a Reports API application name), its time and the record
/// exactly as the API serves it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent {
    pub source: Source,
    pub stream: &'static str,
    /// Milliseconds since the Unix epoch (UTC).
    pub time_ms: i64,
    pub record: Value,
}

/// A person in a population.
#[derive(Debug, Clone)]
pub struct Person {
    /// Entra object id (GUID) or Google profile id (21 digits).
    pub id: String,
    /// User principal name or primary e-mail address.
    pub upn: String,
    pub display: String,
    pub admin: bool,
    /// Index into the home places (Japanese cities).
    pub home: usize,
    /// Relative activity, 1..=4.
    pub weight: u8,
    /// Google organisational unit path (GWS only).
    pub org_unit: String,
}

/// The people of one tenant and its identifiers.
#[derive(Debug, Clone)]
pub struct Population {
    /// Entra tenant id, or the Google customer id.
    pub tenant_id: String,
    /// First label of the Microsoft initial domain (`sakura-trading`), or the Google primary
    /// domain's first label.
    pub tenant_name: String,
    /// The e-mail domain (`sakura-trading.co.jp`).
    pub domain: String,
    /// Administrators first (at least two), then staff.
    pub people: Vec<Person>,
}

/// How big a generated population is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// The demo customer: the M365 demo tenant's 480 users and the GWS demo's 60.
    Demo,
    /// A large customer: 100,000 Microsoft 365 users and 50,000 Google Workspace users.
    Large,
    /// This many users in each product.
    Users(usize),
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct LogSpec {
    pub seed: u64,
    /// First millisecond (inclusive).
    pub start_ms: i64,
    /// Last millisecond (exclusive).
    pub end_ms: i64,
    /// Microsoft 365 / Entra population (sources `m365`, `entra-signin`, `entra-audit`).
    pub m365: Option<Population>,
    /// Google Workspace population (source `gws`).
    pub gws: Option<Population>,
    /// Ordinary events per user per average day (all of a product's sources together).
    pub events_per_user_day: f64,
    /// Place the attacks (false: ordinary activity only).
    pub attacks: bool,
}

impl LogSpec {
    /// The demo customer (株式会社さくら商事) on both products, the seven days before `now_ms`.
    pub fn demo(now_ms: i64) -> LogSpec {
        LogSpec {
            seed: 20_261_126,
            start_ms: now_ms - 7 * DAY,
            end_ms: now_ms,
            m365: Some(Population::m365_demo()),
            gws: Some(Population::gws_demo()),
            events_per_user_day: SERVER_EVENTS_PER_USER_DAY,
            attacks: true,
        }
    }

    /// Generated populations of the given size (names of the demo customer's style) over
    /// `[start_ms, end_ms)`.
    pub fn sized(seed: u64, size: Size, start_ms: i64, end_ms: i64) -> LogSpec {
        let (m, g) = match size {
            Size::Demo => (480, 60),
            Size::Large => (100_000, 50_000),
            Size::Users(n) => (n, n),
        };
        LogSpec {
            seed,
            start_ms,
            end_ms,
            m365: Some(Population::synthetic_m365(seed, "sakura-trading", m)),
            gws: Some(Population::synthetic_gws(seed, "sakura-trading.co.jp", g)),
            events_per_user_day: 22.0,
            attacks: true,
        }
    }
}

/// Everything at once: the events in time order and the manifest.
pub struct Generated {
    pub events: Vec<LogEvent>,
    pub manifest: Manifest,
}

/// Generates every event of the spec, in time order, and the manifest.
pub fn generate(spec: &LogSpec) -> Generated {
    let events: Vec<LogEvent> = stream(spec).collect();
    Generated {
        events,
        manifest: manifest(spec),
    }
}

/// The attacks the spec places (cheap: no ordinary event is generated).
pub fn manifest(spec: &LogSpec) -> Manifest {
    attacks::plan(spec).0
}

/// The events of the spec in time order, produced five minutes at a time.
pub fn stream(spec: &LogSpec) -> LogStream {
    let (_, attack_events) = attacks::plan(spec);
    let first = spec.start_ms.div_euclid(BUCKET);
    LogStream {
        spec: spec.clone(),
        bucket: first,
        buffer: Vec::new(),
        next: 0,
        attacks: attack_events,
        attack_next: 0,
    }
}

/// The iterator [`stream`] returns.
pub struct LogStream {
    spec: LogSpec,
    bucket: i64,
    buffer: Vec<LogEvent>,
    next: usize,
    /// Attack events, in time order.
    attacks: Vec<LogEvent>,
    attack_next: usize,
}

impl Iterator for LogStream {
    type Item = LogEvent;

    fn next(&mut self) -> Option<LogEvent> {
        loop {
            if self.next < self.buffer.len() {
                let e = std::mem::replace(
                    &mut self.buffer[self.next],
                    LogEvent {
                        source: Source::M365,
                        stream: "",
                        time_ms: 0,
                        record: Value::Null,
                    },
                );
                self.next += 1;
                return Some(e);
            }
            let t0 = self.bucket * BUCKET;
            if t0 >= self.spec.end_ms {
                return None;
            }
            self.buffer.clear();
            self.next = 0;
            ordinary_bucket(&self.spec, self.bucket, &mut self.buffer);
            let t1 = t0 + BUCKET;
            while self.attack_next < self.attacks.len()
                && self.attacks[self.attack_next].time_ms < t1
            {
                let e = self.attacks[self.attack_next].clone();
                self.attack_next += 1;
                self.buffer.push(e);
            }
            let (start, end) = (self.spec.start_ms, self.spec.end_ms);
            self.buffer
                .retain(|e| e.time_ms >= start && e.time_ms < end);
            // Stable: events of the same millisecond keep their generation order.
            self.buffer.sort_by_key(|e| e.time_ms);
            self.bucket += 1;
        }
    }
}

/// Relative activity per hour of the week (Monday 00:00 JST first), mean 1.
fn diurnal() -> &'static [f64; 168] {
    static TABLE: std::sync::OnceLock<[f64; 168]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let weekday = [
            0.04, 0.03, 0.03, 0.03, 0.04, 0.08, 0.2, 0.5, 1.3, 2.3, 2.4, 2.2, 1.2, 2.2, 2.4, 2.3,
            2.2, 2.0, 1.3, 0.7, 0.5, 0.35, 0.2, 0.08,
        ];
        let mut t = [0.0; 168];
        for d in 0..7 {
            for h in 0..24 {
                t[d * 24 + h] = if d < 5 {
                    weekday[h]
                } else {
                    0.12 + weekday[h] * 0.08
                };
            }
        }
        let mean = t.iter().sum::<f64>() / 168.0;
        for v in t.iter_mut() {
            *v /= mean;
        }
        t
    })
}

/// Hour of the week in JST (Monday 00:00 = 0) for a UTC millisecond.
pub fn jst_hour_of_week(t_ms: i64) -> usize {
    let local = t_ms + JST_OFFSET;
    let days = local.div_euclid(DAY);
    // 1970-01-01 was a Thursday (3 with Monday = 0).
    let weekday = (days + 3).rem_euclid(7) as usize;
    weekday * 24 + (local.rem_euclid(DAY) / HOUR) as usize
}

/// Whether a UTC millisecond falls in business hours (Mon–Fri 08:00–19:00 JST).
pub fn business_hours(t_ms: i64) -> bool {
    let h = jst_hour_of_week(t_ms);
    h / 24 < 5 && (8..19).contains(&(h % 24))
}

fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The ordinary events of one five-minute bucket (not sorted).
fn ordinary_bucket(spec: &LogSpec, bucket: i64, out: &mut Vec<LogEvent>) {
    let t0 = bucket * BUCKET;
    let w = diurnal()[jst_hour_of_week(t0)];
    let per_bucket = spec.events_per_user_day * (BUCKET as f64 / DAY as f64) * w;
    for (tag, pop) in [(1u64, &spec.m365), (2u64, &spec.gws)] {
        let Some(pop) = pop else { continue };
        if pop.people.is_empty() {
            continue;
        }
        let mut rng = Rng::new(mix(spec.seed ^ tag, bucket as u64));
        let expected = per_bucket * pop.people.len() as f64;
        let mut n = expected.floor() as usize;
        if (rng.below(1_000_000) as f64) < expected.fract() * 1_000_000.0 {
            n += 1;
        }
        for _ in 0..n {
            let p = pick_person(&mut rng, pop);
            // Follow-ups (a retry after a mistyped password) come at most a minute later and stay
            // in the bucket.
            let t = t0 + rng.below((BUCKET - 61_000) as usize) as i64;
            if tag == 1 {
                m365::ordinary(pop, p, t, &mut rng, out);
            } else {
                gws::ordinary(pop, p, t, &mut rng, out);
            }
        }
    }
}

/// A person, weighted by activity.
fn pick_person<'a>(rng: &mut Rng, pop: &'a Population) -> &'a Person {
    loop {
        let p = &pop.people[rng.below(pop.people.len())];
        if rng.below(4) < p.weight as usize {
            return p;
        }
    }
}

// ------------------------------------------------------------------ populations

impl Population {
    /// The M365 demo tenant's users: its privileged users (ids and names from the posture
    /// export) and generated staff up to the tenant's 480.
    pub fn m365_demo() -> Population {
        let spec = crate::m365::M365TenantSpec::demo();
        let export = crate::synth::m365_tenant(spec.size, spec.seed, &spec.name);
        Population::from_m365_export(&export, &spec.name, spec.size.users, spec.seed)
    }

    /// The users of an M365 posture export (`synth::m365_tenant`): `mamori_users` as the
    /// administrators, then generated staff up to `users` people.
    pub fn from_m365_export(
        export: &Value,
        tenant_name: &str,
        users: usize,
        seed: u64,
    ) -> Population {
        let tenant_id = export["tenant_id"].as_str().unwrap_or_default().to_string();
        let mut rng = Rng::new(seed ^ 0x1065);
        let mut people = Vec::new();
        for u in export["mamori_users"].as_array().into_iter().flatten() {
            let upn = u["userPrincipalName"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            // The break-glass account never signs in.
            if upn.ends_with(&format!("admin0000@{tenant_name}.co.jp")) {
                continue;
            }
            people.push(Person {
                id: u["id"].as_str().unwrap_or_default().to_string(),
                upn,
                display: u["displayName"].as_str().unwrap_or_default().to_string(),
                admin: true,
                home: rng.below(HOME_PLACES),
                weight: 2,
                org_unit: String::new(),
            });
        }
        let mut pop = Population {
            tenant_id,
            tenant_name: tenant_name.to_string(),
            domain: format!("{tenant_name}.co.jp"),
            people,
        };
        pop.add_staff(&mut rng, users, false);
        pop
    }

    /// A generated Microsoft 365 population: four administrators, then staff.
    pub fn synthetic_m365(seed: u64, tenant_name: &str, users: usize) -> Population {
        let mut rng = Rng::new(seed ^ 0x3365);
        let mut pop = Population {
            tenant_id: rng.guid(),
            tenant_name: tenant_name.to_string(),
            domain: format!("{tenant_name}.co.jp"),
            people: Vec::new(),
        };
        for i in 1..=4.min(users.max(2)) {
            let (_, display) = crate::names::person(&mut rng, i);
            pop.people.push(Person {
                id: rng.guid(),
                upn: format!("admin{i:04}@{}", pop.domain),
                display,
                admin: true,
                home: rng.below(HOME_PLACES),
                weight: 2,
                org_unit: String::new(),
            });
        }
        pop.add_staff(&mut rng, users, false);
        pop
    }

    /// The GWS demo tenant's users (`gws::Tenant` for `GwsTenantSpec::demo()`).
    pub fn gws_demo() -> Population {
        let tenant = crate::gws::Tenant::generate(&crate::gws::GwsTenantSpec::demo());
        Population::from_gws_users(
            &tenant.customer_id,
            &tenant.primary_domain,
            &tenant.users,
            7,
        )
    }

    /// The users of a Google Workspace tenant (Directory `user` resources); suspended users and
    /// the scanner account are left out.
    pub fn from_gws_users(
        customer_id: &str,
        domain: &str,
        users: &[Value],
        seed: u64,
    ) -> Population {
        let mut rng = Rng::new(seed ^ 0x6775);
        let mut admins = Vec::new();
        let mut staff = Vec::new();
        for u in users {
            let email = u["primaryEmail"].as_str().unwrap_or_default().to_string();
            if u["suspended"] == true
                || email.starts_with("scanner@")
                || email.starts_with("breakglass")
            {
                continue;
            }
            let p = Person {
                id: u["id"].as_str().unwrap_or_default().to_string(),
                upn: email,
                display: u["name"]["fullName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                admin: u["isAdmin"] == true,
                home: rng.below(HOME_PLACES),
                weight: 1 + rng.below(4) as u8,
                org_unit: u["orgUnitPath"].as_str().unwrap_or("/").to_string(),
            };
            if p.admin {
                admins.push(p);
            } else {
                staff.push(p);
            }
        }
        admins.extend(staff);
        Population {
            tenant_id: customer_id.to_string(),
            tenant_name: domain.split('.').next().unwrap_or(domain).to_string(),
            domain: domain.to_string(),
            people: admins,
        }
    }

    /// A generated Google Workspace population: two super administrators, then staff.
    pub fn synthetic_gws(seed: u64, domain: &str, users: usize) -> Population {
        let mut rng = Rng::new(seed ^ 0x3777);
        let mut pop = Population {
            tenant_id: format!("C0{:07x}", rng.next_u64() & 0xfff_ffff),
            tenant_name: domain.split('.').next().unwrap_or(domain).to_string(),
            domain: domain.to_string(),
            people: Vec::new(),
        };
        for (i, local) in ["yamada.taro", "sato.kenichi"].iter().enumerate() {
            pop.people.push(Person {
                id: format!("1{:020}", rng.next_u64() % 10u64.pow(18) + i as u64),
                upn: format!("{local}@{domain}"),
                display: if i == 0 {
                    "山田 太郎"
                } else {
                    "佐藤 健一"
                }
                .to_string(),
                admin: true,
                home: 0,
                weight: 2,
                org_unit: "/情報システム部".into(),
            });
        }
        pop.add_staff(&mut rng, users, true);
        pop
    }

    fn add_staff(&mut self, rng: &mut Rng, total: usize, google: bool) {
        const UNITS: [&str; 5] = [
            "/営業部",
            "/経理部",
            "/総務部",
            "/開発部",
            "/営業部/大阪営業所",
        ];
        let mut i = self.people.len();
        while self.people.len() < total.max(self.people.len()) {
            let (local, display) = crate::names::person(rng, i);
            let id = if google {
                format!("1{:020}", rng.next_u64() % 10u64.pow(20))
            } else {
                rng.guid()
            };
            self.people.push(Person {
                id,
                upn: format!("{local}@{}", self.domain),
                display,
                admin: false,
                home: rng.below(HOME_PLACES),
                weight: 1 + rng.below(4) as u8,
                org_unit: if google {
                    UNITS[rng.below(UNITS.len())].to_string()
                } else {
                    String::new()
                },
            });
            i += 1;
        }
    }

    /// Administrators (at least one).
    pub fn admins(&self) -> &[Person] {
        // Every population lists its administrators first (a slice, not a scan of 100,000
        // people per generated event).
        let n = self.people.partition_point(|p| p.admin);
        if n == 0 {
            &self.people[..self.people.len().min(1)]
        } else {
            &self.people[..n]
        }
    }

    /// Staff (non-administrators; everyone when there is none).
    pub fn staff(&self) -> &[Person] {
        let n = self.people.partition_point(|p| p.admin);
        if n == self.people.len() {
            &self.people
        } else {
            &self.people[n..]
        }
    }
}

// ------------------------------------------------------------------ places and addresses

/// A place a sign-in is located at.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    pub city: &'static str,
    pub state: &'static str,
    pub country: &'static str,
    pub lat: f64,
    pub lon: f64,
}

const HOME_PLACES: usize = 5;

/// The tenants' home cities first (`HOME_PLACES` of them), then places attacks come from.
pub const PLACES: [Place; 11] = [
    Place {
        city: "Tokyo",
        state: "Tokyo",
        country: "JP",
        lat: 35.6895,
        lon: 139.6917,
    },
    Place {
        city: "Osaka",
        state: "Osaka",
        country: "JP",
        lat: 34.6937,
        lon: 135.5023,
    },
    Place {
        city: "Nagoya",
        state: "Aichi",
        country: "JP",
        lat: 35.1815,
        lon: 136.9066,
    },
    Place {
        city: "Fukuoka",
        state: "Fukuoka",
        country: "JP",
        lat: 33.5904,
        lon: 130.4017,
    },
    Place {
        city: "Sapporo",
        state: "Hokkaido",
        country: "JP",
        lat: 43.0618,
        lon: 141.3545,
    },
    Place {
        city: "Amsterdam",
        state: "North Holland",
        country: "NL",
        lat: 52.3676,
        lon: 4.9041,
    },
    Place {
        city: "London",
        state: "England",
        country: "GB",
        lat: 51.5072,
        lon: -0.1276,
    },
    Place {
        city: "Sao Paulo",
        state: "Sao Paulo",
        country: "BR",
        lat: -23.5505,
        lon: -46.6333,
    },
    Place {
        city: "Frankfurt am Main",
        state: "Hesse",
        country: "DE",
        lat: 50.1109,
        lon: 8.6821,
    },
    Place {
        city: "Lagos",
        state: "Lagos",
        country: "NG",
        lat: 6.5244,
        lon: 3.3792,
    },
    Place {
        city: "Ashburn",
        state: "Virginia",
        country: "US",
        lat: 39.0438,
        lon: -77.4874,
    },
];

/// The company's office egress address for a person's home city (203.0.113.0/24).
pub fn office_ip(p: &Person) -> String {
    format!("203.0.113.{}", 10 + p.home * 8 + (p.weight as usize % 4))
}

/// A person's home or mobile address (198.51.100.0/24 or 2001:db8::/32), stable per person.
pub fn home_ip(p: &Person) -> String {
    let h =
        p.id.bytes()
            .fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(b as u64));
    if h % 5 == 0 {
        format!(
            "2001:db8:{:x}:{:x}::{:x}",
            (h >> 8) & 0xffff,
            (h >> 24) & 0xffff,
            1 + (h >> 40) % 0xfff
        )
    } else {
        format!("198.51.100.{}", 1 + h % 254)
    }
}

/// The address an ordinary event of a person comes from: the office in business hours,
/// otherwise home.
pub fn usual_ip(p: &Person, t_ms: i64) -> String {
    if business_hours(t_ms) {
        office_ip(p)
    } else {
        home_ip(p)
    }
}

// ------------------------------------------------------------------ time formatting

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's civil_from_days).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn parts(t_ms: i64) -> (i64, u32, u32, i64, i64, i64, i64) {
    let days = t_ms.div_euclid(DAY);
    let rem = t_ms.rem_euclid(DAY);
    let (y, m, d) = civil(days);
    (
        y,
        m,
        d,
        rem / HOUR,
        rem % HOUR / MINUTE,
        rem % MINUTE / 1000,
        rem % 1000,
    )
}

/// `2026-11-26T09:15:02Z` (Graph).
pub fn iso_z(t_ms: i64) -> String {
    let (y, mo, d, h, mi, s, _) = parts(t_ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `2026-11-26T09:15:02.123Z` (Google).
pub fn iso_millis(t_ms: i64) -> String {
    let (y, mo, d, h, mi, s, ms) = parts(t_ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

/// `2026-11-26T09:15:02` (the unified audit log's CreationTime: UTC without a zone).
pub fn iso_plain(t_ms: i64) -> String {
    let (y, mo, d, h, mi, s, _) = parts(t_ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
}

/// `202611260915` (content ids).
pub fn compact_minute(t_ms: i64) -> String {
    let (y, mo, d, h, mi, _, _) = parts(t_ms);
    format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}")
}

/// Parses the date-time forms the imitation APIs accept: RFC 3339 with a zone or `Z`, or a
/// zone-less `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM`, `YYYY-MM-DDTHH:MM:SS[.fff]` taken as UTC.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Some(ts.as_millisecond());
    }
    let dt = if s.len() == 10 {
        s.parse::<jiff::civil::Date>()
            .ok()?
            .to_datetime(jiff::civil::Time::midnight())
    } else {
        s.parse::<jiff::civil::DateTime>().ok()?
    };
    jiff::tz::TimeZone::UTC
        .to_timestamp(dt)
        .ok()
        .map(|t| t.as_millisecond())
}

/// A record's time as the generator wrote it, for any source.
pub fn record_time(source: Source, record: &Value) -> Option<i64> {
    let s = match source {
        Source::M365 => record["CreationTime"].as_str()?,
        Source::EntraSignin => record["createdDateTime"].as_str()?,
        Source::EntraAudit => record["activityDateTime"].as_str()?,
        Source::Gws => record["id"]["time"].as_str()?,
    };
    parse_time(s)
}

/// A record's id, for any source (the Reports API's `id.uniqueQualifier`).
pub fn record_id(source: Source, record: &Value) -> Option<&str> {
    match source {
        Source::M365 => record["Id"].as_str(),
        Source::EntraSignin | Source::EntraAudit => record["id"].as_str(),
        Source::Gws => record["id"]["uniqueQualifier"].as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `admins()` and `staff()` are slices: every population lists its administrators first.
    #[test]
    fn administrators_come_first_in_every_population() {
        for pop in [
            Population::m365_demo(),
            Population::gws_demo(),
            Population::synthetic_m365(7, "big", 2_000),
            Population::synthetic_gws(7, "big.example", 2_000),
        ] {
            let admins = pop.people.iter().filter(|p| p.admin).count();
            assert!(admins > 0, "{}", pop.domain);
            assert!(
                pop.people[..admins].iter().all(|p| p.admin),
                "{}",
                pop.domain
            );
            assert_eq!(pop.admins().len(), admins);
            assert_eq!(pop.staff().len(), pop.people.len() - admins);
        }
    }

    #[test]
    fn time_formats() {
        let t = "2026-11-26T09:15:02.123Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond();
        assert_eq!(iso_z(t), "2026-11-26T09:15:02Z");
        assert_eq!(iso_millis(t), "2026-11-26T09:15:02.123Z");
        assert_eq!(iso_plain(t), "2026-11-26T09:15:02");
        assert_eq!(parse_time("2026-11-26T09:15:02.123Z"), Some(t));
        assert_eq!(parse_time("2026-11-26T09:15:02"), Some(t - 123));
        assert_eq!(parse_time("2026-11-26T09:15"), Some(t - 2123));
        assert_eq!(
            parse_time("2026-11-26"),
            Some(t - 2123 - 15 * MINUTE - 9 * HOUR)
        );
        assert_eq!(parse_time("yesterday"), None);
        // 2026-11-26 is a Thursday: 18:15 JST.
        assert_eq!(jst_hour_of_week(t), 3 * 24 + 18);
    }
}
