//! A software WebAuthn authenticator for tests: makes registration and assertion responses in the
//! JSON a browser's `PublicKeyCredential.toJSON()` gives, signed with a real P-256 key (ES256),
//! with attestation `none` or `packed` (self attestation), so the server's library checks them as
//! it would a browser's. Every field a test may want to get wrong is a plain field.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

/// The minimal CBOR the attestation object and the COSE key need.
enum Cbor {
    Int(i64),
    Bytes(Vec<u8>),
    Text(&'static str),
    Map(Vec<(Cbor, Cbor)>),
}

fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend([m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((n as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 26);
            out.extend((n as u32).to_be_bytes());
        }
    }
}

impl Cbor {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Cbor::Int(i) if *i >= 0 => head(out, 0, *i as u64),
            Cbor::Int(i) => head(out, 1, (-1 - *i) as u64),
            Cbor::Bytes(b) => {
                head(out, 2, b.len() as u64);
                out.extend(b);
            }
            Cbor::Text(t) => {
                head(out, 3, t.len() as u64);
                out.extend(t.as_bytes());
            }
            Cbor::Map(entries) => {
                head(out, 5, entries.len() as u64);
                for (k, v) in entries {
                    k.encode(out);
                    v.encode(out);
                }
            }
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attestation {
    None,
    /// `packed` self attestation: signed with the credential's own key.
    Packed,
}

/// One credential on a software authenticator.
pub struct SoftPasskey {
    key: EcdsaKeyPair,
    pub credential_id: Vec<u8>,
    /// The user handle the authenticator stored at registration (returned on assertion).
    pub user_handle: Vec<u8>,
    /// The next signature counter (0 keeps it at 0, as synced passkeys do).
    pub counter: u32,
    /// The origin the client reports, and the RP ID whose hash the authenticator signs.
    pub origin: String,
    pub rp_id: String,
    pub user_verified: bool,
}

impl SoftPasskey {
    pub fn new(origin: &str, rp_id: &str) -> Self {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).expect("a P-256 key");
        let credential_id: [u8; 32] = random();
        SoftPasskey {
            key,
            credential_id: credential_id.to_vec(),
            user_handle: Vec::new(),
            counter: 1,
            origin: origin.to_string(),
            rp_id: rp_id.to_string(),
            user_verified: true,
        }
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        json!({ "type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false })
            .to_string()
            .into_bytes()
    }

    fn flags(&self, attested: bool) -> u8 {
        // UP, UV as set, BE + BS (a synced passkey), AT when a credential is attached.
        0x01 | if self.user_verified { 0x04 } else { 0 } | 0x08 | 0x10 | if attested { 0x40 } else { 0 }
    }

    fn auth_data(&self, attested: bool) -> Vec<u8> {
        let mut data = digest(&SHA256, self.rp_id.as_bytes()).as_ref().to_vec();
        data.push(self.flags(attested));
        data.extend(self.counter.to_be_bytes());
        if attested {
            let point = self.key.public_key().as_ref();
            let cose = Cbor::Map(vec![
                (Cbor::Int(1), Cbor::Int(2)),
                (Cbor::Int(3), Cbor::Int(-7)),
                (Cbor::Int(-1), Cbor::Int(1)),
                (Cbor::Int(-2), Cbor::Bytes(point[1..33].to_vec())),
                (Cbor::Int(-3), Cbor::Bytes(point[33..65].to_vec())),
            ]);
            data.extend([0u8; 16]); // AAGUID: none known
            data.extend((self.credential_id.len() as u16).to_be_bytes());
            data.extend(&self.credential_id);
            data.extend(cose.bytes());
        }
        data
    }

    fn sign(&self, auth_data: &[u8], client_data: &[u8]) -> Vec<u8> {
        let mut signed = auth_data.to_vec();
        signed.extend(digest(&SHA256, client_data).as_ref());
        self.key.sign(&SystemRandom::new(), &signed).expect("signing").as_ref().to_vec()
    }

    /// `navigator.credentials.create` for these creation options (the `publicKey` member as the
    /// server sent it): remembers the user handle, answers as `toJSON()` would.
    pub fn register(&mut self, options: &Value, attestation: Attestation) -> Value {
        self.user_handle = unb64(options["user"]["id"].as_str().expect("user.id"));
        let challenge = options["challenge"].as_str().expect("challenge");
        let client_data = self.client_data("webauthn.create", challenge);
        let auth_data = self.auth_data(true);
        let statement = match attestation {
            Attestation::None => Cbor::Map(vec![]),
            Attestation::Packed => Cbor::Map(vec![
                (Cbor::Text("alg"), Cbor::Int(-7)),
                (Cbor::Text("sig"), Cbor::Bytes(self.sign(&auth_data, &client_data))),
            ]),
        };
        let fmt = if attestation == Attestation::None { "none" } else { "packed" };
        let object = Cbor::Map(vec![
            (Cbor::Text("fmt"), Cbor::Text(fmt)),
            (Cbor::Text("attStmt"), statement),
            (Cbor::Text("authData"), Cbor::Bytes(auth_data)),
        ]);
        self.counter += 1;
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&object.bytes()),
                "clientDataJSON": b64(&client_data),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        })
    }

    /// `navigator.credentials.get` for these request options (the `publicKey` member).
    pub fn assert(&mut self, options: &Value) -> Value {
        let challenge = options["challenge"].as_str().expect("challenge");
        let client_data = self.client_data("webauthn.get", challenge);
        let auth_data = self.auth_data(false);
        let signature = self.sign(&auth_data, &client_data);
        if self.counter > 0 {
            self.counter += 1;
        }
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(&signature),
                "userHandle": b64(&self.user_handle),
            },
            "clientExtensionResults": {},
        })
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    aws_lc_rs::rand::fill(&mut bytes).expect("the OS RNG");
    bytes
}
