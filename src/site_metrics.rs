//! The pages and exports made from `aggregate`: `/metrics/`, `/action-items/`,
//! `/api/metrics.json`, `/api/action-items.json`, `/action-items.csv`, and the
//! MTTR sparklines of the dashboard and service pages.

use crate::aggregate::{ActionItemRow, GroupStats, Metrics, Summary};
use crate::charts;
use crate::render::escape;
use crate::report;
use crate::site::DocSummary;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// How many months the sparklines show.
const SPARK_MONTHS: usize = 12;

fn minutes(v: Option<f64>) -> String {
    v.map_or("—".into(), report::human_minutes)
}

/// One row of a statistics table, formatted for the template.
#[derive(serde::Serialize)]
pub struct StatRow {
    key: String,
    incidents: usize,
    figures: Vec<Figure>,
    customer_minutes: i64,
}

#[derive(serde::Serialize)]
pub struct Figure {
    mean: String,
    median: String,
    p90: String,
    count: usize,
    left_out: usize,
}

fn figure(s: &Summary) -> Figure {
    figure_with(s, minutes)
}

/// A summary in days (time to publish), as `hindsight stats` prints it.
fn days_figure(s: &Summary) -> Figure {
    figure_with(s, |v| v.map_or("—".into(), |d| format!("{d:.1} days")))
}

fn figure_with(s: &Summary, format: fn(Option<f64>) -> String) -> Figure {
    Figure {
        mean: format(s.mean),
        median: format(s.median),
        p90: format(s.p90),
        count: s.count,
        left_out: s.left_out,
    }
}

pub fn stat_rows(groups: &[GroupStats]) -> Vec<StatRow> {
    groups
        .iter()
        .map(|g| StatRow {
            key: g.key.clone(),
            incidents: g.incidents,
            figures: [
                &g.ttd_minutes,
                &g.tta_minutes,
                &g.ttm_minutes,
                &g.ttr_minutes,
            ]
            .into_iter()
            .map(figure)
            .collect(),
            customer_minutes: g.customer_minutes,
        })
        .collect()
}

/// Template values for `/metrics/`.
pub fn metrics_values(m: &Metrics) -> Vec<(&'static str, serde_json::Value)> {
    let json = |v: serde_json::Value| v;
    vec![
        (
            "all_time",
            json(
                serde_json::to_value(stat_rows(std::slice::from_ref(&m.all_time)))
                    .unwrap_or_default(),
            ),
        ),
        (
            "by_severity",
            serde_json::to_value(stat_rows(&m.by_severity)).unwrap_or_default(),
        ),
        (
            "by_service",
            serde_json::to_value(stat_rows(&m.by_service)).unwrap_or_default(),
        ),
        (
            "by_quarter",
            serde_json::to_value(stat_rows(&m.by_quarter)).unwrap_or_default(),
        ),
        (
            "by_month",
            serde_json::to_value(stat_rows(&m.by_month)).unwrap_or_default(),
        ),
        (
            "counts_by_month",
            serde_json::to_value(&m.counts_by_month).unwrap_or_default(),
        ),
        (
            "totals",
            serde_json::to_value(&m.totals).unwrap_or_default(),
        ),
        (
            "coverage",
            serde_json::to_value(&m.postmortems).unwrap_or_default(),
        ),
        (
            "days_to_publish",
            serde_json::to_value(days_figure(&m.postmortems.days_to_publish)).unwrap_or_default(),
        ),
        (
            "items",
            serde_json::to_value(&m.action_items).unwrap_or_default(),
        ),
        (
            "repeats",
            serde_json::to_value(&m.repeats).unwrap_or_default(),
        ),
        (
            "chart_durations",
            serde_json::Value::String(charts::durations_by_month_chart(m)),
        ),
        (
            "chart_counts",
            serde_json::Value::String(charts::incidents_by_month_chart(m)),
        ),
        (
            "chart_services",
            serde_json::Value::String(charts::ttr_by_service_chart(m)),
        ),
    ]
}

/// MTTR (median) of the last months, oldest first, for a sparkline.
pub fn ttr_trend(m: &Metrics, service: Option<&str>) -> Vec<Option<f64>> {
    let months: Vec<&str> = m.by_month.iter().map(|g| g.key.as_str()).collect();
    let recent = &months[months.len().saturating_sub(SPARK_MONTHS)..];
    match service {
        None => {
            let by_key: HashMap<&str, &GroupStats> =
                m.by_month.iter().map(|g| (g.key.as_str(), g)).collect();
            recent
                .iter()
                .map(|k| by_key.get(k).and_then(|g| g.ttr_minutes.median))
                .collect()
        }
        Some(svc) => {
            let mut per_month: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
            for inc in m
                .incidents
                .iter()
                .filter(|i| i.services.iter().any(|s| s == svc))
            {
                if let (Some(month), Some(ttr)) = (inc.month.as_deref(), inc.ttr_minutes) {
                    per_month.entry(month).or_default().push(ttr);
                }
            }
            recent
                .iter()
                .map(|k| {
                    let mut v = per_month.get(k)?.clone();
                    v.sort_by(f64::total_cmp);
                    // Nearest-rank median, as in `aggregate`.
                    Some(v[v.len().div_ceil(2) - 1])
                })
                .collect()
        }
    }
}

/// The action items table, rendered in Rust: it can hold tens of thousands of
/// rows, which is slow through a template engine and needs no logic there.
pub fn action_item_rows(items: &[ActionItemRow], urls: &HashMap<&str, &str>) -> String {
    let mut out = String::with_capacity(items.len() * 400);
    for r in items {
        let url = urls.get(r.postmortem_id).copied().unwrap_or("#");
        let state = r.state.as_str();
        let _ = writeln!(
            out,
            "<tr data-state=\"{state}\" data-owner=\"{owner}\" data-services=\"{services}\"><td><span class=\"state state-{state}\">{state}</span></td><td><a href=\"{url}#{anchor}\">{text}</a></td><td class=\"nowrap\">{owner_cell}</td><td class=\"nowrap\">{due}{done}</td><td>{kind}</td><td>{ticket}</td><td class=\"nowrap\"><a href=\"{url}\">{pm}</a></td></tr>",
            owner = escape(r.owner.unwrap_or("")),
            services = escape(&r.services.join(" ")),
            url = escape(url),
            anchor = escape(r.anchor),
            text = crate::render::inline_markdown_unlinked(r.text),
            owner_cell = r.owner.map(|o| format!("@{}", escape(o))).unwrap_or_default(),
            due = r.due.map(|d| d.to_string()).unwrap_or_default(),
            done = r.done_on.map(|d| format!("<br><span class=\"muted\">done {d}</span>")).unwrap_or_default(),
            kind = escape(r.kind.unwrap_or("")),
            ticket = r.ticket.map(|t| format!("<code>{}</code>", escape(t))).unwrap_or_default(),
            pm = escape(r.postmortem_id),
        );
    }
    out
}

/// How many done items `/action-items/` lists, newest first.
pub const DONE_SHOWN: usize = 200;

/// Template values for `/action-items/`.
pub fn action_item_values(
    m: &Metrics,
    summaries: &[DocSummary],
) -> Vec<(&'static str, serde_json::Value)> {
    let urls: HashMap<&str, &str> = summaries
        .iter()
        .map(|s| (s.id.as_str(), s.url.as_str()))
        .collect();
    let mut items: Vec<&ActionItemRow> = m.items.iter().collect();
    // Overdue first (most overdue first), then open by due date, then done, newest first.
    items.sort_by(|a, b| {
        let rank = |r: &ActionItemRow| match r.state.as_str() {
            "overdue" => 0,
            "open" => 1,
            _ => 2,
        };
        rank(a).cmp(&rank(b)).then_with(|| match rank(a) {
            2 => b.done_on.cmp(&a.done_on),
            _ => a.due.cmp(&b.due),
        })
    });
    // Every open item, and only the latest done ones: the page is for what is
    // left to do (tens of thousands of rows are unreadable, and slow to load);
    // the exports hold every item.
    let done_total = items.iter().filter(|r| r.state.as_str() == "done").count();
    let open = items.len() - done_total;
    let owned: Vec<ActionItemRow> = items.into_iter().take(open + DONE_SHOWN).cloned().collect();
    let done_shown = owned.len() - open;
    // Each row renders its Markdown: in parallel, in order.
    let rows: String = owned
        .par_chunks(256)
        .map(|chunk| action_item_rows(chunk, &urls))
        .collect::<Vec<String>>()
        .concat();
    let owners: Vec<&str> = {
        let mut o: Vec<&str> = m.items.iter().filter_map(|r| r.owner).collect();
        o.sort_unstable();
        o.dedup();
        o
    };
    let services: Vec<&str> = {
        let mut s: Vec<&str> = m
            .items
            .iter()
            .flat_map(|r| r.services.iter().map(String::as_str))
            .collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    vec![
        (
            "stats",
            serde_json::to_value(&m.action_items).unwrap_or_default(),
        ),
        ("rows", serde_json::Value::String(rows)),
        ("done_shown", done_shown.into()),
        ("done_total", done_total.into()),
        (
            "filter_owners",
            serde_json::to_value(owners).unwrap_or_default(),
        ),
        (
            "filter_services",
            serde_json::to_value(services).unwrap_or_default(),
        ),
    ]
}
