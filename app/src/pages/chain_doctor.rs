//! The chain doctor (`/chain-doctor`): where does a device's certificate chain break?
//!
//! The visitor pastes PEM or picks or drops files (PEM or DER, several, any order). The
//! browser orders the certificates into a path with `anchorage_common::chain` — device
//! certificate first, then each issuer, up to the tenant's trusted certificate that anchors
//! it — and shows each certificate with its checks (validity at the *server's* time, CA flag,
//! path length, key usages; signatures are the server's to check), which trusted certificate
//! anchors the path, or in words why none does. Once the chain is read, the page asks the
//! server (`POST /tenant/trusted-certificates/verify-cert-chain`) and shows its verdict: the
//! refusal reason and what to do about it, or whether a token would be issued.
//!
//! The server's time is estimated from the `Date` header of its answers (first
//! `GET /tenant/currentTenant`, then each verdict) and the skew to the browser's clock shown.
//!
//! Other pages link here about one device with [`link`]:
//! `/chain-doctor?fingerprint=<SHA-1 of the device certificate, hex>&serial=<serial, hex>`
//! (both optional). The page then asks for that device's chain, and says whether the device
//! certificate of the chain pasted is that one.

use anchorage_common::chain::{self, AnchorInfo, Anchoring, ChainCheck, Diagnosis, MAX_VERIFY_CHAIN, Verdict};
use anchorage_common::names;
use anchorage_common::pem::{DecodeError, MAX_INPUT_BYTES};
use anchorage_common::refusal::Reason;
use leptos::prelude::*;
use leptos::task::spawn_local;
use time::OffsetDateTime;

use crate::api::{Asked, ChainVerdict, ServerClock};
use crate::browser;
use crate::context::Console;
use crate::format;

/// Most files held at once.
const MAX_FILES: usize = 20;

/// The query parameters of a link to the page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkedDevice {
    /// Lowercase hex SHA-1 of the device certificate.
    pub fingerprint: Option<String>,
    /// The device certificate's serial, lowercase hex.
    pub serial: Option<String>,
}

/// The page's path for a device: what other pages link to.
pub fn link(fingerprint: &str, serial: Option<&str>) -> String {
    let mut url = format!("/chain-doctor?fingerprint={}", js_sys::encode_uri_component(fingerprint));
    if let Some(serial) = serial {
        url.push_str("&serial=");
        url.push_str(&String::from(js_sys::encode_uri_component(serial)));
    }
    url
}

/// Reads `?fingerprint=…&serial=…` (a location's `search`). Values other than hex (colons
/// allowed, as OpenSSL prints them) of at most 128 digits are ignored.
pub fn linked_device(search: &str) -> LinkedDevice {
    let hex = |v: &str| -> Option<String> {
        let digits: String = v.chars().filter(|c| *c != ':').collect::<String>().to_ascii_lowercase();
        (!digits.is_empty() && digits.len() <= 128 && digits.chars().all(|c| c.is_ascii_hexdigit())).then_some(digits)
    };
    let mut linked = LinkedDevice::default();
    for pair in search.trim_start_matches('?').split('&') {
        let Some((key, value)) = pair.split_once('=') else { continue };
        // Hex needs no decoding, but `:` may come percent-encoded.
        let value = value.replace("%3A", ":").replace("%3a", ":");
        match key {
            "fingerprint" => linked.fingerprint = hex(&value),
            "serial" => linked.serial = hex(&value),
            _ => {}
        }
    }
    linked
}

/// A picked or dropped file and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Source {
    id: u32,
    name: String,
    content: Result<Vec<Vec<u8>>, String>,
}

/// The chain doctor page.
#[component]
pub fn ChainDoctorPage() -> impl IntoView {
    let console = Console::get();
    let linked = linked_device(&window().location().search().unwrap_or_default());
    let files = RwSignal::new(Vec::<Source>::new());
    let pasted = RwSignal::new(String::new());
    let anchors = RwSignal::new(None::<Result<Vec<AnchorInfo>, String>>);
    let clock = RwSignal::new(None::<ServerClock>);
    let reading = RwSignal::new(0usize);
    let dragging = RwSignal::new(false);
    let next_id = StoredValue::new(1u32);
    let file_problem = RwSignal::new(None::<String>);

    if let Some(client) = console.client() {
        let for_clock = client.clone();
        spawn_local(async move {
            let value = match client.list_certificates().await {
                Ok(list) => Ok(list.iter().filter_map(AnchorInfo::from_trusted).collect()),
                Err(e) => match console.explain(&e) {
                    Some(message) => Err(message),
                    None => return,
                },
            };
            anchors.try_set(Some(value));
        });
        spawn_local(async move {
            // Without it, the browser's clock is used, and the page says so.
            if let Ok(Some(c)) = for_clock.server_clock().await {
                clock.try_set(Some(c));
            }
        });
    }

    // Every certificate given, in order (files as added, then the pasted text), and the
    // inputs that could not be read.
    let inputs = Memo::new(move |_| {
        let mut ders = Vec::new();
        let mut problems = Vec::new();
        files.with(|files| {
            for f in files {
                match &f.content {
                    Ok(d) => ders.extend(d.iter().cloned()),
                    Err(e) => problems.push(format!("{}: {e}", f.name)),
                }
            }
        });
        pasted.with(|text| {
            if !text.trim().is_empty() {
                match chain::decode_any(text.as_bytes()) {
                    Ok(d) => ders.extend(d),
                    Err(e) => problems.push(format!("Pasted text: {e}")),
                }
            }
        });
        (ders, problems)
    });
    // `None` until there is something to examine and the trusted certificates are known.
    let diagnosis = Memo::new(move |_| {
        let ders = inputs.with(|(ders, _)| ders.clone());
        if ders.is_empty() {
            return None;
        }
        let now = clock.get().map(|c| c.now()).unwrap_or_else(OffsetDateTime::now_utc);
        anchors.with(|a| match a {
            None => None,
            Some(Ok(list)) => Some(chain::build_path(&ders, list, now)),
            Some(Err(_)) => Some(chain::build_path(&ders, &[], now)),
        })
    });

    // The server's verdict on the path, asked for whenever the path changes.
    let path_pem = Memo::new(move |_| {
        diagnosis.with(|d| {
            d.as_ref().filter(|d| !d.path.is_empty() && d.path.len() <= MAX_VERIFY_CHAIN).map(Diagnosis::path_pem)
        })
    });
    let verdict = RwSignal::new(None::<Result<Asked, String>>);
    let asking = RwSignal::new(false);
    let generation = StoredValue::new(0u64);
    let ask = move |pem: String| {
        let Some(client) = console.client() else { return };
        let request = async move {
            let answer = client.verify_chain(&pem).await;
            if let Ok(Asked { clock: Some(new), .. }) = &answer {
                // A new skew only when it moved noticeably: every change re-checks the chain.
                let moved = clock
                    .try_get_untracked()
                    .flatten()
                    .is_none_or(|old| (old.skew - new.skew).abs() > time::Duration::seconds(2));
                if moved {
                    clock.try_set(Some(*new));
                }
            }
            answer
        };
        console.load_latest(generation, asking, verdict, request);
    };
    Effect::new(move |_| match path_pem.get() {
        Some(pem) => ask(pem),
        None => {
            // Drops the answer to a chain no longer shown.
            generation.update_value(|g| *g += 1);
            asking.set(false);
            verdict.set(None);
        }
    });

    let add_files = move |picked: Vec<web_sys::File>| {
        if picked.is_empty() {
            return;
        }
        let room = MAX_FILES.saturating_sub(files.with_untracked(Vec::len));
        file_problem.set((picked.len() > room).then(|| format!("At most {MAX_FILES} files are examined at once.")));
        let picked: Vec<_> = picked.into_iter().take(room).collect();
        let first = next_id.get_value();
        next_id.set_value(first + picked.len() as u32);
        reading.update(|n| *n += picked.len());
        spawn_local(async move {
            for (id, file) in (first..).zip(picked) {
                let content = if file.size() > MAX_INPUT_BYTES as f64 {
                    Err(format::sentence(&DecodeError::TooLarge.to_string()))
                } else {
                    match browser::read_file(&file).await {
                        Ok(bytes) => chain::decode_any(&bytes),
                        Err(e) => Err(e),
                    }
                };
                files.try_update(|f| f.push(Source { id, name: file.name(), content }));
                reading.try_update(|n| *n = n.saturating_sub(1));
            }
        });
    };
    let (picked, drag_over, dropped) = browser::file_drop(add_files, dragging);
    let clear = move |_| {
        files.set(Vec::new());
        pasted.set(String::new());
        file_problem.set(None);
    };
    let has_input = move || files.with(|f| !f.is_empty()) || pasted.with(|p| !p.trim().is_empty());

    let hint = match (linked.fingerprint.clone(), linked.serial.clone()) {
        (None, None) => None,
        (fingerprint, serial) => Some(view! {
            <p class="notice" role="note" data-testid="linked-device">
                "Paste the chain of the device with certificate "
                {fingerprint.clone().map(|fp| view! { <code class="fingerprint">{fp}</code> })}
                {match (fingerprint, serial) {
                    (Some(_), Some(s)) => Some(view! { " (serial " <code>{s}</code> ")" }.into_any()),
                    (None, Some(s)) => Some(view! { "serial " <code>{s}</code> }.into_any()),
                    _ => None,
                }}
                ", or drop its files here."
            </p>
        }),
    };

    let file_list = move || {
        files
            .get()
            .into_iter()
            .map(|f| {
                let id = f.id;
                let label = format!("Remove {}", f.name);
                let (text, failed) = match &f.content {
                    Ok(d) => (format::count(d.len(), "certificate", "certificates"), false),
                    Err(e) => (e.clone(), true),
                };
                view! {
                    <p class:error=failed>
                        <span>{f.name.clone()} " — " {text}</span>
                        " "
                        <button
                            type="button"
                            class="button small"
                            aria-label=label
                            on:click=move |_| files.update(|list| list.retain(|s| s.id != id))
                        >
                            "Remove"
                        </button>
                    </p>
                }
            })
            .collect_view()
    };
    let input_problems = move || {
        let problems =
            inputs.with(|(_, p)| p.iter().filter(|p| p.starts_with("Pasted text")).cloned().collect::<Vec<_>>());
        (!problems.is_empty()).then(|| {
            view! {
                <div class="error-box" role="alert">
                    {problems.into_iter().map(|p| view! { <p>{p}</p> }).collect_view()}
                </div>
            }
        })
    };

    let clock_line = move || {
        let text = match clock.get() {
            None => "Validity is checked at this browser's time: the server's clock is not known yet.".to_string(),
            Some(c) => clock_sentence(c),
        };
        view! { <p class="muted summary" data-testid="server-clock">{text}</p> }
    };

    let results = move || {
        if !has_input() {
            return view! {
                <p class="placeholder">"Paste a chain or add its files to examine it."</p>
            }
            .into_any();
        }
        match (diagnosis.get(), anchors.with(|a| a.as_ref().map(|r| r.as_ref().err().cloned()))) {
            (None, _) if reading.get() > 0 => {
                view! { <p class="placeholder" role="status">"Reading files…"</p> }.into_any()
            }
            (None, None) => {
                view! { <p class="placeholder" role="status">"Loading trusted certificates…"</p> }.into_any()
            }
            (None, Some(_)) => view! { <p class="placeholder">"No certificate could be read."</p> }.into_any(),
            (Some(d), anchors_error) => {
                diagnosis_view(d, linked.clone(), anchors_error.flatten(), verdict, asking, path_pem, ask).into_any()
            }
        }
    };

    view! {
        <section
            class="page chain-doctor"
            on:dragover=drag_over
            on:dragenter=drag_over
            on:dragleave=move |_| dragging.set(false)
            on:drop=dropped
        >
            <header class="page-header">
                <div>
                    <h1>"Chain doctor"</h1>
                    <p class="muted">
                        "Find where a device's certificate chain breaks: the path from the device certificate to a trusted certificate, each certificate's checks, and the server's verdict."
                    </p>
                </div>
                <div class="toolbar">
                    <button type="button" class="button" on:click=clear disabled=move || !has_input()>"Clear"</button>
                </div>
            </header>
            {hint}
            <div class="inputs">
                <div class="dropzone" class:dragging=dragging>
                    <label for="doctor-files">"Certificate files"</label>
                    <input id="doctor-files" type="file" multiple accept=".pem,.crt,.cer,.der,.txt" on:change=picked />
                    <p class="hint">"PEM or DER, several at once, in any order; or drop them anywhere on this page."</p>
                    <div class="source-files">{file_list}</div>
                    {move || file_problem.get().map(|p| view! { <p class="error" role="alert">{p}</p> })}
                </div>
                <div class="field paste">
                    <label for="doctor-paste">"Paste PEM"</label>
                    <textarea
                        id="doctor-paste"
                        rows="8"
                        spellcheck="false"
                        placeholder="-----BEGIN CERTIFICATE-----"
                        prop:value=move || pasted.get()
                        on:input=move |ev| pasted.set(event_target_value(&ev))
                    ></textarea>
                </div>
            </div>
            {input_problems}
            {clock_line}
            <div aria-live="polite">{results}</div>
        </section>
    }
}

/// "Validity is checked at the server's time, 2026-05-01 13:47:05 UTC; this browser's clock is
/// 42 s behind."
fn clock_sentence(c: ServerClock) -> String {
    let at = c.now();
    let when = format!("{} {:02}:{:02}:{:02} UTC", format::date(at), at.hour(), at.minute(), at.second());
    let seconds = c.skew.whole_seconds();
    let skew = match seconds {
        -1..=1 => "in step with this browser's clock (to a second or so)".to_string(),
        s if s > 0 => format!("this browser's clock is {} behind", duration(s)),
        s => format!("this browser's clock is {} ahead", duration(-s)),
    };
    format!("Validity is checked at the server's time, {when}; {skew}.")
}

/// "42 s", "3 min 5 s", "2 h 1 min", "3 days".
fn duration(seconds: i64) -> String {
    match seconds {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min {} s", s / 60, s % 60),
        s if s < 86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        s => format::count((s / 86_400) as usize, "day", "days"),
    }
}

/// Everything found about the chain, and the server's verdict.
fn diagnosis_view(
    d: Diagnosis,
    linked: LinkedDevice,
    anchors_error: Option<String>,
    verdict: RwSignal<Option<Result<Asked, String>>>,
    asking: RwSignal<bool>,
    path_pem: Memo<Option<String>>,
    ask: impl Fn(String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let problems = d.problems();
    let expected = d.expected_refusal();
    // By fingerprint when the link gives one, else by serial (hex, leading zeros aside).
    let same_device = d.device().and_then(|dev| match (&linked.fingerprint, &linked.serial) {
        (Some(fp), _) => Some(dev.info.fingerprint == *fp),
        (None, Some(serial)) => Some(serial.trim_start_matches('0') == dev.info.serial_hex.trim_start_matches('0')),
        (None, None) => None,
    });
    let linked_label = linked.fingerprint.or(linked.serial);
    let device_match = match (same_device, linked_label) {
        (Some(true), _) => Some(
            view! {
                <p class="notice" role="note">"This is the device certificate the link is about."</p>
            }
            .into_any(),
        ),
        (Some(false), Some(fp)) => Some(
            view! {
                <p class="notice" role="note">
                    "Note: the device certificate here is not the one the link is about ("
                    <code class="fingerprint">{fp}</code>
                    ")."
                </p>
            }
            .into_any(),
        ),
        _ => None,
    };
    let anchor_problem = anchors_error.map(|e| {
        view! {
            <div class="error-box" role="alert">
                <p><strong>"The trusted certificates could not be loaded; no anchor can be found."</strong></p>
                <p>{e}</p>
            </div>
        }
    });
    let summary = if problems.is_empty() {
        view! {
            <p class="result-lead ok">
                "The browser finds nothing wrong with this chain. Signatures and revocation are checked by the server (below)."
            </p>
        }
        .into_any()
    } else {
        view! {
            <p class="result-lead">"What refuses this chain:"</p>
            <ul class="problems">{problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
        }
        .into_any()
    };
    let (anchor_text, anchor_class) = match &d.anchoring {
        Anchoring::Anchored(a) if a.problems.is_empty() => (a.describe(), "result-lead ok"),
        other => (other.describe(), "result-lead"),
    };
    let anchor_fingerprint = match &d.anchoring {
        Anchoring::Anchored(a) => Some(a.fingerprint.clone()),
        Anchoring::Unanchored(_) => None,
    };
    let path_count = d.path.len();
    let path = d
        .path
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let heading = format!("{}. {}", i + 1, c.role.label());
            let label = format!("{heading}: {}", c.info.subject);
            view! {
                <div role="listitem">
                    <article class="candidate" class:failed=c.failed() aria-label=label>
                        <header><h3>{heading}</h3></header>
                        {certificate_props(&c.info, d.now)}
                        {checks_view(&c.checks)}
                    </article>
                </div>
            }
        })
        .collect_view();
    let extras = (!d.extra.is_empty()).then(|| {
        let items = d
            .extra
            .iter()
            .map(|e| {
                view! {
                    <div role="listitem">
                        <article class="candidate" aria-label=format!("Not on the path: {}", e.info.subject)>
                            <p class="muted">{e.note.clone()}</p>
                            {certificate_props(&e.info, d.now)}
                        </article>
                    </div>
                }
            })
            .collect_view();
        view! {
            <section aria-labelledby="doctor-extra">
                <h2 id="doctor-extra">"Not on the path"</h2>
                <div class="candidates" role="list">{items}</div>
            </section>
        }
    });
    let unreadable = (!d.unreadable.is_empty() || d.duplicates > 0).then(|| {
        let duplicates = (d.duplicates > 0).then(|| {
            view! {
                <p class="muted">{format::count(d.duplicates, "certificate was", "certificates were")} " given twice (counted once)."</p>
            }
        });
        view! {
            <div class="error-box" role="alert">
                {d.unreadable
                    .iter()
                    .map(|u| view! { <p>{format!("Certificate {}: {}", u.position, u.reason)}</p> })
                    .collect_view()}
                {duplicates}
            </div>
        }
    });

    let too_long = path_count > MAX_VERIFY_CHAIN;
    let server = move || {
        if too_long {
            return view! {
                <p class="error">{format!("The server examines chains of at most {MAX_VERIFY_CHAIN} certificates; this path has {path_count}.")}</p>
            }
            .into_any();
        }
        match verdict.get() {
            None if asking.get() => view! { <p class="placeholder" role="status">"Asking the server…"</p> }.into_any(),
            None => view! { <p class="placeholder">"Not asked yet."</p> }.into_any(),
            Some(Err(e)) => view! {
                <div class="error-box" role="alert">
                    <p><strong>"The server could not be asked."</strong></p>
                    <p>{e}</p>
                </div>
            }
            .into_any(),
            Some(Ok(asked)) => server_verdict(asked.verdict, expected).into_any(),
        }
    };
    let ask_again = move |_| {
        if let Some(pem) = path_pem.get_untracked() {
            ask(pem);
        }
    };

    view! {
        {device_match}
        {anchor_problem}
        {unreadable}
        <section class="card result" aria-labelledby="doctor-verdict">
            <h2 id="doctor-verdict">"In the browser"</h2>
            {summary}
        </section>
        <section aria-labelledby="doctor-path">
            <h2 id="doctor-path">"Path"</h2>
            <div class="candidates" role="list">{path}</div>
        </section>
        <section aria-labelledby="doctor-anchor">
            <h2 id="doctor-anchor">"Anchor"</h2>
            <p class=anchor_class data-testid="anchor">{anchor_text}</p>
            {anchor_fingerprint.map(|fp| view! { <p class="muted">"Fingerprint " <code class="fingerprint">{fp}</code></p> })}
        </section>
        {extras}
        <section class="card result" aria-labelledby="doctor-server">
            <header class="page-header">
                <h2 id="doctor-server">"Ask the server"</h2>
                <button type="button" class="button small" on:click=ask_again disabled=move || asking.get() || too_long>
                    "Ask again"
                </button>
            </header>
            <div aria-live="polite" aria-busy=move || asking.get().then_some("true") data-testid="server-verdict">{server}</div>
        </section>
    }
}

/// Subject, issuer, serial, validity and fingerprint of a certificate.
fn certificate_props(info: &anchorage_common::CertificateInfo, now: OffsetDateTime) -> impl IntoView + use<> {
    let validity = format!("{} – {}", format::date_time(info.not_before), format::date_time(info.not_after));
    let badge = if now > info.not_after {
        Some(view! { <span class="badge badge-danger">"Expired"</span> })
    } else if now < info.not_before {
        Some(view! { <span class="badge badge-warning">"Not yet valid"</span> })
    } else {
        None
    };
    view! {
        <dl class="props compact">
            <div><dt>"Subject"</dt><dd>{names::escape(&info.subject)}</dd></div>
            <div><dt>"Issuer"</dt><dd>{names::escape(&info.issuer)}</dd></div>
            <div><dt>"Serial"</dt><dd><code>{info.serial_hex.clone()}</code>" (" {info.serial_number.clone()} ")"</dd></div>
            <div><dt>"Validity"</dt><dd>{validity} {badge}</dd></div>
            <div><dt>"Fingerprint"</dt><dd><code class="fingerprint">{info.fingerprint.clone()}</code></dd></div>
        </dl>
    }
}

/// A certificate's checks, one line each: ✓ passed, ✗ failed, ! a warning, … for the server.
fn checks_view(checks: &[ChainCheck]) -> impl IntoView + use<> {
    let lines = checks
        .iter()
        .map(|c| {
            let (mark, said) = match c.verdict {
                Verdict::Pass => ("✓", "Passed: "),
                Verdict::Fail => ("✗", "Failed: "),
                Verdict::Warn => ("!", "Warning: "),
                Verdict::ByServer => ("…", "Checked by the server: "),
            };
            let passed = match c.verdict {
                Verdict::Pass => "true",
                Verdict::Fail => "false",
                Verdict::Warn | Verdict::ByServer => "",
            };
            view! {
                <li data-passed=passed data-verdict=c.verdict.as_str()>
                    <span class="mark" aria-hidden="true">{mark}</span>
                    <span>
                        <span class="sr-only">{said}</span>
                        <span class="rule">{c.check.label()}</span>
                        ": "
                        <span class="detail">{c.detail.clone()}</span>
                    </span>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="checks">{lines}</ul> }
}

/// The server's verdict: the refusal reason with what to do, or what a device would get.
fn server_verdict(verdict: ChainVerdict, expected: Option<Reason>) -> impl IntoView {
    let reason_view = |reason: Reason| {
        view! {
            <p>
                <strong>{reason.label()}</strong>
                " "
                <code data-testid="reason-code">{reason.code()}</code>
                ": "
                {reason.advice()}
            </p>
        }
    };
    let given = match &verdict {
        ChainVerdict::Trusted(a) => a.reason,
        ChainVerdict::Refused { reason, .. } => *reason,
    };
    let differs = match (&verdict, expected) {
        (ChainVerdict::Refused { reason: Some(r), .. }, e) if e != Some(*r) => true,
        (ChainVerdict::Trusted(_), Some(_)) => true,
        _ => false,
    };
    let note = differs.then(|| {
        let what = match expected {
            Some(r) => format!("the browser expected {} ({})", r.label(), r.code()),
            None => "the browser found nothing wrong".to_string(),
        };
        view! {
            <p class="muted">
                {format!("Note: {what}. The server's verdict is the one devices get: it also checks signatures, revocation and registration.")}
            </p>
        }
    });
    let body = match verdict {
        ChainVerdict::Trusted(answer) => {
            let anchor = answer
                .trusted_certificate
                .as_ref()
                .map(|t| format!(" It is anchored by the trusted certificate '{}'.", t.name))
                .unwrap_or_default();
            let user = answer.device_user.clone().map(|u| {
                view! { <p>"Device user: " <code>{u}</code></p> }
            });
            let token = if answer.token_would_be_issued {
                view! { <p class="result-lead ok">"A device presenting this chain would get a token."</p> }.into_any()
            } else {
                view! { <p class="result-lead">"A device presenting this chain would get no token."</p> }.into_any()
            };
            view! {
                <p class="result-lead ok">{format!("✓ The server validates the chain (tenant {}).{anchor}", answer.tenant_id)}</p>
                {user}
                {token}
                {given.map(reason_view)}
                {answer.message.map(|m| view! { <p class="muted">{m}</p> })}
                {answer.revocation_warning.map(|w| view! { <p class="notice" role="note">{w}</p> })}
            }
            .into_any()
        }
        ChainVerdict::Refused { status, message, .. } => view! {
            <p class="result-lead">{format!("✗ The server refuses the chain (HTTP {status}).")}</p>
            {given.map(reason_view)}
            <p class="muted">{message}</p>
        }
        .into_any(),
    };
    view! {
        {body}
        {note}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_read_leniently_and_only_hex_is_kept() {
        let l = linked_device("?fingerprint=AB12cd&serial=01%3A0F");
        assert_eq!(l.fingerprint.as_deref(), Some("ab12cd"));
        assert_eq!(l.serial.as_deref(), Some("010f"));
        assert_eq!(linked_device("?fingerprint=<script>"), LinkedDevice::default());
        assert_eq!(linked_device(""), LinkedDevice::default());
        assert_eq!(linked_device(&format!("?serial={}", "a".repeat(129))).serial, None);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(42), "42 s");
        assert_eq!(duration(185), "3 min 5 s");
        assert_eq!(duration(7260), "2 h 1 min");
        assert_eq!(duration(3 * 86_400 + 5), "3 days");
    }
}
