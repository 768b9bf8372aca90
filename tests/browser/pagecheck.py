"""Every page a browser test visits, checked the way a user meets it (issue 18).

Each HTML page of the site that a test's browser opens is opened again by the same user, at
1400 px and at 390 px wide (a phone): a screenshot of each goes to tests/browser/screenshots/,
and the page fails when it scrolls sideways at either width (content wider than the screen,
outside a scrolling table), or when axe-core (vendored from npm, run in the page) finds a
critical or serious WCAG 2.1 A/AA violation. A route is checked once per role per run: what
differs between two invoices is their figures, not their layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from django.urls import Resolver404, resolve

import servicebook.web

AXE = Path(servicebook.web.__file__).parent / "static" / "vendor" / "axe-core" / "axe.min.js"
WIDTHS = (1400, 390)
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("critical", "serious")
#: Downloads and machine-readable answers: fetched by tests, not pages a user reads.
NOT_PAGES = re.compile(r"\.(csv|pdf|ics|xlsx|json|parquet|xml|zip)$|/(export|download|rejects)/")

OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = document.documentElement.scrollWidth;
  const offenders = [];
  if (wide > width + 1) {
    for (const el of document.body.querySelectorAll('*')) {
      const box = el.getBoundingClientRect();
      if (box.right <= width + 1 || box.width === 0) continue;
      let parent = el.parentElement, clipped = false;
      while (parent && parent !== document.body) {
        const style = getComputedStyle(parent);
        if (['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX)) {
          clipped = true;
          break;
        }
        parent = parent.parentElement;
      }
      if (!clipped) {
        const classes = typeof el.className === 'string' ? el.className.trim() : '';
        offenders.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
          (classes ? '.' + classes.split(/\\s+/).join('.') : ''));
      }
    }
  }
  return {width, wide, offenders: offenders.slice(-4)};
}"""

AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
  }));
}"""


def route_of(url: str) -> str | None:
    path = urlsplit(url).path
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


@dataclass
class PageChecker:
    """Collects the pages a test opens and checks them (``check``) as the user who opened them."""

    base_url: str
    screenshots: Path
    done: set = field(default_factory=set)
    pending: list = field(default_factory=list)
    findings: list = field(default_factory=list)
    user: str = "anonymous"

    def visited(self, url: str) -> None:
        if url.startswith(self.base_url) and not NOT_PAGES.search(urlsplit(url).path):
            key = (self.user, route_of(url))
            if key[1] is not None and key not in self.done:
                self.done.add(key)
                self.pending.append(url)

    def check(self, context) -> None:
        """Check the pages opened since the last call, in a new tab of ``context``."""
        urls, self.pending = self.pending, []
        if not urls:
            return
        tab = context.new_page()
        try:
            for url in urls:
                self._check_one(tab, url)
        finally:
            tab.close()

    def _check_one(self, tab, url: str) -> None:
        name = f"{self.user}-{route_of(url)}".replace(":", "-")
        for width in WIDTHS:
            tab.set_viewport_size({"width": width, "height": 900})
            try:
                response = tab.goto(url)
            except Exception:  # a download, or a page that went away
                return
            if response is None or response.status != 200:
                return
            if "text/html" not in (response.headers.get("content-type") or ""):
                return
            tab.screenshot(path=self.screenshots / f"{name}-{width}.png", full_page=True)
            layout = tab.evaluate(OVERFLOW)
            if layout["wide"] > layout["width"] + 1:
                self.findings.append(
                    f"{url} as {self.user} at {width} px scrolls sideways "
                    f"({layout['wide']} px wide): {', '.join(layout['offenders'])}"
                )
            if width == WIDTHS[0]:
                tab.add_script_tag(path=str(AXE))
                for v in tab.evaluate(AXE_RUN, WCAG):
                    if v["impact"] in BLOCKING:
                        self.findings.append(
                            f"{url} as {self.user}: {v['impact']} {v['id']} ({v['help']}) "
                            f"at {'; '.join(v['nodes'])}"
                        )
