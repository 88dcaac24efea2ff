//! The HTTP listener: hyper's HTTP/1 server under limits `axum::serve` does not set — a time
//! to send a request's headers, a time for the whole request, and a cap on open connections —
//! so a client that opens connections and sends nothing, or a byte a minute (slowloris), ties
//! up one connection slot for seconds, not forever, and cannot take them all.

use axum::extract::ConnectInfo;
use axum::response::IntoResponse;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// Limits of the HTTP listener.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Time a client has to send a request's headers, from the connection's start or the end
    /// of its previous response (keep-alive) (10 s).
    pub header_read_timeout: Duration,
    /// Time a request may take from its headers to its response, body upload included; past
    /// it the client gets 408 (120 s: a 16 MiB log push on a slow link fits).
    pub request_timeout: Duration,
    /// Open connections served at once; more wait in the kernel's queue until one closes
    /// (1,024).
    pub max_connections: usize,
    /// Time shutdown waits for requests in flight (10 s).
    pub drain_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
            max_connections: 1024,
            drain_timeout: Duration::from_secs(10),
        }
    }
}

/// A request that took longer than [`HttpLimits::request_timeout`] gets 408.
pub(crate) async fn request_deadline(
    axum::extract::State(limit): axum::extract::State<Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => (
            axum::http::StatusCode::REQUEST_TIMEOUT,
            [(axum::http::header::CONNECTION, "close")],
            axum::Json(serde_json::json!({"error": {
                "code": "request_timeout",
                "message": format!("the request took longer than {} s", limit.as_secs()),
            }})),
        )
            .into_response(),
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets requests in flight end
/// (up to [`HttpLimits::drain_timeout`]). Handlers see the peer as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        // A slot first, then the connection: past the cap, clients wait in the accept queue.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "accepting a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let mut router = router.clone();
            async move {
                tower_service::Service::call(&mut router, request.map(axum::body::Body::new)).await
            }
        });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            tokio::pin!(connection);
            let stopping = tokio::select! {
                _ = connection.as_mut() => false,
                stopped = stop.wait_for(|stopping| *stopping) => stopped.is_ok(),
            };
            if stopping {
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every slot back: every connection has ended.
    let all = u32::try_from(limits.max_connections.max(1)).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(limits.drain_timeout, slots.acquire_many(all)).await;
    Ok(())
}
