#!/usr/bin/env python3
"""Upload a title (video + metadata) to a running artwork service: `artwork upload` as a script.

scripts/upload_title.py VIDEO --title-id ID --name NAME [--genre G ...] [--server URL]
"""

import sys

from artwork.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main(["upload", *sys.argv[1:]]))
