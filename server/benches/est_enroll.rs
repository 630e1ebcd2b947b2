//! Benchmark: EST enrollments (`simpleenroll`, P-256 CSRs, the tenant CA's P-256 key) over real
//! HTTP to an in-process server on a fresh SQLite file, against signing alone in the same run.
//!
//! `cargo bench -p anchorage-server --bench est_enroll [-- <devices> <clients>]` (release
//! profile; defaults 2,000 devices, 4 clients). Before measuring: the CA, one new device request
//! with a one-time password per device (bulk CSV), and every device's key and CSR are made. Then:
//!
//! 1. one client, one enrollment at a time: the time of a request, and within it the time the
//!    server spends checking the CSR and signing (measured on the same CSRs in this process,
//!    one at a time): the share of a request spent on cryptography;
//! 2. `<clients>` concurrent clients: enrollments per second.
//!
//! Every answer is checked (200, a PKCS#7 with the device's certificate).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anchorage_server::clock::SystemClock;
use anchorage_server::config::{Config, Secret};
use base64::Engine as _;
use clap::Parser as _;

const TENANT: &str = "t100";
const PASSWORD: &str = "bench-password";

struct Device {
    id: String,
    otp: String,
    csr_b64: String,
    csr_der: Vec<u8>,
}

fn devices(n: usize, prefix: &str) -> Vec<Device> {
    (0..n)
        .map(|i| {
            let id = format!("{prefix}-{i:05}");
            let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
            let mut params = rcgen::CertificateParams::default();
            params.distinguished_name = rcgen::DistinguishedName::new();
            params.distinguished_name.push(rcgen::DnType::CommonName, id.as_str());
            let csr_der = params.serialize_request(&key).expect("csr").der().to_vec();
            let csr_b64 = base64::engine::general_purpose::STANDARD.encode(&csr_der);
            Device { otp: format!("otp-{i:05}-bench-password"), id, csr_b64, csr_der }
        })
        .collect()
}

async fn enroll(client: &reqwest::Client, base: &str, d: &Device) -> anyhow::Result<()> {
    let res = client
        .post(format!("{base}{}", anchorage_common::est::SIMPLE_ENROLL_PATH))
        .basic_auth(&d.id, Some(&d.otp))
        .header("Content-Type", "application/pkcs10")
        .body(d.csr_b64.clone())
        .send()
        .await?;
    let status = res.status();
    let body = res.text().await?;
    anyhow::ensure!(status == 200, "{}: {status} {body}", d.id);
    let der = base64::engine::general_purpose::STANDARD.decode(body.split_whitespace().collect::<String>())?;
    let certs = anchorage_common::pkcs7::certificates(&der).map_err(anyhow::Error::msg)?;
    anyhow::ensure!(certs.len() == 1, "{}: {} certificates", d.id, certs.len());
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n = args.first().copied().unwrap_or(2000);
    let clients = args.get(1).copied().unwrap_or(4).max(1);
    let dir = tempfile::tempdir()?;
    let mut config = Config::try_parse_from([
        "anchorage".to_string(),
        "--listen=127.0.0.1:0".into(),
        "--device-listen=127.0.0.1:0".into(),
        format!("--tenant={TENANT}"),
        format!("--data-dir={}", dir.path().display()),
    ])?;
    config.admin_password = Some(Secret(PASSWORD.into()));
    let server = anchorage_server::start(config, Arc::new(SystemClock)).await?;
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();
    let admin = format!("{TENANT}/admin");

    // The CA and the devices' requests.
    let res = client.post(format!("{base}/certificate-authority")).basic_auth(&admin, Some(PASSWORD)).send().await?;
    anyhow::ensure!(res.status() == 201, "CA: {}", res.status());
    let sequential = devices(200.min(n), "seq");
    let concurrent = devices(n, "par");
    let mut csv = String::from("ID;AUTH_TYPE;ENROLLMENT_OTP\n");
    for d in sequential.iter().chain(&concurrent) {
        csv.push_str(&format!("{};CERTIFICATES;{}\n", d.id, d.otp));
    }
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::text(csv).file_name("est.csv").mime_str("text/csv")?);
    let res = client
        .post(format!("{base}/devicecontrol/bulkNewDeviceRequests"))
        .basic_auth(&admin, Some(PASSWORD))
        .multipart(form)
        .send()
        .await?;
    anyhow::ensure!(res.status() == 201, "bulk: {}", res.status());

    // The cryptography alone, on the sequential devices' CSRs, with the tenant's CA.
    let authority = {
        let db = anchorage_server::db::open(
            &anchorage_server::db::Location::parse(&format!("sqlite://{}/anchorage.db", dir.path().display()))?,
            anchorage_server::db::PoolSizes { max: 1, min: 0 },
        )
        .await?;
        anchorage_server::db::ca::current(&db, TENANT).await?.ok_or_else(|| anyhow::anyhow!("no CA"))?
    };
    let secrets = anchorage_server::secrets::SecretBox::load_or_create(&dir.path().join("secret.key"))?;
    let issuer = anchorage_server::ca::issuer(
        &secrets,
        TENANT,
        &authority.der,
        &authority.private_key,
        &authority.key_algorithm,
    )?;
    let now = time::OffsetDateTime::now_utc();
    let validity = (now, now + time::Duration::days(365));
    let (mut verify, mut sign) = (Duration::ZERO, Duration::ZERO);
    for d in &sequential {
        let t = Instant::now();
        let csr = anchorage_server::ca::verify_csr(&d.csr_der).map_err(anyhow::Error::msg)?;
        verify += t.elapsed();
        let t = Instant::now();
        anchorage_server::ca::sign_device(&csr, &issuer, validity)?;
        sign += t.elapsed();
    }
    let per = |d: Duration| d.as_secs_f64() * 1e6 / sequential.len() as f64;

    // 1. One at a time.
    let started = Instant::now();
    for d in &sequential {
        enroll(&client, &base, d).await?;
    }
    let request = started.elapsed();
    let (verify_us, sign_us, request_us) = (per(verify), per(sign), per(request));
    println!("EST enrollment, P-256 CSRs, tenant CA P-256, SQLite, {} cores", num_cores());
    println!(
        "  one at a time ({} devices): {request_us:.0} µs a request; CSR check {verify_us:.0} µs + signing {sign_us:.0} µs = {:.0} % of it",
        sequential.len(),
        (verify_us + sign_us) * 100.0 / request_us
    );
    println!(
        "  signing alone: {:.0} certificates/s on one core (CSR check and signing: {:.0}/s)",
        1e6 / sign_us,
        1e6 / (verify_us + sign_us)
    );

    // 2. Concurrent clients.
    let concurrent = Arc::new(concurrent);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (concurrent, next, client, base) = (concurrent.clone(), next.clone(), client.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(d) = concurrent.get(i) else { return Ok::<(), anyhow::Error>(()) };
                enroll(&client, &base, d).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let elapsed = started.elapsed();
    println!(
        "  {clients} clients ({n} devices): {:.0} enrollments/s ({:.2} s)",
        n as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    server.stop().await?;
    Ok(())
}

fn num_cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}
