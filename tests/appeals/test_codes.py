import math

from appeals import codes


def test_access_code_carries_at_least_60_bits():
    code = codes.normalise(codes.new_access_code())
    assert len(code) * math.log2(len(codes.ALPHABET)) >= 60


def test_codes_are_not_repeated():
    assert len({codes.new_access_code() for _ in range(2000)}) == 2000


def test_typed_code_is_forgiving_about_case_dashes_and_lookalikes():
    code = "ABC01-DEFGH-1JK23"
    stored = codes.hash_access_code(code)
    assert codes.check_access_code("abco1-defgh-ijk23", stored)
    assert codes.check_access_code(" ABC01DEFGHLJK23 ", stored)
    assert not codes.check_access_code("ABC01-DEFGH-1JK24", stored)


def test_empty_hash_never_matches():
    assert not codes.check_access_code("", "")
