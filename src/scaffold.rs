//! `hindsight init` and `hindsight new`: the only commands that write under
//! `content/`, and they never overwrite a file.
//!
//! `init` lays out a knowledge base (config, templates, one example document
//! per kind, a GitHub workflow and a pull-request template); run again, it adds
//! only what is missing. `new` writes one document from its kind's template,
//! with the next free id and the fields it can fill.

use crate::cli::Common;
use crate::config::CONFIG_FILE;
use crate::kb::{self, KnowledgeBase};
use crate::load::{CONTENT_DIR, TEMPLATES_DIR};
use crate::model::{Document, MILESTONES};
use crate::parse;
use crate::template::{FieldSpec, FieldType, Template, BUILTIN};
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate};
use clap::Args;
use regex::Regex;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

// ---------------------------------------------------------------- init

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Folder to create the knowledge base in (default: `--root`, i.e. the current folder).
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

/// What `init` did: files written, and files left alone with the reason.
#[derive(Debug, Default)]
pub struct InitReport {
    pub created: Vec<String>,
    pub skipped: Vec<(String, String)>,
}

pub const CONFIG_YAML: &str = include_str!("builtin/init/hindsight.yaml");
pub const WORKFLOW: &str = include_str!("builtin/init/workflow.yml");
pub const WORKFLOW_PATH: &str = ".github/workflows/hindsight.yml";
pub const PR_TEMPLATE: &str = include_str!("builtin/init/pull_request_template.md");
pub const PR_TEMPLATE_PATH: &str = ".github/pull_request_template.md";
const GITIGNORE: &str = include_str!("builtin/init/gitignore");

/// The example documents, with dates placed relative to `today` so they pass
/// the policies (a fresh runbook, a postmortem on time, action items not due).
pub fn examples(today: NaiveDate) -> Vec<(String, String)> {
    let day = today - Duration::days(14);
    let year = day.year().to_string();
    let fill = |text: &str| {
        text.replace("{{YEAR}}", &year)
            .replace("{{DAY}}", &day.to_string())
            .replace("{{PUBLISHED}}", &(day + Duration::days(2)).to_string())
            .replace("{{TODAY}}", &today.to_string())
            .replace("{{DUE}}", &(today + Duration::days(60)).to_string())
    };
    vec![
        (
            "content/services/checkout.md".into(),
            fill(include_str!("builtin/init/examples/service.md")),
        ),
        (
            "content/runbooks/rb-checkout-rollback.md".into(),
            fill(include_str!("builtin/init/examples/runbook.md")),
        ),
        (
            format!("content/incidents/inc-{year}-001-example-checkout-errors.md"),
            fill(include_str!("builtin/init/examples/incident.md")),
        ),
        (
            format!("content/postmortems/pm-{year}-001-example-checkout-errors.md"),
            fill(include_str!("builtin/init/examples/postmortem.md")),
        ),
    ]
}

/// Every file `init` writes, relative to the knowledge-base root.
pub fn init_files(today: NaiveDate) -> Vec<(String, String)> {
    let mut files = vec![(CONFIG_FILE.to_string(), CONFIG_YAML.to_string())];
    for (name, text) in BUILTIN {
        files.push((format!("{TEMPLATES_DIR}/{name}.md"), text.to_string()));
    }
    files.push((WORKFLOW_PATH.into(), WORKFLOW.into()));
    files.push((PR_TEMPLATE_PATH.into(), PR_TEMPLATE.into()));
    files.push((".gitignore".into(), GITIGNORE.into()));
    files.extend(examples(today));
    files
}

/// Creates the knowledge base in `dir`, adding only files that do not exist.
/// The examples are added only while `content/` holds no document, so they
/// never mix with real ones.
pub fn init(dir: &Path, today: NaiveDate) -> std::io::Result<InitReport> {
    std::fs::create_dir_all(dir)?;
    let mut report = InitReport::default();
    let has_documents = walkdir::WalkDir::new(dir.join(CONTENT_DIR))
        .into_iter()
        .filter_map(Result::ok)
        .any(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "md"));
    let example_paths: Vec<String> = examples(today).into_iter().map(|(p, _)| p).collect();
    for (rel, text) in init_files(today) {
        if dir.join(&rel).exists() {
            report.skipped.push((rel, "already exists".into()));
            continue;
        }
        if has_documents && example_paths.contains(&rel) {
            report
                .skipped
                .push((rel, "an example; content/ already has documents".into()));
            continue;
        }
        match create_new(&dir.join(&rel), &text) {
            Ok(()) => report.created.push(rel),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                report.skipped.push((rel, "already exists".into()))
            }
            Err(e) => return Err(std::io::Error::new(e.kind(), format!("{rel}: {e}"))),
        }
    }
    for folder in ["incidents", "postmortems", "runbooks", "services"] {
        std::fs::create_dir_all(dir.join(CONTENT_DIR).join(folder))?;
    }
    Ok(report)
}

/// Writes a file that must not exist yet, creating its folders.
pub fn create_new(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}

pub fn run_init(args: InitArgs) -> ExitCode {
    let dir = args.dir.unwrap_or(args.common.root);
    let today = args.common.today.unwrap_or_else(kb::today_utc);
    let report = match init(&dir, today) {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "error[init]: cannot create the knowledge base in {}: {e}",
                dir.display()
            );
            return ExitCode::from(2);
        }
    };
    for f in &report.created {
        println!("created {f}");
    }
    for (f, why) in &report.skipped {
        println!("skipped {f} ({why})");
    }
    if report.created.is_empty() {
        println!(
            "Nothing to do: {} already has every file `init` writes.",
            dir.display()
        );
    } else {
        let root = if dir == Path::new(".") {
            String::new()
        } else {
            format!(" --root {}", dir.display())
        };
        println!(
            "\nNext:\n  hindsight check{root}\n  hindsight new incident{root} --title \"…\" --severity SEV2 --service checkout\n  \
             edit {WORKFLOW_PATH}: set HINDSIGHT_GIT and HINDSIGHT_TAG, then enable GitHub Pages (Source: GitHub Actions)"
        );
    }
    ExitCode::SUCCESS
}

// ---------------------------------------------------------------- new

#[derive(Args, Debug)]
pub struct NewArgs {
    /// The kind of document: incident, postmortem, runbook, service, or one from templates/.
    pub kind: String,
    /// The document's title (a postmortem with --incident takes the incident's).
    #[arg(long)]
    pub title: Option<String>,
    /// For a postmortem: the incident it analyses; copies its title, severity and
    /// services and seeds the Timeline with its milestones.
    #[arg(long)]
    pub incident: Option<String>,
    /// Severity, one of the configured levels.
    #[arg(long)]
    pub severity: Option<String>,
    /// A service id; repeat for several.
    #[arg(long = "service", value_name = "ID")]
    pub services: Vec<String>,
    /// Use this template instead of the kind's default (e.g. google-sre, pagerduty, atlassian).
    #[arg(long, value_name = "NAME")]
    pub from_template: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

/// What `new` should write; everything else comes from the knowledge base.
#[derive(Debug, Clone, Default)]
pub struct NewRequest {
    pub kind: String,
    pub title: Option<String>,
    pub incident: Option<String>,
    pub severity: Option<String>,
    pub services: Vec<String>,
    pub template: Option<String>,
}

/// A document ready to be written.
#[derive(Debug, Clone)]
pub struct NewDocument {
    /// Relative to the knowledge-base root.
    pub rel_path: String,
    pub id: String,
    pub text: String,
}

/// Optional fields `new` writes empty so the author sees them; required ones
/// are always written.
const SUGGESTED: &[(&str, &[&str])] = &[
    (
        "incident",
        &[
            "detected_at",
            "acknowledged_at",
            "mitigated_at",
            "resolved_at",
            "commander",
            "responders",
            "detection",
            "impact",
            "runbooks",
        ],
    ),
    ("postmortem", &["status", "reviewers"]),
    (
        "runbook",
        &["services", "owners", "alerts", "last_reviewed"],
    ),
    ("service", &["tier", "owners", "description"]),
];

/// Builds the new document: id, file name, front matter and body.
/// The ids of the documents of `kind`.
fn ids_of<'k>(kb: &'k KnowledgeBase, kind: &str) -> Vec<&'k str> {
    kb.documents
        .iter()
        .filter(|d| d.kind == kind)
        .map(|d| d.id.as_str())
        .collect()
}

/// ` (did you mean `X`?)` when `word` looks like a typo of a candidate.
fn did_you_mean(word: &str, candidates: &[&str]) -> String {
    crate::validate::closest(word, candidates)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

pub fn new_document(kb: &KnowledgeBase, req: &NewRequest) -> Result<NewDocument, String> {
    let template_name = req.template.clone().unwrap_or_else(|| req.kind.clone());
    let Some(template) = kb.templates.by_name.get(&template_name) else {
        let names: Vec<&str> = kb.templates.by_name.keys().map(String::as_str).collect();
        return Err(match &req.template {
            Some(name) => format!(
                "no template named `{name}`{}; templates: {}",
                did_you_mean(name, &names),
                names.join(", ")
            ),
            None => format!(
                "unknown kind `{}`{}; kinds: {}",
                req.kind,
                did_you_mean(&req.kind, &kb.templates.kinds()),
                kb.templates.kinds().join(", ")
            ),
        });
    };
    if template.kind != req.kind {
        return Err(format!(
            "template `{template_name}` is for {} documents, not {}",
            template.kind, req.kind
        ));
    }
    let has = |field: &str| template.field(field).is_some();
    for (flag, given, field) in [
        ("--incident", req.incident.is_some(), "incident"),
        ("--severity", req.severity.is_some(), "severity"),
        ("--service", !req.services.is_empty(), "services"),
    ] {
        if given && !has(field) {
            return Err(format!(
                "{flag}: `{template_name}` documents have no `{field}` field"
            ));
        }
    }
    let incident = match &req.incident {
        Some(id) => match kb.doc(id) {
            Some(doc) if doc.kind == "incident" => Some(doc),
            Some(doc) => {
                return Err(format!(
                    "--incident: `{id}` is a {}, not an incident",
                    doc.kind
                ))
            }
            None => {
                return Err(format!(
                    "--incident: no incident has the id `{id}`{}",
                    did_you_mean(id, &ids_of(kb, "incident"))
                ));
            }
        },
        None => None,
    };
    if let Some(sev) = &req.severity {
        if !kb.config.severities.contains(sev) {
            return Err(format!(
                "--severity: `{sev}` is not a severity{}; use one of {}",
                did_you_mean(
                    sev,
                    &kb.config
                        .severities
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                ),
                kb.config.severities.join(", ")
            ));
        }
    }
    if kb.graph.has_catalog {
        for s in &req.services {
            if kb.doc(s).is_none_or(|d| d.kind != "service") {
                return Err(format!(
                    "--service: the service catalog (content/services/) has no `{s}`{}; add it first or fix the name",
                    did_you_mean(s, &ids_of(kb, "service"))
                ));
            }
        }
    }

    let title = req
        .title
        .clone()
        .or_else(|| incident.map(|d| d.title().to_string()));
    let (id, sequential) = next_id(kb, template, title.as_deref())?;
    let stem = if sequential {
        match title
            .as_deref()
            .map(parse::slugify)
            .filter(|s| s != "section")
        {
            Some(slug) => format!("{}-{}", id.to_lowercase(), shorten(&slug, 50)),
            None => id.to_lowercase(),
        }
    } else {
        id.to_lowercase()
    };
    let rel_path = format!("{CONTENT_DIR}/{}s/{stem}.md", req.kind);

    let mut front = String::from("---\n");
    let mut line = |key: &str, value: String| {
        front.push_str(key);
        front.push(':');
        if !value.starts_with(" #") && !value.is_empty() {
            front.push(' ');
        }
        front.push_str(&value);
        front.push('\n');
    };
    // The title goes to `title`, or to `name` in kinds that have no title (services).
    let title_field = if has("title") || !has("name") {
        "title"
    } else {
        "name"
    };
    line("kind", req.kind.clone());
    line("id", id.clone());
    if let Some(t) = &title {
        line(title_field, yaml_scalar(t));
    }
    if template_name != req.kind {
        line("template", template_name.clone());
    }
    let suggested = SUGGESTED
        .iter()
        .find(|(k, _)| *k == req.kind)
        .map_or(&[][..], |(_, f)| f);
    for spec in &template.fields {
        let value: Option<String> = match spec.name.as_str() {
            "id" => continue,
            name if name == title_field && title.is_some() => continue,
            "incident" => req.incident.clone(),
            "severity" => req
                .severity
                .clone()
                .or_else(|| incident.and_then(|d| d.meta.severity.clone())),
            "services" => {
                let services = match (&req.services[..], incident) {
                    ([], Some(d)) => d.meta.services.clone(),
                    (given, _) => given.to_vec(),
                };
                (!services.is_empty()).then(|| yaml_list(&services))
            }
            _ => None,
        };
        let shown = spec.required || suggested.contains(&spec.name.as_str());
        let value = value.or_else(|| match spec.ty {
            _ if !shown => None,
            FieldType::Date => Some(kb.today.to_string()),
            // A required enum starts at its first value (an incident is `investigating`).
            FieldType::Enum => spec
                .default
                .as_ref()
                .and_then(|d| d.scalar_text())
                .or_else(|| spec.values.first().filter(|_| spec.required).cloned()),
            _ => None,
        });
        match value {
            Some(v) => line(&spec.name, v),
            None if shown => line(&spec.name, hint(spec, &kb.config.severities)),
            None => {}
        }
    }
    front.push_str("---\n");

    let mut body = template.skeleton.clone();
    if let Some(doc) = incident {
        body = seed_timeline(&body, doc);
    }
    Ok(NewDocument {
        rel_path,
        id,
        text: front + &body,
    })
}

/// The id for a new document and whether it is sequential (`PM-2026-014`)
/// rather than made from the title (`RB-db-failover`, `checkout`).
fn next_id(
    kb: &KnowledgeBase,
    template: &Template,
    title: Option<&str>,
) -> Result<(String, bool), String> {
    let pattern = template.field("id").and_then(|f| f.pattern.as_ref());
    let taken = |id: &str| kb.documents.iter().any(|d| d.id.eq_ignore_ascii_case(id));
    let shape = pattern.and_then(|p| SEQUENCE.captures(p.as_str()));
    if let Some(shape) = shape {
        let prefix = &shape["prefix"];
        let width: usize = shape
            .name("width")
            .map_or(1, |w| w.as_str().parse().unwrap_or(1));
        let (head, width) = match shape.name("year") {
            Some(_) => (format!("{prefix}-{}-", kb.today.year()), width),
            None => (format!("{prefix}-"), width),
        };
        // Documents that failed to load still hold their number: their path is in the diagnostics.
        let stems = kb
            .documents
            .iter()
            .map(|d| d.id.clone())
            .chain(kb.diagnostics.iter().map(|d| stem(&d.file)));
        let last = stems
            .filter_map(|s| {
                let rest = s
                    .get(..head.len())
                    .filter(|h| h.eq_ignore_ascii_case(&head))
                    .map(|_| &s[head.len()..])?;
                rest.split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .max()
            .unwrap_or(0);
        let id = format!("{head}{:0width$}", last + 1);
        return Ok((id, true));
    }
    let Some(title) = title else {
        return Err(format!(
            "`{}` ids are made from the title: pass --title",
            template.name
        ));
    };
    let slug = shorten(&parse::slugify(title), 40);
    let base = if template.kind == "runbook" {
        format!("RB-{slug}")
    } else {
        slug
    };
    let mut id = base.clone();
    let mut n = 2;
    while taken(&id) {
        id = format!("{base}-{n}");
        n += 1;
    }
    if let Some(p) = pattern {
        if !p.is_match(&id) {
            return Err(format!(
                "cannot make an id matching `{}` from the title; write the document by hand or change the pattern in templates/{}.md",
                p.as_str(),
                template.name
            ));
        }
    }
    Ok((id, false))
}

/// Id patterns `new` can count up: `^PM-[0-9]{4}-[0-9]{3,}$` (per year) and `^ADR-[0-9]+$`.
static SEQUENCE: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
    let digit = r"(?:\[0-9\]|\\d)";
    Regex::new(&format!(
        r"^\^(?P<prefix>[A-Za-z]+)-(?P<year>{digit}\{{4\}}-)?{digit}(?:\{{(?P<width>\d+),?\d*\}}|\+)\$$"
    ))
    .unwrap()
});

fn stem(path: &str) -> String {
    path.rsplit('/')
        .next()
        .unwrap_or(path)
        .trim_end_matches(".md")
        .to_string()
}

/// Cuts a slug at a `-` so it is at most `max` bytes long.
fn shorten(slug: &str, max: usize) -> String {
    if slug.len() <= max {
        return slug.to_string();
    }
    let mut cut = max;
    while !slug.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = &slug[..cut];
    head.rfind('-')
        .map_or(head, |i| &head[..i])
        .trim_end_matches('-')
        .to_string()
}

/// An empty value with a comment saying what to write.
fn hint(spec: &FieldSpec, severities: &[String]) -> String {
    let what = match (spec.ty, &spec.items) {
        (FieldType::List, Some(items)) => {
            format!("a list of {}, e.g. [{}]", type_name(items), example(items))
        }
        (FieldType::Enum, _) => format!("one of {}", spec.values.join(", ")),
        (FieldType::Severity, _) => format!("one of {}", severities.join(", ")),
        _ => match example(spec) {
            e if e.is_empty() => type_name(spec),
            e => format!("{}, e.g. {e}", type_name(spec)),
        },
    };
    let required = if spec.required { "required: " } else { "" };
    format!(" # {required}{what}")
}

fn type_name(spec: &FieldSpec) -> String {
    match (spec.ty, &spec.to) {
        (FieldType::Ref, Some(kind)) => format!("{kind} id"),
        (ty, _) => ty.name().to_string(),
    }
}

fn example(spec: &FieldSpec) -> String {
    match spec.ty {
        FieldType::Datetime => "2026-11-03T14:02:00Z",
        FieldType::Date => "2026-11-03",
        FieldType::Duration => "90d",
        FieldType::Person => "dana",
        FieldType::Url => "https://…",
        FieldType::Map if spec.keys.is_empty() => "{key: value}",
        FieldType::Map => {
            let keys: Vec<String> = spec.keys.iter().map(|k| format!("{}: …", k.name)).collect();
            return format!("{{{}}}", keys.join(", "));
        }
        FieldType::Ref => "…",
        _ => "",
    }
    .to_string()
}

/// A YAML scalar, quoted when plain style would change its meaning.
pub fn yaml_scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.trim() == s
        && !s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@`".contains(c))
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && !s.chars().any(char::is_control)
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~"
        )
        && s.parse::<f64>().is_err();
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("strings serialize")
    }
}

/// A YAML flow list; items with flow indicators are quoted.
fn yaml_list(items: &[String]) -> String {
    let items: Vec<String> = items
        .iter()
        .map(|s| {
            let q = yaml_scalar(s);
            if q == *s && s.contains([',', '[', ']', '{', '}']) {
                serde_json::to_string(s).expect("strings serialize")
            } else {
                q
            }
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// Adds the incident's milestones to the skeleton's Timeline section.
fn seed_timeline(skeleton: &str, incident: &Document) -> String {
    const LABELS: [&str; 5] = [
        "Impact starts",
        "Detected",
        "Acknowledged",
        "Mitigated",
        "Resolved",
    ];
    let entries: Vec<String> = incident
        .meta
        .milestones
        .iter()
        .zip(LABELS)
        .zip(MILESTONES)
        .filter_map(|((t, label), field)| {
            t.map(|t| format!("- **{}** - {label} (`{field}`)\n", timeline_time(t)))
        })
        .collect();
    if entries.is_empty() {
        return skeleton.to_string();
    }
    let structure = parse::structure(skeleton, 0);
    let Some(section) = structure
        .sections
        .iter()
        .find(|s| s.title.eq_ignore_ascii_case("Timeline"))
    else {
        return skeleton.to_string();
    };
    // After the placeholder comment, before the next heading.
    let own_end = structure
        .sections
        .iter()
        .find(|o| o.heading.start > section.heading.start)
        .map_or(section.content.end, |o| o.heading.start);
    let before = skeleton[..own_end].trim_end_matches('\n');
    let after = &skeleton[own_end..];
    let sep = if after.is_empty() { "" } else { "\n" };
    format!("{before}\n{}{sep}{after}", entries.concat())
}

/// `2026-11-03 14:02 UTC`, or with the offset the incident was written in.
fn timeline_time(t: DateTime<FixedOffset>) -> String {
    if t.offset().local_minus_utc() == 0 {
        t.format("%Y-%m-%d %H:%M UTC").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M %:z").to_string()
    }
}

pub fn run_new(args: NewArgs) -> ExitCode {
    let today = args.common.today.unwrap_or_else(kb::today_utc);
    let root = &args.common.root;
    let kb = match kb::open(root, today) {
        Ok(kb) => kb,
        Err(e) => return crate::cli::setup_failed(e, crate::diagnostic::Format::Human),
    };
    let req = NewRequest {
        kind: args.kind,
        title: args.title,
        incident: args.incident,
        severity: args.severity,
        services: args.services,
        template: args.from_template,
    };
    let doc = match new_document(&kb, &req) {
        Ok(doc) => doc,
        Err(e) => {
            eprintln!("error[usage]: {e}");
            return ExitCode::from(2);
        }
    };
    let path = root.join(&doc.rel_path);
    match create_new(&path, &doc.text) {
        Ok(()) => {
            println!("{}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && path.exists() => {
            eprintln!(
                "error[usage]: {} already exists; `new` never overwrites a file",
                path.display()
            );
            ExitCode::from(2)
        }
        // The file is not there: a folder on its way is a file.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let parent = path.parent().unwrap_or(&path);
            eprintln!(
                "error[io]: cannot create the folder {}: a file of that name is in the way",
                parent.display()
            );
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error[io]: cannot write {}: {e}", path.display());
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    fn kb_in(dir: &Path) -> KnowledgeBase {
        kb::open(dir, today()).unwrap()
    }

    #[test]
    fn init_config_parses_and_shows_every_option_with_its_default() {
        let parsed = Config::parse(CONFIG_YAML).unwrap();
        let mut expected = serde_json::to_value(Config::default()).unwrap();
        let mut got = serde_json::to_value(&parsed).unwrap();
        for key in ["title", "description"] {
            expected[key] = serde_json::Value::Null;
            got[key] = serde_json::Value::Null;
        }
        assert_eq!(
            got, expected,
            "the commented hindsight.yaml shows the defaults"
        );
        let default = serde_json::to_value(Config::default()).unwrap();
        let mut keys: Vec<String> = default.as_object().unwrap().keys().cloned().collect();
        keys.extend(default["policies"].as_object().unwrap().keys().cloned());
        for key in keys {
            let shown = CONFIG_YAML.lines().any(|l| {
                let l = l.trim_start().trim_start_matches("# ");
                l.starts_with(&format!("{key}:"))
            });
            assert!(
                shown,
                "hindsight.yaml written by init does not show `{key}`"
            );
        }
    }

    #[test]
    fn init_examples_check_clean_and_init_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let report = init(dir.path(), today()).unwrap();
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        assert!(report
            .created
            .contains(&"templates/google-sre.md".to_string()));
        let kb = kb_in(dir.path());
        assert!(kb.diagnostics.is_empty(), "{:?}", kb.diagnostics);
        assert_eq!(kb.documents.len(), 4);
        let again = init(dir.path(), today()).unwrap();
        assert!(again.created.is_empty());
        assert_eq!(again.skipped.len(), report.created.len());
    }

    #[test]
    fn init_in_an_existing_knowledge_base_adds_no_examples() {
        let dir = tempfile::tempdir().unwrap();
        create_new(
            &dir.path().join("content/incidents/a.md"),
            "---\ntitle: x\n---\n",
        )
        .unwrap();
        create_new(&dir.path().join("hindsight.yaml"), "title: Mine\n").unwrap();
        let report = init(dir.path(), today()).unwrap();
        assert!(
            report.created.iter().all(|f| !f.starts_with("content/")),
            "{:?}",
            report.created
        );
        assert!(report
            .skipped
            .iter()
            .any(|(f, why)| f == "hindsight.yaml" && why == "already exists"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("hindsight.yaml")).unwrap(),
            "title: Mine\n"
        );
    }

    #[test]
    fn sequential_ids_count_up_per_year() {
        let dir = tempfile::tempdir().unwrap();
        init(dir.path(), today()).unwrap();
        let kb = kb_in(dir.path());
        let req = NewRequest {
            kind: "postmortem".into(),
            title: Some("DNS: the usual".into()),
            ..Default::default()
        };
        let doc = new_document(&kb, &req).unwrap();
        assert_eq!(doc.id, "PM-2026-002");
        assert_eq!(
            doc.rel_path,
            "content/postmortems/pm-2026-002-dns-the-usual.md"
        );
        assert!(
            doc.text.contains("\ntitle: \"DNS: the usual\"\n"),
            "{}",
            doc.text
        );
        assert!(
            doc.text
                .contains("\nauthors: # required: a list of person, e.g. [dana]\n"),
            "{}",
            doc.text
        );
        assert!(doc.text.contains("\nstatus: draft\n"), "{}", doc.text);
        let next_year = KnowledgeBase {
            today: NaiveDate::from_ymd_opt(2027, 1, 2).unwrap(),
            ..kb
        };
        assert_eq!(new_document(&next_year, &req).unwrap().id, "PM-2027-001");
    }

    #[test]
    fn ids_from_titles_and_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        init(dir.path(), today()).unwrap();
        let kb = kb_in(dir.path());
        let runbook = |title: &str| NewRequest {
            kind: "runbook".into(),
            title: Some(title.into()),
            ..Default::default()
        };
        let doc = new_document(&kb, &runbook("Checkout rollback")).unwrap();
        assert_eq!(
            (doc.id.as_str(), doc.rel_path.as_str()),
            (
                "RB-checkout-rollback-2",
                "content/runbooks/rb-checkout-rollback-2.md"
            )
        );
        assert!(doc
            .text
            .contains(&format!("\nlast_reviewed: {}\n", today())));
        let service = NewRequest {
            kind: "service".into(),
            title: Some("Search API".into()),
            ..Default::default()
        };
        let doc = new_document(&kb, &service).unwrap();
        assert_eq!(doc.id, "search-api");
        assert!(
            doc.text.contains("\nname: Search API\n") && !doc.text.contains("title:"),
            "{}",
            doc.text
        );
        let errors = [
            NewRequest {
                kind: "runbook".into(),
                ..Default::default()
            },
            NewRequest {
                kind: "decision".into(),
                ..Default::default()
            },
            NewRequest {
                kind: "incident".into(),
                severity: Some("SEV9".into()),
                ..Default::default()
            },
            NewRequest {
                kind: "incident".into(),
                services: vec!["nope".into()],
                ..Default::default()
            },
            NewRequest {
                kind: "postmortem".into(),
                incident: Some("RB-checkout-rollback".into()),
                ..Default::default()
            },
            NewRequest {
                kind: "runbook".into(),
                template: Some("google-sre".into()),
                ..Default::default()
            },
            NewRequest {
                kind: "runbook".into(),
                title: Some("x".into()),
                severity: Some("SEV1".into()),
                ..Default::default()
            },
        ];
        let messages: Vec<String> = errors
            .iter()
            .map(|r| new_document(&kb, r).unwrap_err())
            .collect();
        for (m, expected) in messages.iter().zip([
            "pass --title",
            "unknown kind `decision`",
            "`SEV9` is not a severity",
            "has no `nope`",
            "is a runbook, not an incident",
            "is for postmortem documents",
            "have no `severity` field",
        ]) {
            assert!(m.contains(expected), "{m}");
        }
        assert!(!messages[1].contains("did you mean"), "{}", messages[1]);
        // A typo gets its likely meaning.
        for (request, suggestion) in [
            (
                NewRequest {
                    kind: "postmorten".into(),
                    ..Default::default()
                },
                "(did you mean `postmortem`?)",
            ),
            (
                NewRequest {
                    kind: "incident".into(),
                    severity: Some("sev2".into()),
                    ..Default::default()
                },
                "(did you mean `SEV2`?)",
            ),
        ] {
            let m = new_document(&kb, &request).unwrap_err();
            assert!(m.contains(suggestion), "{m}");
        }
    }

    #[test]
    fn postmortem_from_an_incident_copies_fields_and_seeds_the_timeline() {
        let dir = tempfile::tempdir().unwrap();
        init(dir.path(), today()).unwrap();
        let kb = kb_in(dir.path());
        let req = NewRequest {
            kind: "postmortem".into(),
            incident: Some("INC-2026-001".into()),
            template: Some("google-sre".into()),
            ..Default::default()
        };
        let doc = new_document(&kb, &req).unwrap();
        let text = &doc.text;
        for line in [
            "title: \"Example: checkout errors after a deploy\"",
            "template: google-sre",
            "incident: INC-2026-001",
            "severity: SEV2",
            "services: [checkout]",
            "- **2026-11-12 14:02 UTC** - Impact starts (`started_at`)",
            "- **2026-11-12 15:10 UTC** - Resolved (`resolved_at`)",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "no line `{line}` in\n{text}"
            );
        }
        let timeline = text.find("## Timeline").unwrap();
        assert!(
            text[timeline..].find("Impact starts").unwrap()
                < text[timeline..].find("## Supporting").unwrap()
        );
        // Written out, the timeline checks clean against the incident.
        create_new(&dir.path().join(&doc.rel_path), text).unwrap();
        let kb = kb_in(dir.path());
        let codes: Vec<(&str, &str)> = kb
            .diagnostics
            .iter()
            .map(|d| (d.code, d.message.as_str()))
            .collect();
        assert!(
            codes
                .iter()
                .all(|(c, _)| ["empty-section", "missing-field"].contains(c)),
            "{codes:?}"
        );
        assert!(
            codes.iter().any(|(_, m)| m.contains("`Trigger`")),
            "{codes:?}"
        );
    }

    #[test]
    fn a_new_incident_shows_the_fields_to_fill() {
        let dir = tempfile::tempdir().unwrap();
        init(dir.path(), today()).unwrap();
        let kb = kb_in(dir.path());
        let req = NewRequest {
            kind: "incident".into(),
            title: Some("Search is slow".into()),
            severity: Some("SEV3".into()),
            services: vec!["checkout".into()],
            ..Default::default()
        };
        let doc = new_document(&kb, &req).unwrap();
        let front: Vec<&str> = doc
            .text
            .lines()
            .skip(1)
            .take_while(|l| *l != "---")
            .collect();
        assert_eq!(
            front,
            [
                "kind: incident",
                "id: INC-2026-002",
                "title: Search is slow",
                "severity: SEV3",
                "status: investigating",
                "services: [checkout]",
                "started_at: # required: datetime, e.g. 2026-11-03T14:02:00Z",
                "detected_at: # datetime, e.g. 2026-11-03T14:02:00Z",
                "acknowledged_at: # datetime, e.g. 2026-11-03T14:02:00Z",
                "mitigated_at: # datetime, e.g. 2026-11-03T14:02:00Z",
                "resolved_at: # datetime, e.g. 2026-11-03T14:02:00Z",
                "commander: # person, e.g. dana",
                "responders: # a list of person, e.g. [dana]",
                "detection: # one of monitoring, customer, employee, other",
                "impact: # map, e.g. {users_affected: …, customer_minutes: …}",
                "runbooks: # a list of runbook id, e.g. […]",
            ]
        );
        let no_severity = NewRequest {
            severity: None,
            ..req
        };
        let text = new_document(&kb, &no_severity).unwrap().text;
        assert!(
            text.contains("\nseverity: # required: one of SEV1, SEV2, SEV3, SEV4\n"),
            "{text}"
        );
    }

    #[test]
    fn a_new_kind_from_templates_counts_its_own_sequence() {
        let dir = tempfile::tempdir().unwrap();
        init(dir.path(), today()).unwrap();
        let decision = "---\nkind: decision\nfields:\n  id: {type: id, pattern: \"^ADR-[0-9]+$\"}\n  title: {type: string, required: true}\n  status: {type: enum, values: [proposed, accepted], required: true}\n---\n## Context\n";
        create_new(&dir.path().join("templates/decision.md"), decision).unwrap();
        create_new(
            &dir.path().join("content/decisions/adr-9.md"),
            "---\nid: ADR-9\ntitle: Old\nstatus: accepted\n---\n## Context\nx\n",
        )
        .unwrap();
        let kb = kb_in(dir.path());
        let req = NewRequest {
            kind: "decision".into(),
            title: Some("Version cache keys".into()),
            ..Default::default()
        };
        let doc = new_document(&kb, &req).unwrap();
        assert_eq!(
            (doc.id.as_str(), doc.rel_path.as_str()),
            ("ADR-10", "content/decisions/adr-10-version-cache-keys.md")
        );
        assert!(doc.text.contains("\nstatus: proposed\n"), "{}", doc.text);
    }

    #[test]
    fn yaml_values_are_quoted_when_needed() {
        assert_eq!(yaml_scalar("Checkout down"), "Checkout down");
        assert_eq!(yaml_scalar("Checkout: 502s"), "\"Checkout: 502s\"");
        assert_eq!(yaml_scalar("@dana"), "\"@dana\"");
        assert_eq!(yaml_scalar("yes"), "\"yes\"");
        assert_eq!(yaml_scalar("1.5"), "\"1.5\"");
        assert_eq!(yaml_list(&["a".into(), "b,c".into()]), "[a, \"b,c\"]");
        assert_eq!(shorten("aaaa-bbbb-cccc", 11), "aaaa-bbbb");
    }
}
