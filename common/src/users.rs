//! Console users: names, passwords and roles, checked the same way in the browser and on the
//! server.

use serde::{Deserialize, Serialize};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted (argon2 hashes anything, but bodies stay bounded).
pub const MAX_PASSWORD_CHARS: usize = 256;
/// Longest user name.
pub const MAX_USER_NAME_CHARS: usize = 64;

/// What a console user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserRole {
    /// Everything.
    Admin,
    /// Sees everything, changes nothing.
    Reader,
}

impl UserRole {
    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Admin => "admin",
            UserRole::Reader => "reader",
        }
    }
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "admin" => Ok(UserRole::Admin),
            "reader" => Ok(UserRole::Reader),
            other => Err(format!("role must be \"admin\" or \"reader\", not \"{other}\"")),
        }
    }
}

/// A user name: 1–64 characters, no whitespace, `/` or `:` (they would break
/// `<tenant>/<user>:<password>` credentials), and not the devices' `device_` prefix.
pub fn check_user_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("user name must not be empty".into());
    }
    if name.chars().count() > MAX_USER_NAME_CHARS {
        return Err(format!("user name must be at most {MAX_USER_NAME_CHARS} characters"));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control() || c == '/' || c == ':') {
        return Err("user name must not contain whitespace, '/' or ':'".into());
    }
    if name.starts_with(crate::device::DEVICE_USER_PREFIX) {
        return Err(format!("user names starting with '{}' belong to devices", crate::device::DEVICE_USER_PREFIX));
    }
    Ok(())
}

/// A password: at least 8 and at most 256 characters.
pub fn check_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(format!("password must have at least {MIN_PASSWORD_CHARS} characters"));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(format!("password must have at most {MAX_PASSWORD_CHARS} characters"));
    }
    Ok(())
}

/// Why an admin may not change their own role or enabled state: one click must not lock them
/// out. Another admin can. The server answers it (422) and the console shows it beside the
/// controls it disables.
pub const OWN_ACCOUNT_RULE: &str = "You cannot change your own role or disable yourself; another admin can.";

/// Whether `changes`, made by the user to their own account (now `role`, `enabled`), are
/// allowed: a password, or a role and enabled state that stay as they are.
pub fn check_own_changes(changes: &UserChanges, role: UserRole, enabled: bool) -> Result<(), String> {
    let role_changes = changes.role.is_some_and(|r| r != role);
    let enabled_changes = changes.enabled.is_some_and(|e| e != enabled);
    if role_changes || enabled_changes { Err(OWN_ACCOUNT_RULE.into()) } else { Ok(()) }
}

/// Body of `PUT /user/currentUser/password`, as the platform names its fields: the caller's
/// own password, changed with the current one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordChange {
    pub current_user_password: String,
    pub new_password: String,
}

/// A change of one's own password: the new one follows [`check_password`] and differs from
/// the current one (which the server verifies).
pub fn check_password_change(change: &PasswordChange) -> Result<(), String> {
    if change.current_user_password.is_empty() {
        return Err("enter your current password".into());
    }
    if change.current_user_password.chars().count() > MAX_PASSWORD_CHARS {
        return Err("the current password is not correct".into());
    }
    check_password(&change.new_password)?;
    if change.new_password == change.current_user_password {
        return Err("the new password must differ from the current one".into());
    }
    Ok(())
}

/// A console user as the API shows it (passwords are never returned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub user_name: String,
    #[serde(rename = "self", default)]
    pub self_url: String,
    pub enabled: bool,
    pub role: UserRole,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_password_change: Option<String>,
}

/// Body of `POST /user/{tenant}/users`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewUser {
    pub user_name: String,
    pub password: String,
    pub role: Option<UserRole>,
    pub enabled: Option<bool>,
}

/// Body of `PUT /user/{tenant}/users/{userName}`: any of password, role, enabled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<UserRole>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_passwords() {
        assert!(check_user_name("operator-1").is_ok());
        for bad in ["", "a b", "t/u", "u:p", "device_x"] {
            assert!(check_user_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_password("1234567").is_err());
        assert!(check_password("12345678").is_ok());
        assert!(check_password(&"x".repeat(257)).is_err());
        assert_eq!(UserRole::parse("reader"), Ok(UserRole::Reader));
        assert!(UserRole::parse("root").is_err());
    }

    #[test]
    fn own_account_keeps_role_and_enabled() {
        let demote = UserChanges { role: Some(UserRole::Reader), ..UserChanges::default() };
        let disable = UserChanges { enabled: Some(false), ..UserChanges::default() };
        let same = UserChanges { role: Some(UserRole::Admin), enabled: Some(true), password: None };
        let password = UserChanges { password: Some("new-password".into()), ..UserChanges::default() };
        assert_eq!(check_own_changes(&demote, UserRole::Admin, true), Err(OWN_ACCOUNT_RULE.into()));
        assert_eq!(check_own_changes(&disable, UserRole::Admin, true), Err(OWN_ACCOUNT_RULE.into()));
        assert!(check_own_changes(&same, UserRole::Admin, true).is_ok());
        assert!(check_own_changes(&password, UserRole::Reader, true).is_ok());
    }

    #[test]
    fn password_changes() {
        let change = |current: &str, new: &str| PasswordChange {
            current_user_password: current.into(),
            new_password: new.into(),
        };
        assert!(check_password_change(&change("old-password", "new-password")).is_ok());
        assert!(check_password_change(&change("", "new-password")).is_err());
        assert!(check_password_change(&change("old-password", "short")).is_err());
        assert!(check_password_change(&change("same-password", "same-password")).is_err());
        assert!(check_password_change(&change(&"x".repeat(300), "new-password")).is_err());
    }
}
