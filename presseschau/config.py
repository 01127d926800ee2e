"""Configuration: defaults, `<data>/presseschau.toml`, then `PRESSESCHAU_*` environment variables.

Precedence (highest first): explicit keyword arguments, environment variables, the TOML file in
the data directory, the defaults below.
"""

from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_FILE_NAME = "presseschau.toml"
DEFAULT_DATA_DIR = Path("presseschau-data")
DEFAULT_USER_AGENT = "presseschau/0.1 (+https://github.com/presseschau/presseschau; news translation bot)"

PublishPolicy = Literal["auto", "review", "auto-unless-risky"]
# Mozilla's Remote Settings: the records of the Firefox Translations models, and their files.
FIREFOX_RECORDS_URL = (
    "https://firefox.settings.services.mozilla.com/v1/buckets/main/collections/translations-models-v2/records"
)
FIREFOX_ATTACHMENTS_URL = "https://firefox-settings-attachments.cdn.mozilla.net/"


def resolve_data_dir(data_dir: str | Path | None = None) -> Path:
    """The data directory: the argument, else `PRESSESCHAU_DATA`, else `./presseschau-data`."""
    chosen = data_dir or os.environ.get("PRESSESCHAU_DATA") or DEFAULT_DATA_DIR
    return Path(chosen).expanduser().resolve()


class Settings(BaseSettings):
    """Every tunable of presseschau. Field names map to `PRESSESCHAU_<NAME>` and TOML keys."""

    model_config = SettingsConfigDict(env_prefix="PRESSESCHAU_", extra="ignore")

    # Set by `load_settings` before the sources are read, so the TOML file can be found.

    data_dir: Path = Field(default_factory=resolve_data_dir)
    database_url: str | None = None
    broker_url: str | None = None

    # Languages and presentation.
    source_language: str = "en"
    target_language: str = "de"
    timezone: str = "Europe/Berlin"
    site_title: str = "Presseschau"
    site_description: str = "Internationale Nachrichten und Kommentare, ins Deutsche übersetzt."
    base_url: str = "http://127.0.0.1:8000"

    # Network (ingest).
    user_agent: str = DEFAULT_USER_AGENT
    http_timeout_s: float = 20.0
    http_max_bytes: int = 10 * 1024 * 1024
    http_max_redirects: int = 5
    politeness_delay_s: float = 1.0
    respect_robots_txt: bool = True
    allow_private_addresses: bool = False
    # A forward proxy for every fetch (http://proxy.internal:3128). The proxy itself may be a
    # private address; targets are still checked, except that a host this machine cannot resolve
    # is left to the proxy to resolve. Environment proxies (HTTP_PROXY) are not used implicitly.
    http_proxy: str | None = None
    backoff_base_s: float = 60.0
    backoff_max_s: float = 6 * 3600.0
    # A failed article page is retried no sooner than base x 2^(attempts-1) after its last try.
    item_retry_base_s: float = 300.0

    # Sources.
    default_poll_interval_s: int = 15 * 60
    poll_jitter_fraction: float = 0.1
    default_publish_policy: PublishPolicy = "auto"

    # Translation. `firefox` (Firefox Translations models) is the default local engine; `ct2` runs
    # OPUS-MT, tc-big, NLLB and M2M-100 models, on the CPU or a GPU.
    engine: str = "firefox"
    fallback_engine: str | None = None
    model: str | None = None
    models_dir: Path | None = None
    # Pull the catalog's default model on first use when none is installed (hundreds of MB).
    model_auto_pull: bool = True
    glossary_path: Path | None = None
    # Quality estimation (`presseschau.translate.quality`): `auto-unless-risky` holds an article whose
    # risk reaches the threshold (a source may set its own). The round trip translates every article
    # back with the reverse model when one is installed: a second translation's cost, so off by default.
    quality_risk_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    quality_round_trip: bool = False
    ct2_device: Literal["auto", "cpu", "cuda"] = "auto"
    ct2_compute_type: str | None = None
    ct2_threads: int = 0
    beam_size: int = 4
    length_penalty: float = 1.0
    max_batch_tokens: int = 2048
    translation_max_attempts: int = 5
    # Firefox Translations (engine `firefox`): where models come from (Mozilla's Remote Settings;
    # an operator may re-host both), which architecture to prefer, and translator processes
    # (1: in the translating thread; more only where the benchmark shows a gain).
    firefox_records_url: str = FIREFOX_RECORDS_URL
    firefox_attachments_url: str = FIREFOX_ATTACHMENTS_URL
    firefox_architecture: Literal["tiny", "base-memory", "base"] = "tiny"
    # Which Firefox's models to install when Mozilla publishes per platform (a record's filter
    # expression): desktop's (the quality anchor) or Android's smaller ones; channel release.
    firefox_platform: Literal["desktop", "android"] = "desktop"
    firefox_workers: int = Field(default=1, ge=1, le=64)

    # Remote engines (deepl, libretranslate, llm). API keys come only from here, i.e. the
    # environment (PRESSESCHAU_DEEPL_API_KEY, ...) or the TOML file; they are never logged.
    deepl_api_key: str | None = None
    # None: chosen by the key (keys ending in ":fx" are free-plan keys -> api-free.deepl.com).
    deepl_api_url: str | None = None
    deepl_formality: Literal["default", "more", "less", "prefer_more", "prefer_less"] = "default"
    libretranslate_url: str | None = None
    libretranslate_api_key: str | None = None
    # Texts per request; LibreTranslate's own --batch-limit is not published by the server.
    libretranslate_batch_limit: int = 16
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_model: str | None = None
    llm_context_tokens: int = 8192
    llm_temperature: float = 0.0
    llm_price_per_1k_input: float = 0.0
    llm_price_per_1k_output: float = 0.0
    engine_timeout_s: float = 60.0
    engine_max_retries: int = 4
    engine_retry_base_s: float = 1.0
    engine_retry_max_s: float = 60.0
    engine_concurrency: int = 2
    # Consecutive failed calls that open an engine's circuit, and how long it then stays paused.
    circuit_failure_threshold: int = 5
    circuit_reset_s: float = 300.0

    # Stories and the Presseschau des Tages (presseschau.stories): articles about one event are grouped
    # when their similarity reaches the threshold (tuned by bench/stories.py) within the window; the day's
    # review is public at `press_review_hour` (local time) under policy `auto`, or once an editor releases it.
    story_similarity_threshold: float = Field(default=0.2, gt=0.0, le=1.0)
    story_window_hours: int = Field(default=72, ge=1, le=24 * 365)  # a year: stories are news, not archives
    press_review_policy: PublishPolicy = "auto"
    press_review_hour: int = Field(default=18, ge=0, le=23)
    # Two-sentence German machine summaries in the review, written by the configured LLM (llm_base_url, llm_model).
    press_review_summaries: bool = True
    # The review as a newsletter (double opt-in on /presseschau/): off until enabled, through this SMTP server.
    newsletter_enabled: bool = False
    newsletter_from: str = "presseschau@localhost"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_s: float = 30.0

    # Rights and reuse (presseschau.store.rights): how much of an article the site shows -- full |
    # excerpt | quote | headline -- unless its source says otherwise; the cap for articles whose
    # licence forbids adaptations and for those without a known licence (None: the source's mode);
    # the excerpt's length; the English original beside the German text where the mode is full.
    default_reuse: Literal["full", "excerpt", "quote", "headline"] = "full"
    reuse_if_no_derivatives: Literal["full", "excerpt", "quote", "headline"] = "quote"
    reuse_if_unknown: Literal["full", "excerpt", "quote", "headline"] | None = None
    default_excerpt_words: int = Field(default=150, ge=20, le=2000)
    bilingual_reading: bool = True
    # Readers' correction reports: how many one address may send per hour (per server process).
    correction_reports_per_hour: int = Field(default=5, ge=1)

    # Work queue (the `run` service).
    lease_seconds: int = 600

    # Web / static output.
    host: str = "127.0.0.1"
    port: int = 8000
    static_output_dir: Path | None = None
    page_size: int = 20
    # /metrics answers only requests with `Authorization: Bearer <metrics_token>` when it is set.
    metrics_token: str | None = None

    # Admin area (/admin/): signing key for session cookies (created on first use, mode 0600;
    # relative paths are inside the data directory); Secure cookies: None = when served over https.
    secret_key_path: Path = Path("secret_key")
    admin_cookie_secure: bool | None = None
    admin_session_hours: int = 12
    # JSON API (/api/v1/): requests per minute and token (per server process).
    api_rate_limit_per_minute: int = Field(default=120, ge=1)

    @field_validator("data_dir", mode="before")
    @classmethod
    def _expand_data_dir(cls, value: Any) -> Any:
        return resolve_data_dir(value) if value else resolve_data_dir()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, SecretFilesSource(settings_cls)]
        toml_path = _toml_path_of(init_settings)
        if toml_path is not None and toml_path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    # Derived locations -------------------------------------------------------------------------

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'presseschau.sqlite3'}"

    @property
    def effective_models_dir(self) -> Path:
        return self.models_dir or self.data_dir / "models"

    @property
    def config_path(self) -> Path:
        return self.data_dir / CONFIG_FILE_NAME


class SecretFilesSource(PydanticBaseSettingsSource):
    """`PRESSESCHAU_<NAME>_FILE=/run/secrets/x`: setting <name> is that file's content, without its
    final line break (the secrets convention of Docker, compose and systemd's credentials). The
    variable `PRESSESCHAU_<NAME>` itself takes precedence."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # all values come from __call__

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in self.settings_cls.model_fields:
            variable = f"PRESSESCHAU_{name.upper()}_FILE"
            path = os.environ.get(variable)
            if not path:
                continue
            try:
                values[name] = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
            except (OSError, UnicodeDecodeError) as error:
                reason = getattr(error, "strerror", None) or error
                raise SettingsError(f"environment variable {variable}: cannot read {path}: {reason}") from None
        return values


def settings_for_server(settings: Settings, host: str | None, port: int | None) -> Settings:
    """`settings` for a server on `host`:`port`: without a configured `base_url`, canonical links,
    feeds and sitemaps point at the address actually served (not at the default port)."""
    host = host or settings.host
    port = port or settings.port
    if "base_url" in settings.model_fields_set:
        return settings.model_copy(update={"host": host, "port": port})
    # A wildcard address is no URL a reader can open; the loopback name reaches the same server.
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    return settings.model_copy(update={"host": host, "port": port, "base_url": f"http://{shown_host}:{port}"})


def _toml_path_of(init_settings: PydanticBaseSettingsSource) -> Path | None:
    """The TOML file of the data directory given to the constructor (`load_settings` always gives
    one), read from the constructor's own arguments: no state outside the call. `Settings()` without
    a data directory reads no file, only the environment."""
    data_dir = getattr(init_settings, "init_kwargs", {}).get("data_dir")
    return Path(data_dir) / CONFIG_FILE_NAME if data_dir is not None else None


class SettingsError(ValueError):
    """The configuration cannot be used; the message names the file or variable, key and reason."""


def _origin(key: str, toml_path: Path) -> str:
    variable = f"PRESSESCHAU_{key.upper()}"
    if variable in os.environ:
        return f"environment variable {variable}"
    if f"{variable}_FILE" in os.environ:
        return f"{os.environ[variable + '_FILE']} (environment variable {variable}_FILE)"
    return f"{toml_path}, key {key!r}"


def load_settings(data_dir: str | Path | None = None, **overrides: Any) -> Settings:
    """Settings for the data directory `data_dir` (see `resolve_data_dir`), with its TOML file.

    Raises `SettingsError` for an unreadable TOML file or a value of the wrong kind."""
    resolved = resolve_data_dir(data_dir)
    toml_path = resolved / CONFIG_FILE_NAME
    try:
        settings = Settings(data_dir=resolved, **overrides)
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{toml_path} is not valid TOML: {error}") from None
    except ValidationError as error:
        problems = [
            f"{_origin('.'.join(str(part) for part in item['loc']), toml_path)}: {item['msg']} "
            f"(got {item.get('input')!r})"
            for item in error.errors()
        ]
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None
    except OSError as error:
        raise SettingsError(f"cannot read {toml_path}: {error.strerror or error}") from None
    _warn_unknown_keys(toml_path)
    return settings


def _warn_unknown_keys(toml_path: Path) -> None:
    """A misspelt key would otherwise be ignored without a word."""
    if not toml_path.is_file():
        return
    try:
        keys = tomllib.loads(toml_path.read_text(encoding="utf-8")).keys()
    except (OSError, ValueError):
        return
    unknown = sorted(set(keys) - set(Settings.model_fields))
    if unknown:
        logging.getLogger("presseschau").warning(
            "%s: unknown setting(s) %s ignored", toml_path, ", ".join(repr(key) for key in unknown)
        )
