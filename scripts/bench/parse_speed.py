#!/usr/bin/env python3
"""TextFSM parse speed: Google's textfsm + ntc-templates against `netorch parse` (driven by
scripts/bench/parse-speed, which sets up the pinned venv with scripts/pyenv and builds
netorch in release; run it through that script).

Generates, deterministically (--seed), --files saved outputs of Cisco IOS `show interfaces`
(24-52 interfaces each, long form, realistic counters) and --files of `show ip route` (200-800
routes: connected/local, static, OSPF intra/inter/external, EIGRP, BGP, IS-IS, ECMP
continuation lines, wrapped prefixes) into a temp folder, then measures, each the median of
--reps runs:
  - Python in-process: ntc_templates.parse.parse_output(platform=, command=, data=) over every
    file of a workload, perf_counter around the calls only (imports and file reads excluded);
  - Python whole process: one `python parse_speed.py --worker` over all the files of both
    workloads (Python start, imports, reads, parsing, JSON out), wall time;
  - netorch whole process: `netorch parse --platform cisco_ios --command C --textfsm-dir DIR
    --json FILES...`, one process per workload over its files, wall time.
and checks that both give equal records for every file (JSON values: key order ignored,
record order kept). Prints a Markdown table; never asserts. Exit 1 when netorch's figures are
missing (its command failed or printed something else than the JSON expected).
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKLOADS = [("show interfaces", "show_interfaces"), ("show ip route", "show_ip_route")]

DESCRIPTIONS = ["uplink dist-sw-01 Te1/0/1", "Poste bureau 2.14", "imprimante RDC", "AP couloir nord",
                "srv-esx-03 vmnic2", "caméra parking", "badge reader", "vers wan-rtr-01", "réserve",
                "VoIP + PC salle réunion", "NAS sauvegarde", "trunk vers acc-sw-b3-02"]


def mac(rng):
    return "%04x.%04x.%04x" % (rng.randrange(0x10000), rng.randrange(0x10000), rng.randrange(0x10000))


def gen_interfaces(rng):
    n = rng.randint(24, 52)
    names = [f"GigabitEthernet1/0/{i}" for i in range(1, n - 3)]
    names += ["TenGigabitEthernet1/1/1", "Port-channel1", "Vlan10", "Loopback0"][: n - len(names)]
    out = []
    for name in names:
        up = rng.random() < 0.8
        admin = "up" if up or rng.random() < 0.7 else "administratively down"
        link = "up" if up else admin if admin != "up" else "down"
        proto = "up" if up else "down"
        hw = ("Loopback" if name.startswith("Loop") else "EtherSVI" if name.startswith("Vlan")
              else "EtherChannel" if name.startswith("Port") else
              "Ten Gigabit Ethernet" if name.startswith("Ten") else "Gigabit Ethernet")
        m = mac(rng)
        out.append(f"{name} is {link}, line protocol is {proto} ")
        if hw == "Loopback":
            out.append("  Hardware is Loopback")
        else:
            out.append(f"  Hardware is {hw}, address is {m} (bia {m})")
        if rng.random() < 0.6:
            out.append(f"  Description: {rng.choice(DESCRIPTIONS)}")
        if name.startswith(("Vlan", "Loop")) or rng.random() < 0.05:
            out.append(f"  Internet address is 10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                       f"/{rng.choice([24, 30, 32])}")
        bw = 10000000 if hw.startswith("Ten") else 1000000
        out.append(f"  MTU {rng.choice([1500, 9198])} bytes, BW {bw} Kbit/sec, DLY 10 usec, ")
        out.append(f"     reliability 255/255, txload {rng.randint(1, 40)}/255, rxload {rng.randint(1, 40)}/255")
        out.append("  Encapsulation ARPA, loopback not set")
        out.append("  Keepalive set (10 sec)")
        if hw not in ("Loopback", "EtherSVI"):
            speed = "10Gb/s" if hw.startswith("Ten") else "1000Mb/s"
            out.append(f"  Full-duplex, {speed}, media type is 10/100/1000BaseTX")
            out.append("  input flow-control is off, output flow-control is unsupported ")
        out.append("  ARP type: ARPA, ARP Timeout 04:00:00")
        out.append(f"  Last input {rng.choice(['00:00:00', '00:00:01', 'never'])}, output 00:00:0{rng.randint(0, 9)},"
                   " output hang never")
        out.append('  Last clearing of "show interface" counters never')
        out.append(f"  Input queue: 0/75/0/0 (size/max/drops/flushes); Total output drops: {rng.randrange(5000)}")
        out.append("  Queueing strategy: fifo")
        out.append("  Output queue: 0/40 (size/max)")
        ibps, obps = rng.randrange(10**9), rng.randrange(10**9)
        out.append(f"  5 minute input rate {ibps} bits/sec, {ibps // 6000} packets/sec")
        out.append(f"  5 minute output rate {obps} bits/sec, {obps // 6000} packets/sec")
        ip, op = rng.randrange(10**12), rng.randrange(10**12)
        out.append(f"     {ip} packets input, {ip * rng.randint(60, 1400)} bytes, 0 no buffer")
        out.append(f"     Received {rng.randrange(10**6)} broadcasts ({rng.randrange(10**5)} multicasts)")
        out.append("     0 runts, 0 giants, 0 throttles ")
        crc = rng.choice([0, 0, 0, rng.randrange(100)])
        out.append(f"     {crc} input errors, {crc} CRC, 0 frame, 0 overrun, 0 ignored")
        out.append(f"     0 watchdog, {rng.randrange(10**6)} multicast, 0 pause input")
        out.append("     0 input packets with dribble condition detected")
        out.append(f"     {op} packets output, {op * rng.randint(60, 1400)} bytes, 0 underruns")
        out.append(f"     Output {rng.randrange(10**5)} broadcasts (0 multicasts)")
        out.append(f"     0 output errors, 0 collisions, {rng.randrange(10)} interface resets")
        out.append("     0 unknown protocol drops")
        out.append("     0 babbles, 0 late collision, 0 deferred")
        out.append("     0 lost carrier, 0 no carrier, 0 pause output")
        out.append("     0 output buffer failures, 0 output buffers swapped out")
    return "\n".join(out) + "\n"


ROUTE_CODES = """Codes: L - local, C - connected, S - static, R - RIP, M - mobile, B - BGP
       D - EIGRP, EX - EIGRP external, O - OSPF, IA - OSPF inter area 
       N1 - OSPF NSSA external type 1, N2 - OSPF NSSA external type 2
       E1 - OSPF external type 1, E2 - OSPF external type 2
       i - IS-IS, su - IS-IS summary, L1 - IS-IS level-1, L2 - IS-IS level-2
       ia - IS-IS inter area, * - candidate default, U - per-user static route
       o - ODR, P - periodic downloaded static route, H - NHRP, l - LISP
       a - application route
       + - replicated route, % - next hop override, p - overrides from PfR

Gateway of last resort is 10.0.0.1 to network 0.0.0.0

S*    0.0.0.0/0 [1/0] via 10.0.0.1"""


def gen_routes(rng):
    n = rng.randint(200, 800)
    ifs = [f"GigabitEthernet0/0/{i}" for i in range(4)] + ["TenGigabitEthernet0/1/0", "Vlan10", "Tunnel10"]
    lines = [ROUTE_CODES]
    per_major = 0
    major = None
    count = 1
    while count < n:
        if per_major == 0:
            major = rng.randrange(11, 220)
            per_major = rng.randint(5, 40)
            lines.append(f"      {major}.0.0.0/8 is variably subnetted, {per_major} subnets, {rng.randint(2, 5)} masks")
        per_major -= 1
        count += 1
        net = f"{major}.{rng.randrange(256)}.{rng.randrange(256)}.0"
        plen = rng.choice([16, 22, 24, 24, 24, 26, 30, 32])
        hop = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        iface = rng.choice(ifs)
        age = rng.choice(["00:00:12", "3d04h", "5w1d", "2w0d", "1d11h", "00:41:09"])
        kind = rng.random()
        if kind < 0.12:
            lines.append(f"C        {net}/{plen} is directly connected, {iface}")
            lines.append(f"L        {net[:-1]}1/32 is directly connected, {iface}")
            count += 1
        elif kind < 0.18:
            lines.append(f"S        {net}/{plen} [1/0] via {hop}")
        elif kind < 0.48:
            code = rng.choice(["O   ", "O IA", "O E2", "O E1", "O N2"])
            metric = rng.randint(2, 3000)
            dest = f"{net}/{plen}"
            if len(dest) > 17 and rng.random() < 0.5:  # a long prefix wraps its paths below it
                lines.append(f"{code}     {dest} ")
                lines.append(f"           [110/{metric}] via {hop}, {age}, {iface}")
            else:
                lines.append(f"{code}     {dest} [110/{metric}] via {hop}, {age}, {iface}")
            for _ in range(rng.choice([0, 0, 0, 1, 3])):  # ECMP
                hop2 = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                lines.append(f"                      [110/{metric}] via {hop2}, {age}, {rng.choice(ifs)}")
        elif kind < 0.62:
            code, ad = rng.choice([("D   ", 90), ("D EX", 170)])
            lines.append(f"{code}     {net}/{plen} [{ad}/{rng.randint(2816, 3_500_000)}] via {hop}, {age}, {iface}")
        elif kind < 0.92:
            ad = rng.choice([20, 200])
            lines.append(f"B        {net}/{plen} [{ad}/0] via {hop}, {age}")
        else:
            lvl = rng.choice(["L1", "L2"])
            lines.append(f"i {lvl}     {net}/{plen} [115/{rng.randint(10, 200)}] via {hop}, {age}, {iface}")
    return "\n".join(lines) + "\n"


def generate(folder, files, seed):
    """Writes the workloads' files; returns {command: [paths]}."""
    rng = random.Random(seed)
    out = {}
    for command, stem in WORKLOADS:
        d = Path(folder) / stem
        d.mkdir(parents=True, exist_ok=True)
        gen = gen_interfaces if stem == "show_interfaces" else gen_routes
        paths = []
        for i in range(files):
            p = d / f"{stem}_{i:04d}.txt"
            p.write_text(gen(rng), encoding="utf-8")
            paths.append(str(p))
        out[command] = paths
    return out


def worker(manifest, out_path):
    """The Python whole-process run: parse every file of the manifest, write the records and
    the in-process parse time per workload."""
    from ntc_templates.parse import parse_output, _get_template_dir
    import textfsm
    from textfsm import clitable
    with open(manifest, encoding="utf-8") as f:
        work = json.load(f)
    result = {"records": {}, "parse_ms": {}, "once_ms": {}}
    for command, paths in work.items():
        datas = []
        for p in paths:
            with open(p, encoding="utf-8") as f:
                datas.append(f.read())
        t = time.perf_counter()
        recs = [parse_output(platform="cisco_ios", command=command, data=d) for d in datas]
        result["parse_ms"][command] = (time.perf_counter() - t) * 1000
        result["records"].update(zip(paths, recs))
        # Python's best case: the template found and compiled once, reused for every file
        # (what a script that keeps its TextFSM object does; parse_output re-reads the index
        # and the template on every call, as Netmiko's use_textfsm does).
        tdir = _get_template_dir()
        table = clitable.CliTable("index", tdir)
        row = table.index.GetRowMatch({"Command": command, "Platform": "cisco_ios"})
        name = table.index.index[row]["Template"]
        t = time.perf_counter()
        with open(os.path.join(tdir, name), encoding="utf-8") as f:
            fsm = textfsm.TextFSM(f)
        for d in datas:
            fsm.Reset()
            fsm.ParseText(d)
        result["once_ms"][command] = (time.perf_counter() - t) * 1000
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(result, f)


def wall(cmd):
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as e:
        return None, b"", str(e).encode(), 127
    return (time.perf_counter() - t) * 1000, p.stdout, p.stderr, p.returncode


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1000, help="saved outputs per workload")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--netorch", default="target/release/netorch")
    ap.add_argument("--command", default="scripts/bench/parse-speed",
                    help="the command line printed under the table")
    ap.add_argument("--worker", nargs=2, metavar=("MANIFEST", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(*args.worker)

    from ntc_templates.parse import _get_template_dir
    tdir = _get_template_dir()
    missing = None
    with tempfile.TemporaryDirectory(prefix="netorch-parsebench-") as tmp:
        t = time.perf_counter()
        work = generate(tmp, args.files, args.seed)
        gen_s = time.perf_counter() - t
        sizes = {c: sum(os.path.getsize(p) for p in ps) for c, ps in work.items()}
        manifest = Path(tmp) / "manifest.json"
        manifest.write_text(json.dumps(work))
        py_parse = {c: [] for c in work}
        py_proc = []
        net_proc = {c: [] for c in work}
        equal = {c: None for c in work}
        py_once = {c: [] for c in work}
        py_records = net_records = None
        py_count = {}
        for rep in range(args.reps):
            out = Path(tmp) / "py.json"
            ms, _, err, rc = wall([sys.executable, __file__, "--worker", str(manifest), str(out)])
            if rc != 0:
                sys.exit(f"parse-speed: the Python worker failed (exit {rc}): {err.decode()[-800:]}")
            py_proc.append(ms)
            res = json.loads(out.read_text(encoding="utf-8"))
            for c in work:
                py_parse[c].append(res["parse_ms"][c])
                py_once[c].append(res["once_ms"][c])
            py_records = res["records"]
            for c, paths in work.items():
                py_count[c] = sum(len(py_records[p]) for p in paths)
                if missing and missing.startswith(c):
                    continue
                cmd = [args.netorch, "parse", "--platform", "cisco_ios", "--command", c,
                       "--textfsm-dir", tdir, "--json", *paths]
                ms, stdout, err, rc = wall(cmd)
                if rc != 0:
                    lines = [l for l in err.decode(errors="replace").splitlines() if l.strip()]
                    missing = f"{c}: `netorch parse` failed (exit {rc}): {lines[0] if lines else 'no message'}"
                    continue
                net_proc[c].append(ms)
                if rep == 0:
                    try:
                        net_records = json.loads(stdout)
                    except ValueError as e:
                        equal[c] = f"netorch printed no JSON ({e})"
                        continue
                    diff = [p for p in paths if net_records.get(p) != py_records[p]]
                    equal[c] = "yes" if not diff else (
                        f"no: {len(diff)} of {len(paths)} files differ, first {Path(diff[0]).name}")
    print(f"TextFSM parsing, Cisco IOS, {args.files} files per workload, median of {args.reps}"
          f" (textfsm {version('textfsm')}, ntc-templates {version('ntc-templates')},"
          f" Python {sys.version.split()[0]})\n")
    print("| workload | files | MB | records | python parse ms | netorch process ms | ratio"
          " | python compiled-once ms | ratio | equal records |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    tot_net = sum(statistics.median(v) for v in net_proc.values()) if all(net_proc.values()) else None
    for c in work:
        pp = statistics.median(py_parse[c])
        np_ = statistics.median(net_proc[c]) if net_proc[c] else None
        ratio = f"{pp / np_:.1f}x" if np_ else "n/a"
        po = statistics.median(py_once[c])
        ratio_once = f"{po / np_:.1f}x" if np_ else "n/a"
        print(f"| {c} | {len(work[c])} | {sizes[c] / 1e6:.1f} | {py_count[c]} | {pp:.0f}"
              f" | {f'{np_:.0f}' if np_ else 'missing'} | {ratio} | {po:.0f} | {ratio_once}"
              f" | {equal[c] or 'n/a'} |")
    ppr = statistics.median(py_proc)
    ratio = f"{ppr / tot_net:.1f}x" if tot_net else "n/a"
    print(f"| both, whole process | {sum(len(v) for v in work.values())}"
          f" | {sum(sizes.values()) / 1e6:.1f} | {sum(py_count.values())} | {ppr:.0f} (process)"
          f" | {f'{tot_net:.0f}' if tot_net else 'missing'} | {ratio} | | | |")
    print("\npython parse ms: ntc_templates.parse_output over the workload's files, perf_counter"
          " around the calls (imports and file reads excluded). netorch process ms: one"
          " `netorch parse --json` process per workload, wall time (start, reads, parsing and JSON"
          " out included), so its ratio against Python's parse-only time is the conservative one.")
    print("\nLast row: one Python process over both workloads (start, imports, reads, parsing, JSON"
          " out) against netorch's two processes, wall times.")
    print(f"\nInputs generated with seed {args.seed} in {gen_s:.1f} s (24-52 interfaces, 200-800 routes per file).")
    print(f"\nCommand: `{args.command}`")
    if missing:
        print(f"\nnetorch figures missing: {missing}")
        sys.exit(1)


def version(dist):
    try:
        from importlib.metadata import version as v
        return v(dist)
    except Exception:  # pragma: no cover
        return "?"


if __name__ == "__main__":
    main()
