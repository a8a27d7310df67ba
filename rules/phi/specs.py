"""What we detect, stdlib only: one `Spec` per identifier rule, and how context scores it.

Each spec is a regular expression, an optional check-digit validator, a base score and the
context words that raise it. Identifiers with a strong shape (dashed SSN, card with Luhn, MBI,
UDI) pass the threshold alone; everything shapeless (names, MRNs, member ids, dates) only passes
when the key, column, HL7 field or preceding words say what the value is. `recognizers` runs
these specs as Presidio recognizers; `any_passing` lets the scanner skip importing Presidio for
chunks where no rule can reach the threshold.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from gitops_health.rules.phi import validators as v

if TYPE_CHECKING:
    from gitops_health.rules.phi.structure import Chunk, LineContext

# Words that say a record is about a patient or another covered person.
SUBJECT_WORDS = frozenset({
    "patient", "patients", "pt", "member", "members", "subscriber", "insured", "guarantor",
    "beneficiary", "person", "pid", "nk1", "gt1", "in1", "resident", "decedent", "enrollee",
    "claimant", "kin", "mother", "father", "guardian", "spouse",
})  # fmt: skip

Validator = Callable[[str], bool]


@dataclass(frozen=True)
class Spec:
    """One detection rule: how it matches, what validates it, which words support it."""

    name: str
    entity: str
    patterns: tuple[tuple[str, float], ...]  # (regex with optional group `v`, base score)
    context: frozenset[str] = frozenset()  # key or nearby words that identify the value
    weak: frozenset[str] = frozenset()  # generic keys that count inside a patient record
    negative: frozenset[str] = frozenset()  # words that say it is something else
    validate: Validator | None = None
    negative_in_line: bool = False  # negative words anywhere on the line or in the path count
    needs: str = ""  # a character every match contains: only lines holding it are searched
    field_only: bool = False  # only a key says what the value is, never the words before it
    boost: float = 0.5
    severity: str = "error"
    why: str = ""
    compiled: tuple[tuple[re.Pattern[str], float, str | int], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        compiled = []
        for rx, score in self.patterns:
            regex = re.compile(rx)
            compiled.append((regex, score, "v" if "v" in regex.groupindex else 0))
        object.__setattr__(self, "compiled", tuple(compiled))


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NAME_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "for",
        "to",
        "in",
        "on",
        "at",
        "by",
        "with",
        "from",
        "is",
        "are",
        "was",
        "were",
        "be",
        "this",
        "that",
        "it",
        "new",
        "old",
        "patient",
        "name",
        "record",
        "records",
        "information",
        "data",
        "portal",
        "login",
        "id",
        "number",
        "date",
        "birth",
        "first",
        "last",
        "test",
        "sample",
        "example",
        "demo",
        "fake",
        "dummy",
        "unknown",
        "anonymous",
        "redacted",
        "none",
        "null",
        "true",
        "false",
        "yes",
        "no",
        "doe",
        "roe",
        "foo",
        "bar",
        "baz",
        "lorem",
        "ipsum",
        "user",
        "username",
        "full",
        "admin",
        "person",
        "staff",
        "default",
        "value",
        "string",
        "text",
        "mr",
        "mrs",
        "ms",
        "dr",
        "jr",
        "sr",
        "mrn",
        "ssn",
        "dob",
        "npi",
        "dea",
        "mbi",
        "vin",
        "udi",
        "icd",
        "id",
        "hl7",
        "fhir",
        "pid",
        "phi",
        "pii",
        "hipaa",
        "usa",
        "us",
        "hospital",
        "clinic",
        "medical",
        "center",
        "health",
        "care",
        "street",
        "st",
        "ave",
        "road",
        "city",
        "state",
        "county",
        "male",
        "female",
        "other",
        "home",
        "work",
        "mobile",
        "primary",
        "secondary",
        "active",
        "inactive",
        "draft",
        "final",
        "official",
        "usual",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "note",
        "notes",
        "see",
        "also",
        "todo",
        "fixme",
        "patients",
        "member",
        "subscriber",
        "insured",
        "contact",
        "emergency",
        "family",
        "given",
        "surname",
    ]
)
FAKE_NAMES = frozenset({
    "john doe", "jane doe", "baby doe", "richard roe", "test patient", "peter james chalmers",
    "peter chalmers", "max mustermann", "erika mustermann", "joe bloggs", "john q public",
    "john q. public", "jane q public", "tommy tester",
})  # fmt: skip


_NAME_PARTS = re.compile(r"[\s^,]+")
_NUMBER = re.compile(r"\d+")
_LETTERS = re.compile(r"[A-Za-z]{3,}")
_COMPACT_DATE = re.compile(r"(?:19|20)\d{6}(?:\d{4,6})?")


def person_ok(text: str) -> bool:
    parts = [p for p in _NAME_PARTS.split(text.strip()) if p]
    words = [p.strip(".").lower() for p in parts]
    if not words or " ".join(words) in FAKE_NAMES or " ".join(words[:2]) in FAKE_NAMES:
        return False
    if words[0] in _NAME_STOP or words[-1] in _NAME_STOP or all(w in _NAME_STOP for w in words):
        return False
    return len(text) <= 60


def _serial_shaped(text: str) -> bool:
    """Six or more characters, and a letter among them unless eight or more: `001-999` (a range)
    is not a serial number."""
    compact = text.replace("-", "")
    return len(compact) >= 8 or (len(compact) >= 6 and not compact.isdigit())


def _digits_in(minimum: int) -> Validator:
    return lambda text: sum(map(str.isdigit, text)) >= minimum and not text.isalpha()


_PLACEHOLDER_DOMAINS = frozenset(
    [
        "b.com",
        "bar.com",
        "foo.com",
        "foobar.com",
        "domain.com",
        "domain.co.uk",
        "email.com",
        "company.com",
        "yourdomain.com",
        "mydomain.com",
        "host.com",
        "somewhere.com",
        "server.com",
        "acme.com",
        "test.com",
        "website.com",
        "site.com",
        "xyz.com",
        "abc.com",
        "sample.com",
    ]
)
_PLACEHOLDER_LOCALS = frozenset(
    [
        "a",
        "b",
        "x",
        "foo",
        "bar",
        "me",
        "you",
        "name",
        "username",
        "full",
        "fullname",
        "user",
        "firstname.lastname",
        "first.last",
        "john.doe",
        "jane.doe",
        "john",
        "jane",
        "your.name",
        "yourname",
        "email",
        "someone",
    ]
)


_ROLE_LOCAL = re.compile(
    r"(?i)(?:^|[._-])(?:users?|dev|devel|list|lists|announce|info|help|support|contact|team|"
    r"hello|sales|press|webmaster|security|maintainers?|bugs?|issues|noreply|admin|office)"
    r"(?:$|[._-])"
)


def _email_ok(text: str) -> bool:
    local, _, domain = text.rpartition("@")
    domain = domain.lower()
    reserved = ("example.com", "example.org", "example.net", "localhost")
    if domain in reserved or domain.endswith(
        (".example", ".test", ".invalid", ".localhost", ".local", ".internal", ".example.com")
    ):
        return False
    if domain in _PLACEHOLDER_DOMAINS or local.lower() in _PLACEHOLDER_LOCALS:
        return False
    if _ROLE_LOCAL.search(local):
        return False
    if local.lower() in {
        "noreply",
        "no-reply",
        "donotreply",
        "do-not-reply",
        "user",
        "test",
        "someone",
        "nobody",
        "postmaster",
        "admin",
        "root",
    }:
        return False
    return not re.search(r"\.(png|jpe?g|gif|svg|webp|py|js)$", domain)


_IDENTIFYING_URL = re.compile(
    r"/(?:patients?|members?|persons?|people|subjects?|mrn)/[A-Za-z0-9-]*\d"
    r"|[?&;](?:mrn|ssn|dob|birth_?date|patient_?id|member_?id|first_?name|last_?name|phone)=",
    re.IGNORECASE,
)


def _url_ok(text: str) -> bool:
    host = re.sub(r"^https?://", "", text).split("/")[0].split(":")[0].lower()
    if host in {"localhost", "127.0.0.1"} or host.endswith(
        (".example", ".test", ".invalid", ".localhost", ".local")
    ):
        return False
    if host.startswith(("10.", "192.168.")) or re.search(
        r"(?:^|\.)example\.(?:com|org|net)$", host
    ):
        return False
    return bool(_IDENTIFYING_URL.search(text))


def _date_ok(text: str) -> bool:
    numbers = [int(n) for n in _NUMBER.findall(text)]
    month_name = _LETTERS.search(text)
    if month_name and not text.lower().startswith(("date", "localdate", "datetime", "new")):
        month = _MONTHS.get(month_name.group().lower()[:3])
        if month is None or len(numbers) < 2:
            return False
        day, year = (numbers[0], numbers[1]) if numbers[1] > 31 else (numbers[1], numbers[0])
        return v.date_ok(year, month, day)
    digits = "".join(n for n in _NUMBER.findall(text))
    if _COMPACT_DATE.fullmatch(digits) and len(numbers) == 1:
        return v.date_ok(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    if len(numbers) < 3:
        return False
    if numbers[0] > 31:  # year first
        year, month, day = numbers[:3]
        if text.lower().startswith("new"):
            month += 1  # JavaScript months count from 0
    else:
        month, day, year = numbers[:3]
        year += 1900 if year < 100 and year > 30 else 2000 if year < 100 else 0
    return v.date_ok(year, month, day)


# Personal mailbox providers: an address there is a person's, not a project's or a company's.
_MAILBOXES = (
    r"gmail\.com|googlemail\.com|yahoo\.com|hotmail\.com|outlook\.com|live\.com|msn\.com"
    r"|aol\.com|icloud\.com|me\.com|mac\.com|comcast\.net|verizon\.net|att\.net"
    r"|protonmail\.com|proton\.me|ymail\.com|gmx\.com"
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1,
    )
}
_MONTH_RX = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
# Latin-1 letters too (Zoë, Brontë, Muñoz); a quote or hyphen inside (O'Neil), not at the end.
_UPPER = r"[A-ZÀ-ÖØ-Þ]"
_CAP_TAIL = r"[a-zß-öø-ÿ'’-]+(?<!['’-])"
_CAP = _UPPER + _CAP_TAIL
_NAME_TAIL = r"(?:[ ]+[A-Z]\.?)?(?:[ ]+(?:(?:van|de|del|von|da)[ ]+)?" + _CAP + r"){0,3}"


def _first(char: str, *not_after: str) -> str:
    """One character of class `char` not preceded by any of `not_after`. Checked after the
    character rather than before it, so the regex engine can skip straight to candidates."""
    return char + "".join(f"(?<!{before}{char})" for before in not_after)


_WORD_START = (r"[\w.’-]", r"[A-Za-z]['’]")  # not inside a word, a dotted path or `O'…`
_ALNUM_END = r"(?![A-Za-z0-9])"
_VIN = "[A-HJ-NPR-Z0-9]"  # VIN characters: no I, O or Q
_STREET = (
    r"(?P<v>\b\d{1,6}[ ]+(?:[NSEW]\.?[ ]+)?(?:[A-Z][a-z]+[ ]+|\d+(?:st|nd|rd|th)[ ]+){1,4}"
    r"(?:St|Street|Ave|Avenue|Rd|Road|Blvd|Boulevard|Dr|Drive|Ln|Lane|Ct|Court|Way|Pl|Place"
    r"|Ter|Terrace|Pkwy|Parkway|Hwy|Highway|Cir|Circle|Sq|Square|Trl|Trail)\b\.?"
    r"(?:,?[ ]+(?:Apt|Suite|Unit|Ste|#)\.?[ ]*[A-Za-z0-9-]+)?)"
)

PERSON_KEYS = _words(
    "given family surname firstname lastname middlename maidenname maiden fullname patientname "
    "kinname guarantorname insuredname mothername fathername spousename guardian guardianname "
    "nextofkin emergencycontact contactname membername subscribername fname lname aliasname "
    "patientaliasname mothermaiden legalname preferredname nickname decedent decedentname "
    "motherfirst motherlast"
)
COMMON_NEGATIVE = _words(
    "font fontfamily product package project app application model class type kind file module "
    "host hostname server service company org organization organisation brand team group repo "
    "branch title label author authors maintainer maintainers owner copyright license plugin "
    "icon color colour theme style format locale language font family_name_of_font"
)

SPECS: tuple[Spec, ...] = (
    Spec(
        "ssn",
        "SSN",
        (
            (r"(?P<v>\d(?<![\d-]\d)\d\d-\d{2}-\d{4})(?![\d-])", 0.55),
            (r"(?P<v>" + _first(r"\d", r"[\d-]") + r"\d\d[ ]\d{2}[ ]\d{4})(?![\d-])", 0.1),
            (r"(?P<v>" + _first(r"\d", r"[\w-]") + r"\d{8})(?![\w-])", 0.05),
        ),
        context=_words("ssn ss socialsecurity social security ssnumber patientssn sb"),
        negative=_words("isbn sku part order invoice routing aba phone fax zip npi tin ein"),
        validate=v.ssn_ok,
        boost=0.5,
        why="SSN area/group/serial rules",
    ),
    Spec(
        "nanp-phone",
        "PHONE",
        (
            (
                r"(?P<v>(?:\+(?<![\w+]\+)1[ .-]?\(|1(?<![\w+]1)[ .-]?\(|\((?<![\w+]\())"
                r"[2-9]\d\d\)[ ]?[2-9]\d\d[ .-]\d{4})" + _ALNUM_END,
                0.55,
            ),
            (r"(?P<v>\+(?<![\w+.-]\+)1[ .-]?[2-9]\d\d[ .-][2-9]\d\d[ .-]\d{4})" + _ALNUM_END, 0.55),
            (r"(?P<v>[2-9](?<![\w+.-][2-9])\d\d-[2-9]\d\d-\d{4})(?![\w-])", 0.5),
            (
                r"(?P<v>" + _first("[2-9]", r"[\w+.-]") + r"\d\d[ .][2-9]\d\d[ .]\d{4})(?![\w.-])",
                0.3,
            ),
            (r"(?<![\w+.-])(?P<v>\+?1?[2-9]\d{9})(?![\w.-])", 0.02),
            (r"\^(?P<v>[2-9]\d\d\^[2-9]\d{6})\b", 0.05),
        ),
        context=_words(
            "phone telephone tel mobile cell cellphone fax facsimile pager telecom homephone "
            "workphone phonenumber contact callback call sms whatsapp ph businessphone kinphone"
        ),
        negative=_words(
            "isbn id uuid order invoice version build port timestamp epoch time ts "
            "seconds ms size bytes count hash checksum npi ssn account zip"
        ),
        validate=v.nanp_ok,
        boost=0.45,
        why="NANP area code and exchange rules",
    ),
    Spec(
        "email",
        "EMAIL",
        (
            (
                r"(?<![\w.+-])(?P<v>[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:" + _MAILBOXES + r"))\b",
                0.5,
            ),
            (
                r"(?<![\w.+-])(?P<v>[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
                r"\.[A-Za-z]{2,24})\b",
                0.3,
            ),
        ),
        context=_words(
            "email emailaddress telecom contact patient member subscriber recipient "
            "customer pt guardian kin personal home"
        ),
        weak=_words("user username login to"),
        negative=_words(
            "author authors maintainer maintainers copyright contributor contributors credits "
            "thanks signed signedoff coauthored reported reviewed acked tested owner support "
            "security bugs cc sponsor funding developer developers contributed written created "
            "maintained by original ported patch patches mailto changelog history license licence"
        ),
        validate=_email_ok,
        negative_in_line=True,
        needs="@",
        boost=0.4,
        why="e-mail address outside reserved domains",
    ),
    Spec(
        "person-field",
        "PERSON",
        (
            (
                r"(?P<v>"
                + _first(_UPPER, *_WORD_START)
                + _CAP_TAIL
                + _NAME_TAIL
                + r")(?![\w’-])(?!['’][A-Za-z])",
                0.02,
            ),
            (
                r"(?P<v>"
                + _first("[A-Z]", *_WORD_START)
                + r"[A-Za-z'’-]+,[ ]+"
                + _CAP
                + r")(?![\w’-])(?!['’][A-Za-z])",
                0.02,
            ),
            (
                r"(?P<v>"
                + _first("[A-Z]", r"[\w^]")
                + r"[A-Za-z'’-]+\^[A-Z][A-Za-z'’-]+(?:\^[A-Z][A-Za-z.'’-]*)?)",
                0.02,
            ),
            (
                r"(?P<v>"
                + _first("[A-Z]", *_WORD_START)
                + r"[A-Z'’-]+(?<!['’-])(?:[ ]+[A-Z][A-Z'’-]+(?<!['’-])){0,2})"
                r"(?![\w’-])(?!['’][A-Za-z])",
                0.01,
            ),
        ),
        context=PERSON_KEYS,
        weak=_words(
            "name patient member subscriber insured contact guarantor kin person "
            "first last display text"
        ),
        negative=COMMON_NEGATIVE | _words("city street state country address line county town"),
        field_only=True,
        validate=person_ok,
        boost=0.55,
        why="name in a person field",
    ),
    Spec(
        "person-free-text",
        "PERSON",
        (
            (
                r"(?i:\b(?:(?:patient|resident|member)[ ]*:?|pt(?:\.|[ ]*:))[ ]+)"
                r"(?P<v>"
                + _CAP
                + r"(?:[ ]+[A-Z]\.?)?(?:[ ]+"
                + _CAP
                + r"){1,2})(?![\w’-])(?!['’][A-Za-z])",
                0.55,
            ),
            (
                r"M(?<!\wM)(?:r|rs|s|iss|x)\.?[ ]+(?P<v>"  # a full name: `Mr. Smith` is an example
                + _CAP
                + r"(?:[ ]+"
                + _CAP
                + r"){1,2})(?![\w’-])(?!['’][A-Za-z])",
                0.55,
            ),
        ),
        negative=COMMON_NEGATIVE,
        validate=person_ok,
        why="name after `patient`/`Mr.`/`Mrs.`",
    ),
    Spec(
        "street-address",
        "ADDRESS",
        (
            (_STREET, 0.45),
            (r"(?P<v>" + _first(r"\d", r"[\w-]") + r"\d{4}(?:-\d{4})?)(?![\w-])", 0.02),
        ),
        context=_words(
            "address addr street streetaddress streetaddressline line line1 line2 zip zipcode "
            "postal postalcode postcode residence homeaddress mailingaddress patientaddress "
            "kinaddress guarantoraddress insuredaddress"
        ),
        negative=COMMON_NEGATIVE
        | _words("ip mac email url memory pointer bind listen server remote socket port"),
        validate=lambda text: not re.fullmatch(r"0+(-0+)?", text) and not text.startswith("0 "),
        boost=0.55,
        why="street address or ZIP in an address field",
    ),
    Spec(
        "city-field",
        "ADDRESS",
        (
            (
                r"(?P<v>"
                + _first(_UPPER, *_WORD_START)
                + _CAP_TAIL
                + r"(?:[ ]+"
                + _CAP
                + r"){0,2})"
                r"(?![\w’-])(?!['’][A-Za-z])",
                0.01,
            ),
        ),
        weak=_words("city town county municipality"),
        negative=COMMON_NEGATIVE,
        field_only=True,
        validate=person_ok,
        boost=0.55,
        why="city of a patient's address",
    ),
    Spec(
        "person-date",
        "DATE",
        (
            (r"(?P<v>(?:19|20)(?<![\w-]\d\d)\d\d-[01]\d-[0-3]\d)(?![\d-])", 0.05),
            (r"(?<![\w/])(?P<v>[01]?\d/[0-3]?\d/(?:19|20)?\d\d)(?![\w/])", 0.05),
            (r"(?<![\w.])(?P<v>[0-3]?\d\.[01]?\d\.(?:19|20)\d\d)(?![\w.])", 0.02),
            (r"(?P<v>(?:19|20)(?<![\w.]\d\d)\d\d[01]\d[0-3]\d(?:\d{4}(?:\d\d)?)?)(?![\w.])", 0.02),
            (r"\b(?P<v>" + _MONTH_RX + r"[ ]+\d{1,2},?[ ]+(?:19|20)\d\d)\b", 0.05),
            (r"\b(?P<v>\d{1,2}[ ]+" + _MONTH_RX + r",?[ ]+(?:19|20)\d\d)\b", 0.05),
            (
                r"\b(?P<v>(?:LocalDate\.of|datetime\.date|date|datetime|new Date)"
                r"\(\s*(?:19|20)\d\d,\s*\d{1,2},\s*\d{1,2})",
                0.05,
            ),
        ),
        context=_words(
            "dob birth birthdate birthday born bday dateofbirth birthtime admit admitted admission "
            "admissiondate admitdate discharge discharged dischargedate death deathdate deceased "
            "died dod expired dos servicedate dateofservice visitdate surgerydate procedurate "
            "encounterdate deceaseddatetime deceaseddate"
        ),
        negative=_words(
            "created updated modified timestamp release released version copyright "
            "published expires expiry expiration build since until changelog"
        ),
        validate=_date_ok,
        boost=0.55,
        why="date of birth, admission, discharge, service or death",
    ),
    Spec(
        "age-over-89",
        "AGE_OVER_89",
        (
            (r"(?i:a(?<![\w-]a)ge[ds]?[\"']?[ ]*[:=]?[ ]*)(?P<v>9\d|1[01]\d)(?![\w.])", 0.6),
            (
                r"(?P<v>" + _first("9", r"[\w.]") + r"\d|" + _first("1", r"[\w.]") + r"[01]\d)"
                r"(?i:[ -]?(?:years?[ -]old|yo\b|y/o|y\.o\.|yr[ -]old))",
                0.6,
            ),
            (
                r"(?P<v>"
                + _first("9", r"[\w.]")
                + r"\d|"
                + _first("1", r"[\w.]")
                + r"[01]\d)(?![\w.])",
                0.01,
            ),
        ),
        context=_words("age patientage ageyears ageatdeath"),
        negative=_words("max min cache maxage ttl seconds days hours timeout limit expire percent"),
        boost=0.55,
        why="age over 89",
    ),
    Spec(
        "mrn",
        "MRN",
        ((r"(?<![\w-])(?P<v>[A-Z]{0,4}-?\d{4,12}[A-Z]?)(?![\w-])", 0.02),),
        context=_words(
            "mrn medicalrecord medicalrecordnumber chart chartnumber chartno patientid "
            "patientidentifier patientnumber patientno recordnumber mr mrnumber hospitalnumber "
            "umrn empi mpi pid2 pid3 pid4 patientidentifiermrn"
        ),
        weak=_words("identifier id value"),
        negative=_words("version port phone npi ssn account zip"),
        validate=_digits_in(4),
        boost=0.55,
        why="medical record number field",
    ),
    Spec(
        "health-plan-id",
        "HEALTH_PLAN_ID",
        ((r"(?<![\w-])(?P<v>[A-Z]{0,4}-?\d{6,14}(?:-?\d{2})?[A-Z]?)(?![\w-])", 0.02),),
        context=_words(
            "memberid membernumber member subscriber subscriberid policynumber policyid "
            "insuranceid insurancenumber planid healthplan medicaid medicaidid beneficiaryid "
            "groupnumber insuredid insuredmemberid policymemberid hicn payerid"
        ),
        validate=_digits_in(6),
        boost=0.55,
        why="health plan member/subscriber number field",
    ),
    Spec(
        "mbi",
        "MBI",
        (
            (
                r"(?P<v>[1-9](?<![A-Za-z0-9-][1-9])[A-Z][A-Z0-9]\d-[A-Z][A-Z0-9]\d-[A-Z]{2}\d\d)"
                r"(?![A-Za-z0-9-])",
                0.6,
            ),
            (
                r"(?P<v>"
                + _first("[1-9]", "[A-Za-z0-9]")
                + r"[A-Z][A-Z0-9]\d[A-Z][A-Z0-9]\d[A-Z]{2}\d\d)"
                r"(?![A-Za-z0-9])",
                0.45,
            ),
        ),
        context=_words("mbi medicare beneficiary hicn medicareid medicarenumber"),
        validate=v.mbi_ok,
        boost=0.4,
        why="Medicare Beneficiary Identifier character classes",
    ),
    Spec(
        "card-or-account",
        "ACCOUNT_NUMBER",
        (
            (  # grouped like a card: 4-4-4-4 or 4-6-5, with spaces or dashes
                r"(?P<v>\d(?<![\w.-]\d)"  # a first digit, not inside a word or number
                r"(?:\d{3}(?:[ -]\d{4}){2}[ -]\d{1,7}|\d{3}[ -]\d{6}[ -]\d{5}))(?![\w-]|\.\d)",
                0.55,
            ),
            (  # one run of digits passes the Luhn test one time in ten: it needs a card key
                r"(?P<v>\d(?<![\w.-]\d)\d{12,18})(?![\w-]|\.\d)",
                0.3,
            ),
        ),
        context=_words("card creditcard cardnumber cc ccnumber pan payment"),
        negative=_words("phone npi ssn id uuid order timestamp"),
        validate=v.card_ok,
        boost=0.4,
        why="payment card number with a valid Luhn check",
    ),
    Spec(
        "account-number",
        "ACCOUNT_NUMBER",
        ((r"(?<![\w-])(?P<v>[A-Z]{0,3}-?\d{6,17})(?![\w-])", 0.02),),
        context=_words(
            "account accountnumber acct acctno accountno billing billingaccount bankaccount "
            "patientaccount patientaccountnumber visitaccountnumber fin finnumber encounterno"
        ),
        validate=_digits_in(6),
        boost=0.55,
        why="account number field",
    ),
    Spec(
        "license-number",
        "LICENSE_NUMBER",
        ((r"(?<![\w-])(?P<v>[A-Z]{0,2}\d{5,12}|[A-Z]\d{3}-\d{3}-\d{2}-\d{3}-\d)(?![\w-])", 0.02),),
        context=_words(
            "license licence licensenumber licenseno dl driver drivers driverslicense dln "
            "medicallicense statelicense licenceno certificate certificatenumber"
        ),
        negative=_words(
            "software mit apache bsd gpl spdx key product serial doi http https www org com"
        ),
        validate=_digits_in(5),
        boost=0.55,
        why="licence/certificate number field",
    ),
    Spec(
        "dea",
        "DEA",
        ((r"(?P<v>" + _first("[A-Z]", r"[\w-]") + r"[A-Z9]\d{7})(?![\w-])", 0.45),),
        context=_words("dea deanumber prescriber registration dearegistration"),
        validate=v.dea_ok,
        boost=0.4,
        why="DEA registration check digit",
    ),
    Spec(
        "vin",
        "VIN",
        ((r"(?P<v>" + _first(_VIN, "[A-Za-z0-9]") + _VIN + r"{16})(?![A-Za-z0-9])", 0.45),),
        context=_words("vin vehicle car auto automobile vehicleid vinnumber truck motorcycle"),
        validate=v.vin_ok,
        boost=0.4,
        why="VIN check digit",
    ),
    Spec(
        "gs1-udi",
        "DEVICE_ID",
        (
            (r"(?P<v>\(01\)\d{14}(?:\((?:10|11|17|21)\)[A-Za-z0-9-]{1,20})*)", 0.7),
            (
                r"(?P<v>"
                + _first("0", r"\w")
                + r"1\d{14}(?:(?:11|17)\d{6}|(?:10|21)[A-Z0-9-]{1,20}){1,3})(?![\w])",
                0.1,
            ),
        ),
        context=_words("udi device deviceid implant pacemaker pump devicei udicarrier"),
        validate=lambda text: v.gtin_ok(re.sub(r"^\(?01\)?", "", text)[:14]),
        boost=0.45,
        why="GS1 UDI with a valid GTIN check digit",
    ),
    Spec(
        "device-serial",
        "DEVICE_ID",
        (
            (
                r"(?P<v>" + _first("[A-Z0-9]", r"[\w-]") + r"[A-Z0-9]+-?[A-Z0-9]{3,20})(?![\w-])",
                0.02,
            ),
        ),
        context=_words(
            "serial serialnumber sn udi deviceid deviceserial implantserial "
            "pacemakerserial pumpserial deviceidentifier"
        ),
        negative=_words("version build key token"),
        validate=lambda text: _serial_shaped(text) and _digits_in(3)(text),
        boost=0.55,
        why="device serial number field",
    ),
    Spec(
        "identifying-url",
        "URL",
        ((r"(?P<v>https?://[^\s\"'<>`)\]]+)", 0.6),),
        validate=_url_ok,
        why="URL that carries a patient identifier",
    ),
    Spec(
        "public-ip",
        "IP_ADDRESS",
        (
            (
                r"(?P<v>" + _first(r"\d", r"[\w.]") + r"\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3})(?![\w.])",
                0.3,
            ),
        ),
        context=_words(
            "ip ipaddress ipaddr client clientip remote remoteaddr remoteip src source sourceip "
            "from addr patient user login origin xforwardedfor forwarded visitor peer"
        ),
        negative=_words(
            "version ver release build dns nameserver resolver gateway netmask "
            "subnet mask route cidr"
        ),
        validate=v.public_ip_ok,
        boost=0.4,
        why="public IP address of a person's device",
    ),
    Spec(
        "npi",
        "NPI",
        ((r"(?P<v>" + _first("[12]", r"[\w-]") + r"\d{9})(?![\w-])", 0.3),),
        context=_words(
            "npi provider prescriber physician attending referring ordering admitting pcp "
            "practitioner nppes doctor clinician rendering npinumber attendingnpi"
        ),
        validate=v.npi_ok,
        boost=0.5,
        why="NPI Luhn check with the 80840 prefix",
    ),
    Spec(
        "icd10",
        "ICD10",
        (
            (
                r"(?P<v>"
                + _first("[A-TV-Z]", r"[\w.]")
                + r"\d[0-9AB](?:\.[0-9A-Z]{1,4})?)(?![\w.])",
                0.02,
            ),
        ),
        context=_words(
            "icd icd10 icd10cm diagnosis diagnoses dx diag condition problem dg13 "
            "diagnosiscode diagnosisicd admitdx"
        ),
        boost=0.55,
        severity="warning",
        why="ICD-10 diagnosis code next to patient data",
    ),
)


def score_in_context(
    spec: Spec, base: float, line: LineContext, start: int, extra: Iterable[str] = ()
) -> tuple[float, str | None]:
    """(score, supporting word) of a match starting at line[start] given what surrounds it;
    the supporting word is the alphabetically first one, so explanations are stable."""
    key = line.key_at(start)
    if key is None and spec.field_only:
        return base, None
    words = set(key) if key is not None else set(line.words_before(start))
    words.update(extra)
    if spec.negative and (spec.negative & words or spec.negative & line.parents):
        return 0.0, None
    if spec.negative_in_line and spec.negative & line.subject:
        return 0.0, None
    word = min(words & spec.context, default=None)
    if word is None and key is not None and spec.weak and line.subject & SUBJECT_WORDS:
        word = min(words & spec.weak, default=None)
    if word is None:
        return base, None
    return min(1.0, base + spec.boost), word


Match = tuple[re.Pattern[str], int, int, float]  # (pattern, start, end, base score) in a chunk


def _supported_lines(spec: Spec, chunk: Chunk, holding: list[int] | None) -> list[int]:
    """Indices of the chunk's lines where a match of `spec` could find a supporting word (the
    key of its field and the words before it are all among the line's words)."""
    index = chunk.word_lines
    found: set[int] = set()
    for word in spec.context:
        found.update(index.get(word, ()))
    for word in spec.weak:
        found.update(
            i
            for i in index.get(word, ())
            if not SUBJECT_WORDS.isdisjoint(chunk.contexts[i].subject)
        )
    if spec.negative:  # a negative enclosing key makes every match on the line score 0
        found = {i for i in found if spec.negative.isdisjoint(chunk.contexts[i].parents)}
    return sorted(found if holding is None else found.intersection(holding))


def find(spec: Spec, chunk: Chunk, threshold: float) -> Iterator[Match]:
    """Validated matches of `spec` in `chunk` that can reach `threshold`. Patterns that pass
    alone run over the whole chunk (or the lines holding `spec.needs`); weak ones only on the
    lines that could support them."""
    holding = chunk.lines_holding(spec.needs) if spec.needs else None
    supported: list[int] | None = None
    seen: dict[str, bool] = {}
    for regex, score, group in spec.compiled:
        if score >= threshold:
            lines = holding
        elif score + spec.boost >= threshold:
            if supported is None:
                supported = _supported_lines(spec, chunk, holding)
            lines = supported
        else:
            continue
        for match in _search(regex, chunk, lines):
            if spec.validate is not None and not _valid(spec.validate, match.group(group), seen):
                continue
            start, end = match.span(group)
            if score >= threshold or chunk_score(spec, chunk, start, score)[0] >= threshold:
                yield regex, start, end, score


def _valid(validate: Validator, value: str, seen: dict[str, bool]) -> bool:
    """`validate(value)`, once per distinct value of a chunk (records repeat their values)."""
    if value not in seen:
        seen[value] = validate(value)
    return seen[value]


def chunk_score(spec: Spec, chunk: Chunk, start: int, base: float) -> tuple[float, str | None]:
    """`score_in_context` of the match of `spec` at `start` in `chunk`, computed once: the
    search, the threshold test and the context enhancer all ask for it."""
    key = (spec.name, start, base)
    if key not in chunk.scores:
        line, column = chunk.locate(start)
        chunk.scores[key] = score_in_context(spec, base, line, column)
    return chunk.scores[key]


WHOLE_CHUNK_CHARS = 100  # a search per line costs about as much as scanning this many chars


@cache
def _within_lines(pattern: str) -> bool:
    """Can no match of `pattern` span a newline? (No class of ours that could match one.)"""
    return not any(token in pattern for token in ("\\s", "\\S", "\\W", "\\D", "[^", "(?s"))


def _search(
    regex: re.Pattern[str], chunk: Chunk, lines: list[int] | None
) -> Iterator[re.Match[str]]:
    """Matches in the whole chunk (`lines` None) or in the given lines only. When those lines
    are many, one pass over the chunk and a filter cost less than a search per line."""
    if lines is None:
        yield from regex.finditer(chunk.text)
        return
    if len(lines) * WHOLE_CHUNK_CHARS >= len(chunk.text) and _within_lines(regex.pattern):
        wanted, starts = set(lines), chunk.starts
        for match in regex.finditer(chunk.text):
            if bisect_right(starts, match.start()) - 1 in wanted:
                yield match
        return
    for index in lines:
        offset = chunk.starts[index]
        yield from regex.finditer(chunk.text, offset, offset + len(chunk.contexts[index].text))


def any_passing(chunk: Chunk, threshold: float, entities: Collection[str] = ()) -> bool:
    """Does any rule reach `threshold` somewhere in `chunk`? Stops at the first that does."""
    for spec in SPECS:
        if entities and spec.entity not in entities:
            continue
        for _, start, _, score in find(spec, chunk, threshold):
            if chunk_score(spec, chunk, start, score)[0] >= threshold:
                return True
    return False
