//! A table of records in its scrolling wrapper, as the device pages show certificates and
//! requests: a header row, then the rows.

use leptos::prelude::*;

/// A table with class `class` (besides `audit`, the table style), the column headers `headers`
/// (an empty header is a column of actions, named for screen readers), and `rows`.
pub fn data_table(class: &'static str, headers: &[&'static str], rows: impl IntoView + 'static) -> impl IntoView {
    let headers = headers
        .iter()
        .map(|h| {
            if h.is_empty() {
                view! { <th scope="col"><span class="sr-only">"Actions"</span></th> }.into_any()
            } else {
                view! { <th scope="col">{*h}</th> }.into_any()
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class=format!("audit {class}")>
                <thead>
                    <tr>{headers}</tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// A certificate's validity, for a table cell.
pub fn validity(not_before: &str, not_after: &str) -> impl IntoView + use<> {
    let (from, to) = (crate::format::timestamp(not_before), crate::format::timestamp(not_after));
    view! {
        <dl class="props compact">
            <div><dt>"Valid from"</dt><dd>{from}</dd></div>
            <div><dt>"Valid to"</dt><dd>{to}</dd></div>
        </dl>
    }
}
