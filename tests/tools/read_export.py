"""Reads an export with tools written elsewhere and prints what they saw, as JSON.

    read_export.py csv FILE    Python's csv module (utf-8-sig), and whether a BOM was there
    read_export.py xlsx FILE   openpyxl: every sheet, every row
    read_export.py hxl FILE    libhxl: the hashtags it recognised and the data rows

Used by tests/exports.rs; scripts/test.sh installs openpyxl and libhxl into
target/export-tools-venv.
"""
import csv
import json
import sys


def read_csv(path):
    with open(path, "rb") as f:
        bom = f.read(3) == b"\xef\xbb\xbf"
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    return {"bom": bom, "rows": rows}


def read_xlsx(path):
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    sheets = {}
    for ws in book.worksheets:
        sheets[ws.title] = [
            ["" if v is None else v for v in row] for row in ws.iter_rows(values_only=True)
        ]
    return {"sheet_names": book.sheetnames, "sheets": sheets}


def read_hxl(path):
    import hxl

    source = hxl.data(path, hxl.InputOptions(allow_local=True))
    rows = [r for r in source]
    columns = [c.display_tag for c in source.columns]
    org_types = sorted({r.get("#org+type") for r in rows if r.get("#org+type")})
    dates = sorted({r.get("#date+reported") for r in rows if r.get("#date+reported")})
    return {"tags": columns, "rows": len(rows), "org_types": org_types, "dates": dates}


if __name__ == "__main__":
    mode, path = sys.argv[1], sys.argv[2]
    out = {"csv": read_csv, "xlsx": read_xlsx, "hxl": read_hxl}[mode](path)
    json.dump(out, sys.stdout, default=str)
