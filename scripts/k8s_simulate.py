"""Run contrib/kubernetes' Indexed Job locally, as Kubernetes would, against netorch-sim.

Each shard of job-run.yaml runs as a process with the container's args and env (secrets
from secret.example.yaml, $(VAR) expanded as the kubelet does, JOB_COMPLETION_INDEX set),
the ConfigMap's files where the pod mounts them, and netorch-sim serving the ConfigMap's
inventory (its overlay inventory layered on with a second -i). Then job-merge.yaml joins
the reports; its result must equal an unsharded run of the same playbook on the same
devices: per-host results, recap and exit code. A shard retried (as after a pod failure)
must run the same hosts again. Called by scripts/k8s-check.
"""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "contrib" / "kubernetes"


def load(name):
    return [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]


def container(job):
    spec = job["spec"]
    if "jobTemplate" in spec:  # a CronJob
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]["containers"][0]


def expand(value, env):
    # The kubelet's $(VAR) expansion; $$ escapes, unknown names stay as written.
    return re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), value)


class Sim:
    def __init__(self, sim_bin, inventory, workdir, secrets):
        self.overlay = workdir / "overlay.yml"
        self.proc = subprocess.Popen(
            [sim_bin, "--inventory", str(inventory), "--bind", "127.0.0.1", "--base-port", "0",
             "--user", secrets.get("NETORCH_USER", "netops"),
             "--password", secrets["NETORCH_PASSWORD"],
             "--enable-secret", secrets["NETORCH_ENABLE_SECRET"],
             "--inventory-out", str(self.overlay),
             "--known-hosts-out", str(workdir / "known_hosts")],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("READY"):
            self.stop()
            sys.exit(f"k8s-check: netorch-sim did not start: {line!r}")

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def pod_args(job, env, mounts, overlay):
    args = [expand(a, env) for a in container(job)["args"]]
    out = []
    for a in args:
        for inside, outside in mounts.items():
            if a == inside or a.startswith(inside + "/"):
                a = str(outside) + a[len(inside):]
        out.append(a)
    if overlay is not None:
        out += ["-i", str(overlay)]
    return out


def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in ("duration_ms", "elapsed_ms")}
    if isinstance(v, list):
        return [strip(x) for x in v]
    if isinstance(v, str):
        return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", v)
    return v


def results(doc):
    out = {}
    for play in doc["plays"]:
        for task in play["tasks"]:
            for h in task["hosts"]:
                out[(play["name"], task["location"], h["host"])] = strip(h)
    return out


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True).stdout


def simulate_backups(netorch, tmp, mounts, base_env, sim, hosts):
    """Two nights of cronjob-backup.yaml: each night its pods run at once, each into a fresh
    store (an emptyDir), pushing to one bare repository. Returns the problems found."""
    cron, = load("cronjob-backup.yaml")
    git_secret = next(s for s in load("secret.example.yaml")
                      if s["metadata"]["name"] == "netorch-git")
    gitdir = tmp / "etc-netorch-git"
    gitdir.mkdir()
    for name, text in git_secret["stringData"].items():
        (gitdir / name).write_text(text)
    remote = tmp / "configs.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    git(remote, "config", "receive.denyNonFastForwards", "true")
    jspec = cron["spec"]["jobTemplate"]["spec"]
    shards = jspec["completions"]
    c = container(cron)
    problems = []
    for night in (1, 2):
        def pod(index):
            env = dict(base_env)
            env["JOB_COMPLETION_INDEX"] = str(index)
            for e in c.get("env", []):
                if "value" in e:
                    env[e["name"]] = expand(e["value"], env)
            # The Secret's remote is a git server; here a bare repository on disk.
            env["NETORCH_BACKUP_PUSH"] = str(remote)
            work = tmp / f"backup-{night}-{index}"
            work.mkdir()
            pod_mounts = dict(mounts, **{"/etc/netorch-git": gitdir, "/var/lib/netorch": work})
            argv = [netorch] + pod_args(cron, env, pod_mounts, sim.overlay)
            return subprocess.run(argv, env=env, cwd=work, capture_output=True, text=True)
        with concurrent.futures.ThreadPoolExecutor(max_workers=jspec.get("parallelism", shards)) as ex:
            pods = list(ex.map(pod, range(shards)))
        for i, p in enumerate(pods):
            if p.returncode != 0:
                problems.append(f"night {night}, shard {i + 1}/{shards}: exit {p.returncode}: "
                                f"{p.stderr.strip()[-600:]}")
        if problems:
            return problems
        log = git(remote, "log", "--format=%H %P%n%B%x00", "main")
        commits = [c for c in log.split("\0") if c.strip()]
        merges = [c for c in commits if len(c.strip().split("\n")[0].split()) > 2]
        shard_lines = sorted(l.strip() for l in log.splitlines() if l.startswith("Shard: "))
        files = sorted(git(remote, "ls-tree", "--name-only", "-r", "main").split())
        want_files = sorted(f"{h}.cfg" for h in hosts)
        nonempty = sum(1 for i in range(shards) if any(owner_of(h, shards) == i + 1 for h in hosts))
        if merges:
            problems.append(f"night {night}: merge commits in the shared history")
        if files != want_files:
            problems.append(f"night {night}: the store has {files}, expected {want_files}")
        if night == 1 and shard_lines != sorted(
                f"Shard: {k}/{shards}" for k in range(1, shards + 1)
                if any(owner_of(h, shards) == k for h in hosts)):
            problems.append(f"night 1: commits {shard_lines}, expected one per shard with hosts")
        if night == 2 and len(commits) != nonempty:
            problems.append(f"night 2: {len(commits)} commits; an unchanged fleet adds none")
    if not problems:
        print(f"   backup CronJob: {shards} pods twice into fresh stores, one bare remote: "
              f"{len(hosts)} files, one commit per shard, linear, nothing new the second night")
    return problems


def owner_of(host, count):
    """netorch's partition (src/inventory/shard.rs), to know which shards have hosts."""
    def fnv1a(b):
        h = 0xcbf29ce484222325
        for x in b:
            h ^= x
            h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
        return h

    def mix(z):
        m = 0xFFFFFFFFFFFFFFFF
        z = (z + 0x9e3779b97f4a7c15) & m
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & m
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & m
        return z ^ (z >> 31)

    h = fnv1a(host.encode())
    best = None
    for j in range(1, count + 1):
        w = mix(h ^ mix(j))
        if best is None or w > best[0]:
            best = (w, j)
    return best[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--netorch", required=True)
    ap.add_argument("--sim", required=True)
    a = ap.parse_args()
    netorch = str(Path(a.netorch).resolve())
    sim_bin = str(Path(a.sim).resolve())

    run_job, = load("job-run.yaml")
    merge_job, = load("job-merge.yaml")
    configmap, = load("configmap.yaml")
    secrets = {}
    for s in load("secret.example.yaml"):
        if s["metadata"]["name"] == "netorch-credentials":
            secrets.update(s["stringData"])
    spec = run_job["spec"]
    assert spec["completionMode"] == "Indexed", "job-run.yaml must be an Indexed Job"
    shards = spec["completions"]
    args = container(run_job)["args"]
    assert args[args.index("--shards") + 1] == str(shards), \
        "--shards in job-run.yaml must equal its completions"

    with tempfile.TemporaryDirectory(prefix="netorch-k8s-") as tmp:
        tmp = Path(tmp)
        content = tmp / "etc-netorch"
        content.mkdir()
        for name, text in configmap["data"].items():
            (content / name).write_text(text)
        reports = tmp / "reports"
        reports.mkdir()
        mounts = {"/etc/netorch": content, "/reports": reports}
        base_env = {k: v for k, v in os.environ.items() if k != "JOB_COMPLETION_INDEX"}
        base_env.update(secrets)

        (tmp / "whole").mkdir()
        (tmp / "sharded").mkdir()
        whole_sim = Sim(sim_bin, content / "hosts.yml", tmp / "whole", secrets)
        sharded_sim = Sim(sim_bin, content / "hosts.yml", tmp / "sharded", secrets)
        try:
            def pod(index, job, sim):
                env = dict(base_env)
                env["JOB_COMPLETION_INDEX"] = str(index)
                for e in container(job).get("env", []):
                    if "value" in e:
                        env[e["name"]] = expand(e["value"], env)
                work = tmp / f"pod-{index}"
                work.mkdir(exist_ok=True)
                argv = [netorch] + pod_args(job, env, mounts, sim.overlay if sim else None)
                return subprocess.run(argv, env=env, cwd=work, capture_output=True, text=True)

            run_id = next(e["value"] for e in container(run_job)["env"] if e["name"] == "RUN_ID")
            (reports / run_id).mkdir()
            parallel = spec.get("parallelism", shards)
            with concurrent.futures.ThreadPoolExecutor(max_workers=parallel) as ex:
                pods = list(ex.map(lambda i: pod(i, run_job, sharded_sim), range(shards)))
            owners = {}
            for i, p in enumerate(pods):
                print(f"   shard {i + 1}/{shards} (JOB_COMPLETION_INDEX={i}): exit {p.returncode}")
                if p.returncode not in (0, 2, 3):
                    sys.exit(f"k8s-check: shard {i} failed to run:\n{p.stdout}\n{p.stderr}")
                doc = json.loads((reports / run_id / f"shard-{i}.json").read_text())
                for h in doc["stats"]:
                    if h in owners:
                        sys.exit(f"k8s-check: host {h} in shards {owners[h]} and {i}")
                    owners[h] = i
            merged = pod(0, merge_job, None)
            print(f"   merge job: exit {merged.returncode}: {merged.stdout.strip()}")

            # The reference: the same playbook and inventory, unsharded, with --json.
            unsharded = [a for a in pod_args(run_job, dict(base_env, JOB_COMPLETION_INDEX="0",
                                                          RUN_ID=run_id), mounts, whole_sim.overlay)]
            i = unsharded.index("--shards")
            del unsharded[i:i + 2]
            i = unsharded.index("--json-file")
            del unsharded[i:i + 2]
            whole = subprocess.run([netorch] + unsharded + ["--json"], env=base_env,
                                   cwd=tmp / "whole", capture_output=True, text=True)
            whole_doc = json.loads(whole.stdout)
            merged_doc = json.loads((reports / run_id / "merged.json").read_text())
            problems = []
            if merged.returncode != whole.returncode:
                problems.append(f"exit code: merged {merged.returncode}, unsharded {whole.returncode}")
            if results(merged_doc) != results(whole_doc):
                problems.append("per-host results differ")
            if strip(merged_doc["stats"]) != strip(whole_doc["stats"]):
                problems.append("recaps differ")
            moved = [h for h, i in owners.items() if owner_of(h, shards) != i + 1]
            if moved:
                problems.append(f"hosts not in the shard the partition gives: {moved}")
            if sorted(owners) != sorted(whole_doc["stats"]):
                problems.append(f"shards ran {sorted(owners)}, the inventory has {sorted(whole_doc['stats'])}")

            # A pod that failed is retried with its index: the same hosts again, and the
            # merge still adds up.
            retried = pod(1, run_job, sharded_sim)
            doc = json.loads((reports / run_id / "shard-1.json").read_text())
            if sorted(doc["stats"]) != sorted(h for h, s in owners.items() if s == 1):
                problems.append("a retried shard ran other hosts")
            again = pod(0, merge_job, None)
            if again.returncode != merged.returncode or retried.returncode not in (0, 2, 3):
                problems.append(f"after a retry: merge exit {again.returncode}")
            if problems:
                sys.exit("k8s-check: the sharded run does not equal the unsharded one:\n  "
                         + "\n  ".join(problems))
            backup_problems = simulate_backups(netorch, tmp, mounts, base_env, sharded_sim,
                                               sorted(owners))
            if backup_problems:
                sys.exit("k8s-check: the sharded backup CronJob:\n  " + "\n  ".join(backup_problems))
            print(f"   {len(owners)} hosts in {shards} shards: merged report equals the unsharded "
                  f"run (exit {whole.returncode}); a retried shard ran the same hosts")
        finally:
            whole_sim.stop()
            sharded_sim.stop()


if __name__ == "__main__":
    main()
