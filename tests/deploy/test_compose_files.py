"""The Containerfile and compose files, read as a user's Docker or Podman would: images default to
the public ones and can be replaced, nothing waits on health conditions, secrets come from files,
and every command the services run is a command of this version. (scripts/container-test.sh
builds and runs them for real.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.core import TyperGroup
from typer.main import get_command

from presseschau.cli import app
from presseschau.config import Settings

REPO = Path(__file__).resolve().parents[2]
DEFAULT = re.compile(r"^\$\{(?P<variable>[A-Z_]+):-(?P<default>[^}]+)\}$")


def compose(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((REPO / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def commands() -> set[str]:
    cli = get_command(app)
    assert isinstance(cli, TyperGroup)  # an app of several commands
    return set(cli.commands)


def test_containerfile_is_multi_stage_unprivileged_and_checks_health() -> None:
    text = (REPO / "Containerfile").read_text(encoding="utf-8")
    assert "ARG BASE_IMAGE=docker.io/library/python:3.12-slim" in text
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) == 2
    assert re.search(r"^USER presseschau$", text, re.MULTILINE)
    assert 'VOLUME ["/data"]' in text and "PRESSESCHAU_DATA=/data" in text
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert 'ENTRYPOINT ["presseschau"]' in text and 'CMD ["run"]' in text
    # What only the CI machines need stays in the CI script.
    for machine_specific in ("ca-certificates.crt", "containers.conf", "runc", "pip.conf"):
        assert machine_specific not in text


@pytest.mark.parametrize("name", ["compose.yaml", "compose.distributed.yaml"])
def test_images_default_to_public_ones_and_can_be_replaced(name: str) -> None:
    services = compose(name)["services"]
    for service, spec in services.items():
        image = DEFAULT.match(spec["image"])
        assert image, f"{service}: image {spec['image']!r} is not ${{VARIABLE:-default}}"
        if "build" in spec:
            assert spec["build"]["dockerfile"] == "Containerfile"
            base = DEFAULT.match(spec["build"]["args"]["BASE_IMAGE"])
            assert base and base["default"] == "docker.io/library/python:3.12-slim"
        else:
            assert image["default"].startswith("docker.io/library/"), service


@pytest.mark.parametrize("name", ["compose.yaml", "compose.distributed.yaml"])
def test_services_run_commands_of_this_version(name: str) -> None:
    known = commands()
    for service, spec in compose(name)["services"].items():
        if "build" not in spec:
            continue
        entrypoint = " ".join(spec.get("entrypoint") or [])
        for command in [spec.get("command", ["run"])[0], *re.findall(r"presseschau ([a-z-]+)", entrypoint)]:
            assert command in known, f"{service}: {command}"
        for variable in spec.get("environment", {}):
            field = variable.removeprefix("PRESSESCHAU_").removesuffix("_FILE").lower()
            assert field in Settings.model_fields, f"{service}: {variable}"


def test_distributed_waits_without_health_conditions_and_reads_secrets_from_files() -> None:
    spec = compose("compose.distributed.yaml")
    services = spec["services"]
    assert {"web", "worker", "beat", "db", "redis", "nginx", "builder"} <= set(services)
    for service, body in services.items():
        for dependency in body.get("depends_on", []):
            assert isinstance(dependency, str), f"{service}: depends_on must not wait on a health condition"
        assert "healthcheck" not in body
        if "build" in body:
            assert "migrate --wait" in " ".join(body["entrypoint"]), service
            assert body["environment"]["PRESSESCHAU_DATABASE_URL_FILE"] == "/run/secrets/database_url"
    assert services["db"]["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert {secret["file"] for secret in spec["secrets"].values()} == {
        "./secrets/postgres_password",
        "./secrets/database_url",
    }
    assert "password" not in (REPO / "compose.distributed.yaml").read_text().lower().replace("postgres_password", "")
    assert services["beat"]["command"].count("--beat") == 1
    assert all("--beat" not in services[name]["command"] for name in ("web", "worker"))


def test_nginx_serves_the_build_and_hands_the_rest_to_the_app() -> None:
    conf = (REPO / "deploy" / "nginx" / "presseschau.conf").read_text(encoding="utf-8")
    assert "server web:8000;" in conf
    assert "try_files $uri $uri/index.html @app;" in conf
    assert re.search(r"location ~ \^/\(admin\|api\|healthz\)", conf)
    assert "location = /metrics { return 404; }" in conf


def test_published_ports_are_loopback_only() -> None:
    for name in ("compose.yaml", "compose.distributed.yaml"):
        for service, body in compose(name)["services"].items():
            for port in body.get("ports", []):
                assert port.startswith("127.0.0.1:"), f"{name} {service}: {port}"
