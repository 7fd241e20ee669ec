//! Authorisation, deny by default, in one place: every write and every restricted read asks here.

use entity::Visibility;

use crate::auth::{Actor, Role};
use crate::error::{AppError, AppResult};

/// Fails unless the actor carries a valid token.
pub fn require_authenticated(actor: &Actor) -> AppResult<()> {
    if actor.is_authenticated() {
        Ok(())
    } else {
        Err(AppError::Unauthenticated)
    }
}

/// May the actor edit the data organisation `owner` is the authority for?
/// Its own editors and admins may; the reference administrator may.
pub fn require_edit(actor: &Actor, owner: i64) -> AppResult<()> {
    require_authenticated(actor)?;
    if actor.acts_for(owner, &[Role::Editor, Role::Admin]) || actor.has(Role::Superadmin) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only the organisation's own editors may change its data".into(),
        ))
    }
}

/// May the actor register a partner organisation? An admin of an organisation, a State
/// service or the reference administrator.
pub fn require_register_partner(actor: &Actor) -> AppResult<()> {
    require_authenticated(actor)?;
    let acting_admin = actor.organisation_id.is_some() && actor.has(Role::Admin);
    if acting_admin || actor.has(Role::State) || actor.has(Role::Superadmin) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "registering a partner takes an organisation admin, a State service or a superadmin"
                .into(),
        ))
    }
}

/// May the actor register a grouping (syndicat, PETR) and its members? The préfecture's
/// arrêté creates it: State services and the reference administrator.
pub fn require_register_grouping(actor: &Actor) -> AppResult<()> {
    require_authenticated(actor)?;
    if actor.has(Role::State) || actor.has(Role::Superadmin) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "a syndicat or PETR is registered by a State service (the préfecture's arrêté)".into(),
        ))
    }
}

/// May the actor read the audit log of `organisation` (all organisations when `None`)?
/// An organisation's admins read its own; State services and superadmins read all.
pub fn require_audit_read(actor: &Actor, organisation: Option<i64>) -> AppResult<()> {
    require_authenticated(actor)?;
    if actor.has(Role::State) || actor.has(Role::Superadmin) {
        return Ok(());
    }
    match organisation {
        Some(org) if actor.acts_for(org, &[Role::Admin]) => Ok(()),
        _ => Err(AppError::Forbidden(
            "the audit log is for the organisation's admins and State services".into(),
        )),
    }
}

/// May the actor see an agreement between `parties`? Signed agreements (`public`) are public
/// acts; drafts and proposals are for the parties' staff and State services.
pub fn can_see_agreement(actor: &Actor, public: bool, parties: &[i64]) -> bool {
    public
        || actor.has(Role::State)
        || actor.has(Role::Superadmin)
        || parties
            .iter()
            .any(|&p| actor.acts_for(p, &[Role::Editor, Role::Admin, Role::Partner]))
}

/// May the actor see a reservation of a resource of `owner` by `requester`? Their staff and
/// State services.
pub fn can_see_reservation(actor: &Actor, owner: i64, requester: i64) -> bool {
    let staff = [Role::Editor, Role::Admin, Role::Partner];
    actor.has(Role::State)
        || actor.has(Role::Superadmin)
        || actor.acts_for(owner, &staff)
        || actor.acts_for(requester, &staff)
}

/// May the actor see who decided (a token subject, often a person's address) in a decision
/// between `parties`? The parties and State services; others see which party decided.
pub fn can_see_decider(actor: &Actor, parties: &[i64]) -> bool {
    actor.has(Role::State)
        || actor.has(Role::Superadmin)
        || actor
            .organisation_id
            .is_some_and(|org| parties.contains(&org) && !actor.roles.is_empty())
}

/// May the actor see something of `visibility` owned by `owner`?
pub fn can_see(actor: &Actor, visibility: Visibility, owner: i64) -> bool {
    match visibility {
        Visibility::Public => true,
        Visibility::Partners => actor.is_authenticated() && !actor.roles.is_empty(),
        Visibility::Restricted => {
            actor.has(Role::State)
                || actor.has(Role::Superadmin)
                || actor.acts_for(owner, &[Role::Editor, Role::Admin])
        }
    }
}
