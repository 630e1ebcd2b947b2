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
// For the fuzz targets and their replay, on the host only (never in the console's wasm).
#[cfg(not(target_arch = "wasm32"))]
#[doc(hidden)]
pub mod fuzzing;
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
    // Readers see everything and change nothing: one notice for the page rather than a
    // tooltip on every disabled control.
    let read_only = move || {
        (logged_in.get() && session.read_only()).then(|| {
            view! {
                <p class="read-only-banner" role="note">
                    <strong>"Read-only access."</strong>
                    " You can see everything here; changes need an admin. You can change your own password."
                </p>
            }
        })
    };
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        {move || logged_in.get().then(|| view! { <Header /> })}
        <main id="main" tabindex="-1">{read_only}{page}</main>
        <ToastRegion />
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
    let role = move || match console.session.role() {
        Some(anchorage_common::users::UserRole::Admin) => "administrator",
        Some(anchorage_common::users::UserRole::Reader) => "reader (read-only)",
        None => "",
    };
    let mode = Signal::derive(move || match console.session.mode() {
        Some(api::Mode::Proxy { upstream }) => format!("Proxy \u{2192} {upstream}"),
        Some(api::Mode::Local) => "Local mode".to_string(),
        None => String::new(),
    });
    // The count of active alarms (expiring certificates), a link to their list; read at once
    // and every minute while the header is shown.
    let alarms = RwSignal::new(None::<String>);
    watch_alarms(alarms);
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
            {move || alarms.get().map(|text| view! { <Link route=Route::Alarms class="alarm-count">{text}</Link> })}
            <div class="whoami">
                <span class="mode" title="Local: anchorage keeps the data. Proxy: a Cumulocity tenant does.">
                    {mode}
                </span>
                <span class="account">
                    <span class="user">{user}</span>
                    <span class="role">" · "{role}</span>
                    <span class="tenant">" · tenant "{tenant}</span>
                </span>
                <button type="button" class="button small" on:click=move |_| console.log_out()>"Log out"</button>
            </div>
        </header>
    }
}

/// How often the header reads the count of active alarms again.
const ALARM_COUNT_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Reads the count of active alarms into `alarms` ("3 active alarms", `None` for none or when
/// it cannot be read), then again after [`ALARM_COUNT_EVERY`], until the header is gone.
fn watch_alarms(alarms: RwSignal<Option<String>>) {
    leptos::task::spawn_local(async move {
        let text = match api::alarms::active_count().await {
            Ok(0) | Err(_) => None,
            Ok(n) => Some(format::count_of(n, "active alarm", "active alarms")),
        };
        if alarms.try_set(text).is_none() {
            set_timeout(move || watch_alarms(alarms), ALARM_COUNT_EVERY);
        }
    });
}
