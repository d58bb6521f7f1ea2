//! Alerts: the sync telling a person it needs them (roadmap Phase 7C:
//! "Email you if sync fails", "Slack webhook (optional)").
//!
//! Two channels, each optional, configured by environment variables:
//! - Slack: `ALERT_SLACK_WEBHOOK_URL`, an incoming webhook (`{"text": ...}`).
//! - Email: `ALERT_EMAIL_TO` (comma-separated), `ALERT_EMAIL_FROM`,
//!   `ALERT_EMAIL_PROVIDER` (`postmark`, `sendgrid` or `resend`) and
//!   `ALERT_EMAIL_API_KEY`; `ALERT_EMAIL_API_URL` overrides the provider's
//!   address (tests, EU regions).
//!
//! What to say and when is decided elsewhere (the engine); this crate only
//! delivers, each channel on its own, so a broken webhook never stops the
//! email. Webhook URLs and API keys are secrets: they never appear in a log
//! line or an error.

use std::time::Duration;

use serde_json::{json, Value};

/// One message for a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    /// Short: the email subject, the Slack message's first line.
    pub subject: String,
    /// What happened and what to do, plain text.
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    Postmark,
    SendGrid,
    Resend,
}

impl Provider {
    fn parse(name: &str) -> Option<Provider> {
        match name.trim().to_ascii_lowercase().as_str() {
            "postmark" => Some(Provider::Postmark),
            "sendgrid" => Some(Provider::SendGrid),
            "resend" => Some(Provider::Resend),
            _ => None,
        }
    }

    fn default_url(self) -> &'static str {
        match self {
            Provider::Postmark => "https://api.postmarkapp.com/email",
            Provider::SendGrid => "https://api.sendgrid.com/v3/mail/send",
            Provider::Resend => "https://api.resend.com/emails",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Provider::Postmark => "postmark",
            Provider::SendGrid => "sendgrid",
            Provider::Resend => "resend",
        }
    }
}

#[derive(Clone)]
pub struct EmailConfig {
    pub provider: Provider,
    pub api_key: String,
    pub api_url: String,
    pub from: String,
    pub to: Vec<String>,
}

/// Where alerts go. Both channels empty: alerts are logged only.
#[derive(Clone, Default)]
pub struct AlertConfig {
    pub slack_webhook_url: Option<String>,
    pub email: Option<EmailConfig>,
}

// Secrets stay out of `{:?}` too.
impl std::fmt::Debug for AlertConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertConfig")
            .field("slack", &self.slack_webhook_url.is_some())
            .field("email", &self.email.as_ref().map(|e| (e.provider, &e.to)))
            .finish()
    }
}

/// A setting that cannot work, naming the variable to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct AlertConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl AlertConfig {
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<AlertConfig, AlertConfigError> {
        let get = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let bad = |variable: &'static str, message: String| AlertConfigError { variable, message };
        let slack_webhook_url = match get("ALERT_SLACK_WEBHOOK_URL") {
            Some(url) if !url.starts_with("https://") && !url.starts_with("http://") => {
                return Err(bad(
                    "ALERT_SLACK_WEBHOOK_URL",
                    "is not a URL; paste the incoming webhook's URL from Slack (https://hooks.slack.com/services/...)".into(),
                ))
            }
            other => other,
        };
        let email = match get("ALERT_EMAIL_TO") {
            None => None,
            Some(to) => {
                let to: Vec<String> = to
                    .split(',')
                    .map(|a| a.trim().to_string())
                    .filter(|a| !a.is_empty())
                    .collect();
                if let Some(wrong) = to.iter().find(|a| !looks_like_email(a)) {
                    return Err(bad(
                        "ALERT_EMAIL_TO",
                        format!("{wrong:?} is not an email address"),
                    ));
                }
                let provider_name = get("ALERT_EMAIL_PROVIDER").ok_or_else(|| {
                    bad("ALERT_EMAIL_PROVIDER", "is not set; use postmark, sendgrid or resend (the service that sends the alert emails)".into())
                })?;
                let provider = Provider::parse(&provider_name).ok_or_else(|| {
                    bad(
                        "ALERT_EMAIL_PROVIDER",
                        format!(
                            "{provider_name:?} is not supported; use postmark, sendgrid or resend"
                        ),
                    )
                })?;
                let api_key = get("ALERT_EMAIL_API_KEY").ok_or_else(|| {
                    bad(
                        "ALERT_EMAIL_API_KEY",
                        format!(
                            "is not set; create an API key in {} and paste it here",
                            provider.name()
                        ),
                    )
                })?;
                let from = get("ALERT_EMAIL_FROM").ok_or_else(|| {
                    bad(
                        "ALERT_EMAIL_FROM",
                        "is not set; use an address your email service may send from".into(),
                    )
                })?;
                if !looks_like_email(&from) {
                    return Err(bad(
                        "ALERT_EMAIL_FROM",
                        format!("{from:?} is not an email address"),
                    ));
                }
                Some(EmailConfig {
                    provider,
                    api_key,
                    api_url: get("ALERT_EMAIL_API_URL")
                        .unwrap_or_else(|| provider.default_url().to_string()),
                    from,
                    to,
                })
            }
        };
        Ok(AlertConfig {
            slack_webhook_url,
            email,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.slack_webhook_url.is_none() && self.email.is_none()
    }
}

/// Enough to catch a pasted name or a typo; the provider checks the rest.
fn looks_like_email(s: &str) -> bool {
    let address = s
        .rsplit_once('<')
        .map_or(s, |(_, a)| a.trim_end_matches('>'));
    match address.split_once('@') {
        Some((user, domain)) => {
            !user.is_empty()
                && domain.contains('.')
                && !domain.ends_with('.')
                && !address.contains(' ')
        }
        None => false,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("{channel} answered {status}: {body}")]
    Rejected {
        channel: &'static str,
        status: u16,
        body: String,
    },
    #[error("{channel} could not be reached: {reason}")]
    Unreachable {
        channel: &'static str,
        reason: String,
    },
}

/// The outcome per channel.
#[derive(Debug)]
pub struct Delivery {
    pub channel: &'static str,
    pub result: Result<(), AlertError>,
}

#[derive(Clone, Debug)]
pub struct Notifier {
    config: AlertConfig,
    http: reqwest::Client,
}

impl Notifier {
    pub fn new(config: AlertConfig) -> Notifier {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(8))
            .connect_timeout(Duration::from_secs(4))
            .build()
            .unwrap_or_default();
        Notifier { config, http }
    }

    pub fn is_configured(&self) -> bool {
        !self.config.is_empty()
    }

    /// Sends `alert` to every configured channel, concurrently; one retry
    /// each on a network error or a 5xx/429.
    pub async fn send(&self, alert: &Alert) -> Vec<Delivery> {
        let slack = async {
            match &self.config.slack_webhook_url {
                None => None,
                Some(url) => Some(Delivery {
                    channel: "slack",
                    result: self.post("slack", url, &[], &slack_body(alert)).await,
                }),
            }
        };
        let email = async {
            match &self.config.email {
                None => None,
                Some(email) => {
                    let (headers, body) = email_request(email, alert);
                    Some(Delivery {
                        channel: "email",
                        result: self.post("email", &email.api_url, &headers, &body).await,
                    })
                }
            }
        };
        let (slack, email) = tokio::join!(slack, email);
        let deliveries: Vec<Delivery> = slack.into_iter().chain(email).collect();
        for d in &deliveries {
            match &d.result {
                Ok(()) => {
                    tracing::info!(channel = d.channel, subject = %alert.subject, "alert sent")
                }
                Err(e) => tracing::warn!(channel = d.channel, error = %e, "alert not delivered"),
            }
        }
        deliveries
    }

    async fn post(
        &self,
        channel: &'static str,
        url: &str,
        headers: &[(&'static str, String)],
        body: &Value,
    ) -> Result<(), AlertError> {
        let mut last = None;
        for attempt in 0..2 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            let mut request = self.http.post(url).json(body);
            for (name, value) in headers {
                request = request.header(*name, value);
            }
            match request.send().await {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => {
                    let status = response.status().as_u16();
                    let text: String = response
                        .text()
                        .await
                        .unwrap_or_default()
                        .chars()
                        .take(300)
                        .collect();
                    let error = AlertError::Rejected {
                        channel,
                        status,
                        body: text,
                    };
                    if status != 429 && status < 500 {
                        return Err(error);
                    }
                    last = Some(error);
                }
                // reqwest's error text carries the URL: a secret for webhooks.
                Err(e) => {
                    let reason = if e.is_timeout() {
                        "timed out"
                    } else if e.is_connect() {
                        "connection failed"
                    } else {
                        "request failed"
                    };
                    last = Some(AlertError::Unreachable {
                        channel,
                        reason: reason.into(),
                    });
                }
            }
        }
        Err(last.expect("two attempts"))
    }
}

fn slack_body(alert: &Alert) -> Value {
    json!({ "text": format!("*{}*\n{}", alert.subject, alert.text) })
}

fn email_request(email: &EmailConfig, alert: &Alert) -> (Vec<(&'static str, String)>, Value) {
    match email.provider {
        Provider::Postmark => (
            vec![
                ("X-Postmark-Server-Token", email.api_key.clone()),
                ("Accept", "application/json".into()),
            ],
            json!({
                "From": email.from, "To": email.to.join(", "),
                "Subject": alert.subject, "TextBody": alert.text, "MessageStream": "outbound"
            }),
        ),
        Provider::SendGrid => (
            vec![("Authorization", format!("Bearer {}", email.api_key))],
            json!({
                "personalizations": [{"to": email.to.iter().map(|a| json!({"email": a})).collect::<Vec<_>>()}],
                "from": {"email": email.from},
                "subject": alert.subject,
                "content": [{"type": "text/plain", "value": alert.text}]
            }),
        ),
        Provider::Resend => (
            vec![("Authorization", format!("Bearer {}", email.api_key))],
            json!({ "from": email.from, "to": email.to, "subject": alert.subject, "text": alert.text }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<AlertConfig, AlertConfigError> {
        AlertConfig::from_lookup(|k| {
            pairs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn nothing_set_means_no_channel() {
        assert!(config(&[]).unwrap().is_empty());
    }

    #[test]
    fn an_incomplete_email_setup_names_what_is_missing() {
        let err = config(&[("ALERT_EMAIL_TO", "ops@acme.test")]).unwrap_err();
        assert_eq!(err.variable, "ALERT_EMAIL_PROVIDER");
        let err = config(&[
            ("ALERT_EMAIL_TO", "ops@acme.test"),
            ("ALERT_EMAIL_PROVIDER", "postmark"),
        ])
        .unwrap_err();
        assert_eq!(err.variable, "ALERT_EMAIL_API_KEY");
        let err = config(&[
            ("ALERT_EMAIL_TO", "Ops Team"),
            ("ALERT_EMAIL_PROVIDER", "postmark"),
        ])
        .unwrap_err();
        assert_eq!(err.variable, "ALERT_EMAIL_TO");
        let err = config(&[
            ("ALERT_EMAIL_TO", "a@b.test"),
            ("ALERT_EMAIL_PROVIDER", "pigeon"),
        ])
        .unwrap_err();
        assert!(err.message.contains("pigeon"), "{err}");
        let err = config(&[("ALERT_SLACK_WEBHOOK_URL", "hooks.slack.com/x")]).unwrap_err();
        assert_eq!(err.variable, "ALERT_SLACK_WEBHOOK_URL");
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let c = config(&[
            (
                "ALERT_SLACK_WEBHOOK_URL",
                "https://hooks.slack.com/services/T0/B0/SECRET",
            ),
            ("ALERT_EMAIL_TO", "ops@acme.test"),
            ("ALERT_EMAIL_FROM", "Sync <sync@acme.test>"),
            ("ALERT_EMAIL_PROVIDER", "resend"),
            ("ALERT_EMAIL_API_KEY", "re_SECRETKEY"),
        ])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
    }
}
