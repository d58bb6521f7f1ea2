//! The product's knowledge, as pure functions over plain data: the dialer's
//! contact model, the field table and its resolution against a Notion
//! schema, value conversions both ways, the three-way merge, and the plan of
//! a sync run. No I/O, no clock reads, no randomness: everything is passed in,
//! so every rule is testable on its own.
//!
//! The flow: [`DialerContact::parse`] and [`Mapping::read_page`] turn both
//! sides into [`FieldMap`]s; [`plan()`] joins them with their [`Base`]s and
//! merges each record with [`merge_fields`]; the engine applies the
//! [`Plan`] and saves each record's new base.

pub mod backup;
pub mod cadence;
pub mod calllog;
pub mod config;
pub mod contact;
pub mod fields;
pub mod merge;
pub mod notion_value;
pub mod phone;
pub mod plan;
pub mod schema;
pub mod time;
pub mod value;

pub use config::{Brake, CallNotesTarget, ContactPolicy, SyncConfig};
pub use contact::{CallRecord, ContactError, ContactId, DialerContact};
pub use fields::{FieldSpec, Kind, PropKind, Strategy, FIELDS};
pub use merge::{
    applied_resolution, conflict_stands, later_edit, merge_conflicts, merge_fields,
    recommended_side, refresh_conflicts, resolve, resolve_deletion, same_value, Base, FieldChoice,
    FieldConflict, LostValue, MergeInput, RecordStatus, Resolution, ResolveError, Side,
};
pub use plan::{
    plan, ContactSnapshot, DialerWrite, Link, NotionWrite, Plan, PlanInput, Problem, RecordPlan,
};
pub use schema::{CheckStatus, Mapping, NotionRecord, PageSnapshot, Schema, SchemaReport};
pub use value::{DateValue, FieldMap, Value};
