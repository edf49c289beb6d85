"""Security plumbing: the Content-Security-Policy of every response, and public-only outbound HTTP.

Outbound fetches of URLs that operators type (news feeds) go through `public_http_client()`: every
connection, the first and each redirect's, resolves the host and connects only to a public address it checked,
so neither an internal URL nor a name that resolves (or re-resolves, DNS rebinding) to one reaches a service
on the host or its network.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import httpx
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import get_template

CSP_HEADER = "Content-Security-Policy"


def csp_header(policy: dict[str, tuple[str, ...]]) -> str:
    """The header value of a {directive: sources} policy."""
    return "; ".join(" ".join((directive, *sources)) for directive, sources in policy.items())


def inline_style_hashes(template_name: str) -> tuple[str, ...]:
    """CSP sources allowing exactly the <style> blocks of a third-party template we cannot edit."""
    source = get_template(template_name).template.source  # type: ignore[attr-defined]
    blocks = re.findall(r"<style>(.*?)</style>", source, flags=re.DOTALL)
    return tuple(f"'sha256-{base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()}'" for block in blocks)


class ContentSecurityPolicyMiddleware:
    """Adds settings.CONTENT_SECURITY_POLICY unless the view set a policy of its own (the API docs pages)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = csp_header(settings.CONTENT_SECURITY_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault(CSP_HEADER, self.header)
        return response


# --- Public-only outbound HTTP ---

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
LOCAL_NAMES = ("localhost", "localhost.localdomain")


def address_refusal(address: IpAddress) -> str | None:
    """Why an outbound connection to the address is refused (None: a public address, or allowed by settings)."""
    if str(address) in settings.OUTBOUND_ALLOWED_ADDRESSES:
        return None
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return address_refusal(embedded)
    for kind in ("unspecified", "loopback", "link_local", "multicast", "private", "reserved"):
        if getattr(address, f"is_{kind}"):
            return f"{address} is a {kind.replace('_', '-')} address"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


def _embedded_ipv4(address: IpAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (IPv4-mapped, 6to4, Teredo's client), which is where it goes."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    return address.teredo[1] if address.teredo is not None else None


def host_refusal(host: str) -> str | None:
    """Why a URL's host is refused without resolving it: a local name or a non-public address literal."""
    name = host.strip("[]").rstrip(".").lower()
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        return f"{host} is a local name"
    try:
        # AI_NUMERICHOST parses what the C library would connect to (0x7f000001, 127.1, ::ffff:7f00:1), no DNS.
        infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError):
        return None  # a name: checked when it is resolved, at connect time
    return next(filter(None, (address_refusal(ipaddress.ip_address(info[4][0])) for info in infos)), None)


class PublicOnlyBackend(httpcore.SyncBackend):
    """httpcore's network backend, connecting only to addresses `address_refusal` lets through."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from error
        addresses = [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in infos]
        refusals = [address_refusal(address) for address in addresses]
        allowed = [str(address) for address, refusal in zip(addresses, refusals, strict=True) if refusal is None]
        if not allowed:
            raise httpcore.ConnectError(f"refused {host}: {refusals[0]}; only public addresses are fetched")
        # Connect to the address checked, never to the name again: a second lookup could answer differently.
        return super().connect_tcp(allowed[0], port, timeout, local_address, socket_options)


class PublicOnlyTransport(httpx.HTTPTransport):
    """httpx's transport over `PublicOnlyBackend` (HTTP/1.1, certificates verified, no proxy from the env)."""

    def __init__(self, *, retries: int = 0) -> None:
        super().__init__(retries=retries)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=100,  # httpx's default limits
            max_keepalive_connections=20,
            retries=retries,
            network_backend=PublicOnlyBackend(),
        )


def public_http_client(**kwargs: Any) -> httpx.Client:
    """An httpx client whose every connection, redirects included, goes to a public address only."""
    return httpx.Client(transport=PublicOnlyTransport(), trust_env=False, **kwargs)
