//! A fleet whose schemas are all up to date checks them in one query (the
//! schemas, with their digests, from the catalog), whatever their number,
//! and starts no target's call; a second query reads the digest tables of
//! the schemas whose digest the catalog does not hold. A connection serves
//! a bounded number of targets.

use crate::conversation::blocking::block_on;
use crate::conversation::recording::Recording;
use crate::conversation::sql::DIGESTS_PER_TRANSACTION;
use crate::data::error::DbError;
use crate::data::fleet::Migrated;
use crate::data::fleet::Schemas;
use crate::data::registry::for_tests;
use crate::fleet::engine::{
    Finished, Job, Operation, Run, TARGETS_PER_CONNECTION, Workers, drive, work,
};
use crate::fleet::options::Fleet;
use crate::testing::TestServer;
use std::sync::{Arc, Mutex};

/// Workers that make each call at once, on this thread, over
/// connections that write what they send in one log.
struct Inline<L> {
    config: postgres::Config,
    log: Arc<Mutex<Vec<String>>>,
    connected: usize,
    ended: Vec<Finished<Recording<postgres::Client>, L>>,
}

impl<O: Operation> Workers<O> for Inline<O::Line> {
    type Conn = Recording<postgres::Client>;

    async fn connect(&mut self, _: usize) -> Result<Self::Conn, DbError> {
        self.connected += 1;
        let client = self.config.connect(postgres::NoTls)?;
        Ok(Recording::sharing(client, &self.log))
    }

    fn start(&mut self, job: Job<O>, conn: Option<Self::Conn>) {
        let conn = conn.map_or_else(|| block_on(Workers::<O>::connect(self, 0)), Ok);
        self.ended.push(block_on(work(job, conn)));
    }

    async fn finished(&mut self) -> Option<Finished<Self::Conn, O::Line>> {
        self.ended.pop()
    }
}

#[test]
fn schemas_up_to_date_are_checked_in_one_query_whatever_their_number() {
    let migrations = for_tests(&[
        (1, "one", "CREATE TABLE one (id int)", "c1", true, [None; 2]),
        (2, "two", "CREATE TABLE two (id int)", "c2", true, [None; 2]),
    ]);
    let server = TestServer::shared().unwrap_or_else(|e| panic!("{e}"));
    let db = server.create_database().unwrap_or_else(|e| panic!("{e}"));
    let schemas = 2 * DIGESTS_PER_TRANSACTION + 20;
    let mut client = db.connect().unwrap_or_else(|e| panic!("{e}"));
    for i in 0..schemas {
        client
            .batch_execute(&format!("CREATE SCHEMA tenant_{i:03}"))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let fleet = Fleet::new()
        .schemas(
            "app",
            db.config().clone(),
            Schemas::matching("tenant_*"),
            migrations.runner(),
        )
        .jobs(1);
    let inline = |log: &Arc<Mutex<Vec<String>>>| Inline {
        config: db.config().clone(),
        log: Arc::clone(log),
        connected: 0,
        ended: Vec::new(),
    };

    let first = Arc::default();
    let mut workers = inline(&first);
    let report = block_on(drive(&fleet, Run, &mut workers)).unwrap_or_else(|e| panic!("{e}"));
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.targets().len(), schemas);
    assert_eq!(
        workers.connected,
        schemas.div_ceil(TARGETS_PER_CONNECTION),
        "a connection serves at most {TARGETS_PER_CONNECTION} targets, \
         the first the one that found them"
    );

    // A run of the fleet that finds every schema up to date; what it sent,
    // and how many connections it opened.
    let up_to_date_run = || {
        let log = Arc::default();
        let mut workers = inline(&log);
        let report = block_on(drive(&fleet, Run, &mut workers)).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            report
                .targets()
                .iter()
                .all(|l| l.outcome().done().is_some_and(Migrated::is_up_to_date)),
            "{report}"
        );
        let sent = log.lock().map(|sent| sent.clone()).unwrap_or_default();
        (sent, workers.connected)
    };

    let (sent, connected) = up_to_date_run();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert!(
        sent[0].contains("pg_namespace"),
        "the schemas, from the catalog"
    );
    assert_eq!(connected, 1, "one connection, for the check");

    // Where the catalog holds no digest it can trust, the digest tables
    // are read: a comment written over by hand, and a trigger function of
    // an earlier version, which does not keep the comment true.
    client
        .batch_execute(
            "COMMENT ON TABLE tenant_000.stowage_digest IS 'ours now'; \
             CREATE OR REPLACE FUNCTION tenant_001.stowage_digest_clear() RETURNS trigger \
             LANGUAGE plpgsql SECURITY DEFINER AS 'BEGIN DELETE FROM tenant_001.stowage_digest \
             WHERE tracking OPERATOR(pg_catalog.=) TG_RELID; RETURN NULL; END'",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let (sent, _) = up_to_date_run();
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert_eq!(sent[1].matches("stowage_digest").count(), 2, "{}", sent[1]);
    assert!(sent[1].contains("tenant_000") && sent[1].contains("tenant_001"));
}
