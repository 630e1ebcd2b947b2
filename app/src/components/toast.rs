//! Toasts: short confirmations ("Certificate saved.") that announce themselves to screen
//! readers and fade after a few seconds.

use std::time::Duration;

use leptos::prelude::*;

/// How long a toast stays.
const TOAST_LIFETIME: Duration = Duration::from_secs(6);

/// The toast queue, shared through [`crate::context::Console`].
#[derive(Debug, Clone, Copy)]
pub struct Toasts {
    items: RwSignal<Vec<(u64, String)>>,
    next_id: StoredValue<u64>,
}

impl Toasts {
    /// An empty queue.
    pub fn new() -> Self {
        Toasts { items: RwSignal::new(Vec::new()), next_id: StoredValue::new(0) }
    }

    /// Shows `message` for a few seconds.
    pub fn show(&self, message: String) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        self.items.update(|items| items.push((id, message)));
        let this = *self;
        set_timeout(move || this.dismiss(id), TOAST_LIFETIME);
    }

    fn dismiss(&self, id: u64) {
        self.items.try_update(|items| items.retain(|(i, _)| *i != id));
    }
}

impl Default for Toasts {
    fn default() -> Self {
        Self::new()
    }
}

/// The live region where toasts appear.
#[component]
pub fn ToastRegion(
    /// The queue to show.
    toasts: Toasts,
) -> impl IntoView {
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || toasts.items.get() key=|(id, _)| *id let((id, message))>
                <div class="toast">
                    <span>{message}</span>
                    <button type="button" class="toast-close" aria-label="Dismiss" on:click=move |_| toasts.dismiss(id)>
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}
