"""Entry point for the Celery worker and beat.

    celery -A ncsej_campaigns.worker worker -Q mail,default
    celery -A ncsej_campaigns.worker beat
"""

from ncsej_campaigns import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
