//! Who may call the functions. The endpoints read and rewrite the CRM, so
//! they are closed by default: every request carries the site's API key,
//! `Authorization: Bearer <SYNC_API_KEY>` (or `X-Sync-Key: <key>`), compared
//! in constant time. Netlify's scheduler needs no key: its invocations of
//! `scheduled-sync` are not reachable from the internet.
//!
//! Without `SYNC_API_KEY` every request is refused with the fix, unless
//! `SYNC_ALLOW_UNAUTHENTICATED=true` says, knowingly, to leave them open.

use std::future::Future;

use netlify_function::{HttpError, Request, Response};
use subtle::ConstantTimeEq;

/// The access rule in force, from the environment.
#[derive(Clone)]
pub enum Access {
    Key(String),
    Open,
    Unconfigured,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Access::Key(_) => "Access::Key(..)",
            Access::Open => "Access::Open",
            Access::Unconfigured => "Access::Unconfigured",
        })
    }
}

impl Access {
    pub fn from_env() -> Access {
        Access::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Access {
        let set = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        match set("SYNC_API_KEY") {
            Some(key) => Access::Key(key),
            None if set("SYNC_ALLOW_UNAUTHENTICATED")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")) =>
            {
                Access::Open
            }
            None => Access::Unconfigured,
        }
    }

    /// Lets `req` through, or says why not and what to do.
    pub fn check(&self, req: &Request, scheduler_allowed: bool) -> Result<(), HttpError> {
        if scheduler_allowed
            && req
                .header("x-nf-event")
                .is_some_and(|v| v.eq_ignore_ascii_case("schedule"))
        {
            return Ok(());
        }
        match self {
            Access::Open => Ok(()),
            Access::Unconfigured => Err(HttpError::config_missing("SYNC_API_KEY").with_hint(
                "These endpoints change your CRM, so they are closed until SYNC_API_KEY is set: set it (Netlify: Site configuration > Environment variables, scope Functions) to a long random value and send it from the dialer as `Authorization: Bearer <key>`. To leave them open on purpose, set SYNC_ALLOW_UNAUTHENTICATED=true.",
            )),
            Access::Key(key) => {
                let given = req
                    .header("authorization")
                    .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
                    .or_else(|| req.header("x-sync-key"))
                    .map(str::trim);
                match given {
                    Some(given) if bool::from(given.as_bytes().ct_eq(key.as_bytes())) => Ok(()),
                    Some(_) => Err(HttpError::unauthorized("the API key is wrong").with_hint(
                        "Send the value of SYNC_API_KEY from the site's environment variables as `Authorization: Bearer <key>`.",
                    )),
                    None => Err(HttpError::unauthorized("this endpoint needs the site's API key").with_hint(
                        "Send `Authorization: Bearer <key>` with the value of SYNC_API_KEY from the site's environment variables.",
                    )),
                }
            }
        }
    }
}

/// Runs `handler` for a request the access rule lets through.
pub async fn guarded<Fut>(
    req: Request,
    handler: impl FnOnce(Request) -> Fut,
) -> Result<Response, HttpError>
where
    Fut: Future<Output = Result<Response, HttpError>>,
{
    Access::from_env().check(&req, false)?;
    handler(req).await
}

/// [`guarded`], letting Netlify's scheduler through without a key.
pub async fn guarded_or_scheduled<Fut>(
    req: Request,
    handler: impl FnOnce(Request) -> Fut,
) -> Result<Response, HttpError>
where
    Fut: Future<Output = Result<Response, HttpError>>,
{
    Access::from_env().check(&req, true)?;
    handler(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)]) -> Request {
        let mut req = Request::default();
        for (k, v) in headers {
            req.headers.insert(k.to_string(), v.to_string());
        }
        req
    }

    fn access(pairs: &[(&str, &str)]) -> Access {
        Access::from_lookup(|k| {
            pairs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn the_key_lets_in_and_nothing_else_does() {
        let a = access(&[("SYNC_API_KEY", "k-123")]);
        assert!(a
            .check(&req(&[("authorization", "Bearer k-123")]), false)
            .is_ok());
        assert!(a.check(&req(&[("x-sync-key", "k-123")]), false).is_ok());
        for bad in [
            vec![],
            vec![("authorization", "Bearer k-12")],
            vec![("authorization", "k-123")],
        ] {
            let err = a.check(&req(&bad), false).unwrap_err();
            assert_eq!(err.status, 401, "{bad:?}");
            assert!(!err.to_body().to_string().contains("k-123"));
        }
        assert!(a.check(&req(&[("x-nf-event", "schedule")]), true).is_ok());
        assert!(a.check(&req(&[("x-nf-event", "schedule")]), false).is_err());
    }

    #[test]
    fn closed_until_configured_unless_opened_on_purpose() {
        let err = access(&[]).check(&req(&[]), false).unwrap_err();
        assert_eq!(err.status, 500);
        assert!(err
            .to_body()
            .to_string()
            .contains("SYNC_ALLOW_UNAUTHENTICATED"));
        assert!(access(&[("SYNC_ALLOW_UNAUTHENTICATED", "true")])
            .check(&req(&[]), false)
            .is_ok());
        assert!(access(&[("SYNC_API_KEY", " ")])
            .check(&req(&[]), false)
            .is_err());
        assert!(!format!("{:?}", access(&[("SYNC_API_KEY", "k-123")])).contains("k-123"));
    }
}
