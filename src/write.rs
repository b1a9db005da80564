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

pub fn write(site: &Site, output: &Path, force: bool) -> Result<(), WriteError> {
    Staging::begin(output, force)?.finish(site)
}

/// The fresh folder beside the output. `build` writes document pages into it
/// while they are rendered, so that they need not all be held in memory;
/// `finish` writes the rest and swaps it in. Dropped unfinished (an error,
/// a failed render), it is removed and the output is left as it was.
pub struct Staging {
    output: PathBuf,
    fresh: PathBuf,
    /// The first error of `put`, which has no caller to return it to.
    failed: std::sync::Mutex<Option<WriteError>>,
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
        let fresh = parent.join(format!(".{name}.new-{}", std::process::id()));
        if fresh.exists() {
            std::fs::remove_dir_all(&fresh).map_err(io(&fresh))?;
        }
        std::fs::create_dir_all(&fresh).map_err(io(&fresh))?;
        Ok(Staging {
            output: output.to_path_buf(),
            fresh,
            failed: std::sync::Mutex::new(None),
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
            self.failed
                .lock()
                .unwrap()
                .get_or_insert(WriteError::Io(target, e));
        }
    }

    /// Writes the site's files, then swaps the fresh folder in for the output.
    pub fn finish(mut self, site: &Site) -> Result<(), WriteError> {
        if let Some(e) = self.failed.lock().unwrap().take() {
            return Err(e);
        }
        write_tree(site, &self.fresh)?;
        let output = &self.output;
        let old = self.fresh.with_file_name(
            self.fresh
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .replacen(".new-", ".old-", 1),
        );
        if output.exists() {
            std::fs::rename(output, &old).map_err(io(output))?;
        }
        let swapped = std::fs::rename(&self.fresh, output).map_err(io(output));
        if swapped.is_err() && old.exists() && !output.exists() {
            let _ = std::fs::rename(&old, output);
        }
        if old.exists() {
            let _ = std::fs::remove_dir_all(&old);
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
