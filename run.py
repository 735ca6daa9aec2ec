"""Run ABParts Admin: ``python run.py`` migrates, seeds a first-run demo and serves.

For the command line, Flask finds ``create_app`` here: ``flask --app run abparts ...``.
"""
from __future__ import annotations

import argparse
import os

from app import create_app


def main(argv=None) -> None:
    """Migrate, create roles, seed the demo when it is wanted, print the logins and serve."""
    parser = argparse.ArgumentParser(description="Run the ABParts admin portal.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    parser.add_argument("--demo", action="store_true",
                        help="Seed the demo data even on a database that is not the default SQLite file.")
    parser.add_argument("--no-serve", action="store_true", help="Prepare the database and exit.")
    args = parser.parse_args(argv)

    app = create_app()
    from app.startup import prepare

    with app.app_context():
        prepare(app, demo=args.demo, echo=print)
    if args.no_serve:
        return
    print(f"\nABParts Admin is running at http://{args.host}:{args.port}/  (Ctrl+C stops it)\n")
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
