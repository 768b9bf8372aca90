"""Run the WSGI app under gunicorn, the production server (never Django's runserver)."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication


class ServicebookServer(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from servicebook.config.wsgi import application

        return application


def run_server(*, host: str, port: int, workers: int = 2) -> None:
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    ServicebookServer(
        {
            "bind": bind,
            "workers": max(1, workers),
            "accesslog": "-",
            "errorlog": "-",
            "timeout": 120,
            "graceful_timeout": 10,
            "preload_app": True,
        }
    ).run()
