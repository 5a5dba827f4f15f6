//! Which pending migrations travel together: consecutive transactional
//! migrations are sent in one message, each in its own transaction with its
//! row, so that a run's round trips do not grow with the number of
//! migrations; a message holds at most [`MESSAGE_BOUND`] bytes of SQL, so
//! that a large set streams rather than sitting in memory. A no-transaction
//! migration runs statement by statement, each statement a boundary.

use crate::rules::classify::Pending;

/// The most SQL one message carries, in bytes; a single migration larger
/// than that is sent alone.
pub(crate) const MESSAGE_BOUND: usize = 1 << 20;

/// A group of pending migrations applied together.
#[derive(Debug, Clone)]
pub(crate) enum Batch {
    /// Transactional migrations, sent in one message.
    Transactional(Vec<Pending>),
    /// A no-transaction migration, statement by statement.
    Statements(Pending),
}

/// Groups `pending`, in order, into batches of at most `bound` bytes of SQL.
pub(crate) fn batches(pending: Vec<Pending>, bound: usize) -> Vec<Batch> {
    let mut batches = Vec::new();
    let mut current: Vec<Pending> = Vec::new();
    let mut size = 0;
    for p in pending {
        if !p.migration.up().is_transactional() {
            if !current.is_empty() {
                batches.push(Batch::Transactional(std::mem::take(&mut current)));
            }
            size = 0;
            batches.push(Batch::Statements(p));
            continue;
        }
        let len = p.migration.up().sql().len();
        if !current.is_empty() && size + len > bound {
            batches.push(Batch::Transactional(std::mem::take(&mut current)));
            size = 0;
        }
        size += len;
        current.push(p);
    }
    if !current.is_empty() {
        batches.push(Batch::Transactional(current));
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::registry::for_tests;

    fn shape(batches: &[Batch]) -> Vec<Vec<i64>> {
        batches
            .iter()
            .map(|b| match b {
                Batch::Transactional(ms) => ms.iter().map(|p| p.migration.version()).collect(),
                Batch::Statements(p) => vec![-p.migration.version()],
            })
            .collect()
    }

    #[test]
    fn consecutive_transactional_migrations_travel_together_up_to_the_bound() {
        let sql = "SELECT 1"; // 8 bytes
        let migrations = for_tests(&[
            (1, "a", sql, "c1", true, [None; 2]),
            (2, "b", sql, "c2", true, [None; 2]),
            (3, "c", sql, "c3", false, [None; 2]),
            (4, "d", sql, "c4", true, [None; 2]),
            (5, "e", sql, "c5", true, [None; 2]),
            (6, "f", sql, "c6", true, [None; 2]),
        ]);
        let pending: Vec<Pending> = migrations
            .iter()
            .map(|migration| Pending {
                migration,
                start_at: 0,
                drop_first: Vec::new(),
            })
            .collect();
        assert_eq!(
            shape(&batches(pending.clone(), MESSAGE_BOUND)),
            [vec![1, 2], vec![-3], vec![4, 5, 6]]
        );
        // 16 bytes a message: two migrations at most.
        assert_eq!(
            shape(&batches(pending.clone(), 16)),
            [vec![1, 2], vec![-3], vec![4, 5], vec![6]]
        );
        // A migration larger than the bound goes alone.
        assert_eq!(
            shape(&batches(pending, 4)),
            [vec![1], vec![2], vec![-3], vec![4], vec![5], vec![6]]
        );
    }
}
