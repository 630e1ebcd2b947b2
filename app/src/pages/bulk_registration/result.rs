//! What the server answered to a bulk registration, worded for what happened: new devices,
//! devices registered already and updated (for certificate devices that is their name, type
//! and properties: they have no credentials, whatever the platform's `credentialUpdatedList`
//! calls it), failures with their reasons.

use std::sync::Arc;

use anchorage_common::api::BulkNewDeviceRequestResult;
use leptos::prelude::*;

use super::Existing;
use crate::format;

/// Failures and updated devices listed at most (the counts always cover all).
const LIST_LIMIT: usize = 1000;

/// The line number in the server's `DeviceInfo{id='…', line=N}`, else its whole text.
fn line_of(info: &str) -> String {
    info.rsplit_once("line=")
        .map(|(_, rest)| rest.trim_end_matches('}').to_string())
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| info.to_string())
}

/// The sentence that leads the result: what was created, updated and failed.
fn lead(all: u64, created: u64, updated: u64, failed: u64) -> String {
    let new = format::count_of(created, "new device", "new devices");
    let old =
        format::count_of(updated, "device registered already was updated", "devices registered already were updated");
    match (created, updated, failed) {
        (_, 0, 0) => format!("All {} registered as new devices.", format::count_of(all, "row", "rows")),
        (0, _, 0) => format!(
            "No new device: all {} registered already and were updated.",
            format::count_of(all, "device was", "devices were")
        ),
        (_, _, 0) => format!("All {} registered: {new}; {old}.", format::count_of(all, "row", "rows")),
        (0, 0, _) => format!("Nothing registered: {} failed.", format::count_of(failed, "row", "rows")),
        _ => format!(
            "{} of {} registered ({new}; {old}); {} failed.",
            format::number(created + updated),
            format::count_of(all, "row", "rows"),
            format::number(failed)
        ),
    }
}

/// What an update did, by auth type: the updated ids whose rows are certificate devices (as
/// the preview learnt them) had their name, type and properties updated; password devices
/// also their password.
fn updated_detail(updated: &[String], existing: Option<&Existing>) -> Option<String> {
    let existing = existing?;
    let certificates = updated.iter().filter(|id| existing.ids.get(*id) == Some(&true)).count() as u64;
    let basic = updated.iter().filter(|id| existing.ids.get(*id) == Some(&false)).count() as u64;
    let mut parts = Vec::new();
    if certificates > 0 {
        parts.push(format!(
            "{}: name, type and properties updated; no credentials changed (they have none)",
            format::count_of(certificates, "certificate device", "certificate devices")
        ));
    }
    if basic > 0 {
        parts.push(format!(
            "{}: name, type, properties and password updated",
            format::count_of(basic, "password device", "password devices")
        ));
    }
    (!parts.is_empty()).then(|| format!("{}.", parts.join("; ")))
}

/// The result card.
#[component]
pub(super) fn RegistrationResult(
    /// The server's answer.
    result: BulkNewDeviceRequestResult,
    /// Whether only the valid rows were sent (line numbers then refer to that file).
    valid_only: bool,
    /// The rows registered already, as the preview learnt them (to word updates by auth type).
    existing: Option<Arc<Existing>>,
) -> impl IntoView {
    let failed = result.failed_creation_list.len();
    let updated = result.credential_updated_list.len();
    let updated_list: Vec<String> = result.credential_updated_list.iter().map(|u| u.device_id.clone()).collect();
    let detail = updated_detail(&updated_list, existing.as_deref());
    let failures = result
        .failed_creation_list
        .into_iter()
        .take(LIST_LIMIT)
        .map(|f| {
            view! {
                <tr>
                    <th scope="row"><code>{f.device_id}</code></th>
                    <td>{f.failure_reason}</td>
                    <td class="line">{line_of(&f.line)}</td>
                </tr>
            }
        })
        .collect_view();
    let updated_ids = result
        .credential_updated_list
        .into_iter()
        .take(LIST_LIMIT)
        .map(|u| view! { <li><code>{u.device_id}</code></li> })
        .collect_view();
    // The platform's own success test.
    let all_ok = result.number_of_failed == 0 && result.number_of_successful == result.number_of_all;
    let lead = lead(result.number_of_all, result.number_of_created, updated as u64, result.number_of_failed);

    view! {
        <section class="card result" aria-labelledby="result-title">
            <h2 id="result-title">"Registration result"</h2>
            <p class=if all_ok { "result-lead ok" } else { "result-lead" }>{lead}</p>
            <ul class="counts" aria-label="Result">
                <li><strong>{format::number(result.number_of_created)}</strong>" new"</li>
                <li><strong>{format::number(updated as u64)}</strong>" registered already, updated"</li>
                <li class:bad=result.number_of_failed != 0><strong>{format::number(result.number_of_failed)}</strong>" failed"</li>
            </ul>
            {detail.map(|d| view! { <p class="updated-detail">{d}</p> })}
            {valid_only.then(|| view! {
                <p class="hint">"Only the valid rows were sent: line numbers refer to that file."</p>
            })}
            {(failed > 0).then(|| view! {
                <h3>"Failures"</h3>
                <div class="table-wrap">
                    <table class="failures">
                        <thead>
                            <tr>
                                <th scope="col">"Device ID"</th>
                                <th scope="col">"Reason"</th>
                                <th scope="col">"Line"</th>
                            </tr>
                        </thead>
                        <tbody>{failures}</tbody>
                    </table>
                </div>
                {(failed > LIST_LIMIT).then(|| view! { <p class="hint">{format!("The first {LIST_LIMIT} of {} failures are listed.", format::number(failed as u64))}</p> })}
            })}
            {(updated > 0).then(|| view! {
                <details class="updated">
                    <summary>{format!("Devices registered already, updated ({})", format::number(updated as u64))}</summary>
                    <ul class="id-list">{updated_ids}</ul>
                </details>
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::{Existing, lead, line_of, updated_detail};

    #[test]
    fn the_lead_says_what_was_created_updated_and_failed() {
        assert_eq!(lead(2, 2, 0, 0), "All 2 rows registered as new devices.");
        assert_eq!(lead(5, 0, 5, 0), "No new device: all 5 devices were registered already and were updated.");
        assert_eq!(lead(3, 1, 2, 0), "All 3 rows registered: 1 new device; 2 devices registered already were updated.");
        assert_eq!(lead(2, 0, 0, 2), "Nothing registered: 2 rows failed.");
        assert_eq!(
            lead(4, 1, 1, 2),
            "2 of 4 rows registered (1 new device; 1 device registered already was updated); 2 failed."
        );
    }

    #[test]
    fn updates_are_worded_by_auth_type() {
        let mut existing = Existing::default();
        existing.ids.insert("c".into(), true);
        existing.ids.insert("b".into(), false);
        let updated = ["c".to_string(), "b".to_string(), "c".to_string()];
        assert_eq!(
            updated_detail(&updated, Some(&existing)).as_deref(),
            Some(
                "2 certificate devices: name, type and properties updated; no credentials changed (they have none); \
                 1 password device: name, type, properties and password updated."
            )
        );
        assert_eq!(updated_detail(&updated, None), None);
    }

    #[test]
    fn the_line_is_read_from_the_device_info() {
        assert_eq!(line_of("DeviceInfo{id='a', line=12}"), "12");
        assert_eq!(line_of("something else"), "something else");
    }
}
