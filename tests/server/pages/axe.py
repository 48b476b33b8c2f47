"""axe-core in Chromium: audit a page as it is shown, and report what fails readably.

axe-core comes from npm (``tests/clients/package.json``, like the wallet clients). DevTools
puts it in the page, as a context's init script (:meth:`Audit.prepare`) or by
``page.evaluate``: neither is subject to the page's Content-Security-Policy, so the pages keep
their real, strict CSP during the audit (and a page script the CSP refused would show).
``page.add_script_tag(path=...)`` would not do: it inserts an inline ``<script>``, which
``script-src 'self'`` blocks, and making it work would need ``bypass_csp=True``, auditing
the page under no CSP at all.

Each page is audited twice: every rule axe runs by default (WCAG 2.x A and AA, and its best
practices) in the light colour scheme, then colour contrast again in the dark one (the pages
follow ``prefers-color-scheme``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.browser_fixtures import unavailable
from tests.node_clients import CLIENTS_DIR

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

AXE_SCRIPT = CLIENTS_DIR / "node_modules" / "axe-core" / "axe.min.js"
SHOWN = 5  # failing elements listed per rule and page

# In the page: axe.run with `options`, the violations cut down to what a report needs.
_RUN = """async (options) => {
  const result = await axe.run(document, options);
  return result.violations.map((rule) => ({
    id: rule.id, impact: rule.impact, help: rule.help, helpUrl: rule.helpUrl,
    nodes: rule.nodes.map((node) => ({
      target: node.target.join(" "), summary: node.failureSummary || "" })),
  }));
}"""


def axe_source() -> str:
    """axe-core's script; skips (or fails under ``KEYFOB_REQUIRE_SERVICES=1``) without it."""
    if not AXE_SCRIPT.is_file():
        unavailable(f"{AXE_SCRIPT} is missing: run `npm ci --prefix tests/clients`")
    return AXE_SCRIPT.read_text()


@dataclass
class Audit:
    """The violations found on every page audited so far, by page name."""

    source: str
    found: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def prepare(self, context: BrowserContext) -> None:
        """Load axe-core into every page of ``context`` as it starts (as DevTools evaluates:
        under no CSP), so that :meth:`run` need not send it to each page."""
        context.add_init_script(self.source)

    def run(self, page: Page, name: str, *, skip: tuple[str, ...] = ()) -> None:
        """Audit ``page`` as it is now; ``skip`` names rules left out on this page (only
        for markup keyfob does not write, each with its reason where it is called)."""
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(self.source)
        rules = {rule: {"enabled": False} for rule in skip}
        violations = page.evaluate(_RUN, {"rules": rules, "resultTypes": ["violations"]})
        page.emulate_media(color_scheme="dark")
        try:
            dark = page.evaluate(
                _RUN, {"runOnly": ["color-contrast"], "resultTypes": ["violations"]}
            )
        finally:
            page.emulate_media(color_scheme="light")
        for rule in dark:
            rule["id"] += " (dark colour scheme)"
        self.found[name] = violations + dark

    def report(self) -> str:
        """Every violation: page, rule id, impact, help URL, and each failing element."""
        lines: list[str] = []
        for name, violations in self.found.items():
            for rule in violations:
                lines.append(f"{name}: {rule['id']} ({rule['impact']}) {rule['help']}")
                lines.append(f"    {rule['helpUrl']}")
                nodes = rule["nodes"]
                for node in nodes[:SHOWN]:
                    summary = " ".join(node["summary"].split())
                    lines.append(f"    - {node['target']}: {summary}")
                if len(nodes) > SHOWN:
                    lines.append(f"    - and {len(nodes) - SHOWN} more elements")
        return "\n".join(lines)

    @property
    def clean(self) -> bool:
        """No violation on any page."""
        return not any(self.found.values())
