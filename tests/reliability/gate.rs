//! Gates: open transactions, as an application's would be, holding a lock
//! that makes a migrating session block at a known statement until the gate
//! is released.

use postgres::{Client, Config, NoTls};

/// The session that shows as `application_name = 'gate'`.
pub struct Gate {
    client: Client,
    pid: i32,
    what: String,
}

impl Gate {
    /// Opens a transaction on the database of `config` that runs `sql` and
    /// stays open.
    fn open(config: &Config, sql: &str, what: String) -> Gate {
        let mut config = config.clone();
        config.application_name("gate");
        let mut client = config
            .connect(NoTls)
            .unwrap_or_else(|e| panic!("the gate cannot connect: {e}"));
        let pid = client
            .query_one("SELECT pg_backend_pid()", &[])
            .unwrap()
            .get(0);
        client
            .batch_execute(&format!("BEGIN; {sql}"))
            .unwrap_or_else(|e| panic!("cannot open the gate {what}: {e}"));
        Gate { client, pid, what }
    }

    /// An application transaction that read `table` and is still open: it
    /// holds ACCESS SHARE, which only `ALTER TABLE` and the like wait for.
    pub fn reading(config: &Config, table: &str) -> Gate {
        Gate::open(
            config,
            &format!("SELECT count(*) FROM {table}"),
            format!("reading {table}"),
        )
    }

    /// An application transaction that writes to `table` and is still open:
    /// it holds ROW EXCLUSIVE, which `CREATE INDEX CONCURRENTLY`, `CREATE
    /// TRIGGER` and foreign keys to the table wait for.
    pub fn writing(config: &Config, table: &str) -> Gate {
        Gate::open(
            config,
            &format!("LOCK TABLE {table} IN ROW EXCLUSIVE MODE"),
            format!("writing {table}"),
        )
    }

    /// A transaction that holds ACCESS EXCLUSIVE on `table`: even reading
    /// it waits.
    pub fn exclusive(config: &Config, table: &str) -> Gate {
        Gate::open(
            config,
            &format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"),
            format!("holding {table} exclusively"),
        )
    }

    /// A transaction that holds SHARE on `table`: reading it goes on,
    /// writing to it waits.
    pub fn blocking_writes(config: &Config, table: &str) -> Gate {
        Gate::open(
            config,
            &format!("LOCK TABLE {table} IN SHARE MODE"),
            format!("blocking writes to {table}"),
        )
    }

    /// An application transaction that locked rows with `select` (a
    /// `SELECT ... FOR UPDATE`) and is still open: updating them waits.
    pub fn locking_rows(config: &Config, select: &str) -> Gate {
        Gate::open(config, select, format!("locking rows: {select}"))
    }

    /// A transaction that is changing the comment of type `name` and has
    /// not committed: it holds SHARE UPDATE EXCLUSIVE on the type, which
    /// `ALTER TYPE ... ADD VALUE` waits for (no table lock does). Commits
    /// harmlessly: the comment is set to none, as it was.
    pub fn commenting_on_type(config: &Config, name: &str) -> Gate {
        Gate::open(
            config,
            &format!("COMMENT ON TYPE {name} IS NULL"),
            format!("commenting on type {name}"),
        )
    }

    /// A transaction that created `table` (as `ddl`) and has not committed:
    /// creating a table of the same name waits to see whether it will.
    pub fn creating(config: &Config, ddl: &str) -> Gate {
        Gate::open(config, ddl, format!("creating: {ddl}"))
    }

    /// The gate session's server process id.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    pub fn what(&self) -> &str {
        &self.what
    }

    /// Commits, letting the blocked session go on.
    pub fn release(mut self) {
        self.client
            .batch_execute("COMMIT")
            .unwrap_or_else(|e| panic!("cannot release the gate {}: {e}", self.what));
    }

    /// Rolls back, letting the blocked session go on.
    pub fn roll_back(mut self) {
        self.client
            .batch_execute("ROLLBACK")
            .unwrap_or_else(|e| panic!("cannot roll back the gate {}: {e}", self.what));
    }
}
