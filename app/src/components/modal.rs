//! A modal dialog built on the native `<dialog>` element: `showModal()` gives the backdrop,
//! the focus trap, `aria-modal` semantics and Escape to close, with no script of our own.

use leptos::prelude::*;

/// A modal dialog, open while `open` is true. Its content is created afresh each time it
/// opens (so a form starts empty) and dropped when it closes.
#[component]
pub fn Modal(
    /// Whether the dialog is shown.
    #[prop(into)]
    open: Signal<bool>,
    /// The `id` of the heading that names the dialog.
    labelled_by: &'static str,
    /// Called when the user dismisses the dialog with Escape.
    on_dismiss: Callback<()>,
    /// Extra class for sizing.
    #[prop(optional)]
    class: &'static str,
    /// The dialog's content.
    children: ChildrenFn,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    Effect::new(move |_| {
        let want_open = open.get();
        let Some(el) = dialog.get() else { return };
        if want_open && !el.open() {
            let _ = el.show_modal();
        } else if !want_open && el.open() {
            el.close();
        }
    });
    let cancel = move |ev: leptos::ev::Event| {
        // Escape: let the owner decide (it closes by setting `open` to false).
        ev.prevent_default();
        on_dismiss.run(());
    };
    view! {
        <dialog node_ref=dialog class=format!("modal {class}") aria-labelledby=labelled_by aria-modal="true" on:cancel=cancel>
            <Show when=move || open.get()>{children()}</Show>
        </dialog>
    }
}
