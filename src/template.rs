//! Templates: the schema of a document kind, written as a Markdown file.
//!
//! The front matter declares the fields and their types; the headings are the
//! sections (required unless `{.optional}`, with `aliases="…"`); the body is the
//! skeleton that `hindsight new` copies. Built-in templates are embedded in the
//! binary; `templates/NAME.md` in a knowledge base replaces or adds one.

use crate::diagnostic::{Diagnostic, Pos};
use crate::model::SourceFile;
use crate::parse;
use crate::yaml::{Node, Value};
use regex::Regex;
use std::collections::BTreeMap;

/// Built-in templates by name: one per kind (named after it), then real-world
/// postmortem shapes a document picks with `template: NAME`.
pub const BUILTIN: [(&str, &str); 7] = [
    ("incident", include_str!("builtin/templates/incident.md")),
    (
        "postmortem",
        include_str!("builtin/templates/postmortem.md"),
    ),
    ("runbook", include_str!("builtin/templates/runbook.md")),
    ("service", include_str!("builtin/templates/service.md")),
    (
        "google-sre",
        include_str!("builtin/templates/google-sre.md"),
    ),
    ("pagerduty", include_str!("builtin/templates/pagerduty.md")),
    ("atlassian", include_str!("builtin/templates/atlassian.md")),
];

/// Fields every kind accepts whatever its template says.
pub const COMMON_FIELDS: [&str; 4] = ["kind", "tags", "related", "template"];

#[derive(Debug, Clone)]
pub struct Template {
    pub name: String,
    pub kind: String,
    pub fields: Vec<FieldSpec>,
    pub sections: Vec<SectionSpec>,
    /// The Markdown after the front matter, copied by `hindsight new`.
    pub skeleton: String,
    /// Where the template came from (`templates/x.md` or `(built-in)/x.md`).
    pub origin: String,
}

#[derive(Debug, Clone)]
pub struct FieldSpec {
    pub name: String,
    pub ty: FieldType,
    pub required: bool,
    pub pattern: Option<Regex>,
    pub values: Vec<String>,
    /// For refs: the kind the id must name (None: any kind).
    pub to: Option<String>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub default: Option<Node>,
    /// For lists: the element's spec. For maps: the known keys (empty: any).
    pub items: Option<Box<FieldSpec>>,
    pub keys: Vec<FieldSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    String,
    Text,
    Int,
    Number,
    Bool,
    Date,
    Datetime,
    Duration,
    Enum,
    /// An enum over the configured severities.
    Severity,
    Id,
    Ref,
    Person,
    Url,
    List,
    Map,
}

impl FieldType {
    pub const ALL: [(&'static str, FieldType); 17] = [
        ("string", FieldType::String),
        ("text", FieldType::Text),
        ("int", FieldType::Int),
        ("number", FieldType::Number),
        ("bool", FieldType::Bool),
        ("date", FieldType::Date),
        ("datetime", FieldType::Datetime),
        ("duration", FieldType::Duration),
        ("enum", FieldType::Enum),
        ("severity", FieldType::Severity),
        ("id", FieldType::Id),
        ("ref", FieldType::Ref),
        ("person", FieldType::Person),
        ("url", FieldType::Url),
        ("list", FieldType::List),
        ("map", FieldType::Map),
        ("object", FieldType::Map),
    ];

    fn from_name(name: &str) -> Option<FieldType> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("?", |(n, _)| n)
    }
}

#[derive(Debug, Clone)]
pub struct SectionSpec {
    pub title: String,
    /// The heading level the template writes it at (2 in the built-ins); a
    /// document's section must use the same one.
    pub level: u8,
    pub aliases: Vec<String>,
    pub optional: bool,
    /// The template's placeholder text, normalized; a section holding only this is empty.
    pub placeholder: String,
}

impl SectionSpec {
    pub fn matches(&self, title: &str) -> bool {
        self.title.eq_ignore_ascii_case(title)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(title))
    }
}

impl Template {
    pub fn field(&self, name: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// Templates by name: the built-ins, then the knowledge base's own over them.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    pub by_name: BTreeMap<String, Template>,
}

impl Templates {
    pub fn load(kb_templates: &[SourceFile]) -> (Templates, Vec<Diagnostic>) {
        let mut templates = Templates::default();
        let mut diags = vec![];
        let builtin = BUILTIN.iter().map(|(name, text)| SourceFile {
            rel_path: format!("(built-in)/templates/{name}.md"),
            text: text.to_string(),
        });
        for file in builtin.chain(kb_templates.iter().cloned()) {
            let (template, problems) = Template::parse(&file);
            diags.extend(problems);
            if let Some(t) = template {
                templates.by_name.insert(t.name.clone(), t);
            }
        }
        (templates, diags)
    }

    /// The template that governs a document: its `template:` field, or its kind.
    pub fn for_document(&self, kind: &str, template: Option<&str>) -> Option<&Template> {
        self.by_name.get(template.unwrap_or(kind))
    }

    /// Every kind some template describes.
    pub fn kinds(&self) -> Vec<&str> {
        let mut kinds: Vec<&str> = self.by_name.values().map(|t| t.kind.as_str()).collect();
        kinds.sort();
        kinds.dedup();
        kinds
    }
}

/// Strips HTML comments and whitespace, so placeholder-only text compares equal.
pub fn normalize(markdown: &str) -> String {
    strip_comments(markdown)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn strip_comments(markdown: &str) -> std::borrow::Cow<'_, str> {
    if !markdown.contains("<!--") {
        return markdown.into();
    }
    let mut out = String::new();
    let mut rest = markdown;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        rest = rest[start..]
            .find("-->")
            .map_or("", |end| &rest[start + end + 3..]);
    }
    out.push_str(rest);
    out.into()
}

/// True when a section's Markdown holds nothing but the template's placeholder
/// (already normalized) or comments. Stops at the first difference: sections are long.
pub fn is_placeholder(markdown: &str, placeholder: &str) -> bool {
    strip_comments(markdown)
        .split_whitespace()
        .eq(placeholder.split_whitespace())
}

impl Template {
    pub fn parse(file: &SourceFile) -> (Option<Template>, Vec<Diagnostic>) {
        let (doc, mut diags) = parse::parse(file.clone());
        let path = &file.rel_path;
        let name = path
            .rsplit('/')
            .next()
            .unwrap_or(path)
            .trim_end_matches(".md")
            .to_string();
        let Some(front) = &doc.front else {
            return (None, diags);
        };
        let kind = front
            .get("kind")
            .and_then(Node::scalar_text)
            .unwrap_or_else(|| name.clone());
        let mut fields = vec![];
        match front.get("fields") {
            Some(node) if matches!(node.value, Value::Map(_)) => {
                for (key, spec) in node.entries() {
                    if let Some(f) = field_spec(path, key, spec, &mut diags) {
                        fields.push(f);
                    }
                }
            }
            Some(node) => diags.push(template_error(
                path,
                node,
                "`fields` must be a mapping of field specs",
            )),
            None => {}
        }
        for (key, _) in front.entries() {
            let k = key.scalar_text().unwrap_or_default();
            if !["kind", "fields", "description"].contains(&k.as_str()) {
                diags.push(template_error(
                    path,
                    key,
                    &format!("unknown template key `{k}`"),
                ));
            }
        }
        let text = &doc.text;
        let top = doc
            .structure
            .sections
            .iter()
            .map(|s| s.level)
            .min()
            .unwrap_or(2);
        let sections = doc
            .structure
            .sections
            .iter()
            .filter(|s| s.level == top)
            .map(|s| {
                let own_end = doc
                    .structure
                    .sections
                    .iter()
                    .find(|o| o.heading.start > s.heading.start && o.heading.start < s.content.end)
                    .map_or(s.content.end, |o| o.heading.start);
                SectionSpec {
                    title: s.title.clone(),
                    level: s.level,
                    aliases: s
                        .attrs
                        .iter()
                        .filter(|(k, _)| k == "aliases")
                        .flat_map(|(_, v)| v.split(','))
                        .map(|a| a.trim().to_string())
                        .filter(|a| !a.is_empty())
                        .collect(),
                    optional: s.classes.iter().any(|c| c == "optional"),
                    placeholder: normalize(&text[s.content.start..own_end]),
                }
            })
            .collect();
        let template = Template {
            name,
            kind,
            fields,
            sections,
            skeleton: without_section_rules(doc.body().trim_start()),
            origin: path.clone(),
        };
        (Some(template), diags)
    }
}

fn template_error(path: &str, node: &Node, message: &str) -> Diagnostic {
    Diagnostic::error(
        "template",
        path,
        Pos::new(node.line, node.column, 1),
        message,
    )
    .with_hint("see docs/templates.md for the template format")
}

fn field_spec(
    path: &str,
    key: &Node,
    spec: &Node,
    diags: &mut Vec<Diagnostic>,
) -> Option<FieldSpec> {
    let name = key.scalar_text()?;
    // `field: string` is shorthand for `field: {type: string}`.
    let type_node = if spec.as_str().is_some() {
        Some(spec)
    } else {
        spec.get("type")
    };
    let Some(type_name) = type_node.and_then(Node::as_str) else {
        diags.push(template_error(
            path,
            spec,
            &format!("field `{name}` needs a `type`"),
        ));
        return None;
    };
    let Some(ty) = FieldType::from_name(type_name) else {
        let known: Vec<&str> = FieldType::ALL.iter().map(|(n, _)| *n).collect();
        diags.push(
            template_error(
                path,
                type_node.unwrap(),
                &format!("unknown field type `{type_name}`"),
            )
            .with_hint(format!("types: {}", known.join(", "))),
        );
        return None;
    };
    let mut field = FieldSpec {
        name: name.clone(),
        ty,
        required: false,
        pattern: None,
        values: vec![],
        to: None,
        min: None,
        max: None,
        default: None,
        items: None,
        keys: vec![],
    };
    for (k, v) in spec.entries() {
        let k = k.scalar_text().unwrap_or_default();
        match k.as_str() {
            "type" => {}
            "required" => field.required = v.value == Value::Bool(true),
            "pattern" => match v.as_str().map(Regex::new) {
                Some(Ok(re)) => field.pattern = Some(re),
                _ => diags.push(template_error(
                    path,
                    v,
                    &format!("`pattern` of `{name}` is not a valid regex"),
                )),
            },
            "values" => {
                field.values = v
                    .to_json()
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(json_text)
                    .collect()
            }
            "to" => field.to = v.scalar_text(),
            "min" => field.min = number(v),
            "max" => field.max = number(v),
            "default" => field.default = Some(v.clone()),
            "of" => {
                let item_key = Node::new(Value::Str(format!("{name}[]")), v.line, v.column);
                // `of: ref` with `to:` on the list applies to the items.
                let mut item_spec = v.clone();
                if let (Some(_), Some(to)) = (v.as_str(), spec.get("to")) {
                    item_spec = Node::new(
                        Value::Map(vec![
                            (str_node("type", v), v.clone()),
                            (str_node("to", to), to.clone()),
                        ]),
                        v.line,
                        v.column,
                    );
                }
                field.items = field_spec(path, &item_key, &item_spec, diags).map(Box::new);
            }
            "fields" => {
                for (sub_key, sub_spec) in v.entries() {
                    if let Some(f) = field_spec(path, sub_key, sub_spec, diags) {
                        field.keys.push(f);
                    }
                }
            }
            "description" => {}
            other => diags.push(template_error(
                path,
                spec,
                &format!("unknown key `{other}` in the spec of `{name}`"),
            )),
        }
    }
    if ty == FieldType::Enum && field.values.is_empty() {
        diags.push(template_error(
            path,
            spec,
            &format!("enum field `{name}` needs `values`"),
        ));
    }
    if ty == FieldType::List && field.items.is_none() {
        diags.push(template_error(
            path,
            spec,
            &format!("list field `{name}` needs `of` (the item type)"),
        ));
    }
    Some(field)
}

fn str_node(s: &str, at: &Node) -> Node {
    Node::new(Value::Str(s.into()), at.line, at.column)
}

fn number(node: &Node) -> Option<f64> {
    match node.value {
        Value::Int(i) => Some(i as f64),
        Value::Float(f) => Some(f),
        _ => None,
    }
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The template's body as a new document starts: headings keep their
/// titles and `#id`, not the rules of the template (`{.optional}`,
/// `aliases=…`), which mean nothing in a document.
fn without_section_rules(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut in_code = false;
    for line in body.split_inclusive('\n') {
        let (text, end) = match line.strip_suffix("\r\n") {
            Some(text) => (text, "\r\n"),
            None => match line.strip_suffix('\n') {
                Some(text) => (text, "\n"),
                None => (line, ""),
            },
        };
        // A `# comment {…}` in a code block is not a heading.
        let fence = text.trim_start();
        if fence.starts_with("```") || fence.starts_with("~~~") {
            in_code = !in_code;
        }
        let rules = (text.starts_with('#') && !in_code)
            .then(|| text.trim_end().strip_suffix('}'))
            .flatten()
            .and_then(|rest| rest.rsplit_once(" {"));
        match rules {
            Some((title, inner)) => {
                out.push_str(title.trim_end());
                if let Some(id) = inner.split_whitespace().find(|w| w.starts_with('#')) {
                    out.push_str(&format!(" {{{id}}}"));
                }
                out.push_str(end);
            }
            None => out.push_str(line),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_documents_leave_the_template_rules_behind() {
        let body = "## Summary\n\n## Contributing Factors {aliases=\"Root Cause\"}\n\
                    ## Appendix {.optional}\n### Notes {#notes .optional}\nText {x}\n# Title";
        assert_eq!(
            without_section_rules(body),
            "## Summary\n\n## Contributing Factors\n## Appendix\n### Notes {#notes}\nText {x}\n# Title"
        );
        // Line ends stay as they are; code blocks are not headings.
        let body = "## A {.optional}\r\n```sh\n# restart {svc}\n```\n## B {.optional}";
        assert_eq!(
            without_section_rules(body),
            "## A\r\n```sh\n# restart {svc}\n```\n## B"
        );
    }

    #[test]
    fn builtin_templates_parse_cleanly() {
        let (templates, diags) = Templates::load(&[]);
        assert!(diags.is_empty(), "{diags:?}");
        let pm = &templates.by_name["postmortem"];
        let titles: Vec<&str> = pm.sections.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "Summary",
                "Impact",
                "Timeline",
                "Contributing Factors",
                "Resolution",
                "Action Items",
                "Lessons Learned",
                "Appendix"
            ]
        );
        let cf = &pm.sections[3];
        assert!(cf.matches("root causes") && cf.matches("Root Cause") && !cf.optional);
        assert!(pm.sections[7].optional);
        assert!(
            pm.sections[0].placeholder.is_empty(),
            "comments are not content"
        );
        let authors = pm.field("authors").unwrap();
        assert_eq!(
            (authors.ty, authors.required, authors.min),
            (FieldType::List, true, Some(1.0))
        );
        assert_eq!(authors.items.as_ref().unwrap().ty, FieldType::Person);
        let services = templates.by_name["incident"].field("services").unwrap();
        assert_eq!(
            services.items.as_ref().unwrap().to.as_deref(),
            Some("service")
        );
    }

    #[test]
    fn kb_template_replaces_builtin_and_bad_specs_are_reported() {
        let file = SourceFile {
            rel_path: "templates/postmortem.md".into(),
            text: "---\nkind: postmortem\nfields:\n  title: {type: strin}\n  owner: person\n---\n## What happened\nTODO: describe  it.\n".into(),
        };
        let (templates, diags) = Templates::load(&[file]);
        assert_eq!(diags.len(), 1);
        assert_eq!((diags[0].code, diags[0].line), ("template", 4));
        let pm = &templates.by_name["postmortem"];
        assert_eq!(pm.sections.len(), 1);
        assert_eq!(pm.sections[0].placeholder, "TODO: describe it.");
        assert_eq!(pm.field("owner").unwrap().ty, FieldType::Person);
    }

    fn validate_text(text: &str) -> Vec<Diagnostic> {
        let config = crate::config::Config::default();
        let (templates, _) = Templates::load(&[]);
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let ctx = crate::validate::Context {
            config: &config,
            templates: &templates,
            today,
        };
        let file = SourceFile {
            rel_path: "content/postmortems/pm.md".into(),
            text: text.into(),
        };
        let (mut doc, mut diags) = parse::parse(file);
        diags.extend(crate::validate::validate(&mut doc, &ctx));
        diags
    }

    /// A document written for `name` with every required section filled, under
    /// each section's title (or its first alias).
    fn complete(name: &str, t: &Template, skip: Option<&str>, use_alias: bool) -> String {
        let mut text =
            format!("---\nid: PM-2026-001\ntitle: T\nauthors: [dana]\ntemplate: {name}\n---\n");
        for s in t
            .sections
            .iter()
            .filter(|s| !s.optional && Some(s.title.as_str()) != skip)
        {
            let title = if use_alias {
                s.aliases.first().unwrap_or(&s.title)
            } else {
                &s.title
            };
            let body = match s.title.as_str() {
                "Action Items" => "- [ ] Add an alert @dana due:2026-12-01 type:detect",
                "Timeline" => "- 14:00 - Deploy starts",
                _ => "Written.",
            };
            text.push_str(&format!("## {title}\n{body}\n\n"));
        }
        text
    }

    #[test]
    fn real_world_postmortem_templates_are_enforced() {
        let (templates, diags) = Templates::load(&[]);
        assert!(diags.is_empty(), "{diags:?}");
        for name in ["google-sre", "pagerduty", "atlassian"] {
            let titles: &[&str] = match name {
                "google-sre" => &[
                    "Summary",
                    "Impact",
                    "Root Causes",
                    "Trigger",
                    "Resolution",
                    "Detection",
                    "Action Items",
                    "Lessons Learned",
                    "Timeline",
                    "Supporting Information",
                ],
                "pagerduty" => &[
                    "Overview",
                    "What Happened",
                    "Contributing Factors",
                    "Resolution",
                    "Impact",
                    "Responders",
                    "Timeline",
                    "How'd We Do?",
                    "Action Items",
                    "Messaging",
                ],
                _ => &[
                    "Incident Summary",
                    "Leadup",
                    "Fault",
                    "Impact",
                    "Detection",
                    "Response",
                    "Recovery",
                    "Timeline",
                    "Five Whys",
                    "Root Cause",
                    "Backlog Check",
                    "Recurrence",
                    "Lessons Learned",
                    "Action Items",
                ],
            };
            let t = &templates.by_name[name];
            assert_eq!(t.kind, "postmortem");
            assert_eq!(
                t.sections
                    .iter()
                    .map(|s| s.title.as_str())
                    .collect::<Vec<_>>(),
                titles,
                "{name}"
            );
            assert!(
                t.field("authors").is_some() && t.field("incident").is_some(),
                "{name}"
            );
            let full = complete(name, t, None, false);
            assert!(
                validate_text(&full).is_empty(),
                "{name}: {:?}",
                validate_text(&full)
            );
            let aliased = complete(name, t, None, true);
            assert!(
                validate_text(&aliased).is_empty(),
                "{name} with aliases: {:?}",
                validate_text(&aliased)
            );
            for s in t.sections.iter().filter(|s| !s.optional) {
                let diags = validate_text(&complete(name, t, Some(&s.title), false));
                let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
                assert_eq!(codes, ["missing-section"], "{name} without {}", s.title);
                assert!(
                    diags[0].message.contains(&format!("`{}`", s.title)),
                    "{}",
                    diags[0].message
                );
            }
            // The skeleton as `hindsight new` copies it is not a finished document.
            let unfilled = format!(
                "---\nid: PM-2026-001\ntitle: T\nauthors: [dana]\ntemplate: {name}\n---\n{}",
                t.skeleton
            );
            let empty = validate_text(&unfilled)
                .iter()
                .filter(|d| d.code == "empty-section")
                .count();
            assert_eq!(
                empty,
                t.sections.iter().filter(|s| !s.optional).count(),
                "{name}"
            );
        }
        // The default postmortem does not know the real-world templates' sections.
        let pagerduty = complete("pagerduty", &templates.by_name["pagerduty"], None, false);
        let as_default = pagerduty.replace("template: pagerduty\n", "");
        assert!(validate_text(&as_default)
            .iter()
            .any(|d| d.code == "missing-section"));
    }

    #[test]
    fn normalize_drops_comments_and_whitespace() {
        assert_eq!(normalize("\n<!-- What happened -->\n\n"), "");
        assert_eq!(normalize("a\n <!-- x --> b\n"), "a b");
    }
}
