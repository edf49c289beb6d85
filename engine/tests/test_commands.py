from __future__ import annotations

import tempfile
from io import StringIO
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import TestCase, override_settings

from engine.selectors import settings_all


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


class SimulationCommandTests(TestCase):
    def test_simulation_start_stop_and_scale(self) -> None:
        assert "running (scale 2)" in run("simulation", "start", "--scale", "2")
        assert settings_all().simulation_active is True
        assert "stopped" in run("simulation", "stop")
        assert settings_all().simulation_active is False
        assert "stopped (scale 2)" in run("simulation", "status")


class EnsureLocalAdminCommandTests(TestCase):
    def test_ensure_local_admin_creates_one_superuser_once(self) -> None:
        tmp_path = Path(self.enterContext(tempfile.TemporaryDirectory()))
        with override_settings(VAR_DIR=tmp_path):
            first = run("ensure_local_admin")
            second = run("ensure_local_admin")
        password = first.split("admin / ")[1].split()[0]
        assert password in second
        user = get_user_model().objects.get()
        assert user.is_superuser
        assert user.check_password(password)
