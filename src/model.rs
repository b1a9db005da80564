//! The content model: plain data that flows between the stages.
//!
//! `parse` fills `Document` from a file's text; `validate` fills `Document::meta`
//! with the typed values of fields that passed their checks; `link` resolves
//! references into a `LinkGraph`. Nothing here does I/O.

use crate::yaml::Node;
use chrono::{DateTime, FixedOffset, NaiveDate};
use std::ops::Range;

/// A file read from `content/`, before parsing.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the knowledge-base root, with `/` separators (`content/incidents/a.md`).
    pub rel_path: String,
    pub text: String,
}

/// One Markdown document: its front matter, its Markdown structure, and (after
/// `validate`) its typed metadata.
#[derive(Debug, Clone)]
pub struct Document {
    pub rel_path: String,
    pub text: String,
    pub line_index: crate::diagnostic::LineIndex,
    pub id: String,
    /// Where the id came from, for diagnostics (the `id:` value, or the file start).
    pub id_pos: crate::diagnostic::Pos,
    pub kind: String,
    /// The front matter mapping (None when missing or unreadable).
    pub front: Option<Node>,
    /// Byte offset where the Markdown body starts.
    pub body_start: usize,
    pub structure: Structure,
    pub meta: Meta,
    /// Unique to this parse of the file: a re-read document gets a new one.
    /// `site` compares stamps to tell which documents changed since its last build.
    pub stamp: u64,
}

/// A new document stamp (see `Document::stamp`).
pub fn next_stamp() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Document {
    pub fn body(&self) -> &str {
        &self.text[self.body_start..]
    }

    pub fn pos(&self, range: &Range<usize>) -> crate::diagnostic::Pos {
        self.line_index.pos(&self.text, range.start, range.end)
    }

    pub fn field(&self, name: &str) -> Option<&Node> {
        self.front.as_ref()?.get(name)
    }

    pub fn title(&self) -> &str {
        self.meta.title.as_deref().unwrap_or(&self.id)
    }
}

/// What pulldown-cmark found in the body. Ranges are byte offsets in the whole file.
#[derive(Debug, Clone, Default)]
pub struct Structure {
    pub sections: Vec<Section>,
    pub links: Vec<Link>,
    pub action_items: Vec<ActionItem>,
    pub timeline: Vec<TimelineEntry>,
}

#[derive(Debug, Clone)]
pub struct Section {
    pub title: String,
    pub level: u8,
    /// The heading's anchor id (`{#id}` or generated from the title).
    pub anchor: String,
    pub classes: Vec<String>,
    pub attrs: Vec<(String, String)>,
    pub heading: Range<usize>,
    /// From the end of the heading to the next heading of the same or a higher level.
    pub content: Range<usize>,
}

#[derive(Debug, Clone)]
pub struct Link {
    pub dest: String,
    pub range: Range<usize>,
    /// For a link to a local Markdown file, the path it points at relative to
    /// the root (`content/runbooks/x.md`), resolved once by `parse`: `link`
    /// looks it up on every run, and `serve` re-runs `link` on every change.
    pub resolved: Option<String>,
}

/// A GFM task-list item of a postmortem's Action Items section.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionItem {
    pub done: bool,
    /// The item's text without its tokens.
    pub text: String,
    pub owner: Option<String>,
    pub due: Option<Token>,
    pub done_on: Option<Token>,
    pub kind: Option<Token>,
    pub ticket: Option<String>,
    pub range: Range<usize>,
    /// Stable anchor on the postmortem page (`ai-1`, `ai-2`, …).
    pub anchor: String,
}

/// A `key:value` token of an action item, kept raw with its place for diagnostics.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub raw: String,
    pub range: Range<usize>,
}

/// One entry of a Timeline section: a time as written, and what happened.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    pub time: Option<TimelineTime>,
    pub text: String,
    pub range: Range<usize>,
}

/// A timeline time as written: a full date, or a bare time of day that takes
/// the incident's date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineTime {
    pub date: Option<NaiveDate>,
    pub time: chrono::NaiveTime,
    /// Offset in seconds east of UTC, when the entry says (`UTC`, `Z`, `+02:00`).
    pub offset: Option<i32>,
}

/// Incident milestones, in the order they must happen.
pub const MILESTONES: [&str; 5] = [
    "started_at",
    "detected_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
];

/// Typed values of the fields hindsight itself understands. Filled by `validate`
/// only with values that passed their checks, so later stages can trust them.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub title: Option<String>,
    pub template: Option<String>,
    pub severity: Option<String>,
    pub status: Option<String>,
    pub services: Vec<String>,
    /// started, detected, acknowledged, mitigated, resolved.
    pub milestones: [Option<DateTime<FixedOffset>>; 5],
    pub incident: Option<String>,
    pub authors: Vec<String>,
    pub reviewers: Vec<String>,
    pub owners: Vec<String>,
    pub commander: Option<String>,
    pub responders: Vec<String>,
    pub runbooks: Vec<String>,
    pub related: Vec<String>,
    pub tags: Vec<String>,
    pub published_at: Option<DateTime<FixedOffset>>,
    pub last_reviewed: Option<NaiveDate>,
    pub review_every_days: Option<i64>,
    pub users_affected: Option<i64>,
    pub customer_minutes: Option<i64>,
    pub visibility: Option<String>,
    pub detection: Option<String>,
    pub alerts: Vec<String>,
    pub name: Option<String>,
    pub tier: Option<i64>,
    /// Front matter references (`incident:`, `runbooks:`, `services:`, `related:`, …).
    pub refs: Vec<Reference>,
}

/// An id named in the front matter, to be resolved by `link`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub field: String,
    pub target: String,
    /// The kind the target must be (None: any kind).
    pub to: Option<String>,
    pub pos: crate::diagnostic::Pos,
}

impl Meta {
    pub fn started(&self) -> Option<DateTime<FixedOffset>> {
        self.milestones[0]
    }
    pub fn resolved(&self) -> Option<DateTime<FixedOffset>> {
        self.milestones[4]
    }
}

/// Handles are written with or without `@`; this is the canonical form (without).
pub fn person(handle: &str) -> String {
    handle.trim().trim_start_matches('@').to_string()
}
