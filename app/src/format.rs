//! How dates and durations read in the console. Dates are UTC, like everything the platform
//! returns, and say so.

use time::OffsetDateTime;

/// A date: `2026-05-01`.
pub fn date(t: OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// A date and time to the minute: `2026-05-01 13:47 UTC`.
pub fn date_time(t: OffsetDateTime) -> String {
    format!("{} {:02}:{:02} UTC", date(t), t.hour(), t.minute())
}

/// A platform timestamp as a date and time, or the text itself if it does not parse.
pub fn timestamp(s: &str) -> String {
    anchorage_common::timefmt::parse(s).map(date_time).unwrap_or_else(|| s.to_string())
}

/// "in 1 day" / "in N days" / "today".
pub fn days_from_now(days: i64) -> String {
    match days {
        0 => "today".to_string(),
        1 => "in 1 day".to_string(),
        n => format!("in {n} days"),
    }
}

/// "1 certificate" / "N certificates".
pub fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// A count with thousands separated: `100,000`.
pub fn number(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "1 device" / "1,234 devices".
pub fn count_of(n: u64, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{} {many}", number(n)) }
}

pub use crate::bulk_worker::protocol::sentence;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_group_thousands() {
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(1000), "1,000");
        assert_eq!(number(100_000), "100,000");
        assert_eq!(number(1_234_567), "1,234,567");
        assert_eq!(count_of(1, "row", "rows"), "1 row");
        assert_eq!(count_of(20_001, "row", "rows"), "20,001 rows");
        assert_eq!(sentence("the file is empty"), "The file is empty.");
    }
}
