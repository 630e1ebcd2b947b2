//! The console's split points: code that is not part of the first load, but fetched the first
//! time it is needed.
//!
//! Each function below is a `wasm_split` split point. `scripts/build-app.sh` links the console
//! with `--emit-relocs`, and `wasm-split-cli` moves everything reachable only from a split
//! point into a chunk of its own (`pkg/split_<name>.wasm`), and code shared by several split
//! points but not by the main module into shared chunks (`pkg/chunk_<n>.wasm`); the
//! generated `pkg/__wasm_split.js` fetches and instantiates a chunk when its function is first
//! called, sharing the main module's memory and function table. Calling the function returns
//! a plain function pointer into the chunk, which the caller then runs synchronously, under
//! its own reactive owner, exactly as if the code had been linked in.
//!
//! Off wasm (unit tests) the functions are ordinary calls.
//!
//! Every split point is `fallible`: a chunk that cannot be fetched (network, server restarted
//! with another build) is an `Err` shown in words, never a panic; a later call tries again.
//!
//! The `wasm_split` macro declares the import and export of each split point with `unsafe`
//! FFI (`extern "C"`, `#[no_mangle]`): this module is the only place the app allows it.
#![allow(unsafe_code)]

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;

use anchorage_common::api::CertificateChanges;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_split::{SplitLoaderError, wasm_split};

use crate::pages::trusted_certificates::{CertificateList, PageState};

/// Builds a page's view; lives in the page's chunk.
pub type Page = fn() -> AnyView;

/// What a split point answers: the code, once its chunk is loaded.
pub type Loaded<T> = Result<T, SplitLoaderError>;

#[wasm_split(devices, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn devices_page() -> Loaded<Page> {
    fn page() -> AnyView {
        crate::pages::devices::DevicesPage().into_any()
    }
    Ok(page as Page)
}

#[wasm_split(chain_doctor, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn chain_doctor_page() -> Loaded<Page> {
    fn page() -> AnyView {
        crate::pages::chain_doctor::ChainDoctorPage().into_any()
    }
    Ok(page as Page)
}

#[wasm_split(bulk_registration, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn bulk_registration_page() -> Loaded<Page> {
    fn page() -> AnyView {
        crate::pages::bulk_registration::BulkRegistrationPage().into_any()
    }
    Ok(page as Page)
}

#[wasm_split(settings, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn settings_page() -> Loaded<Page> {
    fn page() -> AnyView {
        crate::pages::settings::SettingsPage().into_any()
    }
    Ok(page as Page)
}

#[wasm_split(users, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn users_page() -> Loaded<Page> {
    fn page() -> AnyView {
        crate::pages::users::UsersPage().into_any()
    }
    Ok(page as Page)
}

/// The Alarms page shares the Audit page's chunk: each split point costs the first load its
/// loader code and more shared chunks (docs/benchmarks.md, "Console first load").
#[wasm_split(audit, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn alarms_page() -> Loaded<Page> {
    fn page() -> AnyView {
        crate::pages::alarms::AlarmsPage().into_any()
    }
    Ok(page as Page)
}

#[wasm_split(audit, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn audit_page() -> Loaded<Page> {
    fn page() -> AnyView {
        crate::pages::audit::AuditPage().into_any()
    }
    Ok(page as Page)
}

/// The "Add trusted certificate" dialog: the certificates, whether it is open, and what to do
/// once certificates are saved (with how many).
pub(crate) type AddDialog = fn(CertificateList, RwSignal<bool>, Callback<usize>) -> AnyView;

/// A certificate row's details: what the row gives them.
pub(crate) type Details = fn(String, PageState) -> AnyView;

/// The certificate inspection (x509-parser, big-number serials, the rules) and the two parts of
/// the trusted certificates page that use it, the add dialog and a row's details, are one chunk:
/// fetched when the add dialog opens or a row's details are first shown.
#[wasm_split(certificates, wasm_split_path = ::leptos::wasm_split, fallible)]
pub(crate) fn add_dialog() -> Loaded<AddDialog> {
    Ok(crate::pages::trusted_certificates::add_dialog as AddDialog)
}

#[wasm_split(certificates, wasm_split_path = ::leptos::wasm_split, fallible)]
pub(crate) fn certificate_details() -> Loaded<Details> {
    Ok(crate::pages::trusted_certificates::details as Details)
}

/// A part of the trusted certificates page made from the page's state: a row's question (the
/// delete, disable and rename dialogs) or the expiry timeline.
pub(crate) type Part = fn(PageState) -> AnyView;

/// A switch's change on the trusted certificates page (`actions::toggle`'s arguments).
pub(crate) type Toggle =
    fn(crate::context::Console, PageState, String, CertificateChanges, RwSignal<Option<bool>>, String);

/// What a certificate row does on demand — the delete, disable and rename dialogs (with what
/// they would affect), and sending a switch's change — is one chunk, fetched the first time
/// either is used: neither is needed to show the list.
#[wasm_split(certificate_actions, wasm_split_path = ::leptos::wasm_split, fallible)]
pub(crate) fn question_dialog() -> Loaded<Part> {
    Ok(crate::pages::trusted_certificates::question_dialog as Part)
}

#[wasm_split(certificate_actions, wasm_split_path = ::leptos::wasm_split, fallible)]
pub(crate) fn certificate_toggle() -> Loaded<Toggle> {
    Ok(crate::pages::trusted_certificates::toggle as Toggle)
}

/// The trusted certificates page's expiry timeline (an SVG plot of every certificate's
/// validity), fetched when its section is first opened: in the row actions' chunk, as one
/// split point fewer makes the first load smaller (docs/benchmarks.md).
#[wasm_split(certificate_actions, wasm_split_path = ::leptos::wasm_split, fallible)]
pub(crate) fn timeline() -> Loaded<Part> {
    Ok(crate::pages::trusted_certificates::timeline as Part)
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// `public/boot.js`: adds `pages.css` (the styles of what loads later) once; settles when
    /// it is applied, or could not be fetched.
    #[wasm_bindgen(js_namespace = window, js_name = anchorageStyles)]
    fn page_styles() -> js_sys::Promise;
}

/// Loads a chunk's code with the styles of what loads later (`pages.css`), fetched side by side
/// the first time: its part is shown styled, not unstyled for a moment.
async fn styled<T>(code: impl Future<Output = Loaded<T>>) -> Loaded<T> {
    #[cfg(target_arch = "wasm32")]
    let styles = wasm_bindgen_futures::JsFuture::from(page_styles());
    let loaded = code.await;
    #[cfg(target_arch = "wasm32")]
    let _ = styles.await;
    loaded
}

thread_local! {
    /// The pages loaded so far, by path: shown again without waiting for a task. (A few
    /// entries: a `Vec`, which keeps a hash table's code out of the first load.)
    static PAGES: RefCell<Vec<(&'static str, Page)>> = const { RefCell::new(Vec::new()) };
}

/// Loads a page's chunk: a split point's future, boxed so that [`page`] is one function for
/// every page rather than one copy per split point (`Box::pin(lazy::devices_page())`).
pub type PageLoad = fn() -> Pin<Box<dyn Future<Output = Loaded<Page>>>>;

/// A page whose code is in a chunk: "Loading…" until the chunk is there (immediately once it
/// was loaded before), then the page; if the chunk cannot be loaded, why, with a way to try
/// again.
pub fn page(key: &'static str, load: PageLoad) -> AnyView {
    if let Some(page) = PAGES.with(|p| p.borrow().iter().find(|(k, _)| *k == key).map(|(_, page)| *page)) {
        return page();
    }
    let state = RwSignal::new(None::<Result<Page, ()>>);
    let attempt = move || {
        state.set(None);
        spawn_local(async move {
            let loaded = styled(load()).await;
            if let Ok(page) = loaded {
                PAGES.with(|p| p.borrow_mut().push((key, page)));
            }
            // The visitor may have moved on meanwhile: then nobody is waiting.
            state.try_set(Some(loaded.map_err(|_| ())));
        });
    };
    attempt();
    (move || match state.get() {
        None => view! { <p class="placeholder late" role="status">"Loading…"</p> }.into_any(),
        Some(Ok(page)) => page(),
        Some(Err(())) => view! {
            <div class="error-box" role="alert">
                <p><strong>"This page could not be loaded."</strong></p>
                <p>"Its code did not arrive from the server. Check the connection, then try again."</p>
                <button type="button" class="button" on:click=move |_| attempt()>"Try again"</button>
            </div>
        }
        .into_any(),
    })
    .into_any()
}

/// Loads a chunk's code in the background and keeps it in a signal: `None` while loading,
/// then the code or the failure in words. For parts of a page (a dialog, a details row).
pub fn code<T, F>(load: fn() -> F, what: &'static str) -> ReadSignal<Option<Result<T, String>>>
where
    T: Clone + Send + Sync + 'static,
    F: Future<Output = Loaded<T>> + 'static,
{
    let (state, set_state) = signal(None::<Result<T, String>>);
    spawn_local(async move {
        let loaded = styled(load())
            .await
            .map_err(|_| format!("The {what} could not be loaded from the server. Close this and try again."));
        set_state.try_set(Some(loaded));
    });
    state
}
