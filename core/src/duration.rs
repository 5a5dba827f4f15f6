//! Durations, as the timeout directives (`-- stowage:lock-timeout 1.5s`) and
//! the command line (`--lock-timeout 5s`) write them.
//!
//! A duration is a number and a unit, with or without spaces between them:
//! `250ms`, `1.5s`, `5 sec`, `2min`, `10 minutes`, `1h`, `1d`.
//!
//! - The number is ASCII digits, maybe with a decimal point and one to nine
//!   digits after it (`5`, `1.5`, `0.25`). It is never negative.
//! - The unit is one of these, in any case:
//!
//!   | unit         | spellings                                            |
//!   |--------------|------------------------------------------------------|
//!   | microseconds | `us`, `usec`, `usecs`, `microsecond`, `microseconds` |
//!   | milliseconds | `ms`, `msec`, `msecs`, `millisecond`, `milliseconds` |
//!   | seconds      | `s`, `sec`, `secs`, `second`, `seconds`              |
//!   | minutes      | `m`, `min`, `mins`, `minute`, `minutes`              |
//!   | hours        | `h`, `hr`, `hrs`, `hour`, `hours`                    |
//!   | days         | `d`, `day`, `days`                                   |
//!
//! - `0` needs no unit: zero is zero in any unit.
//! - One number and one unit: `1h30min` is not a duration; write `90min`.
//!
//! The result is in whole milliseconds, rounded up, so a duration above
//! zero never becomes `0` (which turns a timeout off): `0.1ms` is 1 ms.

use std::error::Error;
use std::fmt;

/// Microseconds in each unit, with the unit's spellings.
const UNITS: &[(u128, &[&str])] = &[
    (1, &["us", "usec", "usecs", "microsecond", "microseconds"]),
    (
        1_000,
        &["ms", "msec", "msecs", "millisecond", "milliseconds"],
    ),
    (1_000_000, &["s", "sec", "secs", "second", "seconds"]),
    (60_000_000, &["m", "min", "mins", "minute", "minutes"]),
    (3_600_000_000, &["h", "hr", "hrs", "hour", "hours"]),
    (86_400_000_000, &["d", "day", "days"]),
];

/// The most digits after the decimal point.
const MAX_DECIMALS: usize = 9;

/// Text that is not a duration, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidDuration {
    /// The text, as given.
    pub text: String,
    /// What is wrong with it.
    pub reason: Reason,
}

/// What is wrong with an [`InvalidDuration`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// There is nothing but whitespace.
    Empty,
    /// It does not start with a number (`soon`, `-1s`, `.5s`, `1.s`).
    NoNumber,
    /// A number other than 0 without a unit (`5`).
    NoUnit,
    /// The text after the number is not a unit (`5 parsecs`, `1h30min`).
    UnknownUnit(String),
    /// More than nine digits after the decimal point.
    TooManyDecimals,
    /// More milliseconds than a `u64` holds.
    TooLarge,
}

impl fmt::Display for InvalidDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = &self.text;
        match &self.reason {
            Reason::Empty => f.write_str("there is no duration")?,
            Reason::NoNumber => write!(f, "`{text}` does not start with a number")?,
            Reason::NoUnit => write!(f, "`{text}` has no unit")?,
            Reason::UnknownUnit(unit) => write!(f, "`{unit}` in `{text}` is not a unit")?,
            Reason::TooManyDecimals => write!(
                f,
                "`{text}` has more than {MAX_DECIMALS} digits after the decimal point"
            )?,
            Reason::TooLarge => write!(f, "`{text}` is too long a duration")?,
        }
        f.write_str(
            ": write a number and a unit (ms, s, min, h or d), \
             such as `250ms`, `1.5s` or `10min`, or just `0`",
        )
    }
}

impl Error for InvalidDuration {}

/// Reads a duration (see the [module](self)) and gives it in milliseconds,
/// rounded up.
pub fn milliseconds(text: &str) -> Result<u64, InvalidDuration> {
    read(text.trim()).map_err(|reason| InvalidDuration {
        text: text.to_owned(),
        reason,
    })
}

fn read(text: &str) -> Result<u64, Reason> {
    if text.is_empty() {
        return Err(Reason::Empty);
    }
    let number_end = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(number_end);
    let (whole, decimals) = number.split_once('.').unwrap_or((number, ""));
    let is_digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if !is_digits(whole) || (number.contains('.') && !is_digits(decimals)) {
        return Err(Reason::NoNumber);
    }
    if decimals.len() > MAX_DECIMALS {
        return Err(Reason::TooManyDecimals);
    }
    let unit = unit.trim_start();
    let micros = if unit.is_empty() {
        let zero = whole.bytes().chain(decimals.bytes()).all(|c| c == b'0');
        if !zero {
            return Err(Reason::NoUnit);
        }
        0
    } else {
        UNITS
            .iter()
            .find(|(_, names)| names.iter().any(|n| n.eq_ignore_ascii_case(unit)))
            .map(|(micros, _)| *micros)
            .ok_or_else(|| Reason::UnknownUnit(unit.to_owned()))?
    };
    // The number is `digits / scale`: exact, since there are at most nine
    // decimals.
    let scale = 10u128.pow(decimals.len() as u32);
    let digits = whole
        .bytes()
        .chain(decimals.bytes())
        .try_fold(0u128, |n, c| {
            n.checked_mul(10)?.checked_add(u128::from(c - b'0'))
        })
        .ok_or(Reason::TooLarge)?;
    let per_milli = scale * 1_000;
    let ms = digits
        .checked_mul(micros)
        .map(|total| total.div_ceil(per_milli))
        .ok_or(Reason::TooLarge)?;
    u64::try_from(ms).map_err(|_| Reason::TooLarge)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> u64 {
        milliseconds(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn reason(text: &str) -> Reason {
        milliseconds(text).expect_err(text).reason
    }

    #[test]
    fn reads_every_unit() {
        for (text, expected) in [
            ("250ms", 250),
            ("5s", 5_000),
            ("10min", 600_000),
            ("2h", 7_200_000),
            ("1d", 86_400_000),
            ("2000us", 2),
            ("5sec", 5_000),
            ("5 secs", 5_000),
            ("1 second", 1_000),
            ("3 seconds", 3_000),
            ("2m", 120_000),
            ("1 minute", 60_000),
            ("10 minutes", 600_000),
            ("2 hours", 7_200_000),
            ("1hr", 3_600_000),
            ("1 day", 86_400_000),
            ("3 days", 259_200_000),
            ("7 msec", 7),
            ("7 milliseconds", 7),
            ("5S", 5_000),
            ("10MIN", 600_000),
        ] {
            assert_eq!(ms(text), expected, "{text}");
        }
    }

    #[test]
    fn takes_spaces_around_and_between() {
        assert_eq!(ms("  5s "), 5_000);
        assert_eq!(ms("5 s"), 5_000);
        assert_eq!(ms("5\ts"), 5_000);
    }

    #[test]
    fn takes_decimals_and_rounds_up() {
        assert_eq!(ms("1.5s"), 1_500);
        assert_eq!(ms("0.25h"), 900_000);
        assert_eq!(ms("1.000000001s"), 1_001);
        assert_eq!(ms("0.1ms"), 1);
        assert_eq!(ms("1us"), 1);
        assert_eq!(ms("1.2345ms"), 2);
        assert_eq!(ms("0.5min"), 30_000);
        assert_eq!(ms("007s"), 7_000);
    }

    #[test]
    fn zero_needs_no_unit() {
        assert_eq!(ms("0"), 0);
        assert_eq!(ms("0.0"), 0);
        assert_eq!(ms("0s"), 0);
        assert_eq!(ms("0 ms"), 0);
        assert_eq!(reason("5"), Reason::NoUnit);
        assert_eq!(reason("0.1"), Reason::NoUnit);
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        assert_eq!(reason(""), Reason::Empty);
        assert_eq!(reason("  "), Reason::Empty);
        for text in ["soon", "-1s", "+1s", ".5s", "1.s", "1.2.3s", "s", "1,5s"] {
            let r = reason(text);
            assert!(
                matches!(r, Reason::NoNumber | Reason::UnknownUnit(_)),
                "{text}: {r:?}"
            );
        }
        assert_eq!(reason("soon"), Reason::NoNumber);
        assert_eq!(reason("5 parsecs"), Reason::UnknownUnit("parsecs".into()));
        assert_eq!(reason("1h30min"), Reason::UnknownUnit("h30min".into()));
        assert_eq!(reason("5 s s"), Reason::UnknownUnit("s s".into()));
        assert_eq!(reason("1.0000000001s"), Reason::TooManyDecimals);
        assert_eq!(reason("5 mo"), Reason::UnknownUnit("mo".into()));
    }

    #[test]
    fn refuses_what_is_too_large() {
        assert_eq!(ms("213503982334d"), 18_446_744_073_657_600_000);
        assert_eq!(reason("213503982335d"), Reason::TooLarge);
        assert_eq!(reason(&format!("{}s", "9".repeat(60))), Reason::TooLarge);
        assert_eq!(reason(&format!("{}ms", "9".repeat(40))), Reason::TooLarge);
    }

    #[test]
    fn says_what_a_duration_looks_like() {
        let e = milliseconds("soon").unwrap_err();
        assert_eq!(
            e.to_string(),
            "`soon` does not start with a number: write a number and a unit \
             (ms, s, min, h or d), such as `250ms`, `1.5s` or `10min`, or just `0`"
        );
        assert!(
            milliseconds("5 parsecs")
                .unwrap_err()
                .to_string()
                .starts_with("`parsecs` in `5 parsecs` is not a unit: ")
        );
    }
}
