//! `GET /tenant/currentTenant`: how clients such as `@c8y/client` discover the tenant id; and
//! `GET /anchorage/mode`, which the console reads to show whether it is local or a proxy.

use axum::Json;
use axum::extract::State;
use axum::http::Method;
use axum::routing::get;

use anchorage_common::api::CurrentTenant;

use crate::extract::BaseUrl;
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/tenant/currentTenant", Access::Authenticated, get(current_tenant)),
        Endpoint::new(Method::GET, "/anchorage/mode", Access::Public, get(mode)),
    ]
}

/// Which mode this anchorage runs in (the console shows it); proxy mode answers with its upstream.
async fn mode() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "mode": "local" }))
}

async fn current_tenant(State(state): State<AppState>, BaseUrl(base): BaseUrl) -> Json<CurrentTenant> {
    let host = base.split("://").nth(1).unwrap_or(&base);
    let domain = host.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(h, _)| h);
    Json(CurrentTenant {
        name: state.config.tenant.clone(),
        domain_name: domain.to_string(),
        self_url: format!("{base}/tenant/currentTenant"),
        allow_create_tenants: false,
    })
}
