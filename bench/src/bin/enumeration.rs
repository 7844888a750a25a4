//! `make bench` (third part): can an attacker tell a real account from an unknown name
//! by the time an answer takes? Response times of the same requests for a real user and
//! for names that do not exist, interleaved in one run against the real server: the
//! sign-in (wrong password) and the self-service steps (identify, a wrong answer to the
//! security questions). The medians should match; their ratio is printed.

use std::time::{Duration, Instant};

use latchkey_bench::{BenchResult, Server};
use latchkey_core::demo;
use latchkey_core::factor::captcha::{self, Challenge};
use serde_json::{json, Value};

/// Pairs (real, unknown) measured per operation.
const PAIRS: usize = 40;

fn main() -> BenchResult<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

/// Times of one operation for each kind of name.
#[derive(Default)]
struct Samples {
    real: Vec<Duration>,
    unknown: Vec<Duration>,
}

impl Samples {
    fn push(&mut self, real: bool, took: Duration) {
        if real {
            self.real.push(took);
        } else {
            self.unknown.push(took);
        }
    }

    fn report(&mut self, name: &str) {
        let (real, unknown) = (summary(&mut self.real), summary(&mut self.unknown));
        println!(
            "{name:<28} real {:7.1} ms (p90 {:7.1})  unknown {:7.1} ms (p90 {:7.1})  ratio {:.3}",
            real.0,
            real.1,
            unknown.0,
            unknown.1,
            unknown.0 / real.0
        );
    }
}

/// Median and 90th percentile in milliseconds.
fn summary(v: &mut [Duration]) -> (f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    match v.len() {
        0 => (f64::NAN, f64::NAN),
        n => (ms(v[n / 2]), ms(v[(n * 9 / 10).min(n - 1)])),
    }
}

async fn run() -> BenchResult<()> {
    let server = Server::start(|config| {
        // The real user answers wrongly on purpose: lift the block that would stop the run.
        config.self_service.max_failures = 1_000_000;
        // The captcha is solved here, not measured.
        config.self_service.captcha_max_number = 1_000;
    })
    .await?;
    let client = Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
    };

    println!(
        "{PAIRS} interleaved pairs per operation; self-service answers are held to {} ms",
        server.config.self_service.response_time_ms
    );
    let dave = demo::USERS
        .iter()
        .find(|u| u.username == "dave")
        .ok_or("demo user dave")?;

    let mut sign_in = Samples::default();
    let (mut identify, mut questions) = (Samples::default(), Samples::default());
    for i in 0..PAIRS {
        // Alternate which goes first, so that warming up favours neither.
        for real in [i % 2 == 0, i % 2 == 1] {
            let name = if real {
                dave.username.to_owned()
            } else {
                format!("nobody-{i}")
            };
            let body = json!({ "username": name, "password": "not the password at all" });
            let (took, _) = client.call("sign_in", body).await?;
            sign_in.push(real, took);

            let (_, started) = client
                .call(
                    "flow_start",
                    json!({ "action": "unlock", "channel": "web" }),
                )
                .await?;
            let flow = started["flow_id"].as_str().ok_or("flow_id")?.to_owned();
            let (took, view) = client
                .call(
                    "flow_identify",
                    json!({ "flow_id": flow, "username": name }),
                )
                .await?;
            identify.push(real, took);
            let view = client.pass_captcha(&flow, view).await?;
            let step = &view["step"];
            let asked = step["prompt"]["questions"]
                .as_array()
                .ok_or_else(|| format!("no questions: {view}"))?
                .len();
            let answer = json!({
                "flow_id": flow,
                "step": step["index"],
                "answer": { "factor": "security_questions", "answers": vec!["a wrong answer"; asked] },
            });
            let (took, _) = client.call("flow_answer", answer).await?;
            questions.push(real, took);
        }
    }
    sign_in.report("sign-in, wrong password");
    identify.report("self-service identify");
    questions.report("self-service wrong answers");
    Ok(())
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    /// One server function call: how long it took and what it answered.
    async fn call(&self, endpoint: &str, body: Value) -> BenchResult<(Duration, Value)> {
        let start = Instant::now();
        let res = self
            .http
            .post(format!("{}/api/{endpoint}", self.base))
            .header("origin", &self.base)
            .json(&body)
            .send()
            .await?;
        let status = res.status();
        let value: Value = res.json().await?;
        let took = start.elapsed();
        if !status.is_success() {
            return Err(format!("{endpoint}: {status} {value}").into());
        }
        Ok((took, value))
    }

    async fn pass_captcha(&self, flow: &str, view: Value) -> BenchResult<Value> {
        let step = &view["step"];
        let challenge: Challenge = serde_json::from_value(step["prompt"]["challenge"].clone())?;
        let solution = captcha::solve(&challenge).ok_or("captcha has no solution")?;
        let body = json!({
            "flow_id": flow,
            "step": step["index"],
            "answer": { "factor": "captcha", "solution": solution },
        });
        Ok(self.call("flow_answer", body).await?.1)
    }
}
