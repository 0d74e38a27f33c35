# Helpline's image: the wheel, installed into a slim Python as a non-root user; `helpline` is the entry point.
#   docker build -t helpline .
#   docker run --rm -e HELPLINE_SECRET=... -e HELPLINE_DATABASE_URL=... -e HELPLINE_REDIS_URL=... -p 8000:8000 helpline
# The command picks the process: gateway (default), worker, statuspage, migrate, token. See docs/operations.md.

# -- builder: the wheel of the project, and wheels of every dependency, so the runtime stage needs no index -----
FROM python:3.11-slim AS builder
WORKDIR /src
RUN pip install --no-cache-dir build
COPY . .
RUN python -m build --wheel --outdir /wheels . \
 && pip wheel --no-cache-dir --wheel-dir /wheels /wheels/helpline-*.whl

# -- runtime: no compiler, no sources, no build tools; only the installed wheel ----------------------------------
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    STATUS_PORT=8001 \
    HELPLINE_ATTACHMENTS_DIR=/data/attachments \
    HELPLINE_STATUS_DATABASE_URL=sqlite+aiosqlite:////data/status.db
RUN groupadd --system --gid 10001 helpline \
 && useradd --system --uid 10001 --gid helpline --home-dir /home/helpline --create-home --shell /usr/sbin/nologin helpline \
 && mkdir -p /data/attachments && chown -R helpline:helpline /data
COPY --from=builder /wheels /tmp/wheels
RUN pip install --no-cache-dir --no-index --find-links /tmp/wheels helpline && rm -rf /tmp/wheels
USER helpline
WORKDIR /home/helpline
# /data holds what a node keeps on disk (attachments, the status page's SQLite store): mount a volume there.
VOLUME ["/data"]
EXPOSE 8000 8001
# Liveness of a gateway (PORT); compose gives the status page its own check and the worker none (it serves no HTTP).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=2)"]
# SIGTERM drains a gateway (HELPLINE_DRAIN_S) and exits 0; give it longer than the window before SIGKILL.
STOPSIGNAL SIGTERM
ENTRYPOINT ["helpline"]
CMD ["gateway"]
