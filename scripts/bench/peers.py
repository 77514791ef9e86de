"""The peer tools' side of the comparison benchmark: one workload, one tool, one process.

Usage: peers.py TOOL WORKLOAD INVENTORY FORKS STAMP OUTDIR
  TOOL      nornir | scrapli-system | scrapli-ssh2 | scrapli-asyncssh | scrapli-telnet
            | scrapli-asynctelnet (an inventory whose hosts say `connection: telnet` makes
            Nornir use Netmiko's cisco_ios_telnet) | pyeapi (eAPI lab)
  WORKLOAD  a (show version) | b (show version, 3-line config push, save, show running-config)
            | c (running-config backup into OUTDIR, one file per device)
  INVENTORY the netorch inventory written by `netorch-sim --inventory-out` (cisco_ios group)
Prints one JSON line {"ok": n, "failed": n, "errors": [...]} last. Each tool is driven the way
its documentation shows (Nornir + nornir_netmiko tasks on the threaded runner, Scrapli's
IOSXEDriver / AsyncIOSXEDriver), with the tool's defaults except what the sim needs (no
strict host keys). Ansible is driven by compare.py directly through ansible-playbook.
"""

import json
import os
import sys
import tempfile

import yaml


def load_hosts(path):
    inv = yaml.safe_load(open(path))
    v = dict(inv["all"]["vars"])
    hosts = []
    for group in inv["all"]["children"].values():
        for name, h in group["hosts"].items():
            hosts.append((name, h["host"], int(h["port"])))
            if h.get("connection") == "telnet":
                v["telnet"] = True
    return v, hosts


def config_lines(stamp):
    # Same three lines as netorch's play; the stamp makes every run a real change (so the
    # save is needed and Ansible's save_when: modified saves).
    return [
        f"snmp-server location bench-{stamp}",
        f"snmp-server contact noc-{stamp}",
        f"ip domain name bench{stamp}.example.net",
    ]


def eos_config_lines(stamp):
    lines = config_lines(stamp)
    lines[2] = f"dns domain bench{stamp}.example.net"
    return lines


def write_backup(outdir, name, text):
    with open(os.path.join(outdir, f"{name}.cfg"), "w") as f:
        f.write(text)


def run_nornir(workload, v, hosts, forks, stamp, outdir):
    from nornir import InitNornir
    from nornir_netmiko.tasks import (
        netmiko_save_config,
        netmiko_send_command,
        netmiko_send_config,
    )

    d = tempfile.mkdtemp()
    with open(os.path.join(d, "hosts.yaml"), "w") as f:
        yaml.safe_dump({n: {"hostname": a, "port": p} for n, a, p in hosts}, f)
    with open(os.path.join(d, "defaults.yaml"), "w") as f:
        yaml.safe_dump(
            {
                "username": v["user"],
                "password": v["password"],
                "platform": "cisco_ios_telnet" if v.get("telnet") else "cisco_ios",
                "connection_options": {"netmiko": {"extras": {"secret": v["enable_secret"]}}},
            },
            f,
        )
    with open(os.path.join(d, "groups.yaml"), "w") as f:
        f.write("{}\n")
    nr = InitNornir(
        runner={"plugin": "threaded", "options": {"num_workers": forks}},
        inventory={
            "plugin": "SimpleInventory",
            "options": {
                "host_file": os.path.join(d, "hosts.yaml"),
                "group_file": os.path.join(d, "groups.yaml"),
                "defaults_file": os.path.join(d, "defaults.yaml"),
            },
        },
        logging={"enabled": False},
    )

    def work(task):
        if workload == "a":
            task.run(task=netmiko_send_command, command_string="show version")
        elif workload == "b":
            task.run(task=netmiko_send_command, command_string="show version")
            task.run(task=netmiko_send_config, config_commands=config_lines(stamp))
            task.run(task=netmiko_save_config)
            task.run(task=netmiko_send_command, command_string="show running-config", enable=True)
        else:
            r = task.run(
                task=netmiko_send_command, command_string="show running-config", enable=True
            )
            write_backup(outdir, task.host.name, r.result)

    res = nr.run(task=work)
    nr.close_connections()
    failed = sorted(res.failed_hosts)
    errors = []
    for name in failed[:3]:
        errors.append(f"{name}: {str(res[name].exception or res[name][-1].result)[:300]}")
    return len(hosts) - len(failed), len(failed), errors


def scrapli_kwargs(v, addr, port, transport):
    return dict(
        host=addr,
        port=port,
        auth_username=v["user"],
        auth_password=v["password"],
        auth_secondary=v["enable_secret"],
        auth_strict_key=False,
        transport=transport,
        timeout_ops=60,
    )


def scrapli_check(r):
    if r.failed:
        raise RuntimeError(f"command failed: {r.result[-300:]}")


def run_scrapli_threaded(workload, v, hosts, forks, stamp, outdir, transport):
    from concurrent.futures import ThreadPoolExecutor

    from scrapli.driver.core import IOSXEDriver

    def one(h):
        name, addr, port = h
        with IOSXEDriver(**scrapli_kwargs(v, addr, port, transport)) as conn:
            if workload == "a":
                scrapli_check(conn.send_command("show version"))
            elif workload == "b":
                scrapli_check(conn.send_command("show version"))
                scrapli_check(conn.send_configs(config_lines(stamp)))
                scrapli_check(conn.send_command("write memory"))
                scrapli_check(conn.send_command("show running-config"))
            else:
                r = conn.send_command("show running-config")
                scrapli_check(r)
                write_backup(outdir, name, r.result)

    return gather_threads(ThreadPoolExecutor, one, hosts, forks)


def run_pyeapi(workload, v, inventory, forks, stamp, outdir):
    """Arista's pyeapi on threads, one Node per device over HTTPS (its defaults: keep-alive
    off, certificate verification off)."""
    from concurrent.futures import ThreadPoolExecutor

    import pyeapi

    inv = yaml.safe_load(open(inventory))
    hosts = []
    for group in inv["all"]["children"].values():
        for name, h in group["hosts"].items():
            hosts.append((name, h["host"], int(h["api_port"])))

    def one(h):
        name, addr, port = h
        node = pyeapi.client.Node(pyeapi.client.connect(
            transport="https", host=addr, port=port, username=v["user"],
            password=v["password"], return_node=False))
        if workload == "a":
            node.enable(["show version"], encoding="text")
        elif workload == "b":
            node.enable(["show version"], encoding="text")
            node.config(eos_config_lines(stamp))
            node.enable(["copy running-config startup-config"], encoding="text")
            node.enable(["show running-config"], encoding="text")
        else:
            r = node.enable(["show running-config"], encoding="text")
            write_backup(outdir, name, r[0]["result"]["output"])

    return gather_threads(ThreadPoolExecutor, one, hosts, forks)


def gather_threads(pool_cls, fn, hosts, forks):
    ok, errors = 0, []
    with pool_cls(max_workers=forks) as pool:
        futs = {pool.submit(fn, h): h[0] for h in hosts}
        for fut, name in futs.items():
            try:
                fut.result()
                ok += 1
            except Exception as e:  # noqa: BLE001 - every device is counted
                errors.append(f"{name}: {type(e).__name__}: {str(e)[:300]}")
    return ok, len(errors), errors[:3]


def run_scrapli_async(workload, v, hosts, forks, stamp, outdir, transport="asyncssh"):
    import asyncio

    from scrapli.driver.core import AsyncIOSXEDriver

    async def one(sem, h):
        name, addr, port = h
        async with sem:
            async with AsyncIOSXEDriver(**scrapli_kwargs(v, addr, port, transport)) as conn:
                if workload == "a":
                    scrapli_check(await conn.send_command("show version"))
                elif workload == "b":
                    scrapli_check(await conn.send_command("show version"))
                    scrapli_check(await conn.send_configs(config_lines(stamp)))
                    scrapli_check(await conn.send_command("write memory"))
                    scrapli_check(await conn.send_command("show running-config"))
                else:
                    r = await conn.send_command("show running-config")
                    scrapli_check(r)
                    write_backup(outdir, name, r.result)

    async def main():
        sem = asyncio.Semaphore(forks)
        results = await asyncio.gather(*(one(sem, h) for h in hosts), return_exceptions=True)
        errors = [
            f"{h[0]}: {type(r).__name__}: {str(r)[:300]}"
            for h, r in zip(hosts, results)
            if isinstance(r, BaseException)
        ]
        return len(hosts) - len(errors), len(errors), errors[:3]

    return asyncio.run(main())


def main():
    tool, workload, inventory, forks, stamp, outdir = sys.argv[1:7]
    forks = int(forks)
    v, hosts = load_hosts(inventory)
    os.makedirs(outdir, exist_ok=True)
    if tool == "pyeapi":
        ok, failed, errors = run_pyeapi(workload, v, inventory, forks, stamp, outdir)
    elif tool == "nornir":
        ok, failed, errors = run_nornir(workload, v, hosts, forks, stamp, outdir)
    elif tool == "scrapli-system":
        ok, failed, errors = run_scrapli_threaded(
            workload, v, hosts, forks, stamp, outdir, "system"
        )
    elif tool == "scrapli-ssh2":
        ok, failed, errors = run_scrapli_threaded(workload, v, hosts, forks, stamp, outdir, "ssh2")
    elif tool == "scrapli-asyncssh":
        ok, failed, errors = run_scrapli_async(workload, v, hosts, forks, stamp, outdir)
    elif tool == "scrapli-telnet":
        ok, failed, errors = run_scrapli_threaded(
            workload, v, hosts, forks, stamp, outdir, "telnet"
        )
    elif tool == "scrapli-asynctelnet":
        ok, failed, errors = run_scrapli_async(
            workload, v, hosts, forks, stamp, outdir, "asynctelnet"
        )
    else:
        raise SystemExit(f"unknown tool {tool}")
    print(json.dumps({"ok": ok, "failed": failed, "errors": errors}))


if __name__ == "__main__":
    main()
