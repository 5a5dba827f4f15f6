//! A small summary for a `/health` endpoint.

use crate::error::Error;
use crate::runner::Runner;
use crate::status::Status;
use postgres::Client;

/// The schema's health: the current version and how many migrations are
/// in each state. With the `serde` feature it serializes, e.g. to JSON:
/// `{"ok":true,"current_version":6,"applied":6,"pending":0,...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Health {
    /// Whether every migration of the binary is applied as it is and the
    /// history holds nothing else.
    pub ok: bool,
    /// The highest version applied.
    pub current_version: Option<i64>,
    /// Applied as the binary has them.
    pub applied: usize,
    /// Not applied yet (out-of-order ones included).
    pub pending: usize,
    /// Failed and rolled back.
    pub failed: usize,
    /// No-transaction migrations stopped part way.
    pub dirty: usize,
    /// Applied, but edited since.
    pub divergent: usize,
    /// Applied, but unknown to the binary.
    pub missing: usize,
}

impl From<&Status> for Health {
    fn from(status: &Status) -> Health {
        Health {
            ok: status.is_up_to_date(),
            current_version: status.current_version(),
            applied: status.count("applied"),
            pending: status.count("pending") + status.count("out-of-order"),
            failed: status.count("failed"),
            dirty: status.count("dirty"),
            divergent: status.count("divergent"),
            missing: status.count("missing"),
        }
    }
}

impl Runner<'_> {
    /// The [`Health`] summary; reads only, like [`status`](Runner::status).
    pub fn health(&self, client: &mut Client) -> Result<Health, Error> {
        self.status(client).map(|s| Health::from(&s))
    }
}
