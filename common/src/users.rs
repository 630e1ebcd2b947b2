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
}
