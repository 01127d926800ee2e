"""The network layer: address safety, redirects, robots.txt, limits, timeouts, decoding, politeness."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest

from presseschau.app import AppContext
from presseschau.config import Settings
from presseschau.ingest.encoding import decode_bytes
from presseschau.ingest.errors import (
    BlockedAddress,
    ConnectionFailed,
    HTTPStatusError,
    InvalidEncoding,
    InvalidURL,
    RobotsDisallowed,
    Timeout,
    TooLarge,
    TooManyRedirects,
)
from presseschau.ingest.fetcher import Fetcher
from presseschau.ingest.urls import check_address_allowed, normalize_url, validate_url

from .conftest import FEED_ETAG, NewsSite

PUBLIC_IP = "93.184.216.34"


def public_resolver(host: str, port: int) -> list[str]:
    return {"news.example": [PUBLIC_IP], "evil.example": ["10.0.0.7"], "mixed.example": [PUBLIC_IP, "127.0.0.1"]}[host]


def strict_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"allow_private_addresses": False, "politeness_delay_s": 0.0, **overrides}
    return Settings(**values)


# URL rules ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["ftp://news.example/a", "file:///etc/passwd", "javascript:alert(1)", "news.example/a", ""]
)
def test_only_absolute_http_urls_are_accepted(url: str) -> None:
    with pytest.raises(InvalidURL, match=r"only http and https|no host|not allowed"):
        validate_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://10.1.2.3/feed",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
    ],
)
def test_private_loopback_link_local_and_reserved_addresses_are_refused(url: str) -> None:
    with pytest.raises(BlockedAddress, match="non-public address"):
        check_address_allowed(url, allow_private=False)


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::7f00:1",  # NAT64 (RFC 6052) of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b::c0a8:101",  # NAT64 of 192.168.1.1
        "64:ff9b:1::a00:1",  # local-use NAT64 (RFC 8215)
        "2002:7f00:1::",  # 6to4 (RFC 3056) of 127.0.0.1
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2002:c0a8:101::",  # 6to4 of 192.168.1.1
        "::127.0.0.1",  # IPv4-compatible (deprecated, RFC 4291)
        "::169.254.169.254",
        "::8.8.8.8",
        "::ffff:0:7f00:1",  # IPv4-translated (SIIT, RFC 2765) of 127.0.0.1
        "::ffff:0:808:808",
        "::ffff:8.8.8.8",  # mapped: whatever it embeds, a host reaches it over IPv4
        "2002:808:808::1",  # 6to4 of a public address: a relay of anyone's choosing
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "fec0::1",  # site-local (deprecated)
        "100::1",  # discard-only
    ],
)
def test_ipv6_addresses_embedding_a_private_ipv4_are_refused(address: str) -> None:
    with pytest.raises(BlockedAddress, match="non-public address"):
        check_address_allowed(f"http://[{address}]/feed", allow_private=False)


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2606:4700::1111", "2a00:1450:4001:81c::200e"])
def test_ipv6_addresses_embedding_a_public_ipv4_are_allowed(address: str) -> None:
    check_address_allowed(f"http://[{address}]/feed", allow_private=False)


def test_every_resolved_address_must_be_public() -> None:
    check_address_allowed("https://news.example/feed", False, public_resolver)
    with pytest.raises(BlockedAddress, match=r"10.0.0.7"):
        check_address_allowed("https://evil.example/feed", False, public_resolver)
    with pytest.raises(BlockedAddress, match=r"127.0.0.1"):
        check_address_allowed("https://mixed.example/feed", False, public_resolver)
    # The operator may allow them (tests, intranet feeds).
    check_address_allowed("http://127.0.0.1/", True)


def test_normalize_url_drops_tracking_and_fragments() -> None:
    assert normalize_url("HTTPS://News.Example:443/a?utm_source=rss&id=3&fbclid=x#top") == "https://news.example/a?id=3"
    assert normalize_url("/b/c", "http://news.example/a/") == "http://news.example/b/c"


def test_loopback_server_refused_with_clear_message(news_site: NewsSite, data_dir: Path) -> None:
    context = AppContext.for_data_dir(data_dir, allow_private_addresses=False, politeness_delay_s=0.0)
    with Fetcher(context.settings) as fetcher, pytest.raises(BlockedAddress) as caught:
        fetcher.get(news_site.url("/news/harbour").replace("localhost", "127.0.0.1"))
    message = str(caught.value)
    assert "127.0.0.1" in message and "allow_private_addresses" in message
    assert news_site.requests_to("/news/harbour") == []  # refused before any request was made
    context.close()


# Redirects ----------------------------------------------------------------------------------------


def test_redirect_targets_are_checked_again() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})

    fetcher = Fetcher(strict_settings(), transport=httpx.MockTransport(handler), resolver=public_resolver)
    with fetcher, pytest.raises(BlockedAddress, match=r"169.254.169.254"):
        fetcher.get("https://news.example/story")


def test_redirects_are_followed_up_to_the_limit() -> None:
    hops: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        hops.append(request.url.path)
        number = int(request.url.path.strip("/") or 0)
        if number < 2:
            return httpx.Response(301, headers={"Location": f"/{number + 1}"})
        return httpx.Response(200, text="<html>arrived</html>")

    settings = strict_settings(http_max_redirects=2)
    with Fetcher(settings, transport=httpx.MockTransport(handler), resolver=public_resolver) as fetcher:
        response = fetcher.get("https://news.example/0")
        assert response.final_url == "https://news.example/2" and response.content == b"<html>arrived</html>"
        with pytest.raises(TooManyRedirects, match="more than 1 redirects"):
            Fetcher(strict_settings(http_max_redirects=1), transport=httpx.MockTransport(handler),
                    resolver=public_resolver).get("https://news.example/0")  # fmt: skip
    assert hops[:3] == ["/0", "/1", "/2"]


# Politeness, user agent, conditional GET ----------------------------------------------------------


def test_user_agent_and_per_host_politeness_delay() -> None:
    seen: list[str] = []
    clock = [100.0]
    sleeps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["User-Agent"])
        return httpx.Response(404 if request.url.path == "/robots.txt" else 200, text="ok")

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    settings = strict_settings(politeness_delay_s=2.0, user_agent="presseschau-test/1.0")
    with Fetcher(settings, httpx.MockTransport(handler), sleep=sleep, clock=lambda: clock[0],
                 resolver=public_resolver) as fetcher:  # fmt: skip
        fetcher.get("https://news.example/a")
        fetcher.get("https://news.example/b")
    assert set(seen) == {"presseschau-test/1.0"}
    # robots.txt, then /a after 2 s, then /b after 2 s more: every request to the host waits.
    assert sleeps == [2.0, 2.0]


def test_conditional_get_returns_not_modified(news_site: NewsSite, ingest_context: AppContext) -> None:
    with Fetcher(ingest_context.settings) as fetcher:
        first = fetcher.get(news_site.url("/rss.xml"))
        assert first.status_code == 200 and first.etag == FEED_ETAG
        second = fetcher.get(news_site.url("/rss.xml"), etag=first.etag)
    assert second.not_modified and second.content == b""
    assert news_site.requests_to("/rss.xml")[-1].headers["If-None-Match"] == FEED_ETAG


# Failures -----------------------------------------------------------------------------------------


def test_http_error_timeout_and_size_limit(news_site: NewsSite, ingest_context: AppContext) -> None:
    with Fetcher(ingest_context.settings) as fetcher:
        with pytest.raises(HTTPStatusError, match="HTTP 500") as caught:
            fetcher.get(news_site.url("/news/broken"))
        assert caught.value.status_code == 500 and news_site.url("/news/broken") in str(caught.value)
        with pytest.raises(Timeout, match=r"no answer within 0.5 s"):
            fetcher.get(news_site.url("/news/slow"))
        with pytest.raises(TooLarge, match="300000"):
            fetcher.get(news_site.url("/news/huge"))


def test_streamed_body_without_length_is_cut_off() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        return httpx.Response(200, stream=httpx.ByteStream(b"x" * 5000))  # no Content-Length check possible

    def chunked(request: httpx.Request) -> httpx.Response:
        response = handler(request)
        response.headers.pop("Content-Length", None)
        return response

    fetcher = Fetcher(strict_settings(http_max_bytes=1000), httpx.MockTransport(chunked), resolver=public_resolver)
    with fetcher, pytest.raises(TooLarge, match="download aborted"):
        fetcher.get("https://news.example/big")


def test_robots_txt_disallow_is_respected(news_site: NewsSite, ingest_context: AppContext) -> None:
    with Fetcher(ingest_context.settings) as fetcher:
        with pytest.raises(RobotsDisallowed, match=r"robots.txt"):
            fetcher.get(news_site.url("/private/memo"))
        fetcher.get(news_site.url("/news/harbour"))
        fetcher.get(news_site.url("/news/orchard"))
    assert news_site.requests_to("/private/memo") == []
    assert len(news_site.requests_to("/robots.txt")) == 1  # cached per host


def test_robots_txt_server_error_means_disallow_and_can_be_ignored() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503 if request.url.path == "/robots.txt" else 200, text="<html>ok</html>")

    fetcher = Fetcher(strict_settings(), httpx.MockTransport(handler), resolver=public_resolver)
    with fetcher, pytest.raises(RobotsDisallowed, match="unreachable"):
        fetcher.get("https://news.example/a")
    with Fetcher(strict_settings(respect_robots_txt=False), httpx.MockTransport(handler),
                 resolver=public_resolver) as fetcher:  # fmt: skip
        assert fetcher.get("https://news.example/a").status_code == 200


# Decoding -----------------------------------------------------------------------------------------


def test_decoding_follows_header_meta_and_survives_damage() -> None:
    assert decode_bytes("Grüße".encode(), "text/html; charset=utf-8").text == "Grüße"
    cp1252 = b'<meta charset="windows-1252"><p>caf\xe9 \x93quoted\x94</p>'
    assert "café “quoted”" in decode_bytes(cp1252, "text/html").text
    latin_header = decode_bytes("naïve".encode("latin-1"), "text/html; charset=ISO-8859-1")
    assert latin_header.text == "naïve"
    damaged = decode_bytes("Grüße aus Köln ".encode() * 20 + b"\xff", "text/html; charset=utf-8")
    assert damaged.lossy and damaged.text.startswith("Grüße aus Köln")
    assert decode_bytes(b"\xef\xbb\xbfhello").text == "hello"
    with pytest.raises(InvalidEncoding, match="binary"):
        decode_bytes(bytes(range(256)) * 4, "text/html")


@pytest.mark.parametrize(
    "text",
    [
        "<p>A naïve plan.</p>",
        "<html><body><p>The naïve approach to the café’s résumé was “interesting”, said Zoë.</p></body></html>",
    ],
)
def test_undeclared_western_text_is_read_as_windows_1252(text: str) -> None:
    decoded = decode_bytes(text.encode("cp1252"), "text/html")
    assert (decoded.text, decoded.encoding) == (text, "cp1252")


def test_undeclared_central_european_text_keeps_its_encoding() -> None:
    text = "<html><body><p>Příliš žluťoučký kůň úpěl ďábelské ódy. Zażółć gęślą jaźń.</p></body></html>"
    assert decode_bytes(text.encode("cp1250"), "text/html").text == text


# Connect-time check (DNS rebinding) ----------------------------------------------------------------


def test_rebinding_dns_answer_is_refused_at_connect_time(news_site: NewsSite) -> None:
    answers = iter([[PUBLIC_IP], ["127.0.0.1"]])  # public for the pre-check, loopback when connecting

    def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    port = int(news_site.base.rsplit(":", 1)[1])
    settings = strict_settings(respect_robots_txt=False)
    with Fetcher(settings, resolver=rebinding) as fetcher, pytest.raises(BlockedAddress, match="connect time"):
        fetcher.get(f"http://rebind.example:{port}/news/harbour")
    assert news_site.requests_to("/news/harbour") == []


def test_guarded_transport_connects_to_the_checked_address(
    news_site: NewsSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    import presseschau.ingest.transport as transport

    # Treat loopback as public for this test only, to reach the local server through the guard.
    monkeypatch.setattr(transport, "is_public_address", lambda address: True)
    monkeypatch.setattr("presseschau.ingest.urls.is_public_address", lambda address: True)
    port = int(news_site.base.rsplit(":", 1)[1])
    with Fetcher(strict_settings(), resolver=lambda host, p: ["127.0.0.1"]) as fetcher:
        response = fetcher.get(f"http://courier.example:{port}/news/harbour")
    assert response.status_code == 200 and b"sea wall" in response.content
    assert news_site.requests_to("/news/harbour")[0].headers["Host"] == f"courier.example:{port}"


def test_fetches_through_a_configured_proxy(news_site: NewsSite) -> None:
    # The proxy is on loopback (configured, so allowed); the target name does not resolve here
    # (.invalid never does), so only a request through the proxy can succeed.
    settings = strict_settings(http_proxy=news_site.base)
    with Fetcher(settings) as fetcher:
        response = fetcher.get("http://paper.invalid/news/harbour")
        assert response.status_code == 200 and b"Harbour" in response.content
        # Targets are still checked: a private address is refused, proxy or not.
        with pytest.raises(BlockedAddress, match="non-public"):
            fetcher.get("http://127.0.0.1:9/private")
    proxied = news_site.requests_to("/news/harbour")
    assert proxied and proxied[-1].headers["Host"] == "paper.invalid"
    assert news_site.requests_to("/robots.txt")[-1].headers["Host"] == "paper.invalid"


def test_a_host_that_does_not_resolve_fails_clearly_without_a_proxy() -> None:
    unresolvable = r"cannot resolve host 'paper\.invalid'"
    with Fetcher(strict_settings()) as fetcher, pytest.raises(ConnectionFailed, match=unresolvable):
        fetcher.get("http://paper.invalid/news/harbour")


def test_fetchers_share_one_tls_context_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # A fetcher is built per poll; each used to load certifi's CA bundle again (twice when guarded).
    configurations = [
        strict_settings(),
        strict_settings(allow_private_addresses=True),
        strict_settings(http_proxy="http://proxy.example:3128"),
    ]
    for settings in configurations:  # the process's contexts, built at most once
        Fetcher(settings).close()
    built: list[object] = []
    create = ssl.create_default_context

    def counting(*args: object, **kwargs: object) -> ssl.SSLContext:
        built.append(args)
        return create(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl, "create_default_context", counting)
    for settings in configurations * 2:
        with Fetcher(settings) as fetcher:
            assert fetcher.client is not None
    assert built == []
