//! The expiry timeline, in its own chunk ([`crate::lazy::timeline`]), fetched when the
//! page's "Expiry timeline" section is first opened: an SVG plot with one bar per certificate
//! from its notBefore to its notAfter, a "now" line and the 90-day window shaded, and the same
//! facts as a table (the plot's text alternative). Sizes and colours are SVG attributes and
//! classes: the CSP (`style-src 'self'`) blocks inline styles.

use anchorage_common::api::TrustedCertificate;
use anchorage_common::timefmt;
use leptos::prelude::*;
use time::{Duration, OffsetDateTime};

use super::PageState;
use crate::components::expiry::WARN_DAYS;
use crate::format;

/// The plot's coordinate system (the SVG scales to the section's width).
const WIDTH: f64 = 800.0;
const LABEL_END: f64 = 210.0;
const PLOT_START: f64 = 220.0;
const PLOT_END: f64 = 780.0;
const TOP: f64 = 36.0;
const ROW: f64 = 26.0;
const BAR: f64 = 14.0;
/// Room for the year labels under the bars.
const AXIS: f64 = 28.0;

/// One certificate on the plot.
#[derive(Debug, Clone, PartialEq)]
struct Bar {
    name: String,
    from: OffsetDateTime,
    to: OffsetDateTime,
    /// `expired`, `soon` (within the window) or `ok`: the bar's class.
    state: &'static str,
}

/// The timeline, as its chunk exports it.
pub(crate) fn timeline(state: PageState) -> AnyView {
    (move || {
        let now = OffsetDateTime::now_utc();
        let bars = state.list.items.with(|items| match items {
            Some(Ok(certs)) => bars(certs, now),
            _ => Vec::new(),
        });
        plot(&bars, now)
    })
    .into_any()
}

fn bars(certs: &[TrustedCertificate], now: OffsetDateTime) -> Vec<Bar> {
    let mut bars: Vec<Bar> = certs
        .iter()
        .filter_map(|c| {
            let from = timefmt::parse(&c.not_before)?;
            let to = timefmt::parse(&c.not_after)?;
            let state = if to < now {
                "expired"
            } else if (to - now).whole_days() < WARN_DAYS {
                "soon"
            } else {
                "ok"
            };
            Some(Bar { name: c.name.clone(), from, to, state })
        })
        .collect();
    bars.sort_by(|a, b| a.to.cmp(&b.to).then_with(|| a.name.cmp(&b.name)));
    bars
}

/// The time span shown: every bar, now and the window, within bounds (so that a 30-year root
/// does not squash the window into a line).
fn span(bars: &[Bar], now: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
    let earliest = bars.iter().map(|b| b.from).min().unwrap_or(now);
    let latest = bars.iter().map(|b| b.to).max().unwrap_or(now);
    let start = earliest.max(now - Duration::days(5 * 365)).min(now - Duration::days(30));
    let end = latest.min(now + Duration::days(10 * 365)).max(now + Duration::days(WARN_DAYS + 30));
    (start, end)
}

/// The x coordinate of `t` (clamped to the plot).
fn x_of(t: OffsetDateTime, (start, end): (OffsetDateTime, OffsetDateTime)) -> f64 {
    let total = (end - start).as_seconds_f64().max(1.0);
    let at = ((t - start).as_seconds_f64() / total).clamp(0.0, 1.0);
    PLOT_START + at * (PLOT_END - PLOT_START)
}

/// A coordinate as an attribute value, one decimal.
fn n(v: f64) -> String {
    format!("{v:.1}")
}

/// Names longer than the label column are cut (the table below has them whole).
fn short(name: &str) -> String {
    const MAX: usize = 28;
    if name.chars().count() > MAX {
        format!("{}…", name.chars().take(MAX - 1).collect::<String>())
    } else {
        name.to_string()
    }
}

fn plot(bars: &[Bar], now: OffsetDateTime) -> AnyView {
    if bars.is_empty() {
        return view! { <p class="muted">"No certificate to plot."</p> }.into_any();
    }
    let range = span(bars, now);
    let height = TOP + ROW * bars.len() as f64 + AXIS;
    let bottom = TOP + ROW * bars.len() as f64;
    let x_now = x_of(now, range);
    let x_window = x_of(now + Duration::days(WARN_DAYS), range);
    let soon = bars.iter().filter(|b| b.state == "soon").count();
    let expired = bars.iter().filter(|b| b.state == "expired").count();
    let description = format!(
        "{} from {} to {} UTC; {} within {WARN_DAYS} days, {} expired. The table below lists the same dates.",
        format::count(bars.len(), "certificate", "certificates"),
        format::date(range.0),
        format::date(range.1),
        format::count(soon, "expires", "expire"),
        expired
    );

    // One tick per year (every few years over a long span), labelled.
    let (first_year, last_year) = (range.0.year(), range.1.year());
    let step = ((last_year - first_year) / 10 + 1).max(1);
    let ticks: Vec<(f64, i32)> = (first_year + 1..=last_year)
        .filter(|y| (y - first_year) % step == 0)
        .filter_map(|y| time::Date::from_calendar_date(y, time::Month::January, 1).ok())
        .map(|d| (x_of(d.midnight().assume_utc(), range), d.year()))
        .collect();

    let rows = bars
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let y = TOP + ROW * i as f64;
            let (x1, x2) = (x_of(b.from, range), x_of(b.to, range));
            let tip = format!("{}: valid from {} to {}", b.name, format::date_time(b.from), format::date_time(b.to));
            // Colours as SVG presentation attributes (the stylesheet is in the first load).
            let fill = match b.state {
                "expired" => "#b42318",
                "soon" => "#8a5a00",
                _ => "#1f4e8c",
            };
            view! {
                <g class=format!("timeline-row {}", b.state)>
                    <text x=n(LABEL_END) y=n(y + BAR - 2.0) text-anchor="end" font-size="12" fill="#1b2330">{short(&b.name)}</text>
                    <rect class="timeline-bar" x=n(x1) y=n(y) width=n((x2 - x1).max(2.0)) height=n(BAR) rx="3" fill=fill>
                        <title>{tip}</title>
                    </rect>
                </g>
            }
        })
        .collect_view();
    let ticks_view = ticks
        .into_iter()
        .map(|(x, year)| {
            view! {
                <line x1=n(x) x2=n(x) y1=n(TOP - 6.0) y2=n(bottom) stroke="#dce2e9"></line>
                <text x=n(x) y=n(bottom + 18.0) text-anchor="middle" font-size="11" fill="#5b6675">{year}</text>
            }
        })
        .collect_view();
    let table_rows = bars
        .iter()
        .map(|b| {
            let days = (b.to - now).whole_days();
            let left = if b.to < now { "expired".to_string() } else { format::count(days as usize, "day", "days") };
            view! {
                <tr class=b.state>
                    <th scope="row">{b.name.clone()}</th>
                    <td>{format::date_time(b.from)}</td>
                    <td>{format::date_time(b.to)}</td>
                    <td>{left}</td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <div class="timeline-body">
            <svg
                class="timeline-plot"
                width="100%"
                viewBox=format!("0 0 {WIDTH} {}", n(height))
                role="img"
                aria-labelledby="timeline-plot-title timeline-plot-desc"
                preserveAspectRatio="xMinYMin meet"
            >
                <title id="timeline-plot-title">"Validity of every trusted certificate, with now and the next 90 days"</title>
                <desc id="timeline-plot-desc">{description}</desc>
                <rect class="timeline-window" x=n(x_now) y=n(TOP - 8.0) width=n((x_window - x_now).max(2.0)) height=n(bottom - TOP + 8.0) fill="#fff4d6"></rect>
                <text x=n(x_window + 4.0) y=n(TOP - 12.0) font-size="11" fill="#8a5a00">"+90 days"</text>
                {ticks_view}
                {rows}
                <line class="timeline-now" x1=n(x_now) x2=n(x_now) y1=n(TOP - 20.0) y2=n(bottom) stroke="#b42318" stroke-width="2"></line>
                <text x=n(x_now) y=n(TOP - 24.0) text-anchor="middle" font-size="11" fill="#b42318">"now"</text>
            </svg>
            <table class="timeline-table">
                <caption>"Validity of each certificate (dates in UTC), soonest expiry first"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Certificate"</th>
                        <th scope="col">"Valid from"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Days left"</th>
                    </tr>
                </thead>
                <tbody>{table_rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(from_days: i64, to_days: i64, now: OffsetDateTime) -> Bar {
        Bar { name: "x".into(), from: now + Duration::days(from_days), to: now + Duration::days(to_days), state: "ok" }
    }

    #[test]
    fn now_and_the_window_are_always_on_the_plot_and_positions_are_ordered() {
        let now = OffsetDateTime::now_utc();
        let bars = [bar(-10, 10, now)];
        let range = span(&bars, now);
        assert!(range.0 <= now - Duration::days(30) && range.1 >= now + Duration::days(WARN_DAYS));
        let (a, b, c) =
            (x_of(now - Duration::days(10), range), x_of(now, range), x_of(now + Duration::days(10), range));
        assert!(PLOT_START <= a && a < b && b < c && c <= PLOT_END);
        // A 30-year root does not squash the window: the span is bounded.
        let long = [bar(-20 * 365, 30 * 365, now)];
        let range = span(&long, now);
        assert!(range.1 <= now + Duration::days(10 * 365) + Duration::days(1));
        assert_eq!(x_of(now - Duration::days(20 * 365), range), PLOT_START);
        assert_eq!(short("a".repeat(40).as_str()).chars().count(), 28);
    }
}
