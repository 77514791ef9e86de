//! The command line (a contract: netorch's tests and benchmarks drive the sim through it) and
//! the startup sequence: build the devices, bind every listener, write the inventory and
//! known_hosts files, print `READY <n> devices`, then serve until SIGTERM/SIGINT.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context, Result};
use clap::Parser;
use russh::keys::PublicKey;
use tokio::net::TcpListener;

use crate::device::{Device, FailMode, PromptStyle, Settings};
use crate::lab::{self, DeviceSpec, Started};
use crate::server::{self, Bound};

/// Simulated network devices over SSH (Cisco IOS/NX-OS/IOS-XR, Arista EOS, Juniper Junos).
#[derive(Parser, Debug, Clone)]
#[command(name = "netorch-sim", version, about)]
pub struct Opts {
    /// Number of devices to start (with --platform).
    #[arg(long)]
    pub count: Option<usize>,
    /// cisco_ios, arista_eos, juniper_junos, cisco_nxos, cisco_iosxr, or mixed.
    #[arg(long, default_value = "cisco_ios")]
    pub platform: String,
    /// Device name prefix (default from the platform: ios-, eos-, junos-, nxos-, xr-).
    #[arg(long)]
    pub name_prefix: Option<String>,
    /// Serve the device hosts of this netorch/Ansible YAML inventory.
    #[arg(long)]
    pub inventory: Option<PathBuf>,
    /// Address to listen on, or an IPv4 network (`127.1.0.0/16`) to give every device its
    /// own address (the first device gets .1), all on --base-port.
    #[arg(long, default_value = "127.0.0.1", value_parser = parse_bind)]
    pub bind: Bind,
    /// First port; devices get consecutive ports. 0 lets the OS pick free ports.
    #[arg(long, default_value_t = 0)]
    pub base_port: u16,
    #[arg(long, default_value = "admin")]
    pub user: String,
    #[arg(long, default_value = "admin")]
    pub password: String,
    #[arg(long, default_value = "en4ble")]
    pub enable_secret: String,
    /// OpenSSH public keys accepted for --user (one file per flag, several keys per file).
    #[arg(long = "authorized-key")]
    pub authorized_keys: Vec<PathBuf>,
    /// Delay before each command's answer.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Random extra delay, 0..=jitter, per command.
    #[arg(long, default_value_t = 0)]
    pub jitter_ms: u64,
    /// Seed for host keys and jitter; same seed, same host keys.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Pad each running config to about this many lines (for backup benchmarks).
    #[arg(long, default_value_t = 0)]
    pub config_lines: usize,
    /// NAME=MODE, MODE one of refuse, auth-fail, drop-after:N, hang-after:N,
    /// truncate-after:N, wrong-prompt, no-enable.
    #[arg(long = "fail")]
    pub fail: Vec<String>,
    /// NAME=STYLE[,STYLE...]: the device's prompt departs from its platform's usual one.
    /// STYLE one of no-user (Junos `host>`), master / primary (Junos `{master:0}` /
    /// `{primary:node0}` line above the prompt), user-exec (land in `>`, e.g. NX-OS),
    /// maint-mode (NX-OS `host(maint-mode)#`), rsp (IOS-XR `RP/0/RSP0/CPU0:host#`).
    #[arg(long = "prompt")]
    pub prompt: Vec<String>,
    /// Every device also serves telnet (login with --user/--password); the inventory
    /// written then says `connection: telnet` and the telnet port.
    #[arg(long)]
    pub telnet: bool,
    /// First telnet port (consecutive per device); 0 lets the OS pick.
    #[arg(long, default_value_t = 0)]
    pub telnet_port: u16,
    /// NAME=KNOB[,KNOB...]: the device's telnet side misbehaves. KNOB one of banner,
    /// no-negotiation, needs-enter, press-return, busy, logged-in, cr-nul.
    #[arg(long = "telnet-fault")]
    pub telnet_fault: Vec<String>,
    /// Write a netorch inventory of the started devices here (an overlay with --inventory).
    #[arg(long)]
    pub inventory_out: Option<PathBuf>,
    /// Write OpenSSH known_hosts lines for the devices here.
    #[arg(long)]
    pub known_hosts_out: Option<PathBuf>,
    /// Append a line `SECONDS NAME` here for every connection a device accepts (SECONDS:
    /// Unix time with microseconds). Tests use it to prove that a run touched no device, the
    /// connection-storm benchmark to count new sessions per second.
    #[arg(long)]
    pub connection_log: Option<PathBuf>,
    /// Milliseconds one minute of a device revert timer lasts (Junos and IOS-XR `commit
    /// confirmed`, EOS `commit timer`, IOS `configure terminal revert timer`); timers in
    /// seconds scale by N/60. 600 makes a 1-minute timer fire after 0.6 s.
    #[arg(long, default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub timer_scale_ms: u64,
    /// Start device NAME from DIR/NAME.cfg when that file exists (running and startup config,
    /// hostname included): indented text on Cisco and Arista, braces or `set` lines on Junos.
    #[arg(long)]
    pub config_dir: Option<PathBuf>,
    /// Devices also serve their HTTP APIs over HTTPS (eAPI on EOS, NX-API on NX-OS, RESTCONF
    /// on all), on a port of their own; the inventory gets `connection`, `api_port` and
    /// `ca_file` (the per-run test CA, see --api-ca-out).
    #[arg(long)]
    pub api: bool,
    /// Where to write the test CA's PEM file (default: beside --inventory-out).
    #[arg(long)]
    pub api_ca_out: Option<PathBuf>,
    /// Also accept this bearer token on the APIs.
    #[arg(long)]
    pub api_token: Option<String>,
    /// NAME=503:N: the device's API answers its first N requests with 503.
    #[arg(long = "api-fail")]
    pub api_fail: Vec<String>,
    /// Also serve a NetBox 4.x API fake over plain HTTP (see `netbox`): with --count or
    /// --inventory its devices are the simulated ones (their SSH port in the config context
    /// as `ansible_port`); alone, --netbox-devices synthetic devices.
    #[arg(long)]
    pub netbox: bool,
    /// The NetBox fake's port (0: the OS picks).
    #[arg(long, default_value_t = 0)]
    pub netbox_port: u16,
    /// Synthetic devices the NetBox fake lists when no simulated devices are started.
    #[arg(long, default_value_t = 100)]
    pub netbox_devices: usize,
    /// Virtual machines the NetBox fake lists.
    #[arg(long, default_value_t = 0)]
    pub netbox_vms: usize,
    /// The API token the NetBox fake accepts (`Authorization: Token T` or `Bearer T`).
    #[arg(long, default_value = "0123456789abcdef0123456789abcdef01234567")]
    pub netbox_token: String,
    /// The largest page the NetBox fake serves (NetBox's MAX_PAGE_SIZE).
    #[arg(long, default_value_t = crate::netbox::MAX_PAGE_SIZE, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub netbox_max_page_size: usize,
    /// Delay before each NetBox answer.
    #[arg(long, default_value_t = 0)]
    pub netbox_latency_ms: u64,
    /// KIND@PAGE: a fault on a page of the devices list: `500@3` (always 500), `503x2@2`
    /// (503 twice, then the page), `json@1` (a body that is not JSON).
    #[arg(long = "netbox-fault", value_parser = crate::netbox::Fault::parse)]
    pub netbox_fault: Vec<crate::netbox::Fault>,
    /// Write an nb_inventory file for the NetBox fake here (token not inline: set
    /// NETBOX_TOKEN).
    #[arg(long)]
    pub netbox_inventory_out: Option<PathBuf>,
}

/// Where devices listen: one address (consecutive ports) or one address each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bind {
    Addr(IpAddr),
    Network {
        base: std::net::Ipv4Addr,
        prefix: u8,
    },
}

fn parse_bind(text: &str) -> Result<Bind, String> {
    match text.split_once('/') {
        None => text
            .parse()
            .map(Bind::Addr)
            .map_err(|e| format!("{text:?}: {e}")),
        Some((ip, len)) => {
            let base: std::net::Ipv4Addr = ip
                .parse()
                .map_err(|e| format!("{text:?}: {e} (IPv4 networks only)"))?;
            let prefix: u8 = len
                .parse()
                .ok()
                .filter(|p| *p <= 30)
                .ok_or_else(|| format!("{text:?}: prefix length must be 0..=30"))?;
            Ok(Bind::Network { base, prefix })
        }
    }
}

impl Bind {
    /// The address of device `i`, or None when the network is too small.
    fn address(&self, i: usize) -> Option<IpAddr> {
        match *self {
            Bind::Addr(a) => Some(a),
            Bind::Network { base, prefix } => {
                let size = 1u64 << (32 - u32::from(prefix));
                let offset = i as u64 + 1;
                // Leave out the broadcast address.
                if offset >= size - 1 {
                    return None;
                }
                let mask = if prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(prefix))
                };
                let net = u32::from(base) & mask;
                Some(IpAddr::V4(std::net::Ipv4Addr::from(net + offset as u32)))
            }
        }
    }

    fn per_device(&self) -> bool {
        matches!(self, Bind::Network { .. })
    }
}

/// Reads OpenSSH public keys, one per line; blank lines and `#` comments are skipped.
pub fn read_authorized_keys(path: &Path) -> Result<Vec<PublicKey>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read authorized key file {}", path.display()))?;
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let key = PublicKey::from_openssh(line).map_err(|e| {
            anyhow::anyhow!(
                "{}:{}: not an OpenSSH public key: {e}",
                path.display(),
                n + 1
            )
        })?;
        keys.push(key);
    }
    Ok(keys)
}

/// `--FLAG NAME=VALUE` options: each names a started device and a value `parse` reads.
fn per_device<T>(
    flag: &str,
    specs: &[String],
    devices: &[DeviceSpec],
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<(String, T)>> {
    let mut out = Vec::new();
    for f in specs {
        let Some((name, value)) = f.split_once('=') else {
            bail!("--{flag} {f:?}: expected NAME=VALUE");
        };
        if !devices.iter().any(|d| d.name == name) {
            bail!("--{flag} {f:?}: no device named {name:?}");
        }
        let value = parse(value).map_err(|e| anyhow::anyhow!("--{flag} {f:?}: {e}"))?;
        out.push((name.to_string(), value));
    }
    Ok(out)
}

/// The last value given for device `name`.
fn for_device<T: Copy>(values: &[(String, T)], name: &str) -> Option<T> {
    values
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| *v)
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

/// Checks `--config-dir` and warns on stderr about `.cfg` files that name no device: a typo
/// would otherwise start that device from the default config without a word.
fn warn_unused_config_files(dir: &Path, specs: &[DeviceSpec]) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("--config-dir {}: cannot read the directory", dir.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(device) = name.to_str().and_then(|n| n.strip_suffix(".cfg")) else {
            continue;
        };
        if !specs.iter().any(|s| s.name == device) {
            eprintln!(
                "netorch-sim: --config-dir: {} names no simulated device",
                entry.path().display()
            );
        }
    }
    Ok(())
}

/// Runs the simulator (blocking) until SIGTERM or SIGINT.
pub fn run(opts: Opts) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    rt.block_on(run_async(opts))
}

async fn run_async(opts: Opts) -> Result<()> {
    if opts.netbox && opts.inventory.is_none() && opts.count.is_none() {
        let nb = start_netbox(&opts, &[]).await?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "READY 0 devices")?;
            writeln!(out, "NETBOX http://{nb}")?;
            out.flush()?;
        }
        return wait_for_shutdown().await;
    }
    let specs = match (&opts.inventory, opts.count) {
        (Some(_), Some(_)) => bail!("use either --inventory or --count, not both"),
        (Some(inv), None) => lab::from_inventory(inv)?,
        (None, Some(n)) => lab::from_count(n, &opts.platform, opts.name_prefix.as_deref())?,
        (None, None) => bail!("say what to simulate: --count N --platform P, or --inventory FILE"),
    };
    if specs.is_empty() {
        bail!("no devices to simulate (no host in the inventory has a device platform)");
    }
    let fails = per_device("fail", &opts.fail, &specs, FailMode::parse)?;
    let prompts = per_device("prompt", &opts.prompt, &specs, PromptStyle::parse)?;
    let telnet_faults = per_device(
        "telnet-fault",
        &opts.telnet_fault,
        &specs,
        crate::telnet::TelnetFaults::parse,
    )?;
    let mut authorized = Vec::new();
    for p in &opts.authorized_keys {
        authorized.extend(read_authorized_keys(p)?);
    }
    let settings = Arc::new(Settings {
        user: opts.user.clone(),
        password: opts.password.clone(),
        enable_secret: opts.enable_secret.clone(),
        authorized_keys: authorized,
        latency: Duration::from_millis(opts.latency_ms),
        jitter: Duration::from_millis(opts.jitter_ms),
        seed: opts.seed,
        config_lines: opts.config_lines,
        started: SystemTime::now(),
        timer_scale_ms: opts.timer_scale_ms,
    });
    if let Some(dir) = &opts.config_dir {
        warn_unused_config_files(dir, &specs)?;
    }

    let mut bound = Vec::with_capacity(specs.len());
    let mut public_keys = Vec::with_capacity(specs.len());
    let mut telnet = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let port = if opts.base_port == 0 || opts.bind.per_device() {
            opts.base_port
        } else {
            match u16::try_from(usize::from(opts.base_port) + i) {
                Ok(p) => p,
                Err(_) => bail!(
                    "--base-port {} leaves no room for {} devices",
                    opts.base_port,
                    specs.len()
                ),
            }
        };
        let Some(ip) = opts.bind.address(i) else {
            bail!(
                "--bind {:?} has no room for {} devices",
                opts.bind,
                specs.len()
            );
        };
        let addr = SocketAddr::new(ip, port);
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("{}: cannot listen on {addr}", spec.name))?;
        let addr = listener.local_addr()?;
        let fail = for_device(&fails, &spec.name);
        let device = Arc::new(
            Device::new(&spec.name, spec.platform, i, fail, settings.clone())
                .with_prompt(for_device(&prompts, &spec.name).unwrap_or_default()),
        );
        if let Some(dir) = &opts.config_dir {
            let path = dir.join(format!("{}.cfg", spec.name));
            if path.is_file() {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                let tree = crate::content::parse_config(spec.platform, &text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                device.set_initial_config(tree);
            }
        }
        let key = server::host_key(opts.seed, &spec.name);
        public_keys.push(
            key.public_key()
                .to_openssh()
                .map(|k| k.trim().to_string())
                .context("cannot encode a host key")?,
        );
        if opts.telnet {
            let tport = match opts.telnet_port {
                0 => 0,
                p if opts.bind.per_device() => p,
                p => u16::try_from(usize::from(p) + i)
                    .map_err(|_| anyhow::anyhow!("--telnet-port {p} leaves no room"))?,
            };
            let taddr = SocketAddr::new(ip, tport);
            let listener = TcpListener::bind(taddr)
                .await
                .with_context(|| format!("{}: cannot listen for telnet on {taddr}", spec.name))?;
            telnet.push(crate::telnet::TelnetBound {
                device: device.clone(),
                faults: for_device(&telnet_faults, &spec.name).unwrap_or_default(),
                listener,
            });
        }
        bound.push(Bound {
            device,
            listener,
            addr,
            config: server::ssh_config(key, spec.platform),
        });
    }

    let apis = if opts.api {
        Some(crate::api::bind(&opts, &specs, &bound).await?)
    } else {
        None
    };
    let mut started: Vec<Started<'_>> = bound
        .iter()
        .zip(&public_keys)
        .enumerate()
        .map(|(i, (b, k))| Started {
            name: &b.device.name,
            platform: b.device.platform,
            addr: b.addr,
            public_key: k.clone(),
            telnet_port: None,
            api_port: apis.as_ref().map(|a| a.servers[i].addr.port()),
        })
        .collect();
    for (s, t) in started.iter_mut().zip(&telnet) {
        s.telnet_port = Some(t.listener.local_addr()?.port());
    }
    let api_ca = apis.as_ref().map(|a| a.ca_file.as_path());
    let known_hosts_path = opts.known_hosts_out.as_deref().map(absolute);
    if let Some(p) = &known_hosts_path {
        std::fs::write(p, lab::known_hosts(&started))
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    if let Some(p) = &opts.inventory_out {
        let text = if opts.inventory.is_some() {
            lab::overlay_yaml(&started, known_hosts_path.as_deref(), api_ca)?
        } else {
            lab::inventory_yaml(
                &started,
                &opts.user,
                &opts.password,
                &opts.enable_secret,
                known_hosts_path.as_deref(),
                api_ca,
            )?
        };
        std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?;
    }
    drop(started);
    if let Some(p) = &opts.connection_log {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .with_context(|| format!("cannot open {}", p.display()))?;
        server::log_connections_to(file);
    }
    let n = bound.len();
    let sim_devices: Vec<crate::netbox::SimDevice> = bound
        .iter()
        .map(|b| crate::netbox::SimDevice {
            name: b.device.name.clone(),
            platform: b.device.platform.name(),
            addr: b.addr,
        })
        .collect();
    for b in bound {
        server::spawn_listener(b);
    }
    for t in telnet {
        crate::telnet::spawn_listener(t);
    }
    if let Some(a) = apis {
        crate::api::spawn_all(a);
    }
    let netbox = if opts.netbox {
        Some(start_netbox(&opts, &sim_devices).await?)
    } else {
        None
    };
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "READY {n} devices")?;
        if let Some(nb) = netbox {
            writeln!(out, "NETBOX http://{nb}")?;
        }
        out.flush()?;
    }
    wait_for_shutdown().await
}

/// Bind and start the NetBox fake; writes `--netbox-inventory-out`.
async fn start_netbox(opts: &Opts, devices: &[crate::netbox::SimDevice]) -> Result<SocketAddr> {
    crate::netbox::check_token(&opts.netbox_token)?;
    let ip = opts.bind.address(0).unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let listener = TcpListener::bind(SocketAddr::new(ip, opts.netbox_port))
        .await
        .with_context(|| format!("netbox: cannot listen on {ip}:{}", opts.netbox_port))?;
    let addr = listener.local_addr()?;
    let data = crate::netbox::NetboxData::build(devices, opts.netbox_devices, opts.netbox_vms);
    let mut nb = crate::netbox::Netbox::new(
        data,
        opts.netbox_token.clone(),
        Duration::from_millis(opts.netbox_latency_ms),
        opts.netbox_fault.clone(),
    );
    nb.max_page_size = opts.netbox_max_page_size;
    if let Some(p) = &opts.netbox_inventory_out {
        std::fs::write(p, crate::netbox::inventory_yaml(addr))
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    crate::netbox::spawn(listener, Arc::new(nb));
    Ok(addr)
}

async fn wait_for_shutdown() -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_takes_an_address_or_a_network() {
        assert_eq!(
            parse_bind("127.0.0.1"),
            Ok(Bind::Addr("127.0.0.1".parse().unwrap()))
        );
        let net = parse_bind("127.1.0.0/16").unwrap();
        assert_eq!(net.address(0), Some("127.1.0.1".parse().unwrap()));
        assert_eq!(net.address(299), Some("127.1.1.44".parse().unwrap()));
        let small = parse_bind("127.2.0.0/30").unwrap();
        assert_eq!(small.address(1), Some("127.2.0.2".parse().unwrap()));
        assert_eq!(small.address(2), None);
        assert!(parse_bind("127.0.0.0/40").is_err());
        assert!(parse_bind("nonsense").is_err());
    }
}
