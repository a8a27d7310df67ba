"""Check digits and validity rules, on published examples and generated values."""

from __future__ import annotations

import random

import pytest

from gitops_health.rules.phi import validators as v
from gitops_health.rules.phi.corpus import Identities


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (
            v.ssn_ok,
            ["412-33-9821", "001-01-0001"],
            [
                "000-12-3456",
                "666-12-3456",
                "912-34-5678",
                "123-00-4567",
                "123-45-0000",
                "078-05-1120",
                "219-09-9999",
                "123-45-6789",
            ],
        ),
        (v.npi_ok, ["1003485004"], ["1234567893", "1245319599", "1003485005", "3003485004"]),
        (v.dea_ok, ["BJ6125341"], ["BJ6125342", "AB1234563", "IJ6125341"]),
        (v.mbi_ok, ["1EG4TE5MK74", "9YF6UD7JW64"], ["1EG4-TE5-MK73", "0EG4TE5MK74", "1SG4TE5MK74"]),
        (v.vin_ok, ["1HGCM82633A004352"], ["1HGCM82643A004352", "1M8GDM9AXKP042788"]),
        (v.gtin_ok, ["00884838035478", "4006381333931"], ["4006381333932"]),
        (
            v.card_ok,
            ["4539578763621486"],
            ["4111111111111111", "4539578763621487", "1234567812345670"],
        ),
        (
            v.nanp_ok,
            ["(912) 457-4702", "+1 217-468-2368"],
            ["(312) 555-0142", "(911) 457-4702", "(112) 457-4702", "(800) 457-4702"],
        ),
        (v.public_ip_ok, ["73.12.45.6"], ["10.2.14.3", "192.0.2.7", "127.0.0.1", "8.8.8.8", "::"]),
    ],
)
def test_validators_accept_real_shapes_and_reject_fakes(check, good, bad) -> None:
    assert all(check(value) for value in good), good
    assert not any(check(value) for value in bad), bad


def test_generated_identifiers_carry_valid_check_digits() -> None:
    ids = Identities(random.Random(7))
    for _ in range(50):
        assert v.ssn_ok(ids.ssn()) and v.npi_ok(ids.npi()) and v.mbi_ok(ids.mbi())
        assert v.vin_ok(ids.vin()) and v.gtin_ok(ids.gtin14()) and v.card_ok(ids.card())
        assert v.dea_ok(ids.dea("Garcia")) and v.nanp_ok(ids.phone())


def test_dates_must_be_real_and_past() -> None:
    assert v.date_ok(1961, 4, 12)
    assert not v.date_ok(1961, 2, 30)
    assert not v.date_ok(2999, 1, 1)
    assert not v.date_ok(1850, 1, 1)
