from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The server-rendered operator dashboard."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "dashboard"
