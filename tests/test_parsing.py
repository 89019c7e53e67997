"""What people type, read: due dates, next actions, case numbers."""

from datetime import date

import pytest

from handlers.parsing import case_numbers, find_due, split_next_action, take_case

TODAY = date(2021, 9, 8)


@pytest.mark.parametrize("text", ["9月31日再联系", "下次联系 13月45日", "next 2021-02-30", "9月初再看"])
def test_a_date_that_does_not_exist_or_a_month_name_is_no_due_date(text):
    assert find_due(text, TODAY) is None


@pytest.mark.parametrize("text,due", [
    ("观察一周", date(2021, 9, 15)),
    ("三个月后回访", date(2021, 12, 7)),
    ("3天后", date(2021, 9, 11)),
    ("下次联系 9月15日", date(2021, 9, 15)),
    ("next 2021-09-15", date(2021, 9, 15)),
    ("in 2 weeks", date(2021, 9, 22)),
])
def test_due_dates(text, due):
    assert find_due(text, TODAY).when == due


def test_next_week_keeps_its_next():
    text = "customer agreed to upgrade, next week we check"
    due = find_due(text, TODAY)
    assert split_next_action(text, due) == ("customer agreed to upgrade", "next week we check")


def test_case_numbers_once_each_in_order_and_only_whole():
    text = "CAS-00002-BBBBBB, cas-00001-aaaaaa 和CAS-00002-BBBBBB; CAS-00003-CCCCCC-x"
    assert case_numbers(text) == ["CAS-00002-BBBBBB", "CAS-00001-AAAAAA"]
    assert take_case("CAS-00001-AAAAAA-extra agreed") == (None, "CAS-00001-AAAAAA-extra agreed")
    assert take_case("  cas-00001-aaaaaa agreed X ") == ("CAS-00001-AAAAAA", "agreed X")
