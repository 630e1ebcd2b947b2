//! The expiration date of a certificate, with a warning badge when it is near and a
//! struck-through date when it has passed.

use leptos::prelude::*;
use time::OffsetDateTime;

use crate::format;

/// Certificates expiring within this many days get a warning badge (as the platform's UI).
pub const WARN_DAYS: i64 = 90;

/// An expiration date with its badge.
#[component]
pub fn ExpiryDate(
    /// When the certificate expires.
    not_after: OffsetDateTime,
    /// The time to compare with.
    now: OffsetDateTime,
) -> impl IntoView {
    let full = format::date_time(not_after);
    let date = format::date(not_after);
    let datetime = anchorage_common::timefmt::platform(not_after);
    let days = (not_after - now).whole_days();
    if not_after < now {
        view! {
            <span class="expiry expired">
                <time datetime=datetime title=full><s>{date}</s></time>
                " "
                <span class="badge badge-danger">"Expired"</span>
            </span>
        }
        .into_any()
    } else if days < WARN_DAYS {
        view! {
            <span class="expiry soon">
                <time datetime=datetime title=full>{date}</time>
                " "
                <span class="badge badge-warning">"Expires " {format::days_from_now(days)}</span>
            </span>
        }
        .into_any()
    } else {
        view! {
            <span class="expiry">
                <time datetime=datetime title=full>{date}</time>
            </span>
        }
        .into_any()
    }
}
