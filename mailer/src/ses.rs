//! The SES v2 adapter: `SendEmail` with Simple content (HTML and text bodies), and the mapping of
//! its errors to retry or dead-letter.

use crate::send::{EmailSender, OutgoingEmail, SendError};
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::operation::RequestId;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageTag};

#[derive(Debug, Clone)]
pub struct SesSender {
    client: aws_sdk_sesv2::Client,
}

impl SesSender {
    pub fn new(client: aws_sdk_sesv2::Client) -> Self {
        SesSender { client }
    }
}

fn utf8(data: &str) -> Result<Content, SendError> {
    Content::builder().data(data).charset("UTF-8").build().map_err(|e| SendError::permanent(e.to_string()))
}

impl EmailSender for SesSender {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        let message = Message::builder()
            .subject(utf8(&email.subject)?)
            .body(Body::builder().html(utf8(&email.html)?).text(utf8(&email.text)?).build())
            .build();
        let tags = email
            .tags
            .iter()
            .map(|(k, v)| {
                MessageTag::builder().name(k).value(v).build().map_err(|e| SendError::permanent(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let output = self
            .client
            .send_email()
            .from_email_address(&email.from)
            .destination(Destination::builder().to_addresses(email.to.to_header()).build())
            .content(EmailContent::builder().simple(message).build())
            .set_configuration_set_name(email.configuration_set.clone())
            .set_email_tags(Some(tags))
            .send()
            .await
            .map_err(classify)?;
        Ok(output.message_id.unwrap_or_default())
    }
}

/// Throttling, quotas, paused sending, 5xx, timeouts and network failures are worth retrying;
/// a rejected message, a bad request, an unverified identity or a missing configuration set is not.
///
/// The description keeps SES's error code, the HTTP status and the request id, never SES's own
/// message: a sandbox rejection quotes the recipient's address, and this text is logged.
pub fn classify(error: SdkError<SendEmailError>) -> SendError {
    let (transient, description) = match &error {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let status = service.raw().status();
            let transient = e.is_too_many_requests_exception()
                || e.is_limit_exceeded_exception()
                || e.is_sending_paused_exception()
                || status.is_server_error();
            let description = format!(
                "SES {} (HTTP {}, request id {})",
                e.code().unwrap_or("unknown error"),
                status.as_u16(),
                error.request_id().unwrap_or("-")
            );
            (transient, description)
        }
        SdkError::TimeoutError(_) => (true, "SES timeout".to_string()),
        SdkError::DispatchFailure(_) => (true, "SES unreachable (dispatch failure)".to_string()),
        SdkError::ResponseError(_) => (true, "SES response unreadable".to_string()),
        _ => (false, "SES request could not be built".to_string()),
    };
    if transient { SendError::transient(description) } else { SendError::permanent(description) }
}

/// A hung connection becomes a transient failure well inside the mailer's 30-second timeout
/// instead of a timed-out batch.
pub const TIMEOUTS: lambda_support::SdkTimeouts = lambda_support::SdkTimeouts {
    connect: std::time::Duration::from_secs(2),
    attempt: std::time::Duration::from_secs(5),
    operation: std::time::Duration::from_secs(12),
};
