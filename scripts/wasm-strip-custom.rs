//! Drops the custom sections (names, producers, target features, …) of wasm modules, in place.
//!
//! scripts/build-app.sh runs it on the chunks wasm-split writes: they carry the function names
//! of the linked console (hundreds of kilobytes), and they never pass through wasm-bindgen,
//! which strips the main module's. Built there with plain `rustc`: no dependencies.
//!
//! Usage: wasm-strip-custom FILE.wasm...

use std::process::ExitCode;

/// A LEB128 unsigned integer at `pos`: its value and the position after it.
fn uleb(bytes: &[u8], mut pos: usize) -> Option<(usize, usize)> {
    let mut value = 0usize;
    let mut shift = 0;
    loop {
        let byte = *bytes.get(pos)?;
        pos += 1;
        value |= usize::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some((value, pos));
        }
        shift += 7;
        if shift > 35 {
            return None;
        }
    }
}

/// The module without its custom sections (id 0), or `None` if it is not a wasm module.
fn strip(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.get(0..8)? != b"\0asm\x01\0\0\0" {
        return None;
    }
    let mut out = bytes[..8].to_vec();
    let mut pos = 8;
    while pos < bytes.len() {
        let id = bytes[pos];
        let (len, body) = uleb(bytes, pos + 1)?;
        let end = body.checked_add(len)?;
        if end > bytes.len() {
            return None;
        }
        if id != 0 {
            out.extend_from_slice(&bytes[pos..end]);
        }
        pos = end;
    }
    Some(out)
}

fn main() -> ExitCode {
    let mut status = ExitCode::SUCCESS;
    for path in std::env::args().skip(1) {
        let result = std::fs::read(&path).and_then(|bytes| match strip(&bytes) {
            Some(stripped) => std::fs::write(&path, stripped),
            None => Err(std::io::Error::other("not a wasm module")),
        });
        if let Err(e) = result {
            eprintln!("wasm-strip-custom: {path}: {e}");
            status = ExitCode::FAILURE;
        }
    }
    status
}
