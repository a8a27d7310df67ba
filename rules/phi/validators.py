"""Check digits and validity rules of the identifiers we detect (stdlib only).

Every function takes the matched text and says whether it can be a real identifier; the
published examples and test values that documentation uses are rejected here as well.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date
from itertools import pairwise

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")


def digits_of(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def compact(text: str) -> str:
    return _NON_ALNUM.sub("", text).upper()


def luhn_ok(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _repetitive(number: str) -> bool:
    return len(set(number)) == 1 or number in "01234567890123456789" or number in "9876543210"


ADVERTISING_SSNS = frozenset({"078051120", "219099999", "123456789", "987654320"})


def ssn_ok(text: str) -> bool:
    """Area 001-899 except 666, group 01-99, serial 0001-9999; not an advertising SSN."""
    number = digits_of(text)
    if len(number) != 9 or number in ADVERTISING_SSNS or _repetitive(number):
        return False
    area, group, serial = int(number[:3]), int(number[3:5]), int(number[5:])
    if area == 0 or area == 666 or area >= 900:
        return False
    if 987654320 <= int(number) <= 987654329:  # reserved for advertisements
        return False
    return group != 0 and serial != 0


SAMPLE_NPIS = frozenset({"1234567893", "1245319599"})


def npi_ok(text: str) -> bool:
    """10 digits starting 1 or 2, Luhn over the `80840` card-issuer prefix."""
    number = digits_of(text)
    if len(number) != 10 or number[0] not in "12" or number in SAMPLE_NPIS:
        return False
    return not _repetitive(number) and luhn_ok("80840" + number)


SAMPLE_DEAS = frozenset({"AB1234563", "BB1388568", "AA1234563"})
_DEA = re.compile(r"[ABCDEFGHJKLMPRSTUX][A-Z9]\d{7}")


def dea_ok(text: str) -> bool:
    """(d1 + d3 + d5 + 2 * (d2 + d4 + d6)) mod 10 equals the last digit."""
    value = compact(text)
    if not _DEA.fullmatch(value) or value in SAMPLE_DEAS:
        return False
    d = [int(c) for c in value[2:]]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]


_MBI_LETTER = "ACDEFGHJKMNPQRTUVWXY"
_MBI_CLASSES = ("N", "A", "X", "D", "A", "X", "D", "A", "A", "D", "D")  # CMS MBI positions
SAMPLE_MBIS = frozenset({"1EG4TE5MK73", "1EG4TE5MK72"})


def mbi_ok(text: str) -> bool:
    """Medicare Beneficiary Identifier character classes (no S, L, O, I, B, Z)."""
    value = compact(text)
    if len(value) != 11 or value in SAMPLE_MBIS:
        return False
    for char, klass in zip(value, _MBI_CLASSES, strict=True):
        if klass == "N" and char not in "123456789":
            return False
        if klass == "D" and not char.isdigit():
            return False
        if klass == "A" and char not in _MBI_LETTER:
            return False
        if klass == "X" and not (char.isdigit() or char in _MBI_LETTER):
            return False
    return True


_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
SAMPLE_VINS = frozenset({"11111111111111111", "1M8GDM9AXKP042788"})


def vin_ok(text: str) -> bool:
    """17 characters without I, O, Q; position 9 is the mod-11 check digit (10 = X)."""
    value = text.upper()
    if len(value) != 17 or value in SAMPLE_VINS or any(c not in _VIN_VALUES for c in value):
        return False
    if sum(c.isdigit() for c in value) < 5 or sum(c.isalpha() for c in value) < 2:
        return False
    total = sum(_VIN_VALUES[c] * w for c, w in zip(value, _VIN_WEIGHTS, strict=True))
    check = total % 11
    return value[8] == ("X" if check == 10 else str(check))


def gtin_ok(text: str) -> bool:
    """GS1 mod-10: weights 3,1,3,... from the right, excluding the check digit."""
    number = digits_of(text)
    if len(number) not in (8, 12, 13, 14) or _repetitive(number):
        return False
    body, check = number[:-1], int(number[-1])
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


TEST_CARDS = frozenset({
    "4111111111111111", "4242424242424242", "4012888888881881", "4000056655665556",
    "4222222222222", "4000000000000002", "4000000000000077", "4000000000003220",
    "5555555555554444", "5105105105105100", "5200828282828210", "2223003122003222",
    "378282246310005", "371449635398431", "378734493671000", "6011111111111117",
    "6011000990139424", "3530111333300000", "3566002020360505", "30569309025904",
    "38520000023237", "6200000000000005", "4000002500003155", "4000000760000002",
    "5454545454545454", "4917610000000000", "4462030000000000", "4035501000000008",
})  # fmt: skip
_CARD_PREFIX = re.compile(r"4|5[1-5]|2[2-7]|3[47]|6(?:011|5)|3(?:5|0[0-5]|6|8)")


def card_ok(text: str) -> bool:
    """13-19 digits with a known issuer prefix and a Luhn check; published test cards fail."""
    number = digits_of(text)
    if not 13 <= len(number) <= 19 or number in TEST_CARDS or _repetitive(number):
        return False
    return bool(_CARD_PREFIX.match(number)) and luhn_ok(number)


def nanp_ok(text: str) -> bool:
    """NANP: area code and exchange start 2-9, neither is N11; 555 numbers are fiction."""
    number = digits_of(text)
    if len(number) == 11 and number[0] == "1":
        number = number[1:]
    if len(number) != 10:
        return False
    area, exchange = number[:3], number[3:6]
    if area[0] in "01" or exchange[0] in "01" or area[1:] == "11" or exchange[1:] == "11":
        return False
    if area[1] == "9" or area in {"555", "800", "888", "877", "866", "855", "844", "833"}:
        return False  # unassigned 9x area codes, directory and toll-free numbers
    if exchange == "555":  # 555-0100..0199 are fiction by rule, the rest by habit in code
        return False
    return not _repetitive(number)


def date_ok(year: int, month: int, day: int, *, today: date | None = None) -> bool:
    """A calendar date within the last 125 years and not in the future."""
    today = today or date.today()
    try:
        value = date(year, month, day)
    except ValueError:
        return False
    return today.year - 125 <= value.year and value <= today


_DOC_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)


PUBLIC_SERVICE_IPS = frozenset({
    "8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "149.112.112.112", "208.67.222.222",
    "208.67.220.220", "4.2.2.2", "4.2.2.1", "64.6.64.6", "64.6.65.6",
})  # fmt: skip


def _placeholder_ip(text: str) -> bool:
    """`1.2.3.4`, `4.3.2.1`, `8.8.8.8`-like: octets all equal or counting up or down by one."""
    octets = [int(o) for o in text.split(".")] if text.count(".") == 3 else []
    steps = {b - a for a, b in pairwise(octets)}
    return len(octets) == 4 and len(steps) == 1 and steps <= {-1, 0, 1}


def public_ip_ok(text: str) -> bool:
    """A global unicast address, not documentation, private, loopback, reserved, DNS or an
    obvious placeholder."""
    if text in PUBLIC_SERVICE_IPS or _placeholder_ip(text):
        return False
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    if any(address in net for net in _DOC_NETWORKS if net.version == address.version):
        return False
    return address.is_global and not address.is_multicast
