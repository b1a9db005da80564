//! `hindsight actions` and `hindsight stats`, and the exports built from
//! `aggregate::Metrics`: `/api/metrics.json`, `/api/action-items.json` and
//! `/action-items.csv`. Field names are documented in `docs/exports.md` and
//! are stable within a `schema_version`.
//!
//! Everything here turns data into text; reading the knowledge base is
//! `kb::open`'s job and the numbers are `aggregate`'s.

use crate::aggregate::{self, ActionItemRow, ItemState, Metrics, Options, Summary, SCHEMA_VERSION};
use crate::cli::Common;
use crate::kb::{self, KnowledgeBase};
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct ActionsArgs {
    #[command(flatten)]
    pub common: Common,
    /// Only overdue items (open and past due on the build date, see --today).
    #[arg(long)]
    pub overdue: bool,
    /// Done items too (default: open and overdue ones).
    #[arg(long, conflicts_with = "overdue")]
    pub all: bool,
    /// Only this owner's items (`@dana` or `dana`).
    #[arg(long, value_name = "@HANDLE")]
    pub owner: Option<String>,
    /// Only items that follow an incident affecting this service.
    #[arg(long, value_name = "ID")]
    pub service: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ActionsFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ActionsFormat {
    Table,
    Json,
    Csv,
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    #[command(flatten)]
    pub common: Common,
    /// Count only incidents that started on or after this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub since: Option<NaiveDate>,
    /// Output format (json: the same document as /api/metrics.json).
    #[arg(long, value_enum, default_value = "table")]
    pub format: StatsFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsFormat {
    Table,
    Json,
}

/// Which action items `hindsight actions` shows.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub overdue_only: bool,
    pub include_done: bool,
    /// A handle, with or without `@`.
    pub owner: Option<String>,
    pub service: Option<String>,
}

/// The items that pass `filter`, in stand-up order: overdue first (most
/// overdue first), then open by due date, then done; undated last.
pub fn select_items<'a, 'k>(
    items: &'a [ActionItemRow<'k>],
    filter: &ItemFilter,
) -> Vec<&'a ActionItemRow<'k>> {
    let owner = filter.owner.as_deref().map(crate::model::person);
    let mut out: Vec<&ActionItemRow> = items
        .iter()
        .filter(|r| match r.state {
            ItemState::Overdue => true,
            ItemState::Open => !filter.overdue_only,
            ItemState::Done => filter.include_done && !filter.overdue_only,
        })
        .filter(|r| owner.as_deref().is_none_or(|o| r.owner == Some(o)))
        .filter(|r| {
            filter
                .service
                .as_ref()
                .is_none_or(|s| r.services.contains(s))
        })
        .collect();
    out.sort_by(|a, b| {
        let key =
            |r: &ActionItemRow<'k>| (r.state, r.due.is_none(), r.due, r.postmortem_id, r.line);
        key(a).cmp(&key(b))
    });
    out
}

/// `/api/metrics.json` and `hindsight stats --format json`.
pub fn metrics_json(metrics: &Metrics) -> String {
    let mut s = serde_json::to_string_pretty(metrics).expect("metrics serialize");
    s.push('\n');
    s
}

#[derive(Serialize)]
struct ItemsDocument<'a, 'k> {
    schema_version: u32,
    today: NaiveDate,
    count: usize,
    items: Vec<&'a ActionItemRow<'k>>,
}

/// `/api/action-items.json` and `hindsight actions --format json`.
pub fn action_items_json<'a, 'k: 'a>(
    items: impl IntoIterator<Item = &'a ActionItemRow<'k>>,
    today: NaiveDate,
) -> String {
    let items: Vec<&ActionItemRow> = items.into_iter().collect();
    let doc = ItemsDocument {
        schema_version: SCHEMA_VERSION,
        today,
        count: items.len(),
        items,
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("action items serialize");
    s.push('\n');
    s
}

/// The columns of the CSV export, in order.
pub const CSV_COLUMNS: [&str; 18] = [
    "postmortem_id",
    "anchor",
    "state",
    "owner",
    "due",
    "done_on",
    "type",
    "ticket",
    "text",
    "incident_id",
    "severity",
    "services",
    "days_overdue",
    "days_late",
    "days_to_close",
    "postmortem_title",
    "postmortem_path",
    "line",
];

/// `/action-items.csv` and `hindsight actions --format csv`: RFC 4180 quoting,
/// a header row, UTF-8, `\n` line ends; several services are joined with `;`.
pub fn action_items_csv<'a, 'k: 'a>(
    items: impl IntoIterator<Item = &'a ActionItemRow<'k>>,
) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push('\n');
    let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let int = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    for r in items {
        let cells: [&str; 18] = [
            r.postmortem_id,
            r.anchor,
            r.state.as_str(),
            r.owner.unwrap_or(""),
            &date(r.due),
            &date(r.done_on),
            r.kind.unwrap_or(""),
            r.ticket.unwrap_or(""),
            r.text,
            r.incident_id.unwrap_or(""),
            r.severity.unwrap_or(""),
            &r.services.join(";"),
            &int(r.days_overdue),
            &int(r.days_late),
            &int(r.days_to_close),
            r.postmortem_title,
            r.postmortem_path,
            &r.line.to_string(),
        ];
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_cell(&mut out, cell);
        }
        out.push('\n');
    }
    out
}

/// One CSV cell: quoted when it holds a comma, quote or line break (quotes
/// doubled). A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`
/// first) gets a leading `'`, so a shared export cannot run anything.
pub fn csv_cell(value: &str) -> String {
    let mut out = String::new();
    write_cell(&mut out, value);
    out
}

fn write_cell(out: &mut String, value: &str) {
    let defuse = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = value.contains([',', '"', '\n', '\r']);
    if quote {
        out.push('"');
    }
    if defuse {
        out.push('\'');
    }
    if quote {
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// Minutes for people: `45s`, `16m`, `2h 05m`, `3d 04h`.
pub fn human_minutes(minutes: f64) -> String {
    let seconds = (minutes * 60.0).round() as i64;
    let m = (minutes.round() as i64).max(0);
    match seconds {
        s if s < 60 => format!("{}s", s.max(0)),
        _ if m < 60 => format!("{m}m"),
        _ if m < 24 * 60 => format!("{}h {:02}m", m / 60, m % 60),
        _ => format!("{}d {:02}h", m / (24 * 60), (m % (24 * 60)) / 60),
    }
}

/// Terminal control characters out, so item text cannot drive the terminal.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Aligned columns, two spaces apart: left-aligned, or right-aligned where
/// `right[i]`. A left-aligned last column is not padded.
fn table(header: &[&str], rows: &[Vec<String>], right: &[bool]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let pad = " ".repeat(widths[i] - cell.chars().count());
            let sep = if i == 0 { "" } else { "  " };
            if right.get(i).copied().unwrap_or(false) {
                let _ = write!(line, "{sep}{pad}{cell}");
            } else {
                let _ = write!(line, "{sep}{cell}{pad}");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `hindsight actions` as a table for a stand-up.
pub fn actions_table(items: &[&ActionItemRow], today: NaiveDate) -> String {
    if items.is_empty() {
        return format!("No action items match (as of {today}).\n");
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|r| {
            let state = match r.days_overdue {
                Some(d) => format!("overdue {d}d"),
                None => r.state.as_str().to_string(),
            };
            vec![
                state,
                r.due.map_or("-".into(), |d| d.to_string()),
                r.owner
                    .as_ref()
                    .map_or("-".into(), |o| format!("@{}", printable(o))),
                r.ticket.map_or("-".into(), printable),
                format!("{}#{}", printable(r.postmortem_id), r.anchor),
                printable(r.text),
            ]
        })
        .collect();
    let mut out = table(
        &["STATE", "DUE", "OWNER", "TICKET", "POSTMORTEM", "ITEM"],
        &rows,
        &[],
    );
    let count = |s: ItemState| items.iter().filter(|r| r.state == s).count();
    let _ = writeln!(
        out,
        "\n{} item{}: {} overdue, {} open, {} done (as of {today})",
        items.len(),
        if items.len() == 1 { "" } else { "s" },
        count(ItemState::Overdue),
        count(ItemState::Open),
        count(ItemState::Done)
    );
    out
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or("-".into(), |r| format!("{:.0}%", r * 100.0))
}

fn duration_row(name: &str, s: &Summary) -> Vec<String> {
    let f = |v: Option<f64>| v.map_or("-".into(), human_minutes);
    vec![
        name.into(),
        s.count.to_string(),
        s.left_out.to_string(),
        f(s.mean),
        f(s.median),
        f(s.p90),
    ]
}

/// `hindsight stats`: the headline figures.
pub fn stats_table(m: &Metrics) -> String {
    let mut out = String::new();
    let since = m
        .since
        .map(|d| format!(", incidents since {d}"))
        .unwrap_or_default();
    let _ = writeln!(out, "As of {}{since}\n", m.today);
    let t = &m.totals;
    let standalone = match t.standalone_postmortems {
        0 => String::new(),
        1 => ", counting 1 standalone postmortem".into(),
        n => format!(", counting {n} standalone postmortems"),
    };
    let _ = writeln!(
        out,
        "Incidents        {} ({} open){standalone}",
        t.incidents, t.open
    );
    let severities: Vec<String> = m
        .by_severity
        .iter()
        .map(|g| format!("{} {}", g.key, g.incidents))
        .collect();
    let _ = writeln!(out, "By severity      {}\n", severities.join(" · "));
    let a = &m.all_time;
    let rows = [
        duration_row("Time to detect", &a.ttd_minutes),
        duration_row("Time to acknowledge", &a.tta_minutes),
        duration_row("Time to mitigate", &a.ttm_minutes),
        duration_row("Time to resolve", &a.ttr_minutes),
    ];
    out.push_str(&table(
        &["", "count", "left out", "mean", "median", "p90"],
        &rows,
        &[false, true, true, true, true, true],
    ));
    let _ = writeln!(
        out,
        "\nCustomer impact  {} customer minutes ({} of {} incidents state it)",
        a.customer_minutes, a.customer_minutes_reported, a.incidents
    );
    let p = &m.postmortems;
    let publish = p
        .days_to_publish
        .median
        .map(|d| format!("; median {d:.1} days to publish"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "Postmortems      {} of {} required written ({}), {} published{publish}",
        p.with_postmortem,
        p.required,
        percent(p.coverage_rate),
        p.published
    );
    for o in &p.overdue {
        let _ = writeln!(
            out,
            "  overdue        {} ({}), due {}, {} days overdue: {}",
            printable(o.incident_id),
            printable(o.severity),
            o.due,
            o.days_overdue,
            printable(o.title)
        );
    }
    let i = &m.action_items;
    let close = i
        .days_to_close
        .median
        .map(|d| format!("; median {d:.0} days to close"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "Action items     {}: {} open, {} overdue, {} done ({}), {} done late{close}",
        i.total,
        i.open,
        i.overdue,
        i.done,
        percent(i.completion_rate),
        i.done_late
    );
    let _ = writeln!(
        out,
        "Repeats          {} incident{} within {} days of one with the same service and tag",
        m.repeats.len(),
        if m.repeats.len() == 1 { "" } else { "s" },
        aggregate::REPEAT_WINDOW_DAYS
    );
    out
}

/// Opens the knowledge base for a report: exit code 2 when it cannot be read.
fn open_kb(common: &Common) -> Result<KnowledgeBase, ExitCode> {
    let today = common.today.unwrap_or_else(kb::today_utc);
    let kb = kb::open(&common.root, today)
        .map_err(|e| crate::cli::setup_failed(e, crate::diagnostic::Format::Human))?;
    if common.timings {
        for (stage, t) in &kb.timings {
            eprintln!("{stage:>16}: {:>8.1} ms", t.as_secs_f64() * 1000.0);
        }
    }
    let (errors, _) = crate::diagnostic::count(&kb.diagnostics);
    if errors > 0 {
        eprintln!(
            "warning: `hindsight check` reports {errors} error{} here; values that failed their checks are not counted",
            if errors == 1 { "" } else { "s" }
        );
    }
    Ok(kb)
}

fn aggregate_timed<'a>(kb: &'a KnowledgeBase, options: &Options, timings: bool) -> Metrics<'a> {
    let clock = Instant::now();
    let metrics = aggregate::aggregate_with(kb, options);
    if timings {
        eprintln!(
            "{:>16}: {:>8.1} ms",
            "aggregate",
            clock.elapsed().as_secs_f64() * 1000.0
        );
    }
    metrics
}

fn print(text: &str) {
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = std::io::stdout().write_all(text.as_bytes());
}

/// `hindsight actions [--overdue] [--all] [--owner @x] [--service ID] [--format table|json|csv]`.
pub fn actions(args: ActionsArgs) -> ExitCode {
    let kb = match open_kb(&args.common) {
        Ok(kb) => kb,
        Err(code) => return code,
    };
    let metrics = aggregate_timed(&kb, &Options::default(), args.common.timings);
    let filter = ItemFilter {
        overdue_only: args.overdue,
        include_done: args.all,
        owner: args.owner,
        service: args.service,
    };
    let items = select_items(&metrics.items, &filter);
    print(&match args.format {
        ActionsFormat::Table => actions_table(&items, kb.today),
        ActionsFormat::Json => action_items_json(items.iter().copied(), kb.today),
        ActionsFormat::Csv => action_items_csv(items.iter().copied()),
    });
    // The process ends here: freeing a whole knowledge base piece by piece is wasted time.
    drop(items);
    std::mem::forget(metrics);
    std::mem::forget(kb);
    ExitCode::SUCCESS
}

/// `hindsight stats [--since DATE] [--format table|json]`.
pub fn stats(args: StatsArgs) -> ExitCode {
    let kb = match open_kb(&args.common) {
        Ok(kb) => kb,
        Err(code) => return code,
    };
    let metrics = aggregate_timed(&kb, &Options { since: args.since }, args.common.timings);
    print(&match args.format {
        StatsFormat::Table => stats_table(&metrics),
        StatsFormat::Json => metrics_json(&metrics),
    });
    std::mem::forget(metrics);
    std::mem::forget(kb);
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::tests::M;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 20).unwrap()
    }

    #[test]
    fn metrics_json_snapshot() {
        insta::assert_snapshot!("metrics_json", metrics_json(&M));
    }

    #[test]
    fn action_items_json_snapshot() {
        insta::assert_snapshot!("action_items_json", action_items_json(&M.items, today()));
    }

    #[test]
    fn action_items_csv_snapshot() {
        insta::assert_snapshot!("action_items_csv", action_items_csv(&M.items));
    }

    #[test]
    fn json_field_names_are_the_documented_ones() {
        let docs = include_str!("../docs/exports.md");
        let value: serde_json::Value = serde_json::from_str(&metrics_json(&M)).unwrap();
        let items: serde_json::Value =
            serde_json::from_str(&action_items_json(&M.items, today())).unwrap();
        let mut names = std::collections::BTreeSet::new();
        fn collect(v: &serde_json::Value, names: &mut std::collections::BTreeSet<String>) {
            match v {
                serde_json::Value::Object(map) => {
                    for (k, v) in map {
                        names.insert(k.clone());
                        collect(v, names);
                    }
                }
                serde_json::Value::Array(items) => items.iter().for_each(|v| collect(v, names)),
                _ => {}
            }
        }
        collect(&value, &mut names);
        collect(&items, &mut names);
        names.extend(CSV_COLUMNS.iter().map(|c| c.to_string()));
        let undocumented: Vec<_> = names
            .iter()
            .filter(|n| !docs.contains(&format!("`{n}`")))
            .collect();
        assert!(
            undocumented.is_empty(),
            "not in docs/exports.md: {undocumented:?}"
        );
    }

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a, b"), "\"a, b\"");
        assert_eq!(csv_cell(r#"say "hi""#), r#""say ""hi""""#);
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("@dana"), "'@dana");
        assert_eq!(csv_cell(""), "");
        let csv = action_items_csv(&M.items);
        assert_eq!(csv.lines().count(), 1 + 7);
        assert!(
            csv.contains(r#","Add retries, with ""jitter"", to the payments client","#),
            "{csv}"
        );
        assert!(csv.contains(",payments;checkout,"), "{csv}");
    }

    #[test]
    fn select_items_for_a_standup() {
        let pick = |f: ItemFilter| -> Vec<String> {
            select_items(&M.items, &f)
                .iter()
                .map(|r| format!("{}#{}", r.postmortem_id, r.anchor))
                .collect()
        };
        // Overdue first, most overdue (earliest due) first; then open by due date.
        assert_eq!(
            pick(ItemFilter::default()),
            [
                "PM-2025-010#ai-2",
                "PM-2026-001#ai-3",
                "PM-2026-002#ai-2",
                "PM-2026-002#ai-1"
            ]
        );
        assert_eq!(
            pick(ItemFilter {
                overdue_only: true,
                ..Default::default()
            }),
            ["PM-2025-010#ai-2", "PM-2026-001#ai-3"]
        );
        assert_eq!(
            pick(ItemFilter {
                include_done: true,
                ..Default::default()
            })
            .len(),
            7
        );
        let dana = ItemFilter {
            owner: Some("@dana".into()),
            include_done: true,
            ..Default::default()
        };
        assert_eq!(
            pick(dana),
            ["PM-2026-001#ai-3", "PM-2025-010#ai-1", "PM-2026-001#ai-1"]
        );
        assert_eq!(
            pick(ItemFilter {
                service: Some("payments".into()),
                ..Default::default()
            })
            .len(),
            2
        );
        assert!(pick(ItemFilter {
            service: Some("nope".into()),
            ..Default::default()
        })
        .is_empty());
    }

    #[test]
    fn tables_for_the_terminal() {
        let items = select_items(&M.items, &ItemFilter::default());
        insta::assert_snapshot!("actions_table", actions_table(&items, today()));
        insta::assert_snapshot!("stats_table", stats_table(&M));
        assert_eq!(
            actions_table(&[], today()),
            "No action items match (as of 2026-03-20).\n"
        );
    }

    #[test]
    fn minutes_for_people() {
        let cases = [
            (0.5, "30s"),
            (16.4, "16m"),
            (59.4, "59m"),
            (68.0, "1h 08m"),
            (1440.0, "1d 00h"),
            (3001.0, "2d 02h"),
        ];
        for (minutes, text) in cases {
            assert_eq!(human_minutes(minutes), text, "{minutes}");
        }
    }
}
