//! Sentiment labels: normalised names, which labels are positive and negative, and a
//! sentence's [`Sentiment`] from its label probabilities.

use super::Sentiment;

fn normalise_label(l: &str) -> String {
    let low = l.to_lowercase();
    if low.starts_with("pos") {
        "positive".into()
    } else if low.starts_with("neg") {
        "negative".into()
    } else if low.starts_with("neu") {
        "neutral".into()
    } else {
        l.to_string()
    }
}

/// Index of the positive and negative labels; `LABEL_0`/`LABEL_1` binary models follow the
/// SST-2 convention (0 = negative, 1 = positive).
pub(super) fn polarity_indices(labels: &[String]) -> (Option<usize>, Option<usize>) {
    let pos = labels
        .iter()
        .position(|l| l.to_lowercase().starts_with("pos"));
    let neg = labels
        .iter()
        .position(|l| l.to_lowercase().starts_with("neg"));
    if pos.is_none() && neg.is_none() && labels.len() == 2 {
        return (Some(1), Some(0));
    }
    (pos, neg)
}

/// The sentiment of one sentence from its label probabilities: the most probable label
/// (the first one on ties) and P(positive) − P(negative).
pub(super) fn sentiment_from_probs(
    probs: &[f32],
    labels: &[String],
    pos: Option<usize>,
    neg: Option<usize>,
) -> Sentiment {
    let (best, score) =
        probs
            .iter()
            .copied()
            .enumerate()
            .fold(
                (0, f32::MIN),
                |(best, top), (i, p)| if p > top { (i, p) } else { (best, top) },
            );
    let polarity = pos.map_or(0.0, |i| probs[i]) - neg.map_or(0.0, |i| probs[i]);
    Sentiment {
        label: normalise_label(&labels[best]),
        score,
        polarity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polarity_conventions() {
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            polarity_indices(&l(&["NEGATIVE", "POSITIVE"])),
            (Some(1), Some(0))
        );
        assert_eq!(
            polarity_indices(&l(&["LABEL_0", "LABEL_1"])),
            (Some(1), Some(0))
        );
        assert_eq!(
            polarity_indices(&l(&["negative", "neutral", "positive"])),
            (Some(2), Some(0))
        );
        assert_eq!(normalise_label("POSITIVE"), "positive");
    }
}
