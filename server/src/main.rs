//! The `anchorage` binary: configuration, logging, then [`anchorage_server::start`] (or a
//! `user` or `crl` command).

#![forbid(unsafe_code)]

use std::sync::Arc;

use anchorage_server::AdminBootstrap;
use anchorage_server::cli::{self, Cli, Command};
use anchorage_server::clock::SystemClock;
use tracing_subscriber::EnvFilter;

/// mimalloc instead of the system allocator: the device-token path allocates in many small
/// pieces (TLS records, HTTP, rows) across threads, where glibc's malloc took about 8 % of the
/// server's CPU (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Cli { config, command } = Cli::parse_with_env();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match command {
        Some(Command::User { action }) => return cli::run_user(&config, action).await,
        Some(Command::Crl { action }) => return cli::run_crl(&config, action).await,
        Some(Command::MigrateDb { from, to }) => return cli::run_migrate_db(&from, &to).await,
        Some(Command::RotateSecretKey) => return cli::run_rotate_secret_key(&config).await,
        Some(Command::CheckDb) => return cli::run_check_db(&config).await,
        None => {}
    }
    let (tenant, user) = (config.tenant.clone(), config.admin_user.clone());
    let running = anchorage_server::start(config, Arc::new(SystemClock)).await?;
    let url = format!("http://{}/", running.addr);
    println!();
    println!("  anchorage is running: console and API at {url}");
    match &running.admin {
        AdminBootstrap::CreatedWithGenerated(p) => {
            println!("  log in as '{user}' (tenant '{tenant}') with this generated password, shown only once:");
            println!("      {p}");
            println!(
                "  (only its argon2 hash is stored; set ANCHORAGE_ADMIN_PASSWORD on a fresh data dir to choose one)"
            );
        }
        AdminBootstrap::CreatedFromEnvironment => {
            println!("  log in as '{user}' (tenant '{tenant}') with the password from ANCHORAGE_ADMIN_PASSWORD")
        }
        AdminBootstrap::Proxy => println!("  proxy mode: log in with your platform user; the device listener is off"),
        AdminBootstrap::Existing => println!(
            "  log in as '{user}' (tenant '{tenant}') with the password set when this data directory was created"
        ),
    }
    println!("  curl: curl -u '{tenant}/{user}:<password>' {url}tenant/tenants/{tenant}/trusted-certificates");
    if let Some(device_addr) = running.device_addr {
        println!("  devices: POST https://{device_addr}/devicecontrol/deviceAccessToken over mutual TLS");
    }
    if let Some(ca) = &running.local_ca {
        println!(
            "  the device listener's certificate is signed by the local CA {} (give it to devices and curl as --cacert)",
            ca.display()
        );
    }
    println!();
    running.stop_on(stop_signal()).await
}

/// Ctrl-C, or SIGTERM (what a service manager or an orchestrator sends): new connections are
/// refused at once and open requests get `--shutdown-grace-seconds` to finish.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("stopping: finishing open requests");
}
