//! The API's one error type: a status, a stable machine-readable `error` code and a message for
//! people, as JSON `{error, message}` (plus fields some errors carry). The mapping of Cognito's
//! errors is deliberate and documented in the README's auth API section.

use crate::idp::IdpError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub extra: Map<String, Value>,
}

pub const ASK_FOR_A_NEW_EMAIL: &str = "This sign-in can no longer be completed. Ask for a new email and try again.";

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), extra: Map::new() }
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    /// Adds every field of `fields` (a challenge's state: session, attempts left, times).
    pub fn with_fields(mut self, fields: Map<String, Value>) -> Self {
        self.extra.extend(fields);
        self
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message).with("field", field)
    }

    pub fn not_signed_in() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "not_signed_in", "You are not signed in.")
    }

    pub fn forbidden_origin() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden_origin", "This request did not come from an allowed origin.")
    }

    /// Over the per-user email budget: `retry_after` seconds until one more email is allowed.
    pub fn too_many_emails(retry_after: i64) -> Self {
        let minutes = (retry_after + 59) / 60;
        let message = match minutes {
            1 => "Too many emails; try again in 1 minute.".to_string(),
            m => format!("Too many emails; try again in {m} minutes."),
        };
        Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_emails", message).with("retry_after", retry_after)
    }

    /// The mapping of an identity-provider error for a sign-in step. Unknown users and wrong
    /// answers look alike here because Cognito already makes them alike.
    pub fn from_sign_in(e: &IdpError) -> Self {
        if let Some(retry_after) = refusal(e) {
            return Self::too_many_emails(retry_after);
        }
        match e.code.as_deref() {
            Some("NotAuthorizedException") if e.message.contains("session is expired") => {
                Self::new(StatusCode::UNAUTHORIZED, "session_expired", ASK_FOR_A_NEW_EMAIL)
            }
            Some(
                "NotAuthorizedException" | "UserNotFoundException" | "CodeMismatchException" | "ExpiredCodeException",
            ) => Self::new(StatusCode::UNAUTHORIZED, "sign_in_failed", ASK_FOR_A_NEW_EMAIL),
            _ => Self::from_idp(e),
        }
    }

    /// The mapping for every other call.
    pub fn from_idp(e: &IdpError) -> Self {
        let (status, code, message) = match e.code.as_deref() {
            Some("UsernameExistsException" | "AliasExistsException") => {
                (StatusCode::CONFLICT, "username_taken", "This username is taken.")
            }
            Some("InvalidParameterException" | "InvalidPasswordException") => {
                (StatusCode::BAD_REQUEST, "invalid_request", "The identity provider refused this request.")
            }
            Some("UserNotConfirmedException") => {
                (StatusCode::FORBIDDEN, "user_not_confirmed", "This account is not confirmed yet.")
            }
            Some("NotAuthorizedException" | "UserNotFoundException") => {
                (StatusCode::UNAUTHORIZED, "not_signed_in", "You are not signed in.")
            }
            Some(
                "TooManyRequestsException"
                | "LimitExceededException"
                | "TooManyFailedAttemptsException"
                | "ThrottlingException",
            ) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests", "Too many requests; try again in a minute."),
            Some("UserLambdaValidationException" | "UnexpectedLambdaException" | "InvalidLambdaResponseException") => (
                StatusCode::SERVICE_UNAVAILABLE,
                "sign_in_unavailable",
                "Signing in is not possible right now; try again later.",
            ),
            Some("ResourceNotFoundException" | "InvalidUserPoolConfigurationException") => {
                (StatusCode::INTERNAL_SERVER_ERROR, "misconfigured", "The sign-in service is misconfigured.")
            }
            _ => (StatusCode::BAD_GATEWAY, "upstream_error", "The identity provider could not be reached; try again."),
        };
        Self::new(status, code, message)
    }
}

/// The create trigger's refusal inside Cognito's `UserLambdaValidationException` message
/// ("CreateAuthChallenge failed with error TooManyEmails retryAfter=720."; the text is the
/// contract `triggers::create::REFUSAL`).
fn refusal(e: &IdpError) -> Option<i64> {
    if e.code.as_deref() != Some("UserLambdaValidationException") {
        return None;
    }
    let rest = e.message.split_once("TooManyEmails retryAfter=")?.1;
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Only the stable code reaches the log: messages may echo what the caller sent.
        tracing::info!(status = self.status.as_u16(), error = self.code, "request refused");
        let retry_after = self.extra.get("retry_after").and_then(Value::as_i64);
        let mut body = json!({ "error": self.code, "message": self.message });
        body.as_object_mut().expect("an object").extend(self.extra);
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idp(code: Option<&str>, message: &str) -> IdpError {
        IdpError { code: code.map(str::to_string), message: message.into() }
    }

    #[test]
    fn the_mapping_table() {
        let table: [(Option<&str>, &str, u16, &str); 9] = [
            (Some("UsernameExistsException"), "", 409, "username_taken"),
            (Some("InvalidPasswordException"), "", 400, "invalid_request"),
            (Some("TooManyRequestsException"), "", 429, "too_many_requests"),
            (Some("LimitExceededException"), "", 429, "too_many_requests"),
            (Some("UserLambdaValidationException"), "CreateAuthChallenge failed", 503, "sign_in_unavailable"),
            (Some("ResourceNotFoundException"), "", 500, "misconfigured"),
            (Some("UserNotConfirmedException"), "", 403, "user_not_confirmed"),
            (Some("NotAuthorizedException"), "Refresh Token has been revoked", 401, "not_signed_in"),
            (None, "connection refused", 502, "upstream_error"),
        ];
        for (code, message, status, expected) in table {
            let e = ApiError::from_idp(&idp(code, message));
            assert_eq!((e.status.as_u16(), e.code), (status, expected), "{code:?}");
        }
    }

    #[test]
    fn sign_in_failures_tell_users_to_ask_for_a_new_email() {
        let expired = ApiError::from_sign_in(&idp(
            Some("NotAuthorizedException"),
            "Invalid session for the user, session is expired.",
        ));
        assert_eq!((expired.status.as_u16(), expired.code), (401, "session_expired"));
        let failed = ApiError::from_sign_in(&idp(Some("NotAuthorizedException"), "Incorrect username or password."));
        assert_eq!((failed.code, failed.message.as_str()), ("sign_in_failed", ASK_FOR_A_NEW_EMAIL));
        let throttled = ApiError::from_sign_in(&idp(Some("TooManyRequestsException"), ""));
        assert_eq!(throttled.status.as_u16(), 429);
    }

    #[test]
    fn the_create_triggers_refusal_becomes_too_many_emails() {
        let e = idp(
            Some("UserLambdaValidationException"),
            "CreateAuthChallenge failed with error TooManyEmails retryAfter=720.",
        );
        let refused = ApiError::from_sign_in(&e);
        assert_eq!((refused.status.as_u16(), refused.code), (429, "too_many_emails"));
        assert_eq!(refused.message, "Too many emails; try again in 12 minutes.");
        assert_eq!(refused.extra["retry_after"], 720);
        let response = refused.into_response();
        assert_eq!(response.headers()[axum::http::header::RETRY_AFTER], "720");
        let other = idp(Some("UserLambdaValidationException"), "CreateAuthChallenge failed with error boom.");
        assert_eq!(ApiError::from_sign_in(&other).code, "sign_in_unavailable");
    }
}
