//! `lock_timeout` and `statement_timeout` while a migration runs: from the
//! runner for every migration, or from a migration's own directives, which
//! win. A migration that waits on a lock held by another session then fails
//! fast, instead of queueing that table's other queries behind its wait.

use crate::data::error::Error;
use crate::data::registry::Script;
use std::time::Duration;

/// The largest value PostgreSQL takes for `lock_timeout` and
/// `statement_timeout`, in milliseconds: the build's rule for directives.
pub(crate) const MAX_MILLISECONDS: u64 = stowage_core::directive::TIMEOUT_LIMIT_MS;

/// The timeouts one migration runs with, in whole milliseconds; `None`
/// keeps the session's own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Timeouts {
    pub lock_ms: Option<u64>,
    pub statement_ms: Option<u64>,
}

impl Timeouts {
    /// The runner's timeouts, refusing a value PostgreSQL cannot take. A
    /// value under a millisecond is made one millisecond: PostgreSQL reads
    /// 0 as "no timeout".
    pub(crate) fn from_runner(
        lock: Option<Duration>,
        statement: Option<Duration>,
    ) -> Result<Timeouts, Error> {
        Ok(Timeouts {
            lock_ms: lock.map(|d| milliseconds("lock_timeout", d)).transpose()?,
            statement_ms: statement
                .map(|d| milliseconds("statement_timeout", d))
                .transpose()?,
        })
    }

    /// The runner's timeouts, overridden by the script's directives (which
    /// the build has checked).
    pub(crate) fn for_script(self, script: Script) -> Timeouts {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(MAX_MILLISECONDS);
        Timeouts {
            lock_ms: script.lock_timeout().map(ms).or(self.lock_ms),
            statement_ms: script.statement_timeout().map(ms).or(self.statement_ms),
        }
    }

    /// Each timeout that is set, by its setting's name.
    pub(crate) fn settings(&self) -> impl Iterator<Item = (&'static str, u64)> + use<> {
        [
            ("lock_timeout", self.lock_ms),
            ("statement_timeout", self.statement_ms),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
    }

    /// Whether any is set.
    pub(crate) fn any(&self) -> bool {
        self.lock_ms.is_some() || self.statement_ms.is_some()
    }
}

/// `duration` in whole milliseconds, rounded up, at least 1; refused above
/// PostgreSQL's maximum.
fn milliseconds(option: &'static str, duration: Duration) -> Result<u64, Error> {
    let ms = duration.as_nanos().div_ceil(1_000_000).max(1);
    u64::try_from(ms)
        .ok()
        .filter(|ms| *ms <= MAX_MILLISECONDS)
        .ok_or_else(|| Error::InvalidOption {
            option,
            reason: format!(
                "{duration:?} is more than PostgreSQL takes for {option} \
                 (2147483647 ms, about 24.8 days)"
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_up_to_whole_milliseconds_and_never_sends_zero() {
        let t =
            Timeouts::from_runner(Some(Duration::from_micros(500)), Some(Duration::ZERO)).unwrap();
        assert_eq!((t.lock_ms, t.statement_ms), (Some(1), Some(1)));
        let t = Timeouts::from_runner(Some(Duration::from_micros(1_500)), None).unwrap();
        assert_eq!((t.lock_ms, t.statement_ms), (Some(2), None));
    }

    #[test]
    fn refuses_what_postgres_cannot_take_naming_the_option() {
        let month = Duration::from_secs(30 * 24 * 3600);
        match Timeouts::from_runner(None, Some(month)) {
            Err(Error::InvalidOption { option, .. }) => assert_eq!(option, "statement_timeout"),
            other => panic!("{other:?}"),
        }
        let max = Duration::from_millis(MAX_MILLISECONDS);
        assert!(Timeouts::from_runner(Some(max), Some(max)).is_ok());
    }
}
