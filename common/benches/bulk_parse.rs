//! Benchmark: `bulk::parse` (parse + full validation) of the 100,000-row file the browser
//! benchmark uses, natively, whole and in pieces. `cargo bench -p anchorage-common --bench bulk_parse`.

use std::time::Instant;

fn main() {
    let mut text = String::from("ID;TYPE;NAME;PATH;AUTH_TYPE;CREDENTIALS\n");
    for i in 0..100_000 {
        let n = format!("{i:06}");
        text.push_str(&format!(
            "bench-device-{n};c8y_Linux;Device {n} hall {};Region {}/Site {}/Hall {};BASIC;pw-{n}-correct-horse-battery\n",
            i % 7, i % 5, i % 13, i % 7
        ));
    }
    let mut times = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        let file = anchorage_common::bulk::parse(text.as_bytes()).expect("parses");
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(file.summary.valid, 100_000);
    }
    times.sort_by(f64::total_cmp);
    // As the browser's worker does: the file fed in the pieces a Blob stream gives (about 1 MiB).
    let mut streamed = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        let mut parser = anchorage_common::bulk::StreamParser::new(text.len());
        for piece in text.as_bytes().chunks(1 << 20) {
            parser.feed(piece);
        }
        let file = parser.finish().expect("parses");
        streamed.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(file.summary.valid, 100_000);
    }
    streamed.sort_by(f64::total_cmp);
    let mut floor: Vec<f64> = (0..7).map(|_| csv_floor(&text)).collect();
    floor.sort_by(f64::total_cmp);
    println!("csv crate alone (read_record into one StringRecord): median {:.1} ms", floor[3]);
    println!(
        "bulk::parse, 100,000 rows, {:.1} MB: median {:.1} ms (min {:.1}, max {:.1})",
        text.len() as f64 / 1e6,
        times[3],
        times[0],
        times[6]
    );
    println!(
        "bulk::StreamParser, the same file in 1 MiB pieces: median {:.1} ms (min {:.1}, max {:.1})",
        streamed[3], streamed[0], streamed[6]
    );
}

/// The floor: reading the same text with the csv crate alone.
fn csv_floor(text: &str) -> f64 {
    let started = Instant::now();
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').has_headers(false).from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let mut n = 0;
    while reader.read_record(&mut record).unwrap_or(false) {
        n += record.len();
    }
    assert!(n > 0);
    started.elapsed().as_secs_f64() * 1000.0
}
