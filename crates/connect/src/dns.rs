//! TXT lookups for SPF, DKIM and DMARC over UDP (with TCP fallback for truncated answers),
//! against a configurable server, so tests and the demo can point at a loopback resolver.

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("{name}: not a valid DNS name")]
    BadName { name: String },
    #[error("{name}: no answer from {server} within {seconds} s")]
    Timeout {
        name: String,
        server: SocketAddr,
        seconds: u64,
    },
    #[error("{name}: {server} answered {code}")]
    Failure {
        name: String,
        server: SocketAddr,
        code: String,
    },
    #[error("{name}: {message}")]
    Io { name: String, message: String },
}

/// One TXT answer: the strings, with multi-string records joined as DNS tools do.
#[derive(Debug, Clone)]
pub struct TxtAnswer {
    pub records: Vec<String>,
    /// NXDOMAIN or no TXT records.
    pub empty: bool,
    /// The name does not exist (NXDOMAIN), as opposed to existing without TXT records.
    pub nxdomain: bool,
}

#[derive(Debug, Clone)]
pub struct Resolver {
    pub server: SocketAddr,
    pub timeout: Duration,
    pub attempts: u32,
}

impl Resolver {
    pub fn new(server: SocketAddr) -> Self {
        Resolver {
            server,
            timeout: Duration::from_secs(3),
            attempts: 3,
        }
    }

    pub async fn txt(&self, name: &str) -> Result<TxtAnswer, DnsError> {
        let fqdn = Name::from_str(&format!("{}.", name.trim_end_matches('.'))).map_err(|_| {
            DnsError::BadName {
                name: name.to_string(),
            }
        })?;
        let mut msg = Message::new();
        msg.set_id((crate::http::next_random() & 0xffff) as u16)
            .set_message_type(MessageType::Query)
            .set_op_code(OpCode::Query)
            .set_recursion_desired(true)
            .add_query(Query::query(fqdn, RecordType::TXT));
        let request = msg.to_vec().map_err(|e| DnsError::Io {
            name: name.to_string(),
            message: e.to_string(),
        })?;
        let mut last = None;
        for _ in 0..self.attempts.max(1) {
            match tokio::time::timeout(self.timeout, self.udp(&request)).await {
                Ok(Ok(bytes)) => {
                    let answer = Message::from_vec(&bytes).map_err(|e| DnsError::Io {
                        name: name.to_string(),
                        message: format!("malformed answer: {e}"),
                    })?;
                    if answer.id() != msg.id() {
                        continue;
                    }
                    let answer = if answer.truncated() {
                        let bytes = tokio::time::timeout(self.timeout, self.tcp(&request))
                            .await
                            .map_err(|_| DnsError::Timeout {
                                name: name.to_string(),
                                server: self.server,
                                seconds: self.timeout.as_secs(),
                            })?
                            .map_err(|e| DnsError::Io {
                                name: name.to_string(),
                                message: e.to_string(),
                            })?;
                        Message::from_vec(&bytes).map_err(|e| DnsError::Io {
                            name: name.to_string(),
                            message: format!("malformed answer: {e}"),
                        })?
                    } else {
                        answer
                    };
                    return self.read(name, answer);
                }
                Ok(Err(e)) => last = Some(e.to_string()),
                Err(_) => last = None,
            }
        }
        match last {
            Some(message) => Err(DnsError::Io {
                name: name.to_string(),
                message,
            }),
            None => Err(DnsError::Timeout {
                name: name.to_string(),
                server: self.server,
                seconds: self.timeout.as_secs(),
            }),
        }
    }

    fn read(&self, name: &str, answer: Message) -> Result<TxtAnswer, DnsError> {
        match answer.response_code() {
            ResponseCode::NoError => {}
            ResponseCode::NXDomain => {
                return Ok(TxtAnswer {
                    records: Vec::new(),
                    empty: true,
                    nxdomain: true,
                })
            }
            other => {
                return Err(DnsError::Failure {
                    name: name.to_string(),
                    server: self.server,
                    code: other.to_string(),
                })
            }
        }
        let records: Vec<String> = answer
            .answers()
            .iter()
            .filter_map(|r| match r.data() {
                RData::TXT(txt) => Some(
                    txt.txt_data()
                        .iter()
                        .map(|part| String::from_utf8_lossy(part).into_owned())
                        .collect::<String>(),
                ),
                _ => None,
            })
            .collect();
        Ok(TxtAnswer {
            empty: records.is_empty(),
            records,
            nxdomain: false,
        })
    }

    async fn udp(&self, request: &[u8]) -> std::io::Result<Vec<u8>> {
        let bind: SocketAddr = if self.server.is_ipv4() {
            "0.0.0.0:0".parse().expect("literal")
        } else {
            "[::]:0".parse().expect("literal")
        };
        let socket = tokio::net::UdpSocket::bind(bind).await?;
        socket.connect(self.server).await?;
        socket.send(request).await?;
        let mut buf = vec![0u8; 4096];
        let n = socket.recv(&mut buf).await?;
        buf.truncate(n);
        Ok(buf)
    }

    async fn tcp(&self, request: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut stream = tokio::net::TcpStream::connect(self.server).await?;
        stream
            .write_all(&(request.len() as u16).to_be_bytes())
            .await?;
        stream.write_all(request).await?;
        let len = stream.read_u16().await? as usize;
        let mut buf = vec![0u8; len];
        stream.read_exact(&mut buf).await?;
        Ok(buf)
    }
}
