//! A router small enough to read in one sitting: the [`Route`] enum lives in a context signal,
//! navigation pushes browser history, and `popstate` (back/forward) sets the signal again.
//!
//! Every page is one line of the [`pages!`] table below: variant, path, title, who may see it,
//! and its view: `now` a component linked into the first load, or `lazy` a split point of
//! [`crate::lazy`] whose chunk is fetched when the page is first shown. Pages that need a login
//! send a visitor who has none to `/login?next=<path>`.

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

use crate::session::Session;
use crate::{lazy, pages};

/// The path of the platform console's enrollment link,
/// `<base>/apps/devicemanagement/index.html#/deviceregistration?externalId=…&one-time-password=…`.
pub const ENROLLMENT_LINK_PATH: &str = "/apps/devicemanagement/index.html";

/// Who may see a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, logged in or not.
    Public,
    /// Only a logged-in user; others are sent to the login page.
    Member,
}

macro_rules! pages {
    (@view now $path:literal $page:path) => { $page().into_any() };
    (@view lazy $path:literal $page:path) => { crate::lazy::page($path, || Box::pin($page())) };
    ($($variant:ident => $path:literal, $title:literal, $access:ident, $load:ident $page:path;)*) => {
        /// A page of the console.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Route {
            $($variant,)*
            /// Any path the console does not know.
            NotFound,
        }

        impl Route {
            /// Every known page, in the order of the navigation bar.
            pub const ALL: &[Route] = &[$(Route::$variant),*];

            /// The page's path.
            pub fn path(self) -> &'static str {
                match self {
                    $(Route::$variant => $path,)*
                    Route::NotFound => "/",
                }
            }

            /// The page's title, shown in the navigation and the browser tab.
            pub fn title(self) -> &'static str {
                match self {
                    $(Route::$variant => $title,)*
                    Route::NotFound => "Page not found",
                }
            }

            /// Who may see the page.
            pub fn access(self) -> Access {
                match self {
                    $(Route::$variant => Access::$access,)*
                    Route::NotFound => Access::Public,
                }
            }

            /// The page for a path (`/` is the home page).
            pub fn from_path(path: &str) -> Route {
                let path = path.trim_end_matches('/');
                if path.is_empty() {
                    return Route::HOME;
                }
                match path {
                    $($path => Route::$variant,)*
                    // The platform console's enrollment link (§6.4, go-c8y prints it): the
                    // devices page reads its `#/deviceregistration?…` itself.
                    ENROLLMENT_LINK_PATH => Route::Devices,
                    _ => Route::NotFound,
                }
            }

            /// Renders the page.
            pub fn view(self) -> AnyView {
                match self {
                    $(Route::$variant => pages!(@view $load $path $page),)*
                    Route::NotFound => pages::not_found::NotFoundPage().into_any(),
                }
            }
        }
    };
}

// The login and the home page are in the first load; every other page is a chunk of its own.
pages! {
    Login => "/login", "Log in", Public, now pages::login::LoginPage;
    TrustedCertificates => "/trusted-certificates", "Trusted certificates", Member, now pages::trusted_certificates::TrustedCertificatesPage;
    Devices => "/devices", "Devices", Member, lazy lazy::devices_page;
    ChainDoctor => "/chain-doctor", "Chain doctor", Member, lazy lazy::chain_doctor_page;
    BulkRegistration => "/bulk-registration", "Bulk registration", Member, lazy lazy::bulk_registration_page;
    Settings => "/settings", "Settings", Member, lazy lazy::settings_page;
    Users => "/users", "Users", Member, lazy lazy::users_page;
    Audit => "/audit", "Audit", Member, lazy lazy::audit_page;
    Alarms => "/alarms", "Alarms", Member, lazy lazy::alarms_page;
}

impl Route {
    /// Where `/` leads, and where a login goes when nothing else was asked for.
    pub const HOME: Route = Route::TrustedCertificates;

    /// Whether the page appears in the navigation bar of a logged-in user.
    pub fn in_navigation(self) -> bool {
        self.access() == Access::Member
    }
}

/// The current page, shared through context.
#[derive(Debug, Clone, Copy)]
pub struct Router {
    route: RwSignal<Route>,
    session: Session,
}

impl Router {
    /// Creates the router for the browser's current location and starts following back and
    /// forward navigation.
    pub fn start(session: Session) -> Self {
        let router = Router { route: RwSignal::new(Route::NotFound), session };
        router.follow_location(true);
        let handle = window_event_listener(leptos::ev::popstate, move |_| {
            router.follow_location(true);
            focus_heading(HEADING_TRIES);
        });
        // The router lives as long as the page; the listener must too.
        std::mem::forget(handle);
        router
    }

    /// The page shown now (tracked).
    pub fn route(&self) -> Route {
        self.route.get()
    }

    /// Goes to `route`, adding a history entry.
    pub fn go(&self, route: Route) {
        self.navigate(route.path(), false);
    }

    /// Goes to a path (with an optional query), adding a history entry.
    pub fn go_path(&self, path_and_query: &str) {
        self.navigate(path_and_query, false);
    }

    /// Shows the page for the browser's location again, applying the login rules: called once
    /// the start-up session check has answered.
    pub fn refresh(&self) {
        self.follow_location(true);
    }

    /// Sends the visitor to the login page, remembering the page being shown so that the
    /// login comes back to it.
    pub fn to_login(&self) {
        let here = self.route.get_untracked();
        self.navigate(&login_path(here), false);
    }

    /// Where a login should lead: the `next` query parameter (a path with its query and
    /// fragment, e.g. `/trusted-certificates?q=ab`) if its path names a known page; else home.
    pub fn after_login(&self) -> String {
        let search = window().location().search().unwrap_or_default();
        let next = search
            .trim_start_matches('?')
            .split('&')
            .find_map(|kv| kv.strip_prefix("next="))
            .map(|v| String::from(js_sys::decode_uri_component(v).unwrap_or_else(|_| v.into())))
            .unwrap_or_default();
        // Only a path of this console ("//host" would leave it).
        let path = next.find(['?', '#']).map_or(next.as_str(), |end| &next[..end]);
        match Route::from_path(path) {
            Route::Login | Route::NotFound => {}
            _ if next.starts_with('/') && !next.starts_with("//") => return next,
            _ => {}
        }
        Route::HOME.path().to_string()
    }

    fn navigate(&self, path_and_query: &str, replace: bool) {
        let history = window().history();
        if let Ok(history) = history {
            let url = Some(path_and_query);
            let _ = if replace {
                history.replace_state_with_url(&JsValue::NULL, "", url)
            } else {
                history.push_state_with_url(&JsValue::NULL, "", url)
            };
        }
        self.follow_location(true);
        focus_heading(HEADING_TRIES);
    }

    /// Shows the page for the browser's location, applying the login rule (by replacing the
    /// history entry, so that "back" does not bounce). Until the start-up session check has
    /// answered, the rules wait ([`Router::refresh`]).
    fn follow_location(&self, apply_rules: bool) {
        let location = window().location();
        let path = location.pathname().unwrap_or_default();
        let route = Route::from_path(&path);
        if apply_rules && self.session.known_untracked() {
            let logged_in = self.session.logged_in_untracked();
            let redirect = if route.access() == Access::Member && !logged_in {
                Some(login_path(route))
            } else if route == Route::Login && logged_in {
                Some(self.after_login())
            } else if path == "/" {
                Some(route.path().to_string())
            } else {
                None
            };
            if let Some(to) = redirect {
                if let Ok(history) = window().history() {
                    let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&to));
                }
                return self.follow_location(false);
            }
        }
        self.route.set(route);
        document().set_title(&format!("{} · anchorage", route.title()));
    }
}

/// How often [`focus_heading`] looks for the new page's heading, 50 ms apart: a page in a
/// chunk shows its heading once the chunk is loaded (5 s at most, then focus stays put).
const HEADING_TRIES: u8 = 100;

/// Moves focus to the page's heading (`main h1`) once the page shows it, so that keyboard and
/// screen-reader users land on the new page after a navigation or a login instead of on
/// `<body>`. (The previous page is gone by the first look: the route is set synchronously.)
/// The first load of a page leaves focus alone (the login form focuses its first field).
fn focus_heading(tries: u8) {
    set_timeout(
        move || {
            let heading = document().query_selector("main h1").ok().flatten();
            match heading.and_then(|h| h.dyn_into::<web_sys::HtmlElement>().ok()) {
                Some(h) => {
                    // Focusable by script only: not a stop in the tab order.
                    let _ = h.set_attribute("tabindex", "-1");
                    let _ = h.focus();
                }
                None if tries > 0 => focus_heading(tries - 1),
                None => {}
            }
        },
        std::time::Duration::from_millis(50),
    );
}

/// The login page's address for a visitor on `next`: `next=` keeps the page's path with the
/// query and fragment of the address (a search, the enrollment link's `#/deviceregistration?…`).
fn login_path(next: Route) -> String {
    match next {
        Route::Login | Route::NotFound => Route::Login.path().to_string(),
        r => {
            let location = window().location();
            let rest = location.search().unwrap_or_default() + &location.hash().unwrap_or_default();
            let next = if Route::from_path(&location.pathname().unwrap_or_default()) == r {
                location.pathname().unwrap_or_default() + &rest
            } else {
                r.path().to_string()
            };
            format!("{}?next={}", Route::Login.path(), js_sys::encode_uri_component(&next))
        }
    }
}

/// A link to a page of the console: a real `<a href>` (so it can be opened in a new tab), but
/// a plain click navigates without reloading.
#[component]
pub fn Link(
    /// The page linked to.
    route: Route,
    /// Extra class of the `<a>`.
    #[prop(optional)]
    class: &'static str,
    /// The link's content.
    children: Children,
) -> impl IntoView {
    let router = expect_context::<Router>();
    let on_click = move |ev: leptos::ev::MouseEvent| {
        if ev.button() == 0 && !ev.ctrl_key() && !ev.meta_key() && !ev.shift_key() && !ev.alt_key() {
            ev.prevent_default();
            router.go(route);
        }
    };
    let current = move || (router.route() == route).then_some("page");
    view! {
        <a href=route.path() class=class on:click=on_click aria-current=current>
            {children()}
        </a>
    }
}
