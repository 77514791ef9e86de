#!/usr/bin/env python3
"""Print hier_config's remediation for one running/intended pair, one line per line.

The reference the netorch config model is compared against (scripts/bench/config-speed pins
the hier_config version; tests/configs/README.md records which one produced the stored
hier_config.txt files).

    hier_oracle.py --platform cisco_ios --running R.cfg --intended I.cfg [--scope 'interface X' ...]

Lines are printed as hier_config renders them (HConfigChild.cisco_style_text(): two spaces of
indentation per level; Junos as flat `set`/`delete` lines), in its order
(all_children_sorted(), i.e. after set_order_weight()); --exits adds the sectional exit
lines (end-policy, exit-address-family, ...) as HConfigChild.lines(sectional_exiting=True).
--scope keeps only the remediation under the given top-level section lines (exact text),
like netorch's --scope.

    hier_oracle.py --corpus tests/configs [--write]

runs every case of the corpus (tests/configs/<platform>/<case>/running.cfg, intended.cfg) and
prints each case's remediation under a `== platform/case` line; --write stores it as
<case>/hier_config.txt instead, for the IOS-like platforms only (hier_config's Junos support
is experimental and its output there is not a reference: see tests/configs/README.md).
A case's `scope` file is not applied: the stored reference is the whole remediation.
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


def remediation_lines(platform, running_text, intended_text, scopes=(), exits=False):
    """hier_config's remediation for the pair, as rendered lines.

    Without exits: HConfigChild.cisco_style_text() of every line in all_children_sorted()
    order (the rendering WorkflowRemediation's documentation shows). With exits: the same plus
    the driver's sectional exit lines (exit-address-family, end-policy, end-set, ...), i.e.
    HConfigChild.lines(sectional_exiting=True), which is what str() of a section gives.
    """
    running = get_hconfig(PLATFORMS[platform], running_text)
    intended = get_hconfig(PLATFORMS[platform], intended_text)
    remediation = WorkflowRemediation(running, intended).remediation_config
    lines = []
    for top in sorted(remediation.children):
        if scopes and top.text not in scopes:
            continue
        lines.extend(top.lines(sectional_exiting=exits))
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--platform", choices=sorted(PLATFORMS))
    ap.add_argument("--running", type=Path)
    ap.add_argument("--intended", type=Path)
    ap.add_argument("--exits", action="store_true",
                    help="also print hier_config's sectional exit lines (end-policy, exit-address-family, ...)")
    ap.add_argument("--corpus", type=Path, help="run every case under this folder")
    ap.add_argument("--write", action="store_true", help="with --corpus: write <case>/hier_config.txt")
    ap.add_argument("--scope", action="append", default=[],
                    help="a top-level section line to restrict the output to (repeatable)")
    args = ap.parse_args()
    if args.corpus:
        return corpus(args.corpus, args.write, args.exits)
    if not (args.platform and args.running and args.intended):
        ap.error("--platform, --running and --intended are required (or --corpus)")
    lines = remediation_lines(args.platform, args.running.read_text(encoding="utf8"),
                              args.intended.read_text(encoding="utf8"), tuple(args.scope), args.exits)
    out = "\n".join(lines)
    sys.stdout.write(out + ("\n" if out else ""))


def corpus(root, write, exits=False):
    failed = 0
    for case in sorted(p.parent for p in root.glob("*/*/running.cfg")):
        platform = case.parent.name
        if platform not in PLATFORMS:
            continue
        try:
            lines = remediation_lines(platform, (case / "running.cfg").read_text(encoding="utf8"),
                                      (case / "intended.cfg").read_text(encoding="utf8"), exits=exits)
        except Exception as e:  # a parse failure is a finding, not the end of the run
            failed += 1
            print(f"== {platform}/{case.name}: hier_config failed: {type(e).__name__}: {e}")
            continue
        text = "\n".join(lines) + ("\n" if lines else "")
        if write and platform != "juniper_junos":
            (case / "hier_config.txt").write_text(text, encoding="utf8")
            print(f"{case}/hier_config.txt: {len(text.splitlines())} lines")
        elif not write:
            print(f"== {platform}/{case.name}")
            sys.stdout.write(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
