from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from monitoring import metrics

        # Every process exports the known series at zero from its start, so rate() has a baseline.
        metrics.initialise_labels(settings.LLM_PROVIDER, metrics.configured_llm_model())
