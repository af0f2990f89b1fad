"""The page every document shares (fpdf2, A4): DejaVu Sans regular and bold from ``assets/fonts``
(every Kazakh and Ukrainian letter, ₸ and ₴; fpdf2's core fonts have no Cyrillic), the utility's
name, requisites and contacts at the top, a title, label/value lines, tables and a footer with the
page number. Text is embedded with its Unicode map, so it can be copied and searched (and the
tests read it back with pypdf).

Speed: fpdf2 parses the whole font file for every document (DejaVu Sans has about 6,000 glyphs:
most of a document's time). So a document whose texts all fall in :data:`COVERAGE` (Latin,
Greek, Cyrillic with its supplement, punctuation, currency and letter-like signs; every locale
text is, a test checks it) uses a copy of each font cut to that coverage (fontTools' subsetter,
about 1,750 glyphs, no hinting), made once and kept in ``<var>/fonts/``; a document with any
other character (a holder's name in another script) uses the full fonts.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import TableBordersLayout
from fpdf.fonts import FontFace

from gazportal.services import i18n
from gazportal.settings import ROOT, Utility

FONT_DIR = ROOT / "assets" / "fonts"
FONT_REGULAR: Path = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD: Path = FONT_DIR / "DejaVuSans-Bold.ttf"
FAMILY = "DejaVuSans"
GREY = (90, 96, 105)
COVERAGE = ((0x20, 0x7E), (0xA0, 0x24F), (0x370, 0x3FF), (0x400, 0x52F), (0x2000, 0x206F), (0x2070, 0x209F),
            (0x20A0, 0x20CF), (0x2100, 0x214F), (0x2190, 0x21FF), (0x2200, 0x22FF))


def _cache_dir() -> Path:
    return Path(os.environ.get("GAZPORTAL_VAR", ROOT / "var")) / "fonts"


def _cut(source: Path, target: Path) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(source)
    options = subset.Options()
    options.hinting = False
    options.glyph_names = False
    options.layout_features = []
    options.notdef_outline = True
    options.name_IDs = ["*"]  # the copyright and licence names stay
    options.name_languages = ["*"]
    cutter = subset.Subsetter(options)
    cutter.populate(unicodes=[c for a, b in COVERAGE for c in range(a, b + 1)])
    cutter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    os.close(fd)
    font.save(tmp)
    os.replace(tmp, target)  # atomic: a parallel worker sees the old file or the whole new one


@lru_cache(maxsize=1)
def cut_fonts() -> tuple[Path, Path, frozenset[int]]:
    """(regular, bold, code points both have) of the fonts cut to :data:`COVERAGE`, made on first use.
    The file names carry a hash of the source font and the coverage, so a new font or coverage
    makes new files."""
    from fontTools.ttLib import TTFont

    paths = []
    for source in (FONT_REGULAR, FONT_BOLD):
        digest = hashlib.sha256(source.read_bytes() + repr(COVERAGE).encode()).hexdigest()[:16]
        target = _cache_dir() / f"{source.stem}-{digest}.ttf"
        if not target.is_file():
            _cut(source, target)
        paths.append(target)
    covered = [set(TTFont(p, lazy=True).getBestCmap()) for p in paths]
    return paths[0], paths[1], frozenset(covered[0] & covered[1])


def fonts_for(texts: Iterable[str]) -> tuple[Path, Path]:
    """The cut fonts when they have every character of ``texts``, else the full ones."""
    regular, bold, covered = cut_fonts()
    if all(ord(ch) in covered for text in texts for ch in text):
        return regular, bold
    return FONT_REGULAR, FONT_BOLD


def _profile_texts(utility: Utility, lang: str) -> list[str]:
    c, req = utility.contacts, utility.requisites
    texts = [utility.name.get(lang), utility.name.get("uk"), c.address.get(lang), c.email,
             *(p.number for p in c.phones)]
    if req is not None:
        texts += [req.bank.get(lang), req.iban, req.bic, req.tax_id]
    return texts


class Page(FPDF):
    """An A4 document of ``utility`` in ``lang`` (margins 15 mm, 9.5 pt text). ``texts``: every
    text of the document that does not come from the locales (names, addresses, numbers), which
    chooses the fonts (:func:`fonts_for`); the profile's texts are added here."""

    def __init__(self, utility: Utility, lang: str, title: str, *, created: datetime, texts: Iterable[str] = ()):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.utility, self.lang, self.doc_title = utility, lang, title
        regular, bold = fonts_for([*texts, *_profile_texts(utility, lang)])
        self.add_font(FAMILY, "", regular)
        self.add_font(FAMILY, "B", bold)
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=16)
        self.set_title(title)
        self.set_author(utility.name.get(lang))
        self.set_creator("gazportal")
        self.set_lang(lang)
        self.set_creation_date(created)
        self.alias_nb_pages()
        self.add_page()
        self._letterhead()

    def t(self, key: str, **params) -> str:
        return i18n.t(key, self.lang, **params)

    def font(self, size: float = 9.5, bold: bool = False, grey: bool = False) -> None:
        self.set_font(FAMILY, "B" if bold else "", size)
        self.set_text_color(*(GREY if grey else (0, 0, 0)))

    def footer(self) -> None:
        self.set_y(-12)
        self.font(7.5, grey=True)
        self.cell(0, 5, f"{self.utility.name.get(self.lang)} · {self.doc_title} · {self.page_no()}/{{nb}}",
                  align="C")

    def _letterhead(self) -> None:
        u, lang = self.utility, self.lang
        self.font(13, bold=True)
        self.multi_cell(0, 6, u.name.get(lang), align="L", new_x="LMARGIN", new_y="NEXT")
        self.font(8, grey=True)
        req = u.requisites
        if req is not None:
            tax = self.t("documents.tax_id_ua" if u.currency.code == "UAH" else "documents.tax_id_kz")
            parts = [f"{tax} {req.tax_id}", f"IBAN {req.iban}", req.bank.get(lang)]
            if req.bic:
                parts.append(f"{self.t('documents.bic')} {req.bic}")
            self.multi_cell(0, 4, " · ".join(parts), align="L", new_x="LMARGIN", new_y="NEXT")
        c = u.contacts
        phones = ", ".join(p.number for p in c.phones[:2])
        self.multi_cell(0, 4, f"{c.address.get(lang)} · {phones} · {c.email}", align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(2)
        self.set_draw_color(*GREY)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(4)

    def heading(self, text: str, sub: str = "") -> None:
        self.font(15, bold=True)
        self.multi_cell(0, 7, text, align="L", new_x="LMARGIN", new_y="NEXT")
        if sub:
            self.font(9.5, grey=True)
            self.multi_cell(0, 5, sub, align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(3)

    def pairs(self, rows: Sequence[tuple[str, str]], *, label_width: float = 55, bold_last: bool = False) -> None:
        """Label: value lines; a long label or value wraps in its own column."""
        for n, (label, value) in enumerate(rows):
            bold = bold_last and n == len(rows) - 1
            if self.will_page_break(11):
                self.add_page()
            y = self.get_y()
            self.font(9.5, grey=not bold, bold=bold)
            self.multi_cell(label_width, 5.2, label, align="L", new_x="LMARGIN", new_y="NEXT")
            label_end = self.get_y()
            self.set_xy(self.l_margin + label_width, y)
            self.font(9.5, bold=bold)
            self.multi_cell(0, 5.2, value, align="L", new_x="LMARGIN", new_y="NEXT")
            self.set_y(max(self.get_y(), label_end))
        self.ln(2)

    def section(self, text: str) -> None:
        self.ln(1)
        self.font(11, bold=True)
        self.multi_cell(0, 6, text, align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def grid(self, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float],
              align: Sequence[str], *, bold_rows: Sequence[int] = ()) -> None:
        """A table with a bold header row; ``bold_rows`` are indices into ``rows`` (e.g. totals)."""
        self.font(8.8)
        bold = FontFace(emphasis="BOLD")
        with self.table(col_widths=tuple(widths), text_align=tuple(align), line_height=5.2,
                           borders_layout=TableBordersLayout.HORIZONTAL_LINES, padding=(1, 1.5),
                           first_row_as_headings=True, headings_style=FontFace(emphasis="BOLD")) as tbl:
            head = tbl.row()
            for h in header:
                head.cell(h)
            for n, r in enumerate(rows):
                row = tbl.row()
                for value in r:
                    row.cell(value, style=bold if n in bold_rows else None)
        self.font(9.5)
        self.ln(3)

    def note(self, text: str) -> None:
        self.font(8.5, grey=True)
        self.multi_cell(0, 4.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
        self.font(9.5)
