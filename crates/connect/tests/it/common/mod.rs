//! Helpers shared by the connector test binaries.
#![allow(dead_code)] // each test binary uses a part

use mamori_connect::gws::{GwsConfig, GwsEndpoints};
use mamori_connect::HttpSettings;
use mamori_mock_saas::gws::GwsMock;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The connector configuration for an imitation Google Workspace tenant.
pub fn gws_config(mock: &GwsMock) -> GwsConfig {
    GwsConfig {
        service_account_key_file: None,
        service_account_key_json: Some(mamori_connect::Secret::new(mock.key.to_string())),
        subject: mock.subject.clone(),
        customer_id: "my_customer".into(),
        endpoints: GwsEndpoints::all_at(&mock.base_url()),
        dns_server: mock.dns.addr,
        break_glass_accounts: vec!["breakglass-admin@sakura-trading.co.jp".into()],
        // The demo customer's exclusions (as its ScubaGoggles config has them).
        imap_exclusions: demo_list("imap_exclusions"),
        sites_exclusions: demo_list("sites_exclusions"),
        domain_wide_delegation: None,
    }
}

pub fn demo_list(key: &str) -> Vec<serde_json::Value> {
    mamori_mock_saas::synth::gws_demo()[key]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

pub fn fast() -> HttpSettings {
    HttpSettings {
        base_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        ..HttpSettings::default()
    }
}

/// Every log line of the process, from the moment `capture_logs` is called. Installs the global
/// subscriber, so each test binary that uses it must hold that one test: per-thread capture
/// misses spawned tasks, and tracing caches callsite interest process-wide.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of this test binary from the first call on (a process has one global
/// subscriber, and all of this crate's tests share one process). Tests that read it look for
/// their own secrets, so lines from other tests do no harm.
pub fn capture_logs() -> LogCapture {
    static CAPTURE: std::sync::OnceLock<LogCapture> = std::sync::OnceLock::new();
    CAPTURE
        .get_or_init(|| {
            let capture = LogCapture::default();
            let writer = capture.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
            capture
        })
        .clone()
}
