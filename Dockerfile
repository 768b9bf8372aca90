# Servicebook's image: the same package `make run` installs, run as `servicebook serve` (gunicorn)
# or `servicebook worker`. docker-compose.yml starts PostgreSQL, two web processes, two workers
# and a reverse proxy from it (docs/operations.md, "Past one machine").
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SERVICEBOOK_VAR_DIR=/var/servicebook
# WeasyPrint (invoice PDFs) needs Pango; Java only for the Spark rating backend (not installed).
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir .
RUN useradd --system --home /var/servicebook servicebook \
    && mkdir -p /var/servicebook && chown servicebook /var/servicebook
USER servicebook
EXPOSE 8000
CMD ["servicebook", "serve", "--host", "0.0.0.0", "--port", "8000"]
