//! `GET /.well-known/jwks.json`: the public keys that verify device tokens, for other services.

use axum::extract::State;
use axum::routing::get;
use axum::Json;
use axum::http::Method;

use crate::routes::{Access, Endpoint};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new(Method::GET, "/.well-known/jwks.json", Access::Public, get(jwks))]
}

async fn jwks(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.tokens.jwks())
}
