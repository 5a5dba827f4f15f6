//! The order in which a fleet's targets are started: in the fleet's order,
//! at most `jobs` at once; the first `canary` all ended, and none failed,
//! before any other starts; after a failure, no other unless the fleet
//! keeps going. Pure: the caller starts what it is told and says how each
//! ended.

/// How a target ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Its call ended well.
    Done,
    /// Its call failed.
    Failed,
    /// Its database could not be reached.
    Unreachable,
}

/// How a fleet rolls out over its targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    /// How many targets may run at once (at least one).
    pub jobs: usize,
    /// How many targets go first, alone, as canaries.
    pub canary: usize,
    /// Whether a failure after the canaries leaves the others to run.
    pub keep_going: bool,
    /// Whether a target that cannot be reached counts as a failure.
    pub unreachable_stops: bool,
}

/// Where a rollout over `total` targets stands.
#[derive(Debug, Clone)]
pub(crate) struct Rollout {
    policy: Policy,
    total: usize,
    next: usize,
    running: usize,
    stopped: bool,
}

impl Rollout {
    pub(crate) fn new(policy: Policy, total: usize) -> Rollout {
        Rollout {
            policy: Policy {
                jobs: policy.jobs.max(1),
                ..policy
            },
            total,
            next: 0,
            running: 0,
            stopped: false,
        }
    }

    /// The next target to start now, if one may.
    pub(crate) fn start(&mut self) -> Option<usize> {
        let canaries_running = self.next == self.policy.canary && self.running > 0;
        if self.stopped
            || self.next >= self.total
            || self.running >= self.policy.jobs
            || canaries_running
        {
            return None;
        }
        self.next += 1;
        self.running += 1;
        Some(self.next - 1)
    }

    /// Says how target `index`, started earlier, ended.
    pub(crate) fn ended(&mut self, index: usize, how: Ended) {
        self.running = self.running.saturating_sub(1);
        let failed = match how {
            Ended::Done => false,
            Ended::Failed => true,
            Ended::Unreachable => self.policy.unreachable_stops,
        };
        if failed && (index < self.policy.canary || !self.policy.keep_going) {
            self.stopped = true;
        }
    }

    /// Starts nothing more: a failure before the rollout began.
    pub(crate) fn stop(&mut self) {
        self.stopped = true;
    }

    /// How many targets run now.
    pub(crate) fn running(&self) -> usize {
        self.running
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(jobs: usize, canary: usize, keep_going: bool) -> Policy {
        Policy {
            jobs,
            canary,
            keep_going,
            unreachable_stops: false,
        }
    }

    /// Starts what may start, then ends the running targets in the order
    /// given by `how` (index, how it ended), until nothing runs; returns
    /// the targets in the order they started.
    fn play(mut rollout: Rollout, how: impl Fn(usize) -> Ended) -> Vec<usize> {
        let mut started = Vec::new();
        let mut running = Vec::new();
        loop {
            while let Some(i) = rollout.start() {
                started.push(i);
                running.push(i);
            }
            if running.is_empty() {
                return started;
            }
            let i = running.remove(0);
            rollout.ended(i, how(i));
        }
    }

    #[test]
    fn targets_start_in_order_at_most_jobs_at_once() {
        let mut rollout = Rollout::new(policy(2, 0, false), 5);
        assert_eq!(
            (rollout.start(), rollout.start(), rollout.start()),
            (Some(0), Some(1), None)
        );
        assert_eq!(rollout.running(), 2);
        rollout.ended(1, Ended::Done);
        assert_eq!((rollout.start(), rollout.start()), (Some(2), None));
        assert_eq!(
            play(Rollout::new(policy(0, 0, false), 3), |_| Ended::Done),
            [0, 1, 2]
        );
    }

    #[test]
    fn a_failure_stops_the_rollout_unless_it_keeps_going() {
        let fail_1 = |i| if i == 1 { Ended::Failed } else { Ended::Done };
        assert_eq!(play(Rollout::new(policy(1, 0, false), 5), fail_1), [0, 1]);
        assert_eq!(
            play(Rollout::new(policy(1, 0, true), 5), fail_1),
            [0, 1, 2, 3, 4]
        );
        // Targets started before the failure is seen (3, once 0 ended) run
        // to their end; none starts after it.
        assert_eq!(
            play(Rollout::new(policy(3, 0, false), 6), fail_1),
            [0, 1, 2, 3]
        );
    }

    #[test]
    fn the_canaries_end_before_the_others_start_and_a_failed_one_stops_everything() {
        let mut rollout = Rollout::new(policy(4, 2, true), 6);
        assert_eq!(
            (rollout.start(), rollout.start(), rollout.start()),
            (Some(0), Some(1), None)
        );
        rollout.ended(0, Ended::Done);
        assert_eq!(rollout.start(), None, "a canary still runs");
        rollout.ended(1, Ended::Done);
        assert_eq!(rollout.start(), Some(2));
        let fail_1 = |i| if i == 1 { Ended::Failed } else { Ended::Done };
        assert_eq!(play(Rollout::new(policy(4, 2, true), 6), fail_1), [0, 1]);
        assert_eq!(
            play(Rollout::new(policy(4, 2, true), 6), |_| Ended::Done),
            [0, 1, 2, 3, 4, 5]
        );
        // More canaries than targets: all are canaries.
        assert_eq!(
            play(Rollout::new(policy(1, 9, false), 2), |_| Ended::Done),
            [0, 1]
        );
    }

    #[test]
    fn an_unreachable_target_stops_nothing_unless_asked() {
        let unreachable_0 = |i| {
            if i == 0 {
                Ended::Unreachable
            } else {
                Ended::Done
            }
        };
        assert_eq!(
            play(Rollout::new(policy(1, 1, false), 3), unreachable_0),
            [0, 1, 2]
        );
        let asked = Policy {
            unreachable_stops: true,
            ..policy(1, 0, false)
        };
        assert_eq!(play(Rollout::new(asked, 3), unreachable_0), [0]);
        let mut stopped = Rollout::new(policy(1, 0, true), 3);
        stopped.stop();
        assert_eq!(stopped.start(), None);
    }
}
