# syntax=docker/dockerfile:1
# A local AWS emulator (moto's server: S3 + DynamoDB) for the compose profile "aws".
# Pinned through constraints.txt to the moto the tests run against.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS moto
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1
# A venv, because a Debian-built base (scripts/build_base_image.sh) refuses system-wide pip installs.
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY constraints.txt /tmp/constraints.txt
RUN pip install --no-cache-dir -c /tmp/constraints.txt "moto[server,s3,dynamodb]" \
    && useradd --no-log-init --create-home --uid 10001 moto
USER 10001:10001
EXPOSE 5000
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=10 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/moto-api/', timeout=2)"]
CMD ["moto_server", "-H", "0.0.0.0", "-p", "5000"]
