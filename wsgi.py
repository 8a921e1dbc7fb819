"""WSGI entry point: `gunicorn wsgi:app` and `flask --app wsgi ...`."""

from ncsej_campaigns import create_app

app = create_app()
