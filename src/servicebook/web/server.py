"""Run the WSGI app under gunicorn, the production server (never Django's runserver).

The app is loaded once in the master (``preload_app``) and the workers are forked from it. A
database connection open in the master at fork time would be inherited by every worker: one socket
shared by several processes, whose answers can reach the wrong request (another customer's data)
or break the protocol. So no connection may cross a fork: the hooks below close every connection
in the master before each fork and in each worker right after it (the worker then opens its own).
"""

from __future__ import annotations

from gunicorn.app.base import BaseApplication


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
