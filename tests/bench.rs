//! The benchmark's code path (`cargo xtask bench`, `ndis_host::bench`) on the real rvmini.sys,
//! with windows far too short for figures: it must move frames and judge them correctly.
//! Nothing here looks at a time or a rate.

mod common;

use ndis_host::bench::{self, Options};
use std::time::Duration;

fn tiny() -> Options {
    Options {
        image: common::driver_image(),
        runs: 1,
        warmup: Duration::from_millis(5),
        window: Duration::from_millis(25),
        sizes: vec![64, 1514, 9014],
        chains: vec![1, 32],
        threads: vec![1, 2],
        checked: true,
        pauses: 40,
        oids: 20,
        copy_time: Duration::from_millis(2),
        slots: 128,
        perf_map: false,
    }
}

#[test]
fn one_run_delivers_every_frame_and_allocates_nothing_per_frame() {
    let opts = tiny();
    let run = bench::run_once(&opts, &|_| {}).expect("the bench run completes");
    assert!(run.problems.is_empty(), "findings or protocol errors: {:#?}", run.problems);
    assert_eq!(run.live_after_unload, 0, "driver objects left after unload");
    assert_eq!(run.corrupt, 0, "frames whose length disagrees with their tag");
    assert!(run.delivered_sent > 0, "no frame was sent");
    assert_eq!(run.delivered_sent, run.delivered_received, "every frame sent while nothing paused must arrive");
    assert_eq!(run.points.len(), 2 * 3 * 2 * 2, "every point was measured, checks off and on");
    // A window may see no frame at all on a loaded machine (the threads may not get a CPU in
    // 25 ms); all of them together must.
    assert!(run.points.iter().map(|p| p.frames).sum::<u64>() > 0, "no frame completed in any window");
    for p in &run.points {
        assert_eq!(p.allocations, 0, "the driver allocated in steady state: {p:?}");
        assert_eq!(p.live_delta, 0, "live driver objects changed in steady state: {p:?}");
    }
    assert_eq!(run.copies.len(), 3 * 2, "a memcpy limit for every size and thread count");
    assert_eq!(run.pause.len(), opts.pauses);
    assert_eq!(run.restart.len(), opts.pauses);
    assert_eq!(run.oid_loaded.len(), opts.pauses);
    assert_eq!(run.oid_idle.len(), opts.oids);
    assert!(run.clean());
}

#[test]
fn the_summary_renders_every_output() {
    let opts = Options { sizes: vec![64, 1514], chains: vec![32], threads: vec![1], checked: false, ..tiny() };
    let run = bench::run_once(&opts, &|_| {}).expect("the bench run completes");
    assert!(run.clean(), "{:#?}", run.problems);
    let summary = bench::Summary::new(vec![run], bench::Machine::this(), "test".into(), String::new());
    let table = summary.table();
    assert!(table.contains("1514") && table.contains("pause under load"), "{table}");
    let json = summary.json();
    assert!(json.starts_with('{') && json.trim_end().ends_with('}') && json.contains("\"clean\": true"), "{json}");
    let svg = summary.svg();
    assert!(svg.starts_with("<svg") && svg.contains("memcpy limit") && svg.trim_end().ends_with("</svg>"));
    let docs = bench::splice_docs("# Performance\n", &summary.docs_section("performance.svg"));
    assert!(docs.contains(bench::DOCS_BEGIN) && docs.contains("| 1514 | 32 | 1 |"), "{docs}");
}
