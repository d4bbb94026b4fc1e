# smOS Coach: the service image (README "Deploy").
#   docker build -t smos-coach .
#   docker run -p 3000:3000 --env-file .env smos-coach
# The start script migrates the database (replicas starting together are safe), then
# runs the command: coach serve unless another is given. It runs as an unprivileged
# user; SQLite (the default) keeps its file in the /data volume.

FROM python:3.12-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot bot
COPY flows flows
COPY storage storage
COPY prompts prompts
RUN python -m venv /opt/coach \
 && /opt/coach/bin/pip install --no-cache-dir .

FROM python:3.12-slim
ENV PATH=/opt/coach/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    COACH_ENV=production \
    COACH_LOG_FORMAT=json \
    COACH_LOG_LEVEL=INFO \
    DATABASE_URL=sqlite:////data/coach.db
RUN groupadd --system --gid 10001 coach \
 && useradd --system --uid 10001 --gid coach --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin coach \
 && mkdir /data \
 && chown coach:coach /data
COPY --from=build /opt/coach /opt/coach
WORKDIR /data
VOLUME ["/data"]
USER 10001:10001
EXPOSE 3000
# Liveness: the process answers (no database needed). Readiness is GET /readyz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status != 200)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "bot.cli.start"]
CMD ["coach", "serve", "--host", "0.0.0.0", "--port", "3000"]
