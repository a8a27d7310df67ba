"""Our Presidio recognizers and the structure-based context enhancer.

Each recognizer is a regular expression, an optional check-digit validator, a base score and
the context words that raise it. Identifiers with a strong shape (dashed SSN, card with Luhn,
MBI, UDI) pass the threshold alone; everything shapeless (names, MRNs, member ids, dates)
only passes when the key, column, HL7 field or preceding words say what the value is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field

from presidio_analyzer import (
    AnalysisExplanation,
    EntityRecognizer,
    LocalRecognizer,
    RecognizerResult,
)
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts

from gitops_health.rules.phi import validators as v
from gitops_health.rules.phi.structure import Chunk, LineContext

CURRENT_CHUNK: ContextVar[Chunk | None] = ContextVar("phi_chunk", default=None)
CURRENT_THRESHOLD: ContextVar[float] = ContextVar("phi_threshold", default=0.0)

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
    field_only: bool = False  # only a key says what the value is, never the words before it
    boost: float = 0.5
    severity: str = "error"
    why: str = ""
    compiled: tuple[tuple[re.Pattern[str], float], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        compiled = tuple((re.compile(rx), score) for rx, score in self.patterns)
        object.__setattr__(self, "compiled", compiled)


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
        "admin",
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


def person_ok(text: str) -> bool:
    parts = [p for p in re.split(r"[\s^,]+", text.strip()) if p]
    words = [p.strip(".").lower() for p in parts]
    if not words or " ".join(words) in FAKE_NAMES or " ".join(words[:2]) in FAKE_NAMES:
        return False
    if words[0] in _NAME_STOP or words[-1] in _NAME_STOP or all(w in _NAME_STOP for w in words):
        return False
    return len(text) <= 60


def _digits_in(minimum: int) -> Validator:
    return lambda text: sum(c.isdigit() for c in text) >= minimum and not text.isalpha()


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
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    month_name = re.search(r"[A-Za-z]{3,}", text)
    if month_name and not text.lower().startswith(("date", "localdate", "datetime", "new")):
        month = _MONTHS.get(month_name.group().lower()[:3])
        if month is None or len(numbers) < 2:
            return False
        day, year = (numbers[0], numbers[1]) if numbers[1] > 31 else (numbers[1], numbers[0])
        return v.date_ok(year, month, day)
    digits = re.sub(r"\D", "", text)
    if re.fullmatch(r"(?:19|20)\d{6}(?:\d{4,6})?", digits) and len(numbers) == 1:
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
_CAP = r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'’-]+"  # Latin-1 letters too: Zoë, Brontë, Muñoz
_NAME = _CAP + r"(?:[ ]+[A-Z]\.?)?(?:[ ]+(?:(?:van|de|del|von|da)[ ]+)?" + _CAP + r"){0,3}"
_ALNUM_END = r"(?![A-Za-z0-9])"
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
            (r"(?<![\d-])(?P<v>\d{3}-\d{2}-\d{4})(?![\d-])", 0.55),
            (r"(?<![\d-])(?P<v>\d{3}[ ]\d{2}[ ]\d{4})(?![\d-])", 0.1),
            (r"(?<![\w-])(?P<v>\d{9})(?![\w-])", 0.05),
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
                r"(?<![\w+])(?P<v>(?:\+?1[ .-]?)?\([2-9]\d\d\)[ ]?[2-9]\d\d[ .-]\d{4})"
                + _ALNUM_END,
                0.55,
            ),
            (r"(?<![\w+.-])(?P<v>\+1[ .-]?[2-9]\d\d[ .-][2-9]\d\d[ .-]\d{4})" + _ALNUM_END, 0.55),
            (r"(?<![\w+.-])(?P<v>[2-9]\d\d-[2-9]\d\d-\d{4})(?![\w-])", 0.5),
            (r"(?<![\w+.-])(?P<v>[2-9]\d\d[ .][2-9]\d\d[ .]\d{4})(?![\w.-])", 0.3),
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
            "maintained by original ported patch patches mailto changelog history"
        ),
        validate=_email_ok,
        negative_in_line=True,
        boost=0.4,
        why="e-mail address outside reserved domains",
    ),
    Spec(
        "person-field",
        "PERSON",
        (
            (r"(?<![\w’-])(?<![A-Za-z]['’])(?P<v>" + _NAME + r")(?![\w’-])(?!['’][A-Za-z])", 0.02),
            (
                r"(?<![\w’-])(?<![A-Za-z]['’])(?P<v>[A-Z][A-Za-z'’-]+,[ ]+"
                + _CAP
                + r")(?![\w’-])(?!['’][A-Za-z])",
                0.02,
            ),
            (
                r"(?<![\w^])(?P<v>[A-Z][A-Za-z'’-]+\^[A-Z][A-Za-z'’-]+(?:\^[A-Z][A-Za-z.'’-]*)?)",
                0.02,
            ),
            (
                r"(?<![\w’-])(?<![A-Za-z]['’])(?P<v>[A-Z][A-Z'’-]+(?:[ ]+[A-Z][A-Z'’-]+){0,2})"
                r"(?![\w’-])(?!['’][A-Za-z])",
                0.01,
            ),
        ),
        context=PERSON_KEYS,
        weak=_words(
            "name patient member subscriber insured contact guarantor kin person pt "
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
                r"(?i:\b(?:patient|pt\.?|resident|member)[ ]*:?[ ]+)"
                r"(?P<v>"
                + _CAP
                + r"(?:[ ]+[A-Z]\.?)?(?:[ ]+"
                + _CAP
                + r"){1,2})(?![\w’-])(?!['’][A-Za-z])",
                0.55,
            ),
            (
                r"\b(?:Mr|Mrs|Ms|Miss|Mx)\.?[ ]+(?P<v>"
                + _CAP
                + r"(?:[ ]+"
                + _CAP
                + r"){0,2})(?![\w’-])(?!['’][A-Za-z])",
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
        ((_STREET, 0.45), (r"(?<![\w-])(?P<v>\d{5}(?:-\d{4})?)(?![\w-])", 0.02)),
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
                r"(?<![\w’-])(?<![A-Za-z]['’])(?P<v>" + _CAP + r"(?:[ ]+" + _CAP + r"){0,2})"
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
            (r"(?<![\w-])(?P<v>(?:19|20)\d\d-[01]\d-[0-3]\d)(?![\d-])", 0.05),
            (r"(?<![\w/])(?P<v>[01]?\d/[0-3]?\d/(?:19|20)?\d\d)(?![\w/])", 0.05),
            (r"(?<![\w.])(?P<v>[0-3]?\d\.[01]?\d\.(?:19|20)\d\d)(?![\w.])", 0.02),
            (r"(?<![\w.])(?P<v>(?:19|20)\d\d[01]\d[0-3]\d(?:\d{4}(?:\d\d)?)?)(?![\w.])", 0.02),
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
            (r"(?i:(?<![\w-])age[ds]?[\"']?[ ]*[:=]?[ ]*)(?P<v>9\d|1[01]\d)(?![\w.])", 0.6),
            (
                r"(?<![\w.])(?P<v>9\d|1[01]\d)"
                r"(?i:[ -]?(?:years?[ -]old|yo\b|y/o|y\.o\.|yr[ -]old))",
                0.6,
            ),
            (r"(?<![\w.])(?P<v>9\d|1[01]\d)(?![\w.])", 0.01),
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
                r"(?<![A-Za-z0-9-])(?P<v>[1-9][A-Z][A-Z0-9]\d-[A-Z][A-Z0-9]\d-[A-Z]{2}\d\d)"
                r"(?![A-Za-z0-9-])",
                0.6,
            ),
            (
                r"(?<![A-Za-z0-9])(?P<v>[1-9][A-Z][A-Z0-9]\d[A-Z][A-Z0-9]\d[A-Z]{2}\d\d)"
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
            (
                r"(?<![\d-])(?P<v>\d{4}(?:[ -]?\d{4}){2}[ -]?\d{1,7}|\d{4}[ -]?\d{6}[ -]?\d{5})"
                r"(?![\d-])",
                0.55,
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
        negative=_words("software mit apache bsd gpl spdx key product serial"),
        validate=_digits_in(5),
        boost=0.55,
        why="licence/certificate number field",
    ),
    Spec(
        "dea",
        "DEA",
        ((r"(?<![\w-])(?P<v>[A-Z][A-Z9]\d{7})(?![\w-])", 0.45),),
        context=_words("dea deanumber prescriber registration dearegistration"),
        validate=v.dea_ok,
        boost=0.4,
        why="DEA registration check digit",
    ),
    Spec(
        "vin",
        "VIN",
        ((r"(?<![A-Za-z0-9])(?P<v>[A-HJ-NPR-Z0-9]{17})(?![A-Za-z0-9])", 0.45),),
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
                r"(?<![\w])(?P<v>01\d{14}(?:(?:11|17)\d{6}|(?:10|21)[A-Z0-9-]{1,20}){1,3})(?![\w])",
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
        ((r"(?<![\w-])(?P<v>[A-Z0-9]{2,}-?[A-Z0-9]{3,20})(?![\w-])", 0.02),),
        context=_words(
            "serial serialnumber sn udi deviceid deviceserial implantserial "
            "pacemakerserial pumpserial deviceidentifier"
        ),
        negative=_words("version build key token"),
        validate=_digits_in(3),
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
        ((r"(?<![\w.])(?P<v>(?:\d{1,3}\.){3}\d{1,3})(?![\w.])", 0.3),),
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
        ((r"(?<![\w-])(?P<v>[12]\d{9})(?![\w-])", 0.3),),
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
        ((r"(?<![\w.])(?P<v>[A-TV-Z]\d[0-9AB](?:\.[0-9A-Z]{1,4})?)(?![\w.])", 0.02),),
        context=_words(
            "icd icd10 icd10cm diagnosis diagnoses dx diag condition problem dg13 "
            "diagnosiscode diagnosisicd admitdx"
        ),
        boost=0.55,
        severity="warning",
        why="ICD-10 diagnosis code next to patient data",
    ),
)


class PhiRecognizer(LocalRecognizer):
    """A Presidio recognizer running one `Spec` (regex → validation → base score)."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        super().__init__(
            supported_entities=[spec.entity], name=spec.name, context=sorted(spec.context)
        )

    def load(self) -> None:
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: object = None
    ) -> list[RecognizerResult]:
        results = []
        chunk, threshold = CURRENT_CHUNK.get(), CURRENT_THRESHOLD.get()
        for regex, score in self.spec.compiled:
            for match in regex.finditer(text):
                group = "v" if "v" in regex.groupindex else 0
                value = match.group(group)
                if self.spec.validate is not None and not self.spec.validate(value):
                    continue
                start, end = match.span(group)
                if chunk is not None and not self._can_pass(chunk, start, score, threshold):
                    continue
                explanation = AnalysisExplanation(
                    recognizer=self.name,
                    original_score=score,
                    pattern_name=self.spec.why,
                    pattern=regex.pattern,
                    validation_result=self.spec.validate is not None,
                )
                results.append(RecognizerResult(
                    self.spec.entity, start, end, score, analysis_explanation=explanation,
                    recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                          RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id},
                ))  # fmt: skip
        return results

    def _can_pass(self, chunk: Chunk, start: int, score: float, threshold: float) -> bool:
        """Drop matches no context can lift over the threshold before Presidio sees them
        (on dense files most weak matches die here); the enhancer still sets the score."""
        if score >= threshold:
            return True
        if score + self.spec.boost < threshold:
            return False
        line, column = chunk.locate(start)
        return score_in_context(self.spec, score, line, column)[0] >= threshold


def _first(words: Iterable[str], wanted: frozenset[str]) -> str | None:
    return next((w for w in words if w in wanted), None)


class StructureContextEnhancer(ContextAwareEnhancer):
    """Raises scores from the value's key, column header, HL7 field or preceding words.

    Presidio's lemma enhancer needs a trained pipeline; ours reads the structure that
    `structure.line_context` extracted, so it works with a blank spaCy pipeline.
    """

    def __init__(self) -> None:
        super().__init__(
            context_similarity_factor=0.5,
            min_score_with_context_similarity=0.5,
            context_prefix_count=4,
            context_suffix_count=0,
        )

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts,
        recognizers: list[EntityRecognizer],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        chunk = CURRENT_CHUNK.get()
        specs = {r.name: r.spec for r in recognizers if isinstance(r, PhiRecognizer)}
        for result in raw_results:
            name = (result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY)
            spec = specs.get(name)
            if spec is None or chunk is None:
                continue
            line, column = chunk.locate(result.start)
            score, word = score_in_context(spec, result.score, line, column, context or ())
            if word and result.analysis_explanation is not None:
                result.analysis_explanation.set_supportive_context_word(word)
                result.analysis_explanation.set_improved_score(score)
            result.score = score
        return raw_results


def score_in_context(
    spec: Spec, base: float, line: LineContext, start: int, extra: Iterable[str] = ()
) -> tuple[float, str | None]:
    """(score, supporting word) of a match starting at line[start] given what surrounds it."""
    key = line.key_at(start)
    if key is None and spec.field_only:
        return base, None
    words = set(key) if key is not None else set(line.words_before(start))
    words.update(extra)
    if spec.negative and (spec.negative & words or spec.negative & line.parents):
        return 0.0, None
    if spec.negative_in_line and spec.negative & line.subject:
        return 0.0, None
    word = _first(sorted(words), spec.context)
    if word is None and key is not None and spec.weak and line.subject & SUBJECT_WORDS:
        word = _first(sorted(words), spec.weak)
    if word is None:
        return base, None
    return min(1.0, base + spec.boost), word
