//! The users page: the tenant's console users with their role, whether they may log in, and
//! when their password last changed. Admins add users, change roles, reset passwords and
//! enable or disable accounts; readers see the same controls disabled (the console's banner
//! says why). Nobody changes their own role or disables themselves: those controls are
//! disabled with the reason beside them, and demoting or disabling another admin asks first,
//! naming them and what it does. "Your account" lets every user, readers too, change their own
//! password with the current one. Names and passwords are checked in the browser with the rules
//! the server applies (`anchorage_common::users`).
//!
//! Behind a proxy the platform manages its users (and its users API differs), so the page only
//! says so.

use anchorage_common::users::{
    MIN_PASSWORD_CHARS, NewUser, OWN_ACCOUNT_RULE, PasswordChange, User, UserChanges, UserRole, check_password,
    check_password_change, check_user_name,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::Mode;
use crate::components::modal::Modal;
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
    /// A change to another admin waiting for confirmation.
    confirming: RwSignal<Option<Confirmation>>,
}

/// Demoting or disabling another admin, asked first: what the dialog says and what to send.
#[derive(Debug, Clone)]
struct Confirmation {
    heading: String,
    message: String,
    confirm: String,
    name: String,
    changes: UserChanges,
    /// Told whether the change was made (`false` when cancelled), so the row shows its state.
    done: Callback<bool>,
    /// What the toast says once it is done.
    toast: String,
}

/// What demoting or disabling the admin `name` does, for the confirmation.
fn confirmation(name: &str, changes: &UserChanges) -> (String, String, String) {
    if changes.enabled == Some(false) {
        (
            format!("Disable {name}?"),
            format!(
                "{name} can no longer log in, and their open sessions end now. Another admin can enable them again."
            ),
            format!("Disable {name}"),
        )
    } else {
        (
            format!("Make {name} a reader?"),
            format!(
                "{name} loses write access: they can still see everything but can no longer change anything, \
                 including users. Another admin can make them an admin again."
            ),
            format!("Make {name} a reader"),
        )
    }
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
    let users = Users {
        items: RwSignal::new(None),
        problem: RwSignal::new(None),
        resetting: RwSignal::new(None),
        confirming: RwSignal::new(None),
    };
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
    let confirm_busy = RwSignal::new(false);
    let confirm = Callback::new(move |()| {
        let Some(c) = users.confirming.get_untracked() else { return };
        if confirm_busy.get_untracked() {
            return;
        }
        confirm_busy.set(true);
        let Confirmation { name, changes, done, toast, .. } = c;
        change(console, users, name, changes, move |ok| {
            confirm_busy.set(false);
            users.confirming.set(None);
            done.run(ok);
            if ok {
                console.toast(toast);
            }
        });
    });
    let cancel = Callback::new(move |()| {
        if let Some(c) = users.confirming.get_untracked() {
            users.confirming.set(None);
            c.done.run(false);
        }
    });
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
            <Modal
                open=Signal::derive(move || users.confirming.with(Option::is_some))
                labelled_by="confirm-admin-title"
                on_dismiss=cancel
                class="modal-small"
            >
                <h2 id="confirm-admin-title">
                    {move || users.confirming.with(|c| c.as_ref().map(|c| c.heading.clone()))}
                </h2>
                <p>{move || users.confirming.with(|c| c.as_ref().map(|c| c.message.clone()))}</p>
                <div class="dialog-actions">
                    <button type="button" class="button" autofocus on:click=move |_| cancel.run(())>"Cancel"</button>
                    <button type="button" class="button danger" disabled=confirm_busy on:click=move |_| confirm.run(())>
                        {move || {
                            if confirm_busy.get() {
                                "Working…".to_string()
                            } else {
                                users.confirming.with(|c| c.as_ref().map(|c| c.confirm.clone()).unwrap_or_default())
                            }
                        }}
                    </button>
                </div>
            </Modal>
            <Show when=move || !console.session.proxied()>
                <YourAccount />
            </Show>
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
    // Readers change nothing; nobody changes their own role or enabled state.
    let locked = Signal::derive(move || me || read_only.get());

    // While a change is in flight (or waits for confirmation) the control shows the state asked
    // for; afterwards the stored one (so a refused or cancelled change goes back).
    let role_pending = RwSignal::new(None::<UserRole>);
    let role = move || role_pending.get().or_else(|| user().map(|u| u.role)).unwrap_or(UserRole::Reader);
    let enabled_pending = RwSignal::new(None::<bool>);
    let enabled = Signal::derive(move || enabled_pending.get().unwrap_or_else(|| user().is_some_and(|u| u.enabled)));
    // An enabled admin: demoting or disabling them is asked first.
    let enabled_admin = move || user().is_some_and(|u| u.role == UserRole::Admin && u.enabled);

    let set_role = move |ev: leptos::ev::Event| {
        let Ok(wanted) = UserRole::parse(&event_target_value(&ev)) else { return };
        if locked.get_untracked() {
            return;
        }
        role_pending.set(Some(wanted));
        let name = key.get_value();
        let changes = UserChanges { role: Some(wanted), ..UserChanges::default() };
        let toast = format!("\u{201c}{name}\u{201d} is now {}.", wanted.as_str());
        if wanted == UserRole::Reader && untrack(enabled_admin) {
            let (heading, message, confirm) = confirmation(&name, &changes);
            let done = Callback::new(move |_| role_pending.set(None));
            users.confirming.set(Some(Confirmation { heading, message, confirm, name, changes, done, toast }));
            return;
        }
        change(console, users, name, changes, move |ok| {
            role_pending.set(None);
            if ok {
                console.toast(toast);
            }
        });
    };

    let set_enabled = Callback::new(move |on: bool| {
        if locked.get_untracked() {
            return;
        }
        enabled_pending.set(Some(on));
        let name = key.get_value();
        let changes = UserChanges { enabled: Some(on), ..UserChanges::default() };
        if !on && untrack(enabled_admin) {
            let (heading, message, confirm) = confirmation(&name, &changes);
            let done = Callback::new(move |_| enabled_pending.set(None));
            let toast = format!("\u{201c}{name}\u{201d} is disabled.");
            users.confirming.set(Some(Confirmation { heading, message, confirm, name, changes, done, toast }));
            return;
        }
        change(console, users, name, changes, move |_| enabled_pending.set(None));
    });

    let last_change =
        move || user().and_then(|u| u.last_password_change).map_or_else(|| "—".to_string(), |t| format::timestamp(&t));
    let role_label = format!("Role of {name}");
    let reset_label = format!("Reset password of {name}");
    let enabled_label = format!("Enabled: {name}");
    // The reason the own row's controls are disabled, which they point to.
    let described_by = me.then_some("own-account-rule");
    let enabled_control = if me || untrack(move || read_only.get()) {
        // Shown as the switch looks, disabled, without the switch's reader tooltip: the
        // reason is on the page (the banner for readers, beside the own row's controls).
        view! {
            <label class="switch">
                <input
                    type="checkbox"
                    role="switch"
                    prop:checked=enabled
                    disabled=true
                    aria-label=enabled_label
                    aria-describedby=described_by
                />
                <span class="switch-track" aria-hidden="true"></span>
                <span class="switch-text" aria-hidden="true">{move || if enabled.get() { "Enabled" } else { "Disabled" }}</span>
            </label>
        }
        .into_any()
    } else {
        view! {
            <Switch
                checked=enabled
                label=enabled_label
                busy=Signal::derive(move || enabled_pending.with(Option::is_some))
                read_only=read_only
                on_change=set_enabled
            />
        }
        .into_any()
    };
    let reset = if me {
        // Your own password is changed in "Your account", with the current one.
        view! {
            <button type="button" class="button small" on:click=move |_| focus_own_password()>
                "Change your password"
            </button>
        }
        .into_any()
    } else {
        view! {
            <button
                type="button"
                class="button small"
                aria-label=reset_label
                disabled=read_only
                on:click=move |_| {
                    if !read_only.get_untracked() {
                        users.resetting.set(Some(key.get_value()));
                    }
                }
            >
                "Reset password"
            </button>
        }
        .into_any()
    };
    view! {
        <tr class:own=me>
            <th scope="row">
                {name.clone()}
                {me.then(|| view! {
                    <span class="badge">"you"</span>
                    <p class="hint own-rule" id="own-account-rule">{OWN_ACCOUNT_RULE}</p>
                })}
            </th>
            <td data-label="Role">
                <select
                    aria-label=role_label
                    aria-describedby=described_by
                    disabled=move || locked.get() || role_pending.with(Option::is_some)
                    on:change=set_role
                >
                    <option value="admin" prop:selected=move || role() == UserRole::Admin>"admin"</option>
                    <option value="reader" prop:selected=move || role() == UserRole::Reader>"reader"</option>
                </select>
            </td>
            <td data-label="Enabled">{enabled_control}</td>
            <td data-label="Last password change">{last_change}</td>
            <td class="actions">{reset}</td>
        </tr>
    }
}

/// Moves focus to the current-password field of "Your account".
fn focus_own_password() {
    use wasm_bindgen::JsCast as _;
    if let Some(el) = document().get_element_by_id("own-current-password")
        && let Ok(input) = el.dyn_into::<web_sys::HtmlElement>()
    {
        let _ = input.focus();
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

/// "Your account": who is logged in, and a form to change one's own password with the current
/// one. Shown to every user, readers too.
#[component]
fn YourAccount() -> impl IntoView {
    let console = Console::get();
    let name = move || console.session.user().map(|u| u.user_name).unwrap_or_default();
    let role = move || console.session.role().map_or("", UserRole::as_str);
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let tried = RwSignal::new(false);
    let busy = RwSignal::new(false);
    // The server's refusal (a wrong current password, say), shown until the next try.
    let error = RwSignal::new(None::<String>);

    let change = move || PasswordChange { current_user_password: current.get(), new_password: new.get() };
    let rule_error = move || {
        if !tried.get() {
            return None;
        }
        check_password_change(&change()).err().map(|e| format::sentence(&e))
    };
    let again_error = move || {
        (tried.get() && again.with(|a| new.with(|n| a != n))).then_some("The two new passwords differ.".to_string())
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        tried.set(true);
        error.set(None);
        let body = untrack(change);
        if busy.get_untracked() || check_password_change(&body).is_err() || untrack(again_error).is_some() {
            return;
        }
        let Some(client) = console.client() else { return };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let answer = client.change_own_password(&body).await;
            busy.set(false);
            match answer {
                Ok(()) => {
                    tried.set(false);
                    current.set(String::new());
                    new.set(String::new());
                    again.set(String::new());
                    console.toast("Your password was changed. Your other sessions have ended.");
                }
                Err(e) => error.set(console.explain(&e)),
            }
        });
    };

    view! {
        <section class="your-account" aria-labelledby="your-account-title">
            <h2 id="your-account-title">"Your account"</h2>
            <p class="muted">
                "You are " <strong>{name}</strong> " (" {role} "). "
                "Changing your password ends your other sessions; this one stays."
            </p>
            <form novalidate on:submit=save aria-label="Change your password">
                <div class="field">
                    <label for="own-current-password">"Current password"</label>
                    <input
                        id="own-current-password"
                        type="password"
                        autocomplete="current-password"
                        bind:value=current
                    />
                </div>
                <div class="field">
                    <label for="own-new-password">"New password"</label>
                    <input
                        id="own-new-password"
                        type="password"
                        autocomplete="new-password"
                        bind:value=new
                        aria-invalid=move || rule_error().is_some().then_some("true")
                        aria-describedby="own-new-password-hint own-password-error"
                    />
                    <p class="hint" id="own-new-password-hint">{format!("At least {MIN_PASSWORD_CHARS} characters.")}</p>
                </div>
                <div class="field">
                    <label for="own-new-password-again">"New password again"</label>
                    <input
                        id="own-new-password-again"
                        type="password"
                        autocomplete="new-password"
                        bind:value=again
                        aria-invalid=move || again_error().is_some().then_some("true")
                        aria-describedby="own-password-error"
                    />
                </div>
                <p class="field-error" id="own-password-error" role="alert">
                    {move || error.get().or_else(rule_error).or_else(again_error)}
                </p>
                <button type="submit" class="button primary" disabled=busy>
                    {move || if busy.get() { "Changing…" } else { "Change password" }}
                </button>
            </form>
        </section>
    }
}
