"""Side-by-side benchmark of netorch against Ansible, Nornir + Netmiko and Scrapli (issue 7).

Run by scripts/bench/compare (which sets up the venv and builds the release binaries); see
BENCHMARKS.md for the method. Per (latency, N): one netorch-sim of N cisco_ios devices, then
for each workload and repetition every tool once, the order rotated between repetitions so no
tool always runs first (warm caches) or last. Each run is measured from outside:
- wall: monotonic time from spawn to exit of the tool's main process;
- CPU: user+system seconds of the tool and every process it started (this script is a child
  subreaper, so Ansible's daemonised ansible-connection processes are reaped here and counted);
- peak RSS: the largest single process (wait4's ru_maxrss) and the peak of the whole process
  tree summed (sampled from /proc every 0.5 s);
- sim CPU: the simulator's own CPU seconds during the run (from /proc/PID/stat).
Results go to a JSONL file (one line per run) and BENCHMARKS.md is rewritten after every block,
so an interrupted run still leaves a table.
"""

import argparse
import ctypes
import datetime
import json
import math
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

WORKLOADS = {
    "a": "show version",
    "b": "show version + 3-line config push + save + show running-config",
    "c": "running-config backup (one file per device)",
}
# The round trips a CLI session cannot avoid per host (each answered after the sim's latency):
# paging off, enable where privileged commands are needed, the work itself. The sim answers
# the enable password prompt at once, so the password is not a delayed round trip.
# (An exec channel would make (a) one round trip, but not the config push. An idempotent
# push also reads the running config first; that read is not in the floor.)
CHAIN = {
    "a": ["terminal length 0", "show version"],
    "b": [
        "enable",
        "terminal length 0",
        "show version",
        "configure terminal",
        "line 1",
        "line 2",
        "line 3",
        "end",
        "write memory",
        "show running-config",
    ],
    "c": ["enable", "terminal length 0", "show running-config"],
}
TOOLS = ["netorch", "ansible", "nornir", "scrapli-system", "scrapli-ssh2", "scrapli-asyncssh"]
# --transport telnet (issue 15): the sim's devices serve telnet and every tool logs in over
# it: Nornir with Netmiko's cisco_ios_telnet, Scrapli's telnet and asynctelnet transports.
# Ansible's network_cli has no telnet (ansible.netcommon.telnet is a module that types
# commands, not a connection), so it sits this one out.
TELNET_TOOLS = ["netorch", "nornir", "scrapli-telnet", "scrapli-asynctelnet"]

# --transport eapi: the same workloads on arista_eos devices over eAPI (HTTPS, keep-alive).
# netorch over eAPI; netorch over SSH on the same devices; pyeapi (Arista's Python client,
# the natural peer: Netmiko, Scrapli and Nornir have no eAPI). The round trips an eAPI client
# cannot avoid are HTTP requests (the sim's latency is per request, as a network RTT is):
# one per task, `enable` travelling in the same request.
EAPI_TOOLS = ["netorch", "netorch-ssh", "pyeapi"]
EAPI_CHAIN = {
    "a": ["runCmds show version"],
    "b": [
        "runCmds show version",
        "runCmds configure, line 1, line 2, line 3, end",
        "runCmds copy running-config startup-config",
        "runCmds show running-config",
    ],
    "c": ["runCmds show running-config"],
}

NETORCH_PLAY = {
    "a": """- name: Workload a
  hosts: all
  tasks:
    - name: Version
      command: show version
""",
    "b": """- name: Workload b
  hosts: all
  tasks:
    - name: Version
      command: show version
    - name: Push
      config:
        lines:
          - "snmp-server location bench-{{ stamp }}"
          - "snmp-server contact noc-{{ stamp }}"
          - "ip domain name bench{{ stamp }}.example.net"
        save: true
    - name: Running config
      command: show running-config
""",
}

# On EOS, `ip domain name` is `dns domain`.
NETORCH_PLAY_EOS = {
    "a": NETORCH_PLAY["a"],
    "b": NETORCH_PLAY["b"].replace(
        '"ip domain name bench{{ stamp }}.example.net"', '"dns domain bench{{ stamp }}.example.net"'),
}

ANSIBLE_PLAY = {
    "a": """- hosts: all
  gather_facts: false
  tasks:
    - cisco.ios.ios_command:
        commands: [show version]
""",
    "b": """- hosts: all
  gather_facts: false
  tasks:
    - cisco.ios.ios_command:
        commands: [show version]
    - cisco.ios.ios_config:
        lines:
          - "snmp-server location bench-{{ stamp }}"
          - "snmp-server contact noc-{{ stamp }}"
          - "ip domain name bench{{ stamp }}.example.net"
        save_when: modified
    - cisco.ios.ios_command:
        commands: [show running-config]
""",
    "c": """- hosts: all
  gather_facts: false
  tasks:
    - cisco.ios.ios_config:
        backup: true
        backup_options:
          dir_path: "{{ outdir }}"
          filename: "{{ inventory_hostname }}.cfg"
""",
}


def set_subreaper():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except OSError:
        pass


def proc_table():
    """pid -> (ppid, rss bytes, cpu seconds) for every process we can read."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rfind(")") + 2 :].split()
        out[int(name)] = (int(rest[1]), int(rest[21]) * PAGE, (int(rest[11]) + int(rest[12])) / CLK)
    return out


def descendants(table, root, exclude):
    kids = {}
    for pid, (ppid, _, _) in table.items():
        kids.setdefault(ppid, []).append(pid)
    seen, todo = [], [root]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            if c not in exclude:
                seen.append(c)
                todo.append(c)
    return seen


def proc_cpu(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return 0.0
    rest = s[s.rfind(")") + 2 :].split()
    return (int(rest[11]) + int(rest[12])) / CLK


class Sampler(threading.Thread):
    """Peak summed RSS of everything below this script except the simulator."""

    def __init__(self, exclude):
        super().__init__(daemon=True)
        self.exclude = set(exclude)
        self.peak = 0
        self.stop = threading.Event()

    def run(self):
        me = os.getpid()
        while not self.stop.wait(0.5):
            t = proc_table()
            self.peak = max(self.peak, sum(t[p][1] for p in descendants(t, me, self.exclude)))


def measure(cmd, env, cwd, log, timeout, sim_pid):
    """Runs one tool; returns wall, cpu, rss figures and the exit code."""
    sampler = Sampler([sim_pid])
    sampler.start()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sim0 = proc_cpu(sim_pid)
    t0 = time.monotonic()
    with open(log, "w") as out:
        p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)
    timed_out = []

    def kill():
        timed_out.append(True)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        _, status, ru = os.wait4(p.pid, 0)
    except BaseException:
        # Interrupted (SIGTERM/SIGINT): take the tool and whatever it left behind down with us.
        timer.cancel()
        kill()
        os.waitpid(p.pid, 0)
        reap_orphans(sim_pid, grace=1)
        sampler.stop.set()
        raise
    wall = time.monotonic() - t0
    timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    reap_orphans(sim_pid)
    sampler.stop.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "wall": round(wall, 3),
        "cpu": round(cpu, 2),
        "rss_max_mb": round(ru.ru_maxrss / 1024, 1),
        "rss_tree_mb": round(max(sampler.peak, ru.ru_maxrss * 1024) / 2**20, 1),
        "sim_cpu": round(proc_cpu(sim_pid) - sim0, 2),
        "rc": p.returncode,
        "timed_out": bool(timed_out),
    }


def reap_orphans(sim_pid, grace=60):
    """Waits for (then kills) processes the tool left behind (e.g. ansible-connection)."""
    me = os.getpid()
    deadline = time.monotonic() + grace
    while True:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                pid = 0
            if pid == 0:
                break
        left = [p for p in descendants(proc_table(), me, {sim_pid}) if p != sim_pid]
        if not left:
            return
        if time.monotonic() > deadline:
            for p in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            deadline = time.monotonic() + 5
        time.sleep(0.2)


class Interrupted(Exception):
    pass


def on_term(signum, frame):
    raise Interrupted()


class Sim:
    def __init__(self, binary, n, latency, config_lines, workdir, transport="ssh"):
        self.dir = workdir
        self.inv = os.path.join(workdir, "inv.yml")
        self.kh = os.path.join(workdir, "known_hosts")
        self.out = open(os.path.join(workdir, "sim.out"), "w")
        # eAPI: EOS devices that also serve HTTPS (the inventory says connection: eapi,
        # api_port and the run's test CA as ca_file).
        extra = (["--platform", "arista_eos", "--api", "--api-ca-out",
                  os.path.join(workdir, "ca.pem")]
                 if transport == "eapi" else ["--platform", "cisco_ios"])
        self.proc = subprocess.Popen(
            [binary, "--count", str(n), *extra, "--latency-ms", str(latency),
             "--config-lines", str(config_lines), "--base-port", "0",
             "--inventory-out", self.inv, "--known-hosts-out", self.kh]
            + (["--telnet"] if transport == "telnet" else []),
            stdout=self.out, stderr=subprocess.STDOUT)
        for _ in range(1200):
            time.sleep(0.1)
            if "READY" in open(os.path.join(workdir, "sim.out")).read():
                return
            if self.proc.poll() is not None:
                break
        raise SystemExit(f"netorch-sim did not start: {open(os.path.join(workdir, 'sim.out')).read()}")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def ansible_inventory(sim, path):
    import yaml

    lab = yaml.safe_load(open(sim.inv))
    v = lab["all"]["vars"]
    hosts = {}
    for group in lab["all"]["children"].values():
        for name, h in group["hosts"].items():
            hosts[name] = {"ansible_host": h["host"], "ansible_port": h["port"]}
    inv = {"all": {"vars": {
        "ansible_connection": "ansible.netcommon.network_cli",
        "ansible_network_os": "cisco.ios.ios",
        "ansible_network_cli_ssh_type": "libssh",
        "ansible_user": v["user"],
        "ansible_password": v["password"],
        "ansible_become": True,
        "ansible_become_method": "enable",
        "ansible_become_password": v["enable_secret"],
    }, "hosts": hosts}}
    with open(path, "w") as f:
        yaml.safe_dump(inv, f)


def count_ansible_failures(log, n):
    failed = 0
    seen = 0
    in_recap = False
    for line in open(log, errors="replace"):
        if line.startswith("PLAY RECAP"):
            in_recap, failed, seen = True, 0, 0
            continue
        if in_recap and " : ok=" in line:
            seen += 1
            f = {k: int(v) for k, v in (kv.split("=") for kv in line.split(":", 1)[1].split())}
            if f.get("failed", 0) or f.get("unreachable", 0):
                failed += 1
    return failed + max(0, n - seen)


def count_netorch_failures(log, n):
    # stdout (the JSON document) and stderr (warnings) share the log: read the document
    # from the first line that opens it.
    try:
        text = open(log, errors="replace").read()
        start = 0 if text.startswith("{") else text.index("\n{") + 1
        doc, _ = json.JSONDecoder().raw_decode(text[start:])
    except (OSError, ValueError):
        return n
    stats = doc.get("stats", {})
    bad = sum(1 for s in stats.values() if s.get("failed") or s.get("unreachable"))
    return bad + max(0, n - len(stats))


def last_json(log):
    for line in reversed(open(log, errors="replace").read().splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                return json.loads(line)
            except ValueError:
                pass
    return None


def tail(log, k=5):
    try:
        return "\n".join(open(log, errors="replace").read().splitlines()[-k:])
    except OSError:
        return ""


def run_tool(tool, wl, sim, n, forks, rep, args, work):
    stamp = f"{tool.replace('-', '')}{n}{rep}{int(time.time()) % 100000}"
    outdir = os.path.join(work, f"out-{tool}-{wl}-{rep}")
    log = os.path.join(work, f"log-{tool}-{wl}-{rep}.txt")
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    env = dict(os.environ)
    cwd = work
    if tool in ("netorch", "netorch-ssh"):
        # netorch-ssh: the eAPI lab's devices over their SSH CLI instead.
        over = ["-e", "connection=ssh"] if tool == "netorch-ssh" else []
        if wl == "c":
            cmd = [args.netorch, "backup", "-i", sim.inv, "--store", os.path.join(outdir, "store"),
                   "-f", str(forks), "--json", *over]
            if args.transport == "telnet":
                cmd += ["-e", "telnet_ok=true"]
        else:
            play = os.path.join(work, f"netorch-{wl}.yml")
            plays = NETORCH_PLAY_EOS if args.transport == "eapi" else NETORCH_PLAY
            with open(play, "w") as f:
                f.write(plays[wl])
            cmd = [args.netorch, "run", "-i", sim.inv, play, "-f", str(forks), "--json",
                   "-e", f"stamp={stamp}", *over]
            if args.transport == "telnet":
                # What a user who runs telnet on purpose sets: no plain-text warning per host.
                cmd += ["-e", "telnet_ok=true"]
    elif tool == "ansible":
        play = os.path.join(work, f"ansible-{wl}.yml")
        with open(play, "w") as f:
            f.write(ANSIBLE_PLAY[wl])
        cmd = [os.path.join(args.venv, "bin", "ansible-playbook"), "-i", sim.ansible_inv, play,
               "-f", str(forks), "-e", f"stamp={stamp} outdir={outdir}"]
        env.update(ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_RETRY_FILES_ENABLED="False",
                   ANSIBLE_PERSISTENT_COMMAND_TIMEOUT="300", ANSIBLE_PERSISTENT_CONNECT_TIMEOUT="300",
                   ANSIBLE_LOCAL_TEMP=os.path.join(work, "ansible-tmp"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_PYTHON_INTERPRETER=os.path.join(args.venv, "bin", "python"))
    else:
        cmd = [os.path.join(args.venv, "bin", "python"), os.path.join(HERE, "peers.py"), tool, wl,
               sim.inv, str(forks), stamp, outdir]
    load = os.getloadavg()[0]
    m = measure(cmd, env, cwd, log, args.timeout, sim.proc.pid)
    m["load"] = round(load, 2)
    if tool in ("netorch", "netorch-ssh"):
        failed = count_netorch_failures(log, n)
    elif tool == "ansible":
        failed = count_ansible_failures(log, n)
    else:
        doc = last_json(log)
        failed = doc["failed"] if doc else n
    if wl == "c" and tool not in ("netorch", "netorch-ssh"):
        written = len([x for x in os.listdir(outdir) if x.endswith(".cfg")])
        failed = max(failed, n - written)
    if m["timed_out"] or (m["rc"] not in (0, None) and failed == 0
                          and tool not in ("netorch", "netorch-ssh")):
        failed = failed or n
    m.update(tool=tool, workload=wl, n=n, forks=forks, latency=sim.latency, rep=rep,
             failed=failed)
    if failed:
        m["error"] = tail(log, 6)
    shutil.rmtree(outdir, ignore_errors=True)
    return m


def predict_skip(results, tool, wl, lat, n, limit):
    """Why a tool is not run at this size (its time at the previous size scaled by N), or None."""
    prev = [r for r in results if r["tool"] == tool and r["workload"] == wl
            and r["latency"] == lat and r["n"] < n]
    if not prev:
        return None
    p = max(prev, key=lambda r: r["n"])
    est = p["wall"] * n / p["n"]
    if est <= limit:
        return None
    return (f"predicted {est:.0f} s per run (N={p['n']}: {p['wall']:.0f} s, "
            f"× {n // p['n']}) > {limit:.0f} s")


def explicit_skip(specs, tool, n):
    for spec in specs:
        t, min_n, reason = spec.split(":", 2)
        if t == tool and n >= int(min_n):
            return reason
    return None


def versions(args):
    names = ["ansible", "ansible-core", "ansible-pylibssh", "nornir", "nornir-netmiko", "netmiko",
             "paramiko", "scrapli", "ssh2-python", "asyncssh"]
    r = subprocess.run([os.path.join(args.venv, "bin", "python"), "-c",
                        "import importlib.metadata as m, sys\n"
                        "for n in sys.argv[1:]: print(m.version(n))", *names],
                       capture_output=True, text=True)
    got = r.stdout.split()
    v = dict(zip(names, got)) if len(got) == len(names) else {}

    def pip(name):
        return v.get(name, "?")

    nv = subprocess.run([args.netorch, "--version"], capture_output=True, text=True).stdout.strip()
    ssh = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
    out = {
        "netorch": nv,
        "ansible": f"ansible {pip('ansible')} (ansible-core {pip('ansible-core')}, cisco.ios bundled), "
                   f"network_cli over ansible-pylibssh {pip('ansible-pylibssh')}",
        "nornir": f"nornir {pip('nornir')} + nornir-netmiko {pip('nornir-netmiko')} + netmiko "
                  f"{pip('netmiko')} (paramiko {pip('paramiko')})",
        "scrapli-system": f"scrapli {pip('scrapli')} IOSXEDriver, threads, system transport ({ssh})",
        "scrapli-ssh2": f"scrapli {pip('scrapli')} IOSXEDriver, threads, ssh2 transport "
                        f"(ssh2-python {pip('ssh2-python')})",
        "scrapli-asyncssh": f"scrapli {pip('scrapli')} AsyncIOSXEDriver, asyncio, asyncssh "
                            f"transport (asyncssh {pip('asyncssh')})",
        "scrapli-telnet": f"scrapli {pip('scrapli')} IOSXEDriver, threads, telnet transport",
        "scrapli-asynctelnet": f"scrapli {pip('scrapli')} AsyncIOSXEDriver, asyncio, asynctelnet "
                               "transport",
        "netorch-ssh": f"{nv}, the same EOS devices over their SSH CLI (`-e connection=ssh`)",
        "pyeapi": f"pyeapi {pyeapi_version(args)} (Arista's eAPI client), threads, HTTPS with "
                  "certificate verification off (its default)",
    }
    if getattr(args, "transport", "ssh") == "telnet":
        out["netorch"] += " (connection: telnet)"
        out["nornir"] = (f"nornir {pip('nornir')} + nornir-netmiko {pip('nornir-netmiko')} + "
                         f"netmiko {pip('netmiko')} cisco_ios_telnet")
    return out


def pyeapi_version(args):
    r = subprocess.run([os.path.join(args.venv, "bin", "python"), "-c",
                        "import importlib.metadata as m; print(m.version('pyeapi'))"],
                       capture_output=True, text=True)
    return r.stdout.strip() or "not installed"


def fmt(x, nd=2):
    return "-" if x is None else f"{x:.{nd}f}"


def summarise(results):
    groups = {}
    for r in results:
        groups.setdefault((r["latency"], r["workload"], r["n"], r["tool"]), []).append(r)
    rows = {}
    for k, rs in groups.items():
        rows[k] = {
            "forks": rs[0]["forks"],
            "reps": len(rs),
            "wall": statistics.median(r["wall"] for r in rs),
            "walls": [r["wall"] for r in rs],
            "cpu": statistics.median(r["cpu"] for r in rs),
            "sim_cpu": statistics.median(r["sim_cpu"] for r in rs),
            "rss_max": max(r["rss_max_mb"] for r in rs),
            "rss_tree": max(r["rss_tree_mb"] for r in rs),
            "failed": sum(r["failed"] for r in rs),
            "runs": len(rs) * rs[0]["n"],
            "load": (min(r.get("load", 0) for r in rs), max(r.get("load", 0) for r in rs)),
            "error": next((r.get("error") for r in rs if r.get("error")), None),
        }
    return rows


def write_report(path, results, meta, skips):
    rows = summarise(results)
    vers = meta["versions"]
    L = []
    L.append("# Benchmarks: netorch vs Ansible, Nornir + Netmiko, Scrapli and the stock transfer tools\n")
    L.append(f"Generated by `{meta['command']}` on {meta['started']} (UTC), finished "
             f"{meta.get('finished', 'NOT FINISHED (partial: the run was interrupted or still going)')}.\n")
    L.append(f"netorch commit: {meta.get('commit', '?')}.\n")
    L.append(f"Machine: {meta['machine']}. Everything (tools and simulator) shares these cores.\n")
    L.append("Tools:\n")
    for t in meta["tools"]:
        L.append(f"- **{t}**: {vers.get(t, '?')}")
    L.append("")
    L.append("Raw per-run figures (JSONL): `" + meta["raw"] + "`.\n")
    L.append("Columns: wall = median wall seconds over the repetitions (each repetition listed); "
             "CPU = user+system seconds of the tool and every process it started (median); sim "
             "CPU = the simulator's CPU seconds during the tool's run (median); RSS max = the "
             "largest single process; RSS tree = peak of the tool's whole process tree summed "
             "(sampled at 2 Hz; Ansible's forks and ansible-connection daemons, OpenSSH children "
             "of scrapli-system); failures = failed device runs / all device runs; ×netorch = "
             "tool wall / netorch wall.\n")
    keys = sorted({(k[0], k[1], k[2]) for k in rows}, key=lambda k: (-k[0], k[1], k[2]))
    for lat, wl, n in keys:
        over = " over telnet" if meta.get("transport") == "telnet" else ""
        per = "request (eAPI)" if meta.get("transport") == "eapi" else "command"
        L.append(f"## Workload ({wl}) {WORKLOADS[wl]}{over}: N = {n}, latency {lat} ms per "
                 f"{per}\n")
        L.append("| tool | forks | wall s (median) | runs s | CPU s | sim CPU s | RSS max MB | "
                 "RSS tree MB | failures | ×netorch |")
        L.append("|---|---|---|---|---|---|---|---|---|---|")
        base = rows.get((lat, wl, n, "netorch"))
        for t in meta["tools"]:
            r = rows.get((lat, wl, n, t))
            if r is None:
                why = skips.get((lat, wl, n, t))
                if why:
                    L.append(f"| {t} | | skipped: {why} | | | | | | | |")
                continue
            ratio = f"{r['wall'] / base['wall']:.1f}" if base and t != "netorch" else ""
            L.append(f"| {t} | {r['forks']} | {fmt(r['wall'])} | "
                     f"{' '.join(fmt(w) for w in r['walls'])} | {fmt(r['cpu'])} | "
                     f"{fmt(r['sim_cpu'])} | {fmt(r['rss_max'], 0)} | {fmt(r['rss_tree'], 0)} | "
                     f"{r['failed']}/{r['runs']} | {ratio} |")
        loads = [rows[(lat, wl, n, t)]["load"] for t in meta["tools"] if (lat, wl, n, t) in rows]
        L.append("")
        L.append(f"1-minute load average just before the runs: {min(x[0] for x in loads):.1f} to "
                 f"{max(x[1] for x in loads):.1f} (the tools themselves and the sim count in it; "
                 f"anything well above that was other work on the machine).")
        if base:
            forks = base["forks"]
            chain = len((EAPI_CHAIN if meta.get("transport") == "eapi" else CHAIN)[wl])
            lat_floor = math.ceil(n / forks) * chain * lat / 1000
            # CPU floor: per-host CPU of the cheapest client measured (netorch itself, in the
            # 0 ms run when there is one) plus the sim's per-host CPU, spread over the cores.
            zero = rows.get((0, wl, n, "netorch")) or base
            per_host = (zero["cpu"] + zero["sim_cpu"]) / n
            cpu_floor = n * per_host / meta["cores"]
            floor = max(lat_floor, cpu_floor)
            L.append("")
            unit = "requests" if meta.get("transport") == "eapi" else "commands"
            L.append(f"Floor: latency-bound ceil({n}/{forks}) × {chain} {unit} × {lat} ms = "
                     f"{lat_floor:.2f} s; CPU-bound {n} × {per_host * 1000:.1f} ms (netorch + sim "
                     f"CPU per host) / {meta['cores']} cores = {cpu_floor:.2f} s; floor "
                     f"{floor:.2f} s; netorch is at {base['wall'] / floor:.2f}× the floor.")
        errs = [(t, rows[(lat, wl, n, t)]["error"]) for t in meta["tools"]
                if (lat, wl, n, t) in rows and rows[(lat, wl, n, t)]["error"]]
        for t, e in errs:
            L.append("")
            L.append(f"First failure output of {t}:\n\n```\n{e}\n```")
        L.append("")
    if meta.get("transfer"):
        L.extend(transfer_section(meta["transfer"]))
    L.append(meta.get("notes", ""))
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def run_transfer(args, work, raw):
    """The file-transfer block: scripts/bench/transfer-speed with the same netorch binary.
    Returns its JSON, or {"skipped": reason}."""
    size, dist, targets = args.transfer.split(",")
    out = raw + ".transfer.json"
    env = dict(os.environ, TRANSFER_JSON=out, NETORCH_BIN=args.netorch, REPS=str(args.reps))
    print(f"file transfer: {size} MiB, {dist} MiB to {targets} targets, {args.reps} reps",
          flush=True)
    try:
        p = subprocess.run([os.path.join(ROOT, "scripts/bench/transfer-speed"), size, dist,
                            targets], env=env, cwd=ROOT, capture_output=True, text=True,
                           timeout=args.timeout * 2)
    except subprocess.TimeoutExpired:
        return {"skipped": f"transfer-speed took over {args.timeout * 2:.0f} s"}
    print(p.stdout, flush=True)
    if p.returncode != 0 or not os.path.exists(out):
        why = (p.stdout + p.stderr).strip().splitlines()[-3:]
        return {"skipped": f"transfer-speed failed (exit {p.returncode}): " + " / ".join(why)}
    with open(out) as f:
        return json.load(f)


def transfer_section(tr):
    L = ["## File transfer: netorch vs OpenSSH sftp / scp and curl, over loopback\n"]
    if "skipped" in tr:
        L.append(f"Skipped: {tr['skipped']}\n")
        return L
    L.append(f"`scripts/bench/transfer-speed {tr['size_mb']} {tr['dist_mb']} {tr['targets']}` "
             f"(REPS={tr['reps']}, the two sides of each pair alternating which goes first), "
             "a local OpenSSH sshd (internal-sftp) and vsftpd on loopback ports, the same "
             "files, each tool with its own default cipher. netorch runs with `--verify size` "
             "(atomic temp name + rename, idempotence stat); the stock tools verify nothing. "
             "ratio = stock median / netorch median: ≥ 1.0 means netorch is not slower.\n")
    L.append("| case | netorch | runs s | median s | stock tool | runs s | median s | ratio | "
             "netorch peak RSS MB |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for r in tr["rows"]:
        L.append(f"| {r['what']} | {r['netorch']} | "
                 f"{' '.join(fmt(w) for w in r['netorch_walls'])} | {fmt(r['netorch_median'])} | "
                 f"{r['stock']} | {' '.join(fmt(w) for w in r['stock_walls'])} | "
                 f"{fmt(r['stock_median'])} | {r['ratio']:.2f} | "
                 f"{r['netorch_rss_kb'] / 1024:.0f} |")
    if tr.get("sha256_verify_walls"):
        L.append("")
        L.append(f"With its default verification (sha256 computed on the target after the "
                 f"upload) the {tr['size_mb']} MiB SFTP upload took "
                 f"{fmt(tr['sha256_verify_walls'][0])} s.")
    L.append("")
    return L


def git_commit():
    def git(*a):
        return subprocess.run(["git", "-C", ROOT, *a], capture_output=True, text=True).stdout.strip()

    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "src", "sim", "Cargo.lock")
    return git("rev-parse", "--short", "HEAD") + (" with uncommitted changes in src/ or sim/" if dirty else "")


def default_tools(args):
    if args.tools:
        return args.tools
    per_transport = {"eapi": EAPI_TOOLS, "telnet": TELNET_TOOLS}
    return ",".join(per_transport.get(args.transport, TOOLS))


def report_only(args):
    results = [json.loads(line) for line in open(args.raw) if line.strip()]
    try:
        meta = json.load(open(args.raw + ".meta.json"))
    except OSError:
        t = datetime.datetime.utcfromtimestamp(os.path.getmtime(args.raw))
        meta = {"command": args.command, "started": f"before {t:%Y-%m-%d %H:%M}",
                "machine": f"{os.cpu_count()} cores, Linux {platform.release()}",
                "cores": os.cpu_count(), "versions": versions(args), "raw": args.raw,
                "commit": "see the notes"}
    meta["tools"] = default_tools(args).split(",")
    meta["notes"] = open(args.notes).read() if args.notes else ""
    skips = {}
    keys = {(r["latency"], r["workload"], r["n"]) for r in results}
    for lat, wl, n in keys:
        for t in meta["tools"]:
            if not any(r["tool"] == t and (r["latency"], r["workload"], r["n"]) == (lat, wl, n)
                       for r in results):
                why = explicit_skip(args.skip, t, n) or predict_skip(
                    results, t, wl, lat, n, args.skip_over)
                if why:
                    skips[(lat, wl, n, t)] = why
    meta.setdefault("finished", datetime.datetime.utcfromtimestamp(
        os.path.getmtime(args.raw)).strftime("%Y-%m-%d %H:%M"))
    write_report(args.out, results, meta, skips)
    print(f"wrote {args.out} from {len(results)} runs")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10,100,1000")
    ap.add_argument("--latencies", default="50,0")
    ap.add_argument("--workloads", default="a,b,c")
    ap.add_argument("--tools", default=None,
                    help=f"default {','.join(TOOLS)}; with --transport telnet "
                         f"{','.join(TELNET_TOOLS)}; with --transport eapi {','.join(EAPI_TOOLS)}")
    ap.add_argument("--transport", choices=["ssh", "telnet", "eapi"], default="ssh",
                    help="how every tool reaches the simulated devices: ssh (cisco_ios, the peers "
                         "above), telnet (the sim runs with --telnet; report BENCHMARKS-telnet.md), "
                         "eapi (arista_eos over HTTPS: netorch vs netorch over SSH vs pyeapi; "
                         "report BENCHMARKS-eapi.md)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--max-forks", type=int, default=200,
                    help="forks = min(N, this) for every tool")
    ap.add_argument("--config-lines", type=int, default=300)
    ap.add_argument("--timeout", type=float, default=900, help="per run, seconds")
    ap.add_argument("--skip-over", type=float, default=600,
                    help="skip a tool at a size when its time at the previous size, scaled by "
                         "N, predicts more than this many seconds per run")
    ap.add_argument("--venv", required=True)
    ap.add_argument("--netorch", default=os.path.join(ROOT, "target/release/netorch"))
    ap.add_argument("--sim", default=os.path.join(ROOT, "target/release/netorch-sim"))
    ap.add_argument("--out", default=None, help="default BENCHMARKS.md (BENCHMARKS-telnet.md "
                    "with --transport telnet, BENCHMARKS-eapi.md with --transport eapi)")
    ap.add_argument("--raw", default=None, help="JSONL of every run (default: under "
                    "~/.cache/netorch-bench/)")
    ap.add_argument("--slow-reps", default="",
                    help="TOOL:WORKLOADS:MIN_N=REPS,... fewer repetitions for slow tools, e.g. "
                         "ansible:ac:100=1 (the report says so)")
    ap.add_argument("--command", default="scripts/bench/compare")
    ap.add_argument("--notes", default=None, help="a Markdown file appended to the report")
    ap.add_argument("--skip", action="append", default=[], metavar="TOOL:MIN_N:REASON",
                    help="do not run TOOL at N >= MIN_N (the report gives REASON)")
    ap.add_argument("--transfer", default="1024,100,20",
                    help="SIZE_MB,DIST_MB,TARGETS for the file-transfer block "
                         "(scripts/bench/transfer-speed, run after the fleet workloads with "
                         "--reps repetitions), or 'none'")
    ap.add_argument("--report-only", action="store_true",
                    help="only rewrite the report from --raw (and its .meta.json)")
    args = ap.parse_args()
    set_subreaper()
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (65536, 65536))
    except (ValueError, OSError):
        pass
    if args.out is None:
        args.out = os.path.join(ROOT, {"eapi": "BENCHMARKS-eapi.md",
                                       "telnet": "BENCHMARKS-telnet.md"}.get(args.transport,
                                                                             "BENCHMARKS.md"))
    if args.transport != "ssh" and args.transfer == "1024,100,20":
        args.transfer = "none"  # the file-transfer block is SSH's; run it with --transport ssh
    if args.report_only:
        return report_only(args)
    tools = default_tools(args).split(",")
    sizes = [int(x) for x in args.sizes.split(",")]
    lats = [int(x) for x in args.latencies.split(",")]
    wls = args.workloads.split(",")
    work = tempfile.mkdtemp(prefix="netorch-bench-")
    # Private copies: others may rebuild target/release while a long run is going.
    for attr in ("netorch", "sim"):
        copy = os.path.join(work, os.path.basename(getattr(args, attr)))
        shutil.copy2(getattr(args, attr), copy)
        setattr(args, attr, copy)
    raw = args.raw or os.path.expanduser(
        f"~/.cache/netorch-bench/results-{time.strftime('%Y%m%d-%H%M%S')}.jsonl")
    os.makedirs(os.path.dirname(os.path.abspath(raw)), exist_ok=True)
    slow = []
    for spec in filter(None, args.slow_reps.split(",")):
        t, w, rest = spec.split(":")
        min_n, k = rest.split("=")
        slow.append((t, w, int(min_n), int(k)))

    def reps_for(t, wl, n):
        for st, sw, sn, k in slow:
            if st == t and wl in sw and n >= sn:
                return k
        return args.reps
    meta = {
        "command": args.command,
        "started": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
                   f"Linux {platform.release()}",
        "cores": os.cpu_count(),
        "tools": tools,
        "transport": args.transport,
        "versions": versions(args),
        "raw": raw,
        "notes": open(args.notes).read() if args.notes else "",
        "commit": git_commit(),
        "transport": args.transport,
    }
    with open(raw + ".meta.json", "w") as f:
        json.dump(meta, f)
    results, skips = [], {}
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    try:
        for lat in lats:
            for n in sizes:
                forks = min(n, args.max_forks)
                simdir = os.path.join(work, f"sim-{n}-{lat}")
                os.makedirs(simdir)
                sim = Sim(args.sim, n, lat, args.config_lines, simdir, args.transport)
                sim.latency = lat
                sim.ansible_inv = os.path.join(simdir, "ansible-inv.yml")
                if args.transport == "ssh":
                    ansible_inventory(sim, sim.ansible_inv)
                try:
                    for wl in wls:
                        active = []
                        for t in tools:
                            why = explicit_skip(args.skip, t, n) or predict_skip(
                                results, t, wl, lat, n, args.skip_over)
                            if why:
                                skips[(lat, wl, n, t)] = why
                                continue
                            active.append(t)
                        for rep in range(args.reps):
                            order = active[rep % len(active):] + active[:rep % len(active)] if active else []
                            for t in order:
                                if rep >= reps_for(t, wl, n):
                                    continue
                                r = run_tool(t, wl, sim, n, forks, rep, args, work)
                                results.append(r)
                                with open(raw, "a") as f:
                                    f.write(json.dumps(r) + "\n")
                                print(f"lat={lat}ms N={n} ({wl}) {t:16} rep {rep + 1}: wall {r['wall']:.2f}s "
                                      f"cpu {r['cpu']:.2f}s sim {r['sim_cpu']:.2f}s rss {r['rss_max_mb']:.0f}/"
                                      f"{r['rss_tree_mb']:.0f} MB failed {r['failed']}/{n}", flush=True)
                                if r.get("error"):
                                    print("   " + r["error"].replace("\n", "\n   "), flush=True)
                        write_report(args.out, results, meta, skips)
                finally:
                    sim.stop()
    except Interrupted:
        meta["finished"] = "INTERRUPTED (partial table)"
        write_report(args.out, results, meta, skips)
        shutil.rmtree(work, ignore_errors=True)
        print(f"interrupted; partial table in {args.out}", flush=True)
        return
    if args.transfer != "none":
        meta["transfer"] = run_transfer(args, work, raw)
        with open(raw + ".meta.json", "w") as f:
            json.dump(meta, f)
    meta["finished"] = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M")
    write_report(args.out, results, meta, skips)
    shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {args.out}; raw results {raw}")


if __name__ == "__main__":
    main()
