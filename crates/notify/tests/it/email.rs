//! E-mail over SMTP, against a tiny SMTP receiver written here.

use crate::common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::*;
use mamori_notify::{ChannelConfig, EmailTls, Notifier};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Clone, Debug, Default)]
struct Mail {
    ehlo: String,
    mail_from: String,
    rcpt_to: Vec<String>,
    data: String,
}

/// Replies for the commands a test wants to fail.
#[derive(Clone, Copy)]
struct Script {
    mail: &'static str,
    rcpt: &'static str,
}

const ACCEPT_ALL: Script = Script {
    mail: "250 2.1.0 OK",
    rcpt: "250 2.1.5 OK",
};

/// Speaks just enough SMTP (220, EHLO, MAIL, RCPT, DATA/354, ".", QUIT)
/// and records each message it accepts.
async fn smtp_server(script: Script) -> (SocketAddr, Arc<Mutex<Vec<Mail>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let store = mails.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let store = store.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut r = BufReader::new(r);
                let mut mail = Mail::default();
                w.write_all(b"220 test.local ESMTP ready\r\n")
                    .await
                    .unwrap();
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.trim_end().to_owned();
                    let upper = cmd.to_ascii_uppercase();
                    let reply: String = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        mail.ehlo = cmd.clone();
                        "250-test.local\r\n250 8BITMIME".into()
                    } else if upper.starts_with("MAIL FROM:") {
                        mail.mail_from = cmd[10..].to_owned();
                        script.mail.into()
                    } else if upper.starts_with("RCPT TO:") {
                        mail.rcpt_to.push(cmd[8..].to_owned());
                        script.rcpt.into()
                    } else if upper == "DATA" {
                        w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                            .await
                            .unwrap();
                        let mut data = String::new();
                        loop {
                            line.clear();
                            if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if line == ".\r\n" {
                                break;
                            }
                            let l = line.strip_prefix('.').unwrap_or(&line);
                            data.push_str(l);
                        }
                        mail.data = data;
                        store.lock().unwrap().push(std::mem::take(&mut mail));
                        "250 2.0.0 queued".into()
                    } else if upper == "QUIT" {
                        let _ = w.write_all(b"221 2.0.0 bye\r\n").await;
                        return;
                    } else if upper == "RSET" || upper == "NOOP" {
                        "250 OK".into()
                    } else {
                        "502 5.5.2 not implemented".into()
                    };
                    w.write_all(format!("{reply}\r\n").as_bytes())
                        .await
                        .unwrap();
                }
            });
        }
    });
    (addr, mails)
}

fn channel(addr: SocketAddr) -> ChannelConfig {
    ChannelConfig::Email {
        host: "127.0.0.1".into(),
        port: addr.port(),
        tls: EmailTls::None,
        username: None,
        password: None,
        from: "Mamori <alerts@mamori.example.jp>".into(),
        to: vec![
            "secops@sakura.example.jp".into(),
            "情シス <it@sakura.example.jp>".into(),
        ],
    }
}

/// Header value with folded lines joined.
fn header(data: &str, name: &str) -> Option<String> {
    let head = data.split("\r\n\r\n").next().unwrap();
    let mut unfolded: Vec<String> = Vec::new();
    for l in head.split("\r\n") {
        if l.starts_with(' ') || l.starts_with('\t') {
            unfolded.last_mut()?.push_str(l);
        } else {
            unfolded.push(l.to_owned());
        }
    }
    let prefix = format!("{}:", name.to_ascii_lowercase());
    unfolded
        .into_iter()
        .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .map(|l| l[prefix.len()..].trim().to_owned())
}

fn qp_decode(s: &str) -> Vec<u8> {
    let s = s.replace("=\r\n", "");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 3 <= b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Decodes RFC 2047 encoded-words (`=?utf-8?b?...?=`, `=?utf-8?q?...?=`);
/// whitespace between adjacent encoded-words is dropped.
fn decode_rfc2047(v: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut rest = v;
    while let Some(start) = rest.find("=?") {
        let between = &rest[..start];
        // Whitespace between two encoded-words is not part of the text.
        if !between.trim().is_empty() || pending.is_empty() {
            out.push_str(&String::from_utf8(std::mem::take(&mut pending)).unwrap());
            out.push_str(between);
        }
        let word = &rest[start + 2..];
        let mut parts = word.splitn(3, '?');
        let _charset = parts.next().unwrap();
        let enc = parts.next().unwrap().to_ascii_lowercase();
        let tail = parts.next().unwrap();
        let end = tail.find("?=").unwrap();
        let text = &tail[..end];
        match enc.as_str() {
            "b" => pending.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .unwrap(),
            ),
            "q" => pending.extend(qp_decode(&text.replace('_', " "))),
            e => panic!("unknown encoding {e}"),
        }
        rest = &tail[end + 2..];
    }
    out.push_str(&String::from_utf8(pending).unwrap());
    out.push_str(rest);
    out
}

/// The body, transfer-decoded, with CRLF line ends turned into LF.
fn decoded_body(data: &str) -> String {
    let body = data.split_once("\r\n\r\n").unwrap().1;
    let text = match header(data, "Content-Transfer-Encoding")
        .unwrap_or_default()
        .to_ascii_lowercase()
        .as_str()
    {
        "base64" => String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(body.replace("\r\n", ""))
                .unwrap(),
        )
        .unwrap(),
        "quoted-printable" => String::from_utf8(qp_decode(body)).unwrap(),
        _ => body.to_owned(),
    };
    text.replace("\r\n", "\n")
}

#[tokio::test]
async fn email_with_japanese_subject() {
    let (addr, mails) = smtp_server(ACCEPT_ALL).await;
    Notifier::new()
        .allow_private_targets(true)
        .deliver(&channel(addr), &findings_notification("ja", 3))
        .await
        .expect("delivered");
    let mails = mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert!(m.ehlo.to_ascii_uppercase().starts_with("EHLO"));
    assert_eq!(m.mail_from, "<alerts@mamori.example.jp>");
    assert_eq!(
        m.rcpt_to,
        vec!["<secops@sakura.example.jp>", "<it@sakura.example.jp>"]
    );
    let subject = decode_rfc2047(&header(&m.data, "Subject").expect("subject"));
    assert_eq!(
        subject,
        "[Mamori] 株式会社さくら商事 / sakura.onmicrosoft.com: 新しい重大な検出事項 3 件"
    );
    assert!(header(&m.data, "Content-Type")
        .unwrap()
        .to_ascii_lowercase()
        .contains("text/plain; charset=utf-8"));
    assert_eq!(header(&m.data, "Auto-Submitted").unwrap(), "auto-generated");
    assert!(header(&m.data, "Message-ID")
        .unwrap()
        .ends_with("@mamori.example.jp>"));
    assert!(header(&m.data, "Date").is_some());
    let body = decoded_body(&m.data);
    assert!(body.contains("顧客: 株式会社さくら商事"), "{body}");
    assert!(body.contains("[重大] M365-EXO-0"), "{body}");
    assert!(body.contains("Mamori で開く: https://mamori.example.jp/customers/7/scans/4242"));
}

#[tokio::test]
async fn email_in_english_for_a_failed_scan() {
    let (addr, mails) = smtp_server(ACCEPT_ALL).await;
    Notifier::new()
        .allow_private_targets(true)
        .deliver(&channel(addr), &failed_notification("en"))
        .await
        .unwrap();
    let m = mails.lock().unwrap()[0].clone();
    let subject = decode_rfc2047(&header(&m.data, "Subject").unwrap());
    assert_eq!(
        subject,
        "[Mamori] 株式会社さくら商事 / sakura.onmicrosoft.com: Scan failed"
    );
    let body = decoded_body(&m.data);
    assert!(body.contains("Error:\nGraph API returned 403"), "{body}");
}

#[tokio::test]
async fn smtp_rejections_are_classified() {
    let (addr, _) = smtp_server(Script {
        mail: "250 OK",
        rcpt: "550 5.1.1 no such user",
    })
    .await;
    let err = Notifier::new()
        .allow_private_targets(true)
        .deliver(&channel(addr), &failed_notification("en"))
        .await
        .unwrap_err();
    assert!(!err.retryable, "{err}");
    assert!(
        err.message.contains("550") || err.message.contains("no such user"),
        "{err}"
    );
    assert!(
        err.message.starts_with("email delivery via 127.0.0.1:"),
        "{err}"
    );

    let (addr, _) = smtp_server(Script {
        mail: "451 4.3.0 try again later",
        rcpt: "250 OK",
    })
    .await;
    let err = Notifier::new()
        .allow_private_targets(true)
        .deliver(&channel(addr), &failed_notification("en"))
        .await
        .unwrap_err();
    assert!(err.retryable, "{err}");
}

#[tokio::test]
async fn smtp_connection_refused_and_hang() {
    let port = closed_port();
    let mut ch = channel(SocketAddr::from(([127, 0, 0, 1], port)));
    if let ChannelConfig::Email {
        username, password, ..
    } = &mut ch
    {
        *username = Some("mailer".into());
        *password = Some("smtp-password-secret".into());
    }
    let err = Notifier::new()
        .allow_private_targets(true)
        .deliver(&ch, &failed_notification("en"))
        .await
        .unwrap_err();
    assert!(err.retryable, "{err}");
    assert!(!err.message.contains("smtp-password-secret"));

    // A server that accepts and never greets.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let started = Instant::now();
    let err = Notifier::with_timeout(Duration::from_millis(500))
        .allow_private_targets(true)
        .deliver(&channel(addr), &failed_notification("en"))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(err.retryable, "{err}");
}

#[tokio::test]
async fn plaintext_smtp_to_a_remote_host_is_refused() {
    let ch = ChannelConfig::Email {
        host: "smtp.example.jp".into(),
        port: 25,
        tls: EmailTls::None,
        username: None,
        password: None,
        from: "alerts@mamori.example.jp".into(),
        to: vec!["secops@sakura.example.jp".into()],
    };
    let err = Notifier::new()
        .allow_private_targets(true)
        .deliver(&ch, &failed_notification("en"))
        .await
        .unwrap_err();
    assert!(!err.retryable);
    assert!(err.message.contains("starttls"), "{err}");
}
