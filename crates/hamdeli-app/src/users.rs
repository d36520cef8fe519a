//! Managing users: open, change the role of, reset the password of and (de)activate a user.
//! A provincial officer manages only the county experts of the province (see the policy).

use hamdeli_domain::{Action, Role, Scope};
use hamdeli_store::users::{self, User};
use hamdeli_store::{Store, audit};

use crate::{Caller, Error, Result, audit_write};

/// The users the principal may manage: the users page and the API's list both show exactly
/// these (a provincial officer sees the county experts of the province, not every user there).
pub async fn list(store: &Store, caller: &Caller<'_>) -> Result<Vec<User>> {
    let p = caller.principal;
    p.authorize(Action::ManageUsers)?;
    Ok(users::list(store, &p.place_filter())
        .await?
        .into_iter()
        .filter(|u| p.allows(&Action::ManageUser(u.role, &u.scope)))
        .collect())
}

/// The user if the principal may manage it. Out of scope is refused before anything is shown;
/// only the national admin learns that an id does not exist.
pub async fn managed_user(store: &Store, caller: &Caller<'_>, id: i64) -> Result<User> {
    let p = caller.principal;
    p.authorize(Action::ManageUsers)?;
    match users::by_id(store, id).await? {
        Some(u) if p.allows(&Action::ManageUser(u.role, &u.scope)) => Ok(u),
        Some(_) => Err(Error::Denied),
        None if p.role == Role::NationalAdmin => Err(Error::NotFound),
        None => Err(Error::Denied),
    }
}

/// Opens a user's page (audited).
pub async fn read_user(store: &Store, caller: &Caller<'_>, id: i64) -> Result<User> {
    let user = managed_user(store, caller, id).await?;
    audit::record_read(
        store,
        &caller.actor(),
        audit::Event {
            action: "user.read",
            target_kind: "user",
            target_id: id.to_string(),
            detail: serde_json::json!({}),
        },
    )
    .await?;
    Ok(user)
}

pub async fn change_role(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
    role: Role,
    scope: &Scope,
) -> Result<()> {
    let user = managed_user(store, caller, id).await?;
    caller
        .principal
        .authorize(Action::AssignRole(role, scope))?;
    let mut tx = store.begin().await?;
    users::update_role_and_scope(&mut tx, id, role, scope).await?;
    audit_write(
        &mut tx,
        caller,
        "user.update_role",
        "user",
        id.to_string(),
        serde_json::json!({
            "from": { "role": user.role.as_str(), "scope": user.scope.label() },
            "to": { "role": role.as_str(), "scope": scope.label() },
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn reset_password(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
    password: String,
) -> Result<()> {
    managed_user(store, caller, id).await?;
    let mut tx = store.begin().await?;
    users::set_password(&mut tx, id, password).await?;
    audit_write(
        &mut tx,
        caller,
        "user.reset_password",
        "user",
        id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_active(store: &Store, caller: &Caller<'_>, id: i64, active: bool) -> Result<()> {
    managed_user(store, caller, id).await?;
    if caller.principal.user_id == Some(id) {
        return Err(Error::Invalid("user-cannot-deactivate-self"));
    }
    let mut tx = store.begin().await?;
    users::set_active(&mut tx, id, active).await?;
    audit_write(
        &mut tx,
        caller,
        if active {
            "user.activate"
        } else {
            "user.deactivate"
        },
        "user",
        id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Creates a user with a role and scope the principal may assign.
pub async fn create(store: &Store, caller: &Caller<'_>, new: users::NewUser) -> Result<i64> {
    let p = caller.principal;
    p.authorize(Action::ManageUsers)?;
    p.authorize(Action::AssignRole(new.role, &new.scope))?;
    if let Some(org) = new.scope.organisation() {
        crate::organisations::require_active(store, org).await?;
    }
    let (role, scope) = (new.role, new.scope.clone());
    let username = new.username.trim().to_ascii_lowercase();
    let mut tx = store.begin().await?;
    let id = users::create(&mut tx, new).await?;
    audit_write(
        &mut tx,
        caller,
        "user.create",
        "user",
        id.to_string(),
        serde_json::json!({ "username": username, "role": role.as_str(), "scope": scope.label() }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
