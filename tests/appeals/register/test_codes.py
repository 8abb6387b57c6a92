import math

from appeals.register import codes


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


def test_every_character_of_the_alphabet_is_drawn_at_every_position():
    # The characters are cut from one random integer, five bits each: a slip in the
    # shifts would leave letters out or repeat a position.
    seen = [set() for _position in range(codes.TRACKING_LENGTH)]
    draws = [codes._random(codes.TRACKING_LENGTH) for _n in range(3000)]
    for draw in draws:
        assert len(draw) == codes.TRACKING_LENGTH
        for position, character in enumerate(draw):
            seen[position].add(character)
    assert all(found == set(codes.ALPHABET) for found in seen)
    assert len(set(draws)) == len(draws)


def test_codes_keep_working_after_the_secret_key_is_rotated(settings):
    """The probe rotated SECRET_KEY with SECRET_KEY_FALLBACKS: every code died."""
    code = codes.new_access_code()
    stored = codes.hash_access_code(code)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-key-" + "x" * 40
    assert codes.check_access_code(code, stored)
    assert not codes.check_access_code(codes.new_access_code(), stored)
    settings.SECRET_KEY_FALLBACKS = []
    assert not codes.check_access_code(code, stored)
