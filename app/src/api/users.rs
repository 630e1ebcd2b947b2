//! `/user/{tenantId}/users`: the tenant's console users; list, create, change password, role or
//! enabled. `/user/currentUser/password`: the logged-in user's own password.

use anchorage_common::api::MAX_PAGE_SIZE;
use anchorage_common::users::{NewUser, PasswordChange, User, UserChanges};
use gloo_net::http::Request;
use serde::Deserialize;

use super::{ApiError, Client, encode, failure, json, json_with_body, unbuildable};

impl Client {
    fn users_url(&self) -> String {
        format!("/user/{}/users", encode(self.tenant_id()))
    }

    pub(super) fn user_url(&self, user_name: &str) -> String {
        format!("{}/{}", self.users_url(), encode(user_name))
    }

    /// Every user of the tenant (one page of the largest size).
    pub async fn list_users(&self) -> Result<Vec<User>, ApiError> {
        #[derive(Deserialize)]
        struct Collection {
            #[serde(default)]
            users: Vec<User>,
        }
        let url = format!("{}?pageSize={MAX_PAGE_SIZE}&withTotalPages=true", self.users_url());
        let page: Collection = json(self.request(Request::get(&url))).await?;
        Ok(page.users)
    }

    /// Creates a user.
    pub async fn create_user(&self, new: &NewUser) -> Result<User, ApiError> {
        json_with_body(self.request(Request::post(&self.users_url())), new).await
    }

    /// Changes the user's password, role or enabled state; answers the user as now stored.
    pub async fn update_user(&self, user_name: &str, changes: &UserChanges) -> Result<User, ApiError> {
        json_with_body(self.request(Request::put(&self.user_url(user_name))), changes).await
    }

    /// Changes the logged-in user's own password (reader or admin), with their current one.
    /// The server ends the user's other sessions; this one stays.
    pub async fn change_own_password(&self, change: &PasswordChange) -> Result<(), ApiError> {
        let request = self
            .request(Request::put("/user/currentUser/password"))
            .header("Content-Type", "application/json")
            .json(change)
            .map_err(unbuildable)?;
        let response = request.send().await.map_err(|_| ApiError::Network)?;
        if response.ok() { Ok(()) } else { Err(failure(response).await) }
    }
}
