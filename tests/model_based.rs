//! Nothing lost, nothing duplicated: the README's promise, checked on random
//! sequences of people's actions, runs of every kind, faults and bad timing
//! (`model/`). `MODEL_SEQUENCES` (default 500) sequences from `MODEL_SEED`
//! on, `MODEL_JOBS` at a time; a failure is shrunk and printed with its
//! seed. `MODEL_WEBHOOKS=0` plays the sequences as generated before the
//! model sent webhooks (soaks started then, and their seeds). `MODEL_DUMP=1`
//! prints, after each step, the Notion requests it made, each contact's
//! page and each page (run one named test or one seed with it).
//!
//! The named tests below are sequences it (or a reader) found, kept so the
//! bug they show can never come back.

mod model;

use std::time::Instant;

use model::steps::{CallShape, OwnField};
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
    // MODEL_WEBHOOKS=0: the sequences as generated before webhooks (to go on
    // with a soak started then, or replay what it found).
    let webhooks = env_u64("MODEL_WEBHOOKS", 1) != 0;
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
                let seq = if webhooks {
                    Sequence::generate(next)
                } else {
                    Sequence::without_webhooks(next)
                };
                next += 1;
                set.spawn(async move {
                    let out = play(&blobs, &seq).await;
                    (seq, out)
                });
            }
            let Some(done) = set.join_next().await else {
                break;
            };
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

const fn phone(number: u8, spelling: u8) -> Phone {
    Phone { number, spelling }
}

const PHONE: Phone = phone(0, 0);

use ContactPolicy::{LastEditWins, NotionWins};
use Step::{
    DialerCall, DialerCreate, DialerDelete, DialerEdit, DialerEditNotes, Fault, NotionClearId,
    NotionCreate, NotionEdit, NotionEditOwn, NotionRestore, NotionTrash,
};

fn run(run: Run) -> Step {
    Step::Run { run, twist: None }
}

fn twisted(run: Run, twist: Twist) -> Step {
    Step::Run {
        run,
        twist: Some(twist),
    }
}

#[test]
fn a_pull_keeps_a_dialer_edit_made_since_the_last_sync() {
    holds(
        ContactPolicy::LastEditWins,
        &[
            Step::DialerCreate {
                phone: PHONE,
                updated_at: true,
            },
            Step::Run {
                run: Run::Scheduled,
                twist: None,
            },
            Step::Wait { minutes: 2 },
            Step::DialerEdit {
                who: 0,
                field: InfoField::Address,
            },
            Step::Wait { minutes: 2 },
            Step::NotionEdit {
                who: 0,
                field: InfoField::Company,
            },
            Step::Run {
                run: Run::Pull,
                twist: None,
            },
        ],
    );
}

// ----- sequences the model found (shrunk), kept as they were printed -----

#[test]
fn seed_4_a_value_copied_from_notion_is_backed_up_on_the_side_not_read() {
    holds(
        LastEditWins,
        &[
            DialerCreate {
                phone: phone(2, 2),
                updated_at: false,
            },
            run(Run::Scheduled),
            NotionEdit {
                who: 168,
                field: InfoField::Address,
            },
            run(Run::Scheduled),
        ],
    );
}

#[test]
fn seed_3_a_new_page_reaches_its_contact_after_a_save_in_between() {
    holds(
        NotionWins,
        &[
            DialerCreate {
                phone: phone(2, 1),
                updated_at: true,
            },
            twisted(
                Run::Scheduled,
                Twist::DialerEditBeforeWrite {
                    field: InfoField::Company,
                },
            ),
        ],
    );
}

#[test]
fn seed_6_a_restore_never_puts_back_call_data_nor_hides_a_later_edit() {
    holds(
        LastEditWins,
        &[
            DialerCreate {
                phone: phone(1, 3),
                updated_at: false,
            },
            run(Run::Push { who: 137 }),
            DialerEdit {
                who: 133,
                field: InfoField::Website,
            },
            DialerCall {
                who: 228,
                shape: CallShape::WithId,
                notes: true,
            },
            run(Run::Scheduled),
            DialerEdit {
                who: 19,
                field: InfoField::LinkedIn,
            },
            run(Run::Restore { who: 102 }),
        ],
    );
}

#[test]
fn seed_117_a_restore_settles_the_conflicts_it_overwrites() {
    holds(
        LastEditWins,
        &[
            DialerCreate {
                phone: phone(2, 1),
                updated_at: true,
            },
            NotionCreate {
                phone: Some(phone(2, 2)),
            },
            run(Run::Scheduled),
            run(Run::Restore { who: 217 }),
        ],
    );
}

#[test]
fn seed_226_a_reused_dialer_id_gets_a_page_of_its_own() {
    holds(
        LastEditWins,
        &[
            NotionCreate {
                phone: Some(phone(2, 1)),
            },
            DialerCreate {
                phone: phone(1, 3),
                updated_at: true,
            },
            run(Run::Scheduled),
            DialerDelete { who: 161 },
            run(Run::Scheduled),
            DialerCreate {
                phone: phone(2, 2),
                updated_at: true,
            },
        ],
    );
}

#[test]
fn seed_273_keep_notion_after_a_delete_brings_back_the_same_contact() {
    holds(
        NotionWins,
        &[
            NotionCreate {
                phone: Some(phone(0, 4)),
            },
            run(Run::Scheduled),
            DialerDelete { who: 77 },
            NotionClearId { who: 3 },
            NotionEditOwn {
                who: 224,
                field: OwnField::Notes,
            },
        ],
    );
}

#[test]
fn seed_346_a_page_restored_after_the_delete_asks_again() {
    holds(
        LastEditWins,
        &[
            DialerCreate {
                phone: phone(0, 4),
                updated_at: false,
            },
            run(Run::Scheduled),
            DialerDelete { who: 40 },
            run(Run::Scheduled),
            NotionRestore { who: 112 },
        ],
    );
}

#[test]
fn seed_363_two_runs_creating_one_page_keep_one() {
    holds(
        LastEditWins,
        &[
            run(Run::Scheduled),
            DialerCreate {
                phone: phone(3, 1),
                updated_at: true,
            },
            twisted(
                Run::Push { who: 36 },
                Twist::LeaseExpires {
                    at: 16,
                    then: Run::Scheduled,
                },
            ),
        ],
    );
}

#[test]
fn seed_485_an_edit_made_while_the_page_was_in_the_trash_reaches_it() {
    holds(
        LastEditWins,
        &[
            DialerCreate {
                phone: phone(3, 3),
                updated_at: true,
            },
            run(Run::Push { who: 20 }),
            DialerEdit {
                who: 7,
                field: InfoField::FollowUp,
            },
            NotionTrash { who: 164 },
            run(Run::Scheduled),
            NotionRestore { who: 152 },
        ],
    );
}

#[test]
fn seed_832_notes_typed_after_an_append_whose_answer_was_lost() {
    holds(
        LastEditWins,
        &[
            DialerCreate {
                phone: phone(0, 4),
                updated_at: true,
            },
            DialerCall {
                who: 248,
                shape: CallShape::Timed,
                notes: true,
            },
            twisted(
                Run::Scheduled,
                Twist::CutOff {
                    at: 14,
                    delivered: true,
                },
            ),
            DialerEditNotes {
                who: 186,
                call: 218,
            },
        ],
    );
}

#[test]
fn seed_890_a_page_created_by_a_run_that_lost_its_lease_is_still_watched() {
    holds(
        NotionWins,
        &[
            DialerCreate {
                phone: PHONE,
                updated_at: false,
            },
            twisted(
                Run::Scheduled,
                Twist::LeaseExpires {
                    at: 16,
                    then: Run::Pull,
                },
            ),
            NotionTrash { who: 198 },
        ],
    );
}

#[test]
fn seed_895_a_contact_made_from_a_page_is_linked_even_if_the_id_write_fails() {
    holds(
        LastEditWins,
        &[
            Fault(model::steps::NotionFault {
                route: "pages.update",
                kind: model::steps::FaultKindSpec::Status(529),
                times: 3,
            }),
            NotionCreate { phone: None },
            run(Run::Pull),
            DialerDelete { who: 187 },
            NotionEditOwn {
                who: 210,
                field: OwnField::Priority,
            },
            run(Run::Pull),
            run(Run::Scheduled),
        ],
    );
}

#[test]
fn seed_1745_a_call_logged_while_the_page_was_in_the_trash_reaches_it_on_restore() {
    holds(
        LastEditWins,
        &[
            DialerCreate {
                phone: phone(0, 2),
                updated_at: true,
            },
            run(Run::Scheduled),
            NotionTrash { who: 158 },
            DialerCall {
                who: 73,
                shape: CallShape::Timed,
                notes: true,
            },
            run(Run::Scheduled),
            NotionRestore { who: 150 },
        ],
    );
}

#[test]
fn seed_1485_a_call_log_append_raced_by_the_run_that_took_over_is_kept_once() {
    holds(
        ContactPolicy::DialerWins,
        &[
            DialerCreate {
                phone: phone(0, 0),
                updated_at: false,
            },
            DialerCreate {
                phone: phone(1, 1),
                updated_at: false,
            },
            Step::NotionEditCallData { who: 19 },
            DialerCall {
                who: 76,
                shape: CallShape::Timed,
                notes: true,
            },
            Step::Wait { minutes: 61 },
            DialerCall {
                who: 44,
                shape: CallShape::WithId,
                notes: true,
            },
            run(Run::Scheduled),
            Step::Together(
                Run::Push { who: 128 },
                Run::Resolve {
                    who: 97,
                    how: model::How::KeepNotion,
                },
            ),
            Fault(model::steps::NotionFault {
                route: "pages.create",
                kind: model::steps::FaultKindSpec::CommitThen503 { report_id: false },
                times: 2,
            }),
            Step::NotionEditCallData { who: 97 },
            DialerCall {
                who: 47,
                shape: CallShape::Timed,
                notes: true,
            },
            DialerCreate {
                phone: phone(1, 1),
                updated_at: false,
            },
            NotionCreate {
                phone: Some(phone(2, 2)),
            },
            twisted(
                Run::Scheduled,
                Twist::LeaseExpires {
                    at: 26,
                    then: Run::Scheduled,
                },
            ),
        ],
    );
}

#[test]
fn seed_2043_an_edit_refused_by_a_trashed_page_reaches_it_on_restore() {
    holds(
        LastEditWins,
        &[
            DialerCreate {
                phone: phone(2, 3),
                updated_at: false,
            },
            run(Run::Push { who: 129 }),
            NotionTrash { who: 210 },
            twisted(
                Run::Pull,
                Twist::DialerEditBeforeWrite {
                    field: InfoField::Industry,
                },
            ),
            run(Run::Scheduled),
            NotionRestore { who: 221 },
        ],
    );
}

#[test]
fn seed_4761_a_push_leaves_a_phone_match_to_the_run_that_reads_every_contact() {
    holds(
        LastEditWins,
        &[
            run(Run::Scheduled),
            NotionCreate {
                phone: Some(phone(3, 3)),
            },
            twisted(
                Run::Pull,
                Twist::CutOff {
                    at: 7,
                    delivered: false,
                },
            ),
            DialerCreate {
                phone: phone(3, 3),
                updated_at: false,
            },
            run(Run::Push { who: 155 }),
        ],
    );
}

/// Seed 100136 (found under load, where concurrent records make the cut
/// fall anywhere): a run cut off after making a contact of a typed page and
/// before recording it; the contact is deleted in the dialer; the page got
/// a second contact under a new id. Here every cut point of that run, one
/// page, so the order is fixed.
#[test]
fn seed_100136_a_page_never_gets_a_second_contact_after_a_cut_off_run() {
    for at in 1..=12 {
        for delivered in [true, false] {
            holds(
                LastEditWins,
                &[
                    NotionCreate { phone: None },
                    twisted(Run::Scheduled, Twist::CutOff { at, delivered }),
                    DialerDelete { who: 0 },
                    DialerCreate {
                        phone: phone(1, 0),
                        updated_at: true,
                    },
                ],
            );
        }
    }
}

#[test]
fn seed_102440_a_call_logged_by_a_run_that_lost_its_lease_is_in_the_page_once() {
    holds(
        LastEditWins,
        &[
            DialerCreate {
                phone: phone(0, 1),
                updated_at: true,
            },
            Fault(model::steps::NotionFault {
                route: "blocks.children.list",
                kind: model::steps::FaultKindSpec::Status(529),
                times: 3,
            }),
            run(Run::Scheduled),
            DialerCall {
                who: 159,
                shape: CallShape::Timed,
                notes: true,
            },
            twisted(
                Run::Scheduled,
                Twist::LeaseExpires {
                    at: 11,
                    then: Run::Pull,
                },
            ),
        ],
    );
}

/// The oracle's own mistake, found by seed 200449: a contact whose page the
/// sync made (its Dialer ID later cleared by a person, the contact's link
/// not yet written) has a page; a page typed with its new phone is not its.
/// (Replayed whole: its values come from the seed.)
#[test]
fn seed_200449_a_page_the_sync_made_stays_its_contacts_after_its_id_is_cleared() {
    replays(200449);
}

/// Seed 300437: a page trashed in Notion whose contact a person edited while
/// a pull was marking it archived; later runs never marked it.
#[test]
fn seed_300437_a_trashed_page_whose_marking_was_raced_is_marked_later() {
    replays(300437);
}

/// Plays the whole sequence a seed generated when it was found (before the
/// model sent webhooks: [`Sequence::without_webhooks`]).
fn replays(seed: u64) {
    let seq = Sequence::without_webhooks(seed);
    runtime().block_on(async move {
        let blobs = BlobsServer::start().expect("the Blobs server starts");
        let out = play(&blobs, &seq).await;
        assert!(out.violations.is_empty(), "{}", explain(&seq, &out));
    });
}

/// Seed 405432: a contact deleted in the dialer whose page a stalled run
/// archived after the run that took over had recorded the delete; a person
/// restored the page; it stayed live with no contact and no question asked.
#[test]
fn seed_405432_a_page_restored_after_a_stalled_runs_archive_asks_again() {
    replays(405432);
}

/// Seed 600709, replayed whole (a call note ended in Notion twice).
#[test]
fn seed_600709_a_push_after_a_page_lost_its_dialer_id_keeps_the_contact_on_a_live_page() {
    replays(600709);
}

/// Seed 600709, shrunk: a push for one contact read another's page (its
/// Dialer ID cleared, read as a page without one), planned that contact as
/// deleted in the dialer (a push lists only its own contacts), and the
/// deletion conflict's answer trashed a live contact's page.
#[test]
fn seed_600709_a_push_never_plans_a_record_it_did_not_list() {
    holds(
        NotionWins,
        &[
            DialerCreate {
                phone: phone(2, 0),
                updated_at: false,
            },
            DialerCreate {
                phone: phone(3, 4),
                updated_at: false,
            },
            run(Run::Push { who: 206 }),
            NotionEdit {
                who: 154,
                field: InfoField::Industry,
            },
            NotionClearId { who: 21 },
            run(Run::Push { who: 35 }),
            run(Run::Scheduled),
        ],
    );
}

/// Seed 704448, replayed whole.
#[test]
fn seed_704448_replayed() {
    replays(704448);
}

/// Seed 704448, shrunk (the oracle's mistake, not the sync's): a person
/// changed the contact's phone before the run read it, so the typed page
/// with the old number had nothing to match; the oracle judged by the
/// number held before the step and expected a link. A record a person
/// changes while a run goes is now left out of the phone-link check.
#[test]
fn seed_704448_a_phone_changed_before_the_run_reads_it_is_not_expected_to_link() {
    holds(
        ContactPolicy::DialerWins,
        &[
            DialerCreate {
                phone: phone(0, 0),
                updated_at: true,
            },
            NotionCreate {
                phone: Some(phone(0, 3)),
            },
            twisted(
                Run::Scheduled,
                Twist::DialerEditAt {
                    at: 0,
                    who: 28,
                    field: InfoField::Phone(phone(3, 3)),
                },
            ),
        ],
    );
}

/// Seed 264 (with webhooks), shrunk: a run died right after making a
/// contact's page; a person typed a page with the contact's number; the
/// webhook's run read only that page, linked it to the contact by phone and
/// wrote the contact's Dialer ID to it: two pages with one Dialer ID. A
/// webhook run for a typed page now reads every page edited since the
/// cursor too (all of them before a first cursor), as a pull does.
#[test]
fn seed_264_a_webhook_for_a_typed_page_sees_the_page_a_dead_run_made() {
    holds(
        ContactPolicy::DialerWins,
        &[
            DialerCreate {
                phone: phone(0, 3),
                updated_at: true,
            },
            DialerCreate {
                phone: phone(2, 0),
                updated_at: true,
            },
            twisted(
                Run::Scheduled,
                Twist::CutOff {
                    at: 20,
                    delivered: true,
                },
            ),
            NotionCreate {
                phone: Some(phone(0, 0)),
            },
            run(Run::Webhook),
        ],
    );
}

/// Seed 711686, replayed whole (found by the soak before webhooks).
#[test]
fn seed_711686_replayed() {
    replays(711686);
}

/// Seed 711686, shrunk (the oracle's mistake, not the sync's): a push that
/// stalled past its lease made a copy of the page the run that took over
/// made, with the call note in it, and moved it to the trash; a person
/// restored the copy. That is the README's known limit (the sync reports
/// the Dialer ID on two pages, to merge by hand); the oracle counted the
/// copy's note as a second one. A restored copy is now left out of the
/// note count, as it is of the duplicate count.
#[test]
fn seed_711686_a_restored_copy_is_the_known_limit_not_a_second_note() {
    holds(
        ContactPolicy::LastEditWins,
        &[
            DialerCreate {
                phone: phone(0, 0),
                updated_at: true,
            },
            DialerCall {
                who: 254,
                shape: CallShape::Untimed,
                notes: true,
            },
            twisted(
                Run::Push { who: 224 },
                Twist::LeaseExpires {
                    at: 13,
                    then: Run::Scheduled,
                },
            ),
            NotionRestore { who: 78 },
        ],
    );
}

/// Seed 718675 (soak, before webhooks), shrunk: under "ask", a typed page
/// linked by phone to a contact with other values opened a conflict; the
/// page went to the trash (the record parked, its conflict filed) and came
/// back; the sync merged it against a base that held each side's own value
/// and saw nothing to do: the two sides differed for good with no conflict
/// open. A page back from the trash is now merged afresh.
#[test]
fn seed_718675_a_page_back_from_the_trash_is_merged_afresh() {
    holds(
        ContactPolicy::Ask,
        &[
            DialerCreate {
                phone: phone(3, 2),
                updated_at: true,
            },
            NotionCreate {
                phone: Some(phone(3, 4)),
            },
            run(Run::Scheduled),
            NotionTrash { who: 243 },
            run(Run::Push { who: 125 }),
            NotionRestore { who: 103 },
        ],
    );
}

/// Seed 721936, shrunk: a run died right after creating a contact's page;
/// a person trashed that page; the next run created it again (the README's
/// known limit: queries do not see the trash); the person restored the
/// first page, and a call logged after that must reach the contact's page
/// once.
#[test]
fn seed_721936_a_call_after_a_person_restores_the_first_of_two_pages_reaches_its_page() {
    for at in 8..=24 {
        holds(
            LastEditWins,
            &[
                DialerCreate {
                    phone: PHONE,
                    updated_at: true,
                },
                twisted(
                    Run::Scheduled,
                    Twist::CutOff {
                        at,
                        delivered: false,
                    },
                ),
                NotionTrash { who: 253 },
                run(Run::Scheduled),
                NotionRestore { who: 141 },
                DialerCall {
                    who: 33,
                    shape: CallShape::Timed,
                    notes: true,
                },
                run(Run::Scheduled),
            ],
        );
    }
}

/// Seed 731464, shrunk: a scheduled run stalled past its lease while
/// making pages for new contacts; a pull took over and linked a page typed
/// in Notion; the stalled run went on: Dialer ID 1003 on two live pages.
#[test]
fn seed_731464_a_stalled_run_and_the_pull_that_took_over_make_one_page_per_contact() {
    holds(
        NotionWins,
        &[
            Fault(model::steps::NotionFault {
                route: "pages.update",
                kind: model::steps::FaultKindSpec::Status(529),
                times: 2,
            }),
            DialerCreate {
                phone: phone(0, 2),
                updated_at: false,
            },
            Step::Together(Run::Pull, Run::Restore { who: 39 }),
            run(Run::Scheduled),
            DialerCreate {
                phone: phone(1, 2),
                updated_at: false,
            },
            DialerCreate {
                phone: phone(1, 3),
                updated_at: true,
            },
            DialerCreate {
                phone: phone(3, 3),
                updated_at: true,
            },
            DialerCall {
                who: 152,
                shape: CallShape::Timed,
                notes: true,
            },
            NotionCreate {
                phone: Some(phone(0, 2)),
            },
            twisted(
                Run::Scheduled,
                Twist::LeaseExpires {
                    at: 20,
                    then: Run::Pull,
                },
            ),
        ],
    );
}

/// Seed 739141, shrunk: a run stalled past its lease while appending a call
/// note; Notion took the append and answered 503, for it and for the run
/// that took over: the note was on the page twice, and the stalled run had
/// saved no check (it had no block ids to check).
#[test]
fn seed_739141_a_call_note_appended_by_a_stalled_run_that_notion_failed_is_left_once() {
    for at in 8..=16 {
        holds(
            ContactPolicy::DialerWins,
            &[
                NotionCreate {
                    phone: Some(phone(0, 1)),
                },
                Fault(model::steps::NotionFault {
                    route: "blocks.children.append",
                    kind: model::steps::FaultKindSpec::CommitThen503 { report_id: true },
                    times: 2,
                }),
                run(Run::Scheduled),
                DialerCall {
                    who: 156,
                    shape: CallShape::Timed,
                    notes: true,
                },
                twisted(
                    Run::Scheduled,
                    Twist::LeaseExpires {
                        at,
                        then: Run::Scheduled,
                    },
                ),
            ],
        );
    }
}

/// Seed 749275, shrunk: a pull linked a page typed in Notion to a new
/// contact, filed a conflict between their values, and died before saving
/// the link; the person moved the page to the trash and the next run gave
/// the contact a new page: the conflict, about the trashed page, could not
/// be answered, ever ("no base", then "the page is in Notion's trash").
#[test]
fn seed_749275_a_conflict_whose_page_went_to_the_trash_can_be_closed() {
    // The cut point that lands between filing the conflict and saving the
    // base moves with every request a run adds: a range of them.
    for at in 18..=30 {
        holds(
            LastEditWins,
            &[
                run(Run::Pull),
                NotionCreate {
                    phone: Some(phone(1, 4)),
                },
                DialerCreate {
                    phone: phone(2, 2),
                    updated_at: false,
                },
                DialerCreate {
                    phone: phone(1, 0),
                    updated_at: true,
                },
                twisted(
                    Run::Pull,
                    Twist::CutOff {
                        at,
                        delivered: false,
                    },
                ),
                DialerCreate {
                    phone: phone(2, 4),
                    updated_at: true,
                },
                run(Run::Push { who: 116 }),
                NotionTrash { who: 27 },
            ],
        );
    }
}

/// A new contact, a call with notes, and a push for it that stalls past
/// its lease while a pull takes over (seed 752400).
fn a_push_stalls_after_a_call() -> [Step; 3] {
    [
        DialerCreate {
            phone: phone(0, 1),
            updated_at: false,
        },
        DialerCall {
            who: 13,
            shape: CallShape::Timed,
            notes: true,
        },
        twisted(
            Run::Push { who: 225 },
            Twist::LeaseExpires {
                at: 13,
                then: Run::Pull,
            },
        ),
    ]
}

/// Seed 752400, shrunk: a push stalled past its lease after a call (the
/// pull that took over waited on its create intent) and then made the
/// contact's page with the call's note; no run had linked the page when a
/// person emptied its Dialer ID: the next run took it for a page typed in
/// Notion and gave the contact a second page, the note in Notion twice.
#[test]
fn seed_752400_a_call_note_reaches_notion_once_when_a_stalled_push_was_taken_over() {
    let mut steps = a_push_stalls_after_a_call().to_vec();
    steps.extend([
        DialerEdit {
            who: 151,
            field: model::steps::InfoField::Phone(phone(3, 2)),
        },
        NotionClearId { who: 255 },
    ]);
    holds(LastEditWins, &steps);
}

/// Seed 752400, shrunk further: the copy a stalled push made was trashed
/// by the sync and restored by a person (the README's known limit: both
/// pages hold the call note, the sync reports the Dialer ID on two pages);
/// the person then emptied one page's Dialer ID. The copy is still that
/// known limit, not a note logged twice by the sync.
#[test]
fn seed_752400_a_restored_copy_stays_the_known_limit_when_a_person_empties_a_dialer_id() {
    let mut steps = vec![
        DialerCreate {
            phone: phone(1, 2),
            updated_at: false,
        },
        run(Run::Scheduled),
        NotionCreate {
            phone: Some(phone(1, 0)),
        },
    ];
    steps.extend(a_push_stalls_after_a_call());
    steps.extend([NotionRestore { who: 78 }, NotionClearId { who: 255 }]);
    holds(LastEditWins, &steps);
}
