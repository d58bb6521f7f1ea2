//! Read-after-write lag, an emulator option: for a while after a page is
//! created or edited, queries still show it as it was before (or not at all,
//! for a new page), while `GET /v1/pages/{id}` is current. Measured on the
//! emulator's clock, so a test moves past it by advancing the clock.
//!
//! Queries see each page as of `now - lag`: the state before the earliest
//! write made after that instant, or the current state when there is none.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use crate::store::Page;

/// When a write happened, and the page as it was just before it (`None`:
/// the write created it).
type BeforeWrite = (DateTime<Utc>, Option<Page>);

#[derive(Debug, Clone, Default)]
pub(crate) struct QueryLag {
    lag: Duration,
    /// Per page id, oldest first.
    before_writes: HashMap<String, Vec<BeforeWrite>>,
}

impl QueryLag {
    pub fn lag(&self) -> Duration {
        self.lag
    }

    /// A new lag; history older than it is no longer needed.
    pub fn set(&mut self, lag: Duration) {
        self.lag = lag;
        if lag.is_zero() {
            self.before_writes.clear();
        }
    }

    /// Called before a write to page `id` at `now`, with the page as it is
    /// (`None` for a create).
    pub fn before_write(&mut self, id: &str, page: Option<&Page>, now: DateTime<Utc>) {
        if self.lag <= Duration::zero() {
            return;
        }
        let cutoff = now - self.lag;
        let history = self.before_writes.entry(id.to_string()).or_default();
        history.retain(|(at, _)| *at > cutoff);
        history.push((now, page.cloned()));
    }

    /// The page as queries see it at `now` (`None`: not visible yet).
    pub fn view<'a>(&'a self, page: &'a Page, now: DateTime<Utc>) -> Option<&'a Page> {
        let cutoff = now - self.lag;
        match self
            .before_writes
            .get(&page.id)
            .and_then(|h| h.iter().find(|(at, _)| *at > cutoff))
        {
            Some((_, before)) => before.as_ref(),
            None => Some(page),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Page;

    fn page(id: &str, seq: u64) -> Page {
        let t: DateTime<Utc> = "2026-09-01T10:00:00Z".parse().unwrap();
        Page {
            id: id.into(),
            created_time: t,
            last_edited_time: t,
            created_by: String::new(),
            last_edited_by: String::new(),
            in_trash: false,
            values: Default::default(),
            seq,
        }
    }

    #[test]
    fn queries_see_the_page_as_it_was_lag_ago() {
        let t0: DateTime<Utc> = "2026-09-01T10:00:00Z".parse().unwrap();
        let mut lag = QueryLag::default();
        lag.set(Duration::seconds(30));
        let v1 = page("p", 1);
        lag.before_write("p", None, t0);
        assert!(lag.view(&v1, t0 + Duration::seconds(29)).is_none());
        lag.before_write("p", Some(&v1), t0 + Duration::seconds(20));
        let v2 = page("p", 2);
        // At 40 s the create is visible, the edit at 20 s is not yet.
        assert_eq!(lag.view(&v2, t0 + Duration::seconds(40)).unwrap().seq, 1);
        assert_eq!(lag.view(&v2, t0 + Duration::seconds(51)).unwrap().seq, 2);
    }

    #[test]
    fn no_lag_no_history() {
        let mut lag = QueryLag::default();
        let p = page("p", 1);
        lag.before_write("p", None, Utc::now());
        assert!(lag.view(&p, Utc::now()).is_some());
    }
}
