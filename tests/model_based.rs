//! Nothing lost, nothing duplicated: the README's promise, checked on random
//! sequences of people's actions, runs of every kind, faults and bad timing
//! (`model/`). `MODEL_SEQUENCES` (default 500) sequences from `MODEL_SEED`
//! on; a failure is shrunk and printed with its seed.
//!
//! The named tests below are sequences it (or a reader) found, kept so the
//! bug they show can never come back.

mod model;

use std::time::Instant;

use model::*;
use sync_core::ContactPolicy;
use test_harness::blobs_server::BlobsServer;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn random_sequences_keep_every_promise() {
    let sequences = env_u64("MODEL_SEQUENCES", 500);
    let first = env_u64("MODEL_SEED", 1);
    let jobs = env_u64("MODEL_JOBS", 4) as usize;
    runtime().block_on(async move {
        let blobs = std::sync::Arc::new(BlobsServer::start().expect("the Blobs server starts"));
        let started = Instant::now();
        let mut total = world_tally();
        let mut set = tokio::task::JoinSet::new();
        let mut next = first;
        let mut failure = None;
        while next < first + sequences || !set.is_empty() {
            while failure.is_none() && set.len() < jobs && next < first + sequences {
                let blobs = blobs.clone();
                let seq = Sequence::generate(next);
                next += 1;
                set.spawn(async move {
                    let out = play(&blobs, &seq).await;
                    (seq, out)
                });
            }
            let Some(done) = set.join_next().await else { break };
            let (seq, out) = done.expect("a sequence panicked");
            total.0 += 1;
            total.1 += out.tally.steps;
            total.2 += out.tally.runs;
            if !out.violations.is_empty() && failure.is_none() {
                failure = Some((seq, out));
            }
        }
        let violations = usize::from(failure.is_some());
        println!(
            "model: {} sequences, {} steps, {} runs, {} violations (seeds {}..{}, {:.0?})",
            total.0,
            total.1,
            total.2,
            violations,
            first,
            first + sequences - 1,
            started.elapsed()
        );
        if let Some((seq, out)) = failure {
            let original = explain(&seq, &out);
            let (small, small_out) = shrink(&blobs, seq, out).await;
            panic!(
                "a promise broke.\n\nshrunk:\n{}\noriginal:\n{}",
                explain(&small, &small_out),
                original
            );
        }
    });
}

fn world_tally() -> (usize, usize, usize) {
    (0, 0, 0)
}

/// Plays a fixed sequence; panics with the oracle's complaints.
fn holds(policy: ContactPolicy, steps: &[Step]) {
    let seq = Sequence {
        seed: 0,
        policy,
        steps: steps.to_vec(),
    };
    runtime().block_on(async move {
        let blobs = BlobsServer::start().expect("the Blobs server starts");
        let out = play(&blobs, &seq).await;
        assert!(out.violations.is_empty(), "{}", explain(&seq, &out));
    });
}

const PHONE: Phone = Phone {
    number: 0,
    spelling: 0,
};

#[test]
fn a_pull_keeps_a_dialer_edit_made_since_the_last_sync() {
    holds(
        ContactPolicy::LastEditWins,
        &[
            Step::DialerCreate { phone: PHONE, updated_at: true },
            Step::Run { run: Run::Scheduled, twist: None },
            Step::Wait { minutes: 2 },
            Step::DialerEdit { who: 0, field: InfoField::Address },
            Step::Wait { minutes: 2 },
            Step::NotionEdit { who: 0, field: InfoField::Company },
            Step::Run { run: Run::Pull, twist: None },
        ],
    );
}

#[test]
fn debug_dump() {
    runtime().block_on(async move {
        let blobs = BlobsServer::start().expect("the Blobs server starts");
        let seq = Sequence { seed: 890, policy: ContactPolicy::NotionWins, steps: vec![
            Step::DialerCreate { phone: PHONE, updated_at: false },
            Step::Run { run: Run::Scheduled, twist: Some(Twist::LeaseExpires { at: 16, then: Run::Pull }) },
            Step::NotionTrash { who: 198 },
        ]};
        for _ in 0..1 {
            let out = play(&blobs, &seq).await;
            println!("{}", explain(&seq, &out));
        }
    });
}
