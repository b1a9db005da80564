//! The example knowledge base at the repository root (`content/`,
//! `hindsight.yaml`) is what new users copy: it must stay clean.

use crate::support::{check, repo_root};

#[test]
fn example_knowledge_base_is_clean() {
    let root = repo_root();
    assert!(
        root.join("content").is_dir(),
        "the example knowledge base lives in content/ at the repository root"
    );
    let run = check(&root, &["--format", "json"]);
    let errors: Vec<String> = run
        .diagnostics()
        .into_iter()
        .filter(|d| d.severity == "error")
        .map(|d| format!("{d:?}"))
        .collect();
    assert!(
        errors.is_empty(),
        "the example knowledge base has errors:\n{}",
        errors.join("\n")
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let human = check(&root, &[]);
    assert_eq!(human.code, 0, "{}", human.stderr);
}
