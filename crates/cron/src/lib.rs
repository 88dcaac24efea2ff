//! Cron schedules for per-tenant scans.
//!
//! Operators write schedules in standard 5-field cron syntax:
//!
//! ```text
//! ┌───────────── minute        0-59
//! │ ┌─────────── hour          0-23
//! │ │ ┌───────── day-of-month  1-31
//! │ │ │ ┌─────── month         1-12 or JAN-DEC
//! │ │ │ │ ┌───── day-of-week   0-7 or SUN-SAT (0 and 7 are Sunday)
//! * * * * *
//! ```
//!
//! Each field is a comma-separated list of items; an item is `*`, a value `a`,
//! a range `a-b`, or one of those followed by a step: `*/n`, `a-b/n`, `a/n`
//! (`a/n` means `a-max/n`). Month and day names are case-insensitive. In the
//! day-of-week field a range may end with `SUN` (`FRI-SUN`), meaning Sunday.
//! The macros `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`,
//! `@midnight` and `@hourly` are accepted (case-insensitive).
//!
//! Day matching follows Vixie cron: when the day-of-month *and* the
//! day-of-week field are both restricted, a day matches if **either** matches;
//! otherwise both must match. As in Vixie cron (and cronie), a field counts as
//! unrestricted when it starts with `*` — so `*/2` is "unrestricted" for the
//! purposes of this rule and `0 0 */2 * MON` fires on odd days that are
//! Mondays, while `0 0 13 * FRI` fires on every 13th and on every Friday.
//!
//! Schedules are evaluated in a time zone (default [`DEFAULT_TIME_ZONE`]).
//! Around daylight-saving transitions:
//!
//! * a local time that does not exist (spring-forward gap) fires once, at the
//!   first valid instant after the gap (the transition instant; e.g. 02:30 in
//!   America/New_York on a spring-forward day fires at 03:00 EDT, and several
//!   scheduled times inside the same gap all collapse into that one firing);
//! * a local time that occurs twice (fall-back fold) fires once, at the
//!   earlier occurrence.

use std::fmt;
use std::str::FromStr;

use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::Timestamp;

/// The time zone schedules are evaluated in unless the tenant chose another.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Tokyo";

/// Longest accepted cron expression, in characters.
pub const MAX_EXPRESSION_LEN: usize = 200;

/// How far ahead [`Schedule::next_after`] looks before giving up, in years.
pub const SEARCH_HORIZON_YEARS: i32 = 5;

/// One of the five fields of a cron expression (used in error messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CronField {
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

impl CronField {
    const ALL: [CronField; 5] = [
        CronField::Minute,
        CronField::Hour,
        CronField::DayOfMonth,
        CronField::Month,
        CronField::DayOfWeek,
    ];

    /// Human-readable field name, as used in error messages.
    pub fn name(self) -> &'static str {
        match self {
            CronField::Minute => "minute",
            CronField::Hour => "hour",
            CronField::DayOfMonth => "day-of-month",
            CronField::Month => "month",
            CronField::DayOfWeek => "day-of-week",
        }
    }

    /// Smallest value accepted in this field.
    pub fn min(self) -> u8 {
        match self {
            CronField::Minute | CronField::Hour | CronField::DayOfWeek => 0,
            CronField::DayOfMonth | CronField::Month => 1,
        }
    }

    /// Largest value accepted in this field (7 for day-of-week: Sunday).
    pub fn max(self) -> u8 {
        match self {
            CronField::Minute => 59,
            CronField::Hour => 23,
            CronField::DayOfMonth => 31,
            CronField::Month => 12,
            CronField::DayOfWeek => 7,
        }
    }

    fn expected(self) -> String {
        match self {
            CronField::Month => "expected a number 1-12 or a month name JAN-DEC".to_string(),
            CronField::DayOfWeek => "expected a number 0-7 or a day name SUN-SAT".to_string(),
            f => format!("expected a number {}-{}", f.min(), f.max()),
        }
    }
}

impl fmt::Display for CronField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a cron expression or time zone name was rejected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CronError {
    #[error("cron expression is empty")]
    Empty,
    #[error("cron expression is {len} characters long; at most {max} are allowed")]
    TooLong { len: usize, max: usize },
    #[error(
        "cron expression has {found} field(s); expected 5 \
         (minute hour day-of-month month day-of-week) or a macro such as @daily"
    )]
    FieldCount { found: usize },
    #[error(
        "unknown macro '{name}'; supported: @yearly, @annually, @monthly, @weekly, \
         @daily, @midnight, @hourly"
    )]
    UnknownMacro { name: String },
    #[error("{field} field: {value} is out of range {min}-{max}")]
    OutOfRange {
        field: CronField,
        value: u32,
        min: u8,
        max: u8,
    },
    #[error("{field} field: range {start}-{end} is reversed (start must not exceed end)")]
    ReversedRange {
        field: CronField,
        start: u8,
        end: u8,
    },
    #[error("{field} field: step in '{item}' must be at least 1")]
    ZeroStep { field: CronField, item: String },
    #[error("{field} field: invalid '{token}': {reason}")]
    Invalid {
        field: CronField,
        token: String,
        reason: String,
    },
    #[error("time zone name is empty")]
    EmptyTimeZone,
    #[error("unknown time zone '{name}' (expected an IANA name such as Asia/Tokyo)")]
    UnknownTimeZone { name: String },
}

fn invalid(field: CronField, token: &str, reason: impl Into<String>) -> CronError {
    CronError::Invalid {
        field,
        token: token.to_string(),
        reason: reason.into(),
    }
}

/// Resolves an IANA time zone name (e.g. `Asia/Tokyo`, `America/New_York`,
/// `UTC`) via [`jiff::tz::TimeZone::get`].
pub fn parse_time_zone(name: &str) -> Result<TimeZone, CronError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CronError::EmptyTimeZone);
    }
    TimeZone::get(name).map_err(|_| CronError::UnknownTimeZone {
        name: name.to_string(),
    })
}

/// A parsed cron schedule.
///
/// Each field is stored as a bitmask (bit `n` set = value `n` allowed), so
/// matching is a handful of bit tests and finding the next allowed value is a
/// shift plus `trailing_zeros`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The expression as written (trimmed).
    expr: String,
    /// Bits 0..=59.
    minutes: u64,
    /// Bits 0..=23.
    hours: u32,
    /// Bits 1..=31.
    days_of_month: u32,
    /// Bits 1..=12.
    months: u16,
    /// Bits 0..=6, Sunday = 0 (7 is folded into 0 at parse time).
    days_of_week: u8,
    /// Day-of-month field started with `*` (Vixie's DOM_STAR).
    dom_star: bool,
    /// Day-of-week field started with `*` (Vixie's DOW_STAR).
    dow_star: bool,
}

impl Schedule {
    /// Parses a 5-field cron expression or a macro such as `@daily`.
    pub fn parse(expr: &str) -> Result<Schedule, CronError> {
        let len = expr.chars().count();
        if len > MAX_EXPRESSION_LEN {
            return Err(CronError::TooLong {
                len,
                max: MAX_EXPRESSION_LEN,
            });
        }
        let trimmed = expr.trim();
        if trimmed.is_empty() {
            return Err(CronError::Empty);
        }
        let fields: Vec<&str> = trimmed.split_ascii_whitespace().collect();
        let body: [&str; 5] = if fields[0].starts_with('@') {
            if fields.len() != 1 {
                return Err(CronError::FieldCount {
                    found: fields.len(),
                });
            }
            match fields[0].to_ascii_lowercase().as_str() {
                "@yearly" | "@annually" => ["0", "0", "1", "1", "*"],
                "@monthly" => ["0", "0", "1", "*", "*"],
                "@weekly" => ["0", "0", "*", "*", "0"],
                "@daily" | "@midnight" => ["0", "0", "*", "*", "*"],
                "@hourly" => ["0", "*", "*", "*", "*"],
                _ => {
                    return Err(CronError::UnknownMacro {
                        name: fields[0].to_string(),
                    })
                }
            }
        } else {
            match <[&str; 5]>::try_from(fields.as_slice()) {
                Ok(f) => f,
                Err(_) => {
                    return Err(CronError::FieldCount {
                        found: fields.len(),
                    })
                }
            }
        };

        let mut masks = [0u64; 5];
        for (i, field) in CronField::ALL.into_iter().enumerate() {
            masks[i] = parse_field(field, body[i])?;
        }
        let mut dow = masks[4];
        if dow & (1 << 7) != 0 {
            dow = (dow & !(1 << 7)) | 1;
        }
        Ok(Schedule {
            expr: trimmed.to_string(),
            minutes: masks[0],
            hours: masks[1] as u32,
            days_of_month: masks[2] as u32,
            months: masks[3] as u16,
            days_of_week: dow as u8,
            dom_star: body[2].starts_with('*'),
            dow_star: body[4].starts_with('*'),
        })
    }

    /// The expression as written by the operator (surrounding whitespace
    /// trimmed).
    pub fn expression(&self) -> &str {
        &self.expr
    }

    /// The first fire time strictly after `after`, evaluated in `tz`; `None`
    /// if there is none within [`SEARCH_HORIZON_YEARS`] years (more precisely:
    /// on or before the same local calendar date 5 years later), e.g. for
    /// `0 0 30 2 *`.
    ///
    /// # Complexity
    ///
    /// The search never steps minute by minute over the horizon. It walks a
    /// local-time cursor and, at each level, jumps straight to the next
    /// allowed value with a bitmask lookup: a non-matching month jumps to the
    /// next allowed month (≤ 12 per year), a non-matching day moves to the
    /// next day within an allowed month (≤ 31 per allowed month), and on a
    /// matching day the next allowed hour and minute are found in O(1) each.
    /// Because every field has at least one allowed value, the first
    /// matching day yields a candidate after at most a few more steps. The
    /// worst case is a schedule that never fires (e.g. `0 0 31 2,4,6,9,11 *`):
    /// about 12·5 month jumps plus ≤ 31·12·5 cheap integer day steps
    /// (< 2,000 iterations, no allocation, no time-zone work). Typical
    /// schedules finish in fewer than ten iterations plus one or two
    /// time-zone conversions, i.e. O(1) per tenant per tick. Candidates that
    /// resolve to instants not after `after` (only possible inside a DST
    /// fold or gap) are skipped; there are at most ~60 per transition hour.
    pub fn next_after(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let mut steps = 0;
        self.search(after, tz, &mut steps)
    }

    /// The next `n` fire times strictly after `after` (fewer if the schedule
    /// stops firing within the search horizon), for the settings-page preview.
    pub fn upcoming(&self, after: Timestamp, tz: &TimeZone, n: usize) -> Vec<Timestamp> {
        let mut out = Vec::with_capacity(n.min(1024));
        let mut cur = after;
        while out.len() < n {
            match self.next_after(cur, tz) {
                Some(t) => {
                    out.push(t);
                    cur = t;
                }
                None => break,
            }
        }
        out
    }

    fn day_matches(&self, year: i32, month: u8, day: u8) -> bool {
        let dom = self.days_of_month & (1 << day) != 0;
        let dow = self.days_of_week & (1 << weekday(year, month, day)) != 0;
        if self.dom_star || self.dow_star {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// The search behind [`Schedule::next_after`]; `steps` counts loop
    /// iterations (tests assert on it to keep the complexity honest).
    fn search(&self, after: Timestamp, tz: &TimeZone, steps: &mut u32) -> Option<Timestamp> {
        let local = tz.to_datetime(after);
        let mut c = Cursor {
            year: i32::from(local.year()),
            month: local.month() as u8,
            day: local.day() as u8,
            hour: local.hour() as u8,
            minute: local.minute() as u8,
        };
        // Every local time up to and including `local` (floored to the
        // minute) resolves to an instant <= `after`, so the first candidate is
        // the next whole local minute.
        c.next_minute();
        let limit = (
            i32::from(local.year()) + SEARCH_HORIZON_YEARS,
            local.month() as u8,
            local.day() as u8,
        );

        loop {
            *steps += 1;
            if (c.year, c.month, c.day) > limit || c.year > 9999 {
                return None;
            }
            if self.months & (1 << c.month) == 0 {
                match next_bit(u64::from(self.months), u32::from(c.month) + 1, 12) {
                    Some(m) => c.month = m as u8,
                    None => {
                        c.year += 1;
                        c.month = self.months.trailing_zeros() as u8;
                    }
                }
                c.day = 1;
                c.hour = 0;
                c.minute = 0;
                continue;
            }
            if !self.day_matches(c.year, c.month, c.day) {
                c.next_day();
                continue;
            }
            if self.hours & (1 << c.hour) == 0 {
                match next_bit(u64::from(self.hours), u32::from(c.hour) + 1, 23) {
                    Some(h) => {
                        c.hour = h as u8;
                        c.minute = 0;
                    }
                    None => c.next_day(),
                }
                continue;
            }
            if self.minutes & (1 << c.minute) == 0 {
                match next_bit(self.minutes, u32::from(c.minute) + 1, 59) {
                    Some(m) => c.minute = m as u8,
                    None => c.next_hour(),
                }
                continue;
            }
            let ts = resolve(&c, tz)?;
            if ts > after {
                return Some(ts);
            }
            // Only inside a DST fold/gap: this local time already fired.
            c.next_minute();
        }
    }
}

impl FromStr for Schedule {
    type Err = CronError;

    fn from_str(s: &str) -> Result<Schedule, CronError> {
        Schedule::parse(s)
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expr)
    }
}

/// Parses one field into a bitmask of allowed values.
fn parse_field(field: CronField, text: &str) -> Result<u64, CronError> {
    let mut mask = 0u64;
    for item in text.split(',') {
        if item.is_empty() {
            return Err(invalid(field, text, "empty list element"));
        }
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(parse_step(field, item, step)?)),
            None => (item, None),
        };
        let (lo, hi) = if range == "*" {
            (field.min(), field.max())
        } else if let Some((a, b)) = range.split_once('-') {
            let lo = parse_value(field, a, item, false)?;
            let hi = parse_value(field, b, item, true)?;
            if lo > hi {
                return Err(CronError::ReversedRange {
                    field,
                    start: lo,
                    end: hi,
                });
            }
            (lo, hi)
        } else {
            let v = parse_value(field, range, item, false)?;
            if step.is_some() {
                (v, field.max())
            } else {
                (v, v)
            }
        };
        let step = step.unwrap_or(1);
        let mut v = u32::from(lo);
        while v <= u32::from(hi) {
            mask |= 1 << v;
            v += step;
        }
    }
    Ok(mask)
}

fn parse_step(field: CronField, item: &str, step: &str) -> Result<u32, CronError> {
    if step.is_empty() || !step.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(field, item, "step must be a positive whole number"));
    }
    let n: u32 = step
        .parse()
        .map_err(|_| invalid(field, item, "step is too large"))?;
    if n == 0 {
        return Err(CronError::ZeroStep {
            field,
            item: item.to_string(),
        });
    }
    Ok(n)
}

const MONTH_NAMES: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// Parses a single value (number or name). `range_end`: the value is the end
/// of a range, where `SUN` means 7 so that `FRI-SUN` is not reversed.
fn parse_value(field: CronField, s: &str, item: &str, range_end: bool) -> Result<u8, CronError> {
    if s.is_empty() {
        return Err(invalid(
            field,
            item,
            format!("missing value; {}", field.expected()),
        ));
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        let value: u32 = s
            .parse()
            .map_err(|_| invalid(field, item, "number is too large"))?;
        if value < u32::from(field.min()) || value > u32::from(field.max()) {
            return Err(CronError::OutOfRange {
                field,
                value,
                min: field.min(),
                max: field.max(),
            });
        }
        return Ok(value as u8);
    }
    let names: &[&str] = match field {
        CronField::Month => &MONTH_NAMES,
        CronField::DayOfWeek => &DAY_NAMES,
        _ => &[],
    };
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
        return Ok(match field {
            CronField::Month => i as u8 + 1,
            _ if i == 0 && range_end => 7,
            _ => i as u8,
        });
    }
    let reason = if s == "*" {
        "'*' cannot be used inside a range".to_string()
    } else {
        field.expected()
    };
    Err(invalid(field, item, reason))
}

/// Lowest set bit of `mask` in `from..=max`.
fn next_bit(mask: u64, from: u32, max: u32) -> Option<u32> {
    if from > max {
        return None;
    }
    let rest = mask >> from;
    if rest == 0 {
        return None;
    }
    let bit = from + rest.trailing_zeros();
    (bit <= max).then_some(bit)
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Day of week, 0 = Sunday (Sakamoto's method, proleptic Gregorian).
fn weekday(year: i32, month: u8, day: u8) -> u8 {
    const T: [i32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let y = if month < 3 { year - 1 } else { year };
    let w = y + y.div_euclid(4) - y.div_euclid(100)
        + y.div_euclid(400)
        + T[usize::from(month) - 1]
        + i32::from(day);
    w.rem_euclid(7) as u8
}

/// A local (civil) minute being considered by the search.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
}

impl Cursor {
    fn next_day(&mut self) {
        self.hour = 0;
        self.minute = 0;
        if self.day < days_in_month(self.year, self.month) {
            self.day += 1;
            return;
        }
        self.day = 1;
        if self.month < 12 {
            self.month += 1;
        } else {
            self.month = 1;
            self.year += 1;
        }
    }

    fn next_hour(&mut self) {
        if self.hour < 23 {
            self.hour += 1;
            self.minute = 0;
        } else {
            self.next_day();
        }
    }

    fn next_minute(&mut self) {
        if self.minute < 59 {
            self.minute += 1;
        } else {
            self.next_hour();
        }
    }
}

/// Maps a local minute to the instant it fires at in `tz`: unambiguous times
/// map directly, times in a fold use the earlier occurrence, and times in a
/// gap fire at the transition instant (the first valid instant after it).
/// This mapping is non-decreasing in local time, which the search relies on.
fn resolve(c: &Cursor, tz: &TimeZone) -> Option<Timestamp> {
    let dt = DateTime::new(
        i16::try_from(c.year).ok()?,
        c.month as i8,
        c.day as i8,
        c.hour as i8,
        c.minute as i8,
        0,
        0,
    )
    .ok()?;
    let ambiguous = tz.to_ambiguous_timestamp(dt);
    match ambiguous.offset() {
        AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(dt).ok(),
        AmbiguousOffset::Fold { before, .. } => before.to_timestamp(dt).ok(),
        AmbiguousOffset::Gap { after, .. } => {
            // `dt` read with the post-gap offset is an instant strictly before
            // the transition, so the next transition is the end of the gap.
            let probe = after.to_timestamp(dt).ok()?;
            tz.following(probe)
                .next()
                .map(|t| t.timestamp())
                .or_else(|| ambiguous.compatible().ok())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse()
            .unwrap_or_else(|e| panic!("bad timestamp {s}: {e}"))
    }

    fn tz(name: &str) -> TimeZone {
        parse_time_zone(name).unwrap()
    }

    fn sched(expr: &str) -> Schedule {
        Schedule::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
    }

    fn next(expr: &str, after: &str, zone: &str) -> Option<Timestamp> {
        sched(expr).next_after(ts(after), &tz(zone))
    }

    fn upcoming(expr: &str, after: &str, zone: &str, n: usize) -> Vec<Timestamp> {
        sched(expr).upcoming(ts(after), &tz(zone), n)
    }

    fn tss(list: &[&str]) -> Vec<Timestamp> {
        list.iter().map(|s| ts(s)).collect()
    }

    fn err(expr: &str) -> String {
        Schedule::parse(expr)
            .expect_err(&format!("{expr:?} should be rejected"))
            .to_string()
    }

    // ---- evaluation -------------------------------------------------------

    #[test]
    fn every_five_minutes() {
        assert_eq!(
            upcoming("*/5 * * * *", "2025-01-15T10:02:30Z", "UTC", 4),
            tss(&[
                "2025-01-15T10:05:00Z",
                "2025-01-15T10:10:00Z",
                "2025-01-15T10:15:00Z",
                "2025-01-15T10:20:00Z",
            ])
        );
        // Crossing an hour and a day boundary.
        assert_eq!(
            next("*/5 * * * *", "2025-12-31T23:57:00Z", "UTC"),
            Some(ts("2026-01-01T00:00:00Z"))
        );
    }

    #[test]
    fn daily_3am_tokyo_is_1800_utc_previous_day() {
        let tokyo = tz(DEFAULT_TIME_ZONE);
        let s = sched("0 3 * * *");
        assert_eq!(
            s.next_after(ts("2025-01-15T00:00:00Z"), &tokyo),
            Some(ts("2025-01-15T18:00:00Z"))
        );
        assert_eq!(
            s.next_after(ts("2025-01-15T18:00:00Z"), &tokyo),
            Some(ts("2025-01-16T18:00:00Z"))
        );
        // Same schedule in UTC differs.
        assert_eq!(
            s.next_after(ts("2025-01-15T00:00:00Z"), &TimeZone::UTC),
            Some(ts("2025-01-15T03:00:00Z"))
        );
    }

    #[test]
    fn strictly_after() {
        // Exactly at a fire time: the next one, not the same.
        assert_eq!(
            next("0 * * * *", "2025-01-15T10:00:00Z", "UTC"),
            Some(ts("2025-01-15T11:00:00Z"))
        );
        assert_eq!(
            next("* * * * *", "2025-01-15T10:00:00Z", "UTC"),
            Some(ts("2025-01-15T10:01:00Z"))
        );
        // Just before: that one. Just after (sub-second): the next one.
        assert_eq!(
            next("0 * * * *", "2025-01-15T09:59:59.999Z", "UTC"),
            Some(ts("2025-01-15T10:00:00Z"))
        );
        assert_eq!(
            next("0 * * * *", "2025-01-15T10:00:00.000000001Z", "UTC"),
            Some(ts("2025-01-15T11:00:00Z"))
        );
        // Fire times are always at second 0.
        assert_eq!(
            next("* * * * *", "2025-01-15T10:00:30Z", "UTC"),
            Some(ts("2025-01-15T10:01:00Z"))
        );
    }

    #[test]
    fn weekdays_mon_fri() {
        let s = "30 9 * * MON-FRI";
        // Friday 2025-01-17 10:00 JST -> Monday 2025-01-20 09:30 JST.
        assert_eq!(
            next(s, "2025-01-17T10:00:00+09:00", "Asia/Tokyo"),
            Some(ts("2025-01-20T09:30:00+09:00"))
        );
        assert_eq!(
            upcoming(s, "2025-01-16T00:00:00+09:00", "Asia/Tokyo", 3),
            tss(&[
                "2025-01-16T09:30:00+09:00",
                "2025-01-17T09:30:00+09:00",
                "2025-01-20T09:30:00+09:00",
            ])
        );
        // Same via numbers and lower-case names.
        assert_eq!(sched("30 9 * * 1-5").days_of_week, sched(s).days_of_week);
        assert_eq!(
            sched("30 9 * * mon-fri").days_of_week,
            sched(s).days_of_week
        );
    }

    #[test]
    fn quarterly_first_of_month() {
        assert_eq!(
            upcoming("0 0 1 */3 *", "2025-02-10T00:00:00+09:00", "Asia/Tokyo", 4),
            tss(&[
                "2025-04-01T00:00:00+09:00",
                "2025-07-01T00:00:00+09:00",
                "2025-10-01T00:00:00+09:00",
                "2026-01-01T00:00:00+09:00",
            ])
        );
    }

    #[test]
    fn vixie_or_rule_when_both_day_fields_restricted() {
        // 13th of the month OR any Friday. January 2025: Fri 3, 10, Mon 13, Fri 17.
        assert_eq!(
            upcoming("0 0 13 * FRI", "2025-01-01T00:00:00Z", "UTC", 5),
            tss(&[
                "2025-01-03T00:00:00Z",
                "2025-01-10T00:00:00Z",
                "2025-01-13T00:00:00Z",
                "2025-01-17T00:00:00Z",
                "2025-01-24T00:00:00Z",
            ])
        );
        // Only one restricted: AND (i.e. just that field).
        assert_eq!(
            upcoming("0 0 * * FRI", "2025-01-01T00:00:00Z", "UTC", 3),
            tss(&[
                "2025-01-03T00:00:00Z",
                "2025-01-10T00:00:00Z",
                "2025-01-17T00:00:00Z",
            ])
        );
        assert_eq!(
            upcoming("0 0 13 * *", "2025-01-01T00:00:00Z", "UTC", 2),
            tss(&["2025-01-13T00:00:00Z", "2025-02-13T00:00:00Z"])
        );
        // Vixie: a field starting with '*' counts as unrestricted, so this is
        // "odd day AND Monday". January 2025 Mondays: 6, 13, 20, 27 -> 13, 27.
        assert_eq!(
            upcoming("0 0 */2 * MON", "2025-01-01T00:00:00Z", "UTC", 2),
            tss(&["2025-01-13T00:00:00Z", "2025-01-27T00:00:00Z"])
        );
    }

    #[test]
    fn feb_29_finds_next_leap_year() {
        assert_eq!(
            next("0 0 29 2 *", "2025-03-01T00:00:00Z", "Asia/Tokyo"),
            Some(ts("2028-02-29T00:00:00+09:00"))
        );
        assert_eq!(
            upcoming("0 0 29 2 *", "2023-01-01T00:00:00Z", "UTC", 3),
            tss(&[
                "2024-02-29T00:00:00Z",
                "2028-02-29T00:00:00Z",
                "2032-02-29T00:00:00Z",
            ])
        );
        // 2100 is not a leap year; 2104 is beyond the 5-year horizon.
        assert_eq!(next("0 0 29 2 *", "2097-01-01T00:00:00Z", "UTC"), None);
    }

    #[test]
    fn impossible_dates_return_none() {
        let utc = TimeZone::UTC;
        let after = ts("2025-01-01T00:00:00Z");
        for expr in ["0 0 30 2 *", "0 0 31 4 *", "0 0 31 2,4,6,9,11 *"] {
            let s = sched(expr);
            let mut steps = 0;
            assert_eq!(s.search(after, &utc, &mut steps), None, "{expr}");
            // Skips by month/day: nowhere near 5 years of minutes (~2.6M).
            assert!(steps < 2_000, "{expr}: {steps} steps");
            assert!(s.upcoming(after, &utc, 3).is_empty());
        }
    }

    #[test]
    fn search_is_cheap_for_typical_schedules() {
        let tokyo = tz("Asia/Tokyo");
        let after = ts("2025-01-15T12:34:56Z");
        for (expr, max) in [
            ("*/5 * * * *", 5),
            ("0 3 * * *", 10),
            ("30 9 * * MON-FRI", 10),
            ("0 0 1 1 *", 20),
            ("0 0 29 2 *", 200),
        ] {
            let mut steps = 0;
            assert!(sched(expr).search(after, &tokyo, &mut steps).is_some());
            assert!(steps <= max, "{expr}: {steps} steps");
        }
    }

    #[test]
    fn skips_short_months() {
        assert_eq!(
            upcoming("0 12 31 * *", "2025-04-01T00:00:00Z", "UTC", 3),
            tss(&[
                "2025-05-31T12:00:00Z",
                "2025-07-31T12:00:00Z",
                "2025-08-31T12:00:00Z",
            ])
        );
    }

    #[test]
    fn dst_spring_forward_gap_new_york() {
        // 2025-03-09: 02:00 EST jumps to 03:00 EDT (07:00Z).
        let ny = "America/New_York";
        assert_eq!(
            upcoming("30 2 * * *", "2025-03-08T12:00:00-05:00", ny, 3),
            tss(&[
                "2025-03-09T03:00:00-04:00", // 02:30 doesn't exist: fires at 03:00 EDT
                "2025-03-10T02:30:00-04:00",
                "2025-03-11T02:30:00-04:00",
            ])
        );
        // Several times inside the gap collapse into one firing.
        assert_eq!(
            upcoming("*/15 2 * * *", "2025-03-09T00:00:00-05:00", ny, 3),
            tss(&[
                "2025-03-09T03:00:00-04:00",
                "2025-03-10T02:00:00-04:00",
                "2025-03-10T02:15:00-04:00",
            ])
        );
        // Hourly: 01:00 EST, then (02:00 in gap == 03:00 EDT) once, 04:00 EDT.
        assert_eq!(
            upcoming("0 * * * *", "2025-03-09T00:30:00-05:00", ny, 3),
            tss(&[
                "2025-03-09T01:00:00-05:00",
                "2025-03-09T03:00:00-04:00",
                "2025-03-09T04:00:00-04:00",
            ])
        );
        // Asked exactly at the transition: the gap firing already happened.
        assert_eq!(
            next("30 2 * * *", "2025-03-09T03:00:00-04:00", ny),
            Some(ts("2025-03-10T02:30:00-04:00"))
        );
    }

    #[test]
    fn dst_fall_back_fold_new_york() {
        // 2025-11-02: 02:00 EDT falls back to 01:00 EST; 01:xx happens twice.
        let ny = "America/New_York";
        assert_eq!(
            upcoming("30 1 * * *", "2025-11-01T12:00:00-04:00", ny, 3),
            tss(&[
                "2025-11-02T01:30:00-04:00",
                "2025-11-03T01:30:00-05:00", // not 01:30 EST on Nov 2
                "2025-11-04T01:30:00-05:00",
            ])
        );
        assert_eq!(
            upcoming("0 * * * *", "2025-11-01T23:30:00-04:00", ny, 4),
            tss(&[
                "2025-11-02T00:00:00-04:00",
                "2025-11-02T01:00:00-04:00",
                "2025-11-02T02:00:00-05:00",
                "2025-11-02T03:00:00-05:00",
            ])
        );
        // Asked during the second 01:xx: those local times already fired.
        assert_eq!(
            next("*/15 * * * *", "2025-11-02T01:10:00-05:00", ny),
            Some(ts("2025-11-02T02:00:00-05:00"))
        );
        // Asked during the first 01:xx: continue normally.
        assert_eq!(
            next("*/15 * * * *", "2025-11-02T01:10:00-04:00", ny),
            Some(ts("2025-11-02T01:15:00-04:00"))
        );
    }

    #[test]
    fn macros() {
        let utc = TimeZone::UTC;
        let after = ts("2025-05-14T10:20:00Z"); // a Wednesday
        let cases = [
            ("@yearly", "2026-01-01T00:00:00Z"),
            ("@annually", "2026-01-01T00:00:00Z"),
            ("@monthly", "2025-06-01T00:00:00Z"),
            ("@weekly", "2025-05-18T00:00:00Z"),
            ("@daily", "2025-05-15T00:00:00Z"),
            ("@midnight", "2025-05-15T00:00:00Z"),
            ("@hourly", "2025-05-14T11:00:00Z"),
            ("@DAILY", "2025-05-15T00:00:00Z"),
        ];
        for (expr, want) in cases {
            assert_eq!(
                sched(expr).next_after(after, &utc),
                Some(ts(want)),
                "{expr}"
            );
        }
        let daily = sched(" @daily ");
        assert_eq!(daily.expression(), "@daily");
        let plain = sched("0 0 * * *");
        assert_eq!(
            (
                daily.minutes,
                daily.hours,
                daily.days_of_month,
                daily.months,
                daily.days_of_week
            ),
            (
                plain.minutes,
                plain.hours,
                plain.days_of_month,
                plain.months,
                plain.days_of_week
            )
        );
    }

    #[test]
    fn day_of_week_7_and_names() {
        let sun0 = sched("0 0 * * 0");
        let sun7 = sched("0 0 * * 7");
        let sun = sched("0 0 * * sun");
        assert_eq!(sun0.days_of_week, 1);
        assert_eq!(sun7.days_of_week, 1);
        assert_eq!(sun.days_of_week, 1);
        assert_eq!(sched("0 0 * * 5-7").days_of_week, 0b110_0001);
        assert_eq!(sched("0 0 * * FRI-SUN").days_of_week, 0b110_0001);
        assert_eq!(sched("0 0 * * */2").days_of_week, 0b101_0101);
        assert_eq!(sched("0 0 * jan-mar,Dec *").months, 0b1_0000_0000_1110);
        assert_eq!(
            next("0 0 * * 7", "2025-05-14T00:00:00Z", "UTC"),
            Some(ts("2025-05-18T00:00:00Z"))
        );
    }

    #[test]
    fn lists_ranges_and_steps() {
        assert_eq!(
            sched("1,5-7,50-59/5 * * * *").minutes,
            (1 << 1) | (0b111 << 5) | (1 << 50) | (1 << 55)
        );
        assert_eq!(
            sched("10/20 * * * *").minutes,
            (1 << 10) | (1 << 30) | (1 << 50)
        );
        assert_eq!(
            sched("0 */6 * * *").hours,
            (1 << 0) | (1 << 6) | (1 << 12) | (1 << 18)
        );
        assert_eq!(
            sched("0 9-17/4 * * *").hours,
            (1 << 9) | (1 << 13) | (1 << 17)
        );
        assert_eq!(sched("*/60 * * * *").minutes, 1);
        assert_eq!(
            upcoming("0,30 8-9 * * *", "2025-01-01T00:00:00Z", "UTC", 5),
            tss(&[
                "2025-01-01T08:00:00Z",
                "2025-01-01T08:30:00Z",
                "2025-01-01T09:00:00Z",
                "2025-01-01T09:30:00Z",
                "2025-01-02T08:00:00Z",
            ])
        );
    }

    #[test]
    fn upcoming_n() {
        let s = sched("0 3 * * *");
        let tokyo = tz("Asia/Tokyo");
        let after = ts("2025-01-15T00:00:00Z");
        assert!(s.upcoming(after, &tokyo, 0).is_empty());
        let five = s.upcoming(after, &tokyo, 5);
        assert_eq!(five.len(), 5);
        assert_eq!(five[0], ts("2025-01-15T18:00:00Z"));
        assert_eq!(five[4], ts("2025-01-19T18:00:00Z"));
        assert!(five.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(s.upcoming(after, &tokyo, 1), vec![five[0]]);
    }

    #[test]
    fn calendar_helpers_agree_with_jiff() {
        let mut d = jiff::civil::date(1999, 1, 1);
        while d.year() < 2101 {
            let (y, m, day) = (i32::from(d.year()), d.month() as u8, d.day() as u8);
            assert_eq!(
                weekday(y, m, day),
                d.weekday().to_sunday_zero_offset() as u8,
                "{d}"
            );
            assert_eq!(days_in_month(y, m), d.days_in_month() as u8, "{d}");
            d = d.tomorrow().unwrap();
        }
    }

    // ---- parsing ----------------------------------------------------------

    #[test]
    fn from_str_expression_display() {
        let s: Schedule = "  30 9 * * MON-FRI ".parse().unwrap();
        assert_eq!(s.expression(), "30 9 * * MON-FRI");
        assert_eq!(s.to_string(), "30 9 * * MON-FRI");
        assert_eq!(s, Schedule::parse("30 9 * * MON-FRI").unwrap());
        assert_eq!(
            "61 * * * *".parse::<Schedule>().unwrap_err(),
            Schedule::parse("61 * * * *").unwrap_err()
        );
        // Tabs and repeated spaces separate fields too.
        assert!(Schedule::parse("0\t0  * *\t*").is_ok());
    }

    #[test]
    fn error_messages() {
        assert_eq!(err("61 * * * *"), "minute field: 61 is out of range 0-59");
        assert_eq!(err("0 24 * * *"), "hour field: 24 is out of range 0-23");
        assert_eq!(
            err("0 0 0 * *"),
            "day-of-month field: 0 is out of range 1-31"
        );
        assert_eq!(
            err("0 0 32 * *"),
            "day-of-month field: 32 is out of range 1-31"
        );
        assert_eq!(err("0 0 * 13 *"), "month field: 13 is out of range 1-12");
        assert_eq!(err("0 0 * * 8"), "day-of-week field: 8 is out of range 0-7");
        assert_eq!(err("0 0-99 * * *"), "hour field: 99 is out of range 0-23");
        assert_eq!(
            err("0 17-9 * * *"),
            "hour field: range 17-9 is reversed (start must not exceed end)"
        );
        assert_eq!(
            err("0 0 * DEC-JAN *"),
            "month field: range 12-1 is reversed (start must not exceed end)"
        );
        assert_eq!(
            err("*/0 * * * *"),
            "minute field: step in '*/0' must be at least 1"
        );
        assert_eq!(
            err("0 0 1-10/0 * *"),
            "day-of-month field: step in '1-10/0' must be at least 1"
        );
        assert_eq!(err(""), "cron expression is empty");
        assert_eq!(err("   "), "cron expression is empty");
        assert_eq!(
            err("0 0 * *"),
            "cron expression has 4 field(s); expected 5 \
             (minute hour day-of-month month day-of-week) or a macro such as @daily"
        );
        assert_eq!(
            Schedule::parse("0 0 * * * *"),
            Err(CronError::FieldCount { found: 6 })
        );
        assert_eq!(
            err("abc * * * *"),
            "minute field: invalid 'abc': expected a number 0-59"
        );
        assert_eq!(
            err("0 0 * FOO *"),
            "month field: invalid 'FOO': expected a number 1-12 or a month name JAN-DEC"
        );
        assert_eq!(
            err("0 0 * * MONDAY"),
            "day-of-week field: invalid 'MONDAY': expected a number 0-7 or a day name SUN-SAT"
        );
        assert_eq!(
            err("0 JAN * * *"),
            "hour field: invalid 'JAN': expected a number 0-23"
        );
        assert_eq!(
            err("1,,2 * * * *"),
            "minute field: invalid '1,,2': empty list element"
        );
        assert_eq!(
            err("1, * * * *"),
            "minute field: invalid '1,': empty list element"
        );
        assert_eq!(
            err("*/x * * * *"),
            "minute field: invalid '*/x': step must be a positive whole number"
        );
        assert_eq!(
            err("1/2/3 * * * *"),
            "minute field: invalid '1/2/3': step must be a positive whole number"
        );
        assert_eq!(
            err("*-5 * * * *"),
            "minute field: invalid '*-5': '*' cannot be used inside a range"
        );
        assert_eq!(
            err("-5 * * * *"),
            "minute field: invalid '-5': missing value; expected a number 0-59"
        );
        assert_eq!(
            err("1-2-3 * * * *"),
            "minute field: invalid '1-2-3': expected a number 0-59"
        );
        assert_eq!(
            err("99999999999 * * * *"),
            "minute field: invalid '99999999999': number is too large"
        );
        assert_eq!(
            err("@reboot"),
            "unknown macro '@reboot'; supported: @yearly, @annually, @monthly, @weekly, \
             @daily, @midnight, @hourly"
        );
        assert_eq!(
            Schedule::parse("@daily 0"),
            Err(CronError::FieldCount { found: 2 })
        );
        // Other cron dialects' extensions and non-ASCII digits are garbage here.
        for bad in [
            "0 0 ? * *",
            "0 0 L * *",
            "0 0 * * 5#3",
            "+5 * * * *",
            "０ 0 * * *",
            "0 0 15W * *",
            "0 0 * * 1.5",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn too_long_is_rejected() {
        let long = format!("0 0 * * {}", vec!["1"; 100].join(","));
        assert!(long.len() > MAX_EXPRESSION_LEN);
        assert_eq!(
            Schedule::parse(&long),
            Err(CronError::TooLong {
                len: long.len(),
                max: MAX_EXPRESSION_LEN
            })
        );
        assert_eq!(
            Schedule::parse(&long).unwrap_err().to_string(),
            format!(
                "cron expression is {} characters long; at most 200 are allowed",
                long.len()
            )
        );
        // Exactly at the limit is fine.
        let ok = format!("{}00 * * * *", "0,".repeat(95));
        assert_eq!(ok.len(), MAX_EXPRESSION_LEN);
        assert!(Schedule::parse(&ok).is_ok());
    }

    #[test]
    fn time_zones() {
        assert!(parse_time_zone(DEFAULT_TIME_ZONE).is_ok());
        assert!(parse_time_zone("America/New_York").is_ok());
        assert!(parse_time_zone("UTC").is_ok());
        assert_eq!(parse_time_zone(""), Err(CronError::EmptyTimeZone));
        assert_eq!(
            parse_time_zone("Mars/Olympus_Mons"),
            Err(CronError::UnknownTimeZone {
                name: "Mars/Olympus_Mons".to_string()
            })
        );
        assert_eq!(
            parse_time_zone("Mars/Olympus_Mons")
                .unwrap_err()
                .to_string(),
            "unknown time zone 'Mars/Olympus_Mons' (expected an IANA name such as Asia/Tokyo)"
        );
    }
}
