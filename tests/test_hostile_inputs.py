"""Property-based: out-of-range, malformed and hostile values at every route and every numeric CLI
argument (issue 22). The route and parameter lists are read from the app and the command line
themselves, so a new route or option is covered without a change here. Nothing may answer 500 or
print a traceback: unknown IDs are 404, malformed or out-of-range values 4xx with a clear message."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import pytest
import typer
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Mount
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app as cli_app
from presseschau.editorial.users import add_user
from presseschau.web.app import create_app
from tests.web.test_admin import PASSWORD, _csrf, _flatten, login
from tests.web.test_api import token

FAST = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.large_base_example],
)
# Text a URL or a form field may carry: numbers past 64 bits, negative, non-ASCII digits, floats,
# NaN, control characters, markup; no lone surrogates (no client can send those in a URL).
# Typed as its literal: hypothesis's decorated `characters` gives a bare tuple no context to infer it from.
SURROGATES: tuple[Literal["Cs"]] = ("Cs",)
HOSTILE_TEXT = st.one_of(
    st.integers(min_value=2**63 - 2, max_value=10**40).map(str),
    st.integers(min_value=-(10**40), max_value=-1).map(str),
    st.sampled_from(
        ["1e999", "NaN", "Infinity", "-0", "²", "١٢", "0x1F", " 7", "9" * 400, "1.5", "\x00", "%00", "\u202e1", ""]
    ),
    st.text(st.characters(blacklist_categories=SURROGATES), max_size=12),
)
# Raw JSON values for bodies: what json.loads takes but no stored value can hold, and hostile text.
HOSTILE_JSON = st.one_of(
    st.integers(min_value=2**63, max_value=10**40).map(str),
    st.sampled_from(
        ["1e999", "-1e999", "NaN", "Infinity", '"\\ud800"', '"a\\u0000b"', '"\\u001b]0;x\\u0007"', "[" * 60 + "]" * 60]
    ),
    st.sampled_from(['"\\u202eevil"', "{}", "[5]", '{"include": [5]}', "null", "true", "-1", "0"]),
)
# Form fields the admin forms read as numbers or IDs.
NUMERIC_FORM_FIELDS = ("artikel", "mit", "version", "absatz", "intervall", "mindestwoerter", "zu", "von", "seite")
# Routes that end the test's own session or send mail; exercised by their own tests.
SKIPPED = {("POST", "/admin/abmelden"), ("POST", "/admin/anmelden"), ("POST", "/presseschau/abonnieren")}


def _routes(app: Any, prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    for route in app.routes:
        if isinstance(route, Mount) and hasattr(route.app, "routes"):  # not a mounted StaticFiles
            yield from _routes(route.app, prefix + route.path)
    for route in _flatten(app.routes):
        if isinstance(route, APIRoute):
            yield prefix, route


def _url(prefix: str, route: APIRoute, value: Any) -> str:
    return prefix + re.sub(r"\{[^}]+\}", lambda _: quote(str(value), safe=""), route.path)


def _assert_no_server_error(answer: Any, where: str) -> None:
    assert answer.status_code < 500, (where, answer.status_code, answer.text[:300])
    assert "Traceback" not in answer.text, where


@pytest.fixture
def client(context: AppContext) -> Iterator[TestClient]:
    with context.database.session() as session:
        add_user(session, "anna", PASSWORD, role="admin")
    with TestClient(create_app(context), follow_redirects=False, raise_server_exceptions=False) as test_client:
        yield test_client


def test_every_route_takes_hostile_ids_and_numbers(client: TestClient, context: AppContext) -> None:
    routes = [(prefix, route) for prefix, route in _routes(client.app) if route.methods]
    assert len(routes) >= 60  # API, site and admin: read from the app
    bearer = token(context, "fuzz", role="admin", scope="write")
    login(client)
    csrf = _csrf(client.get("/admin/").text)

    @settings(FAST, max_examples=4)  # each example sends one request to every route (about 80)
    @given(st.data())
    def probe(data: st.DataObject) -> None:
        for prefix, route in routes:
            for method in sorted(route.methods or ()):
                if (method, prefix + route.path) in SKIPPED or method == "HEAD":
                    continue
                url = _url(prefix, route, data.draw(HOSTILE_TEXT))
                query = {param.name: data.draw(HOSTILE_TEXT) for param in route.dependant.query_params}
                query.update(dict.fromkeys(("seite", "zu", "von"), data.draw(HOSTILE_TEXT)))
                headers = bearer if prefix else {}
                if prefix and route.body_field is not None:
                    fields = {name: data.draw(HOSTILE_JSON) for name in ("url", "name", "poll_interval_s", "filters")}
                    body = "{" + ",".join(f'"{key}": {value}' for key, value in fields.items()) + "}"
                    answer = client.request(
                        method, url, params=query, headers={**headers, "Content-Type": "application/json"}, content=body
                    )
                elif method == "POST" and not prefix:
                    form = dict.fromkeys(NUMERIC_FORM_FIELDS, data.draw(HOSTILE_TEXT))
                    answer = client.post(url, params=query, data={**form, "csrf_token": csrf, "aktion": "trennen"})
                else:
                    answer = client.request(method, url, params=query, headers=headers)
                _assert_no_server_error(answer, f"{method} {url}")
                if prefix and answer.status_code >= 400:
                    assert answer.headers["content-type"] == "application/json", (method, url, answer.text[:200])
                    assert "detail" in json.loads(answer.text), (method, url, answer.text[:200])

    probe()


def _numeric_parameters() -> list[tuple[list[str], str, list[str]]]:
    """(command path, how to pass the value, other required arguments) for every int parameter."""
    found = []

    def walk(command: Any, path: list[str]) -> None:
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, [*path, name])
        if getattr(command, "commands", None) or path[:1] in (["serve"], ["run"], ["demo"], ["worker"]):
            return  # long-running commands: their numbers are checked below, without starting them
        required = [p for p in command.params if p.required and p.param_type_name == "argument"]
        for param in command.params:
            if str(param.bare_type()) == "int":
                others = ["x" if str(other.bare_type()) == "str" else "1" for other in required if other is not param]
                found.append((path, param.opts[0] if param.param_type_name == "option" else "", others))

    walk(typer.main.get_command(cli_app), [])
    return found


def test_every_numeric_cli_argument_refuses_hostile_values_in_one_line(data_dir: Path) -> None:
    parameters = _numeric_parameters()
    assert len(parameters) >= 20
    runner = CliRunner()
    assert runner.invoke(cli_app, ["--data", str(data_dir), "init"]).exit_code == 0

    @settings(FAST, max_examples=3)  # each example runs every numeric parameter once (about 30)
    @given(st.data())
    def probe(data: st.DataObject) -> None:
        for path, option, others in parameters:
            value = data.draw(HOSTILE_TEXT.filter(lambda text: not text.startswith("-") or text[1:].isdigit()))
            args = [*path, option, value, *others] if option else [*path, value, *others]
            result = runner.invoke(cli_app, ["--data", str(data_dir), *args])
            assert "Traceback" not in result.output, (args, result.output[-500:])
            assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)

    probe()


@pytest.mark.parametrize("value", [str(-(2**63) - 1), "-9224196993839005696", str(2**63), "9" * 40])
def test_every_numeric_cli_argument_refuses_numbers_past_64_bits_either_way(data_dir: Path, value: str) -> None:
    # Found by the probe above: `fetch --source -9224196993839005696` ended in an OverflowError.
    runner = CliRunner()
    assert runner.invoke(cli_app, ["--data", str(data_dir), "init"]).exit_code == 0
    for path, option, others in _numeric_parameters():
        args = [*path, option, value, *others] if option else [*path, value, *others]
        result = runner.invoke(cli_app, ["--data", str(data_dir), *args])
        assert result.exit_code == 2 and "Traceback" not in result.output, (args, result.output[-500:])


@pytest.mark.parametrize("command", [["serve"], ["run", "--no-serve"], ["demo", "--no-serve"]])
@pytest.mark.parametrize("port", ["99999999999999999999", "70000", "-1", "0"])
def test_long_running_commands_refuse_hostile_ports_before_starting(
    data_dir: Path, command: list[str], port: str
) -> None:
    result = CliRunner().invoke(cli_app, ["--data", str(data_dir), *command, "--port", port])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output


@pytest.mark.parametrize("value", ["²", "١٢", "0x1F", "½"])
def test_digits_int_refuses_are_no_page_or_filter_numbers(client: TestClient, value: str) -> None:
    # `str.isdigit()` passes "²", which `int()` refuses: `/?seite=²` answered 500 (found by the probe).
    for path, params in [("/", {"seite": value}), ("/suche", {"q": "Bank", "quelle": value, "seite": value})]:
        _assert_no_server_error(client.get(path, params=params), f"{path} {params}")
