# The bridge on its embedded default: SQLite and its key in the /data volume, one
# worker, no other service. The scaled set-up is settings (compose.yaml).
#   docker build -t voice-bridge .
#   docker run -p 8000:8000 -v bridge-data:/data voice-bridge
FROM python:3.11-slim AS build
RUN python -m venv /venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bridge ./bridge
COPY adapters ./adapters
COPY config ./config
RUN /venv/bin/pip install --no-cache-dir --disable-pip-version-check .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home bridge \
    && install -d -m 0700 -o bridge -g bridge /data
COPY --from=build /venv /venv
WORKDIR /app
COPY app.py ./
COPY config/gunicorn.conf.py ./config/
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    BRIDGE_DATABASE=/data/bridge.db \
    BRIDGE_BIND=0.0.0.0:8000
USER bridge
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "app:app"]
