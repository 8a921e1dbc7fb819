"""Celery bound to the Flask app: every task runs inside an application context.

``celery_init_app`` is called by ``create_app``. The worker and beat start from
``ncsej_campaigns.worker``, which builds the Flask app once and exposes its Celery instance.
"""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            # A fresh app context gives the task its own database session, even when an
            # eager task runs straight after a request's commit.
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
