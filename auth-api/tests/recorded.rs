//! Real WebAuthn ceremonies recorded from Chromium's virtual authenticator (CDP; attestation
//! `none` and `packed`, fixed challenges: `tests/fixtures/webauthn/`), replayed through webauthn-rs
//! as the auth API configures it: each registers and signs in with its own challenge, and is
//! refused with another challenge, another origin, another RP ID, or a counter that went back.
//! (`auth-api/tests/passkeys.rs` drives the whole API with a software authenticator.)

use auth_api::passkeys::PasskeyConfig;
use serde_json::Value;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Url,
    Uuid, Webauthn, WebauthnBuilder,
};

fn recorded(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/webauthn/chromium-{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn webauthn(ceremony: &Value) -> Webauthn {
    PasskeyConfig::new("localhost", ceremony["origin"].as_str().unwrap()).unwrap().webauthn("Recorded")
}

/// webauthn-rs's own registration state, with the challenge the recording signed.
fn registration_state(w: &Webauthn, ceremony: &Value) -> PasskeyRegistration {
    let handle: [u8; 16] = b"0123456789abcdef".to_owned();
    let (_, state) = w.start_passkey_registration(Uuid::from_bytes(handle), "recorded", "recorded", None).unwrap();
    let mut state = serde_json::to_value(state).unwrap();
    state["rs"]["challenge"] = ceremony["registration_challenge"].clone();
    serde_json::from_value(state).unwrap()
}

fn sign_in_state(w: &Webauthn, challenge: &Value) -> DiscoverableAuthentication {
    let (_, state) = w.start_discoverable_authentication().unwrap();
    let mut state = serde_json::to_value(state).unwrap();
    state["ast"]["challenge"] = challenge.clone();
    serde_json::from_value(state).unwrap()
}

fn registered(w: &Webauthn, ceremony: &Value) -> Passkey {
    let response: RegisterPublicKeyCredential = serde_json::from_value(ceremony["registration"].clone()).unwrap();
    w.finish_passkey_registration(&response, &registration_state(w, ceremony)).unwrap()
}

fn assertion(ceremony: &Value, which: &str) -> PublicKeyCredential {
    serde_json::from_value(ceremony[which].clone()).unwrap()
}

#[test]
fn recorded_ceremonies_register_and_sign_in_with_their_own_challenges() {
    for name in ["none", "packed"] {
        let ceremony = recorded(name);
        let w = webauthn(&ceremony);
        let mut passkey = registered(&w, &ceremony);
        let first = assertion(&ceremony, "assertion");
        let (handle, id) = w.identify_discoverable_authentication(&first).unwrap();
        assert_eq!(handle.as_bytes(), b"0123456789abcdef", "{name}: the user handle it was registered with");
        assert_eq!(id, passkey.cred_id().as_slice());
        let result = w
            .finish_discoverable_authentication_v2(&first, sign_in_state(&w, &ceremony["sign_in_challenge"]), &passkey)
            .unwrap();
        assert!(result.user_verified(), "{name}");
        passkey.update_credential(&result);
        let second = assertion(&ceremony, "second_assertion");
        let later = w
            .finish_discoverable_authentication_v2(&second, sign_in_state(&w, &ceremony["second_challenge"]), &passkey)
            .unwrap();
        assert!(later.counter() > result.counter() || later.counter() == 0, "{name}: the counter moves on");
    }
}

#[test]
fn recorded_ceremonies_are_refused_with_another_challenge_origin_rp_id_or_an_older_counter() {
    for name in ["none", "packed"] {
        let ceremony = recorded(name);
        let w = webauthn(&ceremony);
        let passkey = registered(&w, &ceremony);
        let first = assertion(&ceremony, "assertion");
        // Replayed into another ceremony: the challenge is not the one it signed.
        let replay = sign_in_state(&w, &ceremony["second_challenge"]);
        assert!(w.finish_discoverable_authentication_v2(&first, replay, &passkey).is_err(), "{name}: replay");
        let mut response: RegisterPublicKeyCredential =
            serde_json::from_value(ceremony["registration"].clone()).unwrap();
        let mut other = ceremony.clone();
        other["registration_challenge"] = ceremony["sign_in_challenge"].clone();
        assert!(w.finish_passkey_registration(&response, &registration_state(&w, &other)).is_err(), "{name}");

        // Another allowed origin than the one the browser reported.
        let elsewhere = PasskeyConfig::new("localhost", "http://localhost:1").unwrap().webauthn("Recorded");
        let state = sign_in_state(&elsewhere, &ceremony["sign_in_challenge"]);
        assert!(elsewhere.finish_discoverable_authentication_v2(&first, state, &passkey).is_err(), "{name}: origin");
        assert!(elsewhere.finish_passkey_registration(&response, &registration_state(&elsewhere, &ceremony)).is_err());

        // Another RP ID (its hash is in the authenticator data), even with the recorded origin allowed.
        let origin = Url::parse(ceremony["origin"].as_str().unwrap()).unwrap();
        let other_rp = WebauthnBuilder::new("example.com", &Url::parse("https://example.com").unwrap())
            .unwrap()
            .append_allowed_origin(&origin)
            .build()
            .unwrap();
        let state = sign_in_state(&other_rp, &ceremony["sign_in_challenge"]);
        assert!(other_rp.finish_discoverable_authentication_v2(&first, state, &passkey).is_err(), "{name}: RP ID");

        // The counter went back: the later assertion seen first, then the earlier one.
        let second = assertion(&ceremony, "second_assertion");
        let mut seen = passkey.clone();
        let result = w
            .finish_discoverable_authentication_v2(&second, sign_in_state(&w, &ceremony["second_challenge"]), &seen)
            .unwrap();
        seen.update_credential(&result);
        if result.counter() > 0 {
            let old = sign_in_state(&w, &ceremony["sign_in_challenge"]);
            assert!(w.finish_discoverable_authentication_v2(&first, old, &seen).is_err(), "{name}: counter");
        }

        // A tampered response (one byte of the signature) verifies nowhere.
        response.response.client_data_json[10] ^= 1;
        assert!(w.finish_passkey_registration(&response, &registration_state(&w, &ceremony)).is_err());
    }
}
