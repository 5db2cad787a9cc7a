"""Checks the deployment assets without a container engine or a cluster (ctest deploy.manifests):

- deploy/kubernetes/*.yaml: every document against Kubernetes' own API schema (PyPI's
  kubernetes-validate, strict: unknown fields are errors), then what sluice needs of them: probes
  on /healthz and /readyz at the admin port, a non-root user that is the image's, a termination
  grace period longer than the daemon's own 60 s exit bound, the token from a Secret, the state
  volume at state_dir, scrape annotations on the admin port, and every job file of the jobs
  ConfigMap valid (`sluice validate`, together: no shared group or name);
- deploy/compose/compose.yaml: the services it depends on exist, every file it mounts exists, the
  admin port published is the one sluice.yaml listens on, Prometheus scrapes that service and
  port (`promtool check config` with the alert rules), every topic a job uses is created by the
  `topics` service, and the job files validate.

usage: check_manifests.py SLUICE   (run with the virtualenv of scripts/install-deps.sh)
Prints one line per check and exits 1 if any failed.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import kubernetes_validate
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
K8S_VERSION = "1.30.0"
failures = []


def check(ok, what):
    print(f"{'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        failures.append(what)


def sluice_validate(sluice, files, what):
    r = subprocess.run([sluice, "validate", *files], capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, f"{what}: sluice validate {len(files)} job files"
          + ("" if r.returncode == 0 else f": {r.stdout}{r.stderr}"))


def image_uid():
    with open(os.path.join(ROOT, "Dockerfile")) as f:
        m = re.search(r"useradd .*--uid (\d+)", f.read())
    return int(m.group(1))


def port_of(listen):
    return int(listen.rsplit(":", 1)[1])


def job_topics(text):
    job = yaml.safe_load(text)
    topics = {job["source"]["topic"], job["sink"]["topic"]}
    if job.get("dead_letter"):
        topics.add(job["dead_letter"]["topic"])
    return topics


def check_kubernetes(sluice, tmp):
    docs = []
    for path in sorted(glob.glob(os.path.join(ROOT, "deploy", "kubernetes", "*.yaml"))):
        with open(path) as f:
            docs += [(path, d) for d in yaml.safe_load_all(f) if d]
    check(bool(docs), "deploy/kubernetes has manifests")
    for path, d in docs:
        name = f"{os.path.basename(path)}: {d.get('kind')}/{d.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(d, K8S_VERSION, strict=True)
            check(True, f"{name} matches the Kubernetes {K8S_VERSION} schema (strict)")
        except kubernetes_validate.ValidationError as e:
            check(False, f"{name}: {e.message} at {'/'.join(map(str, e.path))}")
    by_kind = {}
    for _, d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    sts = by_kind["StatefulSet"]["sluice"]
    pod = sts["spec"]["template"]["spec"]
    c = pod["containers"][0]
    config = yaml.safe_load(by_kind["ConfigMap"]["sluice-config"]["data"]["sluice.yaml"])
    port = port_of(config["http"]["listen"])
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    check(ports.get("http") == port, f"container port http = the config's listen port {port}")
    check(c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"},
          "liveness probe: GET /healthz on the admin port")
    check(c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"},
          "readiness probe: GET /readyz on the admin port")
    sc = pod["securityContext"]
    check(sc.get("runAsNonRoot") is True and sc.get("runAsUser") == image_uid(),
          f"runs as non-root, as the image's user (uid {image_uid()})")
    csc = c["securityContext"]
    check(csc.get("allowPrivilegeEscalation") is False and csc.get("readOnlyRootFilesystem")
          and csc.get("capabilities", {}).get("drop") == ["ALL"],
          "no privilege escalation, read-only root, no capabilities")
    check(pod["terminationGracePeriodSeconds"] > 60,
          "termination grace period longer than the daemon's 60 s exit bound")
    env = {e["name"]: e for e in c["env"]}
    check("secretKeyRef" in env.get("SLUICE_TOKEN", {}).get("valueFrom", {})
          and config["http"]["token"] == "${SLUICE_TOKEN}",
          "the admin token comes from a Secret through ${SLUICE_TOKEN}")
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    claims = {t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]}
    check(mounts.get("state") == config["state_dir"] and "state" in claims,
          f"a persistent volume at state_dir {config['state_dir']}")
    check(mounts.get("jobs") == config["jobs_dir"], "the jobs ConfigMap at jobs_dir")
    for kind, obj in (("Service", by_kind["Service"]["sluice"]),
                      ("pod template", sts["spec"]["template"])):
        a = obj["metadata"].get("annotations", {})
        check(a.get("prometheus.io/scrape") == "true" and a.get("prometheus.io/port") == str(port)
              and a.get("prometheus.io/path") == "/metrics",
              f"{kind}: Prometheus scrape annotations on port {port}")
    files = []
    for key, text in by_kind["ConfigMap"]["sluice-jobs"]["data"].items():
        p = os.path.join(tmp, "k8s-" + key)
        with open(p, "w") as f:
            f.write(text)
        files.append(p)
    sluice_validate(sluice, files, "jobs ConfigMap")


def check_compose(sluice, tmp):
    base = os.path.join(ROOT, "deploy", "compose")
    with open(os.path.join(base, "compose.yaml")) as f:
        compose = yaml.safe_load(f)
    services = compose["services"]
    for name, s in services.items():
        check("image" in s or "build" in s, f"compose {name}: has an image or a build")
        deps = s.get("depends_on", {})
        check(all(d in services for d in deps), f"compose {name}: depends on existing services")
        for v in s.get("volumes", []):
            src = v.split(":")[0]
            if src.startswith("."):
                check(os.path.exists(os.path.join(base, src)), f"compose {name}: mounts {src}")
            else:
                check(src in compose.get("volumes", {}), f"compose {name}: named volume {src}")
    build = services["sluice"]["build"]
    check(os.path.exists(os.path.join(base, build["context"], build["dockerfile"])),
          "compose sluice: builds the repository's Dockerfile")
    with open(os.path.join(base, "sluice.yaml")) as f:
        config = yaml.safe_load(f)
    port = port_of(config["http"]["listen"])
    check(f"127.0.0.1:{port}:{port}" in services["sluice"]["ports"],
          f"compose sluice: publishes the admin port {port} on the host's loopback")
    check("SLUICE_TOKEN" in services["sluice"]["environment"]
          and config["http"]["token"] == "${SLUICE_TOKEN}",
          "compose sluice: the token from the environment (required beyond loopback)")
    prom_dir = os.path.join(tmp, "prometheus")
    os.makedirs(prom_dir)
    shutil.copy(os.path.join(base, "prometheus.yml"), prom_dir)
    shutil.copy(os.path.join(ROOT, "deploy", "prometheus", "alerts.yml"), prom_dir)
    r = subprocess.run(["promtool", "check", "config", os.path.join(prom_dir, "prometheus.yml")],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "compose prometheus.yml: promtool check config (with alerts.yml)"
          + ("" if r.returncode == 0 else f": {r.stdout}{r.stderr}"))
    with open(os.path.join(base, "prometheus.yml")) as f:
        targets = yaml.safe_load(f)["scrape_configs"][0]["static_configs"][0]["targets"]
    check(targets == [f"sluice:{port}"], f"compose prometheus scrapes sluice:{port}")
    created = set(re.findall(r"([A-Za-z0-9._-]+):\d+", " ".join(
        services["topics"]["command"])))
    jobs = sorted(glob.glob(os.path.join(base, "jobs", "*.yaml")))
    used = set()
    for j in jobs:
        with open(j) as f:
            used |= job_topics(f.read())
    check(used <= created, f"compose topics: creates every topic the jobs use "
          f"(missing: {sorted(used - created)})")
    sluice_validate(sluice, jobs, "compose jobs")


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        check_kubernetes(os.path.abspath(argv[1]), tmp)
        check_compose(os.path.abspath(argv[1]), tmp)
    print(f"{len(failures)} failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
