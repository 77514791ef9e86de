#!/usr/bin/env python3
"""The reference side of netorch's TextFSM conformance tests: Google's textfsm with
ntc-templates (pinned in tests/parse/requirements.txt; scripts/pyenv installs them).

Two modes, each printing one JSON object on stdout:

  oracle.py CORPUS.yml [--templates DIR]
      For every entry {platform, command, file, note} of the corpus (files relative to the
      corpus file's folder + "corpus/"):
          {FILE: {"records": [...]}}  or  {FILE: {"error": "..."}}
      with the records exactly as ntc_templates.parse.parse_output(platform=, command=,
      data=) returns them: a list of dicts with lower-case keys, values strings or lists.
      FILE is the entry's `file` as written in the corpus.

  oracle.py --each-template INPUT... [--templates DIR] [--platforms P,P,...]
      For every template file named in the index rows of the platforms (default the five of
      the corpus; rows joining several templates with ':' give each of their files), parses
      each INPUT file with that template alone (textfsm.TextFSM + ParseText, which is what
      clitable does per template) and prints
          {TEMPLATE: {"platform": P, "command": C, "results": {INPUT: {"records"|"error"}}}}
      C is the index row's command with its [[...]] completions written out.

Reading the files: exactly what ntc-templates users do, `open(path).read()` in text mode,
i.e. UTF-8 with universal newlines: a device's "\\r\\n" (and a lone "\\r") reaches textfsm as
"\\n". Trailing spaces are kept. netorch must give the same records from the same bytes.

Errors: any exception of the parse (no template for the command, a template's Error state,
a template that does not compile) is an {"error": "<ExceptionType>: <message>"}.
"""
import argparse
import json
import os
import re
import sys
import warnings

import textfsm
import yaml
from ntc_templates.parse import _get_template_dir, parse_output
from textfsm import clitable

PLATFORMS = ["cisco_ios", "arista_eos", "cisco_nxos", "juniper_junos", "cisco_xr"]


def read(path):
    with open(path, encoding="utf-8") as f:  # universal newlines, as ntc-templates users do
        return f.read()


def result(fn):
    try:
        return {"records": fn()}
    except Exception as e:  # noqa: BLE001 - every failure is an answer of the oracle
        return {"error": f"{type(e).__name__}: {e}".strip()}


def corpus_mode(corpus, template_dir):
    with open(corpus, encoding="utf-8") as f:
        entries = yaml.safe_load(f)
    base = os.path.join(os.path.dirname(os.path.abspath(corpus)), "corpus")
    out = {}
    for e in entries:
        data = read(os.path.join(base, e["file"]))
        out[e["file"]] = result(lambda: parse_output(platform=e["platform"], command=e["command"],
                                                     data=data, template_dir=template_dir))
    return out


def completed(command):
    """An index Command written out: 'sh[[ow]] ver[[sion]]' -> 'show version' (regex kept)."""
    return re.sub(r"\[\[(.+?)\]\]", r"\1", command)


def index_templates(template_dir, platforms):
    """(template file, platform, command) for every template of the platforms' index rows,
    each file once (its first row), in index order."""
    with open(os.path.join(template_dir, "index"), encoding="utf-8") as f:
        # Raw rows (Command as written); nothing compiled (precompile blanks every field).
        index = clitable.IndexTable(precompile=lambda _k, _v: "", file_path=f.name)
    seen, out = set(), []
    for row in index.index:
        if row["Platform"] not in platforms:
            continue
        for t in row["Template"].split(":"):
            t = t.strip()
            if t and t not in seen:
                seen.add(t)
                out.append((t, row["Platform"], completed(row["Command"])))
    return out


def parse_with(template_path, data):
    with open(template_path, encoding="utf-8") as f:
        fsm = textfsm.TextFSM(f)
    header = [h.lower() for h in fsm.header]
    return [dict(zip(header, row)) for row in fsm.ParseText(data)]


def each_template_mode(inputs, template_dir, platforms):
    datas = {p: read(p) for p in inputs}
    out = {}
    for t, platform, command in index_templates(template_dir, platforms):
        path = os.path.join(template_dir, t)
        out[t] = {"platform": platform, "command": command,
                  "results": {p: result(lambda: parse_with(path, d)) for p, d in datas.items()}}
    return out


def main():
    # Python's re warns (FutureWarning) about some templates' character classes; not ours.
    warnings.simplefilter("ignore", FutureWarning)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", help="corpus.yml")
    ap.add_argument("--templates", help="folder with an ntc-templates index "
                    "(default: ntc_templates' own)")
    ap.add_argument("--each-template", nargs="+", metavar="INPUT",
                    help="parse these files with every template of the platforms' index rows")
    ap.add_argument("--platforms", default=",".join(PLATFORMS))
    args = ap.parse_args()
    template_dir = args.templates or _get_template_dir()
    if args.each_template:
        out = each_template_mode(args.each_template, template_dir, args.platforms.split(","))
    elif args.corpus:
        out = corpus_mode(args.corpus, template_dir)
    else:
        ap.error("give CORPUS.yml or --each-template INPUT...")
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
