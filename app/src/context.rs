//! [`Console`]: the handful of app-wide services every page uses (session, router, toasts),
//! provided once at the root and copied into event handlers and async tasks.

use leptos::prelude::*;

use crate::api::{ApiError, Client};
use crate::components::toast::Toasts;
use crate::router::Router;
use crate::session::Session;

/// App-wide services. `Copy`, so it can be captured anywhere, including after an `.await`
/// where the reactive owner (and with it `use_context`) is no longer at hand.
#[derive(Debug, Clone, Copy)]
pub struct Console {
    pub session: Session,
    pub router: Router,
    pub toasts: Toasts,
}

impl Console {
    /// The console's services; call during a component's setup.
    pub fn get() -> Self {
        expect_context::<Console>()
    }

    /// The API client of the session, if logged in.
    pub fn client(&self) -> Option<Client> {
        self.session.client()
    }

    /// Shows a short confirmation.
    pub fn toast(&self, message: impl Into<String>) {
        self.toasts.show(message.into());
    }

    /// What a page does with an API error: a 401 (the session expired, was ended elsewhere, or
    /// the password changed) ends the session and goes to the login page, which comes back here
    /// afterwards. Returns the error's text for the page to show otherwise.
    pub fn explain(&self, err: &ApiError) -> Option<String> {
        if *err == ApiError::Unauthorized {
            self.session_ended("Your session has ended. Log in again.");
            None
        } else {
            Some(err.to_string())
        }
    }

    /// Loads a page's data where the latest request wins: `generation` counts requests, and the
    /// answer to a request that a later one overtook is dropped. While it runs `loading` is set;
    /// the answer or the error in words lands in `answer` (a 401 ends the session instead).
    pub fn load_latest<T: Send + Sync + 'static>(
        &self,
        generation: StoredValue<u64>,
        loading: RwSignal<bool>,
        answer: RwSignal<Option<Result<T, String>>>,
        request: impl std::future::Future<Output = Result<T, ApiError>> + 'static,
    ) {
        let console = *self;
        let n = generation.get_value() + 1;
        generation.set_value(n);
        loading.set(true);
        leptos::task::spawn_local(async move {
            let result = request.await;
            if generation.try_get_value() != Some(n) {
                return;
            }
            loading.set(false);
            match result {
                Ok(data) => answer.set(Some(Ok(data))),
                Err(e) => {
                    if let Some(message) = console.explain(&e) {
                        answer.set(Some(Err(message)));
                    }
                }
            }
        });
    }

    /// Shows the login page with `why`, coming back to the current page afterwards.
    pub fn session_ended(&self, why: &str) {
        if self.session.logged_in_untracked() {
            self.session.end_with(Some(why.to_string()));
            self.router.to_login();
        }
    }

    /// Logs out: ends the session on the server (which clears the cookies) and shows the login
    /// page. A session that had already ended is as good as ended now.
    pub fn log_out(&self) {
        let console = *self;
        leptos::task::spawn_local(async move {
            match crate::api::log_out().await {
                Ok(()) | Err(ApiError::Unauthorized) => {
                    console.session.end();
                    console.router.go(crate::router::Route::Login);
                }
                Err(e) => console.toast(format!("Could not log out: {e}")),
            }
        });
    }
}
