//! The reliability suite's harness: child processes that die with the test (Drop guards), a
//! small blocking HTTP/1.1 client with hard timeouts (std only, so a hung server shows up as a
//! timeout, never as a hung test), the imitation SaaS APIs, data directories and databases, and
//! sign-in through the real login form.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const PG_ENV: &str = "MAMORI_TEST_DATABASE_URL";
pub const PASSWORD: &str = "reliability-test-pw-2026";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mamori")
}

/// The scenarios run one at a time: each starts several processes with timing assumptions
/// (leases of a few seconds) that a 2-core machine shared with builds should not have to meet
/// for four scenarios at once.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn log(msg: impl AsRef<str>) {
    eprintln!("[reliability] {}", msg.as_ref());
}

// ---------------------------------------------------------------------------------------------
// Processes

/// A child process killed (SIGKILL) and reaped when dropped; on a failing test the tail of its
/// log is printed.
pub struct Proc {
    pub name: String,
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    pub fn spawn(name: &str, cmd: &mut Command, log: &Path) -> Proc {
        let out = std::fs::File::create(log).expect("create log file");
        let err = out.try_clone().unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        Proc {
            name: name.to_string(),
            child,
            log: log.to_path_buf(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `None` while it runs; its exit status once it ended.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    pub fn assert_alive(&mut self) {
        if let Some(status) = self.exited() {
            panic!(
                "{} exited unexpectedly ({status}); log:\n{}",
                self.name,
                tail(&self.log, 60)
            );
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM (graceful shutdown), then SIGKILL if it is still running after `grace`.
    pub fn terminate(&mut self, grace: Duration) -> std::process::ExitStatus {
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Some(status) = self.exited() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill9()
    }

    /// kill -9 and reap; returns the exit status.
    pub fn kill9(&mut self) -> std::process::ExitStatus {
        let _ = self.child.kill();
        self.child.wait().expect("wait")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "----- last lines of {} ({}) -----\n{}",
                self.name,
                self.log.display(),
                tail(&self.log, 40)
            );
        }
    }
}

pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A `mamori` command with a clean environment (no MAMORI_* settings of the caller).
pub fn mamori() -> Command {
    let mut cmd = Command::new(bin());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("MAMORI_") {
            cmd.env_remove(&k);
        }
    }
    cmd.env("NO_COLOR", "1").env("HOSTNAME", "reltest");
    cmd
}

/// A TCP port free right now on 127.0.0.1.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().unwrap().port()
}

pub fn wait_until<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {}", self.status, self.body))
    }

    /// The body as JSON, asserting the status first.
    pub fn expect(&self, status: u16, what: &str) -> Value {
        assert_eq!(self.status, status, "{what}: {}", self.body);
        if self.body.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`), everything within
/// `timeout` (connect, write and the whole response).
pub fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, &[u8])>,
    timeout: Duration,
) -> std::io::Result<Response> {
    use std::io::{Error, ErrorKind};
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| Error::new(ErrorKind::InvalidInput, "http:// URLs only"))?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr: SocketAddr = host
        .parse()
        .map_err(|_| Error::new(ErrorKind::InvalidInput, "numeric host:port only"))?;
    let deadline = Instant::now() + timeout;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_write_timeout(Some(timeout))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let body_bytes: &[u8] = match body {
        Some((content_type, bytes)) => {
            head.push_str(&format!("Content-Type: {content_type}\r\n"));
            bytes
        }
        None => &[],
    };
    if body.is_some() || method != "GET" {
        head.push_str(&format!("Content-Length: {}\r\n", body_bytes.len()));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body_bytes);
    stream.write_all(&out)?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::new(
                ErrorKind::TimedOut,
                "response not complete in time",
            ));
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(Error::new(
                    ErrorKind::TimedOut,
                    "response not complete in time",
                ))
            }
            Err(e) => return Err(e),
        }
    }
    parse_response(&buf).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidData,
            format!("bad HTTP response ({} bytes)", buf.len()),
        )
    })
}

fn parse_response(buf: &[u8]) -> Option<Response> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let raw = &buf[end + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        let mut out = Vec::new();
        let mut rest = raw;
        loop {
            let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
            let size_text = std::str::from_utf8(&rest[..line_end]).ok()?;
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            rest = &rest[line_end + 2..];
            if size == 0 {
                break;
            }
            out.extend_from_slice(rest.get(..size)?);
            rest = rest.get(size + 2..)?;
        }
        out
    } else if let Some(len) = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        raw.get(..len)?.to_vec()
    } else {
        raw.to_vec()
    };
    Some(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// An API client authenticated with a bearer token.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub token: String,
    pub timeout: Duration,
}

impl Api {
    pub fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> std::io::Result<Response> {
        let auth = format!("Bearer {}", self.token);
        let bytes = body.map(|b| b.to_string().into_bytes());
        request(
            method,
            &format!("{}{path}", self.base),
            &[("Authorization", &auth), ("Accept", "application/json")],
            bytes.as_deref().map(|b| ("application/json", b)),
            self.timeout,
        )
    }

    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Response {
        self.try_call(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    pub fn get(&self, path: &str) -> Value {
        self.call("GET", path, None)
            .expect(200, &format!("GET {path}"))
    }

    pub fn post(&self, path: &str, body: &Value, status: u16) -> Value {
        self.call("POST", path, Some(body))
            .expect(status, &format!("POST {path}"))
    }

    pub fn job(&self, id: i64) -> Value {
        let jobs = self.get("/api/v1/jobs?limit=1000");
        jobs["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("job {id} not listed: {jobs}"))
    }

    pub fn scan(&self, id: i64) -> Value {
        self.get(&format!("/api/v1/scans/{id}"))
    }

    /// Waits until the job is succeeded or failed; returns it.
    pub fn wait_job_done(&self, id: i64, timeout: Duration) -> Value {
        wait_until(&format!("job {id} to finish"), timeout, || {
            let j = self.job(id);
            matches!(j["status"].as_str(), Some("succeeded" | "failed")).then_some(j)
        })
    }

    /// Every finding of the tenant (all pages).
    pub fn all_findings(&self, tenant_id: i64) -> (i64, Vec<Value>) {
        let mut items = Vec::new();
        let mut total;
        loop {
            let page = self.get(&format!(
                "/api/v1/findings?tenant_id={tenant_id}&limit=500&offset={}",
                items.len()
            ));
            total = page["total"].as_i64().unwrap();
            let got = page["items"].as_array().unwrap();
            if got.is_empty() {
                break;
            }
            items.extend(got.iter().cloned());
            if items.len() as i64 >= total {
                break;
            }
        }
        (total, items)
    }

    /// Asserts the tenant has findings, each (control, resource) once; returns the total.
    pub fn assert_findings_unique(&self, tenant_id: i64) -> i64 {
        let (total, items) = self.all_findings(tenant_id);
        assert!(total > 0, "the scans produced findings");
        assert_eq!(items.len() as i64, total, "every finding listed");
        let mut pairs = std::collections::BTreeSet::new();
        let mut ids = std::collections::BTreeSet::new();
        for f in &items {
            let f = &f["finding"];
            ids.insert(f["id"].as_i64().unwrap());
            pairs.insert((
                f["control_id"].as_str().unwrap().to_string(),
                f["resource_key"].as_str().unwrap().to_string(),
            ));
        }
        assert_eq!(ids.len() as i64, total, "no finding listed twice");
        assert_eq!(
            pairs.len() as i64,
            total,
            "findings total equals the distinct (control, resource) pairs: no duplicates"
        );
        total
    }
}

// ---------------------------------------------------------------------------------------------
// The imitation SaaS APIs

pub struct Imitation {
    pub proc: Proc,
    pub dir: PathBuf,
}

impl Imitation {
    pub fn start(dir: &Path, latency_ms: u64) -> Imitation {
        let creds = dir.join(format!("imitation-{latency_ms}"));
        std::fs::create_dir_all(&creds).unwrap();
        let mut proc = Proc::spawn(
            "mamori imitate",
            mamori().args([
                "imitate",
                "--latency-ms",
                &latency_ms.to_string(),
                "--credentials-dir",
                creds.to_str().unwrap(),
            ]),
            &dir.join(format!("imitate-{latency_ms}.log")),
        );
        // "Press Ctrl-C" is printed after both credentials files are written.
        wait_until("mamori imitate to start", Duration::from_secs(30), || {
            proc.assert_alive();
            proc.log_text().contains("Press Ctrl-C").then_some(())
        });
        Imitation { proc, dir: creds }
    }

    pub fn m365_credentials(&self) -> Value {
        let text = std::fs::read_to_string(self.dir.join("m365-credentials.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

// ---------------------------------------------------------------------------------------------
// Databases

/// Where a scenario's data lives: SQLite in the data directory, or a fresh PostgreSQL database
/// (created from the admin URL, dropped when this is dropped).
pub struct Database {
    pub url: Option<String>,
    pg: Option<(String, String)>,
}

impl Database {
    pub fn sqlite() -> Database {
        Database {
            url: None,
            pg: None,
        }
    }

    /// A fresh database on the server of `MAMORI_TEST_DATABASE_URL`; `None` (after printing
    /// SKIPPED) when it is unset.
    pub fn postgres(test: &str) -> Option<Database> {
        let admin = std::env::var(PG_ENV).unwrap_or_default();
        if admin.trim().is_empty() {
            skipped(&format!("PostgreSQL (set {PG_ENV}) [{test}]"));
            return None;
        }
        Some(Database::postgres_on(&admin))
    }

    pub fn postgres_on(admin: &str) -> Database {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!(
            "mamori_rel_{}_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_micros(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        psql(admin, &format!("CREATE DATABASE {name}"));
        let url = replace_db(admin, &name);
        Database {
            url: Some(url),
            pg: Some((admin.to_string(), name)),
        }
    }

    /// The flags that select this database for a `mamori` command.
    pub fn args(&self, data_dir: &Path) -> Vec<String> {
        let mut a = vec!["--data-dir".to_string(), data_dir.display().to_string()];
        if let Some(u) = &self.url {
            a.push("--database-url".into());
            a.push(u.clone());
        }
        a
    }

    pub fn label(&self) -> &'static str {
        if self.url.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg {
            let _ = try_psql(
                admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

/// The URL with its path (database name) replaced.
pub fn replace_db(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (authority, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let query = tail.find('?').map(|i| &tail[i..]).unwrap_or("");
    format!("{scheme}://{authority}/{db}{query}")
}

/// The directory of PostgreSQL's programs (initdb, pg_ctl, psql…), if installed.
pub fn pg_bin_dir() -> Option<PathBuf> {
    let has = |d: &Path| {
        ["initdb", "pg_ctl", "psql", "postgres"]
            .iter()
            .all(|b| d.join(b).is_file())
    };
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            let initdb = d.join("initdb");
            if let Ok(real) = std::fs::canonicalize(&initdb) {
                if let Some(parent) = real.parent().filter(|p| has(p)) {
                    return Some(parent.to_path_buf());
                }
            }
        }
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|d| has(d))
        .collect();
    dirs.sort_by_key(|d| {
        d.parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .and_then(|n| n.split('.').next())
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.pop()
}

fn psql_program() -> PathBuf {
    pg_bin_dir()
        .map(|d| d.join("psql"))
        .unwrap_or_else(|| PathBuf::from("psql"))
}

pub fn try_psql(url: &str, sql: &str) -> std::io::Result<std::process::Output> {
    Command::new(psql_program())
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        .stdin(Stdio::null())
        .output()
}

pub fn psql(url: &str, sql: &str) {
    let o = try_psql(url, sql).unwrap_or_else(|e| panic!("running psql: {e}"));
    assert!(
        o.status.success(),
        "psql {sql:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// The server

/// Creates a user with `mamori users create` (the password through MAMORI_PASSWORD).
pub fn create_user_cli(db: &Database, data_dir: &Path, username: &str, role: &str) {
    let o = mamori()
        .env("MAMORI_PASSWORD", PASSWORD)
        .args(["users", "create", "--username", username, "--role", role])
        .args(db.args(data_dir))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "users create {username}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

pub struct Server {
    pub proc: Proc,
    pub base: String,
}

impl Server {
    /// `mamori server --role ROLE` on a free port, returned once /healthz answers.
    pub fn start(
        name: &str,
        role: &str,
        db: &Database,
        data_dir: &Path,
        extra: &[&str],
        log_dir: &Path,
    ) -> Server {
        for attempt in 0..3 {
            let port = free_port();
            let listen = format!("127.0.0.1:{port}");
            let mut cmd = mamori();
            cmd.args(["server", "--listen", &listen, "--role", role])
                .args(db.args(data_dir))
                .args(extra);
            let mut proc = Proc::spawn(name, &mut cmd, &log_dir.join(format!("{name}.log")));
            let base = format!("http://{listen}");
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                if let Some(status) = proc.exited() {
                    let text = proc.log_text();
                    if text.contains("in use") && attempt < 2 {
                        break; // the port was taken meanwhile: another one
                    }
                    panic!("{name} exited at start ({status}):\n{text}");
                }
                if let Ok(r) = request(
                    "GET",
                    &format!("{base}/healthz"),
                    &[],
                    None,
                    Duration::from_secs(2),
                ) {
                    if r.status == 200 {
                        return Server { proc, base };
                    }
                }
                assert!(
                    Instant::now() < deadline,
                    "{name} did not answer /healthz in 60 s"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        unreachable!()
    }
}

/// Signs in through the login form, reads the CSRF token from a signed-in page and creates an
/// API token with it; returns the token's secret.
pub fn api_token(base: &str, username: &str, password: &str) -> String {
    let t = Duration::from_secs(20);
    let form = form_encode(&[("username", username), ("password", password)]);
    let r = request(
        "POST",
        &format!("{base}/login"),
        &[],
        Some(("application/x-www-form-urlencoded", form.as_bytes())),
        t,
    )
    .expect("POST /login");
    assert!(
        r.status == 303 || r.status == 302,
        "login of {username}: {} {}",
        r.status,
        r.body
    );
    let cookie = r
        .headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.split(';').next().unwrap_or("").to_string())
        .find(|c| c.starts_with("mamori_session="))
        .expect("a session cookie");
    let page = request(
        "GET",
        &format!("{base}/settings"),
        &[("Cookie", &cookie)],
        None,
        t,
    )
    .expect("GET /settings");
    assert_eq!(page.status, 200, "{}", page.body);
    let marker = "name=\"csrf\" value=\"";
    let at = page.body.find(marker).expect("a csrf field on the page") + marker.len();
    let csrf = &page.body[at..at + page.body[at..].find('"').unwrap()];
    let body = json!({"name": format!("reliability-{username}")}).to_string();
    let r = request(
        "POST",
        &format!("{base}/api/v1/tokens"),
        &[("Cookie", &cookie), ("X-CSRF-Token", csrf)],
        Some(("application/json", body.as_bytes())),
        t,
    )
    .expect("POST /api/v1/tokens");
    r.expect(201, "create token")["secret"]
        .as_str()
        .expect("secret")
        .to_string()
}

/// Creates a customer and an m365 tenant on the imitation's credentials; returns the tenant id.
pub fn create_tenant(api: &Api, credentials: &Value) -> i64 {
    let c = api.post(
        "/api/v1/customers",
        &json!({"name": "Reliability Trading", "time_zone": "Asia/Tokyo"}),
        201,
    );
    let t = api.post(
        "/api/v1/tenants",
        &json!({
            "customer_id": c["id"], "app": "m365",
            "display_name": "reliability.onmicrosoft.com",
            "credentials": credentials,
        }),
        201,
    );
    t["id"].as_i64().unwrap()
}

/// Queues a scan of the tenant; returns the job id.
pub fn queue_scan(api: &Api, tenant_id: i64) -> i64 {
    api.post(
        &format!("/api/v1/tenants/{tenant_id}/scans"),
        &json!({}),
        202,
    )["id"]
        .as_i64()
        .unwrap()
}

/// The pid in a lease owner ("host:pid#n").
pub fn owner_pid(owner: &str) -> Option<u32> {
    owner.rsplit_once(':')?.1.split('#').next()?.parse().ok()
}

/// A part of the suite that cannot run here: printed as SKIPPED, or — under `CI=true`, where a
/// green run must mean it ran — a failure.
pub fn skipped(what: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but this part cannot run: {what}"
    );
    eprintln!("SKIPPED: {what}");
}
