//! `POST /devicecontrol/bulkNewDeviceRequests`: uploads a CSV file (multipart part `file`);
//! `POST /anchorage/bulk-registration/existing` (anchorage's own): which device ids of a file
//! are registered already.
//!
//! The upload is the one call not made with gloo-net: `fetch` reports no upload progress, so
//! it uses `XMLHttpRequest`, whose `upload.onprogress` does.

use anchorage_common::api::{
    BulkNewDeviceRequestResult, ExistingDevices, ExistingDevicesQuery, MAX_EXISTING_QUERY_IDS,
};
use gloo_net::http::Request;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, FormData, ProgressEvent, XmlHttpRequest};

use super::{ApiError, Client, error_of, json_with_body};

const URL: &str = "/devicecontrol/bulkNewDeviceRequests";
const EXISTING_URL: &str = "/anchorage/bulk-registration/existing";

impl Client {
    /// The ids among `ids` that are registered devices of the tenant already, asked in lists
    /// of at most [`MAX_EXISTING_QUERY_IDS`].
    pub async fn existing_devices(&self, ids: &[String]) -> Result<Vec<String>, ApiError> {
        let mut existing = Vec::new();
        for chunk in ids.chunks(MAX_EXISTING_QUERY_IDS) {
            let query = ExistingDevicesQuery { ids: chunk.to_vec() };
            let answer: ExistingDevices = json_with_body(self.request(Request::post(EXISTING_URL)), &query).await?;
            existing.extend(answer.existing);
        }
        Ok(existing)
    }

    /// Registers the devices of the CSV `file`, sent under `file_name`. `progress` receives
    /// the bytes sent and the total as the upload proceeds.
    pub async fn register_devices(
        &self,
        file: &Blob,
        file_name: &str,
        progress: impl Fn(u64, u64) + 'static,
    ) -> Result<BulkNewDeviceRequestResult, ApiError> {
        let failed = |_| ApiError::Unexpected("the browser refused to send the file".into());
        let xhr = XmlHttpRequest::new().map_err(failed)?;
        xhr.open("POST", URL).map_err(failed)?;
        // The session cookie goes by itself (same origin); changes must echo its XSRF token.
        for (name, value) in [("UseXBasic", "true"), ("Accept", "application/json")] {
            xhr.set_request_header(name, value).map_err(failed)?;
        }
        if let Some(token) = super::session::xsrf_token() {
            xhr.set_request_header("X-XSRF-TOKEN", &token).map_err(failed)?;
        }
        let form = FormData::new().map_err(failed)?;
        form.append_with_blob_and_filename("file", file, file_name).map_err(failed)?;

        // `loadend` follows success, error and abort alike; the status tells them apart.
        let mut resolve = None;
        let finished = js_sys::Promise::new(&mut |ok, _| resolve = Some(ok));
        let on_end = Closure::<dyn FnMut()>::new(move || {
            if let Some(ok) = &resolve {
                let _ = ok.call0(&wasm_bindgen::JsValue::NULL);
            }
        });
        let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
            if e.length_computable() {
                progress(e.loaded() as u64, e.total() as u64);
            }
        });
        xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
        if let Ok(upload) = xhr.upload() {
            upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        }
        xhr.send_with_opt_form_data(Some(&form)).map_err(|_| ApiError::Network)?;
        let _ = JsFuture::from(finished).await;
        // The closures must live until the request is over.
        drop((on_end, on_progress));

        let status = xhr.status().unwrap_or(0);
        let body = xhr.response_text().ok().flatten().unwrap_or_default();
        match status {
            0 => Err(ApiError::Network),
            // The parser's own words would mean nothing to the reader.
            200..=299 => serde_json::from_str(&body)
                .map_err(|_| ApiError::Unexpected("the registration result could not be read".into())),
            s => Err(error_of(s, &body)),
        }
    }
}
