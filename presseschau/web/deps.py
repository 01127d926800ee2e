"""FastAPI dependencies shared by the site and the admin area: what `create_app` put on the app.

`create_app` stores its `AppContext` in `app.state.context`; route handlers ask for the part they use
(`Db`, `CurrentSettings`, or the whole `Context` where a service function takes it).

The dependencies are `async def` although they do no I/O: FastAPI runs a plain `def` dependency
in its thread pool, a hop between threads for each attribute read.
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from presseschau.app import AppContext
from presseschau.config import Settings
from presseschau.store.db import Database


async def app_context(request: Request) -> AppContext:
    return cast(AppContext, request.app.state.context)


Context = Annotated[AppContext, Depends(app_context)]


async def database(context: Context) -> Database:
    return context.database


async def current_settings(context: Context) -> Settings:
    return context.settings


Db = Annotated[Database, Depends(database)]
CurrentSettings = Annotated[Settings, Depends(current_settings)]
