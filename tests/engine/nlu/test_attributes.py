"""engine/nlu/attributes.py: sizes, colors and quantities, English and Chinese, and their look-alikes."""

from __future__ import annotations

import pytest

from engine.nlu.attributes import find_colors, find_quantities, find_sizes

# -- sizes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("do you have these in size 11?", ["11"]),
        ("size 10.5 please", ["10.5"]),
        ("I wear a US 9", ["US 9"]),
        ("US men's 10.5", ["US 10.5"]),
        ("a UK 8 instead of a UK 7", ["UK 8", "UK 7"]),
        ("EU 42 or size 44?", ["EU 42", "EU 44"]),  # 30-50 in a size context is European
        ("can I swap it for an XL", ["XL"]),
        ("the jacket in M is too tight, do you have L?", ["M", "L"]),
        ("S or M?", ["S", "M"]),
        ("I ordered a small but need a medium", ["S", "M"]),
        ("a medium hoodie", ["M"]),
        ("这双鞋有42码吗", ["EU 42"]),
        ("42 码", ["EU 42"]),
        ("尺码是41的还有吗", ["EU 41"]),
        ("我穿42", ["EU 42"]),
        ("欧码43", ["EU 43"]),
        ("美码9", ["US 9"]),
        ("T恤要M码", ["M"]),
        ("能换成XL号吗", ["XL"]),
        ("冲锋衣有XL吗", ["XL"]),
        ("我要大号的", ["L"]),
        ("中号和小号", ["M", "S"]),
        ("这件是均码吗", ["one size"]),
    ],
)
def test_sizes(text, expected):
    assert find_sizes(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "有什么尺码", "what sizes do you have", "a large order", "small problem: the lid is loose",
        "the 15.6 inch screen size", "size 6.5 inch", "M.2 SSD slot", "send us 2 pairs", "the Novu S5",
        "I'm fine", "3号能到吗", "15号发货", "the Z10 in black", "订单号100023",
    ],
)
def test_not_sizes(text):
    assert find_sizes(text) == []


# -- colors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("does it come in white?", ["white"]),
        ("navy blue or olive", ["navy", "olive"]),
        ("is it available in gray", ["grey"]),
        ("the matte black finish", ["black"]),
        ("rose gold or silver", ["rose gold", "silver"]),
        ("X200有白色的吗", ["white"]),
        ("有深蓝色或者橄榄绿的吗", ["navy", "olive"]),
        ("藏青色", ["navy"]),
        ("我要换成白的", ["white"]),
        ("那双红的多少钱", ["red"]),
        ("收到的是灰色，我买的是蓝色", ["grey", "blue"]),
    ],
)
def test_colors(text, expected):
    assert find_colors(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Black Friday deals", "does it do white noise", "I'm a gold member", "my account is in the red",
        "黑色星期五", "红包怎么用", "蓝牙连不上", "明白的", "耳机黑屏了", "这个颜色有色差", "很有特色", "Bluetooth",
    ],
)
def test_not_colors(text):
    assert find_colors(text) == []


# -- quantities -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("two pairs please", [2]),
        ("add 3 more hiking socks", [3]),
        ("Aurora X200 x2", [2]),
        ("2x Aurora X200", [2]),
        ("qty 4", [4]),
        ("only one of them is broken", [1]),
        ("I need 10 units", [10]),
        ("a dozen socks", [12]),
        ("need 4 of the Kestrel C100 cables", [4]),
        ("five Homely Glow 8 bulbs", [5]),
        ("2 shoes and 2 shirts", [2, 2]),  # repeats kept
        ("我要买3件", [3]),
        ("两个X200，一个充电盒", [2, 1]),
        ("买两双", [2]),
        ("十件以上有优惠吗", [10]),
        ("数量：3", [3]),
        ("徒步袜x3，数据线×2", [3, 2]),
    ],
)
def test_quantities(text, expected):
    assert find_quantities(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "the battery lasts 30 hours", "return it within 30 days", "I gave it 5 stars", "it costs $49",
        "I bought it in 2024", "the X200", "Trailrunner 5 shoes", "the Edge 6 phone", "Cell 50 power bank",
        "size 10 shoes", "one of the best", "第一个订单", "这个能退吗", "我有一个问题", "用了两个月", "续航30个小时",
        "满49包邮吗", "7天无理由", "50块",
    ],
)
def test_not_quantities(text):
    assert find_quantities(text) == []
