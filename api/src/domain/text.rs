//! Text folding for accent- and case-insensitive matching.

/// Folds a name for matching: transliterated to ASCII, lower case, every run of
/// non-alphanumeric characters turned into one space ("Saint-Étienne" → "saint etienne").
pub fn fold(text: &str) -> String {
    let ascii = deunicode::deunicode(text).to_ascii_lowercase();
    let mut out = String::with_capacity(ascii.len());
    for word in ascii.split(|c: char| !c.is_ascii_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The folded alternate names of an organisation, as search matches them ("Ville de Paris"
/// → "ville de paris"), separated by " / "; none without any.
pub fn aliases(names: &[String]) -> Option<String> {
    let folded: Vec<String> = names
        .iter()
        .map(|n| fold(n))
        .filter(|n| !n.is_empty())
        .collect();
    (!folded.is_empty()).then(|| folded.join(" / "))
}

/// Folds a prefix: like [`fold`], but a trailing separator stays significant
/// ("Saint-" → "saint ", which "Saintes" does not start with).
pub fn fold_prefix(text: &str) -> String {
    let mut folded = fold(text);
    if !folded.is_empty() && text.ends_with(|c: char| !c.is_alphanumeric()) {
        folded.push(' ');
    }
    folded
}

/// What people abbreviate in place names, and what official names spell out.
const ABBREVIATIONS: [(&str, &str); 4] = [
    ("st", "saint"),
    ("ste", "sainte"),
    ("sts", "saints"),
    ("stes", "saintes"),
];

/// A folded search text with the usual abbreviations spelt out as official names have them
/// ("st malo" → "saint malo").
pub fn spell_out(folded: &str) -> String {
    folded
        .split(' ')
        .map(|w| {
            ABBREVIATIONS
                .iter()
                .find(|(short, _)| *short == w)
                .map_or(w, |(_, long)| long)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::{fold, spell_out};

    #[test]
    fn abbreviations_are_spelt_out() {
        assert_eq!(spell_out(&fold("St-Malo")), "saint malo");
        assert_eq!(
            spell_out(&fold("ste Marie aux mines")),
            "sainte marie aux mines"
        );
        assert_eq!(spell_out(&fold("Les Stes Maries")), "les saintes maries");
        assert_eq!(spell_out(&fold("Saint-Étienne")), "saint etienne");
        assert_eq!(spell_out(&fold("Stains")), "stains");
    }

    #[test]
    fn folds_accents_case_and_punctuation() {
        assert_eq!(fold("Saint-Étienne"), "saint etienne");
        assert_eq!(fold("  L'Haÿ-les-Roses "), "l hay les roses");
        assert_eq!(fold("ÎLE-DE-FRANCE"), "ile de france");
        assert_eq!(fold("--"), "");
    }

    #[test]
    fn prefixes_keep_a_trailing_separator() {
        assert_eq!(super::fold_prefix("Saint-"), "saint ");
        assert_eq!(super::fold_prefix("Saint"), "saint");
        assert_eq!(super::fold_prefix("-"), "");
    }
}
