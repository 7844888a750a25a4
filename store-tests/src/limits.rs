//! Per-client rate limits: each store's one-statement GCRA gives exactly what the rule
//! (`Quota::take`) gives, step by step; concurrent takes on one key (from any number of
//! connections) let exactly the burst through; blocks keep the later end; spent keys are
//! forgotten.

use std::sync::Arc;

use latchkey_core::clock::{from_micros, micros};
use latchkey_core::store::Store;
use latchkey_core::throttle::Quota;
use time::Duration;

use crate::{at_once, Opened, T0};

pub async fn limits(opened: Opened) {
    let store = opened.store;
    follows_the_rule(store.as_ref()).await;
    concurrent_takes_let_exactly_the_burst_through(Arc::clone(&store)).await;
    blocks_keep_the_later_end(store.as_ref()).await;
    spent_keys_are_forgotten(store.as_ref()).await;
}

/// A few hundred takes on three keys with different quotas at irregular times: the
/// store's answer and the rule's agree every time.
async fn follows_the_rule(store: &dyn Store) {
    let quotas = [
        Quota::per(3, Duration::minutes(1)),
        Quota::per(7, Duration::minutes(1)),
        Quota::per(30, Duration::hours(1)),
    ];
    let mut tats: [Option<i64>; 3] = [None; 3];
    let mut now = micros(T0);
    let mut seed: u64 = 0x5eed;
    let (mut taken, mut refused) = (0, 0);
    for _ in 0..300 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let k = usize::try_from(seed >> 62).unwrap() % 3;
        // Steps from nothing to a minute, in whole and odd microseconds.
        now +=
            i64::try_from((seed >> 20) % 60_000_001).unwrap() * i64::from(seed.is_multiple_of(4));
        let expected = quotas[k].take(tats[k], now);
        let mut tx = store.begin().await.unwrap();
        let got = tx
            .take_quota(&format!("key-{k}"), &quotas[k], from_micros(now))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        match expected {
            Ok(tat) => {
                assert_eq!(got, Ok(()), "key {k} at {now}");
                tats[k] = Some(tat);
                taken += 1;
            }
            Err(wait) => {
                assert_eq!(got, Err(wait), "key {k} at {now}");
                refused += 1;
            }
        }
    }
    assert!(
        taken > 50 && refused > 50,
        "{taken} taken, {refused} refused"
    );
}

async fn concurrent_takes_let_exactly_the_burst_through(store: Arc<dyn Store>) {
    let quota = Quota::per(10, Duration::hours(1));
    let results = at_once(40, |_| {
        let store = Arc::clone(&store);
        async move {
            let mut tx = store.begin().await.unwrap();
            let r = tx
                .take_quota("requests:192.0.2.7", &quota, T0)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            r
        }
    })
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        10,
        "the burst"
    );
    // Each refusal says how long until the next unit: one interval.
    for r in results.iter().filter_map(|r| r.err()) {
        assert_eq!(r, quota.interval_us);
    }
}

async fn blocks_keep_the_later_end(store: &dyn Store) {
    let key = "blocked:192.0.2.7";
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.blocked_until(key, T0).await.unwrap(), None);
    tx.block(key, T0 + Duration::minutes(30)).await.unwrap();
    tx.block(key, T0 + Duration::minutes(10)).await.unwrap();
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    let later = Some(T0 + Duration::minutes(30));
    assert_eq!(read.blocked_until(key, T0).await.unwrap(), later);
    assert_eq!(
        read.blocked_until(key, T0 + Duration::minutes(29))
            .await
            .unwrap(),
        later
    );
    assert_eq!(
        read.blocked_until(key, T0 + Duration::minutes(30))
            .await
            .unwrap(),
        None,
        "a block ends at its end"
    );
    assert_eq!(
        read.blocked_until("blocked:192.0.2.8", T0).await.unwrap(),
        None
    );
}

async fn spent_keys_are_forgotten(store: &dyn Store) {
    let quota = Quota::per(1, Duration::minutes(1));
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.take_quota("spent", &quota, T0).await.unwrap(), Ok(()));
    assert!(tx.take_quota("spent", &quota, T0).await.unwrap().is_err());
    // At T0 + 1 min the key's arrival time has passed: forgetting it changes nothing
    // about what it may do, and the row is gone.
    let later = T0 + Duration::minutes(1);
    tx.forget_spent_limits(later).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.take_quota("spent", &quota, later).await.unwrap(), Ok(()));
    assert!(tx
        .take_quota("spent", &quota, later)
        .await
        .unwrap()
        .is_err());
    // A block that has not ended is kept.
    tx.block("blocked:kept", later + Duration::hours(1))
        .await
        .unwrap();
    tx.forget_spent_limits(later).await.unwrap();
    assert!(tx
        .blocked_until("blocked:kept", later)
        .await
        .unwrap()
        .is_some());
    tx.commit().await.unwrap();
}
