//! Rules that need more than one document: timelines checked against their
//! incident's window, and the knowledge-base policies (a postmortem for every
//! serious incident). Runs after `link`; reads documents, never changes them.

use crate::config::Config;
use crate::diagnostic::{Diagnostic, Pos};
use crate::link::LinkGraph;
use crate::model::{Document, Meta, TimelineTime};
use crate::parse::{front_matter_line, unread_front_matter};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone};
use rayon::prelude::*;
use std::collections::HashSet;

/// The incident metadata that governs a document: its own when it carries
/// `started_at` (an incident, or a standalone postmortem), else its incident's.
pub fn incident_meta<'a>(
    docs: &'a [Document],
    graph: &LinkGraph,
    doc: &'a Document,
) -> Option<&'a Meta> {
    // The incident it names comes first: its fields are the ones the metrics
    // count (a postmortem repeating them differently gets `incident-mismatch`).
    // An incident whose `started_at` is missing or invalid governs nothing.
    let named = doc.meta.incident.as_deref().and_then(|id| graph.get(id));
    match named
        .map(|i| &docs[i].meta)
        .filter(|m| m.started().is_some())
    {
        Some(m) => Some(m),
        None => doc.meta.started().is_some().then_some(&doc.meta),
    }
}

/// A postmortem's incident fields that contradict the incident it names:
/// the page and the metrics show the incident's, so the postmortem's value
/// would be silently ignored.
fn check_incident_fields(docs: &[Document], graph: &LinkGraph, doc: &Document) -> Vec<Diagnostic> {
    let Some(id) = doc.meta.incident.as_deref() else {
        return vec![];
    };
    let Some(incident) = graph
        .get(id)
        .map(|i| &docs[i])
        .filter(|d| d.kind == "incident")
    else {
        return vec![];
    };
    let (mine, theirs) = (&doc.meta, &incident.meta);
    // (field, what the postmortem says, what the incident says: None when
    // it says nothing, so the postmortem's value is dropped).
    let mut differing: Vec<(&str, String, Option<String>)> = vec![];
    if let (Some(a), Some(b)) = (&mine.severity, &theirs.severity) {
        if a != b {
            differing.push(("severity", a.clone(), Some(b.clone())));
        }
    }
    fn set(v: &[String]) -> std::collections::BTreeSet<&str> {
        v.iter().map(String::as_str).collect()
    }
    // An incident without (valid) services leaves the postmortem's in place.
    if !mine.services.is_empty()
        && !theirs.services.is_empty()
        && set(&mine.services) != set(&theirs.services)
    {
        differing.push((
            "services",
            mine.services.join(", "),
            Some(theirs.services.join(", ")),
        ));
    }
    // The incident's timestamps replace all of the postmortem's once it has a
    // start (see `incident_meta`); before that, the postmortem's are used.
    if theirs.started().is_some() {
        for (k, name) in crate::model::MILESTONES.iter().enumerate() {
            // Equal instants written in other offsets agree.
            match (mine.milestones[k], theirs.milestones[k]) {
                (Some(a), Some(b)) if a != b => {
                    differing.push((name, a.to_rfc3339(), Some(b.to_rfc3339())))
                }
                (Some(a), None) => differing.push((name, a.to_rfc3339(), None)),
                _ => {}
            }
        }
    }
    differing
        .into_iter()
        .filter_map(|(field, mine, theirs)| {
            let node = doc.field(field)?;
            let (message, hint) = match theirs {
                Some(theirs) => (
                    format!("`{field}` is `{mine}` here but `{theirs}` in its incident {id}"),
                    format!(
                        "pages and metrics use the incident's `{field}`: remove `{field}:` \
                         from the postmortem, or correct it in {}",
                        incident.rel_path
                    ),
                ),
                None => (
                    format!("`{field}` is set here but not in its incident {id}"),
                    format!(
                        "pages and metrics use the incident's timestamps: move `{field}:` to {}",
                        incident.rel_path
                    ),
                ),
            };
            Some(
                Diagnostic::warning("incident-mismatch", &doc.rel_path, node.pos(), message)
                    .with_hint(hint),
            )
        })
        .collect()
}

/// Resolves timeline entries to instants. A bare time takes the date of the
/// entry before it (the incident's start for the first) and rolls to the next
/// day when it goes back by more than twelve hours, i.e. past midnight.
pub fn resolve_timeline(
    times: &[Option<TimelineTime>],
    start: DateTime<FixedOffset>,
) -> Vec<Option<DateTime<FixedOffset>>> {
    resolved_times(times.iter().copied(), start).collect()
}

/// `resolve_timeline` as an iterator, for callers that need no vector.
fn resolved_times(
    times: impl Iterator<Item = Option<TimelineTime>>,
    start: DateTime<FixedOffset>,
) -> impl Iterator<Item = Option<DateTime<FixedOffset>>> {
    let offset = *start.offset();
    let mut current = start;
    times.map(move |t| {
        let t = t?;
        let zone = t.offset.and_then(FixedOffset::east_opt).unwrap_or(offset);
        let date = match t.date {
            Some(d) => d,
            None => current.with_timezone(&zone).date_naive(),
        };
        let mut at = zone.from_local_datetime(&date.and_time(t.time)).single()?;
        if t.date.is_none() && current - at > Duration::hours(12) {
            at += Duration::days(1);
        }
        current = at;
        Some(at)
    })
}

/// The incidents that postmortems with unreadable front matter name on an
/// `incident:` line. Such a postmortem has its own error; the incident it is
/// for is not also reported overdue (and the metrics count it as written).
pub fn named_by_unreadable_postmortems(docs: &[Document]) -> HashSet<&str> {
    docs.iter()
        .filter(|d| d.kind == "postmortem" && d.front.is_none())
        .filter_map(|d| front_matter_line(unread_front_matter(&d.text)?, "incident"))
        .collect()
}

/// When an incident resolved at `resolved` needs its postmortem. None past
/// chrono's calendar (a huge `postmortem_due_days`): a date never reached.
pub fn postmortem_due(resolved: DateTime<FixedOffset>, due_days: i64) -> Option<NaiveDate> {
    Duration::try_days(due_days).and_then(|d| resolved.date_naive().checked_add_signed(d))
}

pub fn check_timelines(docs: &[Document], graph: &LinkGraph) -> Vec<Diagnostic> {
    check_timelines_again(docs, graph, &mut TimelineMemo::default())
}

/// Each document's timeline diagnostics, with the stamps of the document and
/// of the incident it names when they were made: a timeline reads nothing
/// else, so `serve` checks again only those an edit can change.
#[derive(Debug, Clone, Default)]
pub struct TimelineMemo {
    entries: Vec<(Stamps, Vec<Diagnostic>)>,
}

/// A document's stamp and its incident's.
type Stamps = (u64, Option<u64>);

/// `check_timelines`, reusing what `memo` holds for unchanged documents.
pub fn check_timelines_again(
    docs: &[Document],
    graph: &LinkGraph,
    memo: &mut TimelineMemo,
) -> Vec<Diagnostic> {
    let key = |doc: &Document| {
        let incident = doc.meta.incident.as_deref().and_then(|id| graph.get(id));
        (doc.stamp, incident.map(|i| docs[i].stamp))
    };
    memo.entries.resize_with(docs.len(), Default::default);
    // Documents on their own, in parallel.
    memo.entries
        .par_iter_mut()
        .zip(docs)
        .for_each(|((old_key, diags), doc)| {
            let key = key(doc);
            if *old_key != key || key.0 == 0 {
                *old_key = key;
                *diags = check_timeline(docs, graph, doc);
            }
        });
    memo.entries
        .iter()
        .flat_map(|(_, d)| d.iter().cloned())
        .collect()
}

fn check_timeline(docs: &[Document], graph: &LinkGraph, doc: &Document) -> Vec<Diagnostic> {
    // Reads the same two documents as the timeline, so it is memoized with it.
    let mut diags = check_incident_fields(docs, graph, doc);
    let entries = &doc.structure.timeline;
    if entries.is_empty() {
        return diags;
    }
    for e in entries.iter().filter(|e| e.time.is_none()) {
        diags.push(
            Diagnostic::warning(
                "timeline-time",
                &doc.rel_path,
                doc.pos(&e.range),
                "timeline entry does not start with a time",
            )
            .with_hint(
                "start each entry with a time: `14:02`, `2026-11-03 14:02 UTC` or `**14:02**`",
            ),
        );
    }
    let Some(meta) = incident_meta(docs, graph, doc) else {
        // Front matter that could not be read (the document's or its
        // incident's), or an `incident:` or a `started_at:` that did not
        // resolve, has its own error already.
        let incident = doc.meta.incident.as_deref().and_then(|id| graph.get(id));
        let unreadable = doc.front.is_none()
            || doc.field("started_at").is_some()
            || (doc.field("incident").is_some()
                && incident.is_none_or(|j| {
                    docs[j].front.is_none() || docs[j].field("started_at").is_some()
                }));
        if let Some(e) = entries
            .iter()
            .find(|e| e.time.is_some_and(|t| t.date.is_none()))
            .filter(|_| !unreadable)
        {
            diags.push(
                Diagnostic::warning(
                    "timeline-no-date",
                    &doc.rel_path,
                    doc.pos(&e.range),
                    "bare times need an incident start to take their date from",
                )
                .with_hint("set `incident:` or `started_at:`, or write full dates"),
            );
        }
        return diags;
    };
    let start = meta.started().expect("incident_meta has a start");
    let resolved = resolved_times(entries.iter().map(|e| e.time), start);
    // Entries are written to the minute: compare the window at minute precision.
    let window_start = start - Duration::seconds(start.timestamp().rem_euclid(60));
    let window_end = meta.resolved().map(|r| r + Duration::seconds(59));
    let mut previous: Option<DateTime<FixedOffset>> = None;
    for (e, at) in entries.iter().zip(resolved) {
        let Some(at) = at else { continue };
        // Only for a diagnostic: mapping an offset to a line is not free.
        let pos = || doc.pos(&e.range);
        if previous.is_some_and(|p| at < p) {
            diags.push(
                Diagnostic::error(
                    "timeline-order",
                    &doc.rel_path,
                    pos(),
                    "timeline entry is earlier than the one before it",
                )
                .with_hint("keep the timeline in chronological order"),
            );
        } else if at < window_start || window_end.is_some_and(|end| at > end) {
            diags.push(
                Diagnostic::warning(
                    "timeline-window",
                    &doc.rel_path,
                    pos(),
                    format!(
                        "timeline entry ({}) is outside the incident window",
                        at.format("%Y-%m-%d %H:%M %:z")
                    ),
                )
                .with_hint("the incident runs from `started_at` to `resolved_at`"),
            );
        }
        previous = Some(previous.map_or(at, |p| p.max(at)));
    }
    diags
}

/// A postmortem must exist for severities that need one, within N days of resolution.
pub fn check_postmortems(
    docs: &[Document],
    graph: &LinkGraph,
    config: &Config,
    today: NaiveDate,
) -> Vec<Diagnostic> {
    let mut diags = vec![];
    let policy = &config.policies;
    let unreadable = named_by_unreadable_postmortems(docs);
    for (i, doc) in docs.iter().enumerate() {
        if doc.kind != "incident" || !graph.postmortems[i].is_empty() {
            continue;
        }
        let Some(sev) = &doc.meta.severity else {
            continue;
        };
        let Some(resolved) = doc.meta.resolved() else {
            continue;
        };
        if !policy.postmortem_required_for.contains(sev) {
            continue;
        }
        let Some(due) = postmortem_due(resolved, policy.postmortem_due_days) else {
            continue;
        };
        if today > due && !unreadable.contains(doc.id.as_str()) {
            let at = doc
                .field("resolved_at")
                .map_or(Pos::file_start(), |n| Pos::new(n.line, n.column, 1));
            diags.push(
                Diagnostic::error(
                    "postmortem-overdue",
                    &doc.rel_path,
                    at,
                    format!(
                        "{sev} incident {} has no postmortem; it was due {due}",
                        doc.id
                    ),
                )
                .with_hint(format!(
                    "write one: `hindsight new postmortem --incident {}`",
                    doc.id
                )),
            );
        }
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    fn t(h: u32, m: u32) -> Option<TimelineTime> {
        Some(TimelineTime {
            date: None,
            time: NaiveTime::from_hms_opt(h, m, 0).unwrap(),
            offset: None,
        })
    }

    #[test]
    fn bare_times_roll_past_midnight_in_the_incident_offset() {
        let start = DateTime::parse_from_rfc3339("2026-03-14T23:40:00+01:00").unwrap();
        let r = resolve_timeline(&[t(23, 40), t(23, 55), t(0, 10), t(1, 30)], start);
        let fmt: Vec<String> = r.iter().map(|d| d.unwrap().to_rfc3339()).collect();
        assert_eq!(
            fmt,
            [
                "2026-03-14T23:40:00+01:00",
                "2026-03-14T23:55:00+01:00",
                "2026-03-15T00:10:00+01:00",
                "2026-03-15T01:30:00+01:00"
            ]
        );
    }

    #[test]
    fn small_steps_back_are_not_a_new_day() {
        let start = DateTime::parse_from_rfc3339("2026-03-14T14:00:00Z").unwrap();
        let r = resolve_timeline(&[t(14, 5), t(14, 2)], start);
        assert!(r[1].unwrap() < r[0].unwrap());
    }

    fn checked(files: &[(&str, &str)], config: &Config) -> (Vec<Document>, LinkGraph) {
        let (templates, _) = crate::template::Templates::load(&[]);
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let ctx = crate::validate::Context {
            config,
            templates: &templates,
            today,
        };
        let docs: Vec<Document> = files
            .iter()
            .map(|(path, text)| {
                let file = crate::model::SourceFile {
                    rel_path: path.to_string(),
                    text: text.to_string(),
                };
                let (mut doc, _) = crate::parse::parse(file);
                crate::validate::validate(&mut doc, &ctx);
                doc
            })
            .collect();
        let (graph, _) = crate::link::link(&docs);
        (docs, graph)
    }

    #[test]
    fn timelines_are_checked_again_when_their_incident_changes() {
        let config = Config::default();
        let incident = |resolved: &str| {
            format!("---\nid: INC-2026-001\ntitle: x\nseverity: SEV3\nstatus: resolved\nservices: [a]\nstarted_at: 2026-03-01T14:00:00Z\nresolved_at: {resolved}\n---\n")
        };
        let pm = "---\nid: PM-2026-001\ntitle: y\nincident: INC-2026-001\nauthors: [dana]\n---\n## Timeline\n- 14:00 start\n- 15:30 fixed\n";
        let files = |resolved: &str| {
            checked(
                &[
                    ("content/incidents/i.md", &incident(resolved)),
                    ("content/postmortems/p.md", pm),
                ],
                &config,
            )
        };
        let (docs, graph) = files("2026-03-01T16:00:00Z");
        let mut memo = TimelineMemo::default();
        let first = check_timelines_again(&docs, &graph, &mut memo);
        assert!(
            first.iter().all(|d| d.code != "timeline-window"),
            "{first:?}"
        );
        // The incident now ends before the last entry; the postmortem is the
        // same parse, as in `serve` after an edit of the incident only.
        let (mut edited, graph) = files("2026-03-01T15:00:00Z");
        edited[1] = docs[1].clone();
        let again = check_timelines_again(&edited, &graph, &mut memo);
        assert!(
            again.iter().any(|d| d.code == "timeline-window"),
            "{again:?}"
        );
        assert_eq!(
            format!("{again:?}"),
            format!("{:?}", check_timelines(&edited, &graph))
        );
    }

    #[test]
    fn timeline_of_an_incident_without_start_is_not_a_panic() {
        let incident = "---\nid: INC-2026-001\ntitle: x\nseverity: SEV3\nstatus: investigating\nservices: [a]\n---\n";
        let pm = "---\nid: PM-2026-001\ntitle: y\nincident: INC-2026-001\nauthors: [dana]\n---\n## Timeline\n- 14:00 start\n";
        let (docs, graph) = checked(
            &[
                ("content/incidents/i.md", incident),
                ("content/postmortems/p.md", pm),
            ],
            &Config::default(),
        );
        let diags = check_timelines(&docs, &graph);
        let codes: Vec<_> = diags
            .iter()
            .map(|d| (d.code, d.file.as_str(), d.line))
            .collect();
        assert_eq!(codes, [("timeline-no-date", "content/postmortems/p.md", 8)]);
    }

    #[test]
    fn postmortem_due_past_the_calendar_is_not_a_panic() {
        let incident = "---\nid: INC-2026-001\ntitle: x\nseverity: SEV1\nstatus: resolved\nservices: [a]\nstarted_at: 2026-01-01T00:00:00Z\nresolved_at: 2026-01-01T01:00:00Z\n---\n";
        let mut config = Config::default();
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let (docs, graph) = checked(&[("content/incidents/i.md", incident)], &config);
        assert_eq!(
            check_postmortems(&docs, &graph, &config, today)[0].code,
            "postmortem-overdue"
        );
        for days in [i64::MAX, 99_999_999] {
            config.policies.postmortem_due_days = days;
            assert!(
                check_postmortems(&docs, &graph, &config, today).is_empty(),
                "{days}"
            );
        }
    }

    #[test]
    fn explicit_offsets_are_respected() {
        let start = DateTime::parse_from_rfc3339("2026-03-14T10:00:00+01:00").unwrap();
        let entry = TimelineTime {
            date: NaiveDate::from_ymd_opt(2026, 3, 14),
            time: NaiveTime::from_hms_opt(9, 30, 0).unwrap(),
            offset: Some(0),
        };
        let r = resolve_timeline(&[Some(entry)], start);
        assert_eq!(r[0].unwrap().timestamp(), start.timestamp() + 30 * 60);
    }
}
