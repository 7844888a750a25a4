//! `GET /console/history.csv?…`: the history under a filter, as CSV, streamed page by page
//! (never built in memory). Only with a console session whose roles may read history, and
//! only the records of the operator's organisations; the download itself is audited.
//! A GET, so a link can start it: it changes nothing, and the session cookie is
//! SameSite=Strict, so another site cannot have it sent.

use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use latchkey_app::ssr::token_in;
use latchkey_core::audit::Caller;
use latchkey_core::history::EXPORT_PAGE;
use latchkey_core::session::Audience;
use latchkey_core::CoreError;
use latchkey_types::console::{AuditEntry, HistoryFilter, HistoryPage};

use super::security::client_addr;
use super::state::HttpState;

pub fn router() -> Router<HttpState> {
    Router::new().route("/console/history.csv", get(export))
}

async fn export(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    filter: Result<Query<HistoryFilter>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(filter)) = filter else {
        return (StatusCode::BAD_REQUEST, "The filter could not be read.\n").into_response();
    };
    let core = state.server.core.clone();
    let session = match token_in(&headers, state.https, Audience::Console) {
        Some(token) => core.console_session(&token).await,
        None => Ok(None),
    };
    let session = match session {
        Ok(Some(s)) => s,
        Ok(None) => return (StatusCode::UNAUTHORIZED, "Sign in to the console.\n").into_response(),
        Err(e) => return refused(e),
    };
    let client = client_addr(peer.ip(), &headers, &state.trusted_proxies);
    let caller = Caller::console(session.operator, Some(client));
    // The first page before answering: a filter that is refused is refused with a status,
    // not by cutting a download short.
    let first = match core.history(&caller, &filter, None, EXPORT_PAGE).await {
        Ok(page) => page,
        Err(e) => return refused(e),
    };
    if let Err(e) = core.record_history_export(&caller, &filter).await {
        return refused(e);
    }
    let head = "seq,at,actor,subject,action,channel,client,outcome,details\r\n".to_owned();
    let pages = futures_util::stream::unfold(Step::First(head, first), move |step| {
        let (core, caller, filter) = (core.clone(), caller.clone(), filter.clone());
        async move {
            let (mut chunk, page) = match step {
                Step::Done => return None,
                Step::First(head, page) => (head, page),
                Step::Before(seq) => {
                    match core.history(&caller, &filter, Some(seq), EXPORT_PAGE).await {
                        Ok(page) => (String::new(), page),
                        Err(e) => {
                            tracing::error!(error = %e, "history export stopped");
                            let cut = std::io::Error::other("history export stopped");
                            return Some((Err(cut), Step::Done));
                        }
                    }
                }
            };
            for entry in &page.entries {
                chunk.push_str(&line(entry));
            }
            let next = page.next.map_or(Step::Done, Step::Before);
            Some((Ok::<Bytes, std::io::Error>(Bytes::from(chunk)), next))
        }
    });
    let mut res = Response::new(Body::from_stream(pages));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"latchkey-history.csv\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Where the download goes on: the first page (read before answering, with the CSV's
/// header), the records before a sequence number, or nowhere.
enum Step {
    First(String, HistoryPage),
    Before(i64),
    Done,
}

fn refused(e: CoreError) -> Response {
    match e {
        CoreError::Forbidden => (
            StatusCode::FORBIDDEN,
            "Your roles do not include reading the history.\n",
        )
            .into_response(),
        CoreError::Invalid(i) => (
            StatusCode::BAD_REQUEST,
            format!("{}: {}\n", i.field, i.message),
        )
            .into_response(),
        other => {
            tracing::error!(error = %other, "history export refused");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.\n",
            )
                .into_response()
        }
    }
}

/// One record as a CSV line (RFC 4180).
fn line(e: &AuditEntry) -> String {
    let cells = [
        e.seq.to_string(),
        e.at.to_string(),
        e.actor.clone(),
        e.subject.clone().unwrap_or_default(),
        e.action.clone(),
        e.channel.clone(),
        e.client.clone().unwrap_or_default(),
        e.outcome.clone(),
        e.details.clone(),
    ];
    let mut s = cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",");
    s.push_str("\r\n");
    s
}

/// A cell, quoted when it must be. A cell a spreadsheet would run as a formula (a typed
/// name such as `=HYPERLINK(…)`) starts with an apostrophe instead (OWASP: CSV injection).
fn cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-1"), "'-1");
    }
}
