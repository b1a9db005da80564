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
        if let Some(name) = name {
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
                        templates.push((rel, text));
                    } else {
                        statics.retain(|(n, _)| *n != rel);
                        statics.push((rel, bytes));
                    }
                }
            }
        }
        let mut tera = tera::Tera::default();
        tera.autoescape_on(vec![".html", ".xml"]);
        // tera's own `slugify` needs its heavy `builtins` feature; ours matches heading anchors.
        tera.register_filter(
            "slugify",
            |value: &tera::Value, _: &std::collections::HashMap<String, tera::Value>| {
                Ok(tera::Value::String(crate::parse::slugify(
                    value.as_str().unwrap_or_default(),
                )))
            },
        );
        tera.add_raw_templates(templates)
            .map_err(|e| theme_error("themes", error_chain(&e)))?;
        Ok(Theme { tera, statics })
    }

    pub fn render(&self, name: &str, ctx: &tera::Context) -> Result<String, String> {
        self.tera.render(name, ctx).map_err(|e| error_chain(&e))
    }

    pub fn static_files(&self) -> impl Iterator<Item = (String, Vec<u8>)> + '_ {
        self.statics.iter().cloned()
    }
}

fn theme_error(file: &str, message: String) -> Diagnostic {
    Diagnostic::error("theme", file, Pos::file_start(), message).with_hint("see docs/theming.md")
}

/// tera nests the useful message in the error's sources.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}
