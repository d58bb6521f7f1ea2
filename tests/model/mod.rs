//! The model-based test of the whole sync: random sequences of what people
//! do on both sides, runs of every kind, faults and bad timing, checked
//! after every step by an oracle written from the README's rules. A failing
//! sequence is shrunk to a short, readable one and printed with its seed.

pub mod oracle;
pub mod person;
pub mod steps;
pub mod world;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use test_harness::blobs_server::RunningBlobsServer;

pub use steps::{How, InfoField, Phone, Run, Sequence, Step, Twist};
use world::{Tally, World};

/// How one sequence ended.
pub struct Outcome {
    /// Empty when every promise held.
    pub violations: Vec<String>,
    /// The step after which the oracle complained (`None`: while settling).
    pub at_step: Option<usize>,
    pub tally: Tally,
    pub trace: Vec<String>,
}

static WORLDS: AtomicU64 = AtomicU64::new(0);

/// The longest a step may take before the sequence counts as hung.
const STEP_LIMIT: Duration = Duration::from_secs(90);

/// Plays `seq` in a fresh world and checks it.
pub async fn play(blobs: &RunningBlobsServer, seq: &Sequence) -> Outcome {
    let name = format!("m{}-{}", seq.seed, WORLDS.fetch_add(1, Ordering::SeqCst));
    let mut world = World::new(blobs, seq.policy, &name).await;
    let profile = std::env::var("MODEL_PROFILE").is_ok();
    for (i, step) in seq.steps.iter().enumerate() {
        let t = std::time::Instant::now();
        let violations = tokio::time::timeout(STEP_LIMIT, world.apply(step))
            .await
            .unwrap_or_else(|_| vec![format!("step {i} did not finish in {STEP_LIMIT:?}")]);
        if std::env::var("MODEL_DUMP").is_ok() {
            world.dump(&step.to_string()).await;
        }
        if profile {
            eprintln!("PROFILE {:>6}ms {}", t.elapsed().as_millis(), step);
        }
        if !violations.is_empty() {
            return Outcome {
                violations,
                at_step: Some(i),
                tally: world.tally,
                trace: world.trace,
            };
        }
    }
    let violations = tokio::time::timeout(STEP_LIMIT, world.settle())
        .await
        .unwrap_or_else(|_| vec!["settling did not finish".into()]);
    Outcome {
        violations,
        at_step: None,
        tally: world.tally,
        trace: world.trace,
    }
}

/// The shortest sequence found that still breaks a promise (any promise:
/// a shorter one often shows the same bug more plainly).
pub async fn shrink(
    blobs: &RunningBlobsServer,
    seq: Sequence,
    first: Outcome,
) -> (Sequence, Outcome) {
    let mut best = seq;
    let mut outcome = first;
    let mut budget = 120;
    // Nothing after the failing step matters.
    if let Some(i) = outcome.at_step {
        best.steps.truncate(i + 1);
    }
    let mut chunk = best.steps.len().div_ceil(2).max(1);
    loop {
        let mut progress = false;
        let mut start = 0;
        while start < best.steps.len() && budget > 0 {
            let mut candidate = best.clone();
            let end = (start + chunk).min(candidate.steps.len());
            candidate.steps.drain(start..end);
            budget -= 1;
            let out = play(blobs, &candidate).await;
            if out.violations.is_empty() {
                start += chunk;
            } else {
                if let Some(i) = out.at_step {
                    candidate.steps.truncate(i + 1);
                }
                best = candidate;
                outcome = out;
                progress = true;
            }
        }
        if budget == 0 || (chunk == 1 && !progress) {
            break;
        }
        if !progress {
            chunk = (chunk / 2).max(1);
        }
    }
    // Plainer steps: no twist, one run instead of two.
    for i in 0..best.steps.len() {
        let plainer = match best.steps[i] {
            Step::Run {
                run,
                twist: Some(_),
            } => Step::Run { run, twist: None },
            Step::Together(a, _) => Step::Run {
                run: a,
                twist: None,
            },
            _ => continue,
        };
        let mut candidate = best.clone();
        candidate.steps[i] = plainer;
        let out = play(blobs, &candidate).await;
        if !out.violations.is_empty() {
            best = candidate;
            outcome = out;
        }
    }
    (best, outcome)
}

/// A failure as a person reads it: the seed, the steps, what broke, and
/// what each run did.
pub fn explain(seq: &Sequence, outcome: &Outcome) -> String {
    let when = match outcome.at_step {
        Some(i) => format!("after step {i}"),
        None => "after the faults stopped and clean runs".into(),
    };
    format!(
        "{seq}broken {when}:\n{}\nruns:\n{}\nreproduce: MODEL_SEED={} MODEL_SEQUENCES=1 cargo test -p e2e --test model_based random_sequences -- --nocapture\n",
        outcome
            .violations
            .iter()
            .map(|v| format!("  - {v}"))
            .collect::<Vec<_>>()
            .join("\n"),
        outcome
            .trace
            .iter()
            .map(|t| format!("  {t}"))
            .collect::<Vec<_>>()
            .join("\n"),
        seq.seed
    )
}
