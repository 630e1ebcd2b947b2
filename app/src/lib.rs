//! The anchorage console: a Leptos client-side app compiled to wasm.
//!
//! [`start`] mounts [`App`], which provides the app-wide services ([`context::Console`]) and
//! renders the header and the page of the current [`router::Route`]. Certificate decoding and
//! the acceptance rules come from `anchorage-common`, the same code the server runs.

pub mod api;
pub mod browser;
pub mod bulk_worker;
pub mod components;
pub mod context;
pub mod format;
pub mod lazy;
pub mod pages;
pub mod router;
pub mod session;

use leptos::prelude::*;
use wasm_bindgen::prelude::wasm_bindgen;

use components::toast::{ToastRegion, Toasts};
use context::Console;
use router::{Access, Link, Route, Router};
use session::Session;

/// Mounts the console on `<body>`; `public/boot.js` calls it once the module is loaded. (Not
/// a `start` function: the same module also runs in the bulk-registration worker, which has
/// no document.)
#[wasm_bindgen]
pub fn start() {
    mount_to_body(App);
}

/// The whole console.
#[component]
pub fn App() -> impl IntoView {
    let session = Session::new();
    let router = Router::start(session);
    let toasts = Toasts::new();
    let console = Console { session, router, toasts };
    provide_context(console);
    provide_context(router);
    provide_context(session);

    // Is a session open (a reload keeps the login)? No page is shown until this answers.
    leptos::task::spawn_local(async move {
        session.set_mode(api::mode().await.ok());
        match api::resume().await {
            Ok(login) => session.begin(login),
            Err(api::ApiError::Unauthorized) => session.end(),
            Err(e) => session.end_with(Some(format!("Your session could not be checked: {e}"))),
        }
        router.refresh();
    });

    let page = move || {
        if !session.known() {
            return view! { <p class="placeholder late" role="status">"Loading…"</p> }.into_any();
        }
        let route = router.route();
        if route.access() == Access::Member && !session.logged_in() {
            // The router sends visitors without a login to /login; render nothing meanwhile.
            return ().into_any();
        }
        route.view()
    };

    // A memo and an `Option` rather than `<Show>` (whose code is then not in the first load).
    let logged_in = Memo::new(move |_| session.logged_in());
    view! {
        {move || logged_in.get().then(|| view! { <Header /> })}
        <main id="main">{page}</main>
        <ToastRegion toasts=toasts />
    }
}

/// The bar at the top for a logged-in user: product, navigation, mode, tenant, user and role,
/// log out.
#[component]
fn Header() -> impl IntoView {
    let console = Console::get();
    // `Signal<String>`s rather than closures: their view code is shared (one instantiation
    // per type, not one per closure).
    let tenant = Signal::derive(move || console.session.tenant().map(|t| t.name).unwrap_or_default());
    let user = Signal::derive(move || console.session.user().map(|u| u.user_name).unwrap_or_default());
    let role = move || console.session.role().map(|r| r.as_str());
    let mode = Signal::derive(move || match console.session.mode() {
        Some(api::Mode::Proxy { upstream }) => format!("Proxy \u{2192} {upstream}"),
        Some(api::Mode::Local) => "Local".to_string(),
        None => String::new(),
    });
    // Behind a proxy the platform manages the users.
    let shown = move |r: Route| r.in_navigation() && !(r == Route::Users && console.session.proxied());
    view! {
        <header class="topbar">
            <Link route=Route::HOME class="brand">
                <img src="/favicon.svg" alt="" width="24" height="24" />
                <span>"anchorage"</span>
            </Link>
            <nav aria-label="Main">
                {move || Route::ALL
                    .iter()
                    .filter(|&&r| shown(r))
                    .map(|&r| view! { <Link route=r>{r.title()}</Link> })
                    .collect_view()}
            </nav>
            <div class="whoami">
                <span class="mode" title="Where the data is kept">
                    <span class="sr-only">"Mode "</span>
                    {mode}
                </span>
                <span class="tenant" title="Tenant">
                    <span class="sr-only">"Tenant "</span>
                    {tenant}
                </span>
                <span class="user" title="User">
                    <span class="sr-only">"User "</span>
                    {user}
                </span>
                <span class="role badge" title="Role">
                    <span class="sr-only">"Role "</span>
                    {role}
                </span>
                <button type="button" class="button small" on:click=move |_| console.log_out()>"Log out"</button>
            </div>
        </header>
    }
}
