//! A YAML tree where every node knows its line and column.
//!
//! Front matter is parsed with yaml-rust2's event parser instead of serde_yaml:
//! serde_yaml only positions syntax errors, while validation needs the line of
//! every field, nested ones included. Building the tree ourselves also lets us
//! bound alias expansion, reject duplicate keys with the second key's position,
//! and cap nesting depth (see ARCHITECTURE.md).

use std::borrow::Cow;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Alias expansion budget, in nodes: a front matter block is small, so a
/// document that needs more than this is hostile ("billion laughs").
const MAX_NODES: usize = 10_000;
/// Deeper nesting than this is never a real front matter and could exhaust the stack.
const MAX_DEPTH: usize = 64;
/// Bytes of text aliases may copy in all: few values but long ones (one big
/// string behind thousands of aliases) would otherwise take gigabytes.
const MAX_ALIAS_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    /// 1-based line and column in the file the YAML came from.
    pub line: usize,
    pub column: usize,
    /// A plain scalar that YAML resolved to a number or a boolean, as written
    /// (`1.10`, `1e3`, `True`): `value` alone would give `1.1`, `1000`, `true`,
    /// and a text field shows what its author wrote.
    pub plain: Option<Box<str>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys keep their order and positions; duplicate keys are reported at parse time.
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A node at a place, with no source text of its own.
    pub fn new(value: Value, line: usize, column: usize) -> Node {
        Node {
            value,
            line,
            column,
            plain: None,
        }
    }

    /// Where the node is, as wide as its scalar text: what diagnostics point at.
    pub fn pos(&self) -> crate::diagnostic::Pos {
        let len = self.scalar_str().map_or(1, |s| s.chars().count());
        crate::diagnostic::Pos::new(self.line, self.column, len)
    }

    /// A scalar as text, whatever YAML resolved it to (`tier: 1` and `tier: "1"`),
    /// as it was written (`1.10`, not `1.1`).
    pub fn scalar_text(&self) -> Option<String> {
        self.scalar_str().map(Cow::into_owned)
    }

    /// `scalar_text` without copying a string: validation reads every field.
    pub fn scalar_str(&self) -> Option<Cow<'_, str>> {
        let written = || self.plain.as_deref().map(Cow::Borrowed);
        match &self.value {
            Value::Str(s) => Some(Cow::Borrowed(s)),
            Value::Int(i) => written().or_else(|| Some(Cow::Owned(i.to_string()))),
            Value::Float(f) => written().or_else(|| Some(Cow::Owned(f.to_string()))),
            Value::Bool(b) => written().or_else(|| Some(Cow::Owned(b.to_string()))),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(Node, Node)] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    fn size(&self) -> usize {
        match &self.value {
            Value::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            Value::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.size() + v.size())
                    .sum::<usize>()
            }
            _ => 1,
        }
    }

    /// Bytes of text in the node, keys included.
    fn text_len(&self) -> usize {
        match &self.value {
            Value::Str(s) => s.len(),
            Value::Seq(items) => items.iter().map(Node::text_len).sum(),
            Value::Map(entries) => entries
                .iter()
                .map(|(k, v)| k.text_len() + v.text_len())
                .sum(),
            _ => 0,
        }
    }

    /// The node as JSON, for templates and exports.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.scalar_text().unwrap_or_default(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// A problem found while reading YAML, positioned in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlProblem {
    pub code: &'static str,
    pub message: String,
    pub line: usize,
    pub column: usize,
}

/// Parses one YAML document. `first_line` is the file line the YAML text starts on.
/// Returns the root (None when the text is empty or unusable) and every problem found.
pub fn parse(text: &str, first_line: usize) -> (Option<Node>, Vec<YamlProblem>) {
    let mut builder = Builder {
        first_line,
        ..Default::default()
    };
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, false) {
        let m = e.marker();
        builder.problems.push(YamlProblem {
            code: "yaml-syntax",
            message: format!("malformed YAML: {}", e.info()),
            line: m.line() + first_line - 1,
            column: m.col() + 1,
        });
        return (None, builder.problems);
    }
    if builder.aborted {
        return (None, builder.problems);
    }
    (builder.root, builder.problems)
}

#[derive(Default)]
struct Builder {
    first_line: usize,
    stack: Vec<Open>,
    anchors: Vec<(usize, Node)>,
    root: Option<Node>,
    nodes: usize,
    /// Bytes of text copied by aliases so far.
    alias_bytes: usize,
    problems: Vec<YamlProblem>,
    /// Set when the input is hostile; later events are ignored.
    aborted: bool,
}

struct Open {
    node: Node,
    anchor: usize,
    /// For mappings: a key waiting for its value.
    pending_key: Option<Node>,
}

impl Builder {
    fn abort(&mut self, code: &'static str, message: String, line: usize, column: usize) {
        if !self.aborted {
            self.problems.push(YamlProblem {
                code,
                message,
                line,
                column,
            });
            self.aborted = true;
        }
    }

    fn insert(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.push((anchor, node.clone()));
        }
        let Some(parent) = self.stack.last_mut() else {
            self.root = Some(node);
            return;
        };
        match &mut parent.node.value {
            Value::Seq(items) => items.push(node),
            Value::Map(entries) => match parent.pending_key.take() {
                None => parent.pending_key = Some(node),
                Some(key) => {
                    let mut node = node;
                    // An empty value (`started_at:`) is reported where the parser
                    // saw the next token; it belongs on its key's line.
                    if node.value == Value::Null && node.line > key.line {
                        node.line = key.line;
                        node.column =
                            key.column + key.scalar_str().map_or(0, |k| k.chars().count()) + 1;
                    }
                    // Compared without copies: this runs for every key against
                    // every earlier key of its mapping.
                    let key_text = key.scalar_str();
                    if key_text.is_some() && entries.iter().any(|(k, _)| k.scalar_str() == key_text)
                    {
                        self.problems.push(YamlProblem {
                            code: "duplicate-key",
                            message: format!("duplicate key `{}`", key_text.unwrap_or_default()),
                            line: key.line,
                            column: key.column,
                        });
                    } else {
                        entries.push((key, node));
                    }
                }
            },
            _ => unreachable!("only collections are pushed on the stack"),
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.aborted {
            return;
        }
        let line = mark.line() + self.first_line - 1;
        let column = mark.col() + 1;
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            self.abort(
                "yaml-too-large",
                format!("front matter has more than {MAX_NODES} values"),
                line,
                column,
            );
            return;
        }
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let (value, plain) = if style == TScalarStyle::Plain && tag.is_none() {
                    resolve_plain(text)
                } else {
                    (Value::Str(text), None)
                };
                let node = Node {
                    value,
                    line,
                    column,
                    plain,
                };
                self.insert(node, anchor);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    self.abort(
                        "yaml-too-deep",
                        format!("front matter nests deeper than {MAX_DEPTH} levels"),
                        line,
                        column,
                    );
                    return;
                }
                let value = if matches!(ev, Event::SequenceStart(..)) {
                    Value::Seq(vec![])
                } else {
                    Value::Map(vec![])
                };
                self.stack.push(Open {
                    node: Node::new(value, line, column),
                    anchor,
                    pending_key: None,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(open) = self.stack.pop() {
                    self.insert(open.node, open.anchor);
                }
            }
            Event::Alias(id) => {
                let Some(target) = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == id)
                    .map(|(_, n)| n)
                else {
                    self.abort(
                        "yaml-syntax",
                        "alias to an unknown anchor".into(),
                        line,
                        column,
                    );
                    return;
                };
                self.nodes += target.size();
                self.alias_bytes += target.text_len();
                if self.nodes > MAX_NODES || self.alias_bytes > MAX_ALIAS_BYTES {
                    let what = if self.nodes > MAX_NODES {
                        format!("more than {MAX_NODES} values")
                    } else {
                        format!("more than {} KiB of text", MAX_ALIAS_BYTES >> 10)
                    };
                    self.abort(
                        "yaml-alias-bomb",
                        format!("YAML aliases expand to {what}"),
                        line,
                        column,
                    );
                    return;
                }
                let node = Node {
                    plain: target.plain.clone(),
                    ..Node::new(target.value.clone(), line, column)
                };
                self.insert(node, 0);
            }
            Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd
            | Event::Nothing => {}
        }
    }
}

/// YAML 1.2 core schema resolution of a plain scalar. Dates stay strings:
/// the template's field type decides how to read them. A number or a boolean
/// comes with its text as written (`Node::plain`).
fn resolve_plain(text: String) -> (Value, Option<Box<str>>) {
    let value = match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return (Value::Null, None),
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        ".inf" | "+.inf" | ".Inf" | "+.Inf" => Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" => Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" => Value::Float(f64::NAN),
        _ => match resolve_number(&text) {
            Some(number) => number,
            None => return (Value::Str(text), None),
        },
    };
    (value, Some(text.into_boxed_str()))
}

/// A plain scalar's number, if the core schema reads it as one.
fn resolve_number(text: &str) -> Option<Value> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = text.parse::<i64>() {
            return Some(Value::Int(i));
        }
    }
    let looks_numeric = digits
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_digit() || b == b'.')
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if looks_numeric {
        if let Ok(f) = text.parse::<f64>() {
            return Some(Value::Float(f));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_fields_know_their_lines() {
        let (root, problems) = parse(
            "title: x\nimpact:\n  users_affected: 12\n  customer_minutes: lots\n",
            2,
        );
        assert!(problems.is_empty(), "{problems:?}");
        let root = root.unwrap();
        let minutes = root.get("impact").unwrap().get("customer_minutes").unwrap();
        assert_eq!((minutes.line, minutes.column), (5, 21));
        assert_eq!(minutes.value, Value::Str("lots".into()));
        assert_eq!(
            root.get("impact")
                .unwrap()
                .get("users_affected")
                .unwrap()
                .value,
            Value::Int(12)
        );
    }

    #[test]
    fn scalars_resolve_like_yaml_core_schema() {
        let (root, _) = parse(
            "a: 1\nb: 1.5\nc: true\nd: ~\ne: '1'\nf: 2026-01-02\ng: SEV1\n",
            1,
        );
        let root = root.unwrap();
        assert_eq!(root.get("a").unwrap().value, Value::Int(1));
        assert_eq!(root.get("b").unwrap().value, Value::Float(1.5));
        assert_eq!(root.get("c").unwrap().value, Value::Bool(true));
        assert_eq!(root.get("d").unwrap().value, Value::Null);
        assert_eq!(root.get("e").unwrap().value, Value::Str("1".into()));
        assert_eq!(
            root.get("f").unwrap().value,
            Value::Str("2026-01-02".into())
        );
        assert_eq!(root.get("g").unwrap().value, Value::Str("SEV1".into()));
    }

    #[test]
    fn numbers_and_booleans_keep_their_text_as_written() {
        let (root, _) = parse(
            "a: 1.10\nb: 1e3\nc: True\nd: 007\ne: &x 2.50\nf: *x\ng: null\n",
            1,
        );
        let root = root.unwrap();
        let text = |k: &str| root.get(k).unwrap().scalar_text();
        assert_eq!(root.get("a").unwrap().value, Value::Float(1.1));
        assert_eq!(text("a").as_deref(), Some("1.10"));
        assert_eq!(text("b").as_deref(), Some("1e3"));
        assert_eq!(text("c").as_deref(), Some("True"));
        assert_eq!(text("d").as_deref(), Some("007"));
        assert_eq!(
            text("f").as_deref(),
            Some("2.50"),
            "an alias copies the text"
        );
        assert_eq!(text("g"), None, "null has no text");
        // Built, not read: the value's own text.
        assert_eq!(
            Node::new(Value::Float(1.5), 1, 1).scalar_text().as_deref(),
            Some("1.5")
        );
    }

    #[test]
    fn empty_values_sit_on_their_key_line() {
        let (root, _) = parse("title: x\nstarted_at:\nseverity: SEV1\n", 2);
        let empty = root.unwrap().get("started_at").cloned().unwrap();
        assert_eq!(
            (empty.value, empty.line, empty.column),
            (Value::Null, 3, 12)
        );
    }

    #[test]
    fn duplicate_keys_are_reported_at_the_second_key() {
        let (_, problems) = parse("title: a\nid: X\ntitle: b\n", 2);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code, "duplicate-key");
        assert_eq!((problems[0].line, problems[0].column), (4, 1));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let (root, problems) = parse("title: a\nservices: [a, b\n", 2);
        assert!(root.is_none());
        assert_eq!(problems[0].code, "yaml-syntax");
        assert!(problems[0].line >= 3, "{problems:?}");
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let prev = format!("*a{}", i - 1);
            text.push_str(&format!(
                "a{i}: &a{i} [{}]\n",
                [prev.as_str(); 10].join(", ")
            ));
        }
        let (root, problems) = parse(&text, 1);
        assert!(root.is_none());
        assert_eq!(problems[0].code, "yaml-alias-bomb");
    }

    #[test]
    fn aliases_of_long_strings_are_refused() {
        // Few values, but 4000 copies of 100 KB would be 400 MB.
        let text = format!(
            "a: &a \"{}\"\nb: [{}]\n",
            "x".repeat(100_000),
            ["*a"; 4000].join(", ")
        );
        let (root, problems) = parse(&text, 1);
        assert!(root.is_none());
        assert_eq!(problems[0].code, "yaml-alias-bomb");
        assert!(
            problems[0].message.contains("KiB of text"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn small_aliases_are_fine() {
        let (root, problems) = parse("base: &b [a, b]\ncopy: *b\n", 1);
        assert!(problems.is_empty());
        assert_eq!(
            root.unwrap().get("copy").unwrap().to_json(),
            serde_json::json!(["a", "b"])
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("a: {}{}", "[".repeat(200), "]".repeat(200));
        let (root, problems) = parse(&text, 1);
        assert!(root.is_none());
        assert_eq!(problems[0].code, "yaml-too-deep");
    }
}
