//! What a certificate row asks before it acts, in the certificate actions chunk
//! ([`crate::lazy::question_dialog`], [`crate::lazy::certificate_toggle`]): deleting a
//! certificate and disabling an enabled one say first how many devices it would lock out (the
//! server counts the devices that last got a token through it); renaming warns when another
//! certificate has the name already.

use std::cell::RefCell;

use anchorage_common::api::{self, CertificateChanges, CertificateStatus};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use super::row::{capitalise, send_update};
use super::{CertificateList, PageState};
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::modal::Modal;
use crate::context::Console;

/// The switch whose "disable" waits for confirmation: its fingerprint, its pending state
/// (cleared when the question is answered) and the words for a failure.
type Waiting = (String, RwSignal<Option<bool>>, String);

thread_local! {
    static WAITING: RefCell<Option<Waiting>> = const { RefCell::new(None) };
}

/// Sends a switch's change, `pending` already set. Disabling an enabled certificate asks first
/// (the switch stays on, busy, until the question is answered).
pub(crate) fn toggle(
    console: Console,
    state: PageState,
    fingerprint: String,
    changes: CertificateChanges,
    pending: RwSignal<Option<bool>>,
    failure: String,
) {
    let enabled = untrack(|| state.list.read(&fingerprint, |c| c.status == CertificateStatus::Enabled));
    if changes.status == Some(CertificateStatus::Disabled) && enabled == Some(true) {
        // Shown on (the browser has unticked it already) and busy while the question is open.
        pending.set(Some(true));
        state.asking.set(Some(format!("disable:{fingerprint}")));
        WAITING.with(|w| *w.borrow_mut() = Some((fingerprint, pending, failure)));
        return;
    }
    send(console, state, fingerprint, changes, pending, failure);
}

fn send(
    console: Console,
    state: PageState,
    fingerprint: String,
    changes: CertificateChanges,
    pending: RwSignal<Option<bool>>,
    failure: String,
) {
    send_update(console, state, fingerprint, changes, move |answer| {
        if let Err(message) = answer {
            state.problem.set(Some(format!("{failure}: {message}")));
        }
        pending.set(None);
    });
}

/// Ends a switch's wait for confirmation: the switch shows the stored state again.
fn release_switch() -> Option<Waiting> {
    let waiting = WAITING.with(|w| w.borrow_mut().take());
    if let Some((_, pending, _)) = &waiting {
        pending.try_set(None);
    }
    waiting
}

/// Another certificate's name equal to `name` (trimmed), as a warning in words (tracked).
pub(super) fn same_name(list: CertificateList, fingerprint: &str, name: &str) -> Option<String> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    list.items.with(|items| match items {
        Some(Ok(certs)) => certs.iter().find(|c| c.fingerprint != fingerprint && c.name.trim() == name).map(|c| {
            format!(
                "Another certificate is already named \"{name}\" ({}…): both will show the same name.",
                c.fingerprint.get(..8).unwrap_or(&c.fingerprint)
            )
        }),
        _ => None,
    })
}

/// "12 devices last got a token through this CA; they will be refused."
pub fn impact(count: u64) -> String {
    match count {
        0 => "No device has got a token through this CA so far.".to_string(),
        1 => "1 device last got a token through this CA; it will be refused.".to_string(),
        n => format!("{} devices last got a token through this CA; they will be refused.", crate::format::number(n)),
    }
}

/// The question in `state.asking`, as the certificate actions chunk exports it.
pub(crate) fn question_dialog(state: PageState) -> AnyView {
    let asked = state.asking.get_untracked().unwrap_or_default();
    let (what, fingerprint) = asked.split_once(':').unwrap_or(("", ""));
    let fingerprint = fingerprint.to_string();
    match what {
        "rename" => rename_dialog(state, fingerprint),
        "disable" => impact_dialog(state, fingerprint, false),
        _ => impact_dialog(state, fingerprint, true),
    }
}

/// Deleting (`delete`) or disabling a certificate, with what it would affect.
fn impact_dialog(state: PageState, fingerprint: String, delete: bool) -> AnyView {
    let console = Console::get();
    let list = state.list;
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let fp = StoredValue::new(fingerprint.clone());
    let name = untrack(|| list.read(&fingerprint, |c| c.name.clone())).unwrap_or_default();
    // The tenant's own CA: deleting it deletes its key (the platform's words).
    let authority = untrack(|| list.read(&fingerprint, |c| c.tenant_certificate_authority)).unwrap_or(false);

    // What it would affect: counted by the server when the question opens.
    let counted = RwSignal::new(None::<Result<u64, String>>);
    if let Some(client) = console.client() {
        let fingerprint = fingerprint.clone();
        spawn_local(async move {
            let answer = client.count_certificate_devices(&fingerprint).await;
            counted.try_set(Some(answer.map_err(|e| e.to_string())));
        });
    }
    let impact_text = move || match counted.get() {
        None => "Counting the devices that got a token through this CA…".to_string(),
        Some(Ok(n)) => impact(n),
        Some(Err(e)) => format!("How many devices use this CA could not be read ({e})."),
    };

    let done = move || {
        busy.set(false);
        state.asking.set(None);
    };
    let confirm = Callback::new(move |()| {
        if busy.get_untracked() {
            return;
        }
        let fingerprint = fp.get_value();
        let Some(client) = console.client() else { return };
        busy.set(true);
        error.set(None);
        if !delete {
            let changes = CertificateChanges { status: Some(CertificateStatus::Disabled), ..Default::default() };
            let (pending, failure) = match release_switch() {
                Some((_, pending, failure)) => (pending, failure),
                None => {
                    (RwSignal::new(None), format!("Could not disable \"{}\"", untrack(|| name_of(list, &fingerprint))))
                }
            };
            pending.set(Some(false));
            send(console, state, fingerprint, changes, pending, failure);
            done();
            return;
        }
        let name = untrack(|| name_of(list, &fingerprint));
        spawn_local(async move {
            let answer = client.delete_certificate(&fingerprint).await;
            busy.try_set(false);
            match answer {
                Ok(()) => {
                    list.remove(&fingerprint);
                    state.asking.set(None);
                    console.toast(format!("Certificate \"{name}\" deleted."));
                }
                Err(crate::api::ApiError::Status { status: 404, .. }) => {
                    list.remove(&fingerprint);
                    state.asking.set(None);
                    console.toast(format!("Certificate \"{name}\" was already deleted."));
                }
                Err(e) => {
                    error.try_set(console.explain(&e));
                }
            }
        });
    });
    let cancel = Callback::new(move |()| {
        release_switch();
        state.asking.set(None);
    });
    let title = match (delete, authority) {
        (true, true) => "Delete CA certificate?",
        (true, false) => "Delete trusted certificate?",
        (false, _) => "Disable trusted certificate?",
    };
    let message = Signal::derive(move || {
        let lead = if delete && authority {
            "You are about to delete the Certificate Authority (CA) certificate for this tenant. Any device enrolled using this CA certificate for authentication will no longer be able to connect to the platform.".to_string()
        } else if delete {
            format!("You are about to delete a trusted certificate \"{name}\". Do you want to proceed?")
        } else {
            format!(
                "You are about to disable \"{name}\": devices whose certificates it signed get no token until it is enabled again."
            )
        };
        format!("{lead} {}", impact_text())
    });
    view! {
        <ConfirmDialog
            open=Signal::derive(move || state.asking.with(Option::is_some))
            title=title
            message=message
            confirm_text=if delete { "Delete" } else { "Disable" }
            busy=busy
            error=error
            on_confirm=confirm
            on_cancel=cancel
        />
    }
    .into_any()
}

fn name_of(list: CertificateList, fingerprint: &str) -> String {
    list.read(fingerprint, |c| c.name.clone()).unwrap_or_default()
}

/// Renaming a certificate: the name checked as the server checks it, and a warning when
/// another certificate has it already.
fn rename_dialog(state: PageState, fingerprint: String) -> AnyView {
    let console = Console::get();
    let list = state.list;
    let fp = StoredValue::new(fingerprint.clone());
    let old = untrack(|| name_of(list, &fingerprint));
    let name = RwSignal::new(old.clone());
    let now_named = format!("Now named \u{201c}{old}\u{201d}.");
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let warning = move || name.with(|n| same_name(list, &fp.get_value(), n));
    let close = Callback::new(move |()| state.asking.set(None));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        let checked = match api::check_name(&Value::String(name.get_untracked())) {
            Ok(checked) => checked,
            Err(e) => {
                error.set(Some(capitalise(&e)));
                return;
            }
        };
        error.set(None);
        saving.set(true);
        let changes = CertificateChanges { name: Some(checked), ..Default::default() };
        send_update(console, state, fp.get_value(), changes, move |answer| {
            saving.try_set(false);
            match answer {
                Ok(saved) => {
                    state.asking.set(None);
                    console.toast(format!("Renamed to \"{}\".", saved.name));
                }
                Err(message) => {
                    error.try_set(Some(message));
                }
            }
        });
    };
    view! {
        <Modal open=Signal::derive(move || state.asking.with(Option::is_some)) labelled_by="rename-title" on_dismiss=close class="modal-small">
            <form class="rename-form" on:submit=submit>
                <h2 id="rename-title">"Rename certificate"</h2>
                <p class="muted">{now_named.clone()}</p>
                <div class="field">
                    <label for="rename-name">"New name"</label>
                    <input
                        id="rename-name"
                        type="text"
                        autofocus
                        maxlength=api::MAX_NAME_CHARS
                        bind:value=name
                        aria-invalid=move || error.with(Option::is_some).then_some("true")
                        aria-describedby="rename-error rename-warning"
                    />
                    <p class="field-error" id="rename-error" role="alert">{move || error.get()}</p>
                    <p class="field-warning" id="rename-warning" role="status">{warning}</p>
                </div>
                <div class="dialog-actions">
                    <button type="button" class="button" on:click=move |_| close.run(())>"Cancel"</button>
                    <button type="submit" class="button primary" disabled=move || saving.get()>
                        {move || if saving.get() { "Saving…" } else { "Save" }}
                    </button>
                </div>
            </form>
        </Modal>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_impact_is_stated_in_words() {
        assert_eq!(super::impact(0), "No device has got a token through this CA so far.");
        assert_eq!(super::impact(1), "1 device last got a token through this CA; it will be refused.");
        assert_eq!(super::impact(1200), "1,200 devices last got a token through this CA; they will be refused.");
    }
}
