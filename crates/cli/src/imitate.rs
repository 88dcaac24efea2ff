//! `mamori imitate`: runs the imitation SaaS APIs on loopback until Ctrl-C and writes
//! credentials files for them, so `mamori collect` and `mamori scan` can be tried (and tested)
//! end to end without a real tenant.

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use mamori_mock_saas::gws::{GwsMock, GwsTenantSpec};
use mamori_mock_saas::m365::M365TenantSpec;
use mamori_mock_saas::Behaviour;
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Clone, Copy, ValueEnum)]
pub enum Size {
    /// The demo customer (small).
    Demo,
    /// 100,000 Microsoft 365 users; 50,000 Google Workspace users.
    Large,
}

#[derive(Args)]
pub struct ImitateArgs {
    /// Write m365-credentials.json and gws-credentials.json here (mode 0600).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub credentials_dir: PathBuf,
    #[arg(long, value_enum, default_value = "demo")]
    pub size: Size,
    /// Added to every response, in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,
    /// Answer every n-th request 429 with Retry-After (0 = never).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub throttle_every: u64,
    /// Seconds announced in Retry-After.
    #[arg(long, default_value_t = 1, value_name = "SECONDS")]
    pub retry_after: u64,
}

/// The connector configuration for an imitation Google Workspace tenant, as JSON.
pub fn gws_config_json(mock: &GwsMock) -> serde_json::Value {
    let base = mock.base_url();
    json!({
        "service_account_key_json": mock.key.to_string(),
        "subject": mock.subject,
        "customer_id": mock.customer_id,
        "dns_server": mock.dns.addr.to_string(),
        "endpoints": {"token_uri": format!("{base}/token"), "admin": base, "cloud_identity": base, "groups_settings": base, "licensing": base},
    })
}

fn write_private(path: &Path, value: &serde_json::Value) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(serde_json::to_string_pretty(value)?.as_bytes())?;
    Ok(())
}

pub fn run(args: ImitateArgs) -> Result<u8> {
    let rt = crate::collect::runtime()?;
    rt.block_on(async {
        let behaviour = Behaviour {
            latency: Duration::from_millis(args.latency_ms),
            throttle_every: args.throttle_every,
            retry_after_secs: args.retry_after,
            faults: Vec::new(),
        };
        let (m365_spec, gws_spec) = match args.size {
            Size::Demo => (M365TenantSpec::demo(), GwsTenantSpec::demo()),
            Size::Large => (M365TenantSpec::large(), GwsTenantSpec::large()),
        };
        let m365 = mamori_mock_saas::m365::start(&m365_spec, behaviour.clone())
            .await
            .context("starting the Microsoft 365 imitation")?;
        let gws = mamori_mock_saas::gws::start(&gws_spec, behaviour)
            .await
            .context("starting the Google Workspace imitation")?;
        std::fs::create_dir_all(&args.credentials_dir)?;
        let m365_path = args.credentials_dir.join("m365-credentials.json");
        let gws_path = args.credentials_dir.join("gws-credentials.json");
        write_private(&m365_path, &m365.config(true))?;
        write_private(&gws_path, &gws_config_json(&gws))?;
        // The yardsticks of the collection benchmark: requests needed at the largest pages.
        std::fs::write(
            args.credentials_dir.join("m365-lower-bound.json"),
            serde_json::to_vec(&m365.lower_bound())?,
        )?;
        std::fs::write(
            args.credentials_dir.join("gws-lower-bound.json"),
            serde_json::to_vec(&gws.lower_bound())?,
        )?;
        let lang = crate::text::lang();
        let say = |key, args: &[(&str, &dyn std::fmt::Display)]| {
            println!("{}", crate::text::format(lang, key, args));
        };
        say(
            "imitation_m365",
            &[("url", &m365.base_url()), ("dns", &m365.dns.addr)],
        );
        say(
            "imitation_gws",
            &[("url", &gws.base_url()), ("dns", &gws.dns.addr)],
        );
        say(
            "imitation_credentials",
            &[("m365", &m365_path.display()), ("gws", &gws_path.display())],
        );
        say("imitation_try", &[("path", &m365_path.display())]);
        say("press_ctrl_c", &[]);
        let _ = std::io::stdout().flush();
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        let _ = std::fs::remove_file(&m365_path);
        let _ = std::fs::remove_file(&gws_path);
        anyhow::Ok(())
    })?;
    Ok(0)
}
