//! An on/off switch: a native checkbox with `role="switch"`, so it is focusable, toggles with
//! the space bar and is announced as a switch with its state.

use leptos::prelude::*;

/// A switch whose state belongs to the caller: clicking asks `on_change` for the new state,
/// and the switch shows whatever `checked` says afterwards.
#[component]
pub fn Switch(
    /// The state shown.
    #[prop(into)]
    checked: Signal<bool>,
    /// The accessible name, e.g. `Enabled: My CA`.
    #[prop(into)]
    label: Signal<String>,
    /// Visible text beside the switch when on.
    #[prop(default = "Enabled")]
    on_text: &'static str,
    /// Visible text beside the switch when off.
    #[prop(default = "Disabled")]
    off_text: &'static str,
    /// While true, the change in flight is shown and further clicks are ignored.
    #[prop(into, default = Signal::stored(false))]
    busy: Signal<bool>,
    /// While true (a reader is logged in), the switch is disabled and says why.
    #[prop(into, default = Signal::stored(false))]
    read_only: Signal<bool>,
    /// Called with the state the user asked for.
    on_change: Callback<bool>,
) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let changed = move |_| {
        let Some(el) = input.get_untracked() else { return };
        let wanted = el.checked();
        if busy.get_untracked() || read_only.get_untracked() {
            // One change at a time: undo the click the browser already applied.
            el.set_checked(!wanted);
            return;
        }
        on_change.run(wanted);
    };
    let title = move || read_only.get().then_some(super::read_only::READ_ONLY);
    view! {
        <label class="switch" class:busy=busy title=title>
            <input
                type="checkbox"
                role="switch"
                node_ref=input
                prop:checked=checked
                disabled=read_only
                title=title
                aria-label=label
                aria-busy=move || busy.get().then_some("true")
                on:change=changed
            />
            <span class="switch-track" aria-hidden="true"></span>
            <span class="switch-text" aria-hidden="true">{move || if checked.get() { on_text } else { off_text }}</span>
        </label>
    }
}
