//! The login page: tenant (optional), user name and password, sent once to `POST /tenant/oauth`,
//! which opens a cookie session. The password is not kept.

use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::context::Console;

/// What a login sends.
struct Attempt {
    tenant: String,
    user: String,
    password: String,
}

/// The login form.
#[component]
pub fn LoginPage() -> impl IntoView {
    let console = Console::get();
    let tenant = RwSignal::new(String::new());
    let user = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);

    // A flag and a task rather than an `Action`: the same behaviour, without the action's
    // signals and their code in the first load.
    let pending = RwSignal::new(false);
    // Throttled (429): the button stays disabled, counting down `Retry-After` ("Try again in
    // 42 s"); the alert is said once, not each second.
    let waiting = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() || waiting.with_untracked(Option::is_some) {
            return;
        }
        error.set(None);
        pending.set(true);
        let attempt =
            Attempt { tenant: tenant.get_untracked(), user: user.get_untracked(), password: password.get_untracked() };
        leptos::task::spawn_local(async move {
            match api::log_in(&attempt.tenant, &attempt.user, &attempt.password).await {
                Ok(login) => {
                    let next = console.router.after_login();
                    console.session.begin(login);
                    console.router.go_path(&next);
                }
                Err(ApiError::Throttled { retry_after, .. }) => {
                    error.try_set(Some(format!(
                        "Too many failed logins from here: the next attempt is taken in {retry_after} s."
                    )));
                    count_down(retry_after, waiting);
                }
                Err(e) => {
                    error.try_set(Some(match e {
                        ApiError::Unauthorized => "Wrong user name or password.".to_string(),
                        other => other.to_string(),
                    }));
                    password.try_set(String::new());
                }
            }
            pending.try_set(false);
        });
    };

    view! {
        <section class="login">
            <form class="card login-card" on:submit=submit>
                <div class="login-brand">
                    <img src="/favicon.svg" alt="" width="40" height="40" />
                    <div>
                        <h1>"anchorage"</h1>
                        <p class="muted">"Log in to manage device certificates."</p>
                    </div>
                </div>
                <div class="field">
                    <label for="login-tenant">"Tenant"</label>
                    <input id="login-tenant" name="tenant" type="text" autocomplete="organization" bind:value=tenant />
                    <p class="hint">"Optional: the tenant id, if this instance serves several."</p>
                </div>
                <div class="field">
                    <label for="login-user">"Username"</label>
                    <input id="login-user" name="username" type="text" autocomplete="username" required autofocus bind:value=user />
                </div>
                <div class="field">
                    <label for="login-password">"Password"</label>
                    <input id="login-password" name="password" type="password" autocomplete="current-password" required bind:value=password />
                </div>
                {move || match error.get() {
                    Some(e) => Some(view! { <p class="error" role="alert">{e}</p> }),
                    None => console.session.notice().map(|n| view! { <p class="notice" role="status">{n}</p> }),
                }}
                <button type="submit" class="button primary wide" disabled=move || pending.get() || waiting.with(Option::is_some)>
                    {move || match waiting.get() {
                        Some(wait) => wait,
                        None if pending.get() => "Logging in…".to_string(),
                        None => "Log in".to_string(),
                    }}
                </button>
            </form>
        </section>
    }
}

/// Counts the login button down from `seconds` ("Try again in 42 s"), then lets the form be
/// sent again. The password typed is kept: nothing was checked.
fn count_down(seconds: u32, waiting: RwSignal<Option<String>>) {
    if seconds == 0 {
        waiting.try_set(None);
        return;
    }
    waiting.try_set(Some(format!("Try again in {seconds} s")));
    set_timeout(move || count_down(seconds - 1, waiting), std::time::Duration::from_secs(1));
}
