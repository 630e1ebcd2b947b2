//! `/tenant/options`: the platform's option API and the device-token lifespan rule.

use reqwest::Method;
use serde_json::json;

use crate::support::local_and_proxied;
use crate::support::*;

local_and_proxied!(options_api_is_complete, app, {
    let url = |p: &str| app.url(&format!("/tenant/options{p}"));

    // Not set yet: the platform's 404.
    let res = app.admin(Method::GET, &url("/oauth.internal/device-token.lifespan.seconds")).send().await.expect("get");
    assert_error(
        res,
        404,
        "options/Not Found",
        "Unable to find option by given key: oauth.internal/device-token.lifespan.seconds",
    )
    .await;

    // Create (200, as the OAS says), with the platform's media type; booleans become text.
    let res = app
        .admin(Method::POST, &url(""))
        .header("content-type", "application/vnd.com.nsn.cumulocity.option+json")
        .body(json!({"category": "configuration", "key": "crl.online.check.enabled", "value": true}).to_string())
        .send()
        .await
        .expect("post");
    assert_eq!(
        res.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/vnd.com.nsn.cumulocity.option+json")
    );
    let (status, o) = json(res).await;
    assert_eq!((status, o["value"].as_str()), (200, Some("true")));
    assert!(o["self"].as_str().is_some_and(|s| s.ends_with("/tenant/options/configuration/crl.online.check.enabled")));

    // Update one (PUT with the whole option, as @c8y/client sends it), get one.
    let res = app
        .admin(Method::PUT, &url("/oauth.internal/device-token.lifespan.seconds"))
        .json(&json!({"category": "oauth.internal", "key": "device-token.lifespan.seconds", "value": "900"}))
        .send()
        .await
        .expect("put");
    assert_eq!(json(res).await.1["value"], "900");
    let (status, o) = json(
        app.admin(Method::GET, &url("/oauth.internal/device-token.lifespan.seconds?evaluate=current"))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!((status, o["value"].as_str()), (200, Some("900")));

    // Category: a flat map; update a category with a flat map.
    let res = app
        .admin(Method::PUT, &url("/configuration"))
        .json(&json!({"crl.offline.check.enabled": false, "x.y": "z"}))
        .send()
        .await
        .expect("put");
    let (status, map) = json(res).await;
    assert_eq!(status, 200);
    assert_eq!(map, json!({"crl.offline.check.enabled": "false", "crl.online.check.enabled": "true", "x.y": "z"}));
    assert_eq!(json(app.admin(Method::GET, &url("/configuration")).send().await.expect("get")).await.1, map);

    // List: the collection envelope.
    let (status, list) =
        json(app.admin(Method::GET, &url("?pageSize=2&withTotalPages=true")).send().await.expect("list")).await;
    assert_eq!(status, 200);
    assert_eq!(list["options"].as_array().map(Vec::len), Some(2));
    assert_eq!(list["statistics"]["totalPages"], 2);
    assert!(list["next"].as_str().is_some_and(|n| n.contains("currentPage=2")));

    // Delete: 204, then 404.
    assert_eq!(app.admin(Method::DELETE, &url("/configuration/x.y")).send().await.expect("delete").status(), 204);
    let res = app.admin(Method::DELETE, &url("/configuration/x.y")).send().await.expect("delete");
    assert_error(res, 404, "options/Not Found", "Unable to find option by given key: configuration/x.y").await;
});

local_and_proxied!(device_token_lifespan_must_be_a_whole_number_of_at_least_300, app, {
    let one = app.url("/tenant/options/oauth.internal/device-token.lifespan.seconds");
    for bad in [json!("299"), json!("ten minutes"), json!(-1), json!(1.5), json!("")] {
        let res = app.admin(Method::PUT, &one).json(&json!({"value": bad})).send().await.expect("put");
        assert_error(res, 422, "options/Unprocessable Entity", "device-token.lifespan.seconds must be").await;
    }
    let res = app
        .admin(Method::POST, &app.url("/tenant/options"))
        .json(&json!({"category": "oauth.internal", "key": "device-token.lifespan.seconds", "value": 120}))
        .send()
        .await
        .expect("post");
    assert_error(res, 422, "options/Unprocessable Entity", "device-token.lifespan.seconds must be at least 300").await;
    // The category update is all or nothing.
    let res = app
        .admin(Method::PUT, &app.url("/tenant/options/oauth.internal"))
        .json(&json!({"a.b": "fine", "device-token.lifespan.seconds": "5"}))
        .send()
        .await
        .expect("put");
    assert_eq!(res.status(), 422);
    let (_, map) =
        json(app.admin(Method::GET, &app.url("/tenant/options/oauth.internal")).send().await.expect("get")).await;
    assert_eq!(map, json!({}));
    let res = app.admin(Method::PUT, &one).json(&json!({"value": 300})).send().await.expect("put");
    assert_eq!(json(res).await.1["value"], "300");
});
