# The app image: web (gunicorn), Celery workers, beat and migrations all run from it.
# docker-compose.yml shows how the pieces are wired together.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WEB_CONCURRENCY=2

WORKDIR /app

# Pango and DejaVu fonts for WeasyPrint, which renders the petition delivery PDF (Cyrillic too).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, from pyproject.toml alone, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
# Editable install: templates/ and migrations/ are found beside the package, in /app.
RUN pip install --no-deps -e . \
    && pybabel compile -d ncsej_campaigns/translations

# An unprivileged user; instance/ is the only place the app writes to.
RUN useradd --create-home --uid 10001 ncsej \
    && mkdir -p /app/instance \
    && chown ncsej:ncsej /app/instance
USER ncsej

EXPOSE 8000
# Workers come from WEB_CONCURRENCY; threads overlap the waits on PostgreSQL and Redis.
# X-Forwarded-* headers are honoured by the app itself, from TRUSTED_PROXIES hops only.
CMD ["gunicorn", "wsgi:app", "--bind", "0.0.0.0:8000", "--worker-class", "gthread", "--threads", "4", "--access-logfile", "-"]
