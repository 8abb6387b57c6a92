# One image for the three roles of the portal: web (gunicorn, the default CMD),
# worker and beat (docker-compose.yml gives them their celery commands).

# --- runtime: system libraries, the portal user and the Python dependencies --------
FROM python:3.11-slim-bookworm AS runtime

# PYTHONPATH: every role imports the code from /app (never from site-packages), so
# settings find templates/, static/ and locale/ beside it, and `celery -A portal`
# finds the package whatever the working directory.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=portal.settings

# WeasyPrint's libraries (Pango, HarfBuzz) and fonts with the Kyrgyz letters ң ө ү
# for the PDFs; pg_dump/pg_restore 15 (bookworm's, the server's major version) for
# manage.py backup and restore.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 \
      fonts-dejavu-core fonts-noto-core postgresql-client \
 && rm -rf /var/lib/apt/lists/*

# Fixed ids, so files on the media volume keep one owner across rebuilds.
RUN groupadd --gid 1000 portal \
 && useradd --uid 1000 --gid portal --create-home --shell /usr/sbin/nologin portal

WORKDIR /app

# Dependencies in their own layer: with only pyproject.toml present, `pip install .`
# installs every dependency (not the dev extras) and an empty appeals-portal dist, so
# a code change doesn't reinstall them. The code itself stays in /app (PYTHONPATH).
COPY pyproject.toml ./
RUN pip install --no-cache-dir . \
 && rm -rf build ./*.egg-info

# --- build: translations and static files, made with build-only settings ------------
FROM runtime AS build

# msgfmt for compilemessages; only this stage has it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext \
 && rm -rf /var/lib/apt/lists/*

COPY . .

# DEBUG is unset, so settings need a SECRET_KEY; neither value reaches the final image.
RUN SECRET_KEY=build-only DATABASE_URL=sqlite:////tmp/build.sqlite3 \
      python manage.py compilemessages \
 && SECRET_KEY=build-only DATABASE_URL=sqlite:////tmp/build.sqlite3 \
      python manage.py collectstatic --noinput \
 && chmod 0755 docker/entrypoint.sh

# --- final image ----------------------------------------------------------------------
FROM runtime

# Code, compiled .mo files and /app/var/static (served by whitenoise) stay root-owned:
# the portal user can read but not change them. Only /app/var is writable: media
# (a volume; Docker copies this folder's owner into a new named volume) and beat's
# schedule file.
COPY --from=build /app /app
RUN mkdir -p /app/var/media \
 && chown portal:portal /app/var /app/var/media

USER portal

EXPOSE 8000

# No HEALTHCHECK here: the three roles need different checks (docker-compose.yml).
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
