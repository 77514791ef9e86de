//! netorch-sim-load: opens one SSH session per device of a sim inventory (password auth, PTY
//! shell, `show clock`) and holds them all open, so the sim's memory with many sessions at
//! once can be read from /proc. Prints `HOLDING <n> sessions` once every session is up, then
//! waits `--hold-secs` (or until killed).
//!
//! Usage: netorch-sim-load INVENTORY_YAML [--concurrency C] [--hold-secs S]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use netorch_sim::client::{self, Term};
use serde_yaml::Value;

fn arg(args: &[String], name: &str, default: u64) -> Result<u64> {
    match args.iter().position(|a| a == name) {
        Some(i) => args
            .get(i + 1)
            .context(format!("{name} needs a value"))?
            .parse()
            .context(format!("{name} needs a number")),
        None => Ok(default),
    }
}

fn targets(doc: &Value) -> Vec<SocketAddr> {
    let mut out = Vec::new();
    if let Some(children) = doc["all"]["children"].as_mapping() {
        for (_, g) in children {
            if let Some(hosts) = g["hosts"].as_mapping() {
                for (_, h) in hosts {
                    let ip = h["host"].as_str().unwrap_or("127.0.0.1");
                    let port = h["port"].as_u64().unwrap_or(22) as u16;
                    if let Ok(ip) = ip.parse() {
                        out.push(SocketAddr::new(ip, port));
                    }
                }
            }
        }
    }
    out
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(inv) = args.first() else {
        bail!("usage: netorch-sim-load INVENTORY_YAML [--concurrency C] [--hold-secs S]");
    };
    let concurrency = arg(&args, "--concurrency", 100)? as usize;
    let hold = Duration::from_secs(arg(&args, "--hold-secs", 3600)?);
    let doc: Value = serde_yaml::from_str(
        &std::fs::read_to_string(inv).with_context(|| format!("cannot read {inv}"))?,
    )?;
    let user = doc["all"]["vars"]["user"]
        .as_str()
        .unwrap_or("admin")
        .to_string();
    let password = doc["all"]["vars"]["password"]
        .as_str()
        .unwrap_or("admin")
        .to_string();
    let addrs = targets(&doc);
    let started = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = Vec::new();
    for addr in addrs {
        let permit = sem.clone().acquire_owned().await?;
        let (user, password) = (user.clone(), password.clone());
        tasks.push(tokio::spawn(async move {
            let r: Result<_> = async {
                let h = client::login(addr, &user, &password, None).await?;
                let mut t = Term::open(&h, 200).await?;
                t.read_until_prompt(Duration::from_secs(60)).await?;
                t.send("show clock\r").await?;
                t.read_until_prompt(Duration::from_secs(60)).await?;
                Ok((h, t))
            }
            .await;
            drop(permit);
            r.with_context(|| format!("session to {addr}"))
        }));
    }
    let mut held = Vec::new();
    let mut failed = 0;
    for t in tasks {
        match t.await? {
            Ok(s) => held.push(s),
            Err(e) => {
                failed += 1;
                eprintln!("{e:#}");
            }
        }
    }
    println!(
        "HOLDING {} sessions ({failed} failed) after {:.1}s",
        held.len(),
        started.elapsed().as_secs_f64()
    );
    tokio::time::sleep(hold).await;
    Ok(())
}
