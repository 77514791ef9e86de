#!/usr/bin/env python3
"""Config remediation speed: hier_config against `netorch config remediate` (driven by
scripts/bench/config-speed, which sets up the venv with the pinned hier_config and builds
netorch; run it through that script).

For each size in --lines: generates a running/intended pair with gen-config.py into a temp
folder, then measures, each as the median of --reps runs:
  - hier_config in-process: get_hconfig(running) + get_hconfig(intended) +
    WorkflowRemediation(...).remediation_config + rendering its lines, timed with
    time.perf_counter() in this process (imports excluded);
  - hier_config whole process: `python hier_oracle.py ...` (the same work plus Python's start
    and hier_config's import), wall time;
  - netorch whole process: `netorch config remediate --platform cisco_ios --running R
    --intended I`, wall time (process start included: the figure a user sees).
and the number of remediation lines each prints (non-empty lines; netorch's `!`/`exit` lines,
if any, are not counted). Prints a Markdown table. Exit 1 when netorch's figures are missing
(its command failed, e.g. before `config remediate` exists).
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import hier_config
from hier_config import Platform, WorkflowRemediation, get_hconfig

HERE = Path(__file__).resolve().parent


def hier_in_process(running, intended):
    t = time.perf_counter()
    r = get_hconfig(Platform.CISCO_IOS, running)
    i = get_hconfig(Platform.CISCO_IOS, intended)
    lines = [c.cisco_style_text() for c in WorkflowRemediation(r, i).remediation_config.all_children_sorted()]
    return (time.perf_counter() - t) * 1000, sum(len(l.splitlines()) for l in lines)


def wall(cmd):
    """Wall time in ms and stdout of one run; None for the time when the command failed."""
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as e:  # the binary is missing (its build failed)
        return None, "", str(e), 127
    ms = (time.perf_counter() - t) * 1000
    return (ms if p.returncode == 0 else None), p.stdout, p.stderr, p.returncode


def count_lines(text):
    return sum(1 for l in text.splitlines() if l.strip() and l.strip() not in ("!", "exit", "end"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", default="1000,10000", help="comma-separated config sizes")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--netorch", default="target/release/netorch")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--command", default="scripts/bench/config-speed",
                    help="the command line printed under the table")
    args = ap.parse_args()
    sizes = [int(x) for x in args.lines.split(",") if x]
    rows, missing, notes = [], None, []
    with tempfile.TemporaryDirectory(prefix="netorch-cfgbench-") as tmp:
        for n in sizes:
            d = Path(tmp) / str(n)
            gen = subprocess.run([sys.executable, str(HERE / "gen-config.py"), "--lines", str(n),
                                  "--seed", str(args.seed), "--out", str(d)],
                                 check=True, stderr=subprocess.PIPE, text=True)
            notes.append(gen.stderr.strip())
            running = (d / "running.cfg").read_text()
            intended = (d / "intended.cfg").read_text()
            files = ["--running", str(d / "running.cfg"), "--intended", str(d / "intended.cfg")]
            inproc, hier_count = [], None
            hier_proc, net_proc, net_count, net_in = [], [], None, []
            oracle = [sys.executable, str(HERE / "hier_oracle.py"), "--platform", "cisco_ios", *files]
            netorch = [args.netorch, "config", "remediate", "--platform", "cisco_ios", *files]
            for _ in range(args.reps):
                # Alternate the tools inside each repetition so drift hits both alike.
                ms, hier_count = hier_in_process(running, intended)
                inproc.append(ms)
                ms, out, err, rc = wall(oracle)
                if ms is None:
                    sys.exit(f"config-speed: hier_oracle.py failed (exit {rc}): {err.strip()[-500:]}")
                hier_proc.append(ms)
                if count_lines(out) != hier_count:
                    print(f"config-speed: note: hier_oracle.py printed {count_lines(out)} lines, in-process {hier_count}",
                          file=sys.stderr)
                if missing is None:
                    ms, out, err, rc = wall(netorch)
                    if ms is None:
                        lines = [l for l in err.strip().splitlines() if l.strip()]
                        first = next((l for l in lines if "error" in l.lower()), lines[0] if lines else "no message")
                        missing = f"`{' '.join(netorch[:3])}` failed (exit {rc}): {first.strip()}"
                    else:
                        net_proc.append(ms)
                        net_count = count_lines(out)
                        # netorch's own in-process figure: parse both + remediation, as
                        # hier_config's is measured (its JSON reports the model's timing).
                        _, jout, _, jrc = wall(netorch + ["--json"])
                        if jrc == 0:
                            t = json.loads(jout)["timing_ms"]
                            net_in.append(t["parse"] + t["remediate"])
            rows.append((len(running.splitlines()), len(intended.splitlines()),
                         statistics.median(inproc), statistics.median(hier_proc),
                         statistics.median(net_proc) if net_proc and not missing else None,
                         hier_count, net_count if not missing else None,
                         statistics.median(net_in) if net_in and not missing else None))
    print(f"Config remediation, Cisco IOS, median of {args.reps} (hier_config {hier_config_version()},"
          f" Python {sys.version.split()[0]})\n")
    print("| running lines | intended lines | hier_config in-process ms | netorch in-process ms"
          " | in-process ratio | hier_config process ms | netorch process ms | process ratio"
          " | remediation lines hier_config | remediation lines netorch |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rl, il, hin, hpr, npr, hc, nc, nin in rows:
        ratio = f"{hpr / npr:.1f}x" if npr else "n/a"
        in_ratio = f"{hin / nin:.0f}x" if nin else "n/a"
        print(f"| {rl} | {il} | {hin:.1f} | {f'{nin:.1f}' if nin else 'missing'} | {in_ratio}"
              f" | {hpr:.1f} | {f'{npr:.1f}' if npr else 'missing'} | {ratio} | {hc}"
              f" | {nc if nc is not None else 'missing'} |")
    print("\nIn-process: parsing both configs and computing the remediation (hier_config: perf_counter"
          " around its calls, imports excluded; netorch: the `timing_ms` of `config remediate --json`).")
    print("\nhier_config process / netorch: whole-process wall times of both (Python start and imports"
          " included for hier_config, process start for netorch).")
    for note in notes:
        print(f"\n{note}")
    print(f"\nCommand: `{args.command}`")
    if missing:
        print(f"\nnetorch figures missing: {missing}")
        sys.exit(1)


def hier_config_version():
    try:
        from importlib.metadata import version
        return version("hier-config")
    except Exception:  # pragma: no cover - metadata missing in odd installs
        return getattr(hier_config, "__version__", "?")


if __name__ == "__main__":
    main()
