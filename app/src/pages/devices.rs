//! The devices page: the tenant's registered devices, 50 a page, with their total count and
//! a search on the server (device id, name, certificate serial or fingerprint: `text=`; the
//! address's `?q=` fills it in, as other pages link to a device); each device's status, the
//! CA that authenticated it (linked to the trusted certificates page), its last token, the
//! certificate it last used; and for admins, disable/enable and delete (asked to confirm),
//! and a link to its audit records.
//! A device's details ([`certificates::DeviceDetails`]) list the certificates it got tokens
//! with and those the tenant's CA issued to it, to revoke, and why it was refused tokens.
//! Admins register a device that enrolls over EST with a one-time password, and see the
//! devices that have not enrolled yet ([`enrollment`]).

mod certificates;
mod enrollment;

use std::time::Duration;

use anchorage_common::refusal::openssl_serial;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{Device, DevicePage};
use crate::components::confirm_dialog::ConfirmDialog;
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
    // Linked from another page (`/devices?q=<device id>`): searched at once.
    let linked = query_in_address();
    let search = RwSignal::new(linked.clone());
    // The search sent: follows `search` once typing pauses.
    let text = RwSignal::new(linked);
    let page = RwSignal::new(1u32);
    // Bumped after a device was disabled, enabled or deleted: the page is loaded again.
    let changed = RwSignal::new(0u32);
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
        changed.track();
        let Some(client) = console.client() else { return };
        console.load_latest(
            generation,
            loading,
            answer,
            async move { client.list_devices(&text, page, PAGE_SIZE).await },
        );
    });

    let actions = Actions::new(console, changed);
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
        Some(Ok(p)) => device_table(p, actions).into_any(),
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
    // "1,234 devices", or how many match the search.
    let total = move || {
        answer.with(|a| a.as_ref().and_then(|a| a.as_ref().ok()).and_then(|p| p.total)).map(|n| {
            let searched = text.get();
            if searched.is_empty() {
                format::count_of(n, "device", "devices")
            } else {
                format!("{} match \u{201c}{searched}\u{201d}", format::count_of(n, "device", "devices"))
            }
        })
    };
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
                    <p class="muted">"Devices registered in bulk or by themselves, the CA and the certificate each last authenticated with."</p>
                    <p class="device-total" data-testid="device-total" role="status">{total}</p>
                </div>
                <div class="toolbar">
                    <label class="sr-only" for="device-search">"Search devices"</label>
                    <input
                        id="device-search"
                        type="search"
                        class="search"
                        placeholder="ID, name, serial or fingerprint"
                        title="Search by device ID, name, certificate serial number (hex or decimal) or SHA-1 fingerprint"
                        autocomplete="off"
                        prop:value=move || search.get()
                        on:input=on_search
                    />
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
            {actions.dialogs()}
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

/// The `q` parameter of the page's address (`/devices?q=<device id>`, as the audit page links
/// to a device).
fn query_in_address() -> String {
    let search = window().location().search().unwrap_or_default();
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|kv| kv.strip_prefix("q="))
        .map(|v| {
            let v = v.replace('+', " ");
            String::from(js_sys::decode_uri_component(&v).unwrap_or_else(|_| v.as_str().into()))
        })
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// A link to another console page, followed without reloading the console.
fn page_link(href: String, text: String, label: Option<String>, title: &'static str) -> impl IntoView {
    let console = Console::get();
    let to = href.clone();
    let open = move |ev: leptos::ev::MouseEvent| {
        if ev.button() == 0 && !ev.ctrl_key() && !ev.meta_key() && !ev.shift_key() && !ev.alt_key() {
            ev.prevent_default();
            console.router.go_path(&to);
        }
    };
    view! { <a href=href aria-label=label title=title on:click=open>{text}</a> }
}

/// What an admin asked to do to a device, waiting for confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    Disable { id: String, device_id: String },
    Delete { id: String, device_id: String, name: Option<String> },
}

/// The admins' actions on devices: disable (confirmed), enable, delete (confirmed).
#[derive(Clone, Copy)]
struct Actions {
    console: Console,
    changed: RwSignal<u32>,
    pending: RwSignal<Option<Pending>>,
    busy: RwSignal<bool>,
    error: RwSignal<Option<String>>,
}

impl Actions {
    fn new(console: Console, changed: RwSignal<u32>) -> Self {
        Self { console, changed, pending: RwSignal::new(None), busy: RwSignal::new(false), error: RwSignal::new(None) }
    }

    fn allowed(&self) -> bool {
        !self.console.session.read_only()
    }

    fn ask(&self, what: Pending) {
        if self.allowed() {
            self.error.set(None);
            self.pending.set(Some(what));
        }
    }

    /// Runs a change; on success the list is loaded again and `done` is said.
    fn run(self, id: String, enabled: Option<bool>, done: String) {
        let Some(client) = self.console.client() else { return };
        if self.busy.get_untracked() {
            return;
        }
        self.busy.set(true);
        self.error.set(None);
        spawn_local(async move {
            let answer = match enabled {
                Some(on) => client.set_device_enabled(&id, on).await.map(|_| ()),
                None => client.delete_device(&id).await,
            };
            self.busy.try_set(false);
            match answer {
                Ok(()) => {
                    self.pending.try_set(None);
                    self.console.toast(done);
                    self.changed.try_update(|n| *n += 1);
                }
                Err(e) => {
                    let message = self.console.explain(&e);
                    if self.pending.try_with_untracked(Option::is_some) == Some(true) {
                        self.error.try_set(message);
                    } else if let Some(m) = message {
                        self.console.toast(format!("The device could not be changed: {m}"));
                    }
                }
            }
        });
    }

    fn enable(self, id: String, device_id: String) {
        self.run(id, Some(true), format!("Device {device_id} enabled."));
    }

    fn confirm(self) {
        match self.pending.get_untracked() {
            Some(Pending::Disable { id, device_id }) => {
                self.run(id, Some(false), format!("Device {device_id} disabled."))
            }
            Some(Pending::Delete { id, device_id, .. }) => self.run(id, None, format!("Device {device_id} deleted.")),
            None => {}
        }
    }

    fn dialogs(self) -> impl IntoView {
        let disabling = Signal::derive(move || matches!(self.pending.get(), Some(Pending::Disable { .. })));
        let deleting = Signal::derive(move || matches!(self.pending.get(), Some(Pending::Delete { .. })));
        let message = Signal::derive(move || match self.pending.get() {
            Some(Pending::Disable { device_id, .. }) => format!(
                "Device \u{201c}{device_id}\u{201d} will be refused tokens, and the token it holds stops working at once. \
                 You can enable it again later."
            ),
            Some(Pending::Delete { device_id, name, .. }) => {
                let named = name.filter(|n| *n != device_id).map(|n| format!(" ({n})")).unwrap_or_default();
                format!(
                    "Device \u{201c}{device_id}\u{201d}{named} will be deleted with its device user, its credentials, its \
                     tokens and its external IDs. It can get a token again only if it is registered again."
                )
            }
            None => String::new(),
        });
        let cancel = Callback::new(move |()| self.pending.set(None));
        let confirm = Callback::new(move |()| self.confirm());
        view! {
            <ConfirmDialog
                open=disabling
                title="Disable device?"
                message=message
                confirm_text="Disable"
                busy=self.busy
                error=self.error
                on_confirm=confirm
                on_cancel=cancel
            />
            <ConfirmDialog
                open=deleting
                title="Delete device?"
                message=message
                confirm_text="Delete"
                busy=self.busy
                error=self.error
                on_confirm=confirm
                on_cancel=cancel
            />
        }
    }
}

fn device_table(page: DevicePage, actions: Actions) -> impl IntoView {
    let shown = page.devices.len() as u64;
    let rows = page.devices.into_iter().map(|d| device_row(d, actions)).collect_view();
    view! {
        <p class="muted summary">{format::count_of(shown, "device on this page", "devices on this page")}</p>
        <div class="table-wrap">
            <table class="devices">
                <thead>
                    <tr>
                        <th scope="col">"Device ID"</th>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Authenticated by"</th>
                        <th scope="col">"Last token"</th>
                        <th scope="col">"Certificate last used"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

fn device_row(device: Device, actions: Actions) -> impl IntoView {
    let reg = device.registration;
    let dash = || "—".to_string();
    let id = reg.as_ref().map_or_else(|| device.id.clone(), |r| r.device_id.clone());
    let user_name = reg.as_ref().map(|r| r.user_name.clone()).filter(|u| !u.is_empty());
    let expanded = RwSignal::new(false);
    let details_id = format!("device-details-{}", device.id);
    let details_label = format!("Details of {id}");
    let details_device = id.clone();
    let how = reg.as_ref().map(|r| format!("{} · {}", auth_type(&r.auth_type), registered_by(&r.registered_by)));
    let token = reg.as_ref().and_then(|r| r.last_token_time.as_deref()).map(format::timestamp);
    let status = match &reg {
        None => view! { <span class="muted">"—"</span> }.into_any(),
        Some(r) => {
            let state = if r.enabled {
                view! { <span class="badge">"Enabled"</span> }.into_any()
            } else {
                view! { <span class="badge badge-danger">"Disabled"</span> }.into_any()
            };
            let never = token.is_none().then(|| view! { <span class="muted note">"Never got a token"</span> });
            view! { <span class="status-cell">{state}{never}</span> }.into_any()
        }
    };
    let ca = reg.as_ref().and_then(|r| r.last_ca_fingerprint.clone().map(|fp| (fp, r.last_ca_name.clone())));
    let authenticated_by = match ca {
        Some((fingerprint, Some(name))) => page_link(
            format!("/trusted-certificates?q={fingerprint}"),
            name.clone(),
            Some(format!("Trusted certificate {name}")),
            "Show this trusted certificate",
        )
        .into_any(),
        Some((fingerprint, None)) => view! {
            <span class="muted" title=format!("SHA-1 fingerprint {fingerprint}")>"A CA no longer trusted"</span>
        }
        .into_any(),
        None => view! { <span class="muted">"—"</span> }.into_any(),
    };
    let serial = reg.as_ref().and_then(|r| {
        r.last_certificate_serial_hex.as_deref().map(openssl_serial).or_else(|| r.last_certificate_serial.clone())
    });
    let fingerprint = reg.as_ref().and_then(|r| r.last_certificate_fingerprint.clone());
    let expiry = reg.as_ref().and_then(|r| r.last_certificate_not_after.as_deref()).map(format::timestamp);
    let certificate = match (serial, fingerprint) {
        (None, None) => view! { <span class="muted">"—"</span> }.into_any(),
        (serial, fingerprint) => view! {
            <dl class="props compact">
                <div><dt>"Serial (hex)"</dt><dd><code>{serial.unwrap_or_else(dash)}</code></dd></div>
                <div><dt>"Fingerprint"</dt><dd><code class="fingerprint">{fingerprint.unwrap_or_else(dash)}</code></dd></div>
                {expiry.map(|e| view! { <div><dt>"Expires"</dt><dd>{e}</dd></div> })}
            </dl>
        }
        .into_any(),
    };
    let audit = page_link(
        format!("/audit?device={}", js_sys::encode_uri_component(&id)),
        "Audit records".into(),
        Some(format!("Audit records of {id}")),
        "This device's audit records",
    );
    let admin = actions.allowed() && reg.is_some();
    let enabled = reg.as_ref().is_some_and(|r| r.enabled);
    let mo = device.id.clone();
    let change = admin.then(|| {
        let (mo, device_id) = (mo.clone(), id.clone());
        if enabled {
            let label = format!("Disable {id}");
            view! {
                <button
                    type="button"
                    class="button small"
                    aria-label=label
                    on:click=move |_| actions.ask(Pending::Disable { id: mo.clone(), device_id: device_id.clone() })
                >
                    "Disable"
                </button>
            }
            .into_any()
        } else {
            let label = format!("Enable {id}");
            view! {
                <button
                    type="button"
                    class="button small"
                    aria-label=label
                    disabled=move || actions.busy.get()
                    on:click=move |_| actions.enable(mo.clone(), device_id.clone())
                >
                    "Enable"
                </button>
            }
            .into_any()
        }
    });
    let delete = admin.then(|| {
        let (mo, device_id, name) = (mo.clone(), id.clone(), device.name.clone());
        let label = format!("Delete {id}");
        view! {
            <button
                type="button"
                class="button small danger"
                aria-label=label
                on:click=move |_| {
                    actions.ask(Pending::Delete { id: mo.clone(), device_id: device_id.clone(), name: name.clone() })
                }
            >
                "Delete"
            </button>
        }
    });
    view! {
        <tr>
            <th scope="row" data-label="Device ID"><code>{id}</code></th>
            <td data-label="Name">
                <span class="stack">
                    <span>{device.name.unwrap_or_default()}</span>
                    <span class="muted note">{device.device_type.unwrap_or_default()}</span>
                </span>
            </td>
            <td data-label="Status">{status}</td>
            <td data-label="Authenticated by">
                <span class="stack">
                    {authenticated_by}
                    <span class="muted note">{how.unwrap_or_else(dash)}</span>
                </span>
            </td>
            <td data-label="Last token">{token.unwrap_or_else(dash)}</td>
            <td data-label="Certificate last used">{certificate}</td>
            <td class="actions device-actions">
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
                {audit}
                {change}
                {delete}
            </td>
        </tr>
        {move || match (expanded.get(), user_name.clone()) {
            (true, Some(user_name)) => Some(view! {
                <tr class="details-row" id=details_id.clone()>
                    <td colspan="7">
                        <DeviceDetails user_name=user_name device_id=details_device.clone() />
                    </td>
                </tr>
            }),
            _ => None,
        }}
    }
}
