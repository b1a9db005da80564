//! `hindsight.yaml`: site settings and knowledge-base policies.
//!
//! Read with serde_yaml (its error locations are enough for a flat config file,
//! and unknown keys are refused so a typo does not silently do nothing).
//! A knowledge base without `hindsight.yaml` uses the defaults.

use crate::diagnostic::{Diagnostic, Pos};
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

    pub fn parse(text: &str) -> Result<Config, Diagnostic> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        let config: Config = serde_yaml::from_str(text).map_err(|e| {
            let pos = e
                .location()
                .map_or(Pos::file_start(), |l| Pos::new(l.line(), l.column(), 1));
            Diagnostic::error(
                "config",
                CONFIG_FILE,
                pos,
                format!("invalid configuration: {e}"),
            )
            .with_hint("see docs/configuration.md for every option")
        })?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), Diagnostic> {
        let bad = |msg: String| Diagnostic::error("config", CONFIG_FILE, Pos::file_start(), msg);
        if self.severities.is_empty() {
            return Err(bad("`severities` must list at least one level".into()));
        }
        for s in &self.policies.postmortem_required_for {
            if !self.severities.contains(s) {
                return Err(bad(format!(
                    "policies.postmortem_required_for names `{s}`, which is not a severity"
                )));
            }
        }
        if crate::validate::parse_duration_days(&self.policies.runbook_review_every).is_none() {
            return Err(bad(format!(
                "policies.runbook_review_every `{}` is not a duration like 90d, 12w, 6m or 1y",
                self.policies.runbook_review_every
            )));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_refused_with_a_line() {
        let err = Config::parse("title: x\npolicies:\n  postmortem_due_dayz: 3\n").unwrap_err();
        assert_eq!(err.code, "config");
        assert_eq!(err.line, 3);
        assert!(
            err.message.contains("postmortem_due_dayz"),
            "{}",
            err.message
        );
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
