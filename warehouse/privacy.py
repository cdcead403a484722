"""Mask personal identifiers in free text for viewers without the ``pii`` grant.

Complaint narratives, quarantined raw records and SQL console results are free text that may
hold a customer's resident identity card number, mobile number or bank card number. This
module masks those three identifiers and nothing else, so the rest of the text stays readable.

Guarantees of :func:`mask_text` (and of :func:`mask_frame`, which applies it to each value):

* Only digits change: each masked digit becomes ``*`` (a full-width digit becomes the
  full-width ``＊``). Length, separators, letters and every other character stay as they are,
  so layouts do not jump.
* It is idempotent: masking masked text changes nothing more.
* Text without identifiers comes back as the same string object.

What counts as an identifier (ASCII and full-width digits are both read):

* Resident identity card number (GB 11643-1999): 17 digits and a check character, masked
  only when the ISO 7064 MOD 11-2 check character is right and positions 7-14 are a real date
  in 1900..2100. Kept: the first 4 and last 4 characters (``1101**********002X``).
  First-generation 15-digit numbers have no check digit, so they are masked only when
  positions 7-12 are a real date (YYMMDD, 19YY) and the first two digits are a province-level
  region code (``1101*******1002``); the region code stands in for the missing check digit.
* Mobile number: 11 digits ``1[3-9]xxxxxxxxx``, unbroken or as 3-4-4 groups joined by one
  space or hyphen each. Kept: the first 3 and last 4 digits (``138****5678``,
  ``138-****-5678``). An unbroken number may carry a ``86`` or ``0086`` prefix, which is kept
  (``+8613812345678`` -> ``+86138****5678``); a prefix written apart, as in
  ``+86 138 1234 5678``, is simply text before the number.
* Bank card number: 16-19 digits, unbroken or as groups of 4 (the last group 1-4 digits)
  joined by one space or hyphen each, passing the Luhn check and starting with a known issuer
  prefix (UnionPay 62, Visa 4, Mastercard 51-55 and 2221-2720, JCB 35). Kept: the last 4
  digits (``6222 0212 3456 7890 123`` -> ``**** **** **** ***0 123``).

A candidate must not touch a letter or digit (ASCII or full-width) on either side: it must
stand alone as a whole run, so an 11-digit stretch inside a longer number is not a phone.
Chinese characters, punctuation, spaces and line breaks around it are fine. An 18-digit run
is read as an identity card number first, then as a bank card; a 15-digit one as a
first-generation id, then as a phone after ``0086`` (the two cannot both fit).

The project's own 18-digit transaction ids (5-digit outlet code + YYYYMMDD + 5-digit sequence)
fail the identity card date check, but one in ten passes Luhn and many outlet codes start like
a card issuer prefix. An 18-digit run whose digits 6-13 are a date in 2000..2099 is therefore
treated as a transaction id, not a card; a real 18-digit card matches that by chance about
once in ten thousand.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import polars as pl

# Digits, letters and the check character in both widths; Chinese input methods often type
# numbers full-width.
_DIGIT = "[0-9\uff10-\uff19]"
_WORD = "[A-Za-z0-9\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]"
_CHECK_X = "[Xx\uff38\uff58]"
# Groups of a written-out number are joined by one space or one hyphen.
_SEPARATORS = " -"
_SEPARATOR = f"[{_SEPARATORS}]"
_TO_ASCII = str.maketrans(
    "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff38\uff58",
    "0123456789XX",
)
_MASK = "*"
_MASK_FULL_WIDTH = "\uff0a"

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID_BIRTH_YEARS = (1900, 2100)
_ID_KEEP_FIRST, _ID_KEEP_LAST = 4, 4
# Province-level codes of GB/T 2260, by region (north 1x, north-east 2x, east 3x, south-central
# 4x, south-west 5x, north-west 6x; 71, 81, 82 Taiwan, Hong Kong, Macao). Only the 15-digit ids
# use them, as they carry no check digit.
_PROVINCE_CODE_RANGES = (
    (11, 15),
    (21, 23),
    (31, 37),
    (41, 46),
    (50, 54),
    (61, 65),
    (71, 71),
    (81, 82),
)
_PROVINCE_CODES = frozenset(
    str(code) for low, high in _PROVINCE_CODE_RANGES for code in range(low, high + 1)
)

_PHONE = re.compile(r"1[3-9]\d{9}", re.ASCII)
# Unbroken length -> the country prefix a mobile number of that length starts with.
_PHONE_PREFIX_BY_LENGTH = {11: "", 13: "86", 15: "0086"}
_PHONE_KEEP_FIRST, _PHONE_KEEP_LAST = 3, 4

_CARD_LENGTHS = range(16, 20)
_CARD_PREFIXES = ("62", "4", "35", "51", "52", "53", "54", "55")
_CARD_PREFIX_RANGES = ((2221, 2720),)  # Mastercard 2-series, on the first four digits
_CARD_KEEP_LAST = 4

_TXN_ID_LENGTH = 18
_TXN_ID_DATE = slice(5, 13)
_TXN_ID_YEARS = (2000, 2099)

# The three shapes of candidate, each standing alone (no letter or digit on either side): an
# unbroken run of 11-19 digits (17 and a check X for an id), a card in groups of 4, a phone in
# groups of 3-4-4. No two shapes can match at the same start, so the first match is the only one.
# The groups hold each shape after its first digit: a pattern opening with a digit class lets
# the regex engine skip ahead to digits, which is markedly faster on Chinese text.
_CANDIDATE = re.compile(
    rf"{_DIGIT}(?<!{_WORD}{_DIGIT})(?:"
    rf"(?P<run>{_DIGIT}{{10,18}})(?P<check>{_CHECK_X}?)"
    rf"|(?P<card>{_DIGIT}{{3}}(?P<cs>{_SEPARATOR})(?:{_DIGIT}{{4}}(?P=cs)){{2}}{_DIGIT}{{4}})"
    rf"(?P<tail>(?P=cs){_DIGIT}{{1,3}})?"
    rf"|(?P<phone>{_DIGIT}{{2}}(?P<ps>{_SEPARATOR}){_DIGIT}{{4}}(?P=ps){_DIGIT}{{4}})"
    rf")(?!{_WORD})"
)
_SEPARATOR_RE = re.compile(_SEPARATOR)
# Every candidate starts with one of these, so a value without a match needs no closer look.
# It filters polars columns (Rust regex) before any value goes through Python.
_PREFILTER_PATTERN = (
    rf"(?:^|[^{_WORD[1:-1]}])"
    rf"(?:{_DIGIT}{{11}}|{_DIGIT}{{3,4}}{_SEPARATOR}{_DIGIT}{{4}}{_SEPARATOR}{_DIGIT})"
)


def _is_date(yyyymmdd: str, years: tuple[int, int]) -> bool:
    """Whether eight ASCII digits are a real calendar date with a year in ``years``."""
    year = int(yyyymmdd[:4])
    if not years[0] <= year <= years[1]:
        return False
    try:
        dt.date(year, int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return False
    return True


def _is_resident_id(digits: str, check: str) -> bool:
    """Whether 17 digits (or 15, with ``check`` empty) form a valid resident id number."""
    if len(digits) == 15 and not check:
        return digits[:2] in _PROVINCE_CODES and _is_date("19" + digits[6:12], _ID_BIRTH_YEARS)
    if len(digits) == 18 and not check:
        digits, check = digits[:17], digits[17]
    if len(digits) != 17 or not check:
        return False
    if not _is_date(digits[6:14], _ID_BIRTH_YEARS):
        return False
    total = sum(int(d) * w for d, w in zip(digits, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11] == check


def _luhn_ok(digits: str) -> bool:
    """Whether ``digits`` pass the Luhn check (every second digit from the right doubled)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _is_card(digits: str) -> bool:
    """Whether ``digits`` are a bank card number with a known issuer prefix."""
    if len(digits) not in _CARD_LENGTHS:
        return False
    head = int(digits[:4])
    if not digits.startswith(_CARD_PREFIXES) and not any(
        low <= head <= high for low, high in _CARD_PREFIX_RANGES
    ):
        return False
    if len(digits) == _TXN_ID_LENGTH and _is_date(digits[_TXN_ID_DATE], _TXN_ID_YEARS):
        return False
    return _luhn_ok(digits)


def _mask_chars(candidate: str, keep_first: int, keep_last: int) -> str:
    """Mask the digits of ``candidate`` except its first and last few non-separator characters."""
    significant = sum(ch not in _SEPARATORS for ch in candidate)
    out = []
    index = 0
    for ch in candidate:
        if ch in _SEPARATORS:
            out.append(ch)
            continue
        if keep_first <= index < significant - keep_last and ch.isdigit():
            out.append(_MASK if ch.isascii() else _MASK_FULL_WIDTH)
        else:
            out.append(ch)
        index += 1
    return "".join(out)


def _mask_run(run: str, check: str) -> str | None:
    """The masked form of an unbroken run of digits (and check X), or None if it is none."""
    digits = run if run.isascii() else run.translate(_TO_ASCII)
    whole = run + check
    if check:
        ok = _is_resident_id(digits, check.translate(_TO_ASCII).upper())
        return _mask_chars(whole, _ID_KEEP_FIRST, _ID_KEEP_LAST) if ok else None
    if len(digits) in (15, 18) and _is_resident_id(digits, ""):
        return _mask_chars(whole, _ID_KEEP_FIRST, _ID_KEEP_LAST)
    if _is_card(digits):
        return _mask_chars(whole, 0, _CARD_KEEP_LAST)
    prefix = _PHONE_PREFIX_BY_LENGTH.get(len(digits))
    if prefix is not None and digits.startswith(prefix) and _PHONE.fullmatch(digits, len(prefix)):
        return _mask_chars(whole, len(prefix) + _PHONE_KEEP_FIRST, _PHONE_KEEP_LAST)
    return None


def _mask_candidate(match: re.Match[str]) -> tuple[int, str] | None:
    """The end and masked form of the identifier in a candidate match, if it is one."""
    text, start = match.string, match.start()
    if match["run"]:
        masked = _mask_run(text[start : match.end("run")], match["check"])
        return (match.end(), masked) if masked is not None else None
    if match["card"]:
        # Without the short last group the first 16 digits may still be the card.
        ends = (match.end(), match.end("card")) if match["tail"] else (match.end(),)
        for end in ends:
            candidate = text[start:end]
            if _is_card(_SEPARATOR_RE.sub("", candidate).translate(_TO_ASCII)):
                return end, _mask_chars(candidate, 0, _CARD_KEEP_LAST)
        return None
    phone = match[0]
    if _PHONE.fullmatch(_SEPARATOR_RE.sub("", phone).translate(_TO_ASCII)):
        return match.end(), _mask_chars(phone, _PHONE_KEEP_FIRST, _PHONE_KEEP_LAST)
    return None


def _mask_once(text: str) -> str:
    """One left-to-right pass masking every identifier found; ``text`` itself if none."""
    pieces: list[str] = []
    done = 0
    pos = 0
    while (match := _CANDIDATE.search(text, pos)) is not None:
        found = _mask_candidate(match)
        if found is None:
            # No candidate starts inside a run; one may start after a separator of a group.
            pos = match.end() if match["run"] else match.start() + 1
            continue
        end, masked = found
        pieces += (text[done : match.start()], masked)
        done = pos = end
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def mask_text(text: str | None) -> str | None:
    """Return ``text`` with every resident id, mobile and bank card number masked.

    None stays None and text without identifiers comes back unchanged (the same object).
    Only digits change, so the length and every other character are kept; masking masked
    text changes nothing. See the module docstring for what is recognised and what is kept.

    >>> mask_text("客户电话13812345678，身份证11010519491231002X，交易031142026030100123")
    '客户电话138****5678，身份证1101**********002X，交易031142026030100123'
    >>> mask_text("卡号 4111-1111-1111-1111")
    '卡号 ****-****-****-1111'
    """
    if text is None:
        return None
    # A kept group may line up with neighbouring digits into a new candidate once its
    # neighbours are masked; repeating until nothing changes makes masking idempotent.
    masked = _mask_once(text)
    while masked is not text:
        text, masked = masked, _mask_once(masked)
    return masked


def contains_identifier(text: str | None) -> bool:
    """Whether :func:`mask_text` would mask anything in ``text``."""
    return text is not None and mask_text(text) is not text


def mask_frame(frame: pl.DataFrame, columns: Sequence[str] | str | None = None) -> pl.DataFrame:
    """Return ``frame`` with identifiers masked in its String columns.

    ``columns`` names the columns to mask (a single name is accepted too); by default every
    String column is masked. Other dtypes, nested ones included, are left untouched; naming a
    column that is not String raises :class:`TypeError` rather than silently showing it
    unmasked. Text holding JSON or other structure is masked as plain text.

    Each value comes out as :func:`mask_text` would give it. Only the values that polars finds
    holding a long digit run or a grouped number go through Python, so a column of ordinary
    text costs one vectorised regex scan.
    """
    schema = frame.schema
    if columns is None:
        names = [name for name, dtype in schema.items() if dtype == pl.String]
    else:
        names = [columns] if isinstance(columns, str) else list(columns)
        for name in names:
            if name not in schema:
                raise pl.exceptions.ColumnNotFoundError(name)
            if schema[name] != pl.String:
                raise TypeError(
                    f"mask_frame masks String columns; {name!r} is {schema[name]}:"
                    " cast it to String first"
                )
    replaced = []
    for name in names:
        series = frame.get_column(name)
        hits = series.str.contains(_PREFILTER_PATTERN).fill_null(False).arg_true()
        if hits.len() == 0:
            continue
        masked = pl.Series([mask_text(v) for v in series.gather(hits).to_list()], dtype=pl.String)
        replaced.append(series.clone().scatter(hits, masked))
    return frame.with_columns(replaced)
