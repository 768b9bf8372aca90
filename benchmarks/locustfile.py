"""Locust users for ``servicebook bench load`` (run by benchmarks/bench_load.py in a child process,
so gevent's monkey patching never enters the benchmark's own process).

Each simulated user takes the next session of the plan: the driver signed it in through the
sign-in form as one of the demo accounts, round-robin, so every role takes part. Then, waiting
``SB_LOAD_WAIT`` seconds (default 0.5-2.5) between requests like a person reading, it asks:

- a page of its menu (weight 5) or a detail page linked from one (weight 3);
- an API list (weight 3) or an API detail (weight 2) among those its role may read.

The plan (``SB_LOAD_PLAN``, a JSON file the driver wrote after probing each account) holds the
sessions and, per account, the menu pages, detail pages, API lists and API details. An answer
outside 2xx/3xx, or a page that lands on the sign-in form, is a failure. Every request is written
as one JSON line to ``SB_LOAD_SAMPLES`` when Locust quits; the driver computes the figures.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time

from locust import HttpUser, between, events, task

with open(os.environ["SB_LOAD_PLAN"], encoding="utf-8") as plan_file:
    PLAN = json.load(plan_file)
WAIT = [float(x) for x in os.environ.get("SB_LOAD_WAIT", "0.5,2.5").split(",")]
NUMBER = re.compile(r"/\d+/")
SAMPLES: list[dict] = []
_users = itertools.count()


def route(path: str) -> str:
    """The path with its ids replaced, so stats group by page kind: /agreements/{id}/."""
    return NUMBER.sub("/{id}/", path)


@events.request.add_listener
def record(request_type, name, response_time, response, exception, context, **kwargs):
    status = getattr(response, "status_code", None)
    SAMPLES.append(
        {
            "at": time.time(),
            "method": request_type,
            "name": name,
            "url": getattr(response, "url", None) or kwargs.get("url"),
            "ms": round(response_time, 2),
            "status": status,
            "error": None if exception is None else str(exception)[:200],
            "role": (context or {}).get("role"),
            "kind": (context or {}).get("kind"),
        }
    )


@events.quitting.add_listener
def write_samples(environment, **kwargs):
    with open(os.environ["SB_LOAD_SAMPLES"], "w", encoding="utf-8") as out:
        out.writelines(json.dumps(sample) + "\n" for sample in SAMPLES)


class DemoUser(HttpUser):
    wait_time = between(WAIT[0], WAIT[1])

    def context(self) -> dict:
        return {"role": self.account["role"]}

    def on_start(self) -> None:
        user = PLAN["users"][next(_users) % len(PLAN["users"])]
        self.account = PLAN["accounts"][user["account"]]
        self.client.cookies.set("sessionid", user["session"])

    def ask(self, path: str, kind: str) -> None:
        headers = {"Accept": "application/json"} if kind.startswith("api") else {}
        with self.client.get(
            path, name=route(path), headers=headers, context={"kind": kind}, catch_response=True
        ) as answer:
            if not 200 <= answer.status_code < 400:
                answer.failure(f"HTTP {answer.status_code}")
            elif "/login/" in (answer.url or "") and not path.startswith("/login/"):
                answer.failure("signed out: landed on the sign-in page")
            else:
                answer.success()

    def pick(self, key: str, fallback: str) -> str:
        choices = self.account[key] or self.account[fallback]
        return random.choice(choices)

    @task(5)
    def menu_page(self) -> None:
        self.ask(self.pick("pages", "pages"), "page")

    @task(3)
    def detail_page(self) -> None:
        self.ask(self.pick("details", "pages"), "page")

    @task(3)
    def api_list(self) -> None:
        self.ask(self.pick("api_lists", "pages"), "api")

    @task(2)
    def api_detail(self) -> None:
        self.ask(self.pick("api_details", "api_lists"), "api")
