"""The Kubernetes manifests (deploy/kubernetes/): complete, in step with the app and with monitoring/.

Schema validation and the linters need tools outside the app's virtualenv: deploy/check.sh runs them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from unittest import TestCase

import yaml
from rq import Queue

from deploy import monitoring_manifests
from engine.queues import QueueName

ROOT = Path(__file__).resolve().parent.parent.parent
MANIFESTS = ROOT / "deploy" / "kubernetes"
# Documented alternatives, not applied with the rest (each says why in its header).
NOT_IN_KUSTOMIZATION = {"worker-hpa.yaml", "secret.yaml"}
APP_WORKLOADS = {"piyasa-web", "piyasa-worker", "piyasa-cron", "piyasa-migrate"}


def _objects() -> list[dict[str, Any]]:
    objects = []
    for path in sorted(MANIFESTS.rglob("*.yaml")):
        if path.name != "kustomization.yaml":
            objects += [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    return objects


def _workload(name: str) -> dict[str, Any]:
    return next(o for o in _objects() if o["kind"] in {"Deployment", "Job"} and o["metadata"]["name"] == name)


def _app_container(name: str) -> dict[str, Any]:
    containers: list[dict[str, Any]] = _workload(name)["spec"]["template"]["spec"]["containers"]
    return containers[0]


def _readme_settings() -> set[str]:
    """Every variable named in the first column of the README's configuration table."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row)}


class KustomizationTests(TestCase):
    def test_it_lists_every_manifest_and_only_existing_ones(self) -> None:
        kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text(encoding="utf-8"))
        listed = set(kustomization["resources"])
        present = {str(p.relative_to(MANIFESTS)) for p in MANIFESTS.rglob("*.yaml")} - {"kustomization.yaml"}
        self.assertEqual(listed, present - NOT_IN_KUSTOMIZATION)

    def test_the_generated_monitoring_objects_equal_what_monitoring_gives(self) -> None:
        self.assertEqual(monitoring_manifests.stale_files(), [], "run: python -m deploy.monitoring_manifests")

    def test_every_alert_and_dashboard_of_monitoring_is_deployed(self) -> None:
        rules = [o for o in _objects() if o["kind"] == "PrometheusRule"]
        alerts = {r["alert"] for o in rules for g in o["spec"]["groups"] for r in g["rules"] if "alert" in r}
        source = yaml.safe_load((ROOT / "monitoring/prometheus/rules/alerts.yml").read_text(encoding="utf-8"))
        self.assertEqual(alerts, {r["alert"] for g in source["groups"] for r in g["rules"]})
        dashboards = {key for o in _objects() if o["kind"] == "ConfigMap" for key in o.get("data", {})}
        self.assertLessEqual({p.name for p in (ROOT / "monitoring/grafana/dashboards").glob("*.json")}, dashboards)


class SettingsTests(TestCase):
    def test_every_readme_setting_is_in_the_configmap_or_a_secret_file(self) -> None:
        config = next(o for o in _objects() if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "piyasa-config")
        env = {item["name"] for item in _app_container("piyasa-web")["env"]}
        for name in _readme_settings():
            with self.subTest(setting=name):
                self.assertTrue(name in config["data"] or f"{name}_FILE" in env, f"{name} is not deployed")

    def test_secrets_are_files_in_the_mounted_secret(self) -> None:
        secret = next(o for o in _objects() if o["kind"] == "Secret")
        for name in APP_WORKLOADS:
            for item in _app_container(name)["env"]:
                if item["name"].endswith("_FILE"):
                    with self.subTest(workload=name, setting=item["name"]):
                        directory, _, key = item["value"].rpartition("/")
                        self.assertEqual(directory, "/run/secrets/piyasa")
                        self.assertIn(key, secret["stringData"])

    def test_pods_allow_their_own_ip_as_host_for_probes_and_scrapes(self) -> None:
        env = {item["name"]: item for item in _app_container("piyasa-web")["env"]}
        self.assertEqual(env["ALLOWED_HOSTS"]["value"], "$(PUBLIC_ALLOWED_HOSTS),$(POD_IP)")
        self.assertEqual(env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"], "status.podIP")


class WorkloadTests(TestCase):
    def test_app_pods_are_non_root_with_a_read_only_root_and_writable_tmp_and_metrics(self) -> None:
        for name in APP_WORKLOADS:
            spec = _workload(name)["spec"]["template"]["spec"]
            with self.subTest(workload=name):
                self.assertTrue(spec["securityContext"]["runAsNonRoot"])
                self.assertFalse(spec["automountServiceAccountToken"])
                for container in spec["containers"]:
                    self.assertTrue(container["securityContext"]["readOnlyRootFilesystem"])
                    self.assertEqual(container["securityContext"]["capabilities"]["drop"], ["ALL"])
                mounts = {m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
                self.assertLessEqual({"/tmp", "/metrics"}, mounts)

    def test_cron_is_exactly_one_and_never_overlaps_itself_in_a_rollout(self) -> None:
        cron = _workload("piyasa-cron")
        self.assertEqual(cron["spec"]["replicas"], 1)
        self.assertEqual(cron["spec"]["strategy"]["type"], "Recreate")

    def test_each_role_runs_its_entrypoint_role(self) -> None:
        roles = {name: _app_container(name)["args"][0] for name in APP_WORKLOADS}
        self.assertEqual(
            roles,
            {"piyasa-web": "serve", "piyasa-worker": "worker", "piyasa-cron": "cron", "piyasa-migrate": "migrate"},
        )
        entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text(encoding="utf-8")
        self.assertIn("\n    serve)\n", entrypoint)

    def test_the_backup_cronjob_runs_once_a_day_non_root_into_its_volume(self) -> None:
        cronjob = next(o for o in _objects() if o["kind"] == "CronJob")
        spec = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        container = spec["containers"][0]
        config = next(o for o in _objects() if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "piyasa-config")
        self.assertEqual(cronjob["spec"]["concurrencyPolicy"], "Forbid")
        self.assertEqual(container["args"][0], "backup")
        self.assertTrue(spec["securityContext"]["runAsNonRoot"])
        self.assertTrue(container["securityContext"]["readOnlyRootFilesystem"])
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        self.assertEqual(mounts["backups"], config["data"]["BACKUP_DIR"])
        claim = next(v for v in spec["volumes"] if v["name"] == "backups")["persistentVolumeClaim"]["claimName"]
        self.assertIn(claim, {o["metadata"]["name"] for o in _objects() if o["kind"] == "PersistentVolumeClaim"})

    def test_web_probes_use_the_health_endpoints(self) -> None:
        web = _app_container("piyasa-web")
        self.assertEqual(web["readinessProbe"]["httpGet"]["path"], "/health/ready")
        self.assertEqual(web["livenessProbe"]["httpGet"]["path"], "/health/live")

    def test_the_scaledobject_watches_every_rq_queue_list(self) -> None:
        scaled = next(o for o in _objects() if o["kind"] == "ScaledObject")
        lists = {t["metadata"]["listName"] for t in scaled["spec"]["triggers"] if t["type"] == "redis"}
        self.assertEqual(lists, {Queue.redis_queue_namespace_prefix + str(name) for name in QueueName})
        self.assertEqual(scaled["spec"]["scaleTargetRef"]["name"], "piyasa-worker")

    def test_the_ingress_routes_no_unauthenticated_internal_endpoint(self) -> None:
        ingress = next(o for o in _objects() if o["kind"] == "Ingress")
        routes = [p for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
        paths = {p["path"] for p in routes}
        # "/" as a Prefix would route /metrics too.
        self.assertEqual(next(p["pathType"] for p in routes if p["path"] == "/"), "Exact")
        self.assertLessEqual({"/", "/api/", "/telegram/webhook/"}, paths)
        for path in paths:
            with self.subTest(path=path):
                self.assertFalse(path.startswith(("/metrics", "/health")))
