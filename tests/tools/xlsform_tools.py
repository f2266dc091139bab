"""Outside tools on an XLSForm clusterpulse wrote, for tests/survey_uploads.rs.

  xlsform_tools.py convert FORM.xlsx OUT.xml   pyxform's xls2xform (ODK's converter) makes
                                               an XForm; prints its itext languages and the
                                               question names as JSON
  xlsform_tools.py rename FORM.xlsx OUT.xlsx ID TITLE
                                               openpyxl sets the settings sheet's form_id and
                                               form_title, as a person editing in Excel would
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
    print(json.dumps({"languages": langs, "binds": binds, "title": title}))


def rename(form, out, form_id, title):
    import openpyxl

    wb = openpyxl.load_workbook(form)
    ws = wb["settings"]
    header = [c.value for c in ws[1]]
    ws.cell(2, header.index("form_id") + 1).value = form_id
    ws.cell(2, header.index("form_title") + 1).value = title
    wb.save(out)
    print(json.dumps({"ok": True}))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"convert": convert, "rename": rename}[cmd](*args)
