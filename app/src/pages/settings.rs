//! The settings page: the tenant options anchorage acts on, named for people (messages speak
//! of "the token lifespan", never of the option's key). The lifetime of device access tokens
//! (`oauth.internal` / `device-token.lifespan.seconds`) and the expiry alarms' window
//! (`configuration` / `alarms.expiry.window.days`), each with its allowed range and presets
//! shown before anything is typed, and checked in the browser with the same rule the server
//! applies; whether trusted certificates need a proof of possession to be enabled; and the
//! certificate revocation check and list ([`revocation`]).

mod revocation;

use anchorage_common::options::{
    ALARM_WINDOW_DAYS, CONFIGURATION, DEFAULT_ALARM_WINDOW_DAYS, DEFAULT_DEVICE_TOKEN_LIFESPAN_SECONDS,
    DEVICE_TOKEN_LIFESPAN, MAX_ALARM_WINDOW_DAYS, MAX_DEVICE_TOKEN_LIFESPAN_SECONDS, MIN_DEVICE_TOKEN_LIFESPAN_SECONDS,
    OAUTH_INTERNAL, POP_REQUIRED, human_duration, parse_alarm_window_days, parse_lifespan,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::context::Console;
use crate::format;
use revocation::{CertificateRevocation, SwitchRow};

/// What a field was loaded from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Loaded {
    Loading,
    Failed(String),
    /// The stored value, or `None` when the tenant uses the default.
    Value(Option<String>),
}

/// A whole-number tenant option edited in a field: what it is, how people call it, its rule
/// (from `common`, shared with the server), its range and presets.
struct NumberSetting {
    category: &'static str,
    key: &'static str,
    /// The field's id; the range and error paragraphs' ids derive from it.
    id: &'static str,
    label: &'static str,
    /// How messages name it: "The token lifespan".
    name: &'static str,
    /// The accessible name of the presets' group.
    presets_label: &'static str,
    min: u64,
    max: u64,
    default: u64,
    /// The allowed range in words, shown under the field.
    range: fn() -> String,
    /// The value in words, echoed beside the field (`= 1 h 30 min`).
    echo: fn(u64) -> String,
    /// Buttons that fill the field in: (value, text).
    presets: &'static [(u64, &'static str)],
    parse: fn(&str) -> Result<u64, String>,
}

/// A message about an option in people's words: its key replaced by its name, as a sentence.
fn in_words(message: &str, key: &str, name: &str) -> String {
    let named = message.replace(&format!("'{key}'"), name).replace(key, name);
    format::sentence(named.trim())
}

const TOKEN_LIFESPAN: NumberSetting = NumberSetting {
    category: OAUTH_INTERNAL,
    key: DEVICE_TOKEN_LIFESPAN,
    id: "token-lifespan",
    label: "Token lifespan (seconds)",
    name: "The token lifespan",
    presets_label: "Token lifespan presets",
    min: MIN_DEVICE_TOKEN_LIFESPAN_SECONDS,
    max: MAX_DEVICE_TOKEN_LIFESPAN_SECONDS,
    default: DEFAULT_DEVICE_TOKEN_LIFESPAN_SECONDS,
    range: || {
        format!(
            "Allowed: {} to {} ({} to {} seconds). Default: {}.",
            human_duration(MIN_DEVICE_TOKEN_LIFESPAN_SECONDS),
            human_duration(MAX_DEVICE_TOKEN_LIFESPAN_SECONDS),
            format::number(MIN_DEVICE_TOKEN_LIFESPAN_SECONDS),
            format::number(MAX_DEVICE_TOKEN_LIFESPAN_SECONDS),
            human_duration(DEFAULT_DEVICE_TOKEN_LIFESPAN_SECONDS),
        )
    },
    echo: human_duration,
    presets: &[(900, "15 min"), (3600, "1 h"), (86_400, "1 day"), (604_800, "7 days")],
    parse: parse_lifespan,
};

fn days(n: u64) -> String {
    format::count_of(n, "day", "days")
}

const ALARM_WINDOW: NumberSetting = NumberSetting {
    category: CONFIGURATION,
    key: ALARM_WINDOW_DAYS,
    id: "alarm-window",
    label: "Alarm window (days)",
    name: "The alarm window",
    presets_label: "Alarm window presets",
    min: 1,
    max: MAX_ALARM_WINDOW_DAYS,
    default: DEFAULT_ALARM_WINDOW_DAYS,
    range: || {
        format!(
            "Allowed: {} to {}. Default: {}.",
            days(1),
            days(MAX_ALARM_WINDOW_DAYS),
            days(DEFAULT_ALARM_WINDOW_DAYS)
        )
    },
    echo: days,
    presets: &[(7, "7 days"), (30, "30 days"), (90, "90 days")],
    parse: parse_alarm_window_days,
};

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
            <section class="card settings-card" aria-labelledby="tokens-title">
                <h2 id="tokens-title">"Device access tokens"</h2>
                <p class="muted">
                    "Devices get access tokens valid this long, and may fetch a new one once half of the lifetime has passed."
                </p>
                <NumberField setting=&TOKEN_LIFESPAN />
            </section>
            <section class="card settings-card" aria-labelledby="alarms-title">
                <h2 id="alarms-title">"Expiry alarms"</h2>
                <p class="muted">
                    "Trusted certificates and device certificates that expire within this many days raise an alarm."
                </p>
                <NumberField setting=&ALARM_WINDOW />
            </section>
            <ProofOfPossession />
            <CertificateRevocation />
        </section>
    }
}

/// A number setting's form: the field with its range, presets, echo and rule, and Save.
#[component]
fn NumberField(setting: &'static NumberSetting) -> impl IntoView {
    let s = setting;
    let console = Console::get();
    let loaded = RwSignal::new(Loaded::Loading);
    let input = RwSignal::new(String::new());
    let saving = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    let load = move || {
        let Some(client) = console.client() else { return };
        loaded.set(Loaded::Loading);
        spawn_local(async move {
            match client.option(s.category, s.key).await {
                Ok(option) => {
                    let value = option.map(|o| o.value);
                    input.try_set(value.clone().unwrap_or_else(|| s.default.to_string()));
                    loaded.try_set(Loaded::Value(value));
                }
                Err(e) => {
                    if let Some(message) = console.explain(&e) {
                        loaded.try_set(Loaded::Failed(in_words(&message, s.key, s.name)));
                    }
                }
            }
        });
    };
    load();

    let checked = Memo::new(move |_| input.with(|v| (s.parse)(v)).map_err(|e| in_words(&e, s.key, s.name)));
    // "default" while the tenant has no value of its own and the field still shows it.
    let is_default = move || loaded.with(|l| *l == Loaded::Value(None)) && checked.get() == Ok(s.default);
    let read_only = move || console.session.read_only();
    let read_only_title = crate::components::read_only::title(console.session);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if read_only() {
            return;
        }
        let Ok(value) = checked.get_untracked() else { return };
        let Some(client) = console.client() else { return };
        if saving.get_untracked() {
            return;
        }
        saving.set(true);
        error.set(None);
        spawn_local(async move {
            let answer = client.set_option(s.category, s.key, &value.to_string()).await;
            saving.try_set(false);
            match answer {
                Ok(option) => {
                    input.try_set(option.value.clone());
                    loaded.try_set(Loaded::Value(Some(option.value)));
                    console.toast("Settings saved.");
                }
                Err(e) => {
                    error.try_set(console.explain(&e).map(|m| in_words(&m, s.key, s.name)));
                }
            }
        });
    };

    let range_id = format!("{}-range", s.id);
    let echo_id = format!("{}-echo", s.id);
    let error_id = format!("{}-error", s.id);
    let described = format!("{range_id} {echo_id} {error_id}");
    let presets = move || {
        s.presets
            .iter()
            .map(|&(value, text)| {
                let pressed = move || if checked.get() == Ok(value) { "true" } else { "false" };
                view! {
                    <button
                        type="button"
                        class="button small preset"
                        aria-pressed=pressed
                        disabled=read_only
                        title=read_only_title
                        on:click=move |_| input.set(value.to_string())
                    >
                        {text}
                    </button>
                }
            })
            .collect_view()
    };
    move || match loaded.get() {
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
                    <label for=s.id>{s.label}</label>
                    <p id=range_id.clone() class="hint range">{(s.range)()}</p>
                    <div class="presets" role="group" aria-label=s.presets_label>{presets}</div>
                    <div class="inline">
                        <input
                            id=s.id
                            class="number"
                            type="number"
                            inputmode="numeric"
                            min=s.min.to_string()
                            max=s.max.to_string()
                            step="1"
                            aria-describedby=described.clone()
                            aria-invalid=move || checked.with(Result::is_err).to_string()
                            prop:value=move || input.get()
                            on:input=move |ev| input.set(event_target_value(&ev))
                            readonly=read_only
                            title=read_only_title
                        />
                        <span id=echo_id.clone() class="echo" aria-live="polite">
                            {move || checked.get().ok().map(|n| format!("= {}", (s.echo)(n)))}
                        </span>
                        <Show when=is_default>
                            <span class="badge">"default"</span>
                        </Show>
                    </div>
                    <p id=error_id.clone() class="field-error" role="alert">
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
    }
}

/// The "Trusted certificates" card: whether a certificate needs a complete proof of
/// possession before it can be enabled.
#[component]
fn ProofOfPossession() -> impl IntoView {
    let reloads = RwSignal::new(0u32);
    let load_error = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let retry = move |_| {
        load_error.set(None);
        reloads.update(|n| *n += 1);
    };
    view! {
        <section class="card settings-card" aria-labelledby="pop-title">
            <h2 id="pop-title">"Trusted certificates"</h2>
            <div class="switches">
                <SwitchRow
                    key=POP_REQUIRED
                    label="Require proof of possession"
                    explanation="A trusted certificate cannot be enabled until its proof of possession is complete (the holder of its private key signed the verification code)."
                    saved="Settings saved."
                    reloads=reloads
                    load_error=load_error
                    error=error
                />
                {move || load_error.get().map(|message| view! {
                    <div class="error-box" role="alert">
                        <p><strong>"The setting could not be loaded."</strong></p>
                        <p>{message}</p>
                        <button type="button" class="button small" on:click=retry>"Try again"</button>
                    </div>
                })}
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            </div>
        </section>
    }
}
