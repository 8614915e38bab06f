//! The operations a signed-in user calls with their access token on their own account.

use super::{AccessTokenInput, AttributeType, attributes, parse};
use crate::error::CognitoError;
use crate::pool::{CodeDelivery, UserPool};
use serde::Deserialize;
use serde_json::{Value, json};

pub(super) fn dispatch(pool: &UserPool, operation: &str, input: Value) -> Result<Value, CognitoError> {
    match operation {
        "UpdateUserAttributes" => {
            let input: UpdateInput = parse(input)?;
            let sent = pool.update_user_attributes(&input.access_token, attributes(input.user_attributes))?;
            Ok(json!({ "CodeDeliveryDetailsList": sent.iter().map(delivery).collect::<Vec<_>>() }))
        }
        "GetUserAttributeVerificationCode" => {
            let input: AttributeInput = parse(input)?;
            let sent = pool.get_user_attribute_verification_code(&input.access_token, &input.attribute_name)?;
            Ok(json!({ "CodeDeliveryDetails": delivery(&sent) }))
        }
        "VerifyUserAttribute" => {
            let input: VerifyInput = parse(input)?;
            pool.verify_user_attribute(&input.access_token, &input.attribute_name, &input.code).map(|_| json!({}))
        }
        "DeleteUserAttributes" => {
            let input: DeleteAttributesInput = parse(input)?;
            pool.delete_user_attributes(&input.access_token, &input.user_attribute_names).map(|_| json!({}))
        }
        "DeleteUser" => {
            let input: AccessTokenInput = parse(input)?;
            pool.delete_user(&input.access_token).map(|_| json!({}))
        }
        "ListDevices" => {
            // Device tracking is off in the project's pool: Cognito lists no devices then.
            let input: AccessTokenInput = parse(input)?;
            pool.user_for_access_token(&input.access_token)?;
            Ok(json!({ "Devices": [] }))
        }
        other => unreachable!("{other} is not an account operation"),
    }
}

fn delivery(sent: &CodeDelivery) -> Value {
    json!({ "Destination": sent.destination, "DeliveryMedium": "EMAIL", "AttributeName": sent.attribute })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateInput {
    access_token: String,
    user_attributes: Vec<AttributeType>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeInput {
    access_token: String,
    attribute_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VerifyInput {
    access_token: String,
    attribute_name: String,
    code: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteAttributesInput {
    access_token: String,
    user_attribute_names: Vec<String>,
}
