//! The naming rule: `{version}_{name}.sql`, and `{version}_{name}.down.sql`
//! for the down migration of the same version.
//!
//! The version is ASCII digits that fit an `i64` (leading zeros allowed, so
//! `001` and `1` are the same version); the name is ASCII letters, digits, `_`
//! and `-`.

/// Whether a migration applies a change or undoes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// `{version}_{name}.sql`
    Up,
    /// `{version}_{name}.down.sql`
    Down,
}

/// A file name that follows the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    /// The version, leading zeros dropped.
    pub version: i64,
    /// The part after the first `_`.
    pub name: String,
    /// Up or down.
    pub direction: Direction,
}

/// How a file name breaks the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError {
    /// What is wrong with it.
    pub message: String,
    /// A name that would be accepted, where one can be guessed.
    pub suggestion: Option<String>,
}

/// The rule in a sentence, for messages.
pub const RULE: &str = "a migration is named `{version}_{name}.sql`: the version is ASCII digits, \
                        the name ASCII letters, digits, `_` and `-`";

/// An example of a valid name, for messages.
pub const EXAMPLE: &str = "0001_create_users.sql";

/// Whether the build treats the file as a migration: every file whose
/// extension is `sql` in any case (so `1_init.SQL` is reported, not skipped).
pub fn is_sql_file(file_name: &str) -> bool {
    file_name
        .rsplit_once('.')
        .is_some_and(|(stem, ext)| !stem.is_empty() && ext.eq_ignore_ascii_case("sql"))
}

/// Parses a file name (without its folder).
pub fn parse(file_name: &str) -> Result<FileName, NameError> {
    let Some(stem) = file_name.strip_suffix(".sql") else {
        let stem = file_name
            .rsplit_once('.')
            .map_or(file_name, |(stem, _)| stem);
        return Err(error(
            "the extension must be `.sql` in lower case",
            Some(format!("{stem}.sql")),
        ));
    };
    let (stem, direction) = match stem.strip_suffix(".down") {
        Some(stem) => (stem, Direction::Down),
        None => (stem, Direction::Up),
    };
    if let Some(up) = stem.strip_suffix(".up") {
        return Err(error(
            "the up migration has no `.up`: it is plain `{version}_{name}.sql`",
            Some(format!("{up}.sql")),
        ));
    }
    let ending = match direction {
        Direction::Up => ".sql",
        Direction::Down => ".down.sql",
    };
    let suggest = || suggestion(stem, ending);
    let Some((version, name)) = stem.split_once('_') else {
        let message = if stem.bytes().all(|b| b.is_ascii_digit()) {
            "there is no name after the version"
        } else if !stem.starts_with(|c: char| c.is_ascii_digit()) {
            "there is no version at the start of the file name"
        } else {
            "there is no `_` between the version and the name"
        };
        return Err(error(message, suggest()));
    };
    if version.is_empty() {
        return Err(error("there is no version before the `_`", suggest()));
    }
    if !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(error(
            format!("the version `{version}` is not ASCII digits"),
            suggest(),
        ));
    }
    let Ok(version) = version.parse::<i64>() else {
        return Err(error(
            format!(
                "the version `{version}` is too large: it must fit a 64-bit signed integer (at most {})",
                i64::MAX
            ),
            None,
        ));
    };
    if name.is_empty() {
        return Err(error("there is no name after the `_`", suggest()));
    }
    if let Some(c) = name.chars().find(|&c| !is_name_char(c)) {
        return Err(error(
            format!(
                "the name `{name}` has {c:?}, but only ASCII letters, digits, `_` and `-` are allowed"
            ),
            suggest(),
        ));
    }
    Ok(FileName {
        version,
        name: name.to_owned(),
        direction,
    })
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn error(message: impl Into<String>, suggestion: Option<String>) -> NameError {
    NameError {
        message: message.into(),
        suggestion,
    }
}

/// Guesses the intended name: leading digits (after a Flyway-style `V`), then
/// the rest with every run of other characters turned into one `_`.
fn suggestion(stem: &str, ending: &str) -> Option<String> {
    let rest = stem
        .strip_prefix(['V', 'v'])
        .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or(stem);
    let digits_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (digits, rest) = rest.split_at(digits_end);
    if digits.is_empty() || digits.parse::<i64>().is_err() {
        return None;
    }
    let mut name = String::new();
    for c in rest.chars() {
        if is_name_char(c) && c != '_' {
            name.push(c);
        } else if !name.is_empty() && !name.ends_with('_') {
            name.push('_');
        }
    }
    let name = name.trim_end_matches('_');
    (!name.is_empty()).then(|| format!("{digits}_{name}{ending}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(file: &str) -> (i64, String, Direction) {
        let n = parse(file).unwrap_or_else(|e| panic!("{file}: {}", e.message));
        (n.version, n.name, n.direction)
    }

    fn rejected(file: &str) -> NameError {
        parse(file).expect_err(file)
    }

    #[test]
    fn accepts_valid_names() {
        assert_eq!(ok("1_init.sql"), (1, "init".into(), Direction::Up));
        assert_eq!(
            ok("0007_add-users_2.sql"),
            (7, "add-users_2".into(), Direction::Up)
        );
        assert_eq!(
            ok("20240101120000_x.down.sql"),
            (20240101120000, "x".into(), Direction::Down)
        );
        assert_eq!(ok("9223372036854775807_max.sql").0, i64::MAX);
    }

    #[test]
    fn rejects_and_suggests() {
        let cases = [
            ("1 init.sql", Some("1_init.sql")),
            ("init.sql", None),
            ("V1__x.sql", Some("1_x.sql")),
            ("1.sql", None),
            ("1_init.SQL", Some("1_init.sql")),
            ("_init.sql", None),
            ("1_in it.sql", Some("1_in_it.sql")),
            ("1_x.up.sql", Some("1_x.sql")),
            ("2_bad name.down.sql", Some("2_bad_name.down.sql")),
        ];
        for (file, suggestion) in cases {
            assert_eq!(rejected(file).suggestion.as_deref(), suggestion, "{file}");
        }
        assert!(
            rejected("9223372036854775808_big.sql")
                .message
                .contains("too large")
        );
    }

    #[test]
    fn sql_files_are_found_in_any_case() {
        assert!(is_sql_file("1_x.sql"));
        assert!(is_sql_file("1_x.SQL"));
        assert!(!is_sql_file("README.md"));
        assert!(!is_sql_file(".sql"));
        assert!(!is_sql_file("1_x.sql.bak"));
    }
}
