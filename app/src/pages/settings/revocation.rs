//! Settings → "Certificate revocation": the switches of the revocation check (offline: the
//! tenant's own list; online: the CRLs at the device certificates' distribution points; and
//! whether an online check that cannot tell lets the device in), and the tenant's list of
//! revoked serial numbers: add one (checked as it is typed), add a CSV file (read and shown in
//! the browser, with the rules the server applies, before anything is sent), download the CSV
//! template and the signed CRL, and search the list a page at a time.
//!
//! Entries cannot be removed through the API (the platform's rule); `anchorage crl remove`
//! on the server does it. Readers see everything and change nothing.

use std::time::Duration;

use anchorage_common::crl::{
    self, CrlEntries, CrlEntryInput, MAX_CSV_BYTES, Revocation, normalize_serial, normalize_serial_query,
    parse_revocation_date,
};
use anchorage_common::options::{CRL_OFFLINE_CHECK, CRL_ONLINE_CHECK, CRL_ONLINE_FAIL_OPEN};
use anchorage_common::timefmt;
use leptos::prelude::*;
use leptos::task::spawn_local;
use time::OffsetDateTime;
use wasm_bindgen::{JsCast, JsValue};

use crate::api::RevokedPage;
use crate::browser;
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::read_only::READ_ONLY;
use crate::components::switch::Switch;
use crate::context::Console;
use crate::format::{self, sentence};

/// Revoked serials per page.
const PAGE_SIZE: u32 = 20;
/// How long typing must pause before a search is sent.
const SEARCH_DELAY: Duration = Duration::from_millis(300);
/// Rows of a CSV file shown in its preview.
const PREVIEW_ROWS: usize = 100;
/// The downloaded CRL's file name (the platform's UI saves `cumulocity.crl`).
const CRL_FILE_NAME: &str = "anchorage.crl";
/// The CSV template's file name (the platform's).
const TEMPLATE_FILE_NAME: &str = "crl-template.csv";

/// The "Certificate revocation" card.
#[component]
pub fn CertificateRevocation() -> impl IntoView {
    // Bumped when entries were added, to show the list again.
    let added = RwSignal::new(0u32);
    let on_added = Callback::new(move |()| added.update(|n| *n += 1));
    view! {
        <section class="card settings-card" id="revocation" aria-labelledby="revocation-title">
            <h2 id="revocation-title">"Certificate revocation"</h2>
            <p class="muted">
                "Devices whose certificate is revoked are refused tokens, while a check is on."
            </p>
            <Switches />
            <h3>"Revoked serial numbers"</h3>
            <p class="notice">
                "Entries cannot be removed through the API, as on the platform. On the server, "
                <code>"anchorage crl remove <serial>"</code>
                " removes one."
            </p>
            <AddSerial on_added=on_added />
            <CsvUpload on_added=on_added />
            <RevokedList added=added />
        </section>
    }
}

/// The switches of the revocation check, in the order shown: the tenant option's key (of
/// `configuration`), its label and its explanation.
const SWITCHES: [(&str, &str, &str); 3] = [
    (
        CRL_OFFLINE_CHECK,
        "Offline check",
        "Refuse device certificates whose serial number is in this tenant's list below.",
    ),
    (
        CRL_ONLINE_CHECK,
        "Online check",
        "Refuse device certificates revoked by the CRL at their CRL distribution points.",
    ),
    (
        CRL_ONLINE_FAIL_OPEN,
        "Online check fails open",
        "When the online check cannot tell (distribution point unreachable, CRL expired), let the device in; off \
         (the default), it is refused.",
    ),
];

/// The three switches ([`SWITCHES`]). Each reads its own state; a failure to read says why,
/// with a way to read them again.
#[component]
fn Switches() -> impl IntoView {
    // Bumped by "Try again": every switch reads its state again.
    let reloads = RwSignal::new(0u32);
    let load_error = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let retry = move |_| {
        load_error.set(None);
        reloads.update(|n| *n += 1);
    };
    let rows = SWITCHES
        .iter()
        .map(|&(key, label, explanation)| {
            view! {
                <SwitchRow
                    key=key
                    label=label
                    explanation=explanation
                    reloads=reloads
                    load_error=load_error
                    error=error
                />
            }
        })
        .collect_view();
    view! {
        <div class="switches">
            {rows}
            {move || load_error.get().map(|message| view! {
                <div class="error-box" role="alert">
                    <p><strong>"The revocation check's settings could not be loaded."</strong></p>
                    <p>{message}</p>
                    <button type="button" class="button small" on:click=retry>"Try again"</button>
                </div>
            })}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </div>
    }
}

/// A switch of the revocation check (or another boolean tenant option of `configuration`)
/// with its explanation: read when shown, saved when changed.
#[component]
pub(super) fn SwitchRow(
    key: &'static str,
    label: &'static str,
    explanation: &'static str,
    /// The toast once a change is saved.
    #[prop(default = "CRL check configuration saved.")]
    saved: &'static str,
    /// Changes when the states are to be read again.
    reloads: RwSignal<u32>,
    /// Where a failure to read is told.
    load_error: RwSignal<Option<String>>,
    /// Where a failed change is told.
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let console = Console::get();
    // The stored state, once read.
    let stored = RwSignal::new(None::<bool>);
    let pending = RwSignal::new(None::<bool>);
    Effect::new(move |_| {
        reloads.track();
        let Some(client) = console.client() else { return };
        spawn_local(async move {
            match client.switch(key).await {
                Ok(on) => stored.set(Some(on)),
                Err(e) => {
                    if let Some(message) = console.explain(&e) {
                        load_error.set(Some(message));
                    }
                }
            }
        });
    });
    let change = Callback::new(move |wanted: bool| {
        let Some(client) = console.client() else { return };
        pending.set(Some(wanted));
        error.set(None);
        spawn_local(async move {
            let answer = client.set_switch(key, wanted).await;
            pending.set(None);
            match answer {
                Ok(now) => {
                    stored.set(Some(now));
                    console.toast(saved);
                }
                Err(e) => {
                    if let Some(message) = console.explain(&e) {
                        let verb = if wanted { "turn on" } else { "turn off" };
                        error.set(Some(format!("Could not {verb} the {}: {message}", label.to_lowercase())));
                    }
                }
            }
        });
    });
    let known = Memo::new(move |_| stored.with(Option::is_some));
    let switch = move || {
        if known.get() {
            view! {
                <Switch
                    checked=Signal::derive(move || pending.get().or(stored.get()).unwrap_or(false))
                    label=label.to_string()
                    on_text="On"
                    off_text="Off"
                    busy=Signal::derive(move || pending.with(Option::is_some))
                    read_only=Signal::derive(move || console.session.read_only())
                    on_change=change
                />
            }
            .into_any()
        } else {
            view! { <span class="muted" role="status">"Loading…"</span> }.into_any()
        }
    };
    view! {
        <div class="field">
            <div class="inline">
                {switch}
                <strong aria-hidden="true">{label}</strong>
            </div>
            <p class="hint">{explanation}</p>
        </div>
    }
}

/// Adds one serial number, checked as it is typed, after a confirmation.
#[component]
fn AddSerial(on_added: Callback<()>) -> impl IntoView {
    let console = Console::get();
    let serial = RwSignal::new(String::new());
    let date = RwSignal::new(String::new());
    let checked_serial = Memo::new(move |_| serial.with(|s| (!s.trim().is_empty()).then(|| normalize_serial(s))));
    let checked_date = Memo::new(move |_| {
        date.with(|d| parse_revocation_date(Some(d), OffsetDateTime::now_utc()).map_err(|e| e.to_string()))
    });
    let ready = move || matches!(checked_serial.get(), Some(Ok(_))) && checked_date.with(Result::is_ok);
    let read_only = move || console.session.read_only();
    let read_only_title = crate::components::read_only::title(console.session);

    let confirming = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if ready() && !read_only() {
            error.set(None);
            confirming.set(true);
        }
    };
    let confirm = Callback::new(move |()| {
        let Some(Ok(serial_hex)) = checked_serial.get_untracked() else { return };
        let Some(client) = console.client() else { return };
        if busy.get_untracked() {
            return;
        }
        let typed_date = date.get_untracked().trim().to_string();
        let entry = CrlEntryInput {
            serial_number_in_hex: Some(serial_hex.clone()),
            revocation_date: (!typed_date.is_empty()).then_some(typed_date),
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let answer = client.add_revocations(&CrlEntries { crls: vec![entry] }).await;
            busy.set(false);
            match answer {
                Ok(()) => {
                    confirming.set(false);
                    serial.set(String::new());
                    date.set(String::new());
                    console.toast(format!("Serial number {serial_hex} revoked."));
                    on_added.run(());
                }
                Err(e) => error.set(console.explain(&e)),
            }
        });
    });
    let message = Signal::derive(move || match checked_serial.get() {
        Some(Ok(hex)) => format!(
            "You are about to add the serial number {hex} to the revocation list. Entries cannot be removed through the API."
        ),
        _ => String::new(),
    });

    view! {
        <form class="settings-form" novalidate on:submit=submit aria-label="Add a serial number">
            <h4>"Add a serial number"</h4>
            <div class="field">
                <label for="crl-serial">"Serial number (hex)"</label>
                <div class="inline">
                    <input
                        id="crl-serial"
                        type="text"
                        autocomplete="off"
                        spellcheck="false"
                        placeholder="e.g. 0A:1B:2C or 0a1b2c"
                        maxlength=crl::MAX_SERIAL_INPUT_BYTES.to_string()
                        aria-describedby="crl-serial-echo crl-serial-error"
                        aria-invalid=move || matches!(checked_serial.get(), Some(Err(_))).to_string()
                        prop:value=move || serial.get()
                        on:input=move |ev| serial.set(event_target_value(&ev))
                        readonly=read_only
                        title=read_only_title
                    />
                    <span id="crl-serial-echo" class="echo" aria-live="polite">
                        {move || match checked_serial.get() {
                            Some(Ok(hex)) => Some(format!("= {hex}")),
                            _ => None,
                        }}
                    </span>
                </div>
                <p id="crl-serial-error" class="field-error" role="alert">
                    {move || match checked_serial.get() {
                        Some(Err(e)) => Some(sentence(&e)),
                        _ => None,
                    }}
                </p>
            </div>
            <div class="field">
                <label for="crl-date">"Revocation date (optional)"</label>
                <div class="inline">
                    <input
                        id="crl-date"
                        type="text"
                        autocomplete="off"
                        spellcheck="false"
                        placeholder="e.g. 2024-01-31T12:00:00.000Z; empty: now"
                        maxlength="64"
                        aria-describedby="crl-date-echo crl-date-error"
                        aria-invalid=move || checked_date.with(Result::is_err).to_string()
                        prop:value=move || date.get()
                        on:input=move |ev| date.set(event_target_value(&ev))
                        readonly=read_only
                        title=read_only_title
                    />
                    <span id="crl-date-echo" class="echo" aria-live="polite">
                        {move || {
                            let typed = date.with(|d| !d.trim().is_empty());
                            match checked_date.get() {
                                Ok(d) if typed => Some(format!("= {}", format::date_time(d))),
                                Ok(_) => Some("= now".to_string()),
                                Err(_) => None,
                            }
                        }}
                    </span>
                </div>
                <p id="crl-date-error" class="field-error" role="alert">
                    {move || checked_date.get().err().map(|e| {
                        format!("{e}: use yyyy-MM-ddTHH:mm:ss.SSSZ (or any RFC 3339 date and time).")
                    })}
                </p>
            </div>
            <button type="submit" class="button primary" disabled=move || !ready() || read_only() title=read_only_title>
                "Add to the list"
            </button>
        </form>
        <ConfirmDialog
            open=confirming
            title="Revoke this serial number?"
            message=message
            confirm_text="Revoke"
            busy=busy
            error=error
            on_confirm=confirm
            on_cancel=Callback::new(move |()| confirming.set(false))
        />
    }
}

/// A CSV file picked and read in the browser (the file itself is kept beside, to be sent as
/// picked).
#[derive(Debug, Clone, PartialEq, Eq)]
struct PickedCsv {
    name: String,
    /// Its entries, or why it is refused (as the server would).
    entries: Result<Vec<Revocation>, String>,
}

/// Adds the entries of a CSV file: read and checked in the browser with the server's parser,
/// shown, and sent only when every row is right.
#[component]
fn CsvUpload(on_added: Callback<()>) -> impl IntoView {
    let console = Console::get();
    let picked = RwSignal::new(None::<PickedCsv>);
    let file = StoredValue::new_local(None::<web_sys::File>);
    let problem = RwSignal::new(None::<String>);
    let sending = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let read_only = move || console.session.read_only();
    let read_only_title = crate::components::read_only::title(console.session);
    let template = browser::text_data_url("text/csv", &crl::csv_template(OffsetDateTime::now_utc()));

    let choose = move |chosen: web_sys::File| {
        picked.set(None);
        file.set_value(None);
        problem.set(None);
        error.set(None);
        let name = chosen.name();
        // The size is checked before reading: a huge file is not read at all.
        if chosen.size() > MAX_CSV_BYTES as f64 {
            problem.set(Some(format!(
                "The file \"{name}\" is larger than {} MiB; nothing was sent.",
                MAX_CSV_BYTES / (1024 * 1024)
            )));
            return;
        }
        spawn_local(async move {
            match browser::read_file(&chosen).await {
                Ok(bytes) => {
                    // Serials and dates are ASCII: bytes that are not UTF-8 can only make a row
                    // wrong, which the parser then names (the server reads them the same way).
                    let text = String::from_utf8_lossy(&bytes);
                    let entries =
                        crl::parse_csv(&text, OffsetDateTime::now_utc()).map_err(|e| sentence(&e.to_string()));
                    file.try_set_value(Some(chosen));
                    picked.set(Some(PickedCsv { name, entries }));
                }
                Err(message) => problem.set(Some(message)),
            }
        });
    };
    let on_pick = move |ev: leptos::ev::Event| {
        if let Some(input) = browser::input_of(&ev) {
            if let Some(file) = browser::files_of(input.files()).into_iter().next() {
                choose(file);
            }
            // Lets the same file be picked again after an edit.
            input.set_value("");
        }
    };
    let send = move |_| {
        if read_only() || sending.get_untracked() {
            return;
        }
        let Some(csv) = picked.get_untracked() else { return };
        let Some(chosen) = file.with_value(Clone::clone) else { return };
        if csv.entries.is_err() {
            return;
        }
        let Some(client) = console.client() else { return };
        sending.set(true);
        error.set(None);
        spawn_local(async move {
            let answer = client.upload_revocations(&chosen, &csv.name).await;
            sending.set(false);
            match answer {
                Ok(()) => {
                    picked.set(None);
                    file.try_set_value(None);
                    console.toast("CRL saved.");
                    on_added.run(());
                }
                Err(e) => error.set(console.explain(&e)),
            }
        });
    };

    let preview = move || {
        picked.get().map(|csv| match csv.entries {
            Err(message) => view! {
                <div class="error-box" role="alert">
                    <p><strong>{format!("\u{201c}{}\u{201d} cannot be used; nothing was sent.", csv.name)}</strong></p>
                    <p>{message}</p>
                </div>
            }
            .into_any(),
            Ok(entries) => {
                let n = entries.len();
                let more = n.saturating_sub(PREVIEW_ROWS);
                let rows = entries
                    .into_iter()
                    .take(PREVIEW_ROWS)
                    .enumerate()
                    .map(|(i, e)| {
                        view! {
                            <tr>
                                <td class="line">{i + 1}</td>
                                <td><code>{e.serial_hex}</code></td>
                                <td>{timefmt::platform(e.revocation_date)}</td>
                            </tr>
                        }
                    })
                    .collect_view();
                view! {
                    <div class="bulk-preview" aria-label="File preview" role="region">
                        <p>
                            <strong>{csv.name}</strong>
                            {format!(": {}, all valid.", format::count(n, "entry", "entries"))}
                        </p>
                        <div class="vscroll">
                            <table class="preview">
                                <thead>
                                    <tr>
                                        <th scope="col">"Row"</th>
                                        <th scope="col">"Serial number (hex)"</th>
                                        <th scope="col">"Revocation date"</th>
                                    </tr>
                                </thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </div>
                        {(more > 0).then(|| view! { <p class="muted">{format!("… and {} more.", format::count(more, "entry", "entries"))}</p> })}
                        <div class="submit-bar">
                            <button
                                type="button"
                                class="button primary"
                                disabled=move || sending.get() || read_only()
                                title=read_only_title
                                on:click=send
                            >
                                {move || if sending.get() {
                                    "Sending…".to_string()
                                } else {
                                    format!("Add {} to the list", format::count(n, "entry", "entries"))
                                }}
                            </button>
                            <button
                                type="button"
                                class="button"
                                on:click=move |_| {
                                    picked.set(None);
                                    file.set_value(None);
                                }
                            >
                                "Cancel"
                            </button>
                        </div>
                    </div>
                }
                .into_any()
            }
        })
    };

    view! {
        <div class="settings-form" role="group" aria-labelledby="crl-file-title">
            <h4 id="crl-file-title">"Add a file"</h4>
            <p class="hint">
                "A CSV file: a header line, then one serial number (hex) and an optional revocation date a line, "
                {format!("at most {} entries. It is checked here before anything is sent.", format::number(crl::MAX_CSV_ROWS as u64))}
            </p>
            <div class="templates">
                <label for="crl-file" class="sr-only">"CRL file (CSV)"</label>
                <input
                    id="crl-file"
                    type="file"
                    accept=".csv,.txt,text/csv"
                    on:change=on_pick
                    disabled=read_only
                    title=move || read_only().then_some(READ_ONLY)
                />
                <a class="button small" href=template download=TEMPLATE_FILE_NAME>"Download template"</a>
            </div>
            {move || problem.get().map(|p| view! { <p class="error" role="alert">{p}</p> })}
            {preview}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </div>
    }
}

/// The list of revoked serial numbers: searched, a page at a time; and the CRL's download.
#[component]
fn RevokedList(
    /// Changes when entries were added.
    added: RwSignal<u32>,
) -> impl IntoView {
    let console = Console::get();
    let search = RwSignal::new(String::new());
    // The search sent: follows `search` once typing pauses (and when it is valid).
    let query = RwSignal::new(String::new());
    let search_error = RwSignal::new(None::<String>);
    let page = RwSignal::new(1u32);
    let answer = RwSignal::new(None::<Result<RevokedPage, String>>);
    let loading = RwSignal::new(false);
    let generation = StoredValue::new(0u64);

    let typed = StoredValue::new(0u64);
    let on_search = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        let checked = normalize_serial_query(&text);
        search.set(text);
        search_error.set(checked.as_ref().err().map(|e| sentence(e)));
        let Ok(normal) = checked else { return };
        let n = typed.get_value() + 1;
        typed.set_value(n);
        set_timeout(
            move || {
                if typed.try_get_value() == Some(n) {
                    query.set(normal);
                    page.set(1);
                }
            },
            SEARCH_DELAY,
        );
    };

    Effect::new(move |_| {
        added.track();
        let query = query.get();
        let page = page.get();
        let Some(client) = console.client() else { return };
        console.load_latest(generation, loading, answer, async move {
            client.revoked_serials(&query, page, PAGE_SIZE).await
        });
    });

    let body = move || match answer.get() {
        None => view! { <p class="placeholder" role="status">"Loading the revocation list…"</p> }.into_any(),
        Some(Err(message)) => view! {
            <div class="error-box" role="alert">
                <p><strong>"The revocation list could not be loaded."</strong></p>
                <p>{message}</p>
            </div>
        }
        .into_any(),
        Some(Ok(p)) if p.serials.is_empty() => {
            let searched = query.get_untracked();
            if searched.is_empty() {
                view! { <p class="muted">"No serial number is revoked."</p> }.into_any()
            } else {
                view! { <p class="muted">"No revoked serial number contains \u{201c}" {searched} "\u{201d}."</p> }
                    .into_any()
            }
        }
        Some(Ok(p)) => {
            let summary = p.total.map(|n| format::count_of(n, "revoked serial number", "revoked serial numbers"));
            let rows = p
                .serials
                .into_iter()
                .map(|s| {
                    view! {
                        <tr>
                            <th scope="row" data-label="Serial number (hex)"><code>{s.serial_number_in_hex}</code></th>
                            <td class="time" data-label="Revocation date">{format::timestamp(&s.revocation_date)}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                {summary.map(|s| view! { <p class="muted summary">{s}</p> })}
                <div class="table-wrap">
                    <table class="audit revoked-serials">
                        <thead>
                            <tr>
                                <th scope="col">"Serial number (hex)"</th>
                                <th scope="col">"Revocation date"</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            }
            .into_any()
        }
    };
    let pages = move || answer.with(|a| a.as_ref().and_then(|a| a.as_ref().ok()).map(|p| (p.page, p.has_next)));
    let pager = move || {
        pages().filter(|(current, has_next)| *current > 1 || *has_next).map(|(current, has_next)| {
            view! {
                <nav class="pager" aria-label="Pages of the revocation list">
                    <button type="button" class="button small" disabled=move || current <= 1 || loading.get() on:click=move |_| page.set(current.saturating_sub(1).max(1))>
                        "Previous"
                    </button>
                    <span class="muted">{format!("Page {current}")}</span>
                    <button type="button" class="button small" disabled=move || !has_next || loading.get() on:click=move |_| page.set(current + 1)>
                        "Next"
                    </button>
                </nav>
            }
        })
    };

    view! {
        <div class="revoked" aria-busy=move || loading.get().then_some("true")>
            <div class="preview-head">
                <h4>"The list"</h4>
                <div class="toolbar">
                    <label class="sr-only" for="crl-search">"Search serial numbers"</label>
                    <input
                        id="crl-search"
                        type="search"
                        class="search"
                        placeholder="Search serial numbers"
                        autocomplete="off"
                        aria-describedby="crl-search-error"
                        aria-invalid=move || search_error.with(Option::is_some).to_string()
                        prop:value=move || search.get()
                        on:input=on_search
                    />
                    <DownloadCrl />
                </div>
            </div>
            <p id="crl-search-error" class="field-error" role="alert">{move || search_error.get()}</p>
            {body}
            {pager}
        </div>
    }
}

/// "Download CRL": fetches the signed DER CRL and saves it as [`CRL_FILE_NAME`].
#[component]
fn DownloadCrl() -> impl IntoView {
    let console = Console::get();
    let busy = RwSignal::new(false);
    let anchor = NodeRef::<leptos::html::A>::new();
    let download = move |_| {
        let Some(client) = console.client() else { return };
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let answer = client.download_crl().await;
            busy.set(false);
            match answer {
                Ok(der) => {
                    let saved = anchor.get_untracked().is_some_and(|a| {
                        let url = format!("data:application/pkix-crl;base64,{}", base64(&der));
                        let clicked = a.set_attribute("href", &url).is_ok() && click(&a);
                        let _ = a.remove_attribute("href");
                        clicked
                    });
                    if !saved {
                        console.toast("The browser could not save the CRL.");
                    }
                }
                Err(e) => {
                    if let Some(message) = console.explain(&e) {
                        console.toast(format!("The CRL could not be downloaded: {message}"));
                    }
                }
            }
        });
    };
    view! {
        <button
            type="button"
            class="button small"
            title="The signed CRL of every entry (DER); read it with: openssl crl -inform DER -text -noout -in anchorage.crl"
            disabled=move || busy.get()
            on:click=download
        >
            {move || if busy.get() { "Downloading…" } else { "Download CRL" }}
        </button>
        <a node_ref=anchor hidden download=CRL_FILE_NAME aria-hidden="true" tabindex="-1"></a>
    }
}

/// Clicks an element (a link, to save its file). `HTMLElement.click()` is called through
/// `Reflect` rather than a binding of its own: each binding adds an import to the wasm module
/// and to its JS glue, which are part of the first load; these are there already.
fn click(element: &web_sys::Element) -> bool {
    let target: &JsValue = element.as_ref();
    match js_sys::Reflect::get(target, &"click".into()) {
        Ok(method) if method.is_function() => method.unchecked_into::<js_sys::Function>().call0(target).is_ok(),
        _ => false,
    }
}

/// Standard base64 with padding (RFC 4648 §4), for a `data:` URL.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    // `n & 63` is below 64: never out of bounds.
    let digit = |n: u32| char::from(ALPHABET[(n & 63) as usize]);
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = |i: usize| chunk.get(i).copied().map_or(0, u32::from);
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(digit(n >> 18));
        out.push(digit(n >> 12));
        out.push(if chunk.len() > 1 { digit(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { digit(n) } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_pads_as_rfc_4648_says() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
    }
}
