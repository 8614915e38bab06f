//! pre-sign-up: passwordless sign-up needs no confirmation code, because the first emailed
//! sign-in proves the address. Users who sign up themselves with an email are confirmed at once.
//! `email_verified` is left false: nothing has proved the address yet (see docs/decisions.md).
//! A self sign-up whose username or name an email could not show safely (a link, hidden text, a
//! phone number in the name) is refused here, whoever calls Cognito's public `SignUp`.

use crate::TriggerError;
use crate::identity::{Unshowable, check_name, check_username};
use aws_lambda_events::event::cognito::{CognitoEventUserPoolsPreSignup, CognitoEventUserPoolsPreSignupTriggerSource};

pub fn handle(mut event: CognitoEventUserPoolsPreSignup) -> Result<CognitoEventUserPoolsPreSignup, TriggerError> {
    let source = event
        .cognito_event_user_pools_header
        .trigger_source
        .clone()
        .ok_or("malformed PreSignUp event: no triggerSource")?;
    if source == CognitoEventUserPoolsPreSignupTriggerSource::SignUp {
        let username = event.cognito_event_user_pools_header.user_name.as_deref().unwrap_or_default();
        let name = event.request.user_attributes.get("name").map_or("", String::as_str);
        for (field, verdict) in [("username", check_username(username)), ("name", check_name(name))] {
            if let Err(why) = verdict {
                tracing::info!(field, ?why, "sign-up refused: text an email could not show");
                let what = match why {
                    Unshowable::Hidden => "invisible characters",
                    Unshowable::Link => "a web address",
                    Unshowable::Contact => "an address or a phone number",
                };
                return Err(format!("The {field} cannot contain {what}.").into());
            }
        }
    }
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
    fn a_self_sign_up_with_a_link_or_hidden_text_is_refused() {
        let refused = |edit: fn(&mut serde_json::Value)| handle(fixtures::edited("pre_sign_up.json", edit)).is_err();
        assert!(refused(|v| v["userName"] = json!("https://evil.example/reset")));
        assert!(refused(|v| v["request"]["userAttributes"]["name"] = json!("Restore at evil.com now")));
        assert!(refused(|v| v["request"]["userAttributes"]["name"] = json!("Call +1 555 0100")));
        assert!(refused(|v| v["userName"] = json!("\u{202e}gnp.exe")));
        assert!(!refused(|v| v["request"]["userAttributes"]["name"] = json!("Dr. Zoë Ångström")));
        let admin = fixtures::edited("pre_sign_up.json", |v| {
            v["triggerSource"] = json!("PreSignUp_AdminCreateUser");
            v["userName"] = json!("support.team.com");
        });
        assert!(handle(admin).is_ok(), "operators name their users as they like");
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
