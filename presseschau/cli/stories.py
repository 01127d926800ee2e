"""`stories group|summarize|list|show|merge|split|headline|passage` and `review show|order|release|withdraw|send`.

Output is plain text through `typer.echo` (titles from outside are never read as console markup).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer

from presseschau.app import AppContext
from presseschau.cli.output import echo, exit_on, fail, when
from presseschau.cli.root import app
from presseschau.publish.queries import plain_text
from presseschau.stories import key_passages, service
from presseschau.stories.passages import Passage

stories_app = typer.Typer(
    help="Stories: one event, several outlets (group, list, show, merge, split, headline).", no_args_is_help=True
)
review_app = typer.Typer(
    help="Die Presseschau des Tages: show, order, release or withdraw a day's review.", no_args_is_help=True
)
app.add_typer(stories_app, name="stories")
app.add_typer(review_app, name="review")

EditorOption = Annotated[str, typer.Option("--editor", help="Name recorded as the editor of the change.")]


def _day(text: str | None, context: AppContext) -> date:
    if text is None:
        return service.local_day(datetime.now(UTC), context.settings)
    with exit_on(ValueError):
        return service.parse_day(text)


@stories_app.command("group")
def group_command(ctx: typer.Context) -> None:
    """Place every published article that is in no story yet (idempotent; editors' changes stay)."""
    context: AppContext = ctx.obj
    with context.database.session() as session:
        report = service.group_pending(session, context.settings)
    echo(f"Placed {report.placed} article(s); {report.new_stories} new story/stories.")


@stories_app.command("summarize")
def summarize_command(
    ctx: typer.Context, limit: Annotated[int, typer.Option(help="At most this many articles.")] = 50
) -> None:
    """Write German machine summaries of articles and intros of stories with the configured LLM."""
    from presseschau.stories import intros, summaries

    context: AppContext = ctx.obj
    if not summaries.enabled(context.settings):
        raise fail("no LLM configured (llm_base_url, llm_model) or press_review_summaries is off")
    with context.database.session() as session:
        done = summaries.summarize_pending(session, context.settings, limit=limit)
    with context.database.session() as session:
        introduced = intros.introduce_pending(session, context.settings, limit=limit)
    echo(f"Summarised {done} article(s); wrote {introduced} story intro(s).")


@stories_app.command("list")
def list_command(
    ctx: typer.Context,
    day: Annotated[str | None, typer.Option("--day", help="Only this day (YYYY-MM-DD).")] = None,
) -> None:
    """Stories with published articles, newest day first: ID, day, outlets, articles, headline."""
    context: AppContext = ctx.obj
    with context.database.session() as session:
        days = [_day(day, context)] if day else service.story_days(session, context.settings)
        for each in days:
            for item in service.review(session, context.settings, each):
                echo(
                    f"{item.story.id:>6}  {each.isoformat()}  {item.outlets} outlet(s)  "
                    f"{len(item.members)} article(s)  {item.headline}"
                )


@stories_app.command("show")
def show_command(ctx: typer.Context, story_id: Annotated[int, typer.Argument(help="Story ID.")]) -> None:
    """A story's headline, day and articles (translation ID, outlet, German title)."""
    context: AppContext = ctx.obj
    with context.database.session() as session:
        try:
            story = service.get_story(session, story_id)
        except service.StoryError as error:
            raise fail(str(error)) from None
        echo(f"Story {story.id}, {story.day}" + (f", edited by {story.edited_by}" if story.edited_by else ""))
        if story.headline:
            echo(f"Headline (editor): {story.headline}")
        passages = key_passages.current_passages(session, context.settings, story)
        for member in story.members:
            translation = member.translation
            outlet = plain_text(translation.article.outlet) or "?"  # stored as inline HTML: its text
            status = translation.publication.status if translation.publication else "unpublished"
            echo(f"  translation {translation.id:>6}  {outlet}  [{status}]  {plain_text(translation.title)}")
            passage = passages.get(translation.id)
            if passage is not None:
                echo(f"      {_passage_line(passage)}")


@stories_app.command("merge")
def merge_command(
    ctx: typer.Context,
    target: Annotated[int, typer.Argument(help="The story that keeps its ID (the others' pages redirect to it).")],
    others: Annotated[list[int], typer.Argument(help="Stories whose articles move into it.")],
    headline_from: Annotated[
        int | None,
        typer.Option("--headline-from", help="When several stories have an editor's headline: the story whose stays."),
    ] = None,
    editor: EditorOption = "cli",
) -> None:
    """Merge stories into one; editors' headline, place in the order and key passages stay."""
    context: AppContext = ctx.obj
    with exit_on(service.StoryError), context.database.session() as session:
        story = service.merge(session, target, others, editor, headline_from=headline_from)
        count = len(story.members)
    echo(f"Story {target} now has {count} article(s).")


@stories_app.command("split")
def split_command(
    ctx: typer.Context,
    story_id: Annotated[int, typer.Argument(help="Story ID.")],
    translations: Annotated[list[int], typer.Argument(help="Translation IDs that become a story of their own.")],
    editor: EditorOption = "cli",
) -> None:
    """Take articles out of a story into a new one."""
    context: AppContext = ctx.obj
    with exit_on(service.StoryError), context.database.session() as session:
        new = service.split(session, story_id, translations, editor, context.settings)
        new_id = new.id
    echo(f"New story {new_id}.")


@stories_app.command("headline")
def headline_command(
    ctx: typer.Context,
    story_id: Annotated[int, typer.Argument(help="Story ID.")],
    headline: Annotated[str | None, typer.Argument(help="The German headline (omit with --clear).")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Go back to the best article's title.")] = False,
    editor: EditorOption = "cli",
) -> None:
    """Set a story's German headline."""
    context: AppContext = ctx.obj
    if (headline is None) != clear:
        raise fail("give a headline or --clear")
    with exit_on(service.StoryError), context.database.session() as session:
        service.set_headline(session, story_id, headline, editor)
    echo(f"Story {story_id}: headline {'cleared' if clear else 'set'}.")


def _passage_line(passage: Passage) -> str:
    if passage.editorial:
        return f"key passage (editors' words): {passage.text}"
    numbers = ", ".join(str(i + 1) for i in passage.sentences)
    who = "editor's pick" if passage.kind == "sentence" else "machine"
    return f"key passage ({who}, sentence {numbers or '?'}): „{passage.text}“"


@stories_app.command("passage")
def passage_command(
    ctx: typer.Context,
    translation_id: Annotated[int, typer.Argument(help="Translation ID (see `stories show`).")],
    pick: Annotated[int | None, typer.Option("--pick", help="Sentence number (from the list) to quote.")] = None,
    text: Annotated[str | None, typer.Option("--text", help="The editors' own words (shown as such).")] = None,
    reset: Annotated[bool, typer.Option("--reset", help="Back to the machine's choice.")] = False,
    editor: EditorOption = "cli",
) -> None:
    """An article's key passage: without options, its sentences (numbered) and the current passage."""
    context: AppContext = ctx.obj
    if sum((pick is not None, text is not None, reset)) > 1:
        raise fail("give one of --pick, --text and --reset")
    with exit_on(service.StoryError), context.database.session() as session:
        if pick is not None:
            key_passages.pick_sentence(session, translation_id, pick, editor)
        elif text is not None:
            key_passages.write_passage(session, translation_id, text, editor)
        elif reset:
            key_passages.reset_passage(session, translation_id, editor)
        sentences = key_passages.sentence_choices(session, translation_id)
        story = service.get_story(session, key_passages.story_of(session, translation_id))
        current = key_passages.current_passages(session, context.settings, story).get(translation_id)
    if pick is None and text is None and not reset:
        for sentence in sentences:
            mark = "*" if current is not None and sentence.index in current.sentences else " "
            usable = "" if sentence.quotable else "  (not a complete sentence)"
            echo(f"{mark}{sentence.index + 1:>4}. {sentence.text}{usable}")
    echo(_passage_line(current) if current is not None else "No key passage (nothing distinct to quote).")


@review_app.command("show")
def review_show(
    ctx: typer.Context,
    day: Annotated[
        str | None, typer.Argument(help="YYYY-MM-DD (default: the newest day with stories, else today).")
    ] = None,
) -> None:
    """The day's review: whether it is public, and its stories in order."""
    context: AppContext = ctx.obj
    wanted = _day(day, context)
    with context.database.session() as session:
        if day is None:
            # As /presseschau/ shows the latest review: today has no stories until something is published.
            wanted = next(iter(service.story_days(session, context.settings)), wanted)
        state = service.review_state(session, context.settings, wanted)
        found = service.review(session, context.settings, wanted)
    if not found:  # no story: nothing is or becomes public, whatever the policy would say
        echo(f"Presseschau {wanted.isoformat()}: no stories, nothing to show")
        return
    since = f" (from {when(state.public_from)})" if state.public_from else ""
    echo(f"Presseschau {wanted.isoformat()}: {state.state}{since}, {'public' if state.public else 'not public'}")
    for number, item in enumerate(found, start=1):
        echo(f"{number:>3}. story {item.story.id}: {item.headline} ({item.outlets} outlet(s))")


@review_app.command("order")
def review_order(
    ctx: typer.Context,
    day: Annotated[str, typer.Argument(help="YYYY-MM-DD.")],
    story_ids: Annotated[list[int], typer.Argument(help="Story IDs, first first; the rest follow by coverage.")],
    editor: EditorOption = "cli",
) -> None:
    """Put the day's stories in an order."""
    context: AppContext = ctx.obj
    with exit_on(service.StoryError), context.database.session() as session:
        service.reorder(session, context.settings, _day(day, context), story_ids, editor)
    echo("Order saved.")


@review_app.command("release")
def review_release(
    ctx: typer.Context, day: Annotated[str, typer.Argument(help="YYYY-MM-DD.")], editor: EditorOption = "cli"
) -> None:
    """Publish the day's review now (policy `review` waits for this)."""
    context: AppContext = ctx.obj
    with exit_on(service.StoryError), context.database.session() as session:
        service.release(session, context.settings, _day(day, context), editor)
    echo(f"Presseschau {day} released.")


@review_app.command("withdraw")
def review_withdraw(
    ctx: typer.Context, day: Annotated[str, typer.Argument(help="YYYY-MM-DD.")], editor: EditorOption = "cli"
) -> None:
    """Take the day's review off the site until it is released again."""
    context: AppContext = ctx.obj
    with context.database.session() as session:
        service.withdraw(session, context.settings, _day(day, context), editor)
    echo(f"Presseschau {day} withdrawn.")


@review_app.command("send")
def review_send(
    ctx: typer.Context,
    day: Annotated[
        str | None, typer.Argument(help="YYYY-MM-DD (default: every public review of the last days).")
    ] = None,
) -> None:
    """E-mail a public review to the newsletter's confirmed subscribers (each day once)."""
    import smtplib

    from presseschau.publish import newsletter
    from presseschau.publish.site import Site

    context: AppContext = ctx.obj
    site = Site(context.settings)
    with exit_on(newsletter.NewsletterError, OSError, smtplib.SMTPException), context.database.session() as session:
        if day is None:
            reports = newsletter.send_due(session, site)
        else:
            reports = [newsletter.send_review(session, site, _day(day, context))]
    for report in reports:
        echo(f"Presseschau {report.day.isoformat()}: " + (report.skipped or f"sent to {report.sent} subscriber(s)"))
    if not reports:
        echo("Nothing to send.")
