"""The deepl engine against a protocol-faithful loopback DeepL API."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app
from presseschau.config import Settings
from presseschau.reporting import collect_status
from presseschau.store.models import ServiceState, utcnow
from presseschau.translate.engines import clear_engine_cache, engine_specs, get_engine
from presseschau.translate.engines import deepl as deepl_module
from presseschau.translate.engines.deepl import DeepLEngine, default_url
from presseschau.translate.engines.http import EngineRequestError, HttpClient, HttpPolicy
from presseschau.translate.queue import translate_article, translate_queued

from .conftest import DEEPL_KEY as KEY
from .conftest import FakeEngine
from .fakes.article import add_article, assert_complete_and_aligned, assert_not_published, translation_of
from .fakes.deepl import FakeDeepL
from .fakes.server import Fault, fake_german


@pytest.fixture
def ctx(data_dir: Path, deepl: FakeDeepL) -> Iterator[AppContext]:
    context = AppContext.for_data_dir(
        data_dir,
        engine="deepl",
        deepl_api_key=KEY,
        deepl_api_url=deepl.url,
        deepl_formality="less",
        engine_timeout_s=0.5,
        engine_max_retries=3,
        engine_retry_base_s=0.01,
        engine_retry_max_s=0.05,
    )
    yield context
    context.close()


def test_free_and_pro_endpoints_follow_the_key() -> None:
    assert default_url("abc:fx") == "https://api-free.deepl.com"
    assert default_url("abc") == "https://api.deepl.com"


def test_article_translates_completely_with_links_and_usage(ctx: AppContext, deepl: FakeDeepL) -> None:
    article_id = add_article(ctx)
    outcome = translate_article(ctx.database, ctx.settings, article_id)
    translation = translation_of(ctx, article_id)
    assert outcome.complete and outcome.engine == "deepl"
    assert_complete_and_aligned(translation)
    requests = deepl.calls("/v2/translate")
    assert all(r.body["formality"] == "less" and r.body["target_lang"] == "DE" for r in requests)
    assert all(r.body["tag_handling"] == "html" for r in requests)
    assert all(len(r.body["text"]) <= 50 for r in requests)
    # DeepL places each link itself: the sentence goes with a marker tag, and the link text is
    # not sent again on its own (DeepL bills every character).
    texts = [text for r in requests for text in r.body["text"]]
    assert sum('<a id="m0">capital city</a>' in text for text in texts) == 20
    assert "capital city" not in texts
    assert translation.report["markup_by_engine"] == 20 and translation.report["markup_approximate"] == 0
    # Billed characters per article and per month, shown by `presseschau status`.
    characters = translation.report["usage"]["deepl"]["characters"]
    assert characters == deepl.character_count > 1000
    status = collect_status(ctx.database, ctx.settings)
    month = next(v for k, v in status.services.items() if k.startswith("usage deepl "))
    assert month["characters"] == characters and month["articles"] == 1
    assert status.usage_this_month["deepl"]["characters"] == characters


def test_memory_reuse_second_article_costs_nothing(ctx: AppContext, deepl: FakeDeepL) -> None:
    translate_article(ctx.database, ctx.settings, add_article(ctx, number=1))
    used = deepl.character_count
    second = add_article(ctx, number=2)
    translate_article(ctx.database, ctx.settings, second)
    assert_complete_and_aligned(translation_of(ctx, second))
    # Every paragraph came from the translation memory, links where DeepL put them the first time.
    assert deepl.character_count == used


def test_recovers_from_429_5xx_timeouts_and_malformed_json(ctx: AppContext, deepl: FakeDeepL) -> None:
    ctx.settings.engine_max_retries = 4  # four faults in a row, then the answer
    deepl.inject(
        Fault(status=429, headers={"Retry-After": "0"}, body={"message": "Too many requests"}, path="/v2/translate"),
        Fault(status=503, path="/v2/translate"),
        Fault(malformed=True, path="/v2/translate"),
        Fault(delay_s=1.0, path="/v2/translate"),  # longer than the 0.5 s timeout
    )
    article_id = add_article(ctx)
    translate_article(ctx.database, ctx.settings, article_id)
    assert_complete_and_aligned(translation_of(ctx, article_id))
    assert not deepl.faults


def test_quota_exceeded_is_reported_and_nothing_is_published(ctx: AppContext, deepl: FakeDeepL) -> None:
    deepl.character_limit = 300  # a first request fits, the article does not
    article_id = add_article(ctx)
    outcome = translate_article(ctx.database, ctx.settings, article_id)
    translation = translation_of(ctx, article_id)
    assert_not_published(translation)
    assert outcome.error and outcome.error.startswith("QuotaExceeded") and "456" in outcome.error
    assert translation.paragraphs is None or translation.paragraphs == []
    assert len(deepl.calls("/v2/translate")) == 1  # a quota error is not retried


def test_quota_exceeded_mid_article_goes_to_the_fallback_engine(
    ctx: AppContext, deepl: FakeDeepL, registered_fake: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deepl_module, "MAX_TEXTS", 10)  # several requests per article
    ctx.settings.fallback_engine = "fake"
    deepl.inject(Fault(status=456, body={"message": "Quota exceeded"}, path="/v2/translate", skip=2))
    article_id = add_article(ctx)
    outcome = translate_article(ctx.database, ctx.settings, article_id)
    translation = translation_of(ctx, article_id)
    assert outcome.complete and translation.status == "done" and translation.engine == "fake"
    assert translation.report["fallback_engine"] == "fake"
    assert translation.report["fallback_from"] == "deepl"
    assert "QuotaExceeded" in translation.report["fallback_reason"]
    assert translation.report["fallback_segments"] == translation.report["engine_segments"] > 0
    # The characters DeepL billed before the quota error still count.
    assert translation.report["usage"]["deepl"]["requests"] == 2
    assert translation.report["usage"]["deepl"]["characters"] > 0
    # Nothing of the interrupted DeepL run is mixed in: every segment came from the fallback.
    assert_complete_and_aligned(translation)


def test_glossary_is_synced_as_a_deepl_glossary(data_dir: Path, deepl: FakeDeepL) -> None:
    glossary = data_dir / "glossary.tsv"
    glossary.write_text("Kyiv\tKiew\nNew Marrowby\n", encoding="utf-8")
    settings = Settings(
        data_dir=data_dir, deepl_api_key=KEY, deepl_api_url=deepl.url, glossary_path=glossary, engine_timeout_s=2
    )
    engine = get_engine("deepl", settings)
    assert isinstance(engine, DeepLEngine) and engine.glossary_id and not engine.substitute_terms
    (created,) = deepl.glossaries.values()
    assert sorted(created["entries"]) == [("Kyiv", "Kiew"), ("New Marrowby", "New Marrowby")]
    assert engine.translate_batch(["The troops moved toward Kyiv."], "en", "de") == ["Der Truppen zogen nach Kiew."]
    sent = deepl.calls("/v2/translate")[-1].body
    assert sent["glossary_id"] == engine.glossary_id and sent["text"] == ["The troops moved toward Kyiv."]

    # Unchanged glossary: found again, nothing created; changed: a new one, the stale one deleted.
    clear_engine_cache()
    assert get_engine("deepl", settings).glossary_id == engine.glossary_id  # type: ignore[attr-defined]
    assert len(deepl.calls("/v2/glossaries")) == 3  # list + create, then list
    glossary.write_text("Kyiv\tKiew\n", encoding="utf-8")
    age(deepl, engine.glossary_id, days=2)
    changed = get_engine("deepl", settings)
    assert isinstance(changed, DeepLEngine) and changed.glossary_id != engine.glossary_id
    assert list(deepl.glossaries) == [changed.glossary_id]


def age(deepl: FakeDeepL, glossary_id: str | None, days: float) -> None:
    assert glossary_id is not None
    created = datetime.now(UTC) - timedelta(days=days)
    deepl.glossaries[glossary_id]["creation_time"] = created.isoformat().replace("+00:00", "Z")


def glossary_settings(data_dir: Path, deepl: FakeDeepL, terms: str, name: str = "glossary.tsv") -> Settings:
    path = data_dir / name
    path.write_text(terms, encoding="utf-8")
    return Settings(
        data_dir=data_dir,
        deepl_api_key=KEY,
        deepl_api_url=deepl.url,
        glossary_path=path,
        engine_timeout_s=2,
        engine_max_retries=1,
        engine_retry_base_s=0.01,
        engine_retry_max_s=0.02,
    )


def test_a_failed_first_glossary_sync_is_retried_later(data_dir: Path, deepl: FakeDeepL) -> None:
    deepl.inject(*[Fault(status=503, path="/v2/glossaries") for _ in range(2)])  # DeepL down at build time
    engine = get_engine("deepl", glossary_settings(data_dir, deepl, "Kyiv\tKiew\n"))
    assert isinstance(engine, DeepLEngine) and engine.glossary_id is None and engine.substitute_terms
    now = [time.monotonic()]  # the failed try was just now
    engine.clock = lambda: now[0]
    engine.translate_batch(["The troops moved toward Kyiv."], "en", "de")
    assert len(deepl.calls("/v2/glossaries")) == 2 and "glossary_id" not in deepl.calls("/v2/translate")[-1].body
    now[0] += engine.glossary_retry_s + 1  # not on every call, but again after a while
    assert engine.translate_batch(["The troops moved toward Kyiv."], "en", "de") == ["Der Truppen zogen nach Kiew."]
    assert engine.glossary_id and not engine.substitute_terms
    assert deepl.calls("/v2/translate")[-1].body["glossary_id"] == engine.glossary_id


@pytest.mark.parametrize(
    "refusal",
    [
        None,  # really deleted: the fake answers 400 "Invalid glossary_id"
        Fault(status=404, body={"message": "Glossary not found"}, path="/v2/translate"),
    ],
    ids=["deleted-400", "not-found-404"],
)
def test_a_glossary_deleted_remotely_is_recreated_and_the_request_repeated(
    data_dir: Path, deepl: FakeDeepL, refusal: Fault | None
) -> None:
    engine = get_engine("deepl", glossary_settings(data_dir, deepl, "Kyiv\tKiew\n"))
    assert isinstance(engine, DeepLEngine) and engine.glossary_id
    old = engine.glossary_id
    if refusal is None:
        deepl.glossaries.clear()
    else:
        deepl.inject(refusal)
    assert engine.translate_batch(["The troops moved toward Kyiv."], "en", "de") == ["Der Truppen zogen nach Kiew."]
    sent = deepl.calls("/v2/translate")
    assert len(sent) == 2 and sent[0].body["glossary_id"] == old
    assert sent[1].body["glossary_id"] == engine.glossary_id and engine.glossary_id in deepl.glossaries
    assert (engine.glossary_id == old) == (refusal is not None)  # re-created only when really gone


def test_a_glossary_refused_again_fails_after_one_resync(data_dir: Path, deepl: FakeDeepL) -> None:
    engine = get_engine("deepl", glossary_settings(data_dir, deepl, "Kyiv\tKiew\n"))
    deepl.inject(*[Fault(status=400, body={"message": "Invalid glossary_id"}, path="/v2/translate") for _ in range(3)])
    with pytest.raises(EngineRequestError, match="Invalid glossary_id"):
        engine.translate_batch(["The troops moved toward Kyiv."], "en", "de")
    assert len(deepl.calls("/v2/translate")) == 2  # no loop
    # Build: list + create; then one re-sync (a list: the glossary exists, so nothing is created).
    assert [r.method for r in deepl.calls("/v2/glossaries")] == ["GET", "POST", "GET"]


def test_hosts_with_different_glossary_versions_do_not_delete_each_others(data_dir: Path, deepl: FakeDeepL) -> None:
    # Two hosts (two engine instances) during a rolling update of the glossary file.
    host_a = get_engine("deepl", glossary_settings(data_dir, deepl, "Kyiv\tKiew\n", "a.tsv"))
    host_b = get_engine("deepl", glossary_settings(data_dir, deepl, "Kyiv\tKiew\nKharkiv\tCharkiw\n", "b.tsv"))
    assert isinstance(host_a, DeepLEngine) and isinstance(host_b, DeepLEngine)
    assert host_a.glossary_id != host_b.glossary_id and len(deepl.glossaries) == 2  # A's is recent: kept
    # Once A's version is old, B's next sync deletes it; A re-creates it once and carries on.
    age(deepl, host_a.glossary_id, days=2)
    host_b.glossary_id = None
    host_b.prepare_glossary(force=True)
    assert list(deepl.glossaries) == [host_b.glossary_id]
    assert host_a.translate_batch(["Kyiv."], "en", "de") == ["Kiew."]
    assert host_b.translate_batch(["Kharkiv."], "en", "de") == ["Charkiw."]
    assert len(deepl.glossaries) == 2
    before = len(deepl.calls("/v2/glossaries"))
    for _ in range(3):  # settled: no more syncing, no more deleting
        assert host_a.translate_batch(["Kyiv."], "en", "de") == ["Kiew."]
        assert host_b.translate_batch(["Kharkiv."], "en", "de") == ["Charkiw."]
    assert len(deepl.calls("/v2/glossaries")) == before and len(deepl.glossaries) == 2


def test_text_is_sent_as_escaped_html_and_comes_back_literal(data_dir: Path, deepl: FakeDeepL) -> None:
    engine = get_engine("deepl", Settings(data_dir=data_dir, deepl_api_key=KEY, deepl_api_url=deepl.url))
    texts = ["Profits & losses at AT&T: 3 < 4 > 2.", "The &amp; sign and &copy stay as written."]
    assert engine.translate_batch(texts, "en", "de") == [fake_german(t) for t in texts]
    sent = deepl.calls("/v2/translate")[-1].body
    assert sent["tag_handling"] == "html"
    assert sent["text"] == [
        "Profits &amp; losses at AT&amp;T: 3 &lt; 4 &gt; 2.",
        "The &amp;amp; sign and &amp;copy stay as written.",
    ]


def test_the_fake_refuses_what_deepl_would_read_as_markup(deepl: FakeDeepL) -> None:
    http = HttpClient("t", deepl.url, HttpPolicy(max_retries=0), headers={"Authorization": f"DeepL-Auth-Key {KEY}"})
    for text in ("3 < 4", "Fish &copy chips"):
        with pytest.raises(EngineRequestError, match="unescaped markup"):
            http.request(
                "POST", "/v2/translate", json_body={"text": [text], "target_lang": "DE", "tag_handling": "html"}
            )
    with pytest.raises(EngineRequestError, match="tag_handling"):
        http.request("POST", "/v2/translate", json_body={"text": ["a"], "target_lang": "DE", "tag_handling": "md"})


def test_engines_listing_shows_configured_reachable_and_quota(data_dir: Path, deepl: FakeDeepL) -> None:
    deepl.character_count = 1234
    spec = next(s for s in engine_specs() if s.name == "deepl")
    ready, details = spec.probe(Settings(data_dir=data_dir, deepl_api_key=KEY, deepl_api_url=deepl.url))
    assert ready and details.startswith("configured; reachable") and "498,766 of 500,000 characters left" in details
    ready, details = spec.probe(Settings(data_dir=data_dir))
    assert not ready and details.startswith("not configured")
    clear_engine_cache()
    ready, details = spec.probe(Settings(data_dir=data_dir, deepl_api_key="wrong", deepl_api_url=deepl.url))
    assert (
        not ready and "credentials rejected (403)" in details and "wrong" not in details.replace("wrong endpoint", "")
    )


def test_api_key_never_logged(ctx: AppContext, deepl: FakeDeepL, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    deepl.inject(*[Fault(status=500, body={"message": f"echo {KEY}"}, path="/v2/translate") for _ in range(4)])
    article_id = add_article(ctx)
    outcome = translate_article(ctx.database, ctx.settings, article_id)
    assert outcome.error and "EngineUnavailable" in outcome.error and "***" in outcome.error
    assert KEY not in caplog.text and KEY not in outcome.error
    with ctx.database.session() as session:
        assert all(KEY not in str(row.value) for row in session.scalars(select(ServiceState)))


def test_cli_status_and_engines_show_usage_and_quota(ctx: AppContext, deepl: FakeDeepL, data_dir: Path) -> None:
    translate_article(ctx.database, ctx.settings, add_article(ctx))
    (data_dir / "presseschau.toml").write_text(
        f'deepl_api_key = "{KEY}"\ndeepl_api_url = "{deepl.url}"\n', encoding="utf-8"
    )
    runner = CliRunner()
    status = runner.invoke(app, ["--data", str(data_dir), "status"])
    assert status.exit_code == 0, status.output
    assert f"usage deepl {utcnow():%Y-%m}" in status.output
    assert f"characters={deepl.character_count}" in status.output and "articles=1" in status.output
    clear_engine_cache()
    engines = runner.invoke(app, ["--data", str(data_dir), "engines"], env={"COLUMNS": "300"})
    assert engines.exit_code == 0, engines.output
    line = next(row for row in engines.output.splitlines() if "deepl" in row and "reachable" in row)
    assert "characters left" in line and KEY not in engines.output


def test_queue_run_stops_at_a_used_up_quota(ctx: AppContext, deepl: FakeDeepL) -> None:
    deepl.character_limit = 0
    ids = [add_article(ctx, number=n) for n in range(3)]
    report = translate_queued(ctx.database, ctx.settings)
    assert report.claimed == 1 and report.aborted and report.aborted.startswith("QuotaExceeded")
    # A used-up quota is not the articles' fault: none spends an attempt, all wait for the pause.
    assert [translation_of(ctx, i).attempts for i in ids] == [0, 0, 0]
    assert all(translation_of(ctx, i).status == "queued" for i in ids)


def test_probing_deepl_creates_no_glossary(data_dir: Path, deepl: FakeDeepL) -> None:
    glossary = data_dir / "glossary.tsv"
    glossary.write_text("Kyiv\tKiew\n", encoding="utf-8")
    settings = Settings(
        data_dir=data_dir, deepl_api_key=KEY, deepl_api_url=deepl.url, glossary_path=glossary, engine_timeout_s=2
    )
    clear_engine_cache()
    ready, details = next(spec for spec in engine_specs() if spec.name == "deepl").probe(settings)
    assert ready and "characters left" in details
    assert deepl.calls("/v2/glossaries") == [] and deepl.glossaries == {}
    clear_engine_cache()
