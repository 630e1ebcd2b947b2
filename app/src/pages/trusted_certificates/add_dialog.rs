//! The "Add trusted certificate" dialog: files (picked or dropped) and pasted PEM, every
//! certificate in them inspected at once with the shared rules, one card each, and a single
//! button that uploads them all (one request, bulk when several) only when nothing fails.
//! While the tenant has no CA of its own, the dialog also offers to create it
//! ([`super::authority::CreateAuthority`]).

use std::collections::{HashMap, HashSet};

use anchorage_common::Inspection;
use anchorage_common::api::{BulkNewTrustedCertificates, NewTrustedCertificate};
use anchorage_common::names;
use anchorage_common::pem::MAX_INPUT_BYTES;
use leptos::prelude::*;
use leptos::task::spawn_local;
use time::OffsetDateTime;

use super::CertificateList;
use super::selection::{self, Candidate, Source};
use crate::browser;
use crate::components::expiry::ExpiryDate;
use crate::components::modal::Modal;
use crate::components::rule_checks::RuleChecks;
use crate::context::Console;

/// The id of the pasted-text source (files count from 1).
const PASTE_SOURCE: u32 = 0;

/// The dialog, as the certificates chunk exports it ([`crate::lazy::add_dialog`]): the page
/// shows it while `open` is true, and creates it afresh each time (so the form starts empty).
/// Fingerprint → name of the stored certificates is built here, in the chunk.
pub(crate) fn add_dialog(list: CertificateList, open: RwSignal<bool>, on_saved: Callback<usize>) -> AnyView {
    let stored = Signal::derive(move || list.names());
    let on_close = Callback::new(move |()| open.set(false));
    view! {
        <Modal open=open labelled_by="add-title" on_dismiss=on_close class="modal-wide">
            <AddForm stored=stored on_close=on_close on_saved=on_saved offer=ViewFn::from(move || view! {
                <super::authority::CreateAuthority list=list open=open />
            }) />
        </Modal>
    }
    .into_any()
}

#[component]
fn AddForm(
    stored: Signal<HashMap<String, String>>,
    on_close: Callback<()>,
    on_saved: Callback<usize>,
    /// Shown under the heading: the offer to create the tenant's CA.
    offer: ViewFn,
) -> impl IntoView {
    let console = Console::get();
    let files = RwSignal::new(Vec::<Source>::new());
    let pasted = RwSignal::new(String::new());
    let removed = RwSignal::new(HashSet::<String>::new());
    let names = RwSignal::new(HashMap::<String, String>::new());
    let enable = RwSignal::new(false);
    let auto_registration = RwSignal::new(false);
    let reading = RwSignal::new(0usize);
    let dragging = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let next_id = StoredValue::new(PASTE_SOURCE + 1);

    let candidates = Memo::new(move |_| {
        let mut sources = files.get();
        pasted.with(|text| {
            if !text.trim().is_empty() {
                sources.push(Source {
                    id: PASTE_SOURCE,
                    label: "Pasted PEM".to_string(),
                    content: selection::read_text(text),
                });
            }
        });
        // The time of this evaluation, not of the dialog's opening: a CA made while the dialog
        // is open is in date when it is added.
        let now = OffsetDateTime::now_utc();
        stored.with(|stored| removed.with(|removed| selection::candidates(&sources, stored, removed, now)))
    });
    let plan = Memo::new(move |_| {
        candidates.with(|c| names.with(|n| selection::plan(c, n, enable.get(), auto_registration.get())))
    });

    let add_files = move |picked: Vec<web_sys::File>| {
        if picked.is_empty() {
            return;
        }
        let first = next_id.get_value();
        next_id.set_value(first + picked.len() as u32);
        reading.update(|n| *n += picked.len());
        error.set(None);
        spawn_local(async move {
            for (id, file) in (first..).zip(picked) {
                let content = if file.size() > MAX_INPUT_BYTES as f64 {
                    Err(selection::too_large())
                } else {
                    match browser::read_file(&file).await {
                        Ok(bytes) => selection::read_bytes(&bytes),
                        Err(e) => Err(e),
                    }
                };
                files.update(|f| f.push(Source { id, label: file.name(), content }));
                reading.update(|n| *n = n.saturating_sub(1));
            }
        });
    };
    let (picked, drag_over, dropped) = browser::file_drop(add_files, dragging);
    // Files dropped anywhere while the dialog is open are added (the hint says "anywhere on
    // this dialog"); a drop anywhere else on the page must not make the browser open the file
    // and leave the console. So the window listens while the dialog exists.
    let listeners = [
        window_event_listener(leptos::ev::dragenter, drag_over),
        window_event_listener(leptos::ev::dragover, drag_over),
        window_event_listener(leptos::ev::drop, dropped),
        window_event_listener(leptos::ev::dragleave, move |ev: web_sys::DragEvent| {
            // Left the window (not just moved between elements).
            if ev.related_target().is_none() {
                dragging.set(false);
            }
        }),
    ];
    let listeners = StoredValue::new_local(Some(listeners));
    on_cleanup(move || {
        if let Some(Some(listeners)) = listeners.try_update_value(Option::take) {
            for l in listeners {
                l.remove();
            }
        }
    });

    let save = Action::new_local(move |uploads: &Vec<NewTrustedCertificate>| {
        let uploads = uploads.clone();
        let client = console.client();
        async move {
            let Some(client) = client else { return };
            let answer = match uploads.as_slice() {
                [one] => client.create_certificate(one).await.map(|_| 1),
                _ => client
                    .create_certificates(&BulkNewTrustedCertificates { certificates: uploads })
                    .await
                    .map(|created| created.len()),
            };
            match answer {
                Ok(n) => {
                    on_saved.try_run(n);
                }
                Err(e) => error.set(console.explain(&e)),
            }
        }
    });
    let saving = save.pending();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let plan = plan.get_untracked();
        if plan.blocked.is_some() || saving.get_untracked() || reading.get_untracked() > 0 {
            return;
        }
        error.set(None);
        save.dispatch_local(plan.uploads);
    };

    // Counts what will be added: not the inputs that fail or are duplicates.
    let button_text = move || match plan.with(|p| p.addable) {
        0 | 1 => "Add certificate".to_string(),
        n => format!("Add {n} certificates"),
    };
    let reason = move || {
        if reading.get() > 0 {
            Some("Reading files…".to_string())
        } else if saving.get() {
            Some("Saving…".to_string())
        } else {
            plan.with(|p| p.blocked.clone())
        }
    };
    let disabled = move || reading.get() > 0 || saving.get() || plan.with(|p| p.blocked.is_some());

    view! {
        <form class="add-form" on:submit=submit>
            <div class="drop-overlay" class:dragging=dragging aria-hidden="true">
                <p>"Drop the certificate files to add them"</p>
            </div>
            <header class="dialog-header">
                <h2 id="add-title">"Add trusted certificate"</h2>
                <p class="muted">
                    "Pick, drop or paste CA certificates in PEM or DER form; a file may hold several. Each one is checked here before anything is sent."
                </p>
            </header>
            {offer.run()}
            <div class="inputs">
                <div class="dropzone" class:dragging=dragging>
                    <label for="add-files">"Certificate files"</label>
                    <input id="add-files" type="file" multiple accept=".pem,.crt,.cer,.der" on:change=picked />
                    <p class="hint">"…or drop files anywhere on this dialog."</p>
                </div>
                <div class="field paste">
                    <label for="add-paste">"Paste PEM"</label>
                    <textarea
                        id="add-paste"
                        rows="5"
                        spellcheck="false"
                        placeholder="-----BEGIN CERTIFICATE-----"
                        prop:value=move || pasted.get()
                        on:input=move |ev| pasted.set(event_target_value(&ev))
                    ></textarea>
                </div>
            </div>
            <div class="candidates" aria-live="polite">
                <For each=move || candidates.get() key=|c| c.key.clone() let(candidate)>
                    <CandidateCard candidate=candidate names=names removed=removed pasted=pasted />
                </For>
            </div>
            <fieldset class="options">
                <legend class="sr-only">"Options"</legend>
                <label class="check">
                    <input id="add-enable" type="checkbox" bind:checked=enable />
                    <span>"Enable now"</span>
                    <span class="hint">"Devices may authenticate with certificates it signed. Can be changed later."</span>
                </label>
                <label class="check">
                    <input id="add-auto" type="checkbox" bind:checked=auto_registration />
                    <span>"Auto registration"</span>
                    <span class="hint">"Devices it signed are registered on their first connection."</span>
                </label>
            </fieldset>
            {move || error.get().map(|e| view! { <p class="error-box" role="alert">{e}</p> })}
            <footer class="dialog-actions">
                <p class="reason" id="add-reason" aria-live="polite">{reason}</p>
                <button type="button" class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                <button type="submit" class="button primary" disabled=disabled aria-describedby="add-reason">
                    {button_text}
                </button>
            </footer>
        </form>
    }
}

/// One certificate (or one unreadable input) of the selection.
#[component]
fn CandidateCard(
    candidate: Candidate,
    names: RwSignal<HashMap<String, String>>,
    removed: RwSignal<HashSet<String>>,
    pasted: RwSignal<String>,
) -> impl IntoView {
    let key = candidate.key.clone();
    // Unreadable pasted text is removed by clearing the text; anything else is hidden.
    let clears_paste = key == format!("{PASTE_SOURCE}:err");
    let remove = move |_| {
        if clears_paste {
            pasted.set(String::new());
        } else {
            removed.update(|r| {
                r.insert(key.clone());
            });
        }
    };
    let source = candidate.source.clone();
    let remove_button = view! {
        <button type="button" class="button small" aria-label=format!("Remove {source}") on:click=remove>
            "Remove"
        </button>
    };
    match candidate.outcome {
        Err(reason) => view! {
            <article class="candidate failed" aria-label=candidate.source.clone()>
                <header>
                    <h3>{candidate.source.clone()}</h3>
                    {remove_button}
                </header>
                <p class="error"><span aria-hidden="true">"✗ "</span>{reason}</p>
            </article>
        }
        .into_any(),
        Ok(inspection) => certificate_card(
            candidate.key,
            candidate.source,
            inspection,
            candidate.duplicate,
            names,
            remove_button.into_any(),
        ),
    }
}

fn certificate_card(
    key: String,
    source: String,
    inspection: Inspection,
    duplicate: Option<selection::Duplicate>,
    names: RwSignal<HashMap<String, String>>,
    remove_button: AnyView,
) -> AnyView {
    let failed = !inspection.acceptable() || duplicate.is_some();
    let fingerprint = inspection.info.fingerprint.clone();
    let for_value = StoredValue::new(inspection.clone());
    let name_value = move || for_value.with_value(|i| names.with(|n| selection::name_of(i, n)));
    let name_error = move || for_value.with_value(|i| names.with(|n| selection::checked_name(i, n).err()));
    let fp_for_input = fingerprint.clone();
    let typed = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        names.update(|n| {
            n.insert(fp_for_input.clone(), value);
        });
    };
    let name_id = format!("name-{key}");
    let error_id = format!("name-error-{key}");
    let info = &inspection.info;
    view! {
        <article class="candidate" class:failed=failed aria-label=source.clone()>
            <header>
                <h3>{source.clone()}</h3>
                {remove_button}
            </header>
            <div class="field">
                <label for=name_id.clone()>"Name"</label>
                <input
                    id=name_id
                    type="text"
                    prop:value=name_value
                    on:input=typed
                    aria-invalid=move || name_error().is_some().then_some("true")
                    aria-describedby=error_id.clone()
                />
                <p class="field-error" id=error_id>{name_error}</p>
            </div>
            <dl class="props compact">
                <div><dt>"Subject"</dt><dd>{names::escape(&info.subject)}</dd></div>
                <div><dt>"Issuer"</dt><dd>{names::escape(&info.issuer)}</dd></div>
                <div><dt>"Fingerprint"</dt><dd><code class="fingerprint">{fingerprint}</code></dd></div>
                <div><dt>"Expires"</dt><dd><ExpiryDate not_after=info.not_after now=OffsetDateTime::now_utc() /></dd></div>
            </dl>
            <RuleChecks checks=inspection.checks.clone() />
            {duplicate.map(|d| view! { <p class="error"><span aria-hidden="true">"✗ "</span>{d.describe()}</p> })}
        </article>
    }
    .into_any()
}
