#!/usr/bin/python3
"""Turns a workbook written by tableau-export into "the team's workbook", built by a real spreadsheet program.

Update mode (`destination.mode: update`) must refresh the export's own tables inside a workbook the team has worked
on, and leave everything else byte for byte. This script makes such a workbook the way a teammate would, in
LibreOffice Calc (headless, driven through UNO), so the tests run against what a spreadsheet program really writes:

  * on the managed table (default `Opportunities`): a formula column `Weighted` (Amount x Probability on every row)
    and a notes column `Next step` (free text on a few rows, keyed to known opportunity ids), the table's range
    extended over both;
  * a `Team notes` sheet, first in tab order and with a tab colour: totals and a per-stage block written with
    formulas over the table (structured references such as `=SUM(Opportunities[Amount])`), a chart over the
    per-stage block, conditional formatting, two data validations and a comment;
  * a `Pivot` sheet holding a pivot table (DataPilot) over the table's range: sum of Amount by Stage;
  * a hidden sheet `Lists` that feeds the status drop-down.

It saves the result as .xlsx (filter "Calc MS Excel 2007 XML"), then reads the saved package back and writes a JSON
manifest next to it (`<out stem>.manifest.json`) with what a test needs: the table's ref before and after, its
columns, the notes by key, the sheets, the formulas over the table as LibreOffice exported them, the pivot cache's
source, the chart, comment, validation and conditional-formatting parts. With `--xlsm` it also writes
`<out stem>.xlsm`: the same package plus a fixed `xl/vbaProject.bin` part, its relationship and content types
(LibreOffice does not export Basic as vbaProject.bin, so the macro part is added at the ZIP level; its bytes are a
deterministic blob, not a working VBA project: it only has to survive an update byte for byte).

Usage (python3-uno is Debian's, so run it with /usr/bin/python3, not a pyenv python):

    /usr/bin/python3 scripts/make-team-workbook.py BASE.xlsx --out OUT.xlsx [--xlsm]
        [--formula-style structured|a1] [--table Opportunities] [--key "Opportunity ID"]

  --formula-style  structured (default): the Weighted column is
                   `=Opportunities[[#This Row];[Amount]]*Opportunities[[#This Row];[Probability]]` on every row;
                   a1: `=I2*J2`, `=I3*J3`, ... as a teammate filling a formula down would write it.

`npm run make:team-workbook` regenerates the demo's sample (config/team-workbook.xlsx) and
`test/fixtures/team/README.md` says how the test fixtures were made; both go through scripts/build-team-workbook.ts,
which first writes the base workbook with our own CLI. LibreOffice runs with a private, throw-away profile
(-env:UserInstallation) and is always shut down, also on failure. Exits 1 with a message on stderr when the base
workbook lacks the table or its columns, or when LibreOffice fails.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
import zipfile

import uno  # noqa: F401  (registers the com.sun.star import hook)
from com.sun.star.awt import Rectangle
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException
from com.sun.star.lang import Locale
from com.sun.star.sheet.ConditionOperator import BETWEEN, GREATER_EQUAL, LESS
from com.sun.star.sheet.DataPilotFieldOrientation import DATA, ROW
from com.sun.star.sheet.GeneralFunction import SUM
from com.sun.star.sheet.ValidationAlertStyle import STOP
from com.sun.star.sheet.ValidationType import DECIMAL, LIST
from com.sun.star.table import CellAddress

SOFFICE = os.environ.get("SOFFICE", "/usr/bin/soffice")
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CHART_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
VBA_REL_TYPE = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
VBA_CONTENT_TYPE = "application/vnd.ms-office.vbaProject"
XLSM_MAIN_CONTENT_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
XLSX_MAIN_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"

TEAM_SHEET = "Team notes"
PIVOT_SHEET = "Pivot"
LISTS_SHEET = "Lists"
PIVOT_NAME = "PipelineByStage"
CHART_NAME = "PipelineByStageChart"
FORMULA_COLUMN = "Weighted"
NOTES_COLUMN = "Next step"
STATUSES = ("On track", "At risk", "Off track")
TARGET = 12_000_000
TAB_COLOR = 0x2E7D32
COMMENT_TEXT = "Quarterly target agreed with finance on Monday. Update it when the plan changes."
STAGES = ("Lead Generation", "Qualification", "Contact", "Proposal", "Closing", "Closed Won", "Closed Lost")
# Free text as teammates type it: accents, CJK, a line break, and a note that starts with "=" (text, not a formula).
NOTE_TEXTS = (
    "Call the CFO on Monday",
    "Send the revised quote (10% discount approved)",
    "Démo le 12/03 : confirmer la salle",
    "=check with legal before signing",
    "Renewal: bundle with Support Plus",
    "東京: 見積書を送付",
    "Waiting on procurement\nPO expected next week",
)


class ScriptError(Exception):
    """A problem with the input or with LibreOffice, printed as one line by main()."""


def prop(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def file_url(path):
    return uno.systemPathToFileUrl(os.path.abspath(path))


# ---------------------------------------------------------------------------------------------------------------
# LibreOffice process


def write_profile(profile_dir):
    """A private profile whose user name is the teammate's, so the comment and docProps carry an author."""
    user = os.path.join(profile_dir, "user")
    os.makedirs(user, exist_ok=True)
    items = [
        ("/org.openoffice.UserProfile/Data", "givenname", "Dana"),
        ("/org.openoffice.UserProfile/Data", "sn", "Reyes"),
        ("/org.openoffice.UserProfile/Data", "initials", "DR"),
    ]
    body = "".join(
        f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>\n'
        for path, name, value in items
    )
    with open(os.path.join(user, "registrymodifications.xcu"), "w", encoding="utf-8") as f:
        f.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
            'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            f"{body}</oor:items>\n"
        )


def start_office(profile_dir):
    """Starts soffice listening on a private pipe; returns (process, UNO context). The process leads its own group."""
    pipe = f"teamwb{os.getpid()}x{int(time.time() * 1000)}"
    proc = subprocess.Popen(
        [
            SOFFICE,
            "-env:UserInstallation=" + file_url(profile_dir),
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + 60
    while True:
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except NoConnectException:
            if proc.poll() is not None:
                raise ScriptError(f"soffice ({SOFFICE}) exited with code {proc.returncode} before accepting UNO")
            if time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
                raise ScriptError(f"soffice ({SOFFICE}) did not accept a UNO connection within 60 s")
            time.sleep(0.1)
    return proc, ctx


def stop_office(proc, desktop):
    """Asks LibreOffice to quit, then ends the process group this script started if it is still there."""
    if desktop is not None:
        try:
            desktop.terminate()
        except Exception:  # noqa: BLE001  the bridge drops while LibreOffice quits: that is the expected end
            pass
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


# ---------------------------------------------------------------------------------------------------------------
# Building the team's parts


def column_letters(index):
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index > 0:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def find_table(doc, table_name, key_name):
    ranges = doc.DatabaseRanges
    if not ranges.hasByName(table_name):
        raise ScriptError(
            f"the base workbook has no table named '{table_name}' "
            f"(tables: {', '.join(ranges.ElementNames) or 'none'}); pass --table with one of them"
        )
    db = ranges.getByName(table_name)
    area = db.DataArea
    sheet = doc.Sheets.getByIndex(area.Sheet)
    headers = [
        sheet.getCellByPosition(c, area.StartRow).getString() for c in range(area.StartColumn, area.EndColumn + 1)
    ]
    needed = [key_name, "Amount", "Probability", "Stage"]
    missing = [n for n in needed if n not in headers]
    if missing:
        raise ScriptError(
            f"table '{table_name}' lacks the column(s) {', '.join(missing)} (it has: {', '.join(headers)}); "
            "the team workbook needs them for its formulas and notes"
        )
    return db, sheet, headers


def add_table_columns(db, sheet, headers, key_name, formula_style):
    """Adds the formula and notes columns inside the table and extends its range; returns what was written."""
    area = db.DataArea
    first, last = area.StartRow + 1, area.EndRow  # data rows, 0-based
    fcol, ncol = area.EndColumn + 1, area.EndColumn + 2
    amount = area.StartColumn + headers.index("Amount")
    prob = area.StartColumn + headers.index("Probability")
    for col, name in ((fcol, FORMULA_COLUMN), (ncol, NOTES_COLUMN)):
        head = sheet.getCellByPosition(col, area.StartRow)
        head.setString(name)
        head.CharWeight = 150.0  # bold, like the export's own header row
    table = db.Name
    formulas = []
    for row in range(first, last + 1):
        if formula_style == "structured":
            formulas.append((f"={table}[[#This Row];[Amount]]*{table}[[#This Row];[Probability]]",))
        else:
            formulas.append((f"={column_letters(amount)}{row + 1}*{column_letters(prob)}{row + 1}",))
    body = sheet.getCellRangeByPosition(fcol, first, fcol, last)
    body.setFormulaArray(tuple(formulas))
    body.NumberFormat = sheet.getCellByPosition(amount, first).NumberFormat
    sheet.Columns.getByIndex(fcol).Width = 2800
    sheet.Columns.getByIndex(ncol).Width = 7000

    notes = {}
    key_col = area.StartColumn + headers.index(key_name)
    count = last - first + 1
    picks = sorted({0, 1, 9, count // 3, count // 2, count - 2, count - 1})
    for text, offset in zip(NOTE_TEXTS, [p for p in picks if 0 <= p < count]):
        row = first + offset
        key = sheet.getCellByPosition(key_col, row).getString()
        sheet.getCellByPosition(ncol, row).setString(text)
        notes[key] = {"text": text, "row": row + 1}

    area.EndColumn = ncol
    db.DataArea = area
    return {"formulaColumn": column_letters(fcol), "notesColumn": column_letters(ncol), "notes": notes}


def add_lists_sheet(doc):
    sheets = doc.Sheets
    sheets.insertNewByName(LISTS_SHEET, sheets.Count)
    lists = sheets.getByName(LISTS_SHEET)
    for i, status in enumerate(STATUSES):
        lists.getCellByPosition(0, i).setString(status)
    lists.IsVisible = False


def set_validation(cell, kind, operator, formula1, formula2, title, message):
    v = cell.Validation
    v.Type = kind
    v.setOperator(operator)
    v.setFormula1(formula1)
    if formula2 is not None:
        v.setFormula2(formula2)
    v.ShowErrorMessage = True
    v.ErrorAlertStyle = STOP
    v.ErrorTitle = title
    v.ErrorMessage = message
    if kind == LIST:
        v.ShowList = 1  # unsorted drop-down
    cell.Validation = v


def add_conditional_format(rng, rules):
    cf = rng.ConditionalFormat
    for operator, formula1, formula2, style in rules:
        entry = [prop("Operator", operator), prop("Formula1", formula1), prop("StyleName", style)]
        if formula2 is not None:
            entry.append(prop("Formula2", formula2))
        cf.addNew(tuple(entry))
    rng.ConditionalFormat = cf


def number_format(doc, code):
    """The key of a number format; an empty Locale keeps LibreOffice from writing a `[$-409]` locale prefix."""
    formats = doc.NumberFormats
    key = formats.queryKey(code, Locale(), False)
    return key if key >= 0 else formats.addNew(code, Locale())


def add_team_sheet(doc, table, key_name):
    """The team's own front sheet: formulas over the table, validation, conditional formatting, a comment."""
    sheets = doc.Sheets
    sheets.insertNewByName(TEAM_SHEET, 0)
    team = sheets.getByName(TEAM_SHEET)
    team.TabColor = TAB_COLOR
    cell = team.getCellRangeByName
    cell("A1").setString("Pipeline review: team notes")
    cell("A1").CharWeight = 150.0
    totals = [
        ("A3", "Total pipeline", "B3", f"=SUM({table}[Amount])"),
        ("A4", "Deals", "B4", f"=COUNTA({table}[{key_name}])"),
        ("A5", "Weighted total", "B5", f"=SUM({table}[{FORMULA_COLUMN}])"),
    ]
    for label_ref, label, ref, formula in totals:
        cell(label_ref).setString(label)
        cell(ref).setFormula(formula)
    cell("A6").setString("Quarterly target")
    cell("B6").setValue(TARGET)
    cell("A7").setString("Attainment")
    cell("B7").setFormula("=IF(B6>0;B3/B6;0)")
    cell("A8").setString("Status")
    cell("B8").setString(STATUSES[0])
    for ref in ("B3", "B5", "B6"):
        cell(ref).NumberFormat = number_format(doc, "#,##0")
    cell("B7").NumberFormat = number_format(doc, "0.0%")

    cell("A10").setString("Stage")
    cell("B10").setString("Amount")
    cell("C10").setString("Deals")
    for i, stage in enumerate(STAGES):
        row = 11 + i
        cell(f"A{row}").setString(stage)
        cell(f"B{row}").setFormula(f"=SUMIFS({table}[Amount];{table}[Stage];A{row})")
        cell(f"C{row}").setFormula(f"=COUNTIFS({table}[Stage];A{row})")
    team.Columns.getByIndex(0).Width = 4500
    team.Columns.getByIndex(1).Width = 3500

    set_validation(cell("B6"), DECIMAL, GREATER_EQUAL, "0", None, "Target", "The target is an amount of 0 or more.")
    set_validation(
        cell("B8"),
        LIST,
        BETWEEN,
        f"${LISTS_SHEET}.$A$1:$A${len(STATUSES)}",
        None,
        "Status",
        "Pick a status from the list.",
    )
    add_conditional_format(cell("B7"), [(LESS, "0.5", None, "Bad"), (GREATER_EQUAL, "1", None, "Good")])
    add_conditional_format(cell(f"C11:C{10 + len(STAGES)}"), [(BETWEEN, "0", "0", "Neutral")])

    team.Annotations.insertNew(CellAddress(team.RangeAddress.Sheet, 1, 5), COMMENT_TEXT)
    return team


def add_chart(team):
    source = team.getCellRangeByName(f"A10:B{10 + len(STAGES)}").RangeAddress
    team.Charts.addNewByName(CHART_NAME, Rectangle(12000, 500, 14000, 8000), (source,), True, True)


def add_pivot(doc, db):
    sheets = doc.Sheets
    sheets.insertNewByName(PIVOT_SHEET, sheets.Count)
    pivot = sheets.getByName(PIVOT_SHEET)
    pivot.getCellRangeByName("A1").setString("Sum of Amount by Stage (refresh to update)")
    tables = pivot.DataPilotTables
    desc = tables.createDataPilotDescriptor()
    desc.SourceRange = db.DataArea
    fields = desc.DataPilotFields
    stage = fields.getByName("Stage")
    stage.Orientation = ROW
    amount = fields.getByName("Amount")
    amount.Orientation = DATA
    amount.Function = SUM
    tables.insertNewByName(PIVOT_NAME, CellAddress(pivot.RangeAddress.Sheet, 0, 2), desc)


def build_in_libreoffice(base, out, table_name, key_name, formula_style):
    """Opens `base` in LibreOffice, adds the team's parts and saves `out` as .xlsx. Returns the table facts."""
    profile = tempfile.mkdtemp(prefix="team-wb-lo-")
    write_profile(profile)
    proc, desktop = None, None
    try:
        proc, ctx = start_office(profile)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        # A private copy: LibreOffice puts a lock file next to what it opens, and refuses a file another session holds.
        private = os.path.join(profile, "base.xlsx")
        shutil.copyfile(base, private)
        doc = desktop.loadComponentFromURL(file_url(private), "_blank", 0, (prop("Hidden", True),))
        if doc is None:
            raise ScriptError(f"LibreOffice could not open {base} (is it an .xlsx workbook?)")
        try:
            db, sheet, headers = find_table(doc, table_name, key_name)
            added = add_table_columns(db, sheet, headers, key_name, formula_style)
            add_lists_sheet(doc)
            team = add_team_sheet(doc, table_name, key_name)
            add_chart(team)
            add_pivot(doc, db)
            doc.calculateAll()
            doc.storeToURL(file_url(out), (prop("FilterName", "Calc MS Excel 2007 XML"),))
        finally:
            doc.close(True)
        return added, office_version(ctx)
    finally:
        if proc is not None:
            stop_office(proc, desktop)
        shutil.rmtree(profile, ignore_errors=True)


def office_version(ctx):
    """LibreOffice's version as its About box shows it (e.g. 7.4.7.2), read from the running instance's registry."""
    provider = ctx.ServiceManager.createInstanceWithContext("com.sun.star.configuration.ConfigurationProvider", ctx)
    node = provider.createInstanceWithArguments(
        "com.sun.star.configuration.ConfigurationAccess", (prop("nodepath", "/org.openoffice.Setup/Product"),)
    )
    return node.getByName("ooSetupVersionAboutBox")


# ---------------------------------------------------------------------------------------------------------------
# Reading the saved package back


def q(tag):
    return f"{{{MAIN_NS}}}{tag}"


def read_rels(zf, part):
    folder, name = part.rsplit("/", 1)
    rels_name = f"{folder}/_rels/{name}.rels"
    if rels_name not in zf.namelist():
        return {}
    root = ET.fromstring(zf.read(rels_name))
    out = {}
    for rel in root:
        target = rel.get("Target")
        if target.startswith("/"):
            resolved = target[1:]
        else:
            resolved = os.path.normpath(os.path.join(folder, target)).replace(os.sep, "/")
        out[rel.get("Id")] = {"type": rel.get("Type").rsplit("/", 1)[-1], "target": resolved}
    return out


def sheet_parts(zf):
    """[(name, sheetId, state, part)] in tab order."""
    wb = ET.fromstring(zf.read("xl/workbook.xml"))
    rels = read_rels(zf, "xl/workbook.xml")
    out = []
    for s in wb.find(q("sheets")):
        rid = s.get(f"{{{REL_NS}}}id")
        out.append((s.get("name"), int(s.get("sheetId")), s.get("state", "visible"), rels[rid]["target"]))
    return out


def table_part(zf, table_name):
    for name in zf.namelist():
        if name.startswith("xl/tables/") and name.endswith(".xml"):
            root = ET.fromstring(zf.read(name))
            if root.get("name") == table_name:
                cols = list(root.find(q("tableColumns")))
                return {
                    "part": name,
                    "ref": root.get("ref"),
                    "id": int(root.get("id")),
                    "columns": [c.get("name") for c in cols],
                    "calculatedColumns": [
                        c.get("name") for c in cols if c.find(q("calculatedColumnFormula")) is not None
                    ],
                    "styled": root.find(q("tableStyleInfo")) is not None,
                }
    raise ScriptError(f"the saved workbook has no table part named '{table_name}'")


def cell_formulas(zf, part):
    """{ref: (formula text, cached value)} of every formula cell in a sheet part."""
    root = ET.fromstring(zf.read(part))
    out = {}
    for c in root.iter(q("c")):
        f = c.find(q("f"))
        if f is not None:
            v = c.find(q("v"))
            out[c.get("r")] = (f.text or "", v.text if v is not None else None)
    return out


def sheet_features(zf, part):
    """What a sheet part holds besides cells: conditional formats, validations, related parts."""
    root = ET.fromstring(zf.read(part))
    cf = [
        {"sqref": e.get("sqref"), "rules": [r.get("type") for r in e.findall(q("cfRule"))]}
        for e in root.findall(q("conditionalFormatting"))
    ]
    dvs = root.find(q("dataValidations"))
    dv = []
    if dvs is not None:
        for e in dvs.findall(q("dataValidation")):
            f1 = e.find(q("formula1"))
            dv.append({"sqref": e.get("sqref"), "type": e.get("type"), "formula1": f1.text if f1 is not None else None})
    tab = root.find(f"{q('sheetPr')}/{q('tabColor')}")
    related = sorted({(r["type"], r["target"]) for r in read_rels(zf, part).values()})
    return {
        "conditionalFormatting": cf,
        "dataValidations": dv,
        "tabColor": tab.get("rgb") if tab is not None else None,
        "related": [{"type": t, "part": p} for t, p in related],
    }


def pivot_facts(zf):
    caches = []
    for name in sorted(n for n in zf.namelist() if re.match(r"xl/pivotCache/pivotCacheDefinition\d+\.xml$", n)):
        root = ET.fromstring(zf.read(name))
        ws = root.find(f"{q('cacheSource')}/{q('worksheetSource')}")
        fields = [f.get("name") for f in root.find(q("cacheFields"))]
        caches.append(
            {
                "part": name,
                "source": {k: ws.get(k) for k in ("ref", "sheet", "name") if ws is not None and ws.get(k) is not None},
                "refreshOnLoad": root.get("refreshOnLoad") in ("1", "true"),
                "recordCount": int(root.get("recordCount", "0")),
                "fields": fields,
            }
        )
    tables = sorted(n for n in zf.namelist() if re.match(r"xl/pivotTables/pivotTable\d+\.xml$", n))
    return caches, tables


def chart_facts(zf):
    charts = []
    for name in sorted(n for n in zf.namelist() if re.match(r"xl/charts/chart\d+\.xml$", n)):
        root = ET.fromstring(zf.read(name))
        ranges = sorted({f.text for f in root.iter(f"{{{CHART_NS}}}f") if f.text})
        charts.append({"part": name, "ranges": ranges})
    return charts


def comment_facts(zf, part):
    out = []
    for rel in read_rels(zf, part).values():
        if rel["type"] == "comments":
            root = ET.fromstring(zf.read(rel["target"]))
            authors = [a.text for a in root.find(q("authors"))]
            for c in root.iter(q("comment")):
                text = "".join(t.text or "" for t in c.iter(q("t")))
                author = authors[int(c.get("authorId"))]
                out.append({"part": rel["target"], "cell": c.get("ref"), "author": author, "text": text})
    return out


def describe_output(out, xlsx_name, base, table_name, key_name, formula_style, added, version):
    """The manifest: what the saved package `out` really holds (read back from its parts, not assumed)."""
    with zipfile.ZipFile(base) as zb:
        before = table_part(zb, table_name)
    with zipfile.ZipFile(out) as zf:
        after = table_part(zf, table_name)
        for name in (FORMULA_COLUMN, NOTES_COLUMN):
            if name not in after["columns"]:
                raise ScriptError(f"LibreOffice saved table '{table_name}' without column '{name}' ({after['part']})")
        sheets = sheet_parts(zf)
        part_of = {name: part for name, _, _, part in sheets}
        table_sheet = next(name for name, _, _, part in sheets if part_has_table(zf, part, after["part"]))
        team_formulas = cell_formulas(zf, part_of[TEAM_SHEET])
        table_formulas = cell_formulas(zf, part_of[table_sheet])
        first_row = int(re.match(r"[A-Z]+(\d+)", after["ref"]).group(1)) + 1
        first_formula_cell = f"{added['formulaColumn']}{first_row}"
        over_table = [
            {"sheet": TEAM_SHEET, "cell": ref, "formula": f, "cachedValue": v}
            for ref, (f, v) in sorted(team_formulas.items(), key=lambda kv: cell_order(kv[0]))
            if table_name in f
        ]
        caches, pivot_tables = pivot_facts(zf)
        formula_cells = sum(1 for ref in table_formulas if re.match(rf"{added['formulaColumn']}\d+$", ref))
        manifest = {
            "generator": "scripts/make-team-workbook.py",
            "libreOffice": version,
            "base": os.path.basename(base),
            "xlsx": xlsx_name,
            "table": {
                "name": table_name,
                "sheet": table_sheet,
                "key": key_name,
                "part": after["part"],
                "idBefore": before["id"],
                "id": after["id"],
                "styledBefore": before["styled"],
                "styled": after["styled"],
                "refBefore": before["ref"],
                "refAfter": after["ref"],
                "columnsBefore": before["columns"],
                "columns": after["columns"],
                "calculatedColumnsInTablePart": after["calculatedColumns"],
                "formulaColumn": {
                    "name": FORMULA_COLUMN,
                    "column": added["formulaColumn"],
                    "style": formula_style,
                    "firstCell": first_formula_cell,
                    "firstFormula": table_formulas[first_formula_cell][0],
                    "formulaCells": formula_cells,
                },
                "notesColumn": {"name": NOTES_COLUMN, "column": added["notesColumn"]},
            },
            "notes": {key: note["text"] for key, note in added["notes"].items()},
            "noteRows": {key: note["row"] for key, note in added["notes"].items()},
            "sheets": [
                {"name": n, "sheetId": sid, "state": state, "part": p, "tabColor": sheet_features(zf, p)["tabColor"]}
                for n, sid, state, p in sheets
            ],
            "formulasOverTable": over_table,
            "structuredReferences": any(f"{table_name}[" in f["formula"] for f in over_table),
            "teamNotes": {
                "sheet": TEAM_SHEET,
                "totalCell": "B3",
                "totalFormula": team_formulas["B3"][0],
                "countCell": "B4",
                "weightedCell": "B5",
                "targetCell": "B6",
                "target": TARGET,
                "stageBlock": f"A10:C{10 + len(STAGES)}",
                **sheet_features(zf, part_of[TEAM_SHEET]),
            },
            "comments": comment_facts(zf, part_of[TEAM_SHEET]),
            "pivot": {
                "sheet": PIVOT_SHEET,
                "name": PIVOT_NAME,
                "tables": pivot_tables,
                "caches": caches,
                **sheet_features(zf, part_of[PIVOT_SHEET]),
            },
            "charts": chart_facts(zf),
            "hiddenSheets": [n for n, _, state, _ in sheets if state != "visible"],
            "calcChain": "xl/calcChain.xml" in zf.namelist(),
            "parts": sorted(zf.namelist()),
        }
    return manifest


def part_has_table(zf, sheet_part, table_part_name):
    return any(r["type"] == "table" and r["target"] == table_part_name for r in read_rels(zf, sheet_part).values())


def cell_order(ref):
    m = re.match(r"([A-Z]+)(\d+)", ref)
    return (int(m.group(2)), len(m.group(1)), m.group(1))


# ---------------------------------------------------------------------------------------------------------------
# The .xlsm variant


def vba_blob():
    """4 KiB, the same on every run: the OLE compound-file magic, then a SHA-256 counter stream (every byte value)."""
    out = bytearray(bytes.fromhex("D0CF11E0A1B11AE1"))
    counter = 0
    while len(out) < 4096:
        out += hashlib.sha256(f"tableau-excel-export team workbook vbaProject {counter}".encode()).digest()
        counter += 1
    return bytes(out[:4096])


def make_xlsm(xlsx, xlsm):
    """Copies the package entry by entry, adding xl/vbaProject.bin with its relationship and content types."""
    blob = vba_blob()
    with zipfile.ZipFile(xlsx) as src, zipfile.ZipFile(xlsm, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = xlsm_content_types(data)
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = with_vba_relationship(data)
            dst.writestr(info, data, compress_type=info.compress_type)
        vba = zipfile.ZipInfo("xl/vbaProject.bin", date_time=(2026, 1, 1, 0, 0, 0))
        dst.writestr(vba, blob, compress_type=zipfile.ZIP_DEFLATED)
    return {"part": "xl/vbaProject.bin", "bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}


def xlsm_content_types(data):
    text = data.decode("utf-8")
    if XLSX_MAIN_CONTENT_TYPE not in text:
        raise ScriptError("[Content_Types].xml has no .xlsx workbook content type to turn into the macro-enabled one")
    text = text.replace(XLSX_MAIN_CONTENT_TYPE, XLSM_MAIN_CONTENT_TYPE)
    default = f'<Default Extension="bin" ContentType="{VBA_CONTENT_TYPE}"/>'
    return text.replace("</Types>", default + "</Types>").encode("utf-8")


def with_vba_relationship(data):
    text = data.decode("utf-8")
    ids = {int(n) for n in re.findall(r'Id="rId(\d+)"', text)}
    rid = f"rId{max(ids, default=0) + 1}"
    rel = f'<Relationship Id="{rid}" Type="{VBA_REL_TYPE}" Target="vbaProject.bin"/>'
    return text.replace("</Relationships>", rel + "</Relationships>").encode("utf-8")


# ---------------------------------------------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(description="Build the team's workbook from a tableau-export workbook in LibreOffice.")
    p.add_argument("base", help="an .xlsx written by tableau-export")
    p.add_argument("--out", required=True, help="the team workbook to write (.xlsx)")
    p.add_argument("--xlsm", action="store_true", help="also write <out stem>.xlsm with a vbaProject.bin part")
    p.add_argument("--formula-style", choices=("structured", "a1"), default="structured")
    p.add_argument("--table", default="Opportunities", help="the export's table to extend (default Opportunities)")
    p.add_argument("--key", default="Opportunity ID", help="the column the notes are keyed by")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    if not args.out.endswith(".xlsx"):
        raise ScriptError(f"--out must name an .xlsx file, got '{args.out}'")
    if not os.path.isfile(args.base):
        raise ScriptError(f"base workbook '{args.base}' not found")
    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = out + ".tmp.xlsx"
    try:
        added, version = build_in_libreoffice(args.base, tmp, args.table, args.key, args.formula_style)
        manifest = describe_output(
            tmp, os.path.basename(out), args.base, args.table, args.key, args.formula_style, added, version
        )
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    stem = out[: -len(".xlsx")]
    if args.xlsm:
        manifest["xlsm"] = {"file": os.path.basename(stem + ".xlsm"), **make_xlsm(out, stem + ".xlsm")}
    with open(stem + ".manifest.json", "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print(stem + ".manifest.json")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except ScriptError as e:
        print(f"make-team-workbook: {e}", file=sys.stderr)
        sys.exit(1)
