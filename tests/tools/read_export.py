"""Reads an export with tools written elsewhere and prints what they saw, as JSON.

    read_export.py csv FILE    Python's csv module (utf-8-sig), and whether a BOM was there
    read_export.py xlsx FILE   openpyxl: every sheet, every row
    read_export.py hxl FILE    libhxl: the hashtags it recognised and the data rows
    read_export.py parquet FILE
                               pyarrow: the column names and types, the rows written as the
                               CSV writes them, the row groups and the key-value metadata
    read_export.py odata URL TOKEN PAGE
                               python-odata: reads $metadata, then every entity set to the
                               end, following @odata.nextLink (pages of PAGE entities asked
                               with Prefer: odata.maxpagesize), with Basic auth (the token as
                               password); also a $count and a date $filter

Used by tests/exports.rs; scripts/test.sh installs openpyxl, libhxl, pyarrow and python-odata into
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


def as_csv_text(v):
    """A value as the CSV export writes it (for comparing the two files)."""
    import datetime

    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, datetime.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, datetime.date):
        return v.isoformat()
    return str(v)


def read_parquet(path):
    import pyarrow.parquet as pq

    f = pq.ParquetFile(path)
    table = f.read()
    names = table.column_names
    rows = [names] + [[as_csv_text(r[n]) for n in names] for r in table.to_pylist()]
    meta = {k.decode(): v.decode() for k, v in (f.metadata.metadata or {}).items()}
    return {
        "rows": rows,
        "types": {n: str(table.schema.field(n).type) for n in names},
        "row_groups": f.metadata.num_row_groups,
        "num_rows": f.metadata.num_rows,
        "metadata": meta,
    }


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
    readers = {
        "csv": read_csv,
        "xlsx": read_xlsx,
        "hxl": read_hxl,
        "parquet": read_parquet,
        "odata": read_odata,
    }
    out = readers[mode](*sys.argv[2:])
    json.dump(out, sys.stdout, default=str)
