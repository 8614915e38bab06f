//! The Cognito Identity Provider JSON 1.1 framing: `POST /` with
//! `X-Amz-Target: AWSCognitoIdentityProviderService.<Operation>`, a JSON body in, a JSON body out.
//! Signatures are not checked: the SDKs sign `Admin*` calls and send the rest unsigned, and both
//! are accepted here.

use crate::error::CognitoError;
use crate::operations::dispatch;
use crate::pool::UserPool;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
pub const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";

pub async fn handle(State(pool): State<Arc<UserPool>>, headers: HeaderMap, body: Bytes) -> Response {
    match call(&pool, &headers, &body).await {
        Ok(output) => {
            let mut response = output.to_string().into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
            response
        }
        Err(error) => {
            // The type and Cognito's fixed message only: messages never carry request data.
            tracing::info!(error = error.kind, "cognito operation refused");
            error.into_response()
        }
    }
}

async fn call(pool: &UserPool, headers: &HeaderMap, body: &[u8]) -> Result<serde_json::Value, CognitoError> {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("");
    let operation = target.strip_prefix(TARGET_PREFIX).ok_or_else(|| {
        CognitoError::new(
            "UnknownOperationException",
            "X-Amz-Target must name an AWSCognitoIdentityProviderService operation",
        )
    })?;
    let input = if body.is_empty() {
        serde_json::json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|_| CognitoError::new("SerializationException", "The request body is not valid JSON"))?
    };
    tracing::info!(operation, "cognito operation");
    tracing::debug!(operation, body_bytes = body.len(), "cognito request");
    dispatch(pool, operation, input).await
}
