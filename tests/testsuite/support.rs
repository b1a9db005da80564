//! Helpers shared by the test modules: fixture paths, running the binary,
//! reading its JSON output, copying a fixture into a temporary folder.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The date every run is judged against, so policies give the same answer any day.
pub const TODAY: &str = "2026-11-26";

/// Longer than any healthy run by far; a run that takes this long is a hang.
const TIMEOUT: Duration = Duration::from_secs(60);

/// `hindsight stats --format json` on a knowledge base, judged on TODAY: the
/// metrics export. It must succeed.
pub fn stats_json(root: &Path) -> serde_json::Value {
    let out = Command::cargo_bin("hindsight")
        .unwrap()
        .args(["stats", "--format", "json", "--today", TODAY, "--root"])
        .arg(root)
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stats failed: {stderr}");
    serde_json::from_slice(&out.stdout).expect("stats prints JSON")
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(name)
}

/// What one run of `hindsight` did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// `(code, file)` of each diagnostic of a `--format json` run.
    pub fn codes_and_files(&self) -> Vec<(String, String)> {
        self.diagnostics()
            .into_iter()
            .map(|d| (d.code, d.file))
            .collect()
    }

    /// The diagnostics of a `--format json` run.
    pub fn diagnostics(&self) -> Vec<Diag> {
        self.stdout
            .lines()
            .map(|line| {
                let v: serde_json::Value =
                    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                let text = |k: &str| {
                    v[k].as_str()
                        .unwrap_or_else(|| panic!("no `{k}` in {line}"))
                        .to_string()
                };
                let num = |k: &str| {
                    v[k].as_u64()
                        .unwrap_or_else(|| panic!("no `{k}` in {line}"))
                        as usize
                };
                Diag {
                    severity: text("severity"),
                    code: text("code"),
                    file: text("file"),
                    line: num("line"),
                    column: num("column"),
                    message: text("message"),
                }
            })
            .collect()
    }

    /// Fails the test if the process panicked, whatever its exit code.
    pub fn assert_no_panic(&self) {
        assert!(
            self.code != 101 && !self.stderr.contains("panicked"),
            "hindsight panicked:\n{}",
            self.stderr
        );
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diag {
    pub severity: String,
    pub code: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Runs `hindsight check --root ROOT --today TODAY ARGS...` in `cwd` (default: the root).
pub fn check_in(cwd: &Path, root: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::cargo_bin("hindsight").expect("the hindsight binary is built");
    cmd.current_dir(cwd)
        .arg("check")
        .arg("--root")
        .arg(root)
        .args(["--today", TODAY])
        .args(args)
        .timeout(TIMEOUT);
    let start = Instant::now();
    let out = cmd.output().expect("hindsight runs");
    let elapsed = start.elapsed();
    let run = Run {
        // No code: killed by the timeout or a signal.
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        elapsed,
    };
    assert!(
        run.code != -1,
        "hindsight did not finish within {TIMEOUT:?} (a hang?)\n{}",
        run.stderr
    );
    run.assert_no_panic();
    run
}

pub fn check(root: &Path, args: &[&str]) -> Run {
    check_in(root, root, args)
}

/// Copies a folder tree (files and folders only) into `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("fixture is readable");
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A fresh copy of a fixture in a temporary folder, to change without touching the original.
pub fn scratch_copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    copy_dir(&fixture(name), dir.path());
    dir
}

/// Replaces `from` with `to` in a file, which must contain `from`.
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}
