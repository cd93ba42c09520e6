//! Cleaning throughput: the five seed articles, 200 times each, through
//! `CleanRules::clean` (what the pipeline runs) and `CleanRules::clean_mapped` (which also
//! builds the offset map), on one thread. Run with `cargo bench --bench clean`.

use std::time::Instant;

use presslens::clean::CleanRules;

/// The seed articles (`seeds/*.txt`), sorted by name.
fn seeds() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/seeds");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("seeds dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("read seed"))
        .collect()
}

/// Times `f` over `docs` (best of five passes) and prints the throughput.
fn report(name: &str, docs: &[&str], f: impl Fn(&str) -> usize) {
    let mb = docs.iter().map(|d| d.len()).sum::<usize>() as f64 / 1e6;
    let mut best = f64::INFINITY;
    // Keeps the work observable.
    let mut sink = 0;
    for _ in 0..5 {
        let t = Instant::now();
        for d in docs {
            sink += f(d);
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{name}: {} docs, {mb:.1} MB in {:.1} ms: {:.0} MB/s (single thread, best of 5; {sink})",
        docs.len(),
        best * 1e3,
        mb / best
    );
}

fn main() {
    let seeds = seeds();
    let docs: Vec<&str> = (0..200)
        .flat_map(|_| seeds.iter().map(String::as_str))
        .collect();
    let rules = CleanRules::default();
    report("clean", &docs, |d| rules.clean(d).text.len());
    report("clean_mapped", &docs, |d| {
        let (c, map) = rules.clean_mapped(d);
        c.text.len() + map.anchors().len()
    });
}
