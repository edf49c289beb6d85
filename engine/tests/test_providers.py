"""The LLM-provider table: every row names a class, settings and labels that exist."""

from django.conf import settings
from django.test import SimpleTestCase
from django.utils.module_loading import import_string

from engine.clients.llm.base import cost_usd
from engine.providers import PRICES_PER_MILLION, PROVIDERS, provider_spec
from monitoring import metrics


class ProviderTableTests(SimpleTestCase):
    def test_each_row_names_an_importable_provider_class_of_the_same_name(self):
        for name, spec in PROVIDERS.items():
            with self.subTest(provider=name):
                provider = import_string(spec.provider)
                self.assertEqual(provider.name, name)
                self.assertTrue(callable(provider.from_settings))
                self.assertTrue(callable(provider.complete))

    def test_each_row_names_settings_django_has(self):
        for name, spec in PROVIDERS.items():
            names = [*spec.required_settings, spec.model_setting, spec.endpoint_setting]
            for setting in filter(None, names):
                with self.subTest(provider=name, setting=setting):
                    self.assertTrue(hasattr(settings, setting), setting)

    def test_metrics_label_every_provider_and_guard_exactly_those_with_a_breaker(self):
        self.assertEqual(set(metrics.LLM_PROVIDERS), set(PROVIDERS))
        self.assertEqual(set(metrics.BREAKER_DEPENDENCIES), {name for name, spec in PROVIDERS.items() if spec.breaker})

    def test_a_provider_with_a_breaker_is_governed_by_the_budget(self):
        for name, spec in PROVIDERS.items():
            with self.subTest(provider=name):
                self.assertEqual(spec.breaker, spec.governed)

    def test_priced_models_cost_what_their_row_says(self):
        for model, (per_million_in, per_million_out) in PRICES_PER_MILLION.items():
            with self.subTest(model=model):
                self.assertEqual(cost_usd(model, 1_000_000, 0), per_million_in)
                self.assertEqual(cost_usd(model, 0, 1_000_000), per_million_out)
        self.assertEqual(cost_usd("offline", 1_000_000, 1_000_000), 0)

    def test_an_unknown_provider_names_the_known_ones(self):
        with self.assertRaisesMessage(KeyError, "known: offline, groq, openai_compat"):
            provider_spec("anthropic")
