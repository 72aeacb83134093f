//! Watching the exchanges: each one numbered, judged, its violations
//! written one line each, appended to the recording, and counted per check
//! and per action; the counts become a [`Report`] as `run` writes it.
//!
//! Every text that leaves here is masked: the value of every `key` field
//! the proxy saw is a secret (up to [`MAX_SECRETS`] of them; `key` fields
//! themselves are masked whatever their number).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::time::Instant;

use serde::Serialize;
use smm_contract::{field, Action};

use super::judge::{self, Finding, Memory, Severity, CHECKS};
use super::record::{Recorded, Recorder};
use super::Seen;
use crate::outcome::{CheckResult, Evidence, Mode, Outcome, Report};
use crate::report::{excerpt, human::printable, redact};

/// The most distinct keys remembered as secrets (a client has one or two).
pub const MAX_SECRETS: usize = 256;

/// Evidence kept per check.
const EVIDENCE: usize = 5;

/// What passed through the proxy, per action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Traffic {
    /// Exchanges seen.
    pub exchanges: u64,
    /// Exchanges relayed but not judged (the judge's queue was full).
    pub unjudged: u64,
    /// Exchanges whose body was not judged (over `--max-body`, or compressed).
    pub bodies_not_judged: u64,
    /// Per action (`(no action)` and `(unknown action)` grouped), in the
    /// contract's order.
    pub actions: Vec<ActionCount>,
}

/// One action's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionCount {
    /// The action (or `(no action)`, `(unknown action)`).
    pub action: String,
    /// Exchanges.
    pub exchanges: u64,
    /// Violations (warnings included).
    pub violations: u64,
}

#[derive(Debug, Default)]
struct Tally {
    applied: u64,
    warned: u64,
    failed: u64,
    first: Option<String>,
    evidence: Vec<Evidence>,
}

/// The state of the watch: the judge's memory, the counts, the outputs.
pub struct Watch {
    upstream: String,
    mode: Mode,
    started: Instant,
    secrets: Vec<String>,
    memory: Memory,
    exchanges: u64,
    bodies_not_judged: u64,
    checks: HashMap<&'static str, Tally>,
    actions: BTreeMap<(usize, String), (u64, u64)>,
    lines: Box<dyn Write + Send>,
    recorder: Option<Recorder>,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("exchanges", &self.exchanges)
            .finish_non_exhaustive()
    }
}

/// An action's place in the per-action counts, and its name there.
fn action_slot(sent: Option<&str>) -> (usize, String) {
    match sent {
        None | Some("") => (Action::ALL.len() + 1, "(no action)".to_owned()),
        Some(text) => match Action::parse(text) {
            Some(action) => (action as usize, action.as_str().to_owned()),
            None => (Action::ALL.len(), "(unknown action)".to_owned()),
        },
    }
}

impl Watch {
    /// A watch of `upstream`, writing lines to `lines` and, when given, the
    /// recording to `record` (its header written now).
    pub fn new(
        upstream: &str,
        mode: Mode,
        lines: Box<dyn Write + Send>,
        record: Option<Box<dyn Write + Send>>,
    ) -> std::io::Result<Watch> {
        let recorder = match record {
            Some(out) => Some(Recorder::new(out, upstream)?),
            None => None,
        };
        Ok(Watch {
            upstream: upstream.to_owned(),
            mode,
            started: Instant::now(),
            secrets: Vec::new(),
            memory: Memory::default(),
            exchanges: 0,
            bodies_not_judged: 0,
            checks: HashMap::new(),
            actions: BTreeMap::new(),
            lines,
            recorder,
        })
    }

    fn outcome(&self, severity: Severity) -> Outcome {
        match (severity, self.mode) {
            (Severity::Broken, _) | (Severity::Drift, Mode::Strict) => Outcome::Fail,
            (Severity::Drift, Mode::Tolerant) | (Severity::Warn, _) => Outcome::Warn,
        }
    }

    /// Numbers, judges, reports and records one exchange.
    pub fn hear(&mut self, mut seen: Seen) {
        self.exchanges += 1;
        let n = self.exchanges;
        for (name, value) in &seen.request.fields {
            // A stray short value (`key=1`) is masked in its own field, but
            // not hunted through every text, where it would mask every `1`.
            if name == field::KEY
                && value.chars().count() >= crate::report::SHORT_SECRET
                && self.secrets.len() < MAX_SECRETS
                && !self.secrets.contains(value)
            {
                self.secrets.push(value.clone());
            }
        }
        let judgement = judge::judge(&seen, &mut self.memory);
        // The key fields are masked whatever they hold, from here on.
        for (name, value) in &mut seen.request.fields {
            if name == field::KEY && !value.is_empty() {
                *value = "***".to_owned();
            }
        }
        if judgement.unjudged.is_some() {
            self.bodies_not_judged += 1;
        }
        let slot = action_slot(seen.request.action());
        let counts = self.actions.entry(slot.clone()).or_default();
        counts.0 += 1;
        counts.1 += judgement.findings.len() as u64;
        for check in &judgement.applied {
            self.checks.entry(check).or_default().applied += 1;
        }
        for finding in &judgement.findings {
            self.found(n, &slot.1, &seen, finding);
        }
        if let Some(recorder) = &mut self.recorder {
            let recorded = Recorded::of(n, &seen, &self.secrets);
            if let Err(e) = recorder.write(&recorded) {
                let _ = writeln!(
                    self.lines,
                    "smm-conformance proxy: the recording stopped at exchange {n}: {e}"
                );
                self.recorder = None;
            }
        }
    }

    fn found(&mut self, n: u64, action: &str, seen: &Seen, finding: &Finding) {
        let outcome = self.outcome(finding.severity);
        let message = redact(&finding.message, &self.secrets);
        let line = format!(
            "{:<5} {:<26} {action}: {message} (exchange {n})",
            match outcome {
                Outcome::Fail => "FAIL",
                _ => "WARN",
            },
            finding.check
        );
        let _ = writeln!(self.lines, "{}", printable(&excerpt(&line, 400)));
        let evidence = Evidence {
            request: redact(&self.curl(seen), &self.secrets),
            expected: finding.expected.clone(),
            actual: redact(&actual(seen), &self.secrets),
            diff: None,
        };
        let tally = self.checks.entry(finding.check).or_default();
        match outcome {
            Outcome::Fail => tally.failed += 1,
            _ => tally.warned += 1,
        }
        tally
            .first
            .get_or_insert_with(|| format!("{action}: {message} (exchange {n})"));
        if tally.evidence.len() < EVIDENCE {
            tally.evidence.push(evidence);
        }
    }

    /// The request as a curl command (masked by the caller).
    fn curl(&self, seen: &Seen) -> String {
        let request = &seen.request;
        let mut url = if request.path.ends_with('/') && !self.upstream.ends_with('/') {
            format!("{}/", self.upstream)
        } else {
            self.upstream.clone()
        };
        if !request.query.is_empty() {
            url.push('?');
            url.push_str(&request.query);
        }
        let quote = |t: &str| format!("'{}'", t.replace('\'', r"'\''"));
        let mut command = format!("curl -sS -X {} {}", request.method, quote(&url));
        if request.method != "GET" {
            if !request.content_type.is_empty() {
                command.push_str(&format!(
                    " -H {}",
                    quote(&format!("Content-Type: {}", request.content_type))
                ));
            }
            let body_fields = request
                .fields
                .iter()
                .skip(form_urlencoded::parse(request.query.as_bytes()).count());
            let body = if request.content_type.contains("json") {
                let object: serde_json::Map<String, serde_json::Value> = body_fields
                    .map(|(n, v)| (n.clone(), serde_json::Value::from(v.as_str())))
                    .collect();
                serde_json::Value::Object(object).to_string()
            } else {
                form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(body_fields)
                    .finish()
            };
            if !body.is_empty() && body != "{}" {
                command.push_str(&format!(" --data-raw {}", quote(&body)));
            }
        }
        command
    }

    /// The report of what was judged so far; `dropped` exchanges were
    /// relayed but not judged.
    pub fn report(&self, dropped: u64) -> Report {
        let checks = CHECKS
            .iter()
            .map(|check| {
                let tally = self.checks.get(check.id);
                let (outcome, message, evidence) = match tally {
                    Some(t) if t.failed + t.warned > 0 => (
                        if t.failed > 0 {
                            Outcome::Fail
                        } else {
                            Outcome::Warn
                        },
                        format!(
                            "{} in {}; first: {}",
                            counted(t.failed + t.warned, "violation"),
                            counted(t.applied, "exchange"),
                            t.first.clone().unwrap_or_default()
                        ),
                        t.evidence.clone(),
                    ),
                    Some(t) if t.applied > 0 => (
                        Outcome::Pass,
                        format!("{} judged, no violation", counted(t.applied, "exchange")),
                        Vec::new(),
                    ),
                    _ => (
                        Outcome::Skip,
                        "no exchange it applies to passed through the proxy".to_owned(),
                        Vec::new(),
                    ),
                };
                CheckResult {
                    id: check.id,
                    section: check.section,
                    title: check.title,
                    outcome,
                    message,
                    evidence,
                    duration: std::time::Duration::ZERO,
                }
            })
            .collect();
        let mut report = Report::new(
            redact(&self.upstream, &self.secrets),
            self.mode,
            0,
            0,
            checks,
        );
        report.duration = self.started.elapsed();
        report.exchanges = Some(Traffic {
            exchanges: self.exchanges + dropped,
            unjudged: dropped,
            bodies_not_judged: self.bodies_not_judged,
            actions: self
                .actions
                .iter()
                .map(|((_, action), (exchanges, violations))| ActionCount {
                    action: action.clone(),
                    exchanges: *exchanges,
                    violations: *violations,
                })
                .collect(),
        });
        crate::report::redact_report(&report, &self.secrets)
    }
}

/// `n` and a noun, plural when it must be.
fn counted(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// What came back, for evidence.
fn actual(seen: &Seen) -> String {
    match &seen.answer {
        Ok(answer) => format!(
            "HTTP {} {}: {}",
            answer.status,
            excerpt(&answer.content_type, 200),
            excerpt(&String::from_utf8_lossy(&answer.body), 600)
        ),
        Err(failed) => failed.to_string(),
    }
}

/// The closing summary: per check judged, its outcome and counts; per
/// action, exchanges and violations; then the closing line of `run`.
pub fn summary(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let traffic = report.exchanges.clone().unwrap_or(Traffic {
        exchanges: 0,
        unjudged: 0,
        bodies_not_judged: 0,
        actions: Vec::new(),
    });
    writeln!(
        out,
        "smm-conformance proxy: {} with {} ({} mode)",
        counted(traffic.exchanges, "exchange"),
        printable(&report.target),
        match report.mode {
            Mode::Tolerant => "tolerant",
            Mode::Strict => "strict",
        }
    )?;
    writeln!(out)?;
    for check in &report.checks {
        let label = match check.outcome {
            Outcome::Pass => "PASS",
            Outcome::Warn => "WARN",
            Outcome::Fail => "FAIL",
            Outcome::Error => "ERROR",
            Outcome::Skip => "SKIP",
        };
        let what = match check.outcome {
            Outcome::Skip => "not applicable to any exchange".to_owned(),
            _ => printable(&check.message).into_owned(),
        };
        writeln!(out, "{label:<5} {:<26} {what}", check.id)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<18} {:>9} {:>10}",
        "action", "exchanges", "violations"
    )?;
    for a in &traffic.actions {
        writeln!(
            out,
            "{:<18} {:>9} {:>10}",
            a.action, a.exchanges, a.violations
        )?;
    }
    if traffic.unjudged > 0 {
        writeln!(
            out,
            "{} exchanges relayed but not judged (the judge fell behind)",
            traffic.unjudged
        )?;
    }
    if traffic.bodies_not_judged > 0 {
        writeln!(
            out,
            "{} answers' bodies not judged (over --max-body, or compressed)",
            traffic.bodies_not_judged
        )?;
    }
    writeln!(out)?;
    let c = report.counts;
    writeln!(
        out,
        "{} passed, {} warned, {} failed, {} errored, {} skipped",
        c.passed, c.warned, c.failed, c.errored, c.skipped
    )
}
