//! The result model: one record per check. Checks produce it, reporters turn
//! it into text, JSON or JUnit; nothing is printed while checks run.
//!
//! Times are in the model (each check's, the run's) for JUnit, which CI
//! systems show; the human and JSON reports leave them out, so the same seed
//! against the same panel gives the same bytes.

use std::time::Duration;

use serde::Serialize;

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The panel keeps this part of the contract.
    Pass,
    /// Drift real panels show (CONTRACT §6 items 1-4): a failure in strict mode.
    Warn,
    /// The panel breaks the contract.
    Fail,
    /// Could not check: timeout, refused connection.
    Error,
    /// Not run, with the reason (it would spend money, it needs a second key, …).
    Skip,
}

impl Outcome {
    /// Lower-case name, as in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
            Self::Error => "error",
            Self::Skip => "skip",
        }
    }
}

/// How drift counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Drift of CONTRACT §6 items 1-4 is a warning.
    #[default]
    Tolerant,
    /// All of it fails.
    Strict,
}

impl std::str::FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "tolerant" => Ok(Self::Tolerant),
            "strict" => Ok(Self::Strict),
            other => Err(format!("unknown mode `{other}` (tolerant or strict)")),
        }
    }
}

/// What a check saw when something was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The request, as a curl command (key masked).
    pub request: String,
    /// What the contract expects.
    pub expected: String,
    /// What came back.
    pub actual: String,
    /// A unified diff of expected against actual JSON, when their shapes differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// What one check concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The outcome.
    pub outcome: Outcome,
    /// One line saying why.
    pub message: String,
    /// What it saw (for Warn, Fail and Error).
    pub evidence: Vec<Evidence>,
}

impl Verdict {
    /// A pass.
    pub fn pass(message: impl Into<String>) -> Verdict {
        Verdict {
            outcome: Outcome::Pass,
            message: message.into(),
            evidence: Vec::new(),
        }
    }

    /// A skip, with the reason.
    pub fn skip(reason: impl Into<String>) -> Verdict {
        Verdict {
            outcome: Outcome::Skip,
            message: reason.into(),
            evidence: Vec::new(),
        }
    }

    /// A verdict with evidence.
    pub fn with(outcome: Outcome, message: impl Into<String>, evidence: Vec<Evidence>) -> Verdict {
        Verdict {
            outcome,
            message: message.into(),
            evidence,
        }
    }
}

/// One check's record in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// Stable, hierarchical id (`bulk.status.over-limit`).
    pub id: &'static str,
    /// The contract section it enforces.
    pub section: &'static str,
    /// What it checks.
    pub title: &'static str,
    /// How it ended.
    pub outcome: Outcome,
    /// Why.
    pub message: String,
    /// What it saw.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    /// How long it took (JUnit only).
    #[serde(skip)]
    pub duration: Duration,
}

/// Counts of each outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counts {
    /// Passed.
    pub passed: usize,
    /// Warned.
    pub warned: usize,
    /// Failed.
    pub failed: usize,
    /// Errored.
    pub errored: usize,
    /// Skipped.
    pub skipped: usize,
}

/// How the message of a check an interruption left unfinished begins.
pub const INTERRUPTED: &str = "interrupted before it finished";

/// What stopped a run before its checks were done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StopCause {
    /// Something the user must fix (a wrong path, a refused key): exit code 2.
    Usage,
    /// The target could not be reached: exit code 3.
    Unreachable,
    /// SIGINT or SIGTERM: exit code 130.
    Interrupted,
}

/// Why a run stopped early, and what that means for its exit code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stopped {
    /// What stopped it.
    pub cause: StopCause,
    /// In words.
    pub reason: String,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Report format version.
    pub version: u32,
    /// The endpoint checked (or `in-process mock`).
    pub target: String,
    /// Tolerant or strict.
    pub mode: Mode,
    /// Seed of the property-based checks.
    pub seed: u64,
    /// Cases per property.
    pub cases: u32,
    /// Counts per outcome.
    pub counts: Counts,
    /// One record per check, in catalogue order.
    pub checks: Vec<CheckResult>,
    /// Every order the run placed (its ledger): what was spent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<crate::ledger::PlacedOrder>,
    /// What of the contract the run exercised and observed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<crate::coverage::Coverage>,
    /// Why the run stopped before its checks were done, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<Stopped>,
    /// What passed through `smm-conformance proxy`, per action (its
    /// reports only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchanges: Option<crate::proxy::Traffic>,
    /// How long the run took (JUnit only).
    #[serde(skip)]
    pub duration: Duration,
}

/// Exit codes (README "Exit codes").
pub mod exit_code {
    /// Nothing failed (warnings and skips allowed).
    pub const OK: u8 = 0;
    /// The panel broke the contract.
    pub const FAILED: u8 = 1;
    /// Wrong usage.
    pub const USAGE: u8 = 2;
    /// The target could not be checked: unreachable, or only errors.
    pub const UNREACHABLE: u8 = 3;
    /// Interrupted (SIGINT, SIGTERM): 128 + SIGINT, as shells report it.
    pub const INTERRUPTED: u8 = 130;
}

impl Report {
    /// A report of these results.
    pub fn new(
        target: String,
        mode: Mode,
        seed: u64,
        cases: u32,
        checks: Vec<CheckResult>,
    ) -> Report {
        let mut counts = Counts::default();
        for c in &checks {
            match c.outcome {
                Outcome::Pass => counts.passed += 1,
                Outcome::Warn => counts.warned += 1,
                Outcome::Fail => counts.failed += 1,
                Outcome::Error => counts.errored += 1,
                Outcome::Skip => counts.skipped += 1,
            }
        }
        Report {
            version: 1,
            target,
            mode,
            seed,
            cases,
            counts,
            checks,
            orders: Vec::new(),
            coverage: None,
            stopped: None,
            exchanges: None,
            duration: Duration::ZERO,
        }
    }

    /// The exit code: a run stopped early, its cause's (usage 2,
    /// unreachable 3, interrupted 130); else any failure 1; else any error
    /// 3; else 0.
    pub fn exit_code(&self) -> u8 {
        if let Some(stopped) = &self.stopped {
            match stopped.cause {
                StopCause::Usage => exit_code::USAGE,
                StopCause::Unreachable => exit_code::UNREACHABLE,
                StopCause::Interrupted => exit_code::INTERRUPTED,
            }
        } else if self.counts.failed > 0 {
            exit_code::FAILED
        } else if self.counts.errored > 0 {
            exit_code::UNREACHABLE
        } else {
            exit_code::OK
        }
    }

    /// The outcome of check `id`, if it ran.
    pub fn outcome(&self, id: &str) -> Option<Outcome> {
        self.checks.iter().find(|c| c.id == id).map(|c| c.outcome)
    }
}
