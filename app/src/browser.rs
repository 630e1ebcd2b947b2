//! Thin wrappers over browser facilities the pages need besides HTTP: reading a file the
//! user picked, the clipboard, and download links. Failures come back as values; nothing
//! here can throw into Rust.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, FileList};

/// The handlers of a drop zone around a file input, for the pages that take files: each hands
/// the picked or dropped files to `add`, and `dragging` is true while files are dragged over
/// the zone. Returns the handlers of the input's `change`, of `dragover`/`dragenter`, and of
/// `drop`.
pub fn file_drop(
    add: impl Fn(Vec<File>) + Copy + 'static,
    dragging: leptos::prelude::RwSignal<bool>,
) -> (
    impl Fn(web_sys::Event) + Copy + 'static,
    impl Fn(web_sys::DragEvent) + Copy + 'static,
    impl Fn(web_sys::DragEvent) + Copy + 'static,
) {
    use leptos::prelude::Set as _;
    let picked = move |ev: web_sys::Event| {
        if let Some(input) = input_of(&ev) {
            add(files_of(input.files()));
            // Lets the same file be picked again (after it was removed or edited).
            input.set_value("");
        }
    };
    let drag_over = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        dragging.set(true);
    };
    let dropped = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(transfer) = ev.data_transfer() {
            add(files_of(transfer.files()));
        }
    };
    (picked, drag_over, dropped)
}

/// The files of a `FileList` (from a file input or a drop).
pub fn files_of(list: Option<FileList>) -> Vec<File> {
    list.map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect()).unwrap_or_default()
}

/// Reads a whole file.
pub async fn read_file(file: &File) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| format!("The file \"{}\" could not be read.", file.name()))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Copies `text` to the clipboard. Fails where the browser offers no clipboard (pages not
/// served over HTTPS or from localhost) or refuses.
pub async fn copy_text(text: &str) -> Result<(), ()> {
    let navigator = leptos::prelude::window().navigator();
    // `navigator.clipboard` is undefined outside secure contexts; calling it would throw.
    let has_clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into()).is_ok_and(|c| !c.is_undefined());
    if !has_clipboard {
        return Err(());
    }
    JsFuture::from(navigator.clipboard().write_text(text)).await.map(|_| ()).map_err(|_| ())
}

/// Selects the whole text of a textarea, so that the user can copy it by hand.
pub fn select_all(el: &web_sys::HtmlTextAreaElement) {
    let _ = el.focus();
    el.select();
}

/// A `data:` URL with `text`, for an `<a download>` link.
pub fn text_data_url(media_type: &str, text: &str) -> String {
    format!("data:{media_type};charset=utf-8,{}", js_sys::encode_uri_component(text))
}

/// A file name made of safe characters from `name`.
pub fn file_name(name: &str, extension: &str) -> String {
    let stem: String =
        name.chars().map(|c| if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect();
    let stem = stem.trim_matches(|c| c == '_' || c == '.');
    let stem = if stem.is_empty() { "certificate" } else { stem };
    format!("{stem}.{extension}")
}

/// `N` random bytes from the browser's cryptographic generator (`crypto.getRandomValues`), or
/// `None` where the browser has none. Called through `Reflect` rather than bindings of their
/// own, which would add imports to the main module and its JS glue (the first load).
pub fn random_bytes<const N: usize>() -> Option<[u8; N]> {
    let crypto = js_sys::Reflect::get(&leptos::prelude::window(), &"crypto".into()).ok()?;
    let get = js_sys::Reflect::get(&crypto, &"getRandomValues".into()).ok()?;
    if !get.is_function() {
        return None;
    }
    let array = js_sys::Uint8Array::new(&wasm_bindgen::JsValue::from(N as u32));
    get.unchecked_into::<js_sys::Function>().call1(&crypto, &array).ok()?;
    array.to_vec().try_into().ok()
}

/// The page's origin (`https://host:port`), as devices reach the same server.
pub fn origin() -> String {
    let location = leptos::prelude::window().location();
    js_sys::Reflect::get(&location, &"origin".into()).ok().and_then(|o| o.as_string()).unwrap_or_default()
}

/// The `HtmlInputElement` an event came from.
pub fn input_of(ev: &web_sys::Event) -> Option<web_sys::HtmlInputElement> {
    ev.target().and_then(|t| t.dyn_into().ok())
}
