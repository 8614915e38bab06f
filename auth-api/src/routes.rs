//! The handlers: each parses its input, makes one call to the identity provider and answers.

use crate::AppState;
use crate::cookies::{self, ACCESS_TOKEN, CookieSettings, ID_TOKEN, REFRESH_TOKEN};
use crate::error::ApiError;
use crate::idp::{Challenge, NewUser, Step, Tokens};
use crate::input;
use crate::keys::TokenError;
use crate::openapi::{ChallengeAnswer, ErrorBody, Me, SignedIn, SignedUp};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// An optional JSON body (refresh and logout work on the cookie alone); a malformed one is
/// `invalid_request` like any other.
fn optional_body<T: DeserializeOwned + Default>(parsed: Result<Option<Json<T>>, JsonRejection>) -> Result<T, ApiError> {
    body(parsed.map(|b| b.unwrap_or_else(|| Json(T::default()))))
}

/// A JSON body, or `invalid_request` naming the field serde could not read.
pub(crate) fn body<T: DeserializeOwned>(parsed: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    parsed.map(|Json(t)| t).map_err(|rejection| {
        // Only serde's "missing field `x`" / "unknown field `x`" quote a field name; other messages
        // quote the value sent (a code typed as a number), which is not echoed back.
        let text = rejection.body_text();
        let error = text.split_once("target type: ").map_or(text.as_str(), |(_, e)| e);
        let named = error.strip_prefix("missing field `").or_else(|| error.strip_prefix("unknown field `"));
        let field = named.and_then(|rest| rest.split('`').next()).unwrap_or("body").to_string();
        ApiError::invalid(&field, format!("The request body is not what this endpoint takes ({field})."))
    })
}

fn settings<'a>(state: &'a AppState, headers: &HeaderMap) -> CookieSettings<'a> {
    CookieSettings { secure: cookies::secure_for(headers), domain: state.config.cookie_domain.as_deref() }
}

#[utoipa::path(post, path = "/signup", request_body = input::Signup,
    responses((status = 201, body = SignedUp), (status = 409, description = "username_taken", body = ErrorBody),
        (status = 500, description = "misconfigured", body = ErrorBody), (status = 400, description = "invalid_request", body = ErrorBody), (status = 403, description = "forbidden_origin", body = ErrorBody), (status = 429, description = "too_many_requests", body = ErrorBody), (status = 502, description = "upstream_error", body = ErrorBody), (status = 503, description = "sign_in_unavailable", body = ErrorBody)))]
pub async fn signup(
    State(state): State<AppState>,
    parsed: Result<Json<input::Signup>, JsonRejection>,
) -> Result<Response, ApiError> {
    let b = body(parsed)?;
    let user = NewUser {
        username: input::new_username(&b.username)?,
        email: input::email(&b.email)?,
        locale: input::locale(b.locale.as_deref())?,
        name: input::name(b.name.as_deref())?,
        password: &crate::password::generate(),
    };
    let username = user.username.to_string();
    let confirmed = state.idp.sign_up(user).await.map_err(|e| ApiError::from_idp(&e))?;
    tracing::info!(confirmed, "signed up");
    Ok((StatusCode::CREATED, Json(json!({ "username": username, "confirmed": confirmed })).into_response())
        .into_response())
}

/// Tries left in this sign-in: the session's own limit (`MAX_ATTEMPTS`) or the code's limit
/// across all sessions, whichever is nearer.
fn attempts_left(state: &AppState, parameters: &HashMap<String, String>) -> u32 {
    let attempt: u32 = parameters.get("attempt").and_then(|a| a.parse().ok()).unwrap_or(1);
    let session = (state.config.max_attempts + 1).saturating_sub(attempt);
    let code = parameters.get("codeAttemptsLeft").and_then(|a| a.parse().ok()).unwrap_or(u32::MAX);
    session.min(code)
}

/// Whether the round that made this challenge sent an email (`newEmail`), rather than reusing
/// the code already sent.
fn sent_email(challenge: &Challenge) -> bool {
    challenge.parameters.get("newEmail").is_some_and(|n| n == "true")
}

/// What every answer that carries a challenge says, in a success body or beside an error: where
/// the email went, when, until when the code works, when a new email may be asked for, and
/// whether this call sent one.
fn challenge_fields(state: &AppState, challenge: &Challenge) -> Map<String, Value> {
    let p = &challenge.parameters;
    let fallback = || {
        let at = chrono::Utc::now() + chrono::Duration::seconds(state.config.code_ttl_seconds);
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let Value::Object(fields) = json!({
        "session": challenge.session,
        "destination": p.get("email"),
        "code_length": p.get("codeLength").and_then(|l| l.parse::<u32>().ok()),
        "attempts_left": attempts_left(state, p),
        "expires_at": p.get("expiresAt").cloned().unwrap_or_else(fallback),
        "sent_at": p.get("sentAt"),
        "resend_at": p.get("resendAt"),
        "new_email": sent_email(challenge),
    }) else {
        unreachable!("an object literal")
    };
    fields
}

pub(crate) fn unexpected_tokens() -> ApiError {
    ApiError::new(StatusCode::BAD_GATEWAY, "upstream_error", "Unexpected answer from the identity provider.")
}

#[utoipa::path(post, path = "/login", request_body = input::Login,
    responses((status = 200, body = ChallengeAnswer),
        (status = 429, description = "too_many_emails (with `Retry-After`)", body = ErrorBody),
        (status = 403, description = "user_not_confirmed", body = ErrorBody), (status = 400, description = "invalid_request", body = ErrorBody), (status = 403, description = "forbidden_origin", body = ErrorBody), (status = 429, description = "too_many_requests", body = ErrorBody), (status = 502, description = "upstream_error", body = ErrorBody), (status = 503, description = "sign_in_unavailable", body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    parsed: Result<Json<input::Login>, JsonRejection>,
) -> Result<Response, ApiError> {
    let b = body(parsed)?;
    let username = input::username(&b.username)?;
    let step = state.idp.start_sign_in(username).await.map_err(|e| ApiError::from_sign_in(&e))?;
    // define never issues tokens on an empty session; anything else is a broken pool.
    let Step::Challenge(challenge) = step else { return Err(unexpected_tokens()) };
    remember(&state, username, &challenge).await;
    tracing::info!("sign-in started");
    Ok(Json(challenge_fields(&state, &challenge)).into_response())
}

/// "Email me a new code": allowed once the last email is a minute old and within the hourly
/// budget; otherwise refused with the wait, and the emailed code keeps working.
#[utoipa::path(post, path = "/resend", request_body = input::Resend,
    responses((status = 200, body = ChallengeAnswer),
        (status = 429, description = "resend_too_soon or too_many_emails", body = ErrorBody),
        (status = 401, description = "sign_in_failed or session_expired", body = ErrorBody), (status = 400, description = "invalid_request", body = ErrorBody), (status = 403, description = "forbidden_origin", body = ErrorBody), (status = 429, description = "too_many_requests", body = ErrorBody), (status = 502, description = "upstream_error", body = ErrorBody), (status = 503, description = "sign_in_unavailable", body = ErrorBody)))]
pub async fn resend(
    State(state): State<AppState>,
    parsed: Result<Json<input::Resend>, JsonRejection>,
) -> Result<Response, ApiError> {
    let b = body(parsed)?;
    let username = input::username(&b.username)?;
    let step = state.idp.resend(username, input::session(&b.session)?).await.map_err(|e| ApiError::from_sign_in(&e))?;
    let Step::Challenge(challenge) = step else { return Err(unexpected_tokens()) };
    remember(&state, username, &challenge).await;
    let p = &challenge.parameters;
    let retry_after = p.get("retryAfter").and_then(|r| r.parse::<i64>().ok()).unwrap_or(60);
    let with_challenge = |e: ApiError| e.with_fields(challenge_fields(&state, &challenge));
    tracing::info!(outcome = p.get("resend").map(String::as_str).unwrap_or("none"), "resend asked for");
    match p.get("resend").map(String::as_str) {
        Some("sent") => Ok(Json(challenge_fields(&state, &challenge)).into_response()),
        Some("too_soon") => Err(with_challenge(
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "resend_too_soon",
                format!("The last email went out moments ago. You can ask for a new one in {retry_after} seconds."),
            )
            .with("retry_after", retry_after),
        )),
        Some("over_budget") => Err(with_challenge(ApiError::too_many_emails(retry_after))),
        _ => Err(unexpected_tokens()),
    }
}

fn token_body(tokens: &Tokens, refresh: Option<&str>) -> Value {
    json!({ "id_token": tokens.id_token, "access_token": tokens.access_token, "refresh_token": refresh, "expires_in": tokens.expires_in })
}

#[utoipa::path(post, path = "/verify-login", request_body = input::VerifyLogin,
    responses((status = 200, body = SignedIn),
        (status = 401, description = "wrong_code, sign_in_failed or session_expired", body = ErrorBody),
        (status = 410, description = "link_expired", body = ErrorBody),
        (status = 429, description = "too_many_emails", body = ErrorBody), (status = 400, description = "invalid_request", body = ErrorBody), (status = 403, description = "forbidden_origin", body = ErrorBody), (status = 429, description = "too_many_requests", body = ErrorBody), (status = 502, description = "upstream_error", body = ErrorBody), (status = 503, description = "sign_in_unavailable", body = ErrorBody)))]
pub async fn verify_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    parsed: Result<Json<input::VerifyLogin>, JsonRejection>,
) -> Result<Response, ApiError> {
    let b = body(parsed)?;
    let username = input::username(&b.username)?;
    let code = input::code(&b.code)?;
    let (session, from_link) = match b.session.as_deref() {
        Some(session) => (input::session(session)?.to_string(), false),
        None => {
            // A link opened in a browser that did not ask for it: start a sign-in here. It
            // reuses the emailed code and sends nothing, unless that code is dead, in which case
            // the trigger has just emailed a new one and this link cannot work.
            let step = state.idp.start_sign_in(username).await.map_err(|e| ApiError::from_sign_in(&e))?;
            let Step::Challenge(challenge) = step else { return Err(unexpected_tokens()) };
            remember(&state, username, &challenge).await;
            if sent_email(&challenge) {
                tracing::info!("link for a dead code: a new email went out");
                return Err(link_expired(&state, &challenge));
            }
            (challenge.session, true)
        }
    };
    let step = state.idp.answer(username, &session, code).await.map_err(|e| ApiError::from_sign_in(&e))?;
    if let Step::Challenge(challenge) = &step {
        remember(&state, username, challenge).await;
    }
    match step {
        Step::Challenge(challenge) if from_link => {
            tracing::info!("link for an older code");
            Err(link_expired(&state, &challenge))
        }
        Step::Challenge(challenge) => {
            let left = attempts_left(&state, &challenge.parameters);
            tracing::info!(attempts_left = left, "wrong code");
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "wrong_code",
                "That code is not right. Check the email and try again.",
            )
            .with_fields(challenge_fields(&state, &challenge)))
        }
        Step::Tokens(tokens) => {
            tracing::info!(from_link, "signed in");
            record_sign_in(&state, &tokens).await;
            Ok(signed_in(&state, &headers, jar, username, &tokens, b.return_tokens))
        }
    }
}

/// Notes when the new token family's sign-in happened, for the passkey changes that need a recent
/// one (docs/passkeys.md). The tokens come straight from Cognito, so the claims are read without
/// a signature check; a token without `origin_jti` or `sub` records nothing.
pub(crate) async fn record_sign_in(state: &AppState, tokens: &Tokens) {
    let Some(passkeys) = &state.passkeys else { return };
    let claims = crate::keys::unverified_claims(&tokens.id_token);
    let claim = |name: &str| claims.as_ref().and_then(|c| c.get(name)).and_then(Value::as_str);
    if let (Some(family), Some(sub)) = (claim("origin_jti"), claim("sub")) {
        passkeys.record_sign_in(family, sub, chrono::Utc::now().timestamp()).await;
    }
}

/// The answer of a finished sign-in (emailed code or passkey): the token cookies, and the tokens
/// in the body when asked for.
pub(crate) fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    jar: CookieJar,
    username: &str,
    tokens: &Tokens,
    return_tokens: bool,
) -> Response {
    let s = settings(state, headers);
    let refresh = tokens.refresh_token.clone().unwrap_or_default();
    let jar = jar
        .add(s.cookie(ID_TOKEN, tokens.id_token.clone(), cookies::seconds_left(&tokens.id_token)))
        .add(s.cookie(ACCESS_TOKEN, tokens.access_token.clone(), cookies::seconds_left(&tokens.access_token)))
        .add(s.cookie(REFRESH_TOKEN, refresh.clone(), state.config.refresh_token_days * 86_400));
    let mut answer = json!({ "signed_in": true, "username": username, "expires_in": tokens.expires_in });
    if return_tokens {
        answer["tokens"] = token_body(tokens, Some(&refresh));
    }
    (jar, Json(answer)).into_response()
}

/// Keeps, with the challenge's session, which email it waits for (for `GET /login/status`). A
/// failure costs only the status, never the sign-in.
async fn remember(state: &AppState, username: &str, challenge: &Challenge) {
    let now = chrono::Utc::now().timestamp();
    let time = |name: &str| {
        let value = challenge.parameters.get(name)?;
        chrono::DateTime::parse_from_rfc3339(value).ok().map(|t| t.timestamp())
    };
    let Some(sent_at) = time("sentAt").map(|t| t.min(now)) else { return };
    let until = time("expiresAt").unwrap_or(now + state.config.code_ttl_seconds).max(now + 60);
    if let Err(e) = state.deliveries.remember(&challenge.session, username, sent_at, until).await {
        tracing::error!(error = %e, "the sign-in's email was not recorded; its status will not be shown");
    }
}

/// The header `GET /login/status` reads the sign-in's session from (never a URL: a session must
/// not reach access logs).
pub const SESSION_HEADER: &str = "x-sign-in-session";

/// The delivery status of the email this sign-in waits for, authorised by its session alone.
#[utoipa::path(get, path = "/login/status",
    params(("X-Sign-In-Session" = String, Header, description = "the `session` of the sign-in, as the last answer gave it")),
    responses((status = 200, body = crate::openapi::LoginStatus),
        (status = 401, description = "session_expired: no sign-in with this session is waiting for an email", body = ErrorBody),
        (status = 502, description = "upstream_error", body = ErrorBody)))]
pub async fn login_status(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let expired = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "session_expired",
            "This sign-in is over. Ask for a new email to sign in.",
        )
    };
    let session = headers.get(SESSION_HEADER).and_then(|h| h.to_str().ok()).filter(|s| !s.is_empty());
    let session = session.ok_or_else(expired)?;
    let now = chrono::Utc::now().timestamp();
    let status = state.deliveries.status(session, now).await.map_err(|e| {
        tracing::error!(error = %e, "delivery status not readable");
        ApiError::new(StatusCode::BAD_GATEWAY, "upstream_error", "The email's status cannot be read right now.")
    })?;
    let status = status.ok_or_else(expired)?;
    let at = chrono::DateTime::from_timestamp(status.at, 0).unwrap_or_default();
    let mut answer = json!({
        "status": status.status.as_str(),
        "at": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "final": status.status.is_final(),
    });
    if let Some(reason) = status.reason {
        answer["reason"] = json!(reason);
    }
    let mut response = Json(answer).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(response)
}

/// A link that can no longer sign anyone in (used, expired, or replaced by a newer email). The
/// answer carries the sign-in this call started, so the page can offer the code field.
fn link_expired(state: &AppState, challenge: &Challenge) -> ApiError {
    let message = if sent_email(challenge) {
        "This link has expired or was already used. We have emailed you a new one."
    } else {
        "This link is from an older email. Use the link or code in the newest email."
    };
    ApiError::new(StatusCode::GONE, "link_expired", message).with_fields(challenge_fields(state, challenge))
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION).and_then(|h| h.to_str().ok())?;
    value.strip_prefix("Bearer ").map(str::to_string).filter(|t| !t.is_empty())
}

/// The ID token from `Authorization: Bearer` (native apps), or else from the cookie.
fn id_token(headers: &HeaderMap, jar: &CookieJar) -> Option<String> {
    bearer_token(headers).or_else(|| jar.get(ID_TOKEN).map(|c| c.value().to_string())).filter(|t| !t.is_empty())
}

fn keys_unavailable() -> ApiError {
    tracing::error!("JWKS unavailable");
    ApiError::new(StatusCode::BAD_GATEWAY, "upstream_error", "The signing keys could not be fetched; try again.")
}

/// Records the family of a valid ID token as signed out. An invalid token has nothing to sign
/// out; a token that could not be checked, or a record that could not be written, is an error
/// (the cookies still go).
async fn record_sign_out(state: &AppState, token: &str) -> Result<(), ApiError> {
    let claims = match state.keys.verify_id_token(token).await {
        Ok(claims) => claims,
        Err(TokenError::Invalid) => return Ok(()),
        Err(TokenError::KeysUnavailable(_)) => return Err(keys_unavailable()),
    };
    let Some(family) = claims.get("origin_jti").and_then(Value::as_str) else { return Ok(()) };
    state.sign_outs.sign_out(family, chrono::Utc::now().timestamp()).await.map_err(|e| {
        tracing::error!(error = %e, "sign-out not recorded");
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            "Signed out here, but the sign-out could not be recorded everywhere; try again.",
        )
    })
}

/// The claims of the request's ID token, if it is valid and its family was not signed out. A
/// token without `origin_jti` could never be signed out, so it is refused too.
pub(crate) async fn signed_in_claims(
    state: &AppState,
    headers: &HeaderMap,
    jar: &CookieJar,
) -> Result<Map<String, Value>, ApiError> {
    let token = id_token(headers, jar).ok_or_else(ApiError::not_signed_in)?;
    let claims = match state.keys.verify_id_token(&token).await {
        Ok(claims) => claims,
        Err(TokenError::Invalid) => return Err(ApiError::not_signed_in()),
        Err(TokenError::KeysUnavailable(_)) => return Err(keys_unavailable()),
    };
    let family = claims.get("origin_jti").and_then(Value::as_str).ok_or_else(ApiError::not_signed_in)?;
    match state.sign_outs.is_signed_out(family, chrono::Utc::now().timestamp()).await {
        Ok(false) => Ok(claims),
        Ok(true) => Err(ApiError::not_signed_in()),
        Err(e) => {
            tracing::error!(error = %e, "sign-outs unavailable");
            Err(ApiError::new(StatusCode::BAD_GATEWAY, "upstream_error", "Sign-in state unavailable; try again."))
        }
    }
}

#[utoipa::path(get, path = "/me",
    responses((status = 200, body = Me), (status = 401, description = "not_signed_in", body = ErrorBody),
        (status = 502, description = "upstream_error", body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, headers: HeaderMap, jar: CookieJar) -> Result<Response, ApiError> {
    let claims = signed_in_claims(&state, &headers, &jar).await?;
    Ok(Json(json!({ "claims": claims })).into_response())
}

#[utoipa::path(post, path = "/refresh", request_body(content = input::Refresh, description = "optional: the cookie is enough"),
    responses((status = 200, body = SignedIn), (status = 401, description = "not_signed_in", body = ErrorBody), (status = 400, description = "invalid_request", body = ErrorBody), (status = 403, description = "forbidden_origin", body = ErrorBody), (status = 429, description = "too_many_requests", body = ErrorBody), (status = 502, description = "upstream_error", body = ErrorBody), (status = 503, description = "sign_in_unavailable", body = ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    parsed: Result<Option<Json<input::Refresh>>, JsonRejection>,
) -> Result<Response, ApiError> {
    let b = optional_body(parsed)?;
    let token =
        b.refresh_token.or_else(|| jar.get(REFRESH_TOKEN).map(|c| c.value().to_string())).filter(|t| !t.is_empty());
    let token = token.ok_or_else(ApiError::not_signed_in)?;
    let tokens = state.idp.refresh(&token).await.map_err(|e| ApiError::from_idp(&e))?;
    let s = settings(&state, &headers);
    let mut jar = jar
        .add(s.cookie(ID_TOKEN, tokens.id_token.clone(), cookies::seconds_left(&tokens.id_token)))
        .add(s.cookie(ACCESS_TOKEN, tokens.access_token.clone(), cookies::seconds_left(&tokens.access_token)));
    // With rotation the old refresh token dies after the client's grace period: the new one
    // replaces it in the cookie (and in the answer, for a native client).
    if let Some(rotated) = &tokens.refresh_token {
        jar = jar.add(s.cookie(REFRESH_TOKEN, rotated.clone(), state.config.refresh_token_days * 86_400));
    }
    let mut answer = json!({ "signed_in": true, "expires_in": tokens.expires_in });
    if b.return_tokens {
        answer["tokens"] = token_body(&tokens, tokens.refresh_token.as_deref());
    }
    tracing::info!("tokens refreshed");
    Ok((jar, Json(answer)).into_response())
}

/// Revokes the refresh token (and with it every token issued from it), records the ID token's
/// family as signed out (so `/me` refuses it, as cookie or bearer) and clears the cookies. The
/// cookies go even when the revocation fails, and the answer says so.
#[utoipa::path(post, path = "/logout", request_body(content = input::Refresh, description = "optional: the cookie is enough"),
    responses((status = 204, description = "signed out; the cookies are cleared"),
        (status = 403, description = "forbidden_origin", body = ErrorBody),
        (status = 502, description = "upstream_error: the cookies are cleared anyway", body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    parsed: Result<Option<Json<input::Refresh>>, JsonRejection>,
) -> Response {
    let b = match optional_body(parsed) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let token =
        b.refresh_token.or_else(|| jar.get(REFRESH_TOKEN).map(|c| c.value().to_string())).filter(|t| !t.is_empty());
    let mut revoked = match token {
        Some(token) => state.idp.revoke(&token).await.map_err(|e| ApiError::from_idp(&e)),
        None => Ok(()),
    };
    // Every ID token the request carries (a stale bearer must not hide the cookie's), so `/me`
    // refuses them from now on.
    let bearer = bearer_token(&headers);
    let cookie = jar.get(ID_TOKEN).map(|c| c.value().to_string()).filter(|t| !t.is_empty());
    for token in bearer.iter().chain(cookie.iter()) {
        if let Err(e) = record_sign_out(&state, token).await {
            revoked = revoked.and(Err(e));
        }
    }
    let jar = settings(&state, &headers).clear(jar);
    tracing::info!(revoked = revoked.is_ok(), "signed out");
    match revoked {
        Ok(()) => (jar, StatusCode::NO_CONTENT).into_response(),
        Err(e) => (jar, e).into_response(),
    }
}

/// The API's description (OpenAPI 3.1), generated from these handlers.
#[utoipa::path(get, path = "/openapi.json", responses((status = 200, description = "this description", content_type = "application/json")))]
pub async fn openapi_json() -> Response {
    Json(crate::openapi::document()).into_response()
}

/// CSRF defence for a cookie-authenticated API: a request that changes something (POST, PATCH,
/// DELETE, anything but GET, HEAD and OPTIONS) and carries an `Origin` must come from
/// the API's own origin (`API_ORIGIN`) or an allowed one, exactly (scheme, host and port), and one
/// that carries our cookies must carry an `Origin` (every current browser sends one on them).
pub async fn check_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if [Method::GET, Method::HEAD, Method::OPTIONS].contains(request.method()) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    let has_cookie =
        CookieJar::from_headers(headers).iter().any(|c| [ID_TOKEN, ACCESS_TOKEN, REFRESH_TOKEN].contains(&c.name()));
    // Compared as configured, never with the request's `Host`: a DNS-rebinding page sends an
    // `Origin` equal to its own `Host`.
    let allowed = match origin {
        None => !has_cookie,
        Some(origin) => {
            let origin = origin.trim_end_matches('/');
            state.config.own_origin.as_deref() == Some(origin)
                || state.config.allowed_origins.iter().any(|a| a == origin)
        }
    };
    if allowed { next.run(request).await } else { ApiError::forbidden_origin().into_response() }
}
