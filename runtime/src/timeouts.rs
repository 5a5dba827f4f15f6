//! `lock_timeout` and `statement_timeout` while a migration runs: from the
//! runner for every migration, or from a migration's own directives, which
//! win. A migration that waits on a lock held by another session then fails
//! fast, instead of queueing that table's other queries behind its wait.

use crate::error::Error;
use crate::migration::Script;
use crate::sql::{first_row, literal};
use postgres::Client;
use std::time::Duration;

/// The timeouts one migration runs with; `None` keeps the session's own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Timeouts {
    pub lock: Option<Duration>,
    pub statement: Option<Duration>,
}

/// The session's settings before a no-transaction migration changed them.
#[derive(Debug)]
pub(crate) struct Saved {
    lock: String,
    statement: String,
}

impl Timeouts {
    /// The runner's timeouts, overridden by the script's directives.
    pub(crate) fn for_script(self, script: &Script) -> Timeouts {
        Timeouts {
            lock: script.lock_timeout().or(self.lock),
            statement: script.statement_timeout().or(self.statement),
        }
    }

    fn settings(&self) -> impl Iterator<Item = (&'static str, Duration)> {
        [
            ("lock_timeout", self.lock),
            ("statement_timeout", self.statement),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
    }

    /// `SET LOCAL` statements for a transaction (empty when there is nothing
    /// to set); they end with the transaction.
    pub(crate) fn set_local(&self) -> String {
        self.settings()
            .map(|(name, value)| format!(" SET LOCAL {name} = '{}ms';", value.as_millis()))
            .collect()
    }

    /// Sets them for the session, for a migration run in autocommit, and
    /// returns what they were, to [`restore`](Saved::restore) afterwards.
    pub(crate) fn set_session(&self, client: &mut Client) -> Result<Option<Saved>, Error> {
        if self.settings().next().is_none() {
            return Ok(None);
        }
        let sets: String = self
            .settings()
            .map(|(name, value)| format!("; SET {name} = '{}ms'", value.as_millis()))
            .collect();
        let row = first_row(
            client,
            &format!(
                "SELECT current_setting('lock_timeout'), current_setting('statement_timeout'){sets}"
            ),
        )
        .map_err(Error::database("setting the migration's timeouts"))?
        .unwrap_or_default();
        let value = |i: usize| {
            row.get(i)
                .cloned()
                .flatten()
                .unwrap_or_else(|| "0".to_owned())
        };
        Ok(Some(Saved {
            lock: value(0),
            statement: value(1),
        }))
    }
}

impl Saved {
    /// Puts the session's settings back as they were.
    pub(crate) fn restore(self, client: &mut Client) {
        let sql = format!(
            "SET lock_timeout = {}; SET statement_timeout = {}",
            literal(&self.lock),
            literal(&self.statement)
        );
        if let Err(e) = client.batch_execute(&sql) {
            tracing::warn!(error = %e, "could not restore the session's timeouts");
        }
    }
}
