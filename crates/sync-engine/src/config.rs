//! Everything a sync run is configured by, read from environment variables
//! (secrets never live anywhere else). Each error names the variable and
//! where to set it.

use std::collections::BTreeMap;
use std::time::Duration;

use notion_client::NotionConfig;
use sync_core::config::parse_time_zone;
use sync_core::phone::Region;
use sync_core::SyncConfig;

/// Where the dialer keeps its contacts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContactsLayout {
    /// One blob per contact, keyed by the contact's id (the default).
    PerContact,
    /// One blob holding the whole list (a JSON array, or `{"contacts": [...]}`).
    SingleBlob { key: String },
}

#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub notion: NotionConfig,
    pub sync: SyncConfig,
    /// The dialer's store (default `contacts`).
    pub contacts_store: String,
    pub contacts_layout: ContactsLayout,
    /// The sync's own store (default `notion-sync`): bases, cursor, lock,
    /// intents, queue, history. Never the dialer's store.
    pub state_store: String,
    /// How often the Notion side is read in full, to see pages moved to the trash.
    pub full_scan_every: Duration,
    /// Records applied at once (each under the Notion limiter).
    pub concurrency: usize,
    /// Stop starting writes this long before the function's time limit.
    pub deadline_margin: Duration,
    /// Wait before reading the run lock back (`SYNC_LOCK_SETTLE_MS`, 0 by
    /// default): time for a racing conditional write to land, on a store
    /// whose conditional writes might not be atomic.
    pub lock_settle: Duration,
    /// How long run records are kept (`SYNC_HISTORY_DAYS`, default 30).
    pub history_days: u32,
    /// How long backups of replaced values are kept (`SYNC_BACKUP_DAYS`, default 7).
    pub backup_days: u32,
    /// Where failures are reported (`ALERT_*`; none set: logs only).
    pub alerts: alerts::AlertConfig,
    /// The key Notion signs webhook deliveries with
    /// (`NOTION_WEBHOOK_SECRET`); unset: the verification token Notion sent,
    /// kept in the state store (see [`crate::webhook`]).
    pub webhook_secret: Option<notion_client::Secret>,
    /// The system clock, unless a test shifts it.
    pub clock: crate::clock::Clock,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}. Set {variable} in Netlify: Site configuration > Environment variables (scope: Functions), then redeploy.")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl EngineConfig {
    pub fn from_env() -> Result<EngineConfig, ConfigError> {
        EngineConfig::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<EngineConfig, ConfigError> {
        let notion = NotionConfig::from_lookup(&get).map_err(|e| {
            let text = e.to_string();
            let variable = [
                "NOTION_API_TOKEN",
                "NOTION_DATABASE_ID",
                "NOTION_API_URL",
                "NOTION_API_VERSION",
                "NOTION_VERSION",
                "NOTION_REQUESTS_PER_MINUTE",
                "NOTION_RATE_WINDOW_SECONDS",
            ]
            .into_iter()
            .find(|v| text.contains(v))
            .unwrap_or("NOTION_API_TOKEN");
            ConfigError {
                variable,
                message: text,
            }
        })?;
        let bad = |variable: &'static str| move |message: String| ConfigError { variable, message };
        let mut sync = SyncConfig::default();
        if let Some(v) = get("SYNC_CONFLICT_POLICY") {
            sync.contact_policy = v.parse().map_err(bad("SYNC_CONFLICT_POLICY"))?;
        }
        if let Some(v) = get("SYNC_TIME_ZONE") {
            sync.time_zone = parse_time_zone(&v).map_err(bad("SYNC_TIME_ZONE"))?;
        }
        if let Some(v) = get("SYNC_PHONE_REGION") {
            sync.phone_region = Region::parse(&v).map_err(bad("SYNC_PHONE_REGION"))?;
        }
        if let Some(v) = get("SYNC_CALL_NOTES") {
            sync.call_notes = v.parse().map_err(bad("SYNC_CALL_NOTES"))?;
        }
        if let Some(v) = get("SYNC_PROPERTY_NAMES") {
            sync.property_names = serde_json::from_str::<BTreeMap<String, String>>(&v)
                .map_err(|e| format!("SYNC_PROPERTY_NAMES must be a JSON object such as {{\"phone\": \"Mobile\"}}: {e}"))
                .map_err(bad("SYNC_PROPERTY_NAMES"))?;
            if let Some(unknown) = sync
                .property_names
                .keys()
                .find(|k| sync_core::fields::field(k).is_none())
            {
                return Err(ConfigError {
                    variable: "SYNC_PROPERTY_NAMES",
                    message: format!(
                        "{unknown:?} is not a mapped field (known: {})",
                        field_keys()
                    ),
                });
            }
        }
        if let Some(v) = get("SYNC_BRAKE_SHARE") {
            let share: f64 = v
                .parse()
                .map_err(|_| format!("{v:?} is not a number between 0 and 1"))
                .map_err(bad("SYNC_BRAKE_SHARE"))?;
            sync.brake.max_share = share.clamp(0.0, 1.0);
        }
        let contacts_layout = match get("DIALER_CONTACTS_LAYOUT").as_deref().map(str::trim) {
            None | Some("per-contact") | Some("per_contact") => ContactsLayout::PerContact,
            Some("single-blob") | Some("single_blob") => ContactsLayout::SingleBlob {
                key: get("DIALER_CONTACTS_KEY").unwrap_or_else(|| "contacts".into()),
            },
            Some(other) => {
                return Err(ConfigError {
                    variable: "DIALER_CONTACTS_LAYOUT",
                    message: format!("{other:?} is not a layout: use per-contact or single-blob"),
                })
            }
        };
        let minutes = |variable: &'static str, default: u64| -> Result<Duration, ConfigError> {
            match get(variable) {
                None => Ok(Duration::from_secs(default * 60)),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .map(|m| Duration::from_secs(m * 60))
                    .map_err(|_| ConfigError {
                        variable,
                        message: format!("{v:?} is not a whole number of minutes"),
                    }),
            }
        };
        let days = |variable: &'static str, default: u32| -> Result<u32, ConfigError> {
            match get(variable) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|d| *d >= 1)
                    .ok_or_else(|| ConfigError {
                        variable,
                        message: format!("{v:?} is not a whole number of days (1 or more)"),
                    }),
            }
        };
        let alerts = alerts::AlertConfig::from_lookup(&get).map_err(|e| ConfigError {
            variable: e.variable,
            message: e.message,
        })?;
        Ok(EngineConfig {
            alerts,
            notion,
            sync,
            contacts_store: get("DIALER_CONTACTS_STORE").unwrap_or_else(|| "contacts".into()),
            contacts_layout,
            state_store: get("SYNC_STATE_STORE").unwrap_or_else(|| "notion-sync".into()),
            full_scan_every: minutes("SYNC_FULL_SCAN_MINUTES", 60)?,
            concurrency: 8,
            deadline_margin: Duration::from_secs(3),
            lock_settle: match get("SYNC_LOCK_SETTLE_MS") {
                None => Duration::ZERO,
                Some(v) => Duration::from_millis(v.trim().parse().map_err(|_| ConfigError {
                    variable: "SYNC_LOCK_SETTLE_MS",
                    message: format!("{v:?} is not a number of milliseconds"),
                })?),
            },
            history_days: days("SYNC_HISTORY_DAYS", 30)?,
            backup_days: days("SYNC_BACKUP_DAYS", 7)?,
            webhook_secret: get("NOTION_WEBHOOK_SECRET")
                .map(|s| notion_client::Secret::new(s.trim())),
            clock: crate::clock::Clock::system(),
        })
    }
}

fn field_keys() -> String {
    sync_core::FIELDS
        .iter()
        .map(|f| f.key)
        .collect::<Vec<_>>()
        .join(", ")
}
