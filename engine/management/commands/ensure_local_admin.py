"""Create the local demo superuser once, with a random password kept in var/admin_password."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create superuser 'admin' for the embedded default if no superuser exists; print how to log in."

    def handle(self, *args: Any, **options: Any) -> None:
        password_file = settings.VAR_DIR / "admin_password"
        user_model = get_user_model()
        if not user_model.objects.filter(is_superuser=True).exists():
            password = secrets.token_urlsafe(12)
            user_model.objects.create_superuser(username="admin", email="", password=password)
            password_file.write_text(password)
            password_file.chmod(0o600)
        if password_file.exists():
            password = password_file.read_text().strip()
            self.stdout.write(f"Log in as admin / {password}  (password kept in {password_file})")
        else:
            self.stdout.write("A superuser already exists; log in with its credentials.")
