//! The real Cognito Identity Provider SDK client, pointed at a local endpoint.

/// A client for `endpoint` (local-cognito) with test credentials; `noAuth` operations send none
/// anyway, `Admin*` ones are signed and the endpoint accepts any signature.
pub async fn client(endpoint: &str) -> aws_sdk_cognitoidentityprovider::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_cognitoidentityprovider::config::Credentials::new(
            "test", "test", None, None, "testkit",
        ))
        .endpoint_url(endpoint)
        .load()
        .await;
    aws_sdk_cognitoidentityprovider::Client::new(&config)
}
