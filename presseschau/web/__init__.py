"""Web: the FastAPI + Jinja2 website."""
