//! Benchmark: registering a 100,000-row bulk file (certificate devices, one extra external id
//! each) on the embedded SQLite, over real HTTP to an in-process server.
//!
//! `cargo bench -p anchorage-server --bench bulk_registration` (release profile). Prints the
//! time of each run on a fresh data directory and the median; the goal is ≤ 5 s.

use std::sync::Arc;
use std::time::Instant;

use anchorage_server::clock::SystemClock;
use anchorage_server::config::{Config, Secret};
use clap::Parser as _;

const ROWS: usize = 100_000;
const RUNS: usize = 3;

fn csv() -> String {
    let mut csv = String::from(
        "\"ID\";\"AUTH_TYPE\";\"CREDENTIALS\";\"TYPE\";\"NAME\";\"external-c8y_Imei\";\"c8y_Hardware.model\"\n",
    );
    for i in 0..ROWS {
        csv.push_str(&format!(
            "\"bench-{i:06}\";\"CERTIFICATES\";\"\";\"c8y_Device\";\"Bench device {i}\";\"imei-{i:06}\";\"M{}\"\n",
            i % 7
        ));
    }
    csv
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let body = csv();
    println!("bulk registration: {ROWS} rows, {:.1} MB, {RUNS} runs on fresh SQLite files", body.len() as f64 / 1e6);
    let mut times = Vec::new();
    for run in 1..=RUNS {
        let dir = tempfile::tempdir()?;
        let mut config = Config::try_parse_from([
            "anchorage".to_string(),
            "--listen=127.0.0.1:0".into(),
            "--device-listen=127.0.0.1:0".into(),
            "--tenant=t100".into(),
            format!("--data-dir={}", dir.path().display()),
        ])?;
        config.admin_password = Some(Secret("bench-password".into()));
        let server = anchorage_server::start(config, Arc::new(SystemClock)).await?;
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(body.clone().into_bytes()).file_name("bulk.csv").mime_str("text/csv")?,
        );
        let client = reqwest::Client::new();
        // Warm the credential cache so the run measures registration, not argon2.
        client
            .get(format!("http://{}/user/currentUser", server.addr))
            .basic_auth("t100/admin", Some("bench-password"))
            .send()
            .await?;
        let started = Instant::now();
        let res = client
            .post(format!("http://{}/devicecontrol/bulkNewDeviceRequests", server.addr))
            .basic_auth("t100/admin", Some("bench-password"))
            .multipart(form)
            .send()
            .await?;
        let status = res.status();
        let answer: serde_json::Value = res.json().await?;
        let elapsed = started.elapsed();
        anyhow::ensure!(
            status == 201 && answer["numberOfCreated"] == ROWS,
            "unexpected answer {status}: {}",
            answer["numberOfCreated"]
        );
        println!("  run {run}: {:.2} s ({:.0} rows/s)", elapsed.as_secs_f64(), ROWS as f64 / elapsed.as_secs_f64());
        times.push(elapsed.as_secs_f64());
        server.stop().await?;
    }
    times.sort_by(f64::total_cmp);
    println!("median: {:.2} s for {ROWS} rows", times[RUNS / 2]);
    Ok(())
}
