//! The devices page: the tenant's registered devices, 50 a page, with a search by name or id
//! (`text=`), how each authenticates, who registered it, and the certificate it last used.
//! A device's details ([`certificates::DeviceDetails`]) list the certificates it got tokens
//! with and those the tenant's CA issued to it, to revoke, and why it was refused tokens.
//! Admins register a device that enrolls over EST with a one-time password, and see the
//! devices that have not enrolled yet ([`enrollment`]).

mod certificates;
mod enrollment;

use std::time::Duration;

use leptos::prelude::*;

use crate::api::{Device, DevicePage};
use crate::components::modal::Modal;
use crate::components::read_only;
use crate::context::Console;
use crate::format;
use certificates::DeviceDetails;
use enrollment::{RegisterDevice, Waiting};

/// Devices per page.
const PAGE_SIZE: u32 = 50;
/// How long typing must pause before a search is sent.
const SEARCH_DELAY: Duration = Duration::from_millis(300);

/// The devices page.
#[component]
pub fn DevicesPage() -> impl IntoView {
    let console = Console::get();
    let search = RwSignal::new(String::new());
    // The search sent: follows `search` once typing pauses.
    let text = RwSignal::new(String::new());
    let page = RwSignal::new(1u32);
    let answer = RwSignal::new(None::<Result<DevicePage, String>>);
    let loading = RwSignal::new(false);
    let generation = StoredValue::new(0u64);

    let typed = StoredValue::new(0u64);
    let on_search = move |ev: leptos::ev::Event| {
        search.set(event_target_value(&ev));
        let n = typed.get_value() + 1;
        typed.set_value(n);
        set_timeout(
            move || {
                if typed.try_get_value() == Some(n) {
                    text.set(search.get_untracked().trim().to_string());
                    page.set(1);
                }
            },
            SEARCH_DELAY,
        );
    };

    // Loads whenever the search or the page changes.
    Effect::new(move |_| {
        let text = text.get();
        let page = page.get();
        let Some(client) = console.client() else { return };
        console.load_latest(
            generation,
            loading,
            answer,
            async move { client.list_devices(&text, page, PAGE_SIZE).await },
        );
    });

    let body = move || match answer.get() {
        None => view! { <p class="placeholder" role="status">"Loading devices…"</p> }.into_any(),
        Some(Err(message)) => view! {
            <div class="error-box" role="alert">
                <p><strong>"The devices could not be loaded."</strong></p>
                <p>{message}</p>
            </div>
        }
        .into_any(),
        Some(Ok(p)) if p.devices.is_empty() => {
            let searched = text.get_untracked();
            view! {
                <div class="empty">
                    {if searched.is_empty() {
                        view! {
                            <p class="empty-title">"No devices to display."</p>
                            <p>"Register devices in bulk, or let devices with a trusted certificate register themselves."</p>
                        }
                        .into_any()
                    } else {
                        view! { <p class="empty-title">"No device matches \u{201c}" {searched} "\u{201d}."</p> }.into_any()
                    }}
                </div>
            }
            .into_any()
        }
        Some(Ok(p)) => device_table(p).into_any(),
    };

    // EST enrollment: the devices waiting for it, and the "Register device" dialog.
    let waiting = Waiting::start(console);
    let registering = RwSignal::new(false);
    let read_only = Signal::derive(move || console.session.read_only());
    // Opened by the platform's enrollment link: the dialog, filled in from it.
    let prefill = enrollment::link_prefill();
    if prefill.is_some() && !read_only.get_untracked() {
        registering.set(true);
    }
    let open_register = move |_| {
        if !read_only.get_untracked() {
            registering.set(true);
        }
    };
    let close_register = Callback::new(move |()| registering.set(false));
    let registered = Callback::new(move |()| waiting.reload(console));

    let pages =
        move || answer.with(|a| a.as_ref().and_then(|a| a.as_ref().ok()).map(|p| (p.page, p.pages, p.has_next)));
    let pager = move || {
        pages().map(|(current, total, has_next)| {
            view! {
                <nav class="pager" aria-label="Pages">
                    <button type="button" class="button small" disabled=move || current <= 1 || loading.get() on:click=move |_| page.set(current.saturating_sub(1).max(1))>
                        "Previous"
                    </button>
                    <span class="muted">{format!("Page {current} of {total}")}</span>
                    <button type="button" class="button small" disabled=move || !has_next || loading.get() on:click=move |_| page.set(current + 1)>
                        "Next"
                    </button>
                </nav>
            }
        })
    };

    view! {
        <section class="page" aria-busy=move || loading.get().then_some("true")>
            <header class="page-header">
                <div>
                    <h1>"Devices"</h1>
                    <p class="muted">"Devices registered in bulk or by themselves, and the certificate each last authenticated with."</p>
                </div>
                <div class="toolbar">
                    <label class="sr-only" for="device-search">"Search devices"</label>
                    <input id="device-search" type="search" class="search" placeholder="Search devices" autocomplete="off" prop:value=move || search.get() on:input=on_search />
                    <button
                        type="button"
                        class="button primary"
                        data-testid="register-device"
                        disabled=read_only
                        title=read_only::title(console.session)
                        on:click=open_register
                    >
                        "Register device"
                    </button>
                </div>
            </header>
            {enrollment::waiting_list(waiting)}
            {body}
            {pager}
            <Modal open=registering labelled_by="register-device-title" on_dismiss=close_register class="modal-wide">
                <RegisterDevice on_done=close_register on_registered=registered prefill=prefill.clone() />
            </Modal>
        </section>
    }
}

fn registered_by(value: &str) -> String {
    match value {
        "BULK" => "Bulk".into(),
        "AUTO_REGISTRATION" => "Auto-registration".into(),
        other => other.into(),
    }
}

fn auth_type(value: &str) -> String {
    match value {
        "CERTIFICATES" => "Certificate".into(),
        "BASIC" => "Password".into(),
        other => other.into(),
    }
}

fn device_table(page: DevicePage) -> impl IntoView {
    let shown = page.devices.len() as u64;
    let rows = page.devices.into_iter().map(device_row).collect_view();
    view! {
        <p class="muted summary">{format::count_of(shown, "device on this page", "devices on this page")}</p>
        <div class="table-wrap">
            <table class="devices">
                <thead>
                    <tr>
                        <th scope="col">"Device ID"</th>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Authentication"</th>
                        <th scope="col">"Registered by"</th>
                        <th scope="col">"Last token"</th>
                        <th scope="col">"Certificate last used"</th>
                        <th scope="col"><span class="sr-only">"Details"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

fn device_row(device: Device) -> impl IntoView {
    let reg = device.registration;
    let dash = || "—".to_string();
    let id = reg.as_ref().map_or_else(|| device.id.clone(), |r| r.device_id.clone());
    let user_name = reg.as_ref().map(|r| r.user_name.clone()).filter(|u| !u.is_empty());
    let expanded = RwSignal::new(false);
    let details_id = format!("device-details-{}", device.id);
    let details_label = format!("Details of {id}");
    let details_device = id.clone();
    let auth = reg.as_ref().map_or_else(dash, |r| auth_type(&r.auth_type));
    let by = reg.as_ref().map_or_else(dash, |r| registered_by(&r.registered_by));
    let token = reg.as_ref().and_then(|r| r.last_token_time.as_deref()).map_or_else(dash, format::timestamp);
    let serial = reg.as_ref().and_then(|r| r.last_certificate_serial.clone());
    let fingerprint = reg.as_ref().and_then(|r| r.last_certificate_fingerprint.clone());
    let certificate = match (serial, fingerprint) {
        (None, None) => view! { <span class="muted">"—"</span> }.into_any(),
        (serial, fingerprint) => view! {
            <dl class="props compact">
                <div><dt>"Serial"</dt><dd><code>{serial.unwrap_or_else(dash)}</code></dd></div>
                <div><dt>"Fingerprint"</dt><dd><code class="fingerprint">{fingerprint.unwrap_or_else(dash)}</code></dd></div>
            </dl>
        }
        .into_any(),
    };
    view! {
        <tr>
            <th scope="row" data-label="Device ID"><code>{id}</code></th>
            <td data-label="Name">{device.name.unwrap_or_default()}</td>
            <td data-label="Type">{device.device_type.unwrap_or_default()}</td>
            <td data-label="Authentication">{auth}</td>
            <td data-label="Registered by">{by}</td>
            <td data-label="Last token">{token}</td>
            <td data-label="Certificate last used">{certificate}</td>
            <td class="actions">
                {user_name.is_some().then(|| view! {
                    <button
                        type="button"
                        class="button small"
                        aria-expanded=move || if expanded.get() { "true" } else { "false" }
                        aria-controls=details_id.clone()
                        aria-label=details_label
                        on:click=move |_| expanded.update(|e| *e = !*e)
                    >
                        <span class="chevron" aria-hidden="true"></span>
                        "Details"
                    </button>
                })}
            </td>
        </tr>
        {move || match (expanded.get(), user_name.clone()) {
            (true, Some(user_name)) => Some(view! {
                <tr class="details-row" id=details_id.clone()>
                    <td colspan="8">
                        <DeviceDetails user_name=user_name device_id=details_device.clone() />
                    </td>
                </tr>
            }),
            _ => None,
        }}
    }
}
