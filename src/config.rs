//! `hindsight.yaml`: site settings and knowledge-base policies.
//!
//! Read with serde_yaml (its error locations are enough for a flat config file,
//! and unknown keys are refused so a typo does not silently do nothing).
//! A knowledge base without `hindsight.yaml` uses the defaults.

use crate::diagnostic::{Diagnostic, Pos};
use crate::yaml::{Node, Value};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const CONFIG_FILE: &str = "hindsight.yaml";

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub title: String,
    pub description: String,
    /// Where the site is published; a path (`/kb/`) or a full URL.
    pub base_url: String,
    /// Repository URL for "edit this page" links (`{repo_url}/edit/{branch}/{path}`).
    pub repo_url: Option<String>,
    pub repo_branch: String,
    /// Severity levels, most severe first.
    pub severities: Vec<String>,
    pub policies: Policies,
    /// Files larger than this (bytes) are refused with a diagnostic.
    pub max_file_size: u64,
    /// Keep raw HTML in Markdown as written instead of sanitizing it.
    pub allow_html: bool,
    /// Theme folder under `themes/` that overrides the built-in one.
    pub theme: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policies {
    /// Severities whose incidents need a postmortem.
    pub postmortem_required_for: Vec<String>,
    /// Days after resolution before a missing postmortem is an error.
    pub postmortem_due_days: i64,
    /// Default review interval of runbooks (`90d`, `12w`, `6m`, `1y`).
    pub runbook_review_every: String,
    pub action_items_require_owner: bool,
    pub action_items_require_due: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            title: "Knowledge base".into(),
            description: String::new(),
            base_url: "/".into(),
            repo_url: None,
            repo_branch: "main".into(),
            severities: ["SEV1", "SEV2", "SEV3", "SEV4"].map(String::from).to_vec(),
            policies: Policies::default(),
            max_file_size: 1024 * 1024,
            allow_html: false,
            theme: None,
        }
    }
}

impl Default for Policies {
    fn default() -> Self {
        Policies {
            postmortem_required_for: vec!["SEV1".into(), "SEV2".into()],
            postmortem_due_days: 5,
            runbook_review_every: "180d".into(),
            action_items_require_owner: true,
            action_items_require_due: true,
        }
    }
}

impl Config {
    /// The text of `hindsight.yaml` under `root`, without a byte-order mark;
    /// `None` when there is no such file, and the defaults apply. The caller
    /// keeps the text, so that a diagnostic of `parse` can quote its line.
    pub fn read(root: &Path) -> Result<Option<String>, Diagnostic> {
        match std::fs::read_to_string(root.join(CONFIG_FILE)) {
            Ok(text) => Ok(Some(match text.strip_prefix('\u{feff}') {
                Some(rest) => rest.to_string(),
                None => text,
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Diagnostic::error(
                "config",
                CONFIG_FILE,
                Pos::file_start(),
                format!("cannot read: {e}"),
            )),
        }
    }

    /// The configuration in `text`, or every problem in it: serde stops at
    /// the first key or type it refuses; past that, each value is checked.
    pub fn parse(text: &str) -> Result<Config, Vec<Diagnostic>> {
        Self::checked(text, |_| None)
    }

    /// `parse`, and what it cannot know: whether the theme folder exists
    /// under `root`.
    pub fn load(root: &Path, text: &str) -> Result<Config, Vec<Diagnostic>> {
        Self::checked(text, |config| config.check_files(root, text).err())
    }

    fn checked(
        text: &str,
        files: impl Fn(&Config) -> Option<Diagnostic>,
    ) -> Result<Config, Vec<Diagnostic>> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        let config: Config = serde_yaml::from_str(text).map_err(|e| {
            let pos = e
                .location()
                .map_or(Pos::file_start(), |l| within(text, l.line(), l.column()));
            vec![Diagnostic::error(
                "config",
                CONFIG_FILE,
                pos,
                format!("invalid configuration: {e}"),
            )
            .with_hint("see docs/configuration.md for every option")]
        })?;
        let mut problems = config.check(&Located::new(text));
        problems.extend(files(&config));
        crate::diagnostic::sort(&mut problems);
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(problems)
        }
    }

    /// The values serde accepted but that make no sense, each at its place in
    /// the file, in file order.
    fn check(&self, at: &Located) -> Vec<Diagnostic> {
        let mut problems = vec![];
        let mut bad = |pos: Pos, msg: String, hint: String| {
            problems.push(Diagnostic::error("config", CONFIG_FILE, pos, msg).with_hint(hint));
        };
        if let Some(url) = &self.repo_url {
            if !is_web_url(url) {
                bad(
                    at.value(&["repo_url"]),
                    format!("repo_url `{url}` is not an http(s) URL"),
                    "\"edit this page\" links go to `{repo_url}/edit/{repo_branch}/{path}`: \
                     write the repository's web address, e.g. \
                     `repo_url: https://github.com/acme/sre-kb`, or remove `repo_url:`"
                        .into(),
                );
            }
        }
        if self.severities.is_empty() {
            bad(
                at.value(&["severities"]),
                "`severities` must list at least one level".into(),
                "list the levels, most severe first, e.g. `severities: [SEV1, SEV2, SEV3, SEV4]`, \
                 or remove `severities:` for that default"
                    .into(),
            );
        }
        let required = &self.policies.postmortem_required_for;
        let written = at.node(&["policies", "postmortem_required_for"]).is_some();
        for (i, s) in required.iter().enumerate() {
            if self.severities.contains(s) || self.severities.is_empty() {
                continue;
            }
            let example = self
                .severities
                .iter()
                .take(2)
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            if written {
                bad(
                    at.item(&["policies", "postmortem_required_for"], i),
                    format!("policies.postmortem_required_for names `{s}`, which is not a severity"),
                    format!(
                        "name levels listed in `severities` ({}), e.g. `postmortem_required_for: [{example}]`",
                        self.severities.join(", ")
                    ),
                );
            } else {
                bad(
                    at.value(&["severities"]),
                    format!(
                        "the default policies.postmortem_required_for ({}) names `{s}`, \
                         which is not in `severities`",
                        required.join(", ")
                    ),
                    format!(
                        "set `policies.postmortem_required_for` to the new levels that need a \
                         postmortem, e.g. `postmortem_required_for: [{example}]`"
                    ),
                );
                // One report for the default, not one per level it names.
                break;
            }
        }
        let due = self.policies.postmortem_due_days;
        if due < 0 {
            bad(
                at.value(&["policies", "postmortem_due_days"]),
                format!("policies.postmortem_due_days is {due}: it cannot be negative"),
                "the days after `resolved_at` a postmortem may take, e.g. \
                 `postmortem_due_days: 5` (0: due the day the incident resolved)"
                    .into(),
            );
        }
        let every = &self.policies.runbook_review_every;
        if crate::validate::parse_duration_days(every).is_none() {
            let what = if every.trim().starts_with(['0', '-']) {
                "is not a positive duration"
            } else {
                "is not a duration"
            };
            bad(
                at.value(&["policies", "runbook_review_every"]),
                format!("policies.runbook_review_every `{every}` {what}"),
                "a number above zero and a unit: d (days), w (weeks), m (30 days) or y \
                 (365 days), e.g. `runbook_review_every: 90d`"
                    .into(),
            );
        }
        if self.max_file_size == 0 {
            bad(
                at.value(&["max_file_size"]),
                "max_file_size is 0: every file would be refused".into(),
                "a size in bytes, e.g. `max_file_size: 1048576` (1 MiB, the default)".into(),
            );
        }
        if let Some(name) = &self.theme {
            if let Some(problem) = theme_name_problem(name) {
                bad(
                    at.value(&["theme"]),
                    if name.is_empty() {
                        format!("`theme` {problem}")
                    } else {
                        format!("theme `{name}` {problem}")
                    },
                    "a theme is a folder `themes/NAME/` beside `content/`: write its name \
                     (`theme: NAME`), or remove `theme:` for the built-in theme"
                        .into(),
                );
            }
        }
        crate::diagnostic::sort(&mut problems);
        problems
    }

    /// Whether the theme folder exists under `root`.
    /// `text` is the `hindsight.yaml` this config came from (as `read` gave
    /// it, without a byte-order mark), to point into it.
    pub fn check_files(&self, root: &Path, text: &str) -> Result<(), Diagnostic> {
        if let Some(name) = &self.theme {
            // A name `parse` refused is not looked for.
            if theme_name_problem(name).is_none() && !root.join("themes").join(name).is_dir() {
                let at = Located::new(text);
                return Err(Diagnostic::error(
                    "config",
                    CONFIG_FILE,
                    at.value(&["theme"]),
                    format!("theme folder themes/{name}/ does not exist"),
                )
                .with_hint(format!(
                    "create themes/{name}/ (with templates/*.html or static/ files that \
                     override the built-in theme), or remove `theme:`"
                )));
            }
        }
        Ok(())
    }

    /// `base_url` reduced to its path, with a trailing slash: `/` or `/kb/`.
    pub fn base_path(&self) -> String {
        let url = self.base_url.trim();
        let path = match url.find("://") {
            Some(i) => url[i + 3..].find('/').map_or("/", |j| &url[i + 3 + j..]),
            None => url,
        };
        let path = path.trim_matches('/');
        if path.is_empty() {
            "/".into()
        } else {
            format!("/{path}/")
        }
    }

    /// Rank of a severity: 0 for the most severe; unknown ones sort last.
    pub fn severity_rank(&self, severity: &str) -> usize {
        self.severities
            .iter()
            .position(|s| s == severity)
            .unwrap_or(self.severities.len())
    }
}

/// Why `name` cannot be a theme folder's name, if it cannot: it must be one
/// folder inside `themes/`, not a path out of it.
pub fn theme_name_problem(name: &str) -> Option<&'static str> {
    if name.trim().is_empty() {
        Some("is empty")
    } else if name.contains(['/', '\\']) {
        Some("is a path: a theme is named by its folder in `themes/`")
    } else if name == "." || name.contains("..") || name.contains('\0') {
        Some("is not a folder name")
    } else {
        None
    }
}

/// An absolute http(s) URL with a host, the only kind a link may take from
/// `repo_url` (not `javascript:` or `data:`).
fn is_web_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    !host.is_empty() && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A serde_yaml location as a position inside `text`: a syntax error at the
/// end of a file without a final line break is reported on the line after
/// the last, which does not exist; it goes to the end of the last line.
fn within(text: &str, line: usize, column: usize) -> Pos {
    let lines: Vec<&str> = text.lines().collect();
    match lines.last() {
        Some(last) if line > lines.len() => Pos::new(lines.len(), last.chars().count() + 1, 1),
        _ => Pos::new(line, column, 1),
    }
}

/// The positions of `hindsight.yaml`'s keys and values, for diagnostics about
/// values serde accepted. Read with our own positioned YAML tree.
struct Located {
    root: Option<Node>,
}

impl Located {
    fn new(text: &str) -> Self {
        Located {
            root: crate::yaml::parse(text, 1).0,
        }
    }

    fn node(&self, path: &[&str]) -> Option<&Node> {
        path.iter()
            .try_fold(self.root.as_ref()?, |node, key| node.get(key))
    }

    /// Where the value at `path` is; the file's start if it is not written.
    fn value(&self, path: &[&str]) -> Pos {
        self.node(path).map_or(Pos::file_start(), Node::pos)
    }

    /// Where the `i`th item of the list at `path` is, or the list.
    fn item(&self, path: &[&str], i: usize) -> Pos {
        match self.node(path) {
            Some(Node {
                value: Value::Seq(items),
                ..
            }) if i < items.len() => items[i].pos(),
            _ => self.value(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one problem a test's configuration has.
    fn first(mut problems: Vec<Diagnostic>) -> Diagnostic {
        assert_eq!(problems.len(), 1, "{problems:?}");
        problems.remove(0)
    }

    #[test]
    fn every_problem_is_reported_in_file_order() {
        let text = "max_file_size: 0\nrepo_url: ftp://x\npolicies:\n  postmortem_due_days: -1\n  runbook_review_every: 0d\n";
        let problems = Config::parse(text).unwrap_err();
        let lines: Vec<usize> = problems.iter().map(|d| d.line).collect();
        assert_eq!(lines, [1, 2, 4, 5], "{problems:?}");
    }

    #[test]
    fn unknown_keys_are_refused_with_a_line() {
        let err =
            first(Config::parse("title: x\npolicies:\n  postmortem_due_dayz: 3\n").unwrap_err());
        assert_eq!(err.code, "config");
        assert_eq!(err.line, 3);
        assert!(
            err.message.contains("postmortem_due_dayz"),
            "{}",
            err.message
        );
    }

    /// The `config` error of `text`: its line, column and message.
    fn refused(text: &str) -> (usize, usize, String) {
        let err = first(Config::parse(text).expect_err(text));
        assert_eq!(err.code, "config", "{text}");
        assert!(err.hint.is_some(), "{text}: no hint for {}", err.message);
        (err.line, err.column, err.message)
    }

    #[test]
    fn repo_url_must_be_a_web_url() {
        for (text, at) in [
            (
                "title: x\nrepo_url: \"javascript:alert(document.domain)//\"\n",
                (2, 11),
            ),
            ("repo_url: data:text/html,<b>hi</b>\n", (1, 11)),
            ("repo_url: JaVaScRiPt:alert(1)\n", (1, 11)),
            ("repo_url: github.com/acme/kb\n", (1, 11)),
            ("repo_url: \"https://\"\n", (1, 11)),
            ("repo_url: \"\"\n", (1, 11)),
            ("repo_url: \"https://github.com/a b\"\n", (1, 11)),
        ] {
            let (line, column, message) = refused(text);
            assert_eq!((line, column), at, "{text}: {message}");
            assert!(message.contains("http(s) URL"), "{message}");
        }
        for ok in [
            "https://github.com/acme/kb",
            "http://git.internal:8080/sre/kb/",
            "HTTPS://GitHub.com/acme/kb",
        ] {
            let c = Config::parse(&format!("repo_url: {ok}\n")).unwrap();
            assert_eq!(c.repo_url.as_deref(), Some(ok));
        }
    }

    #[test]
    fn negative_or_zero_policies_are_refused_at_their_value() {
        for (text, at, says) in [
            (
                "policies:\n  postmortem_due_days: -100000\n",
                (2, 24),
                "negative",
            ),
            (
                "policies:\n  postmortem_due_days: -9223372036854775808\n",
                (2, 24),
                "negative",
            ),
            ("policies: {postmortem_due_days: -1}\n", (1, 33), "negative"),
            (
                "policies:\n  runbook_review_every: 0d\n",
                (2, 25),
                "positive",
            ),
            (
                "policies:\n  runbook_review_every: -3w\n",
                (2, 25),
                "positive",
            ),
            (
                "policies:\n  runbook_review_every: soon\n",
                (2, 25),
                "duration",
            ),
            ("title: x\nmax_file_size: 0\n", (2, 16), "max_file_size"),
            ("title: x\nseverities: []\n", (2, 13), "at least one"),
        ] {
            let (line, column, message) = refused(text);
            assert_eq!((line, column), at, "{text}: {message}");
            assert!(message.contains(says), "{text}: {message}");
        }
        // Zero days is a policy (due the day of resolution); huge ones mean never due.
        for ok in [0, 5, i64::MAX] {
            let text = format!("policies:\n  postmortem_due_days: {ok}\n");
            assert_eq!(
                Config::parse(&text).unwrap().policies.postmortem_due_days,
                ok
            );
        }
        assert_eq!(
            Config::parse("max_file_size: 1\n").unwrap().max_file_size,
            1
        );
    }

    #[test]
    fn theme_names_one_folder_in_themes() {
        for (text, says) in [
            ("theme: \"\"\n", "empty"),
            ("theme: \"  \"\n", "empty"),
            ("theme: \"../../etc\"\n", "path"),
            ("theme: /etc\n", "path"),
            ("theme: 'a\\b'\n", "path"),
            ("theme: ..\n", "not a folder name"),
            ("theme: .\n", "not a folder name"),
        ] {
            let (line, column, message) = refused(text);
            assert_eq!((line, column), (1, 8), "{text}: {message}");
            assert!(message.contains(says), "{text}: {message}");
        }
        assert_eq!(
            Config::parse("theme: dark\n").unwrap().theme.as_deref(),
            Some("dark")
        );
    }

    #[test]
    fn a_missing_theme_folder_is_located_at_its_name() {
        let root = tempfile::tempdir().unwrap();
        let text = "title: x\ntheme: nope\n";
        let c = Config::parse(text).unwrap();
        let err = c.check_files(root.path(), text).unwrap_err();
        assert_eq!((err.code, err.line, err.column), ("config", 2, 8));
        assert!(err.message.contains("themes/nope/"), "{}", err.message);
        assert!(err.hint.unwrap().contains("create themes/nope/"));
        std::fs::create_dir_all(root.path().join("themes/nope")).unwrap();
        assert!(c.check_files(root.path(), text).is_ok());
    }

    #[test]
    fn renamed_severities_point_at_the_default_policy_they_break() {
        let (line, column, message) = refused("title: x\nseverities: [P0, P1]\n");
        assert_eq!((line, column), (2, 13), "{message}");
        assert!(message.contains("default"), "{message}");
        let err = first(Config::parse("severities: [P0, P1]\n").unwrap_err());
        let hint = err.hint.unwrap();
        assert!(
            hint.contains("policies.postmortem_required_for") && hint.contains("[P0, P1]"),
            "{hint}"
        );
        // Written by the user: at the level that is not a severity.
        let text = "severities: [P0, P1]\npolicies:\n  postmortem_required_for: [P0, SEV2]\n";
        let (line, column, message) = refused(text);
        assert_eq!((line, column), (3, 33), "{message}");
        assert!(!message.contains("default"), "{message}");
        let ok = "severities: [P0, P1]\npolicies:\n  postmortem_required_for: [P0]\n";
        assert!(Config::parse(ok).is_ok());
    }

    #[test]
    fn errors_on_the_first_and_last_lines_keep_their_place() {
        let (line, column, _) = refused("title: [a]\n");
        assert_eq!((line, column), (1, 8));
        // No final line break: the end of the last line, not a line after it.
        let (line, column, _) = refused("title: x\nseverities: [P0");
        assert_eq!((line, column), (2, 16));
        let (line, column, _) = refused("title: x\nnope: 1");
        assert_eq!((line, column), (2, 1));
    }

    #[test]
    fn defaults_apply() {
        let c = Config::parse("title: Acme\n").unwrap();
        assert_eq!(c.title, "Acme");
        assert_eq!(c.policies.postmortem_due_days, 5);
        assert_eq!(c.severities.len(), 4);
    }

    #[test]
    fn base_path_from_url_or_path() {
        let mut c = Config::default();
        for (url, path) in [
            ("/", "/"),
            ("https://x.github.io/kb", "/kb/"),
            ("/docs/sre/", "/docs/sre/"),
            ("https://a.b", "/"),
        ] {
            c.base_url = url.into();
            assert_eq!(c.base_path(), path, "{url}");
        }
    }
}
