"""API tokens: random keys stored as SHA-256 digests, looked up by a short prefix."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A user's API key; only its prefix and SHA-256 digest are stored, the key is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for (e.g. ci, grafana, laptop).")
    prefix = models.CharField(max_length=8, db_index=True, editable=False, help_text="First 8 characters of the key.")
    # A key has 256 random bits, so one SHA-256 is enough: no slow password hash per request.
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty = never expires.")

    class Meta:
        ordering = ["user", "name", "id"]
        verbose_name = "API token"
        # Permissions of the roles that belong to no model (accounts.roles).
        permissions = [("control_simulation", "Can start, stop and scale the simulation")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
