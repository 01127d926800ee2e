"""`stories group|summarize|list|show|merge|split|headline` and `review show|order|release|withdraw|send`.

Output is plain text through `typer.echo` (titles from outside are never read as console markup).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer

from presseschau.app import AppContext
from presseschau.cli.output import exit_on, fail, when
from presseschau.cli.root import app
from presseschau.publish.queries import plain_text
from presseschau.stories import service

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
    typer.echo(f"Placed {report.placed} article(s); {report.new_stories} new story/stories.")


@stories_app.command("summarize")
def summarize_command(
    ctx: typer.Context, limit: Annotated[int, typer.Option(help="At most this many articles.")] = 50
) -> None:
    """Write two-sentence German machine summaries with the configured LLM (llm_base_url, llm_model)."""
    from presseschau.stories import summaries

    context: AppContext = ctx.obj
    if not summaries.enabled(context.settings):
        raise fail("no LLM configured (llm_base_url, llm_model) or press_review_summaries is off")
    with context.database.session() as session:
        done = summaries.summarize_pending(session, context.settings, limit=limit)
    typer.echo(f"Summarised {done} article(s).")


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
                typer.echo(
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
        typer.echo(f"Story {story.id}, {story.day}" + (f", edited by {story.edited_by}" if story.edited_by else ""))
        if story.headline:
            typer.echo(f"Headline (editor): {story.headline}")
        for member in story.members:
            translation = member.translation
            outlet = plain_text(translation.article.outlet) or "?"  # stored as inline HTML: its text
            status = translation.publication.status if translation.publication else "unpublished"
            typer.echo(f"  translation {translation.id:>6}  {outlet}  [{status}]  {plain_text(translation.title)}")


@stories_app.command("merge")
def merge_command(
    ctx: typer.Context,
    target: Annotated[int, typer.Argument(help="The story that keeps its ID and headline.")],
    others: Annotated[list[int], typer.Argument(help="Stories whose articles move into it.")],
    editor: EditorOption = "cli",
) -> None:
    """Merge stories into one."""
    context: AppContext = ctx.obj
    with exit_on(service.StoryError), context.database.session() as session:
        story = service.merge(session, target, others, editor)
        count = len(story.members)
    typer.echo(f"Story {target} now has {count} article(s).")


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
    typer.echo(f"New story {new_id}.")


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
    typer.echo(f"Story {story_id}: headline {'cleared' if clear else 'set'}.")


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
        typer.echo(f"Presseschau {wanted.isoformat()}: no stories, nothing to show")
        return
    since = f" (from {when(state.public_from)})" if state.public_from else ""
    typer.echo(f"Presseschau {wanted.isoformat()}: {state.state}{since}, {'public' if state.public else 'not public'}")
    for number, item in enumerate(found, start=1):
        typer.echo(f"{number:>3}. story {item.story.id}: {item.headline} ({item.outlets} outlet(s))")


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
    typer.echo("Order saved.")


@review_app.command("release")
def review_release(
    ctx: typer.Context, day: Annotated[str, typer.Argument(help="YYYY-MM-DD.")], editor: EditorOption = "cli"
) -> None:
    """Publish the day's review now (policy `review` waits for this)."""
    context: AppContext = ctx.obj
    with exit_on(service.StoryError), context.database.session() as session:
        service.release(session, context.settings, _day(day, context), editor)
    typer.echo(f"Presseschau {day} released.")


@review_app.command("withdraw")
def review_withdraw(
    ctx: typer.Context, day: Annotated[str, typer.Argument(help="YYYY-MM-DD.")], editor: EditorOption = "cli"
) -> None:
    """Take the day's review off the site until it is released again."""
    context: AppContext = ctx.obj
    with context.database.session() as session:
        service.withdraw(session, context.settings, _day(day, context), editor)
    typer.echo(f"Presseschau {day} withdrawn.")


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
        typer.echo(
            f"Presseschau {report.day.isoformat()}: " + (report.skipped or f"sent to {report.sent} subscriber(s)")
        )
    if not reports:
        typer.echo("Nothing to send.")
