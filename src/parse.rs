//! Stage 2, `parse`: one file's text into a `Document`.
//!
//! Splits the front matter (tolerating CRLF; a byte-order mark was dropped by
//! `load`), reads it into a positioned YAML tree, and walks the Markdown once
//! with pulldown-cmark to find sections, links, action items and timeline
//! entries, keeping byte offsets so every later diagnostic has a line and column.
//! Parsing never fails: it returns a document and the problems it saw.

use crate::diagnostic::{Diagnostic, LineIndex, Pos};
use crate::model::*;
use crate::yaml::{self, Value};
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use regex::Regex;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::LazyLock;

pub fn markdown_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// Where the front matter is: the YAML text's byte range and the body's start.
#[derive(Debug, PartialEq, Eq)]
pub struct FrontMatterSplit {
    pub yaml: Range<usize>,
    pub body_start: usize,
}

pub enum SplitError {
    Missing,
    Unclosed,
}

/// Finds a `---` … `---` block at the start of the text.
pub fn split_front_matter(text: &str) -> Result<FrontMatterSplit, SplitError> {
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != "---" {
        return Err(SplitError::Missing);
    }
    let yaml_start = first.len();
    let mut offset = yaml_start;
    for line in lines {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed == "..." {
            return Ok(FrontMatterSplit {
                yaml: yaml_start..offset,
                body_start: offset + line.len(),
            });
        }
        offset += line.len();
    }
    Err(SplitError::Unclosed)
}

/// Kind implied by a document's folder: `content/incidents/x.md` is an incident.
pub fn kind_from_path(rel_path: &str) -> Option<String> {
    let mut parts = rel_path.split('/');
    let (Some(_content), Some(folder)) = (parts.next(), parts.next()) else {
        return None;
    };
    parts.next()?; // a file directly under content/ has no folder kind
    Some(folder.strip_suffix('s').unwrap_or(folder).to_string())
}

pub fn parse(file: SourceFile) -> (Document, Vec<Diagnostic>) {
    let SourceFile { rel_path, text } = file;
    let line_index = LineIndex::new(&text);
    let mut diags = vec![];
    let (front, body_start) = match split_front_matter(&text) {
        Ok(split) => {
            let (root, problems) = yaml::parse(&text[split.yaml.clone()], 2);
            let clean = problems.is_empty();
            for p in problems {
                let d = Diagnostic::error(
                    p.code,
                    &rel_path,
                    Pos::new(p.line, p.column, 1),
                    p.message.clone(),
                );
                diags.push(match p.code {
                    "yaml-syntax" => {
                        let line = text.lines().nth(p.line.saturating_sub(1)).unwrap_or("");
                        d.with_hint(yaml_hint(&p.message, line))
                    }
                    "duplicate-key" => {
                        d.with_hint("each field may appear once; remove one of them")
                    }
                    _ => d.with_hint("front matter should be a small mapping of fields"),
                });
            }
            let root = match root {
                Some(node) if matches!(node.value, Value::Map(_)) => Some(node),
                // Empty front matter (`---` then `---`, or only comments)
                // is a mapping without fields: each required one is missing.
                None if clean => Some(yaml::Node::new(Value::Map(vec![]), 1, 1)),
                Some(node) if node.value == Value::Null && clean => Some(yaml::Node {
                    value: Value::Map(vec![]),
                    ..node
                }),
                Some(node) if node.value == Value::Null => None,
                Some(node) => {
                    diags.push(
                        Diagnostic::error(
                            "front-matter-not-mapping",
                            &rel_path,
                            Pos::new(node.line, node.column, 1),
                            format!(
                                "front matter is {}, not a mapping of fields",
                                node.type_name()
                            ),
                        )
                        .with_hint("write `key: value` lines, e.g. `title: Checkout outage`"),
                    );
                    None
                }
                None => None,
            };
            (root, split.body_start)
        }
        Err(SplitError::Missing) => {
            diags.push(
                Diagnostic::error(
                    "missing-front-matter",
                    &rel_path,
                    Pos::file_start(),
                    "document has no front matter",
                )
                .with_hint("start the file with a `---` line, the fields, and another `---` line"),
            );
            (None, 0)
        }
        Err(SplitError::Unclosed) => {
            diags.push(
                Diagnostic::error(
                    "unclosed-front-matter",
                    &rel_path,
                    Pos::new(1, 1, 3),
                    "front matter is never closed",
                )
                .with_hint("add a line with `---` after the last field"),
            );
            // Where the fields end is unknown: read the whole file as Markdown,
            // so its sections are found and not reported missing as well.
            (None, 0)
        }
    };

    let scalar = |name: &str| {
        front
            .as_ref()
            .and_then(|f| f.get(name))
            .and_then(|n| n.scalar_text())
    };
    let stem = rel_path
        .rsplit('/')
        .next()
        .unwrap_or(&rel_path)
        .trim_end_matches(".md")
        .to_string();
    // Front matter YAML could not read: its `id:` and `kind:` lines are read
    // from its text (see `front_matter_line`).
    let unread = front
        .is_none()
        .then(|| unread_front_matter(&text))
        .flatten();
    let (id, id_pos) = match front.as_ref().and_then(|f| f.get("id")) {
        Some(node) if node.scalar_text().is_some_and(|s| !s.trim().is_empty()) => {
            let id = node.scalar_text().unwrap_or_default().trim().to_string();
            let len = id.chars().count();
            (id, Pos::new(node.line, node.column, len))
        }
        // Front matter YAML could not read has its own error; its `id:`
        // line still names the document, so that the documents referring to
        // it do not get a `broken-link` each.
        _ => match unread.and_then(|f| front_matter_line(f, "id")) {
            Some(id) => {
                // `id` is a slice of `text`: its offset is where it starts.
                let start = id.as_ptr() as usize - text.as_ptr() as usize;
                let pos = line_index.pos(&text, start, start + id.len());
                (id.to_string(), pos)
            }
            None => (stem, Pos::file_start()),
        },
    };
    // As with `id:`, a `kind:` line of unreadable front matter still says
    // what the document is (no `unknown-kind` or `wrong-ref-kind` after it).
    let kind = scalar("kind")
        .or_else(|| Some(front_matter_line(unread?, "kind")?.to_string()))
        .or_else(|| kind_from_path(&rel_path))
        .unwrap_or_default();
    let mut structure = structure(&text, body_start);
    for l in &mut structure.links {
        l.resolved = crate::link::local_markdown_target(&l.dest)
            .map(|(path, _fragment)| crate::link::resolve_relative(&rel_path, path));
    }
    let doc = Document {
        rel_path,
        text,
        line_index,
        id,
        id_pos,
        kind,
        front,
        body_start,
        structure,
        meta: Meta::default(),
        stamp: crate::model::next_stamp(),
    };
    (doc, diags)
}

/// The text of a front matter block, for when YAML could not read it: up to
/// its closing `---`, or the whole file when it is never closed. None when
/// the file has no front matter.
pub fn unread_front_matter(text: &str) -> Option<&str> {
    match split_front_matter(text) {
        Ok(split) => Some(&text[split.yaml]),
        Err(SplitError::Unclosed) => Some(text),
        Err(SplitError::Missing) => None,
    }
}

/// A top-level `key: value` line. `$` does not match before `\r`, hence `[^\r\n]`.
static FRONT_MATTER_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^([^\s:#]+):[ \t]+([^\r\n]*)").unwrap());

/// The value of the first top-level `key:` line of front matter YAML could
/// not read, when it is one scalar whose text is plain to see: a plain
/// scalar, or a quoted one without escapes. Lists, mappings, anchors, block
/// scalars and the like are None: what YAML would make of them is a guess.
pub fn front_matter_line<'a>(front: &'a str, key: &str) -> Option<&'a str> {
    let line = FRONT_MATTER_LINE
        .captures_iter(front)
        .find(|c| &c[1] == key)?;
    let value = line.get(2)?.as_str();
    // A comment starts at a `#` after a space; the regex ate those before the value.
    let value = value
        .match_indices('#')
        .find(|(i, _)| value[..*i].ends_with([' ', '\t']))
        .map_or(value, |(i, _)| &value[..i])
        .trim_end();
    let quoted = |q: char| {
        let inner = value.strip_prefix(q)?.strip_suffix(q)?;
        (!inner.contains([q, '\\'])).then_some(inner)
    };
    let scalar = match value.chars().next()? {
        '"' => quoted('"')?,
        '\'' => quoted('\'')?,
        // Indicators that start something other than a plain scalar.
        '[' | ']' | '{' | '}' | ',' | '#' | '&' | '*' | '!' | '|' | '>' | '%' | '@' | '`' => {
            return None
        }
        '-' | '?' | ':' if value.len() == 1 || value[1..].starts_with([' ', '\t']) => return None,
        // `a: b` in a value is the kind of line YAML refuses.
        _ if value.contains(": ") || value.ends_with(':') => return None,
        _ => value,
    };
    let scalar = scalar.trim();
    (!scalar.is_empty()).then_some(scalar)
}

/// What to do about a YAML syntax error, from the parser's message and the
/// line it points at: the mistakes people make in front matter.
fn yaml_hint(message: &str, line: &str) -> String {
    let (key, value) = line.split_once(':').unwrap_or(("", ""));
    let (key, value) = (key.trim(), value.trim());
    if line.contains('\t') {
        "indent and separate with spaces: YAML does not allow tabs here".into()
    } else if message.contains("mapping values are not allowed") && value.contains(": ") {
        format!("a value containing `: ` needs quotes: `{key}: \"{value}\"`")
    } else if message.contains("unexpected character") && value.contains(['@', '`']) {
        "`@` and `` ` `` cannot start a YAML value: quote it, e.g. `[\"@dana\"]`".into()
    } else if message.contains("must be followed by a valid YAML whitespace") {
        "put a space after the `:`".into()
    } else if message.contains("quoted scalar") {
        "a quote is opened and not closed on this line: close it, or quote the whole value".into()
    } else if message.contains("mapping values are not allowed")
        || message.contains("did not find expected key")
    {
        "check the indentation: a field starts at the line's start, nested ones two spaces in"
            .into()
    } else {
        "front matter is YAML between two `---` lines; `hindsight explain yaml-syntax` shows common fixes"
            .into()
    }
}

/// A heading as pulldown-cmark reports it: level, title, id, classes, attributes, range.
type HeadingEntry = (
    u8,
    String,
    Option<String>,
    Vec<String>,
    Vec<(String, String)>,
    Range<usize>,
);

/// One pass of pulldown-cmark over the body.
pub fn structure(text: &str, body_start: usize) -> Structure {
    let body = &text[body_start..];
    let mut headings: Vec<HeadingEntry> = vec![];
    let mut links = vec![];
    let mut tasks: Vec<(bool, Range<usize>, usize)> = vec![]; // checked, item range, end of first block
    let mut items: Vec<Range<usize>> = vec![]; // top-level list items
    let mut rows: Vec<(Range<usize>, Range<usize>)> = vec![]; // first cell, second cell
    let mut heading_text: Option<String> = None;
    let mut list_depth = 0usize;
    let mut item_stack: Vec<(Range<usize>, Option<bool>)> = vec![];
    let mut in_head = false;
    let mut row_cells: Vec<Range<usize>> = vec![];

    for (event, r) in Parser::new_ext(body, markdown_options()).into_offset_iter() {
        let range = (r.start + body_start)..(r.end + body_start);
        match event {
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => {
                heading_text = Some(String::new());
                headings.push((
                    heading_level(level),
                    String::new(),
                    id.map(|s| s.to_string()),
                    classes.iter().map(|c| c.to_string()).collect(),
                    attrs
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.as_deref().unwrap_or("").to_string()))
                        .collect(),
                    range,
                ));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let (Some(text), Some(h)) = (heading_text.take(), headings.last_mut()) {
                    h.1 = text.trim().to_string();
                }
            }
            Event::Text(t) | Event::Code(t) if heading_text.is_some() => {
                heading_text.as_mut().unwrap().push_str(&t);
            }
            Event::Start(Tag::Link { dest_url, .. }) => links.push(Link {
                dest: dest_url.to_string(),
                range,
                resolved: None,
            }),
            Event::Start(Tag::List(_)) => {
                // A nested list ends the first block of the enclosing task item.
                if let Some(task) = tasks.last_mut() {
                    if task.1.contains(&range.start) && task.2 > range.start {
                        task.2 = range.start;
                    }
                }
                list_depth += 1;
            }
            Event::End(TagEnd::List(_)) => list_depth = list_depth.saturating_sub(1),
            Event::Start(Tag::Item) => {
                // pulldown-cmark can start a nested item at the line break
                // before it (after a `\r\n`): items start on their own line.
                let breaks = text[range.clone()]
                    .bytes()
                    .take_while(|b| matches!(b, b'\r' | b'\n'))
                    .count();
                let range = (range.start + breaks).min(range.end)..range.end;
                if list_depth == 1 {
                    items.push(range.clone());
                }
                item_stack.push((range, None));
            }
            Event::TaskListMarker(checked) => {
                if let Some((range, marker)) = item_stack.last_mut() {
                    *marker = Some(checked);
                    tasks.push((checked, range.clone(), range.end));
                }
            }
            Event::End(TagEnd::Item) => {
                item_stack.pop();
            }
            Event::Start(Tag::TableHead) => in_head = true,
            Event::End(TagEnd::TableHead) => in_head = false,
            Event::Start(Tag::TableRow) => row_cells.clear(),
            Event::Start(Tag::TableCell) if !in_head => row_cells.push(range),
            Event::End(TagEnd::TableRow) if !in_head && row_cells.len() >= 2 => {
                rows.push((row_cells[0].clone(), row_cells[1].clone()));
            }
            _ => {}
        }
    }

    // Sections: a heading owns everything up to the next heading of its level or higher.
    let mut sections: Vec<Section> = vec![];
    let mut used_anchors: HashSet<String> = HashSet::new();
    // The next suffix to try for each base, so a thousand equal titles stay linear.
    let mut next_suffix: HashMap<String, usize> = HashMap::new();
    for (i, (level, title, id, classes, attrs, range)) in headings.iter().enumerate() {
        // pulldown-cmark splits attribute values at spaces; re-read quoted ones from the source.
        let raw = text[range.clone()].lines().next().unwrap_or("");
        let (id, classes, attrs) = match raw
            .trim_end()
            .strip_suffix('}')
            .and_then(|r| r.rsplit_once('{'))
        {
            Some((_, inner)) if inner.contains('"') => heading_attributes(inner),
            _ => (id.clone(), classes.clone(), attrs.clone()),
        };
        let (id, classes, attrs) = (&id, &classes, &attrs);
        let end = headings[i + 1..]
            .iter()
            .find(|h| h.0 <= *level)
            .map_or(text.len(), |h| h.5.start);
        let base = id.clone().unwrap_or_else(|| slugify(title));
        let mut anchor = base.clone();
        if used_anchors.contains(&anchor) {
            let n = next_suffix.entry(base.clone()).or_insert(1);
            loop {
                anchor = format!("{base}-{n}");
                *n += 1;
                if !used_anchors.contains(&anchor) {
                    break;
                }
            }
        }
        used_anchors.insert(anchor.clone());
        sections.push(Section {
            title: title.clone(),
            level: *level,
            anchor,
            classes: classes.clone(),
            attrs: attrs.clone(),
            heading: range.clone(),
            content: range.end..end.max(range.end),
        });
    }

    // The content of the sections with a title, merged and sorted, so each
    // lookup is a binary search: a file may have thousands of sections.
    let ranges_of = |name: &str| {
        let mut ranges: Vec<Range<usize>> = sections
            .iter()
            .filter(|s| s.title.eq_ignore_ascii_case(name))
            .map(|s| s.content.clone())
            .collect();
        ranges.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<usize>> = vec![];
        for r in ranges {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        merged
    };
    let (action_sections, timeline_sections) = (ranges_of("Action Items"), ranges_of("Timeline"));
    let in_section = |name: &str, offset: usize| {
        let ranges = if name == "Action Items" {
            &action_sections
        } else {
            &timeline_sections
        };
        let i = ranges.partition_point(|r| r.start <= offset);
        i > 0 && ranges[i - 1].contains(&offset)
    };
    let action_items = tasks
        .iter()
        .filter(|(_, range, _)| in_section("Action Items", range.start))
        .enumerate()
        .map(|(n, (checked, range, first_block_end))| {
            action_item(
                text,
                *checked,
                range.start..(*first_block_end).min(range.end),
                n + 1,
            )
        })
        .collect();
    let mut timeline: Vec<TimelineEntry> = items
        .iter()
        .filter(|r| in_section("Timeline", r.start))
        .map(|r| timeline_entry(text, r.clone(), None))
        .collect();
    timeline.extend(
        rows.iter()
            .filter(|(c, _)| in_section("Timeline", c.start))
            .map(|(c, e)| timeline_entry(text, c.clone(), Some(e))),
    );
    timeline.sort_by_key(|e| e.range.start);
    Structure {
        sections,
        links,
        action_items,
        timeline,
    }
}

type HeadingAttributes = (Option<String>, Vec<String>, Vec<(String, String)>);

/// Reads `#id .class key=value key="quoted value"` from a heading's `{…}`.
fn heading_attributes(inner: &str) -> HeadingAttributes {
    let (mut id, mut classes, mut attrs) = (None, vec![], vec![]);
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let (token, value, after) = match rest.find(['=', ' ']) {
            Some(i) if rest.as_bytes()[i] == b'=' => {
                let key = &rest[..i];
                let after_eq = &rest[i + 1..];
                if let Some(quoted) = after_eq.strip_prefix('"') {
                    let end = quoted.find('"').unwrap_or(quoted.len());
                    (
                        key,
                        Some(&quoted[..end]),
                        quoted.get(end + 1..).unwrap_or(""),
                    )
                } else {
                    let end = after_eq.find(' ').unwrap_or(after_eq.len());
                    (key, Some(&after_eq[..end]), &after_eq[end..])
                }
            }
            Some(i) => (&rest[..i], None, &rest[i..]),
            None => (rest, None, ""),
        };
        match (token.chars().next(), value) {
            (_, Some(v)) => attrs.push((token.to_string(), v.to_string())),
            (Some('#'), None) => id = Some(token[1..].to_string()),
            (Some('.'), None) => classes.push(token[1..].to_string()),
            _ => {}
        }
        rest = after.trim_start();
    }
    (id, classes, attrs)
}

fn heading_level(level: HeadingLevel) -> u8 {
    level as u8
}

/// GitHub-style anchor: lowercase, alphanumerics kept, spaces to `-`.
pub fn slugify(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    let mut push = |c: char| {
        if c.is_alphanumeric() || c == '_' {
            out.push(c);
        } else if (c == ' ' || c == '-') && !out.ends_with('-') {
            out.push('-');
        }
    };
    // Most titles are ASCII, where lowercasing needs no iterator per character.
    if title.is_ascii() {
        title
            .bytes()
            .for_each(|b| push(b.to_ascii_lowercase().into()));
    } else {
        title.chars().flat_map(char::to_lowercase).for_each(push);
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() {
        "section".into()
    } else {
        out
    }
}

static TASK_PREFIX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(?:[-*+]|\d+[.)])\s+\[[ xX]\]\s*").unwrap());

/// Punctuation that may follow an action item's token.
pub const TOKEN_END: [char; 4] = [',', '.', ';', ')'];

/// The token a word of an action item starts with: `@` (an owner), or the
/// key (`due:`, `done:`, `type:`, `ticket:`) in the case it is written in.
fn token_key(word: &str) -> Option<&'static str> {
    if word.len() > 1 && word.starts_with('@') {
        return Some("@");
    }
    // `key:` prefixes in any case, compared without a lowercase copy.
    ["due:", "done:", "type:", "ticket:"]
        .into_iter()
        .find(|key| {
            word.as_bytes()
                .get(..key.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(key.as_bytes()))
        })
}

/// Reads the tokens of an action item; the rest of the words are its text.
fn action_item(text: &str, done: bool, range: Range<usize>, n: usize) -> ActionItem {
    let raw = &text[range.clone()];
    let skip = TASK_PREFIX.find(raw).map_or(0, |m| m.end());
    let mut item = ActionItem {
        done,
        text: String::new(),
        owner: None,
        due: None,
        done_on: None,
        kind: None,
        ticket: None,
        range: range.clone(),
        anchor: format!("ai-{n}"),
    };
    let mut words = vec![];
    let mut offset = range.start + skip;
    let mut at = raw[skip..]
        .split_inclusive(char::is_whitespace)
        .map(|word| {
            let start = offset;
            offset += word.len();
            (start, word.trim_end())
        })
        .filter(|(_, word)| !word.is_empty())
        .peekable();
    while let Some((start, word)) = at.next() {
        let key = token_key(word);
        let Some(key) = key.filter(|k| *k != "@" || item.owner.is_none()) else {
            words.push(word);
            continue;
        };
        // Punctuation after a token is the sentence's, as in `(owner @dana, due:2026-12-15)`.
        let value = word[key.len()..].trim_end_matches(TOKEN_END);
        if key == "@" {
            item.owner = Some(value.to_string());
            continue;
        }
        if key == "ticket:" {
            item.ticket = Some(word[key.len()..].to_string());
            continue;
        }
        let mut token = Token {
            raw: value.to_string(),
            range: start..start + word.len(),
        };
        // `due: 2026-12-15`: nothing after the colon. The token takes the
        // next word (unless it is a token itself) with an empty value, so
        // that its diagnostic quotes what was written.
        if word.len() == key.len() {
            if let Some((next, w)) = at.next_if(|(_, w)| token_key(w).is_none()) {
                token.range.end = next + w.len();
            }
        }
        match key {
            "due:" => item.due = Some(token),
            "done:" => item.done_on = Some(token),
            _ => item.kind = Some(token),
        }
    }
    item.text = words.join(" ");
    item
}

static TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)^\s*(?:[-*+]|\d+[.)])?\s*(?:\*\*|__)?\s*
        (?:(?P<date>\d{4}-\d{2}-\d{2})[T\s])?
        (?P<time>\d{1,2}:\d{2}(?::\d{2})?)
        \s*(?P<zone>Z|UTC(?:[+-]\d{2}:?\d{2})?|GMT|[+-]\d{2}:?\d{2})?
        \s*(?:\*\*|__)?\s*(?:[—–:|-]\s*)?",
    )
    .unwrap()
});

/// What `TIME` captures in the first line of a timeline entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TimeMatch<'a> {
    date: Option<&'a str>,
    time: &'a str,
    zone: Option<&'a str>,
    /// Where the whole match ends.
    end: usize,
}

fn time_captures(line: &str) -> Option<TimeMatch<'_>> {
    match scan_time(line) {
        Ok(m) => m,
        Err(Unsure) => TIME.captures(line).map(|c| TimeMatch {
            date: c.name("date").map(|m| m.as_str()),
            time: c.name("time").expect("the time is not optional").as_str(),
            zone: c.name("zone").map(|m| m.as_str()),
            end: c.get(0).expect("a match").end(),
        }),
    }
}

/// A character `scan_time` leaves to the regex: a digit or a space other than ASCII.
#[derive(Debug, PartialEq)]
struct Unsure;

/// `TIME.captures(line)` without the regex engine, which took a tenth of
/// `check` (every timeline entry of 10,000 documents). It tries the regex's
/// alternatives in the regex's order of preference; where `\d` or `\s`
/// would have to judge a character outside ASCII, it gives up (`Unsure`).
fn scan_time(line: &str) -> Result<Option<TimeMatch<'_>>, Unsure> {
    let b = line.as_bytes();
    // The character at `i`: Some(c) for ASCII, None past the end; `Unsure`
    // when it is not ASCII and `judge` (is_numeric, is_whitespace) says it could matter.
    let ascii = |i: usize, judge: fn(char) -> bool| -> Result<Option<u8>, Unsure> {
        match b.get(i) {
            None => Ok(None),
            Some(&c) if c.is_ascii() => Ok(Some(c)),
            Some(_) => {
                let c = line[i..].chars().next().expect("a character starts here");
                if judge(c) {
                    Err(Unsure)
                } else {
                    Ok(Some(0xFF))
                }
            }
        }
    };
    let digit = |i: usize| -> Result<bool, Unsure> {
        Ok(ascii(i, char::is_numeric)?.is_some_and(|c| c.is_ascii_digit()))
    };
    let digits = |i: usize, n: usize| -> Result<bool, Unsure> {
        for k in i..i + n {
            if !digit(k)? {
                return Ok(false);
            }
        }
        Ok(true)
    };
    let spaces = |mut i: usize| -> Result<usize, Unsure> {
        while ascii(i, char::is_whitespace)?.is_some_and(|c| (c as char).is_whitespace()) {
            i += 1;
        }
        Ok(i)
    };
    let is = |i: usize, s: &str| b[i.min(b.len())..].starts_with(s.as_bytes());
    // `\d{1,2}:\d{2}(?::\d{2})?` at `i`: where it ends.
    let time = |i: usize| -> Result<Option<usize>, Unsure> {
        let h = if digits(i, 2)? && is(i + 2, ":") && digits(i + 3, 2)? {
            i + 5
        } else if digit(i)? && is(i + 1, ":") && digits(i + 2, 2)? {
            i + 4
        } else {
            return Ok(None);
        };
        Ok(Some(if is(h, ":") && digits(h + 1, 2)? {
            h + 3
        } else {
            h
        }))
    };
    // `(?:(?P<date>\d{4}-\d{2}-\d{2})[T\s])?(?P<time>…)` at `i`: the date if any, and the time.
    type DateTime = (Option<Range<usize>>, Range<usize>);
    let date_time = |i: usize| -> Result<Option<DateTime>, Unsure> {
        if digits(i, 4)?
            && is(i + 4, "-")
            && digits(i + 5, 2)?
            && is(i + 7, "-")
            && digits(i + 8, 2)?
        {
            let sep = ascii(i + 10, char::is_whitespace)?;
            if sep.is_some_and(|c| c == b'T' || (c as char).is_whitespace()) {
                if let Some(end) = time(i + 11)? {
                    return Ok(Some((Some(i..i + 10), i + 11..end)));
                }
            }
        }
        Ok(time(i)?.map(|end| (None, i..end)))
    };
    // `[+-]\d{2}:?\d{2}` at `i`: where it ends.
    let offset = |i: usize| -> Result<Option<usize>, Unsure> {
        if !(is(i, "+") || is(i, "-")) || !digits(i + 1, 2)? {
            return Ok(None);
        }
        if is(i + 3, ":") && digits(i + 4, 2)? {
            return Ok(Some(i + 6));
        }
        Ok(digits(i + 3, 2)?.then_some(i + 5))
    };

    // `^\s*(?:[-*+]|\d+[.)])?\s*(?:\*\*|__)?\s*`: every way to skip a list
    // marker and bold, in the regex's order, until a date or time follows.
    let start = spaces(0)?;
    let bullet = (is(start, "-") || is(start, "*") || is(start, "+")).then_some(start + 1);
    let mut n = start;
    while digit(n)? {
        n += 1;
    }
    let numbered = (n > start && (is(n, ".") || is(n, ")"))).then_some(n + 1);
    let mut found = None;
    'search: for m in [bullet, numbered, Some(start)].into_iter().flatten() {
        let m = spaces(m)?;
        let bold = (is(m, "**") || is(m, "__")).then_some(m + 2);
        for bold in [bold, Some(m)].into_iter().flatten() {
            if let Some(dt) = date_time(spaces(bold)?)? {
                found = Some(dt);
                break 'search;
            }
        }
    }
    let Some((date, time)) = found else {
        return Ok(None);
    };
    // `\s*(?P<zone>Z|UTC(?:[+-]\d{2}:?\d{2})?|GMT|[+-]\d{2}:?\d{2})?\s*(?:\*\*|__)?\s*(?:[—–:|-]\s*)?`:
    // all optional, so each part takes what it can.
    let mut i = spaces(time.end)?;
    let zone_start = i;
    let zone_end = if is(i, "Z") {
        Some(i + 1)
    } else if is(i, "UTC") {
        Some(offset(i + 3)?.unwrap_or(i + 3))
    } else if is(i, "GMT") {
        Some(i + 3)
    } else {
        offset(i)?
    };
    if let Some(end) = zone_end {
        i = end;
    }
    i = spaces(i)?;
    if is(i, "**") || is(i, "__") {
        i += 2;
    }
    i = spaces(i)?;
    for sep in ["—", "–", ":", "|", "-"] {
        if is(i, sep) {
            i = spaces(i + sep.len())?;
            break;
        }
    }
    Ok(Some(TimeMatch {
        date: date.map(|d| &line[d]),
        time: &line[time],
        zone: zone_end.map(|end| &line[zone_start..end]),
        end: i,
    }))
}

/// Reads the leading time of a timeline entry. `event` is the second table cell, if a table row.
fn timeline_entry(text: &str, range: Range<usize>, event: Option<&Range<usize>>) -> TimelineEntry {
    let raw = &text[range.clone()];
    let first_line = raw.lines().next().unwrap_or("");
    let caps = time_captures(first_line);
    let time = caps.as_ref().and_then(|c| {
        let mut hms = c.time.split(':').map(|n| n.parse::<u32>().ok());
        let (h, m, s) = (
            hms.next()??,
            hms.next()??,
            hms.next().flatten().unwrap_or(0),
        );
        let time = chrono::NaiveTime::from_hms_opt(h, m, s)?;
        let date = match c.date {
            Some(d) => Some(crate::validate::parse_date(d)?),
            None => None,
        };
        let offset = c.zone.map(parse_offset);
        Some(TimelineTime {
            date,
            time,
            offset: offset.flatten(),
        })
    });
    let rest = match (&caps, time) {
        (Some(c), Some(_)) => &first_line[c.end..],
        _ => first_line,
    };
    let text_of_event = match event {
        Some(e) => text[e.clone()].trim().trim_matches('|').trim().to_string(),
        None => rest.trim().to_string(),
    };
    let end = range.start + first_line.len();
    TimelineEntry {
        time,
        text: text_of_event,
        range: range.start..end,
    }
}

fn parse_offset(zone: &str) -> Option<i32> {
    let z = zone.trim_start_matches("UTC").trim_start_matches("GMT");
    if z.is_empty() || z == "Z" {
        return Some(0);
    }
    let sign = if z.starts_with('-') { -1 } else { 1 };
    let digits: String = z[1..].chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() != 4 {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    Some(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> (Document, Vec<Diagnostic>) {
        parse(SourceFile {
            rel_path: "content/postmortems/pm.md".into(),
            text: text.into(),
        })
    }

    #[test]
    fn front_matter_with_crlf_is_split() {
        let (d, diags) = doc("---\r\nid: PM-2026-001\r\ntitle: A\r\n---\r\n## Summary\r\nText\r\n");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(d.id, "PM-2026-001");
        assert_eq!(d.kind, "postmortem");
        assert_eq!(d.structure.sections[0].title, "Summary");
        assert_eq!(d.pos(&d.structure.sections[0].heading).line, 5);
    }

    #[test]
    fn unclosed_and_missing_front_matter_are_diagnostics() {
        let (d, diags) = doc("---\ntitle: a\n## Summary\n");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, "unclosed-front-matter");
        assert_eq!(
            d.structure.sections[0].title, "Summary",
            "the body is still read"
        );
        let (d, diags) = doc("# Hello\n");
        assert_eq!(diags[0].code, "missing-front-matter");
        assert_eq!(d.id, "pm");
    }

    #[test]
    fn yaml_syntax_hints_name_the_usual_mistake() {
        let hint = |front: &str| {
            let (_, diags) = doc(&format!("---\n{front}\n---\n"));
            let d = diags.iter().find(|d| d.code == "yaml-syntax").expect(front);
            d.hint.clone().unwrap_or_default()
        };
        assert_eq!(
            hint("title: Payments: 502s"),
            "a value containing `: ` needs quotes: `title: \"Payments: 502s\"`"
        );
        assert!(hint("authors: [@jdoe]").contains("quote it"));
        assert!(hint("severity:\tSEV1").contains("tabs"));
        assert!(hint("title: \"unclosed").contains("not closed"));
        assert!(hint("title: x\n  bad: indent").contains("indentation"));
    }

    #[test]
    fn unreadable_front_matter_keeps_a_plain_id() {
        // `@` cannot start a plain value: YAML refuses the front matter.
        let (d, diags) = doc("---\nid: PM-2026-009\nauthors: [@priya, olu]\n---\n");
        assert_eq!(diags[0].code, "yaml-syntax");
        assert_eq!(d.id, "PM-2026-009");
        assert_eq!((d.id_pos.line, d.id_pos.column), (2, 5));
        // Never closed: the whole file is searched, as its body is.
        let (d, _) = doc("---\ntitle: a\nid: PM-2026-008\n## Summary\n");
        assert_eq!(d.id, "PM-2026-008");
        // Without front matter there is no `id:` line to read.
        let (d, _) = doc("id: PM-2026-007\n");
        assert_eq!(d.id, "pm");
        // Its `kind:` line says what it is, where its folder does not.
        let (d, _) = parse(SourceFile {
            rel_path: "content/notes/adr-1.md".into(),
            text: "---\nkind: decision\nid: ADR-1\nowners: [@dana]\n---\n".into(),
        });
        assert_eq!((d.kind.as_str(), d.id.as_str()), ("decision", "ADR-1"));
    }

    #[test]
    fn only_plain_scalars_are_read_from_unreadable_front_matter() {
        fn id(front: &str) -> Option<&str> {
            front_matter_line(front, "id")
        }
        assert_eq!(id("title: x\nid: PM-1\n"), Some("PM-1"));
        assert_eq!(id("id: PM-1 # the first\r\n"), Some("PM-1"));
        assert_eq!(id("id:\tPM-1  \n"), Some("PM-1"));
        assert_eq!(id("id: \"PM-1\"\n"), Some("PM-1"));
        assert_eq!(id("id: 'PM-1'\n"), Some("PM-1"));
        assert_eq!(id("id: PM#1\n"), Some("PM#1"));
        assert_eq!(id("id: -1\n"), Some("-1"));
        for not_plain in [
            "id: [PM-1]",
            "id: {a: b}",
            "id: &a PM-1",
            "id: *a",
            "id: !tag PM-1",
            "id: |",
            "id: >-",
            "id: - PM-1",
            "id: @PM-1",
            "id: \"PM-1",
            "id: \"PM\\u0031\"",
            "id: 'PM-1",
            "id: PM: 1",
            "id: PM:",
            "id: # none",
            "id:",
            "id:PM-1",
            "  id: nested",
            "ids: PM-1",
            "title: id: PM-1",
        ] {
            assert_eq!(id(not_plain), None, "{not_plain}");
        }
    }

    #[test]
    fn front_matter_must_be_a_mapping() {
        let diags = doc("---\n- a\n- b\n---\n").1;
        assert_eq!(
            (diags[0].code, diags[0].line),
            ("front-matter-not-mapping", 2)
        );
    }

    #[test]
    fn sections_nest_and_carry_attributes() {
        let text = "---\nid: x\n---\n## Contributing Factors {aliases=\"Root Cause\"}\n### Detail\ntext\n## Appendix {.optional}\n";
        let s = structure(text, text.find("## C").unwrap());
        assert_eq!(s.sections.len(), 3);
        assert_eq!(s.sections[0].title, "Contributing Factors");
        assert_eq!(
            s.sections[0].attrs,
            vec![("aliases".to_string(), "Root Cause".to_string())]
        );
        assert!(text[s.sections[0].content.clone()].contains("### Detail"));
        assert_eq!(s.sections[2].classes, vec!["optional".to_string()]);
    }

    #[test]
    fn action_items_read_their_tokens_anywhere() {
        let text = "## Action Items\n- [ ] Alert on lag @dana due:2026-12-15 type:detect ticket:OPS-412\n- [x] type:mitigate Roll back @li due:2026-11-20 done:2026-11-19\n- [ ] No owner\n\n## Other\n- [ ] not an action item\n";
        let s = structure(text, 0);
        let items = &s.action_items;
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].text, "Alert on lag");
        assert_eq!(items[0].owner.as_deref(), Some("dana"));
        assert_eq!(items[0].due.as_ref().unwrap().raw, "2026-12-15");
        assert_eq!(items[0].kind.as_ref().unwrap().raw, "detect");
        assert_eq!(items[0].ticket.as_deref(), Some("OPS-412"));
        assert!(items[1].done);
        assert_eq!(items[1].text, "Roll back");
        assert_eq!(items[1].done_on.as_ref().unwrap().raw, "2026-11-19");
        assert_eq!(items[2].owner, None);
        assert_eq!(
            &text[items[0].due.as_ref().unwrap().range.clone()],
            "due:2026-12-15"
        );
    }

    #[test]
    fn an_action_item_key_without_its_value_takes_the_next_word_with_it() {
        let text = "## Action Items\n- [ ] A @dana due: 2026-12-15 type:  detect end\n- [ ] B done: @li due:\n- [ ] C (owner: @li, due:2026-12-15).\n";
        let items = structure(text, 0).action_items;
        let written = |t: &Option<Token>| {
            let t = t.as_ref().unwrap();
            (t.raw.clone(), &text[t.range.clone()])
        };
        assert_eq!(written(&items[0].due), ("".into(), "due: 2026-12-15"));
        assert_eq!(written(&items[0].kind), ("".into(), "type:  detect"));
        assert_eq!(items[0].text, "A end");
        // Another token is not a value; nothing at all is none.
        assert_eq!(written(&items[1].done_on), ("".into(), "done:"));
        assert_eq!(items[1].owner.as_deref(), Some("li"));
        assert_eq!(written(&items[1].due), ("".into(), "due:"));
        // Punctuation after a token is the sentence's.
        assert_eq!(
            written(&items[2].due),
            ("2026-12-15".into(), "due:2026-12-15).")
        );
        assert_eq!(items[2].owner.as_deref(), Some("li"));
    }

    #[test]
    fn timeline_entries_from_lists_and_tables() {
        let text = "## Timeline\n- **2026-11-03 14:02 UTC** — Deploy starts\n- 23:55 — late\n- 2026-11-03T14:02Z paged\n- no time here\n\n| Time | Event |\n|---|---|\n| 00:10 | after midnight |\n";
        let s = structure(text, 0);
        let t = &s.timeline;
        assert_eq!(t.len(), 5);
        let first = t[0].time.unwrap();
        assert_eq!(first.date, chrono::NaiveDate::from_ymd_opt(2026, 11, 3));
        assert_eq!(first.offset, Some(0));
        assert_eq!(t[0].text, "Deploy starts");
        assert_eq!(t[1].time.unwrap().date, None);
        assert_eq!(t[1].text, "late");
        assert_eq!(t[2].time.unwrap().offset, Some(0));
        assert_eq!(t[3].time, None);
        assert_eq!(
            t[4].time.unwrap().time,
            chrono::NaiveTime::from_hms_opt(0, 10, 0).unwrap()
        );
        assert_eq!(t[4].text, "after midnight");
    }

    fn regex_captures(line: &str) -> Option<TimeMatch<'_>> {
        TIME.captures(line).map(|c| TimeMatch {
            date: c.name("date").map(|m| m.as_str()),
            time: c.name("time").unwrap().as_str(),
            zone: c.name("zone").map(|m| m.as_str()),
            end: c.get(0).unwrap().end(),
        })
    }

    #[test]
    fn scanned_times_match_the_regex() {
        let lines = [
            "- **2026-11-03 14:02 UTC** — Deploy starts",
            "- 23:55 — late",
            "- 2026-11-03T14:02Z paged",
            "**14:02**: x",
            "* 14:02 | x",
            "12. 09:30:15 +05:30 - x",
            "1) 9:30 GMT",
            "__2026-11-03 14:02__ –  x",
            "  +  14:02UTC+0530**:x",
            "14:02 UTC+05:3x",
            "2026-11-03 24:99",
            "2026-11-0314:02",
            "123:45",
            "12:3",
            "**-14:02",
            "-**14:02",
            "1.2.14:02",
            "\u{b}14:02\u{b}-",
            "14:02\u{a0}UTC",
            "\u{a0}14:02",
            "٣. 14:02",
            "14:0٣",
            "— 14:02",
            "2026-11-03\u{2003}14:02",
            "",
            "no time",
        ];
        for line in lines {
            match scan_time(line) {
                Ok(m) => assert_eq!(m, regex_captures(line), "{line:?}"),
                Err(Unsure) => assert!(!line.is_ascii(), "{line:?}"),
            }
            assert_eq!(time_captures(line), regex_captures(line), "{line:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
        #[test]
        fn scanned_times_match_the_regex_on_any_line(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                " ", "  ", "\t", "\u{b}", "\u{a0}", "\u{2003}", "-", "*", "+", "**", "__", "_",
                "1", "2", "0", "9", "12", "09", "٣", ".", ")", ":", "T", "Z", "UTC", "GMT",
                "2026-11-03", "14:02", ":30", "+05", "-0700", "—", "–", "|", "x", "é", "#",
            ]), 0..12)
        ) {
            let line: String = parts.concat();
            if let Ok(m) = scan_time(&line) {
                proptest::prop_assert_eq!(m, regex_captures(&line), "{:?}", line);
            }
            proptest::prop_assert_eq!(time_captures(&line), regex_captures(&line), "{:?}", line);
        }
    }

    #[test]
    fn offsets_parse() {
        assert_eq!(parse_offset("UTC+05:30"), Some(19800));
        assert_eq!(parse_offset("-0700"), Some(-25200));
        assert_eq!(parse_offset("Z"), Some(0));
    }

    #[test]
    fn many_equal_headings_get_numbered_anchors_quickly() {
        // Numbering used to rescan every earlier anchor for every candidate:
        // cubic, minutes for a few thousand equal headings.
        let text = format!(
            "## A 1\n{}- [ ] x @a due:2026-01-01\n",
            "## A\n## Action Items\n".repeat(20_000)
        );
        let s = structure(&text, 0);
        let anchors: Vec<&str> = s
            .sections
            .iter()
            .take(5)
            .map(|s| s.anchor.as_str())
            .collect();
        assert_eq!(
            anchors,
            ["a-1", "a", "action-items", "a-2", "action-items-1"]
        );
        assert_eq!(s.sections.last().unwrap().anchor, "action-items-19999");
        assert_eq!(s.action_items.len(), 1);
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("Contributing Factors"), "contributing-factors");
        assert_eq!(slugify("What's next?"), "whats-next");
    }
}
