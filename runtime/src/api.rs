//! The public calls, one short delegate each, for each driver: over a
//! blocking `postgres::Client`, and over an async `tokio_postgres::Client`.

#[cfg(feature = "postgres")]
mod blocking;
#[cfg(all(test, feature = "postgres", feature = "testing"))]
mod fleet_round_trips;
#[cfg(feature = "tokio-postgres")]
mod nonblocking;
#[cfg(all(
    test,
    feature = "postgres",
    feature = "tokio-postgres",
    feature = "testing"
))]
mod same_statements;
