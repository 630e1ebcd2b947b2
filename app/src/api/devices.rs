//! `GET /inventory/managedObjects?fragmentType=c8y_IsDevice`: the registered devices, a page
//! at a time with their total count, optionally filtered by text (searched on the server);
//! `PUT /inventory/managedObjects/{id}/user` to enable or disable a device, and
//! `DELETE /inventory/managedObjects/{id}?withDeviceUser=true` to delete it.

use anchorage_common::api::{DeviceRegistration, DeviceUserChange, PageStatistics};
use gloo_net::http::Request;
use serde::Deserialize;

use super::{ApiError, Client, encode, json, json_with_body, no_content};

/// A device as the Devices page shows it: the managed object's own fields and anchorage's
/// registration fragment (absent for objects anchorage did not register).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Device {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, rename = "type")]
    pub device_type: Option<String>,
    #[serde(default, rename = "anchorage_Registration")]
    pub registration: Option<DeviceRegistration>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Collection {
    #[serde(default)]
    managed_objects: Vec<Device>,
    statistics: PageStatistics,
    #[serde(default)]
    next: Option<String>,
}

/// One page of devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePage {
    pub devices: Vec<Device>,
    /// The page shown, from 1.
    pub page: u32,
    /// How many pages there are (at least 1).
    pub pages: u64,
    /// Whether a next page exists.
    pub has_next: bool,
    /// How many devices match, on every page.
    pub total: Option<u64>,
}

/// `PUT /inventory/managedObjects/{id}/user`'s answer.
#[derive(Deserialize)]
struct DeviceUser {
    enabled: bool,
}

impl Client {
    /// Page `page` (from 1) of `page_size` devices whose name or id contains `text`.
    pub async fn list_devices(&self, text: &str, page: u32, page_size: u32) -> Result<DevicePage, ApiError> {
        let mut url = format!(
            "/inventory/managedObjects?fragmentType=c8y_IsDevice&pageSize={page_size}&currentPage={page}&withTotalPages=true&withTotalElements=true"
        );
        let text = text.trim();
        if !text.is_empty() {
            url.push_str("&text=");
            url.push_str(&encode(text));
        }
        let c: Collection = json(self.request(Request::get(&url))).await?;
        let pages = c.statistics.total_pages.unwrap_or(u64::from(c.statistics.current_page)).max(1);
        Ok(DevicePage {
            devices: c.managed_objects,
            page: c.statistics.current_page,
            pages,
            has_next: c.next.is_some(),
            total: c.statistics.total_elements,
        })
    }

    /// Enables or disables the device's user (managed object `id`); answers the state stored.
    pub async fn set_device_enabled(&self, id: &str, enabled: bool) -> Result<bool, ApiError> {
        let url = format!("/inventory/managedObjects/{}/user", encode(id));
        let user: DeviceUser = json_with_body(self.request(Request::put(&url)), &DeviceUserChange { enabled }).await?;
        Ok(user.enabled)
    }

    /// Deletes the device (managed object `id`) with its device user, credentials and identity.
    pub async fn delete_device(&self, id: &str) -> Result<(), ApiError> {
        let url = format!("/inventory/managedObjects/{}?withDeviceUser=true", encode(id));
        no_content(self.request(Request::delete(&url))).await
    }
}
