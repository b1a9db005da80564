//! Property tests: the front matter and Markdown parsers, `load::decode` and the
//! per-document pipeline (parse, validate, link, policies) never panic, whatever
//! the input; and on generated documents every diagnostic points inside its file.

use hindsight::config::Config;
use hindsight::diagnostic::Diagnostic;
use hindsight::model::{Document, SourceFile};
use hindsight::template::Templates;
use hindsight::{link, load, parse, policy, validate, yaml};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use std::sync::LazyLock;

static TEMPLATES: LazyLock<Templates> = LazyLock::new(|| Templates::load(&[]).0);
static CONFIG: LazyLock<Config> = LazyLock::new(Config::default);

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: n,
        ..ProptestConfig::default()
    }
}

const PATHS: [&str; 7] = [
    "content/incidents/a.md",
    "content/postmortems/b.md",
    "content/runbooks/c.md",
    "content/services/d.md",
    "content/notes/e.md",
    "content/f.md",
    "content/postmortems/2026/g.md",
];

/// Decodes, parses, validates, links and checks the policies of some
/// documents, as `check` does; returns them with every diagnostic.
fn pipeline(files: Vec<(String, String)>) -> (Vec<Document>, Vec<Diagnostic>) {
    let ctx = validate::Context {
        config: &CONFIG,
        templates: &TEMPLATES,
        today: today(),
    };
    let mut docs = vec![];
    let mut diags = vec![];
    for (rel_path, text) in files {
        let file = match load::decode(&rel_path, text.into_bytes()) {
            Ok(file) => file,
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        let (mut doc, d) = parse::parse(file);
        diags.extend(d);
        diags.extend(validate::validate(&mut doc, &ctx));
        docs.push(doc);
    }
    let (graph, d) = link::link(&docs);
    diags.extend(d);
    diags.extend(policy::check_timelines(&docs, &graph));
    diags.extend(policy::check_postmortems(&docs, &graph, &CONFIG, today()));
    (docs, diags)
}

/// Every diagnostic names one of the files, a line inside it and a column
/// inside (or just past the end of) that line.
fn assert_inside(docs: &[Document], diags: &[Diagnostic]) -> Result<(), TestCaseError> {
    for d in diags {
        let Some(doc) = docs.iter().find(|doc| doc.rel_path == d.file) else {
            // Refused by `decode`: there is no document, and the problem is the whole file.
            prop_assert!(
                d.code == "empty-file" && d.line == 1,
                "diagnostic for an unknown file: {d:?}"
            );
            continue;
        };
        let lines: Vec<&str> = doc.text.lines().collect();
        prop_assert!(
            d.line >= 1 && d.line <= lines.len().max(1),
            "line outside the file: {d:?}\n{:?}",
            doc.text
        );
        let width = lines
            .get(d.line - 1)
            .map_or(0, |l| l.trim_end_matches('\r').chars().count());
        prop_assert!(
            d.column >= 1 && d.column <= width + 1,
            "column outside line {}: {d:?}\n{:?}",
            d.line,
            doc.text
        );
    }
    Ok(())
}

/// Pieces of YAML syntax, so random input reaches past the first token.
fn yamlish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("\n".to_string()),
        Just(": ".to_string()),
        Just("- ".to_string()),
        Just("  ".to_string()),
        Just("\t".to_string()),
        Just("\r\n".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just(", ".to_string()),
        Just("&a ".to_string()),
        Just("*a".to_string()),
        Just("&b ".to_string()),
        Just("*b".to_string()),
        Just("!!str ".to_string()),
        Just("!tag ".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("|\n".to_string()),
        Just(">-\n".to_string()),
        Just("# c\n".to_string()),
        Just("? ".to_string()),
        Just("---\n".to_string()),
        Just("...\n".to_string()),
        Just("%YAML 1.2\n".to_string()),
        Just("<<: ".to_string()),
        Just("id".to_string()),
        Just("title".to_string()),
        Just("impact".to_string()),
        Just("severity".to_string()),
        Just("SEV1".to_string()),
        Just("2026-11-03T14:00:00Z".to_string()),
        Just("~".to_string()),
        "[a-z0-9_]{1,6}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(token, 0..80).prop_map(|t| t.concat())
}

/// Pieces of Markdown the structure pass looks at.
fn markdownish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("\n".to_string()),
        Just("\n\n".to_string()),
        Just("## ".to_string()),
        Just("# ".to_string()),
        Just("### ".to_string()),
        Just("Timeline\n".to_string()),
        Just("Action Items\n".to_string()),
        Just("Summary\n".to_string()),
        Just("- ".to_string()),
        Just("- [ ] ".to_string()),
        Just("- [x] ".to_string()),
        Just("1. ".to_string()),
        Just("  ".to_string()),
        Just("\t".to_string()),
        Just("> ".to_string()),
        Just("@dana ".to_string()),
        Just("@".to_string()),
        Just("due:2026-12-01 ".to_string()),
        Just("due:".to_string()),
        Just("done:".to_string()),
        Just("type:detect ".to_string()),
        Just("type:".to_string()),
        Just("ticket:".to_string()),
        Just("14:02 ".to_string()),
        Just("00:10".to_string()),
        Just("23:59 UTC ".to_string()),
        Just("2026-11-03T14:02Z ".to_string()),
        Just("2026-11-03 14:02 +05:30 ".to_string()),
        Just("99:99".to_string()),
        Just("**".to_string()),
        Just("__".to_string()),
        Just("|".to_string()),
        Just("|---|---|\n".to_string()),
        Just("[a](b.md)".to_string()),
        Just("[x](../runbooks/c.md#h)".to_string()),
        Just("](".to_string()),
        Just("[".to_string()),
        Just("<!--".to_string()),
        Just("-->".to_string()),
        Just(" {.optional}".to_string()),
        Just(" {aliases=\"a, b\"}".to_string()),
        Just(" {#id key=\"v".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("```".to_string()),
        Just("\r\n".to_string()),
        Just("é".to_string()),
        Just("😀".to_string()),
        Just("[^1]".to_string()),
        "[A-Za-z]{1,8}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(token, 0..120).prop_map(|t| t.concat())
}

/// A document: sometimes with a front matter block, sometimes not.
fn documentish() -> impl Strategy<Value = String> {
    (any::<bool>(), yamlish(), markdownish()).prop_map(|(front, yaml, body)| {
        if front {
            format!("---\n{yaml}\n---\n{body}")
        } else {
            format!("{yaml}{body}")
        }
    })
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn yaml_parse_never_panics(text in any::<String>(), first_line in 1usize..5) {
        let _ = yaml::parse(&text, first_line);
    }

    #[test]
    fn yaml_parse_never_panics_on_yaml_like_text(text in yamlish()) {
        let (_, problems) = yaml::parse(&text, 2);
        // YAML breaks lines at `\n`, `\r\n` and a lone `\r` (which `load`
        // makes a `\n` before any parse).
        let lines = text.replace("\r\n", "\n").split(['\n', '\r']).count() + 2;
        for p in problems {
            prop_assert!(p.line >= 1 && p.line <= lines, "{p:?} in {text:?}");
        }
    }

    #[test]
    fn parse_never_panics(text in any::<String>()) {
        let _ = parse::parse(SourceFile { rel_path: "content/postmortems/x.md".into(), text });
    }

    #[test]
    fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        match load::decode("content/x.md", bytes.clone()) {
            Ok(file) => {
                let text = String::from_utf8(bytes).expect("decoded bytes were UTF-8");
                let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
                // Lone CRs become LFs (same length); nothing else changes.
                prop_assert_eq!(file.text.len(), text.len());
                let lf = |s: &str| s.replace("\r\n", "\n").replace('\r', "\n");
                prop_assert_eq!(lf(&file.text), lf(text));
            }
            Err(d) => {
                prop_assert!(["not-utf8", "empty-file"].contains(&d.code), "{d:?}");
                let lossy = String::from_utf8_lossy(&bytes);
                prop_assert!(d.line <= lossy.split('\n').count(), "{d:?}");
            }
        }
    }

    #[test]
    fn pipeline_never_panics(text in any::<String>(), path in prop::sample::select(&PATHS[..])) {
        let _ = pipeline(vec![(path.to_string(), text)]);
    }
}

// Structured input costs more to generate: fewer cases.
proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn parse_never_panics_on_markdown_like_text(text in documentish()) {
        let (doc, _) = parse::parse(SourceFile { rel_path: "content/postmortems/x.md".into(), text });
        for s in &doc.structure.sections {
            prop_assert!(s.heading.end <= doc.text.len() && s.content.end <= doc.text.len());
        }
    }

    #[test]
    fn decode_never_panics_on_mostly_text(
        text in documentish(),
        bad in prop::collection::vec((any::<prop::sample::Index>(), 0x80u8..=0xff), 0..4),
        bom in any::<bool>(),
    ) {
        let mut bytes = if bom { b"\xef\xbb\xbf".to_vec() } else { vec![] };
        bytes.extend(text.as_bytes());
        for (at, byte) in bad {
            if !bytes.is_empty() {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
        }
        let _ = load::decode("content/x.md", bytes);
    }

    #[test]
    fn pipeline_never_panics_on_document_like_text(
        docs in prop::collection::vec((prop::sample::select(&PATHS[..]), documentish()), 1..4),
    ) {
        let files = docs.into_iter().enumerate().map(|(i, (p, t))| (p.replace(".md", &format!("{i}.md")), t)).collect();
        let (docs, diags) = pipeline(files);
        assert_inside(&docs, &diags)?;
    }
}

// Generated front matter: each kind's own fields (and some strangers) with
// values drawn from valid, invalid and extreme ones for that field's type, so
// the validators and the policies that read their results see every branch.

const INCIDENT_FIELDS: &[&str] = &[
    "id",
    "title",
    "severity",
    "status",
    "services",
    "started_at",
    "detected_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
    "commander",
    "responders",
    "detection",
    "impact",
    "visibility",
    "public_summary",
    "runbooks",
    "tags",
    "related",
];
const POSTMORTEM_FIELDS: &[&str] = &[
    "id",
    "title",
    "incident",
    "authors",
    "status",
    "published_at",
    "reviewers",
    "related",
    "tags",
    "severity",
    "services",
    "started_at",
    "detected_at",
    "mitigated_at",
    "resolved_at",
    "impact",
    "runbooks",
];
const RUNBOOK_FIELDS: &[&str] = &[
    "id",
    "title",
    "services",
    "owners",
    "alerts",
    "last_reviewed",
    "review_every",
    "tags",
    "related",
];
const SERVICE_FIELDS: &[&str] = &["id", "name", "tier", "owners", "slo", "description", "tags"];
const STRANGERS: &[&str] = &[
    "kind",
    "template",
    "titel",
    "sevrity",
    "x",
    "fields",
    "impact.users_affected",
];

const DATETIMES: &[&str] = &[
    "2026-11-03T14:00:00Z",
    "2026-11-03T14:30:00Z",
    "2026-11-03T23:59:00+05:30",
    "2026-11-04T00:10:00-08:00",
    "2026-11-03T13:00:00+01:00",
    "2026-11-03 14:00",
    "2026-02-30T10:00:00Z",
    "2026-13-45T99:99:99Z",
    "9999-12-31T23:59:59+23:59",
    "0000-01-01T00:00:00-23:59",
    "14:00",
    "2026-11-03",
];
const DATES: &[&str] = &[
    "2026-11-03",
    "2025-01-01",
    "2026-11-26",
    "2026-02-30",
    "+262143-12-31",
    "-262143-01-01",
    "9999-12-31",
    "0000-01-01",
    "03/11/2026",
];
const DURATIONS: &[&str] = &[
    "90d",
    "12w",
    "6m",
    "1y",
    "0d",
    "-1d",
    "99999999d",
    "99999999999999999y",
    "9223372036854775807d",
    "d",
    "1x",
    "1.5d",
];
const INTS: &[&str] = &[
    "1",
    "2",
    "3",
    "0",
    "7",
    "-1",
    "1.5",
    "99999999999999999999",
    "9223372036854775807",
    "many",
];
const IDS: &[&str] = &[
    "INC-2026-001",
    "INC-2026-002",
    "PM-2026-001",
    "RB-a",
    "svc",
    "INCIDENT-1",
    "\"\"",
    "[a]",
];
const WORDS: &[&str] = &[
    "SEV1",
    "SEV2",
    "SEV4",
    "SEV9",
    "resolved",
    "investigating",
    "monitoring",
    "draft",
    "published",
    "in-review",
    "fixed",
    "customer",
    "monitoring",
    "public",
    "internal",
    "incident",
    "postmortem",
    "runbook",
    "service",
    "dana",
    "\"@dana\"",
    "dana smith",
    "@",
    "https://example.org",
    "javascript:alert(1)",
];
const LISTS: &[&str] = &[
    "[svc]",
    "[dana, \"@li\"]",
    "[INC-2026-001, RB-a]",
    "[RB-a]",
    "[PM-2026-001, nope]",
    "[]",
    "[[a]]",
    "[1, 2]",
    "svc",
    "\n  - svc\n  - other",
    "\n  - dana\n  - {a: b}",
];
const ODDITIES: &[&str] = &[
    "~",
    "",
    "null",
    "true",
    ".nan",
    ".inf",
    "0x1F",
    "1e400",
    "!!binary aGk=",
    "'it''s'",
    "\"multi\\nline\"",
    "|\n  block\n  text",
    ">-\n  folded",
    "&x [a, b]",
    "*x",
    "*undefined",
    "{a: {b: {c: d}}}",
    "{availability: 99.9}",
    "{users_affected: 3, customer_minutes: 4}",
    "{users_affected: lots, minutes: 3}",
    "\n  users_affected: 10\n  customer_minutes: -3",
    "\n  users_affected: 1\n  users_affected: 2",
];

fn pool(field: &str) -> &'static [&'static str] {
    match field {
        f if f.ends_with("_at") => DATETIMES,
        "last_reviewed" => DATES,
        "review_every" => DURATIONS,
        "tier" => INTS,
        "id" | "incident" => IDS,
        "impact" | "slo" => ODDITIES,
        "services" | "runbooks" | "related" | "tags" | "authors" | "reviewers" | "owners"
        | "responders" | "alerts" => LISTS,
        _ => WORDS,
    }
}

fn value_for(field: String) -> impl Strategy<Value = (String, String)> {
    let all: Vec<&'static str> = [
        DATETIMES, DATES, DURATIONS, INTS, IDS, WORDS, LISTS, ODDITIES,
    ]
    .concat();
    let value = prop_oneof![
        6 => prop::sample::select(pool(&field)),
        2 => prop::sample::select(all),
    ]
    .prop_map(str::to_string);
    let value = prop_oneof![
        9 => value,
        1 => "[ -~]{0,16}".prop_map(|s| serde_json::to_string(&s).unwrap()),
    ];
    value.prop_map(move |v| (field.clone(), v))
}

fn front_matter(kind: usize) -> impl Strategy<Value = Vec<(String, String)>> {
    let own = [
        INCIDENT_FIELDS,
        POSTMORTEM_FIELDS,
        RUNBOOK_FIELDS,
        SERVICE_FIELDS,
    ][kind];
    let field = prop_oneof![
        12 => prop::sample::select(own).prop_map(str::to_string),
        1 => prop::sample::select(STRANGERS).prop_map(str::to_string),
        1 => "[a-z_]{1,10}",
    ];
    prop::collection::vec(field.prop_flat_map(value_for), 0..16)
}

fn section_body() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        3 => (0u32..30, 0u32..70, prop::sample::select(&["", " UTC", "Z", " +01:00", " -05:30", " UTC+14:00"][..]))
            .prop_map(|(h, m, z)| format!("- {h:02}:{m:02}{z} — something happened")),
        1 => (1u32..29, 0u32..24, 0u32..60).prop_map(|(d, h, m)| format!("- **2026-11-{d:02} {h:02}:{m:02}** — event")),
        3 => (any::<bool>(), prop::collection::vec(prop::sample::select(&[
            "@dana", "@", "due:2026-12-01", "due:2026-13-01", "due:", "done:2026-11-01", "done:x",
            "type:detect", "type:fix", "ticket:OPS-1", "ticket:", "Fix", "the", "thing",
        ][..]), 0..6)).prop_map(|(done, words)| format!("- [{}] {}", if done { "x" } else { " " }, words.join(" "))),
        1 => Just("<!-- One entry per line -->".to_string()),
        1 => Just("[a link](../runbooks/c.md) and [another](missing.md#x)".to_string()),
        1 => Just("| 14:02 | in a table |".to_string()),
        1 => Just("".to_string()),
        1 => markdownish().prop_map(|s| s.replace('#', "")),
    ];
    prop::collection::vec(line, 0..6).prop_map(|l| l.join("\n"))
}

fn body() -> impl Strategy<Value = String> {
    let title = prop::sample::select(
        &[
            "Summary",
            "Impact",
            "Timeline",
            "Contributing Factors",
            "Root Cause",
            "Action Items",
            "Lessons Learned",
            "Overview",
            "Diagnosis",
            "Mitigation",
            "Escalation",
            "Appendix",
            "Other",
        ][..],
    );
    let section = (
        prop::sample::select(&["#", "##", "###"][..]),
        title,
        section_body(),
    )
        .prop_map(|(level, title, body)| format!("{level} {title}\n{body}\n"));
    prop::collection::vec(section, 0..8).prop_map(|s| s.concat())
}

fn render(fields: &[(String, String)], body: &str, crlf: bool) -> String {
    let mut text = String::from("---\n");
    for (k, v) in fields {
        let sep = if v.starts_with('\n') || v.is_empty() {
            ":"
        } else {
            ": "
        };
        text.push_str(&format!("{k}{sep}{v}\n"));
    }
    text.push_str("---\n");
    text.push_str(body);
    if crlf {
        text = text.replace('\n', "\r\n");
    }
    text
}

proptest! {
    #![proptest_config(cases(384))]

    #[test]
    fn generated_documents_get_diagnostics_inside_the_file(
        docs in prop::collection::vec(
            (0..4usize).prop_flat_map(|kind| (Just(kind), front_matter(kind), body(), prop::bool::weighted(0.1))),
            1..4,
        ),
    ) {
        let files: Vec<(String, String)> = docs
            .iter()
            .enumerate()
            .map(|(i, (kind, fields, body, crlf))| {
                (PATHS[*kind].replace(".md", &format!("{i}.md")), render(fields, body, *crlf))
            })
            .collect();
        let (docs, diags) = pipeline(files);
        assert_inside(&docs, &diags)?;
        // Field problems point into the front matter, not the body.
        for d in &diags {
            let doc = docs.iter().find(|doc| doc.rel_path == d.file).unwrap();
            let closing_line = doc.text[..doc.body_start].lines().count();
            let field_codes = [
                "unknown-field", "wrong-type", "bad-datetime", "bad-date", "unknown-severity", "invalid-value",
                "pattern-mismatch", "duplicate-key", "yaml-syntax", "timestamp-order", "bad-person", "out-of-range",
            ];
            // `bad-date` is also raised for action-item tokens in the body.
            if field_codes.contains(&d.code) && !(d.code == "bad-date" && d.line > closing_line) {
                prop_assert!(d.line <= closing_line, "{d:?} is past the front matter (ends line {closing_line})\n{}", doc.text);
            }
        }
    }
}
