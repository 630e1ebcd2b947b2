//! One certificate in the table: its main row (name, switches, algorithm, expiry, actions)
//! and, when expanded, the details row with rename, every field, the PEM, the proof of
//! possession ([`super::pop`]) and the rule checks.

use anchorage_common::api::{self, CertificateChanges, CertificateStatus, TrustedCertificate};
use anchorage_common::names;
use anchorage_common::{cert, pem, timefmt};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;
use time::OffsetDateTime;

use super::PageState;
use crate::browser;
use crate::components::expiry::ExpiryDate;
use crate::components::rule_checks::RuleChecks;
use crate::components::switch::Switch;
use crate::context::Console;

/// Sends the changes of the certificate `fingerprint`; on success the row shows the certificate the server returns.
/// `after` gets that certificate or the failure in words (it is not called when the session
/// has ended, as the login page is then shown instead).
pub(super) fn send_update(
    console: Console,
    state: PageState,
    fingerprint: String,
    changes: CertificateChanges,
    after: impl FnOnce(Result<TrustedCertificate, String>) + 'static,
) {
    let Some(client) = console.client() else { return };
    state.problem.set(None);
    spawn_local(async move {
        match client.update_certificate(&fingerprint, &changes).await {
            Ok(cert) => {
                state.list.replace(cert.clone());
                after(Ok(cert));
            }
            Err(e) => {
                if let Some(message) = console.explain(&e) {
                    after(Err(message));
                }
            }
        }
    });
}

/// Runs a switch's change: `pending` holds the state asked for while the request runs (so
/// the switch shows it) and is cleared afterwards, which reverts the switch on failure.
/// The code that sends it is in a chunk ([`crate::lazy::certificate_toggle`]), fetched the
/// first time a switch is used.
fn switch_change(
    console: Console,
    state: PageState,
    fingerprint: String,
    changes: CertificateChanges,
    pending: RwSignal<Option<bool>>,
    wanted: bool,
    failure: String,
) {
    pending.set(Some(wanted));
    spawn_local(async move {
        match crate::lazy::certificate_toggle().await {
            Ok(toggle) => toggle(console, state, fingerprint, changes, pending, failure),
            Err(_) => {
                state
                    .problem
                    .set(Some(format!("{failure}: the code for this did not arrive from the server. Try again.")));
                pending.set(None);
            }
        }
    });
}

/// A certificate's rows in the table.
#[component]
pub(super) fn CertificateRow(
    /// Which certificate.
    fingerprint: String,
    /// The page's shared state.
    state: PageState,
) -> impl IntoView {
    let console = Console::get();
    let fp = StoredValue::new(fingerprint.clone());
    // Read from the list where needed, not through a memo of the row's certificate: a memo of
    // that type would be one more signal type's code in the first load.
    let read =
        move |f: fn(&TrustedCertificate) -> String| fp.with_value(|fp| state.list.read(fp, f)).unwrap_or_default();
    let flag = move |f: fn(&TrustedCertificate) -> bool| fp.with_value(|fp| state.list.read(fp, f)).unwrap_or(false);
    // `Signal<String>`s rather than closures in the view: their view code is shared (one
    // instantiation per type, not one per closure).
    let name = Signal::derive(move || read(|c| c.name.clone()));
    let expanded = RwSignal::new(false);

    let status_pending = RwSignal::new(None::<bool>);
    let enabled = Signal::derive(move || {
        status_pending.get().unwrap_or_else(|| flag(|c| c.status == CertificateStatus::Enabled))
    });
    let set_enabled = Callback::new(move |on: bool| {
        let status = if on { CertificateStatus::Enabled } else { CertificateStatus::Disabled };
        let changes = CertificateChanges { status: Some(status), ..Default::default() };
        let verb = if on { "enable" } else { "disable" };
        let failure = format!("Could not {verb} \"{}\"", name.get_untracked());
        switch_change(console, state, fp.get_value(), changes, status_pending, on, failure);
    });

    let auto_pending = RwSignal::new(None::<bool>);
    let auto = Signal::derive(move || auto_pending.get().unwrap_or_else(|| flag(|c| c.auto_registration_enabled)));
    let set_auto = Callback::new(move |on: bool| {
        let changes = CertificateChanges { auto_registration_enabled: Some(on), ..Default::default() };
        let verb = if on { "turn on" } else { "turn off" };
        let failure = format!("Could not {verb} auto registration of \"{}\"", name.get_untracked());
        switch_change(console, state, fp.get_value(), changes, auto_pending, on, failure);
    });

    // The platform's words; "N/A" for the tenant's own CA. A `Signal<String>` like the other
    // cells: no new view code in the first load.
    let proof = Signal::derive(move || {
        read(|c| {
            let words = if c.tenant_certificate_authority {
                "N/A"
            } else if c.proof_of_possession_valid {
                "Complete"
            } else {
                "Incomplete"
            };
            words.to_string()
        })
    });

    let details_id = format!("details-{fingerprint}");
    let expiry = move || {
        let not_after = read(|c| c.not_after.clone());
        match timefmt::parse(&not_after) {
            Some(t) => view! { <ExpiryDate not_after=t now=OffsetDateTime::now_utc() /> }.into_any(),
            None => not_after.into_any(),
        }
    };
    let read_only = Signal::derive(move || console.session.read_only());
    let read_only_title = crate::components::read_only::title(console.session);
    // The question's code (delete, rename) is in a chunk; the row only says what it asks.
    let ask = move |what: &str| {
        if !read_only.get_untracked() {
            state.asking.set(Some(format!("{what}:{}", fp.get_value())));
        }
    };

    view! {
        <tr class="cert-row" class:open=expanded>
            <th scope="row" class="cert-name">
                <span class="cert-icon" aria-hidden="true"></span>
                <span>{name}</span>
                {move || flag(|c| c.tenant_certificate_authority)
                    .then(|| view! { <span class="badge">"Tenant CA"</span> })}
            </th>
            <td data-label="Status">
                <Switch
                    checked=enabled
                    label=Signal::derive(move || format!("Enabled: {}", name.get()))
                    busy=Signal::derive(move || status_pending.with(Option::is_some))
                    read_only=read_only
                    on_change=set_enabled
                />
            </td>
            <td class="algorithm" data-label="Algorithm">{Signal::derive(move || read(|c| c.algorithm_name.clone()))}</td>
            <td data-label="Expiration date">{expiry}</td>
            <td data-label="Auto registration">
                <Switch
                    checked=auto
                    label=Signal::derive(move || format!("Auto registration: {}", name.get()))
                    busy=Signal::derive(move || auto_pending.with(Option::is_some))
                    read_only=read_only
                    on_change=set_auto
                />
            </td>
            <td data-label="Proof of possession">{proof}</td>
            <td class="actions">
                <button
                    type="button"
                    class="button small"
                    aria-expanded=move || if expanded.get() { "true" } else { "false" }
                    aria-controls=details_id.clone()
                    aria-label=Signal::derive(move || format!("Details of {}", name.get()))
                    on:click=move |_| expanded.update(|e| *e = !*e)
                >
                    <span class="chevron" aria-hidden="true"></span>
                    "Details"
                </button>
                <button
                    type="button"
                    class="button small"
                    aria-label=Signal::derive(move || format!("Rename {}", name.get()))
                    disabled=read_only
                    title=read_only_title
                    on:click=move |_| ask("rename")
                >
                    "Rename"
                </button>
                <button
                    type="button"
                    class="button small danger-outline"
                    aria-label=Signal::derive(move || format!("Delete {}", name.get()))
                    disabled=read_only
                    title=read_only_title
                    on:click=move |_| ask("delete")
                >
                    "Delete"
                </button>
            </td>
        </tr>
        {move || expanded.get().then(|| view! {
            <tr class="details-row" id=details_id.clone()>
                <td colspan="7">{lazy_details(fp.get_value(), state)}</td>
            </tr>
        })}
    }
}

/// The expanded part of a row, which is in the certificates chunk with the rules it checks
/// ([`crate::lazy::certificate_details`]): "Loading…" the first time, until it is there.
fn lazy_details(fingerprint: String, state: PageState) -> impl IntoView {
    let code = crate::lazy::code(crate::lazy::certificate_details, "certificate details");
    move || match code.get() {
        None => view! { <p class="placeholder" role="status">"Loading…"</p> }.into_any(),
        Some(Ok(details)) => details(fingerprint.clone(), state),
        Some(Err(e)) => view! { <p class="error-box" role="alert">{e}</p> }.into_any(),
    }
}

/// The expanded part of a row, as the certificates chunk exports it.
pub(crate) fn details(fingerprint: String, state: PageState) -> AnyView {
    let fp = fingerprint.clone();
    let cert = Memo::new(move |_| state.list.get(&fp));
    view! { <Details fingerprint=fingerprint cert=cert state=state /> }.into_any()
}

/// The expanded part of a row.
#[component]
fn Details(fingerprint: String, cert: Memo<Option<TrustedCertificate>>, state: PageState) -> impl IntoView {
    let console = Console::get();
    let read = move |f: fn(&TrustedCertificate) -> String| cert.with(|c| c.as_ref().map(f).unwrap_or_default());
    let fp = StoredValue::new(fingerprint.clone());

    // Rename.
    let name_input = RwSignal::new(cert.with_untracked(|c| c.as_ref().map(|c| c.name.clone()).unwrap_or_default()));
    let name_error = RwSignal::new(None::<String>);
    let name_warning = move || name_input.with(|n| super::actions::same_name(state.list, &fp.get_value(), n));
    let saving = RwSignal::new(false);
    let read_only = move || console.session.read_only();
    let read_only_title = crate::components::read_only::title(console.session);
    let rename = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() || read_only() {
            return;
        }
        let name = match api::check_name(&Value::String(name_input.get_untracked())) {
            Ok(name) => name,
            Err(e) => {
                name_error.set(Some(capitalise(&e)));
                return;
            }
        };
        name_error.set(None);
        saving.set(true);
        let changes = CertificateChanges { name: Some(name), ..Default::default() };
        send_update(console, state, fp.get_value(), changes, move |answer| {
            saving.set(false);
            match answer {
                Ok(saved) => {
                    name_input.set(saved.name);
                    console.toast("Name saved.");
                }
                Err(message) => name_error.set(Some(message)),
            }
        });
    };

    // The tenant's own CA: its card (renew, roll over) instead of the proof of possession.
    let authority = cert.with_untracked(|c| c.as_ref().is_some_and(|c| c.tenant_certificate_authority));
    let ca_card = cert.with_untracked(|c| {
        c.as_ref()
            .filter(|c| c.tenant_certificate_authority)
            .map(|c| view! { <super::authority::AuthorityCard cert=c.clone() state=state /> })
    });
    let ids = move |what: &str| format!("{what}-{}", fp.get_value());
    let der = cert.with_untracked(|c| {
        c.as_ref().and_then(|c| pem::decode_certificates(&c.cert_in_pem_format).ok()).and_then(|mut d| d.pop())
    });
    let der_for_props = der.clone();
    let pem_text = der.as_deref().map(pem::to_pem).unwrap_or_else(|| read(|c| c.cert_in_pem_format.clone()));
    let download = browser::text_data_url("application/x-pem-file", &pem_text);
    let download_name = browser::file_name(&read(|c| c.name.clone()), "pem");
    let checks = der.as_deref().and_then(|d| cert::inspect(d, OffsetDateTime::now_utc()).ok()).map(|i| i.checks);
    let pem_area = NodeRef::<leptos::html::Textarea>::new();
    let pem_for_copy = pem_text.clone();
    let copy = move |_| {
        let text = pem_for_copy.clone();
        spawn_local(async move {
            match browser::copy_text(&text).await {
                Ok(()) => console.toast("PEM copied to the clipboard."),
                Err(()) => {
                    if let Some(el) = pem_area.get_untracked() {
                        browser::select_all(&el);
                    }
                    console.toast("The browser did not allow copying: the PEM is selected, press Ctrl+C.");
                }
            }
        });
    };

    view! {
        <div class="details">
            <form class="rename" on:submit=rename>
                <label for=ids("rename")>"Certificate name"</label>
                <div class="inline">
                    <input
                        id=ids("rename")
                        type="text"
                        maxlength=api::MAX_NAME_CHARS
                        bind:value=name_input
                        aria-invalid=move || name_error.with(Option::is_some).then_some("true")
                        aria-describedby=ids("rename-error")
                        readonly=read_only
                        title=read_only_title
                    />
                    <button type="submit" class="button primary" disabled=move || saving.get() || read_only() title=read_only_title>"Save"</button>
                </div>
                <p class="field-error" id=ids("rename-error") role="alert">{move || name_error.get()}</p>
                <p class="field-warning" role="status">{name_warning}</p>
            </form>
            {move || cert.with(|c| c.as_ref().map(|c| properties(c, der_for_props.as_deref())))}
            <div class="pem">
                <label for=ids("pem")>"Certificate (PEM)"</label>
                <textarea id=ids("pem") node_ref=pem_area readonly rows="8" spellcheck="false">{pem_text}</textarea>
                <div class="inline">
                    <button type="button" class="button small" on:click=copy>"Copy PEM"</button>
                    <a class="button small" href=download download=download_name>"Download PEM"</a>
                </div>
            </div>
            {ca_card}
            // The tenant's own CA needs no proof of possession (the list says "N/A").
            {(!authority).then(|| view! { <super::pop::PopSection fingerprint=fp.get_value() cert=cert state=state /> })}
            {checks.map(|checks| view! {
                <div class="row-checks">
                    <h2>"Rules, checked now"</h2>
                    <RuleChecks checks=checks />
                </div>
            })}
            {crate::components::refusals::for_certificate(fp.get_value())}
        </div>
    }
}

/// Every field of a stored certificate. Rebuilt when the certificate changes (it holds
/// nothing focusable), which costs less than one reactive binding per field.
/// `der`, when the stored PEM decodes, gives the SHA-256 fingerprint and the serial in hex.
fn properties(c: &TrustedCertificate, der: Option<&[u8]>) -> impl IntoView + use<> {
    let on_off = |b: bool| if b { "Enabled" } else { "Disabled" };
    let enabled = c.status == CertificateStatus::Enabled;
    let sha256 = der.map(cert::sha256_fingerprint);
    let serial_hex = der
        .and_then(|d| cert::inspect(d, OffsetDateTime::now_utc()).ok())
        .map(|i| cert::openssl_serial(&i.info.serial_hex));
    view! {
        <dl class="props">
            <div><dt>"SHA-1 fingerprint"</dt><dd><code class="fingerprint">{c.fingerprint.clone()}</code></dd></div>
            {sha256.map(|f| view! { <div><dt>"SHA-256 fingerprint"</dt><dd><code class="fingerprint-sha256">{f}</code></dd></div> })}
            <div><dt>"Subject"</dt><dd>{names::escape(&c.subject)}</dd></div>
            <div><dt>"Issuer"</dt><dd>{names::escape(&c.issuer)}</dd></div>
            {serial_hex.map(|h| view! { <div><dt>"Serial number (hex)"</dt><dd><code class="serial-hex">{h}</code></dd></div> })}
            <div><dt>"Serial number (decimal)"</dt><dd><code>{c.serial_number.clone()}</code></dd></div>
            <div><dt>"Version"</dt><dd>{c.version}</dd></div>
            <div><dt>"Algorithm"</dt><dd>{c.algorithm_name.clone()}</dd></div>
            <div><dt>"Valid from (UTC)"</dt><dd>{crate::format::timestamp(&c.not_before)}</dd></div>
            <div><dt>"Expiration date (UTC)"</dt><dd>{crate::format::timestamp(&c.not_after)}</dd></div>
            <div><dt>"Status"</dt><dd>{on_off(enabled)}</dd></div>
            <div><dt>"Auto registration"</dt><dd>{on_off(c.auto_registration_enabled)}</dd></div>
        </dl>
    }
}

pub(super) fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
