//! pre-sign-up: passwordless sign-up needs no confirmation code, because the first emailed
//! sign-in proves the address. Users who sign up themselves with an email are confirmed at once.
//! `email_verified` is left false: nothing has proved the address yet (see docs/decisions.md).

use crate::TriggerError;
use aws_lambda_events::event::cognito::{CognitoEventUserPoolsPreSignup, CognitoEventUserPoolsPreSignupTriggerSource};

pub fn handle(mut event: CognitoEventUserPoolsPreSignup) -> Result<CognitoEventUserPoolsPreSignup, TriggerError> {
    let source = event
        .cognito_event_user_pools_header
        .trigger_source
        .clone()
        .ok_or("malformed PreSignUp event: no triggerSource")?;
    let has_email = event.request.user_attributes.get("email").is_some_and(|e| e.contains('@'));
    // Admin-created and federated users follow Cognito's own flows; only self sign-up is ours.
    let confirm = source == CognitoEventUserPoolsPreSignupTriggerSource::SignUp && has_email;
    tracing::info!(auto_confirm = confirm, "pre sign-up");
    event.response.auto_confirm_user = confirm;
    event.response.auto_verify_email = false;
    event.response.auto_verify_phone = false;
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use serde_json::json;

    #[test]
    fn self_sign_up_with_an_email_is_confirmed_but_not_verified() {
        let out = handle(fixtures::event("pre_sign_up.json")).unwrap();
        assert!(out.response.auto_confirm_user);
        assert!(!out.response.auto_verify_email);
    }

    #[test]
    fn no_email_means_no_auto_confirmation() {
        let event = fixtures::edited("pre_sign_up.json", |v| v["request"]["userAttributes"] = json!({"locale": "en"}));
        assert!(!handle(event).unwrap().response.auto_confirm_user);
    }

    #[test]
    fn admin_created_and_federated_users_are_left_alone() {
        for source in ["PreSignUp_AdminCreateUser", "PreSignUp_ExternalProvider"] {
            let event = fixtures::edited("pre_sign_up.json", |v| v["triggerSource"] = json!(source));
            assert!(!handle(event).unwrap().response.auto_confirm_user, "{source}");
        }
    }
}
