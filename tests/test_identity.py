"""Ecuadorian RUC and cédula validation: the contract's data (admin-api.md §6.1), and the
gaps gpubroker closes on top of python-stdnum."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.ec import ci, ruc

from gpubroker.errors import EXIT_REFUSED, UsageError
from gpubroker.identity import (
    IdentityKind,
    InvalidIdentityError,
    _cedula_check_digit,
    _mod11_check_digit,
    check_cedula,
    check_identity,
    check_ruc,
    is_valid_cedula,
    is_valid_ruc,
    validate_identity,
)


def cedula(first9: str) -> str:
    """A cédula with the right check digit after ``first9``."""
    return first9 + str(_cedula_check_digit(first9))


# --- the contract's data (§6.1) -------------------------------------------------------------


def test_upstream_test_data_is_valid() -> None:
    assert is_valid_ruc("1790869571001")
    assert is_valid_cedula("1713488185")
    company = validate_identity("1790869571001")
    assert company.kind is IdentityKind.RUC and company.entity == "private company or foreigner"
    assert company.province == "Pichincha" and company.establishment == "001"
    person = validate_identity("1713488185")
    assert person.kind is IdentityKind.CEDULA and person.entity == "natural person"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        # The backend accepts both (it checks only length and province).
        ("0100000000000", "its first ten digits are not a valid cédula: check digit 0 does not"
         " match (expected 9)"),
        ("2499999999999", "check digit 9 does not match (expected 5)"),
    ],
)  # fmt: skip
def test_what_the_backend_accepts_is_refused_with_the_reason(number: str, reason: str) -> None:
    assert not is_valid_ruc(number)
    with pytest.raises(InvalidIdentityError) as caught:
        validate_identity(number)
    assert caught.value.exit_code == EXIT_REFUSED
    assert caught.value.message == f"invalid RUC {number}: {reason}"
    assert caught.value.check.reason == reason


# --- where stdnum is more lenient than the rules --------------------------------------------


def test_province_50_is_refused_although_stdnum_accepts_it() -> None:
    number = cedula("501348818")
    assert ci.is_valid(number)
    check = check_cedula(number)
    assert not check.valid and check.reason == "province code 50 does not exist (01–24 or 30)"


def test_province_30_registered_abroad_is_accepted() -> None:
    number = cedula("301348818")
    check = check_cedula(number)
    assert check.valid and check.province == "registered abroad"
    assert is_valid_ruc(number + "001")


@pytest.mark.parametrize("province", ["00", "25", "29", "31", "99"])
def test_provinces_outside_the_list_are_refused(province: str) -> None:
    assert not is_valid_cedula(cedula(province + "1348818"))


def test_cedula_third_digit_6_is_refused_although_stdnum_accepts_it() -> None:
    number = cedula("176348818")
    assert ci.is_valid(number)
    check = check_cedula(number)
    assert not check.valid and check.reason == "third digit 6 is not used for a cédula (0–5)"


def test_ruc_third_digit_6_is_a_public_entity_not_a_natural_person() -> None:
    # stdnum falls back to the natural-person rule with a third digit of 6.
    assert ruc.is_valid("0962467429001")
    check = check_ruc("0962467429001")
    assert not check.valid and check.entity == "public entity"
    assert check.reason == "check digit 2 does not match (expected 9)"


def test_public_entity_ruc() -> None:
    check = check_ruc("1760001550001")
    assert check.valid and check.entity == "public entity" and check.establishment == "0001"
    zero = check_ruc("1760001550000")
    assert not zero.valid
    assert zero.reason == "establishment number 0000 is not valid (0001 or more)"


def test_natural_person_ruc_is_a_cedula_plus_establishment() -> None:
    assert check_ruc("1713488185001").entity == "natural person"
    assert is_valid_ruc("1713488185002")
    assert check_ruc("1713488185000").reason == (
        "establishment number 000 is not valid (001 or more)"
    )
    assert not is_valid_ruc("1713488184001")


@pytest.mark.parametrize("third", ["7", "8"])
def test_third_digits_7_and_8_are_not_used(third: str) -> None:
    check = check_ruc(f"17{third}0869571001")
    assert not check.valid and check.reason and check.reason.startswith(f"third digit {third}")


def test_company_ruc_with_the_public_check_digit_is_accepted_like_stdnum() -> None:
    # A registry-verified RUC (python-stdnum #457): third digit 9, public-entity check digit.
    check = check_ruc("1793221293001")
    assert check.valid and check.entity == "public entity"


def test_private_company_establishment_000_is_refused() -> None:
    check = check_ruc("1790869571000")
    assert not check.valid and "establishment number 000" in (check.reason or "")


def test_mod11_remainder_1_has_no_valid_check_digit() -> None:
    private, public = (4, 3, 2, 7, 6, 5, 4, 3, 2), (3, 2, 7, 6, 5, 4, 3, 2)
    prefix = next(
        p
        for p in ("179" + "".join(rest) for rest in itertools.product("0123456789", repeat=6))
        if _mod11_check_digit(p, private) is None and str(_mod11_check_digit(p[:8], public)) != p[8]
    )
    for digit in "0123456789":
        check = check_ruc(f"{prefix}{digit}001")
        assert not check.valid
        assert check.reason == "no check digit can be valid for digits 1–9 (mod 11 gives 10)"


def test_lenient_accepts_a_company_ruc_without_a_check_digit() -> None:
    # SRI-registered company RUCs issued without a computable check digit (stdnum #497).
    strict = check_ruc("1793213150001")
    assert not strict.valid
    with pytest.raises(InvalidIdentityError) as caught:
        strict.raise_if_invalid()
    assert "--lenient" in (caught.value.hint or "")
    lenient = check_ruc("1793213150001", lenient=True)
    assert lenient.valid and lenient.warning and "check digit" in lenient.warning
    # Lenience is only for the check digit of company RUCs.
    assert not check_ruc("2500000000001", lenient=True).valid
    assert not check_ruc("1713488184001", lenient=True).valid


# --- input handling ---------------------------------------------------------------------------


def test_separators_are_ignored_and_length_picks_the_kind() -> None:
    assert validate_identity(" 17-1348818-5 ").value == "1713488185"
    assert validate_identity("1790869571-001").kind is IdentityKind.RUC
    assert check_identity("12345").reason == "enter a RUC (13 digits) or a cédula (10 digits)"
    assert check_ruc("1713488185").reason == "a RUC has 13 digits, not 10"
    assert check_cedula("").reason == "empty cédula"


@pytest.mark.parametrize(
    "hostile",
    [
        "1713488185\x1b[31m",
        "17134\u202e88185",
        "١٧١٣٤٨٨١٨٥",
        "[bold]1713488185[/bold]",
        "NaN",
        "Infinity",
        "17134881850" * 1000,
    ],
)
def test_hostile_input_is_refused_and_never_echoed_raw(hostile: str) -> None:
    check = check_identity(hostile)
    assert not check.valid
    assert "\x1b" not in check.value and "\u202e" not in check.value
    assert len(check.value) <= 40
    assert "\x1b" not in (check.reason or "")


def test_kind_is_checked() -> None:
    assert check_identity("1713488185", "cédula").valid
    assert not check_identity("1713488185", "ruc").valid
    with pytest.raises(UsageError):
        check_identity("1713488185", "passport")


@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_a_valid_cedula_is_valid_for_stdnum_too(number: str) -> None:
    if is_valid_cedula(number):
        assert ci.is_valid(number)
    elif ci.is_valid(number):  # stdnum's leniency, exactly
        assert number[:2] == "50" or number[2] == "6"


@given(st.text(alphabet="0123456789", min_size=13, max_size=13))
def test_a_valid_ruc_is_valid_for_stdnum_too(number: str) -> None:
    if is_valid_ruc(number):
        assert ruc.is_valid(number)


@given(st.from_regex(r"\A(0[1-9]|1[0-9]|2[0-4]|30)[0-5][0-9]{6}\Z"))
def test_every_well_formed_cedula_prefix_has_exactly_one_check_digit(first9: str) -> None:
    valid = [d for d in "0123456789" if is_valid_cedula(first9 + d)]
    assert valid == [str(_cedula_check_digit(first9))]
