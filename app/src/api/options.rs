//! `/tenant/options/{category}/{key}`: read and write one tenant option.

use anchorage_common::options::{OptionInput, TenantOption};
use gloo_net::http::Request;

use super::{ApiError, Client, encode, json, json_with_body};

impl Client {
    fn option_url(category: &str, key: &str) -> String {
        format!("/tenant/options/{}/{}", encode(category), encode(key))
    }

    /// The option, or `None` when the tenant has not set it (the server's 404).
    pub async fn option(&self, category: &str, key: &str) -> Result<Option<TenantOption>, ApiError> {
        match json(self.request(Request::get(&Self::option_url(category, key)))).await {
            Ok(option) => Ok(Some(option)),
            Err(ApiError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sets the option's value (creating it if absent); answers the option as stored.
    pub async fn set_option(&self, category: &str, key: &str, value: &str) -> Result<TenantOption, ApiError> {
        let body = OptionInput { value: Some(value.into()), ..OptionInput::default() };
        json_with_body(self.request(Request::put(&Self::option_url(category, key))), &body).await
    }
}
