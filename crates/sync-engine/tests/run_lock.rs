//! One sync at a time, and a run that lost its turn writes nothing more:
//! the lease, its fence and renewal, and conditional writes of the sync's
//! own state, against the official Blobs server.

use chrono::Duration;
use sync_engine::clock::Clock;
use sync_engine::lock::{current_lease, RunLock};
use sync_engine::state::{StateStore, SyncState};
use sync_engine::EngineError;
use test_harness::blobs_server::BlobsServer;

const TTL: i64 = 5;

async fn take(
    store: &netlify_blobs::Store,
    owner: &str,
    clock: &Clock,
) -> Result<RunLock, EngineError> {
    RunLock::acquire(
        store,
        owner,
        clock,
        Duration::minutes(TTL),
        std::time::Duration::ZERO,
    )
    .await
}

#[tokio::test]
async fn a_second_run_waits_until_the_first_releases_and_each_gets_a_new_fence() {
    let blobs = BlobsServer::start().unwrap();
    let store = blobs.edge_client().store("lock-a");
    let clock = Clock::shifted();
    let first = take(&store, "a", &clock).await.unwrap();
    assert!(matches!(
        take(&store, "b", &clock).await,
        Err(EngineError::Busy { .. })
    ));
    let fence = first.fence();
    first.release().await.unwrap();
    assert_eq!(current_lease(&store, clock.now()).await.unwrap(), None);
    let second = take(&store, "b", &clock).await.unwrap();
    assert_eq!(second.fence(), fence + 1, "the fence counts every holder");
}

#[tokio::test]
async fn a_run_that_stalled_past_its_lease_stops_and_leaves_the_new_lease_alone() {
    let blobs = BlobsServer::start().unwrap();
    let store = blobs.edge_client().store("lock-b");
    let clock = Clock::shifted();
    let stalled = take(&store, "stalled", &clock).await.unwrap();
    clock.advance(Duration::minutes(TTL + 1));
    let next = take(&store, "next", &clock).await.unwrap();
    assert!(matches!(stalled.check().await, Err(EngineError::LeaseLost)));
    assert!(stalled.is_lost());
    stalled.release().await.unwrap();
    let lease = current_lease(&store, clock.now()).await.unwrap().unwrap();
    assert_eq!(
        lease.owner, "next",
        "the stalled run's release did not end it"
    );
    next.check().await.unwrap();
}

#[tokio::test]
async fn a_long_run_renews_its_lease_and_keeps_it() {
    let blobs = BlobsServer::start().unwrap();
    let store = blobs.edge_client().store("lock-c");
    let clock = Clock::shifted();
    let long = take(&store, "cli", &clock).await.unwrap();
    for _ in 0..4 {
        clock.advance(Duration::minutes(2));
        long.check().await.unwrap();
    }
    assert!(matches!(
        take(&store, "other", &clock).await,
        Err(EngineError::Busy { .. })
    ));
}

#[tokio::test]
async fn state_saved_by_another_run_is_never_overwritten() {
    let blobs = BlobsServer::start().unwrap();
    let state = StateStore::new(blobs.edge_client().store("state-a"));
    let (mut mine, version) = state.load().await.unwrap();
    let (theirs, their_version) = state.load().await.unwrap();
    let saved = state
        .save(
            &SyncState {
                next_id: 7,
                ..theirs
            },
            &their_version,
        )
        .await
        .unwrap();
    mine.next_id = 3;
    assert!(matches!(
        state.save(&mine, &version).await,
        Err(EngineError::Moved(_))
    ));
    let (now, _) = state.load().await.unwrap();
    assert_eq!(now.next_id, 7);
    // Saved again on the version it wrote: fine.
    state.save(&now, &saved).await.unwrap();
}
