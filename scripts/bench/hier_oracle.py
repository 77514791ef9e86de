#!/usr/bin/env python3
"""Print hier_config's remediation for one running/intended pair, one line per line.

The reference the netorch config model is compared against (scripts/bench/config-speed pins
the hier_config version; tests/configs/README.md records which one produced the stored
hier_config.txt files).

    hier_oracle.py --platform cisco_ios --running R.cfg --intended I.cfg [--scope 'interface X' ...]

Lines are printed as hier_config renders them (HConfigChild.cisco_style_text(): two spaces of
indentation per level; Junos as flat `set`/`delete` lines), in its order
(all_children_sorted(), i.e. after set_order_weight()). --scope keeps only the remediation
under the given top-level section lines (exact text), like netorch's --scope.
"""
import argparse
import sys
from pathlib import Path

from hier_config import Platform, WorkflowRemediation, get_hconfig

PLATFORMS = {
    "cisco_ios": Platform.CISCO_IOS,
    "arista_eos": Platform.ARISTA_EOS,
    "cisco_nxos": Platform.CISCO_NXOS,
    "cisco_iosxr": Platform.CISCO_XR,
    "juniper_junos": Platform.JUNIPER_JUNOS,
}


def remediation_lines(platform, running_text, intended_text, scopes=()):
    """hier_config's remediation for the pair, as rendered lines."""
    running = get_hconfig(PLATFORMS[platform], running_text)
    intended = get_hconfig(PLATFORMS[platform], intended_text)
    remediation = WorkflowRemediation(running, intended).remediation_config
    lines = []
    for child in remediation.all_children_sorted():
        if scopes:
            top = next(child.lineage())  # lineage runs from the top-level section down
            if top.text not in scopes:
                continue
        lines.append(child.cisco_style_text())
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--platform", required=True, choices=sorted(PLATFORMS))
    ap.add_argument("--running", required=True, type=Path)
    ap.add_argument("--intended", required=True, type=Path)
    ap.add_argument("--scope", action="append", default=[],
                    help="a top-level section line to restrict the output to (repeatable)")
    args = ap.parse_args()
    lines = remediation_lines(args.platform, args.running.read_text(encoding="utf8"),
                              args.intended.read_text(encoding="utf8"), tuple(args.scope))
    out = "\n".join(lines)
    sys.stdout.write(out + ("\n" if out else ""))


if __name__ == "__main__":
    main()
