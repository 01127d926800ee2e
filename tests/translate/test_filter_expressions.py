"""The filter expressions of Mozilla's model records (issue 22, item 17), as published."""

from __future__ import annotations

import pytest

from presseschau.translate.models.filter_expressions import Environment, UnreadableExpression, evaluate

DESKTOP, ANDROID, NIGHTLY = Environment("desktop"), Environment("android"), Environment("desktop", "nightly")


@pytest.mark.parametrize(
    ("expression", "desktop", "android", "nightly"),
    [
        ("", True, True, True),
        ("env.appinfo.OS != 'Android' || env.channel != 'release'", True, False, True),
        ("env.appinfo.OS == 'Android'", False, True, False),
        ("env.channel == 'default' || env.channel == 'nightly'", False, False, True),
        ('(env.channel == "release") && !(env.appinfo.OS == "Android")', True, False, False),
        ("env.appinfo.OS == 'Android' && env.channel == 'release' || env.channel == 'nightly'", False, True, True),
    ],
)
def test_the_published_forms(expression: str, desktop: bool, android: bool, nightly: bool) -> None:
    assert (evaluate(expression, DESKTOP), evaluate(expression, ANDROID), evaluate(expression, NIGHTLY)) == (
        desktop,
        android,
        nightly,
    )


@pytest.mark.parametrize(
    "expression",
    [
        "env.version|versionCompare('120.0a1') >= 0",
        "env.locale in ['de', 'en']",
        "env.channel ==",
        "(env.channel == 'release'",
        "env.channel == 'release')",
        "env.appinfo.ID == 'x'",
        "env.channel = 'release'",
        "x" * 2000,
    ],
)
def test_what_it_cannot_read_is_unreadable_never_guessed(expression: str) -> None:
    with pytest.raises(UnreadableExpression):
        evaluate(expression, DESKTOP)
