//! The command line: `anchorage [flags]` serves; `anchorage user …` manages console users on
//! the same data directory (for the first admin's lost password, or scripted set-up);
//! `anchorage crl remove <serial>` takes an entry off a tenant's certificate revocation list;
//! `anchorage migrate-db --from sqlite://… --to postgres://…` moves an embedded installation
//! to PostgreSQL; `anchorage check-db` says whether every row is whole.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use anchorage_common::users::{UserRole, check_password, check_user_name};

use crate::config::{Config, Secret};
use crate::{auth, db};

/// anchorage: a console and service for X.509 device authentication that speaks the
/// Cumulocity IoT REST API.
#[derive(Parser)]
#[command(
    name = "anchorage",
    version,
    about,
    long_about = None,
    after_help = "Environment only:\n  ANCHORAGE_ADMIN_PASSWORD  password of the admin user created at first start (at least 8 characters;\n                            generated and printed once when unset; ignored once the tenant has an admin)\n  ANCHORAGE_USER_PASSWORD   password for `anchorage user add|passwd` (else read from standard input)\n  RUST_LOG                  log filter (default: info)"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Manage console users in the data directory's database.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Manage the certificate revocation list in the data directory's database.
    Crl {
        #[command(subcommand)]
        action: CrlAction,
    },
    /// Replace the secret key file (`--secret-key-file`) by a new key and re-seal every secret
    /// of the database under it, in one transaction. Stop every instance on the database first
    /// and start them again with the new file; the old key is kept beside it as
    /// `<file>.old-<time>` (it opens backups made before). EST one-time passwords set before
    /// stop matching (they are listed: set new ones).
    RotateSecretKey,
    /// Check that every row of the database is whole (after a crash, a restore, a copy): each
    /// device user with its managed object and external id, no token or certificate of a missing
    /// device, each trusted certificate's fingerprint that of its DER, an admin per tenant, the
    /// options the API would accept. Prints each problem; exits with 1 when there is one.
    CheckDb,
    /// Copy every table of an embedded installation (SQLite) into an empty PostgreSQL
    /// database, in one transaction; the row counts are checked before it commits. Stop the
    /// embedded instance first. Refuses a target that holds any row.
    MigrateDb {
        /// The SQLite database: sqlite://<data-dir>/anchorage.db
        #[arg(long)]
        from: String,
        /// The PostgreSQL database: postgres://user@host:port/db (migrations are applied first);
        /// with a password, better from the environment than as a flag (process listings)
        #[arg(long, env = "ANCHORAGE_MIGRATE_DB_TO", hide_env_values = true)]
        to: String,
    },
}

/// Runs `rotate-secret-key`.
pub async fn run_rotate_secret_key(config: &Config) -> anyhow::Result<()> {
    let path = config.secret_key_path();
    let db = config.open_database().await?;
    let r = crate::secrets::rotate(&db, &path).await?;
    if r.finished_earlier {
        println!("finished the rotation an earlier run had committed: {} is the new key", path.display());
    } else {
        println!(
            "re-sealed under a new key in {}: {} signing key(s), {} credentials option(s), {} device token(s), \
             {} CRL signer key(s), {} tenant CA key(s)",
            path.display(),
            r.signing_keys,
            r.options,
            r.device_tokens,
            r.crl_signers,
            r.tenant_cas
        );
    }
    println!(
        "the previous key is {}: it opens backups made before now; keep it with them, or destroy it",
        r.previous_key.display()
    );
    if !r.stale_one_time_passwords.is_empty() {
        println!(
            "{} EST one-time password(s) no longer match; set new ones for: {}",
            r.stale_one_time_passwords.len(),
            r.stale_one_time_passwords.iter().map(|(t, d)| format!("{t}/{d}")).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(())
}

/// Runs `check-db` on the configured database; an error when a problem is found.
pub async fn run_check_db(config: &Config) -> anyhow::Result<()> {
    let db = config.open_database().await?;
    let problems = db::check::check(&db).await?;
    db.close().await;
    if problems.is_empty() {
        println!("check-db: no problem found: every row is whole");
        return Ok(());
    }
    for p in &problems {
        println!("{p}");
    }
    anyhow::bail!("check-db: {} problem(s) found", problems.len())
}

/// Runs `migrate-db`: copies `from` (SQLite) into `to` (PostgreSQL, empty) and prints what it
/// copied.
pub async fn run_migrate_db(from: &str, to: &str) -> anyhow::Result<()> {
    let (from, to) = (db::Location::parse(from)?, db::Location::parse(to)?);
    if from.backend() != db::Backend::Sqlite || to.backend() != db::Backend::Postgres {
        anyhow::bail!(
            "migrate-db copies an SQLite database (--from sqlite://…) into a PostgreSQL one (--to postgres://…)"
        );
    }
    if let db::Location::Sqlite(path) = &from
        && !path.is_file()
    {
        anyhow::bail!("no SQLite database at {}", path.display());
    }
    let source = db::open(&from, db::PoolSizes::default()).await.with_context(|| format!("opening {from}"))?;
    let target = db::open(&to, db::PoolSizes::default()).await.with_context(|| format!("opening {to}"))?;
    let report = db::copy::copy(&source, &target).await?;
    println!("copied {from} into {to}; row counts checked:");
    print!("{report}");
    println!("start the instances with --database-url (or ANCHORAGE_DATABASE_URL) set to the PostgreSQL URL,");
    println!("and give every instance the same --secret-key-file as the embedded installation had.");
    source.close().await;
    target.close().await;
    Ok(())
}

#[derive(Subcommand)]
pub enum CrlAction {
    /// Remove a serial number from a tenant's certificate revocation list (the API never
    /// removes entries, as on the platform). Recorded in the audit log.
    Remove {
        /// The serial number in hex (colons, case and leading zeros do not matter).
        serial: String,
        /// The tenant whose list it is (default: the server's tenant, --tenant before `crl`).
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum UserAction {
    /// Create a user (password from ANCHORAGE_USER_PASSWORD or standard input).
    Add {
        name: String,
        /// admin or reader.
        #[arg(long, default_value = "reader")]
        role: String,
    },
    /// Set a user's password (ends the user's sessions).
    Passwd { name: String },
    /// Disable a user (ends the user's sessions).
    Disable { name: String },
    /// Enable a disabled user.
    Enable { name: String },
    /// Change a user's role.
    Role { name: String, role: String },
    /// List the tenant's users.
    List,
}

impl Cli {
    /// Reads the flags, then the secrets that come only from the environment.
    pub fn parse_with_env() -> Self {
        let mut cli = Self::parse();
        cli.config.admin_password =
            std::env::var("ANCHORAGE_ADMIN_PASSWORD").ok().filter(|p| !p.is_empty()).map(Secret);
        cli
    }
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("ANCHORAGE_USER_PASSWORD") {
        return Ok(p);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password (shown as you type; or set ANCHORAGE_USER_PASSWORD): ");
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Runs a `user` command against the database of `config`.
pub async fn run_user(config: &Config, action: UserAction) -> anyhow::Result<()> {
    let db = config.open_database().await?;
    let tenant = config.tenant.as_str();
    let now = anchorage_common::timefmt::platform(time::OffsetDateTime::now_utc());
    db::ensure_tenant(&db, tenant, &now).await?;
    let fail = |m: String| anyhow::anyhow!(m);
    let exists = |name: &str| {
        let db = db.clone();
        let name = name.to_string();
        async move { db::users::find(&db, tenant, &name).await.map(|u| u.is_some()) }
    };
    match action {
        UserAction::Add { name, role } => {
            check_user_name(&name).map_err(fail)?;
            let role = UserRole::parse(&role).map_err(fail)?;
            let password = read_password()?;
            check_password(&password).map_err(fail)?;
            let row = db::users::UserRow {
                tenant_id: tenant.into(),
                user_name: name.clone(),
                password_hash: auth::hash_password(&password)?,
                role: role.as_str().into(),
                enabled: true,
                password_changed_at: None,
            };
            db::users::insert(&db, &row, &now)
                .await
                .with_context(|| format!("creating user '{name}' (does it exist already?)"))?;
            audit_cli(
                &db,
                tenant,
                "User created",
                format!("User '{name}' created with role {} (command line).", role.as_str()),
                &now,
            )
            .await?;
            println!("created user '{name}' ({}) in tenant '{tenant}'", role.as_str());
        }
        UserAction::Passwd { name } => {
            anyhow::ensure!(exists(&name).await?, "no user '{name}' in tenant '{tenant}'");
            let password = read_password()?;
            check_password(&password).map_err(fail)?;
            let hash = auth::hash_password(&password)?;
            db::users::update(&db, tenant, &name, Some(&hash), None, None, &now).await?.ok(tenant, &name)?;
            audit_cli(
                &db,
                tenant,
                "User password changed",
                format!("User '{name}': password changed (command line)."),
                &now,
            )
            .await?;
            println!("password of '{name}' changed; their sessions have ended");
        }
        UserAction::Disable { name } | UserAction::Enable { name } if !exists(&name).await? => {
            anyhow::bail!("no user '{name}' in tenant '{tenant}'");
        }
        UserAction::Disable { name } => {
            db::users::update(&db, tenant, &name, None, None, Some(false), &now).await?.ok(tenant, &name)?;
            audit_cli(&db, tenant, "User disabled", format!("User '{name}': disabled (command line)."), &now).await?;
            println!("disabled '{name}'; their sessions have ended");
        }
        UserAction::Enable { name } => {
            db::users::update(&db, tenant, &name, None, None, Some(true), &now).await?.ok(tenant, &name)?;
            audit_cli(&db, tenant, "User enabled", format!("User '{name}': enabled (command line)."), &now).await?;
            println!("enabled '{name}'");
        }
        UserAction::Role { name, role } => {
            anyhow::ensure!(exists(&name).await?, "no user '{name}' in tenant '{tenant}'");
            let role = UserRole::parse(&role).map_err(fail)?;
            db::users::update(&db, tenant, &name, None, Some(role.as_str()), None, &now).await?.ok(tenant, &name)?;
            audit_cli(
                &db,
                tenant,
                "User role changed",
                format!("User '{name}': role set to {} (command line).", role.as_str()),
                &now,
            )
            .await?;
            println!("'{name}' is now {}", role.as_str());
        }
        UserAction::List => {
            for u in db::users::page(&db, tenant, u32::MAX, 0).await? {
                println!("{}\t{}\t{}", u.user_name, u.role, if u.enabled { "enabled" } else { "disabled" });
            }
        }
    }
    Ok(())
}

/// Runs a `crl` command against the database of `config`.
pub async fn run_crl(config: &Config, action: CrlAction) -> anyhow::Result<()> {
    match action {
        CrlAction::Remove { serial, tenant } => {
            let tenant = tenant.unwrap_or_else(|| config.tenant.clone());
            let serial_hex = anchorage_common::crl::normalize_serial(&serial).map_err(|m| anyhow::anyhow!(m))?;
            let db = config.open_database().await?;
            let now = anchorage_common::timefmt::platform(time::OffsetDateTime::now_utc());
            let Some(date) = db::crl::remove(&db, &tenant, &serial_hex).await? else {
                anyhow::bail!("serial {serial_hex} is not in the certificate revocation list of tenant '{tenant}'");
            };
            let details = serde_json::json!({"source": "command line", "serial": serial_hex, "revocationDate": date});
            db::audit::insert(
                &db,
                &db::audit::NewRecord {
                    tenant: &tenant,
                    r#type: crate::audit::types::TENANT,
                    activity: "Certificate revocation list entry removed",
                    text: &format!(
                        "Serial {serial_hex} (revoked on {date}) removed from the certificate revocation list of \
                         '{tenant}' (command line)."
                    ),
                    time: &now,
                    user: None,
                    severity: "information",
                    client_address: None,
                    details: Some(&details.to_string()),
                },
            )
            .await?;
            println!(
                "removed serial {serial_hex} (revoked on {date}) from the certificate revocation list of tenant '{tenant}'"
            );
        }
    }
    Ok(())
}

/// Records a change made from the command line in the audit log.
async fn audit_cli(db: &db::Db, tenant: &str, activity: &str, text: String, now: &str) -> anyhow::Result<()> {
    db::audit::insert(
        db,
        &db::audit::NewRecord {
            tenant,
            r#type: crate::audit::types::USER,
            activity,
            text: &text,
            time: now,
            user: None,
            severity: "information",
            client_address: None,
            details: Some(r#"{"source":"command line"}"#),
        },
    )
    .await?;
    Ok(())
}

impl db::users::Updated {
    /// The command line's reading: an error in words for a refusal.
    fn ok(self, tenant: &str, name: &str) -> anyhow::Result<()> {
        match self {
            Self::Done => Ok(()),
            Self::NotFound => anyhow::bail!("no user '{name}' in tenant '{tenant}'"),
            Self::LastAdmin => {
                anyhow::bail!("'{name}' is the last enabled admin of '{tenant}': it cannot be demoted or disabled")
            }
        }
    }
}
