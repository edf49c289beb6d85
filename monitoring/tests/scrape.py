"""Test helper: scrape `/metrics` through the Django test client and read samples by name and labels."""

from __future__ import annotations

from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: Client | None = None) -> Samples:
    """Every sample `/metrics` serves, keyed by (sample name, labels)."""
    response = (client or Client()).get("/metrics")
    assert response.status_code == 200, response.status_code
    samples: Samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples named `name` whose labels include `labels` (0 when there are none)."""
    wanted = set(labels.items())
    return sum(v for (sample, have), v in samples.items() if sample == name and wanted <= have)


def family_names(samples: Samples) -> set[str]:
    """The sample names present (counters with their `_total`, histograms with `_bucket`/`_sum`/`_count`)."""
    return {name for name, _ in samples}
