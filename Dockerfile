# The HTTP API (default) and the dashboard, without torch: recognition only.
#   docker build -t mdr .
#   docker run -p 8000:8000 mdr                                   # the API on :8000
#   docker run -p 8501:8501 mdr python -m streamlit run Home.py --server.address 0.0.0.0 --server.port 8501
# Mount the models folder (-v "$PWD/models:/app/models") to serve the models trained outside.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MDR_SERVE_HOST=0.0.0.0 \
    MDR_SERVE_PORT=8000

WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*
COPY requirements-serve.txt .
RUN pip install --no-cache-dir -r requirements-serve.txt

COPY mdr/ mdr/
COPY models/ models/
COPY Home.py ./
COPY pages/ pages/
COPY .streamlit/ .streamlit/

RUN useradd --create-home mdr && chown -R mdr /app/models
USER mdr
EXPOSE 8000 8501
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"
CMD ["python", "-m", "mdr", "serve"]
