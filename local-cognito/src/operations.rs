//! The operations on the wire: each decodes its JSON 1.1 input (PascalCase members, as the SDKs
//! send them), calls the pool, and encodes Cognito's output shape.

use crate::error::CognitoError;
use crate::pool::{AuthStep, Tokens, UserPool, epoch};
use crate::store::User;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

/// The operations this endpoint implements, by their `X-Amz-Target` suffix. Every other
/// operation of the service answers `UnknownOperationException` naming it; the README's
/// compatibility table lists them all (a test holds the table, this list and the SDK's model
/// together).
pub const OPERATIONS: [&str; 26] = [
    "SignUp",
    "ConfirmSignUp",
    "InitiateAuth",
    "RespondToAuthChallenge",
    "GetTokensFromRefreshToken",
    "GetUser",
    "UpdateUserAttributes",
    "GetUserAttributeVerificationCode",
    "VerifyUserAttribute",
    "DeleteUserAttributes",
    "DeleteUser",
    "ListDevices",
    "GlobalSignOut",
    "RevokeToken",
    "AdminGetUser",
    "AdminCreateUser",
    "AdminDeleteUser",
    "AdminConfirmSignUp",
    "AdminUpdateUserAttributes",
    "AdminUserGlobalSignOut",
    "AdminDisableUser",
    "AdminEnableUser",
    "ListUsers",
    "DescribeUserPool",
    "DescribeUserPoolClient",
    "ListUserPools",
];

pub async fn dispatch(pool: &UserPool, operation: &str, input: Value) -> Result<Value, CognitoError> {
    match operation {
        "SignUp" => sign_up(pool, parse(input)?).await,
        "ConfirmSignUp" => confirm_sign_up(pool, parse(input)?).await,
        "InitiateAuth" => initiate_auth(pool, parse(input)?).await,
        "RespondToAuthChallenge" => respond_to_auth_challenge(pool, parse(input)?).await,
        "GetTokensFromRefreshToken" => {
            let input: RefreshInput = parse(input)?;
            Ok(authentication_result(pool.get_tokens_from_refresh_token(&input.client_id, &input.refresh_token)?))
        }
        "UpdateUserAttributes"
        | "GetUserAttributeVerificationCode"
        | "VerifyUserAttribute"
        | "DeleteUserAttributes"
        | "DeleteUser"
        | "ListDevices" => account::dispatch(pool, operation, input),
        "GetUser" => {
            let input: AccessTokenInput = parse(input)?;
            let user = pool.user_for_access_token(&input.access_token)?;
            Ok(json!({ "Username": user.username, "UserAttributes": attribute_list(&user) }))
        }
        "GlobalSignOut" => {
            let input: AccessTokenInput = parse(input)?;
            pool.global_sign_out(&input.access_token).map(|_| json!({}))
        }
        "RevokeToken" => {
            let input: RevokeTokenInput = parse(input)?;
            pool.revoke_token(&input.client_id, &input.token).map(|_| json!({}))
        }
        "AdminGetUser" => {
            let input: AdminUserInput = parse(input)?;
            pool.check_pool(&input.user_pool_id)?;
            let user = pool.admin_get_user(&input.username)?;
            let mut out = user_record(&user, "UserAttributes");
            out["Username"] = json!(user.username);
            Ok(out)
        }
        "AdminCreateUser" => {
            let input: AdminCreateUserInput = parse(input)?;
            pool.check_pool(&input.user_pool_id)?;
            let user = pool.admin_create_user(&input.username, attributes(input.user_attributes)).await?;
            Ok(json!({ "User": user_record(&user, "Attributes") }))
        }
        "AdminDeleteUser" => {
            let input: AdminUserInput = parse(input)?;
            pool.check_pool(&input.user_pool_id)?;
            pool.admin_delete_user(&input.username).map(|_| json!({}))
        }
        "AdminConfirmSignUp" => {
            let input: AdminUserInput = parse(input)?;
            pool.check_pool(&input.user_pool_id)?;
            pool.admin_confirm_sign_up(&input.username).await.map(|_| json!({}))
        }
        "AdminUpdateUserAttributes" => {
            let input: AdminUpdateUserAttributesInput = parse(input)?;
            pool.check_pool(&input.user_pool_id)?;
            pool.admin_update_user_attributes(&input.username, attributes(input.user_attributes)).map(|_| json!({}))
        }
        "AdminUserGlobalSignOut" => {
            let input: AdminUserInput = parse(input)?;
            pool.check_pool(&input.user_pool_id)?;
            pool.admin_user_global_sign_out(&input.username).map(|_| json!({}))
        }
        "AdminDisableUser" | "AdminEnableUser" => {
            let input: AdminUserInput = parse(input)?;
            pool.check_pool(&input.user_pool_id)?;
            pool.admin_set_enabled(&input.username, operation == "AdminEnableUser").map(|_| json!({}))
        }
        "ListUsers" => list_users(pool, parse(input)?),
        "DescribeUserPool" => {
            let input: PoolInput = parse(input)?;
            pool.check_pool(&input.user_pool_id)?;
            Ok(json!({ "UserPool": { "Id": pool.config.user_pool_id, "Name": "local", "Arn": pool_arn(pool) } }))
        }
        "DescribeUserPoolClient" => {
            let input: ClientInput = parse(input)?;
            pool.check_pool(&input.user_pool_id)?;
            pool.check_client(&input.client_id)?;
            let c = &pool.config;
            let mut flows = vec!["ALLOW_CUSTOM_AUTH"];
            if c.refresh_token_rotation.is_none() {
                flows.push("ALLOW_REFRESH_TOKEN_AUTH");
            }
            let rotation = match c.refresh_token_rotation {
                Some(grace) => json!({ "Feature": "ENABLED", "RetryGracePeriodSeconds": grace.num_seconds() }),
                None => json!({ "Feature": "DISABLED" }),
            };
            Ok(json!({ "UserPoolClient": {
                "UserPoolId": c.user_pool_id,
                "ClientId": c.client_id,
                "ClientName": "local",
                "ExplicitAuthFlows": flows,
                "WriteAttributes": c.write_attributes,
                "RefreshTokenRotation": rotation,
                "EnableTokenRevocation": true,
                "PreventUserExistenceErrors": if c.prevent_user_existence_errors { "ENABLED" } else { "LEGACY" },
                "AuthSessionValidity": c.session_ttl.num_minutes(),
            }}))
        }
        "ListUserPools" => Ok(json!({ "UserPools": [{ "Id": pool.config.user_pool_id, "Name": "local" }] })),
        other => Err(CognitoError::new(
            "UnknownOperationException",
            format!("{other} is not implemented by local-cognito (see its README section)"),
        )),
    }
}

mod account;

/// Decodes an operation's input; a missing or mistyped member is Cognito's
/// `InvalidParameterException` naming it.
pub(crate) fn parse<T: DeserializeOwned>(input: Value) -> Result<T, CognitoError> {
    serde_json::from_value(input).map_err(|e| {
        let message = e.to_string();
        match message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next()) {
            Some(field) => CognitoError::missing_parameter(field),
            None => CognitoError::invalid_parameter(format!("Invalid request: {message}")),
        }
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminUpdateUserAttributesInput {
    user_pool_id: String,
    username: String,
    user_attributes: Vec<AttributeType>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RefreshInput {
    client_id: String,
    refresh_token: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AttributeType {
    name: String,
    #[serde(default)]
    value: Option<String>,
}

/// Attributes by name; one sent without a `Value` counts as empty (and meets every check).
pub(crate) fn attributes(list: Vec<AttributeType>) -> BTreeMap<String, String> {
    list.into_iter().map(|a| (a.name, a.value.unwrap_or_default())).collect()
}

fn attribute_list(user: &User) -> Value {
    let mut list: Vec<Value> = vec![json!({ "Name": "sub", "Value": user.sub })];
    list.extend(user.attributes.iter().map(|(k, v)| json!({ "Name": k, "Value": v })));
    Value::Array(list)
}

/// A user as `AdminCreateUser`, `AdminGetUser` (`UserAttributes`) and `ListUsers` (`Attributes`)
/// show it.
fn user_record(user: &User, attributes_member: &str) -> Value {
    let mut record = json!({
        "Username": user.username,
        "UserCreateDate": epoch(user.created),
        "UserLastModifiedDate": epoch(user.modified),
        "Enabled": user.enabled,
        "UserStatus": user.status.as_str(),
    });
    record[attributes_member] = attribute_list(user);
    record
}

fn pool_arn(pool: &UserPool) -> String {
    format!("arn:aws:cognito-idp:{}:000000000000:userpool/{}", pool.config.region, pool.config.user_pool_id)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SignUpInput {
    client_id: String,
    username: String,
    password: Option<String>,
    #[serde(default)]
    user_attributes: Vec<AttributeType>,
    client_metadata: Option<HashMap<String, String>>,
}

async fn sign_up(pool: &UserPool, input: SignUpInput) -> Result<Value, CognitoError> {
    let password = input.password.ok_or_else(|| CognitoError::missing_parameter("Password"))?;
    let metadata = input.client_metadata.map(|m| json!(m));
    let outcome = pool
        .sign_up(&input.client_id, &input.username, &password, attributes(input.user_attributes), metadata.as_ref())
        .await?;
    let mut out = json!({ "UserConfirmed": outcome.confirmed, "UserSub": outcome.sub });
    if let Some(destination) = outcome.code_destination {
        out["CodeDeliveryDetails"] =
            json!({ "Destination": destination, "DeliveryMedium": "EMAIL", "AttributeName": "email" });
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfirmSignUpInput {
    client_id: String,
    username: String,
    confirmation_code: String,
    client_metadata: Option<HashMap<String, String>>,
}

async fn confirm_sign_up(pool: &UserPool, input: ConfirmSignUpInput) -> Result<Value, CognitoError> {
    let metadata = input.client_metadata.map(|m| json!(m));
    pool.confirm_sign_up(&input.client_id, &input.username, &input.confirmation_code, metadata.as_ref()).await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InitiateAuthInput {
    auth_flow: String,
    client_id: String,
    #[serde(default)]
    auth_parameters: HashMap<String, String>,
}

async fn initiate_auth(pool: &UserPool, input: InitiateAuthInput) -> Result<Value, CognitoError> {
    pool.check_client(&input.client_id)?;
    let param = |name: &str| {
        input.auth_parameters.get(name).filter(|v| !v.is_empty()).ok_or_else(|| CognitoError::missing_parameter(name))
    };
    match input.auth_flow.as_str() {
        "CUSTOM_AUTH" => step(pool.initiate_custom_auth(&input.client_id, param("USERNAME")?).await?),
        "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => {
            Ok(authentication_result(pool.refresh(&input.client_id, param("REFRESH_TOKEN")?)?))
        }
        "USER_SRP_AUTH" | "USER_PASSWORD_AUTH" | "USER_AUTH" | "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => {
            Err(CognitoError::invalid_parameter(format!("{} flow not enabled for this client", input.auth_flow)))
        }
        other => Err(CognitoError::invalid_parameter(format!(
            "1 validation error detected: Value '{other}' at 'authFlow' failed to satisfy constraint: Member must \
             satisfy enum value set"
        ))),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RespondInput {
    client_id: String,
    challenge_name: String,
    session: Option<String>,
    #[serde(default)]
    challenge_responses: HashMap<String, String>,
    client_metadata: Option<HashMap<String, String>>,
}

async fn respond_to_auth_challenge(pool: &UserPool, input: RespondInput) -> Result<Value, CognitoError> {
    pool.check_client(&input.client_id)?;
    if input.challenge_name != triggers::CUSTOM_CHALLENGE {
        return Err(CognitoError::invalid_parameter(format!(
            "Challenge {} is not valid for this session",
            input.challenge_name
        )));
    }
    let session = input.session.filter(|s| !s.is_empty()).ok_or_else(|| CognitoError::missing_parameter("Session"))?;
    let response =
        |name: &str| input.challenge_responses.get(name).ok_or_else(|| CognitoError::missing_parameter(name));
    let (username, answer) = (response("USERNAME")?, response("ANSWER")?);
    let metadata = input.client_metadata.as_ref().map(|m| json!(m));
    step(pool.respond_to_custom_challenge(&input.client_id, &session, username, answer, metadata.as_ref()).await?)
}

fn step(step: AuthStep) -> Result<Value, CognitoError> {
    Ok(match step {
        AuthStep::Challenge { session, parameters } => json!({
            "ChallengeName": triggers::CUSTOM_CHALLENGE,
            "Session": session,
            "ChallengeParameters": parameters,
        }),
        AuthStep::Tokens(tokens) => authentication_result(tokens),
    })
}

fn authentication_result(tokens: Tokens) -> Value {
    let mut result = json!({
        "AccessToken": tokens.access_token,
        "ExpiresIn": tokens.expires_in,
        "TokenType": "Bearer",
        "IdToken": tokens.id_token,
    });
    if let Some(refresh) = tokens.refresh_token {
        result["RefreshToken"] = json!(refresh);
    }
    json!({ "ChallengeParameters": {}, "AuthenticationResult": result })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AccessTokenInput {
    pub(crate) access_token: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RevokeTokenInput {
    token: String,
    client_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminUserInput {
    user_pool_id: String,
    username: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminCreateUserInput {
    user_pool_id: String,
    username: String,
    #[serde(default)]
    user_attributes: Vec<AttributeType>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolInput {
    user_pool_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ClientInput {
    user_pool_id: String,
    client_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListUsersInput {
    user_pool_id: String,
    limit: Option<usize>,
    pagination_token: Option<String>,
    filter: Option<String>,
}

/// `ListUsers` with Cognito's filter syntax (`name = "value"`, `name ^= "prefix"`) on
/// `username`, `sub`, `status` and any attribute, and pages of at most 60.
fn list_users(pool: &UserPool, input: ListUsersInput) -> Result<Value, CognitoError> {
    pool.check_pool(&input.user_pool_id)?;
    let filter = input.filter.as_deref().filter(|f| !f.trim().is_empty()).map(parse_filter).transpose()?;
    let limit = input.limit.unwrap_or(60).clamp(1, 60);
    let start: usize = match &input.pagination_token {
        Some(token) => token.parse().map_err(|_| CognitoError::invalid_parameter("Invalid pagination token"))?,
        None => 0,
    };
    let matching: Vec<User> = pool
        .store()
        .users()
        .into_iter()
        .filter(|u| {
            filter.as_ref().is_none_or(|(name, prefix, value)| {
                let actual = match name.as_str() {
                    "username" => Some(u.username.as_str()),
                    "sub" => Some(u.sub.as_str()),
                    "status" | "cognito:user_status" => Some(u.status.as_str()),
                    other => u.attributes.get(other).map(String::as_str),
                };
                actual.is_some_and(|a| if *prefix { a.starts_with(value.as_str()) } else { a == value })
            })
        })
        .collect();
    let page: Vec<Value> = matching.iter().skip(start).take(limit).map(|u| user_record(u, "Attributes")).collect();
    let mut out = json!({ "Users": page });
    let next = start.saturating_add(limit);
    if next < matching.len() {
        out["PaginationToken"] = json!(next.to_string());
    }
    Ok(out)
}

/// `(attribute, is_prefix, value)` from `name = "value"` or `name ^= "value"`.
fn parse_filter(filter: &str) -> Result<(String, bool, String), CognitoError> {
    let invalid = || CognitoError::invalid_parameter(format!("Error while parsing filter: {filter}"));
    let (name, prefix, rest) = match filter.split_once("^=") {
        Some((name, rest)) => (name, true, rest),
        None => filter.split_once('=').map(|(n, r)| (n, false, r)).ok_or_else(invalid)?,
    };
    let value = rest.trim().strip_prefix('"').and_then(|v| v.strip_suffix('"')).ok_or_else(invalid)?;
    Ok((name.trim().to_string(), prefix, value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_as_cognito_writes_them() {
        assert_eq!(parse_filter(r#"email = "a@b.c""#).unwrap(), ("email".into(), false, "a@b.c".into()));
        assert_eq!(parse_filter(r#"username ^= "al""#).unwrap(), ("username".into(), true, "al".into()));
        assert_eq!(parse_filter("email = a").unwrap_err().kind, "InvalidParameterException");
    }

    #[test]
    fn missing_members_are_named() {
        let err = parse::<SignUpInput>(json!({"ClientId": "c"})).err().unwrap();
        assert_eq!(err.message, "Missing required parameter Username");
        let err = parse::<SignUpInput>(json!({"ClientId": 1, "Username": "u"})).err().unwrap();
        assert_eq!(err.kind, "InvalidParameterException");
    }
}
