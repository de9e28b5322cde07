"""Start the t2v web demo: ``python demo/app.py [--host 127.0.0.1] [--port 7860]`` (the same as ``t2v demo``).

The app itself ships inside the package as :mod:`t2v.demo`, so an installed ``t2v demo`` finds it; this file
is the launcher kept at the repository's top level.
"""

import sys

from t2v.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", *sys.argv[1:]]))
