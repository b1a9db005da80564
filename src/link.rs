//! Stage 4, `link`: resolves every reference once into a `LinkGraph`.
//!
//! Front matter ids (`incident:`, `runbooks:`, `services:`, `related:`) and
//! `.md` links in the body (relative to the linking file, or to the knowledge
//! base root when they start with `/`) must resolve; the graph keeps each
//! document's outgoing edges and backlinks for the site to use.

use crate::diagnostic::{Diagnostic, Pos};
use crate::model::Document;
use rayon::prelude::*;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Mutex, OnceLock};

#[derive(Debug, Clone, Default)]
pub struct LinkGraph {
    pub by_id: Index,
    pub by_path: Index,
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

/// Ids or paths to document indexes. `link` builds two on every run and
/// looks up every reference in them: the keys are kept in one buffer and the
/// table holds where each key is and its value, so building allocates a few
/// buffers instead of a string per document, and a lookup reads the table and
/// the key, not a string allocated somewhere else for each key.
#[derive(Clone, Default)]
pub struct Index {
    keys: String,
    table: hashbrown::HashTable<Entry>,
    hasher: hashbrown::DefaultHashBuilder,
}

#[derive(Clone)]
struct Entry {
    /// The key's range in `Index::keys`.
    start: usize,
    end: usize,
    value: usize,
}

impl Index {
    pub fn with_capacity(n: usize) -> Self {
        Index {
            // Paths in a knowledge base are a few dozen bytes.
            keys: String::with_capacity(n * 48),
            table: hashbrown::HashTable::with_capacity(n),
            ..Index::default()
        }
    }

    pub fn get(&self, key: &str) -> Option<&usize> {
        let hash = self.hasher.hash_one(key);
        let entry = self
            .table
            .find(hash, |e| &self.keys[e.start..e.end] == key)?;
        Some(&entry.value)
    }

    /// Sets the value of `key`, returning its previous value (like `HashMap::insert`).
    pub fn insert(&mut self, key: &str, value: usize) -> Option<usize> {
        let hash = self.hasher.hash_one(key);
        let Index {
            keys,
            table,
            hasher,
        } = self;
        if let Some(e) = table.find_mut(hash, |e| &keys[e.start..e.end] == key) {
            return Some(std::mem::replace(&mut e.value, value));
        }
        let start = keys.len();
        keys.push_str(key);
        let entry = Entry {
            start,
            end: keys.len(),
            value,
        };
        let keys = &*keys;
        table.insert_unique(hash, entry, |e| hasher.hash_one(&keys[e.start..e.end]));
        None
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Keys and values, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, usize)> {
        self.table
            .iter()
            .map(|e| (&self.keys[e.start..e.end], e.value))
    }
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Splits a link into its path and fragment, if it points at a local Markdown
/// file: relative (`../runbooks/b.md`) or root-relative (`/content/runbooks/b.md`,
/// as GitHub reads it: from the repository root). `//host/b.md` is not local.
pub fn local_markdown_target(dest: &str) -> Option<(&str, Option<&str>)> {
    let bytes = dest.as_bytes();
    if bytes.first() == Some(&b'#') || bytes.starts_with(b"//") || bytes.starts_with(b"mailto:") {
        return None;
    }
    // One pass over the bytes (`link` asks this of every link): a `://`
    // anywhere, the first `#`, and the first `?` before it.
    let (mut hash, mut query) = (None, None);
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b':' if bytes[i + 1..].starts_with(b"//") => return None,
            b'#' if hash.is_none() => hash = Some(i),
            b'?' if hash.is_none() && query.is_none() => query = Some(i),
            _ => {}
        }
    }
    let (path, fragment) = match hash {
        Some(h) => (&dest[..h], Some(&dest[h + 1..])),
        None => (dest, None),
    };
    let path = query.map_or(path, |q| &path[..q]);
    path.ends_with(".md").then_some((path, fragment))
}

/// Resolves `target` relative to the folder of `from` (both relative to the
/// root), or to the root itself when `target` starts with `/`.
pub fn resolve_relative(from: &str, target: &str) -> String {
    // Byte loops rather than `str` searches: paths are short, and `parse`
    // resolves every link of every document.
    let last_slash = |s: &str| s.bytes().rposition(|b| b == b'/');
    // `out` is the `/`-joined list of `depth` parts; no part contains a `/`.
    let (mut out, mut depth) = match last_slash(from) {
        _ if target.starts_with('/') => (String::new(), 0),
        Some(i) => (
            String::from(&from[..i]),
            from.bytes().filter(|&b| b == b'/').count(),
        ),
        None => (String::new(), 0),
    };
    let bytes = target.as_bytes();
    let mut start = 0;
    // The segments of `target.split('/')`.
    while start <= bytes.len() {
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b'/')
            .map_or(bytes.len(), |i| start + i);
        let seg = &target[start..end];
        start = end + 1;
        match seg {
            "" | "." => {}
            ".." => {
                match depth {
                    0 => {}
                    1 => out.clear(),
                    _ => {
                        let i = last_slash(&out).expect("more than one part has a separator");
                        out.truncate(i);
                    }
                }
                depth = depth.saturating_sub(1);
            }
            s => {
                if depth > 0 {
                    out.push('/');
                }
                if s.bytes().any(|b| b == b'%') && s.contains("%20") {
                    out.push_str(&s.replace("%20", " "));
                } else {
                    out.push_str(s);
                }
                depth += 1;
            }
        }
    }
    out
}

pub fn link(docs: &[Document]) -> (LinkGraph, Vec<Diagnostic>) {
    link_again(docs, LinkGraph::default(), &mut Memo::default())
}

/// `link`'s graph alone, for callers that drop its diagnostics (`build`
/// leaving drafts out, whose links to them break on purpose): a broken link's
/// did-you-mean searches every document, so it is not looked for.
pub fn graph(docs: &[Document]) -> LinkGraph {
    link_all(docs, &mut Memo::default(), false).0
}

/// What the last `link_again` found for each document, so that the next one
/// (in `serve`, after an edit) looks up only the references of documents
/// that changed. Valid while no document is added, removed, renamed or
/// changes its id or kind: those change the indexes every lookup reads.
#[derive(Debug, Clone, Default)]
pub struct Memo {
    /// Per document: its stamp, path, id and kind when it was linked.
    keys: Vec<(u64, String, String, String)>,
    /// Per document: the incidents it is the postmortem of, and its diagnostics.
    postmortem_of: Vec<Vec<usize>>,
    diags: Vec<Vec<Diagnostic>>,
    /// Repeated ids; computed again on every run since positions move.
    has_duplicate_ids: bool,
    kinds: Kinds,
    /// False when the last run reused the keys of the one before.
    keys_changed: bool,
}

impl Memo {
    /// True unless the last `link_again` found the same paths, ids and kinds
    /// as the one before: what depends only on them need not be redone.
    pub fn keys_changed(&self) -> bool {
        self.keys_changed
    }

    /// True when `docs` have the paths, ids and kinds the memo was made from.
    fn same_keys(&self, docs: &[Document]) -> bool {
        self.keys.len() == docs.len()
            && !docs.is_empty()
            && self
                .keys
                .iter()
                .zip(docs)
                .all(|((stamp, path, id, kind), d)| {
                    *stamp == d.stamp || (*path == d.rel_path && *id == d.id && *kind == d.kind)
                })
    }
}

/// `link`, reusing `previous` (the graph `memo` describes) for documents whose
/// stamp did not change. The result is the one `link` gives.
pub fn link_again(
    docs: &[Document],
    previous: LinkGraph,
    memo: &mut Memo,
) -> (LinkGraph, Vec<Diagnostic>) {
    if !memo.same_keys(docs) || previous.outgoing.len() != docs.len() {
        return link_all(docs, memo, true);
    }
    memo.keys_changed = false;
    let mut graph = previous;
    let kinds = &memo.kinds;
    let changed: Vec<usize> = (0..docs.len())
        .filter(|&i| memo.keys[i].0 != docs[i].stamp)
        .collect();
    let suggester = Suggester::new(docs, kinds);
    let edges: Vec<Edges> = changed
        .par_iter()
        .map(|&i| edges(&graph, kinds, &suggester, i, &docs[i]))
        .collect();
    for (&i, e) in changed.iter().zip(edges) {
        // Take `i` out of the lists its old edges put it in, then put it
        // where its new edges go, keeping each list sorted by index.
        for &j in &graph.outgoing[i] {
            graph.backlinks[j].retain(|&k| k != i);
        }
        for &j in &memo.postmortem_of[i] {
            graph.postmortems[j].retain(|&k| k != i);
        }
        for &j in &e.out {
            let at = graph.backlinks[j].partition_point(|&k| k < i);
            graph.backlinks[j].insert(at, i);
        }
        for &j in &e.postmortem_of {
            let at = graph.postmortems[j].partition_point(|&k| k <= i);
            graph.postmortems[j].insert(at, i);
        }
        graph.outgoing[i] = e.out;
        graph.body_links[i] = e.body_links;
        memo.postmortem_of[i] = e.postmortem_of;
        memo.diags[i] = e.diags;
        memo.keys[i].0 = docs[i].stamp;
    }
    let mut diags = if memo.has_duplicate_ids {
        index_ids(docs).1
    } else {
        vec![]
    };
    diags.extend(memo.diags.iter().flatten().cloned());
    (graph, diags)
}

/// Links every document, and remembers what it found in `memo`; with
/// `hints`, broken links get a did-you-mean.
fn link_all(docs: &[Document], memo: &mut Memo, hints: bool) -> (LinkGraph, Vec<Diagnostic>) {
    let ((by_path, (by_id, mut diags)), kinds) = rayon::join(
        || {
            rayon::join(
                || {
                    let mut by_path = Index::with_capacity(docs.len());
                    for (i, doc) in docs.iter().enumerate() {
                        by_path.insert(&doc.rel_path, i);
                    }
                    by_path
                },
                || index_ids(docs),
            )
        },
        || Kinds {
            hints,
            ..Kinds::of(docs)
        },
    );
    let has_catalog = kinds.names.iter().any(|k| k == "service");
    let mut graph = LinkGraph {
        by_id,
        by_path,
        outgoing: Vec::with_capacity(docs.len()),
        backlinks: vec![vec![]; docs.len()],
        postmortems: vec![vec![]; docs.len()],
        body_links: Vec::with_capacity(docs.len()),
        has_catalog,
    };
    // Each document's references on its own (in parallel), then the edges
    // between them in document order, so the result does not depend on threads.
    let suggester = Suggester::new(docs, &kinds);
    let edges: Vec<Edges> = docs
        .par_iter()
        .enumerate()
        .map(|(i, doc)| edges(&graph, &kinds, &suggester, i, doc))
        .collect();
    *memo = Memo {
        keys: docs
            .iter()
            .map(|d| (d.stamp, d.rel_path.clone(), d.id.clone(), d.kind.clone()))
            .collect(),
        postmortem_of: Vec::with_capacity(docs.len()),
        diags: Vec::with_capacity(docs.len()),
        has_duplicate_ids: !diags.is_empty(),
        kinds,
        keys_changed: true,
    };
    for (i, e) in edges.into_iter().enumerate() {
        for &j in &e.postmortem_of {
            graph.postmortems[j].push(i);
        }
        // Pushed in increasing `i`: backlinks are sorted by index.
        for &j in &e.out {
            graph.backlinks[j].push(i);
        }
        graph.outgoing.push(e.out);
        graph.body_links.push(e.body_links);
        diags.extend(e.diags.iter().cloned());
        memo.postmortem_of.push(e.postmortem_of);
        memo.diags.push(e.diags);
    }
    (graph, diags)
}

/// Ids to documents; a repeated id keeps its first document. Every document
/// sharing the id gets the error, the first one too: a pull request adding a
/// duplicate must fail `check --changed-since` whichever file sorts first.
fn index_ids(docs: &[Document]) -> (Index, Vec<Diagnostic>) {
    let mut diags = vec![];
    let mut by_id = Index::with_capacity(docs.len());
    let mut first_reported = std::collections::HashSet::new();
    for (i, doc) in docs.iter().enumerate() {
        if let Some(&first) = by_id.get(&doc.id) {
            if first_reported.insert(first) {
                diags.push(
                    Diagnostic::error(
                        "duplicate-id",
                        &docs[first].rel_path,
                        docs[first].id_pos,
                        format!("id `{}` is also used by {}", doc.id, doc.rel_path),
                    )
                    .with_hint("ids are unique across the knowledge base; rename one of them"),
                );
            }
            diags.push(
                Diagnostic::error(
                    "duplicate-id",
                    &doc.rel_path,
                    doc.id_pos,
                    format!(
                        "id `{}` is already used by {}",
                        doc.id, docs[first].rel_path
                    ),
                )
                .with_hint("ids are unique across the knowledge base; rename one of them"),
            );
        } else {
            by_id.insert(&doc.id, i);
        }
    }
    (by_id, diags)
}

/// What one document refers to, found from the indexes of `graph`.
struct Edges {
    /// Documents it refers to, in order, deduplicated, without itself.
    out: Vec<usize>,
    body_links: Vec<Option<usize>>,
    /// Incidents it is the postmortem of.
    postmortem_of: Vec<usize>,
    diags: Vec<Diagnostic>,
}

/// The kind of each document as a number: comparing a reference's kind with
/// its target's then reads no string of the target document. A `Memo` keeps
/// it, since it changes only with the keys.
#[derive(Debug, Clone, Default)]
struct Kinds {
    names: Vec<String>,
    of: Vec<usize>,
    /// Whether broken links get a did-you-mean (see `graph`).
    hints: bool,
}

impl Kinds {
    fn of(docs: &[Document]) -> Self {
        let mut numbers: foldhash::HashMap<&str, usize> = Default::default();
        let mut names = vec![];
        let of = docs
            .iter()
            .map(|d| {
                *numbers.entry(d.kind.as_str()).or_insert_with(|| {
                    names.push(d.kind.clone());
                    names.len() - 1
                })
            })
            .collect();
        Kinds {
            names,
            of,
            hints: true,
        }
    }

    fn name(&self, doc: usize) -> &str {
        &self.names[self.of[doc]]
    }
}

fn edges(
    graph: &LinkGraph,
    kinds: &Kinds,
    suggester: &Suggester,
    i: usize,
    doc: &Document,
) -> Edges {
    let docs = suggester.docs;
    let mut e = Edges {
        out: vec![],
        body_links: Vec::with_capacity(doc.structure.links.len()),
        postmortem_of: vec![],
        diags: vec![],
    };
    let is_postmortem = kinds.name(i) == "postmortem";
    for r in &doc.meta.refs {
        match graph.by_id.get(r.target.as_str()) {
            Some(&j) => {
                if let Some(kind) = &r.to {
                    if kinds.name(j) != kind {
                        e.diags.push(
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
                if is_postmortem && r.field == "incident" {
                    e.postmortem_of.push(j);
                }
                e.out.push(j);
            }
            None => {
                let to_service = r.to.as_deref() == Some("service");
                // Without a service catalog, service names are free text.
                if to_service && !graph.has_catalog {
                    continue;
                }
                let what = r.to.as_deref().unwrap_or("document");
                // A misspelt id of the kind the field takes.
                let hint = if let Some(id) = suggester.id(&r.target, r.to.as_deref()) {
                    format!("did you mean `{id}`?")
                } else if to_service {
                    "the service catalog (content/services/) has no such id; add it or fix the name"
                        .to_string()
                } else {
                    format!("no {what} has this id; check the spelling or create it")
                };
                e.diags.push(
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
    for l in &doc.structure.links {
        // `parse` resolved the path; only the lookup depends on other documents.
        let Some(target) = &l.resolved else {
            e.body_links.push(None);
            continue;
        };
        match graph.by_path.get(target.as_str()) {
            Some(&j) => {
                e.out.push(j);
                e.body_links.push(Some(j));
            }
            None => {
                e.body_links.push(None);
                let path = local_markdown_target(&l.dest).map_or("", |(path, _)| path);
                let hint = match suggester.path(target) {
                    // Written the way the author wrote the link: from the
                    // root when it starts with `/`, else relative.
                    Some(found) if path.starts_with('/') => format!(
                        "no document at {target}; did you mean `/{}`?",
                        found.replace(' ', "%20")
                    ),
                    Some(found) => format!(
                        "no document at {target}; did you mean `{}`?",
                        relative_link(&doc.rel_path, found).replace(' ', "%20")
                    ),
                    None => format!("no document at {target}"),
                };
                e.diags.push(
                    Diagnostic::error(
                        "broken-link",
                        &doc.rel_path,
                        doc.pos(&l.range),
                        format!("link to missing file `{path}`"),
                    )
                    .with_hint(hint),
                );
            }
        }
    }
    dedup_edges(&mut e.out, i);
    e
}

/// A broken link's did-you-mean: the id or path it was likely meant for,
/// by `validate::closest` (numbers must match). Its indexes are made on the
/// first broken link of a linking, and each target is looked up once: a
/// renamed folder breaks tens of thousands of links to a few thousand
/// targets, and scanning every document for each took half a minute at
/// 10,000 documents. Candidates are in document order, so ties resolve the
/// same way on every run.
struct Suggester<'d> {
    docs: &'d [Document],
    kinds: &'d Kinds,
    index: OnceLock<SuggestIndex<'d>>,
    /// What was found for each (kind, id) or (None, path) looked up.
    found: Mutex<HashMap<LookedUp, Option<&'d str>>>,
}

/// A kind (None: any) and the target looked up.
type LookedUp = (Option<String>, String);

#[derive(Default)]
struct SuggestIndex<'d> {
    /// Ids by kind (None: any kind) and by their digits.
    ids: HashMap<(Option<&'d str>, Vec<u8>), Vec<&'d str>>,
    /// Paths by folder, and by file name.
    by_folder: HashMap<&'d str, Vec<&'d str>>,
    by_name: HashMap<&'d str, Vec<&'d str>>,
}

fn digits(s: &str) -> Vec<u8> {
    s.bytes().filter(u8::is_ascii_digit).collect()
}

impl<'d> Suggester<'d> {
    fn new(docs: &'d [Document], kinds: &'d Kinds) -> Self {
        Suggester {
            docs,
            kinds,
            index: OnceLock::new(),
            found: Mutex::default(),
        }
    }

    fn index(&self) -> &SuggestIndex<'d> {
        self.index.get_or_init(|| {
            let mut index = SuggestIndex::default();
            for (j, d) in self.docs.iter().enumerate() {
                for kind in [None, Some(self.kinds.name(j))] {
                    index
                        .ids
                        .entry((kind, digits(&d.id)))
                        .or_default()
                        .push(d.id.as_str());
                }
                let (folder, name) = split_path(&d.rel_path);
                index.by_folder.entry(folder).or_default().push(&d.rel_path);
                index.by_name.entry(name).or_default().push(&d.rel_path);
            }
            index
        })
    }

    /// Once per target: the lookup, or what an earlier one found.
    fn memo(
        &self,
        key: (Option<&str>, &str),
        look: impl FnOnce() -> Option<&'d str>,
    ) -> Option<&'d str> {
        if !self.kinds.hints {
            return None;
        }
        let key = (key.0.map(str::to_string), key.1.to_string());
        if let Some(found) = self.found.lock().unwrap().get(&key) {
            return *found;
        }
        let found = look();
        self.found.lock().unwrap().insert(key, found);
        found
    }

    /// An id of `kind` (any kind for None) spelled like `target`.
    fn id(&self, target: &str, kind: Option<&str>) -> Option<&'d str> {
        self.memo((kind, target), || {
            let same = self.index().ids.get(&(kind, digits(target)))?;
            crate::validate::closest(target, same)
        })
    }

    /// The document a link to the missing `target` (a path from the root)
    /// was likely meant for: one in the same folder with a file name spelled
    /// like it, else one with the same file name in a folder spelled like
    /// it. Names are compared without the folder, so that a long shared
    /// folder does not make unrelated names look close.
    fn path(&self, target: &str) -> Option<&'d str> {
        self.memo((None, target), || {
            let index = self.index();
            let (folder, name) = split_path(target);
            let in_folder = index.by_folder.get(folder).map_or(&[][..], Vec::as_slice);
            let stems: Vec<&str> = in_folder.iter().map(|p| md_stem(split_path(p).1)).collect();
            if let Some(found) = crate::validate::closest(md_stem(name), &stems) {
                return in_folder
                    .iter()
                    .copied()
                    .find(|p| md_stem(split_path(p).1) == found);
            }
            crate::validate::closest(target, index.by_name.get(name)?)
        })
    }
}

/// A path's folder and file name.
fn split_path(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

fn md_stem(name: &str) -> &str {
    name.strip_suffix(".md").unwrap_or(name)
}

/// A relative link from the document at `from` to the one at `to` (both
/// from the root), as authors write them: `../runbooks/rb-db.md`.
fn relative_link(from: &str, to: &str) -> String {
    let mut from_folder: Vec<&str> = from.split('/').collect();
    from_folder.pop();
    let to: Vec<&str> = to.split('/').collect();
    let shared = from_folder
        .iter()
        .zip(&to[..to.len() - 1])
        .take_while(|(a, b)| a == b)
        .count();
    "../".repeat(from_folder.len() - shared) + &to[shared..].join("/")
}

/// Drops edges to `i` itself and repeated edges, keeping the first of each.
fn dedup_edges(out: &mut Vec<usize>, i: usize) {
    if out.len() <= 32 {
        // A document has few edges: a scan of the kept ones beats a set.
        let mut kept = 0;
        for k in 0..out.len() {
            let j = out[k];
            if j != i && !out[..kept].contains(&j) {
                out[kept] = j;
                kept += 1;
            }
        }
        out.truncate(kept);
    } else {
        let mut seen = std::collections::HashSet::with_capacity(out.len());
        out.retain(|&j| j != i && seen.insert(j));
    }
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
        assert_eq!(local_markdown_target("a.md#x://y"), None);
        assert_eq!(local_markdown_target("a:b/c.md"), Some(("a:b/c.md", None)));
        assert_eq!(
            local_markdown_target("c.md?x=1#f"),
            Some(("c.md", Some("f")))
        );
        assert_eq!(
            local_markdown_target("c.md#f?x"),
            Some(("c.md", Some("f?x")))
        );
    }

    #[test]
    fn root_relative_links_resolve_from_the_root() {
        let from = "content/postmortems/2026/a.md";
        assert_eq!(
            local_markdown_target("/content/runbooks/b.md#step-2"),
            Some(("/content/runbooks/b.md", Some("step-2")))
        );
        assert_eq!(
            resolve_relative(from, "/content/runbooks/b.md"),
            "content/runbooks/b.md"
        );
        // Nothing climbs above the root, as with relative links.
        assert_eq!(
            resolve_relative(from, "/../content/runbooks/b.md"),
            "content/runbooks/b.md"
        );
        // Not under content/: resolves, and is then found missing by `link`.
        assert_eq!(resolve_relative(from, "/runbooks/b.md"), "runbooks/b.md");
        // A protocol-relative URL is another host, not a file.
        assert_eq!(local_markdown_target("//x.org/a.md"), None);
        assert_eq!(local_markdown_target("/static/sheet.txt"), None);
    }

    #[test]
    fn relative_links_resolve_back_to_their_target() {
        for (from, to, want) in [
            (
                "content/postmortems/a.md",
                "content/runbooks/b.md",
                "../runbooks/b.md",
            ),
            (
                "content/postmortems/a.md",
                "content/postmortems/b.md",
                "b.md",
            ),
            (
                "content/postmortems/2026/a.md",
                "content/b.md",
                "../../b.md",
            ),
            (
                "content/a.md",
                "content/runbooks/db/b.md",
                "runbooks/db/b.md",
            ),
            ("content/a/a.md", "content/a/a/a.md", "a/a.md"),
        ] {
            assert_eq!(relative_link(from, to), want);
            assert_eq!(resolve_relative(from, want), to);
        }
    }

    #[test]
    fn suggestions_are_close_and_keep_the_numbers() {
        let docs: Vec<Document> = ["INC-2026-014", "INC-2026-015", "RB-db-failover", "RB-dns"]
            .iter()
            .map(|id| {
                crate::parse::parse(crate::model::SourceFile {
                    rel_path: format!("content/x/{id}.md"),
                    text: format!("---\nid: {id}\n---\n"),
                })
                .0
            })
            .collect();
        let kinds = Kinds::of(&docs);
        let suggester = Suggester::new(&docs, &kinds);
        let suggest = |word| suggester.id(word, None);
        assert_eq!(suggest("inc-2026-014"), Some("INC-2026-014"));
        assert_eq!(suggest("INC-2026014"), Some("INC-2026-014"));
        // Another number is another incident, however close.
        assert_eq!(suggest("INC-2026-016"), None);
        assert_eq!(suggest("RB-db-failovr"), Some("RB-db-failover"));
        assert_eq!(suggest("RB-cache"), None);
    }

    /// Links two documents: a postmortem in a subfolder whose body is `body`
    /// (from its fifth line), and a runbook.
    fn linked(body: &str) -> (LinkGraph, Vec<Diagnostic>) {
        let file = |rel_path: &str, text: &str| {
            crate::parse::parse(crate::model::SourceFile {
                rel_path: rel_path.into(),
                text: text.into(),
            })
            .0
        };
        let docs = vec![
            file(
                "content/postmortems/2026/pm.md",
                &format!("---\nid: PM-1\n---\n## Summary\n{body}"),
            ),
            file("content/runbooks/rb.md", "---\nid: RB-1\n---\n## Steps\n"),
        ];
        link(&docs)
    }

    #[test]
    fn root_relative_links_are_checked_like_relative_ones() {
        let (graph, diags) = linked(
            "See [a](../../runbooks/rb.md), [b](/content/runbooks/rb.md#steps),\n\
             and [c](/content/runbooks/gone.md) or [d](/runbooks/rb.md).\n",
        );
        assert_eq!(graph.body_links[0], [Some(1), Some(1), None, None]);
        assert_eq!(graph.backlinks[1], [0]);
        let found: Vec<_> = diags
            .iter()
            .map(|d| (d.code, d.line, d.column, d.message.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "broken-link",
                    6,
                    5,
                    "link to missing file `/content/runbooks/gone.md`"
                ),
                (
                    "broken-link",
                    6,
                    39,
                    "link to missing file `/runbooks/rb.md`"
                ),
            ]
        );
        assert_eq!(
            diags[0].hint.as_deref(),
            Some("no document at content/runbooks/gone.md")
        );
        // Spelled like a document in the same folder, or in another folder.
        let (_, diags) = linked("[a](../../runbooks/r.md) [b](/content/runbook/rb.md)\n");
        let hints: Vec<_> = diags.iter().map(|d| d.hint.as_deref().unwrap()).collect();
        assert_eq!(
            hints,
            [
                "no document at content/runbooks/r.md; did you mean `../../runbooks/rb.md`?",
                "no document at content/runbook/rb.md; did you mean `/content/runbooks/rb.md`?",
            ]
        );
    }

    #[test]
    fn index_behaves_like_a_map() {
        let mut index = Index::with_capacity(2);
        let mut map = std::collections::HashMap::new();
        // More keys than the capacity: the table grows and rehashes.
        for n in 0..500usize {
            let key = format!("content/k{}.md", n % 300);
            assert_eq!(index.insert(&key, n), map.insert(key, n));
        }
        assert_eq!(index.len(), map.len());
        for (k, v) in &map {
            assert_eq!(index.get(k), Some(v));
        }
        assert_eq!(index.get("content/k300.md"), None);
        assert_eq!(index.get(""), None);
        index.insert("", 7);
        assert_eq!(index.get(""), Some(&7));
        let mut all: Vec<(&str, usize)> = index.iter().collect();
        all.sort_unstable();
        assert_eq!(all.len(), 301);
        assert_eq!(all[0], ("", 7));
        assert_eq!(all[1], ("content/k0.md", 300));
    }

    /// The version with `str` searches and a vector of parts, as the reference.
    fn resolve_by_parts(from: &str, target: &str) -> String {
        let mut parts: Vec<&str> = from.split('/').collect();
        parts.pop();
        if target.starts_with('/') {
            parts.clear();
        }
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

    /// The `str`-search version `local_markdown_target` replaced, as the reference.
    fn local_markdown_target_by_search(dest: &str) -> Option<(&str, Option<&str>)> {
        if dest.contains("://")
            || dest.starts_with("mailto:")
            || dest.starts_with('#')
            || dest.starts_with("//")
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

    #[test]
    fn one_pass_link_split_matches_str_searches() {
        let dests = [
            "",
            "#",
            "/",
            ":",
            "://",
            "a.md",
            "a.md:",
            "a.md:/",
            "a.md://",
            "a.md#x://y",
            "a?b.md",
            "a.md?x",
            "a.md?x#y",
            "a.md#y?x",
            "a.md##",
            "a#b#c.md",
            "??.md",
            "mailto:a.md",
            "mailto",
            "http://x/a.md",
            "../r/b.md#step-2",
            "é.md#ü",
            "x/ä?.md",
            "a:/b.md",
            "a:b//c.md",
            "a.md#",
            "a.md?",
            "/a.md",
            "/content/r/b.md#step-2",
            "//x.org/a.md",
            "//",
            "/",
            "/#a.md",
        ];
        for dest in dests {
            assert_eq!(
                local_markdown_target(dest),
                local_markdown_target_by_search(dest),
                "{dest:?}"
            );
        }
    }

    #[test]
    fn resolving_by_bytes_matches_resolving_by_parts() {
        let froms = [
            "",
            "a.md",
            "content/a.md",
            "content/x/a.md",
            "content//a.md",
            "/a.md",
            "content/x/",
        ];
        let targets = [
            "",
            "b.md",
            "./b.md",
            "../b.md",
            "../../b.md",
            "../../../../b.md",
            "x//y/./b.md",
            "/b.md",
            "/content/runbooks/b.md",
            "/../content/./b.md",
            "//b.md",
            "a%20b/c%20d.md",
            "%20/../b.md",
            "..",
            "../",
            "x/..",
            "./../x/../../y.md",
        ];
        for from in froms {
            for target in targets {
                assert_eq!(
                    resolve_relative(from, target),
                    resolve_by_parts(from, target),
                    "{from:?} {target:?}"
                );
            }
        }
    }

    /// A document of the property test below: its id, kind (by folder),
    /// references and body links drawn from a small set, so that they often
    /// collide, break and point at each other.
    fn arbitrary_doc() -> impl proptest::strategy::Strategy<Value = (usize, String)> {
        use proptest::prelude::*;
        let ids = ["INC-1", "INC-2", "PM-1", "PM-2", "RB-1", "NOPE"];
        let targets = [
            "../incidents/a.md",
            "../postmortems/c.md",
            "b.md",
            "../runbooks/e.md",
            "gone.md",
            "https://x.org/a.md",
        ];
        (
            0..6usize,
            proptest::sample::select(ids.to_vec()),
            proptest::sample::select(ids.to_vec()),
            proptest::collection::vec(proptest::sample::select(ids.to_vec()), 0..3),
            proptest::collection::vec(proptest::sample::select(targets.to_vec()), 0..4),
            0..3usize,
        )
            .prop_map(|(slot, id, incident, related, links, blank_lines)| {
                let related = related.join(", ");
                let body: String = links.iter().map(|l| format!("See [x]({l}).\n")).collect();
                let text = format!(
                    "---\nid: {id}\ntitle: t\nseverity: SEV2\nstatus: resolved\nincident: {incident}\nrelated: [{related}]\nrunbooks: [RB-1]\nauthors: [dana]\n{}---\n## Summary\n{body}",
                    "\n".repeat(blank_lines)
                );
                (slot, text)
            })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// `link_again` after any sequence of edits gives what `link` gives.
        #[test]
        fn linking_again_equals_linking_anew(
            first in proptest::collection::vec(arbitrary_doc(), 6),
            edits in proptest::collection::vec(arbitrary_doc(), 1..12),
        ) {
            let paths = [
                "content/incidents/a.md",
                "content/incidents/b.md",
                "content/postmortems/c.md",
                "content/postmortems/d.md",
                "content/runbooks/e.md",
                "content/postmortems/f.md",
            ];
            let config = crate::config::Config::default();
            let (templates, _) = crate::template::Templates::load(&[]);
            let ctx = crate::validate::Context {
                config: &config,
                templates: &templates,
                today: chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            };
            let parse = |slot: usize, text: &str| {
                let (mut doc, _) = crate::parse::parse(crate::model::SourceFile {
                    rel_path: paths[slot].to_string(),
                    text: text.to_string(),
                });
                crate::validate::validate(&mut doc, &ctx);
                doc
            };
            let mut docs: Vec<Document> = (0..6).map(|slot| parse(slot, &first[slot].1)).collect();
            let mut memo = Memo::default();
            let (mut graph, _) = link_again(&docs, LinkGraph::default(), &mut memo);
            for (slot, text) in edits {
                docs[slot] = parse(slot, &text);
                let (again, mut diags) = link_again(&docs, graph, &mut memo);
                let (anew, mut expected) = link(&docs);
                crate::diagnostic::sort(&mut diags);
                crate::diagnostic::sort(&mut expected);
                proptest::prop_assert_eq!(&again.outgoing, &anew.outgoing);
                proptest::prop_assert_eq!(&again.backlinks, &anew.backlinks);
                proptest::prop_assert_eq!(&again.postmortems, &anew.postmortems);
                proptest::prop_assert_eq!(&again.body_links, &anew.body_links);
                proptest::prop_assert_eq!(again.has_catalog, anew.has_catalog);
                proptest::prop_assert_eq!(format!("{:?}", again.by_id.iter().collect::<std::collections::BTreeMap<_, _>>()), format!("{:?}", anew.by_id.iter().collect::<std::collections::BTreeMap<_, _>>()));
                proptest::prop_assert_eq!(format!("{diags:?}"), format!("{expected:?}"));
                graph = again;
            }
        }
    }
}
