//! The registry of diagnostic codes: what each one means, why it exists and how
//! to fix it. `hindsight explain CODE` prints an entry and `docs/diagnostics.md`
//! is generated from this table; a test fails when the source uses a code that
//! is not registered here, and another when the committed docs drift.

use crate::diagnostic::Severity;
use clap::Args;
use std::fmt::Write as _;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// A diagnostic code, e.g. `missing-section`; without one, lists every code.
    pub code: Option<String>,
}

pub fn run_explain(args: ExplainArgs) -> ExitCode {
    let Some(code) = args.code else {
        print!("{}", list());
        return ExitCode::SUCCESS;
    };
    match find(code.trim()) {
        Some(rule) => {
            print!("{}", explain(rule));
            ExitCode::SUCCESS
        }
        None => {
            let codes: Vec<&str> = RULES.iter().map(|r| r.code).collect();
            let hint = match crate::validate::closest(&code, &codes) {
                Some(c) => format!("did you mean `{c}`?"),
                None => "`hindsight explain` lists every code".into(),
            };
            eprintln!("error[usage]: no diagnostic has the code `{code}`\n  help: {hint}");
            ExitCode::from(2)
        }
    }
}

/// One diagnostic code.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub code: &'static str,
    pub severity: Severity,
    /// The stage that reports it (`setup`, `load`, `parse`, `validate`, `link`, `policy`, `build`).
    pub stage: &'static str,
    pub summary: &'static str,
    pub why: &'static str,
    /// A small before/after, or the step that fixes it.
    pub fix: &'static str,
}

use Severity::{Error, Warning};

const fn rule(
    code: &'static str,
    severity: Severity,
    stage: &'static str,
    summary: &'static str,
    why: &'static str,
    fix: &'static str,
) -> Rule {
    Rule {
        code,
        severity,
        stage,
        summary,
        why,
        fix,
    }
}

/// Stages in pipeline order, with the heading they get in the docs.
pub const STAGES: [(&str, &str); 7] = [
    ("setup", "Setup (exit code 2)"),
    ("load", "Reading files and templates"),
    ("parse", "Front matter"),
    ("validate", "Fields, sections and action items"),
    ("link", "Ids and links"),
    ("policy", "Timelines and policies"),
    ("build", "Building the site"),
];

pub const RULES: &[Rule] = &[
    // setup
    rule(
        "no-content",
        Error,
        "setup",
        "There is no `content/` folder in the knowledge-base root.",
        "hindsight looks for `content/` to know it is in a knowledge base; without it there is nothing to check, so the run stops with exit code 2.",
        "Run hindsight in the knowledge base, pass `--root DIR`, or create one with `hindsight init DIR`.",
    ),
    rule(
        "config",
        Error,
        "setup",
        "`hindsight.yaml` cannot be read, is not valid YAML, or has an unknown or invalid option.",
        "Unknown keys are refused so that a typo does not silently leave a policy at its default. A bad configuration stops the run with exit code 2.",
        "`postmortem_due_dayz: 3` -> `postmortem_due_days: 3`; every option is listed in docs/configuration.md.",
    ),
    rule(
        "usage",
        Error,
        "setup",
        "A command was given something it cannot use: a file outside the knowledge base to `check`, a `new` it cannot make or that would overwrite a file, an unknown code to `explain`.",
        "A mistake on the command line stops the run with exit code 2 before anything is written, rather than doing something else than asked.",
        "Read the message and the command's `--help`; `hindsight new` never overwrites a file, so pick another `--title` or move the existing file.",
    ),
    rule(
        "git",
        Error,
        "setup",
        "`check --changed-since REF` cannot ask git what changed: no git, not a git repository, or an unknown REF.",
        "Without the list of changed files the report would cover the wrong files, so the run stops with exit code 2.",
        "Fetch the ref first (`git fetch origin main`; in CI, check out with `fetch-depth: 0`), or run `hindsight check` on everything.",
    ),
    rule(
        "output",
        Error,
        "setup",
        "`build` cannot use its output folder: it is inside the knowledge base's sources, holds them, was not made by hindsight, or cannot be written.",
        "`build` replaces the whole output folder; it refuses a folder that would take sources or someone's files with it, and leaves the previous site as it was when writing fails.",
        "Choose another `--output` (the default is `public/` under the root), empty the folder yourself, or pass `--force` if it is an old site of yours.",
    ),
    rule(
        "serve",
        Error,
        "setup",
        "`serve` cannot start: the port is in use, the address cannot be bound, or the knowledge base cannot be watched.",
        "The preview needs its port and file events; it stops with exit code 2 rather than serve pages that never reload.",
        "`--port 1112` (the message suggests a free one), or `--poll` where file events are not available (network drives, some containers).",
    ),
    rule(
        "init",
        Error,
        "setup",
        "`init` cannot create the knowledge base's folders or files.",
        "`init` never overwrites; an error here means the folder cannot be written at all.",
        "Choose a folder you can write to, or create it first: `hindsight init DIR`.",
    ),
    rule(
        "io",
        Error,
        "setup",
        "`new` cannot write the document it made (for another reason than an existing file).",
        "The document is printed nowhere else, so the failure stops the run with exit code 2.",
        "Check the permissions of the folder under `content/` the message names.",
    ),
    // load
    rule(
        "template",
        Error,
        "load",
        "A template in `templates/` declares a field badly or uses an unknown key.",
        "Templates are the schema of every document of their kind; a wrong spec would check documents against the wrong rules.",
        "`title: {type: strin}` -> `title: {type: string, required: true}`; field types are listed in docs/templates.md.",
    ),
    rule(
        "unreadable",
        Error,
        "load",
        "A file or folder under `content/` or `templates/` cannot be read.",
        "A document that cannot be read cannot be checked or published; reporting it beats skipping it silently.",
        "Fix the file's permissions, or remove a dangling symbolic link.",
    ),
    rule(
        "symlink-loop",
        Error,
        "load",
        "A symbolic link points back at one of its own parent folders.",
        "Following the loop would never end; the folder is skipped and reported.",
        "Remove the link, or point it at a folder outside its own ancestors.",
    ),
    rule(
        "symlink-outside",
        Error,
        "load",
        "A symbolic link under `content/`, `templates/` or `static/` leads out of the knowledge base's root; it is not read.",
        "Whatever a link points at would be checked, quoted in diagnostics and published: a link to `~/.ssh/id_rsa` or `/etc/passwd` in a pull request must not end up on the site, and `/dev/zero` would never end. Links inside the root are followed as usual.",
        "Copy the file into the knowledge base, or make the link point inside the root (next to `hindsight.yaml`).",
    ),
    rule(
        "special-file",
        Warning,
        "load",
        "A named pipe, socket or device under `content/`, `templates/` or `static/`; it is skipped.",
        "Only regular files can be documents or published; opening a named pipe would wait for a writer forever. It is reported rather than skipped silently, since it is almost always there by accident.",
        "Move it out of the knowledge base.",
    ),
    rule(
        "file-too-large",
        Error,
        "load",
        "A file is larger than `max_file_size` (1 MiB by default).",
        "Huge files are almost always a mistake (a log or a dump committed by accident) and would slow every check and page.",
        "Split the document, move the attachment out of `content/`, or raise `max_file_size` in hindsight.yaml.",
    ),
    rule(
        "not-utf8",
        Error,
        "load",
        "A Markdown file is not valid UTF-8; the position is the first bad byte.",
        "Documents are text; guessing another encoding would garble names and quotes on the site.",
        "Save the file as UTF-8 (most editors: \"Save with encoding\").",
    ),
    rule(
        "empty-file",
        Error,
        "load",
        "A Markdown file under `content/` is empty or only whitespace.",
        "An empty file has no id, kind or content, and usually means a document was started and forgotten.",
        "Write it from its template with `hindsight new KIND`, or delete it.",
    ),
    // parse
    rule(
        "missing-front-matter",
        Error,
        "parse",
        "A document does not start with a `---` front matter block.",
        "The front matter holds the fields (id, title, severity, ...) that make a document more than text.",
        "Start the file with a `---` line, the fields (`title: Checkout outage`), and another `---` line.",
    ),
    rule(
        "unclosed-front-matter",
        Error,
        "parse",
        "The front matter's opening `---` has no closing `---`.",
        "Without the closing line the whole document would be read as YAML.",
        "Add a line with `---` after the last field.",
    ),
    rule(
        "front-matter-not-mapping",
        Error,
        "parse",
        "The front matter is YAML but not a mapping of fields (a list or a plain value).",
        "Fields are looked up by name; a list or a scalar has no names.",
        "`- title: x` -> `title: x`",
    ),
    rule(
        "yaml-syntax",
        Error,
        "parse",
        "The front matter is not valid YAML, or an alias names an unknown anchor.",
        "Nothing in a front matter that does not parse can be trusted, so its fields are not checked further. Two lines holding one plain or quoted value are still read: `id:`, so that documents naming the id do not also get a `broken-link`, and a postmortem's `incident:`, so that its incident is not reported overdue.",
        "Quote values with `: ` or a leading `@`/`*`/`&` in them: `title: \"Checkout: 502s\"`.",
    ),
    rule(
        "duplicate-key",
        Error,
        "parse",
        "A field appears twice in the same front matter mapping.",
        "YAML parsers disagree on which value wins; hindsight refuses to guess.",
        "Keep one of the two lines.",
    ),
    rule(
        "yaml-too-large",
        Error,
        "parse",
        "The front matter has more than 10,000 values.",
        "Front matter is a small set of fields; a huge one is a mistake or an attack, and would slow every run.",
        "Move the data into the body (a table) or out of the knowledge base.",
    ),
    rule(
        "yaml-too-deep",
        Error,
        "parse",
        "The front matter nests deeper than 64 levels.",
        "Deep nesting is never needed for document fields and can exhaust the stack of naive parsers.",
        "Flatten the structure.",
    ),
    rule(
        "yaml-alias-bomb",
        Error,
        "parse",
        "YAML aliases in the front matter expand to more than 10,000 values or 1 MiB of text.",
        "A few anchors referring to each other can expand exponentially (\"billion laughs\"); hindsight stops instead of running out of memory.",
        "Write the values out instead of using anchors and aliases.",
    ),
    // validate
    rule(
        "unknown-kind",
        Error,
        "validate",
        "A document's kind (its `kind:` or its folder) or its `template:` names no template.",
        "Every document is checked against a template; without one there are no rules to apply.",
        "Move the file under `content/incidents/`, `postmortems/`, `runbooks/` or `services/`, set `kind:`, or add `templates/NAME.md`.",
    ),
    rule(
        "unknown-field",
        Error,
        "validate",
        "The front matter has a field its template does not declare.",
        "A misspelt field is otherwise silently ignored: `severty: SEV1` would leave the incident without a severity.",
        "`titel: Checkout down` -> `title: Checkout down`, or declare the field in `templates/KIND.md`.",
    ),
    rule(
        "missing-field",
        Error,
        "validate",
        "A required field is missing or empty, or a resolved incident has no `resolved_at`.",
        "Indexes, metrics and policies rely on these fields; an incident without a severity or start time cannot be counted.",
        "Add the field, e.g. `started_at: 2026-11-03T14:02:00Z`; a resolved incident also needs `resolved_at`.",
    ),
    rule(
        "wrong-type",
        Error,
        "validate",
        "A field's value has the wrong type (text where a list is expected, a list where a number is, ...).",
        "Typed values are what make filtering and metrics possible.",
        "`services: checkout` -> `services: [checkout]`",
    ),
    rule(
        "pattern-mismatch",
        Error,
        "validate",
        "A value does not match the `pattern` its template gives (ids, usually).",
        "Consistent ids make links and file names predictable.",
        "`id: INCIDENT-1` -> `id: INC-2026-001`",
    ),
    rule(
        "out-of-range",
        Error,
        "validate",
        "A number is below the field's `min` or above its `max`.",
        "Ranges catch typos such as a negative number of affected users or a service tier of 4.",
        "`tier: 4` -> `tier: 3`",
    ),
    rule(
        "bad-date",
        Error,
        "validate",
        "A date field or an action item's `due:`/`done:` is not a calendar date, or the date does not follow the colon right away.",
        "Dates decide when runbooks go stale and action items become overdue.",
        "`due:12/15` -> `due:2026-12-15`; `due: 2026-12-15` -> `due:2026-12-15` (no space after the colon)",
    ),
    rule(
        "bad-datetime",
        Error,
        "validate",
        "A timestamp is not RFC 3339 with an offset.",
        "Without an offset a time is ambiguous, and durations (time to detect, to resolve) would be wrong.",
        "`started_at: 2026-11-03 14:02` -> `started_at: 2026-11-03T14:02:00Z`",
    ),
    rule(
        "bad-duration",
        Error,
        "validate",
        "A duration field is not a number followed by d, w, m or y.",
        "Durations such as `review_every` decide when a runbook is stale.",
        "`review_every: 3 months` -> `review_every: 3m`",
    ),
    rule(
        "unknown-severity",
        Error,
        "validate",
        "A severity is not one of the levels configured in `severities`.",
        "Severities drive policies (which incidents need a postmortem) and metrics; a typo would escape both.",
        "`severity: sev2` -> `severity: SEV2`",
    ),
    rule(
        "invalid-value",
        Error,
        "validate",
        "An enum field has a value outside its list (e.g. `status`, `detection`, `visibility`).",
        "Enums are filtered and counted on the site; values outside the list would be lost.",
        "`status: done` -> `status: resolved`",
    ),
    rule(
        "bad-person",
        Error,
        "validate",
        "A person field is not a handle.",
        "People are matched by handle across documents (action items by owner, incidents by commander).",
        "`commander: Dana Smith` -> `commander: dana` (or `@dana`)",
    ),
    rule(
        "bad-url",
        Error,
        "validate",
        "A URL field does not start with `http://`, `https://` or `mailto:`.",
        "Other schemes (`javascript:` in particular) are unsafe in links on the site.",
        "`call_recording: meet/abc` -> `call_recording: https://meet.example.com/abc`",
    ),
    rule(
        "too-few",
        Error,
        "validate",
        "A list has fewer items than its `min`.",
        "Some lists must not be empty: a postmortem has at least one author, an incident at least one service.",
        "`authors: []` -> `authors: [dana]`",
    ),
    rule(
        "timestamp-order",
        Error,
        "validate",
        "Incident milestones are out of order (started <= detected <= acknowledged <= mitigated <= resolved).",
        "Out-of-order milestones give negative durations and corrupt the metrics.",
        "Check the dates and offsets; `detected_at` cannot be before `started_at`.",
    ),
    rule(
        "missing-section",
        Error,
        "validate",
        "A section the template requires (or one of its aliases) is not in the document.",
        "The sections are what makes a postmortem or runbook useful; their absence is what reviews most often miss.",
        "Add the heading with its content, e.g. `## Contributing Factors` (or an alias such as `## Root Cause`). When a heading is spelled like the section or an alias (`## Impakt`, at any level), the error points at it: rename it.",
    ),
    rule(
        "section-level",
        Error,
        "validate",
        "A required section's heading is at another level than the document's other sections (`### Root Cause` or `# Summary` among `##` sections; the expected level is the one most of them use, normally the template's).",
        "A heading's level decides what it holds: a `###` section belongs to the section above it, and a `#` one takes in every `##` section after it, so neither is the section the template asks for.",
        "`### Root Cause` -> `## Root Cause`: write every section at one level, the template's.",
    ),
    rule(
        "empty-section",
        Error,
        "validate",
        "A required section holds only the template's placeholder text or comments.",
        "A heading with nothing under it passes a glance but not a review.",
        "Write the section; the placeholder comment may stay, but it does not count as content.",
    ),
    rule(
        "action-item-owner",
        Error,
        "validate",
        "An open action item has no `@owner` (policy `action_items_require_owner`).",
        "Action items without an owner are the ones that never get done.",
        "`- [ ] Alert on lag due:2026-12-15` -> `- [ ] Alert on lag @dana due:2026-12-15`",
    ),
    rule(
        "action-item-due",
        Error,
        "validate",
        "An open action item has no `due:` date (policy `action_items_require_due`).",
        "Without a date an item cannot become overdue, so nobody is reminded of it.",
        "`- [ ] Alert on lag @dana` -> `- [ ] Alert on lag @dana due:2026-12-15`",
    ),
    rule(
        "action-item-type",
        Error,
        "validate",
        "An action item's `type:` is not prevent, detect, mitigate or process, or the type does not follow the colon right away.",
        "Types are counted on the action-items page; a typo would drop the item from its group.",
        "`type:fix` -> `type:prevent`; `type: detect` -> `type:detect`",
    ),
    rule(
        "stale-runbook",
        Warning,
        "validate",
        "A runbook's `last_reviewed` is older than its review interval (`review_every`, or the `runbook_review_every` policy).",
        "Runbooks rot as systems change; a stale one can mislead at 3 a.m.",
        "Review the runbook, then set `last_reviewed:` to today's date.",
    ),
    // link
    rule(
        "duplicate-id",
        Error,
        "link",
        "Two documents have the same id.",
        "Ids are how documents refer to each other and where their pages live; a duplicate makes both ambiguous.",
        "Rename one; `hindsight new` picks the next free id.",
    ),
    rule(
        "wrong-ref-kind",
        Error,
        "link",
        "A reference names a document of the wrong kind (e.g. `incident:` naming a runbook).",
        "Each reference field expects one kind; the wrong one breaks the links and metrics built from it.",
        "`incident: RB-db-failover` -> `incident: INC-2026-014`",
    ),
    rule(
        "broken-link",
        Error,
        "link",
        "A Markdown link to a `.md` file (relative, or from the knowledge base root when it starts with `/`) points at a missing file, or a front matter reference names an unknown id.",
        "Broken links are found when someone needs them most; services are checked once a service catalog exists.",
        "`[failover](../runbook/db.md)` -> `[failover](../runbooks/rb-db-failover.md)`. When an id or a file name is spelled like an existing one (the same numbers, a few letters apart), the hint names it.",
    ),
    // policy
    rule(
        "timeline-time",
        Warning,
        "policy",
        "A timeline entry does not start with a time.",
        "Entries without a time cannot be drawn on the timeline or checked for order.",
        "`- Alert fires` -> `- 14:02 - Alert fires`",
    ),
    rule(
        "timeline-no-date",
        Warning,
        "policy",
        "A timeline uses bare times but the document has no incident start to take the date from.",
        "A bare `14:02` needs a date and an offset; they come from the incident's `started_at`.",
        "Set `incident:` (or `started_at:` on a standalone postmortem), or write full times: `2026-11-03 14:02 UTC`.",
    ),
    rule(
        "timeline-order",
        Error,
        "policy",
        "A timeline entry is earlier than the entry before it.",
        "Readers follow the timeline top to bottom; out-of-order entries are usually a wrong time.",
        "Reorder the entries, or fix the time (check the date of entries after midnight).",
    ),
    rule(
        "timeline-window",
        Warning,
        "policy",
        "A timeline entry lies outside the incident window (`started_at` to `resolved_at`).",
        "Often a wrong date or offset; sometimes an entry about the lead-up, which is fine to keep.",
        "Check the entry's time and the incident's `started_at` and `resolved_at`.",
    ),
    rule(
        "incident-mismatch",
        Warning,
        "policy",
        "A postmortem with `incident:` repeats one of its incident's fields (`severity`, `services`, a timestamp) with another value, or sets a timestamp its incident lacks.",
        "Pages and metrics use the incident's values, so the postmortem's would be silently ignored; the two documents should tell one story.",
        "Remove the field from the postmortem (it shows its incident's), or correct or add it in the incident.",
    ),
    rule(
        "postmortem-overdue",
        Error,
        "policy",
        "An incident whose severity needs a postmortem has none, N days after resolution.",
        "Policy `postmortem_required_for` (default SEV1, SEV2) and `postmortem_due_days` (default 5): learning from serious incidents is not optional.",
        "`hindsight new postmortem --incident INC-2026-014`, even as a draft.",
    ),
    rule(
        "action-item-overdue",
        Error,
        "policy",
        "An open action item is past its due date (reported by `check --deny-overdue`).",
        "Overdue items are shown on the site anyway; CI can also refuse them, so that dates get renegotiated instead of forgotten.",
        "Check the item off with `done:YYYY-MM-DD`, or agree on a new `due:` date.",
    ),
    // build
    rule(
        "output-collision",
        Error,
        "build",
        "Two documents would be written to the same page.",
        "Ids that differ only in case or punctuation map to the same URL; one page would overwrite the other.",
        "Rename one of the ids.",
    ),
    rule(
        "theme",
        Error,
        "build",
        "The theme's templates cannot be loaded or fail to render.",
        "A theme override in `themes/NAME/` replaces built-in pages; an error there would publish broken pages.",
        "Fix the template the message names, or remove the override to fall back to the built-in theme.",
    ),
];

/// The rule of a code.
pub fn find(code: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code == code)
}

/// A rule as `hindsight explain` prints it.
pub fn explain(rule: &Rule) -> String {
    format!(
        "{}[{}]: {}\n\n{}\n\nFix: {}\n",
        rule.severity.as_str(),
        rule.code,
        rule.summary,
        rule.why,
        rule.fix
    )
}

/// Every code with its summary, one per line.
pub fn list() -> String {
    let width = RULES.iter().map(|r| r.code.len()).max().unwrap_or(0);
    let mut out = String::new();
    for r in RULES {
        let _ = writeln!(
            out,
            "{:<width$}  {:<7}  {}",
            r.code,
            r.severity.as_str(),
            r.summary
        );
    }
    out
}

/// `docs/diagnostics.md`, generated from the registry.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Diagnostics reference\n\n\
         <!-- Generated from src/rules.rs: do not edit by hand. Regenerate with `UPDATE_DOCS=1 cargo test --lib rules`. -->\n\n\
         Every problem hindsight reports has a stable code. `hindsight explain CODE` prints the\n\
         entry below in the terminal. Errors make `hindsight check` exit 1; warnings do not,\n\
         unless `--deny-warnings` is given. Setup errors stop the run with exit code 2.\n\n\
         | code | severity | what |\n| --- | --- | --- |\n",
    );
    for r in RULES {
        let _ = writeln!(
            out,
            "| [`{}`](#{}) | {} | {} |",
            r.code,
            r.code,
            r.severity.as_str(),
            r.summary.replace('|', "\\|")
        );
    }
    for (stage, title) in STAGES {
        let _ = write!(out, "\n## {title}\n");
        for r in RULES.iter().filter(|r| r.stage == stage) {
            let _ = write!(
                out,
                "\n### {}\n\n*{}.* {}\n\n{}\n\n**Fix:** {}\n",
                r.code,
                r.severity.as_str(),
                r.summary,
                r.why,
                r.fix
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;
    use std::collections::BTreeSet;
    use std::path::Path;

    /// Codes the source uses: literal codes passed to the diagnostic
    /// constructors, `code: "..."` fields and `("code", ...)` tuples, and the
    /// `error[code]: ...` of messages printed without a `Diagnostic`.
    fn codes_in_source(dir: &Path, found: &mut BTreeSet<(String, String)>) {
        let code = r#""([a-z][a-z0-9]*(?:-[a-z0-9]+)*)""#;
        let patterns = [
            format!(r"(?m)(?:^|[^A-Za-z0-9_])(?:error|warning|abort|fail)\(\s*{code}"),
            format!(r"\bcode(?::|\s*==|,)\s*{code}"),
            // Tuples, not calls: `("code", …)` not preceded by a function or macro name.
            r#"(?m)(?:^|[^A-Za-z0-9_!])\(\s*"([a-z][a-z0-9]*(?:-[a-z0-9]+)+)","#.to_string(),
            r"\b(?:error|warning)\[([a-z][a-z0-9]*(?:-[a-z0-9]+)*)\]".to_string(),
        ];
        let patterns: Vec<Regex> = patterns.iter().map(|p| Regex::new(p).unwrap()).collect();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                codes_in_source(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("rules.rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for re in &patterns {
                    for c in re.captures_iter(&text) {
                        found.insert((c[1].to_string(), path.display().to_string()));
                    }
                }
            }
        }
    }

    #[test]
    fn every_code_in_the_source_is_registered() {
        let mut found = BTreeSet::new();
        codes_in_source(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(found.len() > 30, "the scan finds the codes: {found:?}");
        // Template names are the other hyphenated strings in tuples (`BUILTIN`).
        let templates: Vec<&str> = crate::template::BUILTIN
            .iter()
            .map(|(name, _)| *name)
            .collect();
        let missing: Vec<_> = found
            .iter()
            .filter(|(code, _)| find(code).is_none() && !templates.contains(&code.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "codes used in the source but missing from src/rules.rs: {missing:?}"
        );
    }

    #[test]
    fn the_registry_is_well_formed() {
        let mut seen = BTreeSet::new();
        for r in RULES {
            assert!(seen.insert(r.code), "{} is registered twice", r.code);
            assert!(
                STAGES.iter().any(|(s, _)| *s == r.stage),
                "{}: unknown stage {}",
                r.code,
                r.stage
            );
            for text in [r.summary, r.why, r.fix] {
                assert!(!text.trim().is_empty(), "{} has an empty entry", r.code);
            }
            assert!(
                r.summary.ends_with('.'),
                "{}: summaries are sentences",
                r.code
            );
        }
        assert!(explain(find("missing-section").unwrap()).starts_with("error[missing-section]: "));
        assert!(list().lines().count() == RULES.len());
    }

    #[test]
    fn docs_diagnostics_md_is_generated_from_the_registry() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diagnostics.md");
        let generated = markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/diagnostics.md is out of date; regenerate it with `UPDATE_DOCS=1 cargo test --lib rules`"
        );
    }
}
