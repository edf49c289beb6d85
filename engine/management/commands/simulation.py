"""Start, stop or inspect the simulation (the `simulation_active` runtime setting)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from engine.selectors import settings_all
from engine.services import setting_set


class Command(BaseCommand):
    help = "start | stop | status of the simulation; --scale sets scale_factor."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["start", "stop", "status"])
        parser.add_argument("--scale", type=float, help="Set scale_factor (activity multiplier).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["scale"] is not None:
            setting_set(key="scale_factor", value=options["scale"])
        if options["action"] != "status":
            setting_set(key="simulation_active", value=options["action"] == "start")
        config = settings_all()
        state = "running" if config.simulation_active else "stopped"
        self.stdout.write(f"Simulation {state} (scale {config.scale_factor:g}).")
