//! A fleet's schema pattern: `*` stands for any run of characters, `?`
//! for any one; every other character, `_` and `%` included, stands for
//! itself.

/// `glob` as a pattern of SQL's `LIKE` with `\` as its escape character.
pub(crate) fn like_pattern(glob: &str) -> String {
    let mut like = String::with_capacity(glob.len() + 8);
    for c in glob.chars() {
        match c {
            '*' => like.push('%'),
            '?' => like.push('_'),
            '%' | '_' | '\\' => {
                like.push('\\');
                like.push(c);
            }
            other => like.push(other),
        }
    }
    like
}

/// Whether `name` matches `glob`, as the server matches its
/// [`like_pattern`].
#[cfg(test)]
fn matches(glob: &str, name: &str) -> bool {
    fn here(glob: &[char], name: &[char]) -> bool {
        match glob.split_first() {
            None => name.is_empty(),
            Some(('*', rest)) => (0..=name.len()).any(|skip| here(rest, &name[skip..])),
            Some(('?', rest)) => !name.is_empty() && here(rest, &name[1..]),
            Some((c, rest)) => name.first() == Some(c) && here(rest, &name[1..]),
        }
    }
    let glob: Vec<char> = glob.chars().collect();
    let name: Vec<char> = name.chars().collect();
    here(&glob, &name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_star_and_the_question_mark_are_wildcards() {
        assert_eq!(like_pattern("tenant_*"), r"tenant\_%");
        assert_eq!(like_pattern("t?_%\\x"), r"t_\_\%\\x");
        assert!(matches("tenant_*", "tenant_7"));
        assert!(matches("tenant_*", "tenant_"));
        assert!(!matches("tenant_*", "tenantX7"), "_ means itself");
        assert!(matches("tenant_?", "tenant_7"));
        assert!(!matches("tenant_?", "tenant_17"));
        assert!(matches("*", "anything"));
        assert!(matches("a*b*c", "aXbYc"));
        assert!(!matches("a%", "abc"), "% means itself");
        assert!(matches("a%", "a%"));
        assert!(matches("ümlaut?", "ümlauts"));
        assert!(!matches("", "a"));
    }
}
