//! One rule for text the console shows as a name: trusted-certificate names (given by a user,
//! or defaulted from a certificate's CN) and device ids (`device::check_device_id`).
//!
//! Two classes of characters are never part of such a name:
//!
//! - **control characters**: Unicode's `Cc` (U+0000–U+001F, U+007F–U+009F: NUL, tab, line
//!   feed, escape, DEL, …) and the line and paragraph separators U+2028 and U+2029, which
//!   break a line as a line feed does;
//! - **bidirectional formatting characters**: the embeddings, overrides and their end
//!   (U+202A–U+202E), the isolates (U+2066–U+2069), and the invisible marks U+200E (LRM),
//!   U+200F (RLM) and U+061C (ALM). The first two groups reorder the text around them
//!   ("Trojan Source", CVE-2021-42574), so `ca\u{202e}txt.exe` shows as `caexe.txt`; the marks
//!   change where neighbouring digits and punctuation are drawn, and are invisible, so two
//!   names differing only by one look the same.
//!
//! Zero-width joiners and non-joiners (U+200C, U+200D) stay allowed: emoji and several
//! scripts need them, and they reorder nothing.

/// Longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 255;

/// Why a character is refused in a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsafe {
    /// A control character, or a line or paragraph separator.
    Control,
    /// A bidirectional formatting character.
    Bidi,
}

/// The class of `c` if it may not appear in a name.
pub fn classify(c: char) -> Option<Unsafe> {
    match c {
        '\u{2028}' | '\u{2029}' => Some(Unsafe::Control),
        c if c.is_control() => Some(Unsafe::Control),
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => Some(Unsafe::Bidi),
        _ => None,
    }
}

/// Whether `c` may not appear in a name (a control or bidirectional formatting character).
pub fn is_unsafe(c: char) -> bool {
    classify(c).is_some()
}

/// The first character of `s` that may not appear in a name.
pub fn first_unsafe(s: &str) -> Option<char> {
    s.chars().find(|&c| is_unsafe(c))
}

/// `c`'s code point, and the name of a bidirectional formatting character:
/// `U+0007`, `U+202E, right-to-left override`.
pub fn code(c: char) -> String {
    let code = format!("U+{:04X}", u32::from(c));
    let what = match c {
        '\u{061c}' => "Arabic letter mark",
        '\u{200e}' => "left-to-right mark",
        '\u{200f}' => "right-to-left mark",
        '\u{202a}' => "left-to-right embedding",
        '\u{202b}' => "right-to-left embedding",
        '\u{202c}' => "pop directional formatting",
        '\u{202d}' => "left-to-right override",
        '\u{202e}' => "right-to-left override",
        '\u{2066}' => "left-to-right isolate",
        '\u{2067}' => "right-to-left isolate",
        '\u{2068}' => "first strong isolate",
        '\u{2069}' => "pop directional isolate",
        _ => return code,
    };
    format!("{code}, {what}")
}

/// `c` in words, for a message: `a control character (U+0007)`,
/// `a bidirectional formatting character (U+202E, right-to-left override)`.
pub fn describe(c: char) -> String {
    match classify(c) {
        Some(Unsafe::Bidi) => format!("a bidirectional formatting character ({})", code(c)),
        Some(Unsafe::Control) if matches!(c, '\u{2028}' | '\u{2029}') => format!("a line break ({})", code(c)),
        Some(Unsafe::Control) => format!("a control character ({})", code(c)),
        None => format!("'{c}' ({})", code(c)),
    }
}

/// `s` with every character that may not appear in a name written as `<U+XXXX>`, so that a
/// message can quote refused input without the input reordering or breaking the message.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("<U+{:04X}>", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Checks a name a user gives (a trusted certificate's `name`): trimmed, not empty, at most
/// [`MAX_NAME_CHARS`] characters, and none of the characters this module refuses. Returns it
/// trimmed, or why it is refused (`name must …`).
pub fn check_display_name(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("name must not be empty".into());
    }
    if s.chars().count() > MAX_NAME_CHARS {
        return Err(format!("name must be at most {MAX_NAME_CHARS} characters"));
    }
    if let Some(c) = first_unsafe(s) {
        return Err(match classify(c) {
            Some(Unsafe::Bidi) => format!(
                "name must not contain bidirectional formatting characters (found {}): they make text show in \
                 another order than it is written",
                code(c)
            ),
            _ => format!("name must not contain control characters or line breaks (found {})", code(c)),
        });
    }
    Ok(s.to_string())
}

/// A name made from text nobody typed for it (a certificate's CN or subject), made to pass
/// [`check_display_name`]: each run of control characters and line breaks becomes one space,
/// bidirectional formatting characters are removed, and the result is trimmed and cut to
/// [`MAX_NAME_CHARS`] characters. Empty when nothing is left.
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_control = false;
    for c in s.chars() {
        match classify(c) {
            Some(Unsafe::Control) => {
                if !in_control {
                    out.push(' ');
                }
                in_control = true;
            }
            Some(Unsafe::Bidi) => {}
            None => {
                out.push(c);
                in_control = false;
            }
        }
    }
    let cut: String = out.trim().chars().take(MAX_NAME_CHARS).collect();
    cut.trim_end().to_string()
}

/// The name a trusted certificate gets when its upload names none: its subject's CN, else its
/// whole subject, else (an empty subject) its fingerprint, each [`sanitize`]d. It always passes
/// [`check_display_name`].
pub fn default_certificate_name(info: &crate::cert::CertificateInfo) -> String {
    info.common_name
        .iter()
        .chain(std::iter::once(&info.subject))
        .map(|n| sanitize(n))
        .find(|n| !n.is_empty())
        .unwrap_or_else(|| info.fingerprint.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        for c in ['\0', '\t', '\n', '\r', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}', '\u{2028}', '\u{2029}'] {
            assert_eq!(classify(c), Some(Unsafe::Control), "{c:?}");
        }
        for c in ['\u{61c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}'] {
            assert_eq!(classify(c), Some(Unsafe::Bidi), "{c:?}");
        }
        for c in ['a', ' ', 'é', '日', '\u{200c}', '\u{200d}', '\u{a0}', '😀', '\u{2065}', '\u{206a}', '\u{202f}'] {
            assert_eq!(classify(c), None, "{c:?}");
        }
    }

    #[test]
    fn describes_and_escapes_without_repeating_the_character() {
        assert_eq!(describe('\u{202e}'), "a bidirectional formatting character (U+202E, right-to-left override)");
        assert_eq!(describe('\u{7}'), "a control character (U+0007)");
        assert_eq!(describe('\u{2028}'), "a line break (U+2028)");
        assert_eq!(escape("a\u{202e}b\nc"), "a<U+202E>b<U+000A>c");
    }
}
