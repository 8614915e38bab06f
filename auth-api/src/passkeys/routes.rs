//! The passkey endpoints. Managing passkeys needs a signed-in user (the ID token, as `/me`);
//! signing in with one needs nothing but the passkey. Every one answers `passkeys_disabled` when
//! the API runs without `PASSKEY_RP_ID`.

use super::{Account, PasskeyApi, PasskeyError, PasskeyInfo, SignedInWithPasskey, Started};
use crate::AppState;
use crate::error::ApiError;
use crate::idp::Step;
use crate::openapi::{ErrorBody, SignedIn};
use crate::routes::{body, signed_in, signed_in_claims, unexpected_tokens};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

impl From<PasskeyError> for ApiError {
    fn from(e: PasskeyError) -> Self {
        match e {
            PasskeyError::CeremonyExpired => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "ceremony_expired",
                "This passkey request is over (used, or older than five minutes). Try again.",
            ),
            PasskeyError::Rejected(why) => {
                tracing::warn!(why, "passkey rejected");
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "passkey_rejected",
                    "This passkey cannot be used here. Try another, or sign in with an email.",
                )
            }
            PasskeyError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "passkey_not_found", "There is no such passkey on your account.")
            }
            PasskeyError::TooMany => ApiError::new(
                StatusCode::CONFLICT,
                "too_many_passkeys",
                format!("An account holds at most {} passkeys. Remove one first.", super::store::MAX_PER_USER),
            ),
            PasskeyError::AlreadyRegistered => {
                ApiError::new(StatusCode::CONFLICT, "passkey_already_registered", "This passkey is already registered.")
            }
            PasskeyError::SignInAgain => ApiError::new(
                StatusCode::FORBIDDEN,
                "recent_sign_in_required",
                "To add or remove a passkey, sign out and sign in again first: it must be done within 5 minutes of signing in.",
            ),
            PasskeyError::Invalid(message) => ApiError::invalid("name", message),
            PasskeyError::Store(e) => {
                tracing::error!(error = %e, "passkey state unavailable");
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "upstream_error",
                    "Passkeys are unavailable right now; try again.",
                )
            }
        }
    }
}

fn service(state: &AppState) -> Result<Arc<dyn PasskeyApi>, ApiError> {
    state.passkeys.clone().ok_or_else(|| {
        ApiError::new(StatusCode::NOT_IMPLEMENTED, "passkeys_disabled", "Passkeys are not enabled on this service.")
    })
}

async fn account(state: &AppState, headers: &HeaderMap, jar: &CookieJar) -> Result<Account, ApiError> {
    let claims = signed_in_claims(state, headers, jar).await?;
    let claim = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_string);
    match (claim("cognito:username"), claim("sub")) {
        (Some(username), Some(sub)) => {
            let origin_jti = claim("origin_jti");
            Ok(Account {
                username,
                sub,
                email: claim("email"),
                name: claim("name"),
                locale: claim("locale"),
                origin_jti,
            })
        }
        _ => Err(ApiError::not_signed_in()),
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn started(s: Started<Value>) -> Response {
    Json(json!({ "ceremony": s.ceremony, "publicKey": s.options })).into_response()
}

/// Finishing an add: the ceremony, the browser's `PublicKeyCredential` (as `toJSON()` gives it)
/// and an optional name.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Register {
    pub ceremony: String,
    #[schema(value_type = Object)]
    pub credential: RegisterPublicKeyCredential,
    pub name: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rename {
    pub name: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub ceremony: String,
    #[schema(value_type = Object)]
    pub credential: PublicKeyCredential,
    /// Put the tokens in the answer as well as in the cookies (native clients).
    #[serde(default)]
    pub return_tokens: bool,
}

/// `{ceremony, publicKey}`: `publicKey` goes to `PublicKeyCredential.parseCreationOptionsFromJSON`.
#[utoipa::path(post, path = "/passkeys/register/options",
    responses((status = 200, description = "`{ceremony, publicKey}`: creation options for the browser"),
        (status = 401, description = "not_signed_in", body = ErrorBody), (status = 409, description = "too_many_passkeys", body = ErrorBody),
        (status = 403, description = "recent_sign_in_required: the last sign-in (not a refresh) is over 5 minutes old", body = ErrorBody),
        (status = 403, description = "forbidden_origin", body = ErrorBody), (status = 501, description = "passkeys_disabled", body = ErrorBody), (status = 502, description = "upstream_error", body = ErrorBody)))]
pub async fn register_options(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<Response, ApiError> {
    let passkeys = service(&state)?;
    let who = account(&state, &headers, &jar).await?;
    Ok(started(passkeys.register_options(who, now()).await?))
}

#[utoipa::path(post, path = "/passkeys/register", request_body = Register,
    responses((status = 201, body = PasskeyInfo),
        (status = 401, description = "not_signed_in, ceremony_expired or passkey_rejected", body = ErrorBody),
        (status = 409, description = "passkey_already_registered or too_many_passkeys", body = ErrorBody),
        (status = 400, description = "invalid_request", body = ErrorBody), (status = 403, description = "forbidden_origin", body = ErrorBody), (status = 501, description = "passkeys_disabled", body = ErrorBody), (status = 502, description = "upstream_error", body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    parsed: Result<Json<Register>, JsonRejection>,
) -> Result<Response, ApiError> {
    let passkeys = service(&state)?;
    let who = account(&state, &headers, &jar).await?;
    let b = body(parsed)?;
    let added = passkeys.register(who, b.ceremony, b.credential, b.name, now()).await?;
    Ok((StatusCode::CREATED, Json(added)).into_response())
}

#[utoipa::path(get, path = "/passkeys",
    responses((status = 200, description = "`{passkeys: [PasskeyInfo]}`"), (status = 401, description = "not_signed_in", body = ErrorBody),
        (status = 501, description = "passkeys_disabled", body = ErrorBody), (status = 502, description = "upstream_error", body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, headers: HeaderMap, jar: CookieJar) -> Result<Response, ApiError> {
    let passkeys = service(&state)?;
    let who = account(&state, &headers, &jar).await?;
    Ok(Json(json!({ "passkeys": passkeys.list(who).await? })).into_response())
}

#[utoipa::path(patch, path = "/passkeys/{id}", request_body = Rename, params(("id" = String, Path, description = "the credential id")),
    responses((status = 200, body = PasskeyInfo), (status = 404, description = "passkey_not_found", body = ErrorBody),
        (status = 401, description = "not_signed_in", body = ErrorBody), (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 403, description = "forbidden_origin", body = ErrorBody), (status = 501, description = "passkeys_disabled", body = ErrorBody), (status = 502, description = "upstream_error", body = ErrorBody)))]
pub async fn rename(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Path(id): Path<String>,
    parsed: Result<Json<Rename>, JsonRejection>,
) -> Result<Response, ApiError> {
    let passkeys = service(&state)?;
    let who = account(&state, &headers, &jar).await?;
    let b = body(parsed)?;
    Ok(Json(passkeys.rename(who, id, b.name).await?).into_response())
}

#[utoipa::path(delete, path = "/passkeys/{id}", params(("id" = String, Path, description = "the credential id")),
    responses((status = 200, body = PasskeyInfo, description = "the removed passkey"), (status = 404, description = "passkey_not_found", body = ErrorBody),
        (status = 401, description = "not_signed_in", body = ErrorBody), (status = 403, description = "forbidden_origin or recent_sign_in_required", body = ErrorBody),
        (status = 501, description = "passkeys_disabled", body = ErrorBody), (status = 502, description = "upstream_error", body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let passkeys = service(&state)?;
    let who = account(&state, &headers, &jar).await?;
    Ok(Json(passkeys.remove(who, id, now()).await?).into_response())
}

/// Options for a discoverable sign-in: no username, no list of credentials, nothing about any
/// account.
#[utoipa::path(post, path = "/passkey/sign-in/options",
    responses((status = 200, description = "`{ceremony, publicKey}`: request options for the browser"),
        (status = 403, description = "forbidden_origin", body = ErrorBody), (status = 501, description = "passkeys_disabled", body = ErrorBody), (status = 502, description = "upstream_error", body = ErrorBody)))]
pub async fn sign_in_options(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(started(service(&state)?.sign_in_options(now()).await?))
}

/// Verifies the assertion, then signs in through Cognito's CUSTOM_AUTH with the one-time proof
/// the triggers accept (docs/passkeys.md). No email is sent.
#[utoipa::path(post, path = "/passkey/sign-in", request_body = SignIn,
    responses((status = 200, body = SignedIn),
        (status = 401, description = "ceremony_expired, passkey_rejected or sign_in_failed", body = ErrorBody),
        (status = 409, description = "passkey_sign_in_interrupted: another sign-in took the proof; try again", body = ErrorBody),
        (status = 400, description = "invalid_request", body = ErrorBody), (status = 403, description = "forbidden_origin", body = ErrorBody),
        (status = 501, description = "passkeys_disabled", body = ErrorBody), (status = 502, description = "upstream_error", body = ErrorBody), (status = 503, description = "sign_in_unavailable", body = ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    parsed: Result<Json<SignIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    let passkeys = service(&state)?;
    let b = body(parsed)?;
    let verified = passkeys.sign_in(b.ceremony, b.credential, now()).await?;
    match cognito_sign_in(&state, &verified).await {
        Ok(tokens) => {
            tracing::info!("signed in with a passkey");
            crate::routes::record_sign_in(&state, &tokens).await;
            Ok(signed_in(&state, &headers, jar, &verified.username, &tokens, b.return_tokens))
        }
        Err(e) => {
            // A proof left behind would turn the account's next sign-in into a passkey round.
            passkeys.withdraw(&verified).await;
            Err(e)
        }
    }
}

/// The Cognito half of a verified passkey sign-in: the session whose first round offers the
/// proof, answered with its secret.
async fn cognito_sign_in(state: &AppState, verified: &SignedInWithPasskey) -> Result<crate::idp::Tokens, ApiError> {
    let username = verified.username.as_str();
    let step = state.idp.start_sign_in(username).await.map_err(|e| ApiError::from_sign_in(&e))?;
    let Step::Challenge(challenge) = step else { return Err(unexpected_tokens()) };
    if challenge.parameters.get(triggers::passkey::METHOD_PARAMETER).map(String::as_str)
        != Some(triggers::passkey::METHOD)
    {
        tracing::warn!("this sign-in did not get the passkey round");
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "passkey_sign_in_interrupted",
            "Another sign-in to this account got in the way. Try the passkey again.",
        ));
    }
    let step = state
        .idp
        .answer(username, &challenge.session, &verified.proof)
        .await
        .map_err(|e| ApiError::from_sign_in(&e))?;
    match step {
        Step::Tokens(tokens) => Ok(tokens),
        Step::Challenge(_) => Err(PasskeyError::Rejected("the triggers refused the proof".into()).into()),
    }
}
