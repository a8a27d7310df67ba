"""Replace detected PHI with synthetic values of the same type and shape (presidio-anonymizer).

The replacements are values the scanner itself treats as fake (reserved phone range, invalid
SSN area, documented sample ids, `example.com`, John/Jane Doe), so a redacted fixture scans
clean and keeps parsing as the same format.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig, RecognizerResult


def _keep_shape(fill: str) -> Callable[[str], str]:
    """Digits become `fill`, other characters stay: `E4535749` → `E0000000`."""
    return lambda value: re.sub(r"\d", fill, value)


def _person(value: str) -> str:
    if "^" in value:
        return "DOE^JANE" if value.isupper() else "Doe^Jane"
    parts = [p for p in re.split(r"[\s,]+", value) if p]
    if len(parts) == 1:
        return "DOE" if value.isupper() else "Doe"
    return "Doe, Jane" if "," in value else "Jane Doe"


def _date(value: str) -> str:
    """1 January 1900 in the value's own format (scanners treat it as no one's birth date)."""
    if re.fullmatch(r"\d{8,14}", value):
        return "19000101" + "0" * (len(value) - 8)
    if "(" in value:  # date(1961, 4, 12 — the match stops before the closing parenthesis
        return value.partition("(")[0] + "(1900, 1, 1"
    if re.search(r"[A-Za-z]{3}", value):
        return "January 1, 1900"
    if re.match(r"\d{4}", value):
        return f"1900{value[4]}01{value[4]}01"
    separator = re.sub(r"[\d]", "", value)[:1] or "/"
    return f"01{separator}01{separator}1900"


def _phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    fake = iter(("1" if len(digits) == 11 else "") + "2025550100")
    return re.sub(r"\d", lambda _m: next(fake, "0"), value)


REPLACEMENTS: dict[str, Callable[[str], str]] = {
    "PERSON": _person,
    "ADDRESS": lambda value: "00000" if re.fullmatch(r"[\d-]+", value) else "0 Redacted Way",
    "DATE": _date,
    "AGE_OVER_89": lambda value: "90+",
    "PHONE": _phone,
    "EMAIL": lambda value: "jane.doe@example.com",
    "SSN": lambda value: re.sub(r"\d", "0", value).replace("000", "900", 1),
    "MRN": _keep_shape("0"),
    "HEALTH_PLAN_ID": _keep_shape("0"),
    "ACCOUNT_NUMBER": lambda value: (
        "4111111111111111" if len(re.sub(r"\D", "", value)) == 16 else re.sub(r"\d", "0", value)
    ),
    "LICENSE_NUMBER": _keep_shape("0"),
    "MBI": lambda value: "1EG4-TE5-MK73" if "-" in value else "1EG4TE5MK73",
    "NPI": lambda value: "1234567893",
    "DEA": lambda value: "AB1234563",
    "VIN": lambda value: "1M8GDM9AXKP042788",
    "DEVICE_ID": _keep_shape("0"),
    "URL": lambda value: "https://example.org/patients/0",
    "IP_ADDRESS": lambda value: "203.0.113.10",
}


def redact_text(text: str, spans: Sequence[tuple[int, int, str]]) -> str:
    """`text` with each (start, end, entity_type) span replaced; ICD-10 codes are kept."""
    results = [
        RecognizerResult(entity_type=entity, start=start, end=end, score=1.0)
        for start, end, entity in spans
        if entity in REPLACEMENTS
    ]
    if not results:
        return text
    operators = {
        entity: OperatorConfig("custom", {"lambda": replace})
        for entity, replace in REPLACEMENTS.items()
    }
    engine = AnonymizerEngine()
    return engine.anonymize(text, results, operators, merge_entities_with_spaces=False).text
