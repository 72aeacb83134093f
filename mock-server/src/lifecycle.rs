//! Order and refill lifecycles: the statuses an order or refill goes through.
//!
//! A lifecycle is an ordered list of steps. An order starts at step 0 and moves
//! one step per tick of the logical clock (see [`crate::clock`]); it stays on the
//! last step for ever. Only legal transitions can be written down (checked when
//! the fixture loads): `Pending` first, then `In progress` / `Processing`, and a
//! terminal status (`Completed`, `Partial`, `Canceled`) only as the last step.

pub use smm_contract::{OrderStatus, RefillStatus};

/// One step of an order lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The status shown at this step.
    pub status: OrderStatus,
    /// Percent of the ordered units delivered at this step (0-100).
    pub delivered: u8,
}

/// A step that cannot be: what it delivered does not fit its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{} cannot have delivered {} (a percent: Pending is 0, Completed is 100, Partial is below 100)", .0.status, .0.delivered)]
pub struct ImpossibleStep(pub Step);

/// Why a list of steps is not a legal lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// No step at all.
    #[error("a {0}lifecycle needs at least one step")]
    Empty(&'static str),
    /// A first step other than Pending.
    #[error("the first step must be Pending, not {0}")]
    FirstNotPending(&'static str),
    /// A step that cannot be.
    #[error("step {0}: {1}")]
    Impossible(usize, ImpossibleStep),
    /// A terminal status before the last step.
    #[error("step {0}: {1} is terminal, so it can only be the last step")]
    TerminalNotLast(usize, OrderStatus),
    /// A status that cannot follow the one before.
    #[error("step {index}: {to} cannot follow {from}")]
    CannotFollow {
        /// The step.
        index: usize,
        /// The status before.
        from: &'static str,
        /// Its status.
        to: &'static str,
    },
    /// Less delivered than at the step before.
    #[error("step {index}: delivered goes down ({to} after {from})")]
    DeliveredDown {
        /// The step.
        index: usize,
        /// Delivered before.
        from: u8,
        /// Delivered at this step.
        to: u8,
    },
}

impl Step {
    /// Why this step is not possible, if it is not: delivered is a percent,
    /// Pending has delivered nothing, Completed everything, Partial less.
    pub fn check(self) -> Result<(), ImpossibleStep> {
        let ok = match self.status {
            _ if self.delivered > 100 => false,
            OrderStatus::Pending => self.delivered == 0,
            OrderStatus::Completed => self.delivered == 100,
            OrderStatus::Partial => self.delivered < 100,
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(ImpossibleStep(self))
        }
    }

    /// Units delivered out of `total` at this step (rounded down).
    pub fn delivered_of(self, total: u64) -> u64 {
        // u128: total × 100 cannot overflow.
        (u128::from(total) * u128::from(self.delivered) / 100) as u64
    }
}

/// A named order lifecycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    /// Its name in the fixture.
    pub name: String,
    /// Its steps, at least one.
    pub steps: Vec<Step>,
}

impl Lifecycle {
    /// The step an order is on after `position` ticks (the last step holds).
    pub fn step(&self, position: usize) -> Step {
        self.steps[position.min(self.steps.len() - 1)]
    }

    /// The index of the last step.
    pub fn last(&self) -> usize {
        self.steps.len() - 1
    }

    /// Why these steps are not a legal lifecycle, if they are not.
    pub fn check(steps: &[Step]) -> Result<(), LifecycleError> {
        let Some(first) = steps.first() else {
            return Err(LifecycleError::Empty(""));
        };
        if first.status != OrderStatus::Pending {
            return Err(LifecycleError::FirstNotPending(first.status.as_str()));
        }
        for (i, step) in steps.iter().enumerate() {
            step.check().map_err(|e| LifecycleError::Impossible(i, e))?;
            if step.status.is_terminal() && i + 1 != steps.len() {
                return Err(LifecycleError::TerminalNotLast(i, step.status));
            }
        }
        for (i, pair) in steps.windows(2).enumerate() {
            let (from, to) = (pair[0], pair[1]);
            if !from.status.may_become(to.status) {
                return Err(LifecycleError::CannotFollow {
                    index: i + 1,
                    from: from.status.as_str(),
                    to: to.status.as_str(),
                });
            }
            if to.delivered < from.delivered {
                return Err(LifecycleError::DeliveredDown {
                    index: i + 1,
                    from: from.delivered,
                    to: to.delivered,
                });
            }
        }
        Ok(())
    }
}

/// A named refill lifecycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefillLifecycle {
    /// Its name in the fixture.
    pub name: String,
    /// Its statuses, at least one.
    pub steps: Vec<RefillStatus>,
}

impl RefillLifecycle {
    /// The status of a refill after `position` ticks (the last step holds).
    pub fn step(&self, position: usize) -> RefillStatus {
        self.steps[position.min(self.steps.len() - 1)]
    }

    /// The index of the last step.
    pub fn last(&self) -> usize {
        self.steps.len() - 1
    }

    /// Why these statuses are not a legal refill lifecycle, if they are not.
    pub fn check(steps: &[RefillStatus]) -> Result<(), LifecycleError> {
        match steps.first() {
            None => return Err(LifecycleError::Empty("refill ")),
            Some(RefillStatus::Pending) => {}
            Some(other) => return Err(LifecycleError::FirstNotPending(other.as_str())),
        }
        for (i, pair) in steps.windows(2).enumerate() {
            if !pair[0].may_become(pair[1]) {
                return Err(LifecycleError::CannotFollow {
                    index: i + 1,
                    from: pair[0].as_str(),
                    to: pair[1].as_str(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(status: OrderStatus, delivered: u8) -> Step {
        Step { status, delivered }
    }

    #[test]
    fn a_normal_lifecycle_is_legal() {
        use OrderStatus::*;
        let steps = [step(Pending, 0), step(InProgress, 40), step(Completed, 100)];
        assert_eq!(Lifecycle::check(&steps), Ok(()));
    }

    #[test]
    fn illegal_lifecycles_are_refused_with_the_step() {
        use OrderStatus::*;
        let cases: [&[Step]; 6] = [
            &[step(InProgress, 0)],
            &[
                step(Pending, 0),
                step(Completed, 100),
                step(InProgress, 100),
            ],
            &[step(Pending, 0), step(InProgress, 50), step(Pending, 0)],
            &[step(Pending, 0), step(InProgress, 50), step(InProgress, 20)],
            &[step(Pending, 0), step(Completed, 90)],
            &[step(Pending, 0), step(Partial, 100)],
        ];
        for steps in cases {
            assert!(Lifecycle::check(steps).is_err(), "{steps:?} passed");
        }
    }

    #[test]
    fn delivered_rounds_down() {
        assert_eq!(step(OrderStatus::Partial, 33).delivered_of(10), 3);
        assert_eq!(
            step(OrderStatus::Completed, 100).delivered_of(u64::MAX),
            u64::MAX
        );
    }

    #[test]
    fn refill_lifecycles_follow_the_enum() {
        use RefillStatus::*;
        assert_eq!(
            RefillLifecycle::check(&[Pending, InProgress, Completed]),
            Ok(())
        );
        assert_eq!(RefillLifecycle::check(&[Pending, Rejected]), Ok(()));
        assert!(RefillLifecycle::check(&[Completed]).is_err());
        assert!(RefillLifecycle::check(&[Pending, Completed, InProgress]).is_err());
    }
}
