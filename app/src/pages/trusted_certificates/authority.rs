//! The tenant's own certificate authority (CA) on the trusted certificates page. While the
//! tenant has none, the "Add trusted certificate" dialog offers to create it
//! ([`CreateAuthority`], `POST /certificate-authority`). Once it exists it is a row of the list,
//! marked "Tenant CA", whose details hold its card ([`AuthorityCard`]): its dates, the PEM to
//! download, "Renew" once less than [`est::CA_RENEWAL_WINDOW`] is left (else when it becomes
//! renewable), and, as a secondary action explained before it is done, a rollover to a new CA
//! with a new key.
//!
//! Both are in the certificates chunk, with the dialog and the details: nothing of this is in
//! the console's first load, whose budget has no room for it (docs/benchmarks.md). Every change
//! reloads the page's list: what is shown is what is stored.

use anchorage_common::api::TrustedCertificate;
use anchorage_common::{est, pem, timefmt};
use leptos::prelude::*;
use leptos::task::spawn_local;
use time::OffsetDateTime;

use super::{CertificateList, PageState};
use crate::browser;
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::expiry::ExpiryDate;
use crate::context::Console;
use crate::format;

/// The offer to create the tenant's CA, at the top of the "Add trusted certificate" dialog while
/// the tenant has none: `open` is the dialog's, closed once the CA is made.
#[component]
pub(super) fn CreateAuthority(list: CertificateList, open: RwSignal<bool>) -> impl IntoView {
    let console = Console::get();
    let creating = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let read_only = Signal::derive(move || console.session.read_only());
    let read_only_title = crate::components::read_only::title(console.session);
    let create = move |_| {
        if creating.get_untracked() || read_only.get_untracked() {
            return;
        }
        let Some(client) = console.client() else { return };
        creating.set(true);
        error.set(None);
        spawn_local(async move {
            let answer = client.create_certificate_authority().await;
            creating.try_set(false);
            match answer {
                Ok(_) => {
                    open.try_set(false);
                    list.reload(console);
                    console.toast("CA certificate created.");
                }
                Err(e) => {
                    error.try_set(console.explain(&e));
                }
            }
        });
    };
    // Only while the tenant has no CA (the page's list says).
    let none = Memo::new(move |_| list.authorities().is_empty());
    move || {
        none.get().then(|| {
            view! {
                <section class="notice field ca-offer" aria-labelledby="ca-offer-title" data-testid="ca-offer">
                    <h3 id="ca-offer-title">"Certificate authority"</h3>
                    <p>
                        "Instead of uploading a CA, let anchorage be this tenant's certificate authority: it then issues the certificates of devices that enroll with a one-time password (EST, Devices \u{2192} Register device), and trusts them."
                    </p>
                    <div class="inline">
                        <button
                            type="button"
                            class="button primary"
                            data-testid="ca-create"
                            disabled=move || creating.get() || read_only.get()
                            title=read_only_title
                            on:click=create
                        >
                            {move || if creating.get() { "Creating…" } else { "Create CA certificate" }}
                        </button>
                    </div>
                    {move || error.get().map(|e| view! {
                        <p class="field-error" role="alert">{format!("The CA certificate could not be created: {e}")}</p>
                    })}
                </section>
            }
        })
    }
}

/// When a CA ending at `not_after` can be renewed, in words for the hint under "Renew".
fn renewal_hint(not_after: Option<OffsetDateTime>, now: OffsetDateTime) -> String {
    match not_after {
        Some(t) if est::ca_renewal_allowed(t, now) => {
            "It has less than 24 months left: renewing keeps its key and subject and gives it new dates (and so a new fingerprint). Devices keep their certificates."
                .to_string()
        }
        Some(t) => format!(
            "It can be renewed from {} on, {} days before it expires.",
            format::date(t - est::CA_RENEWAL_WINDOW),
            est::CA_RENEWAL_WINDOW.whole_days()
        ),
        None => "Its expiration date cannot be read, so it cannot be renewed here.".to_string(),
    }
}

/// The tenant CA's card, in its row's details.
#[component]
pub(super) fn AuthorityCard(cert: TrustedCertificate, state: PageState) -> impl IntoView {
    let console = Console::get();
    let list = state.list;
    let now = OffsetDateTime::now_utc();
    let not_after = timefmt::parse(&cert.not_after);
    let renewable = not_after.is_some_and(|t| est::ca_renewal_allowed(t, now));
    let hint = renewal_hint(not_after, now);
    let authorities = untrack(|| list.authorities());
    // The CA that issues now is the newest; others are left from rollovers.
    let current = authorities.first() == Some(&cert.fingerprint);
    let older = authorities.len().saturating_sub(1);
    let read_only = Signal::derive(move || console.session.read_only());
    let read_only_title = crate::components::read_only::title(console.session);

    let der = pem::decode_certificates(&cert.cert_in_pem_format).ok().and_then(|mut d| d.pop());
    let pem_text = der.as_deref().map(pem::to_pem).unwrap_or_else(|| cert.cert_in_pem_format.clone());
    let download = browser::text_data_url("application/x-pem-file", &pem_text);
    let download_name = browser::file_name(&cert.name, "pem");

    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let rolling = RwSignal::new(false);
    let roll_error = RwSignal::new(None::<String>);

    let renew = move |_| {
        if busy.get_untracked() || read_only.get_untracked() || !renewable {
            return;
        }
        let Some(client) = console.client() else { return };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let answer = client.renew_certificate_authority().await;
            busy.try_set(false);
            match answer {
                Ok(ca) => {
                    console.toast(format!("CA certificate renewed: valid until {}.", format::timestamp(&ca.not_after)));
                    list.reload(console);
                }
                Err(e) => {
                    error.try_set(console.explain(&e));
                }
            }
        });
    };
    let roll_over = Callback::new(move |()| {
        if busy.get_untracked() || read_only.get_untracked() {
            return;
        }
        let Some(client) = console.client() else { return };
        busy.set(true);
        roll_error.set(None);
        spawn_local(async move {
            let answer = client.roll_over_certificate_authority().await;
            busy.try_set(false);
            match answer {
                Ok(_) => {
                    rolling.try_set(false);
                    console.toast("New CA certificate created: it signs from now on. The previous one stays trusted until you delete it.");
                    list.reload(console);
                }
                Err(e) => {
                    roll_error.try_set(console.explain(&e));
                }
            }
        });
    });
    let valid_until = match not_after {
        Some(t) => view! { <ExpiryDate not_after=t now=now /> }.into_any(),
        None => cert.not_after.clone().into_any(),
    };
    let what = if current {
        "This is the tenant's own certificate authority: it issues the certificates of devices that enroll with a one-time password (EST), and devices with those certificates are trusted."
    } else {
        "A CA certificate of this tenant that a rollover replaced: it no longer issues certificates, but stays trusted so that the devices it certified keep connecting. Delete it once they have enrolled again with the current CA."
    };
    // Renewing and rolling over act on the current CA.
    let actions = current.then(|| {
        view! {
            <button
                type="button"
                class="button small primary"
                data-testid="ca-renew"
                disabled=move || busy.get() || read_only.get() || !renewable
                title=read_only_title
                on:click=renew
            >
                {move || if busy.get() { "Working…" } else { "Renew" }}
            </button>
        }
    });
    let explained = current.then(|| {
        view! {
            <p class="hint" data-testid="ca-renew-hint">{hint}</p>
            {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
            <p class="hint">
                "To replace the CA's key, roll over: a new CA certificate issues certificates from then on, while this one stays trusted (devices enrolled with it keep connecting) until you delete it."
            </p>
            <div class="inline">
                <button
                    type="button"
                    class="button small"
                    data-testid="ca-rollover"
                    disabled=move || busy.get() || read_only.get()
                    title=read_only_title
                    on:click=move |_| {
                        roll_error.set(None);
                        rolling.set(true);
                    }
                >
                    "Roll over to a new CA…"
                </button>
            </div>
            {(older > 0).then(|| view! {
                <p class="notice" role="note">
                    {format!(
                        "{} from before a rollover {} still trusted (marked \u{201c}Tenant CA\u{201d} in the list): delete {} once the devices enrolled with {} have enrolled again.",
                        format::count(older, "CA certificate", "CA certificates"),
                        if older == 1 { "is" } else { "are" },
                        if older == 1 { "it" } else { "them" },
                        if older == 1 { "it" } else { "them" },
                    )}
                </p>
            })}
            <ConfirmDialog
                open=rolling
                title="Roll over to a new CA?"
                message="A new CA certificate with a new key is made and issues every device certificate from now on. The current CA certificate stays a trusted certificate, so devices enrolled with it keep connecting; delete it once they have enrolled again with the new one."
                    .to_string()
                confirm_text="Roll over"
                busy=busy
                error=roll_error
                on_confirm=roll_over
                on_cancel=Callback::new(move |()| rolling.set(false))
            />
        }
    });

    view! {
        <section class="row-checks ca-card" aria-label="Certificate authority" data-testid="ca-card" data-fingerprint=cert.fingerprint.clone()>
            <h2>"Certificate authority"</h2>
            <p>{what}</p>
            <dl class="props">
                <div><dt>"Valid from"</dt><dd data-testid="ca-valid-from">{format::timestamp(&cert.not_before)}</dd></div>
                <div><dt>"Valid until"</dt><dd data-testid="ca-valid-until">{valid_until}</dd></div>
            </dl>
            <div class="inline">
                <a class="button small" href=download download=download_name data-testid="ca-download">
                    "Download CA certificate"
                </a>
                {actions}
            </div>
            {explained}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;
    use time::macros::datetime;

    #[test]
    fn the_hint_says_when_the_ca_becomes_renewable() {
        let now = datetime!(2026-01-01 0:00 UTC);
        let young = renewal_hint(Some(now + Duration::days(1095)), now);
        assert_eq!(young, "It can be renewed from 2027-01-01 on, 730 days before it expires.");
        let old = renewal_hint(Some(now + Duration::days(400)), now);
        assert!(old.starts_with("It has less than 24 months left"), "{old}");
        assert!(renewal_hint(None, now).contains("cannot be renewed"));
    }
}
