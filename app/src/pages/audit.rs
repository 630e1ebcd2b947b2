//! The audit page: what was done in the tenant, newest first, 25 records a page, filtered by
//! type, user and a range of days (UTC). In proxy mode these are the platform's records.

use std::time::Duration;

use leptos::prelude::*;

use crate::api::{AuditFilter, AuditPage, AuditRecord};
use crate::context::Console;
use crate::format;

/// Records per page.
const PAGE_SIZE: u32 = 25;
/// How long typing must pause before a user filter is sent.
const TYPING_DELAY: Duration = Duration::from_millis(300);

/// The record types anchorage writes, with what they are about.
const TYPES: [(&str, &str); 6] = [
    ("Tenant", "Trusted certificates (Tenant)"),
    ("Option", "Tenant options (Option)"),
    ("User", "Users (User)"),
    ("UserAuthentication", "Logins (UserAuthentication)"),
    ("BulkRegistration", "Bulk registration (BulkRegistration)"),
    ("DeviceAccessToken", "Device access tokens (DeviceAccessToken)"),
];

/// The start (`end == false`) or the end of a day picked in a date input (`2026-11-29`), as
/// an RFC 3339 time in UTC; `None` for an empty or malformed value.
fn day_bound(day: &str, end: bool) -> Option<String> {
    let b = day.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let well_formed = b.len() == 10 && b[4] == b'-' && b[7] == b'-' && digits(0..4) && digits(5..7) && digits(8..10);
    well_formed.then(|| format!("{day}T{}Z", if end { "23:59:59.999" } else { "00:00:00.000" }))
}

/// The audit page.
#[component]
pub fn AuditPage() -> impl IntoView {
    let console = Console::get();
    let record_type = RwSignal::new(String::new());
    let user_input = RwSignal::new(String::new());
    // The user filter sent: follows `user_input` once typing pauses.
    let user = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let page = RwSignal::new(1u32);
    let reloads = RwSignal::new(0u32);
    let answer = RwSignal::new(None::<Result<AuditPage, String>>);
    let loading = RwSignal::new(false);
    let generation = StoredValue::new(0u64);

    let typed = StoredValue::new(0u64);
    let on_user = move |ev: leptos::ev::Event| {
        user_input.set(event_target_value(&ev));
        let n = typed.get_value() + 1;
        typed.set_value(n);
        set_timeout(
            move || {
                if typed.try_get_value() == Some(n) {
                    user.set(user_input.get_untracked().trim().to_string());
                    page.set(1);
                }
            },
            TYPING_DELAY,
        );
    };
    let set_filter = move |signal: RwSignal<String>| {
        move |ev: leptos::ev::Event| {
            signal.set(event_target_value(&ev));
            page.set(1);
        }
    };

    // Loads whenever a filter or the page changes, or Reload is pressed.
    Effect::new(move |_| {
        reloads.track();
        let filter = AuditFilter {
            record_type: record_type.get(),
            user: user.get(),
            date_from: from.with(|d| day_bound(d, false)),
            date_to: to.with(|d| day_bound(d, true)),
        };
        let page = page.get();
        let Some(client) = console.client() else { return };
        console.load_latest(generation, loading, answer, async move {
            client.list_audit_records(&filter, page, PAGE_SIZE).await
        });
    });

    let body = move || match answer.get() {
        None => view! { <p class="placeholder" role="status">"Loading audit records…"</p> }.into_any(),
        Some(Err(message)) => view! {
            <div class="error-box" role="alert">
                <p><strong>"The audit records could not be loaded."</strong></p>
                <p>{message}</p>
            </div>
        }
        .into_any(),
        Some(Ok(p)) if p.records.is_empty() => view! {
            <div class="empty">
                <p class="empty-title">"No audit records to display."</p>
            </div>
        }
        .into_any(),
        Some(Ok(p)) => record_table(p.records).into_any(),
    };

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
                    <h1>"Audit"</h1>
                    <p class="muted">"Every change, login and device token, newest first. Dates are UTC."</p>
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
                    <label for="audit-type">"Type"</label>
                    <select id="audit-type" on:change=set_filter(record_type)>
                        <option value="" selected>"All"</option>
                        {TYPES.iter().map(|&(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="audit-user">"User"</label>
                    <input id="audit-user" type="search" autocomplete="off" prop:value=move || user_input.get() on:input=on_user />
                </div>
                <div class="field">
                    <label for="audit-from">"From"</label>
                    <input id="audit-from" type="date" on:change=set_filter(from) />
                </div>
                <div class="field">
                    <label for="audit-to">"To"</label>
                    <input id="audit-to" type="date" on:change=set_filter(to) />
                </div>
            </form>
            {body}
            {pager}
        </section>
    }
}

fn record_table(records: Vec<AuditRecord>) -> impl IntoView {
    let rows = records.into_iter().map(record_row).collect_view();
    view! {
        <div class="table-wrap">
            <table class="audit">
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Activity"</th>
                        <th scope="col">"User"</th>
                        <th scope="col">"Text"</th>
                        <th scope="col">"Client address"</th>
                        <th scope="col">"Severity"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

fn record_row(r: AuditRecord) -> impl IntoView {
    let address = r.client_address().unwrap_or("—").to_string();
    view! {
        <tr>
            <td class="time" data-label="Time">{format::timestamp(&r.time)}</td>
            <td data-label="Type">{r.record_type}</td>
            <th scope="row" data-label="Activity">{r.activity}</th>
            <td data-label="User">{r.user.unwrap_or_else(|| "—".into())}</td>
            <td class="text" data-label="Text">{r.text}</td>
            <td data-label="Client address"><code>{address}</code></td>
            <td data-label="Severity">{r.severity.unwrap_or_default()}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_become_utc_bounds() {
        assert_eq!(day_bound("2026-11-29", false).as_deref(), Some("2026-11-29T00:00:00.000Z"));
        assert_eq!(day_bound("2026-11-29", true).as_deref(), Some("2026-11-29T23:59:59.999Z"));
        assert_eq!(day_bound("", false), None);
        assert_eq!(day_bound("29.11.2026", true), None);
        assert_eq!(day_bound("2026-1-299", true), None);
    }
}
