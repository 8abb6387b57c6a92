"""Charts of the intake report as inline SVG, drawn with matplotlib: text stays text
(selectable, extractable, set in DejaVu Sans, which has ң ө ү)."""

import io
import re
import textwrap
from collections.abc import Sequence

from django.utils import translation
from django.utils.html import escape
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from portal.numbers import number, percent
from reports.report import IntakeReport

from .layout import Line, period_words, sections

CURRENT_COLOUR = "#0b3d6e"  # the letterhead's blue
PREVIOUS_COLOUR = "#9db7d3"
WIDTH_INCHES = 6.6  # the A4 page's text width (170 mm) less a little air
RC = {
    # Browsers without DejaVu Sans fall back to another sans-serif.
    "font.family": ["DejaVu Sans"],
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 8.5,
    "svg.fonttype": "none",  # <text> elements, not glyph outlines
    "svg.hashsalt": "intake-report",  # the same figures give the same file
    "axes.edgecolor": "#555555",
    "xtick.color": "#333333",
    "ytick.color": "#000000",
}

TAG = re.compile(r"<[^<>]+>")  # text nodes have < and > escaped: tags only
STYLE = re.compile(r'style="([^"]*)"')
ID = re.compile(r'\sid="([^"]+)"')
REFERENCE = re.compile(r'(url\(#|href="#)([^)"]+)')


def _presentation_attributes(match: re.Match) -> str:
    declarations = [part.split(":", 1) for part in match[1].split(";") if ":" in part]
    return " ".join(f'{name.strip()}="{value.strip()}"' for name, value in declarations)


def _svg(figure, *, name: str, title: str) -> str:
    """The figure as an <svg> element to write inline into HTML (the PDF's and the
    public page's). matplotlib writes a standalone file; inline, its style
    attributes and its <style> would be read as the page's CSS (WeasyPrint warns on
    each), and two charts would repeat each other's ids. So: presentation attributes
    instead of styles, only the ids something refers to, prefixed with the chart's
    name, and no prolog or metadata."""
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None})
    svg = out.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)
    svg = re.sub(r"\s*<style[^>]*>.*?</style>", "", svg, flags=re.DOTALL)
    referenced = {match[2] for match in REFERENCE.finditer(svg)}

    def tag(match: re.Match) -> str:
        text = STYLE.sub(_presentation_attributes, match[0])
        text = ID.sub(
            lambda m: f' id="{name}-{m[1]}"' if m[1] in referenced else "", text
        )
        return REFERENCE.sub(lambda m: f"{m[1]}{name}-{m[2]}", text)

    svg = TAG.sub(tag, svg)
    # What the dropped <style> said, said once on the root and inherited; img-fluid
    # (Bootstrap: max-width 100%, height auto) shrinks it on narrow screens.
    return svg.replace(
        "<svg ",
        f'<svg class="chart-svg img-fluid" role="img" aria-label="{escape(title)}" '
        'stroke-linejoin="round" stroke-linecap="butt" ',
        1,
    ).strip()


def paired_bars(
    *,
    labels: Sequence[str],
    counts: Sequence[int],
    previous_counts: Sequence[int],
    shares: Sequence | None,
    previous_shares: Sequence | None,
    legend: tuple[str, str],
    name: str,
    title: str,
    language: str,
) -> str:
    """Horizontal bars, two a line: the period (dark, above) beside last year (light).
    Each bar is labelled with its count, and its share when shares are given."""
    # matplotlib is loaded when a chart is drawn: 0.3 s and 30 MiB that the web
    # processes and commands that draw none never pay.
    import matplotlib
    from matplotlib.figure import Figure

    def bar_labels(values, values_shares):
        if values_shares is None:
            return [number(value, language) for value in values]
        return [
            f"{number(value, language)} ({percent(part, language)})"
            for value, part in zip(values, values_shares, strict=True)
        ]

    height = 0.62 * len(labels) + 0.75
    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(WIDTH_INCHES, height), layout="constrained")
        axes = figure.add_subplot()
        bar = 0.38
        positions = range(len(labels))
        now = axes.barh(
            [y - bar / 2 for y in positions],
            counts,
            height=bar,
            color=CURRENT_COLOUR,
            label=legend[0],
        )
        before = axes.barh(
            [y + bar / 2 for y in positions],
            previous_counts,
            height=bar,
            color=PREVIOUS_COLOUR,
            label=legend[1],
        )
        axes.bar_label(now, labels=bar_labels(counts, shares), padding=3)
        axes.bar_label(
            before, labels=bar_labels(previous_counts, previous_shares), padding=3
        )
        axes.set_yticks(list(positions), [textwrap.fill(label, 30) for label in labels])
        axes.invert_yaxis()  # the first line on top, as in the table
        top = max([*counts, *previous_counts, 1])
        axes.set_xlim(0, top * 1.3)  # room for the labels after the longest bar
        axes.xaxis.set_major_formatter(lambda value, _pos: number(int(value), language))
        axes.grid(axis="x", color="#dddddd", linewidth=0.6)
        axes.set_axisbelow(True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.legend(
            loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False
        )
        return _svg(figure, name=name, title=title)


def _chart_of(lines: list[Line], report: IntakeReport, name: str, title: str) -> str:
    language = report.language
    return paired_bars(
        labels=[capfirst(line.label) for line in lines],  # as in the tables
        counts=[line.count for line in lines],
        previous_counts=[line.previous_count for line in lines],
        shares=[line.share for line in lines],
        previous_shares=[line.previous_share for line in lines],
        legend=(
            period_words(report.current.period, language),
            period_words(report.previous.period, language),
        ),
        name=name,
        title=title,
        language=language,
    )


def report_charts(report: IntakeReport) -> dict[str, str]:
    """{"channels": SVG, "outcomes": SVG or ""}: written appeals by channel and the
    outcomes, each beside last year's, with labels in the report's language."""
    by_code = {section.code: section for section in sections(report)}
    with translation.override(report.language):
        channels = [line for line in by_code["by_channel"].lines if not line.is_total]
        charts = {
            "channels": _chart_of(
                channels, report, "channels", _("Written appeals by channel")
            ),
            "outcomes": "",
        }
        outcomes = by_code.get("by_outcome")
        if outcomes and any(
            line.count or line.previous_count for line in outcomes.lines
        ):
            charts["outcomes"] = _chart_of(
                outcomes.lines, report, "outcomes", _("By outcome")
            )
    return charts
