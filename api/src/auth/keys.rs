//! The fixed set of verification keys: the HS256 development secret, RS256/ES256 public keys
//! from PEM files, and keys from a JWKS file. Each key has one pinned algorithm.

use std::path::PathBuf;

use clap::Args;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};

/// Smallest development secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

/// Authentication settings.
#[derive(Debug, Clone, Args)]
pub struct AuthConfig {
    /// HS256 development secret (at least 32 bytes). Unset: HS256 tokens are refused.
    #[arg(long, env = "MAILLAGE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Public key for production tokens, as `KID=ALG:PATH` with ALG `RS256` or `ES256` and a PEM
    /// file; repeatable.
    #[arg(
        long = "jwt-public-key",
        env = "MAILLAGE_JWT_PUBLIC_KEYS",
        value_delimiter = ','
    )]
    pub jwt_public_keys: Vec<String>,
    /// A JWKS file of production keys (each with `kid` and `alg` RS256 or ES256).
    #[arg(long, env = "MAILLAGE_JWKS_FILE")]
    pub jwks_file: Option<PathBuf>,
    /// Required `iss` claim.
    #[arg(long, env = "MAILLAGE_JWT_ISSUER", default_value = "maillage")]
    pub jwt_issuer: String,
    /// Required `aud` claim.
    #[arg(long, env = "MAILLAGE_JWT_AUDIENCE", default_value = "maillage-api")]
    pub jwt_audience: String,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds (at most 300). A WebSocket
    /// connection is closed this long after its token's `exp`.
    #[arg(long, env = "MAILLAGE_JWT_LEEWAY_SECS", default_value_t = DEFAULT_LEEWAY_SECS,
          value_parser = clap::value_parser!(u64).range(0..=300))]
    pub jwt_leeway_secs: u64,
}

/// Clock skew tolerated by default, in seconds.
pub const DEFAULT_LEEWAY_SECS: u64 = 30;

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            jwt_public_keys: Vec::new(),
            jwks_file: None,
            jwt_issuer: "maillage".into(),
            jwt_audience: "maillage-api".into(),
            jwt_leeway_secs: DEFAULT_LEEWAY_SECS,
        }
    }
}

/// Why the key set could not be built.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The development secret is too short.
    #[error("MAILLAGE_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")]
    WeakSecret,
    /// A key specification or file is wrong.
    #[error("{0}")]
    Invalid(String),
}

/// One verification key.
#[derive(Clone)]
pub(super) struct Key {
    pub kid: Option<String>,
    pub algorithm: Algorithm,
    pub decoding: DecodingKey,
}

/// The configured keys.
#[derive(Clone, Default)]
pub(super) struct KeySet {
    keys: Vec<Key>,
}

fn pinned(alg: &str) -> Result<Algorithm, KeyError> {
    match alg {
        "RS256" => Ok(Algorithm::RS256),
        "ES256" => Ok(Algorithm::ES256),
        other => Err(KeyError::Invalid(format!(
            "key algorithm {other} is not accepted (RS256 or ES256)"
        ))),
    }
}

impl KeySet {
    pub(super) fn load(config: &AuthConfig) -> Result<Self, KeyError> {
        let mut keys = Vec::new();
        if let Some(secret) = &config.jwt_secret {
            if secret.len() < MIN_SECRET_BYTES {
                return Err(KeyError::WeakSecret);
            }
            keys.push(Key {
                kid: None,
                algorithm: Algorithm::HS256,
                decoding: DecodingKey::from_secret(secret.as_bytes()),
            });
        }
        for spec in config.jwt_public_keys.iter().filter(|s| !s.is_empty()) {
            let bad =
                || KeyError::Invalid(format!("--jwt-public-key {spec}: expected KID=ALG:PATH"));
            let (kid, rest) = spec.split_once('=').ok_or_else(bad)?;
            let (alg, path) = rest.split_once(':').ok_or_else(bad)?;
            let algorithm = pinned(alg)?;
            let pem = std::fs::read(path).map_err(|e| KeyError::Invalid(format!("{path}: {e}")))?;
            let decoding = match algorithm {
                Algorithm::RS256 => DecodingKey::from_rsa_pem(&pem),
                _ => DecodingKey::from_ec_pem(&pem),
            }
            .map_err(|e| KeyError::Invalid(format!("{path}: {e}")))?;
            keys.push(Key {
                kid: Some(kid.to_owned()),
                algorithm,
                decoding,
            });
        }
        if let Some(path) = &config.jwks_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| KeyError::Invalid(format!("{}: {e}", path.display())))?;
            let set: JwkSet = serde_json::from_str(&text)
                .map_err(|e| KeyError::Invalid(format!("{}: {e}", path.display())))?;
            for jwk in &set.keys {
                let kid = jwk.common.key_id.clone().ok_or_else(|| {
                    KeyError::Invalid(format!("{}: every key needs a kid", path.display()))
                })?;
                let algorithm = match (&jwk.algorithm, &jwk.common.key_algorithm) {
                    (AlgorithmParameters::RSA(_), _) => Algorithm::RS256,
                    (AlgorithmParameters::EllipticCurve(_), _) => Algorithm::ES256,
                    _ => {
                        return Err(KeyError::Invalid(format!(
                            "{}: key {kid} is neither RSA nor EC",
                            path.display()
                        )));
                    }
                };
                let decoding = DecodingKey::from_jwk(jwk)
                    .map_err(|e| KeyError::Invalid(format!("{}: {kid}: {e}", path.display())))?;
                keys.push(Key {
                    kid: Some(kid),
                    algorithm,
                    decoding,
                });
            }
        }
        Ok(Self { keys })
    }

    /// The key for a token header: by `kid` among public keys, or the development secret
    /// for a kid-less HS256 token; the header's `alg` must be the key's pinned algorithm.
    pub(super) fn select(&self, kid: Option<&str>, alg: Algorithm) -> Option<&Key> {
        self.keys
            .iter()
            .find(|k| k.kid.as_deref() == kid && k.algorithm == alg)
    }
}
