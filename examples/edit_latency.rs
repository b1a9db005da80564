//! How long `serve` takes from a saved edit to the new pages, stage by stage,
//! without the watcher and HTTP around it (`bench/serve_latency.py` measures
//! those end to end).
//!
//!     python3 ../shared/bench/gen_corpus.py --n 10000 --out /tmp/kb10k --flavor native
//!     cp -r /tmp/kb10k /dev/shm/kb-edit
//!     cargo run --release --example edit_latency -- /dev/shm/kb-edit 9
//!
//! Edits the knowledge base it is given (a copy!): appends a paragraph to a
//! postmortem's body, then changes its title, N times each, and prints the
//! median of each stage.

use hindsight::serve::{ChangeKind, Workspace};

// As the `hindsight` binary does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(args.next().expect("usage: edit_latency KB [EDITS]"));
    let edits: usize = args.next().map_or(9, |n| n.parse().expect("a number"));
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    let started = Instant::now();
    let mut ws = Workspace::open(&root, today, true).expect("opens");
    let first = ws.build();
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    println!(
        "first build: {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    let mut postmortems: Vec<PathBuf> = std::fs::read_dir(root.join("content/postmortems"))
        .expect("content/postmortems")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    postmortems.sort();
    for kind in ["body", "title"] {
        let mut stages: Vec<(&'static str, Vec<Duration>)> = vec![];
        let mut served = vec![];
        let mut rendered = vec![];
        for k in 0..edits {
            let path = &postmortems[(k * 97) % postmortems.len()];
            let text = std::fs::read_to_string(path).unwrap();
            let text = match kind {
                "body" => format!("{text}\nAn edit, number {k}.\n"),
                _ => text.replacen("\ntitle: ", &format!("\ntitle: Edit {k} - "), 1),
            };
            std::fs::write(path, text).unwrap();
            let t = Instant::now();
            ws.apply(&[(path.clone(), ChangeKind::Content)]).unwrap();
            let applied = t.elapsed();
            let outcome = ws.build_pages();
            let pages = t.elapsed();
            // HINDSIGHT_SKIP_FINISH=1 leaves it out, to profile what comes before.
            let skip = std::env::var_os("HINDSIGHT_SKIP_FINISH").is_some();
            let later = if skip {
                vec![]
            } else {
                ws.finish().expect("finishes")
            };
            let done = t.elapsed();
            assert!(outcome.errors.is_empty() && (skip || !later.is_empty()));
            let site = outcome.site.unwrap();
            let mut laps = vec![("apply", applied)];
            laps.extend(
                ws.timings
                    .iter()
                    .copied()
                    .scan(Duration::ZERO, |prev, (n, t)| {
                        let lap = t - *prev;
                        *prev = t;
                        Some((n, lap))
                    }),
            );
            laps.extend(site.timings.iter().copied());
            laps.push(("AFTER SERVING: search, metrics", done - pages));
            for (name, t) in laps {
                match stages.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, v)) => v.push(t),
                    None => stages.push((name, vec![t])),
                }
            }
            served.push(pages);
            rendered.push(ws.cache.rendered.load(std::sync::atomic::Ordering::Relaxed));
        }
        println!("\n{kind} edit, {edits} times (median ms; pages rendered {rendered:?}):");
        println!(
            "  {:<30} {:>8.1}",
            "SAVED -> PAGES SERVED",
            median(&mut served)
        );
        for (name, mut v) in stages {
            println!("  {name:<30} {:>8.1}", median(&mut v));
        }
    }
}

fn median(v: &mut [Duration]) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1e3
}
