"""The frame of the signed-in pages: header (logo, name, navigation, language switch), main,
footer. On a phone the navigation is a tab bar at the bottom of the screen, in reach of a thumb;
from 48rem up it sits in the header."""
from __future__ import annotations

import reflex as rx

from gazportal.components.account_choice import CSS as ACCOUNT_CHOICE_CSS
from gazportal.components.color_mode import header_tools
from gazportal.settings import get_settings
from gazportal.state.i18n import I18nState
from gazportal.state.session import SessionState

T = I18nState.t

# (name, route, icon, message key)
NAV = (
    ("dashboard", "/dashboard", "gauge", "nav.dashboard"),
    ("accounts", "/accounts", "wallet-cards", "nav.accounts"),
    ("statistics", "/statistics", "chart-column", "nav.statistics"),
    ("statement", "/statement", "receipt-text", "nav.statement"),
    ("profile", "/profile", "user-round", "nav.profile"),
    ("password", "/password", "key-round", "nav.password"),
    ("contacts", "/contacts", "phone", "nav.contacts"),
    ("messages", "/messages", "inbox", "nav.messages"),  # "My messages" (issue 14 point 20)
)


# On a phone only these stay in the bottom tab bar; the rest sit under "More".
PHONE_TABS = ("dashboard", "accounts", "statistics", "contacts")

# The staff console's navigation (pages/staff.py); on a phone three stay in the tab bar (the
# Kazakh "Көрсеткіштер" is cut in a quarter of 390 px less "More") and the dashboard and the audit
# log sit under "More" with the sign-out.
STAFF_PHONE_TABS = ("inbox", "readings", "view")
STAFF_NAV = (
    ("inbox", "/staff", "inbox", "staff.nav.inbox"),
    ("readings", "/staff/readings", "gauge", "staff.nav.readings"),
    ("audit", "/staff/audit", "scroll-text", "staff.nav.audit"),
    ("dashboard", "/staff/dashboard", "chart-column", "staff.nav.dashboard"),
    ("view", "/staff/view", "eye", "staff.nav.view"),
)


def _nav_link(name: str, route: str, icon: str, key: str, active: str, extra_class: str = "") -> rx.Component:
    current = {"aria_current": "page"} if name == active else {}
    return rx.el.li(
        rx.el.a(
            rx.icon(icon, size=22, aria_hidden="true"),
            rx.el.span(T[key]),
            href=route,
            class_name="gp-nav-link",
            data_nav=name,
            **current,
        ),
        class_name=extra_class,
    )


def _sign_out_button(extra_class: str = "") -> rx.Component:
    return rx.el.li(
        rx.el.button(
            rx.icon("log-out", size=22, aria_hidden="true"),
            rx.el.span(T["nav.sign_out"]),
            type="button",
            class_name="gp-nav-link",
            data_nav="sign_out",
            on_click=SessionState.sign_out,  # ends the session on the server, back to /signin
        ),
        class_name=extra_class,
    )


def _more_menu(active: str, items: tuple = NAV, tabs: tuple = PHONE_TABS) -> rx.Component:
    """Phone only: the pages that do not fit the tab bar, in a disclosure that opens upwards."""
    rest = [item for item in items if item[0] not in tabs]
    in_menu = active in {item[0] for item in rest}
    return rx.el.li(
        rx.el.details(
            rx.el.summary(
                rx.icon("ellipsis", size=22, aria_hidden="true"),
                rx.el.span(T["nav.more"]),
                class_name="gp-nav-link gp-more-summary",
                data_nav="more",
                **({"data_current": "true"} if in_menu else {}),
            ),
            rx.el.ul(
                *[_nav_link(*item, active=active) for item in rest],
                _sign_out_button(),
                class_name="gp-more-list",
            ),
            class_name="gp-more",
        ),
        class_name="gp-nav-phone-only",
    )


def nav(active: str, items: tuple = NAV, tabs: tuple = PHONE_TABS) -> rx.Component:
    return rx.el.nav(
        rx.el.ul(
            *[
                _nav_link(*item, active=active, extra_class="" if item[0] in tabs else "gp-nav-wide-only")
                for item in items
            ],
            _sign_out_button("gp-nav-wide-only"),
            _more_menu(active, items, tabs),
            class_name="gp-nav-list",
        ),
        aria_label=T["nav.label"],
        class_name="gp-nav",
    )


def app_header(active: str, staff: bool = False) -> rx.Component:
    utility = get_settings().utility
    return rx.el.header(
        rx.el.div(
            rx.el.a(
                rx.el.img(src=utility.logo, alt="", width="40", height="40"),
                rx.el.span(
                    rx.el.span(T["utility.name"], class_name="gp-brand-name"),
                    rx.el.span(T["staff.product" if staff else "app.product"], class_name="gp-brand-sub"),
                    class_name="gp-brand-text",
                ),
                href="/staff" if staff else "/accounts",
                class_name="gp-brand gp-app-brand",
            ),
            nav(active, STAFF_NAV, STAFF_PHONE_TABS) if staff else nav(active),
            header_tools(),
            class_name="gp-container gp-app-header-row",
        ),
        class_name="gp-header gp-app-header",
    )


def page_title(title_key: str, lead_key: str | None = None, *extra: rx.Component) -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.h1(T[title_key], class_name="gp-app-h1"),
            rx.el.p(T[lead_key], class_name="gp-app-lead") if lead_key else rx.fragment(),
        ),
        *extra,
        class_name="gp-app-title",
    )


def panel(icon: str, title_key: str, title_id: str, *children: rx.Component, **attrs) -> rx.Component:
    """A titled panel of a signed-in page: its heading (an icon and the title) names the section."""
    return rx.el.section(
        rx.el.h2(rx.icon(icon, size=20, aria_hidden="true"), T[title_key], class_name="gp-panel-h", id=title_id),
        *children,
        class_name="gp-panel",
        aria_labelledby=title_id,
        **attrs,
    )


def app_layout(active: str, *children: rx.Component, staff: bool = False) -> rx.Component:
    """A signed-in page: the header with the customer's navigation (``staff``: the staff console's),
    ``children`` in the main area, the footer."""
    return rx.el.div(
        rx.el.style(APP_CSS),
        rx.el.a(T["app.skip_to_content"], href="#main", class_name="gp-skip"),
        app_header(active, staff),
        rx.el.main(
            rx.el.div(*children, class_name="gp-container gp-app-main"),
            id="main",
            tab_index=-1,
            class_name="gp-main",
        ),
        rx.el.footer(
            rx.el.div(
                rx.el.span(T["utility.copyright"]),
                rx.el.span(T["utility.address"]),
                class_name="gp-container",
            ),
            class_name="gp-footer gp-app-footer",
        ),
        class_name="gp-page gp-app",
    )


APP_CSS = ACCOUNT_CHOICE_CSS + """
/* A signed-in page's content arrives after the first paint (the state's data): the main area
   fills the screen from the start, so the footer is never in view while the content grows
   (it moved from the screen's bottom to the page's: Lighthouse layout shift 0.11). */
.gp-app .gp-main{min-height:100vh;min-height:100dvh}
.gp-app-header-row{display:flex;align-items:center;gap:.75rem 1.25rem;flex-wrap:wrap;padding-top:.6rem;padding-bottom:.6rem}
.gp-app-brand img{width:40px;height:40px;border-radius:10px}
.gp-app-brand{flex:1 1 auto}
.gp-app-brand .gp-brand-name{font-size:1rem}
.gp-app-brand .gp-brand-sub{font-size:.8125rem}
.gp-nav-list{display:flex;gap:.25rem;list-style:none;margin:0;padding:0}
.gp-nav-phone-only{display:none}
.gp-more{position:relative}
.gp-more-summary{list-style:none}
.gp-more-summary::-webkit-details-marker{display:none}
.gp-more-summary[data-current="true"] svg{color:var(--gp-link)}
.gp-more-list{list-style:none;margin:0;padding:.4rem;position:fixed;right:.5rem;bottom:4.4rem;min-width:13rem;
  background:var(--gp-surface);border:1px solid var(--gp-line);border-radius:1rem;box-shadow:0 8px 28px rgba(0,0,0,.18);z-index:40}
.gp-more-list .gp-nav-link{flex-direction:row !important;justify-content:flex-start;font-size:.9375rem !important;gap:.6rem !important;
  padding:.6rem .8rem !important;min-height:2.75rem !important}
.gp-nav-link{display:flex;align-items:center;gap:.45rem;padding:.55rem .8rem;border-radius:.75rem;color:var(--gp-ink);
  text-decoration:none;font:inherit;font-size:.9375rem;font-weight:550;background:transparent;border:0;cursor:pointer;
  min-height:2.75rem;white-space:nowrap;overflow-wrap:normal}
.gp-nav-link svg{color:var(--gp-muted);flex:none}
.gp-nav-link:hover{background:var(--gp-tint)}
.gp-nav-link[aria-current="page"]{background:var(--gp-tint-strong);color:var(--gp-ink);font-weight:700}
.gp-nav-link[aria-current="page"] svg{color:var(--gp-link)}
.gp-nav-link:focus-visible,.gp-app button:focus-visible,.gp-app select:focus-visible,.gp-app input:focus-visible,
.gp-app textarea:focus-visible{outline:3px solid var(--gp-accent);outline-offset:2px}
.gp-app-main{padding-top:1.5rem;padding-bottom:2rem;display:flex;flex-direction:column;gap:1.25rem}
.gp-app-title{display:flex;flex-wrap:wrap;align-items:flex-end;justify-content:space-between;gap:.75rem 1rem}
.gp-app-h1{font-size:1.625rem;line-height:1.2;margin:0;font-weight:750;letter-spacing:-.01em}
.gp-app-lead{margin:.35rem 0 0;color:var(--gp-muted);max-width:44rem}
.gp-panel{background:var(--gp-surface);border:1px solid var(--gp-line);border-radius:1rem;padding:1.25rem;box-sizing:border-box;min-width:0}
.gp-panel-h{font-size:1.125rem;line-height:1.3;margin:0 0 .75rem;font-weight:700;display:flex;align-items:center;gap:.5rem}
.gp-panel-h svg{color:var(--gp-link);flex:none}
.gp-panel-sub{margin:-.4rem 0 1rem;color:var(--gp-muted);font-size:.9375rem}
.gp-grid2{display:grid;grid-template-columns:minmax(0,1fr);gap:1.25rem;align-items:start}
.gp-acc-list{display:grid;grid-template-columns:minmax(0,1fr);gap:.9rem;margin:0;padding:0;list-style:none}
.gp-acc{background:var(--gp-surface);border:1px solid var(--gp-line);border-left:5px solid var(--gp-hero);border-radius:1rem;
  padding:1rem 1.1rem;display:flex;flex-direction:column;gap:.6rem;min-width:0}
.gp-acc-skeleton{min-height:19.75rem;background:linear-gradient(100deg,var(--gp-surface) 30%,var(--gp-tint) 50%,var(--gp-surface) 70%);
  background-size:300% 100%;animation:gp-wait 1.6s ease-in-out infinite}
@keyframes gp-wait{from{background-position:100% 0}to{background-position:0 0}}
@media (prefers-reduced-motion:reduce){.gp-acc-skeleton{animation:none}}
.gp-acc-top{display:flex;align-items:center;justify-content:space-between;gap:.75rem}
.gp-acc-num{font-size:1.25rem;font-weight:750;letter-spacing:.04em;font-variant-numeric:tabular-nums;margin:0}
.gp-acc-label{font-size:.75rem;text-transform:uppercase;letter-spacing:.05em;color:var(--gp-muted);font-weight:600}
.gp-acc dl{margin:0;display:grid;gap:.35rem}
.gp-acc dt{font-size:.8125rem;color:var(--gp-muted);margin:0}
.gp-acc dd{margin:0;font-weight:500}
.gp-acc-row{display:flex;flex-direction:column;gap:.1rem}
/* a balance: a debt in red with its sign, a credit or nothing owed in green (dashboard, account cards) */
.gp-dash-debt{color:var(--gp-danger);font-weight:750;display:inline-flex;align-items:center;gap:.35rem}
.gp-dash-ok{color:var(--gp-ok);font-weight:650}
.gp-acc-holders{display:flex;flex-direction:column;gap:.35rem;border-top:1px solid var(--gp-line);padding-top:.6rem}
.gp-holders{margin:0;padding:0;list-style:none;display:grid;gap:.4rem}
.gp-holder{display:flex;flex-wrap:wrap;align-items:center;gap:.3rem .75rem;overflow-wrap:anywhere}
.gp-holder-who{font-weight:600}
.gp-holder .gp-muted{color:var(--gp-muted);font-size:.8125rem}
.gp-holder .gp-btn{margin-left:auto}
.gp-acc dt{display:flex;align-items:center;gap:.4rem}
.gp-acc dt svg{color:var(--gp-muted);flex:none}
.gp-badge{display:inline-flex;align-items:center;gap:.3rem;font-size:.75rem;font-weight:650;padding:.2rem .6rem;
  border-radius:999px;background:var(--gp-tint);border:1px solid var(--gp-line);color:var(--gp-ink);white-space:nowrap}
.gp-badge[data-status="submitted"],.gp-badge[data-status="in_review"]{background:#fff4d6;border-color:#f0d58a}
.gp-badge[data-status="done"]{background:#ddf3e4;border-color:#9fd6b0}
.gp-badge[data-status="rejected"]{background:#fde2e1;border-color:#f2aaa6}
.gp-form{display:flex;flex-direction:column;gap:1rem}
.gp-form-grid{display:grid;grid-template-columns:minmax(0,1fr);gap:1rem}
.gp-field{display:flex;flex-direction:column;gap:.35rem;min-width:0}
.gp-label{font-weight:600;font-size:.9375rem}
.gp-hint{font-size:.8125rem;color:var(--gp-muted);margin:0}
.gp-input{font:inherit;font-size:1rem;padding:.7rem .85rem;border:1.5px solid #8b96a3;border-radius:.7rem;background:var(--gp-surface);
  color:var(--gp-ink);min-height:2.9rem;width:100%;box-sizing:border-box}
.gp-input:disabled{background:#eef0f2;color:var(--gp-muted)}
textarea.gp-input{min-height:5.5rem;resize:vertical}
.gp-input[aria-invalid="true"]{border-color:#c62828;background:#fff7f7}
.gp-field-error{color:#b71c1c;font-size:.875rem;font-weight:600;margin:0;display:flex;gap:.35rem;align-items:flex-start}
.gp-actions{display:flex;flex-wrap:wrap;gap:.6rem;align-items:center}
.gp-btn{display:inline-flex;align-items:center;justify-content:center;gap:.45rem;font:inherit;font-weight:650;font-size:1rem;
  padding:.7rem 1.15rem;min-height:2.9rem;border-radius:.75rem;border:1.5px solid var(--gp-hero);background:var(--gp-hero);
  color:var(--gp-on-hero);cursor:pointer;text-decoration:none;white-space:nowrap}
.gp-btn:hover{background:var(--gp-hero-deep)}
.gp-btn:disabled{opacity:.55;cursor:not-allowed}
.gp-btn-ghost{background:var(--gp-surface);color:var(--gp-link);border-color:var(--gp-line)}
.gp-btn-ghost:hover{background:var(--gp-tint)}
.gp-btn-danger{background:var(--gp-surface);color:#b42318;border-color:#f0b5b0}
.gp-btn-danger:hover{background:#fff1f0}
.gp-btn-danger-solid{background:#b42318;border-color:#b42318;color:#fff}
.gp-btn-danger-solid:hover{background:#8f1c13}
.gp-btn-sm{padding:.45rem .75rem;min-height:2.5rem;font-size:.9rem}
.gp-alert{display:flex;gap:.6rem;align-items:flex-start;padding:.85rem 1rem;border-radius:.8rem;border:1px solid;margin:0}
.gp-alert svg{flex:none;margin-top:.1rem}
.gp-alert-ok{background:#e9f7ee;border-color:#9fd6b0;color:#14532d}
.gp-alert-err{background:#fdecea;border-color:#f2aaa6;color:#8a1c12}
.gp-alert-info{background:var(--gp-tint);border-color:var(--gp-line);color:var(--gp-ink)}
.gp-summary{scroll-margin-top:1rem;scroll-margin-bottom:5rem}
.gp-summary:focus{outline:3px solid #8a1c12;outline-offset:2px}
.gp-summary-h{font-size:1rem;line-height:1.35;margin:0;font-weight:700}
.gp-summary-text{margin:0}
.gp-summary-list{margin:0;padding-left:1.1rem;display:flex;flex-direction:column;gap:.3rem}
.gp-page .gp-summary a.gp-link{color:inherit}
.gp-tabs{display:flex;gap:.25rem;padding:.25rem;background:var(--gp-tint);border:1px solid var(--gp-line);border-radius:.9rem;
  margin-bottom:1rem}
.gp-tab{flex:1;font:inherit;font-weight:600;font-size:.9375rem;padding:.6rem .5rem;min-height:2.75rem;border:0;border-radius:.7rem;
  background:transparent;color:var(--gp-ink);cursor:pointer}
.gp-tab[aria-pressed="true"]{background:var(--gp-surface);box-shadow:0 1px 3px rgba(0,0,0,.12);color:var(--gp-ink)}
.gp-empty{color:var(--gp-muted);margin:0;padding:.5rem 0}
.gp-docs{list-style:none;margin:0;padding:0;display:grid;gap:.5rem}
.gp-doc{display:flex;align-items:center;gap:.6rem;padding:.6rem .75rem;border:1px solid var(--gp-line);border-radius:.7rem;
  background:var(--gp-page);min-width:0}
.gp-doc-name{flex:1;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-weight:550}
.gp-doc svg{color:var(--gp-link);flex:none}
.gp-drop{display:flex;flex-direction:column;align-items:center;gap:.4rem;padding:1.1rem;border:2px dashed #8b96a3;
  border-radius:.9rem;background:var(--gp-page);text-align:center;cursor:pointer;color:var(--gp-ink)}
.gp-drop svg{color:var(--gp-link)}
.gp-reqs{list-style:none;margin:0;padding:0;display:grid;gap:.6rem}
.gp-req{display:flex;justify-content:space-between;gap:.75rem;align-items:flex-start;padding:.75rem .9rem;border:1px solid var(--gp-line);
  border-radius:.8rem;background:var(--gp-surface)}
.gp-req-main{min-width:0;display:flex;flex-direction:column;gap:.15rem}
.gp-req-meta{font-size:.8125rem;color:var(--gp-muted)}
.gp-dialog-overlay{position:fixed;inset:0;background:rgba(15,23,42,.45);z-index:40}
.gp-dialog{position:fixed;z-index:41;left:50%;top:50%;transform:translate(-50%,-50%);width:min(28rem,calc(100vw - 2rem));
  background:var(--gp-surface);border-radius:1rem;padding:1.4rem;box-shadow:0 20px 50px rgba(0,0,0,.3);box-sizing:border-box}
.gp-dialog h2{margin:0 0 .5rem;font-size:1.25rem}
.gp-dialog p{margin:0 0 1.1rem;color:var(--gp-muted)}
.gp-dialog .gp-actions{justify-content:flex-end}
.gp-kv{display:grid;grid-template-columns:minmax(0,1fr);gap:.2rem;margin:0}
@media (max-width:47.99rem){
  .gp-app{padding-bottom:calc(4.6rem + env(safe-area-inset-bottom))}
  .gp-app-header .gp-lang{width:100%}
  .gp-app-header .gp-lang-icon{display:none}
  .gp-app-header .gp-lang-list{flex:1;justify-content:space-between}
  .gp-app-header .gp-lang-btn{flex:1 1 auto;padding:.6rem .5rem}
  .gp-nav{position:fixed;left:0;right:0;bottom:0;z-index:30;background:var(--gp-surface);border-top:1px solid var(--gp-line);
    box-shadow:0 -4px 16px rgba(0,0,0,.08);padding:.3rem .3rem calc(.3rem + env(safe-area-inset-bottom))}
  .gp-nav-list{justify-content:space-around}
  .gp-nav-list li{flex:1;min-width:0}
  /* five tabs share the width: the label's size follows it (10 px on a 390 px phone), a label of two
     words takes two lines ("Менің шотым"), a word is never broken ("Статистика") */
  .gp-nav-link{flex-direction:column;gap:.15rem;font-size:clamp(.5625rem,2.5vw,.75rem);padding:.35rem .1rem;
    min-height:3.5rem;width:100%;justify-content:center;white-space:normal;text-align:center;line-height:1.15}
  .gp-nav-link span{max-width:100%;overflow:hidden;display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:2;
    white-space:normal;overflow-wrap:normal;word-break:keep-all}
  .gp-nav-wide-only{display:none !important}
  .gp-nav-phone-only{display:block}
  .gp-more-list li{flex:none;min-width:0}
  .gp-app-h1{font-size:1.5rem}
  .gp-actions .gp-btn{flex:1 1 auto}
  .gp-app-footer{margin-top:1rem}
}
@media (min-width:48rem){
  .gp-app-brand{flex:0 1 auto}
  .gp-app-header .gp-lang{margin-left:auto}
  .gp-nav{order:3;flex:1 1 100%;border-top:1px solid var(--gp-line);padding-top:.4rem;margin-bottom:-.2rem}
  .gp-nav-list{flex-wrap:wrap}
  .gp-form-grid{grid-template-columns:repeat(2,minmax(0,1fr))}
  .gp-form-grid .gp-span2{grid-column:1/-1}
  .gp-acc-list{grid-template-columns:repeat(2,minmax(0,1fr))}
  .gp-panel{padding:1.5rem}
}
@media (min-width:64rem){
  .gp-acc-list{grid-template-columns:repeat(3,minmax(0,1fr))}
  .gp-grid2{grid-template-columns:minmax(0,1fr) minmax(0,1fr)}
  /* nine entries in one row on a laptop in every language (Kazakh's are the longest) */
  .gp-nav-list{gap:.1rem}
  .gp-nav-link{font-size:.84rem;padding:.5rem .5rem;gap:.3rem}
  .gp-nav-link svg{width:18px;height:18px}
}
"""
