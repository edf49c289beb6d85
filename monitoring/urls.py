"""Health, Prometheus metrics and the dashboard's metrics summary."""

from django.urls import path

from monitoring import views

urlpatterns = [
    path("health/live", views.live, name="health-live"),
    path("health/ready", views.ready, name="health-ready"),
    path("metrics", views.metrics, name="metrics"),
    path("api/metrics/summary", views.SummaryView.as_view(), name="metrics-summary"),
]
