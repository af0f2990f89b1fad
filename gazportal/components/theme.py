"""The profile's colours turned into a Radix accent and a small stylesheet (CSS variables).

Colours come from ``profile.colors``; text colours are derived so that they keep WCAG AA
contrast (4.5:1) whatever a utility puts in its profile.
"""
from __future__ import annotations

from gazportal.settings import Utility

# Radix Themes accent colours (step 9, light appearance).
_RADIX = {
    "tomato": "#e54d2e", "red": "#e5484d", "ruby": "#e54666", "crimson": "#e93d82", "pink": "#d6409f",
    "plum": "#ab4aba", "purple": "#8e4ec6", "violet": "#6e56cf", "iris": "#5b5bd6", "indigo": "#3e63dd",
    "blue": "#0090ff", "cyan": "#00a2c7", "teal": "#12a594", "jade": "#29a383", "green": "#30a46c",
    "grass": "#46a758", "brown": "#ad7f58", "orange": "#f76b15", "amber": "#ffc53d", "gold": "#978365",
    "bronze": "#a18072",
}


def _rgb(hex_colour: str) -> tuple[float, float, float]:
    h = hex_colour.lstrip("#")
    return tuple(int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(max(0.0, min(1.0, c)) * 255):02x}" for c in rgb)


def luminance(hex_colour: str) -> float:
    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in _rgb(hex_colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def mix(a: str, b: str, share_of_b: float) -> str:
    ra, rb = _rgb(a), _rgb(b)
    return _hex(tuple(x + (y - x) * share_of_b for x, y in zip(ra, rb)))  # type: ignore[arg-type]


def readable_on(background: str, colour: str, minimum: float = 4.5) -> str:
    """``colour`` darkened (or lightened, on a dark background) until it reads on ``background``."""
    target = "#000000" if luminance(background) > 0.18 else "#ffffff"
    out, step = colour, 0.0
    while contrast(out, background) < minimum and step < 1:
        step += 0.05
        out = mix(colour, target, step)
    return out


def radix_accent(hex_colour: str) -> str:
    """The Radix accent colour nearest to ``hex_colour``."""
    import colorsys

    h, light, s = colorsys.rgb_to_hls(*_rgb(hex_colour))

    def distance(candidate: str) -> float:
        ch, cl, cs = colorsys.rgb_to_hls(*_rgb(candidate))
        dh = min(abs(h - ch), 1 - abs(h - ch))
        return dh * 4 + abs(s - cs) + abs(light - cl) * 0.5

    return min(_RADIX, key=lambda name: distance(_RADIX[name]))


def palette(utility: Utility) -> dict[str, str]:
    p, a = utility.colors.primary, utility.colors.accent
    on_primary = "#ffffff" if contrast("#ffffff", p) >= 4.5 else "#111111"
    hero = p if on_primary == "#ffffff" else readable_on("#ffffff", p, 7)
    return {
        "--gp-primary": p,
        "--gp-accent": a,
        "--gp-hero": hero,
        "--gp-hero-deep": mix(hero, "#000000", 0.25),
        "--gp-on-hero": "#ffffff" if contrast("#ffffff", hero) >= 4.5 else "#111111",
        "--gp-ink": "#1c2024",
        "--gp-muted": "#4a5159",  # 7.9:1 on white
        "--gp-link": readable_on("#ffffff", p, 4.5),
        "--gp-tint": mix(p, "#ffffff", 0.92),
        "--gp-tint-strong": mix(p, "#ffffff", 0.82),
        "--gp-line": mix(p, "#ffffff", 0.8),
        "--gp-page": mix(p, "#ffffff", 0.965),
        "--gp-surface": "#ffffff",
        "--gp-error": "#b71c1c",
        "--gp-danger": "#b42318",
        "--gp-ok": "#14532d",
        "--gp-warn": "#7a4100",
        # charts (pages/statistics.py): labels read on the panel, grid lines stay in the background
        "--gp-chart-text": "#4a5159",
        "--gp-chart-grid": mix("#ffffff", "#1c2024", 0.12),
        "--gp-chart-axis": mix("#ffffff", "#1c2024", 0.3),
    }


# Text colours of the dark mode are checked against every dark background they sit on.
DARK_BACKGROUNDS = ("--gp-page", "--gp-surface", "--gp-tint", "--gp-tint-strong")


def dark_palette(utility: Utility) -> dict[str, str]:
    """The same variables for the dark colour mode: dark surfaces tinted with the profile's
    primary colour; every text colour lightened until it keeps 4.5:1 on all of them."""
    p = utility.colors.primary
    light = palette(utility)
    page = mix(p, "#0d1014", 0.9)
    surface = mix(p, "#161a20", 0.86)
    tint = mix(p, surface, 0.78)
    tint_strong = mix(p, surface, 0.62)
    backgrounds = (page, surface, tint, tint_strong)

    def text(colour: str) -> str:
        out = colour
        for bg in backgrounds:
            out = readable_on(bg, out, 4.6)
        return out

    return {
        **light,
        "--gp-ink": text("#e8eaed"),
        "--gp-muted": text("#aab2bb"),
        "--gp-link": text(mix(p, "#ffffff", 0.55)),
        "--gp-tint": tint,
        "--gp-tint-strong": tint_strong,
        "--gp-line": mix(p, surface, 0.55),
        "--gp-page": page,
        "--gp-surface": surface,
        "--gp-error": text("#ff8a80"),
        "--gp-danger": text("#ff9b8f"),
        "--gp-ok": text("#86d9a0"),
        "--gp-warn": text("#f5c06a"),
        "--gp-chart-text": text("#c3cad2"),
        "--gp-chart-grid": mix(surface, "#ffffff", 0.1),
        "--gp-chart-axis": mix(surface, "#ffffff", 0.3),
    }


# A chart's grid lines: visible, yet well below its labels (contrast on the panel, both modes).
CHART_GRID_CONTRAST = (1.1, 1.6)


def stylesheet(utility: Utility) -> str:
    variables = ";".join(f"{k}:{v}" for k, v in palette(utility).items())
    dark = ";".join(f"{k}:{v}" for k, v in dark_palette(utility).items())
    return f":root{{{variables}}}\n:root.dark{{{dark}}}\n{_CSS}\n{_DARK_CSS}"


_CSS = """
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--gp-page);color:var(--gp-ink)}
.gp-page{min-height:100vh;display:flex;flex-direction:column;background:var(--gp-page);color:var(--gp-ink);
  font-family:var(--default-font-family);line-height:1.5;overflow-wrap:anywhere}
.gp-container{width:100%;max-width:72rem;margin:0 auto;padding:0 1.25rem;box-sizing:border-box}
.gp-skip{position:absolute;left:-9999px;top:0;z-index:10;background:var(--gp-surface);color:var(--gp-link);padding:.75rem 1rem;
  font-weight:600;border-radius:0 0 .5rem 0}
.gp-skip:focus{left:0}
.gp-header{background:var(--gp-surface);border-top:4px solid var(--gp-accent);border-bottom:1px solid var(--gp-line)}
.gp-header-row{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.75rem 1.5rem;
  padding-top:.85rem;padding-bottom:.85rem}
.gp-brand{display:flex;align-items:center;gap:.8rem;text-decoration:none;color:var(--gp-ink);min-width:0}
.gp-brand img{width:48px;height:48px;flex:none;border-radius:12px}
.gp-brand-text{display:flex;flex-direction:column;min-width:0}
.gp-brand-name{font-weight:700;font-size:1.125rem;line-height:1.25}
.gp-brand-sub{font-size:.875rem;color:var(--gp-muted)}
.gp-lang{display:flex;align-items:center;gap:.5rem;flex-wrap:wrap}
.gp-lang-icon{color:var(--gp-muted);flex:none}
.gp-lang-list{display:flex;flex-wrap:wrap;gap:.25rem;padding:.25rem;margin:0;border-radius:1.4rem;
  background:var(--gp-tint);border:1px solid var(--gp-line)}
.gp-lang-btn{appearance:none;border:0;background:transparent;color:var(--gp-ink);font:inherit;font-size:.875rem;
  font-weight:500;line-height:1;padding:.6rem .8rem;min-height:2.25rem;border-radius:999px;cursor:pointer;
  white-space:nowrap;overflow-wrap:normal}
.gp-lang-btn:hover{background:var(--gp-tint-strong)}
.gp-lang-short{display:none}
@media (max-width:35.99rem){.gp-lang-full{display:none}.gp-lang-short{display:inline}.gp-lang-list{flex-wrap:nowrap}}
.gp-lang-btn[aria-pressed="true"]{background:var(--gp-hero);color:var(--gp-on-hero);font-weight:600}
.gp-lang-btn:focus-visible,.gp-page a:focus-visible{outline:3px solid var(--gp-accent);outline-offset:2px}
.gp-main{flex:1}
.gp-hero{background:linear-gradient(135deg,var(--gp-hero) 0%,var(--gp-hero-deep) 100%);color:var(--gp-on-hero)}
.gp-hero-grid{display:grid;grid-template-columns:minmax(0,1fr);gap:1.75rem;padding-top:2.5rem;padding-bottom:2.75rem}
.gp-chips{display:flex;flex-wrap:wrap;gap:.5rem;margin:0 0 1rem;padding:0;list-style:none}
.gp-chip{display:inline-flex;align-items:center;gap:.4rem;font-size:.8125rem;font-weight:600;letter-spacing:.02em;
  padding:.3rem .75rem;border-radius:999px;background:rgba(255,255,255,.14);border:1px solid rgba(255,255,255,.35)}
.gp-chip svg{color:var(--gp-accent)}
.gp-h1{font-size:2rem;line-height:1.15;margin:0 0 1rem;font-weight:750;letter-spacing:-.01em}
.gp-lead{font-size:1.0625rem;line-height:1.6;margin:0;max-width:40rem;opacity:.95}
.gp-ctas{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1.5rem}
.gp-cta{display:inline-flex;align-items:center;justify-content:center;min-height:3rem;padding:.7rem 1.4rem;
  border-radius:.8rem;border:2px solid var(--gp-on-hero);color:var(--gp-on-hero);font-weight:650;font-size:1rem;
  text-decoration:none;white-space:nowrap}
.gp-cta:hover{background:rgba(255,255,255,.12)}
.gp-cta-main{background:var(--gp-on-hero);color:var(--gp-hero)}
.gp-cta-main:hover{background:var(--gp-on-hero);box-shadow:0 4px 14px rgba(0,0,0,.25)}
.gp-window{background:var(--gp-surface);color:var(--gp-ink);border-radius:1rem;padding:1.25rem 1.35rem;
  box-shadow:0 10px 30px rgba(0,0,0,.18);border-left:6px solid var(--gp-accent)}
.gp-window-head{display:flex;align-items:center;gap:.6rem;margin-bottom:.5rem}
.gp-window-head svg{color:var(--gp-link);flex:none}
.gp-h2{font-size:1.375rem;line-height:1.25;margin:0 0 1.25rem;font-weight:700}
.gp-window .gp-h2{font-size:1.0625rem;margin:0}
.gp-window p{margin:0;font-size:1.0625rem;line-height:1.55}
.gp-section{padding-top:2.5rem;padding-bottom:.5rem}
.gp-cards{display:grid;grid-template-columns:minmax(0,1fr);gap:1rem;margin:0;padding:0;list-style:none}
.gp-card{background:var(--gp-surface);border:1px solid var(--gp-line);border-radius:1rem;padding:1.25rem;display:flex;gap:1rem;
  align-items:flex-start}
.gp-demo{border-left:5px solid var(--gp-accent,#e8a33d)}
.gp-demo-body{display:flex;flex-direction:column;gap:.6rem;align-items:flex-start;min-width:0}
.gp-demo-body p{margin:0}
.gp-demo-body code{font-size:1rem;font-weight:650}
.gp-demo-btn{display:inline-flex;align-items:center;gap:.5rem;min-height:3rem;padding:.7rem 1.4rem;border:0;
  border-radius:.8rem;background:var(--gp-hero);color:var(--gp-on-hero);font:inherit;font-weight:650;cursor:pointer}
.gp-demo-btn:hover{box-shadow:0 4px 14px rgba(0,0,0,.2)}
.gp-demo-btn[disabled]{opacity:.7;cursor:progress}
.gp-card-icon{flex:none;display:flex;align-items:center;justify-content:center;width:2.75rem;height:2.75rem;
  border-radius:.75rem;background:var(--gp-tint-strong);color:var(--gp-link)}
.gp-h3{font-size:1.0625rem;line-height:1.3;margin:0 0 .35rem;font-weight:650}
.gp-card p{margin:0;color:var(--gp-muted);font-size:.9375rem}
.gp-contacts{background:var(--gp-surface);border:1px solid var(--gp-line);border-radius:1rem;padding:1.25rem;display:grid;
  grid-template-columns:minmax(0,1fr);gap:1.25rem;margin:0}
.gp-contact{margin:0;min-width:0}
.gp-contact dt{display:flex;align-items:center;gap:.6rem;font-size:.8125rem;font-weight:600;text-transform:uppercase;
  letter-spacing:.04em;color:var(--gp-muted);margin:0 0 .35rem}
.gp-contact dt svg{flex:none;color:var(--gp-link)}
.gp-contact dd{margin:0;padding-left:calc(22px + .6rem);font-size:1rem}
.gp-phones{list-style:none;margin:0;padding:0;display:grid;gap:.35rem}
.gp-phone-label{display:block;font-size:.875rem;color:var(--gp-muted)}
.gp-page a.gp-link{color:var(--gp-link);font-weight:600;text-decoration:underline;text-underline-offset:3px}
.gp-footer{margin-top:3rem;background:var(--gp-surface);border-top:1px solid var(--gp-line);color:var(--gp-muted);font-size:.875rem}
.gp-footer .gp-container{padding-top:1.25rem;padding-bottom:1.25rem;display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;
  justify-content:space-between}
@media (max-width:35.99rem){
  .gp-lang{width:100%}
  .gp-lang-icon{display:none}
  .gp-lang-list{flex:1;justify-content:space-between}
  .gp-lang-btn{flex:1 1 auto;padding:.6rem .5rem}
  .gp-h1{font-size:1.75rem}
}
@media (min-width:48rem){
  .gp-h1{font-size:2.75rem}
  .gp-hero-grid{grid-template-columns:minmax(0,1.6fr) minmax(0,1fr);gap:3rem;padding-top:4rem;padding-bottom:4rem;
    align-items:center}
  .gp-cards{grid-template-columns:repeat(2,minmax(0,1fr))}
  .gp-contacts{grid-template-columns:repeat(2,minmax(0,1fr));padding:1.75rem}
}
@media (min-width:64rem){
  .gp-cards{grid-template-columns:repeat(4,minmax(0,1fr))}
  .gp-card{flex-direction:column}
  .gp-contacts{grid-template-columns:repeat(auto-fit,minmax(11rem,1fr))}
}
"""

# The colour-mode switch and the header's tools (language + colour mode), and what the dark mode
# changes beyond the variables: colours that other stylesheets give as literals.
_DARK_CSS = """
.gp-spin{display:inline-block;flex:none;width:1.05em;height:1.05em;border-radius:50%;border:2px solid currentColor;
  border-right-color:transparent;animation:gp-spin .7s linear infinite}
@keyframes gp-spin{to{transform:rotate(360deg)}}
@media (prefers-reduced-motion:reduce){.gp-spin{animation-duration:2s}}
.gp-tools{display:flex;align-items:center;gap:.5rem;flex-wrap:nowrap;min-width:0}
.gp-mode-btn{appearance:none;flex:none;display:inline-flex;align-items:center;justify-content:center;width:2.75rem;
  height:2.75rem;border-radius:999px;border:1px solid var(--gp-line);background:var(--gp-tint);color:var(--gp-ink);
  cursor:pointer;padding:0}
.gp-mode-btn:hover{background:var(--gp-tint-strong)}
.gp-mode-btn:focus-visible{outline:3px solid var(--gp-accent);outline-offset:2px}
@media (max-width:35.99rem){.gp-tools{width:100%}.gp-tools .gp-lang{width:auto;flex:1 1 auto}}
@media (max-width:47.99rem){.gp-app-header .gp-tools{width:100%}.gp-app-header .gp-tools .gp-lang{width:auto;flex:1 1 auto}}
@media (min-width:48rem){.gp-app-header .gp-tools{margin-left:auto}}
:root.dark .gp-input:disabled{background:var(--gp-tint);color:var(--gp-muted)}
:root.dark .gp-input[aria-invalid="true"]{background:var(--gp-surface);border-color:var(--gp-error)}
:root.dark .gp-field-error{color:var(--gp-error)}
:root.dark .gp-btn-danger{color:var(--gp-danger);border-color:var(--gp-danger)}
:root.dark .gp-btn-danger:hover{background:var(--gp-tint)}
:root.dark .gp-badge[data-status]:not([data-status=""]){color:#1c2024}
:root.dark .gp-nav{background:var(--gp-surface)}
:root.dark .gp-dialog{background:var(--gp-surface);color:var(--gp-ink)}
:root.dark .gp-tab[aria-pressed="true"]{background:var(--gp-surface)}
:root.dark .gp-window{box-shadow:0 10px 30px rgba(0,0,0,.45)}
"""
