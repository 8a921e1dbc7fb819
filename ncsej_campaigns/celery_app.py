"""Celery bound to the Flask app: every task runs inside an application context.

``celery_init_app`` is called by ``create_app``. The worker and beat start from
``ncsej_campaigns.worker``, which builds the Flask app once and exposes its Celery instance.
"""

from __future__ import annotations

import importlib
import pkgutil

from celery import Celery, Task
from flask import Flask

import ncsej_campaigns


def import_task_modules() -> list[str]:
    """Import every ``<package>.tasks`` module so the worker knows every task by name.

    Services enqueue tasks by name (keeping the import arrows from tasks to services only), so
    the worker and the web process must both have registered every task up front.
    """
    names = []
    for info in pkgutil.iter_modules(ncsej_campaigns.__path__):
        if info.ispkg:
            name = f"ncsej_campaigns.{info.name}.tasks"
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
                names.append(name)
    return names


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
    import_task_modules()
    app.extensions["celery"] = celery_app
    return celery_app
