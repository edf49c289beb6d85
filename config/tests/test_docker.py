"""The container files: compose services and healthchecks, a non-root image, and the entrypoint's roles."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from unittest import TestCase

import yaml

DOCKER_DIR = Path(__file__).resolve().parent.parent.parent / "docker"
COMPOSE_FILE = DOCKER_DIR / "docker-compose.yml"
APP_SERVICES = ("web", "worker", "cron")


def _compose() -> dict[str, Any]:
    with COMPOSE_FILE.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with backslash continuations joined and comments dropped."""
    text = (DOCKER_DIR / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [(line.split()[0].upper(), line.partition(" ")[2]) for line in lines if line and not line.startswith("#")]


def _compose_cli() -> list[str] | None:
    """The compose CLI on this machine: the docker plugin (v2) or the standalone docker-compose."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True, check=False).returncode == 0:
        return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


class ComposeFileTests(TestCase):
    def test_it_defines_the_five_services(self) -> None:
        self.assertLessEqual({"web", "worker", "cron", "postgres", "redis"}, set(_compose()["services"]))

    def test_every_service_has_a_healthcheck(self) -> None:
        for name, service in _compose()["services"].items():
            with self.subTest(service=name):
                self.assertTrue(service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck test")

    def test_app_services_run_their_role_in_production_mode(self) -> None:
        services = _compose()["services"]
        for name in APP_SERVICES:
            with self.subTest(service=name):
                self.assertEqual(services[name]["command"], [name])
                self.assertEqual(services[name]["environment"]["DEBUG"], "False")

    def test_backup_runs_the_command_in_a_loop_into_its_volume(self) -> None:
        backup = _compose()["services"]["backup"]
        script = backup["command"][0]
        self.assertEqual(backup["entrypoint"], ["/bin/sh", "-c"])
        self.assertIn("python manage.py backup", script)
        self.assertIn("sleep", script)
        self.assertIn(f"backups:{backup['environment']['BACKUP_DIR']}", backup["volumes"])
        self.assertIn("backups", _compose()["volumes"])

    def test_secrets_come_from_files_not_values(self) -> None:
        environment = _compose()["services"]["web"]["environment"]
        for name in ("SECRET_KEY", "TOKEN_ENCRYPTION_KEYS", "DATABASE_URL"):
            with self.subTest(setting=name):
                self.assertNotIn(name, environment)
                self.assertTrue(environment[f"{name}_FILE"].startswith("/run/secrets/"))

    def test_app_services_point_at_the_compose_redis(self) -> None:
        services = _compose()["services"]
        for name in APP_SERVICES:
            with self.subTest(service=name):
                self.assertEqual(services[name]["environment"]["REDIS_URL"], "redis://redis:6379/0")

    def test_app_services_wait_for_healthy_dependencies(self) -> None:
        services = _compose()["services"]
        for name in APP_SERVICES:
            with self.subTest(service=name):
                conditions = {dep["condition"] for dep in services[name]["depends_on"].values()}
                self.assertEqual(conditions, {"service_healthy"})
                self.assertIn("redis", services[name]["depends_on"])

    def test_postgres_keeps_its_data_in_a_named_volume(self) -> None:
        compose = _compose()
        volume = compose["services"]["postgres"]["volumes"][0].split(":")[0]
        self.assertIn(volume, compose["volumes"])

    def test_compose_cli_accepts_the_file(self) -> None:
        cli = _compose_cli()
        if cli is None:
            # .ci/run installs the CLI, so in CI a missing one is a failure, never a skip.
            self.assertFalse(os.environ.get("CI"), "no compose CLI in CI: .ci/run should have installed it")
            self.skipTest("no docker compose / docker-compose CLI on this machine")
        with tempfile.TemporaryDirectory() as empty_dir:
            # An empty cwd and a scrubbed environment: the file must validate on its defaults alone.
            result = subprocess.run(
                [*cli, "-f", str(COMPOSE_FILE), "config", "--quiet"],
                capture_output=True,
                text=True,
                cwd=empty_dir,
                env={"PATH": os.environ.get("PATH", ""), "HOME": empty_dir},
                check=False,
                timeout=120,
            )
        self.assertEqual(result.returncode, 0, result.stderr)


class DockerfileTests(TestCase):
    def test_it_runs_as_a_non_root_user(self) -> None:
        users = [args.strip() for instruction, args in _dockerfile_instructions() if instruction == "USER"]
        self.assertTrue(users, "no USER instruction")
        self.assertNotIn(users[-1].split(":")[0], {"root", "0"})

    def test_it_has_a_healthcheck_on_the_liveness_endpoint(self) -> None:
        checks = [args for instruction, args in _dockerfile_instructions() if instruction == "HEALTHCHECK"]
        self.assertEqual(len(checks), 1)
        self.assertIn("/health/live", checks[0])

    def test_it_uses_the_entrypoint_script(self) -> None:
        instructions = dict(_dockerfile_instructions())
        self.assertIn("docker/entrypoint.sh", instructions["ENTRYPOINT"])


class EntrypointTests(TestCase):
    """Runs docker/entrypoint.sh with stub `python` and `gunicorn` that record their arguments."""

    def setUp(self) -> None:
        self.stub_dir = Path(tempfile.mkdtemp(prefix="piyasa-entrypoint-"))
        self.addCleanup(shutil.rmtree, self.stub_dir)
        self.calls = self.stub_dir / "calls.log"
        for name in ("python", "gunicorn"):
            stub = self.stub_dir / name
            stub.write_text(f'#!/bin/sh\necho "{name} $*" >> "{self.calls}"\n', encoding="utf-8")
            stub.chmod(0o755)

    def _run(self, *args: str, **env: str) -> tuple[int, list[str]]:
        script = (DOCKER_DIR / "entrypoint.sh").read_text(encoding="utf-8").replace("cd /app", "cd .", 1)
        base_env = {"PATH": f"{self.stub_dir}:/usr/bin:/bin", "REDIS_URL": "redis://r", "DATABASE_URL": "postgres://d"}
        result = subprocess.run(
            ["sh", "-c", script, "entrypoint.sh", *args],
            env={**base_env, **env},
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        calls = self.calls.read_text(encoding="utf-8").splitlines() if self.calls.exists() else []
        return result.returncode, calls

    def test_web_migrates_then_serves_with_gunicorn(self) -> None:
        code, calls = self._run("web")
        self.assertEqual(code, 0)
        self.assertEqual(calls[0], "python manage.py migrate --noinput")
        self.assertEqual(calls[1], "gunicorn -c config/gunicorn.py --no-control-socket config.wsgi:application")

    def test_serve_starts_gunicorn_without_migrating(self) -> None:
        # Kubernetes migrates in a Job (deploy/kubernetes/migrate-job.yaml), never in every web pod.
        code, calls = self._run("serve")
        self.assertEqual(
            (code, calls), (0, ["gunicorn -c config/gunicorn.py --no-control-socket config.wsgi:application"])
        )

    def test_roles_accept_the_service_urls_as_secret_files(self) -> None:
        code, calls = self._run("serve", REDIS_URL="", DATABASE_URL="", REDIS_URL_FILE="/r", DATABASE_URL_FILE="/d")
        self.assertEqual(code, 0)
        self.assertEqual(len(calls), 1)

    def test_the_gunicorn_settings_serve_on_8000_with_sync_workers_per_core(self) -> None:
        gunicorn = Path(sys.executable).parent / "gunicorn"
        printed = subprocess.run(
            [str(gunicorn), "--print-config", "-c", "config/gunicorn.py", "config.wsgi:application"],
            env={**os.environ, "WEB_CONCURRENCY": "3"},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        config = dict(re.findall(r"^(\w+)\s+= (.*)$", printed, re.MULTILINE))
        self.assertEqual(
            (config["bind"], config["worker_class"], config["workers"], config["max_requests"]),
            ("['0.0.0.0:8000']", "sync", "3", "0"),
        )

    def test_worker_serves_all_queues_with_the_scheduler(self) -> None:
        self.assertEqual(self._run("worker")[1], ["python manage.py rqworker high default low --with-scheduler"])

    def test_cron_runs_the_one_schedule_module(self) -> None:
        self.assertEqual(self._run("cron")[1], ["python manage.py rqcron config.cron"])

    def test_other_commands_go_to_manage_py(self) -> None:
        self.assertEqual(self._run("createsuperuser", "--noinput")[1], ["python manage.py createsuperuser --noinput"])

    def test_roles_refuse_to_start_without_redis(self) -> None:
        code, calls = self._run("worker", REDIS_URL="")
        self.assertEqual(code, 64)
        self.assertEqual(calls, [])
