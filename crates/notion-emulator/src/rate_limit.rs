//! Notion's two rate limits (request-limits reference), in real time so a
//! client's waits are real:
//!
//! - per connection: a fixed budget per 60-second window, spent at any pace;
//!   over it, `Retry-After` is the time until the window resets (<= 60 s);
//! - per workspace: a further budget shared by every connection of the
//!   workspace; its `Retry-After` can be longer than a minute.
//!
//! A request is admitted only when both have room, and then counts against
//! both; a refused request counts against neither.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::error::RateLimit;

/// A budget per fixed window. The window opens at the first request after
/// the previous one closed, as a limit behaves from a client's point of view.
#[derive(Debug, Clone)]
pub(crate) struct FixedWindow {
    budget: u32,
    window: Duration,
    window_start: Option<Instant>,
    used: u32,
}

impl FixedWindow {
    pub fn new(budget: u32, window: Duration) -> Self {
        Self {
            budget,
            window,
            window_start: None,
            used: 0,
        }
    }

    /// `Err(retry_after_secs)` when the current window's budget is spent
    /// (whole seconds, rounded up, at least 1).
    fn check(&mut self, now: Instant) -> Result<(), u64> {
        let start = match self.window_start {
            Some(s) if now.duration_since(s) < self.window => s,
            _ => {
                self.window_start = Some(now);
                self.used = 0;
                now
            }
        };
        if self.used < self.budget {
            return Ok(());
        }
        let remaining = self.window.saturating_sub(now.duration_since(start));
        Err((remaining.as_secs_f64().ceil() as u64).max(1))
    }

    fn take(&mut self) {
        self.used += 1;
    }

    fn fresh(&self) -> Self {
        Self::new(self.budget, self.window)
    }
}

/// Both limits: a window per connection (keyed by its token) and the
/// workspace's, when one is set.
#[derive(Debug, Clone)]
pub(crate) struct RateLimits {
    per_connection: FixedWindow,
    connections: HashMap<String, FixedWindow>,
    workspace: Option<FixedWindow>,
}

impl RateLimits {
    pub fn new(budget: u32, window: Duration) -> Self {
        Self {
            per_connection: FixedWindow::new(budget, window),
            connections: HashMap::new(),
            workspace: None,
        }
    }

    /// Admits one request of the connection `token`, or names the limit it
    /// hit and the seconds until that limit's window resets.
    pub fn admit(&mut self, token: &str, now: Instant) -> Result<(), (RateLimit, u64)> {
        let template = &self.per_connection;
        let connection = self
            .connections
            .entry(token.to_string())
            .or_insert_with(|| template.fresh());
        connection
            .check(now)
            .map_err(|secs| (RateLimit::Connection, secs))?;
        if let Some(workspace) = &mut self.workspace {
            workspace
                .check(now)
                .map_err(|secs| (RateLimit::Workspace, secs))?;
            workspace.take();
        }
        connection.take();
        Ok(())
    }

    /// Every connection's budget per window; fresh windows for all.
    pub fn set_per_connection(&mut self, budget: u32, window: Duration) {
        self.per_connection = FixedWindow::new(budget, window);
        self.connections.clear();
    }

    /// The workspace's shared budget (`None`: no workspace limit), in a
    /// fresh window.
    pub fn set_workspace(&mut self, limit: Option<(u32, Duration)>) {
        self.workspace = limit.map(|(budget, window)| FixedWindow::new(budget, window));
    }

    /// Same budgets, fresh windows.
    pub fn reset(&mut self) {
        self.connections.clear();
        self.workspace = self.workspace.as_ref().map(FixedWindow::fresh);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_opens_at_first_request_and_reports_whole_seconds() {
        let mut rl = FixedWindow::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        let mut admit = |t| rl.check(t).map(|()| rl.take());
        assert!(admit(t0).is_ok());
        assert!(admit(t0 + Duration::from_secs(1)).is_ok());
        assert_eq!(admit(t0 + Duration::from_millis(30_500)), Err(30));
        assert_eq!(admit(t0 + Duration::from_millis(59_990)), Err(1));
        // Window over: a new one opens at this request.
        let t1 = t0 + Duration::from_secs(75);
        assert!(admit(t1).is_ok());
        assert!(admit(t1).is_ok());
        assert_eq!(admit(t1 + Duration::from_secs(10)), Err(50));
    }

    #[test]
    fn connections_have_their_own_budget_and_share_the_workspaces() {
        let mut limits = RateLimits::new(2, Duration::from_secs(60));
        limits.set_workspace(Some((3, Duration::from_secs(120))));
        let t0 = Instant::now();
        assert!(limits.admit("a", t0).is_ok());
        assert!(limits.admit("a", t0).is_ok());
        assert_eq!(limits.admit("a", t0), Err((RateLimit::Connection, 60)));
        assert!(limits.admit("b", t0).is_ok());
        // b is within its own budget, but the workspace's is spent.
        assert_eq!(
            limits.admit("b", t0 + Duration::from_secs(10)),
            Err((RateLimit::Workspace, 110))
        );
        limits.reset();
        assert!(limits.admit("a", t0 + Duration::from_secs(11)).is_ok());
    }
}
