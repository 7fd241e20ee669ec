//! Development tokens signed with the HS256 development secret.

use jsonwebtoken::{EncodingKey, Header, encode, get_current_timestamp};

use super::Claims;
use super::keys::{AuthConfig, KeyError, MIN_SECRET_BYTES};

/// A token for `sub` acting for organisation `org` (SIREN or ID) with `roles`, valid `ttl` seconds.
pub fn dev_token(
    config: &AuthConfig,
    sub: &str,
    org: Option<&str>,
    roles: &[String],
    ttl: u64,
) -> Result<String, KeyError> {
    let secret = config
        .jwt_secret
        .as_deref()
        .ok_or_else(|| KeyError::Invalid("set MAILLAGE_JWT_SECRET (at least 32 bytes)".into()))?;
    if secret.len() < MIN_SECRET_BYTES {
        return Err(KeyError::WeakSecret);
    }
    let now = get_current_timestamp();
    let claims = Claims {
        sub: sub.to_owned(),
        iss: config.jwt_issuer.clone(),
        aud: config.jwt_audience.clone(),
        exp: now + ttl,
        iat: Some(now),
        nbf: Some(now),
        org: org.map(str::to_owned),
        roles: roles.to_vec(),
        ..Claims::default()
    };
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| KeyError::Invalid(e.to_string()))
}
