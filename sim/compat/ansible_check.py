"""Realism check: drive netorch-sim devices with Ansible's network_cli connection.

Usage: python ansible_check.py LAB_INVENTORY_YAML [paramiko|libssh]
Writes an Ansible inventory for the sim's devices, then runs a playbook with
ansible.netcommon.cli_command (show version) and cli_config (a config push, committed on
Junos/IOS-XR), and checks the change with a show. Needs the `ansible` package (bundled
collections). Not part of CI.
"""
import os
import subprocess
import sys
import tempfile

import yaml

OS = {
    "cisco_ios": "cisco.ios.ios",
    "arista_eos": "arista.eos.eos",
    "juniper_junos": "junipernetworks.junos.junos",
    "cisco_nxos": "cisco.nxos.nxos",
    "cisco_iosxr": "cisco.iosxr.iosxr",
}
CONFIG = {
    "cisco_ios": "interface Loopback44\n description ansible was here",
    "arista_eos": "interface Loopback44\n description ansible was here",
    "cisco_nxos": "interface loopback44\n description ansible was here",
    "cisco_iosxr": "interface Loopback44\n description ansible was here",
    "juniper_junos": 'set interfaces lo0 description "ansible was here"',
}
PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - ansible.netcommon.cli_command: {command: show version}
      register: ver
    - ansible.builtin.assert: {that: "ver.stdout | length > 0"}
    - ansible.netcommon.cli_config:
        config: "{{ push }}"
    - ansible.netcommon.cli_command: {command: "{{ show_config }}"}
      register: conf
    - ansible.builtin.assert: {that: "'ansible was here' in conf.stdout"}

- hosts: all
  gather_facts: false
  tasks:
    - name: ios_config with save and backup (the benchmark's idiom)
      cisco.ios.ios_config:
        parents: interface Loopback45
        lines: [description ios_config was here]
        save_when: modified
        backup: true
      when: ansible_network_os == 'cisco.ios.ios'
    - cisco.ios.ios_command: {commands: [show startup-config]}
      register: startup
      when: ansible_network_os == 'cisco.ios.ios'
    - ansible.builtin.assert: {that: "'ios_config was here' in startup.stdout[0]"}
      when: ansible_network_os == 'cisco.ios.ios'
    - name: eos_config with save
      arista.eos.eos_config:
        parents: interface Loopback45
        lines: [description eos_config was here]
        save_when: modified
      when: ansible_network_os == 'arista.eos.eos'
    - junipernetworks.junos.junos_command: {commands: [show version]}
      when: ansible_network_os == 'junipernetworks.junos.junos'
"""


def main(path, ssh_type):
    lab = yaml.safe_load(open(path))
    v = lab["all"]["vars"]
    hosts = {}
    for platform, group in lab["all"]["children"].items():
        for name, h in group["hosts"].items():
            hosts[name] = {
                "ansible_host": h["host"],
                "ansible_port": h["port"],
                "ansible_network_os": OS[platform],
                "push": CONFIG[platform],
                "show_config": "show configuration"
                if platform == "juniper_junos"
                else "show running-config",
            }
            if platform in ("cisco_ios", "arista_eos"):
                hosts[name].update(
                    ansible_become=True,
                    ansible_become_method="enable",
                    ansible_become_password=v["enable_secret"],
                )
    inv = {
        "all": {
            "vars": {
                "ansible_connection": "ansible.netcommon.network_cli",
                "ansible_user": v["user"],
                "ansible_password": v["password"],
                "ansible_network_cli_ssh_type": ssh_type,
            },
            "hosts": hosts,
        }
    }
    d = tempfile.mkdtemp()
    with open(os.path.join(d, "inv.yaml"), "w") as f:
        yaml.safe_dump(inv, f)
    with open(os.path.join(d, "play.yaml"), "w") as f:
        f.write(PLAYBOOK)
    env = dict(os.environ, ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_PERSISTENT_COMMAND_TIMEOUT="60")
    bindir = os.path.dirname(sys.executable)
    r = subprocess.run(
        [os.path.join(bindir, "ansible-playbook"), "-i", "inv.yaml", "play.yaml"],
        cwd=d,
        env=env,
    )
    return r.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "paramiko"))
