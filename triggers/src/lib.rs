//! The Cognito CUSTOM_AUTH triggers of passwordless sign-in.
//!
//! Pure rules live in [`code`], [`define`], [`link`], [`auth_state`], [`resend`] and
//! [`pre_sign_up`]; [`create`] and [`verify`] hold the use cases, generic over the
//! [`mail_queue::MailQueue`] port (SQS adapter [`mail_queue::SqsMailQueue`]) and the
//! [`auth_state::store::AuthStateStore`] port (DynamoDB adapter [`auth_state::store::DynamoStore`]). The binaries in `src/bin/` only wire these together.

pub mod auth_state;
pub mod code;
pub mod create;
pub mod decoy;
pub mod define;
#[doc(hidden)]
pub mod fixtures;
pub mod identity;
pub mod link;
pub mod mail_queue;
pub mod passkey;
pub mod post_authentication;
pub mod pre_sign_up;
pub mod resend;
pub mod verify;

/// The optional variables that tune the sign-in rules (each has a default), read alike wherever
/// define, create and verify run: tools that host the triggers pass exactly these through.
pub const TUNING_VARIABLES: [&str; 10] = [
    "MAX_ATTEMPTS",
    "CODE_LENGTH",
    "CODE_TTL_SECONDS",
    "RESEND_AFTER_SECONDS",
    "MAX_EMAILS_PER_HOUR",
    "MAX_WRONG_ANSWERS_PER_CODE",
    "MAX_EMAILS_PER_ADDRESS_PER_HOUR",
    "GUESS_BACKOFF_BASE_SECONDS",
    "GUESS_BACKOFF_MAX_SECONDS",
    "EMAIL_HINT",
];

/// The only challenge name this flow issues and accepts.
pub const CUSTOM_CHALLENGE: &str = "CUSTOM_CHALLENGE";

/// Errors returned to Cognito fail the sign-in. Their text can reach the client (Cognito wraps it
/// in `UserLambdaValidationException`), so they never hold a code, a link or an address.
pub type TriggerError = lambda_runtime::Error;
