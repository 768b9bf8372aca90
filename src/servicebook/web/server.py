"""Run the WSGI app under gunicorn, the production server (never Django's runserver).

The app is loaded once in the master (``preload_app``) and the workers are forked from it. A
database connection open in the master at fork time would be inherited by every worker: one socket
shared by several processes, whose answers can reach the wrong request (another customer's data)
or break the protocol. So no connection may cross a fork: the hooks below close every connection
in the master before each fork and in each worker right after it (the worker then opens its own).

Before forking, the master also loads every page's code and freezes what it loaded out of the
garbage collector's reach (:func:`load_and_freeze`): a page that builds many objects (ranking
10,000 customers) otherwise pays for full collections that walk every module, class and function
of Django and Servicebook again and again, a quarter of its time (issue 14). Frozen objects are
also never written to by the collector, so the forked workers keep sharing those memory pages.
"""

from __future__ import annotations

import gc

from gunicorn.app.base import BaseApplication


def load_and_freeze() -> None:
    """Import every view the URL conf names (no page then imports its code during a request), then
    move every object alive now to the garbage collector's permanent generation (``gc.freeze``):
    the app's code and settings, which live as long as the process, are never scanned again."""
    from django.urls import get_resolver

    def walk(resolver) -> None:
        for entry in resolver.url_patterns:
            if hasattr(entry, "url_patterns"):
                walk(entry)

    walk(get_resolver())
    gc.collect()
    gc.freeze()


def close_database_connections(server=None, worker=None) -> None:
    """Close every Django database connection of this process (gunicorn's pre_fork/post_fork)."""
    from django.db import connections

    connections.close_all()


class ServicebookServer(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from servicebook.config.wsgi import application

        load_and_freeze()
        close_database_connections()
        return application


def server_options(*, host: str, port: int, workers: int = 2) -> dict:
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return {
        "bind": bind,
        "workers": max(1, workers),
        "accesslog": "-",
        "errorlog": "-",
        "timeout": 120,
        "graceful_timeout": 10,
        "preload_app": True,
        "pre_fork": close_database_connections,
        "post_fork": close_database_connections,
    }


def run_server(*, host: str, port: int, workers: int = 2) -> None:
    ServicebookServer(server_options(host=host, port=port, workers=workers)).run()
