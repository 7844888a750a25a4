//! The user page (seed 001's user record, seed 004's user details): lock state with
//! *Locked Date*, *Lock Reason* and *Unlocked by*, failed attempts, last password change,
//! factors, sessions, linked accounts and recent history; unlock, edit, disable and
//! enable. And the page that creates a user.

use latchkey_types::console::{SessionView, UserDetail, UserForm, UserRow};
use latchkey_types::{AccountStatus, Permission};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use super::labels;
use super::secure::{ResecureButton, ResetMfaButton};
use super::session::Session;
use super::unlock::{UnlockDialog, UnlockTarget, Unlocked};
use super::widgets::{
    checked, focus_later, when, AuditTable, DirectoryErrors, ErrorNotice, FailedSignIns, LockBadge,
    Modal, SelectField,
};
use crate::api::console::console_organisations;
use crate::api::console::users::{
    fetch_user_detail, user_create, user_link, user_revoke_session, user_set_status, user_unlink,
    user_update,
};
use crate::components::{
    field_error, local_time, use_title, Loading, Notice, NoticeKind, SubmitButton, TextField,
};
use crate::error::ApiError;

/// A change made on this page, for its status message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Done {
    /// Arrived from the create page.
    Created,
    Unlocked(String),
    Saved,
    Status(AccountStatus),
    SessionEnded,
    MfaReset,
    Resecured,
    Linked(String),
    Unlinked(String),
}

#[component]
pub fn UserPage() -> impl IntoView {
    use_title("User");
    let session = Session::get();
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let detail = LocalResource::new(move || checked(session, fetch_user_detail(id.get())));
    let created = query.with_untracked(|q| q.get("created").is_some());
    let done = RwSignal::new(created.then_some(Done::Created));
    let changed = move |what: Done| {
        done.set(Some(what));
        detail.refetch();
    };
    view! {
        <p class="back"><a href="/console/users">"Back to users"</a></p>
        <div id="user-status" tabindex="-1">
            {move || done.get().map(|d| {
                let text = match d {
                    Done::Created => "User created. They have no password yet: they choose \
                        one with Reset my password in the portal.".to_owned(),
                    Done::Unlocked(sentence) => sentence,
                    Done::Saved => "Changes saved.".to_owned(),
                    Done::Status(AccountStatus::Disabled) =>
                        "User disabled. Their sessions have ended.".to_owned(),
                    Done::Status(_) => "User enabled.".to_owned(),
                    Done::SessionEnded => "Session ended.".to_owned(),
                    Done::MfaReset => "MFA secret reset. The user's sessions have ended; at their \
                        next sign-in they are emailed a device authorization code, then set up \
                        their authenticator app again.".to_owned(),
                    Done::Resecured => "Account resecured. Give the user the temporary password \
                        yourself; their sessions have ended.".to_owned(),
                    Done::Linked(name) => format!("{name} is now linked to this user."),
                    Done::Unlinked(name) => format!("{name} is no longer linked to this user."),
                };
                view! { <Notice kind=NoticeKind::Success><p>{text}</p></Notice> }
            })}
        </div>
        <Suspense fallback=|| view! { <Loading label="Loading the user…" /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <Detail detail=d changed=Callback::new(changed) /> }.into_any(),
                    Err(e) => view! { <h1>"User"</h1><ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Detail(detail: UserDetail, changed: Callback<Done>) -> impl IntoView {
    let session = Session::get();
    let user = detail.user.clone();
    let id = user.id.clone();
    let can_manage = session.can(Permission::ManageUsers);
    let can_unlock = session.can(Permission::Unlock) && user.locked;
    let can_reset_mfa = session.can(Permission::ResetMfa);
    let can_resecure = session.can(Permission::Resecure);

    let unlock_target = RwSignal::new(None::<UnlockTarget>);
    let target = UnlockTarget {
        id: id.clone(),
        username: user.username.clone(),
        display_name: user.display_name.clone(),
    };
    let unlocked = move |u: Unlocked| {
        changed.run(Done::Unlocked(u.sentence()));
        focus_later("user-status");
    };
    let editing = RwSignal::new(false);
    let history_href = format!(
        "/console/history?subject={}",
        js_sys::encode_uri_component(&user.username)
    );

    let lock_state = view! { <LockBadge locked=user.locked /> };
    let factors = {
        let mut f = Vec::new();
        if detail.security_questions > 0 {
            f.push(format!(
                "Security questions ({} answered)",
                detail.security_questions
            ));
        }
        if detail.authenticator {
            f.push("Authenticator app".to_owned());
        }
        if f.is_empty() {
            "None enrolled".to_owned()
        } else {
            f.join(", ")
        }
    };
    let unlocked_by = detail
        .unlocked_by
        .clone()
        .map(|by| match detail.unlocked_at {
            Some(at) => format!("{by}, {}", local_time(at)),
            None => by,
        });

    view! {
        <div class="page-head">
            <div>
                <h1>{user.display_name.clone()}</h1>
                <p class="subtitle">{user.username.clone()}</p>
            </div>
            <div class="actions-bar">
                {can_unlock.then(|| {
                    let t = target.clone();
                    view! {
                        <button type="button" on:click=move |_| unlock_target.set(Some(t.clone()))>
                            "Unlock"
                        </button>
                    }
                })}
                {can_manage.then(|| view! {
                    <button type="button" class="secondary" aria-expanded=move || editing.get().to_string()
                        aria-controls="edit-user" on:click=move |_| editing.update(|e| *e = !*e)>
                        "Edit"
                    </button>
                    <StatusButton id=id.clone() username=user.username.clone() status=user.status changed />
                })}
                <a class="button button-secondary" href=history_href>"History"</a>
            </div>
        </div>
        {move || editing.get().then(|| view! {
            <EditUser id=id.clone() user=user.clone() editing changed />
        })}
        <DirectoryErrors errors=detail.directory_errors.clone() />
        <h2>"Account"</h2>
        <dl class="facts">
            <dt>"Username"</dt><dd>{detail.user.username.clone()}</dd>
            <dt>"Email"</dt><dd>{detail.user.email.clone()}</dd>
            <dt>"Organisation"</dt><dd>{detail.user.organisation.clone()}</dd>
            <dt>"Identity store"</dt><dd>{detail.store.clone()}</dd>
            <dt>"Status"</dt><dd>{labels::status(detail.user.status)}</dd>
            <dt>"Last password change"</dt><dd>{when(detail.last_password_change)}</dd>
            <dt>"Enrolled factors"</dt><dd>{factors}</dd>
        </dl>
        <h2>"Lock"</h2>
        <dl class="facts">
            <dt>"State"</dt><dd>{lock_state}</dd>
            <dt>"Locked Date"</dt><dd>{when(detail.user.locked_date)}</dd>
            <dt>"Lock Reason"</dt>
            <dd>{detail.user.lock_reason.map(|r| r.to_string()).unwrap_or_else(|| "—".to_owned())}</dd>
            {detail.lock_expires.map(|t| view! {
                <dt>"Unlocks by itself"</dt><dd>{local_time(t)}</dd>
            })}
            <dt>"Unlocked by"</dt><dd>{unlocked_by.unwrap_or_else(|| "—".to_owned())}</dd>
            <dt>"Failed attempts"</dt><dd>{detail.failed_attempts}</dd>
        </dl>
        <FailedSignIns list=detail.failed_sign_ins.clone() />
        <h2>"Security"</h2>
        <dl class="facts">
            <dt>"At next sign-in"</dt>
            <dd>{if detail.required_actions.is_empty() {
                view! { "Nothing required" }.into_any()
            } else {
                view! {
                    <ol class="plain">
                        {detail.required_actions.iter().map(|a| view! { <li>{labels::required_action(*a)}</li> }).collect_view()}
                    </ol>
                }.into_any()
            }}</dd>
        </dl>
        {(can_reset_mfa || can_resecure).then(|| view! {
            <div class="actions-bar security-actions">
                {can_reset_mfa.then(|| view! {
                    <ResetMfaButton id=detail.user.id.clone() username=detail.user.username.clone()
                        done=Callback::new(move |()| changed.run(Done::MfaReset)) />
                })}
                {can_resecure.then(|| view! {
                    <ResecureButton id=detail.user.id.clone() username=detail.user.username.clone()
                        blocked=detail.resecure_blocked
                        done=Callback::new(move |()| changed.run(Done::Resecured)) />
                })}
            </div>
        })}
        <Sessions id=detail.user.id.clone() sessions=detail.sessions.clone() can_manage changed />
        <Linked id=detail.user.id.clone() linked=detail.linked.clone() can_manage changed />
        <h2>"Recent history"</h2>
        {if detail.history.is_empty() {
            view! { <p>"Nothing recorded yet."</p> }.into_any()
        } else {
            view! { <AuditTable entries=detail.history.clone() caption="Recent history of this user" /> }.into_any()
        }}
        <UnlockDialog target=unlock_target done=unlocked />
    }
}

/// Disable (after a confirmation) or enable the user.
#[component]
fn StatusButton(
    id: String,
    username: String,
    status: AccountStatus,
    changed: Callback<Done>,
) -> impl IntoView {
    let session = Session::get();
    let open = RwSignal::new(false);
    let wanted = if status == AccountStatus::Disabled {
        AccountStatus::Active
    } else {
        AccountStatus::Disabled
    };
    let action = Action::new_local(move |(id, s): &(String, AccountStatus)| {
        let (id, s) = (id.clone(), *s);
        async move { checked(session, user_set_status(id, s)).await.map(|()| s) }
    });
    let value = action.value();
    let pending = action.pending();
    Effect::new(move |_| {
        if let Some(Ok(s)) = value.get() {
            open.set(false);
            changed.run(Done::Status(s));
            focus_later("user-status");
        }
    });
    let confirm = {
        let id = id.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            action.dispatch((id.clone(), wanted));
        }
    };
    let error = move || {
        value.get().and_then(Result::err).map(|e| {
            view! {
                <Notice kind=NoticeKind::Error><p>{e.to_string()}</p></Notice>
            }
        })
    };
    if wanted == AccountStatus::Active {
        let id = id.clone();
        view! {
            <button type="button" class="secondary" disabled=pending
                on:click=move |_| { action.dispatch((id.clone(), wanted)); }>
                "Enable"
            </button>
            {error}
        }
        .into_any()
    } else {
        view! {
            <button type="button" class="secondary" on:click=move |_| open.set(true)>"Disable"</button>
            <Modal open labelled_by="disable-title">
                <form on:submit=confirm class="dialog-form">
                    <h2 id="disable-title">"Disable " {username} "?"</h2>
                    <p>"They will not be able to sign in or use self-service until the account is \
                        enabled again. Their open sessions end now."</p>
                    {error}
                    <div class="dialog-buttons">
                        <SubmitButton busy=pending label="Disable" busy_label="Disabling…" />
                        <button type="button" class="secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                    </div>
                </form>
            </Modal>
        }
        .into_any()
    }
}

#[component]
fn EditUser(
    id: String,
    user: UserRow,
    editing: RwSignal<bool>,
    changed: Callback<Done>,
) -> impl IntoView {
    let session = Session::get();
    let display_name = RwSignal::new(user.display_name.clone());
    let email = RwSignal::new(user.email.clone());
    let action = Action::new_local(move |(id, form): &(String, UserForm)| {
        let (id, form) = (id.clone(), form.clone());
        async move { checked(session, user_update(id, form)).await }
    });
    let value = action.value();
    let pending = action.pending();
    Effect::new(move |_| {
        if let Some(Ok(())) = value.get() {
            editing.set(false);
            changed.run(Done::Saved);
            focus_later("user-status");
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = UserForm {
            store: String::new(),
            username: String::new(),
            display_name: display_name.get_untracked(),
            email: email.get_untracked(),
        };
        action.dispatch((id.clone(), form));
    };
    let name_error = Signal::derive(move || field_error(value.get(), "display_name"));
    let email_error = Signal::derive(move || field_error(value.get(), "email"));
    view! {
        <form id="edit-user" class="panel" on:submit=submit novalidate>
            <h2>"Edit user"</h2>
            {move || match value.get() {
                Some(Err(e)) if e.field().is_none() => Some(view! { <ErrorNotice error=e /> }),
                _ => None,
            }}
            <TextField id="display_name" label="Name" value=display_name error=name_error
                autocomplete="off" autofocus=true />
            <TextField id="email" label="Email" value=email error=email_error kind="email"
                hint="Where codes and notices about the account are sent." />
            <div class="dialog-buttons">
                <SubmitButton busy=pending label="Save changes" busy_label="Saving…" />
                <button type="button" class="secondary" on:click=move |_| editing.set(false)>"Cancel"</button>
            </div>
        </form>
    }
}

#[component]
fn Sessions(
    id: String,
    sessions: Vec<SessionView>,
    can_manage: bool,
    changed: Callback<Done>,
) -> impl IntoView {
    let session = Session::get();
    let action = Action::new_local(move |(id, s): &(String, String)| {
        let (id, s) = (id.clone(), s.clone());
        async move { checked(session, user_revoke_session(id, s)).await }
    });
    let value = action.value();
    Effect::new(move |_| {
        if let Some(Ok(())) = value.get() {
            changed.run(Done::SessionEnded);
            focus_later("user-status");
        }
    });
    let rows = sessions
        .into_iter()
        .map(|s| {
            let end = can_manage.then(|| {
                let (id, sid) = (id.clone(), s.id.clone());
                let label = format!("End the {} session started {}", s.audience, local_time(s.created_at));
                view! {
                    <button type="button" class="secondary small" aria-label=label
                        on:click=move |_| { action.dispatch((id.clone(), sid.clone())); }>
                        "End session"
                    </button>
                }
            });
            view! {
                <tr>
                    <td data-label="Where">{if s.audience == "console" { "Console" } else { "Portal" }}</td>
                    <td data-label="Started">{local_time(s.created_at)}</td>
                    <td data-label="Last used">{local_time(s.last_seen_at)}</td>
                    <td data-label="Client">{s.client.unwrap_or_else(|| "—".to_owned())}</td>
                    <td data-label="End">{end}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <h2>"Active sessions"</h2>
        {move || value.get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
        {if rows.is_empty() {
            view! { <p>"None: the user is not signed in anywhere."</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table>
                        <caption class="visually-hidden">"Active sessions"</caption>
                        <thead><tr>
                            <th scope="col">"Where"</th>
                            <th scope="col">"Started"</th>
                            <th scope="col">"Last used"</th>
                            <th scope="col">"Client"</th>
                            <th scope="col"><span class="visually-hidden">"End"</span></th>
                        </tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            }.into_any()
        }}
    }
}

/// The same person's accounts in other identity stores (seed 004); an operator who
/// manages users links another account of theirs (`STORE\username`) or unlinks one.
#[component]
fn Linked(
    id: String,
    linked: Vec<UserRow>,
    can_manage: bool,
    changed: Callback<Done>,
) -> impl IntoView {
    let session = Session::get();
    let unlink = Action::new_local(move |(id, name): &(String, String)| {
        let (id, name) = (id.clone(), name.clone());
        async move {
            checked(session, user_unlink(id)).await?;
            Ok::<_, ApiError>(name)
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(name)) = unlink.value().get() {
            changed.run(Done::Unlinked(name));
        }
    });
    let items = linked
        .into_iter()
        .map(|row| {
            let href = format!("/console/users/{}", row.id);
            let state = if row.locked { "locked" } else { "not locked" };
            let label = format!("Unlink {}", row.username);
            let (other, name) = (row.id.clone(), row.username.clone());
            view! {
                <li><a href=href>{row.username}</a>" — " {row.organisation} ", " {state}
                    {can_manage.then(|| view! {
                        " " <button type="button" class="secondary small" aria-label=label
                            on:click=move |_| { unlink.dispatch((other.clone(), name.clone())); }>
                            "Unlink"
                        </button>
                    })}
                </li>
            }
        })
        .collect::<Vec<_>>();
    let account = RwSignal::new(String::new());
    let link = Action::new_local(move |(id, other): &(String, String)| {
        let (id, other) = (id.clone(), other.clone());
        async move {
            checked(session, user_link(id, other.clone())).await?;
            Ok::<_, ApiError>(other)
        }
    });
    let link_value = link.value();
    Effect::new(move |_| {
        if let Some(Ok(name)) = link_value.get() {
            account.set(String::new());
            changed.run(Done::Linked(name));
        }
    });
    let link_error = Signal::derive(move || field_error(link_value.get(), "account"));
    let pending = link.pending();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        link.dispatch((id.clone(), account.get_untracked()));
    };
    view! {
        <h2>"Linked accounts"</h2>
        {if items.is_empty() {
            view! { <p>"None in other identity stores."</p> }.into_any()
        } else {
            view! { <ul class="linked">{items}</ul> }.into_any()
        }}
        {move || unlink.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
        {can_manage.then(|| view! {
            <form class="inline-form" on:submit=submit novalidate>
                <TextField id="link-account" label="Link an account in another identity store"
                    value=account error=link_error
                    hint="As STORE\\username, for example MAIL\\alice. It must belong to the same person." />
                <SubmitButton busy=pending label="Link" busy_label="Linking…" />
            </form>
        })}
    }
}

#[component]
pub fn CreateUserPage() -> impl IntoView {
    use_title("Create user");
    let session = Session::get();
    let organisations = LocalResource::new(move || checked(session, console_organisations()));
    let store = RwSignal::new(String::new());
    let username = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let action = Action::new_local(move |form: &UserForm| {
        let form = form.clone();
        async move { checked(session, user_create(form)).await }
    });
    let value = action.value();
    let pending = action.pending();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = value.get() {
            navigate(&format!("/users/{id}?created=1"), Default::default());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(UserForm {
            store: store.get_untracked(),
            username: username.get_untracked(),
            display_name: display_name.get_untracked(),
            email: email.get_untracked(),
        });
    };
    let error = move |field: &'static str| Signal::derive(move || field_error(value.get(), field));
    view! {
        <p class="back"><a href="/console/users">"Back to users"</a></p>
        <h1>"Create user"</h1>
        <p class="lead">"The new user has no password: they choose one with Reset my password in the \
            portal, proving who they are with a code sent to this email address."</p>
        {move || match value.get() {
            Some(Err(e)) if e.field().is_none() => Some(view! { <ErrorNotice error=e /> }),
            _ => None,
        }}
        <form on:submit=submit novalidate>
            <Suspense fallback=|| view! { <Loading label="Loading identity stores…" /> }>
                {move || Suspend::new(async move {
                    let stores: Vec<(String, String)> = match organisations.await {
                        Ok(orgs) => orgs
                            .into_iter()
                            .flat_map(|o| {
                                let name = o.name;
                                o.stores.into_iter().map(move |s| (s.clone(), format!("{s} ({name})")))
                            })
                            .collect(),
                        Err(_) => Vec::new(),
                    };
                    if store.get_untracked().is_empty() {
                        if let Some((first, _)) = stores.first() {
                            store.set(first.clone());
                        }
                    }
                    view! { <SelectField id="store" label="Identity store" value=store options=stores /> }
                })}
            </Suspense>
            {move || field_error(value.get(), "store").map(|e| view! { <p class="field-error">{e}</p> })}
            <TextField id="username" label="Username" value=username error=error("username")
                hint="No spaces; up to 128 characters, e.g. jsmith." />
            <TextField id="display_name" label="Name" value=display_name error=error("display_name") />
            <TextField id="email" label="Email" value=email error=error("email") kind="email" />
            <SubmitButton busy=pending label="Create user" busy_label="Creating…" />
        </form>
    }
}
