"""`presseschau stories …` and `presseschau review …` from the command line."""

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


def test_stories_and_review_commands(data_dir: Path) -> None:
    context = AppContext.for_data_dir(data_dir)
    with context.database.session() as session:
        quake = publish_event(session, context.settings, QUAKE)
        publish_event(session, context.settings, STARSHIP)
        story_of = {row.translation_id: row.story_id for row in session.scalars(select(StoryArticle)).all()}
    context.close()
    quake_story, second = story_of[quake[0].translation_id], story_of[quake[1].translation_id]
    assert quake_story == second
    rocket_story = next(s for s in story_of.values() if s != quake_story)

    code, output = _run(data_dir, "stories", "group")
    assert code == 0 and "Placed 0 article(s)" in output
    code, output = _run(data_dir, "stories", "list")
    assert code == 0 and output.count("2026-11-09") == 2 and "2 outlet(s)" in output
    code, output = _run(data_dir, "stories", "show", str(quake_story))
    assert code == 0 and "Meridian Post" in output and "Harbour Ledger" in output
    headline = "Beben " + RICH_MARKUP_TEXTS[0]  # printed as text, never as console markup
    code, output = _run(data_dir, "stories", "headline", str(quake_story), headline, "--editor", "anna")
    assert code == 0, output
    code, output = _run(data_dir, "review", "show", "2026-11-09")
    assert code == 0 and headline in output and "auto" in output
    code, without_day = _run(data_dir, "review", "show")  # the newest day with stories, as /presseschau/
    assert code == 0 and without_day == output
    code, output = _run(data_dir, "stories", "split", str(quake_story), str(quake[1].translation_id))
    assert code == 0 and "New story" in output
    new_story = int(output.split()[-1].rstrip("."))
    code, output = _run(data_dir, "stories", "merge", str(quake_story), str(new_story))
    assert code == 0 and "now has 2 article(s)" in output
    code, output = _run(data_dir, "review", "order", "2026-11-09", str(rocket_story))
    assert code == 0
    code, output = _run(data_dir, "review", "show", "2026-11-09")
    assert output.splitlines()[1].startswith(f"  1. story {rocket_story}:")
    code, output = _run(data_dir, "review", "withdraw", "2026-11-09")
    assert code == 0
    code, output = _run(data_dir, "review", "show", "2026-11-09")
    assert "withdrawn" in output and "not public" in output
    code, output = _run(data_dir, "review", "release", "2026-11-09")
    assert code == 0 and "released" in output
    # A day without stories is not reported "public" (nothing would show).
    code, output = _run(data_dir, "review", "show", "2020-01-01")
    assert code == 0 and output.strip() == "Presseschau 2020-01-01: no stories, nothing to show"

    # Refusals: one line, exit status 1.
    for args, message in [
        (("stories", "show", "999"), "story 999 does not exist"),
        (("stories", "headline", str(quake_story)), "give a headline or --clear"),
        (("stories", "merge", str(quake_story), str(quake_story)), "name at least one other story"),
        (("review", "release", "2020-01-01"), "no stories on 2020-01-01"),
        (("review", "show", "9.11.2026"), "is not a day"),
        (("review", "show", "2026-13-45"), "'2026-13-45' is not a day of the calendar"),
    ]:
        code, output = _run(data_dir, *args)
        assert code == 1 and message in output, (args, output)


def test_stories_show_prints_titles_and_outlets_as_text(data_dir: Path) -> None:
    # Stored titles and outlets are inline HTML; `stories show` prints their text, like `stories list`.
    context = AppContext.for_data_dir(data_dir)
    with context.database.session() as session:
        made = publish_event(
            session,
            context.settings,
            [("Barnes &amp; Noble\x1b[31m", QUAKE[0][1], "AT&amp;T &lt;b&gt;", *QUAKE[0][3:])],
        )
        story_id = session.get_one(StoryArticle, made[0].translation_id).story_id
    context.close()
    code, output = _run(data_dir, "stories", "show", str(story_id))
    assert code == 0, output
    assert "Barnes & Noble" in output and "AT&T <b>" in output
    assert "&amp;" not in output and "\x1b" not in output
