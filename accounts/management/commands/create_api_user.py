"""Create (or reuse) an API user with a role and print a new API key once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.roles import Role
from accounts.services import api_user_create


class Command(BaseCommand):
    help = "Create an API user (or reuse it) with a role, and print a new API token; the key is shown only once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=[role.value for role in Role], required=True)
        parser.add_argument("--token-name", default="api", help="A label for the token (default: api).")

    def handle(self, *args: Any, **options: Any) -> None:
        user, key = api_user_create(
            username=options["username"], role=Role(options["role"]), token_name=options["token_name"]
        )
        self.stderr.write(f"User {user.get_username()} has role {options['role']}. API key (shown once):")
        self.stdout.write(key)
