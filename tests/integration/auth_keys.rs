//! Production keys: RS256/ES256 public keys from PEM files and a JWKS file, each selected by
//! `kid` with its pinned algorithm; a weak development secret is refused.

use api::auth::{AuthConfig, Authenticator, KeyError};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode, get_current_timestamp};
use serde_json::json;

fn fixture(name: &str) -> String {
    format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    let claims = json!({ "sub": "svc@prefecture.gouv.fr", "iss": "maillage", "aud": "maillage-api",
                         "exp": get_current_timestamp() + 600, "roles": ["state"] });
    encode(&header, &claims, key).unwrap()
}

fn config(jwks: &std::path::Path) -> AuthConfig {
    AuthConfig {
        jwt_public_keys: vec![
            format!("es1=ES256:{}", fixture("es256-public.pem")),
            format!("rs1=RS256:{}", fixture("rs256-public.pem")),
        ],
        jwks_file: Some(jwks.to_owned()),
        jwt_issuer: "maillage".into(),
        jwt_audience: "maillage-api".into(),
        ..AuthConfig::default()
    }
}

#[test]
fn keys_are_selected_by_kid_with_their_pinned_algorithm() {
    let es = EncodingKey::from_ec_pem(&pem("es256-private.pem")).unwrap();
    let es_other = EncodingKey::from_ec_pem(&pem("es256-other-private.pem")).unwrap();
    let rs = EncodingKey::from_rsa_pem(&pem("rs256-private.pem")).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let jwks_path = dir.path().join("jwks.json");
    let mut jwk = Jwk::from_encoding_key(&es_other, Algorithm::ES256).unwrap();
    jwk.common.key_id = Some("jwks-ec".into());
    std::fs::write(
        &jwks_path,
        serde_json::to_string(&JwkSet { keys: vec![jwk] }).unwrap(),
    )
    .unwrap();

    let auth = Authenticator::new(&config(&jwks_path)).unwrap();
    for (case, token) in [
        (
            "ES256 from a PEM file",
            sign(Algorithm::ES256, Some("es1"), &es),
        ),
        (
            "RS256 from a PEM file",
            sign(Algorithm::RS256, Some("rs1"), &rs),
        ),
        (
            "ES256 from the JWKS file",
            sign(Algorithm::ES256, Some("jwks-ec"), &es_other),
        ),
    ] {
        let claims = auth
            .verify(&token)
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(claims.sub, "svc@prefecture.gouv.fr");
    }
    for (case, token) in [
        (
            "ES256 signed by another key",
            sign(Algorithm::ES256, Some("es1"), &es_other),
        ),
        (
            "RS256 under an ES256 kid",
            sign(Algorithm::RS256, Some("es1"), &rs),
        ),
        (
            "ES256 under an RS256 kid",
            sign(Algorithm::ES256, Some("rs1"), &es),
        ),
        ("no kid", sign(Algorithm::ES256, None, &es)),
        ("unknown kid", sign(Algorithm::ES256, Some("es9"), &es)),
        (
            "HS256 without a configured secret",
            sign(
                Algorithm::HS256,
                None,
                &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
            ),
        ),
        (
            "HS256 signed with the public key as secret",
            sign(
                Algorithm::HS256,
                Some("rs1"),
                &EncodingKey::from_secret(&pem("rs256-public.pem")),
            ),
        ),
    ] {
        assert!(auth.verify(&token).is_err(), "{case} was accepted");
    }
}

#[test]
fn a_weak_secret_or_a_bad_key_stops_start_up() {
    let weak = AuthConfig {
        jwt_secret: Some("too-short".into()),
        ..AuthConfig::default()
    };
    assert!(matches!(
        Authenticator::new(&weak),
        Err(KeyError::WeakSecret)
    ));
    let bad = AuthConfig {
        jwt_public_keys: vec!["k=HS256:/dev/null".into()],
        ..AuthConfig::default()
    };
    assert!(Authenticator::new(&bad).is_err());
    let missing = AuthConfig {
        jwt_public_keys: vec!["k=RS256:/nonexistent.pem".into()],
        ..AuthConfig::default()
    };
    assert!(Authenticator::new(&missing).is_err());
}
