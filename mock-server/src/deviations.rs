//! Which deviation profiles are on: panel-wide, and switched on at run time
//! for one key, one action or the next N requests (the admin API). Also the
//! fault draw of each request: a hash of the seed, the action and the
//! request's ordinal among requests of that action, never of timing.

use smm_contract::Action;

use crate::profile::{Profile, Profiles};
use crate::state::splitmix64;

/// A profile switched on through the admin API.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Override {
    /// The profile.
    pub profile: Profile,
    /// Only for this key.
    pub key: Option<String>,
    /// Only for this action.
    pub action: Option<Action>,
    /// Only for this many more matching requests (`None`: until removed).
    pub remaining: Option<u32>,
}

/// The profiles in force for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Active {
    /// The profiles.
    pub profiles: Profiles,
    /// The request's ordinal among requests of its action, from 1.
    pub ordinal: u64,
    /// A seeded hash of the action and the ordinal: the fault draw.
    pub draw: u64,
}

/// The profiles switched on, and the request counts faults are drawn from.
#[derive(Debug, Clone)]
pub struct Deviations {
    seed: u64,
    /// The panel-wide profiles at start (`--profile`, the fixture's).
    start: Profiles,
    profiles: Profiles,
    overrides: Vec<Override>,
    /// Requests so far per action (the last slot: unknown actions).
    ordinals: [u64; Action::ALL.len() + 1],
}

impl Deviations {
    /// `profiles` on for the whole panel from the start; faults drawn from `seed`.
    pub fn new(profiles: Profiles, seed: u64) -> Deviations {
        Deviations {
            seed,
            start: profiles,
            profiles,
            overrides: Vec::new(),
            ordinals: [0; Action::ALL.len() + 1],
        }
    }

    /// The profiles on for the whole panel.
    pub fn profiles(&self) -> Profiles {
        self.profiles
    }

    /// The panel-wide profiles at start.
    pub fn start_profiles(&self) -> Profiles {
        self.start
    }

    /// Switches the panel-wide profiles.
    pub fn set_profiles(&mut self, profiles: Profiles) {
        self.profiles = profiles;
    }

    /// The run-time overrides.
    pub fn overrides(&self) -> &[Override] {
        &self.overrides
    }

    /// Adds a run-time override.
    pub fn add_override(&mut self, o: Override) {
        self.overrides.push(o);
    }

    /// Drops every profile switched on at run time: no override, and the
    /// panel-wide profiles of the start (requests stay counted).
    pub fn clear_run_time(&mut self) {
        self.profiles = self.start;
        self.overrides.clear();
    }

    /// Back to the start, as the panel's reset: the panel-wide profiles of
    /// the start, no override, no request counted.
    pub fn reset(&mut self) {
        *self = Deviations::new(self.start, self.seed);
    }

    /// The profiles in force for a request of `key` and `action`; uses up
    /// one of each matching override's remaining requests.
    pub fn for_request(&mut self, key: &str, action: Option<Action>) -> Active {
        let slot = action.map_or(Action::ALL.len(), |a| a as usize);
        self.ordinals[slot] += 1;
        let ordinal = self.ordinals[slot];
        if self.profiles.is_empty() && self.overrides.is_empty() {
            return Active {
                profiles: Profiles::NONE,
                ordinal,
                draw: 0,
            };
        }
        let mut profiles = self.profiles;
        for o in &mut self.overrides {
            let matches = o.key.as_deref().is_none_or(|k| k == key)
                && o.action.is_none_or(|a| Some(a) == action);
            if matches && o.remaining != Some(0) {
                profiles = profiles.with(o.profile);
                if let Some(n) = &mut o.remaining {
                    *n -= 1;
                }
            }
        }
        self.overrides.retain(|o| o.remaining != Some(0));
        let draw = splitmix64(
            self.seed ^ (slot as u64).wrapping_mul(0x9E37_79B9) ^ ordinal.rotate_left(17),
        );
        Active {
            profiles,
            ordinal,
            draw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_override_for_the_next_two_requests_of_a_key_and_action() {
        let mut d = Deviations::new(Profiles::NONE, 0);
        d.add_override(Override {
            profile: Profile::HtmlErrors,
            key: Some("k".into()),
            action: Some(Action::Add),
            remaining: Some(2),
        });
        let on = |a: Active| a.profiles.has(Profile::HtmlErrors);
        assert!(!on(d.for_request("other", Some(Action::Add))));
        assert!(!on(d.for_request("k", Some(Action::Status))));
        assert!(on(d.for_request("k", Some(Action::Add))));
        assert!(on(d.for_request("k", Some(Action::Add))));
        assert!(!on(d.for_request("k", Some(Action::Add))));
        assert!(d.overrides().is_empty());
    }

    #[test]
    fn ordinals_count_per_action() {
        let mut d = Deviations::new(Profiles::NONE.with(Profile::Random5xx), 3);
        let first = d.for_request("k", Some(Action::Status));
        let other = d.for_request("k", Some(Action::Balance));
        let second = d.for_request("k", Some(Action::Status));
        assert_eq!((first.ordinal, other.ordinal, second.ordinal), (1, 1, 2));
        assert_ne!(first.draw, second.draw);
        d.reset();
        assert_eq!(d.for_request("k", Some(Action::Status)), first);
    }

    #[test]
    fn reset_and_clear_go_back_to_the_profiles_of_the_start() {
        let start = Profiles::NONE.with(Profile::StatusCase);
        let mut d = Deviations::new(start, 0);
        let run_time = || Override {
            profile: Profile::HtmlErrors,
            key: None,
            action: None,
            remaining: None,
        };
        d.set_profiles(Profiles::NONE.with(Profile::WrongCharge));
        d.add_override(run_time());
        d.clear_run_time();
        assert_eq!((d.profiles(), d.overrides().len()), (start, 0));
        d.set_profiles(Profiles::NONE);
        d.add_override(run_time());
        d.reset();
        assert_eq!((d.profiles(), d.overrides().len()), (start, 0));
    }
}
