//! Stage 1, `load`: the only code that reads the knowledge base from disk.
//!
//! Walks `content/` and `templates/`, reads files in parallel and turns every
//! unreadable, non-UTF-8, empty or oversized file into a diagnostic.

use crate::diagnostic::{Diagnostic, Pos};
use crate::model::SourceFile;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

pub const CONTENT_DIR: &str = "content";
pub const TEMPLATES_DIR: &str = "templates";
pub const STATIC_DIR: &str = "static";

/// Everything read from disk, as plain data.
#[derive(Debug, Default)]
pub struct Inputs {
    pub documents: Vec<SourceFile>,
    pub templates: Vec<SourceFile>,
    /// Files copied into the site as they are: non-Markdown files under
    /// `content/` (images, attachments) and everything under `static/`,
    /// relative to the root. Only listed here: `check` never reads them;
    /// `build` and `serve` read them with `read_assets`.
    pub assets: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn load(root: &Path, max_file_size: u64) -> Inputs {
    let mut inputs = Inputs::default();
    let (docs, content_assets) = walk(root, CONTENT_DIR, &mut inputs.diagnostics);
    let (templates, _) = walk(root, TEMPLATES_DIR, &mut inputs.diagnostics);
    inputs.assets = with_static(root, content_assets, &mut inputs.diagnostics);
    let read_all = |paths: Vec<String>| -> Vec<Result<SourceFile, Diagnostic>> {
        paths
            .into_par_iter()
            .map(|rel| read(root, rel, max_file_size))
            .collect()
    };
    for result in read_all(docs) {
        match result {
            Ok(file) => inputs.documents.push(file),
            Err(d) => inputs.diagnostics.push(d),
        }
    }
    for result in read_all(templates) {
        match result {
            Ok(file) => inputs.templates.push(file),
            Err(d) => inputs.diagnostics.push(d),
        }
    }
    inputs
}

/// Lists the files copied into the site as they are (see `Inputs::assets`).
pub fn asset_paths(root: &Path, diags: &mut Vec<Diagnostic>) -> Vec<String> {
    let (_, content_assets) = walk(root, CONTENT_DIR, diags);
    with_static(root, content_assets, diags)
}

fn with_static(
    root: &Path,
    content_assets: Vec<String>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let (static_md, static_other) = walk(root, STATIC_DIR, diags);
    content_assets
        .into_iter()
        .chain(static_md)
        .chain(static_other)
        .collect()
}

/// Reads assets, keyed by their path in the site (`incidents/graph.png`, `logo.svg`).
pub fn read_assets(
    root: &Path,
    copies: &[String],
    diags: &mut Vec<Diagnostic>,
) -> Vec<(String, std::sync::Arc<Vec<u8>>)> {
    type Asset = (String, std::sync::Arc<Vec<u8>>);
    let read: Vec<Result<Asset, Diagnostic>> = copies
        .par_iter()
        .map(|rel| {
            let bytes = std::fs::read(root.join(rel)).map_err(|e| {
                Diagnostic::error(
                    "unreadable",
                    rel,
                    Pos::file_start(),
                    format!("cannot read: {e}"),
                )
            })?;
            let in_site = rel
                .split_once('/')
                .map_or(rel.as_str(), |(_, rest)| rest)
                .to_string();
            Ok((in_site, std::sync::Arc::new(bytes)))
        })
        .collect();
    let mut assets = vec![];
    for r in read {
        match r {
            Ok(asset) => assets.push(asset),
            Err(d) => diags.push(d),
        }
    }
    assets
}

/// Lists `.md` files and other files under `root/dir`, sorted, relative to `root`.
fn walk(root: &Path, dir: &str, diags: &mut Vec<Diagnostic>) -> (Vec<String>, Vec<String>) {
    let (mut markdown, mut other) = (vec![], vec![]);
    let base = root.join(dir);
    if !base.is_dir() {
        return (markdown, other);
    }
    // Sorted at the end, with `/` before every other byte: the order of a
    // walk with each folder's entries sorted by name (`sort_by_file_name`,
    // which asks every entry its name again at every comparison: a third of
    // `load` for 10,000 files).
    let by_names = |a: &String, b: &String| {
        let low = |c: u8| if c == b'/' { 0 } else { c };
        a.bytes().map(low).cmp(b.bytes().map(low))
    };
    let inside = canonical_root(root);
    // follow_links detects loops and reports them as errors instead of recursing forever.
    let mut entries = WalkDir::new(&base).follow_links(true).into_iter();
    while let Some(entry) = entries.next() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let path = e
                    .path()
                    .map(|p| rel_path(root, p))
                    .unwrap_or_else(|| dir.to_string());
                let (code, msg) = if e.loop_ancestor().is_some() {
                    (
                        "symlink-loop",
                        "symbolic link loop; this folder is skipped".to_string(),
                    )
                } else {
                    ("unreadable", format!("cannot read: {e}"))
                };
                diags.push(Diagnostic::error(code, &path, Pos::file_start(), msg));
                continue;
            }
        };
        // Links are followed, but not out of the knowledge base: a document
        // must not pull in `~/.ssh/id_rsa` (or hang the run on `/dev/zero`).
        // Only links are looked at: resolving every path would cost a few
        // system calls per file.
        let name = entry.file_name().to_string_lossy();
        // Editors' and tools' files are not read, nor are links among them
        // looked at (`.editorconfig` may well link to a dotfiles folder).
        let ignored = name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp");
        if ignored && !entry.file_type().is_dir() {
            continue;
        }
        if entry.path_is_symlink() {
            if let Some(target) = outside(&inside, entry.path()) {
                diags.push(symlink_outside(&rel_path(root, entry.path()), &target));
                if entry.file_type().is_dir() {
                    entries.skip_current_dir();
                }
                continue;
            }
        }
        if entry.file_type().is_dir() {
            continue;
        }
        let rel = rel_path(root, entry.path());
        if !entry.file_type().is_file() {
            // Never opened: reading a named pipe waits for a writer forever.
            diags.push(special_file(&rel, entry.file_type()));
            continue;
        }
        if name.ends_with(".md") {
            markdown.push(rel);
        } else {
            other.push(rel);
        }
    }
    markdown.sort_unstable_by(by_names);
    other.sort_unstable_by(by_names);
    (markdown, other)
}

/// The root with its symbolic links resolved, which link targets are compared with.
fn canonical_root(root: &Path) -> PathBuf {
    root.canonicalize().unwrap_or_else(|_| root.to_path_buf())
}

/// Where `path` leads when that is outside `inside` (a canonical root).
fn outside(inside: &Path, path: &Path) -> Option<PathBuf> {
    let target = path.canonicalize().ok()?;
    (!target.starts_with(inside)).then_some(target)
}

fn symlink_outside(rel: &str, target: &Path) -> Diagnostic {
    Diagnostic::error(
        "symlink-outside",
        rel,
        Pos::file_start(),
        format!(
            "symbolic link to {}, outside the knowledge base; not read",
            target.display()
        ),
    )
    .with_hint("copy the file into the knowledge base, or link to one inside it")
}

fn special_file(rel: &str, file_type: std::fs::FileType) -> Diagnostic {
    #[cfg(unix)]
    let what = {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            "a named pipe"
        } else if file_type.is_socket() {
            "a socket"
        } else if file_type.is_block_device() || file_type.is_char_device() {
            "a device"
        } else {
            "not a regular file"
        }
    };
    #[cfg(not(unix))]
    let what = {
        let _ = file_type;
        "not a regular file"
    };
    Diagnostic::warning(
        "special-file",
        rel,
        Pos::file_start(),
        format!("{what}, not a regular file; skipped"),
    )
    .with_hint("hindsight reads regular files only; move it out of the knowledge base")
}

/// Reads one file again (`serve`, after an event), with the rules of `load`:
/// `None` when it is gone (or a folder), else the file or its diagnostic.
pub fn reread(
    root: &Path,
    rel_path: &str,
    max_file_size: u64,
) -> Option<Result<SourceFile, Diagnostic>> {
    let path = root.join(rel_path);
    // Gone is gone; a link whose target cannot be read is an error, as in
    // the walk (not a document that quietly disappears from the preview).
    std::fs::symlink_metadata(&path).ok()?;
    let meta = match std::fs::metadata(&path) {
        Ok(meta) => meta,
        Err(e) => {
            return Some(Err(Diagnostic::error(
                "unreadable",
                rel_path,
                Pos::file_start(),
                format!("cannot read: {e}"),
            )))
        }
    };
    // One file: its whole path is resolved, links in its folders too.
    if let Some(target) = outside(&canonical_root(root), &path) {
        return Some(Err(symlink_outside(rel_path, &target)));
    }
    if meta.is_dir() {
        return None;
    }
    if !meta.is_file() {
        return Some(Err(special_file(rel_path, meta.file_type())));
    }
    Some(read(root, rel_path.to_string(), max_file_size))
}

fn rel_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn read(root: &Path, rel_path: String, max_file_size: u64) -> Result<SourceFile, Diagnostic> {
    let path: PathBuf = root.join(&rel_path);
    let fail = |code, msg: String| Diagnostic::error(code, &rel_path, Pos::file_start(), msg);
    let size = std::fs::metadata(&path)
        .map_err(|e| fail("unreadable", format!("cannot read: {e}")))?
        .len();
    if size > max_file_size {
        return Err(fail(
            "file-too-large",
            format!("file is {size} bytes, over the limit of {max_file_size}"),
        )
        .with_hint("split the document, or raise `max_file_size` in hindsight.yaml"));
    }
    let bytes =
        std::fs::read(&path).map_err(|e| fail("unreadable", format!("cannot read: {e}")))?;
    decode(&rel_path, bytes)
}

/// Checks a file's bytes are UTF-8 (pointing at the first bad byte) and not
/// empty, and drops a byte-order mark.
pub fn decode(rel_path: &str, bytes: Vec<u8>) -> Result<SourceFile, Diagnostic> {
    let mut text = String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let before = String::from_utf8_lossy(&bytes[..valid]);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Diagnostic::error(
            "not-utf8",
            rel_path,
            Pos::new(line, column, 1),
            "file is not valid UTF-8",
        )
        .with_hint("save the file as UTF-8")
    })?;
    if text.starts_with('\u{feff}') {
        text.drain(..3);
    }
    if text.contains('\r') {
        text = lone_cr_to_lf(text);
    }
    if text.trim().is_empty() {
        return Err(
            Diagnostic::error("empty-file", rel_path, Pos::file_start(), "file is empty")
                .with_hint("write the document from its template: `hindsight new KIND`"),
        );
    }
    Ok(SourceFile {
        rel_path: rel_path.to_string(),
        text,
    })
}

/// A lone CR (classic Mac OS line ends) is a line break to YAML, CommonMark and
/// editors, but not to `LineIndex`: made a LF, the same length, every stage
/// counts lines alike and diagnostics point at the right line. CRLF is kept.
fn lone_cr_to_lf(text: String) -> String {
    let mut bytes = text.into_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
            bytes[i] = b'\n';
        }
    }
    String::from_utf8(bytes).expect("an ASCII byte replaced by an ASCII byte keeps UTF-8 valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The order of a walk that sorts each folder by name, which names with
    /// `-`, `.` or `0` (all below `/`) would break in a plain string sort.
    #[test]
    fn files_come_in_the_order_of_a_sorted_walk() {
        let tmp = tempfile::tempdir().unwrap();
        let files = [
            "a-b.md", "a.md", "a/b.md", "a/c/d.md", "a/c-d.md", "a0.md", "ab.md", "a/c.png",
            "b.txt", "a.b/x.md",
        ];
        for f in files {
            let path = tmp.path().join("content").join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        let (markdown, other) = walk(tmp.path(), "content", &mut vec![]);
        let sorted_walk = |ext: bool| -> Vec<String> {
            WalkDir::new(tmp.path().join("content"))
                .sort_by_file_name()
                .into_iter()
                .map(|e| e.unwrap())
                .filter(|e| e.file_type().is_file())
                .filter(|e| e.path().extension().is_some_and(|x| x == "md") == ext)
                .map(|e| rel_path(tmp.path(), e.path()))
                .collect()
        };
        assert_eq!(markdown, sorted_walk(true));
        assert_eq!(other, sorted_walk(false));
    }

    /// `serve` re-reads a changed file with the rules of the walk.
    #[cfg(unix)]
    #[test]
    fn reread_refuses_what_the_walk_refuses() {
        let tmp = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("content/a")).unwrap();
        std::fs::write(elsewhere.path().join("x.md"), "secret").unwrap();
        std::fs::write(root.join("content/a/in.md"), "text").unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), root.join("content/out")).unwrap();
        std::os::unix::fs::symlink("in.md", root.join("content/a/link.md")).unwrap();
        let _socket = std::os::unix::net::UnixListener::bind(root.join("content/a/s.md")).unwrap();
        let code = |rel| reread(root, rel, 1000).map(|r| r.map(|f| f.text).map_err(|d| d.code));
        assert_eq!(code("content/out/x.md"), Some(Err("symlink-outside")));
        assert_eq!(code("content/a/s.md"), Some(Err("special-file")));
        assert_eq!(code("content/a/link.md"), Some(Ok("text".into())));
        assert_eq!(code("content/a/gone.md"), None);
        assert_eq!(code("content/a"), None);
        // A link to nothing is unreadable, as the walk says; not gone.
        std::os::unix::fs::symlink("nowhere.md", root.join("content/a/dangling.md")).unwrap();
        assert_eq!(code("content/a/dangling.md"), Some(Err("unreadable")));
        let mut diags = vec![];
        walk(root, "content", &mut diags);
        assert!(
            diags
                .iter()
                .any(|d| d.code == "unreadable" && d.file == "content/a/dangling.md"),
            "{diags:?}"
        );
    }

    /// An ignored name (a dotfile) is not read, so where it links is no concern.
    #[cfg(unix)]
    #[test]
    fn ignored_names_may_link_anywhere() {
        let tmp = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("content")).unwrap();
        std::fs::write(elsewhere.path().join("rc"), "x").unwrap();
        std::os::unix::fs::symlink(
            elsewhere.path().join("rc"),
            root.join("content/.editorconfig"),
        )
        .unwrap();
        std::os::unix::fs::symlink(elsewhere.path().join("rc"), root.join("content/notes.md"))
            .unwrap();
        let mut diags = vec![];
        walk(root, "content", &mut diags);
        let found: Vec<(&str, &str)> = diags.iter().map(|d| (d.code, d.file.as_str())).collect();
        assert_eq!(found, [("symlink-outside", "content/notes.md")]);
    }

    #[test]
    fn non_utf8_points_at_the_bad_byte() {
        let d = decode("a.md", b"---\ntitle: caf\xe9\n".to_vec()).unwrap_err();
        assert_eq!((d.code, d.line, d.column), ("not-utf8", 2, 11));
    }

    #[test]
    fn lone_carriage_returns_are_line_breaks() {
        let text = decode("a.md", b"---\rid: x\r\ntitle: y\r---\r".to_vec())
            .unwrap()
            .text;
        assert_eq!(text, "---\nid: x\r\ntitle: y\n---\n");
    }

    #[test]
    fn bom_is_dropped_and_empty_is_refused() {
        assert_eq!(
            decode("a.md", b"\xef\xbb\xbf---\n".to_vec()).unwrap().text,
            "---\n"
        );
        assert_eq!(
            decode("a.md", b"  \n".to_vec()).unwrap_err().code,
            "empty-file"
        );
    }
}
