"""Analysis result cards: the ``metadata.kind: "analysis_result"`` schema, version 1.

The server (``analysisResultSchema`` in libs/protocol, ``AnalysisResult`` in ``/openapi.json``)
checks every rule and refuses a broken card with ``InvalidInput``; these builders give the shape
and the field names, and ``plain_text`` the ``body`` that clients without cards show instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence, Union

from .models import JsonObject, _without_none

ANALYSIS_RESULT_KIND = "analysis_result"
ANALYSIS_RESULT_VERSION = 1

Cell = Union[str, int, float, None]


@dataclass(frozen=True)
class AnalysisFigure:
    """``AnalysisFigure``: one number; ``delta`` is the change since the previous run."""

    label: str
    value: float
    unit: Optional[str] = None
    delta: Optional[float] = None
    delta_unit: Optional[str] = None

    def to_json(self) -> JsonObject:
        return _without_none({"label": self.label, "value": self.value, "unit": self.unit, "delta": self.delta,
                              "deltaUnit": self.delta_unit})


@dataclass(frozen=True)
class AnalysisTable:
    """``AnalysisTable``: 1-8 column labels and up to 20 rows, each exactly as wide as the columns."""

    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]]

    def to_json(self) -> JsonObject:
        return {"columns": list(self.columns), "rows": [list(row) for row in self.rows]}


@dataclass(frozen=True)
class AnalysisLink:
    """``AnalysisLink``: an https URL whose host is on the deployment's ``ANALYSIS_LINK_HOSTS``."""

    label: str
    url: str

    def to_json(self) -> JsonObject:
        return {"label": self.label, "url": self.url}


@dataclass(frozen=True)
class AnalysisResult:
    """``AnalysisResult``: the card; ``to_metadata()`` is the message's metadata."""

    title: str
    summary: Optional[str] = None
    figures: Sequence[AnalysisFigure] = field(default_factory=tuple)
    table: Optional[AnalysisTable] = None
    link: Optional[AnalysisLink] = None
    analysis_id: Optional[str] = None

    def to_metadata(self) -> JsonObject:
        metadata: JsonObject = {"kind": ANALYSIS_RESULT_KIND, "version": ANALYSIS_RESULT_VERSION, "title": self.title}
        extra: Any = {
            "summary": self.summary,
            "figures": [f.to_json() for f in self.figures] or None,
            "table": self.table.to_json() if self.table else None,
            "link": self.link.to_json() if self.link else None,
            "analysisId": self.analysis_id,
        }
        metadata.update(_without_none(extra))
        return metadata

    def plain_text(self) -> str:
        """The ``body`` fallback: title, summary and figures as lines of text."""
        lines: List[str] = [self.title]
        if self.summary:
            lines.append(self.summary)
        for figure in self.figures:
            value = f"{figure.label}: {_number(figure.value)}{' ' + figure.unit if figure.unit else ''}"
            if figure.delta is not None:
                unit = figure.delta_unit or figure.unit
                value += f" ({'+' if figure.delta >= 0 else ''}{_number(figure.delta)}{' ' + unit if unit else ''})"
            lines.append(value)
        if self.link:
            lines.append(f"{self.link.label}: {self.link.url}")
        return "\n".join(lines)


def _number(value: float) -> str:
    return f"{value:g}"
