#!/usr/bin/env python3
"""Generate a large, realistic Cisco IOS running config and an intended config derived from it.

    gen-config.py [--lines 10000] [--seed 7] [--change-rate 0.02] --out DIR

Writes DIR/running.cfg (as `show running-config` prints it: `!` between blocks, one space of
indentation, `end`) and DIR/intended.cfg (what a template would render: the same config with a
controlled set of changes, fewer `!`). Deterministic for a given --lines/--seed/--change-rate.

The running config has, in proportion to --lines: hundreds of interfaces (descriptions,
addresses, ACL bindings, access and trunk ports), VLANs with names, a few large named
extended ACLs (some with sequence numbers, some without), prefix-lists, route-maps, OSPF, BGP
with many neighbors and two address families, static routes, SNMP/NTP/logging, a banner and
line vty. The intended config changes about --change-rate of the lines: interface
descriptions and addresses changed, ports shut and unshut, interfaces' config removed and new
ones configured, VLANs added, removed and renamed, ACL entries reordered, added and removed,
a prefix-list and a route-map removed and others added, BGP neighbors removed and added,
static routes removed and added, NTP/logging servers swapped, the banner changed.
Prints one line to stderr: the line counts of both files and the changes applied.
"""
import argparse
import random
import sys
from pathlib import Path


def ip(a, b, c, d):
    return f"{a}.{b}.{c}.{d}"


class Model:
    """The config as data, so the intended config is a set of edits, not text surgery."""

    def __init__(self, rng, lines):
        self.rng = rng
        lines = int(lines * 1.03)  # what the fixed parts and rounding lose
        r = rng
        # Budget: an interface is ~7 lines, a VLAN 2, an ACL entry 1, a BGP neighbor ~5.
        n_if = max(8, int(lines * 0.45 / 7))
        n_vlan = max(4, int(lines * 0.06 / 2))
        n_acl_entries = max(20, int(lines * 0.14))
        n_pl = max(10, int(lines * 0.06))
        n_nbr = max(4, int(lines * 0.10 / 6))
        n_static = max(5, int(lines * 0.05))
        n_rm = max(2, int(lines * 0.04 / 8))

        self.hostname = "core-ams-1"
        self.vlans = {}
        for i in range(n_vlan):
            vid = 100 + i * 3
            self.vlans[vid] = f"{r.choice(['USERS', 'VOICE', 'PRINTERS', 'CAMERAS', 'MGMT', 'SERVERS', 'WIFI', 'GUEST', 'LAB', 'BMS'])}-{vid}"
        vids = sorted(self.vlans)

        self.interfaces = {}  # name -> list of lines (without the leading space)
        self.if_order = []
        slots = (n_if + 47) // 48
        count = 0
        for slot in range(1, slots + 1):
            for port in range(1, 49):
                if count >= n_if:
                    break
                count += 1
                name = f"GigabitEthernet{slot}/0/{port}"
                kind = r.random()
                body = []
                if kind < 0.55:
                    vid = r.choice(vids)
                    body += [f"description {r.choice(['desk', 'ap', 'printer', 'phone', 'cam'])}-{slot}{port:02d} {self.vlans[vid].lower()}",
                             f"switchport access vlan {vid}", "switchport mode access",
                             "spanning-tree portfast"]
                    if r.random() < 0.5:
                        body.append("spanning-tree bpduguard enable")
                elif kind < 0.75:
                    tv = sorted(r.sample(vids, min(4, len(vids))))
                    body += [f"description uplink to dist-{slot}-{port} Te{port}",
                             "switchport trunk native vlan 999",
                             f"switchport trunk allowed vlan {','.join(map(str, tv))}",
                             "switchport mode trunk"]
                else:
                    a, b = 10 + slot, port
                    body += [f"description p2p {r.choice(['wan', 'fw', 'lb', 'dc'])}-{slot}-{port}",
                             "no switchport",
                             f"ip address {ip(10, a, b, 1)} 255.255.255.252",
                             f"ip access-group EDGE-IN-{slot % 3} in"]
                    if r.random() < 0.4:
                        body.append("ip ospf network point-to-point")
                if r.random() < 0.12:
                    body.append("shutdown")
                self.interfaces[name] = body
                self.if_order.append(name)
        for v in vids[: max(2, len(vids) // 3)]:
            name = f"Vlan{v}"
            self.interfaces[name] = [f"description SVI {self.vlans[v]}",
                                     f"ip address {ip(172, 16 + v // 256, v % 256, 1)} 255.255.255.0",
                                     "ip helper-address 10.0.0.50", "no ip redirects"]
            self.if_order.append(name)

        # ACLs: a few large named extended ones, alternately with sequence numbers and without.
        self.acls = {}
        n_acls = 4
        per = n_acl_entries // n_acls
        for a in range(n_acls):
            name = f"EDGE-IN-{a}" if a < 3 else "MGMT-ACCESS"
            entries = []
            for e in range(per):
                proto = r.choice(["tcp", "udp", "ip"])
                src = f"{ip(10, r.randrange(256), r.randrange(256), 0)} 0.0.0.255"
                dst = f"host {ip(192, 168, r.randrange(256), r.randrange(1, 255))}"
                port = f" eq {r.choice([22, 53, 80, 123, 161, 443, 514, 8080])}" if proto != "ip" else ""
                entries.append(f"{r.choice(['permit', 'permit', 'deny'])} {proto} {src} {dst}{port}")
            entries.append("deny ip any any log")
            # (printed with sequence numbers?, [(sequence number, entry)])
            self.acls[name] = (a % 2 == 0, [((i + 1) * 10, e) for i, e in enumerate(entries)])

        self.prefix_lists = {}
        pl_names = ["PL-CUSTOMERS", "PL-TRANSIT-IN", "PL-BOGONS", "PL-LOOPBACKS", "PL-DEFAULT"]
        for i in range(n_pl):
            name = pl_names[i % len(pl_names)]
            self.prefix_lists.setdefault(name, []).append(
                f"permit {ip(r.randrange(1, 223), r.randrange(256), r.randrange(256), 0)}/24 le 32")

        self.route_maps = {}
        for i in range(n_rm):
            name = f"RM-PEER-{i}-IN"
            self.route_maps[name] = [
                (10, "permit", [f"match ip address prefix-list {pl_names[i % len(pl_names)]}",
                                f"set local-preference {100 + i * 10}", f"set community 65000:{i}"]),
                (20, "deny", ["match ip address prefix-list PL-BOGONS"]),
                (30, "permit", [f"set metric {i * 5}"]),
            ]

        self.neighbors = {}
        for i in range(n_nbr):
            addr = ip(10, 250, i // 250, i % 250 + 1)
            self.neighbors[addr] = (64512 + i, f"peer-{i} {r.choice(['transit', 'customer', 'ix'])}",
                                    f"RM-PEER-{i % n_rm}-IN")
        self.statics = [f"ip route {ip(10, 100 + i // 250, i % 250, 0)} 255.255.255.0 {ip(10, 11, r.randrange(1, 48), 2)}"
                        for i in range(n_static)]
        self.ntp = ["10.0.0.1", "10.0.0.2"]
        self.logging = ["10.0.0.30", "10.0.0.31"]
        self.banner = ["Authorized access only.", "This device is monitored.", "Contact noc@example.net."]

    def render(self, bangs=True):
        o = []
        bang = (lambda: o.append("!")) if bangs else (lambda: None)
        if bangs:
            o += ["Building configuration...", "", "Current configuration : 0 bytes", "!",
                  "! Last configuration change at 09:12:44 UTC Mon Nov 30 2026 by netops", "!",
                  "version 17.9"]
        o += ["service timestamps debug datetime msec", "service timestamps log datetime msec",
              "service password-encryption", "no service pad"]
        bang()
        o.append(f"hostname {self.hostname}")
        bang()
        o += ["boot-start-marker", "boot system flash:cat9k_iosxe.17.09.04a.SPA.bin", "boot-end-marker"]
        bang()
        o += ["vrf definition Mgmt-vrf", " address-family ipv4", " exit-address-family"]
        bang()
        o += ["logging buffered 64000 informational", "no logging console",
              "enable secret 9 $9$fakefakefakefake$Q2x5ZmFrZWhhc2hub3RyZWFsbm90cmVhbG5vdA"]
        bang()
        o += ["aaa new-model", "aaa authentication login default local", "aaa authorization exec default local"]
        bang()
        o += ["clock timezone UTC 0 0", "ip domain name example.net", "ip name-server 10.0.0.53 10.0.0.54",
              "no ip http server", "no ip http secure-server"]
        bang()
        o += ["username netops privilege 15 secret 9 $9$fakefakefake$bm90YXJlYWxoYXNoYXRhbGxub3RyZWFs"]
        bang()
        o += ["spanning-tree mode rapid-pvst", "spanning-tree extend system-id"]
        bang()
        for vid in sorted(self.vlans):
            o += [f"vlan {vid}", f" name {self.vlans[vid]}"]
            bang()
        for name in self.if_order:
            o.append(f"interface {name}")
            o += [f" {l}" for l in self.interfaces[name]]
            bang()
        o += ["router ospf 1", " router-id 10.255.0.1", " passive-interface default",
              " no passive-interface GigabitEthernet1/0/1", " network 10.0.0.0 0.255.255.255 area 0"]
        bang()
        o += ["router bgp 65000", " bgp router-id 10.255.0.1", " bgp log-neighbor-changes"]
        for addr, (asn, desc, _) in self.neighbors.items():
            o += [f" neighbor {addr} remote-as {asn}", f" neighbor {addr} description {desc}"]
        o.append(" !")
        o.append(" address-family ipv4")
        o.append("  network 10.0.0.0 mask 255.0.0.0")
        for addr, (_, _, rm) in self.neighbors.items():
            o += [f"  neighbor {addr} activate", f"  neighbor {addr} route-map {rm} in",
                  f"  neighbor {addr} send-community both"]
        o.append(" exit-address-family")
        o.append(" !")
        o.append(" address-family ipv6")
        for addr in list(self.neighbors)[: max(1, len(self.neighbors) // 4)]:
            o.append(f"  neighbor {addr} activate")
        o.append(" exit-address-family")
        bang()
        o += ["ip forward-protocol nd"]
        o += self.statics
        bang()
        for name, (seq, entries) in self.acls.items():
            o.append(f"ip access-list extended {name}")
            for n, e in entries:
                o.append(f" {n} {e}" if seq else f" {e}")
        bang()
        for name, entries in self.prefix_lists.items():
            for i, e in enumerate(entries):
                o.append(f"ip prefix-list {name} seq {(i + 1) * 5} {e}")
        bang()
        for name, clauses in self.route_maps.items():
            for seq, action, body in clauses:
                o.append(f"route-map {name} {action} {seq}")
                o += [f" {l}" for l in body]
                bang()
        o += [f"logging host {h}" for h in self.logging]
        o += ["snmp-server group NMS-RO v3 priv", "snmp-server location AMS DC1 row 4",
              "snmp-server contact noc@example.net"]
        bang()
        o.append("banner motd ^C")
        o += self.banner
        o.append("^C")
        bang()
        o += ["line con 0", " exec-timeout 15 0", " stopbits 1", "line vty 0 4",
              " access-class MGMT-ACCESS in", " exec-timeout 15 0", " transport input ssh",
              "line vty 5 15", " transport input none"]
        bang()
        o += [f"ntp server {h}" for h in self.ntp]
        bang()
        o.append("end")
        return "\n".join(o) + "\n"


def derive(m, rate):
    """Apply changes in place; about rate * lines lines differ afterwards. Returns a summary."""
    r = m.rng
    total = len(m.render().splitlines())
    budget = max(10, int(total * rate))  # changed lines wanted; the section changes below
    # are sized from the config's own counts, the per-line edits at the end take half of it
    done = {}

    def bump(k, n=1):
        done[k] = done.get(k, 0) + n

    phys = [n for n in m.if_order if n.startswith("Gi")]
    # Whole-section changes first (sized from the config's own counts), then per-line edits.
    # Interfaces whose config is removed (the interface stays: `default interface` shape).
    for name in r.sample(phys, max(1, len(phys) // 100)):
        bump("interfaces emptied"); m.interfaces[name] = []
    # New SVIs.
    for k in range(max(1, len(m.vlans) // 20)):
        name = f"Vlan{3000 + k}"
        m.interfaces[name] = [f"description SVI new-{k}", f"ip address 172.31.{k}.1 255.255.255.0", "no ip redirects"]
        m.if_order.append(name); bump("interfaces added")
    # VLANs removed, added, renamed.
    vids = sorted(m.vlans)
    for vid in r.sample(vids, max(1, len(vids) // 30)):
        if not any(f"vlan {vid}" in l for b in m.interfaces.values() for l in b):
            del m.vlans[vid]; bump("vlans removed")
    for k in range(max(1, len(vids) // 30)):
        m.vlans[2000 + k] = f"NEW-{2000 + k}"; bump("vlans added")
    for vid in r.sample(sorted(m.vlans), max(1, len(vids) // 30)):
        m.vlans[vid] = m.vlans[vid] + "-OLD"; bump("vlans renamed")
    # ACLs: reorder a block in one ACL with sequence numbers and one without; add and remove entries.
    # With sequence numbers the numbers stay with their places (a reorder moves entries between
    # numbers, a removal leaves a gap, an insertion takes a number in between), as on a device.
    for name, (seq, entries) in m.acls.items():
        i = r.randrange(0, max(1, len(entries) - 6))
        (a, ea), (b, eb), (c, ec) = entries[i], entries[i + 1], entries[i + 3]
        entries[i], entries[i + 1], entries[i + 3] = (a, ec), (b, ea), (c, eb)
        bump("acl entries reordered", 3)
        del entries[r.randrange(len(entries) - 1)]; bump("acl entries removed")
        j = r.randrange(1, len(entries) - 1)
        entries.insert(j, (entries[j - 1][0] + 5, f"permit tcp any host 192.0.2.{r.randrange(1, 255)} eq 443"))
        bump("acl entries added")
    # Prefix-lists and route-maps: one removed, one added, one entry changed.
    gone = next(iter(m.prefix_lists))
    m.prefix_lists.pop(gone); bump("prefix-lists removed")
    m.prefix_lists["PL-NEW-CUSTOMER"] = ["permit 198.51.100.0/24", "permit 203.0.113.0/24 le 26"]
    bump("prefix-lists added")
    rm_gone = next(iter(m.route_maps))
    m.route_maps.pop(rm_gone); bump("route-maps removed")
    m.route_maps["RM-NEW-IN"] = [(10, "permit", ["match ip address prefix-list PL-NEW-CUSTOMER", "set local-preference 300"])]
    bump("route-maps added")
    # BGP neighbors removed (not the ones using the removed route-map: those move) and added.
    for addr, (asn, desc, rm) in list(m.neighbors.items()):
        if rm == rm_gone:
            m.neighbors[addr] = (asn, desc, "RM-NEW-IN")
    for addr in r.sample(list(m.neighbors), max(1, len(m.neighbors) // 25)):
        del m.neighbors[addr]; bump("bgp neighbors removed")
    for k in range(max(1, len(m.neighbors) // 25)):
        m.neighbors[f"10.254.0.{k + 1}"] = (65100 + k, f"new-peer-{k}", "RM-NEW-IN")
        bump("bgp neighbors added")
    # Static routes, NTP, logging, banner.
    for _ in range(max(1, len(m.statics) // 50)):
        m.statics.pop(r.randrange(len(m.statics))); bump("static routes removed")
        m.statics.append(f"ip route 192.0.2.{r.randrange(0, 255, 8)} 255.255.255.248 10.11.1.2"); bump("static routes added")
    m.ntp[1] = "10.0.0.3"; m.logging.append("10.0.0.32"); bump("ntp/logging servers changed", 2)
    m.banner[2] = "Contact noc@example.net or +31 20 555 0100."; bump("banner changed")
    # Per-line interface edits: about half of the changed-line budget.
    edits = max(5, budget // 2)
    while edits > 0:
        name = r.choice(phys)
        body = m.interfaces[name]
        if not body:
            continue
        what = r.random()
        if what < 0.5:
            body[0] = body[0] + " (moved)" if body[0].startswith("description") else "description added"
            bump("descriptions changed"); edits -= 1
        elif what < 0.7 and any(l.startswith("ip address") for l in body):
            i = next(i for i, l in enumerate(body) if l.startswith("ip address"))
            a = body[i].split()[2].split(".")
            body[i] = f"ip address {a[0]}.{a[1]}.{a[2]}.5 255.255.255.252"
            bump("addresses changed"); edits -= 1
        elif "shutdown" in body:
            body.remove("shutdown"); bump("ports unshut"); edits -= 1
        else:
            body.append("shutdown"); bump("ports shut"); edits -= 1
    return done


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--change-rate", type=float, default=0.02)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    m = Model(random.Random(args.seed), args.lines)
    running = m.render()
    summary = derive(m, args.change_rate)
    intended = m.render(bangs=False)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "running.cfg").write_text(running)
    (args.out / "intended.cfg").write_text(intended)
    print(f"gen-config: running {len(running.splitlines())} lines, intended {len(intended.splitlines())} lines; "
          + ", ".join(f"{k} {v}" for k, v in summary.items()), file=sys.stderr)


if __name__ == "__main__":
    main()
