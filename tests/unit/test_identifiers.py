import random

import pytest

from gazportal.services.identifiers import bin_is_valid, check_digit, iin_is_valid, is_legal_entity_bin, make_bin

# Published BINs of well-known Kazakh companies (Halyk Bank, Kaspi Bank, KEGOC) and numbers
# worked out by hand for both branches of the algorithm.
KNOWN_VALID = ["940140000385", "971240001315", "970740000838", "000740001307", "990140000483"]


@pytest.mark.parametrize("number", KNOWN_VALID)
def test_known_valid_bins(number):
    assert bin_is_valid(number) and iin_is_valid(number) and is_legal_entity_bin(number)


def test_second_weights_are_used_when_the_first_sum_gives_ten():
    # 1*0+2*0+...+11*1 = 11*1 -> with digits "00000000001" the first sum is 11 % 11 = 0; find a
    # prefix whose first sum is 10 and check the second pass decides the digit.
    prefix = "00000000010"  # first pass: 10*1 = 10 -> second weights: 1*1 = 1
    assert check_digit(prefix) == 1
    assert bin_is_valid(prefix + "1") and not bin_is_valid(prefix + "0")


def test_a_prefix_whose_both_sums_give_ten_has_no_valid_number():
    # find one by search and make sure no check digit makes it valid
    rng = random.Random(5)
    while True:
        prefix = "".join(rng.choice("0123456789") for _ in range(11))
        if check_digit(prefix) is None:
            break
    assert not any(bin_is_valid(prefix + d) for d in "0123456789")


@pytest.mark.parametrize("number", [
    "940140000386",   # check digit off by one
    "971240001314",
    "97124000131",    # 11 digits
    "9712400013150",  # 13 digits
    "97124000131a",
    "９７１２４０００１３１５",  # full-width digits
    "", None, 971240001315,
])
def test_invalid_bins(number):
    assert not bin_is_valid(number)


def test_only_one_check_digit_fits():
    for n in KNOWN_VALID:
        assert [d for d in "0123456789" if bin_is_valid(n[:11] + d)] == [n[11]]


def test_generated_bins_are_valid_legal_entity_numbers_and_deterministic():
    a = [make_bin(random.Random(7)) for _ in range(3)]
    rng = random.Random(42)
    many = [make_bin(rng) for _ in range(2000)]
    assert all(bin_is_valid(b) and is_legal_entity_bin(b) for b in many)
    assert all(b[4] in "456" for b in many)
    assert len(set(many)) > 1990
    assert a[0] == a[1] == a[2]
    assert make_bin(random.Random(1), year=2019, month=3)[:4] == "1903"


def test_legal_entity_layout_is_checked_separately():
    # a valid check digit on an individual's IIN (5th digit 3 = man born in the 1900s)
    iin = next(p + str(c) for p in (f"8001013{i:04d}" for i in range(100)) if (c := check_digit(p)) is not None)
    assert bin_is_valid(iin) and not is_legal_entity_bin(iin)
