# ValueLoop app image: `docker compose up` runs it with PostgreSQL (see docker-compose.yml).
# Runtime configuration is environment only (README "Configuration"); nothing secret is baked in.

# --- build: install the package and its runtime dependencies into a virtualenv ---------------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Only what the package build needs: no tests, benchmarks, docs or local state.
COPY pyproject.toml README.md ./
COPY app ./app
COPY smart ./smart
COPY fhir_client ./fhir_client
COPY frontend ./frontend
# Runtime dependencies only (no [dev] extras); a regular, non-editable install.
RUN pip install --upgrade pip && pip install . && pip check

# --- runtime ----------------------------------------------------------------------------------
FROM python:3.11-slim

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VALUELOOP_MODE=production \
    VALUELOOP_DATA_DIR=/var/lib/valueloop

# Pango for the transparency report's PDF (WeasyPrint draws it on the server).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*

# A fixed, unprivileged uid/gid so orchestrators can enforce runAsNonRoot.
RUN groupadd --system --gid 10001 valueloop \
    && useradd --system --uid 10001 --gid valueloop --home-dir /var/lib/valueloop \
        --shell /usr/sbin/nologin valueloop \
    && install -d -o valueloop -g valueloop -m 0750 /var/lib/valueloop

COPY --from=build /opt/venv /opt/venv

WORKDIR /var/lib/valueloop
USER valueloop:valueloop

EXPOSE 8000

# Slim images have no curl: probe liveness with the standard library.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# `serve` refuses an unmigrated database: run `valueloop migrate` first (compose does).
CMD ["valueloop", "serve", "--host", "0.0.0.0", "--port", "8000"]
