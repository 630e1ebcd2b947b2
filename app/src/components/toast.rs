//! Toasts: short confirmations ("Certificate saved.") that announce themselves to screen
//! readers and fade after a few seconds.
//!
//! Each toast is a plain element appended to the live region and removed by its timer or its
//! Dismiss button: the region's other toasts stay as they are (nothing is announced twice),
//! and no keyed list (`For`: its diffing and hash sets) is needed in the first load.

use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// How long a toast stays.
const TOAST_LIFETIME: Duration = Duration::from_secs(6);

/// The live region's element id.
const REGION: &str = "toasts";

/// Shows toasts in the [`ToastRegion`]; shared through [`crate::context::Console`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Toasts;

impl Toasts {
    /// The toasts of the page's region.
    pub fn new() -> Self {
        Toasts
    }

    /// Shows `message` for a few seconds.
    pub fn show(&self, message: String) {
        if let Some(toast) = toast(&message) {
            set_timeout(move || toast.remove(), TOAST_LIFETIME);
        }
    }
}

/// Appends a toast saying `message` to the region: `<div class="toast"><span>…</span><button
/// class="toast-close" aria-label="Dismiss">×</button></div>`.
fn toast(message: &str) -> Option<web_sys::Element> {
    let document = document();
    let region = document.get_element_by_id(REGION)?;
    let element = |tag: &str, class: &str, text: &str| {
        let e = document.create_element(tag).ok()?;
        if !class.is_empty() {
            e.set_class_name(class);
        }
        e.set_text_content(Some(text));
        Some(e)
    };
    let toast = element("div", "toast", "")?;
    let close = element("button", "toast-close", "×")?;
    close.set_attribute("type", "button").ok()?;
    close.set_attribute("aria-label", "Dismiss").ok()?;
    let text = element("span", "", message)?;
    toast.append_child(&text).ok()?;
    toast.append_child(&close).ok()?;
    region.append_child(&toast).ok()?;
    Some(toast)
}

/// The live region where toasts appear; a toast's Dismiss button removes it.
#[component]
pub fn ToastRegion() -> impl IntoView {
    let dismiss = |ev: leptos::ev::MouseEvent| {
        let button = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok());
        if let Some(button) = button.filter(|b| b.class_name() == "toast-close")
            && let Some(toast) = button.parent_element()
        {
            toast.remove();
        }
    };
    view! { <div id=REGION class="toasts" role="status" aria-live="polite" on:click=dismiss></div> }
}
