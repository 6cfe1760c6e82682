# One image for web, worker and beat; docker-compose.yml picks the command.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LAUREL_MODE=real STATIC_ROOT=/app/staticfiles
WORKDIR /app

# Exactly what requirements/lock.txt pins, each file checked against its hash (`make lock`
# refreshes it), then Laurel itself, built from those packages alone.
COPY requirements/lock.txt ./requirements/
RUN pip install --no-cache-dir --require-hashes -r requirements/lock.txt
COPY pyproject.toml README.md ./
COPY laurel ./laurel
COPY awards ./awards
COPY voting ./voting
RUN pip install --no-cache-dir --no-deps --no-build-isolation .

COPY . .
# collectstatic needs settings to import, not real services or secrets.
RUN DATABASE_URL=postgres://build/build REDIS_URL=redis://build:6379/0 \
    SECRET_KEY=build-only-secret-key-not-used-at-runtime \
    python manage.py collectstatic --no-input -v0

RUN useradd --create-home laurel && mkdir -p /app/media /app/imports \
    && chown laurel /app/media /app/imports
USER laurel
EXPOSE 8000
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "laurel.wsgi:application"]
