"""German headings and explanations for every HTTP error status a reader or editor can meet.

The site answers errors with its own German page (`Site.http_error`), never with the
framework's English phrase ("Method Not Allowed"). A message the application gave on purpose
(already German) is shown as it is; the framework's stock English phrases are replaced.
"""

from __future__ import annotations

from http import HTTPStatus

# status: (heading, explanation)
ERRORS: dict[int, tuple[str, str]] = {
    400: ("Ungültige Anfrage", "Diese Anfrage konnte nicht verstanden werden. Bitte prüfen Sie die Adresse."),
    401: ("Anmeldung erforderlich", "Für diese Seite müssen Sie angemeldet sein."),
    403: ("Zugriff verweigert", "Sie haben keine Berechtigung für diese Seite."),
    404: (
        "Seite nicht gefunden",
        "Diese Seite gibt es nicht (mehr). Vielleicht finden Sie den Artikel über die Suche oder im Archiv.",
    ),
    405: (
        "Methode nicht erlaubt",
        "Diese Adresse lässt sich so nicht aufrufen (zum Beispiel ein Formular, das nur abgeschickt werden kann).",
    ),
    406: ("Format nicht verfügbar", "Diese Seite gibt es nicht in dem verlangten Format."),
    408: ("Zeit abgelaufen", "Die Anfrage hat zu lange gedauert. Bitte versuchen Sie es noch einmal."),
    409: ("Konflikt", "Die Änderung passt nicht zum aktuellen Stand. Bitte laden Sie die Seite neu."),
    410: ("Nicht mehr verfügbar", "Diese Seite wurde dauerhaft entfernt."),
    411: ("Längenangabe fehlt", "Der Anfrage fehlt die Angabe ihrer Länge."),
    413: ("Anfrage zu groß", "Die gesendeten Daten sind zu groß."),
    414: ("Adresse zu lang", "Die aufgerufene Adresse ist zu lang."),
    415: ("Format nicht unterstützt", "Die gesendeten Daten haben ein Format, das hier nicht angenommen wird."),
    422: ("Ungültige Eingabe", "Die gesendeten Angaben sind unvollständig oder ungültig."),
    429: ("Zu viele Anfragen", "Bitte warten Sie einen Moment und versuchen Sie es dann noch einmal."),
    500: ("Interner Fehler", "Auf dem Server ist ein Fehler aufgetreten. Bitte versuchen Sie es später noch einmal."),
    502: ("Fehlerhafte Antwort", "Ein vorgeschalteter Server hat fehlerhaft geantwortet."),
    503: ("Vorübergehend nicht verfügbar", "Die Seite ist gerade nicht erreichbar. Bitte versuchen Sie es später."),
    504: ("Zeitüberschreitung", "Ein vorgeschalteter Server hat nicht rechtzeitig geantwortet."),
}


def _stock_phrase(status: int) -> str | None:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return None


def describe(status: int, detail: str | None = None) -> tuple[str, str]:
    """(heading, message) in German for `status`; `detail` replaces the message when it is the
    application's own text rather than the stock English phrase of the status."""
    heading, message = ERRORS.get(status) or (
        ("Fehler in der Anfrage", "Diese Anfrage konnte nicht bearbeitet werden.")
        if status < 500
        else ("Serverfehler", "Auf dem Server ist ein Fehler aufgetreten. Bitte versuchen Sie es später noch einmal.")
    )
    if detail and detail.strip() and detail.strip() != _stock_phrase(status):
        message = detail.strip()
    return heading, message
