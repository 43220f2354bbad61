"""The proxies in front of the service (``SUIREN_FORWARDED_ALLOW_IPS``): the client's address
and scheme come from the ones named, and from no one else. Behind a proxy on another host
that is not named, every worker would share the proxy's address — one address's 20 logins a
minute for a whole province; a client that could name its own address would pass the limit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from suiren.portal.app import create_app
from suiren.settings import trusted_proxies
from tests.api import settings_for
from tests.ledger_helpers import resident_id

PROXY = ("10.20.0.5", 41000)  # the address the service sees a request come from


@pytest.fixture
def served(database_url) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    url, _ = database_url

    def client(proxies: str | None, peer: tuple[str, int] = PROXY) -> TestClient:
        settings = settings_for(url, today="2026-06-15", demo_codes=True)
        if proxies is not None:  # None: the default
            settings.forwarded_allow_ips = proxies
        return TestClient(create_app(settings), raise_server_exceptions=False, client=peer)

    yield client


def codes(client: TestClient, forwarded_for: list[str], first: int = 100) -> list[int]:
    """Each a code for another login (a login's own next code waits a minute), sent through
    the proxy for the client ``forwarded_for`` names."""
    return [
        client.post(
            "/api/v1/auth/code",
            json={"resident_id": resident_id(first + n)},
            headers={"X-Forwarded-For": address},
        ).status_code
        for n, address in enumerate(forwarded_for)
    ]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_behind_a_named_proxy_each_client_has_its_own_limit(served) -> None:  # type: ignore[no-untyped-def]
    with served("10.20.0.0/16, ::1") as client:
        many = codes(client, [f"198.51.100.{n}" for n in range(25)])
        assert many == [202] * 25  # 25 clients, one request each
        one = codes(client, ["203.0.113.9"] * 21, first=200)
        assert one[:20] == [202] * 20 and one[20] == 429  # one client: its 20


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_client_not_a_named_proxy_cannot_name_its_address(served) -> None:  # type: ignore[no-untyped-def]
    with served("127.0.0.1") as client:  # the default: 10.20.0.5 is not believed
        answers = codes(client, [f"198.51.100.{n}" for n in range(21)])
        assert answers[:20] == [202] * 20 and answers[20] == 429


@pytest.mark.parametrize("backend", ["sqlite"])
def test_https_at_a_named_proxy_makes_the_portals_cookies_secure(served) -> None:  # type: ignore[no-untyped-def]
    for proxies, secure in (("10.20.0.5", True), ("", False)):
        with served(proxies) as client:
            page = client.get("/login", headers={"X-Forwarded-Proto": "https"})
            assert page.status_code == 200
            cookies = page.headers.get_list("set-cookie")
            assert cookies and all(("; secure" in c.lower()) is secure for c in cookies), cookies


@pytest.mark.parametrize("value", ["*", "10.0.0.300", "proxy.example", "10.0.0.1,*", "10.0.0.0/33"])
def test_a_proxy_that_is_not_an_address_or_network_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="forwarded_allow_ips"):
        settings_for(forwarded_allow_ips=value)


def test_addresses_and_networks_of_both_families_are_taken() -> None:
    settings = settings_for(forwarded_allow_ips=" 10.0.0.0/8, 192.0.2.7 ,::1, 2001:db8::/32,")
    assert settings.forwarded_allow_ips.startswith(" 10.0.0.0/8")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_network_written_with_host_bits_is_believed_as_its_network(served) -> None:  # type: ignore[no-untyped-def]
    """``10.20.0.5/16`` passes the settings' check (it is a network, written from one of its
    addresses): the server is given ``10.20.0.0/16``, which it reads as a network — the former
    it would take for a name no client has, and believe no proxy."""
    assert trusted_proxies(" 10.20.0.5/16, 2001:db8::1/32 ,::1,") == [
        "10.20.0.0/16",
        "2001:db8::/32",
        "::1",
    ]
    settings_for(forwarded_allow_ips="10.20.0.5/16")  # taken
    with served("10.20.0.5/16") as client:
        page = client.get("/login", headers={"X-Forwarded-Proto": "https"})
        cookies = page.headers.get_list("set-cookie")
        assert cookies and all("; secure" in c.lower() for c in cookies), cookies
        many = codes(client, [f"198.51.100.{n}" for n in range(21)])
        assert many == [202] * 21  # 21 clients, not one proxy's 20 a minute


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("loopback", ["127.0.0.1", "::1"])
def test_by_default_a_proxy_on_this_host_is_believed_on_either_loopback(served, loopback) -> None:  # type: ignore[no-untyped-def]
    with served(None, (loopback, 41000)) as client:
        assert codes(client, [f"198.51.100.{n}" for n in range(25)], first=300) == [202] * 25
