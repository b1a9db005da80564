//! `hindsight check` on the fixture knowledge bases: `valid` is clean, and
//! `mistakes` reports each of its mistakes with the right file and line, in
//! one run, in all three formats.

use crate::support::{check, edit, fixture, scratch_copy, Diag};
use std::collections::BTreeSet;

/// Every diagnostic of `tests/fixtures/mistakes`, in output order: severity,
/// code, file under `content/`, line. A reader should not need the snapshots to
/// know what the checker is expected to find.
const MISTAKES: &[(&str, &str, &str, usize)] = &[
    // An incident with one broken field per line.
    (
        "error",
        "missing-field",
        "incidents/inc-2026-010-bad-fields.md",
        1,
    ), // `title` (it is spelt `titel`)
    (
        "error",
        "unknown-field",
        "incidents/inc-2026-010-bad-fields.md",
        3,
    ), // `titel`, hint: did you mean `title`?
    (
        "error",
        "unknown-severity",
        "incidents/inc-2026-010-bad-fields.md",
        4,
    ), // SEV5
    (
        "error",
        "wrong-type",
        "incidents/inc-2026-010-bad-fields.md",
        6,
    ), // `services: checkout`, not a list
    (
        "error",
        "bad-datetime",
        "incidents/inc-2026-010-bad-fields.md",
        8,
    ), // no offset
    (
        "error",
        "timestamp-order",
        "incidents/inc-2026-010-bad-fields.md",
        10,
    ), // resolved before acknowledged
    (
        "error",
        "bad-person",
        "incidents/inc-2026-010-bad-fields.md",
        11,
    ), // `dana smith`
    (
        "error",
        "wrong-type",
        "incidents/inc-2026-010-bad-fields.md",
        13,
    ), // impact.users_affected: lots
    (
        "error",
        "unknown-field",
        "incidents/inc-2026-010-bad-fields.md",
        14,
    ), // impact.customer_minuts
    (
        "error",
        "broken-link",
        "incidents/inc-2026-010-bad-fields.md",
        15,
    ), // runbooks: [RB-does-not-exist]
    (
        "error",
        "pattern-mismatch",
        "incidents/inc-2026-012-dup-key.md",
        2,
    ), // id: INC-12
    (
        "error",
        "duplicate-key",
        "incidents/inc-2026-012-dup-key.md",
        5,
    ), // the second `title`
    (
        "error",
        "invalid-value",
        "incidents/inc-2026-012-dup-key.md",
        7,
    ), // detection: pager
    (
        "error",
        "yaml-syntax",
        "incidents/inc-2026-013-malformed.md",
        3,
    ), // `title: Checkout: the sequel`
    (
        "error",
        "postmortem-overdue",
        "incidents/inc-2026-014-no-postmortem.md",
        8,
    ), // SEV1, resolved 1 Nov
    ("error", "missing-front-matter", "notes/meeting.md", 1),
    ("error", "unknown-kind", "notes/meeting.md", 1),
    (
        "error",
        "broken-link",
        "postmortems/pm-2026-010-checkout-errors.md",
        10,
    ), // ../runbooks/rb-rollback-missing.md
    (
        "error",
        "empty-section",
        "postmortems/pm-2026-010-checkout-errors.md",
        12,
    ), // Impact: only the placeholder
    (
        "error",
        "timeline-order",
        "postmortems/pm-2026-010-checkout-errors.md",
        19,
    ), // 09:10 after 09:20
    (
        "warning",
        "timeline-window",
        "postmortems/pm-2026-010-checkout-errors.md",
        21,
    ), // 10:30, after resolution
    (
        "warning",
        "timeline-time",
        "postmortems/pm-2026-010-checkout-errors.md",
        22,
    ), // an entry without a time
    (
        "error",
        "action-item-owner",
        "postmortems/pm-2026-010-checkout-errors.md",
        30,
    ),
    (
        "error",
        "action-item-due",
        "postmortems/pm-2026-010-checkout-errors.md",
        31,
    ),
    (
        "error",
        "missing-field",
        "postmortems/pm-2026-011-incomplete.md",
        1,
    ), // `authors`
    (
        "error",
        "broken-link",
        "postmortems/pm-2026-011-incomplete.md",
        4,
    ), // incident: INC-2026-404
    (
        "error",
        "missing-section",
        "postmortems/pm-2026-011-incomplete.md",
        6,
    ), // Lessons Learned
    (
        "error",
        "action-item-type",
        "postmortems/pm-2026-011-incomplete.md",
        25,
    ), // type:investigate
    (
        "error",
        "bad-date",
        "postmortems/pm-2026-011-incomplete.md",
        26,
    ), // due:2026-13-01
    ("error", "duplicate-id", "runbooks/rb-duplicate.md", 2), // the first to use the id
    ("error", "duplicate-id", "runbooks/rb-stale.md", 2),     // same id as rb-duplicate.md
    ("warning", "stale-runbook", "runbooks/rb-stale.md", 6),  // reviewed 2025-06-01, every 90d
    ("error", "out-of-range", "services/search.md", 4),       // tier: 7
];

fn expected_mistakes() -> Vec<(String, String, String, usize)> {
    MISTAKES
        .iter()
        .map(|(s, c, f, l)| (s.to_string(), c.to_string(), format!("content/{f}"), *l))
        .collect()
}

fn as_tuples(diags: &[Diag]) -> Vec<(String, String, String, usize)> {
    diags
        .iter()
        .map(|d| (d.severity.clone(), d.code.clone(), d.file.clone(), d.line))
        .collect()
}

#[test]
fn valid_fixture_is_clean_in_every_format() {
    let root = fixture("valid");
    let human = check(&root, &[]);
    assert_eq!(
        (human.code, human.stderr.as_str(), human.stdout.as_str()),
        (0, "0 errors, 0 warnings\n", "")
    );
    for format in ["json", "github"] {
        let run = check(&root, &["--format", format]);
        assert_eq!(
            (run.code, run.stdout.as_str()),
            (0, ""),
            "--format {format}: {}",
            run.stderr
        );
    }
}

#[test]
fn mistakes_fixture_reports_every_mistake_at_its_line_in_one_run() {
    let run = check(&fixture("mistakes"), &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(as_tuples(&run.diagnostics()), expected_mistakes());
    // Every problem says how to fix it.
    for line in run.stdout.lines() {
        let d: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(d["hint"].is_string(), "no hint: {line}");
    }
    let codes: BTreeSet<&str> = MISTAKES.iter().map(|m| m.1).collect();
    assert!(
        codes.len() >= 12,
        "the fixture should hold at least a dozen different mistakes: {codes:?}"
    );
}

#[test]
fn mistakes_fixture_points_at_the_offending_column() {
    let run = check(&fixture("mistakes"), &["--format", "json"]);
    let at = |code: &str, file: &str| {
        let d = run
            .diagnostics()
            .into_iter()
            .find(|d| d.code == code && d.file.ends_with(file));
        d.map(|d| (d.line, d.column))
            .unwrap_or_else(|| panic!("no {code} in {file}"))
    };
    // `severity: SEV5`: the value, not the key.
    assert_eq!(at("unknown-severity", "bad-fields.md"), (4, 11));
    // `  users_affected: lots` under `impact:`: the nested value.
    assert_eq!(at("wrong-type", "bad-fields.md"), (6, 11));
    assert_eq!(at("unknown-field", "bad-fields.md"), (3, 1));
    // `title: Checkout: the sequel`: the second colon.
    assert_eq!(at("yaml-syntax", "malformed.md"), (3, 16));
    // `- [ ] Ask the vendor @omar due:2026-13-01`: the token.
    assert_eq!(at("bad-date", "incomplete.md"), (26, 28));
    let nested = run
        .diagnostics()
        .into_iter()
        .find(|d| d.message.contains("impact.users_affected"))
        .unwrap();
    assert_eq!((nested.line, nested.column), (13, 19));
}

#[test]
fn mistakes_fixture_gives_typo_hints() {
    let run = check(&fixture("mistakes"), &["--format", "json"]);
    let hints: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["hint"].clone())
        .collect();
    assert!(
        hints.contains(&serde_json::json!("did you mean `title`?")),
        "{hints:?}"
    );
}

#[test]
fn mistakes_fixture_human_snapshot() {
    let run = check(&fixture("mistakes"), &[]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "", "human output goes to stderr");
    assert!(
        run.stderr.ends_with("30 errors, 3 warnings\n"),
        "{}",
        run.stderr
    );
    insta::assert_snapshot!("mistakes_human", run.stderr);
}

#[test]
fn mistakes_fixture_json_snapshot() {
    let run = check(&fixture("mistakes"), &["--format", "json"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!("mistakes_json", run.stdout);
}

#[test]
fn mistakes_fixture_github_snapshot() {
    let run = check(&fixture("mistakes"), &["--format", "github"]);
    assert_eq!(run.code, 1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), MISTAKES.len());
    for (line, (severity, code, file, n)) in lines.iter().zip(MISTAKES) {
        let prefix = format!("::{severity} file=content/{file},line={n},col=");
        assert!(
            line.starts_with(&prefix) && line.contains(&format!(",title={code}::")),
            "{line}"
        );
    }
    insta::assert_snapshot!("mistakes_github", run.stdout);
}

// The valid fixture is clean because its content is right, not because a rule
// skipped it: break one thing at a time in a copy and the rule fires.

#[test]
fn valid_fixture_timeline_over_midnight_is_checked() {
    let kb = scratch_copy("valid");
    let pm = kb
        .path()
        .join("content/postmortems/pm-2026-001-checkout-outage.md");
    // 00:20 after midnight, then 00:10: out of order although both roll to the next day.
    edit(&pm, "- 00:35 — error rate", "- 00:10 — error rate");
    let run = check(kb.path(), &["--format", "json"]);
    let keys: Vec<_> = run
        .diagnostics()
        .iter()
        .map(|d| (d.code.clone(), d.line))
        .collect();
    assert_eq!(keys, [("timeline-order".to_string(), 31)], "{}", run.stdout);
    assert_eq!(run.code, 1);
}

#[test]
fn a_postmortem_contradicting_its_incident_is_warned_and_shows_the_incident() {
    let kb = scratch_copy("valid");
    let pm = kb
        .path()
        .join("content/postmortems/pm-2026-001-checkout-outage.md");
    // Repeating the incident's fields is fine: the same services in another
    // order, the same instant in another offset, a handle without its `@`.
    edit(
        &pm,
        "incident: INC-2026-001\n",
        "incident: INC-2026-001\nseverity: SEV1\nservices: [payments, checkout]\n\
         started_at: 2026-03-14T22:40:00Z\ncommander: dana\n",
    );
    let run = check(kb.path(), &["--format", "json"]);
    assert_eq!(run.diagnostics().len(), 0, "{}", run.stdout);
    edit(&pm, "severity: SEV1", "severity: SEV3");
    edit(
        &pm,
        "started_at: 2026-03-14T22:40:00Z",
        "started_at: 2026-03-14T22:10:00Z",
    );
    let run = check(kb.path(), &["--format", "json"]);
    let found: Vec<_> = run
        .diagnostics()
        .iter()
        .map(|d| (d.code.clone(), d.line, d.column))
        .collect();
    let mismatch = "incident-mismatch".to_string();
    assert_eq!(
        found,
        [(mismatch.clone(), 5, 11), (mismatch, 7, 13)],
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 0, "a warning");
    // The page shows what the metrics count: the incident's severity.
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    let built = crate::site::build(kb.path(), Some(&site), &[]);
    assert_eq!(built.code, 0, "{}", built.stderr);
    let page = std::fs::read_to_string(site.join("postmortems/pm-2026-001/index.html")).unwrap();
    let card = page.split("<header class=\"card\">").nth(1).unwrap();
    assert!(
        card.contains(">SEV1<") && !card.contains(">SEV3<"),
        "{card}"
    );
    assert!(
        card.contains(">TTR</dt><dd>2h 05m</dd>"),
        "the incident's start: {card}"
    );
    // A timestamp only the postmortem has would be dropped: said so.
    let inc = kb
        .path()
        .join("content/incidents/inc-2026-001-checkout-outage.md");
    edit(&inc, "mitigated_at: 2026-03-15T00:35:00+01:00\n", "");
    edit(
        &pm,
        "severity: SEV3\n",
        "mitigated_at: 2026-03-15T00:35:00+01:00\n",
    );
    edit(
        &pm,
        "started_at: 2026-03-14T22:10:00Z",
        "started_at: 2026-03-14T22:40:00Z",
    );
    let run = check(kb.path(), &["--format", "json"]);
    let d = run.diagnostics();
    assert_eq!(d.len(), 1, "{}", run.stdout);
    assert_eq!((d[0].code.as_str(), d[0].line), ("incident-mismatch", 5));
    assert_eq!(
        d[0].message,
        "`mitigated_at` is set here but not in its incident INC-2026-001"
    );
}

#[test]
fn valid_fixture_non_utc_window_is_checked() {
    let kb = scratch_copy("valid");
    let pm = kb
        .path()
        .join("content/postmortems/pm-2026-002-search-latency.md");
    // The incident runs 14:10-16:30 at +05:30; 16:45 there is after it ended.
    edit(&pm, "| 16:30 | Resolved. |", "| 16:45 | Resolved. |");
    let run = check(kb.path(), &["--format", "json"]);
    let d = run.diagnostics();
    assert_eq!(d.len(), 1, "{}", run.stdout);
    assert_eq!((d[0].code.as_str(), d[0].line), ("timeline-window", 30));
    assert!(
        d[0].message.contains("2026-06-02 16:45 +05:30"),
        "{}",
        d[0].message
    );
    assert_eq!(run.code, 0, "a timeline-window finding is a warning");
}

#[test]
fn valid_fixture_links_and_action_items_are_checked() {
    let kb = scratch_copy("valid");
    let pm = kb
        .path()
        .join("content/postmortems/pm-2026-001-checkout-outage.md");
    edit(
        &pm,
        "../runbooks/rb-checkout-rollback.md",
        "../runbooks/rb-checkout-rollbak.md",
    );
    edit(&pm, "@omar due:2026-12-15", "due:2026-12-15");
    let adr = kb
        .path()
        .join("content/decisions/adr-1-version-cache-keys.md");
    edit(&adr, "status: accepted", "status: accepted-ish");
    let run = check(kb.path(), &["--format", "json"]);
    let keys: Vec<_> = run
        .diagnostics()
        .iter()
        .map(|d| (d.code.clone(), d.file.clone(), d.line))
        .collect();
    let pm_path = "content/postmortems/pm-2026-001-checkout-outage.md".to_string();
    assert_eq!(
        keys,
        [
            (
                "invalid-value".into(),
                "content/decisions/adr-1-version-cache-keys.md".into(),
                4
            ),
            ("broken-link".into(), pm_path.clone(), 16),
            ("action-item-owner".into(), pm_path, 40),
        ]
    );
}

#[test]
fn root_relative_md_links_are_checked_like_relative_ones() {
    let kb = scratch_copy("valid");
    let pm = kb
        .path()
        .join("content/postmortems/pm-2026-001-checkout-outage.md");
    // `/` is the knowledge base's root, as GitHub reads it in a pull request.
    edit(
        &pm,
        "the [rollback runbook](../runbooks/rb-checkout-rollback.md)",
        "the [rollback runbook](/content/runbooks/rb-checkout-rollback.md#mitigation)",
    );
    edit(
        &pm,
        "- [ ] Alert on cache miss ratio",
        "- [ ] Alert on [cache](/content/runbooks/rb-cache.md) miss ratio",
    );
    edit(
        &pm,
        "the [incident](../incidents/inc-2026-001-checkout-outage.md)",
        "the [incident](/incidents/inc-2026-001-checkout-outage.md)",
    );
    let run = check(kb.path(), &["--format", "json"]);
    let found: Vec<_> = run
        .diagnostics()
        .into_iter()
        .map(|d| (d.code, d.file, d.line, d.column, d.message))
        .collect();
    let pm_path = "content/postmortems/pm-2026-001-checkout-outage.md";
    let broken = |line, column, path: &str| {
        (
            "broken-link".to_string(),
            pm_path.to_string(),
            line,
            column,
            format!("link to missing file `{path}`"),
        )
    };
    assert_eq!(
        found,
        [
            // Not under content/: the root is the folder of hindsight.yaml.
            broken(15, 18, "/incidents/inc-2026-001-checkout-outage.md"),
            broken(41, 16, "/content/runbooks/rb-cache.md"),
        ],
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 1);
}

#[test]
fn valid_fixture_needs_its_postmortem() {
    let kb = scratch_copy("valid");
    std::fs::remove_file(
        kb.path()
            .join("content/postmortems/pm-2026-001-checkout-outage.md"),
    )
    .unwrap();
    std::fs::remove_file(
        kb.path()
            .join("content/decisions/adr-1-version-cache-keys.md"),
    )
    .unwrap();
    let run = check(kb.path(), &["--format", "json"]);
    let keys: Vec<_> = run
        .diagnostics()
        .iter()
        .map(|d| (d.code.clone(), d.line))
        .collect();
    assert_eq!(
        keys,
        [
            ("postmortem-overdue".to_string(), 11),
            ("broken-link".to_string(), 26)
        ]
    );
}

#[test]
fn pages_two_documents_would_share_fail_check() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let runbook = |id: &str| {
        format!(
            "---\nid: \"{id}\"\ntitle: A\n---\n## Overview\no\n## Diagnosis\nd\n## Mitigation\nm\n## Escalation\ne\n"
        )
    };
    let dir = root.join("content/runbooks");
    std::fs::create_dir_all(&dir).unwrap();
    // `..` would be written over the runbooks' index; the other two differ in case only.
    std::fs::write(dir.join("rb-dots.md"), runbook("..")).unwrap();
    std::fs::write(dir.join("rb-one.md"), runbook("RB-db")).unwrap();
    std::fs::write(dir.join("rb-two.md"), runbook("rb-DB")).unwrap();
    let run = check(root, &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found: Vec<(String, String, usize, usize)> = run
        .diagnostics()
        .into_iter()
        .map(|d| (d.code, d.file, d.line, d.column))
        .collect();
    let at = |file: &str| {
        (
            "output-collision".to_string(),
            format!("content/runbooks/{file}"),
            2,
            5,
        )
    };
    assert_eq!(found, [at("rb-dots.md"), at("rb-two.md")]);
    std::fs::write(dir.join("rb-dots.md"), runbook("RB-dots")).unwrap();
    std::fs::write(dir.join("rb-two.md"), runbook("RB-db-2")).unwrap();
    let run = check(root, &["--format", "json"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
}

/// `(code, line, column, hint)` of each diagnostic of a `--format json` run.
fn with_hints(run: &crate::support::Run) -> Vec<(String, usize, usize, String)> {
    run.stdout
        .lines()
        .map(|l| {
            let d: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                d["code"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap() as usize,
                d["column"].as_u64().unwrap() as usize,
                d["hint"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_section_at_another_heading_level_is_pointed_at() {
    let kb = scratch_copy("valid");
    let pm = kb
        .path()
        .join("content/postmortems/pm-2026-002-search-latency.md");
    edit(&pm, "## Contributing Factors", "### Contributing Factors");
    let run = check(kb.path(), &["--format", "json"]);
    assert_eq!(
        with_hints(&run),
        [(
            "section-level".to_string(),
            32,
            1,
            "write `## Contributing Factors`".to_string()
        )],
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 1);
    let run = check(kb.path(), &[]);
    assert!(
        run.stderr.contains(
            "error[section-level]: section `Contributing Factors` is a level 3 heading; the template has it at level 2"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn misspelt_links_and_sections_get_a_did_you_mean() {
    let kb = scratch_copy("valid");
    let pm = kb
        .path()
        .join("content/postmortems/pm-2026-001-checkout-outage.md");
    edit(
        &pm,
        "related: [RB-checkout-rollback]",
        "related: [RB-checkout-rolback]",
    );
    edit(
        &pm,
        "../runbooks/rb-checkout-rollback.md",
        "../runbook/rb-checkout-rollback.md",
    );
    edit(
        &pm,
        "](../incidents/inc-2026-001-checkout-outage.md)",
        "](/content/incidents/inc-2026-001-checkout-outag.md)",
    );
    edit(&pm, "## Summary", "### Sumary");
    let pm2 = kb
        .path()
        .join("content/postmortems/pm-2026-002-search-latency.md");
    edit(&pm2, "## Contributing Factors", "## Contributing factor");
    let run = check(kb.path(), &["--format", "json"]);
    let did_you_mean = |s: &str| s.to_string();
    assert_eq!(
        with_hints(&run),
        [
            (
                "broken-link".to_string(),
                9,
                11,
                did_you_mean("did you mean `RB-checkout-rollback`?")
            ),
            (
                "missing-section".to_string(),
                12,
                1,
                did_you_mean("did you mean `Summary`? rename the heading `### Sumary` to `## Summary`")
            ),
            (
                "broken-link".to_string(),
                15,
                18,
                did_you_mean("no document at content/incidents/inc-2026-001-checkout-outag.md; did you mean `/content/incidents/inc-2026-001-checkout-outage.md`?")
            ),
            (
                "broken-link".to_string(),
                16,
                5,
                did_you_mean("no document at content/runbook/rb-checkout-rollback.md; did you mean `../runbooks/rb-checkout-rollback.md`?")
            ),
            // In pm-2026-002.
            (
                "missing-section".to_string(),
                32,
                1,
                did_you_mean("did you mean `Contributing Factors`? rename the heading `## Contributing factor` to `## Contributing Factors`")
            ),
        ],
        "{}",
        run.stdout
    );
    // Only close names are offered: another incident's number is not a typo.
    edit(&pm, "incident: INC-2026-001", "incident: INC-2026-003");
    edit(&pm, "### Sumary", "## Synopsis");
    let run = check(kb.path(), &["--format", "json"]);
    let hints = with_hints(&run);
    let hint = |code, line| {
        let h = hints.iter().find(|h| h.0 == code && h.1 == line);
        h.unwrap_or_else(|| panic!("no {code} at {line}: {}", run.stdout))
            .3
            .clone()
    };
    assert_eq!(
        hint("broken-link", 4),
        "no incident has this id; check the spelling or create it"
    );
    // At the front matter's end, where the body starts.
    assert_eq!(
        hint("missing-section", 11),
        "add a `## Summary` heading with its content"
    );
}

/// The codes, files and lines of a `--format json` run.
fn found(run: &crate::support::Run) -> Vec<(String, String, usize)> {
    run.diagnostics()
        .into_iter()
        .map(|d| (d.code, d.file, d.line))
        .collect()
}

#[test]
fn documents_naming_a_postmortem_with_unreadable_front_matter_are_not_broken_links() {
    let kb = scratch_copy("valid");
    let pm = "content/postmortems/pm-2026-001-checkout-outage.md";
    // `@` cannot start a plain YAML value: the front matter does not parse.
    edit(
        &kb.path().join(pm),
        r#"authors: ["@dana", omar]"#,
        "authors: [@dana, omar]",
    );
    let run = check(kb.path(), &["--format", "json"]);
    // ADR-1 has `related: [PM-2026-001]`: the id is still known.
    assert_eq!(
        found(&run),
        [("yaml-syntax".to_string(), pm.to_string(), 5)],
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 1);
}

#[test]
fn documents_naming_an_incident_with_unreadable_front_matter_are_not_broken_links() {
    let kb = scratch_copy("valid");
    let inc = "content/incidents/inc-2026-001-checkout-outage.md";
    edit(
        &kb.path().join(inc),
        r#"commander: "@dana""#,
        "commander: @dana",
    );
    let run = check(kb.path(), &["--format", "json"]);
    // PM-2026-001 has `incident: INC-2026-001` (and bare timeline times,
    // whose date the unreadable incident cannot give: its own error says
    // why); INC-2026-002 has `related: [INC-2026-001]`.
    assert_eq!(
        found(&run),
        [("yaml-syntax".to_string(), inc.to_string(), 12)],
        "{}",
        run.stdout
    );
}

#[test]
fn an_id_read_from_unreadable_front_matter_can_still_be_a_duplicate() {
    let kb = scratch_copy("valid");
    let pm = "content/postmortems/pm-2026-002-search-latency.md";
    let path = kb.path().join(pm);
    edit(&path, "id: PM-2026-002", "id: PM-2026-001 # copied");
    let text = std::fs::read_to_string(&path).unwrap();
    // Break the line after the id, whatever it is.
    let broken = text.replacen("\ntitle: ", "\ntitle: [unclosed ", 1);
    std::fs::write(&path, broken).unwrap();
    let run = check(kb.path(), &["--format", "json"]);
    let first = "content/postmortems/pm-2026-001-checkout-outage.md".to_string();
    let d = run.diagnostics();
    let dup: Vec<_> = d
        .iter()
        .filter(|d| d.code == "duplicate-id")
        .map(|d| (d.file.clone(), d.line, d.column))
        .collect();
    // Both at the id's value: the recovered one points at its line too.
    assert_eq!(
        dup,
        [(first, 2, 5), (pm.to_string(), 2, 5)],
        "{}",
        run.stdout
    );
    assert!(d.iter().any(|d| d.code == "yaml-syntax" && d.file == pm));
    assert!(!d.iter().any(|d| d.code == "broken-link"), "{}", run.stdout);
}

#[test]
fn action_item_tokens_with_a_space_after_the_colon_say_what_was_written() {
    let kb = scratch_copy("valid");
    let pm = kb
        .path()
        .join("content/postmortems/pm-2026-001-checkout-outage.md");
    edit(
        &pm,
        "@omar due:2026-12-15 type:prevent",
        "(owner: @omar, due: 2026-12-15) type: prevent",
    );
    edit(&pm, "@li due:2027-01-10", "@li due:  2027-01-10");
    // At the end of the item, with a space after it.
    edit(&pm, "done:2026-03-15 type:mitigate", "type:mitigate done: ");
    edit(&pm, "done:2026-03-30 type:process", "type: fix done: ");
    let run = check(kb.path(), &["--format", "json"]);
    let found: Vec<(String, usize, usize, String, String)> = run
        .stdout
        .lines()
        .map(|l| {
            let d: serde_json::Value = serde_json::from_str(l).unwrap();
            let text = |k: &str| d[k].as_str().unwrap().to_string();
            let num = |k: &str| d[k].as_u64().unwrap() as usize;
            (
                text("code"),
                num("line"),
                num("column"),
                text("message"),
                text("hint"),
            )
        })
        .collect();
    let at = |code: &str, line, column, message: &str, hint: &str| {
        (
            code.to_string(),
            line,
            column,
            message.to_string(),
            hint.to_string(),
        )
    };
    let types = "(prevent, detect, mitigate, process)";
    assert_eq!(
        found,
        [
            at(
                "bad-date",
                40,
                71,
                "`due: 2026-12-15)` has a space after the colon",
                "write `due:2026-12-15`, without the space"
            ),
            at(
                "action-item-type",
                40,
                88,
                "`type: prevent` has a space after the colon",
                "write `type:prevent`, without the space"
            ),
            at(
                "bad-date",
                41,
                49,
                "`due:  2027-01-10` has a space after the colon",
                "write `due:2027-01-10`, without the space"
            ),
            at(
                "bad-date",
                42,
                64,
                "`done:` has no date",
                "write the date right after the colon: `done:YYYY-MM-DD`"
            ),
            at(
                "action-item-type",
                43,
                75,
                "`type: fix` has a space after the colon",
                &format!("write the type right after the colon: `type:prevent` {types}")
            ),
            // Another token after the space is not taken for the date.
            at(
                "bad-date",
                43,
                85,
                "`done:` has no date",
                "write the date right after the colon: `done:YYYY-MM-DD`"
            ),
        ],
        "{}",
        run.stdout
    );
    // Written as the hints say, punctuation after a token included, it is clean.
    edit(
        &pm,
        "(owner: @omar, due: 2026-12-15) type: prevent",
        "(owner: @omar, due:2026-12-15) type:prevent",
    );
    edit(&pm, "@li due:  2027-01-10", "@li due:2027-01-10");
    edit(
        &pm,
        "type:mitigate done: ",
        "type:mitigate done:2026-03-15.",
    );
    edit(&pm, "type: fix done: ", "type:process done:2026-03-30");
    let run = check(kb.path(), &["--format", "json"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
}
