//! The proof-of-possession part of a certificate's details: its state; for admins, the
//! verification code (copy, download as `<name>.txt`, regenerate), the openssl line that signs
//! it for the certificate's kind of key, and where to paste or upload the signed code to verify
//! it. Readers see the state only. (In the certificates chunk, with the rest of the details.)

use anchorage_common::api::TrustedCertificate;
use anchorage_common::pop::{self, KeyKind};
use leptos::prelude::*;
use leptos::task::spawn_local;
use time::OffsetDateTime;

use super::PageState;
use crate::browser;
use crate::context::Console;

/// The name of the private key file in the openssl line shown.
const KEY_FILE: &str = "private.key";

/// The proof-of-possession section of a certificate's details.
#[component]
pub(super) fn PopSection(
    fingerprint: String,
    cert: Memo<Option<TrustedCertificate>>,
    state: PageState,
) -> impl IntoView {
    let console = Console::get();
    let fp = StoredValue::new(fingerprint);
    let read = move |f: fn(&TrustedCertificate) -> Option<String>| cert.with(|c| c.as_ref().and_then(f));
    let proven = move || cert.with(|c| c.as_ref().is_some_and(|c| c.proof_of_possession_valid));
    let code = move || read(|c| c.proof_of_possession_unsigned_verification_code.clone());
    let usable_until = move || read(|c| c.proof_of_possession_verification_code_usable_until.clone());
    let read_only = move || console.session.read_only();
    let kind =
        cert.with_untracked(|c| c.as_ref().map_or(KeyKind::Unsupported, |c| pop::key_kind_of(&c.cert_in_pem_format)));
    let code_file = move || browser::file_name(&read(|c| Some(c.name.clone())).unwrap_or_default(), "txt");
    let ids = move |what: &str| format!("{what}-{}", fp.get_value());

    let busy = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let signed = RwSignal::new(String::new());

    let regenerate = move |_| {
        let Some(client) = console.client() else { return };
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        problem.set(None);
        spawn_local(async move {
            let answer = client.generate_pop_code(&fp.get_value()).await;
            busy.try_set(false);
            match answer {
                Ok(cert) => {
                    state.list.replace(cert);
                    console.toast("Verification code regenerated.");
                }
                Err(e) => {
                    problem.try_set(console.explain(&e));
                }
            }
        });
    };

    let verify = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let text = signed.get_untracked();
        // The server's rule, checked here first: nothing is sent that it would refuse unread.
        if let Err(e) = pop::read_signature(&text) {
            problem.set(Some(super::row::capitalise(&e.to_string())));
            return;
        }
        let Some(client) = console.client() else { return };
        busy.set(true);
        problem.set(None);
        spawn_local(async move {
            let answer = client.prove_possession(&fp.get_value(), &text).await;
            busy.try_set(false);
            match answer {
                Ok(cert) => {
                    state.list.replace(cert);
                    signed.try_set(String::new());
                    console.toast("Signed verification code verified.");
                }
                Err(e) => {
                    problem.try_set(console.explain(&e));
                }
            }
        });
    };

    let picked = move |ev: leptos::ev::Event| {
        let Some(input) = browser::input_of(&ev) else { return };
        let Some(file) = browser::files_of(input.files()).into_iter().next() else { return };
        input.set_value("");
        problem.set(None);
        if file.size() > pop::MAX_SIGNATURE_TEXT_BYTES as f64 {
            problem.set(Some(format!(
                "The file \"{}\" is too large for a signature ({} bytes at most).",
                file.name(),
                pop::MAX_SIGNATURE_TEXT_BYTES
            )));
            return;
        }
        spawn_local(async move {
            let read = browser::read_file(&file).await.and_then(|bytes| {
                pop::signature_from_file(&bytes).map_err(|e| format!("The file \"{}\": {e}.", file.name()))
            });
            match read {
                Ok(text) => {
                    signed.try_set(text);
                }
                Err(message) => {
                    problem.try_set(Some(message));
                }
            }
        });
    };

    let code_area = NodeRef::<leptos::html::Textarea>::new();
    let copy = move |_| {
        let Some(text) = code() else { return };
        spawn_local(async move {
            match browser::copy_text(&text).await {
                Ok(()) => console.toast("Verification code copied to the clipboard."),
                Err(()) => {
                    if let Some(el) = code_area.get_untracked() {
                        browser::select_all(&el);
                    }
                    console.toast("The browser did not allow copying: the code is selected, press Ctrl+C.");
                }
            }
        });
    };

    let expiry = move || {
        let until = usable_until()?;
        let expired = anchorage_common::timefmt::parse(&until).is_none_or(|t| t < OffsetDateTime::now_utc());
        let verb = if expired { "expired on" } else { "expires on" };
        Some(format!("Verification code {verb} {}", crate::format::timestamp(&until)))
    };

    let workflow = move || {
        (!proven() && !read_only()).then(|| {
            let has_code = code().is_some();
            view! {
                <div class="pem">
                    <label for=ids("pop-code")>"Verification code"</label>
                    <textarea
                        id=ids("pop-code")
                        node_ref=code_area
                        readonly
                        rows="3"
                        spellcheck="false"
                        prop:value=move || code().unwrap_or_default()
                    ></textarea>
                    <p class="hint">
                        {move || expiry().unwrap_or_else(|| "No verification code yet: generate one.".to_string())}
                    </p>
                    <div class="inline">
                        <button type="button" class="button small" disabled=move || busy.get() on:click=regenerate>
                            {if has_code { "Regenerate" } else { "Generate verification code" }}
                        </button>
                        {has_code.then(|| view! {
                            <button type="button" class="button small" on:click=copy>"Copy code"</button>
                            <a
                                class="button small"
                                href=move || browser::text_data_url("text/plain", &code().unwrap_or_default())
                                download=code_file
                            >
                                "Download code"
                            </a>
                        })}
                    </div>
                </div>
                {has_code.then(|| sign_and_verify(console, kind, code_file, ids, Form { signed, busy }, verify, picked))}
            }
        })
    };

    view! {
        <div class="pop">
            <h2>"Proof of possession"</h2>
            <p>
                <strong>{move || if proven() { "Complete" } else { "Incomplete" }}</strong>
                {move || if proven() {
                    ": possession of this certificate's private key was proven."
                } else if read_only() {
                    ": possession of this certificate's private key is not proven yet. Only admins can prove it."
                } else {
                    ": prove that you hold this certificate's private key by signing a verification code with it."
                }}
            </p>
            {workflow}
            {move || problem.get().map(|p| view! { <p class="field-error" role="alert">{p}</p> })}
        </div>
    }
}

/// The state of the form that sends the signature.
#[derive(Debug, Clone, Copy)]
struct Form {
    /// The signature, as pasted or read from a file.
    signed: RwSignal<String>,
    /// Whether a request is under way.
    busy: RwSignal<bool>,
}

/// How to sign the code, and the form that sends the signature.
fn sign_and_verify(
    console: Console,
    kind: KeyKind,
    code_file: impl Fn() -> String + Copy + Send + Sync + 'static,
    ids: impl Fn(&str) -> String + Copy + 'static,
    form: Form,
    verify: impl Fn(leptos::ev::SubmitEvent) + 'static,
    picked: impl Fn(leptos::ev::Event) + 'static,
) -> impl IntoView {
    let how = match kind {
        KeyKind::Unsupported => view! {
            <p class="hint">
                "anchorage cannot check a signature made with this certificate's key (supported: RSA, ECDSA on P-256, P-384 or P-521, Ed25519)."
            </p>
        }
        .into_any(),
        kind => {
            let command = move || pop::openssl_sign_command(kind, &code_file(), KEY_FILE);
            let command_area = NodeRef::<leptos::html::Textarea>::new();
            let copy = move |_| {
                let text = command();
                spawn_local(async move {
                    if browser::copy_text(&text).await.is_ok() {
                        console.toast("Command copied to the clipboard.");
                    } else if let Some(el) = command_area.get_untracked() {
                        browser::select_all(&el);
                        console.toast("The browser did not allow copying: the command is selected, press Ctrl+C.");
                    }
                });
            };
            view! {
                <div class="pem">
                    <label for=ids("pop-command")>"Sign it with openssl"</label>
                    <p class="hint">
                        "Put the downloaded code beside the CA's private key (here " <code>{KEY_FILE}</code>
                        ") and run this line; it prints the signature to paste below. " {kind.describe()} "."
                    </p>
                    <textarea
                        id=ids("pop-command")
                        node_ref=command_area
                        readonly
                        rows="2"
                        spellcheck="false"
                        prop:value=command
                    ></textarea>
                    <div class="inline">
                        <button type="button" class="button small" on:click=copy>"Copy command"</button>
                    </div>
                </div>
            }
            .into_any()
        }
    };
    let Form { signed, busy } = form;
    view! {
        {how}
        <form class="pem" on:submit=verify>
            <label for=ids("pop-signed")>"Signed verification code"</label>
            <textarea
                id=ids("pop-signed")
                rows="3"
                spellcheck="false"
                placeholder="Paste the base64 signature openssl printed"
                bind:value=signed
            ></textarea>
            <label for=ids("pop-file")>"…or upload the signature file"</label>
            <input id=ids("pop-file") type="file" on:change=picked />
            <div class="inline">
                <button type="submit" class="button primary" disabled=move || busy.get() || signed.with(|s| s.trim().is_empty())>
                    "Verify"
                </button>
            </div>
        </form>
    }
}
