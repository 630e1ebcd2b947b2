//! `GET /audit/auditRecords`: what was done, by whom, from where; newest first, filtered and a
//! page at a time.

use anchorage_common::api::PageStatistics;
use gloo_net::http::Request;
use serde::Deserialize;

use super::{ApiError, Client, encode, json};

/// One audit record, leniently read (a platform behind the proxy may leave fields out).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AuditRecord {
    #[serde(default)]
    pub id: String,
    #[serde(default, rename = "type")]
    pub record_type: String,
    #[serde(default)]
    pub activity: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub time: String,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default, rename = "anchorage_Details")]
    pub details: Option<AuditDetails>,
}

/// What anchorage adds to a record; only the part the page shows is read. Device token
/// records (issued or refused) name the device, the certificate presented and the trusted
/// certificate that anchored it, as far as they were known.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditDetails {
    #[serde(default)]
    pub client_address: Option<String>,
    /// `ISSUED` or `REFUSED` (device tokens).
    #[serde(default)]
    pub result: Option<String>,
    /// The refusal's reason code.
    #[serde(default)]
    pub reason: Option<String>,
    /// The device's user name (`device_<external id>`).
    #[serde(default)]
    pub device: Option<String>,
    #[serde(default)]
    pub certificate_subject: Option<String>,
    #[serde(default)]
    pub certificate_issuer: Option<String>,
    #[serde(default)]
    pub certificate_serial_number_in_hex: Option<String>,
    /// SHA-1.
    #[serde(default)]
    pub certificate_fingerprint: Option<String>,
    #[serde(default)]
    pub certificate_sha256_fingerprint: Option<String>,
    #[serde(default)]
    pub trusted_certificate_fingerprint: Option<String>,
}

impl AuditRecord {
    /// The address the action came from, when anchorage recorded it.
    pub fn client_address(&self) -> Option<&str> {
        self.details.as_ref()?.client_address.as_deref()
    }
}

/// Which records to list; empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub record_type: String,
    pub user: String,
    /// RFC 3339 times.
    pub date_from: Option<String>,
    pub date_to: Option<String>,
    /// Leaves out this user's login records (anchorage's `hideLoginsOf`).
    pub hide_logins_of: Option<String>,
}

/// One page of audit records.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    /// The page shown, from 1.
    pub page: u32,
    /// How many pages there are (at least 1).
    pub pages: u64,
    pub has_next: bool,
}

impl Client {
    /// Page `page` (from 1) of `page_size` records matching `filter`, newest first.
    pub async fn list_audit_records(
        &self,
        filter: &AuditFilter,
        page: u32,
        page_size: u32,
    ) -> Result<AuditPage, ApiError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Collection {
            #[serde(default)]
            audit_records: Vec<AuditRecord>,
            statistics: PageStatistics,
            #[serde(default)]
            next: Option<String>,
        }
        let mut url =
            format!("/audit/auditRecords?pageSize={page_size}&currentPage={page}&withTotalPages=true&revert=true");
        let params = [
            ("type", Some(filter.record_type.trim())),
            ("user", Some(filter.user.trim())),
            ("dateFrom", filter.date_from.as_deref()),
            ("dateTo", filter.date_to.as_deref()),
            ("hideLoginsOf", filter.hide_logins_of.as_deref()),
        ];
        for (name, value) in params {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                url.push_str(&format!("&{name}={}", encode(value)));
            }
        }
        let c: Collection = json(self.request(Request::get(&url))).await?;
        let current = u64::from(c.statistics.current_page);
        // The platform may announce a `next` link on the last page: the count decides when known.
        let has_next = match c.statistics.total_pages {
            Some(total) => current < total,
            None => c.next.is_some(),
        };
        let pages = c.statistics.total_pages.unwrap_or(current).max(1);
        Ok(AuditPage { records: c.audit_records, page: c.statistics.current_page, pages, has_next })
    }
}
