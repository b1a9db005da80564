//! Stage `aggregate`: the figures of a checked knowledge base, as plain data.
//!
//! Reads `KnowledgeBase` (typed `Meta`, parsed action items, the link graph)
//! and nothing else: no file access, no parsing, no rendering. It runs on every
//! rebuild of `serve`, so it is one pass over the documents plus sorts,
//! O(n log n). The result borrows its strings from the knowledge base instead
//! of copying them (`Metrics<'kb>`), so a rebuild allocates little.
//! `report` prints and exports the result; the site renders it.
//!
//! Definitions (they are the contract of `docs/exports.md`):
//!
//! - **Incidents** are the documents of kind `incident` plus the standalone
//!   postmortems (no `incident:`, their own `started_at`), which count as
//!   resolved incidents of their own. A postmortem of an incident is never
//!   counted again: the incident is.
//! - **Durations are in minutes** (`f64`, rounded to two decimals):
//!   TTD = detected - started, TTA = acknowledged - detected,
//!   TTM = mitigated - started, TTR = resolved - started. Timestamps compare
//!   as instants, whatever offset each is written with. A missing timestamp
//!   leaves the incident out of that figure and is counted in `left_out`; so
//!   is a negative duration (timestamps out of order, an error of `check`).
//! - **Periods** are the calendar month (`2026-03`) and quarter (`2026-Q1`) of
//!   `started_at` **in the offset it is written with**: the date the
//!   responders saw, the same date the postmortem policy uses. Months and
//!   quarters with no incident between the first and the last are listed with
//!   zero, so charts keep their time axis.
//! - **Median and p90** use the nearest-rank method on the sorted values:
//!   the p-th percentile of n values is the value of rank ceil(p/100 * n), so
//!   both are always observed values and the median of an even count is the
//!   lower of the two middle values. Means are arithmetic. All three are
//!   `None` (JSON `null`) when no incident has the figure.
//! - **Missing group keys** (no severity, no owner, no type, no services) are
//!   grouped under `(none)`, which no id or handle can be.
//! - **Postmortem coverage** counts the incidents whose severity the policy
//!   names (`policies.postmortem_required_for`), resolved or not. An incident
//!   has a postmortem when any postmortem names it (any status), a standalone
//!   postmortem is its own; it is published when one of them has status
//!   `published`. Days to publish = earliest `published_at` of those - the
//!   incident's `resolved_at`, in days (fractional, two decimals). Overdue
//!   postmortems are exactly what `check` reports as `postmortem-overdue`.
//! - **Action items** are the task-list items of the postmortems' Action Items
//!   sections. State: `done` when checked; `overdue` when open and its `due:`
//!   date is before the build date (`--today`); else `open`. States are
//!   exclusive: `open + overdue` is everything not done. An item is done late
//!   when `done:` is after `due:`. Days to close = `done:` - the calendar date
//!   of its incident's `resolved_at` (0 when done before), for done items with
//!   both dates. Completion rate = done / all items (four decimals).
//! - **Repeat incidents**: an incident that shares at least one service and at
//!   least one tag with an earlier incident that started at most 90 days
//!   before it. Each repeat is reported once, against the most recent such
//!   earlier incident.

use crate::diagnostic::Diagnostic;
use crate::kb::KnowledgeBase;
use crate::model::{ActionItem, Document, Meta};
use crate::validate::parse_date;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

/// Bumped when a field of the exports changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;
/// The group key of a missing severity, owner, type or service.
pub const NONE_KEY: &str = "(none)";
/// Incidents this close (by start) with a shared service and tag are repeats.
pub const REPEAT_WINDOW_DAYS: i64 = 90;

/// What to aggregate: everything, or only incidents that started on or after `since`
/// (with their postmortems and action items).
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub since: Option<NaiveDate>,
}

/// Everything the metrics page, the action-items page and the exports show.
#[derive(Debug, Clone, Serialize)]
pub struct Metrics<'a> {
    pub schema_version: u32,
    /// The build date overdue is judged against.
    pub today: NaiveDate,
    /// Only incidents that started on or after this date are counted.
    pub since: Option<NaiveDate>,
    /// The unit of every `*_minutes` summary: always `"minutes"`.
    pub duration_unit: &'static str,
    pub totals: Totals,
    /// All counted incidents as one group (key `all`).
    pub all_time: GroupStats,
    /// Every month from the first incident's to the last one's, gaps included.
    pub by_month: Vec<GroupStats>,
    pub by_quarter: Vec<GroupStats>,
    /// Configured severities in their order (also those without incidents), then others.
    pub by_severity: Vec<GroupStats>,
    /// An incident counts in the group of each of its services. Sorted by key.
    pub by_service: Vec<GroupStats>,
    /// Incident counts per month, stacked by severity (same months as `by_month`).
    pub counts_by_month: Vec<MonthCounts>,
    pub postmortems: PostmortemCoverage<'a>,
    pub action_items: ActionItemStats,
    /// Sorted by the repeat's start.
    pub repeats: Vec<Repeat<'a>>,
    /// Per incident figures, oldest first (undated last). Not in `metrics.json`:
    /// the incident pages and `/api/incidents.json` carry them.
    #[serde(skip)]
    pub incidents: Vec<IncidentFigures<'a>>,
    /// Every action item, in document order. Exported by `action_items_json`/`_csv`.
    #[serde(skip)]
    pub items: Vec<ActionItemRow<'a>>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Totals {
    pub incidents: usize,
    /// Incidents whose status is not `resolved`.
    pub open: usize,
    /// Standalone postmortems counted as incidents.
    pub standalone_postmortems: usize,
    /// Incidents without a usable `started_at` (only in `all_time`, `by_severity`, `by_service`).
    pub undated: usize,
}

/// The figures of one group of incidents (a period, a severity, a service).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupStats {
    pub key: String,
    pub incidents: usize,
    pub ttd_minutes: Summary,
    pub tta_minutes: Summary,
    pub ttm_minutes: Summary,
    pub ttr_minutes: Summary,
    /// Sum of `impact.customer_minutes` over the incidents that state it.
    pub customer_minutes: i64,
    /// How many incidents state `impact.customer_minutes`.
    pub customer_minutes_reported: usize,
}

/// Count, mean, median and p90 of one figure, and how many incidents lacked it.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Summary {
    pub count: usize,
    pub left_out: usize,
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MonthCounts {
    pub month: String,
    pub total: usize,
    pub by_severity: Vec<SeverityCount>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SeverityCount {
    pub severity: String,
    pub count: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PostmortemCoverage<'a> {
    pub required_for: &'a [String],
    pub due_days: i64,
    /// Incidents that need a postmortem.
    pub required: usize,
    pub with_postmortem: usize,
    pub published: usize,
    /// with_postmortem / required (four decimals); null when none is required.
    pub coverage_rate: Option<f64>,
    /// Required incidents without one whose due date has not passed (or not resolved yet).
    pub pending: usize,
    /// Resolution to publication, in days; `left_out`: published without both timestamps.
    pub days_to_publish: Summary,
    /// Oldest due date first.
    pub overdue: Vec<OverduePostmortem<'a>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OverduePostmortem<'a> {
    pub incident_id: &'a str,
    pub title: &'a str,
    pub path: &'a str,
    pub severity: &'a str,
    pub resolved_at: DateTime<FixedOffset>,
    pub due: NaiveDate,
    pub days_overdue: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ActionItemStats {
    pub total: usize,
    pub open: usize,
    pub overdue: usize,
    pub done: usize,
    pub done_late: usize,
    pub completion_rate: Option<f64>,
    pub days_to_close: Summary,
    pub by_owner: Vec<ActionGroup>,
    pub by_service: Vec<ActionGroup>,
    pub by_type: Vec<ActionGroup>,
}

/// Action items of one owner, service or type. Sorted by key, `(none)` last.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ActionGroup {
    pub key: String,
    pub total: usize,
    pub open: usize,
    pub overdue: usize,
    pub done: usize,
    pub done_late: usize,
    pub completion_rate: Option<f64>,
    pub median_days_to_close: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Repeat<'a> {
    pub incident_id: &'a str,
    pub title: &'a str,
    pub started_at: DateTime<FixedOffset>,
    pub previous_id: &'a str,
    pub previous_title: &'a str,
    pub previous_started_at: DateTime<FixedOffset>,
    /// Between the two starts, in days (two decimals).
    pub days_apart: f64,
    pub services: Vec<&'a str>,
    pub tags: Vec<&'a str>,
}

/// One counted incident with its durations (minutes).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IncidentFigures<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub path: &'a str,
    /// `incident`, or `postmortem` for a standalone postmortem.
    pub kind: &'a str,
    pub severity: Option<&'a str>,
    /// The incident's status; `resolved` for a standalone postmortem.
    pub status: Option<&'a str>,
    pub services: &'a [String],
    pub tags: &'a [String],
    pub started_at: Option<DateTime<FixedOffset>>,
    pub resolved_at: Option<DateTime<FixedOffset>>,
    /// `2026-03`: the month of `started_at` in its own offset.
    pub month: Option<String>,
    /// `2026-Q1`.
    pub quarter: Option<String>,
    pub ttd_minutes: Option<f64>,
    pub tta_minutes: Option<f64>,
    pub ttm_minutes: Option<f64>,
    pub ttr_minutes: Option<f64>,
    pub customer_minutes: Option<i64>,
    /// Ids of its postmortems (its own id for a standalone postmortem).
    pub postmortems: Vec<&'a str>,
    pub published: bool,
}

/// A calendar month or quarter (year, number), written `2026-03` or `2026-Q1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    Month(i32, u32),
    Quarter(i32, u32),
}

impl Period {
    pub fn month_of(date: NaiveDate) -> Period {
        Period::Month(date.year(), date.month())
    }

    pub fn quarter_of(date: NaiveDate) -> Period {
        Period::Quarter(date.year(), (date.month() - 1) / 3 + 1)
    }

    /// `2026-03` or `2026-Q1` (built by hand: `format!` was a tenth of aggregation).
    pub fn key(self) -> String {
        let (year, n, quarter) = match self {
            Period::Month(y, m) => (y, m, false),
            Period::Quarter(y, q) => (y, q, true),
        };
        let mut out = String::with_capacity(8);
        if (0..10_000).contains(&year) {
            let y = year as u32;
            out.extend([y / 1000, y / 100 % 10, y / 10 % 10, y % 10].map(digit));
        } else {
            out.push_str(&year.to_string());
        }
        out.push('-');
        if quarter {
            out.push('Q');
            out.push(digit(n % 10));
        } else {
            out.extend([n / 10 % 10, n % 10].map(digit));
        }
        out
    }
}

fn digit(n: u32) -> char {
    char::from_digit(n, 10).unwrap_or('0')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemState {
    Overdue,
    Open,
    Done,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Overdue => "overdue",
            ItemState::Open => "open",
            ItemState::Done => "done",
        }
    }
}

/// One action item with where it comes from. Dates are `YYYY-MM-DD`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ActionItemRow<'a> {
    pub postmortem_id: &'a str,
    pub postmortem_title: &'a str,
    /// Source file, relative to the knowledge-base root.
    pub postmortem_path: &'a str,
    /// 1-based line of the item in its file.
    pub line: usize,
    /// Anchor of the item on the postmortem's page (`ai-3`).
    pub anchor: &'a str,
    pub text: &'a str,
    /// Handle without `@`.
    pub owner: Option<&'a str>,
    /// None also when `due:` is not a date (`check` reports it).
    pub due: Option<NaiveDate>,
    pub done_on: Option<NaiveDate>,
    #[serde(rename = "type")]
    pub kind: Option<&'a str>,
    pub ticket: Option<&'a str>,
    pub state: ItemState,
    /// Overdue items: days past due on the build date.
    pub days_overdue: Option<i64>,
    /// Done items with both dates: days done after due (0 when on time).
    pub days_late: Option<i64>,
    pub days_to_close: Option<i64>,
    /// The incident it follows (the postmortem itself when standalone).
    pub incident_id: Option<&'a str>,
    pub severity: Option<&'a str>,
    pub services: &'a [String],
}

/// The state of an action item on `today`, and its due date if it has a valid one.
pub fn item_state(item: &ActionItem, today: NaiveDate) -> (ItemState, Option<NaiveDate>) {
    let due = item.due.as_ref().and_then(|t| parse_date(&t.raw));
    let state = if item.done {
        ItemState::Done
    } else if due.is_some_and(|d| d < today) {
        ItemState::Overdue
    } else {
        ItemState::Open
    };
    (state, due)
}

/// `check --deny-overdue`: an error `action-item-overdue` at the `due:` of each overdue item.
pub fn overdue_action_items(kb: &KnowledgeBase) -> Vec<Diagnostic> {
    let mut diags = vec![];
    for doc in kb.documents.iter().filter(|d| d.kind == "postmortem") {
        for item in &doc.structure.action_items {
            let (ItemState::Overdue, Some(due)) = item_state(item, kb.today) else {
                continue;
            };
            let at = item.due.as_ref().map_or(&item.range, |t| &t.range);
            let days = (kb.today - due).num_days();
            diags.push(
                Diagnostic::error(
                    "action-item-overdue",
                    &doc.rel_path,
                    doc.pos(at),
                    format!(
                        "action item is overdue: it was due {due}, {days} day{} ago",
                        plural(days)
                    ),
                )
                .with_hint("check it off with `done:YYYY-MM-DD`, or agree on a new `due:` date"),
            );
        }
    }
    diags
}

fn plural(n: i64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// All figures of the knowledge base, as of `kb.today`.
pub fn aggregate(kb: &KnowledgeBase) -> Metrics<'_> {
    aggregate_with(kb, &Options::default())
}

/// A counted incident, borrowed from the knowledge base.
struct Incident<'a> {
    doc: &'a Document,
    meta: &'a Meta,
    standalone: bool,
    /// Document indices of its postmortems.
    postmortems: Vec<usize>,
    /// `started_at` in the offset it was written with.
    local_start: Option<NaiveDate>,
    figures: [Option<f64>; 4],
}

/// (from, to) milestone indices of TTD, TTA, TTM and TTR.
const SPANS: [(usize, usize); 4] = [(0, 1), (1, 2), (0, 3), (0, 4)];

pub fn aggregate_with<'a>(kb: &'a KnowledgeBase, options: &Options) -> Metrics<'a> {
    let docs = &kb.documents;
    let config = &kb.config;
    let today = kb.today;

    // Incidents, and for each document the incident it belongs to.
    let mut all: Vec<Incident> = vec![];
    let mut incident_of: Vec<Option<usize>> = vec![None; docs.len()];
    for (i, doc) in docs.iter().enumerate() {
        let standalone =
            doc.kind == "postmortem" && doc.meta.incident.is_none() && doc.meta.started().is_some();
        if doc.kind != "incident" && !standalone {
            continue;
        }
        let meta = &doc.meta;
        let postmortems = if standalone {
            vec![i]
        } else {
            kb.graph.postmortems.get(i).cloned().unwrap_or_default()
        };
        let figures = SPANS.map(|(a, b)| minutes_between(meta.milestones[a]?, meta.milestones[b]?));
        incident_of[i] = Some(all.len());
        for &p in &postmortems {
            incident_of[p] = Some(all.len());
        }
        all.push(Incident {
            doc,
            meta,
            standalone,
            postmortems,
            local_start: meta.started().map(|s| s.date_naive()),
            figures,
        });
    }
    let included: Vec<bool> = all
        .iter()
        .map(|inc| {
            options
                .since
                .is_none_or(|since| inc.local_start.is_some_and(|d| d >= since))
        })
        .collect();
    // Repeats look at every incident, so one just after `since` still finds its predecessor.
    let repeats = repeats(&all)
        .into_iter()
        .filter(|r| included[r.0])
        .map(|r| r.1)
        .collect();
    let incidents: Vec<&Incident> = all
        .iter()
        .zip(&included)
        .filter(|(_, &inc)| inc)
        .map(|(i, _)| i)
        .collect();

    // Groups.
    let mut total = Acc::default();
    let mut months: BTreeMap<(i32, u32), Acc> = BTreeMap::new();
    let mut quarters: BTreeMap<(i32, u32), Acc> = BTreeMap::new();
    let mut severities: FxMap<&str, Acc> = FxMap::default();
    let mut services: FxMap<&str, Acc> = FxMap::default();
    let mut month_severity: FxMap<((i32, u32), &str), usize> = FxMap::default();
    let mut totals = Totals {
        incidents: incidents.len(),
        open: 0,
        standalone_postmortems: 0,
        undated: 0,
    };
    for inc in &incidents {
        let meta = inc.meta;
        let severity = meta.severity.as_deref().unwrap_or(NONE_KEY);
        totals.open += usize::from(!inc.standalone && meta.status.as_deref() != Some("resolved"));
        totals.standalone_postmortems += usize::from(inc.standalone);
        total.add(inc);
        severities.entry(severity).or_default().add(inc);
        if meta.services.is_empty() {
            services.entry(NONE_KEY).or_default().add(inc);
        }
        for s in &meta.services {
            services.entry(s).or_default().add(inc);
        }
        match inc.local_start {
            Some(d) => {
                let month = (d.year(), d.month());
                months.entry(month).or_default().add(inc);
                quarters
                    .entry((d.year(), (d.month() - 1) / 3 + 1))
                    .or_default()
                    .add(inc);
                *month_severity.entry((month, severity)).or_default() += 1;
            }
            None => totals.undated += 1,
        }
    }
    fill_gaps(&mut months, 12);
    fill_gaps(&mut quarters, 4);

    // Severities: configured ones in order, even when empty; then the others by name.
    let mut severity_keys: Vec<&str> = config.severities.iter().map(String::as_str).collect();
    let mut others: Vec<&str> = severities
        .keys()
        .copied()
        .filter(|s| !severity_keys.contains(s))
        .collect();
    others.sort_by_key(|s| (*s == NONE_KEY, *s));
    severity_keys.extend(others);

    let counts_by_month = months
        .keys()
        .map(|&m| {
            let by_severity: Vec<SeverityCount> = severity_keys
                .iter()
                .map(|s| SeverityCount {
                    severity: s.to_string(),
                    count: month_severity.get(&(m, *s)).copied().unwrap_or(0),
                })
                .collect();
            MonthCounts {
                month: Period::Month(m.0, m.1).key(),
                total: by_severity.iter().map(|c| c.count).sum(),
                by_severity,
            }
        })
        .collect();
    let by_severity = severity_keys
        .iter()
        .map(|s| {
            severities
                .remove(s)
                .unwrap_or_default()
                .finish(s.to_string())
        })
        .collect();
    let mut by_service: Vec<GroupStats> = services
        .into_iter()
        .map(|(k, acc)| acc.finish(k.to_string()))
        .collect();
    by_service
        .sort_unstable_by(|a, b| (a.key == NONE_KEY, &a.key).cmp(&(b.key == NONE_KEY, &b.key)));

    // With `--since`, items of postmortems that follow no counted incident are left out too.
    let keep = |incident: Option<usize>| incident.map_or(options.since.is_none(), |k| included[k]);
    let items = action_item_rows(kb, &all, &incident_of, keep);
    let mut figures: Vec<IncidentFigures<'a>> = incidents
        .iter()
        .map(|inc| incident_figures(docs, inc))
        .collect();
    figures.sort_by_cached_key(|f| {
        (
            f.started_at.is_none(),
            f.started_at.map(|s| s.timestamp()),
            f.id,
        )
    });

    Metrics {
        schema_version: SCHEMA_VERSION,
        today,
        since: options.since,
        duration_unit: "minutes",
        totals,
        all_time: total.finish("all".into()),
        by_month: months
            .into_iter()
            .map(|(k, acc)| acc.finish(Period::Month(k.0, k.1).key()))
            .collect(),
        by_quarter: quarters
            .into_iter()
            .map(|(k, acc)| acc.finish(Period::Quarter(k.0, k.1).key()))
            .collect(),
        by_severity,
        by_service,
        counts_by_month,
        postmortems: coverage(kb, &incidents),
        action_items: item_stats(&items),
        repeats,
        incidents: figures,
        items,
    }
}

/// FxHash, rustc's hasher: the keys are a knowledge base's own names and
/// numbers, and SipHash was a fifth of the time of aggregation.
#[derive(Default, Clone, Copy)]
struct Fx(u64);

impl Fx {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let mut last = [0u8; 8];
        last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.add(u64::from_le_bytes(last));
    }
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    fn write_i32(&mut self, n: i32) {
        self.add(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

/// Whole minutes and seconds as minutes; None when the span is negative.
fn minutes_between(from: DateTime<FixedOffset>, to: DateTime<FixedOffset>) -> Option<f64> {
    let seconds = (to - from).num_seconds();
    (seconds >= 0).then(|| round2(seconds as f64 / 60.0))
}

fn days_between(from: DateTime<FixedOffset>, to: DateTime<FixedOffset>) -> Option<f64> {
    let seconds = (to - from).num_seconds();
    (seconds >= 0).then(|| round2(seconds as f64 / 86_400.0))
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn rate(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0)
}

/// Adds empty entries for the periods between the first and the last key.
fn fill_gaps(map: &mut BTreeMap<(i32, u32), Acc>, per_year: u32) {
    let (Some(&first), Some(&last)) = (map.keys().next(), map.keys().next_back()) else {
        return;
    };
    let mut at = first;
    while at < last {
        at = if at.1 == per_year {
            (at.0 + 1, 1)
        } else {
            (at.0, at.1 + 1)
        };
        map.entry(at).or_default();
    }
}

/// The 1-based nearest rank of the p-th percentile of n values: ceil(p/100 * n).
fn rank(p: usize, n: usize) -> usize {
    (p * n).div_ceil(100).clamp(1, n.max(1))
}

/// The p-th percentile of sorted values by nearest rank.
pub fn nearest_rank(sorted: &[f64], p: usize) -> Option<f64> {
    sorted.get(rank(p, sorted.len()) - 1).copied()
}

impl Summary {
    /// Summary of `values` (any order); `left_out` incidents lacked the figure.
    pub fn of(mut values: Vec<f64>, left_out: usize) -> Summary {
        let count = values.len();
        if count == 0 {
            return Summary {
                left_out,
                ..Summary::default()
            };
        }
        let mean = round2(values.iter().sum::<f64>() / count as f64);
        // Two selections instead of a sort: O(n). The median's rank is at most the
        // p90's, so it is found among the values left of the p90.
        let (r50, r90) = (rank(50, count), rank(90, count));
        let p90 = *values.select_nth_unstable_by(r90 - 1, f64::total_cmp).1;
        let median = if r50 == r90 {
            p90
        } else {
            *values[..r90 - 1]
                .select_nth_unstable_by(r50 - 1, f64::total_cmp)
                .1
        };
        Summary {
            count,
            left_out,
            mean: Some(mean),
            median: Some(median),
            p90: Some(p90),
        }
    }
}

#[derive(Default)]
struct Acc {
    incidents: usize,
    values: [Vec<f64>; 4],
    customer_minutes: i64,
    reported: usize,
}

impl Acc {
    fn add(&mut self, inc: &Incident) {
        self.incidents += 1;
        for (values, figure) in self.values.iter_mut().zip(inc.figures) {
            values.extend(figure);
        }
        if let Some(m) = inc.meta.customer_minutes {
            self.customer_minutes += m;
            self.reported += 1;
        }
    }

    fn finish(self, key: String) -> GroupStats {
        let n = self.incidents;
        let [ttd, tta, ttm, ttr] = self.values.map(|v| {
            let left_out = n - v.len();
            Summary::of(v, left_out)
        });
        GroupStats {
            key,
            incidents: n,
            ttd_minutes: ttd,
            tta_minutes: tta,
            ttm_minutes: ttm,
            ttr_minutes: ttr,
            customer_minutes: self.customer_minutes,
            customer_minutes_reported: self.reported,
        }
    }
}

fn is_published(doc: &Document) -> bool {
    doc.meta.status.as_deref() == Some("published")
}

fn incident_figures<'a>(docs: &'a [Document], inc: &Incident<'a>) -> IncidentFigures<'a> {
    let meta = inc.meta;
    let [ttd, tta, ttm, ttr] = inc.figures;
    IncidentFigures {
        id: &inc.doc.id,
        title: inc.doc.title(),
        path: &inc.doc.rel_path,
        kind: &inc.doc.kind,
        severity: meta.severity.as_deref(),
        status: if inc.standalone {
            Some("resolved")
        } else {
            meta.status.as_deref()
        },
        services: &meta.services,
        tags: &meta.tags,
        started_at: meta.started(),
        resolved_at: meta.resolved(),
        month: inc.local_start.map(|d| Period::month_of(d).key()),
        quarter: inc.local_start.map(|d| Period::quarter_of(d).key()),
        ttd_minutes: ttd,
        tta_minutes: tta,
        ttm_minutes: ttm,
        ttr_minutes: ttr,
        customer_minutes: meta.customer_minutes,
        postmortems: inc
            .postmortems
            .iter()
            .map(|&p| docs[p].id.as_str())
            .collect(),
        published: inc.postmortems.iter().any(|&p| is_published(&docs[p])),
    }
}

fn coverage<'a>(kb: &'a KnowledgeBase, incidents: &[&Incident<'a>]) -> PostmortemCoverage<'a> {
    let policy = &kb.config.policies;
    let docs = &kb.documents;
    let mut c = PostmortemCoverage {
        required_for: &policy.postmortem_required_for,
        due_days: policy.postmortem_due_days,
        required: 0,
        with_postmortem: 0,
        published: 0,
        coverage_rate: None,
        pending: 0,
        days_to_publish: Summary::default(),
        overdue: vec![],
    };
    let mut days = vec![];
    let mut left_out = 0;
    let unreadable = crate::policy::named_by_unreadable_postmortems(docs);
    for inc in incidents {
        let Some(severity) = inc
            .meta
            .severity
            .as_ref()
            .filter(|s| policy.postmortem_required_for.contains(s))
        else {
            continue;
        };
        c.required += 1;
        let resolved = inc.meta.resolved();
        // A draft left out of the site, or one whose front matter cannot be
        // read, is written all the same, as `check` judges it.
        let has_other = kb.draft_postmortem_of.binary_search(&inc.doc.id).is_ok()
            || unreadable.contains(inc.doc.id.as_str());
        if inc.postmortems.is_empty() && !has_other {
            // The same rule as `policy::check_postmortems`.
            match resolved.and_then(|r| {
                Some((
                    r,
                    crate::policy::postmortem_due(r, policy.postmortem_due_days)?,
                ))
            }) {
                Some((resolved_at, due)) if kb.today > due => c.overdue.push(OverduePostmortem {
                    incident_id: &inc.doc.id,
                    title: inc.doc.title(),
                    path: &inc.doc.rel_path,
                    severity,
                    resolved_at,
                    due,
                    days_overdue: (kb.today - due).num_days(),
                }),
                _ => c.pending += 1,
            }
            continue;
        }
        c.with_postmortem += 1;
        let published: Vec<&Document> = inc
            .postmortems
            .iter()
            .map(|&p| &docs[p])
            .filter(|d| is_published(d))
            .collect();
        if published.is_empty() {
            continue;
        }
        c.published += 1;
        let first = published.iter().filter_map(|d| d.meta.published_at).min();
        match resolved.zip(first).and_then(|(r, p)| days_between(r, p)) {
            Some(d) => days.push(d),
            None => left_out += 1,
        }
    }
    c.coverage_rate = rate(c.with_postmortem, c.required);
    c.days_to_publish = Summary::of(days, left_out);
    c.overdue
        .sort_by(|a, b| (a.due, &a.incident_id).cmp(&(b.due, &b.incident_id)));
    c
}

fn action_item_rows<'a>(
    kb: &'a KnowledgeBase,
    all: &[Incident<'a>],
    incident_of: &[Option<usize>],
    keep: impl Fn(Option<usize>) -> bool,
) -> Vec<ActionItemRow<'a>> {
    let postmortems: Vec<(usize, &Document)> = kb
        .documents
        .iter()
        .enumerate()
        .filter(|(i, d)| {
            d.kind == "postmortem" && !d.structure.action_items.is_empty() && keep(incident_of[*i])
        })
        .collect();
    let mut rows = Vec::with_capacity(
        postmortems
            .iter()
            .map(|(_, d)| d.structure.action_items.len())
            .sum(),
    );
    for (i, doc) in postmortems {
        let incident = incident_of[i];
        let inc = incident.map(|k| &all[k]);
        let resolved_on = inc
            .and_then(|inc| inc.meta.resolved())
            .map(|r| r.date_naive());
        for item in &doc.structure.action_items {
            let (state, due) = item_state(item, kb.today);
            let done_on = item.done_on.as_ref().and_then(|t| parse_date(&t.raw));
            let done_dates = done_on.filter(|_| state == ItemState::Done);
            rows.push(ActionItemRow {
                postmortem_id: &doc.id,
                postmortem_title: doc.title(),
                postmortem_path: &doc.rel_path,
                // An empty range: `pos` need not count the item's characters.
                line: doc.pos(&(item.range.start..item.range.start)).line,
                anchor: &item.anchor,
                text: &item.text,
                // As `model::person` (parse already split at whitespace), without a copy.
                owner: item.owner.as_deref().map(|o| o.trim_start_matches('@')),
                due,
                done_on,
                kind: item.kind.as_ref().map(|t| t.raw.as_str()),
                ticket: item.ticket.as_deref(),
                state,
                days_overdue: due
                    .filter(|_| state == ItemState::Overdue)
                    .map(|d| (kb.today - d).num_days()),
                days_late: done_dates
                    .zip(due)
                    .map(|(done, due)| (done - due).num_days().max(0)),
                days_to_close: done_dates
                    .zip(resolved_on)
                    .map(|(done, resolved)| (done - resolved).num_days().max(0)),
                incident_id: inc.map(|inc| inc.doc.id.as_str()),
                severity: inc.and_then(|inc| inc.meta.severity.as_deref()),
                services: inc.map_or(&[], |inc| &inc.meta.services),
            });
        }
    }
    rows
}

fn item_stats(items: &[ActionItemRow]) -> ActionItemStats {
    let mut all = ItemAcc::default();
    let mut owners: FxMap<&str, ItemAcc> = FxMap::default();
    let mut services: FxMap<&str, ItemAcc> = FxMap::default();
    let mut types: FxMap<&str, ItemAcc> = FxMap::default();
    for row in items {
        all.add(row);
        owners
            .entry(row.owner.unwrap_or(NONE_KEY))
            .or_default()
            .add(row);
        types
            .entry(row.kind.unwrap_or(NONE_KEY))
            .or_default()
            .add(row);
        if row.services.is_empty() {
            services.entry(NONE_KEY).or_default().add(row);
        }
        for s in row.services {
            services.entry(s).or_default().add(row);
        }
    }
    let groups = |map: FxMap<&str, ItemAcc>| {
        let mut groups: Vec<ActionGroup> = map.into_iter().map(|(k, acc)| acc.group(k)).collect();
        groups
            .sort_unstable_by(|a, b| (a.key == NONE_KEY, &a.key).cmp(&(b.key == NONE_KEY, &b.key)));
        groups
    };
    let total = all.total;
    ActionItemStats {
        total,
        open: all.open,
        overdue: all.overdue,
        done: all.done,
        done_late: all.done_late,
        completion_rate: rate(all.done, total),
        days_to_close: Summary::of(
            all.days.iter().map(|&d| d as f64).collect(),
            all.done - all.days.len(),
        ),
        by_owner: groups(owners),
        by_service: groups(services),
        by_type: groups(types),
    }
}

#[derive(Default)]
struct ItemAcc {
    total: usize,
    open: usize,
    overdue: usize,
    done: usize,
    done_late: usize,
    days: Vec<i64>,
}

impl ItemAcc {
    fn add(&mut self, row: &ActionItemRow) {
        self.total += 1;
        match row.state {
            ItemState::Open => self.open += 1,
            ItemState::Overdue => self.overdue += 1,
            ItemState::Done => self.done += 1,
        }
        self.done_late += usize::from(row.days_late.is_some_and(|d| d > 0));
        self.days.extend(row.days_to_close);
    }

    fn group(mut self, key: &str) -> ActionGroup {
        self.days.sort_unstable();
        let days: Vec<f64> = self.days.iter().map(|&d| d as f64).collect();
        ActionGroup {
            key: key.to_string(),
            total: self.total,
            open: self.open,
            overdue: self.overdue,
            done: self.done,
            done_late: self.done_late,
            completion_rate: rate(self.done, self.total),
            median_days_to_close: nearest_rank(&days, 50),
        }
    }
}

/// (index of the repeat in `all`, the repeat). Sorted by start.
fn repeats<'a>(all: &[Incident<'a>]) -> Vec<(usize, Repeat<'a>)> {
    // (start in seconds, id, index in `all`), oldest first.
    let mut order: Vec<(i64, &str, usize)> = all
        .iter()
        .enumerate()
        .filter_map(|(k, inc)| Some((inc.meta.started()?.timestamp(), inc.doc.id.as_str(), k)))
        .collect();
    order.sort_unstable();
    let window = REPEAT_WINDOW_DAYS * 86_400;
    // Services and tags as numbers, so pairs hash cheaply.
    let mut names: FxMap<&str, u32> = FxMap::default();
    let mut number = |s: &'a String| {
        let next = names.len() as u32;
        *names.entry(s.as_str()).or_insert(next)
    };
    // The latest incident so far with each (service, tag) pair, as a position in `order`.
    let mut latest: FxMap<(u32, u32), usize> = FxMap::default();
    let mut out = vec![];
    let mut pairs: Vec<(u32, u32)> = vec![];
    for (pos, &(start, _, k)) in order.iter().enumerate() {
        let meta = all[k].meta;
        let tags: Vec<u32> = meta.tags.iter().map(&mut number).collect();
        pairs.clear();
        for s in &meta.services {
            let s = number(s);
            pairs.extend(tags.iter().map(|&t| (s, t)));
        }
        let previous = pairs.iter().filter_map(|p| latest.get(p).copied()).max();
        if let Some(prev) = previous.filter(|&p| start - order[p].0 <= window) {
            let j = order[prev].2;
            let before = all[j].meta;
            let (start, prev_start) = (
                meta.started().expect("dated"),
                before.started().expect("dated"),
            );
            out.push((
                k,
                Repeat {
                    incident_id: &all[k].doc.id,
                    title: all[k].doc.title(),
                    started_at: start,
                    previous_id: &all[j].doc.id,
                    previous_title: all[j].doc.title(),
                    previous_started_at: prev_start,
                    days_apart: days_between(prev_start, start).unwrap_or(0.0),
                    services: meta
                        .services
                        .iter()
                        .filter(|s| before.services.contains(s))
                        .map(String::as_str)
                        .collect(),
                    tags: meta
                        .tags
                        .iter()
                        .filter(|t| before.tags.contains(t))
                        .map(String::as_str)
                        .collect(),
                },
            ));
        }
        for &p in &pairs {
            latest.insert(p, pos);
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    //! Every expected number below was worked out by hand from
    //! `tests/fixtures/metrics/` (the comments show the arithmetic), not copied
    //! from the output. Build date: 2026-03-20.
    //!
    //! | incident     | sev  | start (as written)        | TTD | TTA | TTM | TTR | cust. min |
    //! |--------------|------|---------------------------|-----|-----|-----|-----|-----------|
    //! | PM-2025-010  | SEV2 | 2025-12-30 22:00 +01:00   | 20  | 10  | 150 | 240 | 2000      |
    //! | INC-2026-001 | SEV1 | 2026-01-10 10:00 Z        | 5   | 2   | 40  | 90  | 1000      |
    //! | INC-2026-004 | SEV1 | 2026-01-25 08:00 Z        | -   | -   | 30  | 60  | -         |
    //! | INC-2026-002 | SEV2 | 2026-03-01 01:00 +05:30   | 12  | 8   | 60  | 150 | 500       |
    //! | INC-2026-003 | SEV2 | 2026-03-14 23:40 -05:00   | 15  | 10  | 60  | 90  | -         |
    //! | INC-2026-005 | SEV3 | 2026-03-18 09:00 Z (open) | 30  | 1   | -   | -   | 0         |
    use super::*;
    use std::path::Path;
    use std::sync::LazyLock;

    pub(crate) fn fixture() -> KnowledgeBase {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/metrics");
        crate::kb::open(&root, date("2026-03-20")).expect("fixture opens")
    }

    pub(crate) static KB: LazyLock<KnowledgeBase> = LazyLock::new(fixture);
    pub(crate) static M: LazyLock<Metrics<'static>> = LazyLock::new(|| aggregate(&KB));

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn summary(count: usize, left_out: usize, mean: f64, median: f64, p90: f64) -> Summary {
        Summary {
            count,
            left_out,
            mean: Some(mean),
            median: Some(median),
            p90: Some(p90),
        }
    }

    fn group<'a>(groups: &'a [GroupStats], key: &str) -> &'a GroupStats {
        groups
            .iter()
            .find(|g| g.key == key)
            .unwrap_or_else(|| panic!("no group {key}"))
    }

    fn incident<'a>(id: &str) -> &'a IncidentFigures<'_> {
        M.incidents
            .iter()
            .find(|f| f.id == id)
            .unwrap_or_else(|| panic!("no incident {id}"))
    }

    #[test]
    fn the_fixture_only_has_the_expected_problem() {
        let codes: Vec<_> = KB
            .diagnostics
            .iter()
            .map(|d| (d.code, d.file.as_str()))
            .collect();
        assert_eq!(
            codes,
            [(
                "postmortem-overdue",
                "content/incidents/inc-2026-004-search-index-lost.md"
            )]
        );
    }

    #[test]
    fn incidents_are_counted_once_with_standalone_postmortems() {
        // 5 incident documents + PM-2025-010 (standalone); PM-2026-001/002 follow
        // INC-2026-001/002 and are not counted again. Open: INC-2026-005 (monitoring).
        assert_eq!(
            M.totals,
            Totals {
                incidents: 6,
                open: 1,
                standalone_postmortems: 1,
                undated: 0
            }
        );
        let ids: Vec<_> = M.incidents.iter().map(|f| f.id).collect();
        // Oldest first, by instant: 2025-12-30T21:00Z, 01-10T10:00Z, 01-25T08:00Z,
        // 02-28T19:30Z (INC-2026-002, written 03-01 01:00+05:30), 03-15T04:40Z, 03-18T09:00Z.
        assert_eq!(
            ids,
            [
                "PM-2025-010",
                "INC-2026-001",
                "INC-2026-004",
                "INC-2026-002",
                "INC-2026-003",
                "INC-2026-005"
            ]
        );
        assert_eq!(incident("INC-2026-001").postmortems, ["PM-2026-001"]);
        assert_eq!(incident("PM-2025-010").postmortems, ["PM-2025-010"]);
        assert_eq!(incident("PM-2025-010").status, Some("resolved"));
    }

    #[test]
    fn per_incident_durations_across_offsets_and_midnight() {
        // INC-2026-002, +05:30 with detected_at in UTC: 2026-02-28T19:42Z = 01:12+05:30.
        // TTD 01:12 - 01:00 = 12; TTA 01:20 - 01:12 = 8; TTM 02:00 - 01:00 = 60; TTR 03:30 - 01:00 = 150.
        let f = incident("INC-2026-002");
        assert_eq!(
            [f.ttd_minutes, f.tta_minutes, f.ttm_minutes, f.ttr_minutes],
            [Some(12.0), Some(8.0), Some(60.0), Some(150.0)]
        );
        // Filed under its local date 2026-03-01 (in UTC it started on 2026-02-28).
        assert_eq!(
            (f.month.as_deref(), f.quarter.as_deref()),
            (Some("2026-03"), Some("2026-Q1"))
        );
        // INC-2026-003 spans midnight at -05:00: 23:40 -> 23:55 = 15; 23:55 -> 00:05 = 10;
        // 23:40 -> 00:40 = 60; 23:40 -> 01:10 = 90.
        let f = incident("INC-2026-003");
        assert_eq!(
            [f.ttd_minutes, f.tta_minutes, f.ttm_minutes, f.ttr_minutes],
            [Some(15.0), Some(10.0), Some(60.0), Some(90.0)]
        );
        // INC-2026-004 has no detected_at and no acknowledged_at: TTD and TTA are unknown.
        let f = incident("INC-2026-004");
        assert_eq!(
            [f.ttd_minutes, f.tta_minutes, f.ttm_minutes, f.ttr_minutes],
            [None, None, Some(30.0), Some(60.0)]
        );
        // PM-2025-010 (+01:00): 22:00 -> 22:20 = 20; -> 22:30 = 10; -> 00:30 = 150; -> 02:00 = 240.
        let f = incident("PM-2025-010");
        assert_eq!(
            [f.ttd_minutes, f.tta_minutes, f.ttm_minutes, f.ttr_minutes],
            [Some(20.0), Some(10.0), Some(150.0), Some(240.0)]
        );
    }

    #[test]
    fn all_time_figures_say_how_many_were_left_out() {
        let a = &M.all_time;
        assert_eq!((a.key.as_str(), a.incidents), ("all", 6));
        // TTD: 20, 5, 12, 15, 30 (INC-2026-004 left out). Sorted 5 12 15 20 30; mean 82/5 = 16.4;
        // median rank ceil(0.5*5) = 3 -> 15; p90 rank ceil(0.9*5) = 5 -> 30.
        assert_eq!(a.ttd_minutes, summary(5, 1, 16.4, 15.0, 30.0));
        // TTA: 10, 2, 8, 10, 1 (INC-2026-004 left out). Sorted 1 2 8 10 10; mean 31/5 = 6.2.
        assert_eq!(a.tta_minutes, summary(5, 1, 6.2, 8.0, 10.0));
        // TTM: 150, 40, 30, 60, 60 (INC-2026-005 left out). Sorted 30 40 60 60 150; mean 340/5 = 68.
        assert_eq!(a.ttm_minutes, summary(5, 1, 68.0, 60.0, 150.0));
        // TTR: 240, 90, 60, 150, 90 (INC-2026-005 left out). Sorted 60 90 90 150 240; mean 630/5 = 126.
        assert_eq!(a.ttr_minutes, summary(5, 1, 126.0, 90.0, 240.0));
        // Customer minutes: 2000 + 1000 + 500 + 0; INC-2026-003 and -004 do not say.
        assert_eq!((a.customer_minutes, a.customer_minutes_reported), (3500, 4));
    }

    #[test]
    fn months_and_quarters_use_the_local_start_date_and_keep_gaps() {
        let keys: Vec<_> = M
            .by_month
            .iter()
            .map(|g| (g.key.as_str(), g.incidents))
            .collect();
        // February is empty: INC-2026-002 started on 2026-03-01 in its own offset.
        assert_eq!(
            keys,
            [
                ("2025-12", 1),
                ("2026-01", 2),
                ("2026-02", 0),
                ("2026-03", 3)
            ]
        );
        let feb = group(&M.by_month, "2026-02");
        assert_eq!(feb.ttr_minutes, Summary::default());
        let jan = group(&M.by_month, "2026-01");
        // TTD: INC-2026-001 5, INC-2026-004 left out.
        assert_eq!(jan.ttd_minutes, summary(1, 1, 5.0, 5.0, 5.0));
        // TTR: 90, 60 -> sorted 60 90; mean 75; median rank ceil(1.0) = 1 -> 60; p90 rank ceil(1.8) = 2 -> 90.
        assert_eq!(jan.ttr_minutes, summary(2, 0, 75.0, 60.0, 90.0));
        let mar = group(&M.by_month, "2026-03");
        // TTD 12, 15, 30: mean 57/3 = 19, median rank 2 -> 15, p90 rank 3 -> 30.
        assert_eq!(mar.ttd_minutes, summary(3, 0, 19.0, 15.0, 30.0));
        // TTR 150, 90 (INC-2026-005 open): sorted 90 150; mean 120; median 90; p90 150.
        assert_eq!(mar.ttr_minutes, summary(2, 1, 120.0, 90.0, 150.0));
        assert_eq!(
            (mar.customer_minutes, mar.customer_minutes_reported),
            (500, 2)
        );

        let quarters: Vec<_> = M
            .by_quarter
            .iter()
            .map(|g| (g.key.as_str(), g.incidents))
            .collect();
        assert_eq!(quarters, [("2025-Q4", 1), ("2026-Q1", 5)]);
        // 2026-Q1 TTR: 90, 60, 150, 90 -> sorted 60 90 90 150; mean 390/4 = 97.5;
        // median rank ceil(2.0) = 2 -> 90; p90 rank ceil(3.6) = 4 -> 150.
        assert_eq!(
            group(&M.by_quarter, "2026-Q1").ttr_minutes,
            summary(4, 1, 97.5, 90.0, 150.0)
        );
    }

    #[test]
    fn severities_and_services() {
        let sev: Vec<_> = M
            .by_severity
            .iter()
            .map(|g| (g.key.as_str(), g.incidents))
            .collect();
        assert_eq!(sev, [("SEV1", 2), ("SEV2", 3), ("SEV3", 1), ("SEV4", 0)]);
        // SEV2 TTR: PM-2025-010 240, INC-2026-002 150, INC-2026-003 90 -> sorted 90 150 240; mean 480/3 = 160.
        assert_eq!(
            group(&M.by_severity, "SEV2").ttr_minutes,
            summary(3, 0, 160.0, 150.0, 240.0)
        );
        // SEV1 TTD: INC-2026-001 5; INC-2026-004 left out.
        assert_eq!(
            group(&M.by_severity, "SEV1").ttd_minutes,
            summary(1, 1, 5.0, 5.0, 5.0)
        );

        let svc: Vec<_> = M
            .by_service
            .iter()
            .map(|g| (g.key.as_str(), g.incidents))
            .collect();
        // INC-2026-002 is in payments and checkout.
        assert_eq!(svc, [("checkout", 4), ("payments", 1), ("search", 2)]);
        // checkout TTR: 240, 90, 150, 90 -> sorted 90 90 150 240; mean 570/4 = 142.5; median rank 2 -> 90; p90 rank 4 -> 240.
        let checkout = group(&M.by_service, "checkout");
        assert_eq!(checkout.ttr_minutes, summary(4, 0, 142.5, 90.0, 240.0));
        assert_eq!(checkout.customer_minutes, 2000 + 1000 + 500);
        // search: INC-2026-004 (TTR 60) and INC-2026-005 (open: left out).
        assert_eq!(
            group(&M.by_service, "search").ttr_minutes,
            summary(1, 1, 60.0, 60.0, 60.0)
        );
    }

    #[test]
    fn counts_by_month_are_stacked_by_severity() {
        let stacks: Vec<(String, usize, Vec<usize>)> = M
            .counts_by_month
            .iter()
            .map(|m| {
                (
                    m.month.clone(),
                    m.total,
                    m.by_severity.iter().map(|c| c.count).collect(),
                )
            })
            .collect();
        let expected = [
            ("2025-12", 1, vec![0, 1, 0, 0]),
            ("2026-01", 2, vec![2, 0, 0, 0]),
            ("2026-02", 0, vec![0, 0, 0, 0]),
            ("2026-03", 3, vec![0, 2, 1, 0]),
        ]
        .map(|(m, t, v)| (m.to_string(), t, v));
        assert_eq!(stacks, expected);
        let names: Vec<_> = M.counts_by_month[0]
            .by_severity
            .iter()
            .map(|c| c.severity.as_str())
            .collect();
        assert_eq!(names, ["SEV1", "SEV2", "SEV3", "SEV4"]);
    }

    #[test]
    fn postmortem_coverage() {
        let c = &M.postmortems;
        // Need one (SEV1, SEV2): PM-2025-010, INC-2026-001, -004, -002, -003 = 5.
        // Have one: PM-2025-010 (itself), INC-2026-001 (PM-2026-001), INC-2026-002 (PM-2026-002, a draft) = 3.
        // Published: PM-2025-010 and PM-2026-001 = 2. Coverage 3/5 = 0.6.
        assert_eq!(
            (c.required, c.with_postmortem, c.published, c.coverage_rate),
            (5, 3, 2, Some(0.6))
        );
        // Days to publish: INC-2026-001 resolved 01-10 11:30Z, published 01-14 11:30Z = 4.0;
        // PM-2025-010 resolved 12-31 02:00+01, published 01-06 14:00+01 = 6 d 12 h = 6.5.
        // Mean 10.5/2 = 5.25; median rank ceil(1.0) = 1 -> 4; p90 rank ceil(1.8) = 2 -> 6.5.
        assert_eq!(c.days_to_publish, summary(2, 0, 5.25, 4.0, 6.5));
        // INC-2026-004 resolved 2026-01-25, due +5 days = 01-30; 01-30 -> 03-20 = 1 + 28 + 20 = 49 days.
        assert_eq!(c.overdue.len(), 1);
        let o = &c.overdue[0];
        assert_eq!(
            (o.incident_id, o.due, o.days_overdue),
            ("INC-2026-004", date("2026-01-30"), 49)
        );
        // INC-2026-003 resolved 2026-03-15 (local), due 03-20: not overdue on 03-20, so pending.
        assert_eq!(c.pending, 1);
    }

    #[test]
    fn overdue_postmortems_match_the_policy_check() {
        let from_policy: Vec<_> = KB
            .diagnostics
            .iter()
            .filter(|d| d.code == "postmortem-overdue")
            .map(|d| d.file.clone())
            .collect();
        let from_metrics: Vec<_> = M.postmortems.overdue.iter().map(|o| o.path).collect();
        assert_eq!(from_policy, from_metrics);
    }

    fn row<'a>(text_start: &str) -> &'a ActionItemRow<'_> {
        M.items
            .iter()
            .find(|r| r.text.starts_with(text_start))
            .unwrap_or_else(|| panic!("no item {text_start}"))
    }

    #[test]
    fn action_item_rows() {
        assert_eq!(M.items.len(), 7);
        // Done late: due 01-20, done 01-25 -> 5 days late; incident resolved 2026-01-10 -> 15 days to close.
        let late = row("Run migrations");
        assert_eq!(
            (late.state, late.days_late, late.days_to_close),
            (ItemState::Done, Some(5), Some(15))
        );
        assert_eq!(
            (late.postmortem_id, late.anchor, late.line),
            ("PM-2026-001", "ai-1", 32)
        );
        assert_eq!(late.incident_id, Some("INC-2026-001"));
        assert_eq!(
            (late.kind, late.ticket, late.owner),
            (Some("prevent"), Some("OPS-1"), Some("dana"))
        );
        // On time: due 01-31, done 01-15 -> 0 days late; 01-15 - 01-10 = 5 days to close.
        let on_time = row("Dashboard");
        assert_eq!(
            (on_time.days_late, on_time.days_to_close),
            (Some(0), Some(5))
        );
        // Standalone: resolved 2025-12-31 (+01:00), done 2026-01-10 -> 10 days to close.
        let standalone = row("Add a lock timeout");
        assert_eq!(
            (standalone.days_to_close, standalone.incident_id),
            (Some(10), Some("PM-2025-010"))
        );
        // Overdue on 2026-03-20: due 03-01 -> 19 days; due 02-01 -> 28 + 19 = 47 days.
        let c = row("Migration review");
        assert_eq!((c.state, c.days_overdue), (ItemState::Overdue, Some(19)));
        assert_eq!(c.ticket, Some("https://tracker.example/OPS-2"));
        assert_eq!(
            (
                row("Alert on lock waits").state,
                row("Alert on lock waits").days_overdue
            ),
            (ItemState::Overdue, Some(47))
        );
        // Due today is not overdue yet; due in April is open.
        let today = row("Lower resolver TTLs");
        assert_eq!(
            (today.state, today.due, today.days_overdue, today.kind),
            (ItemState::Open, Some(date("2026-03-20")), None, None)
        );
        let open = row("Add retries");
        assert_eq!(
            (open.state, open.services),
            (
                ItemState::Open,
                &["payments".to_string(), "checkout".to_string()][..]
            )
        );
        assert_eq!(
            open.text,
            r#"Add retries, with "jitter", to the payments client"#
        );
    }

    #[test]
    fn action_item_stats() {
        let a = &M.action_items;
        // Done: Run migrations, Dashboard, Add a lock timeout = 3; overdue: Migration review, Alert = 2;
        // open: Add retries, Lower TTLs = 2. Completion 3/7 = 0.428571… -> 0.4286. Done late: 1.
        assert_eq!(
            (
                a.total,
                a.open,
                a.overdue,
                a.done,
                a.done_late,
                a.completion_rate
            ),
            (7, 2, 2, 3, 1, Some(0.4286))
        );
        // Days to close 15, 5, 10 -> sorted 5 10 15; mean 10; median rank 2 -> 10; p90 rank 3 -> 15.
        assert_eq!(a.days_to_close, summary(3, 0, 10.0, 10.0, 15.0));
        let owners: Vec<_> = a
            .by_owner
            .iter()
            .map(|g| (g.key.as_str(), g.total, g.open, g.overdue, g.done))
            .collect();
        assert_eq!(
            owners,
            [
                ("dana", 3, 0, 1, 2),
                ("li", 2, 1, 0, 1),
                ("priya", 1, 1, 0, 0),
                ("sam", 1, 0, 1, 0)
            ]
        );
        // dana: done 2 of 3 = 0.6667; days to close 15 and 10 -> sorted 10 15, median rank 1 -> 10; one done late.
        let dana = &a.by_owner[0];
        assert_eq!(
            (
                dana.completion_rate,
                dana.median_days_to_close,
                dana.done_late
            ),
            (Some(0.6667), Some(10.0), 1)
        );
        let types: Vec<_> = a
            .by_type
            .iter()
            .map(|g| (g.key.as_str(), g.total))
            .collect();
        assert_eq!(
            types,
            [
                ("detect", 2),
                ("mitigate", 1),
                ("prevent", 2),
                ("process", 1),
                ("(none)", 1)
            ]
        );
        // Every item follows a checkout incident; only PM-2026-002's two also follow payments.
        let services: Vec<_> = a
            .by_service
            .iter()
            .map(|g| (g.key.as_str(), g.total, g.open, g.overdue, g.done))
            .collect();
        assert_eq!(
            services,
            [("checkout", 7, 2, 2, 3), ("payments", 2, 2, 0, 0)]
        );
    }

    #[test]
    fn repeats_share_a_service_and_a_tag_within_90_days() {
        let r: Vec<_> = M
            .repeats
            .iter()
            .map(|r| (r.incident_id, r.previous_id, r.days_apart))
            .collect();
        // INC-2026-001 after PM-2025-010 (checkout, database): 2025-12-30T21:00Z -> 2026-01-10T10:00Z
        // = 11 days - 11 h = 10.5417 days. INC-2026-003 after INC-2026-001 (the most recent match, not
        // PM-2025-010): 01-10T10:00Z -> 03-15T04:40Z = 64 days - 5 h 20 min = 63.7778 days.
        // INC-2026-004 (search, database) shares the tag but not the service; INC-2026-005 shares
        // search with -004 but not a tag; INC-2026-002 shares checkout but not a tag.
        assert_eq!(
            r,
            [
                ("INC-2026-001", "PM-2025-010", 10.54),
                ("INC-2026-003", "INC-2026-001", 63.78)
            ]
        );
        assert_eq!(
            (M.repeats[1].services.clone(), M.repeats[1].tags.clone()),
            (vec!["checkout"], vec!["database"])
        );
    }

    #[test]
    fn since_keeps_later_incidents_and_their_items() {
        let m = aggregate_with(
            &KB,
            &Options {
                since: Some(date("2026-02-01")),
            },
        );
        // Local start dates on or after 02-01: INC-2026-002 (03-01), -003, -005.
        let ids: Vec<_> = m.incidents.iter().map(|f| f.id).collect();
        assert_eq!(ids, ["INC-2026-002", "INC-2026-003", "INC-2026-005"]);
        assert_eq!(
            m.by_month
                .iter()
                .map(|g| g.key.as_str())
                .collect::<Vec<_>>(),
            ["2026-03"]
        );
        // Only PM-2026-002's two items; INC-2026-003 still repeats INC-2026-001 from before `since`.
        assert_eq!(m.action_items.total, 2);
        assert_eq!(m.repeats.len(), 1);
        // Needs one: INC-2026-002 (has a draft), INC-2026-003 (pending).
        assert_eq!(
            (
                m.postmortems.required,
                m.postmortems.with_postmortem,
                m.postmortems.pending
            ),
            (2, 1, 1)
        );
    }

    #[test]
    fn overdue_items_become_errors_at_their_due_token() {
        let diags = overdue_action_items(&KB);
        let at: Vec<_> = diags
            .iter()
            .map(|d| (d.code, d.file.as_str(), d.line, d.column))
            .collect();
        assert_eq!(
            at,
            [
                // `- [ ] Alert on lock waits above 5 s @sam ` is 41 characters: `due:` is at column 42.
                (
                    "action-item-overdue",
                    "content/postmortems/pm-2025-010-checkout-lock-timeouts.md",
                    43,
                    42
                ),
                // `- [ ] Migration review checklist @dana ` is 39 characters.
                (
                    "action-item-overdue",
                    "content/postmortems/pm-2026-001-checkout-db-locks.md",
                    34,
                    40
                ),
            ]
        );
        assert!(
            diags[1].message.contains("due 2026-03-01, 19 days ago"),
            "{}",
            diags[1].message
        );
    }

    #[test]
    fn periods_are_written_as_keys() {
        let keys = [
            Period::Month(2026, 3),
            Period::Quarter(2026, 1),
            Period::Month(987, 12),
            Period::Month(12026, 1),
        ];
        assert_eq!(
            keys.map(Period::key),
            ["2026-03", "2026-Q1", "0987-12", "12026-01"]
        );
        let d = date("2026-12-31");
        assert_eq!(
            (Period::month_of(d), Period::quarter_of(d)),
            (Period::Month(2026, 12), Period::Quarter(2026, 4))
        );
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(
            (
                nearest_rank(&v, 50),
                nearest_rank(&v, 90),
                nearest_rank(&v, 100)
            ),
            (Some(5.0), Some(9.0), Some(10.0))
        );
        assert_eq!(
            (nearest_rank(&[7.0], 50), nearest_rank(&[7.0], 90)),
            (Some(7.0), Some(7.0))
        );
        assert_eq!(nearest_rank(&[], 50), None);
        // 11 values: p90 rank ceil(9.9) = 10.
        let v: Vec<f64> = (1..=11).map(f64::from).collect();
        assert_eq!(nearest_rank(&v, 90), Some(10.0));
        assert_eq!(
            Summary::of(vec![], 3),
            Summary {
                count: 0,
                left_out: 3,
                mean: None,
                median: None,
                p90: None
            }
        );
    }

    #[test]
    fn selection_gives_the_nearest_rank_of_the_sorted_values() {
        // A fixed pseudo-random sequence with repeats, for every length up to 60.
        let mut x: u64 = 7;
        for n in 1..=60 {
            let values: Vec<f64> = (0..n)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((x >> 33) % 50) as f64 / 2.0
                })
                .collect();
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let s = Summary::of(values, 0);
            assert_eq!(
                (s.median, s.p90),
                (nearest_rank(&sorted, 50), nearest_rank(&sorted, 90)),
                "{sorted:?}"
            );
        }
    }

    #[test]
    fn an_empty_knowledge_base_aggregates_to_zeros() {
        let mut kb = fixture();
        kb.documents.clear();
        kb.graph = Default::default();
        let m = aggregate(&kb);
        assert_eq!(m.totals.incidents, 0);
        assert!(m.by_month.is_empty() && m.items.is_empty() && m.repeats.is_empty());
        assert_eq!(m.by_severity.len(), 4);
        assert_eq!(m.action_items.completion_rate, None);
    }
}
