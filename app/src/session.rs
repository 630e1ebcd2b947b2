//! The logged-in user, held in memory only: never in LocalStorage, sessionStorage or cookies,
//! so a reload returns to the login page.

use anchorage_common::api::{CurrentTenant, CurrentUser};
use leptos::prelude::*;

use crate::api::{Client, Login};

/// The session context: who is logged in, if anyone.
#[derive(Debug, Clone, Copy)]
pub struct Session(RwSignal<Option<Login>>);

impl Session {
    /// An empty session (nobody logged in).
    pub fn new() -> Self {
        Session(RwSignal::new(None))
    }

    /// Records a successful login.
    pub fn begin(&self, login: Login) {
        self.0.set(Some(login));
    }

    /// Forgets the credentials.
    pub fn end(&self) {
        self.0.set(None);
    }

    /// Whether someone is logged in (tracked).
    pub fn logged_in(&self) -> bool {
        self.0.with(Option::is_some)
    }

    /// Whether someone is logged in (untracked).
    pub fn logged_in_untracked(&self) -> bool {
        self.0.with_untracked(Option::is_some)
    }

    /// The API client of the session, if logged in.
    pub fn client(&self) -> Option<Client> {
        self.0.with_untracked(|s| s.as_ref().map(|l| l.client.clone()))
    }

    /// The logged-in user (tracked).
    pub fn user(&self) -> Option<CurrentUser> {
        self.0.with(|s| s.as_ref().map(|l| l.user.clone()))
    }

    /// The tenant of the session (tracked).
    pub fn tenant(&self) -> Option<CurrentTenant> {
        self.0.with(|s| s.as_ref().map(|l| l.tenant.clone()))
    }
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}
