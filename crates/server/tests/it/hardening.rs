//! The listener's limits (slowloris, connection cap, request deadline) and the sign-in limits
//! (normalised names, attempts counted before the check, IPv6 by /64, trusted proxies, long
//! names), each against a real server on a loopback port.

use mamori_server::{AppState, HttpLimits, Role, ServerConfig};
use mamori_store::{MasterKey, NewUser, Role as UserRole, Store};
use mamori_work::ConnectorCollector;
use reqwest::StatusCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PASSWORD: &str = "correct horse battery staple";

struct Server {
    base: String,
    addr: std::net::SocketAddr,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// A server with one user (`analyst`) and no tenants: nothing runs in the background.
async fn server(configure: impl FnOnce(&mut ServerConfig)) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::default_url(dir.path())).await.unwrap();
    store
        .create_user(&NewUser {
            username: "analyst".into(),
            display_name: "Analyst".into(),
            role: UserRole::Analyst,
            customer_id: None,
            lang: "en".into(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap();
    let mut config = ServerConfig::default();
    configure(&mut config);
    let state = AppState::new(
        store,
        MasterKey::generate(),
        mamori_policy::Engine::new(),
        Arc::new(ConnectorCollector),
        config,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(mamori_server::run(listener, state, Role::Api, async move {
        let _ = stopped.await;
    }));
    Server {
        base: format!("http://{addr}"),
        addr,
        _dir: dir,
        _stop: stop,
    }
}

/// Reads until the server closes the connection (or `within` passes: `None`).
async fn read_to_close(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut out = Vec::new();
    let read = tokio::time::timeout(within, stream.read_to_end(&mut out)).await;
    match read {
        Ok(_) => Some(String::from_utf8_lossy(&out).into_owned()),
        Err(_) => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_off_and_connections_capped() {
    let s = server(|c| {
        c.http = HttpLimits {
            header_read_timeout: Duration::from_secs(1),
            max_connections: 2,
            ..HttpLimits::default()
        }
    })
    .await;
    // Slowloris: half a request, then nothing.
    let mut slow = TcpStream::connect(s.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    assert!(
        read_to_close(&mut slow, Duration::from_secs(5))
            .await
            .is_some(),
        "a client that never finishes its headers is disconnected"
    );
    assert!(started.elapsed() < Duration::from_secs(4));

    // Two silent connections take both slots; a third waits until they are cut off.
    let mut silent: Vec<TcpStream> = Vec::new();
    for _ in 0..2 {
        silent.push(TcpStream::connect(s.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(s.addr).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut first_bytes = [0u8; 1];
    let early =
        tokio::time::timeout(Duration::from_millis(400), third.read(&mut first_bytes)).await;
    assert!(early.is_err(), "past the cap a connection waits");
    let answer = read_to_close(&mut third, Duration::from_secs(5))
        .await
        .expect("served once the silent connections are cut off");
    assert!(
        answer.starts_with("TTP/1.1 200") || answer.contains("200 OK"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_body_sent_too_slowly_gets_408() {
    let s = server(|c| c.http.request_timeout = Duration::from_secs(1)).await;
    let mut stream = TcpStream::connect(s.addr).await.unwrap();
    stream
        .write_all(
            b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername=ana",
        )
        .await
        .unwrap();
    let answer = read_to_close(&mut stream, Duration::from_secs(5))
        .await
        .expect("the server ends the request");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
}

/// Sign-in attempts through a trusted proxy at 127.0.0.1, each naming its client.
async fn attempt(
    http: &reqwest::Client,
    base: &str,
    client: &str,
    name: &str,
    pw: &str,
) -> StatusCode {
    http.post(format!("{base}/login"))
        .header("x-forwarded-for", client)
        .form(&[("username", name), ("password", pw)])
        .send()
        .await
        .unwrap()
        .status()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_limits_hold_for_spelling_bursts_ipv6_and_long_names() {
    let s = server(|c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let http = no_redirects();
    let base = &s.base;

    // One name however it is spaced or cased: five failures from five clients lock it.
    for (i, name) in [" analyst", "analyst ", "ANALYST", "Analyst", " analyst "]
        .iter()
        .enumerate()
    {
        let client = format!("198.51.100.{}", i + 1);
        assert_eq!(
            attempt(&http, base, &client, name, "wrong").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        attempt(&http, base, "198.51.100.50", "analyst", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the name is locked whatever its spelling"
    );

    // A parallel burst on another name: only the limit's worth reaches the password check.
    let burst = (0..20).map(|i| {
        let http = http.clone();
        let base = base.clone();
        async move {
            attempt(
                &http,
                &base,
                &format!("203.0.113.{}", i + 1),
                "nobody",
                "wrong",
            )
            .await
        }
    });
    let statuses = futures_util::future::join_all(burst).await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(checked, 5, "{statuses:?}");
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS));

    // IPv6: the addresses of one /64 are one client.
    for i in 1..=5 {
        let name = format!("someone-{i}");
        assert_eq!(
            attempt(&http, base, &format!("2001:db8:1:2::{i:x}"), &name, "wrong").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        attempt(&http, base, "2001:db8:1:2:ffff::1", "someone-else", "wrong").await,
        StatusCode::TOO_MANY_REQUESTS,
        "another address of the same /64"
    );
    assert_eq!(
        attempt(&http, base, "2001:db8:1:3::1", "someone-else", "wrong").await,
        StatusCode::UNAUTHORIZED,
        "the next /64 is another client"
    );

    // A 100 KB name is refused before any lookup, and still counts for its client.
    let long = "a".repeat(100_000);
    for _ in 0..5 {
        assert_eq!(
            attempt(&http, base, "192.0.2.9", &long, "wrong").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        attempt(&http, base, "192.0.2.9", &long, "wrong").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
    // No trusted proxy: every attempt is the loopback peer's, whatever the header says.
    let s = server(|_| {}).await;
    let http = no_redirects();
    for i in 1..=5 {
        let status = attempt(
            &http,
            &s.base,
            &format!("198.51.100.{i}"),
            &format!("n{i}"),
            "x",
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        attempt(&http, &s.base, "198.51.100.77", "analyst", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "a forged header does not make a new client"
    );
}
