//! Stage 4, `link`: resolves every reference once into a `LinkGraph`.
//!
//! Front matter ids (`incident:`, `runbooks:`, `services:`, `related:`) and
//! relative `.md` links in the body must resolve; the graph keeps each
//! document's outgoing edges and backlinks for the site to use.

use crate::diagnostic::{Diagnostic, Pos};
use crate::model::Document;
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct LinkGraph {
    pub by_id: HashMap<String, usize>,
    pub by_path: HashMap<String, usize>,
    /// Documents each document refers to (front matter and body), in order, deduplicated.
    pub outgoing: Vec<Vec<usize>>,
    /// Documents that refer to each document, sorted by index.
    pub backlinks: Vec<Vec<usize>>,
    /// Postmortems whose `incident:` names each incident.
    pub postmortems: Vec<Vec<usize>>,
    /// For each body link of each document: the document it resolves to.
    pub body_links: Vec<Vec<Option<usize>>>,
    /// True when the knowledge base has a service catalog.
    pub has_catalog: bool,
}

impl LinkGraph {
    pub fn get(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }
}

/// Splits a link into its path and fragment, if it points at a local Markdown file.
pub fn local_markdown_target(dest: &str) -> Option<(&str, Option<&str>)> {
    if dest.contains("://")
        || dest.starts_with("mailto:")
        || dest.starts_with('#')
        || dest.starts_with('/')
    {
        return None;
    }
    let (path, fragment) = match dest.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (dest, None),
    };
    let path = path.split('?').next().unwrap_or(path);
    path.ends_with(".md").then_some((path, fragment))
}

/// Resolves `target` relative to the folder of `from` (both relative to the root).
pub fn resolve_relative(from: &str, target: &str) -> String {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    let decoded = target.replace("%20", " ");
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

pub fn link(docs: &[Document]) -> (LinkGraph, Vec<Diagnostic>) {
    let mut diags = vec![];
    let mut graph = LinkGraph {
        outgoing: vec![vec![]; docs.len()],
        backlinks: vec![vec![]; docs.len()],
        postmortems: vec![vec![]; docs.len()],
        ..Default::default()
    };
    for (i, doc) in docs.iter().enumerate() {
        graph.by_path.insert(doc.rel_path.clone(), i);
        if let Some(&first) = graph.by_id.get(&doc.id) {
            diags.push(
                Diagnostic::error(
                    "duplicate-id",
                    &doc.rel_path,
                    doc.id_pos,
                    format!("id `{}` is already used", doc.id),
                )
                .with_hint(format!(
                    "{} has the same id; ids are unique across the knowledge base",
                    docs[first].rel_path
                )),
            );
        } else {
            graph.by_id.insert(doc.id.clone(), i);
        }
        graph.has_catalog |= doc.kind == "service";
    }

    for (i, doc) in docs.iter().enumerate() {
        let mut out: Vec<usize> = vec![];
        for r in &doc.meta.refs {
            let to_service = r.to.as_deref() == Some("service");
            match graph.by_id.get(&r.target) {
                Some(&j) => {
                    if let Some(kind) = &r.to {
                        if &docs[j].kind != kind {
                            diags.push(
                                Diagnostic::error(
                                    "wrong-ref-kind",
                                    &doc.rel_path,
                                    r.pos,
                                    format!(
                                        "`{}` names {} `{}`, not a {kind}",
                                        r.field, docs[j].kind, r.target
                                    ),
                                )
                                .with_hint(format!("`{}` takes ids of {kind} documents", r.field)),
                            );
                            continue;
                        }
                    }
                    if r.field == "incident" && doc.kind == "postmortem" {
                        graph.postmortems[j].push(i);
                    }
                    out.push(j);
                }
                // Without a service catalog, service names are free text.
                None if to_service && !graph.has_catalog => {}
                None => {
                    let what = r.to.as_deref().unwrap_or("document");
                    let hint = if to_service {
                        "the service catalog (content/services/) has no such id; add it or fix the name".to_string()
                    } else {
                        format!("no {what} has this id; check the spelling or create it")
                    };
                    diags.push(
                        Diagnostic::error(
                            "broken-link",
                            &doc.rel_path,
                            r.pos,
                            format!("`{}` names unknown {what} `{}`", r.field, r.target),
                        )
                        .with_hint(hint),
                    );
                }
            }
        }
        let mut body_links = vec![];
        for l in &doc.structure.links {
            let Some((path, _fragment)) = local_markdown_target(&l.dest) else {
                body_links.push(None);
                continue;
            };
            let target = resolve_relative(&doc.rel_path, path);
            match graph.by_path.get(&target) {
                Some(&j) => {
                    out.push(j);
                    body_links.push(Some(j));
                }
                None => {
                    body_links.push(None);
                    diags.push(
                        Diagnostic::error(
                            "broken-link",
                            &doc.rel_path,
                            doc.pos(&l.range),
                            format!("link to missing file `{path}`"),
                        )
                        .with_hint(format!("no document at {target}")),
                    );
                }
            }
        }
        graph.body_links.push(body_links);
        let mut seen = std::collections::HashSet::new();
        out.retain(|&j| j != i && seen.insert(j));
        for &j in &out {
            graph.backlinks[j].push(i);
        }
        graph.outgoing[i] = out;
    }
    for b in &mut graph.backlinks {
        b.sort_unstable();
    }
    (graph, diags)
}

/// A position of a reference, for diagnostics raised by later stages.
pub fn ref_pos(doc: &Document, field: &str) -> Pos {
    doc.meta
        .refs
        .iter()
        .find(|r| r.field == field)
        .map_or(Pos::file_start(), |r| r.pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve() {
        assert_eq!(
            resolve_relative("content/postmortems/a.md", "../runbooks/b.md"),
            "content/runbooks/b.md"
        );
        assert_eq!(
            resolve_relative("content/a.md", "./x/y.md"),
            "content/x/y.md"
        );
        assert_eq!(
            local_markdown_target("../r/b.md#step-2"),
            Some(("../r/b.md", Some("step-2")))
        );
        assert_eq!(local_markdown_target("https://x.org/a.md"), None);
        assert_eq!(local_markdown_target("../r/b.png"), None);
    }
}
