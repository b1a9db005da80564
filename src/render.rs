//! Stage 6a, `render`: one document's Markdown body to safe HTML.
//!
//! pulldown-cmark events are adjusted on the way through: headings get their
//! anchors and a permalink, `.md` links become page URLs, other relative links
//! point into the site, `javascript:` URLs are dropped, action items get their
//! anchors, and fenced code is highlighted by syntect into CSS classes (cached:
//! the same block is highlighted once per process, which `serve` relies on).
//! Raw HTML is sanitized with ammonia unless the configuration allows it.

use crate::link::{local_markdown_target, resolve_relative};
use crate::model::Document;
use crate::parse::markdown_options;
use pulldown_cmark::{CodeBlockKind, CowStr, Event, Tag, TagEnd};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{LazyLock, Mutex};
use syntect::html::{line_tokens_to_classed_spans, ClassStyle};
use syntect::parsing::{ParseState, ScopeStack, SyntaxReference, SyntaxSet};
use syntect::util::LinesWithEndings;

pub const CLASS_STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };

static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(SyntaxSet::load_defaults_newlines);
/// Highlighted code blocks by a hash of language and code, up to `MAX_BLOCKS`.
static HIGHLIGHTED: LazyLock<Mutex<HashMap<u64, String>>> = LazyLock::new(Default::default);
const MAX_BLOCKS: usize = 20_000;

/// What rendering needs to know about the rest of the site.
pub struct Links<'a> {
    /// Site path prefix, `/` or `/kb/`.
    pub base: &'a str,
    /// For each body link of the document (in order): the page URL it resolves to.
    pub targets: Vec<Option<String>>,
    pub allow_html: bool,
}

/// Renders the body of a document to HTML.
pub fn render_body(doc: &Document, links: &Links) -> String {
    let body = doc.body();
    let mut sections = doc.structure.sections.iter();
    let mut link_targets = links.targets.iter();
    let mut action_items = doc.structure.action_items.iter();
    let mut events: Vec<Event> = Vec::with_capacity(body.len() / 16);
    let mut code: Option<(String, String)> = None; // (language, text)
    let mut has_raw_html = false;
    let mut in_heading = false;

    for (event, range) in
        pulldown_cmark::Parser::new_ext(body, markdown_options()).into_offset_iter()
    {
        let start = range.start + doc.body_start;
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                let anchor = sections
                    .next()
                    .map(|s| s.anchor.clone())
                    .unwrap_or_default();
                events.push(Event::Html(CowStr::from(format!(
                    "<{level} id=\"{}\">",
                    escape(&anchor)
                ))));
                in_heading = true;
            }
            Event::End(TagEnd::Heading(level)) => {
                in_heading = false;
                let anchor = doc
                    .structure
                    .sections
                    .iter()
                    .find(|s| {
                        s.heading.contains(&start)
                            || s.heading.end == start + (range.end - range.start)
                    })
                    .map(|s| s.anchor.as_str());
                let anchor = anchor.unwrap_or("");
                events.push(Event::Html(CowStr::from(format!(
                    "<a class=\"permalink\" href=\"#{}\" aria-label=\"Permalink\">#</a></{level}>",
                    escape(anchor)
                ))));
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let target = link_targets.next().cloned().flatten();
                let dest = match target {
                    Some(url) => {
                        let fragment = dest_url
                            .split_once('#')
                            .map(|(_, f)| format!("#{f}"))
                            .unwrap_or_default();
                        CowStr::from(format!("{url}{fragment}"))
                    }
                    None => site_url(doc, &dest_url, links.base),
                };
                events.push(Event::Start(Tag::Link {
                    link_type,
                    dest_url: dest,
                    title,
                    id,
                }));
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest = site_url(doc, &dest_url, links.base);
                events.push(Event::Start(Tag::Image {
                    link_type,
                    dest_url: dest,
                    title,
                    id,
                }));
            }
            Event::TaskListMarker(checked) => {
                events.push(Event::TaskListMarker(checked));
                if let Some(item) = action_items.clone().next() {
                    if item.range.contains(&start) {
                        action_items.next();
                        events.push(Event::Html(CowStr::from(format!(
                            "<span class=\"anchor\" id=\"{}\"></span>",
                            item.anchor
                        ))));
                    }
                }
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => {
                        info.split([' ', ',', '{']).next().unwrap_or("").to_string()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                code = Some((lang, String::new()));
            }
            Event::Text(text) if code.is_some() => code.as_mut().unwrap().1.push_str(&text),
            Event::End(TagEnd::CodeBlock) => {
                if let Some((lang, text)) = code.take() {
                    events.push(Event::Html(CowStr::from(highlight(&lang, &text))));
                }
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                // Comments (template placeholders) are not content.
                if html.trim_start().starts_with("<!--") && html.trim_end().ends_with("-->") {
                    continue;
                }
                has_raw_html = true;
                events.push(Event::Html(html));
            }
            other => {
                let _ = in_heading;
                events.push(other);
            }
        }
    }
    let mut html = String::with_capacity(body.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    if has_raw_html && !links.allow_html {
        html = sanitizer().clean(&html).to_string();
    }
    html
}

/// Where the links of inline Markdown (timeline entries, action items) point:
/// relative to the document's own file, like the links of its body.
pub struct InlineLinks<'a> {
    pub doc: &'a Document,
    /// Site path prefix, `/` or `/kb/`.
    pub base: &'a str,
    /// The page URL of the document at a path relative to the root
    /// (`content/runbooks/rb-db.md`), if there is one.
    pub page_of: &'a dyn Fn(&str) -> Option<String>,
}

/// Renders one line of Markdown (a timeline entry, an action item) to inline
/// HTML. Raw HTML is shown as text: these lines are short and quoted often.
/// Links resolve as in the body: `.md` links to page URLs, relative links into
/// the site, script URLs to nothing.
pub fn inline_markdown(text: &str, links: &InlineLinks) -> String {
    if is_plain(text) {
        return text.to_string();
    }
    let events =
        pulldown_cmark::Parser::new_ext(text, markdown_options()).filter_map(|e| match e {
            Event::Start(Tag::Paragraph) | Event::End(TagEnd::Paragraph) => None,
            Event::Html(h) | Event::InlineHtml(h) => Some(Event::Text(h)),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest = match local_markdown_target(&dest_url) {
                    Some((path, fragment)) => {
                        let page = (links.page_of)(&resolve_relative(&links.doc.rel_path, path));
                        CowStr::from(page.map_or("#".into(), |url| {
                            format!(
                                "{url}{}",
                                fragment.map(|f| format!("#{f}")).unwrap_or_default()
                            )
                        }))
                    }
                    None => site_url(links.doc, &dest_url, links.base),
                };
                Some(Event::Start(Tag::Link {
                    link_type,
                    dest_url: dest,
                    title,
                    id,
                }))
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => Some(Event::Start(Tag::Image {
                link_type,
                dest_url: site_url(links.doc, &dest_url, links.base),
                title,
                id,
            })),
            other => Some(other),
        });
    let mut html = String::with_capacity(text.len() + 16);
    pulldown_cmark::html::push_html(&mut html, events);
    html.trim_end().to_string()
}

/// Text that Markdown prints as it is: no markup, entity, character to
/// escape or block marker, and no space at the ends. Most timeline entries
/// and action items are, and each spared a parser (see the proptest).
fn is_plain(text: &str) -> bool {
    let b = text.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.last().is_some_and(|c| !c.is_ascii_whitespace())
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || b" ,.;:'()/%@?=+-".contains(&c))
}

/// Inline Markdown without its links (their text stays), for places that are
/// a link themselves: a link inside a link is invalid HTML.
pub fn inline_markdown_unlinked(text: &str) -> String {
    let events =
        pulldown_cmark::Parser::new_ext(text, markdown_options()).filter_map(|e| match e {
            Event::Start(Tag::Paragraph | Tag::Link { .. })
            | Event::End(TagEnd::Paragraph | TagEnd::Link) => None,
            Event::Html(h) | Event::InlineHtml(h) => Some(Event::Text(h)),
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
            other => Some(other),
        });
    let mut html = String::with_capacity(text.len() + 16);
    pulldown_cmark::html::push_html(&mut html, events);
    html.trim_end().to_string()
}

fn is_script_url(dest: &str) -> bool {
    let lower = dest.trim().to_ascii_lowercase();
    lower.starts_with("javascript:")
        || lower.starts_with("vbscript:")
        || lower.starts_with("data:text/html")
}

/// Where a non-Markdown link points in the site: external links stay, relative
/// ones resolve against the source file's folder, root-relative ones against
/// the site root; script URLs are dropped.
fn site_url<'a>(doc: &Document, dest: &CowStr<'a>, base: &str) -> CowStr<'a> {
    if is_script_url(dest) {
        return CowStr::from("#");
    }
    if dest.contains("://")
        || dest.starts_with('#')
        || dest.starts_with("mailto:")
        || dest.starts_with("tel:")
    {
        return dest.clone();
    }
    if local_markdown_target(dest).is_some() {
        // A broken .md link: `check` reported it; keep the text pointing nowhere.
        return CowStr::from("#");
    }
    // Other root-relative links point into the site (`static/` is its root).
    if let Some(rest) = dest.strip_prefix('/') {
        return CowStr::from(format!("{base}{rest}"));
    }
    let resolved = resolve_relative(&doc.rel_path, dest);
    let in_site = resolved.strip_prefix("content/").unwrap_or(&resolved);
    CowStr::from(format!("{base}{in_site}"))
}

/// Highlights a code block into classed spans; plain text is only escaped.
pub fn highlight(lang: &str, code: &str) -> String {
    let syntax = match lang {
        "" | "text" | "txt" | "plain" | "log" | "console" | "output" => None,
        _ => SYNTAXES.find_syntax_by_token(lang),
    };
    let Some(syntax) = syntax else {
        let class = if lang.is_empty() {
            String::new()
        } else {
            format!(" class=\"language-{}\"", escape(lang))
        };
        return format!(
            "<pre class=\"code\"><code{class}>{}</code></pre>\n",
            escape(code)
        );
    };
    let key = {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (lang, code).hash(&mut h);
        h.finish()
    };
    if let Some(hit) = HIGHLIGHTED.lock().unwrap().get(&key) {
        return hit.clone();
    }
    let Some(spans) = highlight_lines(syntax, code) else {
        return format!("<pre class=\"code\"><code>{}</code></pre>\n", escape(code));
    };
    let html = format!(
        "<pre class=\"code hl\"><code class=\"language-{}\">{spans}</code></pre>\n",
        escape(lang),
    );
    let mut highlighted = HIGHLIGHTED.lock().unwrap();
    // `serve` highlights every version of a block being written.
    if highlighted.len() >= MAX_BLOCKS {
        highlighted.clear();
    }
    highlighted.insert(key, html.clone());
    html
}

/// What syntect's `ClassedHTMLGenerator` makes of `code`, line by line, with
/// each line's work remembered: code blocks repeat commands with a different
/// host or table in them, so most of their lines were highlighted before, in
/// the same state. That is three quarters of the lines of the benchmark
/// corpus, and the parser takes some 40 µs a line. `None` if it fails.
fn highlight_lines(syntax: &SyntaxReference, code: &str) -> Option<String> {
    let mut state = (ParseState::new(syntax), ScopeStack::new());
    let mut open_spans = 0isize;
    let mut html = String::with_capacity(code.len() * 3);
    for line in LinesWithEndings::from(code) {
        let known = LINES.with_borrow(|memo| {
            memo.lines
                .get(syntax.name.as_str())?
                .get(line)?
                .iter()
                .find(|l| l.before == state)
                .map(|l| (l.html.clone(), l.delta, l.after.clone()))
        });
        let (spans, delta, after) = match known {
            Some(known) => known,
            None => {
                let before = state.clone();
                // A state holding regex captures (inside a heredoc) never
                // equals a copy of itself: onig compares the captures'
                // buffer addresses. Lines in such states are not kept.
                let keep = before == state;
                let ops = state.0.parse_line(line, &SYNTAXES).ok()?;
                let (spans, delta) =
                    line_tokens_to_classed_spans(line, &ops, CLASS_STYLE, &mut state.1).ok()?;
                if keep {
                    let seen = LineSeen {
                        before,
                        html: spans.clone(),
                        delta,
                        after: state.clone(),
                    };
                    LINES.with_borrow_mut(|memo| memo.remember(&syntax.name, line, seen));
                }
                (spans, delta, state.clone())
            }
        };
        html.push_str(&spans);
        open_spans += delta;
        state = after;
    }
    for _ in 0..open_spans {
        html.push_str("</span>");
    }
    Some(html)
}

/// A line as `highlight_lines` saw it: the parser's state before and after,
/// and the line's HTML (`delta`: spans opened minus spans closed).
struct LineSeen {
    before: (ParseState, ScopeStack),
    html: String,
    delta: isize,
    after: (ParseState, ScopeStack),
}

/// Lines seen, by syntax name and line. Bounded, since `serve` highlights
/// every version of a block being written: past `MAX_LINES` it starts afresh.
#[derive(Default)]
struct LineMemo {
    lines: HashMap<String, HashMap<String, Vec<LineSeen>>>,
    count: usize,
}

const MAX_LINES: usize = 20_000;
/// A line is rarely met in more than a few states (inside a string, ...).
const MAX_STATES_PER_LINE: usize = 4;

impl LineMemo {
    fn remember(&mut self, syntax: &str, line: &str, seen: LineSeen) {
        if self.count >= MAX_LINES {
            *self = LineMemo::default();
        }
        let states = self
            .lines
            .entry(syntax.to_string())
            .or_default()
            .entry(line.to_string())
            .or_default();
        if states.len() < MAX_STATES_PER_LINE {
            states.push(seen);
            self.count += 1;
        }
    }
}

thread_local! {
    /// Per thread: a parser state holds regex captures, which are not `Send`
    /// (onig's regions are raw pointers).
    static LINES: std::cell::RefCell<LineMemo> = Default::default();
}

/// The stylesheet for highlighted code: a light theme, and a dark one by media query.
pub fn highlight_css() -> String {
    let themes = syntect::highlighting::ThemeSet::load_defaults();
    let css = |name: &str| {
        syntect::html::css_for_theme_with_class_style(&themes.themes[name], CLASS_STYLE)
            .unwrap_or_default()
    };
    format!(
        "{}\n@media (prefers-color-scheme: dark) {{\n{}\n}}\n",
        css("InspiredGitHub"),
        css("base16-ocean.dark")
    )
}

fn sanitizer() -> ammonia::Builder<'static> {
    let mut b = ammonia::Builder::default();
    b.add_generic_attributes(["class", "id", "aria-label"]);
    b.add_tag_attributes("input", ["type", "checked", "disabled"]);
    b.add_tags(["input", "details", "summary", "kbd", "mark"]);
    b.add_tag_attributes("th", ["style"]);
    b.add_tag_attributes("td", ["style"]);
    b.link_rel(None);
    b
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    // Byte by byte: the five are ASCII, so never inside a multi-byte
    // character, and the text between them is copied in one piece.
    let mut copied = 0;
    for (i, b) in s.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&s[copied..i]);
        out.push_str(entity);
        copied = i + 1;
    }
    out.push_str(&s[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceFile;

    /// Words, numbers, punctuation, block markers and Markdown's specials.
    fn inline_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let token = prop_oneof![
            6 => "[a-zA-Z]{1,6}",
            3 => "[0-9]{1,2}",
            4 => "[ ,.;:'()/%@?=+-]",
            2 => "(- |1\\. |\\+ |# |    )",
            3 => "[*#&<>_`!\\[\\]~|\"]",
            1 => "(\\*[a-z]+\\*|_[a-z]+_|~~[a-z]+~~|`[a-z]+`)",
        ];
        proptest::collection::vec(token, 0..8).prop_map(|t| t.concat())
    }

    #[test]
    fn words_and_punctuation_are_plain_and_markup_is_not() {
        assert!(is_plain("Rolled back api to v1.2 (see INC-12); @ana paged"));
        for text in ["`kubectl`", "*now*", "1. first", "a & b", "- item", "x  "] {
            assert!(!is_plain(text), "{text}");
        }
    }

    proptest::proptest! {
        /// Rows made in Rust sit in pages beside what tera's autoescape
        /// printed: both must escape alike.
        #[test]
        fn escape_is_teras_autoescape(text in "[a-z&<>\"'/é€ ]{0,40}") {
            let mut tera = Vec::new();
            tera::escape_html(&text, &mut tera).unwrap();
            proptest::prop_assert_eq!(escape(&text), String::from_utf8(tera).unwrap());
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Plain text skips the parser: it must print what the parser would.
        #[test]
        fn plain_text_prints_as_markdown_would(text in inline_text()) {
            if is_plain(&text) {
                let mut parsed = String::new();
                pulldown_cmark::html::push_html(
                    &mut parsed,
                    pulldown_cmark::Parser::new_ext(&text, markdown_options()).filter(|e| {
                        !matches!(e, Event::Start(Tag::Paragraph) | Event::End(TagEnd::Paragraph))
                    }),
                );
                proptest::prop_assert_eq!(&text, parsed.trim_end());
            }
        }
    }

    /// What syntect's own generator makes of a code block.
    fn generator_html(lang: &str, code: &str) -> String {
        let syntax = SYNTAXES.find_syntax_by_token(lang).unwrap();
        let mut generator = syntect::html::ClassedHTMLGenerator::new_with_class_style(
            syntax,
            &SYNTAXES,
            CLASS_STYLE,
        );
        for line in LinesWithEndings::from(code) {
            generator
                .parse_html_for_line_which_includes_newline(line)
                .unwrap();
        }
        generator.finalize()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// Remembered lines come back in other states (inside a string, a
        /// heredoc, a comment): the result must be the generator's all the same.
        #[test]
        fn remembered_lines_highlight_as_the_generator_does(
            lang in proptest::sample::select(vec!["bash", "sql", "python", "yaml"]),
            lines in proptest::collection::vec(proptest::sample::select(vec![
                "kubectl -n prod rollout undo deployment/api",
                "cat <<EOF",
                "EOF",
                "echo \"unterminated $(date)",
                "\"",
                "'",
                "/* open comment",
                "*/",
                "-- note",
                "# comment",
                "SELECT a, b FROM t WHERE x = 'y';",
                "def f(x):",
                "  \"\"\"doc",
                "key: value",
                "",
                "  | sort -k6 -n -r | head -20",
            ]), 0..12),
        ) {
            let code = lines.join("\n") + "\n";
            let syntax = SYNTAXES.find_syntax_by_token(lang).unwrap();
            let expected = generator_html(lang, &code);
            // Twice: the second time, every line is remembered.
            proptest::prop_assert_eq!(highlight_lines(syntax, &code).unwrap(), expected.clone());
            let remembered = LINES.with_borrow(|memo| memo.count);
            proptest::prop_assert_eq!(highlight_lines(syntax, &code).unwrap(), expected);
            proptest::prop_assert_eq!(
                LINES.with_borrow(|memo| memo.count),
                remembered,
                "the second pass found every line it could keep"
            );
        }
    }

    fn render(text: &str, allow_html: bool) -> String {
        let (doc, _) = crate::parse::parse(SourceFile {
            rel_path: "content/postmortems/a.md".into(),
            text: text.into(),
        });
        let links = Links {
            base: "/kb/",
            targets: vec![Some("/kb/runbooks/rb-1/".into())],
            allow_html,
        };
        render_body(&doc, &links)
    }

    #[test]
    fn headings_get_anchors_and_links_are_rewritten() {
        let html = render("---\nid: a\n---\n## Action Items\nSee [rb](../runbooks/rb.md#step) and ![g](img/graph.png).\n", false);
        assert!(
            html.contains(
                "<h2 id=\"action-items\">Action Items<a class=\"permalink\" href=\"#action-items\""
            ),
            "{html}"
        );
        assert!(html.contains("href=\"/kb/runbooks/rb-1/#step\""), "{html}");
        assert!(
            html.contains("src=\"/kb/postmortems/img/graph.png\""),
            "{html}"
        );
    }

    #[test]
    fn scripts_are_dropped_and_raw_html_sanitized() {
        let text = "---\nid: a\n---\n[x](javascript:alert(1))\n\n<script>alert(1)</script>\n\n<b onclick=\"x()\">bold</b>\n";
        let html = render(text, false);
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onclick"), "{html}");
        assert!(html.contains("<b>bold</b>"), "{html}");
        assert!(
            render(text, true).contains("<script>"),
            "allow_html keeps raw HTML"
        );
    }

    #[test]
    fn code_is_highlighted_except_plain_text() {
        let html = render(
            "---\nid: a\n---\n```sql\nSELECT 1;\n```\n\n```text\n<b>log</b>\n```\n",
            false,
        );
        assert!(
            html.contains("<pre class=\"code hl\"><code class=\"language-sql\"><span class=\"hl-"),
            "{html}"
        );
        assert!(html.contains("&lt;b&gt;log&lt;/b&gt;"), "{html}");
    }

    #[test]
    fn a_root_relative_md_link_without_a_page_points_nowhere() {
        let html = render(
            "---\nid: a\n---\n[rb](/content/runbooks/rb.md#s) [gone](/content/gone.md) [sheet](/sheet.txt)\n",
            false,
        );
        // The first link has its page (`targets`); `check` reported the second.
        assert!(html.contains("href=\"/kb/runbooks/rb-1/#s\""), "{html}");
        assert!(html.contains("<a href=\"#\">gone</a>"), "{html}");
        assert!(html.contains("href=\"/kb/sheet.txt\""), "{html}");
    }

    #[test]
    fn action_items_get_anchors() {
        let html = render(
            "---\nid: a\n---\n## Action Items\n- [ ] Do it @dana due:2026-12-01\n",
            false,
        );
        assert!(html.contains("id=\"ai-1\""), "{html}");
    }

    #[test]
    fn inline_markdown_renders_code_and_escapes_html() {
        assert_eq!(
            inline_markdown_unlinked("see [the runbook](../runbooks/rb.md) <b>`now`</b>"),
            "see the runbook &lt;b&gt;<code>now</code>&lt;/b&gt;"
        );
        let (doc, _) = crate::parse::parse(SourceFile {
            rel_path: "content/postmortems/a.md".into(),
            text: "---\nid: a\n---\n".into(),
        });
        let page_of =
            |p: &str| (p == "content/runbooks/rb.md").then(|| "/kb/runbooks/rb/".to_string());
        let links = InlineLinks {
            doc: &doc,
            base: "/kb/",
            page_of: &page_of,
        };
        let inline = |t: &str| inline_markdown(t, &links);
        assert_eq!(
            inline("Run `kubectl` <b>now</b>"),
            "Run <code>kubectl</code> &lt;b&gt;now&lt;/b&gt;"
        );
        assert!(!inline("[x](javascript:alert(1))").contains("javascript"));
        assert_eq!(
            inline("per [the runbook](../runbooks/rb.md#step-2)"),
            "per <a href=\"/kb/runbooks/rb/#step-2\">the runbook</a>"
        );
        assert_eq!(
            inline("[gone](../runbooks/missing.md)"),
            "<a href=\"#\">gone</a>"
        );
        // Root-relative: from the knowledge base root, as GitHub reads them.
        assert_eq!(
            inline("per [the runbook](/content/runbooks/rb.md#step-2)"),
            "per <a href=\"/kb/runbooks/rb/#step-2\">the runbook</a>"
        );
        assert_eq!(
            inline("[gone](/content/runbooks/missing.md)"),
            "<a href=\"#\">gone</a>"
        );
        assert_eq!(
            inline("[graph](img/g.png) [ext](https://x.org/a)"),
            "<a href=\"/kb/postmortems/img/g.png\">graph</a> <a href=\"https://x.org/a\">ext</a>"
        );
    }

    #[test]
    fn highlight_css_has_both_schemes() {
        let css = highlight_css();
        assert!(css.contains(".hl-"), "{}", &css[..200.min(css.len())]);
        assert!(css.contains("prefers-color-scheme: dark"));
    }
}
