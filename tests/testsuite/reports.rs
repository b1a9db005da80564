//! `hindsight actions` and `hindsight stats` on the hand-worked metrics
//! fixture (tests/fixtures/metrics; its figures are derived in src/aggregate.rs),
//! and `check --deny-overdue`.

use crate::support::{fixture, stats_json};
use assert_cmd::Command;

/// The fixture's build date: two items are overdue, one is due that day.
const TODAY: &str = "2026-03-20";

/// Runs `hindsight ARGS --root tests/fixtures/metrics --today 2026-03-20`: (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("hindsight")
        .unwrap()
        .args(args)
        .arg("--root")
        .arg(fixture("metrics"))
        .args(["--today", TODAY])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (
        out.status.code().unwrap_or(-1),
        text(out.stdout),
        text(out.stderr),
    )
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn actions_overdue_as_csv() {
    let (code, stdout, stderr) = run(&["actions", "--overdue", "--format", "csv"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "postmortem_id,anchor,state,owner,due,done_on,type,ticket,text,incident_id,severity,services,days_overdue,days_late,days_to_close,postmortem_title,postmortem_path,line",
            // Most overdue first: due 02-01 is 47 days before 03-20, due 03-01 is 19.
            "PM-2025-010,ai-2,overdue,sam,2026-02-01,,detect,,Alert on lock waits above 5 s,PM-2025-010,SEV2,checkout,47,,,Checkout lock timeouts on New Year's Eve,content/postmortems/pm-2025-010-checkout-lock-timeouts.md,43",
            "PM-2026-001,ai-3,overdue,dana,2026-03-01,,process,https://tracker.example/OPS-2,Migration review checklist,INC-2026-001,SEV1,checkout,19,,,Postmortem: checkout database lock contention,content/postmortems/pm-2026-001-checkout-db-locks.md,34",
        ]
    );
    // The knowledge base has one error (a missing postmortem): said on stderr, not in the CSV.
    assert!(stderr.contains("1 error"), "{stderr}");
}

#[test]
fn actions_filter_by_owner_and_service() {
    let (code, stdout, _) = run(&["actions", "--all", "--owner", "@dana", "--format", "json"]);
    assert_eq!(code, 0);
    let v = json(&stdout);
    assert_eq!(v["count"], 3);
    let items = v["items"].as_array().unwrap();
    assert!(items.iter().all(|i| i["owner"] == "dana"), "{stdout}");
    // Stand-up order: overdue first, then done.
    let states: Vec<&str> = items.iter().map(|i| i["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["overdue", "done", "done"]);

    let (_, stdout, _) = run(&["actions", "--service", "payments"]);
    assert!(
        stdout.contains("PM-2026-002#ai-1") && stdout.contains("PM-2026-002#ai-2"),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 items: 0 overdue, 2 open, 0 done (as of 2026-03-20)"),
        "{stdout}"
    );
}

#[test]
fn stats_json_is_the_metrics_export() {
    let (code, stdout, stderr) = run(&["stats", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let kb = hindsight::kb::open(&fixture("metrics"), TODAY.parse().unwrap()).unwrap();
    assert_eq!(
        stdout,
        hindsight::report::metrics_json(&hindsight::aggregate::aggregate(&kb))
    );
    let v = json(&stdout);
    assert_eq!(v["totals"]["incidents"], 6);
    assert_eq!(v["all_time"]["ttr_minutes"]["median"], 90.0);
    assert_eq!(v["all_time"]["ttd_minutes"]["left_out"], 1);
    assert_eq!(
        v["postmortems"]["overdue"][0]["incident_id"],
        "INC-2026-004"
    );
}

#[test]
fn stats_since_counts_later_incidents_only() {
    let (code, stdout, _) = run(&["stats", "--since", "2026-02-01", "--format", "json"]);
    assert_eq!(code, 0);
    let v = json(&stdout);
    assert_eq!(
        (v["since"].as_str(), v["totals"]["incidents"].as_u64()),
        (Some("2026-02-01"), Some(3))
    );
    let (_, table, _) = run(&["stats", "--since", "2026-02-01"]);
    assert!(
        table.starts_with("As of 2026-03-20, incidents since 2026-02-01\n"),
        "{table}"
    );
    assert!(table.contains("Time to resolve"), "{table}");
}

#[test]
fn stats_timings_include_aggregation() {
    let (code, _, stderr) = run(&["stats", "--timings"]);
    assert_eq!(code, 0);
    assert!(stderr.contains("aggregate:"), "{stderr}");
}

#[test]
fn check_deny_overdue_reports_items_at_their_line() {
    let (code, stdout, _) = run(&["check", "--format", "json"]);
    assert_eq!(code, 1, "the fixture has a missing postmortem");
    assert!(!stdout.contains("action-item-overdue"));
    let (code, stdout, _) = run(&["check", "--format", "json", "--deny-overdue"]);
    assert_eq!(code, 1);
    let overdue: Vec<(String, u64)> = stdout
        .lines()
        .map(json)
        .filter(|d| d["code"] == "action-item-overdue")
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        overdue,
        [
            (
                "content/postmortems/pm-2025-010-checkout-lock-timeouts.md".to_string(),
                43
            ),
            (
                "content/postmortems/pm-2026-001-checkout-db-locks.md".to_string(),
                34
            ),
        ]
    );
}

#[test]
fn reports_need_a_knowledge_base() {
    for cmd in ["actions", "stats"] {
        let out = Command::cargo_bin("hindsight")
            .unwrap()
            .args([cmd, "--root", "/nonexistent/kb"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{cmd}");
    }
}

#[test]
fn a_postmortem_due_past_the_calendar_is_pending_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let write = |path: &str, text: &str| {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("content/services/svc.md", "---\nid: svc\nname: Svc\n---\n");
    write(
        "content/incidents/inc-2026-001.md",
        "---\nid: INC-2026-001\ntitle: T\nseverity: SEV1\nstatus: resolved\nservices: [svc]\n\
         started_at: 2026-01-01T00:00:00Z\nresolved_at: 2026-01-01T01:00:00Z\n---\n",
    );
    for days in ["100000000", "9223372036854775807"] {
        write(
            "hindsight.yaml",
            &format!("policies:\n  postmortem_due_days: {days}\n"),
        );
        let v = stats_json(root);
        assert_eq!(
            (&v["postmortems"]["pending"], &v["postmortems"]["overdue"]),
            (&serde_json::json!(1), &serde_json::json!([])),
            "{days}"
        );
    }
}
