"""``init_kit``: writes a small, working, bilingual starter kit a shop edits into its own.

The shop is made up ("Harbor Lane Home", kitchen and home goods, USD, English then Chinese): ten
products with attributes, accessories and compatibility, twelve FAQs in both languages, two trial
customers with orders in several states, and one reply-wording override. It checks clean
(``check_kit``), so a new shop can start the engine on it at once and replace it file by file.

Example:
    >>> root = init_kit(tmp_path / "my-shop")        # doctest: +SKIP
    >>> check_kit(root)                              # doctest: +SKIP
    []
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

__all__ = ["init_kit"]

STORE_YAML = """\
# The shop (docs/store-kit.md). The first language is the default reply language.
name: Harbor Lane Home
currency: USD
languages: [en, zh]
timezone: America/New_York
support:
  hours: {en: "Mon-Fri 09:00-17:00 ET", zh: "周一至周五 09:00-17:00（美东时间）"}
  opening: {mon: "09:00-17:00", tue: "09:00-17:00", wed: "09:00-17:00", thu: "09:00-17:00",
            fri: "09:00-17:00", sat: null, sun: null}
  email: help@harborlane.example
  phone: "+1 555 0142"
policies:
  return_window_days: 30
  free_shipping_over: 50
  refund_business_days: [3, 5]
  non_returnable_categories: [Gift Cards]
  cancel_after_shipping: false
attribute_labels:
  capacity: {en: capacity, zh: 容量}
  material: {en: material, zh: 材质}
  weight: {en: weight, zh: 重量}
  power: {en: power, zh: 功率}
  warranty: {en: warranty, zh: 保修}
order_id_pattern: 'HL[0-9]{5}'
"""

CATALOG_HEADER = ["id", "name", "name:zh", "brand", "category", "category:zh", "price", "stock", "rating",
                  "description", "description:zh", "aliases", "accessories", "compatible_with", "returnable",
                  "attr:capacity", "attr:material", "attr:material:zh", "attr:weight", "attr:power",
                  "attr:warranty"]
# id, name, name:zh, brand, category, category:zh, price, stock, rating, description, description:zh,
# aliases, accessories, compatible_with, returnable, capacity, material, material:zh, weight, power, warranty
CATALOG = [
    ["HL100", "Harbor Electric Kettle 1.7 L", "Harbor 电热水壶 1.7升", "Harbor", "Kitchen > Kettles", "厨房 > 水壶",
     "39.00", "42", "4.6", "Stainless steel kettle with auto shut-off and boil-dry protection.",
     "不锈钢电热水壶，自动断电，防干烧。", "kettle;electric kettle;电水壶", "HL105", "", "true",
     "1.7 L", "stainless steel", "不锈钢", "1.1 kg", "1500 W", "24 months"],
    ["HL101", "Harbor Pour-Over Kettle 0.9 L", "Harbor 手冲壶 0.9升", "Harbor", "Kitchen > Kettles", "厨房 > 水壶",
     "29.00", "18", "4.4", "Gooseneck kettle for pour-over coffee, works on gas and induction hobs.",
     "鹅颈手冲壶，适用于燃气灶和电磁炉。", "gooseneck;pour over kettle", "HL104", "", "true",
     "0.9 L", "stainless steel", "不锈钢", "0.6 kg", "", "12 months"],
    ["HL102", "Lane Cast Iron Skillet 26 cm", "Lane 铸铁平底锅 26厘米", "Lane", "Kitchen > Cookware", "厨房 > 锅具",
     "45.00", "25", "4.8", "Pre-seasoned cast iron skillet; oven safe to 260 °C.",
     "预开锅铸铁平底锅，可进烤箱（最高260°C）。", "skillet;frying pan;平底锅", "HL103", "", "true",
     "", "cast iron", "铸铁", "2.3 kg", "", "120 months"],
    ["HL103", "Lane Silicone Handle Sleeve", "Lane 硅胶锅柄套", "Lane", "Kitchen > Accessories", "厨房 > 配件",
     "9.00", "120", "4.3", "Heat-resistant sleeve for cast iron handles.", "耐热硅胶锅柄套，适用于铸铁锅。",
     "handle sleeve", "", "HL102", "true", "", "silicone", "硅胶", "40 g", "", ""],
    ["HL104", "Harbor Coffee Scale", "Harbor 咖啡电子秤", "Harbor", "Kitchen > Coffee", "厨房 > 咖啡",
     "24.00", "0", "4.5", "Scale with timer, 0.1 g steps up to 2 kg; sold out until next month.",
     "带计时功能的电子秤，精度0.1克，最大称重2公斤。", "coffee scale;scale", "", "HL101", "true",
     "2 kg", "ABS; glass", "ABS；玻璃", "320 g", "", "12 months"],
    ["HL105", "Harbor Descaling Tablets (12)", "Harbor 除垢片（12片）", "Harbor", "Kitchen > Accessories",
     "厨房 > 配件", "8.50", "200", "4.1", "Citric-acid tablets that remove limescale from kettles.",
     "柠檬酸除垢片，去除水壶水垢。", "descaler", "", "HL100", "false", "12 pcs", "", "", "", "", ""],
    ["HL106", "Linen Tea Towels (set of 3)", "亚麻茶巾（3条装）", "Lane", "Home > Textiles", "家居 > 纺织品",
     "19.00", "64", "4.7", "Stonewashed linen towels, 50 x 70 cm.", "石洗亚麻茶巾，50 x 70 厘米。",
     "tea towels;dish towels", "", "", "true", "", "linen", "亚麻", "", "", ""],
    ["HL107", "Harbor Glass Storage Jars (4)", "Harbor 玻璃储物罐（4个）", "Harbor", "Home > Storage",
     "家居 > 收纳", "34.00", "30", "4.2", "Airtight borosilicate jars with bamboo lids.",
     "高硼硅玻璃密封罐，竹盖。", "storage jars;jars", "", "", "true", "1 L", "borosilicate glass; bamboo",
     "高硼硅玻璃；竹", "2.0 kg", "", ""],
    ["HL108", "Lane Chef's Knife 20 cm", "Lane 主厨刀 20厘米", "Lane", "Kitchen > Knives", "厨房 > 刀具",
     "59.00", "15", "4.9", "German steel chef's knife, full tang.", "德国钢主厨刀，全龙骨。",
     "chef knife;knife;菜刀", "HL109", "", "true", "", "stainless steel", "不锈钢", "230 g", "", "60 months"],
    ["HL109", "Lane Knife Sharpener", "Lane 磨刀器", "Lane", "Kitchen > Knives", "厨房 > 刀具", "22.00", "40",
     "4.0", "Two-stage sharpener for straight-edge knives.", "两段式磨刀器，适用于直刃刀具。", "sharpener", "",
     "HL108", "true", "", "", "", "180 g", "", "12 months"],
]

_FAQS = [
    ("returns-window",
     "How long do I have to return an item?", "You can return items within 30 days of delivery, unused and in "
     "their original packaging. Gift cards cannot be returned.", ["can I send something back?", "return policy"],
     "退货期限是多久？", "商品签收后30天内可退货，须未使用且保留原包装。礼品卡不支持退货。", ["可以退货吗？", "退货政策"]),
    ("refund-timing",
     "When will I get my refund?", "Refunds reach your original payment method 3-5 business days after the "
     "return arrives at our warehouse.", ["how long do refunds take"],
     "退款多久到账？", "退货到达仓库后3-5个工作日内，退款将退回原支付方式。", ["退款要多久"]),
    ("shipping-cost",
     "How much is shipping?", "Shipping is free on orders over $50; below that, standard shipping is $5.",
     ["is shipping free?"], "运费是多少？", "订单满50美元免运费，不足50美元收取5美元标准运费。", ["包邮吗？"]),
    ("shipping-time",
     "How long does delivery take?", "Standard delivery takes 3-6 business days after dispatch.",
     ["when will my order arrive"], "多久能送到？", "标准配送在发货后3-6个工作日送达。", ["什么时候到货"]),
    ("cancel-order",
     "Can I cancel my order?", "You can cancel an order until it ships. Once shipped, please return it instead.",
     ["how do I cancel"], "可以取消订单吗？", "订单发货前可以取消；发货后请走退货流程。", ["怎么取消订单"]),
    ("change-address",
     "Can I change my delivery address?", "Yes, until the order ships. Ask us with your order number.",
     ["wrong address on my order"], "可以修改收货地址吗？", "订单发货前可以修改，请提供订单号联系我们。", ["地址填错了"]),
    ("payment-methods",
     "Which payment methods do you accept?", "We accept Visa, Mastercard, American Express and PayPal.",
     ["can I pay with paypal"], "支持哪些付款方式？", "我们支持Visa、万事达、美国运通和PayPal。", ["可以用PayPal吗"]),
    ("warranty",
     "Do your products have a warranty?", "Electric kettles carry 24 months, knives 60 months and cast iron "
     "120 months of warranty; the product page lists each one.", ["what does the warranty cover"],
     "商品有保修吗？", "电热水壶保修24个月，刀具60个月，铸铁锅120个月；具体见商品页面。", ["保修多久"]),
    ("damaged-item",
     "My item arrived damaged. What should I do?", "Sorry about that! Send us a photo with your order number "
     "within 7 days and we will send a replacement at no cost.", ["it arrived broken"],
     "收到的商品损坏了怎么办？", "非常抱歉！请在7天内提供照片和订单号，我们将免费为您补发。", ["东西坏了"]),
    ("contact",
     "How can I contact customer service?", "Email help@harborlane.example or call +1 555 0142, Monday to "
     "Friday 09:00-17:00 ET.", ["phone number"], "如何联系客服？",
     "请发邮件至 help@harborlane.example 或致电 +1 555 0142，周一至周五 09:00-17:00（美东时间）。", ["客服电话"]),
    ("international",
     "Do you ship internationally?", "We currently ship within the United States only.",
     ["do you ship to canada"], "可以寄到国外吗？", "目前仅支持美国境内配送。", ["能寄海外吗"]),
    ("gift-cards",
     "Do you sell gift cards?", "Yes, digital gift cards from $10 to $200, valid for 3 years. They cannot be "
     "returned.", ["gift card"], "有礼品卡吗？", "有，电子礼品卡面额10至200美元，有效期3年，不支持退货。", ["礼品卡"]),
]

CUSTOMERS = [
    ["id", "name", "email", "language"],
    ["C100", "Dana Park", "dana@example.com", "en"],
    ["C101", "Wei Zhang", "wei@example.com", "zh"],
]

ORDERS = [
    {"id": "HL10001", "customer_id": "C100", "placed": "-6d", "status": "shipped",
     "items": [{"product_id": "HL100", "quantity": 1, "price": 39.0}],
     "shipments": [{"carrier": "UPS", "tracking": "1Z999AA10123456784", "shipped": "-2d", "delivered": None,
                    "eta": "+2d"}], "returns": []},
    {"id": "HL10002", "customer_id": "C100", "placed": "-20d", "status": "delivered",
     "items": [{"product_id": "HL102", "quantity": 1, "price": 45.0},
               {"product_id": "HL103", "quantity": 2, "price": 9.0}],
     "shipments": [{"carrier": "USPS", "tracking": "9400111899223856928499", "shipped": "-18d",
                    "delivered": "-14d", "eta": None}], "returns": []},
    {"id": "HL10003", "customer_id": "C101", "placed": "-1d", "status": "processing",
     "items": [{"product_id": "HL106", "quantity": 1, "price": 19.0}], "shipments": [], "returns": []},
    {"id": "HL10004", "customer_id": "C101", "placed": "-25d", "status": "delivered",
     "items": [{"product_id": "HL108", "quantity": 1, "price": 59.0}],
     "shipments": [{"carrier": "UPS", "tracking": "1Z999AA10123456785", "shipped": "-23d", "delivered": "-20d",
                    "eta": None}],
     "returns": [{"id": "R5001", "items": [{"product_id": "HL108", "quantity": 1}], "reason": "too heavy for me",
                  "status": "received", "requested": "-8d", "received": "-3d", "refunded": None,
                  "refund_amount": 59.0}]},
]

TEMPLATES_YAML = """\
# Overrides of the engine's reply wording, per language (keys of engine/responses/templates.yaml).
goodbye:
  en: "Thanks for visiting {store}. Happy cooking!"
  zh: "感谢光临{store}，祝您烹饪愉快！"
"""

INTENTS_YAML = """\
# Extra examples for the engine's intents, in this shop's words.
intents:
  product_question:
    en: ["does the kettle have auto shut-off", "is the skillet oven safe"]
    zh: ["水壶有自动断电吗", "铸铁锅能进烤箱吗"]
"""


def init_kit(directory: str | Path, *, overwrite: bool = False) -> Path:
    """Write the starter kit into ``directory`` (created); returns it.

    Raises:
        FileExistsError: a kit file is already there and ``overwrite`` is False.
    """
    root = Path(directory)
    names = ("store.yaml", "catalog.csv", "faqs.jsonl", "customers.csv", "orders.jsonl", "templates.yaml",
             "intents.yaml")
    existing = [n for n in names if (root / n).exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{root} already holds {', '.join(existing)}; choose an empty folder")
    root.mkdir(parents=True, exist_ok=True)
    (root / "store.yaml").write_text(STORE_YAML, encoding="utf-8")
    with (root / "catalog.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CATALOG_HEADER)
        writer.writerows(CATALOG)
    with (root / "faqs.jsonl").open("w", encoding="utf-8") as fh:
        for faq_id, q_en, a_en, alt_en, q_zh, a_zh, alt_zh in _FAQS:
            for lang, q, a, alt in (("en", q_en, a_en, alt_en), ("zh", q_zh, a_zh, alt_zh)):
                fh.write(json.dumps({"id": faq_id, "language": lang, "question": q, "answer": a,
                                     "alternates": alt}, ensure_ascii=False) + "\n")
    with (root / "customers.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(CUSTOMERS)
    with (root / "orders.jsonl").open("w", encoding="utf-8") as fh:
        for order in ORDERS:
            fh.write(json.dumps(order, ensure_ascii=False) + "\n")
    (root / "templates.yaml").write_text(TEMPLATES_YAML, encoding="utf-8")
    (root / "intents.yaml").write_text(INTENTS_YAML, encoding="utf-8")
    return root
