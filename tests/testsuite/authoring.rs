//! The authoring workflow: `init` a knowledge base, write documents with `new`,
//! fill them in until `check` passes; `init` never overwrites; `check
//! --changed-since` narrows the report to what a branch changed; `explain`.

use crate::support::{check, edit, Run, TODAY};
use assert_cmd::Command;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Runs `hindsight ARGS... --today TODAY` in `cwd` (`explain` takes no date).
fn hindsight(cwd: &Path, args: &[&str]) -> Run {
    let out = Command::cargo_bin("hindsight")
        .unwrap()
        .current_dir(cwd)
        .args(args)
        .args(if args.contains(&"--today") || args[0] == "explain" {
            &[][..]
        } else {
            &["--today", TODAY][..]
        })
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
        elapsed: std::time::Duration::ZERO,
    };
    run.assert_no_panic();
    run
}

fn init(dir: &Path) -> Run {
    let run = hindsight(dir.parent().unwrap(), &["init", &dir.display().to_string()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run
}

/// `hindsight new ARGS...` in `root`; returns the path it printed.
fn new(root: &Path, args: &[&str]) -> PathBuf {
    let run = hindsight(root, &[&["new"], args].concat());
    assert_eq!(run.code, 0, "new {args:?}: {}", run.stderr);
    let printed = run.stdout.trim();
    assert_eq!(
        run.stdout.lines().count(),
        1,
        "new prints only the path: {}",
        run.stdout
    );
    let path = root.join(printed);
    assert!(path.is_file(), "{printed} was written");
    path
}

/// Every file under `dir` with its contents.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), std::fs::read(e.path()).unwrap()))
        .collect()
}

/// Writes `content` under a section heading, after its placeholder comment.
fn fill_section(path: &Path, heading: &str, content: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    // The heading line, with or without attributes (`## Contributing Factors {aliases="…"}`).
    let start = text
        .find(&format!("\n{heading}\n"))
        .or_else(|| text.find(&format!("\n{heading} {{")))
        .unwrap_or_else(|| panic!("no `{heading}` in\n{text}"));
    let after_heading = start + 1 + text[start + 1..].find('\n').unwrap() + 1;
    let rest = &text[after_heading..];
    let insert_at = if rest.starts_with("<!--") {
        after_heading + rest.find("-->\n").unwrap() + 4
    } else {
        after_heading
    };
    let filled = format!("{}{content}\n{}", &text[..insert_at], &text[insert_at..]);
    std::fs::write(path, filled).unwrap();
}

/// Replaces the line that starts with `key:` in the front matter.
fn set_field(path: &Path, key: &str, value: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no `{key}:` in\n{text}"))
        .to_string();
    edit(path, &format!("{line}\n"), &format!("{key}: {value}\n"));
}

fn codes(run: &Run) -> Vec<(String, String)> {
    run.diagnostics()
        .into_iter()
        .map(|d| (d.code, d.message))
        .collect()
}

#[test]
fn init_new_incident_and_postmortem_fill_in_and_check_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("kb");
    let run = init(&root);
    assert!(
        run.stdout.contains("created hindsight.yaml"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("created .github/workflows/hindsight.yml"),
        "{}",
        run.stdout
    );
    // The examples are clean: the knowledge base checks before anyone writes a word.
    let clean = check(&root, &["--format", "json", "--deny-warnings"]);
    assert_eq!(
        (clean.code, clean.stdout.as_str()),
        (0, ""),
        "{}",
        clean.stderr
    );

    let incident = new(
        &root,
        &[
            "incident",
            "--title",
            "Search is slow",
            "--severity",
            "SEV2",
            "--service",
            "checkout",
        ],
    );
    assert!(
        incident.ends_with("content/incidents/inc-2026-002-search-is-slow.md"),
        "{}",
        incident.display()
    );
    let unfilled = check(&root, &["--format", "json"]);
    assert_eq!(unfilled.code, 1);
    assert_eq!(
        codes(&unfilled),
        [(
            "missing-field".to_string(),
            "required field `started_at` is empty".to_string()
        )]
    );

    set_field(&incident, "status", "resolved");
    set_field(&incident, "started_at", "2026-11-24T09:58:00+01:00");
    set_field(&incident, "detected_at", "2026-11-24T10:04:00+01:00");
    set_field(&incident, "acknowledged_at", "2026-11-24T10:07:00+01:00");
    set_field(&incident, "mitigated_at", "2026-11-24T10:40:00+01:00");
    set_field(&incident, "resolved_at", "2026-11-24T11:15:00+01:00");
    let run = check(&root, &["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stdout);

    let pm = new(&root, &["postmortem", "--incident", "INC-2026-002"]);
    assert!(
        pm.ends_with("content/postmortems/pm-2026-002-search-is-slow.md"),
        "{}",
        pm.display()
    );
    let text = std::fs::read_to_string(&pm).unwrap();
    for line in [
        "title: Search is slow",
        "incident: INC-2026-002",
        "severity: SEV2",
        "services: [checkout]",
        "status: draft",
        "- **2026-11-24 09:58 +01:00** - Impact starts (`started_at`)",
        "- **2026-11-24 10:04 +01:00** - Detected (`detected_at`)",
        "- **2026-11-24 10:07 +01:00** - Acknowledged (`acknowledged_at`)",
        "- **2026-11-24 10:40 +01:00** - Mitigated (`mitigated_at`)",
        "- **2026-11-24 11:15 +01:00** - Resolved (`resolved_at`)",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "no line `{line}` in\n{text}"
        );
    }

    // The unfilled postmortem fails, naming each empty section (in every format).
    let run = check(&root, &["--format", "json"]);
    assert_eq!(run.code, 1);
    let empty: Vec<String> = run
        .diagnostics()
        .into_iter()
        .filter(|d| d.code == "empty-section")
        .map(|d| d.message)
        .collect();
    assert_eq!(
        empty,
        [
            "Summary",
            "Impact",
            "Contributing Factors",
            "Action Items",
            "Lessons Learned"
        ]
        .map(|s| format!("section `{s}` is empty"))
    );
    assert!(codes(&run).contains(&(
        "missing-field".into(),
        "required field `authors` is empty".into()
    )));
    let human = check(&root, &[]);
    assert!(
        human
            .stderr
            .contains("error[empty-section]: section `Lessons Learned` is empty"),
        "{}",
        human.stderr
    );
    let github = check(&root, &["--format", "github"]);
    assert!(
        github
            .stdout
            .contains(",title=empty-section::section `Summary` is empty"),
        "{}",
        github.stdout
    );

    set_field(&pm, "authors", "[dana]");
    fill_section(
        &pm,
        "## Summary",
        "Search latency rose tenfold for 77 minutes after an index rebuild.",
    );
    fill_section(
        &pm,
        "## Impact",
        "About 30% of searches timed out; checkout was not affected.",
    );
    fill_section(
        &pm,
        "## Contributing Factors",
        "The rebuild ran at peak time without a throttle.",
    );
    fill_section(
        &pm,
        "## Action Items",
        "- [ ] Throttle index rebuilds @dana due:2026-12-20 type:prevent ticket:OPS-9",
    );
    fill_section(
        &pm,
        "## Lessons Learned",
        "Scheduled jobs need a load budget.",
    );
    let run = check(&root, &["--format", "json", "--deny-warnings"]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, ""),
        "{}",
        std::fs::read_to_string(&pm).unwrap()
    );
}

#[test]
fn real_world_templates_are_chosen_with_from_template() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("kb");
    init(&root);
    let pm = new(
        &root,
        &[
            "postmortem",
            "--from-template",
            "pagerduty",
            "--incident",
            "INC-2026-001",
            "--title",
            "Retries",
        ],
    );
    let text = std::fs::read_to_string(&pm).unwrap();
    assert!(
        text.contains("\ntemplate: pagerduty\n") && text.contains("\n## How'd We Do?"),
        "{text}"
    );
    let run = check(&root, &["--format", "json"]);
    let empty: Vec<String> = run
        .diagnostics()
        .into_iter()
        .filter(|d| d.code == "empty-section")
        .map(|d| d.message)
        .collect();
    assert!(
        empty.contains(&"section `Responders` is empty".to_string()),
        "{empty:?}"
    );
    assert!(
        !empty.iter().any(|m| m.contains("Timeline")),
        "the timeline is seeded: {empty:?}"
    );

    let bad = hindsight(&root, &["new", "postmortem", "--from-template", "etsy"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("no template named `etsy`") && bad.stderr.contains("google-sre"),
        "{}",
        bad.stderr
    );
}

#[test]
fn init_twice_changes_nothing_and_fills_in_only_what_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("kb");
    let first = init(&root);
    let created = first
        .stdout
        .lines()
        .filter(|l| l.starts_with("created "))
        .count();
    let before = snapshot(&root);
    assert_eq!(before.len(), created);

    let second = init(&root);
    assert_eq!(snapshot(&root), before, "a second init changed files");
    assert!(!second.stdout.contains("created "), "{}", second.stdout);
    assert_eq!(
        second
            .stdout
            .lines()
            .filter(|l| l.starts_with("skipped "))
            .count(),
        created,
        "{}",
        second.stdout
    );
    assert!(
        second
            .stdout
            .contains("skipped hindsight.yaml (already exists)"),
        "{}",
        second.stdout
    );

    // Customised files stay; a deleted one comes back.
    std::fs::write(root.join("hindsight.yaml"), "title: Ours\n").unwrap();
    std::fs::remove_file(root.join("templates/runbook.md")).unwrap();
    let third = init(&root);
    assert_eq!(
        third
            .stdout
            .lines()
            .filter(|l| l.starts_with("created "))
            .collect::<Vec<_>>(),
        ["created templates/runbook.md"]
    );
    assert_eq!(
        std::fs::read_to_string(root.join("hindsight.yaml")).unwrap(),
        "title: Ours\n"
    );
}

/// A file where the new document's folder should be is named as what it
/// is, not taken for an existing document.
#[test]
fn new_names_a_file_in_the_way_of_its_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("kb");
    init(&root);
    std::fs::remove_dir_all(root.join("content/runbooks")).unwrap();
    std::fs::write(root.join("content/runbooks"), "not a folder").unwrap();
    let run = hindsight(&root, &["new", "runbook", "--title", "Cache flush"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("error[io]: cannot create the folder")
            && run.stderr.contains("a file of that name is in the way")
            && !run.stderr.contains("already exists"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(root.join("content/runbooks")).unwrap(),
        "not a folder"
    );
}

#[test]
fn new_never_overwrites_and_takes_the_year_from_today() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("kb");
    init(&root);
    // Someone else's file sits where the new runbook would go.
    let taken = root.join("content/runbooks/rb-cache-flush.md");
    std::fs::write(&taken, "---\nid: RB-something-else\ntitle: X\n---\n").unwrap();
    let run = hindsight(&root, &["new", "runbook", "--title", "Cache flush"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(&taken).unwrap(),
        "---\nid: RB-something-else\ntitle: X\n---\n"
    );

    let run = hindsight(
        &root,
        &[
            "new",
            "incident",
            "--title",
            "New year",
            "--today",
            "2027-01-02",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.trim().ends_with("inc-2027-001-new-year.md"),
        "{}",
        run.stdout
    );

    let run = hindsight(&root, &["new", "postmortem", "--incident", "INC-2026-404"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no incident has the id `INC-2026-404`"),
        "{}",
        run.stderr
    );
}

fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn changed_since_reports_changed_documents_and_what_they_link_to() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("kb");
    init(&root);
    git(&root, &["init", "-q", "-b", "main"]);
    git(&root, &["config", "user.email", "test@example.com"]);
    git(&root, &["config", "user.name", "Test"]);
    // A problem already on main, in a document the branch does not touch.
    let service = root.join("content/services/checkout.md");
    edit(&service, "tier: 1", "tier: 9");
    git(&root, &["add", "."]);
    git(&root, &["commit", "-q", "-m", "init"]);
    git(&root, &["checkout", "-q", "-b", "topic"]);

    // Nothing changed yet: nothing to report, though the full check fails.
    assert_eq!(check(&root, &["--format", "json"]).code, 1);
    let run = check(&root, &["--format", "json", "--changed-since", "main"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);

    // A committed change to the incident: its own problems, and the runbook it
    // links to (`runbooks:`) is in scope too; the service is as well (`services:`).
    let incident = root.join("content/incidents/inc-2026-001-example-checkout-errors.md");
    edit(&incident, "severity: SEV2", "severity: SEV7");
    git(&root, &["commit", "-qam", "severity"]);
    let run = check(&root, &["--format", "json", "--changed-since", "main"]);
    let files = run.codes_and_files();
    assert_eq!(
        files,
        [
            (
                "unknown-severity".to_string(),
                "content/incidents/inc-2026-001-example-checkout-errors.md".to_string()
            ),
            (
                "out-of-range".to_string(),
                "content/services/checkout.md".to_string()
            ),
        ]
    );
    git(&root, &["revert", "--no-edit", "HEAD"]);

    // A change to an incident is checked against its postmortems: one that
    // repeats the old start time now contradicts it, in a file not changed.
    let postmortem = root.join("content/postmortems/pm-2026-001-example-checkout-errors.md");
    let started = std::fs::read_to_string(&incident)
        .unwrap()
        .lines()
        .find(|l| l.starts_with("started_at: "))
        .expect("the example incident has a start")
        .to_string();
    edit(
        &postmortem,
        "incident: INC-2026-001\n",
        &format!("incident: INC-2026-001\n{started}\n"),
    );
    // (Not through a link from the incident to it.)
    edit(
        &incident,
        "[PM-2026-001](../postmortems/pm-2026-001-example-checkout-errors.md)",
        "PM-2026-001",
    );
    git(&root, &["commit", "-qam", "repeat the start"]);
    git(&root, &["checkout", "-q", "main"]);
    git(&root, &["merge", "-q", "--ff-only", "topic"]);
    git(&root, &["checkout", "-q", "topic"]);
    // An hour earlier: its timeline entries stay after it.
    let at = chrono::DateTime::parse_from_rfc3339(&started["started_at: ".len()..]).unwrap();
    let earlier = format!(
        "started_at: {}",
        (at - chrono::Duration::hours(1)).to_rfc3339()
    );
    edit(&incident, &started, &earlier);
    git(&root, &["commit", "-qam", "earlier start"]);
    let run = check(&root, &["--format", "json", "--changed-since", "main"]);
    let found = run.codes_and_files();
    assert!(
        found.contains(&(
            "incident-mismatch".to_string(),
            "content/postmortems/pm-2026-001-example-checkout-errors.md".to_string()
        )),
        "{found:?}"
    );
    git(&root, &["revert", "--no-edit", "HEAD"]);

    // A new document taking an existing id fails the branch even when it
    // sorts before the document that had the id first.
    let runbook = root.join("content/runbooks/rb-checkout-rollback.md");
    let copy = root.join("content/runbooks/a-copy.md");
    std::fs::copy(&runbook, &copy).unwrap();
    let run = check(&root, &["--format", "json", "--changed-since", "main"]);
    let found = run.codes_and_files();
    // (The runbook's service is in scope, with the problem it has on main.)
    assert_eq!(
        found,
        [
            (
                "duplicate-id".to_string(),
                "content/runbooks/a-copy.md".to_string()
            ),
            (
                "out-of-range".to_string(),
                "content/services/checkout.md".to_string()
            ),
        ]
    );
    std::fs::remove_file(&copy).unwrap();

    // An uncommitted new document is a change too.
    new(&root, &["postmortem", "--title", "Untracked"]);
    let run = check(&root, &["--format", "json", "--changed-since", "main"]);
    let files: Vec<String> = run.diagnostics().into_iter().map(|d| d.file).collect();
    assert!(
        !files.is_empty() && files.iter().all(|f| f.contains("pm-2026-002-untracked")),
        "{files:?}"
    );

    // Deleting a document reports the links it breaks, wherever they are.
    std::fs::remove_file(root.join("content/postmortems/pm-2026-002-untracked.md")).unwrap();
    git(
        &root,
        &["rm", "-q", "content/runbooks/rb-checkout-rollback.md"],
    );
    let run = check(&root, &["--format", "json", "--changed-since", "main"]);
    let found = run.codes_and_files();
    assert_eq!(
        found,
        [(
            "broken-link".to_string(),
            "content/incidents/inc-2026-001-example-checkout-errors.md".to_string()
        )]
    );
    git(
        &root,
        &[
            "checkout",
            "-q",
            "HEAD",
            "--",
            "content/runbooks/rb-checkout-rollback.md",
        ],
    );

    // A changed configuration can affect every document: everything is reported.
    edit(
        &root.join("hindsight.yaml"),
        "postmortem_due_days: 5",
        "postmortem_due_days: 6",
    );
    let run = check(&root, &["--format", "json", "--changed-since", "main"]);
    assert_eq!(
        codes(&run),
        [(
            "out-of-range".to_string(),
            "`tier` is 9, it must be between 1 and 3".to_string()
        )]
    );

    let bad = check(&root, &["--changed-since", "no-such-branch"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("--changed-since no-such-branch") && bad.stderr.contains("git"),
        "{}",
        bad.stderr
    );
    let not_git = tempfile::tempdir().unwrap();
    init(&not_git.path().join("kb"));
    let bad = check(&not_git.path().join("kb"), &["--changed-since", "main"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

#[test]
fn explain_prints_the_rule_of_a_code() {
    let tmp = tempfile::tempdir().unwrap();
    let run = hindsight(tmp.path(), &["explain", "missing-section"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.starts_with("error[missing-section]: "),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Fix: "), "{}", run.stdout);
    let run = hindsight(tmp.path(), &["explain", "missing-sektion"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("did you mean `missing-section`?"),
        "{}",
        run.stderr
    );
    let run = hindsight(tmp.path(), &["explain"]);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("stale-runbook ") && l.contains("warning")),
        "{}",
        run.stdout
    );
}

/// Every error that stops a command names a code, and `explain` knows it:
/// the setup errors printed without a `Diagnostic` (usage, git, output,
/// init, serve) as much as the diagnostics of `check`.
#[test]
fn setup_errors_name_a_code_explain_knows() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("kb");
    init(&root);
    let root_arg = root.display().to_string();
    let a_file = tmp.path().join("a-file");
    std::fs::write(&a_file, "not a folder").unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let cases: [(&str, Vec<String>); 5] = [
        (
            "usage",
            vec![
                "check".into(),
                "--root".into(),
                root_arg.clone(),
                a_file.display().to_string(),
            ],
        ),
        // Not in a git repository.
        (
            "git",
            vec![
                "check".into(),
                "--root".into(),
                root_arg.clone(),
                "--changed-since".into(),
                "main".into(),
            ],
        ),
        (
            "output",
            vec![
                "build".into(),
                "--root".into(),
                root_arg.clone(),
                "--output".into(),
                root.join("content/site").display().to_string(),
            ],
        ),
        (
            "init",
            vec!["init".into(), a_file.join("kb").display().to_string()],
        ),
        (
            "serve",
            vec![
                "serve".into(),
                "--root".into(),
                root_arg.clone(),
                "--port".into(),
                port,
            ],
        ),
    ];
    for (code, args) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = hindsight(tmp.path(), &args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr
                .lines()
                .any(|l| l.starts_with(&format!("error[{code}]: "))),
            "{args:?}: {}",
            run.stderr
        );
        let explained = hindsight(tmp.path(), &["explain", code]);
        assert_eq!(explained.code, 0, "explain {code}: {}", explained.stderr);
        assert!(
            explained.stdout.starts_with(&format!("error[{code}]: ")),
            "{}",
            explained.stdout
        );
    }
    drop(busy);
}

#[test]
fn the_ci_files_init_writes_run_the_checks() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("kb");
    init(&root);
    let workflow = std::fs::read_to_string(root.join(".github/workflows/hindsight.yml")).unwrap();
    for needle in [
        "pull_request:",
        "hindsight check --format github",
        "hindsight build --base-url",
        "actions/deploy-pages",
    ] {
        assert!(workflow.contains(needle), "the workflow has no `{needle}`");
    }
    let pr = std::fs::read_to_string(root.join(".github/pull_request_template.md")).unwrap();
    assert!(pr.contains("- [ ] ") && pr.contains("blameless"), "{pr}");
}
