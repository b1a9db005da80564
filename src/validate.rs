//! Stage 3, `validate`: each document against its template and the content rules.
//!
//! Per document (in parallel): typed fields, required fields and sections,
//! milestone order, action-item syntax, runbook freshness. Fills
//! `Document::meta` with the values that passed. Rules that need other
//! documents (timelines against their incident, policies) live in `policy`.

use crate::config::Config;
use crate::diagnostic::{Diagnostic, Pos};
use crate::model::*;
use crate::template::{FieldSpec, FieldType, Template, Templates, COMMON_FIELDS};
use crate::yaml::{Node, Value};
use chrono::{DateTime, FixedOffset, NaiveDate};
use regex::Regex;
use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

pub struct Context<'a> {
    pub config: &'a Config,
    pub templates: &'a Templates,
    pub today: NaiveDate,
}

pub const ACTION_ITEM_TYPES: [&str; 4] = ["prevent", "detect", "mitigate", "process"];

pub fn validate(doc: &mut Document, ctx: &Context) -> Vec<Diagnostic> {
    let mut v = Validator {
        file: doc.rel_path.clone(),
        diags: vec![],
        ctx,
    };
    let template_name = doc.field("template").and_then(Node::scalar_text);
    let template = ctx
        .templates
        .for_document(&doc.kind, template_name.as_deref());
    let mut meta = Meta {
        template: template_name.clone(),
        ..Meta::default()
    };
    match template {
        Some(t) => {
            if let Some(front) = &mut doc.front {
                v.fields(front, t, &mut meta);
            } else {
                // Without front matter every required field is missing; say so once.
                meta.title = None;
            }
            v.milestones(doc, &meta);
            // A required section written a level too deep sits inside the
            // one before it (often the Timeline): its list is not that
            // section's, and reading it as timeline entries only adds a
            // `timeline-time` per line to its `section-level` error.
            let misplaced = v.sections(doc, t);
            doc.structure
                .timeline
                .retain(|e| !misplaced.iter().any(|r| r.contains(&e.range.start)));
        }
        None => {
            let (what, pos) = match (&template_name, doc.field("kind")) {
                (Some(name), _) => (
                    format!("no template named `{name}`"),
                    doc.field("template").unwrap().pos(),
                ),
                (None, Some(kind)) => (format!("unknown kind `{}`", doc.kind), kind.pos()),
                (None, None) if doc.kind.is_empty() => {
                    ("document has no kind".to_string(), Pos::file_start())
                }
                (None, None) => (
                    format!("unknown kind `{}` (from its folder)", doc.kind),
                    Pos::file_start(),
                ),
            };
            v.diags.push(Diagnostic::error("unknown-kind", &v.file, pos, what).with_hint(format!(
                "known kinds: {}; add `kind:` to the front matter, or `templates/NAME.md` to define a kind",
                ctx.templates.kinds().join(", ")
            )));
        }
    }
    if meta.title.is_none() {
        meta.title = meta.name.clone();
    }
    v.action_items(doc);
    v.runbook_review(doc, &meta);
    doc.meta = meta;
    v.diags
}

struct Validator<'a> {
    file: String,
    diags: Vec<Diagnostic>,
    ctx: &'a Context<'a>,
}

impl Validator<'_> {
    fn error(&mut self, code: &'static str, pos: Pos, message: String, hint: Option<String>) {
        let d = Diagnostic::error(code, &self.file, pos, message);
        self.diags.push(match hint {
            Some(h) => d.with_hint(h),
            None => d,
        });
    }

    /// Checks the fields; those that pass go into `meta`, and text fields
    /// become their text as written in `front` too (see `keep_as_written`).
    fn fields(&mut self, front: &mut Node, t: &Template, meta: &mut Meta) {
        let mut seen = vec![];
        let entries = match &mut front.value {
            Value::Map(entries) => entries.as_mut_slice(),
            _ => &mut [],
        };
        for (key, value) in entries {
            let key: &Node = key;
            let name = key.scalar_str().unwrap_or_default();
            // The template's spec as it is: a copy would copy its pattern, and
            // a copied `Regex` starts with empty caches.
            let spec = match t.field(&name) {
                Some(spec) => Some(Cow::Borrowed(spec)),
                None => common_field(&name).map(Cow::Owned),
            };
            seen.push(name);
            let name = seen.last().expect("just pushed");
            let Some(spec) = spec else {
                let known: Vec<&str> = t
                    .fields
                    .iter()
                    .map(|f| f.name.as_str())
                    .chain(COMMON_FIELDS)
                    .collect();
                let hint = match closest(name, &known) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("`{}` documents take: {}", t.name, known.join(", ")),
                };
                self.error(
                    "unknown-field",
                    key.pos(),
                    format!("unknown field `{name}`"),
                    Some(hint),
                );
                continue;
            };
            if self.value(&spec, value, name) {
                keep_as_written(&spec, value);
                extract(name, &spec, value, meta);
            }
        }
        for spec in &t.fields {
            if spec.required && spec.default.is_none() && !seen.iter().any(|s| *s == spec.name) {
                self.error(
                    "missing-field",
                    Pos::new(1, 1, 3),
                    format!("missing required field `{}`", spec.name),
                    Some(format!(
                        "add `{}: …` ({}) to the front matter",
                        spec.name,
                        describe(spec)
                    )),
                );
            }
        }
    }

    /// Checks one value against its spec; true when it is valid.
    fn value(&mut self, spec: &FieldSpec, node: &Node, name: &str) -> bool {
        let pos = node.pos();
        let wrong = |this: &mut Self, expected: String| {
            let key = name.rsplit('.').next().unwrap_or(name);
            let scalar = matches!(node.value, Value::Int(_) | Value::Float(_) | Value::Bool(_));
            let hint = match spec.ty {
                FieldType::Int => format!("write a whole number without quotes, e.g. `{key}: 12`"),
                FieldType::Number => format!("write a number without quotes, e.g. `{key}: 1.5`"),
                FieldType::Bool => format!("write `{key}: true` or `{key}: false`"),
                // YAML reads `42`, `1.10` and `yes` as numbers and booleans.
                _ if scalar => format!("put it in quotes to keep it as text: `{key}: \"…\"`"),
                _ => format!("`{name}` takes {}", describe(spec)),
            };
            this.error(
                "wrong-type",
                pos,
                format!(
                    "field `{name}` should be {expected}, found {}",
                    node.type_name()
                ),
                Some(hint),
            );
            false
        };
        let empty = |this: &mut Self| {
            this.error(
                "missing-field",
                pos,
                format!("required field `{name}` is empty"),
                Some(format!("give `{name}` a value ({})", describe(spec))),
            );
            false
        };
        if node.value == Value::Null {
            return !spec.required || empty(self);
        }
        let text = node.scalar_str();
        match spec.ty {
            FieldType::String | FieldType::Text | FieldType::Id | FieldType::Ref => {
                // `title: true` is text as written; an id or a reference
                // that YAML reads as a boolean is a mistake.
                let boolean = matches!(node.value, Value::Bool(_));
                let Some(text) = text
                    .filter(|_| !boolean || matches!(spec.ty, FieldType::String | FieldType::Text))
                else {
                    return wrong(self, "text".into());
                };
                // `title: ""` is as empty as `title:`; so are invisible characters.
                if spec.required && text.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
                    return empty(self);
                }
                if let Some(re) = &spec.pattern {
                    if !re.is_match(&text) {
                        self.error(
                            "pattern-mismatch",
                            pos,
                            format!("`{text}` does not match the pattern of `{name}`"),
                            Some(format!("expected a value matching `{}`", re.as_str())),
                        );
                        return false;
                    }
                }
                true
            }
            FieldType::Int | FieldType::Number => {
                let n = match node.value {
                    Value::Int(i) => i as f64,
                    Value::Float(f) if spec.ty == FieldType::Number => f,
                    _ => {
                        let what = if spec.ty == FieldType::Int {
                            "an integer"
                        } else {
                            "a number"
                        };
                        return wrong(self, what.into());
                    }
                };
                let (lo, hi) = (spec.min.unwrap_or(f64::MIN), spec.max.unwrap_or(f64::MAX));
                if n < lo || n > hi {
                    let range = match (spec.min, spec.max) {
                        (Some(a), Some(b)) => format!("between {a} and {b}"),
                        (Some(a), None) => format!("at least {a}"),
                        (_, Some(b)) => format!("at most {b}"),
                        _ => unreachable!(),
                    };
                    self.error(
                        "out-of-range",
                        pos,
                        format!("`{name}` is {n}, it must be {range}"),
                        Some(format!("use a value {range}")),
                    );
                    return false;
                }
                true
            }
            FieldType::Bool => match node.value {
                Value::Bool(_) => true,
                _ => wrong(self, "true or false".into()),
            },
            FieldType::Date => match node.as_str().map(parse_date) {
                Some(Some(_)) => true,
                _ => {
                    self.error(
                        "bad-date",
                        pos,
                        format!("`{name}` is not a date"),
                        Some("write a date as YYYY-MM-DD, e.g. 2026-11-03".into()),
                    );
                    false
                }
            },
            FieldType::Datetime => match node.as_str().map(parse_datetime) {
                Some(Some(_)) => true,
                _ => {
                    self.error(
                        "bad-datetime",
                        pos,
                        format!("`{name}` is not an RFC 3339 date and time with an offset"),
                        Some("write e.g. 2026-11-03T14:02:00Z or 2026-11-03T15:02:00+01:00".into()),
                    );
                    false
                }
            },
            FieldType::Duration => match text.as_deref().and_then(parse_duration_days) {
                Some(_) => true,
                None => {
                    self.error(
                        "bad-duration",
                        pos,
                        format!("`{name}` is not a duration"),
                        Some("write a number and a unit: 90d, 12w, 6m or 1y".into()),
                    );
                    false
                }
            },
            FieldType::Enum | FieldType::Severity => {
                let values: Vec<&str> = if spec.ty == FieldType::Severity {
                    self.ctx
                        .config
                        .severities
                        .iter()
                        .map(String::as_str)
                        .collect()
                } else {
                    spec.values.iter().map(String::as_str).collect()
                };
                let text = text.unwrap_or_default();
                if values.contains(&text.as_ref()) {
                    return true;
                }
                let (code, what) = if spec.ty == FieldType::Severity {
                    ("unknown-severity", "severity")
                } else {
                    ("invalid-value", "value")
                };
                let hint = match closest(&text, &values) {
                    Some(s) => format!("did you mean `{s}`? ({})", values.join(", ")),
                    None => format!("use one of: {}", values.join(", ")),
                };
                self.error(
                    code,
                    pos,
                    format!("unknown {what} `{text}` for `{name}`"),
                    Some(hint),
                );
                false
            }
            // A string: a number is a YAML number, not a handle as written.
            FieldType::Person => match &node.value {
                Value::Str(t) if PERSON.is_match(t) => true,
                Value::Str(t) => {
                    self.error(
                        "bad-person",
                        pos,
                        format!("`{t}` is not a handle"),
                        Some("write a handle like @dana or dana".into()),
                    );
                    false
                }
                _ => wrong(self, "a handle".into()),
            },
            FieldType::Url => match text {
                Some(t)
                    if t.starts_with("https://")
                        || t.starts_with("http://")
                        || t.starts_with("mailto:") =>
                {
                    true
                }
                _ => {
                    self.error(
                        "bad-url",
                        pos,
                        format!("`{name}` is not an http(s) URL"),
                        None,
                    );
                    false
                }
            },
            FieldType::List => {
                let Value::Seq(items) = &node.value else {
                    let example = text.map_or("[a, b]".to_string(), |t| format!("[{t}]"));
                    self.error(
                        "wrong-type",
                        pos,
                        format!(
                            "field `{name}` should be a list, found {}",
                            node.type_name()
                        ),
                        Some(format!("write a list: `{name}: {example}`")),
                    );
                    return false;
                };
                if let Some(min) = spec.min {
                    if (items.len() as f64) < min {
                        self.error(
                            "too-few",
                            pos,
                            format!(
                                "`{name}` needs at least {min} item{}",
                                if min == 1.0 { "" } else { "s" }
                            ),
                            None,
                        );
                        return false;
                    }
                }
                let mut ok = true;
                if let Some(item_spec) = &spec.items {
                    for item in items {
                        ok &= self.value(item_spec, item, name);
                    }
                }
                ok
            }
            FieldType::Map => {
                if !matches!(node.value, Value::Map(_)) {
                    return wrong(self, "a mapping".into());
                }
                let mut ok = true;
                if !spec.keys.is_empty() {
                    for (k, v) in node.entries() {
                        let key = k.scalar_str().unwrap_or_default();
                        match spec.keys.iter().find(|s| s.name == key) {
                            Some(sub) => ok &= self.value(sub, v, &format!("{name}.{key}")),
                            None => {
                                let known: Vec<&str> =
                                    spec.keys.iter().map(|s| s.name.as_str()).collect();
                                self.error(
                                    "unknown-field",
                                    k.pos(),
                                    format!("unknown field `{name}.{key}`"),
                                    Some(format!("`{name}` takes: {}", known.join(", "))),
                                );
                                ok = false;
                            }
                        }
                    }
                }
                ok
            }
        }
    }

    /// Incident milestones must be in order; `resolved_at` is required once resolved.
    fn milestones(&mut self, doc: &Document, meta: &Meta) {
        if doc.kind == "incident"
            && meta.status.as_deref() == Some("resolved")
            && meta.resolved().is_none()
        {
            let at = doc.field("status").map_or(Pos::file_start(), Node::pos);
            if doc.field("resolved_at").is_none() {
                self.error(
                    "missing-field",
                    at,
                    "a resolved incident needs `resolved_at`".into(),
                    Some("add `resolved_at:` with the time service was fully restored".into()),
                );
            }
        }
        let mut latest: Option<(usize, DateTime<FixedOffset>)> = None;
        for (i, t) in meta.milestones.iter().enumerate() {
            let Some(t) = t else { continue };
            if let Some((j, prev)) = latest {
                if *t < prev {
                    let at = doc
                        .field(MILESTONES[i])
                        .map_or(Pos::file_start(), Node::pos);
                    self.error(
                        "timestamp-order",
                        at,
                        format!("`{}` is before `{}`", MILESTONES[i], MILESTONES[j]),
                        Some(format!(
                            "milestones go in this order: {}",
                            MILESTONES.join(" <= ")
                        )),
                    );
                    continue;
                }
            }
            latest = Some((i, *t));
        }
    }

    /// Checks the required sections; returns the content of those found a
    /// level deeper than expected.
    fn sections(&mut self, doc: &Document, t: &Template) -> Vec<Range<usize>> {
        let mut misplaced = vec![];
        let sections = &doc.structure.sections;
        // A document may write all its sections a level up or down (`# Summary`
        // when the title is in the front matter): the level most of its
        // sections use, relative to the template's, is the one expected.
        let shift = level_shift(sections, t);
        for spec in t.sections.iter().filter(|s| !s.optional) {
            let level = (i16::from(spec.level) + shift).clamp(1, 6) as u8;
            let found = sections
                .iter()
                .find(|s| s.level == level && spec.matches(&s.title));
            let Some(section) = found else {
                // The section is there at another level: `### Root Cause` is
                // a subsection of the one above it, `# Summary` swallows the
                // sections after it. Point at it rather than call it missing.
                if let Some(s) = sections.iter().find(|s| spec.matches(&s.title)) {
                    if s.level > level {
                        misplaced.push(s.content.clone());
                    }
                    let expected = if shift == 0 {
                        format!("the template has it at level {level}")
                    } else {
                        format!("the document's other sections are level {level}")
                    };
                    self.error(
                        "section-level",
                        doc.pos(&s.heading),
                        format!(
                            "section `{}` is a level {} heading; {expected}",
                            s.title, s.level
                        ),
                        Some(format!("write `{}`", heading(level, &s.title))),
                    );
                    continue;
                }
                let aliases = if spec.aliases.is_empty() {
                    String::new()
                } else {
                    format!(" (or {})", spec.aliases.join(", "))
                };
                // A heading the template does not know, spelled like this
                // section (or one of its aliases): the likely place, rather
                // than the body's start. One at the section's level first.
                let names: Vec<&str> = std::iter::once(spec.title.as_str())
                    .chain(spec.aliases.iter().map(String::as_str))
                    .collect();
                let unknown = sections
                    .iter()
                    .filter(|s| !t.sections.iter().any(|known| known.matches(&s.title)));
                let misspelled = unknown
                    .clone()
                    .filter(|s| s.level == level)
                    .chain(unknown.filter(|s| s.level != level))
                    .find_map(|s| closest(&s.title, &names).map(|name| (s, name)));
                let (pos, hint) = match misspelled {
                    Some((s, name)) => (
                        doc.pos(&s.heading),
                        format!(
                            "did you mean `{name}`? rename the heading `{}` to `{}`",
                            heading(s.level, &s.title),
                            heading(level, name)
                        ),
                    ),
                    None => {
                        let at = doc
                            .line_index
                            .pos(&doc.text, doc.body_start, doc.body_start);
                        (
                            Pos::new(at.line.saturating_sub(1).max(1), 1, 3),
                            format!(
                                "add a `{}` heading with its content",
                                heading(level, &spec.title)
                            ),
                        )
                    }
                };
                self.error(
                    "missing-section",
                    pos,
                    format!("missing required section `{}`{aliases}", spec.title),
                    Some(hint),
                );
                continue;
            };
            if crate::template::is_placeholder(
                &doc.text[section.content.clone()],
                &spec.placeholder,
            ) {
                self.error(
                    "empty-section",
                    doc.pos(&section.heading),
                    format!("section `{}` is empty", section.title),
                    Some("write the section, or remove the template's placeholder comment only once it has content".into()),
                );
            }
        }
        misplaced
    }

    fn action_items(&mut self, doc: &Document) {
        let policy = &self.ctx.config.policies;
        for item in &doc.structure.action_items {
            let pos = doc.pos(&item.range);
            if !item.done && item.owner.is_none() && policy.action_items_require_owner {
                self.error(
                    "action-item-owner",
                    pos,
                    "open action item has no owner".into(),
                    Some("add the owner's handle, e.g. `@dana`".into()),
                );
            }
            if !item.done && item.due.is_none() && policy.action_items_require_due {
                self.error(
                    "action-item-due",
                    pos,
                    "open action item has no due date".into(),
                    Some("add `due:YYYY-MM-DD`".into()),
                );
            }
            for token in [&item.due, &item.done_on].into_iter().flatten() {
                if parse_date(&token.raw).is_none() {
                    let (message, hint) = match no_value(doc, token, "date", "YYYY-MM-DD`", |v| {
                        parse_date(v).is_some()
                    }) {
                        Some(said) => said,
                        None => (
                            format!("`{}` is not a date", token.raw),
                            "write dates as YYYY-MM-DD".into(),
                        ),
                    };
                    self.error("bad-date", doc.pos(&token.range), message, Some(hint));
                }
            }
            if let Some(kind) = &item.kind {
                let known = |v: &str| ACTION_ITEM_TYPES.contains(&v);
                if !known(&kind.raw) {
                    let types = ACTION_ITEM_TYPES.join(", ");
                    let example = format!("prevent` ({types})");
                    let (message, hint) = match no_value(doc, kind, "type", &example, known) {
                        Some(said) => said,
                        None => (
                            format!("unknown action item type `{}`", kind.raw),
                            format!("use one of: {types}"),
                        ),
                    };
                    self.error(
                        "action-item-type",
                        doc.pos(&kind.range),
                        message,
                        Some(hint),
                    );
                }
            }
        }
    }

    fn runbook_review(&mut self, doc: &Document, meta: &Meta) {
        if doc.kind != "runbook" {
            return;
        }
        let Some(reviewed) = meta.last_reviewed else {
            return;
        };
        let Some(due) = review_due(meta, self.ctx.config) else {
            return;
        };
        if due < self.ctx.today {
            let at = doc
                .field("last_reviewed")
                .map_or(Pos::file_start(), Node::pos);
            self.diags.push(
                Diagnostic::warning(
                    "stale-runbook",
                    &self.file,
                    at,
                    format!("runbook was last reviewed {reviewed}; its review was due {due}"),
                )
                .with_hint("review the runbook and update `last_reviewed`"),
            );
        }
    }
}

/// How many levels deeper than the template the document writes its
/// sections: the most common difference among headings named like a required
/// section, 0 on a tie with it (then the smaller difference).
fn level_shift(sections: &[crate::model::Section], t: &Template) -> i16 {
    let mut counts: Vec<(i16, usize)> = vec![];
    for s in sections {
        let Some(spec) = t
            .sections
            .iter()
            .find(|spec| !spec.optional && spec.matches(&s.title))
        else {
            continue;
        };
        let d = i16::from(s.level) - i16::from(spec.level);
        match counts.iter_mut().find(|(x, _)| *x == d) {
            Some((_, n)) => *n += 1,
            None => counts.push((d, 1)),
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(d, n)| (n, std::cmp::Reverse(d.abs())))
        .map_or(0, |(d, _)| d)
}

/// A heading as Markdown writes it: `## Summary`.
fn heading(level: u8, title: &str) -> String {
    format!("{} {title}", "#".repeat(level.into()))
}

/// The message and hint for an action item token with nothing right after
/// its colon (`due: 2026-12-15`, `due:` alone), naming what was written;
/// None for a token with a value. `what` is the value's name, `example` the
/// rest of the hint after `` `key`` (a value, the closing backtick, any more),
/// `valid` whether the word after the space would do.
fn no_value(
    doc: &Document,
    token: &Token,
    what: &str,
    example: &str,
    valid: impl Fn(&str) -> bool,
) -> Option<(String, String)> {
    if !token.raw.is_empty() {
        return None;
    }
    let written = &doc.text[token.range.clone()];
    let (key, after) = written.split_at(written.find(':')? + 1);
    let value = after.trim().trim_end_matches(crate::parse::TOKEN_END);
    let spaced = after.starts_with(char::is_whitespace);
    let message = if spaced {
        format!("`{written}` has a space after the colon")
    } else {
        format!("`{written}` has no {what}")
    };
    let hint = if spaced && valid(value) {
        format!("write `{key}{value}`, without the space")
    } else {
        format!("write the {what} right after the colon: `{key}{example}")
    };
    Some((message, hint))
}

/// Specs of the fields every kind accepts.
fn common_field(name: &str) -> Option<FieldSpec> {
    let base = |ty| FieldSpec {
        name: name.to_string(),
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
    match name {
        "kind" | "template" => Some(base(FieldType::String)),
        "tags" => Some(FieldSpec {
            items: Some(Box::new(base(FieldType::String))),
            ..base(FieldType::List)
        }),
        "related" => Some(FieldSpec {
            items: Some(Box::new(base(FieldType::Ref))),
            ..base(FieldType::List)
        }),
        _ => None,
    }
}

fn describe(spec: &FieldSpec) -> String {
    match (&spec.ty, &spec.items) {
        (FieldType::List, Some(items)) => format!("a list of {}", items.ty.name()),
        (FieldType::Enum, _) => format!("one of {}", spec.values.join(", ")),
        (ty, _) => ty.name().to_string(),
    }
}

/// Zero-width and other format characters: a value of only these looks empty.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{00ad}')
}

/// A valid value of a field read as text (string, text, id, ref; in lists
/// and maps too) becomes its text as written: YAML reads `title: 1.10` as
/// the number 1.1, and templates see `fields` (docs/templates.md).
fn keep_as_written(spec: &FieldSpec, node: &mut Node) {
    match &mut node.value {
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
            let text_field = matches!(
                spec.ty,
                FieldType::String | FieldType::Text | FieldType::Id | FieldType::Ref
            );
            if let Some(text) = node.scalar_text().filter(|_| text_field) {
                node.value = Value::Str(text);
                node.plain = None;
            }
        }
        Value::Seq(items) => {
            if let Some(item) = &spec.items {
                items.iter_mut().for_each(|n| keep_as_written(item, n));
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                let key = k.scalar_str();
                if let Some(sub) = spec
                    .keys
                    .iter()
                    .find(|s| Some(s.name.as_str()) == key.as_deref())
                {
                    keep_as_written(sub, v);
                }
            }
        }
        _ => {}
    }
}

/// Copies a valid value into the typed metadata.
fn extract(name: &str, spec: &FieldSpec, node: &Node, meta: &mut Meta) {
    let text = || node.scalar_text();
    let list = || -> Vec<String> {
        match &node.value {
            Value::Seq(items) => items.iter().filter_map(Node::scalar_text).collect(),
            _ => vec![],
        }
    };
    let people = || list().iter().map(|p| person(p)).collect::<Vec<_>>();
    // References go to `link`, whatever the field is called.
    let target_kind = |s: &FieldSpec| s.to.clone();
    match (spec.ty, &spec.items) {
        (FieldType::Ref, _) => {
            if let Some(t) = text() {
                meta.refs.push(Reference {
                    field: name.into(),
                    target: t,
                    to: target_kind(spec),
                    pos: node.pos(),
                });
            }
        }
        (FieldType::List, Some(item)) if item.ty == FieldType::Ref => {
            if let Value::Seq(items) = &node.value {
                for n in items {
                    if let Some(t) = n.scalar_text() {
                        meta.refs.push(Reference {
                            field: name.into(),
                            target: t,
                            to: target_kind(item),
                            pos: n.pos(),
                        });
                    }
                }
            }
        }
        _ => {}
    }
    match name {
        "title" => meta.title = text(),
        "name" => meta.name = text(),
        "severity" => meta.severity = text(),
        "status" => meta.status = text(),
        "services" => meta.services = list(),
        "incident" => meta.incident = text(),
        "authors" => meta.authors = people(),
        "reviewers" => meta.reviewers = people(),
        "owners" => meta.owners = people(),
        "commander" => meta.commander = text().map(|p| person(&p)),
        "responders" => meta.responders = people(),
        "runbooks" => meta.runbooks = list(),
        "related" => meta.related = list(),
        "tags" => meta.tags = list(),
        "alerts" => meta.alerts = list(),
        "visibility" => meta.visibility = text(),
        "detection" => meta.detection = text(),
        "tier" => meta.tier = text().and_then(|t| t.parse().ok()),
        "published_at" => meta.published_at = node.as_str().and_then(parse_datetime),
        "last_reviewed" => meta.last_reviewed = node.as_str().and_then(parse_date),
        "review_every" => meta.review_every_days = text().as_deref().and_then(parse_duration_days),
        "impact" => {
            let int = |k: &str| match node.get(k).map(|n| &n.value) {
                Some(Value::Int(i)) => Some(*i),
                _ => None,
            };
            meta.users_affected = int("users_affected");
            meta.customer_minutes = int("customer_minutes");
        }
        _ => {
            if let Some(i) = MILESTONES.iter().position(|m| *m == name) {
                meta.milestones[i] = node.as_str().and_then(parse_datetime);
            }
        }
    }
}

static PERSON: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^@?[A-Za-z0-9][A-Za-z0-9_.-]*$").unwrap());

/// RFC 3339 with an offset (a space instead of `T` is accepted).
pub fn parse_datetime(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s.trim()).ok()
}

/// When a runbook's next review is due: `last_reviewed` plus its own
/// `review_every` or the configured default. None without `last_reviewed`,
/// or when the date is past the calendar (`review_every: 99999999d`).
pub fn review_due(meta: &Meta, config: &Config) -> Option<NaiveDate> {
    let every = meta
        .review_every_days
        .or_else(|| parse_duration_days(&config.policies.runbook_review_every))
        .unwrap_or(180);
    chrono::Duration::try_days(every).and_then(|d| meta.last_reviewed?.checked_add_signed(d))
}

/// A calendar date, YYYY-MM-DD.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    parse_ymd(s).unwrap_or_else(|| s.parse().ok())
}

/// `YYYY-MM-DD` in ASCII digits, read as chrono's `NaiveDate::from_str`
/// reads it (tested) but without its general parser: timeline entries and
/// action items carry tens of thousands of dates. None when `s` has another
/// shape, for chrono to decide.
fn parse_ymd(s: &str) -> Option<Option<NaiveDate>> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let (y, m, d) = (number(&b[..4])?, number(&b[5..7])?, number(&b[8..])?);
    Some(NaiveDate::from_ymd_opt(y as i32, m, d))
}

/// `90d`, `12w`, `6m`, `1y` in days.
pub fn parse_duration_days(s: &str) -> Option<i64> {
    let s = s.trim();
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].trim().parse().ok()?;
    let days = match unit {
        'd' => n,
        'w' => n.checked_mul(7)?,
        'm' => n.checked_mul(30)?,
        'y' => n.checked_mul(365)?,
        _ => return None,
    };
    (n > 0).then_some(days)
}

/// The closest candidate by edit distance, if it is close enough to be a
/// typo, among those with the same digits: `INC-2026-015` is another
/// incident, not a misspelt `INC-2026-014`, and `SEV5` is no `SEV1`.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let chars = lower.chars().count();
    let near = |c: &str| (c.len() / 3).max(2);
    let word_digits: Vec<u8> = word.bytes().filter(u8::is_ascii_digit).collect();
    candidates
        .iter()
        // The distance is at least the difference in length: skip the far
        // ones cheaply (a broken link is compared with every file of its folder).
        .filter(|c| {
            c.bytes()
                .filter(u8::is_ascii_digit)
                .eq(word_digits.iter().copied())
        })
        .filter_map(|c| {
            let other = c.to_lowercase();
            (chars.abs_diff(other.chars().count()) <= near(c))
                .then(|| (edit_distance(&lower, &other), *c))
        })
        .filter(|(d, c)| *d <= near(c) && *d < c.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ymd_dates_read_as_chrono_reads_them() {
        for y in [
            0, 1, 99, 999, 1000, 1582, 1900, 2000, 2023, 2024, 2026, 9999,
        ] {
            for m in 0..=13 {
                for d in 0..=32 {
                    let s = format!("{y:04}-{m:02}-{d:02}");
                    assert_eq!(parse_ymd(&s), Some(s.parse::<NaiveDate>().ok()), "{s}");
                }
            }
        }
        for s in [
            "2026-1-03",
            "2026-01-3",
            "+2026-01-03",
            "2026/01/03",
            "2026-01-03 ",
            "２０２６-01-03",
        ] {
            assert_eq!(parse_ymd(s), None, "{s}");
        }
        assert_eq!(parse_date(" 2026-02-29 "), None);
        assert_eq!(
            parse_date("2024-02-29"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
    }
    use crate::parse::parse;

    fn check(path: &str, text: &str) -> (Document, Vec<Diagnostic>) {
        let config = Config::default();
        let (templates, _) = Templates::load(&[]);
        let ctx = Context {
            config: &config,
            templates: &templates,
            today: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
        };
        let (mut doc, mut diags) = parse(SourceFile {
            rel_path: path.into(),
            text: text.into(),
        });
        diags.extend(validate(&mut doc, &ctx));
        (doc, diags)
    }

    fn codes(diags: &[Diagnostic]) -> Vec<(&str, usize)> {
        let mut codes: Vec<_> = diags.iter().map(|d| (d.code, d.line)).collect();
        codes.sort_by_key(|c| c.1);
        codes
    }

    const INCIDENT: &str = "---\nid: INC-2026-001\ntitle: Checkout down\nseverity: SEV2\nstatus: resolved\nservices: [checkout]\nstarted_at: 2026-11-03T14:00:00Z\nresolved_at: 2026-11-03T15:00:00Z\n---\n## Summary\nIt broke.\n";

    #[test]
    fn a_valid_incident_passes_and_fills_meta() {
        let (doc, diags) = check("content/incidents/a.md", INCIDENT);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(doc.meta.severity.as_deref(), Some("SEV2"));
        assert_eq!(doc.meta.services, vec!["checkout"]);
        assert!(doc.meta.resolved().is_some());
        assert_eq!(doc.meta.refs[0].to.as_deref(), Some("service"));
    }

    #[test]
    fn field_rules_each_point_at_their_line() {
        let text = INCIDENT
            .replace("severity: SEV2", "severity: SEV9")
            .replace(
                "started_at: 2026-11-03T14:00:00Z",
                "started_at: 2026-11-03 14:00",
            )
            .replace(
                "title: Checkout down\n",
                "titel: Checkout down\nimpact:\n  users_affected: many\n  minutes: 3\n",
            );
        let (_, diags) = check("content/incidents/a.md", &text);
        assert_eq!(
            codes(&diags),
            [
                ("missing-field", 1),
                ("unknown-field", 3),
                ("wrong-type", 5),
                ("unknown-field", 6),
                ("unknown-severity", 7),
                ("bad-datetime", 10)
            ]
        );
        let typo = diags.iter().find(|d| d.line == 3).unwrap();
        assert_eq!(typo.hint.as_deref(), Some("did you mean `title`?"));
        // SEV9 is no misspelt SEV1: another number is another level.
        let severity = diags.iter().find(|d| d.code == "unknown-severity").unwrap();
        let hint = severity.hint.as_deref().unwrap_or_default();
        assert!(!hint.contains("did you mean"), "{hint}");
        assert_eq!(
            diags
                .iter()
                .find(|d| d.code == "wrong-type")
                .unwrap()
                .column,
            19
        );
    }

    #[test]
    fn text_fields_are_their_text_as_written() {
        let text = INCIDENT
            .replace("title: Checkout down", "title: 1.10")
            .replace(
                "services: [checkout]",
                "services: [checkout]\npublic_summary: 1e3\ntags: [2.0, true]",
            );
        let (doc, diags) = check("content/incidents/a.md", &text);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(doc.meta.title.as_deref(), Some("1.10"));
        assert_eq!(doc.meta.tags, ["2.0", "true"]);
        // Templates see `fields`: the text too, not YAML's number.
        let fields = doc.front.as_ref().unwrap().to_json();
        assert_eq!(fields["title"], "1.10");
        assert_eq!(fields["public_summary"], "1e3");
        assert_eq!(fields["tags"], serde_json::json!(["2.0", "true"]));
        // Fields of other types keep YAML's value.
        assert_eq!(fields["id"], "INC-2026-001");
        let (doc, _) = check(
            "content/services/s.md",
            "---\nid: s\nname: 2.10\ntier: 1\n---\n",
        );
        assert_eq!(doc.meta.name.as_deref(), Some("2.10"));
        assert_eq!(doc.front.as_ref().unwrap().to_json()["tier"], 1);
    }

    #[test]
    fn true_is_a_title_and_null_is_no_title() {
        let (doc, diags) = check(
            "content/incidents/a.md",
            &INCIDENT.replace("title: Checkout down", "title: True"),
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(doc.meta.title.as_deref(), Some("True"));
        let (doc, diags) = check(
            "content/incidents/a.md",
            &INCIDENT.replace("title: Checkout down", "title: null"),
        );
        assert_eq!(codes(&diags), [("missing-field", 3)]);
        assert_eq!(doc.meta.title, None);
        // An id or a reference YAML reads as a boolean is a mistake.
        let (_, diags) = check(
            "content/incidents/a.md",
            &INCIDENT.replace("services: [checkout]", "services: [true]"),
        );
        assert_eq!(codes(&diags), [("wrong-type", 6)]);
    }

    #[test]
    fn pattern_and_list_types() {
        let text = INCIDENT
            .replace("id: INC-2026-001", "id: INCIDENT-1")
            .replace("services: [checkout]", "services: checkout");
        let (_, diags) = check("content/incidents/a.md", &text);
        assert_eq!(codes(&diags), [("pattern-mismatch", 2), ("wrong-type", 6)]);
        assert_eq!(
            diags[1].hint.as_deref(),
            Some("write a list: `services: [checkout]`")
        );
    }

    #[test]
    fn milestones_out_of_order_and_resolved_without_time() {
        let text = INCIDENT.replace(
            "resolved_at: 2026-11-03T15:00:00Z",
            "detected_at: 2026-11-03T13:00:00Z",
        );
        let (_, diags) = check("content/incidents/a.md", &text);
        assert_eq!(
            codes(&diags),
            [("missing-field", 5), ("timestamp-order", 8)]
        );
    }

    #[test]
    fn offsets_compare_as_instants() {
        let text = INCIDENT.replace(
            "resolved_at: 2026-11-03T15:00:00Z",
            "resolved_at: 2026-11-03T15:30:00+01:00",
        );
        assert!(check("content/incidents/a.md", &text).1.is_empty());
    }

    const PM: &str = "---\nid: PM-2026-001\ntitle: T\nauthors: [dana]\n---\n## Summary\nS\n## Impact\nI\n## Timeline\n- 14:00 start\n## Root Cause\nR\n## Action Items\n<!-- - [ ] What to do @owner due:YYYY-MM-DD type:prevent|detect|mitigate|process ticket:KEY -->\n## Lessons Learned\nL\n";

    #[test]
    fn sections_required_aliases_and_placeholders() {
        let (_, diags) = check("content/postmortems/a.md", PM);
        assert_eq!(codes(&diags), [("empty-section", 14)]);
        let (_, diags) = check(
            "content/postmortems/a.md",
            &PM.replace("## Impact\nI\n", ""),
        );
        assert_eq!(codes(&diags)[0], ("missing-section", 5));
        assert_eq!(
            diags[0].hint.as_deref(),
            Some("add a `## Impact` heading with its content")
        );
    }

    #[test]
    fn a_section_at_another_level_is_pointed_at() {
        // `### Root cause`: a subsection of Timeline, not a missing section.
        let (_, diags) = check(
            "content/postmortems/a.md",
            &PM.replace("## Root Cause\n", "### Root cause\n"),
        );
        // (The Action Items placeholder at line 14 is PM's own empty section.)
        assert_eq!(
            codes(&diags),
            [("section-level", 12), ("empty-section", 14)]
        );
        assert_eq!((diags[0].column, diags[0].len), (1, 14));
        assert_eq!(
            diags[0].message,
            "section `Root cause` is a level 3 heading; the template has it at level 2"
        );
        assert_eq!(diags[0].hint.as_deref(), Some("write `## Root cause`"));
        // `# Summary` would hold every section after it.
        let (_, diags) = check(
            "content/postmortems/a.md",
            &PM.replace("## Summary\n", "# Summary\n"),
        );
        assert_eq!(codes(&diags), [("section-level", 6), ("empty-section", 14)]);
        assert_eq!(diags[0].hint.as_deref(), Some("write `## Summary`"));
        // Its list is not the Timeline's, which it sits in.
        let (doc, diags) = check(
            "content/postmortems/a.md",
            &PM.replace("## Root Cause\nR\n", "### Root cause\n- R\n- S\n"),
        );
        assert_eq!(codes(&diags)[0], ("section-level", 12));
        assert_eq!(
            doc.structure.timeline.len(),
            1,
            "{:?}",
            doc.structure.timeline
        );
        // A subsection named like a section is fine once the section is there.
        let (_, diags) = check(
            "content/postmortems/a.md",
            &PM.replace("## Impact\nI\n", "## Impact\nI\n### Summary\nS\n"),
        );
        assert_eq!(codes(&diags), [("empty-section", 16)]);
        // A document that writes every section a level up or down is fine
        // (the title is in the front matter): its own level is the one expected.
        for (from, to) in [("\n## ", "\n# "), ("\n## ", "\n### ")] {
            let (_, diags) = check("content/postmortems/a.md", &PM.replace(from, to));
            assert_eq!(codes(&diags), [("empty-section", 14)], "{to:?}");
        }
        // Then the odd one out is pointed at, with the document's level.
        let (_, diags) = check(
            "content/postmortems/a.md",
            &PM.replace("\n## ", "\n# ").replace("# Impact", "## Impact"),
        );
        assert_eq!(codes(&diags), [("section-level", 8), ("empty-section", 14)]);
        assert_eq!(
            diags[0].message,
            "section `Impact` is a level 2 heading; the document's other sections are level 1"
        );
        assert_eq!(diags[0].hint.as_deref(), Some("write `# Impact`"));
    }

    #[test]
    fn a_misspelled_section_heading_is_pointed_at() {
        let (_, diags) = check(
            "content/postmortems/a.md",
            &PM.replace("## Impact\n", "## Impakt\n"),
        );
        let missing = diags.iter().find(|d| d.code == "missing-section").unwrap();
        assert_eq!((missing.line, missing.column), (8, 1));
        assert_eq!(
            missing.hint.as_deref(),
            Some("did you mean `Impact`? rename the heading `## Impakt` to `## Impact`")
        );
        // Spelled like an alias: the alias is what is suggested.
        let (_, diags) = check(
            "content/postmortems/a.md",
            &PM.replace("## Root Cause\n", "## Root Caus\n"),
        );
        let missing = diags.iter().find(|d| d.code == "missing-section").unwrap();
        assert_eq!(
            (missing.line, missing.hint.as_deref()),
            (
                12,
                Some("did you mean `Root Cause`? rename the heading `## Root Caus` to `## Root Cause`")
            )
        );
        // Misspelled and at another level.
        let (_, diags) = check(
            "content/postmortems/a.md",
            &PM.replace("## Summary\n", "### Sumary\n"),
        );
        assert_eq!(
            codes(&diags),
            [("missing-section", 6), ("empty-section", 14)]
        );
        assert_eq!(
            diags[0].hint.as_deref(),
            Some("did you mean `Summary`? rename the heading `### Sumary` to `## Summary`")
        );
        // A heading unlike the name is not taken for a misspelling.
        let (_, diags) = check(
            "content/postmortems/a.md",
            &PM.replace("## Impact\n", "## Effects\n"),
        );
        let missing = diags.iter().find(|d| d.code == "missing-section").unwrap();
        assert_eq!(missing.line, 5, "{missing:?}");
    }

    #[test]
    fn action_item_rules() {
        let text = PM.replace(
            "<!-- - [ ] What to do @owner due:YYYY-MM-DD type:prevent|detect|mitigate|process ticket:KEY -->",
            "- [ ] no owner due:2026-12-01\n- [ ] @dana no due\n- [x] done without anything\n- [ ] bad @li due:2026-13-01 type:fix",
        );
        let (_, diags) = check("content/postmortems/a.md", &text);
        assert_eq!(
            codes(&diags),
            [
                ("action-item-owner", 15),
                ("action-item-due", 16),
                ("bad-date", 18),
                ("action-item-type", 18)
            ]
        );
    }

    #[test]
    fn stale_runbooks_warn() {
        let text = "---\nid: RB-x\ntitle: X\nlast_reviewed: 2026-01-01\nreview_every: 90d\n---\n## Overview\na\n## Diagnosis\nb\n## Mitigation\nc\n## Escalation\nd\n";
        let (_, diags) = check("content/runbooks/x.md", text);
        assert_eq!(codes(&diags), [("stale-runbook", 4)]);
        assert_eq!(diags[0].severity, crate::diagnostic::Severity::Warning);
        let fresh = text.replace("2026-01-01", "2026-10-01");
        assert!(check("content/runbooks/x.md", &fresh).1.is_empty());
    }

    #[test]
    fn review_due_past_the_calendar_is_not_a_panic() {
        let text = "---\nid: RB-x\ntitle: X\nlast_reviewed: 2026-01-01\nreview_every: 99999999d\n---\n## Overview\na\n## Diagnosis\nb\n## Mitigation\nc\n## Escalation\nd\n";
        assert!(check("content/runbooks/x.md", text).1.is_empty());
    }

    #[test]
    fn unknown_kind_is_reported() {
        let (_, diags) = check("content/misc/a.md", "---\ntitle: x\n---\n");
        assert_eq!(codes(&diags), [("unknown-kind", 1)]);
    }

    #[test]
    fn durations_and_typos() {
        assert_eq!(parse_duration_days("90d"), Some(90));
        assert_eq!(parse_duration_days("2w"), Some(14));
        assert_eq!(parse_duration_days("x"), None);
        assert_eq!(
            parse_duration_days("99999999999999999y"),
            None,
            "overflow is not a duration"
        );
        assert_eq!(
            closest("sevrity", &["severity", "status"]),
            Some("severity")
        );
        assert_eq!(closest("zzz", &["severity"]), None);
    }
}
