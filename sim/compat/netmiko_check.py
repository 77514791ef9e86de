"""Realism check: drive netorch-sim devices with the real Netmiko (and Scrapli) drivers.

Usage: python netmiko_check.py LAB_INVENTORY_YAML
Runs, per device of the inventory written by `netorch-sim --inventory-out`: connect, enable,
show version, a config push, save, show running-config; prints one line per device and
exits non-zero on any failure. Not part of the CI tests (needs netmiko from pip).
"""
import sys
import time

import yaml
from netmiko import ConnectHandler

NETMIKO_TYPES = {
    "cisco_ios": "cisco_ios",
    "arista_eos": "arista_eos",
    "juniper_junos": "juniper_junos",
    "cisco_nxos": "cisco_nxos",
    "cisco_iosxr": "cisco_xr",
}
CONFIG = {
    "cisco_ios": ["interface Loopback42", "description netmiko was here"],
    "arista_eos": ["interface Loopback42", "description netmiko was here"],
    "cisco_nxos": ["interface loopback42", "description netmiko was here"],
    "cisco_iosxr": ["interface Loopback42", "description netmiko was here"],
    "juniper_junos": ['set interfaces lo0 description "netmiko was here"'],
}


def main(path):
    inv = yaml.safe_load(open(path))
    v = inv["all"]["vars"]
    failures = 0
    for platform, group in inv["all"]["children"].items():
        for name, h in group["hosts"].items():
            start = time.time()
            try:
                conn = ConnectHandler(
                    device_type=NETMIKO_TYPES[platform],
                    host=h["host"],
                    port=h["port"],
                    username=v["user"],
                    password=v["password"],
                    secret=v["enable_secret"],
                    fast_cli=False,
                )
                conn.enable()
                ver = conn.send_command("show version")
                assert ver.strip(), "empty show version"
                commit_based = platform in ("juniper_junos", "cisco_iosxr")
                out = conn.send_config_set(CONFIG[platform], exit_config_mode=not commit_based)
                if commit_based:
                    conn.commit()
                    conn.exit_config_mode()
                else:
                    conn.save_config()
                show = "show configuration" if platform == "juniper_junos" else "show running-config"
                run = conn.send_command(show)
                assert "netmiko was here" in run, f"config not applied:\n{out}\n{run[-800:]}"
                conn.disconnect()
                print(f"OK   {name:12} {platform:14} {time.time() - start:.2f}s")
            except Exception as e:  # noqa: BLE001 - report every device
                failures += 1
                print(f"FAIL {name:12} {platform:14} {type(e).__name__}: {e}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
