//! The conflict console's answer, from the wire to a [`Resolution`]:
//!
//! ```json
//! {"contactId": "1001", "keep": "dialer"}
//! {"contactId": "1001", "fields": {"phone": "notion", "address": {"value": "1 Main St"}}}
//! ```
//!
//! `keep` takes one side for every conflicting field; `fields` chooses per
//! field, a side or a value the person typed (in the dialer's own shape,
//! parsed like a contact's field so a typed date or number is checked).

use std::collections::BTreeMap;

use chrono_tz::Tz;
use netlify_function::{HttpError, Request};
use serde::Deserialize;
use serde_json::Value as Json;
use sync_core::contact::parse_value_kind;
use sync_core::{fields, ContactId, FieldChoice, Resolution};

use crate::IdInput;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ResolveBody {
    contact_id: IdInput,
    #[serde(default)]
    keep: Option<Keep>,
    #[serde(default)]
    fields: Option<BTreeMap<String, Choice>>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Keep {
    Notion,
    Dialer,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Choice {
    Side(Keep),
    Typed { value: Json },
}

/// A parsed resolution request.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolveRequest {
    pub contact_id: ContactId,
    pub resolution: Resolution,
}

impl ResolveRequest {
    /// Parses the body; a 400 names the field at fault. `zone` reads typed
    /// dates the way the dialer's own dates are read.
    pub fn parse(req: &Request, zone: Tz) -> Result<ResolveRequest, HttpError> {
        let body: ResolveBody = req.json()?;
        let contact_id = body
            .contact_id
            .parse()
            .map_err(|problem| HttpError::bad_request("contactId", problem))?;
        let resolution = match (body.keep, body.fields) {
            (Some(Keep::Notion), None) => Resolution::KeepNotion,
            (Some(Keep::Dialer), None) => Resolution::KeepDialer,
            (None, Some(choices)) if !choices.is_empty() => Resolution::Merge {
                fields: choices
                    .into_iter()
                    .map(|(key, choice)| {
                        let choice = field_choice(&key, choice, zone)?;
                        Ok((key, choice))
                    })
                    .collect::<Result<_, HttpError>>()?,
            },
            (Some(_), Some(_)) => {
                return Err(HttpError::bad_request(
                    "keep",
                    "send either \"keep\" (one side for every field) or \"fields\" (a choice per field), not both",
                ))
            }
            (None, _) => {
                return Err(HttpError::bad_request(
                    "keep",
                    "say which version to keep: \"keep\": \"notion\" or \"dialer\", or \"fields\": {\"phone\": \"notion\", ...}",
                ))
            }
        };
        Ok(ResolveRequest {
            contact_id,
            resolution,
        })
    }
}

fn field_choice(key: &str, choice: Choice, zone: Tz) -> Result<FieldChoice, HttpError> {
    let path = format!("fields.{key}");
    let spec = fields::field(key).ok_or_else(|| {
        HttpError::bad_request(&path, format!("{key:?} is not a field the sync knows"))
    })?;
    Ok(match choice {
        Choice::Side(Keep::Notion) => FieldChoice::Notion,
        Choice::Side(Keep::Dialer) => FieldChoice::Dialer,
        Choice::Typed { value } => FieldChoice::Value(
            parse_value_kind(spec.kind, &value, zone)
                .map_err(|problem| HttpError::bad_request(format!("{path}.value"), problem))?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::Value;

    fn parse(body: &str) -> Result<ResolveRequest, HttpError> {
        let mut req = Request::default();
        req.body = body.as_bytes().to_vec();
        ResolveRequest::parse(&req, chrono_tz::UTC)
    }

    #[test]
    fn keep_one_side() {
        let r = parse(r#"{"contactId": "1001", "keep": "dialer"}"#).unwrap();
        assert_eq!(r.contact_id.get(), 1001);
        assert_eq!(r.resolution, Resolution::KeepDialer);
        let r = parse(r#"{"contactId": 1001, "keep": "notion"}"#).unwrap();
        assert_eq!(r.resolution, Resolution::KeepNotion);
    }

    #[test]
    fn per_field_sides_and_typed_values() {
        let r = parse(
            r#"{"contactId": 7, "fields": {"phone": "notion", "address": {"value": "1 Main St"}}}"#,
        )
        .unwrap();
        let Resolution::Merge { fields } = r.resolution else {
            panic!("not a merge");
        };
        assert_eq!(fields["phone"], FieldChoice::Notion);
        assert_eq!(
            fields["address"],
            FieldChoice::Value(Value::text("1 Main St"))
        );
    }

    #[test]
    fn bad_answers_name_the_field() {
        for (body, field) in [
            (r#"{"keep": "dialer"}"#, "contactId"),
            (r#"{"contactId": "abc", "keep": "dialer"}"#, "contactId"),
            (r#"{"contactId": 1, "keep": "both"}"#, "keep"),
            (r#"{"contactId": 1}"#, "keep"),
            (
                r#"{"contactId": 1, "keep": "notion", "fields": {"phone": "dialer"}}"#,
                "keep",
            ),
            (
                r#"{"contactId": 1, "fields": {"colour": "dialer"}}"#,
                "fields.colour",
            ),
            (
                r#"{"contactId": 1, "fields": {"nextFollowUp": {"value": "soon"}}}"#,
                "fields.nextFollowUp.value",
            ),
        ] {
            let err = parse(body).expect_err(body);
            assert_eq!(err.status, 400, "{body}");
            let shown = err.to_body().to_string();
            assert!(
                shown.contains(field),
                "{body}: {shown} does not name {field}"
            );
        }
    }
}
