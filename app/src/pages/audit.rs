//! The audit page: what was done in the tenant, newest first, 25 records a page, filtered by
//! type, user and a range of days (UTC), with the operator's own logins hidden on request. The
//! filters in force are listed above the records with "Clear filters"; a page change scrolls
//! back to the top. Types have names for people (`anchorage_common::refusal::AUDIT_TYPES`).
//! Device token records name the certificate presented (subject, issuer, serial as `openssl`
//! prints it, SHA-1 and SHA-256 fingerprints) and link to the device and to the trusted
//! certificate that anchored it. In proxy mode these are the platform's records.
//!
//! The address may preset the filters: `?type=<type>`, `?user=<user>`, `?device=<external id>`
//! (the device's records: its user `device_<id>`), as the devices page links here.

use std::time::Duration;

use anchorage_common::device::DEVICE_USER_PREFIX;
use anchorage_common::refusal::{AUDIT_TYPES, Reason, audit_type_label, openssl_serial};
use leptos::prelude::*;

use crate::api::{AuditFilter, AuditPage, AuditRecord};
use crate::context::Console;
use crate::format;

/// Records per page.
const PAGE_SIZE: u32 = 25;
/// How long typing must pause before a user filter is sent.
const TYPING_DELAY: Duration = Duration::from_millis(300);

/// The start (`end == false`) or the end of a day picked in a date input (`2026-11-29`), as
/// an RFC 3339 time in UTC; `None` for an empty or malformed value.
fn day_bound(day: &str, end: bool) -> Option<String> {
    let b = day.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let well_formed = b.len() == 10 && b[4] == b'-' && b[7] == b'-' && digits(0..4) && digits(5..7) && digits(8..10);
    well_formed.then(|| format!("{day}T{}Z", if end { "23:59:59.999" } else { "00:00:00.000" }))
}

/// The filters the address presets: `(type, user)`.
fn preset(search: &str) -> (String, String) {
    let mut record_type = String::new();
    let mut user = String::new();
    for pair in search.trim_start_matches('?').split('&') {
        let Some((name, value)) = pair.split_once('=') else { continue };
        let value = js_sys::decode_uri_component(&value.replace('+', " ")).map(String::from).unwrap_or_default();
        let value = value.trim();
        // Bounded: a link carries a type or a name, never a document.
        if value.is_empty() || value.chars().count() > 256 {
            continue;
        }
        match name {
            "type" => record_type = value.to_string(),
            "user" => user = value.to_string(),
            "device" => user = format!("{DEVICE_USER_PREFIX}{value}"),
            _ => {}
        }
    }
    (record_type, user)
}

/// Scrolls the window back to the top (a new page of records starts there).
fn scroll_to_top() {
    window().scroll_to_with_x_and_y(0.0, 0.0);
}

/// The audit page.
#[component]
pub fn AuditPage() -> impl IntoView {
    let console = Console::get();
    let (preset_type, preset_user) = preset(&window().location().search().unwrap_or_default());
    let record_type = RwSignal::new(preset_type);
    let user_input = RwSignal::new(preset_user.clone());
    // The user filter sent: follows `user_input` once typing pauses.
    let user = RwSignal::new(preset_user);
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let hide_own_logins = RwSignal::new(false);
    let page = RwSignal::new(1u32);
    let reloads = RwSignal::new(0u32);
    let answer = RwSignal::new(None::<Result<AuditPage, String>>);
    let loading = RwSignal::new(false);
    let generation = StoredValue::new(0u64);
    let me = console.session.user_name_untracked();

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
    let clear = move |_| {
        // A pending typing pause must not bring the old user back.
        typed.update_value(|n| *n += 1);
        record_type.set(String::new());
        user_input.set(String::new());
        user.set(String::new());
        from.set(String::new());
        to.set(String::new());
        hide_own_logins.set(false);
        page.set(1);
    };

    // Loads whenever a filter or the page changes, or Reload is pressed.
    let me_for_filter = me.clone();
    Effect::new(move |_| {
        reloads.track();
        let filter = AuditFilter {
            record_type: record_type.get(),
            user: user.get(),
            date_from: from.with(|d| day_bound(d, false)),
            date_to: to.with(|d| day_bound(d, true)),
            hide_logins_of: if hide_own_logins.get() { me_for_filter.clone() } else { None },
        };
        let page = page.get();
        let Some(client) = console.client() else { return };
        console.load_latest(generation, loading, answer, async move {
            client.list_audit_records(&filter, page, PAGE_SIZE).await
        });
    });

    // The filters in force, in words.
    let in_force = move || {
        let mut shown = Vec::new();
        record_type.with(|t| {
            if !t.is_empty() {
                shown.push(format!("Type: {}", audit_type_label(t)));
            }
        });
        user.with(|u| {
            if !u.is_empty() {
                shown.push(format!("User: {u}"));
            }
        });
        from.with(|d| {
            if !d.is_empty() {
                shown.push(format!("From: {d} (UTC)"));
            }
        });
        to.with(|d| {
            if !d.is_empty() {
                shown.push(format!("To: {d} (UTC)"));
            }
        });
        if hide_own_logins.get() {
            shown.push("Your logins hidden".to_string());
        }
        shown
    };

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
                {move || (!in_force().is_empty()).then(|| view! { <p>"Try fewer filters."</p> })}
            </div>
        }
        .into_any(),
        Some(Ok(p)) => record_table(p.records).into_any(),
    };

    let go_to = move |n: u32| {
        page.set(n);
        scroll_to_top();
    };
    let pages =
        move || answer.with(|a| a.as_ref().and_then(|a| a.as_ref().ok()).map(|p| (p.page, p.pages, p.has_next)));
    let pager = move || {
        pages().map(|(current, total, has_next)| {
            view! {
                <nav class="pager" aria-label="Pages">
                    <button type="button" class="button small" disabled=move || current <= 1 || loading.get() on:click=move |_| go_to(current.saturating_sub(1).max(1))>
                        "Previous"
                    </button>
                    <span class="muted">{format!("Page {current} of {total}")}</span>
                    <button type="button" class="button small" disabled=move || !has_next || loading.get() on:click=move |_| go_to(current + 1)>
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
                    <p class="muted">"Every change, login and device token, newest first. Times are UTC (ISO 8601)."</p>
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
                    <select id="audit-type" prop:value=move || record_type.get() on:change=set_filter(record_type)>
                        <option value="">"All"</option>
                        {AUDIT_TYPES
                            .iter()
                            .map(|&(value, label)| view! {
                                <option value=value prop:selected=move || record_type.with(|t| t == value)>{label}</option>
                            })
                            .collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="audit-user">"User"</label>
                    <input id="audit-user" type="search" autocomplete="off" prop:value=move || user_input.get() on:input=on_user />
                </div>
                <div class="field">
                    <label for="audit-from">"From (UTC)"</label>
                    <input id="audit-from" type="date" prop:value=move || from.get() on:change=set_filter(from) />
                </div>
                <div class="field">
                    <label for="audit-to">"To (UTC)"</label>
                    <input id="audit-to" type="date" prop:value=move || to.get() on:change=set_filter(to) />
                </div>
                {me.is_some().then(|| view! {
                    <div class="field check-field">
                        <label>
                            <input
                                type="checkbox"
                                prop:checked=move || hide_own_logins.get()
                                on:change=move |ev| {
                                    hide_own_logins.set(event_target_checked(&ev));
                                    page.set(1);
                                }
                            />
                            " Hide my logins"
                        </label>
                    </div>
                })}
            </form>
            {move || {
                let shown = in_force();
                (!shown.is_empty()).then(|| view! {
                    <div class="filters-in-force" role="status">
                        <span class="muted">"Filtered by:"</span>
                        <ul>{shown.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
                        <button type="button" class="button small" on:click=clear>"Clear filters"</button>
                    </div>
                })
            }}
            {body}
            {pager}
        </section>
    }
}

fn record_table(records: Vec<AuditRecord>) -> impl IntoView {
    let rows = records.into_iter().map(record_row).collect_view();
    view! {
        <div class="table-wrap">
            <table class="audit audit-log">
                <thead>
                    <tr>
                        <th scope="col">"Time (UTC)"</th>
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

/// A link inside the console: a plain click navigates without reloading.
fn console_link(href: String, text: String, label: String) -> impl IntoView {
    let console = Console::get();
    let to = href.clone();
    let open = move |ev: leptos::ev::MouseEvent| {
        if ev.button() == 0 && !ev.ctrl_key() && !ev.meta_key() && !ev.shift_key() && !ev.alt_key() {
            ev.prevent_default();
            console.router.go_path(&to);
        }
    };
    view! { <a href=href aria-label=label on:click=open>{text}</a> }
}

/// What a device token record names: the reason of a refusal, the device, the certificate and
/// the trusted certificate, with links to the device and to the trusted certificate.
fn certificate_view(r: &AuditRecord) -> Option<impl IntoView + use<>> {
    let d = r.details.as_ref()?;
    let any = d.certificate_subject.is_some()
        || d.certificate_fingerprint.is_some()
        || d.device.is_some()
        || d.trusted_certificate_fingerprint.is_some();
    if !any {
        return None;
    }
    let encode = |s: &str| String::from(js_sys::encode_uri_component(s));
    let reason = d.reason.as_deref().and_then(Reason::from_code).map(|r| {
        view! { <p class="reason"><strong>{r.label()}</strong> ": " {r.advice()}</p> }
    });
    let device = d.device.clone().map(|user| {
        let id = user.strip_prefix(DEVICE_USER_PREFIX).unwrap_or(&user).to_string();
        let href = format!("/devices?q={}", encode(&id));
        let label = format!("Device {id}");
        view! { <dt>"Device"</dt><dd>{console_link(href, id, label)}</dd> }
    });
    let text_item = |term: &'static str, value: Option<String>, code: bool| {
        value.map(|v| {
            let v = if code { view! { <code>{v}</code> }.into_any() } else { view! { <span>{v}</span> }.into_any() };
            view! { <dt>{term}</dt><dd>{v}</dd> }
        })
    };
    let ca = d.trusted_certificate_fingerprint.clone().map(|fp| {
        let href = format!("/trusted-certificates?q={}", encode(&fp));
        let label = format!("Trusted certificate {fp}");
        view! { <dt>"Trusted certificate"</dt><dd>{console_link(href, fp, label)}</dd> }
    });
    Some(view! {
        <div class="record-certificate">
            {reason}
            <dl>
                {device}
                {text_item("Subject", d.certificate_subject.clone(), false)}
                {text_item("Issuer", d.certificate_issuer.clone(), false)}
                {text_item("Serial (hex)", d.certificate_serial_number_in_hex.as_deref().map(openssl_serial), true)}
                {text_item("SHA-1 fingerprint", d.certificate_fingerprint.clone(), true)}
                {text_item("SHA-256 fingerprint", d.certificate_sha256_fingerprint.clone(), true)}
                {ca}
            </dl>
        </div>
    })
}

fn record_row(r: AuditRecord) -> impl IntoView {
    let address = r.client_address().unwrap_or("—").to_string();
    let certificate = certificate_view(&r);
    let type_label = audit_type_label(&r.record_type).to_string();
    let severity = r.severity.unwrap_or_default();
    let warning = severity == "warning";
    view! {
        <tr class:warning=warning>
            <td class="time" data-label="Time (UTC)">{format::timestamp(&r.time)}</td>
            <td class="type" data-label="Type">{type_label}</td>
            <th scope="row" class="activity" data-label="Activity">{r.activity}</th>
            <td class="user" data-label="User">{r.user.unwrap_or_else(|| "—".into())}</td>
            <td class="text" data-label="Text">{r.text}{certificate}</td>
            <td class="address" data-label="Client address"><code>{address}</code></td>
            <td class="severity" data-label="Severity">{severity}</td>
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
