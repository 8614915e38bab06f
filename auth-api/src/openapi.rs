//! The API's contract as data: an OpenAPI 3.1 description generated from the handlers
//! ([`crate::routes`], each with its `#[utoipa::path]`) and the types below, served at
//! `/openapi.json` (`/api/openapi.json` on the local stack). The answer bodies are built as JSON in
//! the handlers; these types describe them, and `auth-api/tests/openapi.rs` holds the two together
//! (every route described, every documented error code produced by a test).

use crate::input;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

/// Every route the router serves, as (method, path): the description must list exactly these.
pub const ROUTES: [(&str, &str); 16] = [
    ("post", "/signup"),
    ("get", "/passkeys"),
    ("post", "/passkeys/register/options"),
    ("post", "/passkeys/register"),
    ("patch", "/passkeys/{id}"),
    ("delete", "/passkeys/{id}"),
    ("post", "/passkey/sign-in/options"),
    ("post", "/passkey/sign-in"),
    ("post", "/login"),
    ("get", "/login/status"),
    ("post", "/resend"),
    ("post", "/verify-login"),
    ("get", "/me"),
    ("post", "/refresh"),
    ("post", "/logout"),
    ("get", "/openapi.json"),
];

/// Every `error` code an answer can carry (the README's table of them).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A field is missing or invalid; `field` names it.
    InvalidRequest,
    /// The username is taken.
    UsernameTaken,
    /// A wrong code with tries left (`session`, `attempts_left`).
    WrongCode,
    /// A link whose code is used, expired or replaced by a newer email.
    LinkExpired,
    /// The user's or the mailbox's email budget, or the guess backoff: `retry_after` seconds.
    TooManyEmails,
    /// A new email asked for too soon after the last: `retry_after` seconds.
    ResendTooSoon,
    /// The last try was wrong, or the session is used or unknown.
    SignInFailed,
    /// The session (and the emailed code) expired.
    SessionExpired,
    /// No valid, not signed-out token.
    NotSignedIn,
    /// A cookie-authenticated POST without an allowed `Origin`.
    ForbiddenOrigin,
    /// The user is not confirmed.
    UserNotConfirmed,
    /// Throttled.
    TooManyRequests,
    /// A trigger failed.
    SignInUnavailable,
    /// The pool or client does not exist.
    Misconfigured,
    /// Cognito, the signing keys or the sign-out store could not be reached.
    UpstreamError,
    /// The service runs without passkeys (`PASSKEY_RP_ID` unset).
    PasskeysDisabled,
    /// A passkey ceremony that is unknown, used or older than five minutes.
    CeremonyExpired,
    /// The passkey did not verify, or is unknown, removed or another account's (one answer for all).
    PasskeyRejected,
    /// No passkey with this id on the signed-in account.
    PasskeyNotFound,
    /// The account already holds the most passkeys allowed.
    TooManyPasskeys,
    /// The credential is registered already.
    PasskeyAlreadyRegistered,
    /// Another sign-in to the account got in the way of a verified passkey's.
    PasskeySignInInterrupted,
    /// Adding a passkey needs a sign-in (not a refresh) within the last 5 minutes.
    RecentSignInRequired,
}

/// The codes of [`ErrorCode`], as they travel.
pub const ERROR_CODES: [&str; 23] = [
    "recent_sign_in_required",
    "passkeys_disabled",
    "ceremony_expired",
    "passkey_rejected",
    "passkey_not_found",
    "too_many_passkeys",
    "passkey_already_registered",
    "passkey_sign_in_interrupted",
    "invalid_request",
    "username_taken",
    "wrong_code",
    "link_expired",
    "too_many_emails",
    "resend_too_soon",
    "sign_in_failed",
    "session_expired",
    "not_signed_in",
    "forbidden_origin",
    "user_not_confirmed",
    "too_many_requests",
    "sign_in_unavailable",
    "misconfigured",
    "upstream_error",
];

/// Every error answer: a stable code, a message for people, and the fields some errors carry.
#[derive(ToSchema)]
pub struct ErrorBody {
    pub error: ErrorCode,
    pub message: String,
    /// The invalid field (`invalid_request`).
    pub field: Option<String>,
    /// Seconds to wait (`too_many_emails`, `resend_too_soon`; also the `Retry-After` header).
    pub retry_after: Option<i64>,
    /// The sign-in to go on with (`wrong_code`, `link_expired`, `resend_too_soon`).
    pub session: Option<String>,
    pub attempts_left: Option<u32>,
}

#[derive(ToSchema)]
pub struct SignedUp {
    pub username: String,
    pub confirmed: bool,
}

/// A sign-in waiting for the emailed code.
#[derive(ToSchema)]
pub struct ChallengeAnswer {
    /// Opaque; send it back with the code.
    pub session: String,
    /// The masked address the email went to, only when the operator set `EMAIL_HINT=masked`.
    pub destination: Option<String>,
    pub code_length: u32,
    /// The nearer of the session's and the code's limits.
    pub attempts_left: u32,
    /// RFC 3339: until when the emailed code works.
    pub expires_at: String,
    pub sent_at: Option<String>,
    /// RFC 3339: when a new email may be asked for.
    pub resend_at: Option<String>,
    /// False when the code already emailed is still good (no second email).
    pub new_email: bool,
}

#[derive(ToSchema)]
pub struct TokenSet {
    pub id_token: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: i64,
}

/// Signed in: the token cookies are set; the tokens are in the body only on request.
#[derive(ToSchema)]
pub struct SignedIn {
    pub signed_in: bool,
    pub username: Option<String>,
    pub expires_in: i64,
    pub tokens: Option<TokenSet>,
}

/// Where the email a sign-in waits for is: `queued` (not yet accepted by SES), `sent` (accepted),
/// `delayed` (the receiving server has not taken it yet), `delivered` (it has), `bounced` (it will
/// not arrive: check the address), `complained` (marked as spam: no more email goes there).
#[derive(ToSchema)]
pub struct LoginStatus {
    #[schema(example = "delivered")]
    pub status: DeliveryStatusName,
    /// When it got this status (RFC 3339).
    pub at: String,
    /// Nothing later changes it: stop polling.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// For `bounced`: `permanent_bounce`, `suppressed` (an earlier bounce or complaint), `rejected`.
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatusName {
    Queued,
    Sent,
    Delayed,
    Delivered,
    Bounced,
    Complained,
}

#[derive(ToSchema)]
pub struct Me {
    /// The verified ID token's claims.
    #[schema(value_type = Object)]
    pub claims: serde_json::Map<String, serde_json::Value>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Passwordless sign-in API",
        description = "Sign-up, emailed-code and passkey sign-in over Amazon Cognito's CUSTOM_AUTH (README, 'The auth API')."
    ),
    paths(
        crate::routes::signup,
        crate::routes::login,
        crate::routes::resend,
        crate::routes::verify_login,
        crate::routes::me,
        crate::routes::refresh,
        crate::routes::login_status,
        crate::routes::logout,
        crate::routes::openapi_json,
        crate::passkeys::routes::register_options,
        crate::passkeys::routes::register,
        crate::passkeys::routes::list,
        crate::passkeys::routes::rename,
        crate::passkeys::routes::remove,
        crate::passkeys::routes::sign_in_options,
        crate::passkeys::routes::sign_in,
    ),
    components(schemas(
        crate::passkeys::PasskeyInfo,
        crate::passkeys::routes::Register,
        crate::passkeys::routes::Rename,
        crate::passkeys::routes::SignIn,
        LoginStatus,
        DeliveryStatusName,
        ErrorBody,
        ErrorCode,
        SignedUp,
        ChallengeAnswer,
        SignedIn,
        TokenSet,
        Me,
        input::Signup,
        input::Login,
        input::Resend,
        input::VerifyLogin,
        input::Refresh
    ))
)]
pub struct ApiDoc;

/// The description as served.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
