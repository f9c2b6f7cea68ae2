# artwork service image: CPU torch, the pinned dependency set, SQLite under /data by default.
#   docker build -t artwork .
#   docker run -p 8000:8000 -v artwork-data:/data artwork            # serve
#   docker run -v artwork-data:/data artwork artwork demo --no-serve # build the sample catalogue
FROM python:3.11-slim

ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    ARTWORK_HOME=/data ARTWORK_HOST=0.0.0.0 ARTWORK_PORT=8000

WORKDIR /app
COPY requirements/ requirements/
# The CPU builds of the pinned torch pair first, so the lock's pins resolve to them.
RUN pip install --index-url "$TORCH_INDEX_URL" \
      "$(grep '^torch==' requirements/lock.txt)" "$(grep '^torchvision==' requirements/lock.txt)"
COPY pyproject.toml README.md ./
COPY artwork/ artwork/
COPY models/ models/
RUN pip install -c requirements/lock.txt -e ".[postgres]" \
 && pip install --no-deps -r requirements/no-deps.txt

EXPOSE 8000
VOLUME ["/data"]
CMD ["artwork", "serve"]
