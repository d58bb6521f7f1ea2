//! The model's vocabulary: what people do on either side, the runs of every
//! kind, and the faults and bad timing a run can meet. A step names its
//! target by position ("the 3rd live contact, modulo how many there are"),
//! so any subsequence of a sequence is still a valid sequence: that is what
//! lets a failure shrink.

use std::fmt;

use sync_core::ContactPolicy;

/// One phone number from a small pool, in one of several spellings, so
/// that pages typed in Notion and contacts in the dialer often share a
/// number written differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Phone {
    pub number: u8,
    pub spelling: u8,
}

/// (area, exchange, line): fictional 555 numbers (invalid for the phone
/// library) and real-looking ones.
const NUMBERS: &[(&str, &str, &str)] = &[
    ("555", "777", "8888"),
    ("415", "555", "0100"),
    ("212", "555", "0199"),
    ("555", "010", "4242"),
];

impl Phone {
    pub fn text(self) -> String {
        let (a, e, l) = NUMBERS[self.number as usize % NUMBERS.len()];
        match self.spelling % 5 {
            0 => format!("{a}-{e}-{l}"),
            1 => format!("({a}) {e}-{l}"),
            2 => format!("+1 {a} {e} {l}"),
            3 => format!("{a}{e}{l}"),
            _ => format!("1-{a}-{e}-{l}"),
        }
    }
}

/// A contact-info field (last edit wins, or the configured policy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InfoField {
    Company,
    Phone(Phone),
    Website,
    Address,
    LinkedIn,
    Industry,
    FollowUp,
}

/// Notion's own fields (never written by the sync).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnField {
    Notes,
    Tags,
    Priority,
}

/// How a call is identified in the dialer's `callHistory`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallShape {
    /// A `timestamp` only (most dialers).
    Timed,
    /// An `id` and a `timestamp`.
    WithId,
    /// Neither: identified by its content.
    Untimed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    KeepNotion,
    KeepDialer,
    /// Per field: a side each, or a typed value.
    Merge(u8),
}

/// A sync run of one kind, as a function or a person starts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Run {
    /// `scheduled-sync`: both ways.
    Scheduled,
    /// `sync-to-notion` for one contact, right after a call.
    Push { who: u8 },
    /// `sync-from-notion`: "Pull from Notion".
    Pull,
    /// A person resolves an open conflict in the console.
    Resolve { who: u8, how: How },
    /// A person restores a contact from a backup.
    Restore { who: u8 },
    /// `notion-webhook`: Notion's event for the page a person changed last.
    Webhook,
}

/// Bad timing or a failure met by a run, at its `at`-th request (Blobs and
/// Notion counted together).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Twist {
    /// A person saves a contact in the dialer while the run works.
    DialerEditAt { at: u8, who: u8, field: InfoField },
    /// A person saves the very contact the run is about to write, between
    /// its read and its write.
    DialerEditBeforeWrite { field: InfoField },
    /// Blobs answers 500 to `times` writes in a row (retries included).
    BlobsFail { at: u8, times: u8 },
    /// The process dies: the request is lost (`delivered: false`) or
    /// applied with its answer lost.
    CutOff { at: u8, delivered: bool },
    /// The run stalls past its lease; another run takes over and finishes
    /// before this one goes on.
    LeaseExpires { at: u8, then: Run },
}

/// A Notion failure armed for the next matching requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotionFault {
    pub route: &'static str,
    pub kind: FaultKindSpec,
    pub times: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKindSpec {
    Status(u16),
    /// The create is applied, then answered 503 (with or without the id).
    CommitThen503 {
        report_id: bool,
    },
    DropConnection,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    DialerCreate {
        phone: Phone,
        updated_at: bool,
    },
    DialerEdit {
        who: u8,
        field: InfoField,
    },
    DialerCall {
        who: u8,
        shape: CallShape,
        notes: bool,
    },
    DialerEditNotes {
        who: u8,
        call: u8,
    },
    DialerDelete {
        who: u8,
    },
    NotionCreate {
        phone: Option<Phone>,
    },
    NotionEdit {
        who: u8,
        field: InfoField,
    },
    NotionEditOwn {
        who: u8,
        field: OwnField,
    },
    NotionEditCallData {
        who: u8,
    },
    NotionTrash {
        who: u8,
    },
    NotionRestore {
        who: u8,
    },
    NotionClearId {
        who: u8,
    },
    Wait {
        minutes: u16,
    },
    Fault(NotionFault),
    Run {
        run: Run,
        twist: Option<Twist>,
    },
    Together(Run, Run),
}

/// One random sequence: its seed, the conflict policy it runs under, its steps.
#[derive(Clone, Debug)]
pub struct Sequence {
    pub seed: u64,
    pub policy: ContactPolicy,
    pub steps: Vec<Step>,
}

const ROUTES: &[&str] = &[
    "pages.create",
    "pages.update",
    "pages.retrieve",
    "data_sources.query",
    "blocks.children.append",
    "blocks.children.list",
    "*",
];

impl Sequence {
    /// The sequence seed `seed` stands for; the same seed, the same steps:
    /// [`Sequence::without_webhooks`], and after some of a person's changes in
    /// Notion, the webhook Notion sends for it (a run of its own, with its own
    /// twist), drawn from a second stream so the rest stays as it was.
    pub fn generate(seed: u64) -> Sequence {
        let mut sequence = Sequence::without_webhooks(seed);
        let mut rng = fastrand::Rng::with_seed(seed ^ 0x9e37_79b9_7f4a_7c15);
        let mut steps = Vec::with_capacity(sequence.steps.len() * 2);
        for step in sequence.steps {
            let in_notion = matches!(
                step,
                Step::NotionCreate { .. }
                    | Step::NotionEdit { .. }
                    | Step::NotionEditOwn { .. }
                    | Step::NotionEditCallData { .. }
                    | Step::NotionTrash { .. }
                    | Step::NotionRestore { .. }
                    | Step::NotionClearId { .. }
            );
            steps.push(step);
            if in_notion && rng.u8(..3) == 0 {
                steps.push(Step::Run {
                    run: Run::Webhook,
                    twist: twist(&mut rng),
                });
            }
        }
        sequence.steps = steps;
        sequence
    }

    /// The sequences as generated before webhooks (the named regressions
    /// found then replay these).
    pub fn without_webhooks(seed: u64) -> Sequence {
        let mut rng = fastrand::Rng::with_seed(seed);
        let policy = match rng.u8(..10) {
            0..=4 => ContactPolicy::LastEditWins,
            5..=6 => ContactPolicy::Ask,
            7 => ContactPolicy::DialerWins,
            _ => ContactPolicy::NotionWins,
        };
        let len = rng.usize(6..=22);
        let mut steps: Vec<Step> = Vec::with_capacity(len + 2);
        // Most sequences start from something to sync.
        for _ in 0..rng.usize(0..=2) {
            steps.push(Step::DialerCreate {
                phone: phone(&mut rng),
                updated_at: rng.bool(),
            });
        }
        while steps.len() < len {
            steps.push(step(&mut rng));
        }
        Sequence {
            seed,
            policy,
            steps,
        }
    }
}

fn phone(rng: &mut fastrand::Rng) -> Phone {
    Phone {
        number: rng.u8(..4),
        spelling: rng.u8(..5),
    }
}

fn info_field(rng: &mut fastrand::Rng) -> InfoField {
    match rng.u8(..7) {
        0 => InfoField::Company,
        1 => InfoField::Phone(phone(rng)),
        2 => InfoField::Website,
        3 => InfoField::Address,
        4 => InfoField::LinkedIn,
        5 => InfoField::Industry,
        _ => InfoField::FollowUp,
    }
}

fn run(rng: &mut fastrand::Rng) -> Run {
    match rng.u8(..10) {
        0..=3 => Run::Scheduled,
        4..=5 => Run::Push { who: rng.u8(..) },
        6 => Run::Pull,
        7..=8 => Run::Resolve {
            who: rng.u8(..),
            how: match rng.u8(..3) {
                0 => How::KeepNotion,
                1 => How::KeepDialer,
                _ => How::Merge(rng.u8(..)),
            },
        },
        _ => Run::Restore { who: rng.u8(..) },
    }
}

fn twist(rng: &mut fastrand::Rng) -> Option<Twist> {
    let at = rng.u8(..40);
    Some(match rng.u8(..12) {
        0..=5 => return None,
        6 => Twist::DialerEditAt {
            at,
            who: rng.u8(..),
            field: info_field(rng),
        },
        7 => Twist::DialerEditBeforeWrite {
            field: info_field(rng),
        },
        8 => Twist::BlobsFail {
            at,
            times: rng.u8(1..=4),
        },
        9..=10 => Twist::CutOff {
            at,
            delivered: rng.bool(),
        },
        _ => Twist::LeaseExpires {
            at,
            then: if rng.bool() {
                Run::Scheduled
            } else {
                Run::Pull
            },
        },
    })
}

fn fault(rng: &mut fastrand::Rng) -> NotionFault {
    let route = ROUTES[rng.usize(..ROUTES.len())];
    let kind = match rng.u8(..6) {
        0 => FaultKindSpec::Status(429),
        1 => FaultKindSpec::Status([500, 502, 503, 504][rng.usize(..4)]),
        2 => FaultKindSpec::Status(529),
        3 => FaultKindSpec::DropConnection,
        _ => FaultKindSpec::CommitThen503 {
            report_id: rng.bool(),
        },
    };
    let route = match kind {
        FaultKindSpec::CommitThen503 { .. } => {
            ["pages.create", "pages.update", "blocks.children.append"][rng.usize(..3)]
        }
        _ => route,
    };
    NotionFault {
        route,
        kind,
        times: rng.u8(1..=3),
    }
}

fn step(rng: &mut fastrand::Rng) -> Step {
    let who = rng.u8(..);
    match rng.u8(..100) {
        0..=7 => Step::DialerCreate {
            phone: phone(rng),
            updated_at: rng.bool(),
        },
        8..=15 => Step::DialerEdit {
            who,
            field: info_field(rng),
        },
        16..=23 => Step::DialerCall {
            who,
            shape: match rng.u8(..6) {
                0..=3 => CallShape::Timed,
                4 => CallShape::WithId,
                _ => CallShape::Untimed,
            },
            notes: rng.u8(..4) > 0,
        },
        24..=26 => Step::DialerEditNotes {
            who,
            call: rng.u8(..),
        },
        27..=28 => Step::DialerDelete { who },
        29..=33 => Step::NotionCreate {
            phone: (rng.u8(..4) > 0).then(|| phone(rng)),
        },
        34..=41 => Step::NotionEdit {
            who,
            field: info_field(rng),
        },
        42..=44 => Step::NotionEditOwn {
            who,
            field: [OwnField::Notes, OwnField::Tags, OwnField::Priority][rng.usize(..3)],
        },
        45..=46 => Step::NotionEditCallData { who },
        47..=48 => Step::NotionTrash { who },
        49..=50 => Step::NotionRestore { who },
        51..=52 => Step::NotionClearId { who },
        53..=56 => Step::Wait {
            minutes: [1, 2, 5, 61][rng.usize(..4)],
        },
        57..=61 => Step::Fault(fault(rng)),
        62..=65 => Step::Together(run(rng), run(rng)),
        _ => Step::Run {
            run: run(rng),
            twist: twist(rng),
        },
    }
}

// ----- readable output, for a shrunk failing sequence -----

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.text())
    }
}

impl fmt::Display for InfoField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InfoField::Phone(p) => write!(f, "phone to {p}"),
            other => write!(f, "{}", format!("{other:?}").to_lowercase()),
        }
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Run::Scheduled => write!(f, "scheduled-sync"),
            Run::Push { who } => write!(f, "sync-to-notion for contact #{who} (after a call)"),
            Run::Pull => write!(f, "sync-from-notion (pull)"),
            Run::Resolve { who, how } => write!(f, "resolve conflict #{who}: {how:?}"),
            Run::Restore { who } => write!(f, "restore backup #{who}"),
            Run::Webhook => write!(f, "notion-webhook for the page a person changed last"),
        }
    }
}

impl fmt::Display for Twist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Twist::DialerEditAt { at, who, field } => {
                write!(f, "at request {at} a person edits contact #{who}: {field}")
            }
            Twist::DialerEditBeforeWrite { field } => write!(
                f,
                "a person edits the contact the run is about to write ({field})"
            ),
            Twist::BlobsFail { at, times } => {
                write!(f, "from request {at} Blobs fails {times} write(s)")
            }
            Twist::CutOff { at, delivered } => write!(
                f,
                "the process dies at request {at} ({})",
                if *delivered {
                    "request applied, answer lost"
                } else {
                    "request lost"
                }
            ),
            Twist::LeaseExpires { at, then } => write!(
                f,
                "at request {at} the run stalls past its lease and {then} runs meanwhile"
            ),
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::DialerCreate { phone, updated_at } => write!(
                f,
                "dialer: new contact, phone {phone}{}",
                if *updated_at { ", keeps updatedAt" } else { "" }
            ),
            Step::DialerEdit { who, field } => write!(f, "dialer: contact #{who}: {field}"),
            Step::DialerCall { who, shape, notes } => write!(
                f,
                "dialer: call to contact #{who} ({shape:?}{})",
                if *notes { ", with notes" } else { ", no notes" }
            ),
            Step::DialerEditNotes { who, call } => {
                write!(f, "dialer: contact #{who}: notes of call #{call} edited")
            }
            Step::DialerDelete { who } => write!(f, "dialer: contact #{who} deleted"),
            Step::NotionCreate { phone } => match phone {
                Some(p) => write!(f, "notion: page typed, phone {p}"),
                None => write!(f, "notion: page typed, no phone"),
            },
            Step::NotionEdit { who, field } => write!(f, "notion: page #{who}: {field}"),
            Step::NotionEditOwn { who, field } => {
                write!(f, "notion: page #{who}: own field {field:?} edited")
            }
            Step::NotionEditCallData { who } => {
                write!(
                    f,
                    "notion: page #{who}: Outcome and Objection edited by hand"
                )
            }
            Step::NotionTrash { who } => write!(f, "notion: page #{who} moved to the trash"),
            Step::NotionRestore { who } => write!(f, "notion: trashed page #{who} restored"),
            Step::NotionClearId { who } => write!(f, "notion: page #{who}: Dialer ID cleared"),
            Step::Wait { minutes } => write!(f, "{minutes} minute(s) pass"),
            Step::Fault(nf) => write!(
                f,
                "notion fault armed: {:?} on {} x{}",
                nf.kind, nf.route, nf.times
            ),
            Step::Run { run, twist: None } => write!(f, "run: {run}"),
            Step::Run {
                run,
                twist: Some(t),
            } => write!(f, "run: {run}; {t}"),
            Step::Together(a, b) => write!(f, "two runs at once: {a} and {b}"),
        }
    }
}

impl fmt::Display for Sequence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "seed {} (policy {:?}):", self.seed, self.policy)?;
        for (i, s) in self.steps.iter().enumerate() {
            writeln!(f, "  {i:>2}. {s}")?;
        }
        Ok(())
    }
}
