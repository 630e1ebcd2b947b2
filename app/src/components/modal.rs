//! A modal dialog built on the native `<dialog>` element: `showModal()` gives the backdrop,
//! the focus trap, `aria-modal` semantics and Escape to close, with no script of our own.
//! When it closes (or is dropped), focus goes back to the element that had it when it opened
//! (the button that opened it); if that element is gone (a deleted row's button), to the
//! page's heading, never to `<body>`.

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
    // The element focused before the dialog opened: the opener.
    let opener = StoredValue::new_local(None::<web_sys::HtmlElement>);
    Effect::new(move |_| {
        let want_open = open.get();
        let Some(el) = dialog.get() else { return };
        if want_open && !el.open() {
            opener.set_value(focused());
            let _ = el.show_modal();
        } else if !want_open && el.open() {
            el.close();
            return_focus(opener);
        }
    });
    on_cleanup(move || {
        // Dropped while open: close it first, or the page behind is still inert.
        if let Some(el) = dialog.try_get_untracked().flatten()
            && el.open()
        {
            el.close();
        }
        return_focus(opener);
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

/// The element that has focus now (not `<body>`).
fn focused() -> Option<web_sys::HtmlElement> {
    use wasm_bindgen::JsCast as _;
    let document = leptos::prelude::document();
    let active = document.active_element()?;
    if document.body().is_some_and(|b| AsRef::<web_sys::Element>::as_ref(&b) == &active) {
        return None;
    }
    active.dyn_into().ok()
}

/// Focuses the opener kept in `opener` (once), if it is still on the page and can take focus;
/// else the page's heading (made focusable by script only).
fn return_focus(opener: StoredValue<Option<web_sys::HtmlElement>, LocalStorage>) {
    use wasm_bindgen::JsCast as _;
    let Some(Some(kept)) = opener.try_update_value(Option::take) else { return };
    if kept.is_connected() && !kept.has_attribute("disabled") {
        let el = kept;
        let _ = el.focus();
        return;
    }
    let heading = leptos::prelude::document().query_selector("main h1, h1").ok().flatten();
    if let Some(h) = heading.and_then(|h| h.dyn_into::<web_sys::HtmlElement>().ok()) {
        if !h.has_attribute("tabindex") {
            let _ = h.set_attribute("tabindex", "-1");
        }
        let _ = h.focus();
    }
}
