#!/usr/bin/env python3
"""Upload titles (videos + metadata) to a running artwork service: `artwork upload` as a script.

scripts/upload_title.py VIDEO [VIDEO ...] [--title-id ID --name NAME] [--genre G ...]
scripts/upload_title.py --csv titles.csv        # title_id,name,genres,video (genres: a|b)
    [--server URL] [--key KEY | $ARTWORK_API_KEY] [--wait] [--json] [--replace] [--auto-approve]

Shows the bytes sent, then (--wait) each extraction job; retries connection failures, 429
and 503 with backoff; exits 0 only when every title succeeded.
"""

import sys

from artwork.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main(["upload", *sys.argv[1:]]))
