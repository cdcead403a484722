"""Masking of resident id, mobile and bank card numbers in free text.

Expected values are written out by hand or built by helpers here that do not use the module
under test: the id check character and the Luhn digit are computed independently below.
"""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from warehouse.privacy import contains_identifier, mask_frame, mask_text

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
DIGITS = set("0123456789０１２３４５６７８９")


def id_check(body: str) -> str:
    """GB 11643 check character of a 17-digit body (ISO 7064 MOD 11-2)."""
    remainder = sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11
    # Remainder 0..10 maps to 1 0 X 9 8 7 6 5 4 3 2.
    return {0: "1", 1: "0", 2: "X"}.get(remainder, str(12 - remainder))


def resident_id(area: str, born: dt.date, seq: int) -> str:
    body = f"{area}{born:%Y%m%d}{seq:03d}"
    return body + id_check(body)


def luhn_valid(number: str) -> bool:
    total = 0
    for i, ch in enumerate(number[::-1]):
        value = int(ch) * (2 if i % 2 == 1 else 1)
        total += value // 10 + value % 10
    return total % 10 == 0


def luhn_complete(body: str) -> str:
    """``body`` with the one trailing digit that makes it pass Luhn."""
    (number,) = [body + d for d in "0123456789" if luhn_valid(body + d)]
    return number


def reads_as_20xx_date(digits: str) -> bool:
    try:
        day = dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return False
    return 2000 <= day.year <= 2099


def masked_id(number: str) -> str:
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


# --- the helpers against hand-checked values --------------------------------------------------


def test_helpers_agree_with_hand_computed_values() -> None:
    # 11010519491231002X: weighted sum 167, 167 mod 11 = 2 -> "X".
    assert id_check("11010519491231002") == "X"
    # 440524188001010014: weighted sum 195, 195 mod 11 = 8 -> "4".
    assert id_check("44052418800101001") == "4"
    # 4111 1111 1111 1111: 8 (doubled 4) + 7 * 2 + 8 * 1 = 30.
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
    # 5555 5555 5555 4444: 4 + 8 + 4 + 8 + 6 * 5 + 6 * 1 = 60.
    assert luhn_valid("5555555555554444")
    # 622202123456789012 + check: doubled digits give 38, the others 34; 72 -> 8.
    assert luhn_complete("622202123456789012") == "6222021234567890128"


# --- resident identity card numbers ----------------------------------------------------------


def test_published_example_id_is_masked() -> None:
    assert mask_text("11010519491231002X") == "1101**********002X"
    assert mask_text("身份证号11010519491231002X。") == "身份证号1101**********002X。"
    assert mask_text("身份证号11010519491231002x") == "身份证号1101**********002x"


def test_ids_born_before_1900_are_not_read_as_ids() -> None:
    # A valid check digit, but birth date 1880-01-01 is outside 1900..2100.
    number = resident_id("110105", dt.date(1880, 1, 1), 1)
    assert mask_text(number) == number
    # The published example of that kind happens to pass Luhn with the Visa prefix 4, so it
    # is masked, as a card: only the last 4 digits are kept.
    assert luhn_valid("440524188001010014")
    assert mask_text("440524188001010014") == "**************0014"


@pytest.mark.parametrize(
    ("area", "born", "seq"),
    [
        ("320581", dt.date(1985, 6, 15), 123),
        ("420106", dt.date(2000, 2, 29), 45),
        ("510722", dt.date(1900, 1, 1), 7),
        ("130102", dt.date(2012, 12, 31), 998),
    ],
)
def test_built_ids_masked_alone_and_in_text(area: str, born: dt.date, seq: int) -> None:
    number = resident_id(area, born, seq)
    expected = number[:4] + "**********" + number[14:]
    assert mask_text(number) == expected
    assert mask_text(f"客户身份证{number}已核验") == f"客户身份证{expected}已核验"
    assert mask_text(f"证件：{number}\n") == f"证件：{expected}\n"


def test_ids_with_a_wrong_check_character_are_not_masked() -> None:
    number = resident_id("320581", dt.date(1985, 6, 15), 123)
    for wrong in sorted(set("0123456789X") - {number[-1]}):
        text = f"身份证{number[:17]}{wrong}"
        assert mask_text(text) == text


@pytest.mark.parametrize(
    "body",
    [
        "32058119990230123",  # 30 February
        "32058119851315123",  # month 13
        "32058118991231123",  # born 1899
        "32058121010101123",  # born 2101
    ],
)
def test_ids_with_an_impossible_birth_date_are_not_masked(body: str) -> None:
    text = f"身份证{body}{id_check(body)}"
    assert mask_text(text) == text


def test_first_generation_15_digit_ids() -> None:
    # The 15-digit form of 11010519491231002X: area, YYMMDD, sequence.
    assert mask_text("旧身份证110105491231002") == "旧身份证1101*******1002"
    # Not a province code, or not a date: left alone.
    assert mask_text("编号001105491231002") == "编号001105491231002"
    assert mask_text("编号110105491331002") == "编号110105491331002"
    assert mask_text("编号110105490230002") == "编号110105490230002"


def test_an_id_is_not_masked_as_a_phone_or_card() -> None:
    # 18 digits starting 13x: not a phone (too long), and an id wins over a card reading.
    number = resident_id("138123", dt.date(1990, 3, 7), 447)
    assert mask_text(number) == masked_id(number)


# --- mobile numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13812345678", "138****5678"),
        ("客户电话13812345678已核实", "客户电话138****5678已核实"),
        ("电话：19912345678。", "电话：199****5678。"),
        ("138-1234-5678", "138-****-5678"),
        ("联系 138 1234 5678 回访", "联系 138 **** 5678 回访"),
        ("+8613812345678", "+86138****5678"),
        ("8613812345678", "86138****5678"),
        ("008613812345678", "0086138****5678"),
        ("+86 138 1234 5678", "+86 138 **** 5678"),
        ("+86-138-1234-5678", "+86-138-****-5678"),
        ("15012345678\n备注", "150****5678\n备注"),
        ("电话（17712345678）", "电话（177****5678）"),
        ("电话１３８１２３４５６７８", "电话１３８＊＊＊＊５６７８"),
    ],
)
def test_phones_are_masked(text: str, expected: str) -> None:
    assert mask_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "12812345678",  # 12x is no mobile prefix
        "10012345678",
        "138123456789",  # 12 digits
        "013812345678",  # 12 digits, phone inside
        "编号2138123456789",  # phone inside a longer run
        "a13812345678",
        "13812345678b",
        "手机13812345678x",
        "TS13812345678",
        "138-1234-567",
        "1381-234-5678",
    ],
)
def test_phone_like_digits_that_are_not_phones(text: str) -> None:
    assert mask_text(text) == text


# --- bank card numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111111111111111", "************1111"),
        ("卡号4111 1111 1111 1111已冻结", "卡号**** **** **** 1111已冻结"),
        ("5555-5555-5555-4444", "****-****-****-4444"),
        ("6222021234567890128", "***************0128"),
        ("卡号：6222 0212 3456 7890 128", "卡号：**** **** **** ***0 128"),
        ("卡号6222-0212-3456-7890-128。", "卡号****-****-****-***0-128。"),
    ],
)
def test_cards_are_masked(text: str, expected: str) -> None:
    assert mask_text(text) == expected


@pytest.mark.parametrize(
    "prefix",
    ["62", "621483", "4", "35", "3528", "51", "53", "55", "2221", "2500", "2720"],
)
@pytest.mark.parametrize("length", [16, 17, 18, 19])
def test_cards_of_every_known_prefix_and_length(prefix: str, length: int) -> None:
    # Digits 6-13 of the body never read as a 20xx date (see the transaction id test).
    body = (prefix + "9" * 20)[: length - 1]
    number = luhn_complete(body)
    assert mask_text(f"卡号{number}。") == f"卡号{'*' * (length - 4)}{number[-4:]}。"
    grouped = " ".join(number[i : i + 4] for i in range(0, length, 4))
    expected = " ".join(("*" * (length - 4) + number[-4:])[i : i + 4] for i in range(0, length, 4))
    assert mask_text(grouped) == expected


@pytest.mark.parametrize("prefix", ["1", "30", "34", "37", "50", "56", "60", "2220", "2721", "9"])
def test_luhn_valid_numbers_without_a_known_prefix_are_not_masked(prefix: str) -> None:
    number = luhn_complete((prefix + "1234567890123456")[:15])
    assert mask_text(f"编号{number}") == f"编号{number}"


def test_numbers_failing_luhn_are_not_masked() -> None:
    for number in ["4111111111111112", "5555555555554445", "6222021234567890129"]:
        assert not luhn_valid(number)
        assert mask_text(f"卡号{number}") == f"卡号{number}"
        grouped = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
        assert mask_text(grouped) == grouped


def test_a_short_group_after_a_card_is_left_when_only_the_card_passes() -> None:
    assert not luhn_valid("411111111111111112")
    assert mask_text("4111 1111 1111 1111 12") == "**** **** **** 1111 12"


def test_a_card_is_found_after_a_group_that_is_not_part_of_it() -> None:
    assert mask_text("编号 1234 4111 1111 1111 1111") == "编号 1234 **** **** **** 1111"


def test_mixed_separators_do_not_make_a_card() -> None:
    assert mask_text("4111 1111-1111 1111") == "4111 1111-1111 1111"


# --- several identifiers, edges, empties -----------------------------------------------------


def test_several_identifiers_in_one_text() -> None:
    text = (
        "13812345678客户（身份证11010519491231002X）称卡号4111 1111 1111 1111被扣款，"
        "备用电话139-8765-4321\n另一卡6222021234567890128"
    )
    assert mask_text(text) == (
        "138****5678客户（身份证1101**********002X）称卡号**** **** **** 1111被扣款，"
        "备用电话139-****-4321\n另一卡***************0128"
    )


def test_none_and_empty() -> None:
    assert mask_text(None) is None
    assert mask_text("") == ""
    assert not contains_identifier(None)
    assert not contains_identifier("")


def test_text_without_identifiers_is_returned_as_is() -> None:
    text = "客户于2026-03-01 08:30:00在网点办理业务，金额¥88888888.00。"
    assert mask_text(text) is text
    assert not contains_identifier(text)
    assert contains_identifier("电话13812345678")


def test_masking_is_idempotent_when_a_kept_group_lines_up_with_the_next_digits() -> None:
    # The phone keeps 4111, which with the groups after it reads as a Visa number once the
    # digits before it are masked; masking settles that in one call.
    text = "13800004111 1111 1111 1111"
    masked = mask_text(text)
    assert masked is not None
    assert masked.startswith("138****")
    assert mask_text(masked) == masked


# --- things that must never be masked --------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "12345.67",
        "1,234,567.89",
        "¥88888888.00",
        "金额12345678901.23元",  # the integer part is no phone: 12x
        "031142026030100123",  # transaction id
        "001012025120300001",
        "TS031142026030001",  # complaint id
        "C00012345",  # customer ref
        "S00123",  # staff id
        "2026-03-01 08:30:00",
        "2026-03-01 2026-03-02",
        "20260301083000",
        "110105194912310021",  # wrong check digit (should be X)
        "11010519491231002Y",
        "1101051949123100212",  # 19 digits
        "1234567890123456",  # 16 digits failing Luhn, unknown prefix
        "4111111111111111222",  # 19 digits failing Luhn
        "411111111111111111111",  # 21 digits
    ],
)
def test_not_identifiers(text: str) -> None:
    assert mask_text(text) is text
    embedded = f"客户于网点办理，{text}，已处理。"
    assert mask_text(embedded) is embedded


def transaction_ids() -> list[str]:
    """Outlet code + YYYYMMDD + 5-digit sequence, over outlets 00001..99999 and 2025-2027."""
    rng = random.Random(20260301)
    first, days = dt.date(2025, 1, 1), (dt.date(2028, 1, 1) - dt.date(2025, 1, 1)).days
    ids = [
        f"{outlet:05d}{first + dt.timedelta(rng.randrange(days)):%Y%m%d}{rng.randint(1, 99999):05d}"
        for outlet in range(1, 100_000, 11)
    ]
    # Every day of the three years at one outlet.
    ids += [f"03114{first + dt.timedelta(d):%Y%m%d}00123" for d in range(days)]
    # Ones that pass Luhn and start like a card (UnionPay, Visa, JCB, Mastercard).
    for outlet in ["62001", "62888", "40123", "35010", "51234", "55000", "22210", "27200"]:
        for d in range(0, days, 30):
            body = f"{outlet}{first + dt.timedelta(d):%Y%m%d}0012"
            ids.append(luhn_complete(body))
    return ids


def test_transaction_ids_are_never_masked() -> None:
    ids = transaction_ids()
    assert len(ids) > 10_000
    assert sum(luhn_valid(i) and i.startswith(("62", "4", "35", "5", "2")) for i in ids) > 200
    text = "，".join(ids)
    assert mask_text(text) is text
    frame = pl.DataFrame({"txn_id": ids, "remark": [f"流水号{i}冲正" for i in ids]})
    assert mask_frame(frame).equals(frame)


def test_an_18_digit_card_whose_middle_reads_as_a_date_is_taken_for_a_transaction_id() -> None:
    # The documented trade-off: digits 6-13 are 2026-03-01, as in a transaction id.
    number = luhn_complete("62001202603010012")
    assert reads_as_20xx_date(number[5:13])
    assert mask_text(number) == number
    other = luhn_complete("62148312345678901")
    assert mask_text(other) == "*" * 14 + other[-4:]


# --- data frames -----------------------------------------------------------------------------


def mixed_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": [1, 2, 3],
            "phone_as_int": [13812345678, 13912345678, None],
            "amount": [12345.67, 88888888.0, None],
            "day": [dt.date(2026, 3, 1), dt.date(2026, 3, 2), None],
            "at": [dt.datetime(2026, 3, 1, 8, 30), None, dt.datetime(2026, 3, 3, 9, 0)],
            "flag": [True, False, None],
            "narrative": ["电话13812345678", None, "无"],
            "raw": ['{"phone": "13912345678", "id": "11010519491231002X"}', "{}", None],
            "tags": [["13812345678"], [], None],
        }
    )


def test_mask_frame_masks_every_string_column_by_default() -> None:
    frame = mixed_frame()
    out = mask_frame(frame)
    assert out.schema == frame.schema
    assert out["narrative"].to_list() == ["电话138****5678", None, "无"]
    assert out["raw"].to_list() == [
        '{"phone": "139****5678", "id": "1101**********002X"}',
        "{}",
        None,
    ]
    untouched = ["row", "phone_as_int", "amount", "day", "at", "flag", "tags"]
    assert out.select(untouched).equals(frame.select(untouched))
    # The input frame is not changed.
    assert frame["narrative"][0] == "电话13812345678"


def test_mask_frame_masks_only_the_named_columns() -> None:
    frame = mixed_frame()
    out = mask_frame(frame, ["raw"])
    assert out["raw"][0] == '{"phone": "139****5678", "id": "1101**********002X"}'
    assert out.drop("raw").equals(frame.drop("raw"))
    assert mask_frame(frame, "narrative")["narrative"][0] == "电话138****5678"
    assert mask_frame(frame, []).equals(frame)


def test_mask_frame_refuses_columns_it_cannot_mask() -> None:
    frame = mixed_frame()
    with pytest.raises(TypeError, match="phone_as_int"):
        mask_frame(frame, ["narrative", "phone_as_int"])
    with pytest.raises(pl.exceptions.ColumnNotFoundError):
        mask_frame(frame, ["nope"])


def test_mask_frame_on_empty_and_identifier_free_frames() -> None:
    empty = pl.DataFrame({"narrative": []}, schema={"narrative": pl.String})
    assert mask_frame(empty).equals(empty)
    plain = pl.DataFrame({"narrative": ["无", None, "2026-03-01 08:30:00"], "n": [1, 2, 3]})
    assert mask_frame(plain).equals(plain)


# --- properties ------------------------------------------------------------------------------


def _phone(draw: st.DrawFn) -> str:
    return f"1{draw(st.sampled_from('3456789'))}{draw(st.integers(0, 10**9 - 1)):09d}"


@st.composite
def identifiers(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["id", "phone", "card", "grouped"]))
    if kind == "id":
        born = draw(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)))
        return resident_id(f"{draw(st.integers(110000, 659999))}", born, draw(st.integers(0, 999)))
    if kind == "phone":
        sep = draw(st.sampled_from(["", " ", "-"]))
        number = _phone(draw)
        return sep.join([number[:3], number[3:7], number[7:]])
    prefix = draw(st.sampled_from(["62", "4", "35", "53", "2221"]))
    length = draw(st.integers(16, 19))
    body = prefix + draw(st.text(alphabet="0123456789", min_size=20, max_size=20))
    number = luhn_complete(body[: length - 1])
    # An 18-digit card that reads like a transaction id is left alone by design.
    assume(length != 18 or not reads_as_20xx_date(number[5:13]))
    if kind == "grouped":
        sep = draw(st.sampled_from([" ", "-"]))
        return sep.join(number[i : i + 4] for i in range(0, length, 4))
    return number


texts = st.lists(
    st.one_of(
        st.text(alphabet="客户电话卡号已核实，。：（）\n -+*Xxab０１２3456789", max_size=10),
        identifiers(),
        st.from_regex(r"[0-9]{10,20}", fullmatch=True),
        st.sampled_from(["+86", "86", "0086", " ", "-", "2026-03-01 08:30:00", "¥12345.67"]),
    ),
    max_size=8,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_masking_only_hides_digits_and_is_idempotent(text: str) -> None:
    masked = mask_text(text)
    assert masked is not None
    assert len(masked) == len(text)
    for before, after in zip(text, masked, strict=True):
        if before != after:
            assert before in DIGITS
            assert after in "*＊"
    assert mask_text(masked) == masked
    assert contains_identifier(text) == (masked != text)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), texts), max_size=6))
def test_mask_frame_agrees_with_mask_text(values: list[str | None]) -> None:
    frame = pl.DataFrame({"text": values}, schema={"text": pl.String})
    assert mask_frame(frame)["text"].to_list() == [mask_text(v) for v in values]


@given(identifiers(), st.sampled_from(["", "客户", "，", "\n", " "]))
def test_generated_identifiers_are_always_masked(identifier: str, around: str) -> None:
    text = f"{around}{identifier}{around}"
    masked = mask_text(text)
    assert masked != text
    assert masked[: len(around)] == around
    # The last four digits are always kept.
    assert [c for c in masked if c.isdigit() or c in "Xx"][-4:] == [
        c for c in identifier if c.isdigit() or c in "Xx"
    ][-4:]
