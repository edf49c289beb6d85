"""Monitoring as code, tested: metric contract, Prometheus rules, Alertmanager routes, Grafana, runbooks.

promtool and amtool come from Debian's `prometheus` and `prometheus-alertmanager` packages (.ci/run
installs them). Without them these tests are skipped locally, and fail in CI (CI=true).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import promql_parser
import yaml
from django.test import Client, SimpleTestCase, TestCase
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from monitoring import contract

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "monitoring"
PROMETHEUS_CONFIG = MONITORING / "prometheus" / "prometheus.yml"
RULE_FILES = sorted((MONITORING / "prometheus" / "rules").glob("*.yml"))
RULE_TEST_FILES = sorted((MONITORING / "prometheus" / "tests").glob("*.yml"))
ALERTMANAGER_DIR = MONITORING / "alertmanager"
ALERTMANAGER_CONFIG = ALERTMANAGER_DIR / "alertmanager.yml"
GRAFANA = MONITORING / "grafana"
DATASOURCE_FILES = sorted((GRAFANA / "provisioning" / "datasources").glob("*.yml"))
DASHBOARD_PROVIDER_FILES = sorted((GRAFANA / "provisioning" / "dashboards").glob("*.yml"))
DASHBOARD_FILES = sorted((GRAFANA / "dashboards").glob("*.json"))
RUNBOOKS = MONITORING / "runbooks"
COMPOSE_FILE = ROOT / "docker" / "docker-compose.yml"

SEVERITIES = ("critical", "warning", "info")
RUNBOOK_SECTIONS = ("Meaning", "Impact", "Diagnosis", "Mitigation", "Escalation", "Verification")
RUNBOOK_URL_BASE = "https://github.com/piyasa/piyasa/blob/main/monitoring/runbooks/"
TELEGRAM_TOKEN_FILE = "/etc/alertmanager/secrets/telegram_bot_token"
# Where each severity must be delivered (receiver names of alertmanager.yml).
RECEIVER_FOR_SEVERITY = {"critical": "telegram-critical", "warning": "telegram-warning", "info": "default"}
DEFAULT_RECEIVER = "default"
# Grafana's built-in variables, replaced by a representative value before parsing a panel's query.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}
# The twelve alerts the monitoring requirement asks for (more may exist; none of these may go).
REQUIRED_ALERTS = {
    "PiyasaTargetDown",
    "PiyasaWebHighErrorRatio",
    "PiyasaWebHighLatency",
    "PiyasaEngineStalled",
    "PiyasaNoMessagesWhileActive",
    "PiyasaTurnFailureRatioHigh",
    "PiyasaLLMErrorRatioHigh",
    "PiyasaLLMBudgetExhausted",
    "PiyasaCircuitBreakerOpen",
    "PiyasaTelegramRateLimited",
    "PiyasaQueueBacklog",
    "PiyasaNoWorkers",
}


# ------------------------------------------------------------------------------------- helpers
def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@cache
def rules() -> tuple[dict[str, Any], ...]:
    return tuple(rule for path in RULE_FILES for group in load_yaml(path)["groups"] for rule in group["rules"])


def alert_rules() -> list[dict[str, Any]]:
    return [rule for rule in rules() if "alert" in rule]


def recorded_names() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}


@cache
def dashboards() -> tuple[tuple[Path, dict[str, Any]], ...]:
    return tuple((path, json.loads(path.read_text(encoding="utf-8"))) for path in DASHBOARD_FILES)


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def dashboard_targets() -> Iterator[tuple[str, str]]:
    """(where, expr) for every query of every dashboard panel."""
    for path, dashboard in dashboards():
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                yield f"{path.name}: {panel.get('title')!r} {target.get('refId')}", target.get("expr", "")


def grafana_expr(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def selected_metrics(expr: str) -> set[str]:
    """The metric names an expression selects, from its promql-parser AST."""
    names: set[str] = set()
    nameless: list[str] = []

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
                return
            equal = promql_parser.MatchOp.Equal
            by_name = [m.value for m in node.matchers.matchers if m.name == "__name__" and m.op == equal]
            if by_name:
                names.update(by_name)
            else:
                nameless.append(str(node))

    promql_parser.walk(promql_parser.parse(expr), visit)
    assert not nameless, f"selector without an exact metric name cannot be checked against the contract: {nameless}"
    return names


def provisioned_datasource_uid() -> str:
    datasources = [ds for path in DATASOURCE_FILES for ds in load_yaml(path)["datasources"]]
    assert len(datasources) == 1, "exactly one provisioned datasource"
    uid = datasources[0].get("uid")
    assert uid, "the datasource uid must be fixed"
    return str(uid)


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian: prometheus / prometheus-alertmanager; .ci/run installs them)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            raise AssertionError(message)
        raise unittest.SkipTest(message)
    return path


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(arg) for arg in args], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"{' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}"
    return result


def rule_exprs() -> list[tuple[str, str]]:
    return [(rule.get("alert") or rule["record"], rule["expr"]) for rule in rules()]


def exported_families(client: Client) -> dict[str, tuple[str, set[frozenset[str]]]]:
    """Family name -> (type, label-name sets seen), from the default registry and a scrape of /metrics.

    Counters and histograms are registered in prometheus_client's default registry when defined
    (django-prometheus's HTTP metrics when its middleware first runs, hence the requests); gauges
    computed at scrape time appear only in the served /metrics, which is scraped twice so that
    the HTTP metrics of the first request are in the second answer.
    """
    families: dict[str, tuple[str, set[frozenset[str]]]] = {}

    def add(name: str, type_: str, samples: list[Any]) -> None:
        labels = {frozenset(set(s.labels) - {"le"}) for s in samples if not s.name.endswith("_created")}
        known_type, known_labels = families.get(name, (type_, set()))
        families[name] = (known_type, known_labels | labels)

    for _ in range(2):
        response = client.get("/metrics")
        assert response.status_code == 200, response.content[:500]
    for family in text_string_to_metric_families(response.content.decode()):
        add(family.name, family.type, family.samples)
    for family in REGISTRY.collect():
        add(family.name, family.type, family.samples)
    return families


def route(config: Path, labels: dict[str, str]) -> str:
    args = [f"{key}={value}" for key, value in labels.items()]
    result = run(tool("amtool"), "config", "routes", "test", f"--config.file={config}", *args)
    return result.stdout.strip()


def datasource_refs(node: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield where, value
            yield from datasource_refs(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from datasource_refs(value, f"{where}/{index}")


# ------------------------------------------------------------------------------- the contract
class ContractTests(SimpleTestCase):
    """Every metric name the rules and dashboards select is in monitoring/contract.py."""

    def test_contract_names_are_unique_and_well_formed(self) -> None:
        names = [metric.name for metric in contract.ALL]
        assert len(names) == len(set(names))
        for metric in contract.ALL:
            assert re.fullmatch(r"[a-z_][a-z0-9_]*", metric.name), metric.name
            assert metric.name.endswith("_total") == (metric.type == "counter"), (
                f"_total only on counters: {metric.name}"
            )
            if metric.source == "piyasa":
                assert metric.name.startswith("piyasa_"), metric.name

    def test_rules_select_only_contract_metrics(self) -> None:
        for name, expr in rule_exprs():
            with self.subTest(rule=name):
                allowed = contract.selectable_names() | recorded_names()
                unknown = selected_metrics(expr) - allowed
                assert not unknown, f"{name} selects metrics outside monitoring/contract.py: {sorted(unknown)}"

    def test_dashboards_select_only_contract_metrics(self) -> None:
        for where, expr in dashboard_targets():
            with self.subTest(target=where):
                assert expr.strip(), f"{where}: empty query"
                query = grafana_expr(expr)
                assert "$" not in query, f"{where}: unknown Grafana variable in {expr!r}"
                unknown = selected_metrics(query) - contract.selectable_names()
                assert not unknown, f"{where} selects metrics outside monitoring/contract.py: {sorted(unknown)}"

    def test_recording_rules_do_not_shadow_exported_metrics(self) -> None:
        for name in recorded_names():
            assert ":" in name, f"recording rule {name} must use the level:metric:operations form"
            assert contract.metric_for(name) is None


class ExportedMetricsTests(TestCase):
    """What the app serves on /metrics matches the contract, both ways."""

    def test_app_exports_every_contract_metric(self) -> None:
        import monitoring.metrics  # noqa: F401  (defines the engine metrics)

        families = exported_families(self.client)
        problems = []
        for metric in contract.APP:
            found = families.get(metric.family_name)
            if found is None:
                problems.append(f"{metric.name}: not exported")
                continue
            type_, label_sets = found
            if type_ != metric.type:
                problems.append(f"{metric.name}: exported as a {type_}, the contract says {metric.type}")
            for labels in label_sets:
                if labels != set(metric.labels):
                    problems.append(f"{metric.name}: exported with labels {sorted(labels)}, contract {metric.labels}")
        assert not problems, "\n".join(problems)
        # And the other way round: every piyasa_ family the app exports is in the contract.
        documented = {metric.family_name for metric in contract.APP}
        undocumented = sorted(name for name in families if name.startswith("piyasa_") and name not in documented)
        assert not undocumented, f"exported but missing from monitoring/contract.py: {undocumented}"


# -------------------------------------------------------------------------- Prometheus config
class PrometheusConfigTests(SimpleTestCase):
    """promtool accepts the config, the rules and their unit tests; Prometheus loads the rules and scrapes the app."""

    def test_promtool_check_config(self) -> None:
        run(tool("promtool"), "check", "config", PROMETHEUS_CONFIG)

    def test_promtool_check_rules(self) -> None:
        assert RULE_FILES
        run(tool("promtool"), "check", "rules", *RULE_FILES)

    def test_promtool_test_rules(self) -> None:
        assert RULE_TEST_FILES
        run(tool("promtool"), "test", "rules", *RULE_TEST_FILES)

    def test_prometheus_loads_every_rule_file_and_scrapes_the_app(self) -> None:
        config = load_yaml(PROMETHEUS_CONFIG)
        loaded = {path for pattern in config["rule_files"] for path in PROMETHEUS_CONFIG.parent.glob(pattern)}
        assert loaded == set(RULE_FILES)
        jobs = {job["job_name"]: job for job in config["scrape_configs"]}
        app = jobs["piyasa-web"]
        assert app.get("metrics_path", "/metrics") == "/metrics"
        assert app["static_configs"][0]["targets"] == ["web:8000"]
        assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]


class AlertRuleTests(SimpleTestCase):
    """The required alerts exist, each with its severity, annotations, runbook and promtool cases."""

    def test_every_required_alert_exists(self) -> None:
        missing = REQUIRED_ALERTS - {rule["alert"] for rule in alert_rules()}
        assert not missing, f"required alerts missing: {sorted(missing)}"

    def test_alert_has_severity_annotations_for_and_runbook(self) -> None:
        for rule in alert_rules():
            with self.subTest(alert=rule["alert"]):
                name = rule["alert"]
                assert rule.get("labels", {}).get("severity") in SEVERITIES
                assert rule.get("for"), f"{name} needs a `for:`"
                annotations = rule.get("annotations", {})
                for key in ("summary", "description", "runbook_url"):
                    assert str(annotations.get(key, "")).strip(), f"{name} lacks annotation {key}"
                assert annotations["runbook_url"] == f"{RUNBOOK_URL_BASE}{name}.md"
                runbook = RUNBOOKS / f"{name}.md"
                assert runbook.is_file(), f"missing runbook {runbook.relative_to(ROOT)}"
                headings = re.findall(r"^## +(.+?)\s*$", runbook.read_text(encoding="utf-8"), flags=re.MULTILINE)
                missing = [section for section in RUNBOOK_SECTIONS if section not in headings]
                assert not missing, f"{runbook.name} lacks sections {missing}"

    def test_every_runbook_belongs_to_an_alert(self) -> None:
        alerts = {rule["alert"] for rule in alert_rules()}
        assert {path.stem for path in RUNBOOKS.glob("*.md")} == alerts

    def test_every_alert_has_a_firing_and_a_quiet_promtool_case(self) -> None:
        cases: dict[str, dict[str, int]] = {}
        for path in RULE_TEST_FILES:
            test_file = load_yaml(path)
            loaded = {(path.parent / rule_file).resolve() for rule_file in test_file["rule_files"]}
            assert loaded == {rule_file.resolve() for rule_file in RULE_FILES}, f"{path.name} must load every rule file"
            for test in test_file["tests"]:
                for case in test.get("alert_rule_test", []):
                    kind = "firing" if case.get("exp_alerts") else "quiet"
                    counts = cases.setdefault(case["alertname"], {"firing": 0, "quiet": 0})
                    counts[kind] += 1
        for rule in alert_rules():
            counts = cases.get(rule["alert"], {"firing": 0, "quiet": 0})
            assert counts["firing"] >= 1, f"{rule['alert']}: no promtool case where it fires"
            assert counts["quiet"] >= 1, f"{rule['alert']}: no promtool case where it stays quiet"


# ------------------------------------------------------------------------------- Alertmanager
class AmtoolTests(SimpleTestCase):
    """amtool accepts the Alertmanager config and routes every severity to its receiver."""

    alertmanager_config: Path

    @classmethod
    def setUpClass(cls) -> None:
        """The config amtool should check: the real file, unless this amtool predates bot_token_file.

        Debian 12's amtool is 0.25; `telegram_configs.bot_token_file` arrived in Alertmanager 0.26 (the
        compose stack runs a later image). For an older amtool only, a copy has that one line swapped for an
        inline placeholder token, and everything else is checked as written.
        """
        super().setUpClass()
        amtool = tool("amtool")
        result = subprocess.run(
            [amtool, "check-config", str(ALERTMANAGER_CONFIG)], capture_output=True, text=True, timeout=60, check=False
        )
        if result.returncode == 0:
            cls.alertmanager_config = ALERTMANAGER_CONFIG
            return
        output = result.stdout + result.stderr
        assert "field bot_token_file not found" in output, output
        copy = Path(cls.enterClassContext(tempfile.TemporaryDirectory())) / "alertmanager"
        shutil.copytree(ALERTMANAGER_DIR, copy)
        config = copy / "alertmanager.yml"
        text = config.read_text(encoding="utf-8")
        replaced = text.replace(f"bot_token_file: {TELEGRAM_TOKEN_FILE}", 'bot_token: "0:placeholder-for-amtool-0.25"')
        assert replaced != text
        config.write_text(replaced, encoding="utf-8")
        cls.alertmanager_config = config

    def test_amtool_check_config(self) -> None:
        result = run(tool("amtool"), "check-config", self.alertmanager_config)
        assert "SUCCESS" in result.stdout

    def test_alertmanager_routes_by_severity(self) -> None:
        for labels, receiver in (
            ({"severity": "critical"}, "telegram-critical"),
            ({"severity": "warning"}, "telegram-warning"),
            ({"severity": "info"}, "default"),
            ({"alertname": "SomethingUnlabelled"}, "default"),
            ({"severity": "unknown"}, "default"),
        ):
            with self.subTest(labels=labels):
                assert route(self.alertmanager_config, labels) == receiver

    def test_every_alert_reaches_the_receiver_of_its_severity(self) -> None:
        for rule in alert_rules():
            labels = {"alertname": rule["alert"], **rule["labels"]}
            assert route(self.alertmanager_config, labels) == RECEIVER_FOR_SEVERITY[labels["severity"]], rule["alert"]


class AlertmanagerConfigTests(SimpleTestCase):
    """The Telegram receivers read their token from a file; criticals and a down target inhibit the rest."""

    def test_alertmanager_telegram_token_comes_from_a_file(self) -> None:
        config = load_yaml(ALERTMANAGER_CONFIG)
        receivers = {receiver["name"]: receiver for receiver in config["receivers"]}
        assert config["route"]["receiver"] == DEFAULT_RECEIVER in receivers
        for severity in ("critical", "warning"):
            telegram = receivers[RECEIVER_FOR_SEVERITY[severity]]["telegram_configs"]
            assert telegram
            for entry in telegram:
                assert entry["bot_token_file"] == TELEGRAM_TOKEN_FILE
                assert "bot_token" not in entry
                assert isinstance(entry["chat_id"], int)
        assert "bot_token:" not in ALERTMANAGER_CONFIG.read_text(encoding="utf-8")

    def test_alertmanager_inhibits_warnings_under_criticals_and_everything_under_a_down_target(self) -> None:
        inhibit = load_yaml(ALERTMANAGER_CONFIG)["inhibit_rules"]
        assert {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity=~"warning|info"'],
            "equal": ["alertname", "instance"],
        } in inhibit
        assert any('alertname="PiyasaTargetDown"' in rule["source_matchers"] for rule in inhibit)


# -------------------------------------------------------------------------------------- Grafana
class GrafanaTests(SimpleTestCase):
    """The dashboards are provisionable, use the one provisioned datasource, and every panel has a unit."""

    def test_dashboards_are_bare_json_with_unique_uids(self) -> None:
        assert {path.name for path, _ in dashboards()} >= {"overview.json", "llm-telegram.json"}
        uids = []
        for path, dashboard in dashboards():
            assert "dashboard" not in dashboard, (
                f"{path.name}: bare dashboard JSON, not wrapped in {{'dashboard': ...}}"
            )
            assert dashboard.get("title"), path.name
            assert dashboard.get("panels"), path.name
            assert dashboard.get("uid"), f"{path.name}: fixed uid"
            uids.append(dashboard["uid"])
            ids = [panel.get("id") for panel in panels(dashboard)]
            assert all(isinstance(panel_id, int) for panel_id in ids), f"{path.name}: every panel needs an id"
            assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
        assert len(uids) == len(set(uids)), f"duplicate dashboard uids: {uids}"

    def test_dashboards_use_only_the_provisioned_datasource(self) -> None:
        uid = provisioned_datasource_uid()
        for path, dashboard in dashboards():
            assert not dashboard.get("templating", {}).get("list"), f"{path.name}: no datasource variables"
            for panel in panels(dashboard):
                if panel.get("type") == "row":
                    continue
                assert panel.get("datasource") == {"type": "prometheus", "uid": uid}, (
                    f"{path.name}: {panel.get('title')}"
                )
                assert panel.get("targets"), f"{path.name}: {panel.get('title')!r} has no query"
                for target in panel["targets"]:
                    assert target.get("datasource") == {"type": "prometheus", "uid": uid}, f"{path.name}: {target}"
            for where, ref in datasource_refs(dashboard):
                assert isinstance(ref, dict), f"{path.name}{where}: datasource {ref!r}"
                assert ref.get("uid") == uid, f"{path.name}{where}: datasource {ref!r}"

    def test_every_panel_has_a_unit(self) -> None:
        for path, dashboard in dashboards():
            for panel in panels(dashboard):
                if panel.get("type") == "row":
                    continue
                unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
                assert unit, f"{path.name}: panel {panel.get('title')!r} has no unit"

    def test_grafana_provisioning_matches_the_compose_mounts(self) -> None:
        compose = load_yaml(COMPOSE_FILE)["services"]
        grafana_volumes = compose["grafana"]["volumes"]
        providers = [provider for path in DASHBOARD_PROVIDER_FILES for provider in load_yaml(path)["providers"]]
        assert providers
        for provider in providers:
            assert f"../monitoring/grafana/dashboards:{provider['options']['path']}:ro" in grafana_volumes
        assert "../monitoring/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana_volumes
        datasources = [ds for path in DATASOURCE_FILES for ds in load_yaml(path)["datasources"]]
        assert datasources[0]["url"] == "http://prometheus:9090"


class ComposeTests(SimpleTestCase):
    """docker-compose mounts the monitoring config and the Telegram secret where the services read them."""

    def test_compose_mounts_the_monitoring_config_and_the_telegram_secret(self) -> None:
        compose = load_yaml(COMPOSE_FILE)
        services = compose["services"]
        prometheus_volumes = services["prometheus"]["volumes"]
        assert "../monitoring/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in prometheus_volumes
        assert "../monitoring/prometheus/rules:/etc/prometheus/rules:ro" in prometheus_volumes
        alertmanager = services["alertmanager"]
        config_mount = "../monitoring/alertmanager/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro"
        assert config_mount in alertmanager["volumes"]
        assert {"source": "telegram_bot_token", "target": TELEGRAM_TOKEN_FILE} in alertmanager["secrets"]
        assert compose["secrets"]["telegram_bot_token"] == {"file": "./secrets/telegram_bot_token"}
        # Prometheus scrapes web:8000 with that Host header, which Django must accept.
        assert "web" in services["web"]["environment"]["ALLOWED_HOSTS"].split(",")
