//! The users grid (seed 001's User page, seed 003's Manage Users): search, *Only include
//! locked users*, filters, a server-side sort and keyset pages, and a key icon on each
//! locked row that unlocks after a confirmation.
//!
//! The search lives in the address (`?q=…&locked=1`), so Back, Reload and a shared link
//! show the same results.

use latchkey_types::console::{UserPage, UserQuery, UserRow, UserSort};
use latchkey_types::{AccountStatus, Permission};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;

use super::labels;
use super::session::Session;
use super::unlock::{UnlockDialog, UnlockTarget, Unlocked};
use super::widgets::{
    checked, focus_later, no_error, when, CheckboxField, DirectoryErrors, ErrorNotice, KeyIcon,
    SelectField,
};
use crate::api::console::users::users_search;
use crate::api::console::{console_organisations, OrganisationChoice};
use crate::components::{use_title, Loading, Notice, NoticeKind, TextField};
use crate::error::ApiError;

/// The grid's query as the address holds it.
fn query_from(params: &ParamsMap) -> UserQuery {
    let text = |k: &str| params.get(k).filter(|v| !v.is_empty());
    UserQuery {
        text: text("q").unwrap_or_default(),
        only_locked: params.get("locked").as_deref() == Some("1"),
        organisation: text("org"),
        store: text("store"),
        status: text("status").and_then(|s| s.parse().ok()),
        sort: text("sort")
            .and_then(|s| s.parse().ok())
            .unwrap_or_default(),
        after: None,
    }
}

/// The address of the grid showing `query`.
fn href_of(query: &UserQuery) -> String {
    let mut parts = Vec::new();
    let mut add = |k: &str, v: &str| {
        if !v.is_empty() {
            parts.push(format!("{k}={}", js_sys::encode_uri_component(v)));
        }
    };
    add("q", &query.text);
    add("locked", if query.only_locked { "1" } else { "" });
    add("org", query.organisation.as_deref().unwrap_or_default());
    add("store", query.store.as_deref().unwrap_or_default());
    add(
        "status",
        query.status.map(AccountStatus::as_str).unwrap_or_default(),
    );
    if query.sort != UserSort::default() {
        add("sort", query.sort.as_str());
    }
    if parts.is_empty() {
        "/users".to_owned()
    } else {
        format!("/users?{}", parts.join("&"))
    }
}

/// The rows shown so far and where the next page starts.
#[derive(Debug, Clone, Default)]
struct Results {
    rows: Vec<UserRow>,
    next: Option<String>,
    /// Directories that could not be searched (first page only).
    directory_errors: Vec<String>,
}

#[component]
pub fn UsersPage() -> impl IntoView {
    use_title("Users");
    let session = Session::get();
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(query_from));

    // The form, filled from the address.
    let text = RwSignal::new(String::new());
    let only_locked = RwSignal::new(false);
    let organisation = RwSignal::new(String::new());
    let store = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let sort = RwSignal::new(String::new());
    Effect::new(move |_| {
        let q = query.get();
        text.set(q.text);
        only_locked.set(q.only_locked);
        organisation.set(q.organisation.unwrap_or_default());
        store.set(q.store.unwrap_or_default());
        status.set(q.status.map(|s| s.as_str().to_owned()).unwrap_or_default());
        sort.set(q.sort.as_str().to_owned());
    });

    // Results: the first page for each query, then more pages appended. A generation
    // number drops answers to a search that has since been replaced.
    let results = RwSignal::new(None::<Result<Results, ApiError>>);
    let loading_more = RwSignal::new(false);
    let generation = StoredValue::new(0_u64);
    let load = move |q: UserQuery, append: bool| {
        let mine = generation.get_value() + u64::from(!append);
        generation.set_value(mine);
        if append {
            loading_more.set(true);
        } else {
            results.set(None);
        }
        leptos::task::spawn_local(async move {
            let page: Result<UserPage, ApiError> = checked(session, users_search(q)).await;
            if generation.get_value() != mine {
                return;
            }
            loading_more.set(false);
            results.update(|r| match (page, r.as_mut()) {
                (Ok(page), Some(Ok(shown))) if append => {
                    shown.rows.extend(page.rows);
                    shown.next = page.next;
                }
                (Ok(page), _) => {
                    *r = Some(Ok(Results {
                        rows: page.rows,
                        next: page.next,
                        directory_errors: page.directory_errors,
                    }))
                }
                (Err(e), _) => *r = Some(Err(e)),
            });
        });
    };
    Effect::new(move |_| load(query.get(), false));
    let more = move |_| {
        let next =
            results.with_untracked(|r| r.as_ref().and_then(|r| r.as_ref().ok()?.next.clone()));
        if let Some(after) = next {
            let mut q = query.get_untracked();
            q.after = Some(after);
            load(q, true);
        }
    };

    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let wanted = UserQuery {
            text: text.get_untracked().trim().to_owned(),
            only_locked: only_locked.get_untracked(),
            organisation: Some(organisation.get_untracked()).filter(|s| !s.is_empty()),
            store: Some(store.get_untracked()).filter(|s| !s.is_empty()),
            status: status.get_untracked().parse().ok(),
            sort: sort.get_untracked().parse().unwrap_or_default(),
            after: None,
        };
        if wanted == query.get_untracked() {
            load(wanted, false);
        } else {
            navigate(&href_of(&wanted), Default::default());
        }
    };

    // Unlocking from the grid.
    let target = RwSignal::new(None::<UnlockTarget>);
    let unlocked = RwSignal::new(None::<Unlocked>);
    let done = move |u: Unlocked| {
        let id = u.target.id.clone();
        results.update(|r| {
            if let Some(Ok(shown)) = r {
                for row in shown.rows.iter_mut().filter(|row| row.id == id) {
                    row.locked = false;
                    row.locked_date = None;
                    row.lock_reason = None;
                }
            }
        });
        unlocked.set(Some(u));
        // The key button the operator came from is gone: continue from the message.
        focus_later("grid-status");
    };

    let organisations = LocalResource::new(move || checked(session, console_organisations()));
    let can_create = move || session.can(Permission::ManageUsers);

    view! {
        <div class="page-head">
            <h1>"Users"</h1>
            {move || can_create().then(|| view! {
                <a class="button button-secondary" href="/console/users/new">"Create user"</a>
            })}
        </div>
        <form role="search" aria-label="Users" class="search-form" on:submit=submit novalidate>
            <div class="search-row">
                <TextField id="user-search" label="Search" value=text error=no_error()
                    kind="search"
                    hint="The start of a username, a name or an email address. Leave empty for everyone." />
                <CheckboxField id="only-locked" label="Only include locked users" checked=only_locked />
            </div>
            <details class="filters">
                <summary>"More filters and sorting"</summary>
                <div class="filter-grid">
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            organisations.await.ok().map(|orgs| view! {
                                <OrganisationFilters orgs organisation store />
                            })
                        })}
                    </Suspense>
                    <SelectField id="status" label="Status" value=status options=status_options() />
                    <SelectField id="sort" label="Sort by" value=sort options=sort_options() />
                </div>
            </details>
            <button type="submit">"Search"</button>
        </form>
        <div id="grid-status" tabindex="-1" class="grid-status">
            {move || unlocked.get().map(|u| view! {
                <Notice kind=NoticeKind::Success><p>{u.sentence()}</p></Notice>
            })}
        </div>
        {move || match results.get() {
            None => view! { <Loading label="Searching…" /> }.into_any(),
            Some(Err(e)) => view! { <ErrorNotice error=e /> }.into_any(),
            Some(Ok(shown)) => view! {
                <Grid shown target only_locked=query.get().only_locked />
                {move || results.with(|r| matches!(r, Some(Ok(Results { next: Some(_), .. })))).then(|| view! {
                    <p class="more">
                        <button type="button" class="secondary" on:click=more
                            disabled=loading_more aria-busy=move || loading_more.get().then_some("true")>
                            {move || if loading_more.get() { "Loading more…" } else { "Show more users" }}
                        </button>
                    </p>
                })}
            }.into_any(),
        }}
        <UnlockDialog target done />
    }
}

/// Organisation (for a global administrator) and identity store filters.
#[component]
fn OrganisationFilters(
    orgs: Vec<OrganisationChoice>,
    organisation: RwSignal<String>,
    store: RwSignal<String>,
) -> impl IntoView {
    let many = orgs.len() > 1;
    let mut org_options = vec![(String::new(), "Every organisation".to_owned())];
    org_options.extend(orgs.iter().map(|o| (o.slug.clone(), o.name.clone())));
    let mut store_options = vec![(String::new(), "Every identity store".to_owned())];
    store_options.extend(
        orgs.iter()
            .flat_map(|o| o.stores.iter())
            .map(|s| (s.clone(), s.clone())),
    );
    view! {
        {many.then(|| view! {
            <SelectField id="organisation" label="Organisation" value=organisation options=org_options />
        })}
        <SelectField id="store" label="Identity store" value=store options=store_options />
    }
}

fn status_options() -> Vec<(String, String)> {
    vec![
        (String::new(), "Any status".to_owned()),
        (
            "active".to_owned(),
            labels::status(AccountStatus::Active).to_owned(),
        ),
        (
            "disabled".to_owned(),
            labels::status(AccountStatus::Disabled).to_owned(),
        ),
    ]
}

fn sort_options() -> Vec<(String, String)> {
    vec![
        ("username".to_owned(), "Username, A to Z".to_owned()),
        (
            "locked_date".to_owned(),
            "Locked Date, newest first (locked users only)".to_owned(),
        ),
    ]
}

#[component]
fn Grid(
    shown: Results,
    target: RwSignal<Option<UnlockTarget>>,
    only_locked: bool,
) -> impl IntoView {
    let session = Session::get();
    let count = shown.rows.len();
    let summary = match (count, shown.next.is_some(), only_locked) {
        (0, _, true) => "No locked users match.".to_owned(),
        (0, _, false) => "No users match.".to_owned(),
        (1, false, _) => "1 user.".to_owned(),
        (n, false, _) => format!("{n} users."),
        (n, true, _) => format!("The first {n} users; there are more."),
    };
    let can_unlock = session.can(Permission::Unlock);
    let rows = shown
        .rows
        .into_iter()
        .map(|row| {
            let href = format!("/console/users/{}", row.id);
            let lock = if row.locked {
                view! { <span class="badge locked">"Locked"</span> }.into_any()
            } else {
                view! { <span class="badge">{labels::status(row.status)}</span> }.into_any()
            };
            let key = (row.locked && can_unlock).then(|| {
                let t = UnlockTarget {
                    id: row.id.clone(),
                    username: row.username.clone(),
                    display_name: row.display_name.clone(),
                };
                let name = format!("Unlock {}", row.username);
                view! {
                    <button type="button" class="icon-button" aria-label=name.clone() title=name
                        on:click=move |_| target.set(Some(t.clone()))>
                        <KeyIcon />
                    </button>
                }
            });
            view! {
                <tr class:locked-row=row.locked>
                    <td data-label="Username"><a href=href>{row.username}</a></td>
                    <td data-label="Name">{row.display_name}</td>
                    <td data-label="Email" class="email">{row.email}</td>
                    <td data-label="Organisation">{row.organisation}</td>
                    <td data-label="State">{lock}</td>
                    <td data-label="Locked Date">{when(row.locked_date)}</td>
                    <td data-label="Lock Reason">{row.lock_reason.map(|r| r.to_string()).unwrap_or_else(|| "—".to_owned())}</td>
                    <td data-label="Unlock">{key}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DirectoryErrors errors=shown.directory_errors />
        <p class="result-count" role="status">{summary}</p>
        {(count > 0).then(|| view! {
            <div class="table-wrap">
                <table class="users">
                    <caption class="visually-hidden">"Search results"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Username"</th>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Email"</th>
                            <th scope="col">"Organisation"</th>
                            <th scope="col">"State"</th>
                            <th scope="col">"Locked Date"</th>
                            <th scope="col">"Lock Reason"</th>
                            <th scope="col"><span class="visually-hidden">"Unlock"</span></th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        })}
    }
}
