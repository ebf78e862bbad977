"""FAQ search in any script, and the helpfulness counts."""

import pytest

from yanpiao.faq import SearchEntry, record_vote, search, vote_counts

ENTRIES = [
    SearchEntry("limit", "Why only 5 checks a day?", "Every attempt counts. Daily limit."),
    SearchEntry("digital", "My invoice has no code", "A fully digital invoice (数电发票) has none."),
    SearchEntry("void", "What does “Voided” mean?", "作废: the seller cancelled it. See the limit."),
    SearchEntry("zh", "为什么显示查无此票？", "发票代码或号码输错了。"),
]


@pytest.mark.parametrize("query, expected", [
    ("limit", ["limit", "void"]),           # a question hit ranks first
    ("LIMIT", ["limit", "void"]),           # case-insensitive
    ("daily limit", ["limit"]),             # every word must be there
    ("limit seller", ["void"]),
    ("数电", ["digital"]),                   # Chinese: substrings, no spaces needed
    ("查无此票", ["zh"]),
    ("ｌｉｍｉｔ", ["limit", "void"]),         # full-width letters fold
    ("“voided”?", ["void"]),                # punctuation ignored
    ("nothing like this", []),
])
def test_search(query, expected):
    assert search(ENTRIES, query) == expected


@pytest.mark.parametrize("query", ["", "   ", "?!"])
def test_an_empty_query_keeps_everything(query):
    assert search(ENTRIES, query) == ["limit", "digital", "void", "zh"]


def test_votes_are_counted_per_question(session):
    for helpful in (True, True, False):
        record_vote(session, "limit", helpful)
    record_vote(session, "void", False)
    session.commit()
    assert vote_counts(session, ["limit", "void", "zh"]) == {
        "limit": (2, 1), "void": (0, 1), "zh": (0, 0)}
