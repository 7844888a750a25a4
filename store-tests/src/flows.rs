//! Self-service: authentication flows per channel, flows in progress, the per-name
//! throttle (blocking once under concurrent failures), spent captchas (each once).

use std::sync::Arc;

use latchkey_core::flow::{Flow, FlowState};
use latchkey_core::settings::SelfServiceSettings;
use latchkey_core::throttle::Throttle;
use latchkey_types::{
    CaptchaChallenge, Channel, FactorKind, FailReason, FlowAction, FlowScope, Prompt, Summary,
};
use strum::IntoEnumIterator;
use time::Duration;

use crate::{account, at_once, organisation, Opened, T0};

pub async fn flows(opened: Opened) {
    let store = opened.store;
    let (_, acme) = organisation(store.as_ref()).await;
    let alice = account(store.as_ref(), &acme, "alice").await;

    // A new store asks captcha and questions on the web and the kiosk, captcha and an
    // emailed code on phones.
    let mut read = store.read().await.unwrap();
    let web = vec![FactorKind::Captcha, FactorKind::SecurityQuestions];
    let mobile = vec![FactorKind::Captcha, FactorKind::EmailCode];
    assert_eq!(read.auth_flow(Channel::Web).await.unwrap(), web);
    assert_eq!(read.auth_flow(Channel::Desktop).await.unwrap(), web);
    assert_eq!(read.auth_flow(Channel::Mobile).await.unwrap(), mobile);
    // On phones the security questions may stand in for the emailed code.
    let instead = vec![(FactorKind::EmailCode, FactorKind::SecurityQuestions)];
    assert_eq!(
        read.auth_flow_alternatives(FlowScope::Mobile)
            .await
            .unwrap(),
        instead
    );
    assert_eq!(
        read.auth_flow_alternatives(FlowScope::Web).await.unwrap(),
        vec![]
    );
    drop(read);

    // Alternatives are set per row; setting the factors keeps them.
    let mut tx = store.begin().await.unwrap();
    let totp_instead = vec![(FactorKind::SecurityQuestions, FactorKind::Totp)];
    tx.set_auth_flow_alternatives(FlowScope::Web, &totp_instead, T0)
        .await
        .unwrap();
    tx.set_auth_flow(FlowScope::Web, &web, T0).await.unwrap();
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    assert_eq!(
        read.auth_flow_alternatives(FlowScope::Web).await.unwrap(),
        totp_instead
    );
    assert_eq!(
        read.auth_flow_alternatives(FlowScope::Desktop)
            .await
            .unwrap(),
        vec![]
    );
    drop(read);

    // Every factor round-trips; a channel's own flow wins; "all" replaces them.
    let every: Vec<FactorKind> = FactorKind::iter().collect();
    let mut tx = store.begin().await.unwrap();
    tx.set_auth_flow(FlowScope::Mobile, &every, T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    assert_eq!(read.auth_flow(Channel::Mobile).await.unwrap(), every);
    assert_eq!(
        read.auth_flows().await.unwrap(),
        vec![
            (FlowScope::Web, web.clone()),
            (FlowScope::Mobile, every.clone()),
            (FlowScope::Desktop, web.clone()),
        ]
    );
    drop(read);
    let all = vec![FactorKind::Totp];
    let mut tx = store.begin().await.unwrap();
    tx.set_auth_flow(FlowScope::All, &all, T0).await.unwrap();
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    assert_eq!(
        read.auth_flows().await.unwrap(),
        vec![(FlowScope::All, all.clone())]
    );
    for channel in Channel::iter() {
        assert_eq!(read.auth_flow(channel).await.unwrap(), all);
    }
    drop(read);

    // Every action, channel and state round-trips.
    let challenge = CaptchaChallenge {
        algorithm: "SHA-256".into(),
        challenge: "ab".into(),
        maxnumber: 1000,
        salt: "s?expires=1".into(),
        signature: "cd".into(),
    };
    let prompts = [
        Prompt::Captcha { challenge },
        Prompt::SecurityQuestions {
            questions: vec!["Où?".into(), "Why".into()],
        },
        Prompt::EmailCode { valid_minutes: 10 },
        Prompt::Totp,
    ];
    let mut states: Vec<FlowState> = prompts
        .into_iter()
        .enumerate()
        .map(|(step, prompt)| FlowState::Authenticate {
            step,
            attempts: 2,
            prompt,
            kept: serde_json::json!({ "code_id": 7, "list": [1, 2] }),
            alternatives: if step == 2 {
                vec![FactorKind::SecurityQuestions, FactorKind::Totp]
            } else {
                vec![]
            },
        })
        .collect();
    states.push(FlowState::ChoosePassword);
    states.push(FlowState::Done {
        summary: Summary {
            action: FlowAction::ResetPassword,
            was_locked: true,
            unlocked: true,
            password_changed: true,
            sessions_ended: 3,
            email_queued: true,
            support_request: None,
        },
    });
    for failure in [
        FailReason::NotVerified { factor: None },
        FailReason::NotVerified {
            factor: Some(FactorKind::EmailCode),
        },
        FailReason::Blocked {
            until: 1_780_000_000,
            factor: None,
        },
        FailReason::Blocked {
            until: 1_780_000_000,
            factor: Some(FactorKind::SecurityQuestions),
        },
        FailReason::CodeExpired,
    ] {
        states.push(FlowState::Failed { reason: failure });
    }
    let mut n = 0;
    for action in [FlowAction::Unlock, FlowAction::ResetPassword] {
        for channel in Channel::iter() {
            n += 1;
            let mut flow = Flow {
                id_hash: format!("flow-{n}"),
                action,
                channel,
                steps: every.clone(),
                account: None,
                subject_name: None,
                state: FlowState::Identify,
                created_at: T0,
                expires_at: T0 + Duration::minutes(10),
            };
            let mut tx = store.begin().await.unwrap();
            tx.create_flow(&flow, "192.0.2.1").await.unwrap();
            tx.commit().await.unwrap();
            assert_eq!(
                store
                    .read()
                    .await
                    .unwrap()
                    .flow(&flow.id_hash)
                    .await
                    .unwrap(),
                Some(flow.clone())
            );
            for state in &states {
                flow.state = state.clone();
                flow.account = Some(alice);
                flow.subject_name = Some("ACME\\alice".into());
                let mut tx = store.begin().await.unwrap();
                tx.save_flow(&flow).await.unwrap();
                tx.commit().await.unwrap();
                let back = store
                    .read()
                    .await
                    .unwrap()
                    .flow(&flow.id_hash)
                    .await
                    .unwrap();
                assert_eq!(back, Some(flow.clone()));
            }
        }
    }
    assert_eq!(
        store.read().await.unwrap().flow("nope").await.unwrap(),
        None
    );

    concurrent_wrong_answers_block_once(Arc::clone(&store)).await;
    captchas_are_spent_once(Arc::clone(&store)).await;
    expired_flows_and_captchas_are_purged(store).await;
}

async fn concurrent_wrong_answers_block_once(store: Arc<dyn latchkey_core::store::Store>) {
    let settings = SelfServiceSettings::default();
    let blocked = at_once(30, |_| {
        let store = Arc::clone(&store);
        async move {
            let mut tx = store.begin().await.unwrap();
            let throttle = tx.throttle("ACME\\alice").await.unwrap();
            if throttle.blocked(T0).is_some() {
                return false;
            }
            let (next, now_blocked) = throttle.fail(&settings, T0);
            tx.save_throttle("ACME\\alice", &next).await.unwrap();
            tx.commit().await.unwrap();
            now_blocked
        }
    })
    .await;
    assert_eq!(blocked.iter().filter(|b| **b).count(), 1, "blocked once");
    let mut read = store.read().await.unwrap();
    let t = read.throttle("ACME\\alice").await.unwrap();
    assert_eq!(t.blocked_until, Some(T0 + settings.block_duration));
    assert_eq!(
        read.throttle("ACME\\bob").await.unwrap(),
        Throttle::default()
    );
    drop(read);
    // Saving the default state forgets the name.
    let mut tx = store.begin().await.unwrap();
    tx.save_throttle("ACME\\alice", &Throttle::default())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let t = store
        .read()
        .await
        .unwrap()
        .throttle("ACME\\alice")
        .await
        .unwrap();
    assert_eq!(t, Throttle::default());
}

async fn captchas_are_spent_once(store: Arc<dyn latchkey_core::store::Store>) {
    let spent = at_once(20, |_| {
        let store = Arc::clone(&store);
        async move {
            let mut tx = store.begin().await.unwrap();
            let first = tx
                .spend_captcha("sig-1", T0 + Duration::minutes(10))
                .await
                .unwrap();
            tx.commit().await.unwrap();
            first
        }
    })
    .await;
    assert_eq!(spent.iter().filter(|s| **s).count(), 1, "accepted once");
}

async fn expired_flows_and_captchas_are_purged(store: Arc<dyn latchkey_core::store::Store>) {
    let later = T0 + Duration::days(2);
    let mut tx = store.begin().await.unwrap();
    let fresh = Flow {
        id_hash: "fresh".into(),
        action: FlowAction::Unlock,
        channel: Channel::Web,
        steps: vec![FactorKind::Captcha],
        account: None,
        subject_name: None,
        state: FlowState::Identify,
        created_at: later,
        expires_at: later + Duration::minutes(10),
    };
    tx.create_flow(&fresh, "192.0.2.1").await.unwrap();
    tx.purge_expired(later).await.unwrap();
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    assert_eq!(
        read.flow("flow-1").await.unwrap(),
        None,
        "long expired: gone"
    );
    assert!(read.flow("fresh").await.unwrap().is_some());
    drop(read);
    // The spent captcha's expiry has passed: its record is gone too.
    let mut tx = store.begin().await.unwrap();
    assert!(tx
        .spend_captcha("sig-1", later + Duration::minutes(10))
        .await
        .unwrap());
    tx.commit().await.unwrap();
}
