//! `/user/{tenantId}/users`: the tenant's console users; list, create, change password, role or
//! enabled.

use anchorage_common::api::MAX_PAGE_SIZE;
use anchorage_common::users::{NewUser, User, UserChanges};
use gloo_net::http::Request;
use serde::Deserialize;

use super::{ApiError, Client, encode, json, json_with_body};

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
}
