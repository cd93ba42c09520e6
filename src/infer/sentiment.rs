//! Sentiment labels: normalised names and which labels are positive and negative.

pub(super) fn normalise_label(l: &str) -> String {
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
