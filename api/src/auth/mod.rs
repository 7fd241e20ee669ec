//! Identity: JWT verification (pinned keys, required claims, refused header tricks), the
//! `Actor` a request acts as, and development tokens.

mod keys;
mod token;

use std::collections::{BTreeMap, BTreeSet};

use jsonwebtoken::{Validation, decode, decode_header};
use serde::{Deserialize, Serialize};

pub use keys::{AuthConfig, KeyError};
pub use token::dev_token;

/// Longest token accepted; anything longer is refused before decoding.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// What a request may do, by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Edits its own organisation's data.
    Editor,
    /// Edits, signs and consents for its own organisation.
    Admin,
    /// An application reading partner-visible data and requesting for its organisation.
    Partner,
    /// State services: read everything, including restricted fields and feeds.
    State,
    /// Reference data administration.
    Superadmin,
}

impl Role {
    /// The role named `name` (any case), as tokens and mandates spell them.
    pub fn parse(name: &str) -> Option<Role> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "editor" => Role::Editor,
            "admin" => Role::Admin,
            "partner" => Role::Partner,
            "state" => Role::State,
            "superadmin" => Role::Superadmin,
            _ => return None,
        })
    }

    /// The role's name as tokens and mandates spell it.
    pub fn name(self) -> &'static str {
        match self {
            Role::Editor => "editor",
            Role::Admin => "admin",
            Role::Partner => "partner",
            Role::State => "state",
            Role::Superadmin => "superadmin",
        }
    }
}

/// The claims Maillage reads. `org` names the organisation acted for (SIREN or global ID);
/// `siren` and `siret` (as sent by the State's agent identity federation) are accepted too.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Claims {
    /// Subject: the person or application.
    pub sub: String,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Expiry (seconds since the epoch).
    pub exp: u64,
    /// Not before (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Issued at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Organisation acted for: SIREN or Maillage global ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// Organisation SIREN (identity federation claim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub siren: Option<String>,
    /// Establishment SIRET (identity federation claim); its first 9 digits are the SIREN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub siret: Option<String>,
    /// Roles (`editor`, `admin`, `partner`, `state`, `superadmin`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// A single role, for issuers that send one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl Claims {
    /// The organisation reference the claims name: `org`, else `siren`, else the SIREN of `siret`.
    pub fn organisation_ref(&self) -> Option<String> {
        self.org.clone().or_else(|| self.siren.clone()).or_else(|| {
            self.siret
                .as_deref()
                .filter(|s| s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.get(..9))
                .map(str::to_owned)
        })
    }

    /// The roles claimed, unknown names ignored: `roles` when present, else `role`. A token
    /// carrying both must say the same in each (`role` one of `roles`), or it is refused.
    pub fn roles(&self) -> BTreeSet<Role> {
        let names: &[String] = if self.roles.is_empty() {
            self.role.as_slice()
        } else {
            &self.roles
        };
        names.iter().filter_map(|r| Role::parse(r)).collect()
    }

    /// Whether `role` and `roles` contradict each other.
    fn contradictory_roles(&self) -> bool {
        match &self.role {
            Some(one) if !self.roles.is_empty() => !self
                .roles
                .iter()
                .any(|r| r.trim().eq_ignore_ascii_case(one.trim())),
            _ => false,
        }
    }
}

/// Who a request acts as.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    /// Token subject; `None` for anonymous requests.
    pub subject: Option<String>,
    /// The organisation acted for, when the token names one the registry knows.
    pub organisation_id: Option<i64>,
    /// Roles.
    pub roles: BTreeSet<Role>,
    /// Organisations that mandated the actor's organisation to act for them, with the roles
    /// each granted (in force when the request began).
    pub mandates: BTreeMap<i64, BTreeSet<Role>>,
}

impl Actor {
    /// The anonymous actor.
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// Whether the request carries a valid token.
    pub fn is_authenticated(&self) -> bool {
        self.subject.is_some()
    }

    /// Whether the actor holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the actor acts for organisation `id` with one of `roles`: its own organisation
    /// with its token's roles, or one that mandated it with the roles the mandate grants.
    pub fn acts_for(&self, id: i64, roles: &[Role]) -> bool {
        (self.organisation_id == Some(id) && roles.iter().any(|r| self.has(*r)))
            || self
                .mandates
                .get(&id)
                .is_some_and(|granted| roles.iter().any(|r| granted.contains(r)))
    }
}

/// Why a presented token was refused; deliberately not shown to clients.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Malformed header value or token.
    #[error("malformed credentials")]
    Malformed,
    /// The header asks for something refused (`jku`, `x5u`, `jwk`, `crit`, `none`…).
    #[error("refused token header")]
    RefusedHeader,
    /// `role` and `roles` say different things.
    #[error("contradictory role claims")]
    ContradictoryRoles,
    /// No configured key matches `kid` and `alg`.
    #[error("unknown key")]
    UnknownKey,
    /// Signature, expiry, issuer, audience… do not verify.
    #[error("invalid token: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
}

/// Verifies bearer tokens against the configured keys.
#[derive(Clone)]
pub struct Authenticator {
    keys: keys::KeySet,
    leeway_secs: u64,
    issuer: String,
    audience: String,
}

impl Authenticator {
    /// An authenticator over `config`'s keys; fails on a weak secret or unreadable key.
    pub fn new(config: &AuthConfig) -> Result<Self, KeyError> {
        Ok(Self {
            keys: keys::KeySet::load(config)?,
            leeway_secs: config.jwt_leeway_secs,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
        })
    }

    /// Verifies the value of an `Authorization` header (`Bearer <token>`).
    pub fn verify_header(&self, value: &str) -> Result<Claims, AuthError> {
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or(AuthError::Malformed)?;
        self.verify(token.trim())
    }

    /// Verifies a bare token.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        if token.is_empty() || token.len() > MAX_TOKEN_BYTES || token.split('.').count() != 3 {
            return Err(AuthError::Malformed);
        }
        let header = decode_header(token).map_err(|_| AuthError::Malformed)?;
        if header.jku.is_some()
            || header.jwk.is_some()
            || header.x5u.is_some()
            || header.x5c.is_some()
            || header.crit.is_some()
        {
            return Err(AuthError::RefusedHeader);
        }
        let key = self
            .keys
            .select(header.kid.as_deref(), header.alg)
            .ok_or(AuthError::UnknownKey)?;
        let mut validation = Validation::new(key.algorithm);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.leeway = self.leeway_secs;
        validation.validate_nbf = true;
        let data = decode::<Claims>(token, &key.decoding, &validation)?;
        let sub = &data.claims.sub;
        if sub.trim().is_empty() || sub.len() > 256 || sub.chars().any(char::is_control) {
            return Err(AuthError::Malformed);
        }
        // A SIRET names the organisation only when it is one: a malformed one makes the token
        // invalid, as a malformed `org` does.
        if data
            .claims
            .siret
            .as_deref()
            .is_some_and(|s| s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(AuthError::Malformed);
        }
        if data.claims.contradictory_roles() {
            return Err(AuthError::ContradictoryRoles);
        }
        Ok(data.claims)
    }

    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    pub fn leeway_secs(&self) -> u64 {
        self.leeway_secs
    }

    /// Issuer tokens must carry.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Audience tokens must carry.
    pub fn audience(&self) -> &str {
        &self.audience
    }
}
