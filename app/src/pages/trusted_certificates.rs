//! The trusted certificates page: the tenant's CA certificates in a table, with switches for
//! status and auto registration, whether possession of each one's key is proven, details with
//! rename and the proof of possession, delete with confirmation, and the "Add trusted
//! certificate" dialog. The tenant's own certificate authority ([`authority`]) is created from
//! that dialog and renewed or rolled over in its row's details.
//!
//! The page keeps the list in one signal; every change the server confirms replaces the
//! certificate it returned, so what is shown is what is stored.

mod actions;
mod add_dialog;
mod authority;
mod pop;
mod row;
pub mod selection;
mod timeline;

use std::collections::HashMap;

use anchorage_common::api::TrustedCertificate;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::context::Console;
use crate::format;
pub(crate) use actions::{question_dialog, toggle};
pub(crate) use add_dialog::add_dialog;
use row::CertificateRow;
pub(crate) use row::details;
pub(crate) use timeline::timeline;

/// The certificates as the page holds them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CertificateList {
    /// `None` until the first answer; then the list or the error in words.
    items: RwSignal<Option<Result<Vec<TrustedCertificate>, String>>>,
    loading: RwSignal<bool>,
    /// Only the answer to the latest request is shown.
    generation: StoredValue<u64>,
    /// The column the table is sorted by, `-` before it when descending; empty: the
    /// platform's order. (A `String` signal: a type the first load has already.)
    pub order: RwSignal<String>,
}

impl CertificateList {
    fn new() -> Self {
        CertificateList {
            items: RwSignal::new(None),
            loading: RwSignal::new(false),
            generation: StoredValue::new(0),
            order: RwSignal::new(String::new()),
        }
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
                    self.order.with_untracked(|order| sort(&mut list, order));
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

    /// Sorts the table by `order` (a column's key, `-` before it when descending).
    fn sort_by(&self, order: String) {
        self.items.update(|items| {
            if let Some(Ok(list)) = items {
                sort(list, &order);
            }
        });
        self.order.set(order);
    }

    /// The fingerprints in display order of the certificates that match `query` (tracked).
    fn fingerprints(&self, query: &str) -> Vec<String> {
        let query = query.trim();
        self.items.with(|items| match items {
            Some(Ok(list)) => list.iter().filter(|c| matches(c, query)).map(|c| c.fingerprint.clone()).collect(),
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

/// Sorts by `order`: a column's key (`name`, `status`, `algorithm`, `expiry`), `-` before it
/// when descending; anything else is the platform's order: the tenant's own CA first, then by
/// expiry, soonest first. Ties by expiry, name, fingerprint. (One sort, one copy of its code.)
fn sort(list: &mut [TrustedCertificate], order: &str) {
    let (descending, key) = match order.strip_prefix('-') {
        Some(key) => (true, key),
        None => (false, order),
    };
    list.sort_unstable_by(|a, b| {
        let first = match key {
            "name" => a.name.to_ascii_lowercase().cmp(&b.name.to_ascii_lowercase()),
            "status" => a.status.as_str().cmp(b.status.as_str()),
            "algorithm" => a.algorithm_name.cmp(&b.algorithm_name),
            "expiry" => std::cmp::Ordering::Equal,
            _ => b.tenant_certificate_authority.cmp(&a.tenant_certificate_authority),
        };
        let ordering = first
            .then_with(|| a.not_after.cmp(&b.not_after))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.fingerprint.cmp(&b.fingerprint));
        if descending { ordering.reverse() } else { ordering }
    });
}

/// Whether `c` matches the search `query` (trimmed): in its name or subject (ASCII case
/// ignored), fingerprint (colons or spaces ignored, as `openssl` prints it with colons) or
/// serial number.
fn matches(c: &TrustedCertificate, query: &str) -> bool {
    if query.is_empty() {
        return true;
    }
    let compact: String = query.chars().filter(|ch| *ch != ':' && *ch != ' ').collect();
    contains(&c.name, query)
        || contains(&c.subject, query)
        || (!compact.is_empty() && (contains(&c.fingerprint, &compact) || contains(&c.serial_number, &compact)))
}

/// Whether `needle` is in `haystack`, ASCII case ignored. (A plain scan: `str::contains`
/// brings the two-way searcher, 2.6 KB of code, into the first load.)
fn contains(haystack: &str, needle: &str) -> bool {
    let needle = needle.as_bytes();
    haystack.as_bytes().windows(needle.len().max(1)).any(|w| w.eq_ignore_ascii_case(needle))
}

/// The `q` parameter of the page's address (`/trusted-certificates?q=<fingerprint>`, as other
/// pages link to a certificate).
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
    /// The question a row asked, while its dialog is open: `delete:`, `disable:` or `rename:`
    /// and the certificate's fingerprint. (Its name is looked up in the list: a signal of a type
    /// the first load has already, rather than one more.)
    pub asking: RwSignal<Option<String>>,
}

/// The trusted certificates page.
#[component]
pub fn TrustedCertificatesPage() -> impl IntoView {
    let console = Console::get();
    let list = CertificateList::new();
    list.reload(console);
    let state = PageState { list, problem: RwSignal::new(None), asking: RwSignal::new(None) };
    let query = RwSignal::new(query_in_address());
    // The expiry timeline's code is fetched once it is first opened.
    let timeline_opened = RwSignal::new(false);

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
    let fingerprints = Memo::new(move |_| query.with(|q| list.fingerprints(q)));
    // A row's question (delete, disable, rename) exists while it is asked (its code is in a chunk).
    let asking = Memo::new(move |_| state.asking.with(Option::is_some));
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
            let found = Signal::derive(move || {
                let shown = fingerprints.with(Vec::len);
                query.with(|q| list.items.with(|i| match i {
                    Some(Ok(certs)) if !q.trim().is_empty() => found(shown, certs.len(), q.trim()),
                    _ => String::new(),
                }))
            });
            view! {
                <details class="timeline">
                    <summary on:click=move |_| timeline_opened.set(true)>
                        <span class="timeline-title">"Expiry timeline"</span>
                        " · "
                        <span class="summary">{summary}</span>
                    </summary>
                    {part_when(timeline_opened.into(), state, || Box::pin(crate::lazy::timeline()))}
                </details>
                <div class="search">
                    <label for="cert-search">"Search"</label>
                    <input id="cert-search" type="search" placeholder="Name, subject, fingerprint or serial" bind:value=query />
                    <p class="muted" role="status">{found}</p>
                </div>
                <div class="table-wrap">
                    <table class="certificates">
                        <thead>
                            <tr>
                                {sort_header("Certificate", "name", list)}
                                {sort_header("Status", "status", list)}
                                {sort_header("Algorithm", "algorithm", list)}
                                {sort_header("Expiration date", "expiry", list)}
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
            {part_when(asking.into(), state, || Box::pin(crate::lazy::question_dialog()))}
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

/// Loads a part of the page's chunk, boxed so that [`lazy_part`] is one function for every
/// part (`Box::pin(crate::lazy::timeline())`).
type PartLoad = fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = crate::lazy::Loaded<crate::lazy::Part>>>>;

/// A part of the page whose code is in a chunk (a row's question, the expiry timeline):
/// "Loading…" the first time, until its code is there.
fn lazy_part(state: PageState, load: PartLoad) -> impl IntoView {
    let code = crate::lazy::code(load, "code for this");
    move || match code.get() {
        None => view! { <p class="placeholder" role="status">"Loading…"</p> }.into_any(),
        Some(Ok(part)) => part(state),
        Some(Err(e)) => view! {
            <div class="error-box dismissable" role="alert">
                <p>{e}</p>
                <button type="button" class="button small" on:click=move |_| state.asking.set(None)>"Dismiss"</button>
            </div>
        }
        .into_any(),
    }
}

/// A sortable column's header: a button that sorts by `key` (again: the other way), its
/// `aria-sort` saying how the table is sorted (the stylesheet draws the arrow from it).
fn sort_header(label: &'static str, key: &'static str, list: CertificateList) -> impl IntoView {
    // A `Signal<String>`: an attribute type the first load has already.
    let sorted = Signal::derive(move || {
        list.order
            .with(|o| match o.strip_prefix('-') {
                Some(k) if k == key => "descending",
                None if o == key => "ascending",
                _ => "none",
            })
            .to_string()
    });
    let click = move |_| {
        let next = if list.order.with_untracked(|o| o == key) { format!("-{key}") } else { key.to_string() };
        list.sort_by(next);
    };
    view! {
        <th scope="col" aria-sort=sorted>
            <button type="button" class="sort" on:click=click>{label}</button>
        </th>
    }
}

/// A part of the page shown while `when` is true, its code in a chunk (one function, one view
/// type, for the row's question and the timeline).
fn part_when(when: Signal<bool>, state: PageState, load: PartLoad) -> impl IntoView {
    move || when.get().then(|| lazy_part(state, load))
}

/// "2 of 5 certificates match "abc"." / "No certificate matches "abc"."
fn found(shown: usize, total: usize, query: &str) -> String {
    if shown == 0 {
        format!("No certificate matches \"{query}\".")
    } else {
        format!("{shown} of {} match \"{query}\".", format::count(total, "certificate", "certificates"))
    }
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
