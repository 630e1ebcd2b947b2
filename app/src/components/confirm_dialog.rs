//! "Are you sure?": a modal with a title, a sentence, Cancel and a confirming button.

use leptos::prelude::*;

use super::modal::Modal;

/// A confirmation dialog. The confirming button shows progress while `busy`, and an error
/// from the confirmed action stays in the dialog.
#[component]
pub fn ConfirmDialog(
    /// Whether the dialog is shown.
    #[prop(into)]
    open: Signal<bool>,
    /// The heading, e.g. "Delete trusted certificate?".
    title: &'static str,
    /// The sentence explaining what will happen.
    #[prop(into)]
    message: Signal<String>,
    /// The confirming button's text, e.g. "Delete".
    confirm_text: &'static str,
    /// While the confirmed action runs.
    #[prop(into)]
    busy: Signal<bool>,
    /// An error from the confirmed action.
    #[prop(into)]
    error: Signal<Option<String>>,
    /// The user confirmed.
    on_confirm: Callback<()>,
    /// The user cancelled (button or Escape).
    on_cancel: Callback<()>,
) -> impl IntoView {
    view! {
        <Modal open=open labelled_by="confirm-title" on_dismiss=on_cancel class="modal-small">
            <h2 id="confirm-title">{title}</h2>
            <p>{move || message.get()}</p>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <div class="dialog-actions">
                <button type="button" class="button" autofocus on:click=move |_| on_cancel.run(())>
                    "Cancel"
                </button>
                <button
                    type="button"
                    class="button danger"
                    disabled=move || busy.get()
                    on:click=move |_| on_confirm.run(())
                >
                    {move || if busy.get() { "Working…" } else { confirm_text }}
                </button>
            </div>
        </Modal>
    }
}
