"""Every whole-number argument and option of the command line is bounded, in one place.

An ID or a count beyond a signed 64-bit integer cannot name a row or be a limit: `sources show
99999999999999999999` ended in an OverflowError traceback from the database driver. `bound_numbers`
walks every registered command once (new commands are covered without a change here) and gives each
`int` parameter without a maximum the largest value a row ID can have (and without a minimum its
negative), so click refuses anything larger with its own one-line usage error naming the parameter
(exit status 2). Ports get 1–65535 (`PORT_OPTION`): a larger one made `serve` hang.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import typer
from typer.models import ParameterInfo

from presseschau.web.params import MAX_ROW_ID

MAX_PORT = 65535


def _is_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return members == [int]
    return False


def _parameter_infos(callback: Callable[..., Any]) -> Iterator[ParameterInfo]:
    """The typer ParameterInfo of each `int` parameter of a command function.

    With `from __future__ import annotations` every evaluation of the (string) annotations makes
    new ParameterInfo objects; the evaluated ones are written back, so typer reads these same ones."""
    hints = typing.get_type_hints(callback, include_extras=True)
    callback.__annotations__.update(hints)
    for name, parameter in inspect.signature(callback).parameters.items():
        hint = hints.get(name)
        if typing.get_origin(hint) is Annotated:
            base, *metadata = typing.get_args(hint)
            infos = [item for item in metadata if isinstance(item, ParameterInfo)]
        else:
            base, infos = hint, [parameter.default] if isinstance(parameter.default, ParameterInfo) else []
        if _is_int(base):
            yield from infos


def _callbacks(app: typer.Typer) -> Iterator[Callable[..., Any]]:
    for command in app.registered_commands:
        if command.callback is not None:
            yield command.callback
    for group in app.registered_groups:
        if group.typer_instance is not None:
            yield from _callbacks(group.typer_instance)


def bound_numbers(app: typer.Typer) -> int:
    """Give every unbounded `int` parameter of `app`'s commands the range of a signed 64-bit integer
    (maximum MAX_ROW_ID, minimum its negative): beyond it a number cannot reach the database (a
    huge negative `--source` ended in an OverflowError just like a huge positive one); how many
    bounds were added."""
    bounded = 0
    for callback in _callbacks(app):
        for info in _parameter_infos(callback):
            if info.max is None:
                info.max = MAX_ROW_ID
                bounded += 1
            if info.min is None:
                info.min = -MAX_ROW_ID
                bounded += 1
    return bounded


def port_option(help_text: str, *names: str) -> Any:
    """A `--port` option: 1–65535."""
    return typer.Option(*names, help=help_text, min=1, max=MAX_PORT)
