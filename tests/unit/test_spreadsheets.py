"""Cells written for spreadsheets: formulas stay text, numbers stay numbers."""

import pytest

from yanpiao.spreadsheets import csv_cell, formula_like


@pytest.mark.parametrize("text", ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
                                  "\t=1", "\r=1"])
def test_formula_like_text_is_quoted(text):
    assert formula_like(text) and csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["-100", "+5", "-1,234.50", "12345678", "Found", "", 7, None])
def test_numbers_and_words_are_left_alone(value):
    assert not formula_like(value) and csv_cell(value) == value
