//! `check --changed-since REF`: which files a pull request touches, and so
//! which diagnostics to report. The whole knowledge base is still read (links
//! resolve against everything); only the report is narrowed.

use crate::config::CONFIG_FILE;
use crate::diagnostic::Diagnostic;
use crate::kb::KnowledgeBase;
use crate::load::{CONTENT_DIR, TEMPLATES_DIR};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The diagnostics to report for a set of changed files.
#[derive(Debug, Default, PartialEq)]
pub struct Scope {
    /// The configuration or a template changed: every document may be affected.
    pub everything: bool,
    /// Changed documents and the documents they link to, relative to the root.
    pub files: BTreeSet<String>,
    /// A document was deleted: links to it anywhere may now be broken.
    pub deleted_documents: bool,
    /// How many of `files` changed themselves.
    pub changed: usize,
}

impl Scope {
    pub fn includes(&self, d: &Diagnostic) -> bool {
        self.everything
            || self.files.contains(&d.file)
            || (self.deleted_documents && d.code == "broken-link")
    }
}

/// Files changed since `git_ref` (committed since the merge base with HEAD,
/// staged, unstaged or untracked), relative to the knowledge-base root.
/// Files outside the root are left out.
pub fn changed_files(root: &Path, git_ref: &str) -> Result<Vec<String>, String> {
    let toplevel = git(root, &["rev-parse", "--show-toplevel"])?;
    let toplevel = PathBuf::from(toplevel.trim_end_matches(['\n', '\r']));
    let range = format!("{git_ref}...HEAD");
    let committed = git(
        root,
        &["diff", "--name-only", "--no-renames", "-z", &range, "--"],
    )?;
    let status = git(
        root,
        &[
            "status",
            "--porcelain",
            "--no-renames",
            "--untracked-files=all",
            "-z",
        ],
    )?;
    let mut paths: Vec<&str> = committed.split('\0').filter(|p| !p.is_empty()).collect();
    // Porcelain entries are `XY PATH`, with paths relative to the top level.
    paths.extend(
        status
            .split('\0')
            .filter_map(|e| e.get(3..))
            .filter(|p| !p.is_empty()),
    );
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let root = canonical(root);
    let toplevel = canonical(&toplevel);
    let mut files = BTreeSet::new();
    for p in paths {
        let abs = toplevel.join(p);
        if let Ok(rel) = abs.strip_prefix(&root) {
            let rel: Vec<_> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect();
            files.insert(rel.join("/"));
        }
    }
    Ok(files.into_iter().collect())
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        return Err(format!("`git {}` failed: {}", args.join(" "), first.trim()));
    }
    String::from_utf8(out.stdout)
        .map_err(|_| format!("`git {}` printed a path that is not UTF-8", args.join(" ")))
}

/// Narrows the report to the changed files, the documents they link to and
/// the postmortems of changed incidents.
pub fn scope(kb: &KnowledgeBase, changed: &[String]) -> Scope {
    let mut scope = Scope::default();
    for rel in changed {
        if rel == CONFIG_FILE || rel.starts_with(&format!("{TEMPLATES_DIR}/")) {
            scope.everything = true;
        }
        if !rel.starts_with(&format!("{CONTENT_DIR}/")) {
            continue;
        }
        match kb.graph.by_path.get(rel) {
            Some(&i) => {
                scope.changed += 1;
                scope.files.insert(rel.clone());
                // Its postmortems too: their timelines and `incident-mismatch`
                // are checked against it, so an edit here can break them.
                scope.files.extend(
                    kb.graph.outgoing[i]
                        .iter()
                        .chain(&kb.graph.postmortems[i])
                        .map(|&j| kb.documents[j].rel_path.clone()),
                );
            }
            None if rel.ends_with(".md") && !kb.root.join(rel).exists() => {
                scope.deleted_documents = true
            }
            // A file that did not load (empty, not UTF-8, …) has its diagnostics under its path.
            None => {
                scope.changed += 1;
                scope.files.insert(rel.clone());
            }
        }
    }
    scope
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(dir: &Path, args: &[&str]) {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn committed_staged_and_untracked_changes_inside_the_root() {
        let repo = tempfile::tempdir().unwrap();
        let dir = repo.path();
        run(dir, &["init", "-q", "-b", "main"]);
        run(dir, &["config", "user.email", "t@example.com"]);
        run(dir, &["config", "user.name", "t"]);
        let write = |p: &str, text: &str| {
            std::fs::create_dir_all(dir.join(p).parent().unwrap()).unwrap();
            std::fs::write(dir.join(p), text).unwrap();
        };
        write("kb/content/a.md", "a");
        write("kb/content/b.md", "b");
        write("other/x.md", "x");
        run(dir, &["add", "."]);
        run(dir, &["commit", "-q", "-m", "one"]);
        run(dir, &["checkout", "-q", "-b", "topic"]);
        write("kb/content/a.md", "a2");
        write("other/x.md", "x2");
        run(dir, &["commit", "-qam", "two"]);
        write("kb/content/b.md", "b2");
        write("kb/content/new file.md", "n");
        let files = changed_files(&dir.join("kb"), "main").unwrap();
        assert_eq!(
            files,
            ["content/a.md", "content/b.md", "content/new file.md"]
        );
        assert!(changed_files(&dir.join("kb"), "main").unwrap().len() == 3);
        let err = changed_files(&dir.join("kb"), "no-such-ref").unwrap_err();
        assert!(
            err.contains("git diff") && err.contains("no-such-ref"),
            "{err}"
        );
        let not_git = tempfile::tempdir().unwrap();
        assert!(changed_files(not_git.path(), "main").is_err());
    }
}
