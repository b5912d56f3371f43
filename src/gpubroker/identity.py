"""Ecuador tax identities: the RUC (13 digits) and the cédula (10 digits), checked locally.

The hosted API cannot validate them (its validation routes reject JSON bodies) and its own
rules are too lax (a RUC needs only 13 digits and a province; see admin-api.md §6.1), so
gpubroker checks them here before any request. python-stdnum (`stdnum.ec.ci`,
`stdnum.ec.ruc`) supplies the normalisation and has the last word; on top of it these rules
are applied, where stdnum is more lenient than the SRI rules the contract documents:

- province (first two digits) 01–24, or 30 for Ecuadorians registered abroad. stdnum also
  accepts 50, which no published rule defines.
- cédula: third digit 0–5 (stdnum accepts 6), mod-10 check digit (coefficients
  2,1,2,1,2,1,2,1,2; products over 9 less 9).
- RUC, by its third digit:

  * 0–5 natural person: the first ten digits are a valid cédula, establishment (last three)
    001 or more;
  * 6 public entity: mod-11 over digits 1–8 with weights 3,2,7,6,5,4,3,2, check digit 9,
    establishment (last four) 0001 or more. stdnum falls back to the natural-person rule
    with a third digit of 6, which the cédula rule above excludes;
  * 9 private company or foreigner without a cédula: mod-11 over digits 1–9 with weights
    4,3,2,7,6,5,4,3,2, check digit 10, establishment 001 or more. Like stdnum, a number
    that passes the public-entity check instead is accepted (the SRI has issued such RUCs);
  * 7 and 8 are not used.

  The mod-11 check digit is ``11 - (sum mod 11)``, where 11 means 0 and 10 cannot occur.

The SRI has issued some newer company RUCs (third digit 9) without a computable check digit.
Refusing them is the default; ``lenient=True`` accepts a third-digit-9 RUC whose only fault
is its check digit, and says so in `IdentityCheck.warning`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from gpubroker.errors import RefusedError


class IdentityKind(StrEnum):
    """The two Ecuadorian identity numbers."""

    RUC = "ruc"
    CEDULA = "cedula"


#: Province codes (first two digits); 30 = Ecuadorians registered abroad.
PROVINCES: dict[str, str] = {
    "01": "Azuay", "02": "Bolívar", "03": "Cañar", "04": "Carchi", "05": "Cotopaxi",
    "06": "Chimborazo", "07": "El Oro", "08": "Esmeraldas", "09": "Guayas", "10": "Imbabura",
    "11": "Loja", "12": "Los Ríos", "13": "Manabí", "14": "Morona Santiago", "15": "Napo",
    "16": "Pastaza", "17": "Pichincha", "18": "Tungurahua", "19": "Zamora Chinchipe",
    "20": "Galápagos", "21": "Sucumbíos", "22": "Orellana",
    "23": "Santo Domingo de los Tsáchilas", "24": "Santa Elena", "30": "registered abroad",
}  # fmt: skip

NATURAL = "natural person"
PUBLIC = "public entity"
PRIVATE = "private company or foreigner"

_CEDULA_COEFFICIENTS = (2, 1, 2, 1, 2, 1, 2, 1, 2)
_PUBLIC_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)
_PRIVATE_WEIGHTS = (4, 3, 2, 7, 6, 5, 4, 3, 2)
_MAX_SHOWN = 40


@dataclass(frozen=True, slots=True)
class IdentityCheck:
    """The outcome of checking one identity number; never raises by itself.

    Attributes:
        value: the number as checked (spaces and dashes removed), or the printable part
            of the input when it was not a number at all.
        kind: ``ruc`` or ``cedula`` (None when the length fits neither).
        valid: whether every rule passed.
        reason: why it is invalid (None when valid).
        entity: for a RUC, ``natural person``, ``public entity`` or
            ``private company or foreigner``; for a cédula, ``natural person``.
        province_code: the first two digits, when they form a known province.
        province: the province's name.
        establishment: a RUC's establishment number (its last three or four digits).
        warning: set when ``lenient`` accepted what strict rules would refuse.
    """

    value: str
    kind: IdentityKind | None
    valid: bool
    reason: str | None = None
    entity: str | None = None
    province_code: str | None = None
    province: str | None = None
    establishment: str | None = None
    warning: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value if self.kind else None
        return data

    def raise_if_invalid(self) -> IdentityCheck:
        """Return self when valid.

        Raises:
            InvalidIdentityError: the number is invalid (exit 6), with the reason.
        """
        if not self.valid:
            raise InvalidIdentityError(self)
        return self


class InvalidIdentityError(RefusedError):
    """An Ecuadorian RUC or cédula that fails validation (exit 6). Carries the check."""

    def __init__(self, check: IdentityCheck) -> None:
        self.check = check
        what = {IdentityKind.RUC: "RUC", IdentityKind.CEDULA: "cédula"}.get(
            check.kind,  # type: ignore[arg-type]
            "RUC or cédula",
        )
        hint = (
            "a RUC has 13 digits (province, type digit, check digit, establishment); a cédula"
            " has 10 (province, third digit 0–5, check digit)"
        )
        if check.entity == PRIVATE and "check digit" in (check.reason or ""):
            hint = (
                "if the SRI lists this company RUC, it may be one issued without a check"
                " digit: accept it with --lenient-tax-id (subscribe) or --lenient (validate)"
            )
        super().__init__(f"invalid {what} {check.value}: {check.reason}", hint=hint)


def _shown(raw: str) -> str:
    """The input as safe to print: control, format and bidi characters dropped, clipped."""
    kept = "".join(
        ch for ch in raw if ch.isprintable() and unicodedata.category(ch) not in ("Cf", "Cc")
    )
    return kept if len(kept) <= _MAX_SHOWN else kept[: _MAX_SHOWN - 1] + "…"


def _compact(raw: str) -> str:
    from stdnum.ec import ci

    return str(ci.compact(raw))


def _cedula_check_digit(first9: str) -> int:
    total = 0
    for coefficient, digit in zip(_CEDULA_COEFFICIENTS, first9, strict=True):
        product = coefficient * int(digit)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10


def _mod11_check_digit(digits: str, weights: tuple[int, ...]) -> int | None:
    """``11 - (sum mod 11)`` with 11 meaning 0; None when it would be 10 (no valid digit)."""
    check = 11 - sum(w * int(d) for w, d in zip(weights, digits, strict=True)) % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def _province(number: str) -> tuple[str | None, str | None]:
    code = number[:2]
    name = PROVINCES.get(code)
    return (code, name) if name else (None, None)


def _structure(raw: str, kind: IdentityKind, length: int) -> tuple[str, IdentityCheck | None]:
    """The compact number, or a failed check for the rules every number shares."""
    number = _compact(raw)
    label = "RUC" if kind is IdentityKind.RUC else "cédula"
    if not number:
        return number, IdentityCheck("", kind, False, f"empty {label}")
    if not number.isascii() or not number.isdigit():
        return number, IdentityCheck(_shown(number), kind, False, "must contain only digits")
    if len(number) != length:
        return number, IdentityCheck(
            number, kind, False, f"a {label} has {length} digits, not {len(number)}"
        )
    if number[:2] not in PROVINCES:
        return number, IdentityCheck(
            number, kind, False, f"province code {number[:2]} does not exist (01–24 or 30)"
        )
    return number, None


def _cedula_fault(number: str) -> str | None:
    """Why a 10-digit number with a valid province is not a cédula (None: it is)."""
    if number[2] > "5":
        return f"third digit {number[2]} is not used for a cédula (0–5)"
    expected = _cedula_check_digit(number[:9])
    if int(number[9]) != expected:
        return f"check digit {number[9]} does not match (expected {expected})"
    return None


def _stdnum_agrees(number: str, kind: IdentityKind) -> bool:
    from stdnum.ec import ci, ruc

    module = ruc if kind is IdentityKind.RUC else ci
    return bool(module.is_valid(number))


def check_cedula(value: str) -> IdentityCheck:
    """Check a cédula (10 digits); never raises. See the module doc for the rules."""
    number, failed = _structure(value, IdentityKind.CEDULA, 10)
    if failed:
        return failed
    code, name = _province(number)
    base = {"province_code": code, "province": name}
    fault = _cedula_fault(number)
    if fault is None and not _stdnum_agrees(number, IdentityKind.CEDULA):  # pragma: no cover
        fault = "rejected by python-stdnum"
    if fault:
        return IdentityCheck(number, IdentityKind.CEDULA, False, fault, **base)
    return IdentityCheck(number, IdentityKind.CEDULA, True, entity=NATURAL, **base)


def _ruc_fault(number: str) -> tuple[str, str | None, str]:
    """(entity, fault or None, establishment) of a 13-digit number with a valid province."""
    third = number[2]
    if third <= "5":
        establishment = number[10:]
        fault = _cedula_fault(number[:10])
        if fault:
            fault = f"its first ten digits are not a valid cédula: {fault}"
        elif establishment == "000":
            fault = "establishment number 000 is not valid (001 or more)"
        return NATURAL, fault, establishment
    if third == "6":
        establishment = number[9:]
        expected = _mod11_check_digit(number[:8], _PUBLIC_WEIGHTS)
        if expected is None:
            return PUBLIC, "no check digit can be valid for digits 1–8 (mod 11 gives 10)", ""
        if int(number[8]) != expected:
            return PUBLIC, f"check digit {number[8]} does not match (expected {expected})", ""
        if establishment == "0000":
            return PUBLIC, "establishment number 0000 is not valid (0001 or more)", establishment
        return PUBLIC, None, establishment
    if third == "9":
        establishment = number[10:]
        if establishment == "000":
            return PRIVATE, "establishment number 000 is not valid (001 or more)", establishment
        expected = _mod11_check_digit(number[:9], _PRIVATE_WEIGHTS)
        if expected is not None and int(number[9]) == expected:
            return PRIVATE, None, establishment
        public = _mod11_check_digit(number[:8], _PUBLIC_WEIGHTS)
        if public is not None and int(number[8]) == public and number[9:] != "0000":
            return PUBLIC, None, number[9:]
        if expected is None:
            return PRIVATE, "no check digit can be valid for digits 1–9 (mod 11 gives 10)", ""
        fault = f"check digit {number[9]} does not match (expected {expected})"
        return PRIVATE, fault, establishment
    return "", f"third digit {third} is not used (0–5 natural person, 6 public, 9 company)", ""


def check_ruc(value: str, *, lenient: bool = False) -> IdentityCheck:
    """Check a RUC (13 digits); never raises. See the module doc for the rules.

    Args:
        value: the RUC; spaces and dashes are ignored.
        lenient: accept a company RUC (third digit 9) whose only fault is its check digit.
    """
    number, failed = _structure(value, IdentityKind.RUC, 13)
    if failed:
        return failed
    code, name = _province(number)
    entity, fault, establishment = _ruc_fault(number)
    base: dict[str, Any] = {
        "province_code": code,
        "province": name,
        "entity": entity or None,
        "establishment": establishment or None,
    }
    if fault is None and not _stdnum_agrees(number, IdentityKind.RUC):  # pragma: no cover
        fault = "rejected by python-stdnum"
    if fault and lenient and entity == PRIVATE and "check digit" in fault:
        warning = f"accepted without a valid check digit ({fault})"
        return IdentityCheck(number, IdentityKind.RUC, True, warning=warning, **base)
    if fault:
        return IdentityCheck(number, IdentityKind.RUC, False, fault, **base)
    return IdentityCheck(number, IdentityKind.RUC, True, **base)


def check_identity(
    value: str, kind: IdentityKind | str | None = None, *, lenient: bool = False
) -> IdentityCheck:
    """Check a RUC or a cédula; with no ``kind`` the length decides (13 RUC, 10 cédula).

    Never raises for a bad number: the result says why. ``lenient`` as in `check_ruc`.

    Raises:
        UsageError: ``kind`` is neither ``ruc`` nor ``cedula``.
    """
    if kind is not None:
        try:
            kind = IdentityKind(str(kind).lower().replace("é", "e"))
        except ValueError:
            from gpubroker.errors import UsageError

            raise UsageError(f"kind must be ruc or cedula, not {kind!r}", param="kind") from None
    if kind is IdentityKind.RUC:
        return check_ruc(value, lenient=lenient)
    if kind is IdentityKind.CEDULA:
        return check_cedula(value)
    number = _compact(value)
    if len(number) == 13:
        return check_ruc(number, lenient=lenient)
    if len(number) == 10:
        return check_cedula(number)
    return IdentityCheck(
        _shown(number), None, False, "enter a RUC (13 digits) or a cédula (10 digits)"
    )


def validate_identity(
    value: str, kind: IdentityKind | str | None = None, *, lenient: bool = False
) -> IdentityCheck:
    """Check a RUC or a cédula and raise when it is invalid.

    Example:
        >>> validate_identity("1790869571001").entity
        'private company or foreigner'

    Raises:
        InvalidIdentityError: with the reason (exit 6).
    """
    return check_identity(value, kind, lenient=lenient).raise_if_invalid()


def is_valid_ruc(value: str) -> bool:
    """True when ``value`` is a valid RUC (strict rules, see the module doc)."""
    return check_ruc(value).valid


def is_valid_cedula(value: str) -> bool:
    """True when ``value`` is a valid cédula (province, third digit, mod-10)."""
    return check_cedula(value).valid


__all__ = [
    "IdentityCheck",
    "IdentityKind",
    "InvalidIdentityError",
    "check_cedula",
    "check_identity",
    "check_ruc",
    "is_valid_cedula",
    "is_valid_ruc",
    "validate_identity",
]
