//! `GET /.well-known/jwks.json`: the public keys that verify device tokens, for other services.

use axum::Json;
use axum::extract::State;
use axum::http::Method;
use axum::routing::get;

use crate::routes::{Access, Endpoint};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new(Method::GET, "/.well-known/jwks.json", Access::Public, get(jwks))]
}

async fn jwks(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.tokens.jwks())
}
