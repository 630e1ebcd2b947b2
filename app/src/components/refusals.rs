//! Why devices were refused tokens: for one device, or for the devices of one trusted
//! certificate, the counts per reason over the last 24 hours and the last refusals (time,
//! reason, the server's words, how many), each linking to the chain doctor with the
//! certificate that was refused.
//!
//! Shown in a device's details (devices page) and in a trusted certificate's details; its code
//! is in those pages' chunks, never in the first load.

use anchorage_common::refusal::{Reason, ReasonCount, RefusalRecord, RefusalSummary};
use leptos::prelude::*;

use crate::api::RefusalsOf;
use crate::context::Console;
use crate::format;

/// Refusals listed at once.
const SHOWN: u32 = 10;

/// The refusals of the devices whose chains the trusted certificate `fingerprint` anchors,
/// spanning the grid of a certificate's details as its rule checks do (`row-checks`; the
/// console's CSP allows no inline style).
pub fn for_certificate(fingerprint: String) -> impl IntoView {
    view! {
        <div class="row-checks">
            <Refusals of=RefusalsOf::TrustedCertificate(fingerprint) />
        </div>
    }
}

/// A reason's label, or words for records that carry none.
fn label(reason: Option<Reason>) -> &'static str {
    reason.map_or("Reason not recorded", Reason::label)
}

/// What to do about a reason.
fn advice(reason: Option<Reason>) -> &'static str {
    reason.map_or("The record is from a version of anchorage that did not record reasons.", Reason::advice)
}

/// The refusals of a device or of a trusted certificate, loaded when shown, with a way to load
/// them again.
#[component]
pub fn Refusals(
    /// Whose refusals.
    of: RefusalsOf,
) -> impl IntoView {
    let console = Console::get();
    let answer = RwSignal::new(None::<Result<RefusalSummary, String>>);
    let loading = RwSignal::new(false);
    let generation = StoredValue::new(0u64);
    let of = StoredValue::new(of);
    // Devices talk to the platform in proxy mode: anchorage sees no token request to refuse.
    let proxied = untrack(|| console.session.proxied());

    let load = move || {
        let Some(client) = console.client() else { return };
        let of = of.get_value();
        console.load_latest(generation, loading, answer, async move { client.refusals(&of, SHOWN).await });
    };
    if !proxied {
        load();
    }

    let body = move || match answer.get() {
        None => view! { <p class="placeholder" role="status">"Loading refusals…"</p> }.into_any(),
        Some(Err(message)) => view! {
            <div class="error-box" role="alert">
                <p><strong>"The refusals could not be loaded."</strong></p>
                <p>{message}</p>
            </div>
        }
        .into_any(),
        Some(Ok(summary)) => summary_view(summary).into_any(),
    };
    let subject = match of.get_value() {
        RefusalsOf::Device(_) => "this device",
        RefusalsOf::TrustedCertificate(_) => "devices whose chain this certificate anchors",
    };

    view! {
        <section class="refusals" aria-label="Refusals">
            <div class="preview-head">
                <h3>"Refusals"</h3>
                {(!proxied).then(|| view! {
                    <button type="button" class="button small" disabled=move || loading.get() on:click=move |_| load()>
                        "Reload"
                    </button>
                })}
            </div>
            <p class="muted">{format!("Token requests of {subject} that were refused, and why.")}</p>
            {if proxied {
                view! {
                    <p class="notice">
                        "In proxy mode devices get their tokens from the platform, so anchorage records no refusals."
                    </p>
                }
                .into_any()
            } else {
                body.into_any()
            }}
        </section>
    }
}

fn summary_view(summary: RefusalSummary) -> impl IntoView {
    let since = format::timestamp(&summary.counts_since);
    let counts = if summary.counts.is_empty() {
        view! { <p>"No refusals in the last 24 hours."</p> }.into_any()
    } else {
        view! {
            <ul class="counts" aria-label="Refusals per reason in the last 24 hours">
                {summary.counts.into_iter().map(count_item).collect_view()}
            </ul>
        }
        .into_any()
    };
    let last = if summary.refusals.is_empty() {
        view! { <p class="muted">"No refusal recorded."</p> }.into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="audit refusal-list">
                    <thead>
                        <tr>
                            <th scope="col">"Time"</th>
                            <th scope="col">"Reason"</th>
                            <th scope="col">"What the server said"</th>
                            <th scope="col">"Count"</th>
                            <th scope="col"><span class="sr-only">"Diagnose"</span></th>
                        </tr>
                    </thead>
                    <tbody>{summary.refusals.into_iter().map(refusal_row).collect_view()}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <h4>"Last 24 hours"</h4>
        <p class="muted">{format!("Since {since}.")}</p>
        {counts}
        <h4>"Last refusals"</h4>
        {last}
    }
}

fn count_item(c: ReasonCount) -> impl IntoView {
    view! {
        <li class="bad" title=advice(c.reason)>
            <strong>{label(c.reason)}</strong>
            {format!(": {}", format::number(c.count))}
        </li>
    }
}

fn refusal_row(r: RefusalRecord) -> impl IntoView {
    let console = Console::get();
    let doctor = r.certificate.fingerprint.clone().map(|fingerprint| {
        let href = crate::pages::chain_doctor::link(&fingerprint, r.certificate.serial_number_in_hex.as_deref());
        let to = href.clone();
        let open = move |ev: leptos::ev::MouseEvent| {
            if ev.button() == 0 && !ev.ctrl_key() && !ev.meta_key() && !ev.shift_key() && !ev.alt_key() {
                ev.prevent_default();
                console.router.go_path(&to);
            }
        };
        view! {
            <a href=href on:click=open title="Check this certificate's chain with the chain doctor">"Chain doctor"</a>
        }
    });
    let serial = r.certificate.serial_number_in_hex.as_deref().map(anchorage_common::refusal::openssl_serial);
    let subject = r.certificate.subject.clone();
    let issuer = r.certificate.issuer.clone();
    let fingerprint = r.certificate.fingerprint.clone();
    let sha256 = r.certificate.sha256_fingerprint.clone();
    view! {
        <tr>
            <td class="time" data-label="Time">{format::timestamp(&r.time)}</td>
            <td data-label="Reason">
                <strong>{label(r.reason)}</strong>
                <div class="muted">{advice(r.reason)}</div>
            </td>
            <td class="text" data-label="What the server said">
                {r.text}
                {subject.map(|s| view! { <div class="muted">"Subject " {s}</div> })}
                {issuer.map(|s| view! { <div class="muted">"Issuer " {s}</div> })}
                {serial.map(|s| view! { <div class="muted">"Serial (hex) " <code>{s}</code></div> })}
                {fingerprint.map(|s| view! { <div class="muted">"SHA-1 " <code>{s}</code></div> })}
                {sha256.map(|s| view! { <div class="muted">"SHA-256 " <code>{s}</code></div> })}
            </td>
            <td data-label="Count">{format::number(r.count)}</td>
            <td data-label="Diagnose">{doctor}</td>
        </tr>
    }
}
