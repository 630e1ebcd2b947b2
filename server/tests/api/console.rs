//! The console's files: the SPA fallback, precompressed assets, and JSON 404s under API paths.

use reqwest::Method;

use crate::support::*;

#[tokio::test]
async fn console_routes_get_index_html_and_api_paths_get_json_404() {
    let app = TestApp::spawn().await;
    std::fs::write(app.assets().join("index.html"), "<!doctype html><title>anchorage</title>").expect("write");
    std::fs::create_dir_all(app.assets().join("pkg")).expect("dir");
    std::fs::write(app.assets().join("pkg/app.js"), "console.log('plain')").expect("write");
    std::fs::write(app.assets().join("pkg/app.js.gz"), b"gzipped-bytes").expect("write");
    std::fs::write(app.assets().join("pkg/app.js.br"), b"brotli-bytes").expect("write");

    for path in ["/", "/trusted-certificates", "/login"] {
        let res = app.client.get(app.url(path)).send().await.expect("get");
        assert_eq!(res.status(), 200, "{path}");
        assert!(res.text().await.expect("text").contains("<title>anchorage</title>"), "{path}");
    }
    // Precompressed files are served as such to clients that accept them.
    let res = app.client.get(app.url("/pkg/app.js")).header("accept-encoding", "gzip").send().await.expect("get");
    assert_eq!(res.headers().get("content-encoding").and_then(|v| v.to_str().ok()), Some("gzip"));
    // Brotli (the build writes .br files with Debian's brotli) to browsers that take it.
    let res = app
        .client
        .get(app.url("/pkg/app.js"))
        .header("accept-encoding", "gzip, deflate, br")
        .send()
        .await
        .expect("get");
    assert_eq!(res.headers().get("content-encoding").and_then(|v| v.to_str().ok()), Some("br"));
    assert_eq!(res.bytes().await.expect("body").as_ref(), b"brotli-bytes");
    let res = app.client.get(app.url("/pkg/app.js")).send().await.expect("get");
    assert_eq!(res.headers().get("content-encoding"), None);

    for path in ["/tenant/nothing-here", "/inventory/nothing", "/user/x/y"] {
        let res = app.admin(Method::GET, &app.url(path)).send().await.expect("get");
        assert_error(res, 404, "general/Not Found", "Resource not found").await;
    }
    let res = app.admin(Method::PATCH, &app.certs_url()).send().await.expect("patch");
    assert_error(res, 405, "general/Method Not Allowed", "This method is not allowed").await;
}

/// A console page named like an API prefix (`/audit`) loads on a reload and from a bookmark:
/// the browser's page load asks for HTML first. API clients still get the platform's JSON 404
/// for the bare prefix, and paths below it stay the API's.
#[tokio::test]
async fn a_page_load_of_a_bare_api_prefix_gets_the_console() {
    let app = TestApp::spawn().await;
    std::fs::write(app.assets().join("index.html"), "<!doctype html><title>anchorage</title>").expect("write");
    let navigation = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    for path in ["/audit", "/alarm", "/tenant"] {
        let res = app.client.get(app.url(path)).header("accept", navigation).send().await.expect("get");
        assert_eq!(res.status(), 200, "{path}");
        assert!(res.text().await.expect("text").contains("<title>anchorage</title>"), "{path}");
        for accept in ["*/*", "application/json", "application/json, text/html"] {
            let res = app.admin(Method::GET, &app.url(path)).header("accept", accept).send().await.expect("get");
            assert_error(res, 404, "general/Not Found", "Resource not found").await;
        }
    }
    let res = app.client.get(app.url("/audit/nothing")).header("accept", navigation).send().await.expect("get");
    assert_error(res, 404, "general/Not Found", "Resource not found").await;
}
