//! `/alarm/alarms`: the certificate expiry alarms. [`active_count`] is the header's count (in
//! the first load: decoded by [`super::wire`], no serde_json); the list and the status change
//! are the alarms page's (its chunk).

use anchorage_common::alarms::{Alarm, AlarmCollection, AlarmStatus};
use gloo_net::http::Request;
use serde::Serialize;

use super::wire::{FromJson, Json};
use super::{ApiError, Client, encode, json, json_with_body, prepared, read};

/// The number of alarms in `statistics.totalElements`.
struct Total(u64);

impl FromJson for Total {
    fn from_json(v: &Json) -> Result<Self, String> {
        let field = |v: &'_ Json, key: &str| match v {
            Json::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()),
            _ => None,
        };
        match field(v, "statistics").and_then(|s| field(&s, "totalElements")) {
            Some(Json::Number(n)) => n.parse().map(Total).map_err(|_| "totalElements is not a count".to_string()),
            _ => Err("the answer has no statistics.totalElements".to_string()),
        }
    }
}

/// How many alarms are ACTIVE in the session's tenant (for the header).
pub async fn active_count() -> Result<u64, ApiError> {
    let url = "/alarm/alarms?status=ACTIVE&pageSize=1&withTotalElements=true";
    read::<Total>(prepared(Request::get(url))).await.map(|t| t.0)
}

/// Which alarms to list: by status (none: all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlarmView {
    /// ACTIVE and ACKNOWLEDGED.
    #[default]
    Open,
    Only(AlarmStatus),
    All,
}

/// One page of alarms.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmPage {
    pub alarms: Vec<Alarm>,
    /// The page shown, from 1.
    pub page: u32,
    /// How many pages there are (at least 1).
    pub pages: u64,
    pub has_next: bool,
}

impl Client {
    /// Page `page` (from 1) of `page_size` alarms of `view`, newest first.
    pub async fn list_alarms(&self, view: AlarmView, page: u32, page_size: u32) -> Result<AlarmPage, ApiError> {
        let mut url = format!("/alarm/alarms?pageSize={page_size}&currentPage={page}&withTotalPages=true");
        match view {
            AlarmView::Open => url.push_str("&resolved=false"),
            AlarmView::Only(status) => url.push_str(&format!("&status={}", encode(status.as_str()))),
            AlarmView::All => {}
        }
        let c: AlarmCollection = json(self.request(Request::get(&url))).await?;
        let current = u64::from(c.statistics.current_page);
        let has_next = match c.statistics.total_pages {
            Some(total) => current < total,
            None => c.next.is_some(),
        };
        let pages = c.statistics.total_pages.unwrap_or(current).max(1);
        Ok(AlarmPage { alarms: c.alarms, page: c.statistics.current_page, pages, has_next })
    }

    /// Sets an alarm's status (acknowledge, clear, reactivate); the alarm as it is now.
    pub async fn set_alarm_status(&self, id: &str, status: AlarmStatus) -> Result<Alarm, ApiError> {
        #[derive(Serialize)]
        struct Body {
            status: AlarmStatus,
        }
        let url = format!("/alarm/alarms/{}", encode(id));
        json_with_body(self.request(Request::put(&url)), &Body { status }).await
    }
}
