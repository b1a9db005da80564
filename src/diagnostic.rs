//! Diagnostics as data: one model for every problem hindsight reports, and one
//! renderer per output format (`human`, `json`, `github`).
//!
//! Every stage returns diagnostics instead of failing, so a run reports all
//! problems at once. Codes are stable: CI configurations and docs refer to them.

use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem at one place. `line` and `column` are 1-based; column counts
/// characters, not bytes. `len` is the width of the caret in characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: &'static str,
    pub file: String,
    pub line: usize,
    pub column: usize,
    #[serde(skip)]
    pub len: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, file: &str, pos: Pos, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, file, pos, message)
    }

    pub fn warning(code: &'static str, file: &str, pos: Pos, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, file, pos, message)
    }

    fn new(
        severity: Severity,
        code: &'static str,
        file: &str,
        pos: Pos,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity,
            code,
            file: file.to_string(),
            line: pos.line.max(1),
            column: pos.column.max(1),
            len: pos.len.max(1),
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// A position in a file: 1-based line and column (in characters), and a width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
    pub len: usize,
}

impl Pos {
    pub fn new(line: usize, column: usize, len: usize) -> Self {
        Pos { line, column, len }
    }
    /// The start of a file, for problems that belong to the whole file.
    pub fn file_start() -> Self {
        Pos::new(1, 1, 1)
    }
}

/// Maps byte offsets in a text to line and column. Built once per file.
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        // Every document gets one: memchr finds the line breaks a vector at a
        // time, where a byte loop was a twentieth of `check`.
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex { starts }
    }

    /// Position of a byte range `start..end` (clamped to the text).
    pub fn pos(&self, text: &str, start: usize, end: usize) -> Pos {
        let start = floor_char_boundary(text, start.min(text.len()));
        let line = self.starts.partition_point(|&s| s <= start) - 1;
        let line_start = self.starts[line];
        let column = text[line_start..start].chars().count() + 1;
        let line_end = self.starts.get(line + 1).map_or(text.len(), |&s| s - 1);
        let end = floor_char_boundary(text, end.clamp(start, line_end.max(start)));
        let len = text[start..end].chars().count().max(1);
        Pos::new(line + 1, column, len)
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text<'t>(&self, text: &'t str, line: usize) -> &'t str {
        let Some(&start) = self.starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self.starts.get(line).map_or(text.len(), |&s| s - 1);
        text[start..end.max(start)].trim_end_matches('\r')
    }

    /// Byte offset where a 1-based line starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.starts.get(line.wrapping_sub(1)).copied().unwrap_or(0)
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Sorts diagnostics so output is deterministic whatever order threads finished in.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.code, &a.message)
            .cmp(&(&b.file, b.line, b.column, b.code, &b.message))
    });
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Github,
}

/// Source texts by file, so the human renderer can quote the offending line.
pub type Sources<'a> = HashMap<&'a str, &'a str>;

pub fn render(diags: &[Diagnostic], format: Format, sources: &Sources) -> String {
    match format {
        Format::Human => render_human(diags, sources),
        Format::Json => render_json(diags),
        Format::Github => render_github(diags),
    }
}

/// rustc-style output with the source line and a caret, then a summary line.
pub fn render_human(diags: &[Diagnostic], sources: &Sources) -> String {
    use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};
    let renderer = Renderer::plain();
    let mut out = String::new();
    // One index per file, not per diagnostic: thousands of diagnostics in a
    // large file made this quadratic (minutes for a 1 MB file).
    let mut indexes: HashMap<&str, LineIndex> = HashMap::new();
    for d in diags {
        let level = match d.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let title = level.primary_title(d.message.as_str()).id(d.code);
        let group = match sources.get(d.file.as_str()) {
            Some(text) => {
                let index = indexes
                    .entry(d.file.as_str())
                    .or_insert_with(|| LineIndex::new(text));
                let line_text = index.line_text(text, d.line);
                let start: usize = line_text
                    .chars()
                    .take(d.column - 1)
                    .map(char::len_utf8)
                    .sum();
                let end: usize = start
                    + line_text[start..]
                        .chars()
                        .take(d.len)
                        .map(char::len_utf8)
                        .sum::<usize>();
                title.element(
                    Snippet::source(line_text)
                        .line_start(d.line)
                        .path(d.file.as_str())
                        .annotation(AnnotationKind::Primary.span(start..end)),
                )
            }
            // No text to quote (a file that is not UTF-8, a folder): the
            // place alone, with its real column rather than a caret at 1.
            None => title.element(
                Origin::path(d.file.as_str())
                    .line(d.line)
                    .char_column(d.column),
            ),
        };
        let mut report = vec![group];
        if let Some(hint) = &d.hint {
            report.push(Group::with_title(
                Level::HELP.secondary_title(hint.as_str()),
            ));
        }
        let _ = writeln!(out, "{}\n", renderer.render(&report));
    }
    let (errors, warnings) = count(diags);
    let _ = writeln!(out, "{}", summary(errors, warnings));
    out
}

pub fn count(diags: &[Diagnostic]) -> (usize, usize) {
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    (errors, diags.len() - errors)
}

pub fn summary(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

/// One JSON object per line, with stable field names.
pub fn render_json(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        out.push_str(&serde_json::to_string(d).expect("diagnostics serialize"));
        out.push('\n');
    }
    out
}

/// GitHub Actions workflow commands, so pull requests show problems inline.
pub fn render_github(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let mut message = d.message.clone();
        if let Some(hint) = &d.hint {
            message.push('\n');
            message.push_str(hint);
        }
        let _ = writeln!(
            out,
            "::{} file={},line={},col={},title={}::{}",
            d.severity.as_str(),
            escape_property(&d.file),
            d.line,
            d.column,
            escape_property(d.code),
            escape_data(&message)
        );
    }
    out
}

// Escaping rules of GitHub's workflow commands (actions/toolkit `command.ts`).
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_maps_offsets_to_lines_and_char_columns() {
        let text = "ab\r\ncé d\nlast";
        let idx = LineIndex::new(text);
        assert_eq!(idx.pos(text, 0, 1), Pos::new(1, 1, 1));
        let d = text.find('d').unwrap();
        assert_eq!(idx.pos(text, d, d + 1), Pos::new(2, 4, 1));
        assert_eq!(idx.line_text(text, 1), "ab");
        assert_eq!(idx.line_text(text, 3), "last");
        assert_eq!(idx.line_text(text, 9), "");
    }

    #[test]
    fn github_format_escapes_properties_and_data() {
        let d = Diagnostic::error(
            "broken-link",
            "a,b:c.md",
            Pos::new(3, 4, 1),
            "50% done\nnext",
        );
        let out = render_github(&[d]);
        assert_eq!(
            out,
            "::error file=a%2Cb%3Ac.md,line=3,col=4,title=broken-link::50%25 done%0Anext\n"
        );
    }

    #[test]
    fn human_format_quotes_each_file_from_its_own_text() {
        let (a, b) = ("---\nid: a\nkey: 1\n", "---\nzzz: 2\n");
        let sources: Sources = [("a.md", a), ("b.md", b)].into_iter().collect();
        let at = |file, line| Diagnostic::error("unknown-field", file, Pos::new(line, 1, 1), "m");
        let out = render_human(
            &[at("a.md", 3), at("b.md", 2), at("a.md", 2), at("b.md", 1)],
            &sources,
        );
        let quoted: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()) && l.contains(" | "))
            .collect();
        assert_eq!(
            quoted,
            ["3 | key: 1", "2 | zzz: 2", "2 | id: a", "1 | ---"],
            "{out}"
        );
    }

    #[test]
    fn human_format_quotes_the_line_with_a_caret() {
        let text = "---\ntitle: x\nseverity: SEV9\n---\n";
        let d = Diagnostic::error(
            "unknown-severity",
            "content/a.md",
            Pos::new(3, 11, 4),
            "unknown severity `SEV9`",
        )
        .with_hint("use one of SEV1, SEV2");
        let sources: Sources = [("content/a.md", text)].into_iter().collect();
        let out = render_human(&[d], &sources);
        assert!(
            out.contains("error[unknown-severity]: unknown severity `SEV9`"),
            "{out}"
        );
        assert!(out.contains("content/a.md:3:11"), "{out}");
        assert!(out.contains("severity: SEV9"), "{out}");
        assert!(out.contains("^^^^"), "{out}");
        assert!(out.contains("help: use one of SEV1, SEV2"), "{out}");
        assert!(out.ends_with("1 error, 0 warnings\n"), "{out}");
    }

    #[test]
    fn human_format_without_the_text_keeps_the_column() {
        // A file that is not UTF-8 has no text to quote: its place is still exact.
        let d = Diagnostic::error("not-utf8", "latin.md", Pos::new(4, 20, 1), "not UTF-8")
            .with_hint("save the file as UTF-8");
        let out = render_human(&[d], &Sources::new());
        assert!(out.contains("--> latin.md:4:20\n"), "{out}");
        assert!(out.contains("help: save the file as UTF-8"), "{out}");
        assert!(!out.contains('^'), "{out}");
    }
}
