//! Devices: external ids and the name of the user a device authenticates as.

/// Prefix of every device user, as on the platform (`device_<external id>`).
pub const DEVICE_USER_PREFIX: &str = "device_";
/// Longest external id accepted.
pub const MAX_DEVICE_ID_CHARS: usize = 128;

/// The bytes that may start a character `check_device_id` refuses: non-ASCII, whitespace,
/// controls, `/`, `+`, `$` and `:` (a table: ids are checked by the 100,000 in bulk files).
const SUSPICIOUS: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = b >= 0x80
            || b <= 0x20
            || b == 0x7f
            || b == b'/' as usize
            || b == b'+' as usize
            || b == b'$' as usize
            || b == b':' as usize;
        b += 1;
    }
    table
};

/// A character a device id may not hold: whitespace, `/ + $ :`, and the control and
/// bidirectional formatting characters no name may hold ([`crate::names`]).
fn refused(c: char) -> bool {
    c.is_whitespace() || crate::names::is_unsafe(c) || "/+$:".contains(c)
}

/// Checks a device's external id (the `ID` of bulk registration, the CN of its certificate):
/// not empty, no whitespace and none of `/ + $ :` (the platform's rule; `:` would also break
/// the MQTT client id `d:<id>`), and no control or bidirectional formatting character.
pub fn check_device_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("the device id is empty".into());
    }
    // Bytes first: the ASCII refused characters are in the table, the others are non-ASCII.
    let suspicious = id.bytes().any(|b| SUSPICIOUS[usize::from(b)]);
    if id.len() > MAX_DEVICE_ID_CHARS && id.chars().count() > MAX_DEVICE_ID_CHARS {
        return Err(format!("the device id is longer than {MAX_DEVICE_ID_CHARS} characters"));
    }
    if suspicious && let Some(c) = id.chars().find(|c| refused(*c)) {
        let shown = if c.is_whitespace() {
            "whitespace".to_string()
        } else if crate::names::is_unsafe(c) {
            crate::names::describe(c)
        } else {
            format!("'{c}'")
        };
        return Err(format!(
            "the device id '{}' contains {shown}, which is not allowed (no whitespace, '/', '+', '$' or ':')",
            crate::names::escape(id)
        ));
    }
    Ok(())
}

/// The user a device with external id `id` authenticates as.
pub fn device_user_name(id: &str) -> String {
    format!("{DEVICE_USER_PREFIX}{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suspicious_bytes_are_the_refused_characters_and_non_ascii() {
        for b in 0..=255u8 {
            assert_eq!(SUSPICIOUS[usize::from(b)], !b.is_ascii() || refused(b as char), "byte {b:#04x}");
        }
    }

    #[test]
    fn device_ids_follow_the_platform_rule() {
        assert!(check_device_id("rpi4-d83add90fe56").is_ok());
        for bad in
            ["", "a b", "a/b", "a+b", "a$b", "d:1", "tab\there", "a\u{7}b", "a\u{202e}b", "a\u{2066}b", "\u{200f}a"]
        {
            assert!(check_device_id(bad).is_err(), "{bad:?}");
        }
        // The message quotes the id with the refused character written out, never the character.
        assert_eq!(
            check_device_id("dev\u{202e}1").unwrap_err(),
            "the device id 'dev<U+202E>1' contains a bidirectional formatting character (U+202E, right-to-left \
             override), which is not allowed (no whitespace, '/', '+', '$' or ':')"
        );
        assert!(check_device_id("gerät-日本").is_ok());
        assert_eq!(device_user_name("tedge01"), "device_tedge01");
    }
}
