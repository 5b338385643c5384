"""The `tend` command: run, set up and administer a Tend installation.

tend serve [--host H] [--port P] [--workers N] [--no-worker]
tend worker
tend migrate
tend demo [--companies N] [--if-empty]
tend createadmin EMAIL [--password P]
tend token create EMAIL --name NAME [--write] | tend token list EMAIL | tend token revoke ID
tend manage <any Django management command>
"""

import argparse
import os
import signal
import subprocess
import sys
import urllib.parse


def _django(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")
    from django.core.management import execute_from_command_line  # `serve` only supervises: no Django there

    execute_from_command_line(["tend", *argv])


def _email_notice(url: str) -> str:
    """Where the email Tend sends goes, without the URL's password."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "console":
        return "Email is printed on this console, not sent (set TEND_EMAIL_URL=smtp://… to send it)."
    if parts.scheme == "file":
        return f"Email is written as files to {parts.path or 'var/mail'}, not sent (TEND_EMAIL_URL)."
    return f"Email is sent through {parts.scheme}://{parts.hostname}:{parts.port or ''} (TEND_EMAIL_URL)."


def _serve(args: argparse.Namespace) -> int:
    host = args.host or os.environ.get("TEND_HOST", "127.0.0.1")
    port = args.port or int(os.environ.get("TEND_PORT", "8000"))
    workers = args.workers or int(os.environ.get("TEND_WEB_WORKERS", "2"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")
    children: list[subprocess.Popen] = []
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "tend.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
            # Threads let one worker answer a dashboard's tiles side by side (they mostly wait on the database).
            "--threads",
            os.environ.get("TEND_WEB_THREADS", "4"),
            "--access-logfile",
            "-",
            "--timeout",
            os.environ.get("TEND_WEB_TIMEOUT", "60"),
        ]
    )
    children.append(web)
    if not args.no_worker:
        children.append(subprocess.Popen([sys.executable, "-m", "tend.cli", "worker"]))
    print(f"Tend is listening on http://{host}:{port}/  (API docs: http://{host}:{port}/api/v1/docs)", flush=True)
    print(_email_notice(os.environ.get("TEND_EMAIL_URL") or "console://"), flush=True)

    def stop(signum, frame):
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = web.wait()
    stop(None, None)
    for child in children:
        child.wait()
    return code


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="tend", description="Tend, the customer success workspace.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the web app (gunicorn) and, by default, a background worker")
    serve.add_argument("--host", help="address to listen on (TEND_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (TEND_PORT, default 8000)")
    serve.add_argument("--workers", type=int, help="web worker processes (TEND_WEB_WORKERS, default 2)")
    serve.add_argument("--no-worker", action="store_true", help="do not start a background worker")
    sub.add_parser("worker", help="run a background task worker")
    sub.add_parser("migrate", help="create or upgrade the database")
    demo = sub.add_parser("demo", help="build the demo workspace")
    demo.add_argument("rest", nargs=argparse.REMAINDER)
    admin = sub.add_parser("createadmin", help="create a super admin")
    admin.add_argument("rest", nargs=argparse.REMAINDER)
    token = sub.add_parser("token", help="create, list or revoke API tokens")
    token.add_argument("rest", nargs=argparse.REMAINDER)
    notifications = sub.add_parser("notifications", help="notifications: send the daily digest (digest [--schedule])")
    notifications.add_argument("rest", nargs=argparse.REMAINDER)
    manage = sub.add_parser("manage", help="run a Django management command")
    manage.add_argument("rest", nargs=argparse.REMAINDER)

    # Options after a pass-through subcommand (demo --companies N, token create …) belong to it.
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        if not hasattr(args, "rest"):
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.rest = [*unknown, *args.rest]
    match args.command:
        case "serve":
            return _serve(args)
        case "worker":
            _django(["db_worker", "--queue-name", "*"])
        case "migrate":
            _django(["migrate", "--noinput"])
        case "demo":
            _django(["demo", *args.rest])
        case "createadmin":
            _django(["createadmin", *args.rest])
        case "token":
            _django(["token", *args.rest])
        case "notifications":
            _django(["notifications", *args.rest])
        case "manage":
            _django(args.rest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
