"""Outside tools on an XLSForm clusterpulse wrote, for tests/survey_uploads.rs.

  xlsform_tools.py convert FORM.xlsx OUT.xml   pyxform's xls2xform (ODK's converter) makes
                                               an XForm; prints its itext languages, the
                                               question names (binds), repeats and itemset
                                               filters as JSON
  xlsform_tools.py rename FORM.xlsx OUT.xlsx ID TITLE
                                               openpyxl sets the settings sheet's form_id and
                                               form_title, as a person editing in Excel would
  xlsform_tools.py extend FORM.xlsx OUT.xlsx ID  openpyxl adds, as a person editing in Excel
                                               would: cascading selects (a choice_filter over a
                                               region column, one district name in two
                                               regions), a location, a calculation, a
                                               statement to confirm, a range and a repeat
"""
import json
import sys
import xml.etree.ElementTree as ET


def convert(form, out):
    from pyxform.xls2xform import xls2xform_convert

    xls2xform_convert(form, out, validate=False)
    tree = ET.parse(out)
    ns = {"x": "http://www.w3.org/2002/xforms", "h": "http://www.w3.org/1999/xhtml"}
    langs = [t.get("lang") for t in tree.iterfind(".//x:itext/x:translation", ns)]
    binds = [b.get("nodeset").rsplit("/", 1)[-1] for b in tree.iterfind(".//x:bind", ns)]
    title = tree.find(".//h:title", ns).text
    repeats = [r.get("nodeset").rsplit("/", 1)[-1] for r in tree.iterfind(".//x:repeat", ns)]
    itemsets = [i.get("nodeset") for i in tree.iterfind(".//x:itemset", ns)]
    print(json.dumps({"languages": langs, "binds": binds, "title": title, "repeats": repeats,
                      "itemsets": itemsets}))


def rename(form, out, form_id, title):
    import openpyxl

    wb = openpyxl.load_workbook(form)
    ws = wb["settings"]
    header = [c.value for c in ws[1]]
    ws.cell(2, header.index("form_id") + 1).value = form_id
    ws.cell(2, header.index("form_title") + 1).value = title
    wb.save(out)
    print(json.dumps({"ok": True}))


def extend(form, out, form_id):
    import openpyxl

    wb = openpyxl.load_workbook(form)

    def put(ws, values):
        """Appends a row, each value under the column of that header (added if missing)."""
        header = [c.value for c in ws[1]]
        for key in values:
            if key not in header:
                header.append(key)
                ws.cell(1, len(header)).value = key
        row = ws.max_row + 1
        for key, value in values.items():
            ws.cell(row, header.index(key) + 1).value = value

    survey = wb["survey"]
    label = next(c.value for c in survey[1] if str(c.value).startswith("label"))
    rows = [
        {"type": "select_one region", "name": "region", label: "Region"},
        {"type": "select_one district", "name": "district", label: "District",
         "choice_filter": "region=${region}"},
        {"type": "geopoint", "name": "site", label: "Where is the site?"},
        {"type": "calculate", "name": "place", "calculation": "concat(${region}, '/', ${district})"},
        {"type": "begin_repeat", "name": "household", label: "Household members"},
        {"type": "text", "name": "member_name", label: "Name"},
        {"type": "integer", "name": "member_age", label: "Age", "constraint": ". < 120"},
        {"type": "text", "name": "member_school", label: "Which school?",
         "relevant": "${member_age} < 18 and ${region} = 'south'"},
        {"type": "end_repeat"},
        {"type": "acknowledge", "name": "consent", label: "I confirm the answers", "required": "yes"},
        {"type": "range", "name": "rating", label: "Rating", "parameters": "start=0 end=10 step=2"},
        {"type": "text", "name": "why_south", label: "Why south?", "relevant": "${place} = 'south/d1'"},
    ]
    for r in rows:
        put(survey, r)
    choices = wb["choices"]
    clabel = next(c.value for c in choices[1] if str(c.value).startswith("label"))
    for list_name, name, text, region in [
        ("region", "north", "North", None), ("region", "south", "South", None),
        ("district", "d1", "Central", "north"), ("district", "d1", "Central", "south"),
        ("district", "d2", "Coast", "south"),
    ]:
        row = {"list_name": list_name, "name": name, clabel: text}
        if region:
            row["region"] = region
        put(choices, row)
    settings = wb["settings"]
    header = [c.value for c in settings[1]]
    settings.cell(2, header.index("form_id") + 1).value = form_id
    wb.save(out)
    print(json.dumps({"ok": True}))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"convert": convert, "rename": rename, "extend": extend}[cmd](*args)
