"""Errors shared by several stages (each raised with a catalogued message, see `presseschau.messages`)."""

from __future__ import annotations

from presseschau.messages import CataloguedError, text


class ArticleNotFound(CataloguedError, LookupError):
    """No article with the given id, or (`without_text`) one that has no text to work on yet.

    The one such error of the translate, publish and editorial stages."""

    def __init__(self, article_id: int, *, without_text: bool = False) -> None:
        super().__init__(text("article_not_fetched" if without_text else "article_not_found", article_id=article_id))
        self.article_id = article_id
