//! The platform's timestamp format: ISO-8601 in UTC with milliseconds, `2022-06-17T13:47:33.000Z`.
//!
//! Written out by hand rather than with `time`'s format descriptions and RFC 3339 parser: the
//! console runs this in the browser, where `time`'s generic formatting and parsing machinery
//! would add tens of kilobytes to the download for two fixed formats.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Formats `t` the way the platform writes dates in JSON (`2022-06-17T13:47:33.000Z`).
pub fn platform(t: OffsetDateTime) -> String {
    // Only years 0..=9999 fit the format; outside them, the Unix time in seconds.
    let Some(utc) = t.checked_to_offset(UtcOffset::UTC).filter(|u| (0..=9999).contains(&u.year())) else {
        return t.unix_timestamp().to_string();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second(),
        utc.millisecond()
    )
}

/// Parses a platform timestamp; any RFC 3339 date-time is accepted, as `time` accepts it
/// (`2022-06-17T13:47:33Z`, `2022-06-17 15:47:33.123456+02:00`, …), whose instant falls in the
/// years 0 to 9999 in UTC (what [`platform`] prints back).
pub fn parse(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    // YYYY-MM-DDTHH:MM:SS is 19 bytes, then an optional fraction, then the offset.
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = Month::try_from(u8::try_from(digits(&b[5..7])?).ok()?).ok()?;
    let day = u8::try_from(digits(&b[8..10])?).ok()?;
    let hour = u8::try_from(digits(&b[11..13])?).ok()?;
    let minute = u8::try_from(digits(&b[14..16])?).ok()?;
    let second = u8::try_from(digits(&b[17..19])?).ok()?;
    let mut rest = &b[19..];
    let mut nanos = 0u32;
    if let Some((b'.', fraction)) = rest.split_first() {
        let len = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        // Nanoseconds: the first nine digits, the rest dropped (as `time` does).
        for (i, &c) in fraction[..len].iter().enumerate().take(9) {
            nanos += u32::from(c - b'0') * 10u32.pow(8 - i as u32);
        }
        rest = &fraction[len..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => UtcOffset::UTC,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hours = i8::try_from(digits(&[*h1, *h2])?).ok()?;
            let minutes = i8::try_from(digits(&[*m1, *m2])?).ok()?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let (hours, minutes) = if *sign == b'-' { (-hours, -minutes) } else { (hours, minutes) };
            UtcOffset::from_hms(hours, minutes, 0).ok()?
        }
        _ => return None,
    };
    let date = Date::from_calendar_date(i32::try_from(year).ok()?, month, day).ok()?;
    let time = Time::from_hms_nano(hour, minute, second, nanos).ok()?;
    let t = PrimitiveDateTime::new(date, time).assume_offset(offset);
    // Only instants [`platform`] can print back: in UTC, years 0 to 9999 (`0000-01-01T00:00:00+01:00`
    // is in the year -1; found by the `time` fuzz target).
    t.checked_to_offset(UtcOffset::UTC).is_some_and(|u| (0..=9999).contains(&u.year())).then_some(t)
}

/// The value of a run of ASCII digits.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::format_description::well_known::Rfc3339;
    use time::macros::datetime;

    #[test]
    fn formats_like_the_platform() {
        assert_eq!(platform(datetime!(2022-06-17 13:47:33 UTC)), "2022-06-17T13:47:33.000Z");
        assert_eq!(platform(datetime!(2022-06-17 15:47:33.5 +2)), "2022-06-17T13:47:33.500Z");
        assert_eq!(platform(datetime!(0001-01-01 00:00:00.999999 UTC)), "0001-01-01T00:00:00.999Z");
    }

    #[test]
    fn instants_outside_the_printable_years_are_refused() {
        assert_eq!(parse("0000-01-01T00:00:00+01:00"), None);
        assert_eq!(parse("9999-12-31T23:30:00-01:00"), None);
        assert!(parse("0000-01-01T00:00:00Z").is_some());
        assert!(parse("0000-01-01T00:00:00-01:00").is_some());
        assert!(parse("9999-12-31T23:59:59.999Z").is_some());
        assert!(parse("9999-12-31T23:30:00+01:00").is_some());
    }

    #[test]
    fn parses_what_it_formats() {
        let t = datetime!(2030-01-02 03:04:05 UTC);
        assert_eq!(parse(&platform(t)), Some(t));
        assert_eq!(parse("yesterday"), None);
    }

    #[test]
    fn parses_rfc3339_like_time_does() {
        let accepted = [
            "2022-06-17T13:47:33Z",
            "2022-06-17T13:47:33.000Z",
            "2022-06-17t13:47:33.5z",
            "2022-06-17 13:47:33Z",
            "2022-06-17T15:47:33.123456789+02:00",
            "2022-06-17T15:47:33.1234567891234-02:30",
            "2024-02-29T00:00:00Z",
            "1999-12-31T23:59:59.999-23:59",
        ];
        for s in accepted {
            assert_eq!(parse(s), OffsetDateTime::parse(s, &Rfc3339).ok(), "{s}");
            assert!(parse(s).is_some(), "{s}");
        }
        let refused = [
            "",
            "2022-06-17",
            "2022-06-17T13:47:33",
            "2022-06-17T13:47Z",
            "2022-06-17T13:47:33.Z",
            "2022-13-17T13:47:33Z",
            "2023-02-29T13:47:33Z",
            "2022-06-17T24:00:00Z",
            "2022-06-17T13:60:00Z",
            "2022-06-17T13:47:33+2:00",
            "2022-06-17T13:47:33+24:00",
            "2022-06-17T13:47:33+02:60",
            "2022-06-17T13:47:33+0200",
            "2022-06-17T13:47:33ZZ",
            "+2022-06-17T13:47:33Z",
            "２０２２-06-17T13:47:33Z",
        ];
        for s in refused {
            assert_eq!(parse(s), None, "{s}");
            assert_eq!(OffsetDateTime::parse(s, &Rfc3339).ok(), None, "{s}");
        }
    }
}
