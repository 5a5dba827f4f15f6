//! A fleet over the blocking driver: each target's call on a scoped
//! thread of its own, connecting there through the program's connect
//! function; the rollout on the caller's thread.

use crate::conversation::blocking::block_on;
use crate::data::error::{DbError, Error};
use crate::data::fleet::FleetReport;
use crate::fleet::engine::{self, Finished, Job, Operation, Workers};
use crate::fleet::options::{Fleet, Member};
use postgres::Client;
use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::Scope;

/// What a worker thread sends back: its call's end, or its panic.
type Sent<L> = Result<Finished<Client, L>, Box<dyn Any + Send>>;

/// Makes `op` on every target of `fleet`, connecting with `connect`.
pub(crate) fn drive<D, F, O>(
    fleet: &Fleet<D>,
    op: O,
    connect: &F,
) -> Result<FleetReport<O::Line>, Error>
where
    D: Sync,
    F: Fn(&D) -> Result<Client, DbError> + Sync,
    O: Operation,
{
    std::thread::scope(|scope| {
        let (sender, receiver) = channel();
        let mut threads = Threads {
            scope,
            members: &fleet.members,
            connect,
            sender,
            receiver,
            running: 0,
        };
        block_on(engine::drive(fleet, op, &mut threads))
    })
}

struct Threads<'scope, 'env, D, F, L> {
    scope: &'scope Scope<'scope, 'env>,
    members: &'env [Member<D>],
    connect: &'env F,
    sender: Sender<Sent<L>>,
    receiver: Receiver<Sent<L>>,
    running: usize,
}

impl<'scope, 'env, D, F, O> Workers<O> for Threads<'scope, 'env, D, F, O::Line>
where
    D: Sync,
    F: Fn(&D) -> Result<Client, DbError> + Sync,
    O: Operation,
{
    type Conn = Client;

    async fn connect(&mut self, member: usize) -> Result<Client, DbError> {
        let database = &self.members[member].database;
        (self.connect)(database)
    }

    fn start(&mut self, job: Job<O>, conn: Option<Client>) {
        let database = &self.members[job.member].database;
        let connect = self.connect;
        let sender = self.sender.clone();
        self.running += 1;
        self.scope.spawn(move || {
            let finished = std::panic::catch_unwind(AssertUnwindSafe(|| {
                let conn = conn.map_or_else(|| connect(database), Ok);
                block_on(engine::work(job, conn))
            }));
            // The receiver lives as long as the scope.
            let _ = sender.send(finished);
        });
    }

    async fn finished(&mut self) -> Option<Finished<Client, O::Line>> {
        if self.running == 0 {
            return None;
        }
        let sent = self.receiver.recv().ok()?;
        self.running -= 1;
        match sent {
            Ok(finished) => Some(finished),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}
