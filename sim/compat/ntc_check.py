"""Parse the sim's show outputs with TextFSM + ntc-templates and report the records.

Usage:
  PSIM_DUMP=/tmp/dump cargo test -p netorch-sim dump_show_outputs -- --ignored
  python ntc_check.py /tmp/dump [-v]
Needs `pip install textfsm==1.1.3 ntc-templates==9.3.0`. Prints one line per (platform,
command) with the record count and the fields left empty in every record; exits non-zero when
a command failed on the device or gave no records.
"""
import os
import sys

from ntc_templates.parse import parse_output

PLATFORMS = {
    "cisco_ios": "cisco_ios",
    "arista_eos": "arista_eos",
    "cisco_nxos": "cisco_nxos",
    "cisco_iosxr": "cisco_xr",
    "juniper_junos": "juniper_junos",
}


def main(root, verbose):
    bad = 0
    for sim_name, ntc in PLATFORMS.items():
        d = os.path.join(root, sim_name)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            cmd = f[: -len(".txt")]
            data = open(os.path.join(d, f)).read()
            if data.startswith("ERROR "):
                print(f"{ntc:14} {cmd:28} DEVICE ERROR: {data[6:].strip()[:80]}")
                bad += 1
                continue
            try:
                recs = parse_output(platform=ntc, command=cmd, data=data)
            except Exception as e:  # no template, or the template rejected the text
                print(f"{ntc:14} {cmd:28} PARSE ERROR: {str(e).splitlines()[0][:90]}")
                bad += 1
                continue
            empty = [k for k in (recs[0] if recs else {}) if all(r[k] in ("", []) for r in recs)]
            print(f"{ntc:14} {cmd:28} {len(recs):3} records; always empty: {', '.join(empty)}")
            if not recs:
                bad += 1
            if verbose:
                for r in recs:
                    print("    ", {k: v for k, v in r.items() if v not in ("", [])})
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], "-v" in sys.argv[2:]))
