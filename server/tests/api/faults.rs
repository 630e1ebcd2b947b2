//! Faults (issue 17): the real binary is killed with SIGKILL while clients upload certificates,
//! fetch device tokens, update options and change users. After a restart every change the
//! server acknowledged is there with its audit record, every change it did not acknowledge is
//! whole or absent, and `anchorage check-db` finds no problem. (The kill during a bulk import is
//! in `bulk_registration.rs`; a full disk is in `disk_full.rs`.)

use std::collections::VecDeque;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use base64::Engine;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

use crate::support::*;

/// The `anchorage` binary on a data directory of its own, with both listeners on fixed ports
/// (the same after a restart).
pub struct Binary {
    pub dir: PathBuf,
    pub port: u16,
    pub device_port: u16,
    child: Option<Child>,
    pub client: reqwest::Client,
    /// Where its log goes (warnings and errors, every start appended), outside its data folder.
    logs: tempfile::TempDir,
}

impl Binary {
    /// Starts the binary on `dir` and waits until it answers.
    pub async fn start(dir: &Path) -> Binary {
        let mut bin = Binary {
            dir: dir.to_path_buf(),
            port: free_port(),
            device_port: free_port(),
            child: None,
            client: reqwest::Client::new(),
            logs: tempfile::tempdir().expect("log folder"),
        };
        bin.restart().await;
        bin
    }

    /// Starts it (again) and waits until it answers.
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.logs.path().join("anchorage.log"))
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_anchorage"))
            .args([
                "--listen",
                &format!("127.0.0.1:{}", self.port),
                "--device-listen",
                &format!("127.0.0.1:{}", self.device_port),
                "--tenant",
                TENANT,
            ])
            .arg("--data-dir")
            .arg(&self.dir)
            .env("ANCHORAGE_ADMIN_PASSWORD", PASSWORD)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("anchorage starts");
        self.child = Some(child);
        wait_up(&self.client, &self.base()).await;
    }

    /// SIGKILL: no shutdown, no flush, no goodbye.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            let _ = child.wait();
        }
    }

    /// Whether the process is still running (it has not crashed).
    pub fn running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.logs.path().join("anchorage.log")).unwrap_or_default()
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn admin(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base()))
            .basic_auth(format!("{TENANT}/{ADMIN}"), Some(PASSWORD))
    }

    pub fn local_ca_pem(&self) -> String {
        std::fs::read_to_string(self.dir.join("tls/ca.pem")).expect("local CA")
    }

    /// The database, read-only.
    pub async fn db(&self) -> sqlx::SqlitePool {
        sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", self.dir.join("anchorage.db").display()))
            .await
            .expect("db")
    }

    /// Runs `anchorage check-db` on the data directory: whether it found no problem, and what it said.
    pub fn check_db(&self) -> (bool, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_anchorage"))
            .args(["--tenant", TENANT])
            .arg("--data-dir")
            .arg(&self.dir)
            .arg("check-db")
            .env("RUST_LOG", "warn")
            .output()
            .expect("check-db runs");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success() && text.contains("no problem found"), text)
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What happened to the work items when the server was killed.
struct Outcome<T> {
    /// Answered with success before the kill.
    acked: Vec<T>,
    /// Sent, and cut off by the kill (no answer): each may or may not have been committed.
    interrupted: Vec<T>,
    /// Never sent.
    left: usize,
}

/// Sends `items` from `workers` concurrent clients with `send` (`Ok(())`: acknowledged;
/// `Err(true)`: no answer, the connection died; `Err(false)`: an answer that is not success,
/// which fails the test), and kills the server once `kill_after` items are acknowledged.
async fn hammer<T, F, Fut>(bin: &mut Binary, items: Vec<T>, workers: usize, kill_after: usize, send: F) -> Outcome<T>
where
    T: Clone + Send + 'static,
    F: Fn(T) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), (bool, String)>> + Send + 'static,
{
    let queue = Arc::new(Mutex::new(items.into_iter().collect::<VecDeque<T>>()));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let interrupted = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (queue, acked, interrupted, send) = (queue.clone(), acked.clone(), interrupted.clone(), send.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let Some(item) = queue.lock().expect("queue").pop_front() else { return };
                match send(item.clone()).await {
                    Ok(()) => acked.lock().expect("acked").push(item),
                    Err((true, _)) => {
                        interrupted.lock().expect("interrupted").push(item);
                        return;
                    }
                    Err((false, why)) => panic!("refused before the kill: {why}"),
                }
            }
        }));
    }
    let deadline = Instant::now() + StdDuration::from_secs(120);
    while acked.lock().expect("acked").len() < kill_after {
        assert!(Instant::now() < deadline, "too few acknowledged in time");
        assert!(tasks.iter().any(|t| !t.is_finished()), "every client stopped before the kill");
        tokio::time::sleep(StdDuration::from_millis(2)).await;
    }
    bin.kill();
    for t in tasks {
        t.await.expect("client task");
    }
    let left = queue.lock().expect("queue").len();
    let acked = std::mem::take(&mut *acked.lock().expect("acked"));
    let interrupted = std::mem::take(&mut *interrupted.lock().expect("interrupted"));
    assert!(left > 0, "everything was done before the kill; the test needs more items");
    assert!(!interrupted.is_empty(), "no request was in flight at the kill");
    Outcome { acked, interrupted, left }
}

/// `Ok` for a success status, else whether the connection died (no answer) and what was said.
async fn outcome(sent: reqwest::Result<reqwest::Response>) -> Result<Value, (bool, String)> {
    match sent {
        Err(e) => Err((true, e.to_string())),
        Ok(res) => {
            let status = res.status();
            match res.text().await {
                Err(e) => Err((true, e.to_string())),
                Ok(text) if status.is_success() => Ok(serde_json::from_str(&text).unwrap_or(Value::Null)),
                Ok(text) => Err((false, format!("{status}: {text}"))),
            }
        }
    }
}

async fn count(db: &sqlx::SqlitePool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.expect(sql)
}

async fn audits(db: &sqlx::SqlitePool, activity: &str) -> Vec<(Option<String>, String)> {
    sqlx::query_as("SELECT \"user\", text FROM audit_records WHERE activity = $1")
        .bind(activity)
        .fetch_all(db)
        .await
        .expect("audit")
}

fn assert_check_db(bin: &Binary) {
    let (ok, text) = bin.check_db();
    assert!(ok, "check-db after the kill: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_uploads_are_whole_or_absent_after_a_kill() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut bin = Binary::start(dir.path()).await;
    let items: Vec<(String, String)> = (0..400)
        .map(|i| {
            let pem = ca_pem(&format!("Kill CA {i}"));
            (fingerprint(&pem), pem)
        })
        .collect();
    let send = {
        let (client, url) =
            (bin.client.clone(), format!("{}/tenant/tenants/{TENANT}/trusted-certificates", bin.base()));
        move |(_, pem): (String, String)| {
            let req = client
                .post(url.clone())
                .basic_auth(format!("{TENANT}/{ADMIN}"), Some(PASSWORD))
                .json(&json!({"name": "kill", "certInPemFormat": pem, "status": "ENABLED"}));
            async move { outcome(req.send().await).await.map(|_| ()) }
        }
    };
    let out = hammer(&mut bin, items, 8, 40, send).await;

    bin.restart().await;
    let db = bin.db().await;
    for (fp, _) in &out.acked {
        let n = count(&db, &format!("SELECT COUNT(*) FROM trusted_certificates WHERE fingerprint = '{fp}'")).await;
        assert_eq!(n, 1, "an acknowledged upload is stored");
    }
    let stored = count(&db, "SELECT COUNT(*) FROM trusted_certificates").await;
    let range = out.acked.len() as i64..=(out.acked.len() + out.interrupted.len()) as i64;
    assert!(range.contains(&stored), "{stored} stored, {range:?} expected");
    // Each stored certificate has its audit record and each record its certificate: the two
    // are one transaction.
    let records = audits(&db, "Trusted certificate added").await;
    assert_eq!(records.len() as i64, stored, "one audit record per stored certificate");
    for (fp, _) in out.acked.iter().chain(&out.interrupted) {
        let in_db = count(&db, &format!("SELECT COUNT(*) FROM trusted_certificates WHERE fingerprint = '{fp}'")).await;
        let audited = records.iter().filter(|(_, t)| t.contains(fp.as_str())).count() as i64;
        assert_eq!(in_db, audited, "{fp}: stored and audited together");
    }
    // The API lists every stored one.
    let (status, page) = json(
        bin.admin(Method::GET, "/tenant/tenants/t4711/trusted-certificates?pageSize=2000").send().await.expect("list"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page["certificates"].as_array().map(Vec::len), Some(stored as usize));
    db.close().await;
    assert_check_db(&bin);
    eprintln!(
        "certificate uploads: {} acknowledged, {} cut off, {} not sent; {stored} stored",
        out.acked.len(),
        out.interrupted.len(),
        out.left
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_tokens_are_whole_or_absent_after_a_kill() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut bin = Binary::start(dir.path()).await;
    let ca = Ca::root("Kill Fleet CA");
    let res = bin
        .admin(Method::POST, &format!("/tenant/tenants/{TENANT}/trusted-certificates"))
        .json(
            &json!({"name": ca.name, "certInPemFormat": ca.pem, "status": "ENABLED", "autoRegistrationEnabled": true}),
        )
        .send()
        .await
        .expect("trust");
    assert_eq!(res.status(), 201);
    let server_ca = bin.local_ca_pem();
    let url = format!("https://127.0.0.1:{}/devicecontrol/deviceAccessToken", bin.device_port);
    let devices: Vec<(String, Arc<Device>)> =
        (0..300).map(|i| (format!("kill-{i:03}"), Arc::new(ca.device(&format!("kill-{i:03}"))))).collect();
    let tokens = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let send = {
        let tokens = tokens.clone();
        move |(id, device): (String, Arc<Device>)| {
            let req = device.client(&server_ca).post(url.clone()).header("Accept", "application/json");
            let tokens = tokens.clone();
            async move {
                let body = outcome(req.send().await).await?;
                let token = body["accessToken"].as_str().ok_or((false, format!("no token: {body}")))?;
                tokens.lock().expect("tokens").push((id, token.to_string()));
                Ok(())
            }
        }
    };
    let out = hammer(&mut bin, devices, 8, 30, send).await;

    bin.restart().await;
    let db = bin.db().await;
    let issued = audits(&db, "Device token issued").await;
    let tokens = tokens.lock().expect("tokens").clone();
    assert_eq!(tokens.len(), out.acked.len());
    for (id, token) in &tokens {
        // Its device is registered whole (check-db below), and the token it got is stored,
        // audited, and still opens the API after the restart.
        let payload = token.split('.').nth(1).expect("a JWT");
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url"),
        )
        .expect("claims");
        let jti = claims["jti"].as_str().expect("jti");
        let user = format!("device_{id}");
        assert_eq!(claims["sub"], json!(user));
        let n = count(&db, &format!("SELECT COUNT(*) FROM device_tokens WHERE jti = '{jti}' AND user_name = '{user}'"))
            .await;
        assert_eq!(n, 1, "{id}: the token it received is stored");
        assert!(issued.iter().any(|(u, _)| u.as_deref() == Some(user.as_str())), "{id}: its token is audited");
        let res =
            bin.client.get(format!("{}/user/currentUser", bin.base())).bearer_auth(token).send().await.expect("me");
        assert_eq!(res.status(), 200, "{id}: its token works after the restart");
    }
    let registered = count(&db, "SELECT COUNT(*) FROM device_users").await;
    let range = out.acked.len() as i64..=(out.acked.len() + out.interrupted.len()) as i64;
    assert!(range.contains(&registered), "{registered} devices registered, {range:?} expected");
    // A device cut off mid-request may be registered without a token; its next request gets one.
    for (id, device) in &out.interrupted {
        let client = device.client(&bin.local_ca_pem());
        let res = client
            .post(format!("https://127.0.0.1:{}/devicecontrol/deviceAccessToken", bin.device_port))
            .send()
            .await
            .expect("token again");
        assert_eq!(res.status(), 200, "{id}: gets a token after the restart");
    }
    db.close().await;
    assert_check_db(&bin);
    eprintln!(
        "device tokens: {} acknowledged, {} cut off, {} not sent; {registered} registered",
        out.acked.len(),
        out.interrupted.len(),
        out.left
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn option_updates_are_whole_or_absent_after_a_kill() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut bin = Binary::start(dir.path()).await;
    // Even items: one request sets two keys of a category (all or nothing); odd items: the
    // device-token lifespan.
    let items: Vec<u32> = (0..2000).collect();
    let send = {
        let (client, base) = (bin.client.clone(), bin.base());
        move |i: u32| {
            let req = if i.is_multiple_of(2) {
                client
                    .put(format!("{base}/tenant/options/kill"))
                    .json(&json!({"a": format!("v{i}"), "b": format!("v{i}")}))
            } else {
                client
                    .put(format!("{base}/tenant/options/oauth.internal/device-token.lifespan.seconds"))
                    .json(&json!({"value": (300 + i).to_string()}))
            };
            let req = req.basic_auth(format!("{TENANT}/{ADMIN}"), Some(PASSWORD));
            async move { outcome(req.send().await).await.map(|_| ()) }
        }
    };
    let out = hammer(&mut bin, items, 8, 60, send).await;

    bin.restart().await;
    let (status, kill) = json(bin.admin(Method::GET, "/tenant/options/kill").send().await.expect("get")).await;
    assert_eq!(status, 200, "{kill}");
    assert_eq!(kill["a"], kill["b"], "both keys of one request, or neither");
    let a = kill["a"].as_str().expect("a").to_string();
    let (status, lifespan) = json(
        bin.admin(Method::GET, "/tenant/options/oauth.internal/device-token.lifespan.seconds")
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(status, 200);
    let lifespan: u32 = lifespan["value"].as_str().and_then(|v| v.parse().ok()).expect("a number");
    let sent = |i: u32| out.acked.contains(&i) || out.interrupted.contains(&i);
    assert!(
        a.strip_prefix('v').and_then(|n| n.parse().ok()).is_some_and(|i: u32| i.is_multiple_of(2) && sent(i)),
        "{a}"
    );
    assert!(lifespan >= 300 && sent(lifespan - 300), "{lifespan}");

    // Each committed update has its audit record: at least the acknowledged ones, at most those
    // plus the ones cut off; and the values in force are among the recorded.
    let db = bin.db().await;
    let category = audits(&db, "Options updated").await;
    let single = [audits(&db, "Option created").await, audits(&db, "Option updated").await].concat();
    let (acked_even, acked_odd) = (
        out.acked.iter().filter(|i| i.is_multiple_of(2)).count(),
        out.acked.iter().filter(|i| !i.is_multiple_of(2)).count(),
    );
    let cut = out.interrupted.len();
    assert!((acked_even..=acked_even + cut).contains(&category.len()), "{} category records", category.len());
    assert!((acked_odd..=acked_odd + cut).contains(&single.len()), "{} option records", single.len());
    assert!(category.iter().any(|(_, t)| t.contains(&format!("'kill/a' = '{a}'"))), "the value in force is audited");
    assert!(
        single.iter().any(|(_, t)| t.contains(&format!("set to '{lifespan}'"))),
        "the lifespan in force is audited"
    );
    db.close().await;
    assert_check_db(&bin);
    eprintln!("option updates: {} acknowledged, {cut} cut off, {} not sent", out.acked.len(), out.left);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_changes_are_whole_or_absent_after_a_kill() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut bin = Binary::start(dir.path()).await;
    let users = format!("/user/{TENANT}/users");
    // Users whose passwords the hammer changes, made first.
    for j in 0..40 {
        let res = bin
            .admin(Method::POST, &users)
            .json(&json!({"userName": format!("old-{j}"), "password": format!("old-password-{j}"), "role": "reader"}))
            .send()
            .await
            .expect("create");
        assert_eq!(res.status(), 201);
    }
    let db = bin.db().await;
    let hashes_before: Vec<(String, String)> =
        sqlx::query_as("SELECT user_name, password_hash FROM users WHERE user_name LIKE 'old-%'")
            .fetch_all(&db)
            .await
            .expect("hashes");
    db.close().await;

    // Even items create a user, odd items change an old user's password.
    let items: Vec<u32> = (0..80).collect();
    let send = {
        let (client, url) = (bin.client.clone(), format!("{}{users}", bin.base()));
        move |i: u32| {
            let req = if i.is_multiple_of(2) {
                client
                    .post(url.clone())
                    .json(&json!({"userName": format!("new-{i}"), "password": format!("new-password-{i}")}))
            } else {
                client.put(format!("{url}/old-{}", i / 2)).json(&json!({"password": format!("changed-password-{i}")}))
            };
            let req = req.basic_auth(format!("{TENANT}/{ADMIN}"), Some(PASSWORD));
            async move { outcome(req.send().await).await.map(|_| ()) }
        }
    };
    let out = hammer(&mut bin, items, 4, 8, send).await;

    bin.restart().await;
    let db = bin.db().await;
    let created = audits(&db, "User created").await;
    let changed = audits(&db, "User password changed").await;
    for i in out.acked.iter().chain(&out.interrupted) {
        if i.is_multiple_of(2) {
            let name = format!("new-{i}");
            let exists = count(&db, &format!("SELECT COUNT(*) FROM users WHERE user_name = '{name}'")).await;
            let audited = created.iter().filter(|(_, t)| t.contains(&format!("'{name}'"))).count() as i64;
            assert_eq!(exists, audited, "{name}: created and audited together");
            if out.acked.contains(i) {
                assert_eq!(exists, 1, "{name}: an acknowledged user exists");
                let res = bin
                    .client
                    .get(format!("{}/user/currentUser", bin.base()))
                    .basic_auth(format!("{TENANT}/{name}"), Some(format!("new-password-{i}")))
                    .send()
                    .await
                    .expect("me");
                assert_eq!(res.status(), 200, "{name} logs in with its password");
            }
        } else {
            let name = format!("old-{}", i / 2);
            let before = &hashes_before.iter().find(|(n, _)| *n == name).expect("made first").1;
            let now: String =
                sqlx::query_scalar(&format!("SELECT password_hash FROM users WHERE user_name = '{name}'"))
                    .fetch_one(&db)
                    .await
                    .expect("hash");
            let audited = changed.iter().any(|(_, t)| t.contains(&format!("'{name}'")));
            assert_eq!(now != *before, audited, "{name}: changed and audited together");
            assert!(now.starts_with("$argon2"), "{name}: a whole hash");
            if out.acked.contains(i) {
                assert!(now != *before, "{name}: an acknowledged change is kept");
                let res = bin
                    .client
                    .get(format!("{}/user/currentUser", bin.base()))
                    .basic_auth(format!("{TENANT}/{name}"), Some(format!("changed-password-{i}")))
                    .send()
                    .await
                    .expect("me");
                assert_eq!(res.status(), 200, "{name} logs in with the new password");
            }
        }
    }
    let new_users = count(&db, "SELECT COUNT(*) FROM users WHERE user_name LIKE 'new-%'").await;
    assert_eq!(created.len() as i64, 40 + new_users, "one record per user, made first or by the hammer");
    db.close().await;
    assert_check_db(&bin);
    eprintln!(
        "user changes: {} acknowledged, {} cut off, {} not sent",
        out.acked.len(),
        out.interrupted.len(),
        out.left
    );
}
