//! Certificate revocation: the tenant's revocation list under
//! `/tenant/trusted-certificates/settings/crl` (add entries as JSON or as a CSV file, list them
//! a page at a time, download the signed DER CRL), and the three switches of the revocation check
//! (tenant options in `configuration`). (A device's certificates, which its details revoke, are
//! read by [`super::est`].)
//!
//! In the chunks of the settings and devices pages only (serde_json is fine here).

use anchorage_common::api::MAX_PAGE_SIZE;
use anchorage_common::crl::{CrlEntries, CrlEntryInput, RevokedSerial, RevokedSerials};
use anchorage_common::options::{CONFIGURATION, OptionInput, TenantOption, switch_on};
use gloo_net::http::Request;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, FormData};

use super::{ApiError, Client, encode, failure, json, json_with_body, unbuildable};

/// The revocation list's path (not tenant-scoped: the tenant is the session's).
const CRL_URL: &str = "/tenant/trusted-certificates/settings/crl";
/// Media type of the DER CRL.
const CRL_MEDIA_TYPE: &str = "application/pkix-crl";
/// Largest CRL download read, in bytes: 5000 entries of a 20-octet serial take about 200 KB.
const MAX_CRL_BYTES: usize = 4 * 1024 * 1024;

/// One page of revoked serials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedPage {
    pub serials: Vec<RevokedSerial>,
    /// The page shown, from 1.
    pub page: u32,
    /// How many serials match the search, when the server said.
    pub total: Option<u64>,
    /// Whether a next page exists.
    pub has_next: bool,
}

impl Client {
    /// Adds entries to the revocation list (JSON). A serial already listed keeps its entry.
    pub async fn add_revocations(&self, entries: &CrlEntries) -> Result<(), ApiError> {
        let request = self
            .request(Request::put(CRL_URL))
            .header("Content-Type", "application/json")
            .json(entries)
            .map_err(unbuildable)?;
        let response = request.send().await.map_err(|_| ApiError::Network)?;
        if response.ok() { Ok(()) } else { Err(failure(response).await) }
    }

    /// Revokes one serial (hex, as the list takes it), dated now by the server.
    pub async fn revoke_serial(&self, serial_hex: &str) -> Result<(), ApiError> {
        let entry = CrlEntryInput { serial_number_in_hex: Some(serial_hex.to_owned()), revocation_date: None };
        self.add_revocations(&CrlEntries { crls: vec![entry] }).await
    }

    /// Adds the entries of a CSV file (multipart part `file`), all or nothing.
    pub async fn upload_revocations(&self, file: &Blob, file_name: &str) -> Result<(), ApiError> {
        let failed = |_| ApiError::Unexpected("the browser refused to build the request".into());
        let form = FormData::new().map_err(failed)?;
        form.append_with_blob_and_filename("file", file, file_name).map_err(failed)?;
        // No Content-Type: the browser writes the multipart one with its boundary.
        let request = self.request(Request::put(CRL_URL)).body(form).map_err(unbuildable)?;
        let response = request.send().await.map_err(|_| ApiError::Network)?;
        if response.ok() { Ok(()) } else { Err(failure(response).await) }
    }

    /// Page `page` (from 1) of `page_size` revoked serials containing `query` (hex, colons
    /// and case ignored; empty for all).
    pub async fn revoked_serials(&self, query: &str, page: u32, page_size: u32) -> Result<RevokedPage, ApiError> {
        let mut url = format!("{CRL_URL}?pageSize={page_size}&currentPage={page}&withTotalElements=true");
        if !query.is_empty() {
            url.push_str("&query=");
            url.push_str(&encode(query));
        }
        let list: RevokedSerials = json(self.request(Request::get(&url))).await?;
        let (page, total) = list.statistics.map_or((page, None), |s| (s.current_page, s.total_elements));
        Ok(RevokedPage { has_next: list.next.is_some() && !list.crls.is_empty(), serials: list.crls, page, total })
    }

    /// The list's entry for `serial_hex` (normal form), if it is revoked.
    pub async fn revocation_of(&self, serial_hex: &str) -> Result<Option<RevokedSerial>, ApiError> {
        // The query is a substring: ask for all that contain it (real serials are long and
        // random, so these are few) and keep the exact match.
        let found = self.revoked_serials(serial_hex, 1, MAX_PAGE_SIZE).await?;
        Ok(found.serials.into_iter().find(|s| s.serial_number_in_hex == serial_hex))
    }

    /// The signed CRL of every entry (DER).
    pub async fn download_crl(&self) -> Result<Vec<u8>, ApiError> {
        let request = self.request(Request::get(CRL_URL)).header("Accept", CRL_MEDIA_TYPE);
        let response = request.send().await.map_err(|_| ApiError::Network)?;
        if !response.ok() {
            return Err(failure(response).await);
        }
        let der = bytes(response).await?;
        if der.len() > MAX_CRL_BYTES {
            return Err(ApiError::Unexpected(format!("a CRL of {} bytes", der.len())));
        }
        Ok(der)
    }

    /// Whether the switch `key` (of [`CONFIGURATION`]) is on; off when the tenant never set it.
    pub async fn switch(&self, key: &str) -> Result<bool, ApiError> {
        let option = self.option(CONFIGURATION, key).await?;
        Ok(switch_on(option.as_ref().map(|o| o.value.as_str())))
    }

    /// Turns the switch `key` (of [`CONFIGURATION`]) on or off, sending the value as a JSON
    /// boolean as the platform's UI does; answers the state now stored.
    pub async fn set_switch(&self, key: &str, on: bool) -> Result<bool, ApiError> {
        let body = OptionInput { value: Some(Value::Bool(on)), ..OptionInput::default() };
        let url = format!("/tenant/options/{}/{}", encode(CONFIGURATION), encode(key));
        let stored: TenantOption = json_with_body(self.request(Request::put(&url)), &body).await?;
        Ok(switch_on(Some(&stored.value)))
    }
}

/// The body of `response` as bytes. `Response.arrayBuffer()` is called through `Reflect`
/// rather than a binding of its own (gloo-net's `binary()`): each binding adds an import to the
/// wasm module and to its JS glue, which are part of the first load; these are there already.
async fn bytes(response: gloo_net::http::Response) -> Result<Vec<u8>, ApiError> {
    let raw = JsValue::from(web_sys::Response::from(response));
    let method = js_sys::Reflect::get(&raw, &"arrayBuffer".into()).map_err(|_| ApiError::Network)?;
    if !method.is_function() {
        return Err(ApiError::Unexpected("the browser cannot read a binary answer".into()));
    }
    let promise = method.unchecked_into::<js_sys::Function>().call0(&raw).map_err(|_| ApiError::Network)?;
    let buffer = JsFuture::from(promise.unchecked_into::<js_sys::Promise>()).await.map_err(|_| ApiError::Network)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}
