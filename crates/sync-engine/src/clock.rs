//! The engine's clock. Every time the engine decides by (lease expiry,
//! intents' age, edit times it stamps, history and backup days) comes from
//! here, so a test can move the world forward without waiting: a shifted
//! clock shares its offset with whoever shifts it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Milliseconds added to the system clock (`None`: the system clock).
    offset: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock (what every function and the CLI use).
    pub fn system() -> Clock {
        Clock::default()
    }

    /// The system clock shifted by a shared offset that [`Clock::advance`]
    /// moves for every holder of a clone.
    pub fn shifted() -> Clock {
        Clock {
            offset: Some(Arc::new(AtomicI64::new(0))),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        match &self.offset {
            None => now,
            Some(offset) => now + Duration::milliseconds(offset.load(Ordering::SeqCst)),
        }
    }

    /// Moves a shifted clock forward (a system clock cannot be moved).
    pub fn advance(&self, by: Duration) {
        if let Some(offset) = &self.offset {
            offset.fetch_add(by.num_milliseconds(), Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_offset() {
        let clock = Clock::shifted();
        let other = clock.clone();
        clock.advance(Duration::minutes(10));
        assert!(other.now() - Utc::now() >= Duration::minutes(9));
        let system = Clock::system();
        system.advance(Duration::minutes(10));
        assert!(system.now() - Utc::now() < Duration::minutes(1));
    }
}
