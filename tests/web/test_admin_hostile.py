"""The admin area under hostile input (issue 22): oversized IDs in paths and form fields (item 8),
equal work for the login of existing, locked and unknown names (item 3), and the sessions of a
disabled user (item 10)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from presseschau.app import AppContext
from presseschau.editorial import users as users_module
from presseschau.editorial.users import MAX_FAILED_LOGINS, add_user, authenticate, set_disabled
from presseschau.store.models import Story, utcnow
from presseschau.web import public as web_app
from presseschau.web.app import create_app
from tests.web.test_admin import PASSWORD, _csrf, login

HUGE = "99999999999999999999"


@pytest.fixture
def client(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)
    with context.database.session() as session:
        add_user(session, "anna", PASSWORD, role="admin")
        add_user(session, "erik", PASSWORD, role="editor")
    app = create_app(context)
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as test_client:
        yield test_client


def test_oversized_ids_in_admin_paths_and_forms_are_no_500(client: TestClient, context: AppContext) -> None:
    login(client)
    token = _csrf(client.get("/admin/").text)
    with context.database.session() as session:
        story = Story(language="de", day=utcnow().date().isoformat(), created_at=utcnow(), updated_at=utcnow())
        session.add(story)
        session.flush()
        story_id = story.id
    refilter = client.post(f"/admin/quellen/{HUGE}/neu-filtern", data={"csrf_token": token})
    assert refilter.status_code in (404, 422), refilter.status_code
    for artikel in (HUGE, "²", "-1", "1e5"):
        release = client.post("/admin/gefiltert/freigeben", data={"csrf_token": token, "artikel": artikel})
        assert release.status_code == 400, (artikel, release.status_code)
    for field in ("mit", "artikel"):
        action = "zusammenfuehren" if field == "mit" else "trennen"
        answer = client.post(
            f"/admin/geschichte/{story_id}", data={"csrf_token": token, "aktion": action, field: [HUGE, "²"]}
        )
        assert answer.status_code < 500, (field, answer.status_code, answer.text[:300])
    day = utcnow().date().isoformat()
    order = client.post(f"/admin/presseschau/{day}/reihenfolge", data={"csrf_token": token, f"position-{HUGE}": HUGE})
    assert order.status_code < 500
    assert client.get(f"/admin/uebersetzung/{HUGE}/versionen").status_code in (404, 422)


def test_every_login_path_costs_one_hash_verification(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """A locked account answered in 3 ms, an unknown name in 200 ms: each path verifies one hash."""
    calls: list[str] = []
    real = users_module._hasher

    class CountingHasher:
        def verify(self, password_hash: str, password: str) -> bool:
            calls.append(password_hash)
            return bool(real.verify(password_hash, password))

        def check_needs_rehash(self, password_hash: str) -> bool:
            return bool(real.check_needs_rehash(password_hash))

    with context.database.session() as session:
        add_user(session, "erik", PASSWORD)
        add_user(session, "gesperrt", PASSWORD)
        set_disabled(session, "gesperrt", True)
        for _ in range(MAX_FAILED_LOGINS):
            authenticate(session, "erik", "falsches passwort")
    monkeypatch.setattr(users_module, "_hasher", CountingHasher())
    with context.database.session() as session:
        for name, password in (("niemand", PASSWORD), ("gesperrt", PASSWORD), ("erik", "falsch")):
            calls.clear()
            with contextlib.suppress(users_module.LoginThrottled):
                authenticate(session, name, password)
            assert len(calls) == 1, (name, len(calls))


def test_disabling_a_user_ends_their_sessions_for_good(client: TestClient, context: AppContext) -> None:
    login(client, "erik")
    assert client.get("/admin/").status_code == 200
    with context.database.session() as session:
        set_disabled(session, "erik", True)
    assert client.get("/admin/").status_code == 303
    with context.database.session() as session:
        set_disabled(session, "erik", False)
    assert client.get("/admin/").status_code == 303  # the old cookie stays dead
    page = client.get("/admin/anmelden")
    assert (
        client.post(
            "/admin/anmelden", data={"name": "erik", "passwort": PASSWORD, "csrf_token": _csrf(page.text)}
        ).status_code
        == 303
    )
