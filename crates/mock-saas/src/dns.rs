//! An authoritative-only DNS server on loopback UDP (and TCP) that answers TXT queries from a
//! fixed zone — enough for the SPF, DKIM and DMARC lookups of the connectors.

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{RData, Record, RecordType};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// TXT records by lower-case name without the trailing dot.
pub type Zone = HashMap<String, Vec<String>>;

pub struct DnsServer {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn answer(zone: &Zone, request: &[u8]) -> Option<Vec<u8>> {
    let query = Message::from_vec(request).ok()?;
    let mut reply = Message::new();
    reply
        .set_id(query.id())
        .set_message_type(MessageType::Response)
        .set_op_code(query.op_code())
        .set_recursion_desired(query.recursion_desired())
        .set_recursion_available(true)
        .set_authoritative(true);
    let q = query.queries().first()?.clone();
    let name = q
        .name()
        .to_ascii()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    reply.add_query(q.clone());
    let known = zone
        .keys()
        .any(|k| k == &name || k.ends_with(&format!(".{name}")));
    match zone.get(&name) {
        Some(records) if q.query_type() == RecordType::TXT => {
            for text in records {
                // Long strings are split into 255-byte character-strings, as real zones do.
                let parts: Vec<String> = text
                    .as_bytes()
                    .chunks(255)
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect();
                reply.add_answer(Record::from_rdata(
                    q.name().clone(),
                    300,
                    RData::TXT(TXT::new(parts)),
                ));
            }
        }
        _ if known => {}
        _ => {
            reply.set_response_code(ResponseCode::NXDomain);
        }
    }
    reply.to_vec().ok()
}

/// Starts the server on 127.0.0.1 (port 0 = any).
pub async fn serve(zone: Zone, port: u16) -> std::io::Result<DnsServer> {
    let socket = tokio::net::UdpSocket::bind(("127.0.0.1", port)).await?;
    let addr = socket.local_addr()?;
    let zone = Arc::new(zone);
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
                continue;
            };
            if let Some(reply) = answer(&zone, &buf[..n]) {
                let _ = socket.send_to(&reply, peer).await;
            }
        }
    });
    Ok(DnsServer { addr, task })
}
