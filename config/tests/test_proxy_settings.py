"""Behind compose's TLS proxy the login throttle must see each client: compose trusts exactly one proxy."""

from __future__ import annotations

from django.test import SimpleTestCase

from config.tests.test_docker import _compose


class ComposeProxyTest(SimpleTestCase):
    def test_compose_trusts_one_proxy_for_the_client_address(self) -> None:
        environment = _compose()["services"]["web"]["environment"]
        # 0 (Django's default) makes every client behind the proxy one login-throttle bucket.
        self.assertEqual(environment["NUM_PROXIES"], "${NUM_PROXIES:-1}")
