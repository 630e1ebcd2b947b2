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

    let page = move || {
        let route = router.route();
        if route.access() == Access::Member && !session.logged_in() {
            // The router sends visitors without a login to /login; render nothing meanwhile.
            return ().into_any();
        }
        route.view()
    };

    view! {
        <Show when=move || session.logged_in()>
            <Header />
        </Show>
        <main id="main">{page}</main>
        <ToastRegion toasts=toasts />
    }
}

/// The bar at the top for a logged-in user: product, navigation, tenant, user, log out.
#[component]
fn Header() -> impl IntoView {
    let console = Console::get();
    let tenant = move || console.session.tenant().map(|t| t.name).unwrap_or_default();
    let user = move || console.session.user().map(|u| u.user_name).unwrap_or_default();
    view! {
        <header class="topbar">
            <Link route=Route::HOME class="brand">
                <img src="/favicon.svg" alt="" width="24" height="24" />
                <span>"anchorage"</span>
            </Link>
            <nav aria-label="Main">
                {Route::ALL
                    .iter()
                    .filter(|r| r.in_navigation())
                    .map(|&r| view! { <Link route=r>{r.title()}</Link> })
                    .collect_view()}
            </nav>
            <div class="whoami">
                <span class="tenant" title="Tenant">
                    <span class="sr-only">"Tenant "</span>
                    {tenant}
                </span>
                <span class="user" title="User">
                    <span class="sr-only">"User "</span>
                    {user}
                </span>
                <button type="button" class="button small" on:click=move |_| console.log_out()>"Log out"</button>
            </div>
        </header>
    }
}
