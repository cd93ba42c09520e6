//! Evaluation of `presslens::segment` on the English "Golden Rules" of Pragmatic Segmenter
//! (see `tests/data/golden_rules_en.SOURCE.md`).
//!
//! Run with `cargo test --test segment_golden -- --nocapture` to see the score.

use presslens::segment::Segmenter;
use std::path::Path;

/// Number of golden rules the segmenter is known to pass; lower it only deliberately.
const PASS_FLOOR: usize = 50;

fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(Debug)]
struct Case {
    id: u64,
    name: String,
    text: String,
    expected: Vec<String>,
}

fn load_cases() -> Vec<Case> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden_rules_en.jsonl");
    let data = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    data.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("bad JSON line {line:?}: {e}"));
            let field = |k: &str| {
                v[k].as_str()
                    .unwrap_or_else(|| panic!("missing string field {k:?} in {line:?}"))
                    .to_string()
            };
            Case {
                id: v["id"]
                    .as_u64()
                    .unwrap_or_else(|| panic!("missing id in {line:?}")),
                name: field("name"),
                text: field("text"),
                expected: v["expected"]
                    .as_array()
                    .unwrap_or_else(|| panic!("missing expected in {line:?}"))
                    .iter()
                    .map(|s| s.as_str().unwrap_or_default().to_string())
                    .collect(),
            }
        })
        .collect()
}

#[test]
fn golden_rules_en() {
    let cases = load_cases();
    assert_eq!(cases.len(), 52, "expected the 52 English golden rules");
    let seg = Segmenter::default();
    let mut failed = Vec::new();
    for case in &cases {
        let got: Vec<String> = seg
            .split(&case.text)
            .iter()
            .map(|s| normalise(&case.text[s.start..s.end]))
            .collect();
        let want: Vec<String> = case.expected.iter().map(|s| normalise(s)).collect();
        if got != want {
            println!(
                "FAIL #{} {}\n  text: {:?}\n  want: {:?}\n  got:  {:?}",
                case.id, case.name, case.text, want, got
            );
            failed.push(format!("#{} {}", case.id, case.name));
        }
    }
    let passed = cases.len() - failed.len();
    println!("golden rules: {passed}/{} passed", cases.len());
    if !failed.is_empty() {
        println!("failing: {}", failed.join("; "));
    }
    assert!(
        passed >= PASS_FLOOR,
        "golden rules regression: {passed}/{} passed, floor is {PASS_FLOOR}",
        cases.len()
    );
}
