//! The settings page: the tenant options anchorage acts on. For now the lifetime of device
//! access tokens (`oauth.internal` / `device-token.lifespan.seconds`), checked in the browser
//! with the same rule the server applies; and the certificate revocation check and list
//! ([`revocation`]).

mod revocation;

use anchorage_common::options::{
    DEFAULT_DEVICE_TOKEN_LIFESPAN_SECONDS, DEVICE_TOKEN_LIFESPAN, MAX_DEVICE_TOKEN_LIFESPAN_SECONDS,
    MIN_DEVICE_TOKEN_LIFESPAN_SECONDS, OAUTH_INTERNAL, human_duration, parse_lifespan,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::context::Console;
use revocation::CertificateRevocation;

/// What the lifespan field was loaded from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Loaded {
    Loading,
    Failed(String),
    /// The stored value, or `None` when the tenant uses the default.
    Value(Option<String>),
}

/// The settings page.
#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <section class="page narrow">
            <header class="page-header">
                <div>
                    <h1>"Settings"</h1>
                    <p class="muted">"Options of this tenant."</p>
                </div>
            </header>
            <TokenLifespan />
            <CertificateRevocation />
        </section>
    }
}

/// The "Device access tokens" card.
#[component]
fn TokenLifespan() -> impl IntoView {
    let console = Console::get();
    let loaded = RwSignal::new(Loaded::Loading);
    let input = RwSignal::new(String::new());
    let saving = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    let load = move || {
        let Some(client) = console.client() else { return };
        loaded.set(Loaded::Loading);
        spawn_local(async move {
            match client.option(OAUTH_INTERNAL, DEVICE_TOKEN_LIFESPAN).await {
                Ok(option) => {
                    let value = option.map(|o| o.value);
                    input.set(value.clone().unwrap_or_else(|| DEFAULT_DEVICE_TOKEN_LIFESPAN_SECONDS.to_string()));
                    loaded.set(Loaded::Value(value));
                }
                Err(e) => {
                    if let Some(message) = console.explain(&e) {
                        loaded.set(Loaded::Failed(message));
                    }
                }
            }
        });
    };
    load();

    let checked = Memo::new(move |_| input.with(|v| parse_lifespan(v)));
    // "default" while the tenant has no value of its own and the field still shows it.
    let is_default = move || {
        loaded.with(|l| *l == Loaded::Value(None)) && checked.get() == Ok(DEFAULT_DEVICE_TOKEN_LIFESPAN_SECONDS)
    };
    let read_only = move || console.session.read_only();
    let read_only_title = crate::components::read_only::title(console.session);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if read_only() {
            return;
        }
        let Ok(seconds) = checked.get_untracked() else { return };
        let Some(client) = console.client() else { return };
        if saving.get_untracked() {
            return;
        }
        saving.set(true);
        error.set(None);
        spawn_local(async move {
            let answer = client.set_option(OAUTH_INTERNAL, DEVICE_TOKEN_LIFESPAN, &seconds.to_string()).await;
            saving.set(false);
            match answer {
                Ok(option) => {
                    input.set(option.value.clone());
                    loaded.set(Loaded::Value(Some(option.value)));
                    console.toast("Settings saved.");
                }
                Err(e) => error.set(console.explain(&e)),
            }
        });
    };

    let form = move || match loaded.get() {
        Loaded::Loading => view! { <p class="placeholder" role="status">"Loading settings…"</p> }.into_any(),
        Loaded::Failed(message) => view! {
            <div class="error-box" role="alert">
                <p><strong>"The settings could not be loaded."</strong></p>
                <p>{message}</p>
                <button type="button" class="button small" on:click=move |_| load()>"Try again"</button>
            </div>
        }
        .into_any(),
        Loaded::Value(_) => view! {
            <form class="settings-form" novalidate on:submit=save>
                <div class="field">
                    <label for="token-lifespan">"Token lifespan (seconds)"</label>
                    <div class="inline">
                        <input
                            id="token-lifespan"
                            class="number"
                            type="number"
                            inputmode="numeric"
                            min=MIN_DEVICE_TOKEN_LIFESPAN_SECONDS.to_string()
                            max=MAX_DEVICE_TOKEN_LIFESPAN_SECONDS.to_string()
                            step="1"
                            aria-describedby="token-lifespan-echo token-lifespan-error"
                            aria-invalid=move || checked.with(Result::is_err).to_string()
                            prop:value=move || input.get()
                            on:input=move |ev| input.set(event_target_value(&ev))
                            readonly=read_only
                            title=read_only_title
                        />
                        <span id="token-lifespan-echo" class="echo" aria-live="polite">
                            {move || checked.get().ok().map(|n| format!("= {}", human_duration(n)))}
                        </span>
                        <Show when=is_default>
                            <span class="badge">"default"</span>
                        </Show>
                    </div>
                    <p id="token-lifespan-error" class="field-error" role="alert">
                        {move || checked.get().err()}
                    </p>
                </div>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button
                    type="submit"
                    class="button primary"
                    disabled=move || checked.with(Result::is_err) || saving.get() || read_only()
                    title=read_only_title
                >
                    {move || if saving.get() { "Saving…" } else { "Save" }}
                </button>
            </form>
        }
        .into_any(),
    };

    view! {
        <section class="card settings-card" aria-labelledby="tokens-title">
            <h2 id="tokens-title">"Device access tokens"</h2>
            <p class="muted">
                "Devices get access tokens valid this long, and may fetch a new one once half of the lifetime has passed."
            </p>
            {form}
        </section>
    }
}
