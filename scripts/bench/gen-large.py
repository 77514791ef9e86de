#!/usr/bin/env python3
"""Generate a large inventory and playbook for the `netorch check` speed benchmark.

Usage: gen-large.py OUT_DIR [HOSTS] [GROUPS] [TASKS]
Writes OUT_DIR/inventory.yml (HOSTS hosts in GROUPS groups, nested three levels deep, with
group and host vars), OUT_DIR/site.yml (a play over all hosts with TASKS tasks of mixed
kinds) and OUT_DIR/templates/ntp.j2.
"""
import os
import sys

out = sys.argv[1]
hosts = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
groups = int(sys.argv[3]) if len(sys.argv) > 3 else 200
tasks = int(sys.argv[4]) if len(sys.argv) > 4 else 50
os.makedirs(os.path.join(out, "templates"), exist_ok=True)

regions = max(1, groups // 20)
sites_per_region = max(1, (groups - regions) // regions)
site_groups = [f"site{r:02d}_{s:02d}" for r in range(regions) for s in range(sites_per_region)]
platforms = ["cisco_ios", "arista_eos", "juniper_junos", "cisco_nxos"]

lines = ["all:", "  vars:", "    user: netops", "    domain: example.net", "  children:"]
per_site = {g: [] for g in site_groups}
for i in range(hosts):
    per_site[site_groups[i % len(site_groups)]].append(f"dev{i:05d}")
for r in range(regions):
    lines += [f"    region{r:02d}:", "      vars:", f"        region: r{r}", "      children:"]
    for s in range(sites_per_region):
        g = f"site{r:02d}_{s:02d}"
        lines += [f"        {g}:", "          vars:", f"            site: {g}",
                  f"            ntp_servers: [10.{r}.{s}.1, 10.{r}.{s}.2]", "          hosts:"]
        for j, h in enumerate(per_site[g]):
            n = int(h[3:])
            lines.append(f"            {h}: {{ansible_host: 10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}, "
                         f"platform: {platforms[n % len(platforms)]}, serial: SN{n:08d}}}")
with open(os.path.join(out, "inventory.yml"), "w") as f:
    f.write("\n".join(lines) + "\n")

kinds = [
    "command: show version",
    "config:\n        template: ntp.j2\n        save: when_changed",
    "assert:\n        that:\n          - \"'IOS' in version.stdout\"",
    "debug:\n        msg: \"{{ inventory_hostname }} in {{ site }}\"",
    "set_fact:\n        checked: true",
]
play = ["- name: Large play", "  hosts: all", "  tasks:"]
for t in range(tasks):
    play.append(f"    - name: Task {t}")
    play.append(f"      {kinds[t % len(kinds)]}")
    if t == 0:
        play.append("      register: version")
    play.append(f"      tags: [t{t % 7}]")
with open(os.path.join(out, "site.yml"), "w") as f:
    f.write("\n".join(play) + "\n")
with open(os.path.join(out, "templates", "ntp.j2"), "w") as f:
    f.write("{% for s in ntp_servers %}\nntp server {{ s }}\n{% endfor %}\n")
print(f"wrote {hosts} hosts in {len(site_groups) + regions} groups and {tasks} tasks to {out}")
