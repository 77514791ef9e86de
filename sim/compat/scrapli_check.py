"""Realism check: drive netorch-sim devices with Scrapli (system ssh transport).

Usage: python scrapli_check.py LAB_INVENTORY_YAML
Per device: open (scrapli's on_open: privilege escalation, paging off), show version, a
config push (commit where the platform needs it), show the config back. Not part of CI.
"""
import sys
import time

import yaml
from scrapli import Scrapli

PLATFORMS = {
    "cisco_ios": "cisco_iosxe",
    "arista_eos": "arista_eos",
    "juniper_junos": "juniper_junos",
    "cisco_nxos": "cisco_nxos",
    "cisco_iosxr": "cisco_iosxr",
}
CONFIG = {
    "cisco_ios": ["interface Loopback43", "description scrapli was here"],
    "arista_eos": ["interface Loopback43", "description scrapli was here"],
    "cisco_nxos": ["interface loopback43", "description scrapli was here"],
    "cisco_iosxr": ["interface Loopback43", "description scrapli was here", "commit"],
    "juniper_junos": ['set interfaces lo0 description "scrapli was here"', "commit"],
}


def main(path, transport):
    inv = yaml.safe_load(open(path))
    v = inv["all"]["vars"]
    failures = 0
    for platform, group in inv["all"]["children"].items():
        for name, h in group["hosts"].items():
            start = time.time()
            try:
                with Scrapli(
                    host=h["host"],
                    port=h["port"],
                    auth_username=v["user"],
                    auth_password=v["password"],
                    auth_secondary=v["enable_secret"],
                    auth_strict_key=False,
                    platform=PLATFORMS[platform],
                    transport=transport,
                    timeout_ops=20,
                ) as conn:
                    r = conn.send_command("show version")
                    assert not r.failed and r.result.strip(), r.result
                    r = conn.send_configs(CONFIG[platform])
                    assert not r.failed, r.result
                    show = "show configuration" if platform == "juniper_junos" else "show running-config"
                    r = conn.send_command(show)
                    assert "scrapli was here" in r.result, r.result[-800:]
                print(f"OK   {name:12} {platform:14} {time.time() - start:.2f}s")
            except Exception as e:  # noqa: BLE001 - report every device
                failures += 1
                print(f"FAIL {name:12} {platform:14} {type(e).__name__}: {e}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "system"))
