//! A fleet over the async driver: each target's call in a task of its own
//! on the program's tokio runtime, connecting there through the future the
//! program's connect function returns; the rollout in the calling task.

use crate::data::error::{DbError, Error};
use crate::data::fleet::FleetReport;
use crate::fleet::engine::{self, Finished, Job, Operation, Workers};
use crate::fleet::options::{Fleet, Member};
use std::future::Future;
use tokio::task::JoinSet;
use tokio_postgres::Client;

/// Makes `op` on every target of `fleet`, connecting with `connect`.
pub(crate) async fn drive<D, F, C, O>(
    fleet: &Fleet<D>,
    op: O,
    connect: F,
) -> Result<FleetReport<O::Line>, Error>
where
    F: FnMut(&D) -> C,
    C: Future<Output = Result<Client, DbError>> + Send + 'static,
    O: Operation,
{
    let mut tasks = Tasks {
        members: &fleet.members,
        connect,
        set: JoinSet::new(),
    };
    engine::drive(fleet, op, &mut tasks).await
}

/// A task's connection: open, or being made.
enum Connecting<C> {
    Open(Client),
    Making(C),
}

struct Tasks<'f, D, F, L> {
    members: &'f [Member<D>],
    connect: F,
    set: JoinSet<Finished<Client, L>>,
}

impl<D, F, C, O> Workers<O> for Tasks<'_, D, F, O::Line>
where
    F: FnMut(&D) -> C,
    C: Future<Output = Result<Client, DbError>> + Send + 'static,
    O: Operation,
{
    type Conn = Client;

    async fn connect(&mut self, member: usize) -> Result<Client, DbError> {
        (self.connect)(&self.members[member].database).await
    }

    fn start(&mut self, job: Job<O>, conn: Option<Client>) {
        let conn = match conn {
            Some(conn) => Connecting::Open(conn),
            None => Connecting::Making((self.connect)(&self.members[job.member].database)),
        };
        self.set.spawn(async move {
            let conn = match conn {
                Connecting::Open(conn) => Ok(conn),
                Connecting::Making(connecting) => connecting.await,
            };
            engine::work(job, conn).await
        });
    }

    async fn finished(&mut self) -> Option<Finished<Client, O::Line>> {
        match self.set.join_next().await? {
            Ok(finished) => Some(finished),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Cancelled: the runtime is shutting down.
            Err(_) => None,
        }
    }
}
