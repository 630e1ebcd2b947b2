//! The bulk registration page: a CSV file (picked, or dropped anywhere on the page) is parsed
//! and checked at once with `anchorage_common::bulk`, off the page's thread
//! ([`crate::bulk_worker`]); the server says which of its ids are registered already; the
//! preview lists every row with its problems; "Register N devices" uploads the file (or, when
//! the admin allows it, a CSV of the valid rows only) with a progress bar, then shows the
//! server's answer, worded for what really happened. Templates of the platform's formats are
//! offered for download.

mod preview;
mod result;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use anchorage_common::api::BulkNewDeviceRequestResult;
use anchorage_common::bulk::{self, FileError, Issue, Severity};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser;
use crate::bulk_worker::{FLAG_ERROR, Overview, Parser, Reply, Request, RowId, now_ms};
use crate::context::Console;
use crate::format;
use preview::{Preview, RowCache};
use result::RegistrationResult;

/// A parsed file, as the page keeps it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ready {
    file: u32,
    name: String,
    overview: Overview,
    /// Indices of the rows with errors, in file order.
    error_rows: Vec<u32>,
    /// Milliseconds from choosing the file until its parse arrived (for the benchmark, shown
    /// as a `data-` attribute).
    parsed_ms: u32,
}

/// The valid rows whose ids are registered devices already (a registration updates them).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Existing {
    /// Row index → whether the row is a certificate device.
    rows: HashMap<u32, bool>,
    /// Device id → whether its row is a certificate device.
    ids: HashMap<String, bool>,
}

impl Existing {
    /// How many of them are certificate devices.
    fn certificates(&self) -> usize {
        self.rows.values().filter(|c| **c).count()
    }
}

/// What the server said about the file's ids.
#[derive(Debug, Clone, PartialEq)]
enum Registered {
    /// Not asked: no file, no valid row, or a reader (who cannot register).
    Unknown,
    Checking,
    Known(Arc<Existing>),
    Failed(String),
}

/// Where the chosen file is.
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Empty,
    Reading(String),
    Unreadable { name: String, message: String },
    Ready(Arc<Ready>),
}

/// Where the registration is.
#[derive(Debug, Clone, PartialEq)]
enum Upload {
    Idle,
    /// The CSV of the valid rows is being made.
    Preparing,
    Sending {
        loaded: u64,
        total: u64,
    },
    /// Sent; the server is registering.
    Registering,
    Done {
        result: Arc<BulkNewDeviceRequestResult>,
        valid_only: bool,
    },
    Failed(String),
}

impl Upload {
    fn busy(&self) -> bool {
        matches!(self, Upload::Preparing | Upload::Sending { .. } | Upload::Registering)
    }
}

const TEMPLATES: [(&str, &str, &str); 4] = [
    ("Simple", "bulk-registration-simple.csv", bulk::templates::SIMPLE),
    ("Full", "bulk-registration-full.csv", bulk::templates::FULL),
    ("Certificates", "bulk-registration-certificates.csv", bulk::templates::CERTIFICATES),
    // The devices enroll over EST for a certificate of the tenant's CA (`ENROLLMENT_OTP`).
    (
        "Certificate devices with enrollment one-time password",
        "bulk-registration-enrollment.csv",
        bulk::templates::ENROLLMENT,
    ),
];

/// The bulk registration page.
#[component]
pub fn BulkRegistrationPage() -> impl IntoView {
    let console = Console::get();
    let phase = RwSignal::new(Phase::Empty);
    let cache = RowCache::new();
    let current = StoredValue::new(0u32);
    let chosen = StoredValue::new_local(None::<web_sys::File>);
    let started = StoredValue::new(0.0f64);
    let ready_ms = RwSignal::new(None::<u32>);
    let errors_only = RwSignal::new(false);
    let valid_only = RwSignal::new(false);
    let upload = RwSignal::new(Upload::Idle);
    let dragging = RwSignal::new(false);
    let registered = RwSignal::new(Registered::Unknown);
    let file_input = NodeRef::<leptos::html::Input>::new();
    // Set right after the replies' handler is made (which sends through it).
    let parser = StoredValue::new_local(None::<Parser>);
    let send = move |request: &Request, payload: Option<&wasm_bindgen::JsValue>| {
        parser.with_value(|p| {
            if let Some(p) = p {
                p.send(request, payload);
            }
        });
    };

    let send_file = move |blob: web_sys::Blob, name: String, only_valid: bool| {
        let Some(client) = console.client() else { return };
        upload.set(Upload::Sending { loaded: 0, total: blob.size() as u64 });
        spawn_local(async move {
            let progress = move |loaded: u64, total: u64| {
                upload.set(if loaded >= total { Upload::Registering } else { Upload::Sending { loaded, total } });
            };
            match client.register_devices(&blob, &name, progress).await {
                Ok(result) => upload.set(Upload::Done { result: Arc::new(result), valid_only: only_valid }),
                Err(e) => {
                    if let Some(message) = console.explain(&e) {
                        upload.set(Upload::Failed(message));
                    }
                }
            }
        });
    };

    // Once the first rows are in the page: the time from choosing the file to a complete
    // preview (after rendering, before the next paint).
    let measure = move |file: u32| {
        if ready_ms.get_untracked().is_none() {
            // The frame may come after the page was left: only `try_` reads then.
            request_animation_frame(move || {
                if current.try_get_value() == Some(file) && ready_ms.try_get_untracked() == Some(None) {
                    let started = started.try_get_value().unwrap_or_default();
                    ready_ms.set(Some((now_ms() - started) as u32));
                }
            });
        }
    };
    let on_reply = move |reply: Reply, payload: Option<js_sys::ArrayBuffer>| match reply {
        Reply::Parsed { file, overview, first_rows } if file == current.get_value() => {
            let flags = payload.map(|b| js_sys::Uint8Array::new(&b).to_vec()).unwrap_or_default();
            let error_rows = (0u32..).zip(&flags).filter(|(_, f)| *f & FLAG_ERROR != 0).map(|(i, _)| i).collect();
            let name = chosen.with_value(|f| f.as_ref().map(web_sys::File::name)).unwrap_or_default();
            cache.reset(overview.summary.rows);
            cache.insert(first_rows);
            if overview.summary.invalid == 0 {
                errors_only.set(false);
            }
            let parsed_ms = (now_ms() - started.get_value()) as u32;
            // Which ids are registered already: only an admin can register (and ask).
            let ask = overview.summary.valid > 0 && !console.session.read_only();
            phase.set(Phase::Ready(Arc::new(Ready { file, name, overview, error_rows, parsed_ms })));
            measure(file);
            if ask {
                registered.set(Registered::Checking);
                send(&Request::Ids { file }, None);
            }
        }
        Reply::Ids { file, ids } if file == current.get_value() => {
            let Some(client) = console.client() else { return };
            spawn_local(async move {
                let list: Vec<String> = ids.iter().map(|r| r.1.clone()).collect();
                let answer = client.existing_devices(&list).await;
                if current.try_get_value() != Some(file) {
                    return;
                }
                match answer {
                    Ok(found) => {
                        let found: HashSet<String> = found.into_iter().collect();
                        let mut existing = Existing::default();
                        for RowId(index, id, certificate) in ids {
                            if found.contains(&id) {
                                existing.rows.insert(index, certificate);
                                existing.ids.insert(id, certificate);
                            }
                        }
                        registered.set(Registered::Known(Arc::new(existing)));
                    }
                    Err(e) => {
                        if let Some(message) = console.explain(&e) {
                            registered.set(Registered::Failed(message));
                        }
                    }
                }
            });
        }
        Reply::Unreadable { file, message } if file == current.get_value() => {
            let name = chosen.with_value(|f| f.as_ref().map(web_sys::File::name)).unwrap_or_default();
            phase.set(Phase::Unreadable { name, message });
        }
        Reply::Rows { file, rows } if file == current.get_value() => {
            cache.insert(rows);
        }
        Reply::Csv { file } if file == current.get_value() => {
            let Some(buffer) = payload else { return };
            let parts = js_sys::Array::of1(&buffer);
            let options = web_sys::BlobPropertyBag::new();
            options.set_type("text/csv");
            let name = chosen.with_value(|f| f.as_ref().map(web_sys::File::name)).unwrap_or_default();
            let name = format!("{}-valid-rows.csv", name.trim_end_matches(".csv").trim_end_matches(".CSV"));
            match web_sys::Blob::new_with_buffer_source_sequence_and_options(&parts, &options) {
                Ok(blob) => send_file(blob, name, true),
                Err(_) => upload.set(Upload::Failed("The CSV of the valid rows could not be made.".into())),
            }
        }
        _ => {}
    };
    let on_broken = move || {
        if matches!(phase.try_get_untracked(), Some(Phase::Reading(_))) {
            let name = chosen.with_value(|f| f.as_ref().map(web_sys::File::name)).unwrap_or_default();
            let message = "The file could not be checked in the background; choose it again.".to_string();
            phase.set(Phase::Unreadable { name, message });
        }
    };
    parser.set_value(Some(Parser::start(on_reply, on_broken)));
    let request = Callback::new(move |indices: Vec<u32>| {
        let file = current.get_value();
        send(&Request::Rows { file, indices }, None);
    });

    let choose = move |file: web_sys::File| {
        let n = current.get_value() + 1;
        current.set_value(n);
        started.set_value(now_ms());
        let name = file.name();
        chosen.set_value(Some(file.clone()));
        let refused = if file.size() > bulk::MAX_FILE_BYTES as f64 {
            Some(format::sentence(&FileError::TooLarge.to_string()))
        } else if !parser.with_value(|p| p.as_ref().is_some_and(Parser::is_running)) {
            Some("The file cannot be checked: this browser did not start the file checker (a module Web Worker). Reload the page, or use a current browser.".into())
        } else {
            None
        };
        if refused.is_none() {
            // The worker reads the file and parses each piece as it comes. Sent first, so
            // that reading starts while the page renders.
            send(&Request::Parse { file: n }, Some(&file.into()));
        }
        ready_ms.set(None);
        upload.set(Upload::Idle);
        registered.set(Registered::Unknown);
        valid_only.set(false);
        cache.reset(0);
        phase.set(match refused {
            Some(message) => Phase::Unreadable { name, message },
            None => Phase::Reading(name),
        });
    };
    // One file: the first one picked or dropped.
    let take = move |files: Vec<web_sys::File>| {
        if let Some(file) = files.into_iter().next() {
            choose(file);
        }
    };
    let (picked, _, _) = browser::file_drop(take, dragging);
    // The hint says "anywhere on this page": while the page is shown, files dragged over any
    // part of the window are taken here (the browser would otherwise open a file dropped
    // outside the page's section and leave the console), with an overlay saying so.
    let listeners = drop_anywhere(take, dragging);
    on_cleanup(move || listeners.into_iter().for_each(|l| l.remove()));
    // "Load another file": the form as it was when the page opened.
    let load_another = move |_| {
        current.update_value(|n| *n += 1);
        chosen.set_value(None);
        ready_ms.set(None);
        upload.set(Upload::Idle);
        registered.set(Registered::Unknown);
        valid_only.set(false);
        errors_only.set(false);
        cache.reset(0);
        phase.set(Phase::Empty);
        if let Some(input) = file_input.get_untracked() {
            let _ = input.focus();
        }
    };

    let ready = move || match phase.get() {
        Phase::Ready(r) => Some(r),
        _ => None,
    };
    let summary = move || ready().map(|r| r.overview.summary.clone());
    let to_send = move || summary().map_or(0, |s| s.valid);
    let blocked = move || -> Option<String> {
        let s = summary()?;
        if console.session.read_only() {
            return Some(crate::components::read_only::READ_ONLY.into());
        }
        if upload.with(Upload::busy) {
            return Some("Registering…".into());
        }
        if upload.with(|u| matches!(u, Upload::Done { .. })) {
            return Some("This file is registered. Load another file to register more devices.".into());
        }
        if s.valid == 0 {
            return Some("No row is valid: fix the file and choose it again.".into());
        }
        if s.invalid > 0 && !valid_only.get() {
            return Some(format!(
                "{} with errors: fix the file, or send only the valid rows.",
                format::count_of(s.invalid as u64, "row", "rows")
            ));
        }
        None
    };
    let submit = move |_| {
        if blocked().is_some() {
            return;
        }
        let Some(r) = ready() else { return };
        if r.overview.summary.invalid == 0 {
            let Some(file) = chosen.with_value(Clone::clone) else { return };
            let name = file.name();
            send_file(file.into(), name, false);
        } else {
            upload.set(Upload::Preparing);
            send(&Request::ValidCsv { file: r.file }, None);
        }
    };

    let body = move || match phase.get() {
        Phase::Empty => ().into_any(),
        Phase::Reading(name) => view! {
            <p class="placeholder" role="status">{format!("Checking \u{201c}{name}\u{201d}…")}</p>
        }
        .into_any(),
        Phase::Unreadable { name, message } => view! {
            <div class="error-box" role="alert">
                <p><strong>{format!("\u{201c}{name}\u{201d} cannot be registered.")}</strong></p>
                <p>{message}</p>
            </div>
        }
        .into_any(),
        Phase::Ready(r) => view! {
            <FilePreview
                ready=r
                cache=cache
                errors_only=errors_only
                request=request
                ready_ms=ready_ms
                registered=registered
            />
        }
        .into_any(),
    };

    let submit_text = move || match to_send() {
        1 => "Register 1 device".to_string(),
        n => format!("Register {} devices", format::number(n as u64)),
    };
    let progress = move || match upload.get() {
        Upload::Idle | Upload::Done { .. } => ().into_any(),
        Upload::Failed(message) => view! {
            <div class="error-box" role="alert">
                <p><strong>"The devices could not be registered."</strong></p>
                <p>{message}</p>
            </div>
        }
        .into_any(),
        Upload::Preparing => view! { <p class="upload-state" role="status">"Preparing the valid rows…"</p> }.into_any(),
        Upload::Sending { loaded, total } => {
            let percent = (loaded * 100).checked_div(total).unwrap_or(0);
            view! {
                <div class="upload-state" role="status">
                    <label for="upload-progress">{format!("Sending the file… {percent} %")}</label>
                    <progress id="upload-progress" max=total.to_string() value=loaded.to_string()></progress>
                </div>
            }
            .into_any()
        }
        Upload::Registering => view! {
            <div class="upload-state" role="status">
                <label for="upload-progress">"Sent. Registering the devices…"</label>
                <progress id="upload-progress"></progress>
            </div>
        }
        .into_any(),
    };
    let result = move || match upload.get() {
        Upload::Done { result, valid_only } => {
            let existing = match registered.get_untracked() {
                Registered::Known(e) => Some(e),
                _ => None,
            };
            Some(view! {
                <RegistrationResult result=(*result).clone() valid_only=valid_only existing=existing />
                <div class="result-actions">
                    <a class="button primary" href="/devices">"View devices"</a>
                    <button type="button" class="button" on:click=load_another>"Load another file"</button>
                </div>
            })
        }
        _ => None,
    };

    view! {
        <section class="page bulk-page">
            <Show when=move || dragging.get()>
                <div class="bulk-drop-overlay" role="status">
                    <p>"Drop the CSV file to preview it"</p>
                </div>
            </Show>
            <header class="page-header">
                <div>
                    <h1>"Bulk registration"</h1>
                    <p class="muted">
                        "Register many devices from one CSV file. Every row is checked here, with the server's own rules, before anything is sent."
                    </p>
                </div>
                <div class="templates">
                    <span class="muted">"Templates:"</span>
                    {TEMPLATES
                        .iter()
                        .map(|&(label, file, text)| view! {
                            <a class="button small" download=file href=browser::text_data_url("text/csv", text)>{label}</a>
                        })
                        .collect_view()}
                </div>
            </header>
            <div class="dropzone bulk-drop" class:dragging=dragging>
                <label for="bulk-file">"CSV file"</label>
                <input id="bulk-file" type="file" accept=".csv,.txt,text/csv" on:change=picked node_ref=file_input />
                <p class="hint">
                    "…or drop it anywhere on this page. Separator: semicolon, comma or tab; first line: the column names (ID, CREDENTIALS, AUTH_TYPE, TYPE, NAME, …)."
                </p>
            </div>
            {body}
            <Show when=move || ready().is_some()>
                <div class="submit-bar">
                    <Show when=move || summary().is_some_and(|s| s.invalid > 0 && s.valid > 0)>
                        <label class="check">
                            <input type="checkbox" prop:checked=move || valid_only.get() on:change=move |ev| valid_only.set(event_target_checked(&ev)) />
                            <span>"Send only the valid rows"</span>
                            <span class="hint">"Rows with errors are left out; fix them and register them later."</span>
                        </label>
                    </Show>
                    <p class="reason">{blocked}</p>
                    <button
                        type="button"
                        class="button primary"
                        disabled=move || blocked().is_some()
                        title=crate::components::read_only::title(console.session)
                        on:click=submit
                    >
                        {submit_text}
                    </button>
                </div>
            </Show>
            {progress}
            {result}
        </section>
    }
}

/// Counts, file-level problems, the "Errors only" filter and the table.
#[component]
fn FilePreview(
    ready: Arc<Ready>,
    cache: RowCache,
    errors_only: RwSignal<bool>,
    request: Callback<Vec<u32>>,
    ready_ms: RwSignal<Option<u32>>,
    registered: RwSignal<Registered>,
) -> impl IntoView {
    let s = ready.overview.summary.clone();
    let counts = [
        (s.rows, "row", "rows", ""),
        (s.valid, "valid", "valid", ""),
        (s.invalid, "with errors", "with errors", "bad"),
        (s.warnings, "warning", "warnings", "warn"),
        (s.certificates, "certificate device", "certificate devices", ""),
        (s.basic, "password device", "password devices", ""),
    ]
    .into_iter()
    .map(|(n, one, many, class)| {
        let word = if n == 1 { one } else { many };
        view! { <li class=(n > 0).then_some(class)><strong>{format::number(n as u64)}</strong>" "{word}</li> }
    })
    .collect_view();
    let file_issues = ready.overview.file_issues.clone();
    let parse_ms = ready.overview.parse_ms.to_string();
    let worker_ms = ready.overview.worker_ms.to_string();
    let parsed_ms = ready.parsed_ms.to_string();
    let heading = format!("\u{201c}{}\u{201d}", ready.name);
    let has_errors = s.invalid > 0;
    let existing = Signal::derive(move || match registered.get() {
        Registered::Known(e) => Some(e),
        _ => None,
    });
    view! {
        <section
            class="bulk-preview"
            aria-labelledby="preview-title"
            data-worker-ms=worker_ms
            data-parse-ms=parse_ms
            data-parsed-ms=parsed_ms
            data-ready-ms=move || ready_ms.get().map(|ms| ms.to_string())
        >
            <div class="preview-head">
                <h2 id="preview-title">{heading}</h2>
                <label class="check inline-check">
                    <input
                        type="checkbox"
                        disabled=!has_errors
                        prop:checked=move || errors_only.get()
                        on:change=move |ev| errors_only.set(event_target_checked(&ev))
                    />
                    <span>"Errors only"</span>
                </label>
            </div>
            <ul class="counts" aria-label="Counts">{counts}</ul>
            {move || registered_view(registered.get(), s.valid)}
            {file_issues_view(file_issues)}
            <Preview ready=ready cache=cache errors_only=errors_only request=request existing=existing />
        </section>
    }
}

fn file_issues_view(issues: Vec<Issue>) -> impl IntoView {
    (!issues.is_empty()).then(|| {
        let items = issues
            .into_iter()
            .map(|i| {
                let class = if i.severity == Severity::Error { "problem error" } else { "problem warning" };
                view! { <li class=class>{format::sentence(&i.message)}</li> }
            })
            .collect_view();
        view! { <ul class="file-issues">{items}</ul> }
    })
}

/// What the server said about the file's ids, in words: which rows a registration updates
/// rather than creates, and what it does to them (`valid` rows can be registered).
fn registered_view(registered: Registered, valid: usize) -> impl IntoView {
    let (class, text) = match registered {
        Registered::Unknown => return None,
        Registered::Checking => ("registered-note", "Checking which IDs are registered already…".to_string()),
        Registered::Failed(message) => {
            ("registered-note warn", format!("Which IDs are registered already could not be checked: {message}"))
        }
        Registered::Known(e) if e.rows.is_empty() => (
            "registered-note",
            format!(
                "None of the IDs is registered yet: {} new.",
                format::count_of(valid as u64, "device would be", "devices would be")
            ),
        ),
        Registered::Known(e) => {
            let certificates = e.certificates();
            let basic = e.rows.len() - certificates;
            let mut parts = Vec::new();
            if certificates > 0 {
                parts.push(format!(
                    "{}: name, type and properties are updated (they have no credentials)",
                    format::count_of(certificates as u64, "certificate device", "certificate devices")
                ));
            }
            if basic > 0 {
                parts.push(format!(
                    "{}: name, type, properties and password are updated",
                    format::count_of(basic as u64, "password device", "password devices")
                ));
            }
            (
                "registered-note warn",
                format!(
                    "{} registered already and will not be created again. {}.",
                    format::count_of(e.rows.len() as u64, "ID is", "IDs are"),
                    parts.join("; ")
                ),
            )
        }
    };
    Some(view! { <p class=class role="status">{text}</p> })
}

/// Takes files dropped anywhere in the window while the page is shown (other drags, of text
/// say, are left alone); `dragging` is true while files are over the window. Returns the
/// listeners, to be removed when the page is left.
fn drop_anywhere(
    take: impl Fn(Vec<web_sys::File>) + Copy + 'static,
    dragging: RwSignal<bool>,
) -> Vec<WindowListenerHandle> {
    use leptos::ev;
    // Enter and leave come for every element crossed: the overlay goes when as many leaves as
    // enters came (the drag left the window).
    let depth = StoredValue::new(0i32);
    let has_files = |e: &web_sys::DragEvent| {
        e.data_transfer().is_some_and(|t| t.types().includes(&wasm_bindgen::JsValue::from_str("Files"), 0))
    };
    vec![
        window_event_listener(ev::dragenter, move |e| {
            if has_files(&e) {
                e.prevent_default();
                depth.update_value(|d| *d += 1);
                dragging.set(true);
            }
        }),
        window_event_listener(ev::dragover, move |e| {
            if has_files(&e) {
                // Without this the drop is the browser's: it opens the file.
                e.prevent_default();
                if let Some(t) = e.data_transfer() {
                    t.set_drop_effect("copy");
                }
                dragging.set(true);
            }
        }),
        window_event_listener(ev::dragleave, move |e| {
            if has_files(&e) {
                depth.update_value(|d| *d -= 1);
                if depth.get_value() <= 0 {
                    depth.set_value(0);
                    dragging.set(false);
                }
            }
        }),
        window_event_listener(ev::drop, move |e| {
            if has_files(&e) {
                e.prevent_default();
                depth.set_value(0);
                dragging.set(false);
                if let Some(t) = e.data_transfer() {
                    take(browser::files_of(t.files()));
                }
            }
        }),
    ]
}
