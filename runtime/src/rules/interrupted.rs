//! Whether a no-transaction statement that was interrupted (its process
//! killed, its connection cut, its server stopped) completed, from what the
//! catalog shows afterwards. The server finishes a statement whose client
//! died, so nobody saw how it ended; for the statements whose effect the
//! catalog shows, the evidence decides, and only where it is sound.
//!
//! The evidence of "made by this statement" is the age of the catalog row:
//! every progress record of a no-transaction migration is written in a
//! transaction of its own just before the next statement starts, and the
//! tracking table keeps that transaction's id. A catalog row written after
//! it was written by the statement (a session migrating a database holds
//! its lock, so nothing else of the migration's runs meanwhile). An object
//! that exists does not prove more than that: one that existed before the
//! statement, or one of another definition, is never taken as its work.

use stowage_core::effect::{Effect, ObjectKind};

/// What the catalog shows of what a statement does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Facts {
    /// The object (or, for a drop of several, any of them) exists.
    pub exists: bool,
    /// For an index: whether it is valid.
    pub valid: bool,
    /// Its catalog row was written after the record before the statement:
    /// `None` when the record has no transaction id to compare with.
    pub newer: Option<bool>,
    /// The object's name, schema-qualified, to drop it by.
    pub qualified: Option<String>,
    /// For an unnamed `CREATE INDEX CONCURRENTLY`: the indexes made on its
    /// table since the record, with whether each is valid.
    pub new_indexes: Vec<(String, bool)>,
    /// For a `REINDEX CONCURRENTLY`: the INVALID `_ccnew`/`_ccold` indexes
    /// an interrupted one leaves.
    pub leftovers: Vec<String>,
}

/// What a resume does with the statement a no-transaction migration
/// stopped at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolution {
    /// It completed: go on after it.
    Completed,
    /// It did not complete, or running it again is harmless: run it again,
    /// after dropping the INVALID indexes it left.
    RunAgain { drop_first: Vec<String> },
    /// The catalog cannot tell.
    CannotTell,
}

impl Resolution {
    /// Whether the statement completed, as far as the catalog tells.
    pub(crate) fn completed(&self) -> Option<bool> {
        match self {
            Resolution::Completed => Some(true),
            Resolution::RunAgain { .. } => Some(false),
            Resolution::CannotTell => None,
        }
    }

    /// The INVALID indexes to drop before the statement runs again.
    pub(crate) fn drop_first(&self) -> &[String] {
        match self {
            Resolution::RunAgain { drop_first } => drop_first,
            _ => &[],
        }
    }
}

fn run_again() -> Resolution {
    Resolution::RunAgain {
        drop_first: Vec::new(),
    }
}

/// Decides, from `facts`, what became of a statement with `effect`: one
/// that `failed` (the server refused it) changed nothing but the INVALID
/// indexes a concurrent build leaves; one that was interrupted may have
/// completed.
pub(crate) fn resolve(effect: &Effect, facts: &Facts, failed: bool) -> Resolution {
    if failed {
        return Resolution::RunAgain {
            drop_first: invalid_leftovers(effect, facts),
        };
    }
    match effect {
        Effect::CreateIndexConcurrently {
            name: Some(_),
            if_not_exists,
            ..
        } => match (facts.exists, facts.valid, facts.newer) {
            (false, _, _) => run_again(),
            // An interrupted build leaves its index INVALID; `IF NOT EXISTS`
            // would then report success over it: drop it, build again.
            (true, false, _) => Resolution::RunAgain {
                drop_first: facts.qualified.iter().cloned().collect(),
            },
            (true, true, Some(true)) => Resolution::Completed,
            (true, true, _) if *if_not_exists => Resolution::Completed,
            // It was there before: the statement failed when it ran, and
            // fails again, saying so.
            (true, true, Some(false)) => run_again(),
            (true, true, None) => Resolution::CannotTell,
        },
        // An unnamed build is named when it runs (`t_c_idx`, `t_c_idx1`, ...):
        // only an index made on its table since the record can be its work.
        Effect::CreateIndexConcurrently { name: None, .. } => {
            if facts.newer.is_none() {
                return Resolution::CannotTell;
            }
            let invalid: Vec<String> = facts
                .new_indexes
                .iter()
                .filter(|(_, valid)| !valid)
                .map(|(name, _)| name.clone())
                .collect();
            let valid = facts.new_indexes.len() - invalid.len();
            match (valid, invalid.is_empty()) {
                (0, true) => run_again(),
                (1, true) => Resolution::Completed,
                (0, false) => Resolution::RunAgain {
                    drop_first: invalid,
                },
                _ => Resolution::CannotTell,
            }
        }
        // Dropping what is still there, concurrently or not, is what it does.
        Effect::DropIndexConcurrently { .. } | Effect::Drop { .. } => {
            if facts.exists {
                run_again()
            } else {
                Resolution::Completed
            }
        }
        // Rebuilding is harmless to repeat, once what an interrupted one
        // left is gone.
        Effect::ReindexConcurrently { .. } => Resolution::RunAgain {
            drop_first: facts.leftovers.clone(),
        },
        Effect::AddEnumValue { .. } => {
            if facts.exists {
                Resolution::Completed
            } else {
                run_again()
            }
        }
        Effect::Rerunnable => run_again(),
        Effect::Create {
            kind,
            if_not_exists,
            or_replace,
            ..
        } => match (facts.exists, facts.newer) {
            (false, _) => run_again(),
            // Replacing again gives what replacing once gave.
            (true, _) if *or_replace && *kind != ObjectKind::Extension => run_again(),
            (true, Some(true)) => Resolution::Completed,
            (true, _) if *if_not_exists => Resolution::Completed,
            (true, Some(false)) => run_again(),
            (true, None) => Resolution::CannotTell,
        },
        _ => Resolution::CannotTell,
    }
}

/// The INVALID indexes a failed concurrent build left.
fn invalid_leftovers(effect: &Effect, facts: &Facts) -> Vec<String> {
    match effect {
        Effect::CreateIndexConcurrently { name: Some(_), .. }
            if facts.exists && !facts.valid && facts.newer != Some(false) =>
        {
            facts.qualified.iter().cloned().collect()
        }
        Effect::CreateIndexConcurrently { name: None, .. } => facts
            .new_indexes
            .iter()
            .filter(|(_, valid)| !valid)
            .map(|(name, _)| name.clone())
            .collect(),
        Effect::ReindexConcurrently { .. } => facts.leftovers.clone(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stowage_core::effect::effect;

    fn index(exists: bool, valid: bool, newer: Option<bool>) -> Facts {
        Facts {
            exists,
            valid,
            newer,
            qualified: exists.then(|| "public.t_c_idx".to_owned()),
            ..Facts::default()
        }
    }

    fn drop_first(names: &[&str]) -> Resolution {
        Resolution::RunAgain {
            drop_first: names.iter().map(|n| (*n).to_owned()).collect(),
        }
    }

    #[test]
    fn a_named_concurrent_build_is_judged_by_its_index() {
        let build = effect("CREATE INDEX CONCURRENTLY t_c_idx ON t (c)");
        assert_eq!(
            resolve(&build, &index(false, false, Some(false)), false),
            run_again()
        );
        assert_eq!(
            resolve(&build, &index(true, true, Some(true)), false),
            Resolution::Completed
        );
        assert_eq!(
            resolve(&build, &index(true, false, Some(true)), false),
            drop_first(&["public.t_c_idx"])
        );
        // There before the statement: not its work; running it again says so.
        assert_eq!(
            resolve(&build, &index(true, true, Some(false)), false),
            run_again()
        );
        // No transaction id to compare with.
        assert_eq!(
            resolve(&build, &index(true, true, None), false),
            Resolution::CannotTell
        );
        // IF NOT EXISTS over an INVALID leftover would report success: drop it.
        let if_not_exists = effect("CREATE INDEX CONCURRENTLY IF NOT EXISTS t_c_idx ON t (c)");
        assert_eq!(
            resolve(&if_not_exists, &index(true, false, None), false),
            drop_first(&["public.t_c_idx"])
        );
        assert_eq!(
            resolve(&if_not_exists, &index(true, true, None), false),
            Resolution::Completed
        );
    }

    #[test]
    fn an_unnamed_concurrent_build_is_judged_by_the_indexes_made_since() {
        let build = effect("CREATE INDEX CONCURRENTLY ON t (c)");
        let made = |indexes: &[(&str, bool)]| Facts {
            newer: Some(true),
            new_indexes: indexes.iter().map(|(n, v)| ((*n).to_owned(), *v)).collect(),
            ..Facts::default()
        };
        assert_eq!(resolve(&build, &made(&[]), false), run_again());
        assert_eq!(
            resolve(&build, &made(&[("public.t_c_idx", true)]), false),
            Resolution::Completed
        );
        assert_eq!(
            resolve(&build, &made(&[("public.t_c_idx", false)]), false),
            drop_first(&["public.t_c_idx"])
        );
        assert_eq!(
            resolve(&build, &made(&[("a", true), ("b", true)]), false),
            Resolution::CannotTell
        );
        assert_eq!(
            resolve(&build, &Facts::default(), false),
            Resolution::CannotTell
        );
    }

    #[test]
    fn drops_rebuilds_labels_and_reruns() {
        let gone = Facts::default();
        let there = Facts {
            exists: true,
            ..Facts::default()
        };
        let drop = effect("DROP INDEX CONCURRENTLY t_c_idx");
        assert_eq!(resolve(&drop, &gone, false), Resolution::Completed);
        assert_eq!(resolve(&drop, &there, false), run_again());
        let reindex = effect("REINDEX INDEX CONCURRENTLY t_c_idx");
        let leftovers = Facts {
            leftovers: vec!["public.t_c_idx_ccnew".to_owned()],
            ..Facts::default()
        };
        assert_eq!(
            resolve(&reindex, &leftovers, false),
            drop_first(&["public.t_c_idx_ccnew"])
        );
        let label = effect("ALTER TYPE mood ADD VALUE 'ok'");
        assert_eq!(resolve(&label, &there, false), Resolution::Completed);
        assert_eq!(resolve(&label, &gone, false), run_again());
        assert_eq!(resolve(&effect("VACUUM t"), &gone, false), run_again());
        assert_eq!(
            resolve(&effect("UPDATE t SET c = 1"), &there, false),
            Resolution::CannotTell
        );
    }

    #[test]
    fn a_created_object_counts_only_when_made_since_the_record() {
        let create = effect("CREATE TABLE t (id int)");
        let facts = |exists, newer| Facts {
            exists,
            newer,
            ..Facts::default()
        };
        assert_eq!(resolve(&create, &facts(false, None), false), run_again());
        assert_eq!(
            resolve(&create, &facts(true, Some(true)), false),
            Resolution::Completed
        );
        assert_eq!(
            resolve(&create, &facts(true, Some(false)), false),
            run_again()
        );
        assert_eq!(
            resolve(&create, &facts(true, None), false),
            Resolution::CannotTell
        );
        let if_not_exists = effect("CREATE TABLE IF NOT EXISTS t (id int)");
        assert_eq!(
            resolve(&if_not_exists, &facts(true, None), false),
            Resolution::Completed
        );
    }

    #[test]
    fn a_failed_statement_changed_nothing_but_the_indexes_a_build_leaves() {
        let build = effect("CREATE UNIQUE INDEX CONCURRENTLY t_c_key ON t (c)");
        assert_eq!(
            resolve(&build, &index(true, false, Some(true)), true),
            drop_first(&["public.t_c_idx"])
        );
        assert_eq!(
            resolve(&build, &index(false, false, None), true),
            run_again()
        );
        assert_eq!(
            resolve(
                &effect("CREATE TABLE t (id int)"),
                &index(true, true, Some(true)),
                true
            ),
            run_again()
        );
    }
}
