//! Cognito's own error types and messages, as they travel on the wire: HTTP 400, the type in the
//! body's `__type` (all boto3 reads) and in `x-amzn-errortype` (what the Rust SDK reads first).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct CognitoError {
    pub kind: &'static str,
    pub message: String,
}

/// The message Cognito gives for every failed sign-in, wrong answer or unknown user alike.
pub const SIGN_IN_FAILED: &str = "Incorrect username or password.";

impl CognitoError {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        CognitoError { kind, message: message.into() }
    }

    pub fn not_authorized(message: impl Into<String>) -> Self {
        Self::new("NotAuthorizedException", message)
    }

    pub fn sign_in_failed() -> Self {
        Self::not_authorized(SIGN_IN_FAILED)
    }

    pub fn invalid_session() -> Self {
        Self::not_authorized("Invalid session for the user.")
    }

    pub fn session_expired() -> Self {
        Self::not_authorized("Invalid session for the user, session is expired.")
    }

    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new("InvalidParameterException", message)
    }

    pub fn missing_parameter(name: &str) -> Self {
        Self::invalid_parameter(format!("Missing required parameter {name}"))
    }

    pub fn user_not_found() -> Self {
        Self::new("UserNotFoundException", "User does not exist.")
    }

    pub fn username_exists() -> Self {
        Self::new("UsernameExistsException", "User already exists")
    }

    pub fn resource_not_found(message: impl Into<String>) -> Self {
        Self::new("ResourceNotFoundException", message)
    }

    /// A trigger returned an error: `<Trigger> failed with error <message>.`
    pub fn trigger_failed(trigger: &str, message: &str) -> Self {
        Self::new("UserLambdaValidationException", format!("{trigger} failed with error {message}."))
    }

    /// A trigger could not be run at all (timed out, crashed, returned something unreadable).
    pub fn trigger_unavailable(trigger: &str, reason: &str) -> Self {
        Self::new("UnexpectedLambdaException", format!("{trigger} invocation failed due to error {reason}."))
    }
}

impl IntoResponse for CognitoError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "__type": self.kind, "message": self.message }).to_string();
        let mut response = (StatusCode::BAD_REQUEST, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(crate::wire::CONTENT_TYPE));
        headers.insert("x-amzn-errortype", HeaderValue::from_static(self.kind));
        response
    }
}
