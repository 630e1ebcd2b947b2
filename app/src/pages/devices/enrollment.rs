//! EST enrollment on the devices page: "Register device" (a new device request with a one-time
//! password generated in the browser, shown once with the commands that enroll the device), and
//! the devices that were registered so but have not enrolled yet ("Waiting for enrollment"),
//! each of which an admin can delete (its one-time password then no longer works).
//!
//! The one-time password is made from the browser's cryptographic generator
//! (`crypto.getRandomValues`) by `anchorage_common::est::otp_from_random`, and the device id is
//! checked as it is typed with the rule the server applies (`check_device_id`).

use anchorage_common::api::{CreateNewDeviceRequest, NewDeviceRequest};
use anchorage_common::device::check_device_id;
use anchorage_common::est;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::NewDeviceRequestPage;
use crate::browser;
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::data_table::data_table;
use crate::context::Console;
use crate::format;
use crate::router::{Link, Route};

/// Requests per page of the "Waiting for enrollment" list.
const PAGE_SIZE: u32 = 20;

/// The new device requests as the page holds them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Waiting {
    answer: RwSignal<Option<Result<NewDeviceRequestPage, String>>>,
    loading: RwSignal<bool>,
    /// Only the answer to the latest request is shown.
    generation: StoredValue<u64>,
    page: RwSignal<u32>,
}

impl Waiting {
    /// Creates the list and loads its first page.
    pub fn start(console: Console) -> Self {
        let waiting = Waiting {
            answer: RwSignal::new(None),
            loading: RwSignal::new(false),
            generation: StoredValue::new(0),
            page: RwSignal::new(1),
        };
        waiting.reload(console);
        waiting
    }

    /// Loads the current page again.
    pub fn reload(self, console: Console) {
        let Some(client) = console.client() else { return };
        let page = self.page.get_untracked();
        console.load_latest(self.generation, self.loading, self.answer, async move {
            client.new_device_requests(page, PAGE_SIZE).await
        });
    }

    fn go(self, console: Console, page: u32) {
        self.page.set(page.max(1));
        self.reload(console);
    }
}

/// Capitalised, with a full stop: a rule's message as the form shows it.
fn sentence(result: Result<(), String>) -> Option<String> {
    result.err().map(|e| format::sentence(&e))
}

/// The "Waiting for enrollment" list: shown while devices wait (or when it cannot be loaded).
pub(super) fn waiting_list(waiting: Waiting) -> impl IntoView {
    let console = Console::get();
    let read_only = Signal::derive(move || console.session.read_only());
    let deleting = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    let confirm = Callback::new(move |()| {
        let Some(id) = deleting.get_untracked() else { return };
        let Some(client) = console.client() else { return };
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let done = client.delete_new_device_request(&id).await;
            busy.try_set(false);
            match done {
                // Gone already (it enrolled meanwhile, or someone else deleted it): as good.
                Ok(()) | Err(crate::api::ApiError::Status { status: 404, .. }) => {
                    deleting.try_set(None);
                    console.toast(format!("The enrollment of \u{201c}{id}\u{201d} was deleted."));
                    waiting.reload(console);
                }
                Err(e) => {
                    error.try_set(console.explain(&e));
                }
            }
        });
    });
    let ask = Callback::new(move |id: String| {
        if !read_only.get_untracked() {
            error.set(None);
            deleting.set(Some(id));
        }
    });
    let message = Signal::derive(move || {
        deleting.with(|id| {
            id.as_ref()
                .map(|id| {
                    format!(
                        "You are about to delete the enrollment of device \u{201c}{id}\u{201d}: its one-time password \
                         no longer works, and the device cannot enroll until it is registered again."
                    )
                })
                .unwrap_or_default()
        })
    });

    let body = move || {
        waiting.answer.with(|answer| match answer {
            None => None,
            Some(Err(message)) => Some(
                view! {
                    <div class="error-box" role="alert">
                        <p><strong>"The devices waiting for enrollment could not be loaded."</strong></p>
                        <p>{message.clone()}</p>
                    </div>
                }
                .into_any(),
            ),
            Some(Ok(p)) if p.requests.is_empty() && p.page <= 1 => None,
            Some(Ok(p)) => Some(requests_table(p.clone(), waiting, read_only, ask).into_any()),
        })
    };
    let shown = move || {
        body().map(|body| view! {
        <section class="field waiting" aria-labelledby="waiting-title" data-testid="waiting-enrollment">
            <div class="preview-head">
                <h2 id="waiting-title">"Waiting for enrollment"</h2>
                <button
                    type="button"
                    class="button small"
                    data-testid="waiting-refresh"
                    disabled=move || waiting.loading.get()
                    on:click=move |_| waiting.reload(console)
                >
                    "Refresh"
                </button>
            </div>
            <p class="muted">
                "Devices registered with a one-time password that have not enrolled yet. Each disappears from here once its device has enrolled."
            </p>
            {body}
        </section>
    })
    };

    view! {
        {shown}
        <ConfirmDialog
            open=Signal::derive(move || deleting.with(Option::is_some))
            title="Delete enrollment?"
            message=message
            confirm_text="Delete"
            busy=busy
            error=error
            on_confirm=confirm
            on_cancel=Callback::new(move |()| deleting.set(None))
        />
    }
}

/// The status of a new device request, in words.
fn status(value: &str) -> String {
    match value {
        "WAITING_FOR_CONNECTION" => "Waiting for the device".into(),
        "PENDING_ACCEPTANCE" => "Pending acceptance".into(),
        "ACCEPTED" => "Accepted".into(),
        "BLOCKED" => "Blocked".into(),
        other => other.into(),
    }
}

/// Until when a request's one-time password can be used, in words.
fn valid_until(request: &NewDeviceRequest) -> String {
    match (&request.enrollment_token_valid_until, request.enrollment_token_set) {
        (Some(until), _) => format::timestamp(until),
        (None, true) => "—".into(),
        (None, false) => "No one-time password".into(),
    }
}

fn requests_table(
    page: NewDeviceRequestPage,
    waiting: Waiting,
    read_only: Signal<bool>,
    ask: Callback<String>,
) -> impl IntoView {
    let console = Console::get();
    let read_only_title = move || read_only.get().then_some(crate::components::read_only::READ_ONLY);
    let rows = page
        .requests
        .into_iter()
        .map(|r| {
            let until = valid_until(&r);
            let id = r.id.clone();
            let label = format!("Delete the enrollment of {id}");
            view! {
                <tr data-testid="waiting-request" data-device-id=r.id.clone()>
                    <th scope="row" data-label="Device ID"><code>{r.id.clone()}</code></th>
                    <td data-label="Type">{r.device_type.clone().unwrap_or_default()}</td>
                    <td data-label="Status">{status(&r.status)}</td>
                    <td class="time" data-label="One-time password valid until">{until}</td>
                    <td class="actions">
                        <button
                            type="button"
                            class="button small danger-outline"
                            aria-label=label
                            data-testid="waiting-delete"
                            disabled=read_only
                            title=read_only_title
                            on:click=move |_| ask.run(id.clone())
                        >
                            "Delete"
                        </button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let (current, total, has_next) = (page.page, page.pages, page.has_next);
    view! {
        {data_table(
            "waiting-requests",
            &["Device ID", "Type", "Status", "One-time password valid until", ""],
            rows,
        )}
        {(current > 1 || has_next).then(|| view! {
            <nav class="pager" aria-label="Pages of devices waiting for enrollment">
                <button
                    type="button"
                    class="button small"
                    disabled=current <= 1
                    on:click=move |_| waiting.go(console, current.saturating_sub(1))
                >
                    "Previous"
                </button>
                <span class="muted">{format!("Page {current} of {total}")}</span>
                <button type="button" class="button small" disabled=!has_next on:click=move |_| waiting.go(console, current + 1)>
                    "Next"
                </button>
            </nav>
        })}
    }
}

/// What the dialog shows after a device was registered: the one-time password and the
/// commands, once.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Registered {
    id: String,
    otp: String,
    valid_until: Option<String>,
    enroll: String,
    openssl: String,
}

/// Whether the tenant has a certificate authority: `None` until known.
type HasCa = Option<Result<bool, String>>;

/// The "Register device" dialog's content (created each time it opens). `on_done` closes it;
/// `on_registered` learns that a request was made (the list reloads).
/// What the platform's enrollment link asks for: the device id and its one-time password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Prefill {
    pub id: String,
    pub otp: String,
}

/// The device id and one-time password of the platform console's enrollment link
/// (`…/apps/devicemanagement/index.html#/deviceregistration?externalId=…&one-time-password=…`,
/// platform-api §6.4), when the page was opened by one; the address is then set to this page's
/// own, so the password does not stay in the address bar or the history.
pub(super) fn link_prefill() -> Option<Prefill> {
    let location = web_sys::window()?.location();
    if location.pathname().ok()?.trim_end_matches('/') != crate::router::ENROLLMENT_LINK_PATH {
        return None;
    }
    let hash = location.hash().ok()?;
    let query = hash.strip_prefix("#/deviceregistration?")?;
    let params = web_sys::UrlSearchParams::new_with_str(query).ok()?;
    let prefill = Prefill { id: params.get("externalId")?, otp: params.get("one-time-password").unwrap_or_default() };
    if let Ok(history) = web_sys::window()?.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(Route::Devices.path()));
    }
    Some(prefill)
}

#[component]
pub(super) fn RegisterDevice(
    on_done: Callback<()>,
    on_registered: Callback<()>,
    /// From the platform's enrollment link: the id, and the password to use instead of a new one.
    prefill: Option<Prefill>,
) -> impl IntoView {
    let console = Console::get();
    let given_otp = StoredValue::new(prefill.as_ref().map(|p| p.otp.clone()).filter(|p| !p.is_empty()));
    let id = RwSignal::new(prefill.map(|p| p.id).unwrap_or_default());
    let device_type = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let tried = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let registered = RwSignal::new(None::<Registered>);
    let has_ca = RwSignal::new(None as HasCa);

    if let Some(client) = console.client() {
        spawn_local(async move {
            let answer = match client.certificate_authorities().await {
                Ok(cas) => Ok(cas.iter().any(|c| c.tenant_certificate_authority)),
                Err(e) => match console.explain(&e) {
                    Some(message) => Err(message),
                    None => return,
                },
            };
            has_ca.try_set(Some(answer));
        });
    }

    // The id's rule, as it is typed (once something is typed, or a submission was tried).
    let id_error = move || {
        id.with(|v| {
            let v = v.trim();
            if v.is_empty() && !tried.get() { None } else { sentence(check_device_id(v)) }
        })
    };

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        tried.set(true);
        let device_id = id.get_untracked().trim().to_string();
        if busy.get_untracked() || check_device_id(&device_id).is_err() {
            return;
        }
        let Some(client) = console.client() else { return };
        let otp = match given_otp.get_value() {
            // The link's password, if the rule allows it.
            Some(given) => match est::check_otp(&given) {
                Ok(()) => given,
                Err(e) => {
                    error.set(Some(format!("The link's one-time password cannot be used: {e}.")));
                    return;
                }
            },
            None => {
                let Some(random) = browser::random_bytes::<{ est::OTP_GENERATED_CHARS }>() else {
                    error.set(Some(
                        "This browser cannot make a one-time password (it offers no crypto.getRandomValues).".into(),
                    ));
                    return;
                };
                est::otp_from_random(&random)
            }
        };
        let optional = |s: RwSignal<String>| Some(s.get_untracked().trim().to_string()).filter(|s| !s.is_empty());
        let new = CreateNewDeviceRequest {
            id: device_id,
            device_type: optional(device_type),
            name: optional(name),
            group_id: None,
            enrollment_token: Some(otp.clone()),
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let answer = client.create_new_device_request(&new).await;
            busy.try_set(false);
            match answer {
                Ok(request) => {
                    let url = browser::origin();
                    registered.try_set(Some(Registered {
                        enroll: est::enroll_command(&url, &request.id, &otp),
                        openssl: est::openssl_curl_commands(&url, &request.id, &otp),
                        valid_until: request.enrollment_token_valid_until.clone(),
                        id: request.id,
                        otp,
                    }));
                    on_registered.run(());
                }
                Err(e) => {
                    error.try_set(console.explain(&e));
                }
            }
        });
    };

    let ca_notice = move || {
        match has_ca.get() {
        Some(Ok(false)) => Some(
            view! {
                <p class="notice" role="note" data-testid="register-no-ca">
                    "This tenant has no certificate authority yet, so a registered device cannot enroll until it has one. Create it on the "
                    <Link route=Route::TrustedCertificates>"Trusted certificates"</Link>
                    " page."
                </p>
            }
            .into_any(),
        ),
        Some(Err(message)) => Some(
            view! {
                <p class="hint">{format!("Whether this tenant has a certificate authority could not be checked: {message}")}</p>
            }
            .into_any(),
        ),
        _ => None,
    }
    };

    let form = move || {
        view! {
            <form novalidate on:submit=save>
                <h2 id="register-device-title" class="dialog-header">"Register device"</h2>
                <p class="muted">
                    "The device enrolls over EST with a one-time password made here: the tenant's certificate authority then issues its certificate."
                </p>
                {ca_notice}
                <div class="field">
                    <label for="register-id">"Device ID"</label>
                    <input
                        id="register-id"
                        type="text"
                        autocomplete="off"
                        spellcheck="false"
                        data-testid="register-id"
                        bind:value=id
                        aria-invalid=move || id_error().is_some().then_some("true")
                        aria-describedby="register-id-hint register-id-error"
                    />
                    <p class="hint" id="register-id-hint">
                        "The external id (c8y_Serial), which is also the common name (CN) of its certificate."
                    </p>
                    <p class="field-error" id="register-id-error" role="alert" data-testid="register-id-error">
                        {id_error}
                    </p>
                </div>
                <div class="field">
                    <label for="register-type">"Type (optional)"</label>
                    <input id="register-type" type="text" autocomplete="off" data-testid="register-type" bind:value=device_type />
                </div>
                <div class="field">
                    <label for="register-name">"Name (optional)"</label>
                    <input id="register-name" type="text" autocomplete="off" data-testid="register-name" bind:value=name />
                </div>
                {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="register-error">{e}</p> })}
                <div class="dialog-actions">
                    <button type="button" class="button" on:click=move |_| on_done.run(())>"Cancel"</button>
                    <button
                        type="submit"
                        class="button primary"
                        data-testid="register-submit"
                        disabled=move || busy.get() || id_error().is_some()
                    >
                        {move || if busy.get() { "Registering…" } else { "Register" }}
                    </button>
                </div>
            </form>
        }
    };

    move || match registered.get() {
        None => form().into_any(),
        Some(r) => registered_view(r, on_done).into_any(),
    }
}

/// A read-only text with a "Copy" button; when the browser does not allow copying, the text is
/// selected for Ctrl+C.
fn copyable(
    id: &'static str,
    label: &'static str,
    text: String,
    rows: &'static str,
    what: &'static str,
) -> impl IntoView {
    let console = Console::get();
    let area = NodeRef::<leptos::html::Textarea>::new();
    let for_copy = text.clone();
    let copy = move |_| {
        let text = for_copy.clone();
        spawn_local(async move {
            if browser::copy_text(&text).await.is_ok() {
                console.toast(format!("{what} copied to the clipboard."));
            } else if let Some(el) = area.get_untracked() {
                browser::select_all(&el);
                console.toast(format!(
                    "The browser did not allow copying: the {} is selected, press Ctrl+C.",
                    what.to_lowercase()
                ));
            }
        });
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <textarea id=id data-testid=id node_ref=area readonly rows=rows spellcheck="false" prop:value=text></textarea>
            <div class="inline">
                <button type="button" class="button small" data-testid=format!("{id}-copy") on:click=copy>
                    {format!("Copy {}", what.to_lowercase())}
                </button>
            </div>
        </div>
    }
}

fn registered_view(r: Registered, on_done: Callback<()>) -> impl IntoView {
    let until = r.valid_until.as_deref().map(|t| format!(" It can be used once, until {}.", format::timestamp(t)));
    view! {
        <div class="register-done" data-testid="register-done">
            <h2 id="register-device-title" class="dialog-header">{format!("Device \u{201c}{}\u{201d} registered", r.id)}</h2>
            <p>
                "Give the device this one-time password: it is shown only now, anchorage keeps no copy it can show again."
                {until}
            </p>
            {copyable("enrollment-otp", "One-time password", r.otp, "1", "One-time password")}
            {copyable("enroll-command", "Enroll with anchorage-device", r.enroll, "3", "Command")}
            {copyable("openssl-commands", "…or with openssl and curl", r.openssl, "6", "Commands")}
            <div class="dialog-actions">
                <button type="button" class="button primary" data-testid="register-close" on:click=move |_| on_done.run(())>
                    "Done"
                </button>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(until: Option<&str>, set: bool) -> NewDeviceRequest {
        NewDeviceRequest {
            id: "d1".into(),
            status: "WAITING_FOR_CONNECTION".into(),
            self_url: String::new(),
            tenant_id: "t1".into(),
            owner: String::new(),
            creation_time: String::new(),
            device_type: None,
            group_id: None,
            enrollment_token_set: set,
            enrollment_token_valid_until: until.map(str::to_string),
        }
    }

    #[test]
    fn requests_read_in_words() {
        assert_eq!(status("WAITING_FOR_CONNECTION"), "Waiting for the device");
        assert_eq!(status("SOMETHING_NEW"), "SOMETHING_NEW");
        assert_eq!(valid_until(&request(Some("2026-05-01T13:47:00.000Z"), true)), "2026-05-01 13:47 UTC");
        assert_eq!(valid_until(&request(None, false)), "No one-time password");
    }

    #[test]
    fn a_generated_password_passes_the_servers_rule() {
        let otp = est::otp_from_random(&[7; est::OTP_GENERATED_CHARS]);
        assert!(est::check_otp(&otp).is_ok());
        assert_eq!(sentence(check_device_id("has space")).map(|s| s.ends_with('.')), Some(true));
        assert_eq!(sentence(check_device_id("device-01")), None);
    }
}
