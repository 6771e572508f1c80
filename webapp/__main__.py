"""``python -m webapp``: the web app's command line.

    python -m webapp serve [--host 127.0.0.1] [--port 8000]   # make app
    python -m webapp createuser NAME --role reviewer|analyst   # asks for the password
    python -m webapp <any Django management command>

The app's folder (``<WAREHOUSE_DATA_DIR>/app``) and its secret key are made on first use.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys


def prepare_app_folder() -> None:
    """Create ``<data dir>/app`` and a secret key only its owner can read, once."""
    # Before Django's settings are read: they read the key this makes.
    from orchestration.settings import APP_DATABASE, data_dir

    app_dir = (data_dir() / APP_DATABASE).parent
    app_dir.mkdir(parents=True, exist_ok=True)
    key = app_dir / "secret_key"
    if not key.exists() and not os.environ.get("DJANGO_SECRET_KEY"):
        descriptor = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(secrets.token_urlsafe(50))


def serve(argv: list[str]) -> None:
    """Bring the app's database up to date and serve it with waitress."""
    from orchestration.settings import app_address

    host, port = app_address()
    parser = argparse.ArgumentParser(prog="python -m webapp serve")
    parser.add_argument("--host", default=host)
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)

    import django
    from django.core.management import call_command
    from waitress import serve as waitress_serve

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    from webapp.wsgi import application

    print(f"Serving on http://{args.host}:{args.port}/ (Ctrl+C to stop)", flush=True)
    waitress_serve(application, host=args.host, port=args.port, threads=args.threads)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    from linkage_ops.warehouse_file import apply_umask

    apply_umask()  # the app's database and sessions: the owner's only
    prepare_app_folder()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    if argv[:1] == ["serve"]:
        serve(argv[1:])
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(["python -m webapp", *argv])


if __name__ == "__main__":
    main()
