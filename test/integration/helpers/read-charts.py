"""Reads every chart of an .xlsx with openpyxl (an independent reader) and prints them as JSON.

Usage: /usr/bin/python3 read-charts.py BOOK.xlsx

For each chart: its sheet, the chart groups (BarChart/LineChart with bar direction, grouping and axis id), and each
series with its name reference, category and value references, and the values those ranges hold in the workbook.
"""
import json
import sys
import warnings

import openpyxl
from openpyxl.utils.cell import range_boundaries

# A warning while reading means openpyxl found something it does not expect: fail loudly.
warnings.simplefilter("error")


def ref_of(source):
    if source is None:
        return None
    for attr in ("numRef", "strRef"):
        ref = getattr(source, attr, None)
        if ref is not None:
            return ref.f
    return None


def values_at(book, ref):
    if ref is None:
        return []
    sheet, cells = ref.rsplit("!", 1)
    ws = book[sheet.strip("'").replace("''", "'")]
    min_col, min_row, max_col, max_row = range_boundaries(cells.replace("$", ""))
    out = []
    for row in ws.iter_rows(min_row=min_row, max_row=max_row, min_col=min_col, max_col=max_col, values_only=True):
        for value in row:
            out.append(value.isoformat() if hasattr(value, "isoformat") else value)
    return out


def main(path):
    book = openpyxl.load_workbook(path)
    charts = []
    for ws in book.worksheets:
        for chart in ws._charts:
            groups = []
            for group in [chart] + list(getattr(chart, "_charts", [])[1:]):
                series = []
                for s in group.series:
                    val, cat = ref_of(s.val), ref_of(s.cat)
                    series.append(
                        {
                            "name": ref_of(s.tx),
                            "values": val,
                            "categories": cat,
                            "valueCells": values_at(book, val),
                            "categoryCells": values_at(book, cat),
                        }
                    )
                groups.append(
                    {
                        "type": type(group).__name__,
                        "barDir": getattr(group, "barDir", None),
                        "grouping": getattr(group, "grouping", None),
                        "axes": [group.x_axis.axId, group.y_axis.axId],
                        "series": series,
                    }
                )
            title = chart.title.tx.rich.p[0].r[0].t if chart.title is not None else None
            charts.append({"sheet": ws.title, "title": title, "groups": groups})
    print(json.dumps(charts))


if __name__ == "__main__":
    main(sys.argv[1])
