//! The dashboard in a real browser: `mamori demo` serves the demo customer after scanning it
//! through the job queue; headless Chromium, driven over WebDriver (chromedriver), signs in,
//! filters findings, requests a risk acceptance, has it approved by someone else (four-eyes),
//! and checks that the finding is then accepted everywhere. Also: a wrong password, switching
//! the language, and the Content-Security-Policy header.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium-driver`). Without
//! them the test prints `SKIPPED` and passes, unless `MAMORI_REQUIRE_BROWSER=1` (CI), where it
//! fails. `MAMORI_CHROME` / `MAMORI_CHROMEDRIVER` name the binaries if they are not on PATH.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};

const PASSWORD: &str = "mamori-demo-2026";
/// How long a page element or condition may take to appear.
const WAIT: Duration = Duration::from_secs(15);
/// How long the demo may take to collect, scan and start serving.
const DEMO_START: Duration = Duration::from_secs(300);

// ---- processes ----

/// The demo server and chromedriver, stopped (SIGTERM, then SIGKILL) when dropped, also when
/// the test panics.
#[derive(Default)]
struct Processes {
    children: Vec<(&'static str, Child, bool)>,
}

impl Processes {
    /// `group`: the child leads its own process group, and the whole group is signalled (so
    /// the browsers chromedriver starts go with it).
    fn add(&mut self, name: &'static str, child: Child, group: bool) {
        self.children.push((name, child, group));
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for (name, child, group) in self.children.iter_mut().rev() {
            let pid = child.id() as libc::pid_t;
            let target = if *group { -pid } else { pid };
            if matches!(child.try_wait(), Ok(Some(_))) {
                if *group {
                    // The leader is gone; its group may still hold browsers.
                    unsafe { libc::kill(target, libc::SIGKILL) };
                }
                continue;
            }
            unsafe { libc::kill(target, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut stopped = false;
            while Instant::now() < deadline {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    stopped = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if !stopped {
                eprintln!("browser test: {name} ignored SIGTERM; killing it");
            }
            if *group || !stopped {
                unsafe { libc::kill(target, libc::SIGKILL) };
            }
            let _ = child.wait();
        }
    }
}

fn find_binary(env_var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env_var).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Starts `mamori demo` serving on a free port; returns the dashboard URL (no trailing slash).
fn start_demo(dir: &Path, processes: &mut Processes) -> String {
    let stderr_path = dir.join("demo.stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .env("MAMORI_LANG", "en")
        .args(["demo", "--out-dir"])
        .arg(dir.join("demo"))
        .args(["--listen", "127.0.0.1:0"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_path).expect("demo stderr file"))
        .spawn()
        .expect("starts mamori demo");
    let stdout = child.stdout.take().expect("demo stdout");
    processes.add("mamori demo", child, false);
    let (tx, rx) = mpsc::channel();
    // Reads (and keeps draining) the demo's stdout.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + DEMO_START;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(url) = line.strip_prefix("Dashboard: ") {
                    eprintln!("browser test: demo serving at {url}");
                    return url.trim().trim_end_matches('/').to_string();
                }
                seen.push(line);
            }
            Err(e) => panic!(
                "mamori demo did not print its Dashboard line ({}):\n--- stdout ---\n{}\n--- stderr (tail) ---\n{}",
                match e {
                    mpsc::RecvTimeoutError::Timeout => "timed out",
                    mpsc::RecvTimeoutError::Disconnected => "it exited",
                },
                seen.join("\n"),
                tail(&stderr_path, 40)
            ),
        }
    }
}

/// Starts chromedriver on a free port and waits until it answers; returns its URL.
async fn start_chromedriver(driver: &Path, dir: &Path, processes: &mut Processes) -> String {
    let port = free_port();
    let log = dir.join("chromedriver.log");
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .arg(format!("--log-path={}", log.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", driver.display()));
    processes.add("chromedriver", child, true);
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http.get(format!("{url}/status")).send().await {
            if r.status().is_success() {
                return url;
            }
        }
        if Instant::now() > deadline {
            panic!("chromedriver did not answer on {url}:\n{}", tail(&log, 30));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---- the browser ----

/// Polls `$cond` (an expression that may `.await` and use `?`) until true, or fails after WAIT.
macro_rules! eventually {
    ($what:expr, $cond:expr) => {{
        let deadline = Instant::now() + WAIT;
        loop {
            let ok: bool = $cond;
            if ok {
                break;
            }
            if Instant::now() > deadline {
                bail!("timed out after {:?} waiting for {}", WAIT, $what);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }};
}

struct Browser {
    c: Client,
    base: String,
}

impl Browser {
    /// Runs one named step; on failure panics with the step, the error, the URL and the page's
    /// visible text.
    async fn step<T>(&self, name: &str, result: anyhow::Result<T>) -> T {
        match result {
            Ok(v) => {
                eprintln!("browser test: ok: {name}");
                v
            }
            Err(e) => {
                let url = match self.c.current_url().await {
                    Ok(u) => u.to_string(),
                    Err(e) => format!("(unknown: {e})"),
                };
                let text = match self.c.find(Locator::Css("body")).await {
                    Ok(body) => body
                        .text()
                        .await
                        .unwrap_or_else(|e| format!("(no text: {e})")),
                    Err(e) => format!("(no page: {e})"),
                };
                panic!("browser step `{name}` failed: {e:#}\n  at {url}\n--- page text ---\n{text}\n--- end of page text ---");
            }
        }
    }

    async fn goto(&self, path: &str) -> anyhow::Result<()> {
        self.c
            .goto(&format!("{}{path}", self.base))
            .await
            .with_context(|| format!("opening {path}"))
    }

    async fn path(&self) -> anyhow::Result<String> {
        let u = self.c.current_url().await?;
        Ok(match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        })
    }

    /// Waits for an element to appear.
    async fn wait_for(&self, css: &str) -> anyhow::Result<Element> {
        self.c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("no element `{css}`"))
    }

    async fn all(&self, css: &str) -> anyhow::Result<Vec<Element>> {
        Ok(self.c.find_all(Locator::Css(css)).await?)
    }

    /// The element's text as the page is now, or None while it is missing or being replaced.
    async fn text_now(&self, css: &str) -> Option<String> {
        let found = self.c.find_all(Locator::Css(css)).await.ok()?;
        found.first()?.text().await.ok()
    }

    async fn present(&self, css: &str) -> anyhow::Result<bool> {
        Ok(!self.all(css).await?.is_empty())
    }

    async fn text(&self, css: &str) -> anyhow::Result<String> {
        Ok(self.wait_for(css).await?.text().await?)
    }

    async fn fill(&self, css: &str, value: &str) -> anyhow::Result<()> {
        let e = self.wait_for(css).await?;
        e.clear().await?;
        e.send_keys(value).await?;
        Ok(())
    }

    /// Clicks an element and waits until the browser has left `from` (a path with query).
    async fn click_and_leave(&self, css: &str) -> anyhow::Result<()> {
        let from = self.path().await?;
        self.wait_for(css).await?.click().await?;
        eventually!(format!("leaving {from} after clicking `{css}`"), {
            self.path().await? != from
        });
        Ok(())
    }

    /// Submits the sign-in form (we are on /login).
    async fn sign_in(&self, user: &str, password: &str) -> anyhow::Result<()> {
        self.goto("/login").await?;
        self.fill("#username", user).await?;
        self.fill("#password", password).await?;
        self.wait_for("#login").await?.click().await?;
        Ok(())
    }

    /// The total of the findings list ("N of M" in any language: the last number).
    async fn finding_total(&self) -> anyhow::Result<i64> {
        let text = self.text("#finding-count").await?;
        text.split(|c: char| !c.is_ascii_digit())
            .rfind(|s| !s.is_empty())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| anyhow!("no total in #finding-count {text:?}"))
    }
}

// ---- the test ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_headless_chromium() {
    let required = std::env::var("MAMORI_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let driver = find_binary("MAMORI_CHROMEDRIVER", &["chromedriver"]);
    let chrome = find_binary(
        "MAMORI_CHROME",
        &[
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ],
    );
    let (driver, chrome) = match (driver, chrome) {
        (Some(d), Some(c)) => (d, c),
        (d, c) => {
            let missing = [("chromedriver", d.is_none()), ("chromium", c.is_none())]
                .iter()
                .filter(|(_, m)| *m)
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(" and ");
            if required || std::env::var("CI").as_deref() == Ok("true") {
                panic!("MAMORI_REQUIRE_BROWSER=1 but {missing} not found on PATH (apt-get install chromium chromium-driver, or set MAMORI_CHROME / MAMORI_CHROMEDRIVER)");
            }
            println!("SKIPPED: browser test (install chromium-driver): {missing} not found");
            return;
        }
    };

    // Declared before the processes so that it is removed after they are stopped.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut processes = Processes::default();
    let base = start_demo(dir.path(), &mut processes);

    // The Content-Security-Policy header, on the login page and on the signed-in dashboard.
    check_security_headers(&base).await;

    let driver_url = start_chromedriver(&driver, dir.path(), &mut processes).await;
    let profile = dir.path().join("chrome-profile");
    std::fs::create_dir_all(&profile).expect("profile dir");
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "chrome".into());
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chrome,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--window-size=1280,1024", "--lang=en-US",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver_url)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "opening a headless Chromium session via chromedriver: {e}\n--- chromedriver log (tail) ---\n{}",
                tail(&dir.path().join("chromedriver.log"), 30)
            )
        });

    // The flow runs in its own task so that the session is closed and the processes stopped
    // whatever happens; a panic is re-raised afterwards.
    let flow = tokio::spawn(walk(Browser {
        c: client.clone(),
        base: base.clone(),
    }));
    let outcome = tokio::time::timeout(Duration::from_secs(300), flow).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    drop(processes);
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Ok(Err(e)) => panic!("browser flow: {e}"),
        Err(_) => panic!("browser flow did not finish in 5 minutes"),
    }
}

async fn check_security_headers(base: &str) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let csp_of = |r: &reqwest::Response| {
        r.headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    // The first request after the demo announces itself: on a loaded machine (the reliability
    // scenarios running beside it) loopback requests have failed for about two seconds, twice
    // in many runs; the full error is printed to find out why. Retry a transport error a few times,
    // and fail with the last error if it persists.
    let mut attempt = 0;
    let login = loop {
        match http.get(format!("{base}/login")).send().await {
            Ok(response) => break response,
            Err(e) if attempt < 10 && (e.is_connect() || e.is_request()) => {
                attempt += 1;
                eprintln!("browser test: GET /login failed ({e:?}); retrying ({attempt}/10)");
                tokio::time::sleep(Duration::from_millis(1000)).await;
            }
            Err(e) => panic!("GET /login: {e:?}"),
        }
    };
    assert_eq!(login.status(), 200, "GET /login");
    let csp = csp_of(&login).expect("GET /login carries Content-Security-Policy");
    assert!(csp.contains("default-src 'none'"), "CSP of /login: {csp}");

    let signed_in = http
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=sakura-viewer&password={PASSWORD}"))
        .send()
        .await
        .expect("POST /login");
    assert!(
        signed_in.status().is_redirection(),
        "POST /login answered {}",
        signed_in.status()
    );
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("mamori_session="))
        .and_then(|v| v.split(';').next())
        .expect("POST /login sets the session cookie")
        .to_string();
    let dashboard = http
        .get(format!("{base}/"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("GET /");
    assert_eq!(dashboard.status(), 200, "GET / signed in");
    let csp = csp_of(&dashboard).expect("the dashboard carries Content-Security-Policy");
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "CSP of the dashboard allows no script: {csp}"
    );
    let body = dashboard.text().await.unwrap_or_default();
    assert!(
        !body.contains("<script"),
        "the dashboard has no script element"
    );
    eprintln!("browser test: ok: Content-Security-Policy on /login and / ({csp})");
}

async fn walk(b: Browser) {
    // A wrong password is refused with a message.
    let r: anyhow::Result<_> = async {
        b.sign_in("analyst", "not-the-password").await?;
        b.wait_for("#login-error").await?;
        if b.present("#logout").await? {
            bail!("signed in with a wrong password");
        }
        Ok(())
    }
    .await;
    b.step("wrong password shows #login-error", r).await;

    // The analyst signs in and sees the demo customer with a score.
    let r: anyhow::Result<_> = async {
        b.sign_in("analyst", PASSWORD).await?;
        b.wait_for("#customers").await?;
        let rows = b.all("#customers tr[data-customer-id]").await?;
        for row in rows {
            let text = row.text().await?;
            if text.contains("Sakura Trading") || text.contains("さくら商事") {
                let score = row.find(Locator::Css("td.score")).await?.text().await?;
                let value: f64 = score
                    .trim()
                    .parse()
                    .with_context(|| format!("score {score:?} is not a number"))?;
                if !(0.0..=100.0).contains(&value) {
                    bail!("score {value} outside 0-100");
                }
                return Ok(value);
            }
        }
        bail!("the demo customer is not in #customers")
    }
    .await;
    let score = b
        .step(
            "analyst signs in; overview shows the demo customer and a score",
            r,
        )
        .await;
    eprintln!("browser test: demo customer score {score}");

    // Threat alerts from the demo tenants' audit logs, pulled by the log workers: the password
    // spray is listed, opens with its ATT&CK technique and response guidance, and the analyst
    // acknowledges it with a note that shows in its history.
    let r: anyhow::Result<_> = async {
        let deadline = Instant::now() + Duration::from_secs(240);
        let id = loop {
            b.goto("/alerts?rule_id=mamori.entra-signin.password_spray")
                .await?;
            b.wait_for("#alerts").await?;
            let rows = b
                .all("#alerts tr[data-rule=\"mamori.entra-signin.password_spray\"]")
                .await?;
            if let Some(row) = rows.first() {
                break row.attr("data-alert-id").await?.context("data-alert-id")?;
            }
            if Instant::now() > deadline {
                bail!("no password-spray alert on /alerts after 240 s");
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        };
        b.click_and_leave(&format!("tr[data-alert-id=\"{id}\"] a.alert-link"))
            .await?;
        eventually!(format!("/alerts/{id}"), {
            b.path().await? == format!("/alerts/{id}")
        });
        let attack = b.text("#alert-attack").await?;
        if !attack.contains("T1110") {
            bail!("the spray's techniques are {attack:?}");
        }
        let response = b.text("#alert-response").await?;
        if response.trim().chars().count() < 20 {
            bail!("no response guidance: {response:?}");
        }
        b.wait_for("#alert-new-status")
            .await?
            .select_by_value("acknowledged")
            .await?;
        b.fill("#alert-note", "investigating the source address")
            .await?;
        // The form posts and comes back to the same page.
        b.wait_for("#set-alert-status").await?.click().await?;
        eventually!("the note in the alert's history", {
            b.text_now("#alert-history")
                .await
                .is_some_and(|t| t.contains("investigating the source address"))
        });
        Ok(id)
    }
    .await;
    let alert_id = b
        .step("the demo's password spray on /alerts, acknowledged", r)
        .await;
    eprintln!("browser test: password spray alert #{alert_id} acknowledged");

    // Findings filtered to critical; the first one opens with its remediation.
    let r: anyhow::Result<_> = async {
        b.goto("/findings").await?;
        b.wait_for("#findings").await?;
        b.wait_for("#filter-severity")
            .await?
            .select_by_value("critical")
            .await?;
        b.click_and_leave("#apply-filter").await?;
        eventually!("the severity=critical filter in the URL", {
            b.path().await?.contains("severity=critical")
        });
        b.wait_for("#findings")
            .await
            .context("the filtered findings page has no #findings table")?;
        let rows = b.all("#findings tr[data-finding-id]").await?;
        if rows.is_empty() {
            bail!("no critical findings listed");
        }
        for row in &rows {
            let badge = row
                .find(Locator::Css(".badge"))
                .await?
                .attr("class")
                .await?
                .unwrap_or_default();
            if !badge.split_whitespace().any(|c| c == "critical") {
                bail!("a listed finding is not critical (badge class {badge:?})");
            }
        }
        let total = b.finding_total().await?;
        let first = &rows[0];
        let id = first
            .attr("data-finding-id")
            .await?
            .context("data-finding-id")?;
        let control = first.attr("data-control").await?.context("data-control")?;
        Ok((id, control, total))
    }
    .await;
    let (finding_id, control, critical_total) = b.step("findings filtered to critical", r).await;
    eprintln!("browser test: first critical finding #{finding_id} ({control}) of {critical_total}");

    let r: anyhow::Result<_> = async {
        b.click_and_leave(&format!(
            "tr[data-finding-id=\"{finding_id}\"] a.finding-link"
        ))
        .await?;
        eventually!(format!("/findings/{finding_id}"), {
            b.path().await? == format!("/findings/{finding_id}")
        });
        let remediation = b.text("#remediation").await?;
        if remediation.trim().lines().count() < 2 {
            bail!("#remediation has no text: {remediation:?}");
        }
        if b.present("#finding-accepted").await? {
            bail!("the finding is already accepted");
        }
        Ok(())
    }
    .await;
    b.step("the finding shows its remediation", r).await;

    // The analyst requests a risk acceptance; they may not approve it themselves.
    let r: anyhow::Result<_> = async {
        b.fill(
            "#exception-reason",
            "Compensating control: conditional access at the proxy (browser test)",
        )
        .await?;
        b.fill("#exception-days", "30").await?;
        b.click_and_leave("#request-exception").await?;
        eventually!("/exceptions", {
            b.path().await?.starts_with("/exceptions")
        });
        let row = b
            .wait_for(&format!("#exceptions tr[data-control=\"{control}\"]"))
            .await?;
        let id = row
            .attr("data-exception-id")
            .await?
            .context("data-exception-id")?;
        let state = row
            .find(Locator::Css(".state"))
            .await?
            .attr("class")
            .await?
            .unwrap_or_default();
        if !state.split_whitespace().any(|c| c == "exc-requested") {
            bail!("the new exception is not shown as requested (class {state:?})");
        }
        if !row
            .find_all(Locator::Css("button.approve"))
            .await?
            .is_empty()
        {
            bail!("the requester is offered an approve button (four-eyes rule)");
        }
        Ok(id)
    }
    .await;
    let exception_id = b
        .step(
            "request a risk acceptance; no approve button for the requester",
            r,
        )
        .await;
    eprintln!("browser test: exception #{exception_id} requested");

    let r: anyhow::Result<_> = async {
        b.click_and_leave("#logout").await?;
        eventually!("/login after sign-out", {
            b.path().await?.starts_with("/login")
        });
        b.goto("/exceptions").await?;
        eventually!("/exceptions to send us to /login when signed out", {
            b.path().await?.starts_with("/login")
        });
        Ok(())
    }
    .await;
    b.step("sign out", r).await;

    // The customer admin approves it.
    let row_css = format!("#exceptions tr[data-exception-id=\"{exception_id}\"]");
    let r: anyhow::Result<_> = async {
        b.sign_in("sakura-admin", PASSWORD).await?;
        b.wait_for("#logout").await?;
        b.goto("/exceptions").await?;
        let row = b.wait_for(&row_css).await?;
        row.find(Locator::Css("button.approve"))
            .await
            .context("no button.approve in the row")?
            .click()
            .await?;
        eventually!("the exception to be shown as approved", {
            // Any error here is the row being replaced by the reload: look again.
            match b
                .all(&row_css)
                .await
                .ok()
                .and_then(|rows| rows.into_iter().next())
            {
                Some(row) => match row.find(Locator::Css(".state")).await {
                    Ok(s) => s
                        .attr("class")
                        .await
                        .ok()
                        .flatten()
                        .unwrap_or_default()
                        .split_whitespace()
                        .any(|c| c == "exc-approved"),
                    Err(_) => false,
                },
                None => false,
            }
        });
        Ok(())
    }
    .await;
    b.step("sakura-admin approves the exception", r).await;

    // The finding is accepted, and the filters agree.
    let r: anyhow::Result<_> = async {
        b.goto(&format!("/findings/{finding_id}")).await?;
        b.wait_for("#finding-status").await?;
        b.wait_for("#finding-accepted").await?;
        Ok(())
    }
    .await;
    b.step("the finding shows #finding-accepted", r).await;

    let finding_row = format!("#findings tr[data-finding-id=\"{finding_id}\"]");
    let r: anyhow::Result<_> = async {
        b.goto("/findings?accepted=true").await?;
        b.wait_for("#findings").await?;
        if !b.present(&finding_row).await? {
            bail!("finding #{finding_id} is not listed with accepted=true");
        }
        Ok(())
    }
    .await;
    b.step("/findings?accepted=true lists the finding", r).await;

    let r: anyhow::Result<_> = async {
        b.goto("/findings?accepted=false&severity=critical").await?;
        b.wait_for("#findings").await?;
        if b.present(&finding_row).await? {
            bail!("finding #{finding_id} is still listed with accepted=false");
        }
        let total = b.finding_total().await?;
        if total >= critical_total {
            bail!("{total} critical findings not accepted, as many as all critical findings before ({critical_total})");
        }
        Ok(())
    }
    .await;
    b.step(
        "/findings?accepted=false&severity=critical omits the finding",
        r,
    )
    .await;

    // Switching the language to English makes the navigation English.
    let r: anyhow::Result<_> = async {
        b.goto("/settings").await?;
        let before = b.text("#nav-findings").await?;
        if before.trim() != "検出事項" {
            bail!("sakura-admin's navigation is not Japanese before the switch: {before:?}");
        }
        b.wait_for("#lang-select")
            .await?
            .select_by_value("en")
            .await?;
        b.wait_for("#save-lang").await?.click().await?;
        // The form submit reloads the page: an element found just before the reload is stale
        // by the time its text is read, so each look finds it afresh and a stale one is retried.
        eventually!("the navigation to turn English", {
            b.text_now("#nav-findings").await.as_deref().map(str::trim) == Some("Findings")
        });
        let exceptions = b.text("#nav-exceptions").await?;
        if exceptions.trim() != "Risk acceptances" {
            bail!("#nav-exceptions is {exceptions:?} in English");
        }
        let lang = b.wait_for("html").await?.attr("lang").await?;
        if lang.as_deref() != Some("en") {
            bail!("<html lang> is {lang:?}");
        }
        Ok(())
    }
    .await;
    b.step("switching the language on /settings to English", r)
        .await;
}
