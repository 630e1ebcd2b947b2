//! A device's details on the devices page: the certificates it last got tokens with (its
//! provisioned certificates, newest first, at most 5) and those the tenant's certificate
//! authority issued to it over EST (its issued certificates), each of which an admin can revoke
//! (`PUT …/settings/crl` with its serial, as the platform's "X509" device tab does), and why
//! the device was refused tokens ([`Refusals`]).
//!
//! A revocation is enforced only while the tenant's offline check is on: after revoking, the
//! details say so, with a link to the settings, when it is off.

use anchorage_common::api::{IssuedCertificate, ProvisionedCertificate};
use anchorage_common::names;
use anchorage_common::options::CRL_OFFLINE_CHECK;
use anchorage_common::refusal::openssl_serial;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{Client, RefusalsOf};
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::data_table::{data_table, validity};
use crate::components::refusals::Refusals;
use crate::context::Console;
use crate::format;
use crate::router::{Link, Route};

/// A certificate of the device and, when it is in the revocation list, since when.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed<T> {
    cert: T,
    revoked_since: Option<String>,
}

/// The device's certificates: those it got tokens with, and those the tenant's CA issued to it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Certificates {
    provisioned: Vec<Listed<ProvisionedCertificate>>,
    issued: Vec<Listed<IssuedCertificate>>,
}

/// Since when the serial `serial_hex` is revoked, if it is. Whether it is revoked is a help, not
/// the point: unknown (`None`) when it cannot be read.
async fn revoked_since(client: &Client, serial_hex: &str) -> Option<String> {
    client.revocation_of(serial_hex).await.ok().flatten().map(|e| e.revocation_date)
}

/// The details of the device whose user is `user_name` (`device_<id>`).
#[component]
pub fn DeviceDetails(
    /// The device's user name.
    user_name: String,
    /// The device's external id, for messages.
    device_id: String,
) -> impl IntoView {
    let console = Console::get();
    let answer = RwSignal::new(None::<Result<Certificates, String>>);
    let loading = RwSignal::new(false);
    let generation = StoredValue::new(0u64);
    let user = StoredValue::new(user_name.clone());
    let device_id = StoredValue::new(device_id);

    let load = move || {
        let Some(client) = console.client() else { return };
        let user_name = user.get_value();
        console.load_latest(generation, loading, answer, async move {
            let device = client.device_user(&user_name).await?;
            let mut provisioned = Vec::new();
            for cert in device.provisioned_certificates.unwrap_or_default() {
                let revoked_since = revoked_since(&client, &cert.serial_number_in_hex).await;
                provisioned.push(Listed { cert, revoked_since });
            }
            let mut issued = Vec::new();
            for cert in device.issued_certificates.unwrap_or_default() {
                let revoked_since = revoked_since(&client, &cert.serial_number_in_hex).await;
                issued.push(Listed { cert, revoked_since });
            }
            Ok(Certificates { provisioned, issued })
        });
    };
    load();

    // The serial whose revocation is asked for, its progress and error; whether the offline
    // check is off.
    let revoking = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let offline_off = RwSignal::new(false);
    let read_only = Signal::derive(move || console.session.read_only());

    let ask = Callback::new(move |serial: String| {
        if !read_only.get_untracked() {
            error.set(None);
            revoking.set(Some(serial));
        }
    });
    let confirm = Callback::new(move |()| {
        let Some(serial) = revoking.get_untracked() else { return };
        let Some(client) = console.client() else { return };
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let done = client.revoke_serial(&serial).await;
            busy.set(false);
            match done {
                Ok(()) => {
                    revoking.set(None);
                    console.toast(format!("Certificate {} revoked.", openssl_serial(&serial)));
                    load();
                    // Said only when known to be off: an error here changes nothing done.
                    if let Ok(on) = client.switch(CRL_OFFLINE_CHECK).await {
                        offline_off.set(!on);
                    }
                }
                Err(e) => error.set(console.explain(&e)),
            }
        });
    });
    let message = Signal::derive(move || {
        revoking.with(|serial| {
            serial
                .as_ref()
                .map(|serial| {
                    format!(
                        "You are about to revoke the certificate with serial {} of device \"{}\". Once the \
                         offline check is on, the device is refused tokens with it. Entries cannot be removed from \
                         the revocation list through the API.",
                        openssl_serial(serial),
                        device_id.get_value()
                    )
                })
                .unwrap_or_default()
        })
    });

    let certificates = move || match answer.get() {
        None => view! { <p class="placeholder" role="status">"Loading certificates…"</p> }.into_any(),
        Some(Err(message)) => view! {
            <div class="error-box" role="alert">
                <p><strong>"The device's certificates could not be loaded."</strong></p>
                <p>{message}</p>
                <button type="button" class="button small" on:click=move |_| load()>"Try again"</button>
            </div>
        }
        .into_any(),
        Some(Ok(certs)) if certs.provisioned.is_empty() => {
            view! { <p class="muted">"The device has not got a token with a certificate yet."</p> }.into_any()
        }
        Some(Ok(certs)) => certificate_table(certs.provisioned, read_only, ask).into_any(),
    };
    // Only for devices that enrolled with the tenant's CA.
    let issued = move || {
        answer.with(|a| match a {
            Some(Ok(certs)) if !certs.issued.is_empty() => Some(certs.issued.clone()),
            _ => None,
        })
    };
    let issued = move || {
        issued().map(|issued| {
            view! {
                <section aria-label="Issued certificates" data-testid="issued-certificates">
                    <h3>"Issued certificates"</h3>
                    <p class="muted">
                        "The certificates the tenant's certificate authority issued to the device (EST enrollment), newest first."
                    </p>
                    {issued_table(issued, read_only, ask)}
                </section>
            }
        })
    };

    view! {
        <div class="device-details">
            <section aria-label="Provisioned certificates">
                <h3>"Provisioned certificates"</h3>
                <p class="muted">"The certificates the device last got tokens with, newest first."</p>
                {certificates}
                // Shown here after revoking an issued certificate too: one notice for both lists.
                <Show when=move || offline_off.get()>
                    <p class="notice" role="status">
                        "The revocation is enforced once the offline check is on: "
                        <Link route=Route::Settings>"Settings \u{2192} Certificate revocation"</Link>
                        "."
                    </p>
                </Show>
            </section>
            {issued}
            <Refusals of=RefusalsOf::Device(user_name) />
            <ConfirmDialog
                open=Signal::derive(move || revoking.with(Option::is_some))
                title="Revoke certificate?"
                message=message
                confirm_text="Revoke"
                busy=busy
                error=error
                on_confirm=confirm
                on_cancel=Callback::new(move |()| revoking.set(None))
            />
        </div>
    }
}

/// A revoked certificate's badge, or the button that revokes it.
fn revoke_action(
    serial: String,
    revoked_since: Option<String>,
    read_only: Signal<bool>,
    ask: Callback<String>,
) -> AnyView {
    match revoked_since {
        Some(since) => view! {
            <span class="badge badge-danger" title=format!("Revoked since {}", format::timestamp(&since))>
                "Revoked"
            </span>
        }
        .into_any(),
        None => {
            let read_only_title = move || read_only.get().then_some(crate::components::read_only::READ_ONLY);
            view! {
                <button
                    type="button"
                    class="button small danger-outline"
                    aria-label=format!("Revoke certificate {}", openssl_serial(&serial))
                    disabled=read_only
                    title=read_only_title
                    on:click=move |_| ask.run(serial.clone())
                >
                    "Revoke"
                </button>
            }
            .into_any()
        }
    }
}

/// How an issued certificate was issued, in words.
fn how(value: &str) -> String {
    match value {
        "ENROLL" => "Enrollment (one-time password)".into(),
        "REENROLL" => "Re-enrollment".into(),
        other => other.into(),
    }
}

fn issued_table(
    certs: Vec<Listed<IssuedCertificate>>,
    read_only: Signal<bool>,
    ask: Callback<String>,
) -> impl IntoView {
    let rows = certs
        .into_iter()
        .map(|Listed { cert, revoked_since }| {
            let action = revoke_action(cert.serial_number_in_hex.clone(), revoked_since, read_only, ask);
            let first_used = cert.first_used.as_deref().map_or_else(|| "—".to_string(), format::timestamp);
            view! {
                <tr data-testid="issued-certificate">
                    <th scope="row" data-label="Serial number (hex)"><code>{openssl_serial(&cert.serial_number_in_hex)}</code></th>
                    <td data-label="Validity">
                        {validity(&cert.not_before, &cert.not_after)}
                    </td>
                    <td data-label="Issued">
                        <dl class="props compact">
                            <div><dt>"Issued"</dt><dd class="time">{format::timestamp(&cert.issued)}</dd></div>
                            <div><dt>"How"</dt><dd>{how(&cert.how)}</dd></div>
                        </dl>
                    </td>
                    <td class="time" data-label="First used">{first_used}</td>
                    <td class="actions">{action}</td>
                </tr>
            }
        })
        .collect_view();
    data_table("issued", &["Serial number (hex)", "Validity", "Issued", "First used", ""], rows)
}

fn certificate_table(
    certs: Vec<Listed<ProvisionedCertificate>>,
    read_only: Signal<bool>,
    ask: Callback<String>,
) -> impl IntoView {
    let rows = certs
        .into_iter()
        .map(|Listed { cert, revoked_since }| {
            let action = revoke_action(cert.serial_number_in_hex.clone(), revoked_since, read_only, ask);
            let last_used =
                if cert.last_used.is_empty() { "—".to_string() } else { format::timestamp(&cert.last_used) };
            view! {
                <tr>
                    <th scope="row" data-label="Serial number (hex)"><code>{openssl_serial(&cert.serial_number_in_hex)}</code></th>
                    <td data-label="Validity">
                        {validity(&cert.not_before, &cert.not_after)}
                    </td>
                    <td data-label="Subject and issuer">
                        <dl class="props compact">
                            <div><dt>"Subject"</dt><dd>{names::escape(&cert.subject)}</dd></div>
                            <div><dt>"Issuer"</dt><dd>{names::escape(&cert.issuer)}</dd></div>
                        </dl>
                    </td>
                    <td class="time" data-label="Last used">{last_used}</td>
                    <td class="actions">{action}</td>
                </tr>
            }
        })
        .collect_view();
    data_table("provisioned", &["Serial number (hex)", "Validity", "Subject and issuer", "Last used", ""], rows)
}
