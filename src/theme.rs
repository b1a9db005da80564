//! The theme: tera templates and static assets. The default theme in
//! `themes/default/` is embedded in the binary, so an installed binary needs no
//! files; a knowledge base with `theme: NAME` in hindsight.yaml overrides any
//! template or asset, file by file, from its own `themes/NAME/`.

use crate::diagnostic::{Diagnostic, Pos};
use std::path::Path;

const TEMPLATES: [(&str, &str); 11] = [
    (
        "metrics.html",
        include_str!("../themes/default/templates/metrics.html"),
    ),
    (
        "action_items.html",
        include_str!("../themes/default/templates/action_items.html"),
    ),
    (
        "base.html",
        include_str!("../themes/default/templates/base.html"),
    ),
    (
        "macros.html",
        include_str!("../themes/default/templates/macros.html"),
    ),
    (
        "index.html",
        include_str!("../themes/default/templates/index.html"),
    ),
    (
        "list.html",
        include_str!("../themes/default/templates/list.html"),
    ),
    (
        "page.html",
        include_str!("../themes/default/templates/page.html"),
    ),
    (
        "tags.html",
        include_str!("../themes/default/templates/tags.html"),
    ),
    (
        "tag.html",
        include_str!("../themes/default/templates/tag.html"),
    ),
    (
        "search.html",
        include_str!("../themes/default/templates/search.html"),
    ),
    (
        "404.html",
        include_str!("../themes/default/templates/404.html"),
    ),
];

const STATIC: [(&str, &[u8]); 4] = [
    (
        "style.css",
        include_bytes!("../themes/default/static/style.css"),
    ),
    (
        "search.js",
        include_bytes!("../themes/default/static/search.js"),
    ),
    (
        "filter.js",
        include_bytes!("../themes/default/static/filter.js"),
    ),
    // Named in every page, so browsers do not ask for /favicon.ico (outside a sub-path site).
    (
        "favicon.svg",
        include_bytes!("../themes/default/static/favicon.svg"),
    ),
];

pub struct Theme {
    tera: tera::Tera,
    /// Each template's name and the file shown for it in errors.
    origin: Vec<(String, String)>,
    statics: Vec<(String, Vec<u8>)>,
}

impl Theme {
    /// The built-in theme with the knowledge base's overrides, if it names a theme.
    pub fn load(root: &Path, name: Option<&str>) -> Result<Theme, Diagnostic> {
        let mut templates: Vec<(String, String)> = TEMPLATES
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        let mut statics: Vec<(String, Vec<u8>)> = STATIC
            .iter()
            .map(|(n, b)| (n.to_string(), b.to_vec()))
            .collect();
        // Where each template came from, for errors: the default theme's
        // file, or the knowledge base's own that overrides it.
        let mut origin: Vec<(String, String)> = TEMPLATES
            .iter()
            .map(|(n, _)| (n.to_string(), format!("themes/default/templates/{n}")))
            .collect();
        if let Some(name) = name {
            // `check` refuses these in hindsight.yaml; never read outside `themes/`.
            if let Some(problem) = crate::config::theme_name_problem(name) {
                return Err(theme_error(
                    crate::config::CONFIG_FILE,
                    format!("theme `{name}` {problem}"),
                ));
            }
            let dir = root.join("themes").join(name);
            if !dir.is_dir() {
                return Err(theme_error(
                    &format!("themes/{name}"),
                    format!("theme folder themes/{name} does not exist"),
                ));
            }
            for (sub, is_template) in [("templates", true), ("static", false)] {
                let base = dir.join(sub);
                for entry in walkdir::WalkDir::new(&base)
                    .into_iter()
                    .filter_map(Result::ok)
                    .filter(|e| e.file_type().is_file())
                {
                    let rel = entry
                        .path()
                        .strip_prefix(&base)
                        .unwrap_or(entry.path())
                        .to_string_lossy()
                        .replace('\\', "/");
                    let shown = format!("themes/{name}/{sub}/{rel}");
                    let bytes = std::fs::read(entry.path())
                        .map_err(|e| theme_error(&shown, format!("cannot read: {e}")))?;
                    if is_template {
                        let text = String::from_utf8(bytes)
                            .map_err(|_| theme_error(&shown, "template is not UTF-8".into()))?;
                        templates.retain(|(n, _)| *n != rel);
                        origin.retain(|(n, _)| *n != rel);
                        origin.push((rel.clone(), shown));
                        templates.push((rel, text));
                    } else {
                        statics.retain(|(n, _)| *n != rel);
                        statics.push((rel, bytes));
                    }
                }
            }
        }
        let mut tera = tera::Tera::default();
        tera.autoescape_on([".html", ".xml"]);
        // Ours, not a third-party slug: tag page paths and heading anchors use it too.
        tera.register_filter(
            "slugify",
            |value: &str, _: tera::Kwargs, _: &tera::State| crate::parse::slugify(value),
        );
        tera.register_filter(
            "tag_slug",
            |value: &str, _: tera::Kwargs, _: &tera::State| crate::site::tag_slug(value),
        );
        // `3412` as `3,412`: impact figures read at a glance.
        tera.register_filter(
            "thousands",
            |value: tera::Value, _: tera::Kwargs, _: &tera::State| match value.as_i64() {
                Some(n) => thousands(n),
                None => value.to_string(),
            },
        );
        // tera 1's `default`, as theme authors know it: a null value (a
        // field the document does not have) takes the default too; with
        // `boolean=true`, so does any false value (tera 2's option).
        tera.register_filter(
            "default",
            |value: tera::Value, kwargs: tera::Kwargs, _: &tera::State| {
                let falsy =
                    kwargs.get::<bool>("boolean")?.unwrap_or_default() && !value.is_truthy();
                if falsy || value.is_undefined() || value.is_none() {
                    kwargs.must_get::<tera::Value>("value")
                } else {
                    Ok(value)
                }
            },
        );
        tera.add_raw_templates(templates).map_err(|e| {
            let (file, pos, message) = located(&e, &origin);
            Diagnostic::error("theme", &file, pos, message).with_hint("see docs/theming.md")
        })?;
        Ok(Theme {
            tera,
            origin,
            statics,
        })
    }

    /// Renders a template; a failure is a diagnostic at the template's line.
    pub fn render(&self, name: &str, ctx: &tera::Context) -> Result<String, Diagnostic> {
        self.tera.render(name, ctx).map_err(|e| {
            let (file, pos, message) = located(&e, &self.origin);
            Diagnostic::error("theme", &file, pos, message).with_hint("see docs/theming.md")
        })
    }

    pub fn static_files(&self) -> impl Iterator<Item = (String, Vec<u8>)> + '_ {
        self.statics.iter().cloned()
    }
}

/// The texts of the templates these diagnostics name, so their snippets can
/// show the line: add them to the knowledge base's sources.
pub fn template_texts(root: &Path, diags: &[Diagnostic]) -> Vec<(String, String)> {
    diags
        .iter()
        .filter_map(|d| Some((d.file.clone(), template_text(root, &d.file)?)))
        .collect()
}

/// The text of a template a diagnostic names (`themes/NAME/templates/…`):
/// the embedded default theme's, or the knowledge base's file.
fn template_text(root: &Path, file: &str) -> Option<String> {
    match file.strip_prefix("themes/default/templates/") {
        Some(name) => TEMPLATES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| text.to_string()),
        None if file.starts_with("themes/") => std::fs::read_to_string(root.join(file)).ok(),
        None => None,
    }
}

fn theme_error(file: &str, message: String) -> Diagnostic {
    Diagnostic::error("theme", file, Pos::file_start(), message).with_hint("see docs/theming.md")
}

/// The template file, position and message of a tera error. `origin` maps a
/// template's name to the file shown for it.
fn located(e: &tera::Error, origin: &[(String, String)]) -> (String, Pos, String) {
    match e.kind() {
        tera::ErrorKind::SyntaxError(report) | tera::ErrorKind::RenderingError(report) => {
            let name = report.filename();
            let file = origin
                .iter()
                .find(|(n, _)| n == name)
                .map_or_else(|| name.to_string(), |(_, shown)| shown.clone());
            let span = report.span();
            let len = if span.end_line == span.start_line {
                span.end_col.saturating_sub(span.start_col).max(1)
            } else {
                1
            };
            let pos = Pos::new(span.start_line, span.start_col + 1, len);
            (file, pos, report.message().to_string())
        }
        // Errors found once all templates are in (an unknown filter or
        // component, a missing block) carry their place only in tera's
        // report: `error: MESSAGE` then `--> NAME:LINE:COLUMN`.
        _ => {
            let text = e.to_string();
            let message = text
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("error: ")
                .to_string();
            let place = text.lines().find_map(|l| {
                let (name, rest) = l.trim_start().strip_prefix("--> ")?.split_once(':')?;
                let (line, column) = rest.split_once(':')?;
                let shown = origin.iter().find(|(n, _)| n == name)?;
                Some((shown.1.clone(), line.parse().ok()?, column.parse().ok()?))
            });
            match place {
                Some((file, line, column)) => (file, Pos::new(line, column, 1), message),
                None => ("themes".into(), Pos::file_start(), text),
            }
        }
    }
}

/// `n` with commas between groups of three digits.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits_by_three() {
        let cases = [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (3412, "3,412"),
            (21000, "21,000"),
            (1234567, "1,234,567"),
            (-45000, "-45,000"),
            (i64::MIN, "-9,223,372,036,854,775,808"),
        ];
        for (n, text) in cases {
            assert_eq!(thousands(n), text);
        }
    }

    #[test]
    fn a_theme_name_never_leaves_themes() {
        // `check` refuses these in hindsight.yaml; `load` refuses them too, so
        // a caller that skipped the config check cannot read `../../etc`.
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("themes/dark")).unwrap();
        std::fs::create_dir_all(root.path().join("outside/templates")).unwrap();
        for name in ["../outside", "..", ".", "", "/etc", "a\\b"] {
            let err = Theme::load(root.path(), Some(name))
                .err()
                .unwrap_or_else(|| panic!("{name:?} was loaded"));
            assert_eq!(err.code, "theme", "{name:?}");
        }
        assert!(Theme::load(root.path(), Some("dark")).is_ok());
    }
}
