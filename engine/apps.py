from django.apps import AppConfig


class EngineConfig(AppConfig):
    name = "engine"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Refuse a database the engine's hand-built statements were never written for, before any turn runs."""
        from django.db import connection

        from config.queries import require_supported_vendor

        require_supported_vendor(connection.vendor)
