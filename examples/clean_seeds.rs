//! Prints the cleaned seed articles 001 and 002 (title, dropped lines, text) for
//! eyeballing the cleaning rules: `cargo run --release --example clean_seeds`.

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/seeds");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("seeds dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    paths.sort();
    for n in ["001", "002"] {
        let path = paths
            .iter()
            .find(|p| {
                p.file_name()
                    .and_then(|f| f.to_str())
                    .is_some_and(|f| f.starts_with(n) && f.ends_with(".txt"))
            })
            .expect("seed file");
        let raw = std::fs::read_to_string(path).expect("read seed");
        let c = presslens::clean::clean(&raw);
        println!(
            "===== {n}: title={:?} dropped={}\n{}\n",
            c.title, c.dropped_lines, c.text
        );
    }
}
