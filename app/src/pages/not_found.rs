//! The page for a path the console does not know.

use leptos::prelude::*;

use crate::router::{Link, Route};

/// "Page not found", with a way back.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <section class="page narrow">
            <h1>"Page not found"</h1>
            <p>"There is no page at this address."</p>
            <p>
                <Link route=Route::HOME>"Go to " {Route::HOME.title()}</Link>
            </p>
        </section>
    }
}
