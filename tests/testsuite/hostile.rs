//! Input meant to crash or hang the checker gets a diagnostic each, never a
//! panic or a hang. `tests/fixtures/hostile` holds what can live in git; what
//! cannot (empty and oversized files, invalid UTF-8, CRLF with a byte-order
//! mark, symbolic link loops) is made in a copy at run time.

use crate::support::{check, scratch_copy, Diag};
use std::path::Path;
use std::time::Duration;

/// Catches blow-ups (the cubic and quadratic cases these tests found took
/// minutes to hours), not slowness: a healthy debug-build run takes a few
/// seconds alone, and took 21 s once beside the rest of the suite on a
/// loaded 2-core machine.
const QUICK: Duration = Duration::from_secs(60);

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    std::fs::write(root.join(rel), bytes).unwrap();
}

/// (code, file under content/, line) of the diagnostics the hostile knowledge base must produce.
const EXPECTED: &[(&str, &str, usize)] = &[
    // Committed fixtures.
    ("yaml-alias-bomb", "incidents/alias-bomb.md", 7), // the alias that crosses the budget
    ("yaml-too-deep", "incidents/deep-nesting.md", 4),
    (
        "front-matter-not-mapping",
        "incidents/list-front-matter.md",
        2,
    ),
    (
        "front-matter-not-mapping",
        "incidents/scalar-front-matter.md",
        2,
    ),
    ("duplicate-key", "incidents/nested-duplicate-key.md", 10), // inside `impact:`
    ("yaml-syntax", "incidents/tab-indent.md", 5),
    ("unclosed-front-matter", "runbooks/unclosed.md", 1),
    ("duplicate-id", "runbooks/rb-claims-stem.md", 2), // claims another runbook's file name
    ("duplicate-id", "runbooks/rb-stem.md", 1), // its id is its file name, claimed by another runbook
    // Made at run time.
    ("empty-file", "incidents/empty.md", 1),
    ("empty-file", "incidents/blank.md", 1),
    ("not-utf8", "incidents/latin1.md", 3),
    ("file-too-large", "incidents/huge.md", 1),
    ("broken-link", "postmortems/pm-2026-001-survivor.md", 8), // to huge.md, refused
];

fn keys(diags: &[Diag]) -> Vec<(String, String, usize)> {
    diags
        .iter()
        .map(|d| (d.code.clone(), d.file.clone(), d.line))
        .collect()
}

fn hostile_kb() -> tempfile::TempDir {
    let kb = scratch_copy("hostile");
    let root = kb.path();
    write(root, "content/incidents/empty.md", b"");
    write(root, "content/incidents/blank.md", b" \n\t\r\n\n");
    write(
        root,
        "content/incidents/latin1.md",
        b"---\nid: INC-2026-010\ntitle: caf\xe9 outage\n---\n",
    );
    // Over the fixture's `max_file_size: 4096`, otherwise a fine document.
    let mut huge = b"---\nid: INC-2026-011\ntitle: Huge\nseverity: SEV4\nstatus: investigating\nservices: [search]\nstarted_at: 2026-11-20T08:00:00Z\n---\n".to_vec();
    huge.extend(b"Padding. ".repeat(1000));
    write(root, "content/incidents/huge.md", &huge);
    // A byte-order mark and CRLF line ends are fine, and lines still count right.
    write(
        root,
        "content/runbooks/crlf.md",
        b"\xef\xbb\xbf---\r\nid: RB-crlf\r\ntitle: Written on Windows\r\nlast_reviewed: 2026-11-01\r\n---\r\n## Overview\r\na\r\n## Diagnosis\r\nb\r\n## Mitigation\r\nc [missing](nowhere.md)\r\n## Escalation\r\nd\r\n",
    );
    kb
}

#[test]
fn hostile_input_gets_a_diagnostic_each_and_no_panic() {
    let kb = hostile_kb();
    let run = check(kb.path(), &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.elapsed < QUICK, "took {:?}", run.elapsed);
    let got = keys(&run.diagnostics());
    for (code, file, line) in EXPECTED {
        let want = (code.to_string(), format!("content/{file}"), *line);
        assert!(got.contains(&want), "missing {want:?} in\n{}", run.stdout);
    }
    // The CRLF document is clean but for its one broken link, on its own line.
    let crlf: Vec<_> = got
        .iter()
        .filter(|k| k.1 == "content/runbooks/crlf.md")
        .collect();
    assert_eq!(
        crlf,
        [&(
            "broken-link".to_string(),
            "content/runbooks/crlf.md".to_string(),
            11
        )]
    );
    let crlf_link = run
        .diagnostics()
        .into_iter()
        .find(|d| d.file.ends_with("crlf.md"))
        .unwrap();
    assert_eq!(crlf_link.column, 3);
    // The invalid byte's column, counted in characters.
    let latin1 = run
        .diagnostics()
        .into_iter()
        .find(|d| d.code == "not-utf8")
        .unwrap();
    assert_eq!(latin1.column, 11);
    // The human renderer quotes the lines of these files without tripping over them.
    for format in ["human", "github"] {
        let run = check(kb.path(), &["--format", format]);
        assert_eq!(run.code, 1, "{format}");
    }
}

#[test]
fn hostile_fixture_snapshot() {
    let kb = hostile_kb();
    let run = check(kb.path(), &["--format", "json"]);
    insta::assert_snapshot!("hostile_json", run.stdout);
}

#[test]
fn max_file_size_is_configurable() {
    let kb = hostile_kb();
    std::fs::write(kb.path().join("hindsight.yaml"), "max_file_size: 100000\n").unwrap();
    let run = check(kb.path(), &["--format", "json"]);
    let got = keys(&run.diagnostics());
    assert!(
        !got.iter().any(|k| k.0 == "file-too-large"),
        "{}",
        run.stdout
    );
    assert!(
        !got.iter().any(|k| k.1.ends_with("huge.md")),
        "huge.md is a fine document: {}",
        run.stdout
    );
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_diagnostics_not_hangs() {
    use std::os::unix::fs::symlink;
    let kb = scratch_copy("valid");
    let content = kb.path().join("content");
    // A folder that links to its own ancestor, a link to itself, a link to nothing.
    std::fs::create_dir(content.join("runbooks/deep")).unwrap();
    symlink("../..", content.join("runbooks/deep/up")).unwrap();
    symlink("self.md", content.join("runbooks/self.md")).unwrap();
    symlink("nowhere.md", content.join("runbooks/dangling.md")).unwrap();
    // Two folders that link to each other.
    std::fs::create_dir(content.join("a")).unwrap();
    std::fs::create_dir(content.join("b")).unwrap();
    symlink("../b", content.join("a/to-b")).unwrap();
    symlink("../a", content.join("b/to-a")).unwrap();
    let run = check(kb.path(), &["--format", "json"]);
    assert!(run.elapsed < QUICK, "took {:?}", run.elapsed);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let got: Vec<(String, String)> = run
        .diagnostics()
        .into_iter()
        .map(|d| (d.code, d.file))
        .collect();
    for want in [
        ("symlink-loop", "content/runbooks/deep/up"),
        ("symlink-loop", "content/a/to-b/to-a"),
        ("symlink-loop", "content/b/to-a/to-b"),
        ("unreadable", "content/runbooks/self.md"),
        ("unreadable", "content/runbooks/dangling.md"),
    ] {
        assert!(
            got.contains(&(want.0.to_string(), want.1.to_string())),
            "missing {want:?} in {got:?}"
        );
    }
    // Nothing else: the linked-to documents are not reported twice over.
    assert_eq!(got.len(), 5, "{got:?}");
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

/// A named pipe is reported, not opened (that would wait for a writer); a
/// link out of the knowledge base is reported, not read, so that its text
/// shows up in no diagnostic and no page; links inside it still work.
#[cfg(unix)]
#[test]
fn special_files_and_links_out_of_the_knowledge_base_are_not_read() {
    use std::os::unix::fs::symlink;
    let kb = scratch_copy("valid");
    let root = kb.path();
    let content = root.join("content");
    let elsewhere = tempfile::tempdir().unwrap();
    let secret = elsewhere.path().join("secret.md");
    std::fs::write(
        &secret,
        "---\nid: RB-secret\ntitle: x\npassword: hunter2-outside\n---\nhunter2-outside\n",
    )
    .unwrap();
    std::fs::create_dir(elsewhere.path().join("folder")).unwrap();
    std::fs::copy(&secret, elsewhere.path().join("folder/secret.md")).unwrap();
    mkfifo(&content.join("runbooks/pipe.md"));
    mkfifo(&content.join("runbooks/pipe.txt"));
    symlink(&secret, content.join("runbooks/secret.md")).unwrap();
    symlink(
        elsewhere.path().join("folder"),
        content.join("linked-folder"),
    )
    .unwrap();
    // Inside the root but outside content/: read as before.
    std::fs::create_dir(root.join("shared")).unwrap();
    std::fs::write(
        root.join("shared/rb-shared.md"),
        "---\nid: RB-shared\ntitle: Shared\nlast_reviewed: 2026-11-01\nowner: x\n---\n## Overview\na\n## Diagnosis\nb\n## Mitigation\nc\n## Escalation\nd\n",
    )
    .unwrap();
    symlink(
        "../../shared/rb-shared.md",
        content.join("runbooks/rb-shared.md"),
    )
    .unwrap();
    let run = check(root, &["--format", "json"]);
    assert!(run.elapsed < QUICK, "took {:?}", run.elapsed);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let got: Vec<(String, String, String, usize, usize)> = run
        .diagnostics()
        .into_iter()
        .map(|d| (d.severity, d.code, d.file, d.line, d.column))
        .collect();
    let at = |severity: &str, code: &str, file: &str| {
        (
            severity.to_string(),
            code.to_string(),
            format!("content/{file}"),
            1,
            1,
        )
    };
    assert_eq!(
        got,
        [
            at("error", "symlink-outside", "linked-folder"),
            at("warning", "special-file", "runbooks/pipe.md"),
            at("warning", "special-file", "runbooks/pipe.txt"),
            // The linked document was read: its unknown field is reported.
            (
                "error".into(),
                "unknown-field".into(),
                "content/runbooks/rb-shared.md".into(),
                5,
                1
            ),
            at("error", "symlink-outside", "runbooks/secret.md"),
        ],
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("\"hint\":\"hindsight reads regular files only"),
        "{}",
        run.stdout
    );
    let human = check(root, &[]);
    for out in [&run.stdout, &human.stderr] {
        assert!(!out.contains("hunter2"), "the outside file was read: {out}");
    }
    assert!(
        human
            .stderr
            .contains("warning[special-file]: a named pipe, not a regular file; skipped"),
        "{}",
        human.stderr
    );
}

/// Markdown shapes that have made parsers go quadratic or recurse deeply, at
/// the default size limit's order of magnitude.
#[test]
fn pathological_markdown_finishes_quickly() {
    let kb = tempfile::tempdir().unwrap();
    let dir = kb.path().join("content/runbooks");
    std::fs::create_dir_all(&dir).unwrap();
    let bodies = [
        "[".repeat(200_000),
        ">".repeat(200_000),
        "- ".repeat(100_000),
        "*a ".repeat(60_000),
        "`".repeat(200_000),
        "<!--".repeat(50_000),
        "[a](".repeat(50_000),
        "![".repeat(100_000),
        "**".repeat(100_000),
        format!("## Timeline\n{}", "- 14:0\n".repeat(30_000)),
        format!(
            "## Action Items\n{}",
            "- [ ] @a due:x type:y done:z\n".repeat(20_000)
        ),
        format!("## x {{{}}}\n", "a=\"".repeat(50_000)),
        format!("|a|b|\n|-|-|\n{}", "|1|2|\n".repeat(50_000)),
        format!("{}- a\n", "  ".repeat(100_000)),
        // Equal titles: anchors numbered one by one used to be cubic.
        "## Overview\n".repeat(50_000),
        "## Timeline\n- 14:00 x\n## Action Items\n- [ ] a @b due:2027-01-01\n".repeat(5_000),
    ];
    for (i, body) in bodies.iter().enumerate() {
        let text = format!("---\nid: RB-{i}\ntitle: x\n---\n{body}");
        std::fs::write(dir.join(format!("p{i}.md")), text).unwrap();
    }
    let run = check(kb.path(), &["--format", "json"]);
    assert!(run.elapsed < QUICK, "took {:?}", run.elapsed);
    assert_eq!(run.code, 1);
}

/// Few values but long ones: one 500 KB string behind thousands of aliases
/// would take gigabytes if aliases were only counted, not weighed.
#[test]
fn aliases_of_a_long_string_are_refused_quickly() {
    let kb = tempfile::tempdir().unwrap();
    let dir = kb.path().join("content/runbooks");
    std::fs::create_dir_all(&dir).unwrap();
    let text = format!(
        "---\nid: RB-a\ntitle: x\nlong: &a \"{}\"\ncopies: [{}]\n---\n",
        "x".repeat(500_000),
        ["*a"; 4000].join(", ")
    );
    std::fs::write(dir.join("a.md"), text).unwrap();
    let run = check(kb.path(), &["--format", "json"]);
    assert!(run.elapsed < QUICK, "took {:?}", run.elapsed);
    let bomb = run
        .diagnostics()
        .into_iter()
        .find(|d| d.code == "yaml-alias-bomb");
    assert_eq!(bomb.map(|d| d.line), Some(5), "{}", run.stdout);
}

/// Thousands of diagnostics in one large file: the human renderer used to
/// re-index the whole file for each of them (minutes, not a second).
#[test]
fn many_diagnostics_in_a_large_file_render_quickly() {
    let kb = tempfile::tempdir().unwrap();
    let dir = kb.path().join("content/runbooks");
    std::fs::create_dir_all(&dir).unwrap();
    let keys: String = (0..4000).map(|i| format!("k{i}: 1\n")).collect();
    let filler = "A line of Markdown that makes the file large.\n".repeat(15_000);
    let text = format!("---\nid: RB-a\ntitle: x\n{keys}---\n{filler}");
    std::fs::write(dir.join("a.md"), text).unwrap();
    let run = check(kb.path(), &[]);
    assert!(run.elapsed < QUICK, "took {:?}", run.elapsed);
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr.matches("error[unknown-field]").count(), 4000);
    assert!(
        run.stderr.contains("4003 | k3999: 1"),
        "quotes the right line"
    );
}
