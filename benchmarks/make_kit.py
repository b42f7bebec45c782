"""Generate a large, realistic-looking store kit (docs/store-kit.md), deterministically from a seed.

Usage:
    python benchmarks/make_kit.py --products 50000 --faqs 2000 --out /tmp/kit50k [--seed 7]
           [--languages en,zh] [--customers 200] [--orders 1000] [--measure]

Products spread over ~40 categories (paths such as ``Kitchen > Kettles``) and ~150 brands, with
category-specific ``attr:`` columns carrying units (``1.7 L``, ``1500 W``, ``30 h``), Chinese
names, categories and attribute values (``name:zh``...), aliases, accessories and compatibility
links to other products. ``--faqs`` counts FAQ lines: each FAQ id is written once per language
(2,000 lines = 1,000 FAQs in en and zh), with alternates. Trial customers and orders use ids of the
kit's ``order_id_pattern``. The same arguments always write the same bytes.

``--measure`` then times ``check_kit`` and ``read_kit`` on the written kit in this process and
records the peak RSS, into benchmarks/results/make_kit.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

# (category en, category zh, noun en, noun zh, [(attr, unit or None, low, high, zh label)])
CATEGORIES = [
    ("Kitchen > Kettles", "厨房 > 水壶", "Kettle", "水壶", [("capacity", "L", 0.5, 2.0), ("power", "W", 800, 2200)]),
    ("Kitchen > Cookware", "厨房 > 锅具", "Skillet", "平底锅", [("diameter", "cm", 18, 32), ("weight", "kg", 0.8, 3.5)]),
    ("Kitchen > Knives", "厨房 > 刀具", "Knife", "刀", [("blade_length", "cm", 8, 26), ("weight", "g", 90, 320)]),
    ("Kitchen > Coffee", "厨房 > 咖啡", "Coffee Grinder", "磨豆机", [("capacity", "g", 30, 250), ("power", "W", 100, 400)]),
    ("Kitchen > Blenders", "厨房 > 料理机", "Blender", "料理机", [("capacity", "L", 0.6, 2.0), ("power", "W", 300, 1500)]),
    ("Kitchen > Storage", "厨房 > 收纳", "Storage Jar", "储物罐", [("capacity", "ml", 250, 2000)]),
    ("Electronics > Audio > Earbuds", "数码 > 音频 > 耳机", "Wireless Earbuds", "无线耳机",
     [("battery_life", "h", 4, 40), ("bluetooth", None, 5.0, 5.3), ("water_resistance", "IPX", 4, 7)]),
    ("Electronics > Audio > Speakers", "数码 > 音频 > 音箱", "Bluetooth Speaker", "蓝牙音箱",
     [("battery_life", "h", 6, 30), ("power", "W", 5, 60)]),
    ("Electronics > Chargers", "数码 > 充电器", "USB-C Charger", "USB-C 充电器", [("power", "W", 18, 140), ("ports", None, 1, 4)]),
    ("Electronics > Cables", "数码 > 数据线", "USB-C Cable", "USB-C 数据线", [("length", "m", 0.5, 3.0)]),
    ("Electronics > Power Banks", "数码 > 充电宝", "Power Bank", "充电宝", [("capacity", "mAh", 5000, 30000), ("weight", "g", 120, 520)]),
    ("Electronics > Keyboards", "数码 > 键盘", "Mechanical Keyboard", "机械键盘", [("keys", None, 60, 108), ("weight", "kg", 0.6, 1.4)]),
    ("Electronics > Mice", "数码 > 鼠标", "Wireless Mouse", "无线鼠标", [("dpi", None, 800, 26000), ("battery_life", "h", 40, 200)]),
    ("Home > Bedding", "家居 > 床品", "Duvet Cover", "被套", [("thread_count", None, 200, 800)]),
    ("Home > Textiles", "家居 > 纺织品", "Tea Towel Set", "茶巾套装", [("pieces", "pcs", 2, 6)]),
    ("Home > Lighting", "家居 > 灯具", "Desk Lamp", "台灯", [("power", "W", 5, 15), ("brightness", "lm", 300, 1200)]),
    ("Home > Cleaning", "家居 > 清洁", "Robot Vacuum", "扫地机器人", [("battery_life", "min", 60, 240), ("suction", "Pa", 1500, 8000)]),
    ("Home > Decor", "家居 > 装饰", "Ceramic Vase", "陶瓷花瓶", [("height", "cm", 12, 45)]),
    ("Sports > Running > Shoes", "运动 > 跑步 > 跑鞋", "Running Shoes", "跑鞋", [("weight", "g", 180, 320), ("drop", "mm", 4, 12)]),
    ("Sports > Running > Apparel", "运动 > 跑步 > 服装", "Running Jacket", "跑步夹克", [("weight", "g", 90, 300)]),
    ("Sports > Cycling", "运动 > 骑行", "Bike Light", "自行车灯", [("brightness", "lm", 100, 1600), ("battery_life", "h", 2, 20)]),
    ("Sports > Yoga", "运动 > 瑜伽", "Yoga Mat", "瑜伽垫", [("thickness", "mm", 3, 10), ("weight", "kg", 0.8, 2.5)]),
    ("Outdoor > Camping > Tents", "户外 > 露营 > 帐篷", "Tent", "帐篷", [("capacity", "persons", 1, 6), ("weight", "kg", 1.0, 8.0)]),
    ("Outdoor > Camping > Sleeping Bags", "户外 > 露营 > 睡袋", "Sleeping Bag", "睡袋", [("comfort_temp", "°C", -10, 15), ("weight", "kg", 0.6, 2.4)]),
    ("Outdoor > Hiking > Backpacks", "户外 > 徒步 > 背包", "Hiking Backpack", "登山包", [("capacity", "L", 15, 70)]),
    ("Outdoor > Hiking > Bottles", "户外 > 徒步 > 水壶", "Water Bottle", "运动水壶", [("capacity", "ml", 350, 1500)]),
    ("Beauty > Skincare", "美妆 > 护肤", "Face Cream", "面霜", [("volume", "ml", 15, 100)]),
    ("Beauty > Hair", "美妆 > 美发", "Hair Dryer", "吹风机", [("power", "W", 1000, 2200), ("weight", "g", 300, 700)]),
    ("Toys > Building Sets", "玩具 > 积木", "Building Set", "积木套装", [("pieces", "pcs", 100, 3000), ("min_age", "years", 3, 14)]),
    ("Toys > Puzzles", "玩具 > 拼图", "Jigsaw Puzzle", "拼图", [("pieces", "pcs", 100, 2000)]),
    ("Books > Cooking", "图书 > 烹饪", "Cookbook", "烹饪书", [("pages", None, 120, 480)]),
    ("Garden > Tools", "园艺 > 工具", "Pruning Shears", "修枝剪", [("length", "cm", 15, 30)]),
    ("Garden > Planters", "园艺 > 花盆", "Planter", "花盆", [("diameter", "cm", 10, 50)]),
    ("Pets > Dogs", "宠物 > 狗", "Dog Bed", "狗窝", [("length", "cm", 50, 120)]),
    ("Pets > Cats", "宠物 > 猫", "Cat Tree", "猫爬架", [("height", "cm", 60, 180)]),
    ("Office > Stationery", "办公 > 文具", "Notebook", "笔记本", [("pages", None, 80, 300)]),
    ("Office > Chairs", "办公 > 椅子", "Office Chair", "办公椅", [("max_load", "kg", 100, 160)]),
    ("Baby > Feeding", "母婴 > 喂养", "Baby Bottle", "奶瓶", [("capacity", "ml", 120, 330)]),
    ("Tea > Green Tea", "茶 > 绿茶", "Green Tea", "绿茶", [("weight", "g", 50, 250)]),
    ("Tea > Teaware", "茶 > 茶具", "Teapot", "茶壶", [("capacity", "ml", 150, 800)]),
]
MATERIALS = [("stainless steel", "不锈钢"), ("aluminium", "铝"), ("cotton", "棉"), ("linen", "亚麻"),
             ("ceramic", "陶瓷"), ("glass", "玻璃"), ("bamboo", "竹"), ("silicone", "硅胶"), ("plastic", "塑料"),
             ("wood", "木"), ("nylon", "尼龙"), ("leather", "皮革")]
COLOURS = [("black", "黑色"), ("white", "白色"), ("grey", "灰色"), ("blue", "蓝色"), ("green", "绿色"),
           ("red", "红色"), ("sand", "沙色"), ("navy", "藏青色")]
SYLLABLES = ["ar", "bel", "cor", "dan", "el", "fin", "gar", "hal", "is", "jor", "kel", "lum", "mar", "nor",
             "ol", "pra", "quin", "ros", "sol", "tor", "ul", "ver", "wen", "xan", "yor", "zel"]
MODELS = ["Pro", "Lite", "Max", "Mini", "Plus", "Air", "One", "Go", "Classic", "Studio"]
TOPICS = [
    ("returns", "How long do I have to return {thing}?", "You can return {thing} within {days} days of delivery.",
     "{thing_zh}的退货期限是多久？", "{thing_zh}签收后{days}天内可以退货。"),
    ("shipping", "How much does shipping cost for {thing}?", "Shipping for {thing} is free over {free}; otherwise 5.",
     "{thing_zh}的运费是多少？", "{thing_zh}订单满{free}免运费，否则收取5元运费。"),
    ("warranty", "What warranty does {thing} have?", "{thing} comes with a {months}-month warranty.",
     "{thing_zh}保修多久？", "{thing_zh}保修{months}个月。"),
    ("care", "How do I clean {thing}?", "Wipe {thing} with a damp cloth; do not use abrasive cleaners.",
     "{thing_zh}怎么清洁？", "请用湿布擦拭{thing_zh}，勿使用研磨性清洁剂。"),
    ("stock", "When will {thing} be back in stock?", "{thing} is restocked every {weeks} weeks.",
     "{thing_zh}什么时候补货？", "{thing_zh}每{weeks}周补货一次。"),
    ("sizing", "How do I choose the right size of {thing}?", "Check the size chart on the page of {thing}.",
     "{thing_zh}怎么选尺寸？", "请查看{thing_zh}商品页面上的尺码表。"),
]


def _brand(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def _value(rng: random.Random, unit: str | None, low: float, high: float) -> str:
    if unit == "IPX":
        return f"IPX{rng.randint(int(low), int(high))}"
    if isinstance(low, float) or isinstance(high, float):
        v = round(rng.uniform(low, high), 1)
    else:
        v = rng.randint(int(low), int(high))
    return f"{v} {unit}" if unit else str(v)


def make_kit(out: Path, products: int, faqs: int, *, seed: int = 7, languages: tuple[str, ...] = ("en", "zh"),
             customers: int = 200, orders: int = 1000) -> Path:
    if products < 1 or faqs < 1:
        raise ValueError("--products and --faqs must be >= 1")
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    zh = "zh" in languages and languages[0] != "zh"
    brands = sorted({_brand(rng) for _ in range(150)})
    attr_names = sorted({a[0] for c in CATEGORIES for a in c[4]})
    labels_zh = {"capacity": "容量", "power": "功率", "diameter": "直径", "weight": "重量", "blade_length": "刃长",
                 "battery_life": "续航", "bluetooth": "蓝牙版本", "water_resistance": "防水等级", "ports": "接口数",
                 "length": "长度", "keys": "键数", "dpi": "DPI", "thread_count": "支数", "pieces": "件数",
                 "brightness": "亮度", "suction": "吸力", "height": "高度", "drop": "落差", "thickness": "厚度",
                 "comfort_temp": "舒适温度", "volume": "容量", "min_age": "适用年龄", "pages": "页数",
                 "max_load": "承重", "material": "材质", "colour": "颜色"}
    store = {
        "name": "Scale Test Market", "currency": "USD", "languages": list(languages), "timezone": "America/Chicago",
        "support": {"hours": {lang: ("Mon-Sat 08:00-20:00" if lang != "zh" else "周一至周六 08:00-20:00")
                              for lang in languages},
                    "opening": {d: ("08:00-20:00" if d != "sun" else None)
                                for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
                    "email": "help@scale.example", "phone": "+1 555 0199"},
        "policies": {"return_window_days": 30, "free_shipping_over": 49, "refund_business_days": [5, 7],
                     "non_returnable_categories": ["Beauty > Skincare"], "cancel_after_shipping": False},
        "attribute_labels": {a: {"en": a.replace("_", " "), **({"zh": labels_zh[a]} if "zh" in languages else {})}
                             for a in [*attr_names, "material", "colour"] if "en" in languages},
        "order_id_pattern": "[0-9]{6}",
    }
    import yaml  # the generator's own dependency; kits are plain files

    (out / "store.yaml").write_text(yaml.safe_dump(store, allow_unicode=True, sort_keys=False), encoding="utf-8")

    header = ["id", "name", "brand", "category", "price", "stock", "rating", "description", "aliases",
              "accessories", "compatible_with", "returnable"]
    header += [f"attr:{a}" for a in attr_names] + ["attr:material", "attr:colour"]
    if zh:
        header += ["name:zh", "category:zh", "description:zh", "attr:material:zh", "attr:colour:zh"]
    col = {h: i for i, h in enumerate(header)}
    width = len(header)
    ids = [f"P{i:06d}" for i in range(1, products + 1)]
    with (out / "catalog.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i, pid in enumerate(ids):
            cat_en, cat_zh, noun, noun_zh, attrs = CATEGORIES[rng.randrange(len(CATEGORIES))]
            brand = rng.choice(brands)
            model = f"{rng.choice(MODELS)} {rng.randint(1, 9)}{rng.choice(['', '0', '00'])}"
            colour, colour_zh = rng.choice(COLOURS)
            material, material_zh = rng.choice(MATERIALS)
            row = [""] * width
            name = f"{brand} {model} {noun}"
            row[col["id"]] = pid
            row[col["name"]] = f"{name} ({colour})" if rng.random() < 0.4 else name
            row[col["brand"]] = brand
            row[col["category"]] = cat_en
            row[col["price"]] = f"{rng.uniform(4, 600):.2f}"
            row[col["stock"]] = str(rng.choice([0, rng.randint(1, 500)]) if rng.random() < 0.2 else rng.randint(1, 500))
            row[col["rating"]] = f"{rng.uniform(2.5, 5):.1f}"
            row[col["description"]] = (f"The {name} is a {material} {noun.lower()} from {brand}, in {colour}. "
                                       f"Model {model}; ships in 1-2 business days.")
            row[col["aliases"]] = f"{brand} {model};{model} {noun.lower()}"
            if i > 0 and rng.random() < 0.15:
                row[col["accessories"]] = ";".join(sorted({ids[rng.randrange(i)] for _ in range(rng.randint(1, 2))}))
            if i > 0 and rng.random() < 0.1:
                row[col["compatible_with"]] = ids[rng.randrange(i)]
            row[col["returnable"]] = "false" if cat_en == "Beauty > Skincare" else "true"
            for a, unit, low, high in attrs:
                row[col[f"attr:{a}"]] = _value(rng, unit, low, high)
            row[col["attr:material"]] = material
            row[col["attr:colour"]] = colour
            if zh:
                row[col["name:zh"]] = f"{brand} {model} {noun_zh}"
                row[col["category:zh"]] = cat_zh
                row[col["description:zh"]] = f"{brand}出品的{material_zh}{noun_zh}，{colour_zh}，型号{model}。"
                row[col["attr:material:zh"]] = material_zh
                row[col["attr:colour:zh"]] = colour_zh
            w.writerow(row)

    per_lang = max(1, -(-faqs // len(languages)))
    written = 0
    with (out / "faqs.jsonl").open("w", encoding="utf-8") as fh:
        for k in range(per_lang):
            topic, q_en, a_en, q_zh, a_zh = TOPICS[k % len(TOPICS)]
            cat_en, cat_zh, noun, noun_zh, _ = CATEGORIES[(k // len(TOPICS)) % len(CATEGORIES)]
            brand = brands[(k // (len(TOPICS) * len(CATEGORIES))) % len(brands)]
            thing, thing_zh = f"the {brand} {noun.lower()}", f"{brand}{noun_zh}"
            values = {"thing": thing, "thing_zh": thing_zh, "days": 30, "free": 49,
                      "months": rng.choice([6, 12, 24]), "weeks": rng.randint(1, 6)}
            for lang in languages:
                if written >= faqs:
                    break
                if lang == "zh":
                    q, a, alt = q_zh.format(**values), a_zh.format(**values), [f"{thing_zh} {topic}"]
                else:
                    q, a = q_en.format(**values), a_en.format(**values)
                    q, a = q[0].upper() + q[1:], a[0].upper() + a[1:]
                    alt = [f"{topic} question about {thing}"]
                fh.write(json.dumps({"id": f"{topic}-{k:05d}", "language": lang, "question": q, "answer": a,
                                     "alternates": alt}, ensure_ascii=False) + "\n")
                written += 1

    with (out / "customers.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "email", "language"])
        for c in range(customers):
            first = _brand(rng)
            w.writerow([f"C{c:05d}", f"{first} {_brand(rng)}", f"{first.lower()}{c}@example.com",
                        languages[c % len(languages)]])
    statuses = ["processing", "shipped", "delivered", "delivered", "cancelled"]
    with (out / "orders.jsonl").open("w", encoding="utf-8") as fh:
        for o in range(orders if customers else 0):
            status = statuses[o % len(statuses)]
            placed = rng.randint(1, 60)
            items = [{"product_id": ids[rng.randrange(products)], "quantity": rng.randint(1, 3),
                      "price": round(rng.uniform(4, 600), 2)} for _ in range(rng.randint(1, 3))]
            order = {"id": f"{100000 + o}", "customer_id": f"C{rng.randrange(customers):05d}", "placed": f"-{placed}d",
                     "status": status, "items": items, "shipments": [], "returns": []}
            if status in ("shipped", "delivered"):
                shipped = max(placed - 2, 0)
                order["shipments"] = [{"carrier": rng.choice(["UPS", "USPS", "FedEx"]),
                                       "tracking": f"1Z{rng.randrange(10**12):012d}", "shipped": f"-{shipped}d",
                                       "delivered": f"-{max(shipped - 3, 0)}d" if status == "delivered" else None,
                                       "eta": None if status == "delivered" else "+2d"}]
            if status == "delivered" and rng.random() < 0.2:
                order["returns"] = [{"id": f"R{o:06d}", "items": [{"product_id": items[0]["product_id"], "quantity": 1}],
                                     "reason": "changed my mind", "status": "requested", "requested": "-1d",
                                     "received": None, "refunded": None, "refund_amount": None}]
            fh.write(json.dumps(order, ensure_ascii=False) + "\n")
    return out


def _rss_peak_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, required=True)
    ap.add_argument("--faqs", type=int, default=2000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--languages", default="en,zh")
    ap.add_argument("--customers", type=int, default=200)
    ap.add_argument("--orders", type=int, default=1000)
    ap.add_argument("--measure", action="store_true", help="time check_kit and read_kit on the result")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    make_kit(args.out, args.products, args.faqs, seed=args.seed, languages=tuple(args.languages.split(",")),
             customers=args.customers, orders=args.orders)
    print(f"wrote {args.out} ({args.products:,} products, {args.faqs:,} FAQ lines) in {time.perf_counter() - t0:.1f} s")
    if not args.measure:
        return 0
    from knowledge.kit import check_kit, read_kit

    before = _rss_peak_mb()
    t0 = time.perf_counter()
    problems = check_kit(args.out)
    check_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    kit = read_kit(args.out)
    read_s = time.perf_counter() - t0
    peak = _rss_peak_mb()
    result = {"products": args.products, "faq_lines": args.faqs, "problems": len(problems),
              "check_s": round(check_s, 2), "read_s": round(read_s, 2), "catalog": len(kit.catalog),
              "faqs": len(kit.faqs), "rss_peak_mb": round(peak, 1), "rss_before_mb": round(before, 1)}
    print(json.dumps(result))
    sys.path.insert(0, str(HERE))
    from _common import write

    write("make_kit", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
