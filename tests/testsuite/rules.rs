//! One test per diagnostic code of `check`: the smallest knowledge base that
//! triggers it, the file and line it points at, and the fix that silences it.
//! Runs the library pipeline (`kb::open`) directly, without a process per case.
//! Every code in the registry (`hindsight::rules::RULES`) must have a test here
//! or a named home elsewhere: see `every_rule_has_a_test`.

use hindsight::kb;
use std::path::Path;

/// `(code, file, line)` of every diagnostic, or of the setup error.
type Found = Vec<(String, String, usize)>;

fn write_all(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn diagnose_dir(root: &Path) -> Found {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    let diags = match kb::open(root, today) {
        Ok(kb) => kb.diagnostics,
        Err(setup) => setup.diagnostics,
    };
    diags
        .into_iter()
        .map(|d| (d.code.to_string(), d.file, d.line))
        .collect()
}

fn diagnose(files: &[(&str, &str)]) -> Found {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("content")).unwrap();
    write_all(dir.path(), files);
    diagnose_dir(dir.path())
}

/// `bad` reports `code` at `file:line`; `good` (the fix) does not report it.
fn rule(code: &str, bad: &[(&str, &str)], at: (&str, usize), good: &[(&str, &str)]) {
    let found = diagnose(bad);
    let want = (code.to_string(), at.0.to_string(), at.1);
    assert!(found.contains(&want), "expected {want:?}, found {found:#?}");
    let fixed = diagnose(good);
    assert!(
        !fixed.iter().any(|f| f.0 == code),
        "the fix still reports `{code}`: {fixed:#?}"
    );
}

// Clean documents the cases start from. Each passes on its own (see `bases_are_clean`).

const INC: &str = "content/incidents/inc.md";
const INCIDENT: &str = "---
id: INC-2026-001
title: Checkout down
severity: SEV3
status: resolved
services: [checkout]
started_at: 2026-11-03T14:00:00+01:00
detected_at: 2026-11-03T14:05:00+01:00
resolved_at: 2026-11-03T15:00:00+01:00
commander: dana
impact:
  users_affected: 10
---
## Summary

Checkout returned errors.
";

const PM: &str = "content/postmortems/pm.md";
const POSTMORTEM: &str = "---
id: PM-2026-001
title: Checkout down
incident: INC-2026-001
authors: [dana]
---
## Summary

It broke; see [the incident](../incidents/inc.md).

## Impact

Ten users.

## Timeline

- 14:00 — deploy
- 14:05 — alert
- 15:00 — resolved

## Root Cause

A bad config.

## Action Items

- [ ] Add a canary @dana due:2026-12-01 type:prevent

## Lessons Learned

Canaries.
";

const RB: &str = "content/runbooks/rb.md";
const RUNBOOK: &str = "---
id: RB-a
title: Restart checkout
last_reviewed: 2026-11-01
review_every: 90d
---
## Overview

a

## Diagnosis

b

## Mitigation

c

## Escalation

d
";

const SVC: &str = "content/services/checkout.md";
const SERVICE: &str = "---
id: checkout
name: Checkout
tier: 1
---
";

/// `text` with `from` replaced by `to` (which must be there).
fn with(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} is not in {text}");
    text.replacen(from, to, 1)
}

#[test]
fn bases_are_clean() {
    let found = diagnose(&[
        (INC, INCIDENT),
        (PM, POSTMORTEM),
        (RB, RUNBOOK),
        (SVC, SERVICE),
    ]);
    assert_eq!(found, Found::new());
}

// Setup.

#[test]
fn no_content() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(diagnose_dir(dir.path())[0].0, "no-content");
    std::fs::create_dir(dir.path().join("content")).unwrap();
    assert_eq!(diagnose_dir(dir.path()), Found::new());
}

#[test]
fn config() {
    rule(
        "config",
        &[(
            "hindsight.yaml",
            "title: x\npolicies:\n  postmortem_due_dayz: 3\n",
        )],
        ("hindsight.yaml", 3),
        &[(
            "hindsight.yaml",
            "title: x\npolicies:\n  postmortem_due_days: 3\n",
        )],
    );
}

// Reading files and templates.

#[test]
fn template() {
    let bad = "---\nkind: note\nfields:\n  title: {type: strin}\n---\n## Body\n";
    rule(
        "template",
        &[("templates/note.md", bad)],
        ("templates/note.md", 4),
        &[("templates/note.md", &with(bad, "strin", "string"))],
    );
}

#[cfg(unix)]
#[test]
fn unreadable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("content/runbooks")).unwrap();
    std::os::unix::fs::symlink("gone.md", dir.path().join("content/runbooks/dangling.md")).unwrap();
    let found = diagnose_dir(dir.path());
    assert_eq!(
        found,
        [(
            "unreadable".into(),
            "content/runbooks/dangling.md".into(),
            1
        )]
    );
}

#[cfg(unix)]
#[test]
fn symlink_loop() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("content/runbooks")).unwrap();
    std::os::unix::fs::symlink("..", dir.path().join("content/runbooks/up")).unwrap();
    let found = diagnose_dir(dir.path());
    assert_eq!(
        found,
        [("symlink-loop".into(), "content/runbooks/up".into(), 1)]
    );
}

#[cfg(unix)]
#[test]
fn symlink_outside() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(elsewhere.path().join("rb.md"), RUNBOOK).unwrap();
    std::fs::create_dir_all(dir.path().join("content/runbooks")).unwrap();
    let link = dir.path().join("content/runbooks/rb.md");
    std::os::unix::fs::symlink(elsewhere.path().join("rb.md"), &link).unwrap();
    assert_eq!(
        diagnose_dir(dir.path()),
        [("symlink-outside".into(), RB.into(), 1)]
    );
    // The same file inside the root, linked the same way, is read.
    std::fs::write(dir.path().join("rb.md"), RUNBOOK).unwrap();
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("../../rb.md", &link).unwrap();
    assert_eq!(diagnose_dir(dir.path()), Found::new());
}

#[cfg(unix)]
#[test]
fn special_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("content/runbooks")).unwrap();
    // A socket: made with std alone (a named pipe is in tests/testsuite/hostile.rs).
    let _socket =
        std::os::unix::net::UnixListener::bind(dir.path().join("content/runbooks/rb.md")).unwrap();
    assert_eq!(
        diagnose_dir(dir.path()),
        [("special-file".into(), RB.into(), 1)]
    );
}

#[test]
fn file_too_large() {
    rule(
        "file-too-large",
        &[("hindsight.yaml", "max_file_size: 100\n"), (RB, RUNBOOK)],
        (RB, 1),
        &[("hindsight.yaml", "max_file_size: 100000\n"), (RB, RUNBOOK)],
    );
}

#[test]
fn not_utf8() {
    let dir = tempfile::tempdir().unwrap();
    write_all(dir.path(), &[(RB, RUNBOOK)]);
    let mut bytes = RUNBOOK.as_bytes().to_vec();
    let at = RUNBOOK.find("Restart").unwrap();
    bytes[at] = 0xff;
    std::fs::write(dir.path().join(RB), bytes).unwrap();
    assert_eq!(
        diagnose_dir(dir.path()),
        [("not-utf8".into(), RB.into(), 3)]
    );
}

#[test]
fn empty_file() {
    rule("empty-file", &[(RB, " \n\n")], (RB, 1), &[(RB, RUNBOOK)]);
}

// Front matter.

#[test]
fn missing_front_matter() {
    let bad = &RUNBOOK[RUNBOOK.find("## Overview").unwrap()..];
    rule(
        "missing-front-matter",
        &[(RB, bad)],
        (RB, 1),
        &[(RB, RUNBOOK)],
    );
}

#[test]
fn unclosed_front_matter() {
    let bad = with(RUNBOOK, "review_every: 90d\n---\n", "review_every: 90d\n");
    rule(
        "unclosed-front-matter",
        &[(RB, &bad)],
        (RB, 1),
        &[(RB, RUNBOOK)],
    );
}

#[test]
fn front_matter_not_mapping() {
    let fields = &RUNBOOK[4..RUNBOOK.find("---\n## Overview").unwrap()];
    let list: String = fields.lines().map(|l| format!("- {l}\n")).collect();
    let bad = with(RUNBOOK, fields, &list);
    rule(
        "front-matter-not-mapping",
        &[(RB, &bad)],
        (RB, 2),
        &[(RB, RUNBOOK)],
    );
}

#[test]
fn yaml_syntax() {
    let bad = with(
        RUNBOOK,
        "title: Restart checkout",
        "title: Restart: checkout",
    );
    rule("yaml-syntax", &[(RB, &bad)], (RB, 3), &[(RB, RUNBOOK)]);
}

#[test]
fn duplicate_key() {
    let bad = with(
        RUNBOOK,
        "review_every: 90d",
        "review_every: 90d\ntitle: Again",
    );
    rule("duplicate-key", &[(RB, &bad)], (RB, 6), &[(RB, RUNBOOK)]);
}

#[test]
fn yaml_too_large() {
    let many = |n: usize| vec!["a"; n].join(", ");
    let bad = with(
        RUNBOOK,
        "review_every: 90d",
        &format!("review_every: 90d\ntags: [{}]", many(10_001)),
    );
    let good = with(
        RUNBOOK,
        "review_every: 90d",
        &format!("review_every: 90d\ntags: [{}]", many(100)),
    );
    rule("yaml-too-large", &[(RB, &bad)], (RB, 6), &[(RB, &good)]);
}

#[test]
fn yaml_too_deep() {
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let bad = with(
        RUNBOOK,
        "review_every: 90d",
        &format!("review_every: 90d\ntags: {}", deep(100)),
    );
    let good = with(
        RUNBOOK,
        "review_every: 90d",
        &format!("review_every: 90d\ntags: {}", deep(1)),
    );
    rule("yaml-too-deep", &[(RB, &bad)], (RB, 6), &[(RB, &good)]);
}

#[test]
fn yaml_alias_bomb() {
    let mut lines = vec!["a0: &a0 [x, x, x, x, x, x, x, x, x, x]".to_string()];
    for i in 1..6 {
        lines.push(format!(
            "a{i}: &a{i} [{}]",
            vec![format!("*a{}", i - 1); 10].join(", ")
        ));
    }
    let bad = with(
        RUNBOOK,
        "review_every: 90d",
        &format!("review_every: 90d\n{}", lines.join("\n")),
    );
    rule("yaml-alias-bomb", &[(RB, &bad)], (RB, 9), &[(RB, RUNBOOK)]);
}

// Fields, sections and action items.

#[test]
fn unknown_kind() {
    let bad = with(RUNBOOK, "id: RB-a", "kind: playbook\nid: RB-a");
    rule("unknown-kind", &[(RB, &bad)], (RB, 2), &[(RB, RUNBOOK)]);
}

#[test]
fn unknown_field() {
    let bad = with(RUNBOOK, "review_every", "review_evry");
    rule("unknown-field", &[(RB, &bad)], (RB, 5), &[(RB, RUNBOOK)]);
}

#[test]
fn missing_field() {
    let bad = with(RUNBOOK, "title: Restart checkout\n", "");
    rule("missing-field", &[(RB, &bad)], (RB, 1), &[(RB, RUNBOOK)]);
    // A required text that is only spaces or invisible characters is empty.
    for empty in ["\"\"", "\" \"", "\"\u{200b}\""] {
        let bad = with(
            RUNBOOK,
            "title: Restart checkout",
            &format!("title: {empty}"),
        );
        rule("missing-field", &[(RB, &bad)], (RB, 3), &[(RB, RUNBOOK)]);
    }
    // Empty front matter has no fields at all: each required one is missing.
    let body = &RUNBOOK[RUNBOOK[4..].find("---\n").unwrap() + 4..];
    for front in ["", "~\n", "# fields to come\n"] {
        let empty = format!("---\n{front}---\n{body}");
        let found = diagnose(&[(RB, &empty)]);
        assert!(
            found.contains(&("missing-field".to_string(), RB.to_string(), 1)),
            "{front:?}: {found:#?}"
        );
    }
    // A resolved incident needs `resolved_at`, at the `status` line.
    let bad = with(INCIDENT, "resolved_at: 2026-11-03T15:00:00+01:00\n", "");
    rule(
        "missing-field",
        &[(INC, &bad)],
        (INC, 5),
        &[(INC, INCIDENT)],
    );
}

#[test]
fn wrong_type() {
    let bad = with(INCIDENT, "users_affected: 10", "users_affected: ten");
    rule("wrong-type", &[(INC, &bad)], (INC, 12), &[(INC, INCIDENT)]);
    // A handle YAML reads as a number is not one as written; `check` says so
    // (the page's header card once failed on it instead, in `build`).
    for value in ["42", "1.5", "true"] {
        let bad = with(INCIDENT, "commander: dana", &format!("commander: {value}"));
        let quoted = with(
            INCIDENT,
            "commander: dana",
            &format!("commander: \"{value}x\""),
        );
        rule("wrong-type", &[(INC, &bad)], (INC, 10), &[(INC, &quoted)]);
    }
}

#[test]
fn wrong_type_hints_fit_the_field() {
    let hint_of = |files: &[(&str, &str)]| {
        let dir = tempfile::tempdir().unwrap();
        write_all(dir.path(), files);
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let kb = kb::open(dir.path(), today).unwrap();
        let d = kb.diagnostics.iter().find(|d| d.code == "wrong-type");
        d.and_then(|d| d.hint.clone()).unwrap_or_default()
    };
    // A number where a whole number goes: quoting would not help.
    let hint = hint_of(&[(SVC, &with(SERVICE, "tier: 1", "tier: 1.5"))]);
    assert!(hint.contains("whole number"), "{hint}");
    // A number where a handle goes: quoting keeps it as written.
    let hint = hint_of(&[(INC, &with(INCIDENT, "commander: dana", "commander: 42"))]);
    assert!(hint.contains("quotes"), "{hint}");
}

#[test]
fn pattern_mismatch() {
    let bad = with(INCIDENT, "id: INC-2026-001", "id: INC-1");
    rule(
        "pattern-mismatch",
        &[(INC, &bad)],
        (INC, 2),
        &[(INC, INCIDENT)],
    );
}

#[test]
fn out_of_range() {
    let bad = with(SERVICE, "tier: 1", "tier: 4");
    rule("out-of-range", &[(SVC, &bad)], (SVC, 4), &[(SVC, SERVICE)]);
}

#[test]
fn bad_date() {
    let bad = with(
        RUNBOOK,
        "last_reviewed: 2026-11-01",
        "last_reviewed: 2026-02-30",
    );
    rule("bad-date", &[(RB, &bad)], (RB, 4), &[(RB, RUNBOOK)]);
    let bad = with(POSTMORTEM, "due:2026-12-01", "due:2026-12-32");
    rule(
        "bad-date",
        &[(INC, INCIDENT), (PM, &bad)],
        (PM, 27),
        &[(INC, INCIDENT), (PM, POSTMORTEM)],
    );
}

#[test]
fn bad_datetime() {
    let bad = with(
        INCIDENT,
        "detected_at: 2026-11-03T14:05:00+01:00",
        "detected_at: 2026-11-03 14:05",
    );
    rule("bad-datetime", &[(INC, &bad)], (INC, 8), &[(INC, INCIDENT)]);
}

#[test]
fn bad_duration() {
    let bad = with(RUNBOOK, "review_every: 90d", "review_every: quarterly");
    rule("bad-duration", &[(RB, &bad)], (RB, 5), &[(RB, RUNBOOK)]);
}

#[test]
fn unknown_severity() {
    let bad = with(INCIDENT, "severity: SEV3", "severity: P1");
    rule(
        "unknown-severity",
        &[(INC, &bad)],
        (INC, 4),
        &[(INC, INCIDENT)],
    );
    // The levels come from the configuration.
    let config = (
        "hindsight.yaml",
        "severities: [P1, P2]\npolicies:\n  postmortem_required_for: [P1]\n",
    );
    rule(
        "unknown-severity",
        &[config, (INC, INCIDENT)],
        (INC, 4),
        &[config, (INC, &bad)],
    );
}

#[test]
fn invalid_value() {
    let bad = with(INCIDENT, "status: resolved", "status: done");
    rule(
        "invalid-value",
        &[(INC, &bad)],
        (INC, 5),
        &[(INC, INCIDENT)],
    );
}

#[test]
fn bad_person() {
    let bad = with(INCIDENT, "commander: dana", "commander: Dana Smith");
    rule("bad-person", &[(INC, &bad)], (INC, 10), &[(INC, INCIDENT)]);
}

#[test]
fn bad_url() {
    // No built-in field is a URL; a knowledge base's own template may have one.
    let template = (
        "templates/link.md",
        "---\nkind: link\nfields:\n  title: {type: string}\n  href: {type: url}\n---\n",
    );
    let doc = |href: &str| format!("---\ntitle: Dashboards\nhref: {href}\n---\n");
    let (bad, good) = (
        doc("grafana.internal/d/checkout"),
        doc("https://grafana.internal/d/checkout"),
    );
    rule(
        "bad-url",
        &[template, ("content/links/a.md", &bad)],
        ("content/links/a.md", 3),
        &[template, ("content/links/a.md", &good)],
    );
}

#[test]
fn too_few() {
    let bad = with(POSTMORTEM, "authors: [dana]", "authors: []");
    rule(
        "too-few",
        &[(INC, INCIDENT), (PM, &bad)],
        (PM, 5),
        &[(INC, INCIDENT), (PM, POSTMORTEM)],
    );
}

#[test]
fn timestamp_order() {
    let bad = with(
        INCIDENT,
        "detected_at: 2026-11-03T14:05:00+01:00",
        "detected_at: 2026-11-03T13:05:00+01:00",
    );
    rule(
        "timestamp-order",
        &[(INC, &bad)],
        (INC, 8),
        &[(INC, INCIDENT)],
    );
    // Offsets compare as instants: 13:30Z is 14:30+01:00, after the start.
    let good = with(
        INCIDENT,
        "detected_at: 2026-11-03T14:05:00+01:00",
        "detected_at: 2026-11-03T13:30:00Z",
    );
    assert!(diagnose(&[(INC, &good)]).is_empty());
}

#[test]
fn missing_section() {
    let bad = with(RUNBOOK, "## Escalation\n\nd\n", "");
    rule("missing-section", &[(RB, &bad)], (RB, 6), &[(RB, RUNBOOK)]);
    // An alias counts: `Root Cause` for `Contributing Factors`.
    let alias = with(POSTMORTEM, "## Root Cause", "## Contributing Factors");
    assert!(diagnose(&[(INC, INCIDENT), (PM, &alias)]).is_empty());
}

#[test]
fn section_level() {
    // `### Root Cause` is a subsection of Timeline, `# Summary` would hold
    // every section after it: each is reported where it is, not as missing.
    let bad = with(POSTMORTEM, "## Root Cause", "### Root Cause");
    rule(
        "section-level",
        &[(INC, INCIDENT), (PM, &bad)],
        (PM, 21),
        &[(INC, INCIDENT), (PM, POSTMORTEM)],
    );
    let bad = with(POSTMORTEM, "## Summary", "# Summary");
    let found = diagnose(&[(INC, INCIDENT), (PM, &bad)]);
    assert_eq!(found, [("section-level".into(), PM.into(), 7)]);
}

#[test]
fn empty_section() {
    let bad = with(
        RUNBOOK,
        "## Diagnosis\n\nb\n",
        "## Diagnosis\n<!-- How to confirm the problem: dashboards, queries, commands. -->\n",
    );
    rule("empty-section", &[(RB, &bad)], (RB, 11), &[(RB, RUNBOOK)]);
}

#[test]
fn action_item_owner() {
    let bad = with(POSTMORTEM, "canary @dana due", "canary due");
    rule(
        "action-item-owner",
        &[(INC, INCIDENT), (PM, &bad)],
        (PM, 27),
        &[(INC, INCIDENT), (PM, POSTMORTEM)],
    );
    // Done items need neither owner nor date.
    let done = with(
        POSTMORTEM,
        "- [ ] Add a canary @dana due:2026-12-01",
        "- [x] Add a canary",
    );
    assert!(diagnose(&[(INC, INCIDENT), (PM, &done)]).is_empty());
}

#[test]
fn action_item_due() {
    let bad = with(POSTMORTEM, " due:2026-12-01", "");
    rule(
        "action-item-due",
        &[(INC, INCIDENT), (PM, &bad)],
        (PM, 27),
        &[(INC, INCIDENT), (PM, POSTMORTEM)],
    );
    // The policy can be turned off.
    let config = (
        "hindsight.yaml",
        "policies:\n  action_items_require_due: false\n",
    );
    assert!(diagnose(&[config, (INC, INCIDENT), (PM, &bad)]).is_empty());
}

#[test]
fn action_item_type() {
    let bad = with(POSTMORTEM, "type:prevent", "type:fix");
    rule(
        "action-item-type",
        &[(INC, INCIDENT), (PM, &bad)],
        (PM, 27),
        &[(INC, INCIDENT), (PM, POSTMORTEM)],
    );
}

#[test]
fn stale_runbook() {
    let bad = with(
        RUNBOOK,
        "last_reviewed: 2026-11-01",
        "last_reviewed: 2026-01-01",
    );
    rule("stale-runbook", &[(RB, &bad)], (RB, 4), &[(RB, RUNBOOK)]);
    // Without `review_every`, the configured default applies (180 days).
    let default = with(&bad, "review_every: 90d\n", "");
    assert!(diagnose(&[(RB, &default)])
        .iter()
        .any(|f| f.0 == "stale-runbook"));
    let config = ("hindsight.yaml", "policies:\n  runbook_review_every: 1y\n");
    assert!(diagnose(&[config, (RB, &default)]).is_empty());
}

// Ids and links.

#[test]
fn duplicate_id() {
    let other = "content/runbooks/zz.md";
    rule(
        "duplicate-id",
        &[(RB, RUNBOOK), (other, RUNBOOK)],
        (other, 2),
        &[(RB, RUNBOOK)],
    );
    // An id taken from a file name collides too.
    let stem = with(RUNBOOK, "id: RB-a\n", "");
    rule(
        "duplicate-id",
        &[(RB, RUNBOOK), ("content/runbooks/RB-a.md", &stem)],
        ("content/runbooks/rb.md", 2),
        &[(RB, RUNBOOK), ("content/runbooks/rb-b.md", &stem)],
    );
}

#[test]
fn wrong_ref_kind() {
    let bad = with(
        INCIDENT,
        "commander: dana",
        "commander: dana\nrunbooks: [PM-2026-001]",
    );
    let good = with(
        INCIDENT,
        "commander: dana",
        "commander: dana\nrunbooks: [RB-a]",
    );
    let others = [(PM, POSTMORTEM), (RB, RUNBOOK)];
    rule(
        "wrong-ref-kind",
        &[(INC, &bad), others[0], others[1]],
        (INC, 11),
        &[(INC, &good), others[0], others[1]],
    );
}

#[test]
fn broken_link() {
    // An id in the front matter.
    let bad = with(
        POSTMORTEM,
        "incident: INC-2026-001",
        "incident: INC-2026-999",
    );
    rule(
        "broken-link",
        &[(INC, INCIDENT), (PM, &bad)],
        (PM, 4),
        &[(INC, INCIDENT), (PM, POSTMORTEM)],
    );
    // A relative Markdown link.
    let bad = with(
        POSTMORTEM,
        "../incidents/inc.md",
        "../incidents/incident.md",
    );
    rule(
        "broken-link",
        &[(INC, INCIDENT), (PM, &bad)],
        (PM, 9),
        &[(INC, INCIDENT), (PM, POSTMORTEM)],
    );
    // Services are free text without a catalog, and must name one with it.
    let other = with(SERVICE, "id: checkout", "id: payments");
    let catalog = ("content/services/payments.md", other.as_str());
    rule(
        "broken-link",
        &[catalog, (INC, INCIDENT)],
        (INC, 6),
        &[(SVC, SERVICE), (INC, INCIDENT)],
    );
}

// Timelines and policies.

#[test]
fn timeline_time() {
    let bad = with(POSTMORTEM, "- 14:05 — alert", "- the alert fires");
    rule(
        "timeline-time",
        &[(INC, INCIDENT), (PM, &bad)],
        (PM, 18),
        &[(INC, INCIDENT), (PM, POSTMORTEM)],
    );
}

#[test]
fn timeline_no_date() {
    // Bare times need an incident start; this postmortem names no incident.
    let bad = with(POSTMORTEM, "incident: INC-2026-001\n", "");
    let good = with(
        &bad,
        "- 14:00 — deploy",
        "- 2026-11-03 14:00 +01:00 — deploy",
    );
    let good = with(
        &good,
        "- 14:05 — alert",
        "- 2026-11-03 14:05 +01:00 — alert",
    );
    let good = with(
        &good,
        "- 15:00 — resolved",
        "- 2026-11-03 15:00 +01:00 — resolved",
    );
    rule("timeline-no-date", &[(PM, &bad)], (PM, 16), &[(PM, &good)]);
}

#[test]
fn timeline_order() {
    let bad = with(POSTMORTEM, "- 14:05 — alert", "- 13:55 — alert");
    rule(
        "timeline-order",
        &[(INC, INCIDENT), (PM, &bad)],
        (PM, 18),
        &[(INC, INCIDENT), (PM, POSTMORTEM)],
    );
}

#[test]
fn timeline_window() {
    let bad = with(POSTMORTEM, "- 15:00 — resolved", "- 15:30 — resolved");
    rule(
        "timeline-window",
        &[(INC, INCIDENT), (PM, &bad)],
        (PM, 19),
        &[(INC, INCIDENT), (PM, POSTMORTEM)],
    );
}

#[test]
fn incident_mismatch() {
    let bad = with(
        POSTMORTEM,
        "authors: [dana]",
        "authors: [dana]\nseverity: SEV1",
    );
    let same = with(
        POSTMORTEM,
        "authors: [dana]",
        "authors: [dana]\nseverity: SEV3",
    );
    rule(
        "incident-mismatch",
        &[(INC, INCIDENT), (PM, &bad)],
        (PM, 6),
        &[(INC, INCIDENT), (PM, &same)],
    );
}

#[test]
fn postmortem_overdue() {
    let sev1 = with(INCIDENT, "severity: SEV3", "severity: SEV1");
    rule(
        "postmortem-overdue",
        &[(INC, &sev1)],
        (INC, 9),
        &[(INC, &sev1), (PM, POSTMORTEM)],
    );
    // Not yet due: resolved on 3 November, due five days later; today is 26 November.
    let recent = with(&sev1, "2026-11-03T15:00", "2026-11-24T15:00");
    assert!(diagnose(&[(INC, &recent)]).is_empty());
    // A postmortem whose front matter cannot be read has its own error; it
    // names the incident, so the incident is not also overdue, and its
    // timeline's bare times are not also undated.
    let unreadable = with(POSTMORTEM, "authors: [dana]", "authors: [@dana]");
    let found = diagnose(&[(INC, &sev1), (PM, &unreadable)]);
    let codes: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(codes, ["yaml-syntax"], "{found:#?}");
    // One naming another incident (whose id merely starts the same) does not count.
    let other = with(
        &unreadable,
        "incident: INC-2026-001",
        "incident: INC-2026-0012",
    );
    let found = diagnose(&[(INC, &sev1), (PM, &other)]);
    assert!(
        found.contains(&("postmortem-overdue".to_string(), INC.to_string(), 9)),
        "{found:#?}"
    );
}

#[test]
fn timeline_no_date_is_not_said_twice() {
    // An `incident:` naming nothing is a broken reference already.
    let unknown = with(POSTMORTEM, "INC-2026-001", "INC-2026-404");
    let found = diagnose(&[(PM, &unknown)]);
    let codes: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert!(!codes.contains(&"timeline-no-date"), "{found:#?}");
    assert!(!codes.is_empty(), "{found:#?}");
}

/// Codes raised outside `check`'s pipeline, and where they are tested.
const ELSEWHERE: &[(&str, &str)] = &[
    (
        "action-item-overdue",
        "tests/testsuite/reports.rs (check --deny-overdue)",
    ),
    (
        "output-collision",
        "tests/testsuite/check.rs (pages two documents would share)",
    ),
    ("theme", "the build stage"),
    // Setup errors of the commands, printed without a `Diagnostic`.
    (
        "usage",
        "tests/testsuite/authoring.rs (setup_errors_name_a_code_explain_knows)",
    ),
    (
        "git",
        "tests/testsuite/authoring.rs (setup_errors_name_a_code_explain_knows)",
    ),
    (
        "output",
        "tests/testsuite/authoring.rs (setup_errors_name_a_code_explain_knows)",
    ),
    (
        "init",
        "tests/testsuite/authoring.rs (setup_errors_name_a_code_explain_knows)",
    ),
    (
        "serve",
        "tests/testsuite/authoring.rs (setup_errors_name_a_code_explain_knows)",
    ),
    (
        "io",
        "not tested: `new` failing to write for a reason other than an existing file needs a folder it cannot write to, and tests may run as root",
    ),
];

#[test]
fn every_rule_has_a_test() {
    let source = include_str!("rules.rs");
    let untested: Vec<&str> = hindsight::rules::RULES
        .iter()
        .map(|r| r.code)
        .filter(|code| !ELSEWHERE.iter().any(|(c, _)| c == code))
        .filter(|code| !source.contains(&format!("fn {}()", code.replace('-', "_"))))
        .collect();
    assert!(
        untested.is_empty(),
        "rules without a test in tests/testsuite/rules.rs: {untested:?}"
    );
}
