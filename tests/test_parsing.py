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


def test_next_week_is_the_date_not_the_action():
    text = "customer agreed to upgrade, next week we check"
    due = find_due(text, TODAY)
    assert split_next_action(text, due) == ("customer agreed to upgrade", "we check")


@pytest.mark.parametrize("text,agreed,action", [
    # The phrase that set the date is not part of the action (issue 13).
    ("客户说周五前不能重启 in 7 days", "客户说周五前不能重启", None),
    ("customer did not answer, in 2 days", "customer did not answer", None),
    ("客户同意升级，3天后再联系", "客户同意升级", "再联系"),
    ("agreed to upgrade, call back on 2021-09-20", "agreed to upgrade", "call back"),
    # ... except where it says how long to observe.
    ("客户同意升级亚信安全软件，观察一周", "客户同意升级亚信安全软件", "观察一周"),
])
def test_the_date_phrase_is_cut_from_the_action(text, agreed, action):
    assert split_next_action(text, find_due(text, TODAY)) == (agreed, action)


@pytest.mark.parametrize("tail,want", [
    ("P2 customer:Contoso contact:Li Lei Laptops BSOD after update",
     ("P2", "Contoso", "Li Lei", "Laptops BSOD after update")),
    ('customer:"Big Bank" contact:"Li Lei" Laptops BSOD', (None, "Big Bank", "Li Lei", "Laptops BSOD")),
    ("P3 customer:ICBC contact:洪先生 总行 win10 蓝屏", ("P3", "ICBC", "洪先生", "总行 win10 蓝屏")),
    ("客户：“工商 银行” 标题：电脑蓝屏 P1", ("P1", "工商 银行", None, "电脑蓝屏")),
    ("contact:Bob printer crashes", (None, None, "Bob", "printer crashes")),
    ("P4", ("P4", None, None, None)),
])
def test_case_open_options_take_several_words_and_quotes(tail, want):
    from handlers.parsing import parse_open

    got = parse_open(tail)
    assert (got.priority, got.customer, got.contact, got.title) == want


def test_case_numbers_once_each_in_order_and_only_whole():
    text = "CAS-00002-BBBBBB, cas-00001-aaaaaa 和CAS-00002-BBBBBB; CAS-00003-CCCCCC-x"
    assert case_numbers(text) == ["CAS-00002-BBBBBB", "CAS-00001-AAAAAA"]
    assert take_case("CAS-00001-AAAAAA-extra agreed") == (None, "CAS-00001-AAAAAA-extra agreed")
    assert take_case("  cas-00001-aaaaaa agreed X ") == ("CAS-00001-AAAAAA", "agreed X")
