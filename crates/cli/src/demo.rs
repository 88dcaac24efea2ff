//! `mamori demo`: the whole product on one machine with nothing to set up. Imitation Microsoft
//! 365 and Google Workspace APIs start on loopback with the demo customer (株式会社さくら商事, a
//! fictional Japanese trading company); the real connectors collect both tenants over HTTP and
//! DNS; the packs evaluate the snapshots; the reports are written in Japanese and English.
//! Then (unless `--no-serve`) the server starts on the same machine with the demo customer,
//! its two tenants (credentials pointing at the imitation APIs) and demo users; the first scans
//! run through the real job queue and workers, and the dashboard URL and logins are printed.

use crate::collect::{collect_app, gws_mock_config, runtime, Progress};
use crate::output::{now_text, write_atomically};
use crate::{load_engine, PackArgs};
use anyhow::{Context, Result};
use mamori_connect::AppConfig;
use mamori_connect::HttpSettings;
use mamori_core::{Lang, Status};
use mamori_mock_saas::gws::GwsTenantSpec;
use mamori_mock_saas::m365::M365TenantSpec;
use mamori_mock_saas::Behaviour;
use std::io::{IsTerminal, Write};
use std::path::Path;

/// The demo users' password (loopback-only demo data; printed at start).
pub const DEMO_PASSWORD: &str = "mamori-demo-2026";

pub struct DemoOptions {
    pub out_dir: std::path::PathBuf,
    pub listen: String,
    pub serve: bool,
}

pub fn run(options: &DemoOptions) -> Result<u8> {
    let out_dir = options.out_dir.as_path();
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let engine = load_engine(&PackArgs { packs: Vec::new() })?;
    let rt = runtime()?;
    let visible = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    rt.block_on(async {
        let m365 = mamori_mock_saas::m365::start(&M365TenantSpec::demo(), Behaviour::default())
            .await
            .context("starting the imitation Microsoft 365 APIs")?;
        let gws = mamori_mock_saas::gws::start(&GwsTenantSpec::demo(), Behaviour::default())
            .await
            .context("starting the imitation Google Workspace APIs")?;
        let m365_config: mamori_connect::m365::M365Config =
            serde_json::from_value(m365.config(true))
                .context("imitation Microsoft 365 configuration")?;
        let m365_config = AppConfig::M365(m365_config);
        let gws_config = AppConfig::Gws(gws_mock_config(&gws));
        let (a, b) = tokio::join!(
            collect_app(
                &m365_config,
                HttpSettings::default(),
                Progress::new("Microsoft 365", visible)
            ),
            collect_app(
                &gws_config,
                HttpSettings::default(),
                Progress::new("Google Workspace", visible)
            ),
        );
        let mut a = a?;
        // The demo customer's ScubaGear-style configuration: break-glass accounts exempted
        // from the conditional access policies, as an operator would pass with --config.
        a.collection.data.insert(
            "scuba_config".into(),
            m365.state.export["scuba_config"].clone(),
        );
        let collected = vec![a, b?];
        let m365_credentials = m365.config(true);
        let gws_credentials = crate::imitate::gws_config_json(&gws);
        // The demo tenants' last week of audit logs, pulled and matched by the rules.
        let rules = mamori_detect::RuleSet::builtin().context("the built-in detection rules")?;
        let until = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(5);
        let since = until - jiff::SignedDuration::from_hours(7 * 24 - 1);
        let tenant_id = m365_credentials["tenant_id"]
            .as_str()
            .unwrap_or("sakura-trading")
            .to_string();
        let (m365_logs, gws_logs) = tokio::join!(
            crate::logs::pull_and_detect(&m365_config, &tenant_id, since, until, &rules),
            crate::logs::pull_and_detect(&gws_config, "sakura-trading-gws", since, until, &rules),
        );
        let detected = [m365_logs?, gws_logs?];
        write_reports(
            out_dir,
            &engine,
            collected,
            started,
            &threat_section(&detected),
        )?;
        write_alerts(out_dir, &detected)?;
        if !options.serve {
            return Ok(0);
        }
        serve(options, engine, m365_credentials, gws_credentials).await
    })
}

/// `alerts.jsonl` in the `mamori detect --format json` shape, and a summary on stdout.
fn write_alerts(out_dir: &Path, detected: &[crate::logs::Detected]) -> Result<()> {
    let lang = crate::text::lang();
    let mut body = String::new();
    let mut alerts: Vec<&mamori_detect::Alert> = detected.iter().flat_map(|d| &d.alerts).collect();
    alerts.sort_by(|a, b| {
        a.first_epoch
            .cmp(&b.first_epoch)
            .then(a.rule_id.cmp(&b.rule_id))
    });
    for alert in &alerts {
        body.push_str(&serde_json::to_string(&alert.to_json(Lang::En))?);
        body.push('\n');
    }
    let path = out_dir.join("alerts.jsonl");
    write_atomically(&path, body.as_bytes())?;
    let events: usize = detected.iter().map(|d| d.events).sum();
    println!(
        "{}",
        crate::text::format(
            lang,
            "demo_alerts",
            &[
                ("alerts", &alerts.len()),
                ("events", &events),
                ("path", &path.display())
            ]
        )
    );
    for d in detected {
        for (source, result) in &d.sources {
            if let Err(why) = result {
                eprintln!(
                    "mamori: {}: {}",
                    crate::text::get(lang, "warning"),
                    crate::text::format(
                        lang,
                        "demo_log_failed",
                        &[("source", source), ("why", why)]
                    )
                );
            }
        }
    }
    let mut by_severity: Vec<&&mamori_detect::Alert> = alerts
        .iter()
        .filter(|a| matches!(a.severity.as_str(), "critical" | "high"))
        .collect();
    by_severity.sort_by_key(|a| if a.severity == "critical" { 0 } else { 1 });
    for alert in by_severity.iter().take(12) {
        println!(
            "  [{}] {} — {}",
            alert.severity,
            alert.title.get(lang),
            alert.first_seen()
        );
    }
    Ok(())
}

/// The reports' threat section: every alert, and the log sources that could not be read.
fn threat_section(detected: &[crate::logs::Detected]) -> mamori_report::ThreatSection {
    let mut alerts: Vec<&mamori_detect::Alert> = detected.iter().flat_map(|d| &d.alerts).collect();
    let severity = |a: &mamori_detect::Alert| mamori_detect::severity_of_level(&a.severity);
    // Worst first, then by time.
    alerts.sort_by_key(|a| (severity(a).rank(), a.first_epoch));
    mamori_report::ThreatSection {
        events: detected.iter().map(|d| d.events).sum(),
        alerts: alerts
            .into_iter()
            .map(|a| mamori_report::ReportAlert {
                tenant: a.tenant.clone(),
                rule_id: a.rule_id.clone(),
                title: a.title.clone(),
                severity: severity(a).as_str().to_string(),
                first_seen: a.first_seen(),
                last_seen: a.last_seen(),
                count: a.count,
                entities: a
                    .entities
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                response: a.response.clone(),
            })
            .collect(),
        missing: detected
            .iter()
            .flat_map(|d| &d.sources)
            .filter_map(|(source, r)| {
                r.as_ref()
                    .err()
                    .map(|why| (source.as_str().to_string(), why.clone()))
            })
            .collect(),
    }
}

fn write_reports(
    out_dir: &Path,
    engine: &mamori_policy::Engine,
    collected: Vec<mamori_connect::collection::Collected>,
    started: std::time::Instant,
    threats: &mamori_report::ThreatSection,
) -> Result<()> {
    let engine = engine.clone();

    let mut written = Vec::new();
    let mut evaluations = Vec::new();
    let mut lines = Vec::new();
    for (collected, (suite, file)) in collected.into_iter().zip([
        ("Microsoft 365", "sakura-trading-m365.snapshot.json.gz"),
        ("Google Workspace", "sakura-trading-gws.snapshot.json.gz"),
    ]) {
        crate::collect::report_failures(&collected, crate::text::lang());
        lines.push(crate::text::format(
            crate::text::lang(),
            "demo_collected",
            &[
                ("suite", &suite),
                ("sections", &collected.collection.outcomes.len()),
                ("requests", &collected.total_requests()),
                (
                    "seconds",
                    &format!("{:.2}", collected.elapsed.as_secs_f64()),
                ),
            ],
        ));
        let mut snapshot = collected.into_snapshot();
        let path = out_dir.join(file);
        snapshot.write(&path)?;
        snapshot.name = path.display().to_string();
        evaluations
            .push(engine.evaluate_snapshot(&snapshot, &mamori_policy::EvalOptions::default())?);
        written.push(path);
    }

    let generated = now_text();
    for lang in [Lang::Ja, Lang::En] {
        let html = out_dir.join(format!("report-{}.html", lang.code()));
        write_atomically(
            &html,
            mamori_report::render_html_with_threats(&evaluations, Some(threats), lang, &generated)?
                .as_bytes(),
        )?;
        let csv = out_dir.join(format!("action-plan-{}.csv", lang.code()));
        write_atomically(
            &csv,
            mamori_report::render_csv(&evaluations, lang)?.as_bytes(),
        )?;
        written.push(html);
        written.push(csv);
    }
    let json = out_dir.join("results.jsonl");
    write_atomically(
        &json,
        mamori_report::render_json_lines(&evaluations, Lang::En)?.as_bytes(),
    )?;
    written.push(json);

    let lang = crate::text::lang();
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", crate::text::get(lang, "demo_title"))?;
    for line in &lines {
        writeln!(out, "{line}")?;
    }
    for (e, suite) in evaluations
        .iter()
        .zip(["Microsoft 365", "Google Workspace"])
    {
        let summary: Vec<String> = Status::ALL
            .iter()
            .filter(|s| e.count(**s) > 0)
            .map(|s| format!("{} {}", s.label(lang), e.count(*s)))
            .collect();
        let line = crate::text::format(
            lang,
            "demo_controls",
            &[
                ("suite", &suite),
                ("count", &e.results.len()),
                ("summary", &summary.join(" · ")),
            ],
        );
        writeln!(out, "{line}")?;
    }
    writeln!(out, "{}", crate::text::get(lang, "demo_wrote"))?;
    for path in &written {
        writeln!(out, "  {}", path.display())?;
    }
    let open = crate::text::format(
        lang,
        "demo_open",
        &[
            ("path", &out_dir.join("report-ja.html").display()),
            (
                "seconds",
                &format!("{:.1}", started.elapsed().as_secs_f64()),
            ),
        ],
    );
    writeln!(out, "{open}")?;
    Ok(())
}

/// Seeds a fresh service database under OUT/data and runs the server until Ctrl-C.
async fn serve(
    options: &DemoOptions,
    engine: mamori_policy::Engine,
    m365_credentials: serde_json::Value,
    gws_credentials: serde_json::Value,
) -> Result<u8> {
    use mamori_store::{App, MasterKey, NewCustomer, NewTenant, NewUser, Role, Store};
    let data_dir = options.out_dir.join("data");
    if data_dir.exists() {
        std::fs::remove_dir_all(&data_dir)
            .with_context(|| format!("clearing the previous demo data {}", data_dir.display()))?;
    }
    std::fs::create_dir_all(&data_dir)?;
    let store = Store::open(&Store::default_url(&data_dir))
        .await
        .context("creating the demo database")?;
    let key = MasterKey::load_or_create_file(&mamori_store::key_file_path(&data_dir))?;
    let customer = store
        .create_customer(&NewCustomer {
            name: "Sakura Trading Co., Ltd.".into(),
            name_ja: Some("株式会社さくら商事".into()),
            time_zone: Some("Asia/Tokyo".into()),
        })
        .await?;
    let mut tenants = Vec::new();
    for (app, name, credentials) in [
        (
            App::M365,
            "sakura-trading.onmicrosoft.com",
            &m365_credentials,
        ),
        (App::Gws, "sakura-trading.co.jp", &gws_credentials),
    ] {
        let mut new = NewTenant::new(customer.id, app, name, &serde_json::to_vec(credentials)?);
        new.schedule_cron = Some("0 3 * * *".into());
        tenants.push(store.create_tenant(&key, &new).await?);
    }
    let users = [
        (
            "operator",
            "運用管理者 (Operator admin)",
            Role::OperatorAdmin,
            None,
            "ja",
        ),
        ("analyst", "アナリスト (Analyst)", Role::Analyst, None, "ja"),
        (
            "sakura-admin",
            "さくら商事 管理者",
            Role::CustomerAdmin,
            Some(customer.id),
            "ja",
        ),
        (
            "sakura-viewer",
            "Sakura viewer",
            Role::CustomerViewer,
            Some(customer.id),
            "en",
        ),
    ];
    for (username, display, role, customer_id, lang) in users {
        store
            .create_user(&NewUser {
                username: username.into(),
                display_name: display.into(),
                role,
                customer_id,
                lang: lang.into(),
                password: DEMO_PASSWORD.into(),
            })
            .await?;
    }
    let listener = tokio::net::TcpListener::bind(&options.listen)
        .await
        .with_context(|| format!("listening on {}", options.listen))?;
    let url = format!("http://{}", listener.local_addr()?);
    let config = mamori_server::ServerConfig {
        work: mamori_work::WorkConfig {
            public_url: Some(url.clone()),
            tick: std::time::Duration::from_secs(5),
            // The demo tenants' audit logs (the imitation's week of activity, attacks among it)
            // are pulled through the log workers into alerts on the dashboard.
            logs: mamori_work::logs::LogsConfig {
                pull_interval: Some(std::time::Duration::from_secs(300)),
                first_pull_lookback: std::time::Duration::from_secs(7 * 24 * 3600 - 3600),
                ..mamori_work::logs::LogsConfig::default()
            },
            ..mamori_work::WorkConfig::default()
        },
        ..mamori_server::ServerConfig::default()
    };
    let state = mamori_server::AppState::new(
        store.clone(),
        key,
        engine,
        std::sync::Arc::new(mamori_work::ConnectorCollector),
        config,
    );
    for t in &tenants {
        store.enqueue_scan(t.id, None).await?;
        store.enqueue_log_pull(t.id, None).await?;
    }
    let server = tokio::spawn(mamori_server::run(
        listener,
        state,
        mamori_server::Role::All,
        crate::server::shutdown_signal(),
    ));
    // The first scans run through the queue and the workers, as scheduled ones will.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let mut done = 0;
        for t in &tenants {
            let scans = store.list_scans(t.id).await?;
            if scans.iter().any(|s| {
                matches!(
                    s.status,
                    mamori_store::ScanStatus::Succeeded | mamori_store::ScanStatus::Failed
                )
            }) {
                done += 1;
            }
        }
        if done == tenants.len() || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let lang = crate::text::lang();
    let mut out = std::io::stdout().lock();
    writeln!(out)?;
    for t in &tenants {
        if let Some(scan) = store.list_scans(t.id).await?.first() {
            let line = crate::text::format(
                lang,
                "demo_scan",
                &[
                    ("tenant", &t.display_name),
                    ("id", &scan.id),
                    ("status", &scan.status.as_str()),
                    ("requests", &scan.request_count),
                ],
            );
            writeln!(out, "{line}")?;
        }
    }
    writeln!(
        out,
        "{}",
        crate::text::format(lang, "demo_dashboard", &[("url", &url)])
    )?;
    writeln!(
        out,
        "{}",
        crate::text::format(lang, "demo_logins", &[("password", &DEMO_PASSWORD)])
    )?;
    writeln!(out, "{}", crate::text::get(lang, "press_ctrl_c"))?;
    drop(out);
    server.await.context("server task")??;
    Ok(0)
}
