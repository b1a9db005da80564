//! The command line's contract: `check FILE...` narrows the report but not the
//! link resolution, `--deny-warnings`, and exit code 2 for a bad setup.

use crate::support::{check, check_in, edit, fixture, scratch_copy};

const PM: &str = "content/postmortems/pm-2026-010-checkout-errors.md";

#[test]
fn check_files_reports_only_on_those_files() {
    let root = fixture("mistakes");
    let run = check(
        &root,
        &["--format", "json", &root.join(PM).display().to_string()],
    );
    assert_eq!(run.code, 1);
    let diags = run.diagnostics();
    assert!(diags.iter().all(|d| d.file == PM), "{}", run.stdout);
    let codes: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "broken-link",
            "empty-section",
            "timeline-order",
            "timeline-window",
            "timeline-time",
            "action-item-owner",
            "action-item-due"
        ]
    );
}

#[test]
fn check_files_still_resolves_links_against_everything() {
    // The postmortem names its incident and links to it and to a runbook: with
    // only the postmortem on the command line, those must still resolve.
    let root = fixture("valid");
    let pm = root.join("content/postmortems/pm-2026-001-checkout-outage.md");
    let run = check(&root, &["--format", "json", &pm.display().to_string()]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);

    // A clean file of a broken knowledge base passes; the rest is not reported.
    let root = fixture("mistakes");
    let service = root.join("content/services/checkout.md");
    let run = check(&root, &["--format", "json", &service.display().to_string()]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);

    // Timeline order needs the incident's start from another file.
    let run = check(
        &root,
        &["--format", "json", &root.join(PM).display().to_string()],
    );
    assert!(
        run.diagnostics()
            .iter()
            .any(|d| d.code == "timeline-order" && d.line == 19),
        "{}",
        run.stdout
    );
}

#[test]
fn check_files_are_relative_to_the_working_folder() {
    let root = fixture("mistakes");
    let run = check_in(
        &root.join("content"),
        &root,
        &["--format", "json", "postmortems/pm-2026-011-incomplete.md"],
    );
    assert_eq!(run.code, 1);
    let diags = run.diagnostics();
    assert!(
        !diags.is_empty()
            && diags
                .iter()
                .all(|d| d.file == "content/postmortems/pm-2026-011-incomplete.md")
    );
    let two = check_in(
        &root,
        &root,
        &["--format", "json", PM, "content/services/search.md"],
    );
    let files: std::collections::BTreeSet<String> =
        two.diagnostics().into_iter().map(|d| d.file).collect();
    assert_eq!(
        files.into_iter().collect::<Vec<_>>(),
        [PM, "content/services/search.md"]
    );
}

#[test]
fn check_files_outside_the_knowledge_base_are_usage_errors() {
    let root = fixture("valid");
    let outside = fixture("mistakes").join(PM);
    let run = check(&root, &[&outside.display().to_string()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("error[usage]"), "{}", run.stderr);
    let run = check(&root, &["content/no-such-file.md"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn deny_warnings_turns_warnings_into_exit_1() {
    let kb = scratch_copy("valid");
    let runbook = kb.path().join("content/runbooks/rb-checkout-rollback.md");
    edit(
        &runbook,
        "last_reviewed: 2026-10-01",
        "last_reviewed: 2026-01-01",
    );
    let run = check(kb.path(), &["--format", "json"]);
    let diags = run.diagnostics();
    assert_eq!(diags.len(), 1, "{}", run.stdout);
    assert_eq!(
        (diags[0].severity.as_str(), diags[0].code.as_str()),
        ("warning", "stale-runbook")
    );
    assert_eq!(run.code, 0, "warnings alone pass");
    let run = check(kb.path(), &["--format", "json", "--deny-warnings"]);
    assert_eq!(run.code, 1);
    let run = check(kb.path(), &["--deny-warnings"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("warning[stale-runbook]")
            && run.stderr.ends_with("0 errors, 1 warning\n"),
        "{}",
        run.stderr
    );
    let run = check(kb.path(), &["--format", "github", "--deny-warnings"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .starts_with("::warning file=content/runbooks/rb-checkout-rollback.md,line=7,"),
        "{}",
        run.stdout
    );
}

#[test]
fn bad_config_exits_2_with_its_line() {
    let kb = scratch_copy("valid");
    let config = kb.path().join("hindsight.yaml");
    edit(
        &config,
        "  postmortem_due_days: 5",
        "  postmortem_due_dayz: 5",
    );
    let run = check(kb.path(), &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("error[config]") && run.stderr.contains("postmortem_due_dayz"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hindsight.yaml:6:"),
        "the line of the bad key: {}",
        run.stderr
    );

    for bad in [
        "title: [unclosed\n",
        "severities: []\n",
        "policies:\n  postmortem_required_for: [SEV9]\n",
        "policies:\n  runbook_review_every: soon\n",
        "max_file_size: -1\n",
        "- a list\n",
    ] {
        std::fs::write(&config, bad).unwrap();
        let run = check(kb.path(), &[]);
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("error[config]"),
            "{bad:?}: {}",
            run.stderr
        );
        let run = check(kb.path(), &["--format", "json"]);
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stderr);
        let d = run.diagnostics();
        assert_eq!(d.len(), 1, "{bad:?}: {}", run.stdout);
        assert_eq!(
            (d[0].code.as_str(), d[0].file.as_str()),
            ("config", "hindsight.yaml")
        );
        let run = check(kb.path(), &["--format", "github"]);
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stderr);
        assert!(
            run.stdout.starts_with("::error file=hindsight.yaml,line=")
                && run.stdout.contains(",title=config::"),
            "{bad:?}: {}",
            run.stdout
        );
    }
}

/// A misspelt key in hindsight.yaml, in every format: GitHub annotates the
/// config file's line, JSON has it on stdout, and the human output quotes it.
#[test]
fn config_errors_follow_the_format() {
    let kb = scratch_copy("valid");
    let config = kb.path().join("hindsight.yaml");
    edit(
        &config,
        "  postmortem_due_days: 5",
        "  postmortem_due_dayz: 5",
    );

    let run = check(kb.path(), &["--format", "github"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    assert_eq!(
        run.stdout,
        "::error file=hindsight.yaml,line=6,col=3,title=config::invalid configuration: \
         policies: unknown field `postmortem_due_dayz`, expected one of \
         `postmortem_required_for`, `postmortem_due_days`, `runbook_review_every`, \
         `action_items_require_owner`, `action_items_require_due` at line 6 column 3\
         %0Asee docs/configuration.md for every option\n"
    );

    let run = check(kb.path(), &["--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    let d = run.diagnostics();
    assert_eq!(d.len(), 1, "{}", run.stdout);
    assert_eq!(
        (
            d[0].severity.as_str(),
            d[0].code.as_str(),
            d[0].file.as_str(),
            d[0].line,
            d[0].column
        ),
        ("error", "config", "hindsight.yaml", 6, 3)
    );
    assert!(
        d[0].message.contains("unknown field `postmortem_due_dayz`"),
        "{}",
        d[0].message
    );

    let run = check(kb.path(), &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("--> hindsight.yaml:6:3")
            && run.stderr.contains("6 |   postmortem_due_dayz: 5")
            && run.stderr.contains("help: see docs/configuration.md"),
        "the line is quoted: {}",
        run.stderr
    );
}

/// Values a fuzzer slipped past `check` (a script as `repo_url`, a negative
/// deadline, a theme folder that is not there, renamed severities that break
/// the default policy): each is a `config` error at the value, in every format,
/// and `build` refuses them too.
#[test]
fn bad_config_values_are_errors_at_their_line_and_column() {
    let kb = scratch_copy("valid");
    let config = kb.path().join("hindsight.yaml");
    let valid = std::fs::read_to_string(&config).unwrap();
    for (bad, at, says) in [
        (
            "title: x\nrepo_url: \"javascript:alert(document.domain)//\"\n",
            (2, 11),
            "http(s) URL",
        ),
        ("repo_url: data:text/html,x\n", (1, 11), "http(s) URL"),
        (
            "policies: {postmortem_due_days: -100000}\n",
            (1, 33),
            "negative",
        ),
        (
            "policies:\n  postmortem_due_days: -9223372036854775808\n",
            (2, 24),
            "negative",
        ),
        (
            "policies:\n  runbook_review_every: 0d\n",
            (2, 25),
            "positive",
        ),
        ("title: x\nmax_file_size: 0\n", (2, 16), "max_file_size"),
        (
            "title: x\ntheme: nope\n",
            (2, 8),
            "themes/nope/ does not exist",
        ),
        ("theme: \"\"\n", (1, 8), "empty"),
        ("theme: \"../../etc\"\n", (1, 8), "path"),
        ("title: x\nseverities: [P0, P1]\n", (2, 13), "default"),
        ("title: [a]\n", (1, 8), "expected a string"),
        (
            "title: x\nseverities: [P0",
            (2, 16),
            "invalid configuration",
        ),
    ] {
        std::fs::write(&config, bad).unwrap();
        let run = check(kb.path(), &["--format", "json"]);
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stderr);
        let d = run.diagnostics();
        assert_eq!(d.len(), 1, "{bad:?}: {}", run.stdout);
        assert_eq!(
            (
                d[0].code.as_str(),
                d[0].file.as_str(),
                d[0].line,
                d[0].column
            ),
            ("config", "hindsight.yaml", at.0, at.1),
            "{bad:?}: {}",
            d[0].message
        );
        assert!(d[0].message.contains(says), "{bad:?}: {}", d[0].message);

        let run = check(kb.path(), &[]);
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stderr);
        let located = format!("--> hindsight.yaml:{}:{}", at.0, at.1);
        assert!(
            run.stderr.contains(&located) && run.stderr.contains("help: "),
            "{bad:?}: {}",
            run.stderr
        );

        let out = tempfile::tempdir().unwrap();
        let site = out.path().join("site");
        let built = crate::site::build(kb.path(), Some(&site), &[]);
        assert_eq!(built.code, 2, "{bad:?}: {}", built.stderr);
        assert!(built.stderr.contains(&located), "{bad:?}: {}", built.stderr);
        assert!(!site.exists(), "{bad:?}: a site was written");
    }

    // The fixes pass: a web address, zero days, an existing theme folder.
    std::fs::create_dir_all(kb.path().join("themes/dark")).unwrap();
    std::fs::write(
        &config,
        format!(
            "{valid}repo_url: https://github.com/acme/sre-kb\ntheme: dark\nmax_file_size: 100000\n"
        )
        .replace("postmortem_due_days: 5", "postmortem_due_days: 0"),
    )
    .unwrap();
    let run = check(kb.path(), &["--format", "json"]);
    assert!(run.code != 2, "{}{}", run.stdout, run.stderr);
}

/// A configuration with several bad values gets them all in one run, in
/// file order, not one per attempt.
#[test]
fn every_bad_config_value_is_reported_at_once() {
    let kb = scratch_copy("valid");
    std::fs::write(
        kb.path().join("hindsight.yaml"),
        "title: x\nrepo_url: ftp://x\nmax_file_size: 0\ntheme: nope\n",
    )
    .unwrap();
    let run = check(kb.path(), &["--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let at: Vec<(usize, usize)> = run
        .diagnostics()
        .iter()
        .map(|d| (d.line, d.column))
        .collect();
    assert_eq!(at, [(2, 11), (3, 16), (4, 8)], "{}", run.stdout);
    let run = check(kb.path(), &[]);
    assert!(run.stderr.contains("3 errors"), "{}", run.stderr);
}

#[test]
fn missing_content_exits_2() {
    let empty = tempfile::tempdir().unwrap();
    let run = check(empty.path(), &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("error[no-content]"), "{}", run.stderr);
    // A file where the folder should be is no better.
    std::fs::write(empty.path().join("content"), "not a folder").unwrap();
    assert_eq!(check(empty.path(), &["--format", "json"]).code, 2);
    // Nor is a root that does not exist.
    let gone = empty.path().join("gone");
    assert_eq!(check_in(empty.path(), &gone, &[]).code, 2);
}

#[test]
fn bad_usage_exits_2() {
    let root = fixture("valid");
    assert_eq!(check(&root, &["--format", "xml"]).code, 2);
    assert_eq!(check(&root, &["--no-such-flag"]).code, 2);
}

#[test]
fn no_config_means_defaults() {
    let kb = scratch_copy("valid");
    std::fs::remove_file(kb.path().join("hindsight.yaml")).unwrap();
    let run = check(kb.path(), &["--format", "json"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
}

/// Every file under a folder with its bytes and modification time.
fn tree(root: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>, std::time::SystemTime)> {
    walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let meta = e.metadata().unwrap();
            (
                e.path().to_path_buf(),
                std::fs::read(e.path()).unwrap(),
                meta.modified().unwrap(),
            )
        })
        .collect()
}

#[test]
fn check_never_writes_into_the_knowledge_base() {
    let kb = scratch_copy("mistakes");
    let before = tree(kb.path());
    for format in ["human", "json", "github"] {
        assert_eq!(check(kb.path(), &["--format", format]).code, 1);
    }
    assert_eq!(tree(kb.path()), before);
}
