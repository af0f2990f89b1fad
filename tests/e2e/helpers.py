"""What the end-to-end tests share: the two screens, the accessibility and layout check every page
gets, navigation as a person uses it, the language switch, and reading the portal's outbox (the
e-mails and SMS a customer would receive)."""
from __future__ import annotations

import base64
import functools
import json
import os
import re
import tempfile
import time
from pathlib import Path

import pytest

from gazportal.services import i18n
from gazportal.settings import UTILITIES_DIR, load_utility

VIEWPORTS = {
    "desktop": dict(viewport={"width": 1280, "height": 800}, device_scale_factor=1),
    "phone": dict(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True),
}
PASSWORD = "Sturdy-Lantern-42"
CACHE = Path(os.environ.get("GAZPORTAL_E2E_CACHE", Path(tempfile.gettempdir()) / "gazportal-e2e"))
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def t(key: str, lang: str, **kw) -> str:
    return i18n.t(key, lang, **kw)


def wait_text(key: str, lang: str) -> re.Pattern:
    """What a refusal with a ``wait`` says, whatever the time left (seconds or minutes), as a
    pattern for ``expect(...).to_have_text``."""
    from datetime import timedelta

    from gazportal.services.errors import DomainError

    before, _, after = i18n.t(key, lang).partition("{wait}")
    units = {i18n.format_wait(timedelta(seconds=s), lang).split(" ", 1)[1] for s in (1, 2, 5, 21, 60, 120, 300, 1260)}
    assert before and after and i18n.error_text(DomainError(key, wait=timedelta(minutes=1)), lang).startswith(before)
    return re.compile(re.escape(before) + r"\d+ (" + "|".join(map(re.escape, sorted(units))) + ")" + re.escape(after))


def axe_violations(page, axe_source: str) -> list[dict]:
    """axe-core's serious and critical findings on the page as it is now."""
    page.add_script_tag(content=axe_source)
    result = page.evaluate(
        "async (tags) => await axe.run(document, {resultTypes: ['violations'], runOnly: {type: 'tag', values: tags}})",
        AXE_TAGS,
    )
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


# A full-page capture stretches the viewport to the page's height, so a bar fixed to the bottom
# of the screen (the phone's tab bar) would be drawn in the middle of the picture: for the capture
# it is pinned to the bottom of the page instead, as a person scrolling to the end sees it.
_PIN_BOTTOM_BARS = """() => {
  const bars = [...document.querySelectorAll('body *')].filter(e => {
    const st = getComputedStyle(e);
    return st.position === 'fixed' && st.bottom === '0px' && st.top !== '0px' && e.getBoundingClientRect().height > 0;
  });
  for (const e of bars) { e.dataset.gpPinned = '1'; e.style.position = 'absolute'; }
  if (bars.length) { document.body.dataset.gpPos = document.body.style.position || ' ';
                     document.body.style.position = 'relative'; }
  return bars.length;
}"""
_UNPIN_BOTTOM_BARS = """() => {
  for (const e of document.querySelectorAll('[data-gp-pinned]')) { e.style.position = ''; delete e.dataset.gpPinned; }
  if (document.body.dataset.gpPos !== undefined) {
    document.body.style.position = document.body.dataset.gpPos.trim(); delete document.body.dataset.gpPos; }
}"""


# A navigation label wider or taller than its tab (a word clipped, a third line hidden).
_CUT_NAV_LABELS = """() => [...document.querySelectorAll('.gp-nav-link span')]
  .filter(e => e.getClientRects().length && (e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1))
  .map(e => e.textContent)"""


# Text a person cannot read in full: every visible text node (in ``root``) whose box goes past the
# window's sides or past an ancestor that cuts its content (overflow other than visible: hidden,
# clip, auto, scroll — a scroll container with no visible hint hides its text just the same, unless
# it is marked data-scroll-note), or that an ellipsis cuts. Visually hidden text (a 1 px box, a
# clip-path) and the charts' SVG (plotly clips its own drawing) are left out. Each finding:
# "<text> (<tag>.<class>, <how>)".
CLIPPED_TEXT_JS = """(rootSel) => {
  const root = rootSel ? document.querySelector(rootSel) : document.body;
  if (!root) return ['no ' + rootSel];
  const W = document.documentElement.clientWidth, out = [];
  const hidden = (el) => { for (let e = el; e && e !== document.body; e = e.parentElement) {
      const cs = getComputedStyle(e), r = e.getBoundingClientRect();
      if (cs.display === 'none' || cs.visibility === 'hidden' || cs.opacity === '0') return true;
      if ((r.width <= 1 || r.height <= 1) && cs.overflow !== 'visible') return true;
      if (cs.clipPath && cs.clipPath !== 'none' || cs.clip && cs.clip !== 'auto') return true; }
    return false; };
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.textContent.trim(), el = n.parentElement;
    if (!text || !el || el.closest('svg, script, style, noscript')) continue;
    if (hidden(el)) continue;
    const range = document.createRange(); range.selectNodeContents(n);
    const rects = [...range.getClientRects()].filter(r => r.width > 0 && r.height > 0);
    if (!rects.length) continue;
    const what = el.tagName.toLowerCase() + '.' + (typeof el.className === 'string' ? el.className.split(' ')[0] : '');
    const say = (how) => out.push(text.slice(0, 40) + ' (' + what + ', ' + how + ')');
    if (rects.some(r => r.left < -1 || r.right > W + 1)) { say('past the window'); continue; }
    let cut = false;
    for (let a = el; a && a !== document.documentElement && !cut; a = a.parentElement) {
      const cs = getComputedStyle(a);
      if (a !== el && cs.overflowX === 'visible' && cs.overflowY === 'visible') continue;
      if (a === el && cs.textOverflow === 'ellipsis' && a.scrollWidth > a.clientWidth + 1) { say('ellipsis'); cut = true; break; }
      if (a === el || a.hasAttribute('data-scroll-note')) continue;
      const b = a.getBoundingClientRect();
      const left = b.left + a.clientLeft, right = left + a.clientWidth, top = b.top + a.clientTop, bottom = top + a.clientHeight;
      if (rects.some(r => (cs.overflowX !== 'visible' && (r.left < left - 1 || r.right > right + 1)) ||
                          (cs.overflowY !== 'visible' && (r.top < top - 1 || r.bottom > bottom + 1)))) {
        say('cut by ' + a.tagName.toLowerCase() + '.' + (typeof a.className === 'string' ? a.className.split(' ')[0] : ''));
        cut = true; }
    }
    if (out.length >= 12) break;
  }
  return out; }"""


# A number with its unit or currency (``.gp-num``) broken over two lines ("7,375 kW" / "h").
SPLIT_NUMBERS_JS = """(rootSel) => [...document.querySelectorAll((rootSel || 'body') + ' .gp-num')]
  .filter(e => e.getClientRects().length).map(e => {
    const lines = new Set();
    for (const n of e.childNodes) { if (n.nodeType !== 3 || !n.textContent.trim()) continue;
      const r = document.createRange(); r.selectNodeContents(n);
      for (const b of r.getClientRects()) if (b.width > 0) lines.add(Math.round(b.top)); }
    return lines.size > 1 ? e.textContent.trim() : ''; }).filter(Boolean).slice(0, 12)"""


def clipped_texts(page, root: str | None = None) -> list[str]:
    """The texts of the page (or of the element ``root`` selects) that are cut off or pass the
    window's sides (see CLIPPED_TEXT_JS), and numbers with their unit broken over two lines
    (SPLIT_NUMBERS_JS); an empty list when everything can be read."""
    return page.evaluate(CLIPPED_TEXT_JS, root) + [f"{x} (broken over two lines)"
                                                   for x in page.evaluate(SPLIT_NUMBERS_JS, root)]


# The colours a chart is drawn with, as the browser paints them: its labels' fill (ticks, legend,
# axis title), its grid lines' stroke, and the panel's background behind them.
CHART_COLOURS_JS = """(name) => {
  const fig = document.querySelector('[data-chart=' + name + ']');
  if (!fig) return null;
  let bg = 'rgba(0, 0, 0, 0)';
  for (let e = fig; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor;
    if (c && c !== 'transparent' && !/rgba\\([^)]*,\\s*0\\)$/.test(c)) { bg = c; break; } }
  const fills = sel => [...fig.querySelectorAll(sel)].map(e => getComputedStyle(e).fill);
  return {bg, text: fills('.xtick text, .ytick text, .legendtext, .g-ytitle text'),
          grid: [...fig.querySelectorAll('.ygrid, .xgrid')].map(e => getComputedStyle(e).stroke)}; }"""


def _hex(css: str) -> str:
    r, g, b = (int(float(x)) for x in re.findall(r"[\d.]+", css)[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def chart_contrast(page, name: str) -> tuple[float, float]:
    """(the lowest contrast of the chart's labels, the highest of its grid lines) on its panel,
    computed from the colours Chromium paints (WCAG's formula, components/theme.contrast)."""
    from gazportal.components.theme import contrast

    colours = page.evaluate(CHART_COLOURS_JS, name)
    assert colours and colours["text"] and colours["grid"], (name, colours)
    bg = _hex(colours["bg"])
    return (min(contrast(_hex(c), bg) for c in colours["text"]), max(contrast(_hex(c), bg) for c in colours["grid"]))


# Every Radix class ("rt-…") on the page's elements, and every one the page's stylesheets name.
_RADIX_CLASSES = """() => {
  const onPage = new Set(), styled = new Set();
  for (const e of document.querySelectorAll('[class*="rt-"]'))
    for (const c of e.classList) if (/^(?:[\\w-]+:)?-?rt-/.test(c)) onPage.add(c);
  const walk = (rules) => { for (const r of rules) {
    if (r.selectorText)
      for (const m of r.selectorText.matchAll(/\\.((?:[\\w-]+\\\\?:)?-?rt-[\\w-]+)/g)) styled.add(m[1].replace('\\\\', ''));
    if (r.cssRules) walk(r.cssRules); } };
  for (const sheet of document.styleSheets) { try { walk(sheet.cssRules); } catch (e) { /* another origin */ } }
  return [[...onPage], [...styled]];
}"""


def radix_package() -> Path:
    """@radix-ui/themes as the e2e build installed it (the version Reflex pins)."""
    found = sorted(CACHE.glob("*/web/node_modules/@radix-ui/themes/package.json"))
    assert found, f"no e2e build with @radix-ui/themes under {CACHE}"
    return found[0].parent


@functools.lru_cache(maxsize=1)
def radix_styled_classes() -> frozenset[str]:
    """The Radix classes Radix's whole stylesheet gives rules to."""
    css = (radix_package() / "styles.css").read_text()
    return frozenset(c.replace("\\", "") for c in re.findall(r"\.((?:[\w-]+\\:)?-?rt-[\w-]+)", css))


def radix_unstyled(page) -> list[str]:
    """Radix classes on the page that Radix styles but the page's stylesheet does not: a component
    the portal's cut of Radix's stylesheet (gazportal/components/radix.py) was not made for."""
    on_page, styled = page.evaluate(_RADIX_CLASSES)
    return sorted(set(on_page) & radix_styled_classes() - set(styled))


def full_page_screenshot(page, path: Path) -> None:
    page.evaluate(_PIN_BOTTOM_BARS)
    try:
        # Finite CSS animations and transitions (a dialog opening, a fade) are run to their end
        # first, so neither the picture nor axe after it sees a page half way: no fixed wait.
        page.screenshot(path=path, full_page=True, animations="disabled")
    finally:
        page.evaluate(_UNPIN_BOTTOM_BARS)


def check_and_shoot(page, axe_source: str, path: Path, label: str = "") -> None:
    """No sideways scroll, a full-page screenshot at ``path``, and axe-core finds nothing serious."""
    label = label or path.stem
    width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"{label}: the page scrolls sideways ({width[0]} > {width[1]} px)"
    cut = page.evaluate(_CUT_NAV_LABELS)
    assert not cut, f"{label}: navigation labels cut: {cut}"
    unstyled = radix_unstyled(page)
    assert not unstyled, f"{label}: Radix classes without their styles (scripts/radix_subset.py): {unstyled}"
    full_page_screenshot(page, path)
    bad = axe_violations(page, axe_source)
    assert not bad, f"{label}: axe found:\n" + json.dumps(
        [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]} for v in bad],
        indent=1,
    )


def check_page(page, axe_source, screenshots: Path, utility, name: str, lang: str, device: str) -> None:
    """check_and_shoot, saved as <profile>-<name>-<lang>-<device>.png."""
    check_and_shoot(page, axe_source, screenshots / f"{utility.id}-{name}-{lang}-{device}.png",
                    f"{name}/{lang}/{device}")


def new_page(context, timeout: float):
    """A page of ``context`` with ``timeout`` (ms) as its default, and the list its JavaScript
    errors are collected in (a test ends with ``assert not errors``)."""
    page = context.new_page()
    page.set_default_timeout(timeout)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


def see_charts(page, names=("monthly", "comparison", "yearly"), timeout: float = 30_000) -> None:
    """Scroll to each of /statistics' charts, as a person reading the page does (they are loaded and
    drawn only when they come into view), and wait until plotly has drawn it."""
    from playwright.sync_api import expect

    for name in names:
        chart = page.locator(f"[data-chart={name}]")
        chart.scroll_into_view_if_needed()
        expect(chart.locator(".main-svg").first).to_be_visible(timeout=timeout)


def nav_to(page, name: str) -> None:
    """Click a navigation entry as a person would: on a phone the less used pages and sign-out
    are under "More" in the bottom tab bar."""
    # Wait for the navigation to be on the page (right after a redirect it may not be yet).
    page.locator(f"[data-nav={name}]:visible, [data-nav=more]:visible").first.wait_for()
    link = page.locator(f"[data-nav={name}]:visible")
    if link.count() == 0:
        page.locator("[data-nav=more]:visible").click()
        link = page.locator(f"[data-nav={name}]:visible")
    link.first.click()


def switch_lang(page, lang: str) -> None:
    """Press the language switch's button for ``lang`` and wait until the page shows it pressed
    and ``<html lang>`` follows.

    Every shipped profile offers two languages or more, so the switch must be there: a missing
    button fails (after Playwright's wait for it), instead of doing nothing as it once did, which
    let a test "check every language" while it checked one. Callers pass a language of the
    profile (``profile.languages``)."""
    from playwright.sync_api import expect

    button = page.locator(f"button[data-lang={lang}]")
    expect(button).to_have_count(1)  # waits for the page to render the switch; fails without it
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(page.locator("html")).to_have_attribute("lang", lang)


def sign_in(page, url: str, login: str, password: str = PASSWORD) -> None:
    """Through the sign-in form; returns once the portal has left /signin."""
    from playwright.sync_api import expect

    if "/signin" not in page.url:
        page.goto(url + "/signin")
    page.locator("#signin-login").fill(login)
    page.locator("#signin-password").fill(password)
    page.locator("#signin-submit").click()
    expect(page).not_to_have_url(re.compile(r"/signin"))


def picker_address(s, account) -> dict:
    """The names the address picker shows for ``account`` (branch, settlement, street, house, flat;
    flat None for a house without flats), read in the session ``s``."""
    from gazportal.models import Branch, Flat, House, Settlement, Street

    house = s.get(House, account.house_id)
    street = s.get(Street, house.street_id)
    settlement = s.get(Settlement, street.settlement_id)
    branch = s.get(Branch, settlement.branch_id)
    flat = s.get(Flat, account.flat_id) if account.flat_id else None
    return dict(branch=branch.name, settlement=settlement.name, street=street.name, house=house.number,
                flat=flat.number if flat else None)


def add_account(page, utility, number: str, payment: str, address: dict) -> None:
    """On /accounts: add the account ``number`` the way the profile lets a customer: by its last
    payment (a wrong amount first: marked, the number kept) or with the address picker (branch,
    settlement, street, house, flat names) and the same proof; returns when its card and the notice are shown."""
    from playwright.sync_api import expect

    if "payment_proof" in utility.add_account_by:
        if len(utility.add_account_by) > 1:
            page.locator("button[data-mode=payment_proof]").click()
        page.locator("#add-number").fill(number)
        page.locator("#add-last_payment").fill("1.00")
        page.locator("#add-by-payment button[type=submit]").click()
        expect(page.locator("#add-last_payment")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#add-number")).to_have_value(number)  # kept
        page.locator("#add-last_payment").fill(payment)
        page.locator("#add-by-payment button[type=submit]").click()
    else:
        for level in ("branch", "settlement", "street", "house", "flat"):
            if address.get(level) is None:
                continue
            box = page.locator(f"#pick-{level}")
            expect(box).to_be_enabled()
            box.select_option(label=address[level])
        expect(page.locator("#pick-number")).to_be_enabled()
        page.locator("#pick-number").fill(number)
        page.locator("#pick-last_payment").fill("1.00")  # the address and the number alone prove nothing
        page.locator("#add-by-address button[type=submit]").click()
        expect(page.locator("#pick-last_payment")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#pick-number")).to_have_value(number)  # kept
        page.locator("#pick-last_payment").fill(payment)
        page.locator("#add-by-address button[type=submit]").click()
    expect(page.locator(f"[data-account='{number}']")).to_be_visible()
    expect(page.locator("#accounts-notice")).to_contain_text(number)


# --- the outbox: what the portal sent -------------------------------------------------------------


def outbox_files(portal) -> set[Path]:
    return set(portal.outbox.iterdir()) if portal.outbox and portal.outbox.is_dir() else set()


def new_message(portal, to: str, seen: set[Path], timeout: float = 20) -> str:
    """The (decoded) text of the first message for ``to`` that arrived after ``seen`` was taken:
    an e-mail's plain-text body, or an SMS."""
    import email.policy
    from email.parser import BytesParser

    from gazportal.services.notify import mail_text

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(outbox_files(portal) - seen):
            if path.name.endswith(".sms.txt"):
                raw = path.read_text(encoding="utf-8")
                if raw.startswith(f"To: {to}\n"):
                    return raw.partition("\n\n")[2]
            elif path.name.endswith(".eml"):
                msg = BytesParser(policy=email.policy.default).parsebytes(path.read_bytes())
                if str(msg["To"]).lower() == to.lower():
                    return mail_text(msg)
        time.sleep(0.2)
    pytest.fail(f"no new message for {to} arrived in {portal.outbox}")


def link_token(text: str, portal, path: str) -> str:
    """The token of the portal link to ``path`` in a message."""
    m = re.search(re.escape(portal.url + path) + r"\?token=([A-Za-z0-9_\-]+)", text)
    assert m, text
    return m.group(1)


def sms_code(body: str) -> str:
    m = re.search(r"(?<!\d)(\d{6})(?!\d)", body)
    assert m, body
    return m.group(1)


def shipped_utilities() -> list[str]:
    """Every profile the portal ships (gazportal/profiles/*.toml), or the comma-separated list in
    GAZPORTAL_E2E_WALK_PROFILES: the new customer's walk runs on each."""
    chosen = os.environ.get("GAZPORTAL_E2E_WALK_PROFILES", "")
    if chosen.strip():
        return [p.strip() for p in chosen.split(",") if p.strip()]
    return sorted(p.stem for p in UTILITIES_DIR.glob("*.toml"))


def solve_captcha(page) -> str:
    """Tick the ALTCHA checkbox and wait until the widget has solved the challenge in the
    browser: its payload is then in the form's hidden ``altcha`` input."""
    from playwright.sync_api import expect

    widget = page.locator("altcha-widget")
    expect(widget.locator(".altcha")).to_have_attribute("data-state", "unverified")
    widget.locator("input[type=checkbox]").click()  # the widget checks it itself once solved
    expect(widget.locator(".altcha")).to_have_attribute("data-state", "verified", timeout=60_000)
    payload = widget.locator("input[name=altcha]").input_value()
    data = json.loads(base64.b64decode(payload))
    assert data["algorithm"] == "SHA-256" and isinstance(data["number"], int), data
    return payload


def reading_utilities(utilities: list[str]) -> list[str]:
    """Of ``profiles``, those whose customers sign in with an e-mail or a phone and a password and
    no CAPTCHA: the portals the reading and new-customer walks run on."""
    return [p for p in utilities if not load_utility(p).captcha and load_utility(p).login_identifier in ("email", "phone")]


# --- a profile whose reading window is the whole month ---------------------------------------------


def whole_month_utility(utility_id: str, folder: Path) -> Path:
    """A copy of the profile (a TOML file in ``folder``) whose reading window is the whole month, so
    that a test of reading entry does not depend on today's date; the production profiles stay.
    (Readings then count for the month they are sent in: no ``previous_month_until``.)"""
    path = utility_with_window(utility_id, folder, from_day=1, to_day=31)
    assert load_utility(str(path)).reading_window.to_day == 31
    return path


def utility_with_window(utility_id: str, folder: Path, **window: int) -> Path:
    """A copy of the profile (a TOML file in ``folder``) whose ``[reading_window]`` table is
    ``window`` (from_day, to_day, previous_month_until), validated by load_utility."""
    text = (UTILITIES_DIR / f"{utility_id}.toml").read_text(encoding="utf-8")
    table = "[reading_window]\n" + "".join(f"{k} = {v}\n" for k, v in window.items()) + "\n"
    # the table up to the next one: its keys and comments (a table ends at the next "[")
    text, n = re.subn(r"(?ms)^\[reading_window\]\n.*?(?=^\[)", lambda _m: table, text)
    assert n == 1, "the profile's [reading_window] was not found"
    path = folder / f"{utility_id}.toml"
    path.write_text(text, encoding="utf-8")
    load_utility(str(path))
    return path
