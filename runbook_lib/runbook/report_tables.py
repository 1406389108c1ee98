"""How a table reads in a notebook and in its HTML report: no index, verdicts first, values escaped and tidy.

A value is shown as a person reads it: ✓/✗ for a boolean, nothing for a missing value (never ``nan``), an
integer without ``.000000``, and any HTML in a value (``Host: <your CloudFront domain>``, a raw CloudFront
error page) as text, never as markup. :func:`table` does this for the tables the runbook builds;
:func:`tidy_html` does it at report time for a plain DataFrame a notebook displayed as is.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

__all__ = ["VERDICT_COLUMNS", "display_value", "linkify", "table", "tidy_html", "whole_values"]

#: Columns that carry a verdict: moved to the left, where the eye starts reading a row.
VERDICT_COLUMNS = ("verdict", "met", "fix verified", "verified", "symptom seen", "shown locally")

_INTEGER_TEXT = re.compile(r"^-?\d+\.0+$")
_MISSING_TEXT = {"nan", "NaN", "None", "<NA>", "NaT"}
_BOOL_TEXT = {"True": "✓", "False": "✗"}
_URL = re.compile(r"https://[^\s<>\"')]+")


def linkify(text: str) -> str:
    """``text`` HTML-escaped, with each https address (an AWS page) as a link named by its host and page."""
    out, last = [], 0
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".,;")
        out += [html.escape(text[last:m.start()]), f'<a href="{html.escape(url)}">{html.escape(_short(url))}</a>']
        last = m.start() + len(url)
    out.append(html.escape(text[last:]))
    return "".join(out)


def _short(url: str) -> str:
    """A long address as its host and page name: the link keeps the whole address."""
    if len(url) <= 60:
        return url
    host = url.split("/", 3)[2]
    return f"{host}/…/{url.rstrip('/').rsplit('/', 1)[-1]}"


def display_value(value: Any) -> str:
    """One cell as shown: ✓/✗, '' for missing, integers without decimals, everything else as ``str``."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "✓" if value else "✗"
    if value is None:
        return ""
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        number = float(value)
        if math.isnan(number):
            return ""
        return str(int(number)) if number.is_integer() else f"{number:g}"
    text = str(value)
    return "" if text in _MISSING_TEXT else text


def _verdicts_first(columns: list[str]) -> list[str]:
    first = [c for c in columns if str(c).lower() in VERDICT_COLUMNS]
    return first + [c for c in columns if c not in first]


def table(data: Any) -> Any:
    """Rows (a DataFrame or a list of dicts) as a left-aligned pandas Styler: no index, verdict columns first
    (never wrapped), values shown with :func:`display_value`, HTML-escaped, AWS pages as links."""
    import pandas as pd

    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(list(data))
    frame = frame.loc[:, _verdicts_first(list(frame.columns))]
    verdicts = [c for c in frame.columns if str(c).lower() in VERDICT_COLUMNS]
    left = {"text-align": "left", "vertical-align": "top"}
    styler = (frame.style.hide(axis="index").format(lambda v: linkify(display_value(v))).set_properties(**left)
              .set_table_styles([{"selector": "th", "props": [("text-align", "left")]}]))
    return styler.set_properties(subset=verdicts, **{"white-space": "nowrap"}) if verdicts else styler


def tidy_html(markup: str) -> str:
    """A pandas ``DataFrame.to_html`` table made readable: its default 0..n-1 index dropped and cell texts
    shown with :func:`display_value`'s rules. Other HTML comes back unchanged."""
    if 'class="dataframe' not in markup:
        return markup
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    for tbl in soup.find_all("table", class_="dataframe"):
        body_rows = [tr for tbody in tbl.find_all("tbody") for tr in tbody.find_all("tr", recursive=False)]
        labels = [tr.find("th", recursive=False) for tr in body_rows]
        if body_rows and all(th is not None for th in labels) and [
                th.get_text(strip=True) for th in labels if th is not None] == [str(i) for i in range(len(labels))]:
            for tr in tbl.find_all("tr"):
                first = tr.find(["th", "td"], recursive=False)
                if first is not None:
                    first.decompose()
        for td in tbl.find_all("td"):
            text = td.string
            if text is None:
                continue
            shown = str(text).strip()
            if shown in _MISSING_TEXT:
                td.string = ""
            elif shown in _BOOL_TEXT:
                td.string = _BOOL_TEXT[shown]
            elif _INTEGER_TEXT.match(shown):
                td.string = shown.split(".", 1)[0]
    return str(soup)


def whole_values() -> None:
    """Let pandas show every cell whole in this kernel: by default it cuts text at 50 characters with '...'."""
    import pandas as pd

    pd.set_option("display.max_colwidth", None)
