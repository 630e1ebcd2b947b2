//! The platform's timestamp format: ISO-8601 in UTC with milliseconds, `2022-06-17T13:47:33.000Z`.

use time::{OffsetDateTime, UtcOffset, format_description::FormatItem, macros::format_description};

const PLATFORM: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// Formats `t` the way the platform writes dates in JSON (`2022-06-17T13:47:33.000Z`).
pub fn platform(t: OffsetDateTime) -> String {
    // The format has only fixed-width numeric components, so formatting cannot fail for
    // years 0..=9999; outside that range fall back to RFC 3339, which never fails either.
    let utc = t.to_offset(UtcOffset::UTC);
    utc.format(PLATFORM).unwrap_or_else(|_| utc.unix_timestamp().to_string())
}

/// Parses a platform timestamp (any RFC 3339 form is accepted).
pub fn parse(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_like_the_platform() {
        assert_eq!(platform(datetime!(2022-06-17 13:47:33 UTC)), "2022-06-17T13:47:33.000Z");
        assert_eq!(platform(datetime!(2022-06-17 15:47:33.5 +2)), "2022-06-17T13:47:33.500Z");
    }

    #[test]
    fn parses_what_it_formats() {
        let t = datetime!(2030-01-02 03:04:05 UTC);
        assert_eq!(parse(&platform(t)), Some(t));
        assert_eq!(parse("yesterday"), None);
    }
}
