//! The users page: the tenant's console users with their role, whether they may log in, and
//! when their password last changed. Admins add users, change roles, reset passwords and
//! enable or disable accounts; readers see the same controls disabled. Names and passwords are
//! checked in the browser with the rules the server applies (`anchorage_common::users`).
//!
//! Behind a proxy the platform manages its users (and its users API differs), so the page only
//! says so.

use anchorage_common::users::{
    MIN_PASSWORD_CHARS, NewUser, User, UserChanges, UserRole, check_password, check_user_name,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::Mode;
use crate::components::modal::Modal;
use crate::components::read_only;
use crate::components::switch::Switch;
use crate::context::Console;
use crate::format;

/// The users as the page holds them, and what the rows share with the page.
#[derive(Debug, Clone, Copy)]
struct Users {
    /// `None` until the first answer; then the list or the error in words.
    items: RwSignal<Option<Result<Vec<User>, String>>>,
    /// The latest failure of a row action, shown above the table.
    problem: RwSignal<Option<String>>,
    /// The user whose password is being reset.
    resetting: RwSignal<Option<String>>,
}

impl Users {
    fn reload(self, console: Console) {
        let Some(client) = console.client() else { return };
        spawn_local(async move {
            match client.list_users().await {
                Ok(list) => self.items.set(Some(Ok(list))),
                Err(e) => {
                    if let Some(message) = console.explain(&e) {
                        self.items.set(Some(Err(message)));
                    }
                }
            }
        });
    }

    /// The user named `name` (tracked).
    fn get(&self, name: &str) -> Option<User> {
        self.items.with(|items| match items {
            Some(Ok(list)) => list.iter().find(|u| u.user_name == name).cloned(),
            _ => None,
        })
    }

    /// Shows `user` as the server returned it after a change.
    fn replace(&self, user: User) {
        self.items.update(|items| {
            if let Some(Ok(list)) = items
                && let Some(slot) = list.iter_mut().find(|u| u.user_name == user.user_name)
            {
                *slot = user;
            }
        });
    }

    /// The user names in display order (tracked).
    fn names(&self) -> Vec<String> {
        self.items.with(|items| match items {
            Some(Ok(list)) => list.iter().map(|u| u.user_name.clone()).collect(),
            _ => Vec::new(),
        })
    }
}

/// Sends a change of `name`; `done` learns whether it was stored (and is not called when the
/// session has ended).
fn change(console: Console, users: Users, name: String, changes: UserChanges, done: impl FnOnce(bool) + 'static) {
    let Some(client) = console.client() else { return };
    users.problem.set(None);
    spawn_local(async move {
        match client.update_user(&name, &changes).await {
            Ok(user) => {
                let me = console.session.user_name_untracked().as_deref() == Some(user.user_name.as_str());
                if me && (changes.password.is_some() || !user.enabled) {
                    // The server ends the sessions of a user whose password changed or who was disabled.
                    console.session_ended("Your password or account changed: log in again.");
                    return;
                }
                if me {
                    console.session.set_role(user.role);
                }
                users.replace(user);
                done(true);
            }
            Err(e) => {
                if let Some(message) = console.explain(&e) {
                    users.problem.set(Some(format!("Could not change \u{201c}{name}\u{201d}: {message}")));
                    done(false);
                }
            }
        }
    });
}

/// The users page.
#[component]
pub fn UsersPage() -> impl IntoView {
    let console = Console::get();
    let users = Users { items: RwSignal::new(None), problem: RwSignal::new(None), resetting: RwSignal::new(None) };
    if !untrack(|| console.session.proxied()) {
        users.reload(console);
    }
    let adding = RwSignal::new(false);
    let read_only = move || console.session.read_only();

    let body = move || {
        if let Some(Mode::Proxy { upstream }) = console.session.mode() {
            return view! {
                <div class="empty">
                    <p class="empty-title">"Users are managed on the platform."</p>
                    <p>"This console forwards to " <code>{upstream}</code> "; add users and change their roles there."</p>
                </div>
            }
            .into_any();
        }
        users.items.with(|items| match items {
            None => view! { <p class="placeholder" role="status">"Loading users…"</p> }.into_any(),
            Some(Err(message)) => view! {
                <div class="error-box" role="alert">
                    <p><strong>"The users could not be loaded."</strong></p>
                    <p>{message.clone()}</p>
                </div>
            }
            .into_any(),
            Some(Ok(_)) => view! {
                <div class="table-wrap">
                    <table class="users">
                        <thead>
                            <tr>
                                <th scope="col">"User name"</th>
                                <th scope="col">"Role"</th>
                                <th scope="col">"Enabled"</th>
                                <th scope="col">"Last password change"</th>
                                <th scope="col"><span class="sr-only">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            <For each=move || users.names() key=|name| name.clone() let(name)>
                                <UserRow name=name users=users />
                            </For>
                        </tbody>
                    </table>
                </div>
            }
            .into_any(),
        })
    };
    let created = Callback::new(move |name: String| {
        adding.set(false);
        users.reload(console);
        console.toast(format!("User \u{201c}{name}\u{201d} created."));
    });

    view! {
        <section class="page">
            <header class="page-header">
                <div>
                    <h1>"Users"</h1>
                    <p class="muted">"Who may log in to this console: admins change everything, readers only look."</p>
                </div>
                <div class="toolbar">
                    <Show when=move || !console.session.proxied()>
                        <button
                            type="button"
                            class="button primary"
                            disabled=read_only
                            title=read_only::title(console.session)
                            on:click=move |_| {
                                if !read_only() {
                                    adding.set(true);
                                }
                            }
                        >
                            "Add user"
                        </button>
                    </Show>
                </div>
            </header>
            {move || users.problem.get().map(|p| view! {
                <div class="error-box dismissable" role="alert">
                    <p>{p}</p>
                    <button type="button" class="button small" on:click=move |_| users.problem.set(None)>"Dismiss"</button>
                </div>
            })}
            {body}
            <Modal open=adding labelled_by="add-user-title" on_dismiss=Callback::new(move |()| adding.set(false)) class="modal-small">
                <AddUserForm on_close=Callback::new(move |()| adding.set(false)) on_created=created />
            </Modal>
            <Modal
                open=Signal::derive(move || users.resetting.with(Option::is_some))
                labelled_by="reset-title"
                on_dismiss=Callback::new(move |()| users.resetting.set(None))
                class="modal-small"
            >
                <ResetPasswordForm users=users />
            </Modal>
        </section>
    }
}

/// One user in the table.
#[component]
fn UserRow(name: String, users: Users) -> impl IntoView {
    let console = Console::get();
    let key = StoredValue::new(name.clone());
    // Read from the list where needed (a handful of users), rather than a memo per row.
    let user = move || key.with_value(|n| users.get(n));
    let me = console.session.user_name_untracked().as_deref() == Some(name.as_str());
    let read_only = Signal::derive(move || console.session.read_only());
    let title = read_only::title(console.session);

    // While a change is in flight the control shows the state asked for; afterwards the stored
    // one (so a refused change goes back).
    let role_pending = RwSignal::new(None::<UserRole>);
    let role = move || role_pending.get().or_else(|| user().map(|u| u.role)).unwrap_or(UserRole::Reader);
    let set_role = move |ev: leptos::ev::Event| {
        let Ok(wanted) = UserRole::parse(&event_target_value(&ev)) else { return };
        if read_only.get_untracked() {
            return;
        }
        role_pending.set(Some(wanted));
        let name = key.get_value();
        let changes = UserChanges { role: Some(wanted), ..UserChanges::default() };
        change(console, users, name.clone(), changes, move |ok| {
            role_pending.set(None);
            if ok {
                console.toast(format!("\u{201c}{name}\u{201d} is now {}.", wanted.as_str()));
            }
        });
    };

    let enabled_pending = RwSignal::new(None::<bool>);
    let enabled = Signal::derive(move || enabled_pending.get().unwrap_or_else(|| user().is_some_and(|u| u.enabled)));
    let set_enabled = Callback::new(move |on: bool| {
        enabled_pending.set(Some(on));
        let changes = UserChanges { enabled: Some(on), ..UserChanges::default() };
        change(console, users, key.get_value(), changes, move |_| enabled_pending.set(None));
    });

    let last_change =
        move || user().and_then(|u| u.last_password_change).map_or_else(|| "—".to_string(), |t| format::timestamp(&t));
    let role_label = format!("Role of {name}");
    let reset_label = format!("Reset password of {name}");
    view! {
        <tr>
            <th scope="row">
                {name.clone()}
                {me.then(|| view! { <span class="badge">"you"</span> })}
            </th>
            <td data-label="Role">
                <select
                    aria-label=role_label
                    disabled=move || read_only.get() || role_pending.with(Option::is_some)
                    title=title
                    on:change=set_role
                >
                    <option value="admin" prop:selected=move || role() == UserRole::Admin>"admin"</option>
                    <option value="reader" prop:selected=move || role() == UserRole::Reader>"reader"</option>
                </select>
            </td>
            <td data-label="Enabled">
                <Switch
                    checked=enabled
                    label=format!("Enabled: {name}")
                    busy=Signal::derive(move || enabled_pending.with(Option::is_some))
                    read_only=read_only
                    on_change=set_enabled
                />
            </td>
            <td data-label="Last password change">{last_change}</td>
            <td class="actions">
                <button
                    type="button"
                    class="button small"
                    aria-label=reset_label
                    disabled=read_only
                    title=title
                    on:click=move |_| {
                        if !read_only.get_untracked() {
                            users.resetting.set(Some(key.get_value()));
                        }
                    }
                >
                    "Reset password"
                </button>
            </td>
        </tr>
    }
}

/// A rule's message as a sentence.
fn sentence(result: Result<(), String>) -> Option<String> {
    result.err().map(|e| format::sentence(&e))
}

/// The "Add user" form.
#[component]
fn AddUserForm(on_close: Callback<()>, on_created: Callback<String>) -> impl IntoView {
    let console = Console::get();
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let admin = RwSignal::new(false);
    // Field errors show once a submission was tried, then follow the typing.
    let tried = RwSignal::new(false);
    let name_error = move || if tried.get() { name.with(|n| sentence(check_user_name(n.trim()))) } else { None };
    let password_error = move || if tried.get() { password.with(|p| sentence(check_password(p))) } else { None };
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        tried.set(true);
        let user_name = name.get_untracked().trim().to_string();
        let password = password.get_untracked();
        if busy.get_untracked() || check_user_name(&user_name).is_err() || check_password(&password).is_err() {
            return;
        }
        let Some(client) = console.client() else { return };
        let new = NewUser {
            user_name,
            password,
            role: Some(if admin.get_untracked() { UserRole::Admin } else { UserRole::Reader }),
            enabled: None,
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let answer = client.create_user(&new).await;
            busy.set(false);
            match answer {
                Ok(user) => on_created.run(user.user_name),
                Err(e) => error.set(console.explain(&e)),
            }
        });
    };

    view! {
        <form novalidate on:submit=save>
            <h2 id="add-user-title" class="dialog-header">"Add user"</h2>
            <div class="field">
                <label for="new-user-name">"User name"</label>
                <input
                    id="new-user-name"
                    type="text"
                    autocomplete="off"
                    bind:value=name
                    aria-invalid=move || name_error().is_some().then_some("true")
                    aria-describedby="new-user-name-error"
                />
                <p class="field-error" id="new-user-name-error" role="alert">{name_error}</p>
            </div>
            <div class="field">
                <label for="new-user-password">"Password"</label>
                <input
                    id="new-user-password"
                    type="password"
                    autocomplete="new-password"
                    bind:value=password
                    aria-invalid=move || password_error().is_some().then_some("true")
                    aria-describedby="new-user-password-hint new-user-password-error"
                />
                <p class="hint" id="new-user-password-hint">{format!("At least {MIN_PASSWORD_CHARS} characters.")}</p>
                <p class="field-error" id="new-user-password-error" role="alert">{password_error}</p>
            </div>
            <div class="field">
                <label for="new-user-role">"Role"</label>
                <select
                    id="new-user-role"
                    on:change=move |ev| admin.set(event_target_value(&ev) == "admin")
                >
                    <option value="reader" selected>"reader: sees everything, changes nothing"</option>
                    <option value="admin">"admin: changes everything"</option>
                </select>
            </div>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <div class="dialog-actions">
                <button type="button" class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                <button type="submit" class="button primary" disabled=busy>
                    {move || if busy.get() { "Adding…" } else { "Add user" }}
                </button>
            </div>
        </form>
    }
}

/// The "Reset password" form of the user in `users.resetting`.
#[component]
fn ResetPasswordForm(users: Users) -> impl IntoView {
    let console = Console::get();
    let name = users.resetting.get_untracked().unwrap_or_default();
    let me = console.session.user_name_untracked().as_deref() == Some(name.as_str());
    let password = RwSignal::new(String::new());
    let tried = RwSignal::new(false);
    let password_error = move || if tried.get() { password.with(|p| sentence(check_password(p))) } else { None };
    let busy = RwSignal::new(false);
    let key = StoredValue::new(name.clone());

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        tried.set(true);
        let password = password.get_untracked();
        if busy.get_untracked() || check_password(&password).is_err() {
            return;
        }
        busy.set(true);
        let name = key.get_value();
        let changes = UserChanges { password: Some(password), ..UserChanges::default() };
        change(console, users, name.clone(), changes, move |ok| {
            busy.set(false);
            users.resetting.set(None);
            if ok {
                console.toast(format!("Password of \u{201c}{name}\u{201d} changed."));
            }
        });
    };

    view! {
        <form novalidate on:submit=save>
            <h2 id="reset-title" class="dialog-header">{format!("Reset the password of {name}")}</h2>
            <div class="field">
                <label for="reset-password">"New password"</label>
                <input
                    id="reset-password"
                    type="password"
                    autocomplete="new-password"
                    bind:value=password
                    aria-invalid=move || password_error().is_some().then_some("true")
                    aria-describedby="reset-password-hint reset-password-error"
                />
                <p class="hint" id="reset-password-hint">
                    {format!("At least {MIN_PASSWORD_CHARS} characters. The user's open sessions end.")}
                </p>
                <p class="field-error" id="reset-password-error" role="alert">{password_error}</p>
            </div>
            {me.then(|| view! { <p class="notice">"This is your own password: you will log in again with the new one."</p> })}
            <div class="dialog-actions">
                <button type="button" class="button" on:click=move |_| users.resetting.set(None)>"Cancel"</button>
                <button type="submit" class="button primary" disabled=busy>
                    {move || if busy.get() { "Saving…" } else { "Save password" }}
                </button>
            </div>
        </form>
    }
}
