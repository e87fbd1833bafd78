"""Money parsing and formatting: strict in, one canonical form out."""

from __future__ import annotations

from decimal import Decimal

import pytest

from itirp.domain.money import format_money, notional, parse_amount, parse_price


@pytest.mark.parametrize("text", ["150.50", "0.0001", "12", "999999999999.9999"])
def test_a_well_formed_price_is_kept_exactly_as_written(text: str) -> None:
    # Act
    price = parse_price(text)

    # Assert: same digits, same exponent (Decimal("150.50") is not Decimal("150.5") textually)
    assert str(price) == text
    assert price.as_tuple() == Decimal(text).as_tuple()


def test_leading_zeros_are_harmless_and_count_as_digits() -> None:
    assert parse_price("007.5") == Decimal("7.5")
    with pytest.raises(ValueError, match="at most 12 digits"):
        parse_price("0000000000001")


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        " 150.50",
        "150.50 ",
        "150.50\n",
        "+150.50",
        "-150.50",
        "1e3",
        "1E3",
        "NaN",
        "nan",
        "Infinity",
        "inf",
        "1,000",
        "1_000",
        "1.",
        ".5",
        "1.2.3",
        "١٢",  # Arabic-Indic digits: Decimal accepts them, a trader never means them
        "0x10",
    ],
)
def test_a_price_that_could_be_read_two_ways_is_refused_with_an_example(text: str) -> None:
    # Act / Assert
    with pytest.raises(ValueError, match=r'must be a positive decimal with at most 4 decimals, e\.g\. "150\.50"'):
        parse_price(text)


@pytest.mark.parametrize("text", ["0", "0.0", "000.0000"])
def test_a_zero_price_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="must be greater than zero"):
        parse_price(text)


def test_a_price_finer_than_a_tick_is_refused() -> None:
    with pytest.raises(ValueError, match="at most 4 decimals"):
        parse_price("150.50001")


def test_a_price_with_more_than_twelve_integer_digits_is_refused_but_an_amount_may_have_fifteen() -> None:
    # Arrange
    thirteen, fifteen, sixteen = "1" * 13, "9" * 15, "1" * 16

    # Act / Assert
    with pytest.raises(ValueError, match="at most 12 digits before the decimal point"):
        parse_price(thirteen)
    assert parse_amount(thirteen) == Decimal(thirteen)
    assert parse_amount(fifteen + ".5") == Decimal(fifteen + ".5")
    with pytest.raises(ValueError, match="at most 15 digits before the decimal point"):
        parse_amount(sixteen)


@pytest.mark.parametrize("text", ["", "-1", "1e6", "0", "1.00001", "1 000 000"])
def test_a_malformed_limit_amount_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="must"):
        parse_amount(text)


def test_a_limit_amount_is_kept_exactly_as_written() -> None:
    assert str(parse_amount("1000000")) == "1000000"
    assert str(parse_amount("2500000.50")) == "2500000.50"


def test_the_error_echoes_a_huge_input_only_in_part() -> None:
    with pytest.raises(ValueError, match="must be a positive decimal") as caught:
        parse_price("x" * 10_000)
    assert len(str(caught.value)) < 200


def test_a_float_is_not_text_and_is_refused() -> None:
    with pytest.raises(TypeError):
        parse_price(150.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (Decimal("150.5"), "150.50"),
        (Decimal("150.50"), "150.50"),
        (Decimal("150.5000"), "150.50"),
        (Decimal("1505000"), "1505000.00"),
        (Decimal("1.505E+6"), "1505000.00"),
        (Decimal("0.0001"), "0.0001"),
        (Decimal("-20.125"), "-20.125"),
        (Decimal("1") / Decimal("3"), "0.33333333"),
        (Decimal("2") / Decimal("3"), "0.66666667"),
        (Decimal("0.000000005"), "0.00"),  # half-even: ties go to the even digit 0
        (Decimal("0.000000015"), "0.00000002"),
        (Decimal("0.000000025"), "0.00000002"),
        (Decimal("-0.000000001"), "0.00"),
        (Decimal("0E-8"), "0.00"),
        (Decimal("-0"), "0.00"),
        (Decimal("0E+5"), "0.00"),
        (Decimal("1E+30"), "1000000000000000000000000000000.00"),
        (Decimal("123456789012345678901234.123456789"), "123456789012345678901234.12345679"),
    ],
)
def test_money_goes_on_the_wire_with_two_to_eight_decimals_and_no_exponent(value: Decimal, wire: str) -> None:
    assert format_money(value) == wire


def test_formatting_refuses_what_is_not_an_amount() -> None:
    with pytest.raises(ValueError, match="cannot format NaN as money"):
        format_money(Decimal("NaN"))
    with pytest.raises(ValueError, match="cannot format -Infinity as money"):
        format_money(Decimal("-Infinity"))
    with pytest.raises(TypeError):
        format_money(1.5)  # type: ignore[arg-type]


def test_notional_is_positive_whatever_the_sign_of_the_quantity() -> None:
    assert notional(100, Decimal("10.25")) == Decimal("1025.00")
    assert notional(-100, Decimal("10.25")) == Decimal("1025.00")
