"""Reads an export with tools written elsewhere and prints what they saw, as JSON.

    read_export.py csv FILE    Python's csv module (utf-8-sig), and whether a BOM was there
    read_export.py xlsx FILE   openpyxl: every sheet, every row
    read_export.py hxl FILE    libhxl: the hashtags it recognised and the data rows
    read_export.py odata URL TOKEN PAGE
                               python-odata: reads $metadata, then every entity set to the
                               end, following @odata.nextLink (pages of PAGE entities asked
                               with Prefer: odata.maxpagesize), with Basic auth (the token as
                               password); also a $count and a date $filter

Used by tests/exports.rs; scripts/test.sh installs openpyxl, libhxl and python-odata into
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


def read_odata(url, token, page):
    import datetime
    import requests
    from odata import ODataService

    service = ODataService(
        url,
        reflect_entities=True,
        auth=requests.auth.HTTPBasicAuth("powerbi", token),
        extra_headers={"Prefer": f"odata.maxpagesize={page}"},
        quiet_progress=True,
    )
    out = {"sets": sorted(service.entities)}
    for name, cls in service.entities.items():
        rows = list(service.query(cls))
        out[name] = {
            "rows": len(rows),
            "keys": sorted(r.row for r in rows),
            "count": service.query(cls).count(),
        }
    feedback = service.entities["Feedback"]
    since = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
    out["feedback_since_yesterday"] = len(
        list(service.query(feedback).filter(feedback.created_at >= since))
    )
    org_types = [r.org_type for r in service.query(service.entities["Responses"])]
    out["org_types"] = sorted({t for t in org_types if t})
    return out


if __name__ == "__main__":
    mode = sys.argv[1]
    readers = {"csv": read_csv, "xlsx": read_xlsx, "hxl": read_hxl, "odata": read_odata}
    out = readers[mode](*sys.argv[2:])
    json.dump(out, sys.stdout, default=str)
