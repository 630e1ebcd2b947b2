//! The alarms page: certificate expiry alarms (CAs and device certificates near or past their
//! expiry), the worst first within each page's newest-first order, filtered by status; admins
//! acknowledge or clear them. Dates are UTC.

use anchorage_common::alarms::{Alarm, AlarmStatus, CertificateKind, Severity, expiry_in_words};
use leptos::prelude::*;
use time::OffsetDateTime;

use crate::api::alarms::{AlarmPage, AlarmView};
use crate::components::read_only;
use crate::context::Console;
use crate::format;

/// Alarms per page.
const PAGE_SIZE: u32 = 25;

/// The status filter's choices: value, label, view.
const VIEWS: [(&str, &str, AlarmView); 5] = [
    ("open", "Open (active and acknowledged)", AlarmView::Open),
    ("active", "Active", AlarmView::Only(AlarmStatus::Active)),
    ("acknowledged", "Acknowledged", AlarmView::Only(AlarmStatus::Acknowledged)),
    ("cleared", "Cleared", AlarmView::Only(AlarmStatus::Cleared)),
    ("all", "All", AlarmView::All),
];

/// The alarms page.
#[component]
pub fn AlarmsPage() -> impl IntoView {
    let console = Console::get();
    let view_of = RwSignal::new(AlarmView::Open);
    let page = RwSignal::new(1u32);
    let reloads = RwSignal::new(0u32);
    let answer = RwSignal::new(None::<Result<AlarmPage, String>>);
    let loading = RwSignal::new(false);
    let generation = StoredValue::new(0u64);
    let problem = RwSignal::new(None::<String>);
    // The alarm whose change is on its way (its buttons are disabled meanwhile).
    let busy = RwSignal::new(None::<String>);

    Effect::new(move |_| {
        reloads.track();
        let (view_of, page) = (view_of.get(), page.get());
        let Some(client) = console.client() else { return };
        console.load_latest(
            generation,
            loading,
            answer,
            async move { client.list_alarms(view_of, page, PAGE_SIZE).await },
        );
    });

    let change = move |id: String, status: AlarmStatus| {
        let Some(client) = console.client() else { return };
        busy.set(Some(id.clone()));
        problem.set(None);
        leptos::task::spawn_local(async move {
            let result = client.set_alarm_status(&id, status).await;
            busy.try_set(None);
            match result {
                Ok(_) => {
                    console.toast(match status {
                        AlarmStatus::Acknowledged => "Alarm acknowledged.",
                        AlarmStatus::Cleared => "Alarm cleared.",
                        AlarmStatus::Active => "Alarm reactivated.",
                    });
                    reloads.try_update(|n| *n += 1);
                }
                Err(e) => {
                    if let Some(message) = console.explain(&e) {
                        problem.try_set(Some(message));
                    }
                }
            }
        });
    };
    let actions = Actions { change: Callback::new(move |(id, status)| change(id, status)), busy };

    let on_view = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        if let Some(&(_, _, v)) = VIEWS.iter().find(|(key, _, _)| *key == value) {
            view_of.set(v);
            page.set(1);
        }
    };

    let body = move || match answer.get() {
        None => view! { <p class="placeholder" role="status">"Loading alarms…"</p> }.into_any(),
        Some(Err(message)) => view! {
            <div class="error-box" role="alert">
                <p><strong>"The alarms could not be loaded."</strong></p>
                <p>{message}</p>
            </div>
        }
        .into_any(),
        Some(Ok(p)) if p.alarms.is_empty() => view! {
            <div class="empty">
                <p class="empty-title">"No alarms to display."</p>
                <p class="muted">"Certificates that expire within the tenant's alarm window raise an alarm here."</p>
            </div>
        }
        .into_any(),
        Some(Ok(p)) => alarm_table(p.alarms, actions).into_any(),
    };

    let pages =
        move || answer.with(|a| a.as_ref().and_then(|a| a.as_ref().ok()).map(|p| (p.page, p.pages, p.has_next)));
    let pager = move || {
        pages().filter(|(_, total, _)| *total > 1).map(|(current, total, has_next)| {
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
        <section class="page alarms-page" aria-busy=move || loading.get().then_some("true")>
            <header class="page-header">
                <div>
                    <h1>"Alarms"</h1>
                    <p class="muted">"Trusted and device certificates that expire soon or have expired, newest first. Dates are UTC."</p>
                </div>
                <div class="toolbar">
                    <button type="button" class="button" on:click=move |_| reloads.update(|n| *n += 1)>
                        <span class="reload-icon" class:spinning=move || loading.get() aria-hidden="true">"↻"</span>
                        " Reload"
                    </button>
                </div>
            </header>
            <form class="filters" aria-label="Filters" on:submit=|ev| ev.prevent_default()>
                <div class="field">
                    <label for="alarms-status">"Status"</label>
                    <select id="alarms-status" on:change=on_view>
                        {VIEWS.iter().map(|&(value, label, v)| view! { <option value=value selected=v == AlarmView::Open>{label}</option> }).collect_view()}
                    </select>
                </div>
            </form>
            {move || problem.get().map(|p| view! {
                <div class="error-box" role="alert">
                    <p>{p}</p>
                    <button type="button" class="button small" on:click=move |_| problem.set(None)>"Dismiss"</button>
                </div>
            })}
            {body}
            {pager}
        </section>
    }
}

/// What a row's buttons do: change an alarm's status; which alarm is being changed.
#[derive(Clone, Copy)]
struct Actions {
    change: Callback<(String, AlarmStatus)>,
    busy: RwSignal<Option<String>>,
}

fn alarm_table(alarms: Vec<Alarm>, actions: Actions) -> impl IntoView {
    let now = OffsetDateTime::now_utc();
    let rows = alarms.into_iter().map(|a| alarm_row(a, now, actions)).collect_view();
    crate::components::data_table::data_table(
        "alarms",
        &["Severity", "Certificate", "Source", "Expiry", "Last raised", "Count", "Status", ""],
        rows,
    )
}

/// The badge class of a severity.
fn severity_class(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "badge badge-danger",
        Severity::Major => "badge badge-warning",
        Severity::Minor | Severity::Warning => "badge",
    }
}

/// A word for a status.
fn status_word(s: AlarmStatus) -> &'static str {
    match s {
        AlarmStatus::Active => "Active",
        AlarmStatus::Acknowledged => "Acknowledged",
        AlarmStatus::Cleared => "Cleared",
    }
}

/// Where the source links: the device's page, or the trusted certificate; `None` for an
/// alarm of another kind (a platform's, behind the proxy).
fn source_link(a: &Alarm) -> Option<String> {
    let cert = a.certificate.as_ref();
    match CertificateKind::of_type(&a.alarm_type)? {
        CertificateKind::Ca => Some(format!("/trusted-certificates?q={}", encode(&a.source.id))),
        CertificateKind::Device => {
            let id = cert.and_then(|c| c.device_id.as_deref()).unwrap_or(&a.source.id);
            Some(format!("/devices?q={}", encode(id)))
        }
    }
}

fn encode(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}

/// A link to another console page, followed without reloading the console.
fn page_link(href: String, text: String) -> impl IntoView {
    let console = Console::get();
    let to = href.clone();
    let open = move |ev: leptos::ev::MouseEvent| {
        if ev.button() == 0 && !ev.ctrl_key() && !ev.meta_key() && !ev.shift_key() && !ev.alt_key() {
            ev.prevent_default();
            console.router.go_path(&to);
        }
    };
    view! { <a href=href on:click=open>{text}</a> }
}

fn alarm_row(a: Alarm, now: OffsetDateTime, actions: Actions) -> impl IntoView {
    let console = Console::get();
    let what = match CertificateKind::of_type(&a.alarm_type) {
        Some(CertificateKind::Ca) => "CA certificate".to_string(),
        Some(CertificateKind::Device) => "Device certificate".to_string(),
        None => a.alarm_type.clone(),
    };
    let source_name = a.source.name.clone().unwrap_or_else(|| a.source.id.clone());
    let source = match source_link(&a) {
        Some(href) => page_link(href, source_name).into_any(),
        None => view! { <span>{source_name}</span> }.into_any(),
    };
    let not_after = a.certificate.as_ref().and_then(|c| anchorage_common::timefmt::parse(&c.not_after));
    let expiry = match not_after {
        Some(t) => {
            let words = expiry_in_words(t, now);
            let datetime = anchorage_common::timefmt::platform(t);
            view! {
                <span class="alarm-expiry">
                    <span class="alarm-days">{words}</span>
                    <time datetime=datetime>{format::date_time(t)}</time>
                </span>
            }
            .into_any()
        }
        None => view! { <span>"—"</span> }.into_any(),
    };
    let id = a.id.clone();
    let busy = move || actions.busy.get().as_deref() == Some(id.as_str());
    let read_only = console.session.read_only();
    let title = read_only::title(console.session);
    let alarm_id = a.id.clone();
    let button = move |label: &'static str, status: AlarmStatus| {
        let (id, busy) = (alarm_id.clone(), busy.clone());
        let aria = format!("{label} alarm {alarm_id}");
        view! {
            <button type="button" class="button small" aria-label=aria title=title disabled=move || read_only || busy() on:click=move |_| actions.change.run((id.clone(), status))>
                {label}
            </button>
        }
    };
    let buttons = view! {
        <div class="row-actions">
            {(a.status == AlarmStatus::Active).then(|| button("Acknowledge", AlarmStatus::Acknowledged))}
            {(a.status != AlarmStatus::Cleared).then(|| button("Clear", AlarmStatus::Cleared))}
        </div>
    };
    view! {
        <tr class="alarm-row" data-severity=a.severity.as_str()>
            <td data-label="Severity"><span class=severity_class(a.severity)>{a.severity.as_str()}</span></td>
            <th scope="row" class="text" data-label="Certificate">
                <strong>{what}</strong>
                <span class="alarm-text">{a.text.clone()}</span>
            </th>
            <td data-label="Source">{source}</td>
            <td data-label="Expiry">{expiry}</td>
            <td class="time" data-label="Last raised">{format::timestamp(&a.time)}</td>
            <td data-label="Count">{a.count}</td>
            <td data-label="Status">{status_word(a.status)}</td>
            <td data-label="Actions">{buttons}</td>
        </tr>
    }
}
