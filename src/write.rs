//! Stage 7, `write`: the only code that writes the site to disk.
//!
//! Writes into a fresh folder beside the output, then swaps it in with two
//! renames, so a failed or interrupted build leaves the previous site as it
//! was. Refuses to replace a folder it did not create (no marker file) unless
//! forced, so `--output ~/Documents` cannot wipe someone's files.

use crate::site::Site;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

pub const MARKER: &str = ".hindsight-output";

#[derive(Debug)]
pub enum WriteError {
    /// The output exists, is not empty, and was not made by hindsight.
    NotOurs(PathBuf),
    Io(PathBuf, std::io::Error),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            WriteError::NotOurs(p) => write!(
                f,
                "{} exists and was not created by hindsight (no {MARKER} file); refusing to replace it (use --force)",
                p.display()
            ),
            WriteError::Io(p, e) => write!(f, "cannot write {}: {e}", p.display()),
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |e| WriteError::Io(path.to_path_buf(), e)
}

/// The fresh folder beside the output (`.public.new-PID`). `build` writes
/// each page and export into it as soon as it is made, so that the site is
/// never held in memory whole; `finish` writes the rest and swaps it in.
/// Dropped unfinished (an error, a failed render), it is removed and the
/// output is left as it was. A build killed outright leaves it behind; the
/// next build into the same output removes it.
pub struct Staging {
    output: PathBuf,
    fresh: PathBuf,
    /// Where the previous output goes during the swap.
    old: PathBuf,
    /// The first error of `put`, which has no caller to return it to.
    failed: std::sync::OnceLock<WriteError>,
    done: bool,
}

impl Staging {
    /// Checks that the output may be replaced, and makes the fresh folder.
    pub fn begin(output: &Path, force: bool) -> Result<Staging, WriteError> {
        if output.exists() && !force {
            let ours = output.join(MARKER).exists();
            let empty = std::fs::read_dir(output)
                .map_err(io(output))?
                .next()
                .is_none();
            if !ours && !empty {
                return Err(WriteError::NotOurs(output.to_path_buf()));
            }
        }
        let parent = output
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        let name = output
            .file_name()
            .map_or("public".into(), |n| n.to_string_lossy().to_string());
        // Leftovers of builds that were killed before they could clean up.
        // Two builds into one output at the same time are not supported.
        let leftover = |n: &str, kind: &str| {
            n.strip_prefix(&format!(".{name}{kind}"))
                .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
        };
        for entry in std::fs::read_dir(parent).map_err(io(parent))?.flatten() {
            let n = entry.file_name().to_string_lossy().to_string();
            if leftover(&n, ".old-") && !output.exists() {
                // Killed mid-swap: this is the previous site.
                let _ = std::fs::rename(entry.path(), output);
            } else if leftover(&n, ".old-") || leftover(&n, ".new-") {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let fresh = parent.join(format!(".{name}.new-{}", std::process::id()));
        let old = parent.join(format!(".{name}.old-{}", std::process::id()));
        std::fs::create_dir_all(&fresh).map_err(io(&fresh))?;
        Ok(Staging {
            output: output.to_path_buf(),
            fresh,
            old,
            failed: std::sync::OnceLock::new(),
            done: false,
        })
    }

    /// Writes one file now; an error is kept and returned by `finish`.
    pub fn put(&self, path: &str, bytes: &[u8]) {
        let target = self.fresh.join(path);
        let result = target
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&target, bytes));
        if let Err(e) = result {
            let _ = self.failed.set(WriteError::Io(target, e));
        }
    }

    /// Whether a write failed (a full disk): the rest need not be made,
    /// as `finish` will report the error and keep the old site.
    pub fn failed(&self) -> bool {
        self.failed.get().is_some()
    }

    /// Writes the site's files, then swaps the fresh folder in for the output.
    pub fn finish(mut self, site: &Site) -> Result<(), WriteError> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        write_tree(site, &self.fresh)?;
        let (output, old) = (&self.output, &self.old);
        if output.exists() {
            std::fs::rename(output, old).map_err(io(output))?;
        }
        let swapped = std::fs::rename(&self.fresh, output).map_err(io(output));
        if swapped.is_err() {
            // Put the previous site back; if even that fails, it stays in `old`.
            if old.exists() && !output.exists() {
                let _ = std::fs::rename(old, output);
            }
        } else if old.exists() {
            let _ = std::fs::remove_dir_all(old);
        }
        self.done = swapped.is_ok();
        swapped
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.fresh);
        }
    }
}

fn write_tree(site: &Site, dir: &Path) -> Result<(), WriteError> {
    let mut folders: Vec<PathBuf> = site
        .files
        .keys()
        .filter_map(|p| Path::new(p).parent().map(|d| dir.join(d)))
        .collect();
    folders.sort();
    folders.dedup();
    for f in &folders {
        std::fs::create_dir_all(f).map_err(io(f))?;
    }
    site.files.par_iter().try_for_each(|(path, bytes)| {
        let target = dir.join(path);
        std::fs::write(&target, bytes.as_slice()).map_err(io(&target))
    })?;
    std::fs::write(
        dir.join(MARKER),
        "This folder is written by `hindsight build` and replaced on every build.\n",
    )
    .map_err(io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(site: &Site, output: &Path, force: bool) -> Result<(), WriteError> {
        Staging::begin(output, force)?.finish(site)
    }

    fn site(files: &[(&str, &str)]) -> Site {
        Site {
            files: files
                .iter()
                .map(|(p, c)| (p.to_string(), std::sync::Arc::new(c.as_bytes().to_vec())))
                .collect(),
            ..Site::default()
        }
    }

    #[test]
    fn swaps_in_and_replaces_its_own_output() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        write(
            &site(&[("index.html", "one"), ("a/b/index.html", "b")]),
            &out,
            false,
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("a/b/index.html")).unwrap(),
            "b"
        );
        write(&site(&[("index.html", "two")]), &out, false).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("index.html")).unwrap(),
            "two"
        );
        assert!(!out.join("a").exists(), "the old site is gone");
        let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary folders left");
    }

    #[test]
    fn a_failed_write_keeps_the_output_and_leaves_nothing_behind() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        write(&site(&[("index.html", "one")]), &out, false).unwrap();
        let staging = Staging::begin(&out, false).unwrap();
        staging.put("a", b"a file");
        assert!(!staging.failed());
        staging.put("a/b.html", b"cannot go under a file");
        assert!(staging.failed());
        let err = staging.finish(&site(&[("index.html", "two")])).unwrap_err();
        assert!(err.to_string().contains("a/b.html"), "{err}");
        assert_eq!(
            std::fs::read_to_string(out.join("index.html")).unwrap(),
            "one"
        );
        let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "the staging folder is removed");
    }

    #[test]
    fn leftovers_of_a_killed_build_are_cleaned_up() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        // Killed while rendering: a half-written staging folder.
        std::fs::create_dir_all(tmp.path().join(".public.new-99999/postmortems")).unwrap();
        // Killed mid-swap: the previous site moved aside, no output.
        let old = tmp.path().join(".public.old-99998");
        std::fs::create_dir_all(&old).unwrap();
        std::fs::write(old.join(MARKER), "").unwrap();
        std::fs::write(old.join("index.html"), "previous").unwrap();
        // Not ours: another folder's staging, and a lookalike name.
        std::fs::create_dir_all(tmp.path().join(".docs.new-1")).unwrap();
        std::fs::create_dir_all(tmp.path().join(".public.new-notes")).unwrap();

        let staging = Staging::begin(&out, false).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("index.html")).unwrap(),
            "previous",
            "the previous site is back in place"
        );
        staging.finish(&site(&[("index.html", "new")])).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        left.sort();
        assert_eq!(left, [".docs.new-1", ".public.new-notes", "public"]);
        assert_eq!(
            std::fs::read_to_string(out.join("index.html")).unwrap(),
            "new"
        );
    }

    #[test]
    fn refuses_a_folder_it_did_not_create() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("docs");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("thesis.tex"), "precious").unwrap();
        let err = write(&site(&[("index.html", "x")]), &out, false).unwrap_err();
        assert!(matches!(err, WriteError::NotOurs(_)));
        assert_eq!(
            std::fs::read_to_string(out.join("thesis.tex")).unwrap(),
            "precious"
        );
        write(&site(&[("index.html", "x")]), &out, true).unwrap();
        assert!(!out.join("thesis.tex").exists());
    }
}
