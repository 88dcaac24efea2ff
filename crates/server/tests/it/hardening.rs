//! The listener's limits (slowloris, connection cap, request deadline) and the sign-in limits
//! (normalised names, attempts counted before the check, IPv6 by /64, trusted proxies, long
//! names), each against a real server on a loopback port.

use crate::common::PASSWORD;
use mamori_server::{AppState, HttpLimits, Role, ServerConfig};
use mamori_store::{MasterKey, NewUser, Role as UserRole, Store};
use mamori_work::ConnectorCollector;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Server {
    base: String,
    addr: std::net::SocketAddr,
    store: Store,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// A server with one user (`analyst`) and no tenants: nothing runs in the background.
async fn server(configure: impl FnOnce(&mut ServerConfig)) -> Server {
    server_with(&[("analyst", UserRole::Analyst)], configure).await
}

/// A server with these users (password [`PASSWORD`], Japanese) and no tenants.
async fn server_with(
    users: &[(&str, UserRole)],
    configure: impl FnOnce(&mut ServerConfig),
) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::default_url(dir.path())).await.unwrap();
    for (name, role) in users {
        store
            .create_user(&NewUser {
                username: name.to_string(),
                display_name: name.to_string(),
                role: *role,
                customer_id: None,
                lang: "ja".into(),
                password: PASSWORD.into(),
            })
            .await
            .unwrap();
    }
    let mut config = ServerConfig::default();
    configure(&mut config);
    let state = AppState::new(
        store.clone(),
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
        store,
        _dir: dir,
        _stop: stop,
    }
}

/// A user of the server, by name.
async fn user(s: &Server, name: &str) -> mamori_store::User {
    s.store.get_user_by_username(name).await.unwrap().unwrap()
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

/// `GET /api/v1/me` with a bearer token.
async fn me(http: &reqwest::Client, base: &str, token: &str) -> StatusCode {
    http.get(format!("{base}/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

async fn post(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    let r = http
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_offboarded_reset_and_revoked_through_the_api() {
    let s = server_with(
        &[
            ("admin", UserRole::OperatorAdmin),
            ("leaver", UserRole::Analyst),
        ],
        |_| {},
    )
    .await;
    let store = &s.store;
    let (admin, leaver) = (user(&s, "admin").await, user(&s, "leaver").await);
    let (admin_token, _) = store.create_api_token(admin.id, "a", None).await.unwrap();
    let (leaver_token, _) = store.create_api_token(leaver.id, "l", None).await.unwrap();
    let http = no_redirects();
    let base = s.base.as_str();
    let user_path = |what: &str| format!("/api/v1/users/{}/{what}", leaver.id);

    // Disabled: the token stops working; enabled again, it works again.
    assert_eq!(me(&http, base, &leaver_token).await, StatusCode::OK);
    let (status, body) = post(&http, base, &admin_token, &user_path("disable"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["disabled"], true);
    assert_eq!(
        me(&http, base, &leaver_token).await,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = post(&http, base, &admin_token, &user_path("enable"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me(&http, base, &leaver_token).await, StatusCode::OK);

    // Revoked: every token and session ends for good.
    let (status, body) = post(&http, base, &admin_token, &user_path("revoke"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["tokens_revoked"], 1);
    assert_eq!(
        me(&http, base, &leaver_token).await,
        StatusCode::UNAUTHORIZED
    );

    // Reset: the old password no longer signs in, the new one does; tokens minted before end.
    let (before, _) = store.create_api_token(leaver.id, "b", None).await.unwrap();
    let (status, _) = post(
        &http,
        base,
        &admin_token,
        &user_path("password"),
        json!({"password": "a brand-new password"}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(me(&http, base, &before).await, StatusCode::UNAUTHORIZED);
    let login = |pw: &'static str| {
        let http = http.clone();
        async move {
            http.post(format!("{base}/login"))
                .form(&[("username", "leaver"), ("password", pw)])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(login(PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(login("a brand-new password").await, StatusCode::SEE_OTHER);

    // One's own change needs the current password; the token making it stays, others end.
    let (current, _) = store.create_api_token(leaver.id, "c", None).await.unwrap();
    let (other, _) = store.create_api_token(leaver.id, "o", None).await.unwrap();
    let (status, _) = post(
        &http,
        base,
        &current,
        "/api/v1/me/password",
        json!({"current_password": "wrong", "new_password": "yet another password"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = post(
        &http,
        base,
        &current,
        "/api/v1/me/password",
        json!({"current_password": "a brand-new password", "new_password": "yet another password"}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(me(&http, base, &current).await, StatusCode::OK);
    assert_eq!(me(&http, base, &other).await, StatusCode::UNAUTHORIZED);

    // Nobody cuts themselves off, and a non-admin manages nobody.
    let own = format!("/api/v1/users/{}/disable", admin.id);
    assert_eq!(
        post(&http, base, &admin_token, &own, json!({})).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post(
            &http,
            base,
            &current,
            &format!("/api/v1/users/{}/revoke", admin.id),
            json!({})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );

    // Every step is in the audit log.
    let actions: Vec<String> = store
        .list_audit(mamori_store::Scope::All, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for wanted in [
        "user.disable",
        "user.enable",
        "user.revoke_access",
        "user.password_reset",
        "user.password_change",
    ] {
        assert!(
            actions.iter().any(|a| a == wanted),
            "{wanted} in {actions:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_offboards_a_user_from_the_settings_page() {
    let s = server_with(
        &[
            ("admin", UserRole::OperatorAdmin),
            ("leaver", UserRole::Analyst),
        ],
        |_| {},
    )
    .await;
    let base = s.base.as_str();
    let leaver = user(&s, "leaver").await;
    let (leaver_token, _) = s
        .store
        .create_api_token(leaver.id, "l", None)
        .await
        .unwrap();
    // Signed in through the form; the session's CSRF token read from the settings page.
    let admin = crate::common::sign_in(base, "admin", PASSWORD).await;
    let browser = admin.http;
    let page = browser
        .get(format!("{base}/settings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=\"users\"") && page.contains("leaver"),
        "{page}"
    );
    assert!(page.contains("無効にする"), "Japanese for a Japanese user");
    let csrf = admin.csrf;
    let disable = format!("{base}/settings/users/{}/disable", leaver.id);
    // Without the form's CSRF token nothing happens.
    let r = browser
        .post(&disable)
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        me(&no_redirects(), base, &leaver_token).await,
        StatusCode::OK
    );
    let r = browser
        .post(&disable)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        me(&no_redirects(), base, &leaver_token).await,
        StatusCode::UNAUTHORIZED
    );
    let page = browser
        .get(format!("{base}/settings?notice=user_updated"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("ユーザーを更新しました"), "{page}");
}
