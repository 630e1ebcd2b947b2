//! What the server answered to a bulk registration: counts, then each failure with its reason.

use anchorage_common::api::BulkNewDeviceRequestResult;
use leptos::prelude::*;

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

/// The result card.
#[component]
pub(super) fn RegistrationResult(
    /// The server's answer.
    result: BulkNewDeviceRequestResult,
    /// Whether only the valid rows were sent (line numbers then refer to that file).
    valid_only: bool,
) -> impl IntoView {
    let failed = result.failed_creation_list.len();
    let updated = result.credential_updated_list.len();
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
    let all_ok = result.number_of_failed == 0 && result.number_of_successful == result.number_of_all;

    view! {
        <section class="card result" aria-labelledby="result-title">
            <h2 id="result-title">"Registration result"</h2>
            <p class=if all_ok { "result-lead ok" } else { "result-lead" }>
                {if all_ok {
                    format!("All {} registered.", format::count_of(result.number_of_all, "device", "devices"))
                } else {
                    format!("{} of {} registered.", format::number(result.number_of_successful), format::count_of(result.number_of_all, "device", "devices"))
                }}
            </p>
            <ul class="counts" aria-label="Result">
                <li><strong>{format::number(result.number_of_created)}</strong>" created"</li>
                <li><strong>{format::number(updated as u64)}</strong>" credentials updated"</li>
                <li class:bad=result.number_of_failed != 0><strong>{format::number(result.number_of_failed)}</strong>" failed"</li>
            </ul>
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
                    <summary>{format!("Credentials updated ({})", format::number(updated as u64))}</summary>
                    <ul class="id-list">{updated_ids}</ul>
                </details>
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::line_of;

    #[test]
    fn the_line_is_read_from_the_device_info() {
        assert_eq!(line_of("DeviceInfo{id='a', line=12}"), "12");
        assert_eq!(line_of("something else"), "something else");
    }
}
