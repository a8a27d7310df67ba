"""A seeded, synthetic, labelled corpus of PHI leaks and decoys, for tests and the benchmark.

Every identifier carries a valid check digit (SSN ranges, NPI, DEA, MBI, VIN, GTIN, Luhn,
NANP), so a detector cannot pass by pattern shape alone. Labels are (line, entity type) pairs;
decoy files hold only values that must *not* be reported.
"""

from __future__ import annotations

import json
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from gitops_health.rules.phi import validators as v

FIRST = (
    "Maria",
    "Daniel",
    "Aisha",
    "Tomasz",
    "Keiko",
    "Olumide",
    "Gretchen",
    "Rafael",
    "Priya",
    "Declan",
    "Yusuf",
    "Ingrid",
    "Marisol",
    "Beatrix",
    "Lucian",
    "Fatima",
    "Harlan",
    "Noemi",
    "Casimir",
    "Wendell",
    "Soraya",
    "Ezekiel",
    "Linnea",
    "Thaddeus",
)
LAST = (
    "Garcia",
    "Okafor",
    "Lindqvist",
    "Nakamura",
    "Kowalski",
    "Abernathy",
    "Delacroix",
    "Haverford",
    "Oyelaran",
    "Brennan",
    "Castellanos",
    "Whitfield",
    "Szymanski",
    "Achterberg",
    "Moreau",
    "Quintero",
    "Vasquez",
    "Pemberton",
    "Iwasaki",
    "Fairweather",
)
STREETS = (
    "Evergreen",
    "Juniper",
    "Harbor View",
    "Old Mill",
    "Willow Creek",
    "Chestnut",
    "Magnolia",
    "Sycamore",
    "Blue Heron",
)
SUFFIXES = ("St", "Ave", "Road", "Lane", "Drive", "Court", "Blvd")
CITIES = ("Springfield", "Fairview", "Riverton", "Lakewood", "Ashland", "Greenville", "Milford")
ICD10 = ("E11.9", "I10", "J45.909", "F32.1", "M54.5", "C50.911", "N18.3", "K21.9")


@dataclass
class CorpusFile:
    path: str
    text: str = ""
    data: bytes | None = None  # binary files
    labels: set[tuple[int, str]] = field(default_factory=set)

    @property
    def content(self) -> bytes:
        return self.data if self.data is not None else self.text.encode()


class _Doc:
    def __init__(self, path: str) -> None:
        self.file = CorpusFile(path)
        self.lines: list[str] = []

    def add(self, text: str, *entities: str) -> None:
        for offset, line in enumerate(text.split("\n")):
            self.lines.append(line)
            if offset == 0:
                self.file.labels.update((len(self.lines), e) for e in entities)

    def done(self) -> CorpusFile:
        self.file.text = "\n".join(self.lines) + "\n"
        return self.file


class Identities:
    """Generators of valid synthetic identifiers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def digits(self, count: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(count))

    def ssn(self, dashed: bool = True) -> str:
        while True:
            area, group = self.rng.randint(1, 899), self.rng.randint(1, 99)
            value = f"{area:03d}{group:02d}{self.rng.randint(1, 9999):04d}"
            if v.ssn_ok(value):
                return f"{value[:3]}-{value[3:5]}-{value[5:]}" if dashed else value

    def _luhn_complete(self, body: str, prefix: str = "") -> str:
        return next(body + d for d in "0123456789" if v.luhn_ok(prefix + body + d))

    def npi(self) -> str:
        while True:
            value = self._luhn_complete(self.rng.choice("12") + self.digits(8), "80840")
            if v.npi_ok(value):
                return value

    def dea(self, surname: str) -> str:
        while True:
            body = [self.rng.randint(0, 9) for _ in range(6)]
            check = (body[0] + body[2] + body[4] + 2 * (body[1] + body[3] + body[5])) % 10
            value = (
                self.rng.choice("ABFGM") + surname[0].upper() + "".join(map(str, body)) + str(check)
            )
            if v.dea_ok(value):
                return value

    def mbi(self) -> str:
        letters = "ACDEFGHJKMNPQRTUVWXY"
        pick = {"N": "123456789", "A": letters, "X": letters + "0123456789", "D": "0123456789"}
        while True:
            raw = "".join(self.rng.choice(pick[c]) for c in "NAXDAXDAADD")
            if v.mbi_ok(raw):
                return f"{raw[:4]}-{raw[4:7]}-{raw[7:]}" if self.rng.random() < 0.5 else raw

    def vin(self) -> str:
        chars = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
        while True:
            value = list(
                self.rng.choice("123JKLSW") + "".join(self.rng.choice(chars) for _ in range(16))
            )
            for check in "0123456789X":
                value[8] = check
                if v.vin_ok("".join(value)):
                    return "".join(value)

    def gtin14(self) -> str:
        body = "0" + self.digits(12)
        return next(body + d for d in "0123456789" if v.gtin_ok(body + d))

    def card(self) -> str:
        while True:
            value = self._luhn_complete("4" + self.digits(14))
            if v.card_ok(value):
                return value

    def phone(self, style: int | None = None) -> str:
        while True:
            area = f"{self.rng.randint(2, 9)}{self.rng.randint(0, 8)}{self.rng.randint(0, 9)}"
            exchange = f"{self.rng.randint(2, 9)}{self.rng.randint(0, 9)}{self.rng.randint(0, 9)}"
            line = self.digits(4)
            if v.nanp_ok(area + exchange + line):
                break
        style = self.rng.randint(0, 2) if style is None else style
        return (
            f"({area}) {exchange}-{line}",
            f"{area}-{exchange}-{line}",
            f"+1 {area}-{exchange}-{line}",
        )[style]

    def name(self) -> tuple[str, str]:
        return self.rng.choice(FIRST), self.rng.choice(LAST)

    def email(self, first: str, last: str) -> str:
        domain = self.rng.choice(("gmail.com", "yahoo.com", "outlook.com", "icloud.com"))
        return f"{first.lower()}.{last.lower()}{self.rng.randint(1, 99)}@{domain}"

    def street(self) -> str:
        return (
            f"{self.rng.randint(10, 9999)} {self.rng.choice(STREETS)} {self.rng.choice(SUFFIXES)}"
        )

    def zip(self) -> str:
        return f"{self.rng.randint(10000, 99950)}"

    def date(self, start: int = 1930, end: int = 2004) -> tuple[int, int, int]:
        return self.rng.randint(start, end), self.rng.randint(1, 12), self.rng.randint(1, 28)

    def mrn(self) -> str:
        return self.rng.choice((self.digits(8), "E" + self.digits(7), "MR-" + self.digits(6)))

    def member_id(self) -> str:
        return self.rng.choice(
            ("XQH" + self.digits(9), "W" + self.digits(9) + "01", self.digits(11))
        )

    def public_ip(self) -> str:
        while True:
            value = ".".join(str(self.rng.randint(1, 223)) for _ in range(4))
            if v.public_ip_ok(value):
                return value


def _iso(d: tuple[int, int, int]) -> str:
    return f"{d[0]:04d}-{d[1]:02d}-{d[2]:02d}"


def _us(d: tuple[int, int, int]) -> str:
    return f"{d[1]:02d}/{d[2]:02d}/{d[0]:04d}"


def _hl7(d: tuple[int, int, int]) -> str:
    return f"{d[0]:04d}{d[1]:02d}{d[2]:02d}"


def _fhir_patient(ids: Identities, n: int) -> CorpusFile:
    first, last = ids.name()
    doc = _Doc(f"fixtures/fhir/patient-{n}.json")
    doc.add(f'{{\n  "resourceType": "Patient",\n  "id": "pat-{n}",')
    doc.add('  "identifier": [\n    {\n      "system": "http://hospital.example.org/mrn",')
    doc.add(f'      "value": "{ids.mrn()}"', "MRN")
    doc.add('    }\n  ],\n  "name": [\n    {')
    doc.add(f'      "family": "{last}",', "PERSON")
    doc.add('      "given": [')
    doc.add(f'        "{first}"', "PERSON")
    doc.add('      ]\n    }\n  ],\n  "telecom": [')
    doc.add(f'    {{"system": "phone", "value": "{ids.phone()}"}},', "PHONE")
    doc.add(f'    {{"system": "email", "value": "{ids.email(first, last)}"}}', "EMAIL")
    doc.add('  ],\n  "gender": "female",')
    doc.add(f'  "birthDate": "{_iso(ids.date())}",', "DATE")
    doc.add('  "address": [\n    {')
    doc.add(f'      "line": ["{ids.street()}"],', "ADDRESS")
    doc.add(f'      "city": "{ids.rng.choice(CITIES)}",', "ADDRESS")
    doc.add('      "state": "IL",')
    doc.add(f'      "postalCode": "{ids.zip()}"', "ADDRESS")
    doc.add("    }\n  ]\n}")
    return doc.done()


def _coverage_json(ids: Identities, n: int) -> CorpusFile:
    doc = _Doc(f"tests/data/coverage_{n}.json")
    doc.add(
        f'{{"resourceType": "Coverage", "status": "active", "subscriberId": "{ids.member_id()}", '
        f'"beneficiary": {{"reference": "Patient/pat-{n}"}}, '
        '"payor": [{"display": "Acme Health"}]}',
        "HEALTH_PLAN_ID",
    )
    return doc.done()


def _table(
    doc: _Doc, sep: str, rows: int, row: Callable[[], tuple[str, ...]], *labels: str
) -> None:
    for _ in range(rows):
        doc.add(sep.join(row()), *labels)


def _patient_row(ids: Identities) -> tuple[str, ...]:
    first, last = ids.name()
    return (
        first,
        last,
        _us(ids.date()),
        ids.ssn(dashed=False),
        ids.phone(1),
        ids.email(first, last),
        ids.zip(),
        ids.mrn(),
    )


def _csv(ids: Identities, n: int, sep: str = ",") -> CorpusFile:
    ext = "csv" if sep == "," else "tsv"
    doc = _Doc(f"exports/patients_{n}.{ext}")
    doc.add(sep.join(("first_name", "last_name", "dob", "ssn", "phone", "email", "zip", "mrn")))
    labels = ("PERSON", "DATE", "SSN", "PHONE", "EMAIL", "ADDRESS", "MRN")
    _table(doc, sep, 4, lambda: _patient_row(ids), *labels)
    return doc.done()


def _member_row(ids: Identities) -> tuple[str, ...]:
    first, last = ids.name()
    return f'"{last}, {first}"', _us(ids.date()), ids.member_id(), ids.phone(0)


def _csv_export(ids: Identities, n: int) -> CorpusFile:
    """A spreadsheet export: comment lines before a quoted header, `;`-separated."""
    doc = _Doc(f"reports/eligibility_{n}.csv")
    doc.add("# eligibility export (claims warehouse)\n# generated nightly\n")
    doc.add('"Member Name";"Birth Date";"Member ID";"Phone"')
    _table(doc, ";", 3, lambda: _member_row(ids), "PERSON", "DATE", "HEALTH_PLAN_ID", "PHONE")
    return doc.done()


def _segment(name: str, fields: dict[int, str]) -> str:
    return "|".join([name] + [fields.get(i, "") for i in range(1, max(fields) + 1)])


def _hl7_message(ids: Identities, n: int) -> CorpusFile:
    first, last = ids.name()
    kin_first, _ = ids.name()
    doc = _Doc(f"samples/adt_a01_{n}.hl7")
    doc.add(
        f"MSH|^~\\&|EPIC|GENHOSP|LAB|GENHOSP|20240105103000||ADT^A01|MSG{ids.digits(6)}|P|2.5.1"
    )
    doc.add("EVN|A01|20240105103000")
    area = ids.phone(1).split("-")
    doc.add(
        f"PID|1||{ids.digits(8)}^^^GENHOSP^MR||{last.upper()}^{first.upper()}^Q||"
        f"{_hl7(ids.date())}|F|||{ids.street()}^^{ids.rng.choice(CITIES)}^IL^{ids.zip()}||"
        f"({area[0]}){area[1]}-{area[2]}|||||{ids.digits(9)}|{ids.ssn()}",
        "MRN",
        "PERSON",
        "DATE",
        "ADDRESS",
        "PHONE",
        "ACCOUNT_NUMBER",
        "SSN",
    )
    doc.add(f"NK1|1|{last.upper()}^{kin_first.upper()}|SPO||{ids.phone(1)}", "PERSON", "PHONE")
    doc.add(
        _segment(
            "PV1",
            {
                1: "1",
                2: "I",
                3: "4W^401^A",
                7: f"{ids.npi()}^WELBY^MARCUS^^^DR",
                10: "MED",
                44: f"{_hl7(ids.date(2023, 2024))}1030",
            },
        ),
        "NPI",
        "DATE",
    )
    doc.add(f"DG1|1||{ids.rng.choice(ICD10)}^Diagnosis^I10||20240105|A", "ICD10")
    doc.add(
        _segment(
            "IN1", {1: "1", 2: "BCBS01", 3: ids.digits(5), 4: "BLUE CROSS", 36: ids.member_id()}
        ),
        "HEALTH_PLAN_ID",
    )
    return doc.done()


def _ccda(ids: Identities, n: int) -> CorpusFile:
    first, last = ids.name()
    doc = _Doc(f"interop/ccda/summary_{n}.xml")
    doc.add('<?xml version="1.0" encoding="UTF-8"?>\n<ClinicalDocument xmlns="urn:hl7-org:v3">')
    doc.add("  <recordTarget>\n    <patientRole>")
    doc.add(f'      <id root="2.16.840.1.113883.19.5" extension="{ids.mrn()}"/>', "MRN")
    doc.add('      <addr use="HP">')
    doc.add(f"        <streetAddressLine>{ids.street()}</streetAddressLine>", "ADDRESS")
    doc.add(f"        <city>{ids.rng.choice(CITIES)}</city>", "ADDRESS")
    doc.add(f"        <postalCode>{ids.zip()}</postalCode>", "ADDRESS")
    doc.add("      </addr>")
    doc.add(f'      <telecom value="tel:{ids.phone(2)}" use="HP"/>', "PHONE")
    doc.add('      <patient>\n        <name use="L">')
    doc.add(f"          <given>{first}</given>", "PERSON")
    doc.add(f"          <family>{last}</family>", "PERSON")
    doc.add("        </name>")
    doc.add(f'        <birthTime value="{_hl7(ids.date())}"/>', "DATE")
    doc.add("      </patient>\n    </patientRole>\n  </recordTarget>\n</ClinicalDocument>")
    return doc.done()


def _yaml_fixture(ids: Identities, n: int) -> CorpusFile:
    first, last = ids.name()
    doc = _Doc(f"tests/fixtures/member_{n}.yaml")
    doc.add("member:")
    doc.add(f"  first_name: {first}", "PERSON")
    doc.add(f"  last_name: {last}", "PERSON")
    doc.add(f"  date_of_birth: '{_iso(ids.date())}'", "DATE")
    doc.add(f"  medicare_mbi: {ids.mbi()}", "MBI")
    doc.add(f"  member_id: {ids.member_id()}", "HEALTH_PLAN_ID")
    doc.add(f"  home_address: {ids.street()}", "ADDRESS")
    doc.add(f'  mobile: "{ids.phone(1)}"', "PHONE")
    doc.add("  vehicle:")
    doc.add(f"    vin: {ids.vin()}", "VIN")
    doc.add("  plan: gold")
    return doc.done()


def _sql(ids: Identities, n: int) -> CorpusFile:
    doc = _Doc(f"db/seed_{n}.sql")
    doc.add("-- seed data for the demo environment")
    doc.add("INSERT INTO patients (id, first_name, last_name, birth_date, ssn, phone) VALUES")
    for index in range(3):
        first, last = ids.name()
        end = "," if index < 2 else ";"
        doc.add(
            f"  ({index + 1}, '{first}', '{last}', '{_iso(ids.date())}', '{ids.ssn()}', "
            f"'{ids.phone(1)}'){end}",
            "PERSON",
            "DATE",
            "SSN",
            "PHONE",
        )
    doc.add(f"UPDATE patients SET email = '{ids.email(*ids.name())}' WHERE id = 2;", "EMAIL")
    return doc.done()


def _python_test(ids: Identities, n: int) -> CorpusFile:
    first, last = ids.name()
    doc = _Doc(f"tests/test_claims_{n}.py")
    doc.add("from datetime import date\n\nfrom claims.models import Patient\n\n")
    doc.add("def test_claim_roundtrip():")
    doc.add("    patient = Patient(")
    doc.add(f'        first_name="{first}",', "PERSON")
    doc.add(f'        last_name="{last}",', "PERSON")
    doc.add(
        f"        dob=date({ids.date()[0]}, {ids.rng.randint(1, 12)}, {ids.rng.randint(1, 28)}),",
        "DATE",
    )
    doc.add(f'        ssn="{ids.ssn()}",', "SSN")
    doc.add(f'        card_number="{ids.card()}",', "ACCOUNT_NUMBER")
    doc.add(f'        prescriber_npi="{ids.npi()}",', "NPI")
    doc.add(f'        dea_number="{ids.dea(last)}",', "DEA")
    doc.add("    )")
    doc.add("    assert patient.age > 0")
    return doc.done()


def _js_source(ids: Identities, n: int) -> CorpusFile:
    first, last = ids.name()
    doc = _Doc(f"web/src/mocks/patient{n}.js")
    doc.add("export const mockPatient = {")
    doc.add(f"  patientName: '{first} {last}',", "PERSON")
    doc.add(f"  mrn: '{ids.mrn()}',", "MRN")
    doc.add(f"  driversLicense: 'D{ids.digits(7)}',", "LICENSE_NUMBER")
    doc.add(f"  deviceUdi: '(01){ids.gtin14()}(17)270101(21)SN{ids.digits(6)}',", "DEVICE_ID")
    doc.add(f"  portalUrl: 'https://portal.riverton-health.org/patients/{ids.mrn()}/chart',", "URL")
    doc.add("};")
    return doc.done()


def _log(ids: Identities, n: int) -> CorpusFile:
    first, last = ids.name()
    doc = _Doc(f"logs/intake-{n}.log")
    doc.add("2024-01-05 10:30:00,120 INFO  intake started worker=3 pid=4121")
    doc.add(
        f"2024-01-05 10:30:01,554 INFO  lookup patient={first} {last} dob={_iso(ids.date())}",
        "PERSON",
        "DATE",
    )
    doc.add(
        f"2024-01-05 10:30:02,003 WARN  eligibility failed member_id={ids.member_id()} "
        f"client_ip={ids.public_ip()}",
        "HEALTH_PLAN_ID",
        "IP_ADDRESS",
    )
    doc.add(f"2024-01-05 10:30:02,870 ERROR callback to {ids.phone(1)} failed for patient", "PHONE")
    doc.add("2024-01-05 10:30:03,001 INFO  request took 812 ms status=200")
    return doc.done()


def _env(ids: Identities, n: int) -> CorpusFile:
    doc = _Doc(f"deploy/staging{n}.env")
    doc.add("APP_PORT=8080\nLOG_LEVEL=debug")
    doc.add(f"TEST_PATIENT_SSN={ids.ssn()}", "SSN")
    doc.add(f"TEST_PATIENT_EMAIL={ids.email(*ids.name())}", "EMAIL")
    doc.add(f"TEST_PATIENT_MRN={ids.mrn()}", "MRN")
    return doc.done()


def _markdown(ids: Identities, n: int) -> CorpusFile:
    first, last = ids.name()
    doc = _Doc(f"docs/incidents/incident-{n}.md")
    doc.add(f"# Incident {n}: duplicate claim\n")
    doc.add(
        f"Patient {first} {last} was admitted on {_us(ids.date(2023, 2024))} and billed twice.",
        "PERSON",
        "DATE",
    )
    doc.add(
        f"She is a {ids.rng.randint(90, 104)}-year-old resident of {ids.rng.choice(CITIES)}.",
        "AGE_OVER_89",
    )
    doc.add(f"Diagnosis: {ids.rng.choice(ICD10)}", "ICD10")
    doc.add("\n| Field | Value |\n|---|---|")
    doc.add(f"| MBI | {ids.mbi()} |", "MBI")
    doc.add(f"| Phone | {ids.phone(0)} |", "PHONE")
    doc.add("\nFixed in the claims service; see the runbook.")
    return doc.done()


def _notebook(ids: Identities, n: int) -> CorpusFile:
    first, last = ids.name()
    cells = [
        {
            "cell_type": "code",
            "execution_count": 1,
            "metadata": {},
            "source": ["df = load_claims()\n", "df.head(1)"],
            "outputs": [
                {
                    "output_type": "stream",
                    "name": "stdout",
                    "text": [f"patient_name: {first} {last}\n", f"ssn: {ids.ssn()}\n"],
                }
            ],
        },
    ]
    text = json.dumps(
        {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1
    )
    lines = text.split("\n")
    labels = set()
    for number, line in enumerate(lines, start=1):
        if "patient_name" in line:
            labels.add((number, "PERSON"))
        if "ssn:" in line:
            labels.add((number, "SSN"))
    return CorpusFile(f"notebooks/claims_eda_{n}.ipynb", text + "\n", labels=labels)


def dicom_bytes(patient_name: str, patient_id: str, birth_date: str) -> bytes:
    """A minimal explicit-VR little-endian DICOM object with patient tags."""

    def element(group: int, elem: int, vr: bytes, value: str) -> bytes:
        raw = value.encode()
        if len(raw) % 2:
            raw += b" "
        return struct.pack("<HH", group, elem) + vr + struct.pack("<H", len(raw)) + raw

    meta = element(0x0002, 0x0010, b"UI", "1.2.840.10008.1.2.1")
    body = (
        element(0x0008, 0x0060, b"CS", "CR")
        + element(0x0010, 0x0010, b"PN", patient_name)
        + element(0x0010, 0x0020, b"LO", patient_id)
        + element(0x0010, 0x0030, b"DA", birth_date)
    )
    return b"\x00" * 128 + b"DICM" + meta + body


def _binary_files(ids: Identities, n: int) -> list[CorpusFile]:
    first, last = ids.name()
    dicom = dicom_bytes(f"{last}^{first}", ids.mrn(), _hl7(ids.date()))
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
    return [
        CorpusFile(f"fixtures/imaging/study_{n}.dcm", data=dicom, labels={(1, "MEDICAL_IMAGE")}),
        CorpusFile(
            f"fixtures/uploads/patient_{n}_face.png", data=png, labels={(1, "MEDICAL_IMAGE")}
        ),
    ]


LEAK_BUILDERS = (
    _fhir_patient,
    _coverage_json,
    _csv,
    _csv_export,
    _hl7_message,
    _ccda,
    _yaml_fixture,
    _sql,
    _python_test,
    _js_source,
    _log,
    _env,
    _markdown,
    _notebook,
)


def _decoys(rng: random.Random, n: int) -> list[CorpusFile]:
    """Files full of identifier-shaped values that are not PHI."""
    sha = "".join(rng.choice("0123456789abcdef") for _ in range(40))
    py = "\n".join(
        (
            "import os.path",
            "from app.routes import patient_routes  # module path, not a URL",
            f'REQUEST_ID = "123e4567-e89b-12d3-a456-{rng.randint(10**11, 10**12 - 1)}"',
            f'COMMIT = "{sha}"',
            '__version__ = "10.2.14.3"',
            "PORT = 8443",
            f"CREATED_AT = {rng.randint(1_600_000_000, 1_750_000_000)}  # epoch seconds",
            'SUPPORT_EMAIL = "help@example.com"',
            'TEST_PHONE = "(312) 555-0142"',
            'TEST_SSN = "078-05-1120"',
            'INVALID_SSN = "912-45-6789"',
            'TEST_CARD = "4111 1111 1111 1111"',
            'SAMPLE_MBI = "1EG4-TE5-MK73"',
            'SAMPLE_NPI = "1234567893"',
            'SAMPLE_DEA = "AB1234563"',
            'PATIENT_NAME = "John Doe"',
            'LOINC_HBA1C = "4548-4"',
            'SNOMED_DIABETES = "44054006"',
            'CPT_OFFICE_VISIT = "99213"',
            'BLOB = "aGVsbG8gd29ybGQgdGhpcyBpcyBub3QgcGhp"',
            r'SSN_RE = r"^\d{3}-\d{2}-\d{4}$"',
            'LOCAL = "http://localhost:8000/patients/123"',
            'API = "https://api.example.org/patients/42"',
            'DNS = "8.8.8.8"',
            'PRIVATE = "10.0.12.7"',
            'DOC_IP = "203.0.113.9"',
        )
    )
    log = "\n".join(
        (
            "2024-01-05T10:30:00.120Z INFO server listening on 0.0.0.0:8080",
            "2024-01-05T10:30:01.554Z INFO build 2024.01.05 sha=" + sha[:12],
            "[2024-01-05 10:30:02] DEBUG cache hit ratio=0.93 size=1048576",
            "2024-01-05 10:30:03,001 INFO  GET /healthz 200 1.2ms from 127.0.0.1",
        )
    )
    fhir = json.dumps(
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
            "meta": {"lastUpdated": "2024-01-05T10:30:00Z", "versionId": "3"},
            "identifier": [{"system": "urn:oid:2.16.840.1.113883.19.5", "value": "obs-1"}],
        },
        indent=2,
    )
    yaml = "\n".join(
        (
            "name: build",
            "on: [push]",
            "jobs:",
            "  test:",
            "    runs-on: ubuntu-22.04",
            "    env:",
            "      PYTHON_VERSION: 3.11.7",
            "      TZ: America/Chicago",
            "    steps:",
            "      - uses: actions/checkout@v4",
            "      - run: make test",
        )
    )
    return [
        CorpusFile(f"src/decoys/constants_{n}.py", py + "\n"),
        CorpusFile(f"lib/decoys/api_docs_{n}.py", _LIBRARY_DOCS),
        CorpusFile(f"logs/server_{n}.log", log + "\n"),
        CorpusFile(f"fixtures/observation_{n}.json", fhir + "\n"),
        CorpusFile(f".github/workflows/ci_{n}.yml", yaml + "\n"),
    ]


# Library code and its documentation: examples, enum values, hashes and numbers, not people.
_LIBRARY_DOCS = '''"""Query helpers.

Example::

    stmt = insert(user_table).values(name="username", fullname="Full Username")
    rows = [{"username": "wendy", "fullname": "Wendy Smith"}]
    Mr and Mrs Smith flew to San Francisco.
"""

FIELD_FULLNAME = "pydantic.fields.Field"
ENTITY_MAP = {"PERSON": "PATIENT", "PT": "(PT)"}
SEED_SEQUENCE = [4266599812473307, 0.1230000071797338]
CLIENT = ("1.2.3.4", 8080)  # client address in the example
SUPPORT = "Call 212-555-5555 or see https://dl.acm.org/doi/10.5555/645526.657132"
SERIALS = "serial number (001-999)"
'''


def generate(seed: int = 0, copies: int = 3) -> list[CorpusFile]:
    """`copies` of every leak template and decoy file, deterministic for a seed."""
    rng = random.Random(seed)
    ids = Identities(rng)
    files: list[CorpusFile] = []
    for n in range(copies):
        files += [build(ids, n) for build in LEAK_BUILDERS]
        files.append(_csv(ids, n + 100, sep="\t"))
        files += _binary_files(ids, n)
        files += _decoys(rng, n)
    return files


@dataclass
class Score:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0


def evaluate(
    files: list[CorpusFile], predicted: dict[str, set[tuple[int, str]]]
) -> dict[str, Score]:
    """Strict per-type scores: a prediction counts only on the right line with the right type."""
    scores: dict[str, Score] = {}
    for corpus_file in files:
        found = predicted.get(corpus_file.path, set())
        for line, entity in found | corpus_file.labels:
            score = scores.setdefault(entity, Score())
            if (line, entity) in found and (line, entity) in corpus_file.labels:
                score.true_positives += 1
            elif (line, entity) in found:
                score.false_positives += 1
            else:
                score.false_negatives += 1
    return dict(sorted(scores.items()))
