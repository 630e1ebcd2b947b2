//! The trusted certificates page: the tenant's CA certificates in a table, with switches for
//! status and auto registration, whether possession of each one's key is proven, details with
//! rename and the proof of possession, delete with confirmation, and the "Add trusted
//! certificate" dialog. The tenant's own certificate authority ([`authority`]) is created from
//! that dialog and renewed or rolled over in its row's details.
//!
//! The page keeps the list in one signal; every change the server confirms replaces the
//! certificate it returned, so what is shown is what is stored.

mod add_dialog;
mod authority;
mod pop;
mod row;
pub mod selection;

use std::collections::HashMap;

use anchorage_common::api::TrustedCertificate;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::confirm_dialog::ConfirmDialog;
use crate::context::Console;
use crate::format;
pub(crate) use add_dialog::add_dialog;
use row::CertificateRow;
pub(crate) use row::{details, toggle};

/// The certificates as the page holds them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CertificateList {
    /// `None` until the first answer; then the list or the error in words.
    items: RwSignal<Option<Result<Vec<TrustedCertificate>, String>>>,
    loading: RwSignal<bool>,
    /// Only the answer to the latest request is shown.
    generation: StoredValue<u64>,
}

impl CertificateList {
    fn new() -> Self {
        CertificateList { items: RwSignal::new(None), loading: RwSignal::new(false), generation: StoredValue::new(0) }
    }

    /// Loads the list from the server.
    fn reload(self, console: Console) {
        let Some(client) = console.client() else { return };
        let generation = self.generation.get_value() + 1;
        self.generation.set_value(generation);
        self.loading.set(true);
        spawn_local(async move {
            let answer = client.list_certificates().await;
            if self.generation.try_get_value() != Some(generation) {
                return;
            }
            let items = match answer {
                Ok(mut list) => {
                    sort(&mut list);
                    Ok(list)
                }
                Err(e) => match console.explain(&e) {
                    Some(message) => Err(message),
                    None => return,
                },
            };
            self.items.set(Some(items));
            self.loading.set(false);
        });
    }

    /// The certificate with `fingerprint` (tracked).
    pub fn get(&self, fingerprint: &str) -> Option<TrustedCertificate> {
        self.items.with(|items| match items {
            Some(Ok(list)) => list.iter().find(|c| c.fingerprint == fingerprint).cloned(),
            _ => None,
        })
    }

    /// Shows `cert` as the server returned it after a change.
    pub fn replace(&self, cert: TrustedCertificate) {
        self.items.update(|items| {
            if let Some(Ok(list)) = items
                && let Some(slot) = list.iter_mut().find(|c| c.fingerprint == cert.fingerprint)
            {
                *slot = cert;
            }
        });
    }

    /// Drops a deleted certificate.
    fn remove(&self, fingerprint: &str) {
        self.items.update(|items| {
            if let Some(Ok(list)) = items {
                list.retain(|c| c.fingerprint != fingerprint);
            }
        });
    }

    /// `f` of the certificate with `fingerprint` (tracked), without cloning it.
    pub fn read<R>(&self, fingerprint: &str, f: fn(&TrustedCertificate) -> R) -> Option<R> {
        self.items.with(|items| match items {
            Some(Ok(list)) => list.iter().find(|c| c.fingerprint == fingerprint).map(f),
            _ => None,
        })
    }

    /// The fingerprints in display order (tracked).
    fn fingerprints(&self) -> Vec<String> {
        self.items.with(|items| match items {
            Some(Ok(list)) => list.iter().map(|c| c.fingerprint.clone()).collect(),
            _ => Vec::new(),
        })
    }

    /// The fingerprints of the tenant's CA certificates (tracked): the one that signs now (the
    /// newest) first, then any earlier one still trusted after a rollover.
    fn authorities(&self) -> Vec<String> {
        self.items.with(|items| match items {
            Some(Ok(list)) => {
                let mut cas: Vec<&TrustedCertificate> =
                    list.iter().filter(|c| c.tenant_certificate_authority).collect();
                cas.sort_by(|a, b| b.not_before.cmp(&a.not_before));
                cas.into_iter().map(|c| c.fingerprint.clone()).collect()
            }
            _ => Vec::new(),
        })
    }

    /// Fingerprint → name of every stored certificate (tracked).
    fn names(&self) -> HashMap<String, String> {
        self.items.with(|items| match items {
            Some(Ok(list)) => list.iter().map(|c| (c.fingerprint.clone(), c.name.clone())).collect(),
            _ => HashMap::new(),
        })
    }
}

/// The platform's order: the tenant's own CA first, then by expiry, soonest first.
fn sort(list: &mut [TrustedCertificate]) {
    list.sort_unstable_by(|a, b| {
        b.tenant_certificate_authority
            .cmp(&a.tenant_certificate_authority)
            .then_with(|| a.not_after.cmp(&b.not_after))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
}

/// What the page body shows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Loading,
    Failed(String),
    Empty,
    Table,
}

/// What the rows share with the page.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageState {
    pub list: CertificateList,
    /// The latest failure of a row action, shown above the table.
    pub problem: RwSignal<Option<String>>,
    /// The fingerprint of the certificate waiting for delete confirmation. (Its name is
    /// looked up in the list: a signal of a type the first load has already, rather than one
    /// more.)
    pub deleting: RwSignal<Option<String>>,
}

/// The trusted certificates page.
#[component]
pub fn TrustedCertificatesPage() -> impl IntoView {
    let console = Console::get();
    let list = CertificateList::new();
    list.reload(console);
    let state = PageState { list, problem: RwSignal::new(None), deleting: RwSignal::new(None) };

    let adding = RwSignal::new(false);

    // What the body shows changes rarely; rows follow their own certificate, so that a
    // change to one row does not rebuild the table (and lose focus or expanded rows).
    let phase = Memo::new(move |_| {
        list.items.with(|items| match items {
            None => Phase::Loading,
            Some(Err(message)) => Phase::Failed(message.clone()),
            Some(Ok(list)) if list.is_empty() => Phase::Empty,
            Some(Ok(_)) => Phase::Table,
        })
    });
    let is_empty = move || phase.get() == Phase::Empty;
    // The rows are rebuilt only when the set of certificates or their order changes (not a
    // keyed `For`: its diffing and hash sets are code the first load does without).
    let fingerprints = Memo::new(move |_| list.fingerprints());
    // The delete confirmation exists while it is asked for (its code is in a chunk).
    let asking_delete = Memo::new(move |_| state.deleting.with(Option::is_some));
    let read_only = Signal::derive(move || console.session.read_only());
    let read_only_title = crate::components::read_only::title(console.session);
    let open_add = move |_| {
        if read_only.get_untracked() {
            return;
        }
        state.problem.set(None);
        adding.set(true);
    };
    let reload = move |_| {
        state.problem.set(None);
        list.reload(console);
    };

    let saved = Callback::new(move |n: usize| {
        adding.set(false);
        list.reload(console);
        console.toast(if n == 1 { "Certificate saved.".to_string() } else { format!("{n} certificates saved.") });
    });

    let body = move || {
        match phase.get() {
        Phase::Loading => view! { <p class="placeholder" role="status">"Loading trusted certificates…"</p> }.into_any(),
        Phase::Failed(message) => view! {
            <div class="error-box" role="alert">
                <p><strong>"The trusted certificates could not be loaded."</strong></p>
                <p>{message}</p>
            </div>
        }
        .into_any(),
        Phase::Empty => view! {
            <div class="empty">
                <p class="empty-title">"No trusted certificates to display."</p>
                <p>"Add your first certificate by clicking below."</p>
                <button type="button" class="button primary" disabled=read_only title=read_only_title on:click=open_add>"Add trusted certificate"</button>
            </div>
        }
        .into_any(),
        Phase::Table => {
            let summary = Signal::derive(move || list.items.with(|i| match i {
                Some(Ok(certs)) => summary(certs),
                _ => String::new(),
            }));
            view! {
                <p class="muted summary">{summary}</p>
                <div class="table-wrap">
                    <table class="certificates">
                        <thead>
                            <tr>
                                <th scope="col">"Certificate"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Algorithm"</th>
                                <th scope="col">"Expiration date"</th>
                                <th scope="col">"Auto registration"</th>
                                <th scope="col">"Proof of possession"</th>
                                <th scope="col"><span class="sr-only">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            {move || fingerprints.get().into_iter().map(|fingerprint| view! {
                                <CertificateRow fingerprint=fingerprint state=state />
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }
            .into_any()
        }
    }
    };

    view! {
        <section class="page" aria-busy=move || list.loading.get().then_some("true")>
            <header class="page-header">
                <div>
                    <h1>"Trusted certificates"</h1>
                    <p class="muted">
                        "CA certificates whose signed device certificates may authenticate. Only enabled ones are trusted."
                    </p>
                </div>
                <div class="toolbar">
                    {move || (!is_empty()).then(|| view! {
                        <button type="button" class="button primary" disabled=read_only title=read_only_title on:click=open_add>"Add trusted certificate"</button>
                    })}
                    <button type="button" class="button" on:click=reload>
                        <span class="reload-icon" class:spinning=list.loading aria-hidden="true">"↻"</span>
                        " Reload"
                    </button>
                </div>
            </header>
            {move || state.problem.get().map(|p| view! {
                <div class="error-box dismissable" role="alert">
                    <p>{p}</p>
                    <button type="button" class="button small" on:click=move |_| state.problem.set(None)>"Dismiss"</button>
                </div>
            })}
            {body}
            {move || adding.get().then(|| lazy_add_dialog(list, adding, saved))}
            {move || asking_delete.get().then(|| lazy_delete_dialog(state))}
        </section>
    }
}

/// The "Add trusted certificate" dialog, while `open`: "Loading…" the first time, until its
/// code ([`crate::lazy::add_dialog`], with the certificate checks) is there.
fn lazy_add_dialog(list: CertificateList, open: RwSignal<bool>, on_saved: Callback<usize>) -> impl IntoView {
    let code = crate::lazy::code(crate::lazy::add_dialog, "certificate checks");
    move || match code.get() {
        None => view! { <p class="placeholder" role="status">"Loading…"</p> }.into_any(),
        Some(Ok(dialog)) => dialog(list, open, on_saved),
        Some(Err(e)) => view! {
            <div class="error-box dismissable" role="alert">
                <p>{e}</p>
                <button type="button" class="button small" on:click=move |_| open.set(false)>"Dismiss"</button>
            </div>
        }
        .into_any(),
    }
}

/// The delete confirmation, while a certificate waits for it: "Loading…" the first time,
/// until its code ([`crate::lazy::delete_dialog`]) is there.
fn lazy_delete_dialog(state: PageState) -> impl IntoView {
    let code = crate::lazy::code(crate::lazy::delete_dialog, "delete confirmation");
    move || match code.get() {
        None => view! { <p class="placeholder" role="status">"Loading…"</p> }.into_any(),
        Some(Ok(dialog)) => dialog(state),
        Some(Err(e)) => view! {
            <div class="error-box dismissable" role="alert">
                <p>{e}</p>
                <button type="button" class="button small" on:click=move |_| state.deleting.set(None)>"Dismiss"</button>
            </div>
        }
        .into_any(),
    }
}

/// The delete confirmation of the certificate in `state.deleting` (in the certificate
/// actions chunk).
pub(crate) fn delete_dialog(state: PageState) -> AnyView {
    let console = Console::get();
    let list = state.list;
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    // The tenant's own CA: deleting it deletes its key (the platform's words).
    let authority = state.deleting.with_untracked(|d| {
        d.as_deref().and_then(|fp| untrack(|| list.read(fp, |c| c.tenant_certificate_authority))).unwrap_or(false)
    });
    let confirm = Callback::new(move |()| {
        let Some(fingerprint) = state.deleting.get_untracked() else { return };
        let name = list.get(&fingerprint).map(|c| c.name).unwrap_or_default();
        let Some(client) = console.client() else { return };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let answer = client.delete_certificate(&fingerprint).await;
            busy.try_set(false);
            match answer {
                Ok(()) => {
                    list.remove(&fingerprint);
                    state.deleting.set(None);
                    console.toast(format!("Certificate \"{name}\" deleted."));
                }
                Err(crate::api::ApiError::Status { status: 404, .. }) => {
                    list.remove(&fingerprint);
                    state.deleting.set(None);
                    console.toast(format!("Certificate \"{name}\" was already deleted."));
                }
                Err(e) => {
                    error.try_set(console.explain(&e));
                }
            }
        });
    });
    view! {
        <ConfirmDialog
            open=Signal::derive(move || state.deleting.with(Option::is_some))
            title=if authority { "Delete CA certificate?" } else { "Delete trusted certificate?" }
            message=Signal::derive(move || {
                if authority {
                    return "You are about to delete the Certificate Authority (CA) certificate for this tenant. Any device enrolled using this CA certificate for authentication will no longer be able to connect to the platform.".to_string();
                }
                let name = state.deleting.with(|d| d.as_deref().and_then(|fp| list.get(fp)).map(|c| c.name).unwrap_or_default());
                format!("You are about to delete a trusted certificate \"{name}\". Do you want to proceed?")
            })
            confirm_text="Delete"
            busy=busy
            error=error
            on_confirm=confirm
            on_cancel=Callback::new(move |()| state.deleting.set(None))
        />
    }
    .into_any()
}

/// "3 certificates · 2 enabled · 1 expires within 90 days".
fn summary(certs: &[TrustedCertificate]) -> String {
    let now = time::OffsetDateTime::now_utc();
    let enabled = certs.iter().filter(|c| c.status == anchorage_common::api::CertificateStatus::Enabled).count();
    let soon = certs
        .iter()
        .filter_map(|c| anchorage_common::timefmt::parse(&c.not_after))
        .filter(|t| (*t - now).whole_days() < crate::components::expiry::WARN_DAYS)
        .count();
    let mut parts = vec![format::count(certs.len(), "certificate", "certificates"), format!("{enabled} enabled")];
    if soon > 0 {
        parts.push(format!("{} expired or expiring within 90 days", soon));
    }
    parts.join(" · ")
}
