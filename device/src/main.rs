//! `anchorage-device`: enroll a device with a one-time password and keep its certificate
//! renewed, fetch or keep renewing a device access token over mutual TLS, make a test PKI, or
//! benchmark a device listener. Parses flags and calls the library.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchorage_device::bench::{self, BenchOptions, Target};
use anchorage_device::identity::{self, Identity};
use anchorage_device::{admin, baseline, clock, enroll, est, files, pair, pki, reenroll, token, watch};
use anyhow::Context as _;
use clap::{ArgGroup, Parser, Subcommand};

/// The device side of anchorage: enrollment with a one-time password and certificate renewal
/// (EST), device access tokens over mutual TLS, test PKIs, and a benchmark of the device listener.
#[derive(Parser)]
#[command(name = "anchorage-device", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Get the device's first certificate from the tenant CA with its one-time password (EST
    /// simpleenroll): a new key and the certificate, written only once both are at hand.
    Enroll(EnrollArgs),
    /// Renew the device's certificate over mutual TLS (EST simplereenroll), keeping the previous
    /// pair as .previous until the new one has got a device token; --watch keeps doing it.
    Reenroll(ReenrollArgs),
    /// Fetch a device access token (printed on stdout), or keep a file holding a valid one.
    Token(TokenArgs),
    /// Make a test PKI: root CA, optional intermediate, device certificates (PEM and
    /// PKCS#12) and devices.csv for bulk registration.
    Pki(PkiArgs),
    /// Measure token requests per second, each on a fresh TLS connection, optionally against a
    /// bare rustls baseline in the same run.
    Bench(BenchArgs),
    /// Serve the benchmark's baseline on its own: the bare rustls mutual-TLS server that `bench
    /// --baseline` runs in-process, as a process of its own (for a profiler such as callgrind).
    /// Runs until SIGTERM or Ctrl-C.
    Baseline(BaselineArgs),
}

#[derive(clap::Args)]
struct BaselineArgs {
    /// A directory made by `pki`: client certificates must chain to its root.
    #[arg(long)]
    pki: PathBuf,
    /// Loopback port to listen on (0: any free port; the URL is printed on stdout).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Write the CA that signed the server's certificate here (PEM), for the clients' --ca.
    #[arg(long)]
    ca_out: PathBuf,
}

#[derive(clap::Args)]
#[command(group(ArgGroup::new("identity").required(true).args(["cert", "pkcs12"])))]
struct TokenArgs {
    /// Base URL of anchorage's device listener (mutual TLS), e.g. https://127.0.0.1:8443.
    #[arg(long, env = "ANCHORAGE_DEVICE_URL")]
    url: String,
    /// PEM device certificate; intermediates may follow the leaf in the same file (they are
    /// sent in the TLS handshake).
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// PEM private key of --cert.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// PKCS#12 store with the device key and certificate chain (instead of --cert/--key).
    #[arg(long, conflicts_with_all = ["cert", "key"])]
    pkcs12: Option<PathBuf>,
    /// Name of the environment variable holding the PKCS#12 password.
    #[arg(long, default_value = "ANCHORAGE_DEVICE_P12_PASSWORD")]
    pkcs12_password_env: String,
    /// PEM CA certificate(s) to trust for the server (anchorage's local CA is
    /// `<data-dir>/tls/ca.pem`); without it, the public web roots.
    #[arg(long, env = "ANCHORAGE_DEVICE_CA")]
    ca: Option<PathBuf>,
    /// PEM chain sent as X-Ssl-Cert-Chain (leaf first, then intermediates; the device
    /// certificate is put in front when the file lacks it). Needed when the device's issuer is
    /// not itself a trusted certificate and the intermediates are not in --cert.
    #[arg(long)]
    chain: Option<PathBuf>,
    /// Keep --out holding a valid token: renew at half of each token's lifetime, retry failures
    /// with backoff, until Ctrl-C.
    #[arg(long, requires = "out")]
    watch: bool,
    /// Write the token to this file (atomically, mode 0600) instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(clap::Args)]
struct EnrollArgs {
    /// Base URL of anchorage's API (or any listener serving EST), e.g. http://127.0.0.1:8080.
    #[arg(long)]
    url: String,
    /// The device's external id (the certificate's CN).
    #[arg(long)]
    id: String,
    /// The one-time password the administrator set for the device (or in the environment, kept
    /// out of the process list).
    #[arg(long, env = est::OTP_ENV, hide_env_values = true)]
    otp: String,
    /// Where to write the new private key (PEM, PKCS#8, mode 0600).
    #[arg(long)]
    key: PathBuf,
    /// Where to write the certificate (PEM).
    #[arg(long)]
    cert: PathBuf,
    /// PEM CA certificate(s) to trust for an https --url; without it, the public web roots.
    #[arg(long, env = "ANCHORAGE_DEVICE_CA")]
    ca: Option<PathBuf>,
    /// Key algorithm.
    #[arg(long, value_enum, default_value_t = pki::KeyType::P256)]
    key_type: pki::KeyType,
    /// Replace an existing key and certificate (and remove their .previous files).
    #[arg(long)]
    force: bool,
}

#[derive(clap::Args)]
struct ReenrollArgs {
    /// Base URL of anchorage's device listener (mutual TLS), e.g. https://127.0.0.1:8443.
    #[arg(long, env = "ANCHORAGE_DEVICE_URL")]
    url: String,
    /// The device's certificate (PEM); replaced by the new one.
    #[arg(long)]
    cert: PathBuf,
    /// Its private key (PEM); kept unless --new-key.
    #[arg(long)]
    key: PathBuf,
    /// PEM CA certificate(s) to trust for the server (anchorage's local CA is
    /// `<data-dir>/tls/ca.pem`); without it, the public web roots.
    #[arg(long, env = "ANCHORAGE_DEVICE_CA")]
    ca: Option<PathBuf>,
    /// Ask for the new certificate with a new key (of --key-type, or the current key's type).
    #[arg(long)]
    new_key: bool,
    /// The new key's algorithm.
    #[arg(long, value_enum, requires = "new_key")]
    key_type: Option<pki::KeyType>,
    /// Keep running: renew each certificate once --at-percent of its lifetime has passed, retry
    /// failures with backoff, until Ctrl-C.
    #[arg(long)]
    watch: bool,
    /// With --watch: the share (per cent) of a certificate's lifetime after which it is renewed.
    #[arg(long, requires = "watch", default_value_t = anchorage_common::est::DEFAULT_REENROLL_PERCENT,
          value_parser = clap::value_parser!(u8).range(1..=99))]
    at_percent: u8,
}

#[derive(clap::Args)]
struct PkiArgs {
    /// Directory to write into (created if missing; existing files are never overwritten).
    #[arg(long)]
    out: PathBuf,
    /// CN of the root CA.
    #[arg(long, default_value = "anchorage test root")]
    root_cn: String,
    /// Issue the devices from an intermediate CA (optionally naming its CN).
    #[arg(long, num_args = 0..=1, default_missing_value = "anchorage test intermediate", value_name = "CN")]
    intermediate: Option<String>,
    /// How many device certificates.
    #[arg(long, default_value_t = 1)]
    devices: usize,
    /// Device ids (and CNs) are <prefix>0001, <prefix>0002, …
    #[arg(long, default_value = "dev-")]
    prefix: String,
    /// Validity of the device certificates in days.
    #[arg(long, default_value_t = 365)]
    days: u32,
    /// Key algorithm.
    #[arg(long, value_enum, default_value_t = pki::KeyType::P256)]
    key_type: pki::KeyType,
    /// A CRL distribution point (http URL) to write into every device certificate.
    #[arg(long)]
    crl_url: Option<String>,
    /// Password of the .p12 files; when unset, one is generated and written to
    /// <out>/p12-password.txt (mode 0600).
    #[arg(long, env = "ANCHORAGE_DEVICE_P12_PASSWORD", hide_env_values = true)]
    p12_password: Option<String>,
    /// Also write this many unrelated self-signed CA certificates, as one PEM bundle, to
    /// <out>/unrelated-cas.pem (for a tenant with many trusted CAs in a benchmark).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    unrelated_cas: u32,
}

#[derive(clap::Args)]
#[command(
    after_help = "Environment only:\n  ANCHORAGE_ADMIN_PASSWORD  the admin's password, for --upload-root, --extra-cas and an in-memory PKI"
)]
struct BenchArgs {
    /// Base URL of anchorage's device listener (a loopback address), e.g. https://127.0.0.1:8443.
    #[arg(long)]
    url: String,
    /// PEM CA certificate that signed the device listener's certificate.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Concurrent workers.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Seconds of measuring (no new request starts after that).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// At most this many requests in a run.
    #[arg(long, default_value_t = 10_000_000)]
    max_requests: u64,
    /// Device identities from a directory made by `pki` (its root must be uploaded with
    /// auto-registration, or use --upload-root). Without it, a PKI is made in memory and its
    /// root uploaded.
    #[arg(long)]
    pki: Option<PathBuf>,
    /// With no --pki: how many device identities to make in memory.
    #[arg(long, default_value_t = 64)]
    devices: usize,
    /// Upload the --pki root (enabled, auto-registration on) before measuring.
    #[arg(long)]
    upload_root: bool,
    /// Upload this many extra unrelated self-signed CAs (bulk API), measuring before and after.
    #[arg(long, default_value_t = 0)]
    extra_cas: usize,
    /// Also measure a bare rustls mutual-TLS server in this process and compare.
    #[arg(long)]
    baseline: bool,
    /// Also measure another mutual-TLS server that trusts the same device root and answers
    /// `{"accessToken":…}` (e.g. nginx with `ssl_verify_client on`), as NAME=URL (a loopback
    /// address); repeatable. Measured in the same rounds, after anchorage and the baseline.
    #[arg(long, value_name = "NAME=URL")]
    peer: Vec<String>,
    /// PEM CA certificate that signed the peers' server certificates (default: --ca's).
    #[arg(long)]
    peer_ca: Option<PathBuf>,
    /// Write the reports as JSON to this file too.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Process id of the anchorage server (on this machine), to report its CPU time too.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Measure this many times (alternating with the baseline) and report the totals; on a
    /// shared machine this evens out other load.
    #[arg(long, default_value_t = 1)]
    rounds: u32,
    /// Skip the unmeasured round of one request per device before measuring.
    #[arg(long)]
    no_warmup: bool,
    /// Base URL of anchorage's API (a loopback address), for uploads.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    admin_url: String,
    /// Admin user as <tenant>/<user>.
    #[arg(long, default_value = "t100/admin")]
    admin_user: String,
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Enroll(args) => run_enroll(args).await,
            Command::Reenroll(args) => run_reenroll(args).await,
            Command::Token(args) => run_token(args).await,
            Command::Pki(args) => run_pki(args),
            Command::Bench(args) => run_bench(args).await,
            Command::Baseline(args) => run_baseline(args).await,
        }
    });
    // Nothing left to finish: do not wait for idle pool threads.
    runtime.shutdown_background();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn load_identity(args: &TokenArgs) -> anyhow::Result<Identity> {
    match (&args.cert, &args.key, &args.pkcs12) {
        (Some(cert), Some(key), None) => Identity::from_pem_files(cert, key),
        (None, None, Some(p12)) => {
            let password = std::env::var(&args.pkcs12_password_env)
                .with_context(|| format!("set {} to the password of {}", args.pkcs12_password_env, p12.display()))?;
            Identity::from_pkcs12_file(p12, &password)
        }
        _ => anyhow::bail!("give --cert and --key, or --pkcs12"),
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

async fn run_token(args: TokenArgs) -> anyhow::Result<()> {
    let endpoint = anchorage_device::http::Endpoint::parse(&args.url)?;
    let identity = load_identity(&args)?;
    let roots = match &args.ca {
        Some(ca) => identity::roots_from_pem_file(ca)?,
        None => identity::web_roots(),
    };
    let chain_header = match &args.chain {
        Some(path) => {
            let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            Some(
                identity::chain_header(&identity, &pem)
                    .with_context(|| format!("reading the chain {}", path.display()))?,
            )
        }
        None => None,
    };
    let tls = identity::client_config(&identity, Arc::new(roots), true)?;
    let client = token::TokenClient::new(endpoint, tls, chain_header);
    match (&args.out, args.watch) {
        (Some(out), true) => {
            watch::watch(&client, out, &clock::SystemClock, &watch::WatchConfig::default(), shutdown_signal()).await
        }
        (Some(out), false) => {
            let token = client.fetch().await?;
            files::write_atomic(out, format!("{}\n", token.as_str()).as_bytes())?;
            eprintln!("wrote a token to {} (expires {})", out.display(), token.expires_at());
            Ok(())
        }
        (None, _) => {
            let token = client.fetch().await?;
            println!("{}", token.as_str());
            Ok(())
        }
    }
}

/// The trust roots for the server: --ca, or the public web roots.
fn server_roots(ca: Option<&PathBuf>) -> anyhow::Result<rustls::RootCertStore> {
    match ca {
        Some(ca) => identity::roots_from_pem_file(ca),
        None => Ok(identity::web_roots()),
    }
}

async fn run_enroll(args: EnrollArgs) -> anyhow::Result<()> {
    let endpoint = anchorage_device::http::Endpoint::parse(&args.url)?;
    let tls = identity::anonymous_client_config(Arc::new(server_roots(args.ca.as_ref())?))?;
    let client = est::EstClient::new(endpoint, tls);
    let options = enroll::EnrollOptions {
        device_id: args.id,
        otp: args.otp,
        key_type: args.key_type,
        paths: pair::PairPaths::new(args.key, args.cert)?,
        force: args.force,
    };
    let cert = enroll::enroll(&client, &options).await?;
    eprintln!(
        "enrolled '{}': wrote {} and {} (serial {}, valid until {})",
        options.device_id,
        options.paths.cert().display(),
        options.paths.key().display(),
        cert.serial_hex,
        cert.not_after_text()
    );
    Ok(())
}

async fn run_reenroll(args: ReenrollArgs) -> anyhow::Result<()> {
    let endpoint = anchorage_device::http::Endpoint::parse(&args.url)?;
    let roots = Arc::new(server_roots(args.ca.as_ref())?);
    let mut renewer = reenroll::Renewer::new(endpoint, roots, pair::PairPaths::new(args.key, args.cert)?)?;
    if args.new_key {
        renewer = renewer.with_new_key(args.key_type);
    }
    if args.watch {
        return renewer
            .watch(&clock::SystemClock, args.at_percent, &watch::WatchConfig::default(), shutdown_signal())
            .await;
    }
    let renewed = renewer.reenroll().await?;
    if let reenroll::Recovered::RestoredPrevious(why) = &renewed.recovered {
        eprintln!("note: an earlier re-enrollment was unfinished; its previous pair was put back first ({why})");
    }
    eprintln!(
        "re-enrolled: {} holds the new certificate (serial {}, valid until {}){}; the previous one (serial {}) is \
         replaced",
        renewer.paths().cert().display(),
        renewed.certificate.serial_hex,
        renewed.certificate.not_after_text(),
        if renewed.new_key { format!(", {} a new key", renewer.paths().key().display()) } else { String::new() },
        renewed.replaced.serial_hex
    );
    Ok(())
}

fn run_pki(args: PkiArgs) -> anyhow::Result<()> {
    let options = pki::PkiOptions {
        root_cn: args.root_cn,
        intermediate_cn: args.intermediate,
        devices: args.devices,
        prefix: args.prefix,
        days: args.days,
        key_type: args.key_type,
        now: time::OffsetDateTime::now_utc(),
        crl_url: args.crl_url,
    };
    // Checked before anything is written: a refusal leaves the folder as it was.
    let unrelated_path = args.out.join("unrelated-cas.pem");
    anyhow::ensure!(args.unrelated_cas == 0 || !unrelated_path.exists(), "{} exists already", unrelated_path.display());
    let made = pki::generate(&options)?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let password = match args.p12_password.filter(|p| !p.is_empty()) {
        Some(p) => p,
        None => {
            let p: String = {
                use rand::Rng as _;
                rand::thread_rng().sample_iter(&rand::distributions::Alphanumeric).take(24).map(char::from).collect()
            };
            let path = args.out.join("p12-password.txt");
            files::write_private(&path, format!("{p}\n").as_bytes())?;
            eprintln!("generated a PKCS#12 password: see {}", path.display());
            p
        }
    };
    let written = made.write(&args.out, &password)?;
    println!("root CA:       {}", written.root.display());
    if let Some(i) = &written.intermediate {
        println!("intermediate:  {}", i.display());
    }
    println!(
        "devices:       {} ({} … {})",
        written.ids.len(),
        written.ids.first().map_or("", String::as_str),
        written.ids.last().map_or("", String::as_str)
    );
    println!("bulk CSV:      {}", written.csv.display());
    if args.unrelated_cas > 0 {
        let bundle: String =
            admin::unrelated_cas(args.unrelated_cas as usize)?.into_iter().map(|(_, pem)| pem).collect();
        files::write_public(&unrelated_path, bundle.as_bytes())?;
        println!("other CAs:     {} ({})", args.unrelated_cas, unrelated_path.display());
    }
    Ok(())
}

async fn run_baseline(args: BaselineArgs) -> anyhow::Result<()> {
    let d = pki::read_dir(&args.pki)?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let server = baseline::Baseline::start_on(identity::roots_from_pem(d.root_pem.as_bytes())?, args.port).await?;
    // Whole or absent: a script waiting for the file reads it only once it is complete.
    files::write_atomic_mode(&args.ca_out, server.ca_pem.as_bytes(), 0o644)
        .with_context(|| format!("writing {}", args.ca_out.display()))?;
    println!("https://{}", server.addr);
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    server.stop().await;
    Ok(())
}

async fn run_bench(args: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.clients >= 1, "--clients must be at least 1");
    anyhow::ensure!(args.duration > 0.0 && args.duration <= 3600.0, "--duration is 0 to 3600 seconds");
    anyhow::ensure!((1..=100).contains(&args.rounds), "--rounds is 1 to 100");
    let (root_pem, identities, upload_root) = match &args.pki {
        Some(dir) => {
            let d = pki::read_dir(dir)?;
            (d.root_pem, d.devices.into_iter().map(|(_, i)| i).collect::<Vec<_>>(), args.upload_root)
        }
        None => {
            let made = pki::generate(&pki::PkiOptions {
                root_cn: format!("anchorage bench root {:08x}", rand::random::<u32>()),
                devices: args.devices.max(1),
                prefix: "bench-".into(),
                ..pki::PkiOptions::default()
            })?;
            let ids = made.devices.iter().map(|d| d.identity()).collect::<anyhow::Result<Vec<_>>>()?;
            (made.root.cert_pem, ids, true)
        }
    };

    let admin = if upload_root || args.extra_cas > 0 {
        let password =
            std::env::var("ANCHORAGE_ADMIN_PASSWORD").context("set ANCHORAGE_ADMIN_PASSWORD to upload certificates")?;
        let admin = admin::Admin::new(&args.admin_url, &args.admin_user, &password)?;
        let admin_addr = admin.endpoint().resolve().await?;
        anyhow::ensure!(
            admin_addr.iter().all(|a| a.ip().is_loopback()),
            "{}: the benchmark talks to loopback addresses only",
            args.admin_url
        );
        let tenant = admin.tenant().await?;
        if upload_root {
            let fresh = admin.trust(&tenant, "anchorage bench root", &root_pem, true).await?;
            eprintln!("device root {} to tenant {tenant}", if fresh { "uploaded" } else { "already uploaded" });
        }
        Some((admin, tenant))
    } else {
        None
    };

    let options = BenchOptions {
        clients: args.clients,
        duration: Duration::from_secs_f64(args.duration),
        max_requests: args.max_requests,
        server: args.server_pid.map_or(bench::ServerProcess::Unknown, bench::ServerProcess::Pid),
        ..BenchOptions::default()
    };
    let server_roots = match &args.ca {
        Some(ca) => identity::roots_from_pem_file(ca)?,
        None => identity::web_roots(),
    };
    eprintln!(
        "{} clients, {:.0} s a run, {} round(s), {} device identities, {} CPU cores on this machine (shared by client and server)",
        args.clients,
        args.duration,
        args.rounds,
        identities.len(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let anchorage = Arc::new(Target::new("anchorage", &args.url, server_roots, &identities).await?);
    let baseline = match args.baseline {
        true => {
            let server = baseline::Baseline::start(identity::roots_from_pem(root_pem.as_bytes())?).await?;
            let roots = identity::roots_from_pem(server.ca_pem.as_bytes())?;
            let target =
                Arc::new(Target::new("baseline", &format!("https://{}", server.addr), roots, &identities).await?);
            Some((server, target))
        }
        false => None,
    };
    let peer_roots = match args.peer_ca.as_ref().or(args.ca.as_ref()) {
        Some(ca) => identity::roots_from_pem_file(ca)?,
        None => identity::web_roots(),
    };
    let mut peers = Vec::new();
    for spec in &args.peer {
        let (name, url) = spec.split_once('=').context("--peer takes NAME=URL")?;
        anyhow::ensure!(!name.is_empty(), "--peer {spec}: the name is empty");
        peers.push(Arc::new(Target::new(name, url, peer_roots.clone(), &identities).await?));
    }
    let result = async {
        if !args.no_warmup {
            warm_up(&anchorage, &options).await?;
            if let Some((_, target)) = &baseline {
                warm_up(target, &options).await?;
            }
            for peer in &peers {
                warm_up(peer, &options).await?;
            }
        }
        let baseline_options = BenchOptions { server: bench::ServerProcess::Threads("baseline"), ..options.clone() };
        let peer_options = BenchOptions { server: bench::ServerProcess::Unknown, ..options.clone() };
        let mut others: Vec<(&Arc<Target>, &BenchOptions)> = Vec::new();
        if let Some((_, target)) = &baseline {
            others.push((target, &baseline_options));
        }
        others.extend(peers.iter().map(|p| (p, &peer_options)));
        let mut phases = Vec::new();
        if args.extra_cas > 0 {
            phases.push(
                measure(&anchorage, &others, &options, args.rounds, trusted_count(admin.as_ref()).await).await,
            );
            if let Some((admin, tenant)) = &admin {
                let t = Instant::now();
                let n = args.extra_cas;
                let cas = tokio::task::spawn_blocking(move || admin::unrelated_cas(n)).await??;
                admin.trust_bulk(tenant, &cas).await?;
                eprintln!("uploaded {} extra CAs in {:.1} s", cas.len(), t.elapsed().as_secs_f64());
            }
        }
        phases.push(measure(&anchorage, &others, &options, args.rounds, trusted_count(admin.as_ref()).await).await);
        for (a, b) in &phases {
            let mut refs = vec![a];
            refs.extend(b.iter());
            print!("{}", bench::table(&refs));
            println!();
        }
        if let [(a0, b0), (a1, b1)] = phases.as_slice() {
            if a0.rate() > 0.0 {
                println!("{} / {}: {:.1}%", a1.label, a0.label, 100.0 * a1.rate() / a0.rate());
            }
            if let (Some(b0), Some(b1)) = (b0.first(), b1.first())
                && a0.rate() > 0.0
                && b1.rate() > 0.0
            {
                let normalised = (a1.rate() / b1.rate()) / (a0.rate() / b0.rate());
                println!(
                    "the same, each as a share of the {} measured beside it: {:.1}%",
                    b0.label,
                    100.0 * normalised
                );
            }
        }
        if let Some(path) = &args.json {
            let phases: Vec<serde_json::Value> = phases
                .iter()
                .map(|(a, others)| {
                    serde_json::json!({
                        "targets": std::iter::once(a).chain(others.iter()).map(bench::Report::to_json).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let doc = serde_json::json!({
                "clients": args.clients,
                "durationSeconds": args.duration,
                "rounds": args.rounds,
                "devices": identities.len(),
                "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
                "phases": phases,
            });
            std::fs::write(path, serde_json::to_vec_pretty(&doc)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        anyhow::Ok(())
    }
    .await;
    if let Some((server, _)) = baseline {
        server.stop().await;
    }
    result
}

/// How many trusted certificates the tenant has, for labels (when the admin API is at hand).
async fn trusted_count(admin: Option<&(admin::Admin, String)>) -> Option<u64> {
    let (admin, tenant) = admin?;
    admin.count_trusted(tenant).await.ok()
}

async fn warm_up(target: &Arc<Target>, options: &BenchOptions) -> anyhow::Result<()> {
    let w = bench::warm_up(target.clone(), options.timeout).await;
    if w.tokens == 0 {
        anyhow::bail!(
            "{}: no device got a token in the warm-up (errors: {}); is the device root uploaded with auto-registration?",
            target.label,
            w.errors_text()
        );
    }
    eprintln!(
        "{}: warm-up (one request per device, one at a time): {} tokens, errors: {}",
        target.label,
        w.tokens,
        w.errors_text()
    );
    Ok(())
}

/// `rounds` runs of anchorage, each followed by one of each other target (the baseline, the
/// peers), merged per target.
async fn measure(
    anchorage: &Arc<Target>,
    others: &[(&Arc<Target>, &BenchOptions)],
    options: &BenchOptions,
    rounds: u32,
    trusted: Option<u64>,
) -> (bench::Report, Vec<bench::Report>) {
    let label = match trusted {
        Some(1) => "anchorage, 1 CA".to_string(),
        Some(n) => format!("anchorage, {n} CAs"),
        None => "anchorage".to_string(),
    };
    let mut a_runs = Vec::new();
    let mut o_runs: Vec<Vec<bench::Report>> = others.iter().map(|_| Vec::new()).collect();
    for round in 1..=rounds {
        let a = bench::run(anchorage.clone(), options).await;
        let mut line = format!("round {round}: {label}: {:.1} tokens/s", a.rate());
        a_runs.push(a);
        for ((target, target_options), runs) in others.iter().zip(o_runs.iter_mut()) {
            let r = bench::run((*target).clone(), target_options).await;
            line.push_str(&format!(", {}: {:.1} tokens/s", target.label, r.rate()));
            runs.push(r);
        }
        eprintln!("{line}");
    }
    let mut a = bench::Report::merge(&a_runs);
    a.label = label;
    (a, o_runs.iter().map(|runs| bench::Report::merge(runs)).collect())
}
