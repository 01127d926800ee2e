"""`presseschau stories passage …` and `stories merge --headline-from` from the command line."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app
from presseschau.store.models import StoryArticle
from tests.hostile import RICH_MARKUP_TEXTS
from tests.stories.story_data import QUAKE, STARSHIP, publish_event


def _run(data_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--data", str(data_dir), *args])
    return result.exit_code, result.output


def test_passage_list_pick_write_reset(data_dir: Path) -> None:
    context = AppContext.for_data_dir(data_dir)
    with context.database.session() as session:
        quake = publish_event(session, context.settings, QUAKE)
    context.close()
    translation = str(quake[0].translation_id)
    code, output = _run(data_dir, "stories", "passage", translation)
    assert (
        code == 0 and "   1. Ein Erdbeben der Stärke 5,9" in output and "   2. Die Katastrophenschutzbehörde" in output
    )
    assert "key passage (machine, sentence 2)" in output  # the body, not the opening sentence
    code, output = _run(data_dir, "stories", "passage", translation, "--pick", "1", "--editor", "anna")
    assert code == 0 and "key passage (editor's pick, sentence 1): „Ein Erdbeben" in output
    code, output = _run(data_dir, "stories", "passage", translation, "--pick", "7")
    assert code == 1 and "has sentences 1 to 2, not 7" in output
    words = "Unsere Worte " + RICH_MARKUP_TEXTS[0]  # printed as text, never as console markup
    code, output = _run(data_dir, "stories", "passage", translation, "--text", words)
    assert code == 0 and f"key passage (editors' words): {words}" in output
    code, output = _run(data_dir, "stories", "passage", translation, "--text", "x", "--reset")
    assert code == 1 and "give one of --pick, --text and --reset" in output
    code, output = _run(data_dir, "stories", "passage", translation, "--reset")
    assert code == 0 and "key passage (machine" in output
    code, output = _run(data_dir, "stories", "passage", "999")
    assert code == 1 and "translation 999 is in no story" in output


def test_merge_asks_which_headline_stays(data_dir: Path) -> None:
    context = AppContext.for_data_dir(data_dir)
    with context.database.session() as session:
        publish_event(session, context.settings, QUAKE)
        publish_event(session, context.settings, STARSHIP)
        first, second = sorted({row.story_id for row in session.scalars(select(StoryArticle)).all()})
    context.close()
    assert _run(data_dir, "stories", "headline", str(first), "Beben")[0] == 0
    assert _run(data_dir, "stories", "headline", str(second), "Starship")[0] == 0
    code, output = _run(data_dir, "stories", "merge", str(first), str(second))
    assert code == 1 and "choose the one to keep (--headline-from ID)" in output
    code, output = _run(data_dir, "stories", "merge", str(first), str(second), "--headline-from", str(second))
    assert code == 0
    code, output = _run(data_dir, "stories", "show", str(first))
    assert "Headline (editor): Starship" in output
