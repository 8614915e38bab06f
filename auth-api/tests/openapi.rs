//! The API's description (OpenAPI 3.1) against the API itself: every route the router serves is
//! described and answers, and every documented error code is one the code produces and a test
//! provokes.

use auth_api::config::ApiConfig;
use auth_api::idp::{IdentityProvider, IdpError, NewUser, Step, Tokens};
use auth_api::openapi::{ERROR_CODES, ROUTES};
use auth_api::{AppState, router};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use lambda_support::Env;
use serde_json::Value;
use std::collections::BTreeSet;
use std::pin::Pin;
use std::sync::Arc;
use tower::ServiceExt;

/// An identity provider that is never reached: routes are checked for existence only.
struct Unreachable;

type Fut<'a, T> = Pin<Box<dyn std::future::Future<Output = Result<T, IdpError>> + Send + 'a>>;

fn down<'a, T: 'a>() -> Fut<'a, T> {
    Box::pin(async { Err(IdpError { code: None, message: "down".into() }) })
}

impl IdentityProvider for Unreachable {
    fn sign_up<'a>(&'a self, _: NewUser<'a>) -> Fut<'a, bool> {
        down()
    }
    fn start_sign_in<'a>(&'a self, _: &'a str) -> Fut<'a, Step> {
        down()
    }
    fn resend<'a>(&'a self, _: &'a str, _: &'a str) -> Fut<'a, Step> {
        down()
    }
    fn answer<'a>(&'a self, _: &'a str, _: &'a str, _: &'a str) -> Fut<'a, Step> {
        down()
    }
    fn refresh<'a>(&'a self, _: &'a str) -> Fut<'a, Tokens> {
        down()
    }
    fn revoke<'a>(&'a self, _: &'a str) -> Fut<'a, ()> {
        down()
    }
}

fn app() -> axum::Router {
    let config =
        ApiConfig::from_env(&Env::from_pairs([("COGNITO_CLIENT_ID", "c"), ("COGNITO_USER_POOL_ID", "us-east-1_x")]))
            .unwrap();
    router(AppState::new(config, Arc::new(Unreachable)))
}

async fn document() -> Value {
    let request = Request::get("/openapi.json").header("host", "localhost").body(Body::empty()).unwrap();
    let response = app().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    serde_json::from_slice(&axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap()).unwrap()
}

#[tokio::test]
async fn the_description_is_openapi_3_1_and_lists_exactly_the_routes_the_router_serves() {
    let doc = document().await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let described: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| ops.as_object().unwrap().keys().map(move |m| (m.clone(), path.clone())))
        .collect();
    let routes: BTreeSet<(String, String)> = ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(described, routes);
    // And each answers on the router (nothing is described that is not served).
    for (method, path) in ROUTES {
        let request = Request::builder()
            .method(method.to_uppercase().as_str())
            .uri(path)
            .header("host", "localhost")
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let status = app().oneshot(request).await.unwrap().status();
        assert!(
            ![StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED].contains(&status),
            "{method} {path}: {status}"
        );
    }
}

#[test]
fn every_documented_error_code_is_produced_by_the_code_and_provoked_by_a_test() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // Every .rs file under the folder, modules in subfolders included.
    fn read_tree(path: &std::path::Path) -> String {
        std::fs::read_dir(path)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .map(|p| match p.extension() {
                _ if p.is_dir() => read_tree(&p),
                Some(x) if x == "rs" => std::fs::read_to_string(&p).unwrap(),
                _ => String::new(),
            })
            .collect()
    }
    let read_all = |sub: &str| read_tree(&dir.join(sub));
    let (source, tests) = (read_all("src"), read_all("tests"));
    // The codes the source hands to ApiError: a status followed at once by the code,
    // `StatusCode::X, "code"`.
    let produced: BTreeSet<String> = source
        .split("StatusCode::")
        .skip(1)
        .filter_map(|rest| {
            let name_end = rest.find(|c: char| !(c.is_ascii_uppercase() || c == '_'))?;
            let (code, _) = rest[name_end..].strip_prefix(", \"")?.split_once('"')?;
            Some(code.to_string())
        })
        .collect();
    let documented: BTreeSet<String> = ERROR_CODES.iter().map(|c| c.to_string()).collect();
    assert!(produced.is_subset(&documented), "undocumented codes: {:?}", produced.difference(&documented));
    for code in ERROR_CODES {
        let quoted = format!("\"{code}\"");
        assert!(source.contains(&quoted), "{code} is documented but never produced");
        // Beyond this file (which lists them all), a test asserts the code in an answer.
        let elsewhere = tests.matches(&quoted).count() > usize::from(include_str!("openapi.rs").contains(&quoted));
        assert!(elsewhere, "no test provokes {code}");
    }
}

#[tokio::test]
async fn the_described_error_codes_are_the_documented_ones() {
    let doc = document().await;
    let described: BTreeSet<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(described, ERROR_CODES.into_iter().collect());
}
