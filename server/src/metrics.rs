//! Prometheus metrics at `GET /metrics`, with `prometheus-client` (the Prometheus
//! project's own Rust client): its registry is a value, not a process-wide global, so
//! every server — and every test server in one test process — counts on its own.
//!
//! Never public by default: served on `metrics.listen` (an address of its own, for the
//! scraper's network only), or on the main listener behind `metrics.token` (a bearer
//! token), or not at all. Label values come from closed sets (routes, enums), never from
//! usernames, addresses or ids.
//!
//! Domain events (sign-ins, locks, unlocks, self-service steps...) are read from the
//! audit log, which records every one of them: at each scrape the records written since
//! the last one are counted. So the counters hold events written to the database since
//! this server started — by any server on it (with several servers on one PostgreSQL,
//! read one server's figures, or take the max, not the sum).

use std::str::FromStr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, State};
use axum::http::{header, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use latchkey_core::audit::{Action, AuditChannel, AuditRecord, Outcome};
use latchkey_core::password::PasswordHasher;
use latchkey_core::store::Store;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use tokio::sync::Mutex;

/// Audit records read per round trip at a scrape, and pages at most per scrape (the
/// rest waits for the next).
const AUDIT_PAGE: u32 = 1000;
const AUDIT_PAGES_PER_SCRAPE: usize = 20;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    endpoint: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    action: String,
    channel: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LockLabels {
    reason: String,
    actor: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActorLabels {
    actor: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FlowLabels {
    channel: String,
    step: String,
    /// The factor a step asked (`none` for steps that ask none, e.g. the start).
    factor: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: String,
}

fn delivery_histogram() -> Histogram {
    // 50 ms to ~27 minutes: a mail waits for the worker's poll, a retry for minutes.
    Histogram::new(exponential_buckets(0.05, 2.0, 16))
}

fn latency_histogram() -> Histogram {
    // 1 ms to ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// What `/metrics` shows; one per server.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<EndpointLabels, Histogram, fn() -> Histogram>,
    events: Family<EventLabels, Counter>,
    sign_ins: Family<OutcomeLabels, Counter>,
    locks: Family<LockLabels, Counter>,
    unlocks: Family<ActorLabels, Counter>,
    self_service: Family<FlowLabels, Counter>,
    outbox: Family<StatusLabels, Gauge>,
    delivery_attempts: Family<ResultLabels, Counter>,
    delivery_latency: Histogram,
    rate_limited: Family<EndpointLabels, Counter>,
    hashing_in_flight: Gauge,
    hashing_capacity: Gauge,
    hashing_refused: Counter<u64, std::sync::atomic::AtomicU64>,
    hashing_refused_seen: std::sync::atomic::AtomicU64,
    /// The last audit record counted.
    audit_seq: Mutex<i64>,
    hasher: PasswordHasher,
    store: Arc<dyn Store>,
    token: Option<SecretString>,
}

impl Metrics {
    /// Counts from the audit log's current end: what happened before this server
    /// started is not its to report.
    pub async fn new(
        store: Arc<dyn Store>,
        hasher: PasswordHasher,
        token: Option<SecretString>,
    ) -> Result<Self, latchkey_core::store::StoreError> {
        let audit_seq = {
            let mut read = store.read().await?;
            let mut seq = 0;
            loop {
                let page = read.audit_records(seq, AUDIT_PAGE).await?;
                match page.last() {
                    Some(last) => seq = last.seq,
                    None => break,
                }
            }
            seq
        };
        let mut registry = Registry::with_prefix("latchkey");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by endpoint (route or server function), method and status",
            requests.clone(),
        );
        let latency: Family<EndpointLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by endpoint",
            latency.clone(),
        );
        let events = Family::<EventLabels, Counter>::default();
        registry.register(
            "audit_events",
            "Audited events by action, channel and outcome (see docs/SECURITY.md)",
            events.clone(),
        );
        let sign_ins = Family::<OutcomeLabels, Counter>::default();
        registry.register("sign_ins", "Sign-ins by outcome", sign_ins.clone());
        let locks = Family::<LockLabels, Counter>::default();
        registry.register(
            "locks",
            "Accounts locked, by reason and by who locked them (system: Latchkey itself, \
             e.g. after failures; operator: the console; self_service: a portal channel)",
            locks.clone(),
        );
        let unlocks = Family::<ActorLabels, Counter>::default();
        registry.register(
            "unlocks",
            "Accounts unlocked, by who unlocked them",
            unlocks.clone(),
        );
        let self_service = Family::<FlowLabels, Counter>::default();
        registry.register(
            "self_service_steps",
            "Self-service flow events by channel, step (start, identify, step, reset, \
             unlock, ...) and outcome",
            self_service.clone(),
        );
        let outbox = Family::<StatusLabels, Gauge>::default();
        registry.register(
            "outbox_messages",
            "Mail in the outbox by delivery status (pending: waiting or being attempted; \
             failed: every attempt failed)",
            outbox.clone(),
        );
        let delivery_attempts = Family::<ResultLabels, Counter>::default();
        registry.register(
            "outbox_delivery_attempts",
            "Delivery attempts by result (sent; retry: failed for now; failed: for good)",
            delivery_attempts.clone(),
        );
        let delivery_latency = delivery_histogram();
        registry.register(
            "outbox_delivery_seconds",
            "From a mail's enqueueing to its delivery, retries included",
            delivery_latency.clone(),
        );
        let rate_limited = Family::<EndpointLabels, Counter>::default();
        registry.register(
            "rate_limited",
            "Requests refused by a per-client rate limit (429), by endpoint",
            rate_limited.clone(),
        );
        let hashing_in_flight = Gauge::default();
        registry.register(
            "password_hashing_in_flight",
            "Password hashing jobs running or queued",
            hashing_in_flight.clone(),
        );
        let hashing_capacity = Gauge::default();
        registry.register(
            "password_hashing_capacity",
            "Password hashing jobs admitted at most (workers + queue)",
            hashing_capacity.clone(),
        );
        let hashing_refused = Counter::<u64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "password_hashing_refused",
            "Password checks refused because the hashing pool was saturated",
            hashing_refused.clone(),
        );
        Ok(Self {
            registry,
            requests,
            latency,
            events,
            sign_ins,
            locks,
            unlocks,
            self_service,
            outbox,
            delivery_attempts,
            delivery_latency,
            rate_limited,
            hashing_in_flight,
            hashing_capacity,
            hashing_refused,
            hashing_refused_seen: std::sync::atomic::AtomicU64::new(0),
            audit_seq: Mutex::new(audit_seq),
            hasher,
            store,
            token,
        })
    }

    /// The text exposition, after counting what the audit log gained.
    pub async fn render(&self) -> Result<String, latchkey_core::store::StoreError> {
        self.count_audit().await?;
        let depth = self.store.read().await?.outbox_counts().await?;
        for (status, n) in depth {
            let _: i64 = self
                .outbox
                .get_or_create(&StatusLabels {
                    status: status.as_str().to_owned(),
                })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        let _: i64 = self
            .hashing_in_flight
            .set(i64::try_from(self.hasher.in_flight()).unwrap_or(i64::MAX));
        let _: i64 = self
            .hashing_capacity
            .set(i64::try_from(self.hasher.capacity()).unwrap_or(i64::MAX));
        let refused = self.hasher.refused();
        let seen = self
            .hashing_refused_seen
            .swap(refused, std::sync::atomic::Ordering::AcqRel);
        self.hashing_refused.inc_by(refused.saturating_sub(seen));
        let mut out = String::new();
        encode(&mut out, &self.registry).map_err(|e| {
            latchkey_core::store::StoreError::Corrupt(format!("encoding metrics: {e}"))
        })?;
        Ok(out)
    }

    async fn count_audit(&self) -> Result<(), latchkey_core::store::StoreError> {
        let mut seq = self.audit_seq.lock().await;
        let mut read = self.store.read().await?;
        for _ in 0..AUDIT_PAGES_PER_SCRAPE {
            let page = read.audit_records(*seq, AUDIT_PAGE).await?;
            let Some(last) = page.last() else { break };
            *seq = last.seq;
            for record in &page {
                self.count(record);
            }
        }
        Ok(())
    }

    /// One audit record into the counters; every label value from a closed set.
    fn count(&self, record: &AuditRecord) {
        let action = Action::from_str(&record.action).ok();
        let channel = AuditChannel::from_str(&record.channel).ok();
        let outcome = Outcome::from_str(&record.outcome).ok();
        let name = |v: Option<&'static str>| v.unwrap_or("other").to_owned();
        let action_label = name(action.map(<&'static str>::from));
        let channel_label = name(channel.map(<&'static str>::from));
        let outcome_label = name(outcome.map(<&'static str>::from));
        self.events
            .get_or_create(&EventLabels {
                action: action_label.clone(),
                channel: channel_label.clone(),
                outcome: outcome_label.clone(),
            })
            .inc();
        // Who acted, as a kind: Latchkey itself (a lock by failures, an expiry, the
        // command line), an operator in the console, or the person on a portal channel.
        let actor = if record.actor.starts_with("system:") {
            "system"
        } else {
            match channel {
                Some(AuditChannel::Web | AuditChannel::Mobile | AuditChannel::Desktop) => {
                    "self_service"
                }
                Some(AuditChannel::Console) => "operator",
                _ => "system",
            }
        }
        .to_owned();
        let success = outcome == Some(Outcome::Success);
        match action {
            Some(Action::SignIn) => {
                self.sign_ins
                    .get_or_create(&OutcomeLabels {
                        outcome: outcome_label,
                    })
                    .inc();
            }
            Some(Action::Lock) if success => {
                self.locks
                    .get_or_create(&LockLabels {
                        reason: lock_reason(&record.details),
                        actor,
                    })
                    .inc();
            }
            Some(Action::Unlock) if success => {
                self.unlocks.get_or_create(&ActorLabels { actor }).inc();
            }
            Some(
                Action::SelfServiceStart
                | Action::SelfServiceIdentify
                | Action::SelfServiceStep
                | Action::SelfServiceResendCode
                | Action::SelfServiceSwitchFactor
                | Action::ResetPassword,
            ) => {
                self.self_service
                    .get_or_create(&FlowLabels {
                        channel: channel_label,
                        step: action_label,
                        factor: factor_of(&record.details),
                        outcome: outcome_label,
                    })
                    .inc();
            }
            _ => {}
        }
    }

    /// Times and counts one request.
    fn observe(&self, endpoint: String, method: &str, status: StatusCode, started: Instant) {
        self.latency
            .get_or_create(&EndpointLabels {
                endpoint: endpoint.clone(),
            })
            .observe(started.elapsed().as_secs_f64());
        if status == StatusCode::TOO_MANY_REQUESTS {
            self.rate_limited
                .get_or_create(&EndpointLabels {
                    endpoint: endpoint.clone(),
                })
                .inc();
        }
        self.requests
            .get_or_create(&RequestLabels {
                endpoint,
                method: method.to_owned(),
                status: status.as_u16(),
            })
            .inc();
    }

    /// Whether a request on the main listener carries the configured bearer token.
    fn authorised(&self, req: &Request<Body>) -> bool {
        let Some(token) = &self.token else {
            return false;
        };
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        constant_time_eq(given.as_bytes(), token.expose_secret().as_bytes())
    }
}

impl latchkey_core::outbox::worker::DeliveryObserver for Metrics {
    fn attempted(
        &self,
        outcome: latchkey_core::outbox::worker::AttemptOutcome,
        waited: time::Duration,
    ) {
        use latchkey_core::outbox::worker::AttemptOutcome;
        let result = match outcome {
            AttemptOutcome::Sent => "sent",
            AttemptOutcome::Retry => "retry",
            AttemptOutcome::Failed => "failed",
        };
        self.delivery_attempts
            .get_or_create(&ResultLabels {
                result: result.to_owned(),
            })
            .inc();
        if outcome == AttemptOutcome::Sent {
            self.delivery_latency
                .observe(waited.as_seconds_f64().max(0.0));
        }
    }
}

/// The factor a self-service record's details name, from the closed set of factors
/// (`to` for a switch: the factor switched to).
fn factor_of(details: &str) -> String {
    let value = serde_json::from_str::<serde_json::Value>(details).ok();
    let named = value
        .as_ref()
        .and_then(|v| v.get("factor").or_else(|| v.get("to")))
        .and_then(|f| f.as_str())
        .and_then(|f| latchkey_core::factor::FactorKind::from_str(f).ok());
    named.map_or("none", <&'static str>::from).to_owned()
}

/// The lock's reason from its record's details, from the closed set of reasons.
fn lock_reason(details: &str) -> String {
    let reason = serde_json::from_str::<serde_json::Value>(details)
        .ok()
        .and_then(|v| {
            v.get("lock_reason")
                .and_then(|r| r.as_str())
                .map(str::to_owned)
        });
    match reason.as_deref() {
        Some("Failures") => "failures",
        Some("Administrative") => "administrative",
        Some("Self-service failures") => "self_service_failures",
        _ => "other",
    }
    .to_owned()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// The label for a request: its route, or the server function's path; anything else
/// (unknown paths, files) is `other`, so no caller can grow the label set.
fn endpoint(req: &Request<Body>) -> String {
    let path = req.uri().path();
    if path.starts_with("/api/") {
        return if crate::http::api::known_path(path) {
            path.to_owned()
        } else {
            "/api/other".to_owned()
        };
    }
    match req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
    {
        Some(route) if !route.contains('{') => route.to_owned(),
        _ => "other".to_owned(),
    }
}

/// Middleware: every request timed and counted.
pub async fn track(
    State(metrics): State<Arc<Metrics>>,
    req: Request<Body>,
    next: Next,
) -> Response {
    let started = Instant::now();
    let endpoint = endpoint(&req);
    let method = req.method().as_str().to_owned();
    let res = next.run(req).await;
    metrics.observe(endpoint, &method, res.status(), started);
    res
}

/// `GET /metrics` on the main listener: only with the bearer token (404 otherwise, as
/// if there were no such page).
pub async fn guarded(State(metrics): State<Arc<Metrics>>, req: Request<Body>) -> Response {
    if !metrics.authorised(&req) {
        return StatusCode::NOT_FOUND.into_response();
    }
    exposition(&metrics).await
}

/// `GET /metrics` on the metrics listener.
pub async fn open(State(metrics): State<Arc<Metrics>>) -> Response {
    exposition(&metrics).await
}

async fn exposition(metrics: &Metrics) -> Response {
    match metrics.render().await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!("metrics: {e}");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
