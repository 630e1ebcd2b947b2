//! Who is logged in, as the server's session cookie says: learnt on start-up from
//! `GET /user/currentUser` (so a reload keeps the login), forgotten at logout or when the server
//! answers 401. No credential or token is held here, nor in LocalStorage or sessionStorage: the
//! session cookie is HttpOnly and only the browser sends it.

use anchorage_common::api::{CurrentTenant, CurrentUser};
use anchorage_common::users::UserRole;
use leptos::prelude::*;

use crate::api::{Client, Login, Mode};

/// The session context: who is logged in, if anyone, and what the server runs as.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    login: RwSignal<Option<Login>>,
    /// Whether the start-up check has answered (until then nobody is known to be logged in
    /// or out, and no page is shown).
    known: RwSignal<bool>,
    /// `None` until `GET /anchorage/mode` answered (or when it failed).
    mode: RwSignal<Option<Mode>>,
    /// Why the login page is shown, when it is not the first visit (e.g. the session ended).
    notice: RwSignal<Option<String>>,
}

impl Session {
    /// An empty session (nobody logged in, the start-up check not done).
    pub fn new() -> Self {
        Session {
            login: RwSignal::new(None),
            known: RwSignal::new(false),
            mode: RwSignal::new(None),
            notice: RwSignal::new(None),
        }
    }

    /// Records a successful login (or the session found on start-up).
    pub fn begin(&self, login: Login) {
        self.notice.set(None);
        self.login.set(Some(login));
        self.known.set(true);
    }

    /// Records that nobody is logged in, with the reason the login page is to show, if any.
    pub fn end_with(&self, notice: Option<String>) {
        self.notice.set(notice);
        self.login.set(None);
        self.known.set(true);
    }

    /// Forgets who was logged in.
    pub fn end(&self) {
        self.end_with(None);
    }

    /// Whether the start-up check has answered (tracked).
    pub fn known(&self) -> bool {
        self.known.get()
    }

    /// Whether the start-up check has answered (untracked).
    pub fn known_untracked(&self) -> bool {
        self.known.get_untracked()
    }

    /// Whether someone is logged in (tracked).
    pub fn logged_in(&self) -> bool {
        self.login.with(Option::is_some)
    }

    /// Whether someone is logged in (untracked).
    pub fn logged_in_untracked(&self) -> bool {
        self.login.with_untracked(Option::is_some)
    }

    /// The API client of the session, if logged in.
    pub fn client(&self) -> Option<Client> {
        self.login.with_untracked(|s| s.as_ref().map(|l| l.client.clone()))
    }

    /// The logged-in user (tracked).
    pub fn user(&self) -> Option<CurrentUser> {
        self.login.with(|s| s.as_ref().map(|l| l.user.clone()))
    }

    /// The logged-in user's name (untracked).
    pub fn user_name_untracked(&self) -> Option<String> {
        self.login.with_untracked(|s| s.as_ref().map(|l| l.user.user_name.clone()))
    }

    /// The tenant of the session (tracked).
    pub fn tenant(&self) -> Option<CurrentTenant> {
        self.login.with(|s| s.as_ref().map(|l| l.tenant.clone()))
    }

    /// The logged-in user's role (tracked).
    pub fn role(&self) -> Option<UserRole> {
        self.login.with(|s| s.as_ref().map(|l| l.role))
    }

    /// Records the logged-in user's new role (after they changed their own).
    pub fn set_role(&self, role: UserRole) {
        self.login.update(|s| {
            if let Some(l) = s {
                l.role = role;
            }
        });
    }

    /// Whether the logged-in user may only look, not change anything (tracked).
    pub fn read_only(&self) -> bool {
        self.role() == Some(UserRole::Reader)
    }

    /// What the server runs as, once known (tracked).
    pub fn mode(&self) -> Option<Mode> {
        self.mode.get()
    }

    /// Whether the server forwards to a platform (tracked).
    pub fn proxied(&self) -> bool {
        self.mode.with(|m| matches!(m, Some(Mode::Proxy { .. })))
    }

    /// Records what the server runs as.
    pub fn set_mode(&self, mode: Option<Mode>) {
        self.mode.set(mode);
    }

    /// Why the login page is shown, if not a first visit (tracked).
    pub fn notice(&self) -> Option<String> {
        self.notice.get()
    }
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}
