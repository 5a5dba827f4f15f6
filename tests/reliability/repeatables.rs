//! Repeatable migrations brought up to date, killed half way: the set is
//! the old one or the new one, never half of each.
//!
//! `tests/fixtures/reliability_repeatables_old` and `..._new` share one
//! versioned migration (tables `items` and `rates`) and two repeatable
//! views: `item_names`, and `item_prices` on it (and on `rates`). The new
//! `item_names` reorders its columns and adds one, so it cannot be replaced
//! in place: a run of the new set drops both views, creates `item_names`
//! again and then `item_prices`, all in one transaction. A gate holding
//! `rates` exclusively stops the run at `item_prices`, after the drop and
//! the first create, where a process is killed with SIGKILL.

use crate::child::{self, Set};
use crate::common::{Conn, Driver};
use crate::gate::Gate;
use crate::{assert_no_lock, database_with, watch};
use stowage::{Migrations, RepeatableState};

pub static OLD: Migrations =
    stowage::embed_migrations!("tests/fixtures/reliability_repeatables_old");
pub static NEW: Migrations =
    stowage::embed_migrations!("tests/fixtures/reliability_repeatables_new");

/// Where the run of the new set waits for the gate.
const STOPPED_AT: &str = "CREATE VIEW item_prices";

/// The columns of view `name`, in order, as the catalog has them.
fn columns(client: &mut Conn, name: &str) -> Vec<String> {
    client
        .query(
            "SELECT attname::text FROM pg_attribute \
             WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped \
             ORDER BY attnum",
            &[&name],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Checks that the database holds `set`'s repeatables whole: `status` of
/// `set` finds every file applied as the binary has it, and both views
/// have the columns of `set`'s files.
fn holds(client: &mut Conn, set: Migrations, names: &[&str]) {
    let status = client.status(set.runner()).unwrap();
    for entry in status.repeatables() {
        assert_eq!(
            *entry.state(),
            RepeatableState::Applied,
            "{} is not applied as this set has it:\n{status}",
            entry.name()
        );
    }
    assert_eq!(status.repeatables().len(), 2, "{status}");
    assert_eq!(columns(client, "public.item_names"), names);
    assert_eq!(
        columns(client, "public.item_prices"),
        ["id", "name", "currency", "price"]
    );
    let prices: i64 = client
        .query_one("SELECT count(*) FROM item_prices", &[])
        .unwrap()
        .get(0);
    assert_eq!(prices, 4);
}

fn holds_the_old_set(client: &mut Conn) {
    holds(client, OLD, &["id", "name"]);
}

fn holds_the_new_set(client: &mut Conn) {
    holds(client, NEW, &["name", "id", "shout"]);
}

/// The old set applied, then a process of the new set killed where it
/// recreates the second view: the old set is still there, whole, and no
/// lock is left; a run of the new set then brings it up to date.
fn a_process_killed_while_it_recreates_the_set_leaves_the_old_set(driver: Driver) {
    let (db, mut client) = database_with(Set::RepeatablesNew, 0, driver);
    client.run(OLD.runner()).unwrap();
    holds_the_old_set(&mut client);
    let gate = Gate::exclusive(db.config(), "rates");
    let mut migrator = db.start("migrator", "run");
    let pid = watch::blocked(&mut client, &mut migrator, &gate, STOPPED_AT);
    migrator.kill();
    gate.release();
    watch::gone(&mut client, pid);
    assert_no_lock(&mut client);
    holds_the_old_set(&mut client);
    let report = db.conn().run(NEW.runner()).unwrap();
    assert!(report.applied().is_empty(), "{report}");
    let names: Vec<&str> = report.repeatables().iter().map(|r| r.name()).collect();
    assert_eq!(names, ["item_names", "item_prices"], "{report}");
    holds_the_new_set(&mut client);
    assert!(db.conn().run(NEW.runner()).unwrap().is_empty());
}

/// Two processes of the new set start together: the one holding the lock
/// is killed half way through the set, and the one waiting for the lock
/// then brings the whole set up to date.
fn racing_processes_one_killed_half_way_leave_the_new_set(driver: Driver) {
    let (db, mut client) = database_with(Set::RepeatablesNew, 0, driver);
    client.run(OLD.runner()).unwrap();
    let gate = Gate::exclusive(db.config(), "rates");
    let mut holder = db.start("holder", "run");
    let holder_pid = watch::blocked(&mut client, &mut holder, &gate, STOPPED_AT);
    let mut waiter = db.start("waiter", "run");
    watch::polling_for_lock(&mut client, &mut waiter);
    holder.kill();
    gate.release();
    watch::gone(&mut client, holder_pid);
    let outcome = waiter.finish(child::FINISH_WITHIN);
    assert!(outcome.status.success(), "{}", outcome.describe());
    assert_no_lock(&mut client);
    holds_the_new_set(&mut client);
    assert!(db.conn().run(NEW.runner()).unwrap().is_empty());
}

crate::both_drivers!(
    a_process_killed_while_it_recreates_the_set_leaves_the_old_set,
    racing_processes_one_killed_half_way_leave_the_new_set,
);
