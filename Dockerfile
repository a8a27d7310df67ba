# gitops-health bot: slim, non-root, gunicorn. Build: docker build -t gitops-health .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY gitops_health gitops_health
COPY hooks hooks
COPY rules rules
COPY bot bot
RUN python -m venv /opt/gitops-health \
 && /opt/gitops-health/bin/pip install --no-cache-dir -c constraints.txt ".[phi,bot]"

FROM python:3.11-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git procps \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --uid 10001 gitops \
 && mkdir -p /data /metrics && chown gitops /data /metrics
COPY --from=build /opt/gitops-health /opt/gitops-health
ENV PATH=/opt/gitops-health/bin:$PATH \
    GITOPS_HEALTH_DATA_DIR=/data \
    PROMETHEUS_MULTIPROC_DIR=/metrics \
    PYTHONUNBUFFERED=1
USER gitops
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"
# Web: the default command. Worker: `gitops-health bot worker` (see docker-compose.yml).
CMD ["gunicorn", "--bind", "0.0.0.0:8080", "--workers", "4", "--access-logfile", "-", "gitops_health.bot.app:wsgi()"]
