"""Deterministic product catalog of the Brightcart demo store.

This module owns what the demo store *sells*: eleven categories of invented brands and models,
each product a plain JSON-ready dict with a price, stock, rating, typed attributes (a number
always carries a unit) and relations (``accessory_of``, ``compatible_with``, ``similar_to``,
``bundle``) pointing from the product to another product of the same catalog. Every product of a
``product_type`` has the same attribute keys, and every product has the store's ``warranty`` for
its category. Everything is drawn from one ``random.Random(seed)`` in a fixed order, so a seed
gives byte-identical output; the fixture products of docs/contract.md (demo store fixtures) have fixed ids and values
whatever the seed.

Example:
    >>> products = generate_catalog(7)
    >>> x200 = next(p for p in products if p["id"] == FIXTURE_PRODUCT_X200)
    >>> x200["name"], x200["attributes"]["bluetooth_version"]["value"]
    ('Aurora X200 Wireless Earbuds', '5.3')
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CATEGORIES",
    "RELATION_TYPES",
    "FIXTURE_PRODUCT_X200",
    "FIXTURE_PRODUCT_X200_CASE",
    "FIXTURE_PRODUCT_TRAILRUNNER",
    "generate_catalog",
    "dump_catalog",
]

FIXTURE_PRODUCT_X200 = "P1001"
FIXTURE_PRODUCT_X200_CASE = "P1002"
FIXTURE_PRODUCT_TRAILRUNNER = "P1003"

RELATION_TYPES = ("accessory_of", "compatible_with", "similar_to", "bundle")

#: Category id -> English and Chinese display names, in catalog order.
CATEGORIES: dict[str, dict[str, str]] = {
    "audio": {"name": "Audio", "name_zh": "音频"},
    "phones": {"name": "Phones & Tablets", "name_zh": "手机平板"},
    "mobile_accessories": {"name": "Mobile Accessories", "name_zh": "手机配件"},
    "computing": {"name": "Computing", "name_zh": "电脑办公"},
    "wearables": {"name": "Wearables", "name_zh": "智能穿戴"},
    "footwear": {"name": "Footwear", "name_zh": "鞋靴"},
    "apparel": {"name": "Apparel", "name_zh": "服装"},
    "kitchen": {"name": "Kitchen", "name_zh": "厨房电器"},
    "outdoor": {"name": "Outdoor", "name_zh": "户外运动"},
    "smart_home": {"name": "Smart Home", "name_zh": "智能家居"},
    "gaming": {"name": "Gaming", "name_zh": "游戏"},
}

# The store's warranty policy (see faqs.py), so attributes and FAQ answers never disagree.
_WARRANTY = {"kitchen": (24, "months"), "footwear": (90, "days"), "apparel": (90, "days")}

# key -> (English label, Chinese label); one label per key across the whole catalog.
_LABELS: dict[str, tuple[str, str]] = {
    "battery_life": ("battery life", "续航"),
    "bluetooth_version": ("Bluetooth version", "蓝牙版本"),
    "compatible_os": ("works with", "兼容系统"),
    "noise_cancelling": ("active noise cancelling", "主动降噪"),
    "water_resistance": ("water resistance", "防水等级"),
    "charging_port": ("charging port", "充电接口"),
    "weight": ("weight", "重量"),
    "warranty": ("warranty", "保修期"),
    "driver_size": ("driver size", "驱动单元尺寸"),
    "output_power": ("output power", "输出功率"),
    "wireless_charging": ("wireless charging", "无线充电"),
    "screen_size": ("screen size", "屏幕尺寸"),
    "storage": ("storage", "存储容量"),
    "ram": ("memory", "运行内存"),
    "battery_capacity": ("battery capacity", "电池容量"),
    "camera": ("main camera", "主摄像头"),
    "os": ("operating system", "操作系统"),
    "five_g": ("5G", "支持5G"),
    "material": ("material", "材质"),
    "drop_protection": ("drop protection", "防摔高度"),
    "hardness": ("surface hardness", "硬度"),
    "pack_size": ("pack size", "包装数量"),
    "ports": ("ports", "接口数量"),
    "connector": ("connector", "接口类型"),
    "charging_standard": ("fast-charging standard", "快充协议"),
    "cable_length": ("cable length", "线长"),
    "processor": ("processor", "处理器"),
    "resolution": ("resolution", "分辨率"),
    "refresh_rate": ("refresh rate", "刷新率"),
    "panel_type": ("panel type", "面板类型"),
    "layout": ("layout", "键盘布局"),
    "switch_type": ("switch type", "轴体"),
    "connectivity": ("connectivity", "连接方式"),
    "dpi": ("sensor resolution", "鼠标DPI"),
    "backlit": ("backlit keys", "背光键盘"),
    "display": ("display", "屏幕类型"),
    "gps": ("built-in GPS", "内置GPS"),
    "heart_rate": ("heart-rate monitor", "心率监测"),
    "band_size": ("band width", "表带宽度"),
    "colors": ("colors", "颜色"),
    "sizes": ("available sizes", "可选尺码"),
    "width": ("width", "鞋楦宽度"),
    "drop_mm": ("heel-to-toe drop", "跟差"),
    "waterproof": ("waterproof", "防水"),
    "fit": ("fit", "版型"),
    "care": ("care", "洗涤说明"),
    "capacity": ("capacity", "容量"),
    "power": ("power", "功率"),
    "presets": ("presets", "预设程序"),
    "dishwasher_safe": ("dishwasher-safe parts", "可洗碗机清洗"),
    "color": ("color", "颜色"),
    "season": ("season rating", "适用季节"),
    "water_column": ("waterproof rating", "防水指数"),
    "volume": ("volume", "容积"),
    "hydration_compatible": ("hydration-bladder compatible", "兼容水袋"),
    "temperature_rating": ("comfort temperature", "舒适温标"),
    "fill": ("fill", "填充物"),
    "max_length": ("maximum length", "最大长度"),
    "keeps_cold": ("keeps drinks cold", "保冷时长"),
    "keeps_hot": ("keeps drinks hot", "保温时长"),
    "voice_assistants": ("voice assistants", "语音助手"),
    "hub_required": ("hub required", "需要网关"),
    "energy_monitoring": ("energy monitoring", "电量统计"),
    "max_current": ("maximum load", "最大电流"),
    "brightness": ("brightness", "亮度"),
    "full_color": ("full color", "全彩调光"),
    "night_vision": ("night vision", "夜视"),
    "field_of_view": ("field of view", "视角"),
    "power_source": ("power source", "供电方式"),
    "suction": ("suction power", "吸力"),
    "mopping": ("mopping", "拖地功能"),
    "self_emptying": ("self-emptying dock", "自动集尘"),
    "handheld": ("handheld mode", "掌机模式"),
    "platforms": ("platforms", "适用平台"),
    "microphone": ("microphone", "麦克风"),
    "rgb": ("RGB lighting", "RGB灯效"),
    "buttons": ("programmable buttons", "可编程按键"),
}


# --- attribute value specs ---------------------------------------------------------------------
# Each spec draws one value; ``tiered`` specs follow the product's price tier (pricier = better).


def _clamp(x: float) -> float:
    return min(1.0, max(0.0, x))


@dataclass(frozen=True)
class _Num:
    lo: float
    hi: float
    step: float
    unit: str
    note: str | None = None
    tiered: bool = False

    def draw(self, rng: random.Random, tier: float) -> tuple[Any, str | None, str | None]:
        x = _clamp(tier + rng.uniform(-0.2, 0.2)) if self.tiered else rng.random()
        value = self.lo + round(x * round((self.hi - self.lo) / self.step)) * self.step
        if isinstance(self.step, int) and isinstance(self.lo, int):
            return int(value), self.unit, self.note
        return round(value, 2), self.unit, self.note


@dataclass(frozen=True)
class _Pick:
    options: tuple[Any, ...]
    unit: str | None = None
    tiered: bool = False

    def draw(self, rng: random.Random, tier: float) -> tuple[Any, str | None, str | None]:
        x = _clamp(tier + rng.uniform(-0.25, 0.25)) if self.tiered else rng.random()
        return self.options[min(int(x * len(self.options)), len(self.options) - 1)], self.unit, None


@dataclass(frozen=True)
class _Many:
    """A sub-list of ``options`` (kept in their order); ``span`` makes it contiguous (sizes)."""

    options: tuple[str, ...]
    least: int
    most: int
    span: bool = False

    def draw(self, rng: random.Random, tier: float) -> tuple[Any, str | None, str | None]:
        k = rng.randint(self.least, self.most)
        if self.span:
            start = rng.randint(0, len(self.options) - k)
            return list(self.options[start : start + k]), None, None
        picked = sorted(rng.sample(range(len(self.options)), k))
        return [self.options[i] for i in picked], None, None


@dataclass(frozen=True)
class _Flag:
    p: float

    def draw(self, rng: random.Random, tier: float) -> tuple[Any, str | None, str | None]:
        return rng.random() < self.p, None, None


@dataclass(frozen=True)
class _Fixed:
    value: Any
    unit: str | None = None
    note: str | None = None

    def draw(self, rng: random.Random, tier: float) -> tuple[Any, str | None, str | None]:
        value = list(self.value) if isinstance(self.value, (list, tuple)) else self.value
        return value, self.unit, self.note


@dataclass(frozen=True)
class _Kind:
    """One product type: how its names, prices, attributes and relations are drawn.

    ``codes`` are model-code patterns (``{n}`` becomes a digit). An ``accessory`` kind is named
    after its one target (``... for Novu S3``); ``same_brand`` accessories take the target's
    brand and code (``Aurora X200 Charging Case``).
    """

    category: str
    noun: str
    noun_zh: str
    short: str
    brands: tuple[str, ...]
    codes: tuple[str, ...]
    count: int
    price: tuple[float, float]
    attrs: dict[str, Any]
    blurb: str
    relation: str | None = None
    targets: tuple[str, ...] = ()
    n_targets: tuple[int, int] = (1, 1)
    accessory: bool = False
    same_brand: bool = False
    product_type: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "product_type", re.sub(r"[^a-z0-9]+", "_", self.noun.lower()))


_OS = _Fixed(["iOS", "Android"])
_BT = _Pick(("5.0", "5.2", "5.3", "5.4"), tiered=True)
_USBC = _Fixed("USB-C")
_COLORS = ("black", "white", "navy", "olive", "sand", "red", "grey", "teal")
_SHOE_SIZES = tuple(str(s).replace(".0", "") for s in [x / 2 for x in range(10, 29)])
_GARMENT_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
_HOME_NET = _Many(("Wi-Fi", "Bluetooth", "Zigbee", "Matter"), 1, 2)
_ASSISTANTS = _Many(("Alexa", "Google Assistant", "Apple Home"), 1, 3)
_USBC_DEVICES = ("Smartphone", "Tablet", "Wireless Earbuds", "Over-Ear Headphones")
_CONSOLES = ("Game Console",)

# Devices come before the kinds that point at them; ids follow this order.
_KINDS: tuple[_Kind, ...] = (
    _Kind("audio", "Wireless Earbuds", "无线耳机", "earbuds", ("Aurora", "Sonique", "Halden", "Bassline"),
          ("X{n}00", "Z{n}0", "Air {n}", "Buds {n} Pro"), 8, (29, 249),
          {"battery_life": _Num(18, 40, 2, "h", "with the charging case", True), "bluetooth_version": _BT,
           "compatible_os": _OS, "noise_cancelling": _Flag(0.6),
           "water_resistance": _Pick(("IPX4", "IPX5", "IP54", "IP55")), "charging_port": _USBC,
           "weight": _Num(40, 62, 1, "g")},
          "True wireless earbuds with up to {battery_life} hours of listening with the charging case, "
          "Bluetooth {bluetooth_version} and {water_resistance} sweat resistance. Works with {compatible_os}."),
    _Kind("audio", "Over-Ear Headphones", "头戴式耳机", "headphones", ("Aurora", "Sonique", "Halden"),
          ("H{n}00", "Studio {n}", "Quiet {n}0"), 6, (59, 399),
          {"battery_life": _Num(20, 60, 5, "h", None, True), "bluetooth_version": _BT, "compatible_os": _OS,
           "noise_cancelling": _Flag(0.75), "driver_size": _Pick((30, 40, 45, 50), "mm", True),
           "charging_port": _USBC, "weight": _Num(220, 330, 5, "g")},
          "Over-ear wireless headphones with {driver_size} mm drivers, up to {battery_life} hours of "
          "battery life and Bluetooth {bluetooth_version}."),
    _Kind("audio", "Bluetooth Speaker", "蓝牙音箱", "speaker", ("Sonique", "Bassline", "Halden"),
          ("Boom {n}", "S{n}0", "Wave {n}"), 6, (29, 299),
          {"battery_life": _Num(8, 24, 2, "h", None, True), "bluetooth_version": _BT,
           "output_power": _Num(10, 60, 5, "W", None, True), "water_resistance": _Pick(("IPX5", "IPX7", "IP67")),
           "charging_port": _USBC, "weight": _Num(300, 1500, 50, "g", None, True)},
          "Portable speaker with {output_power} W of sound, {battery_life} hours of playback and "
          "{water_resistance} water resistance."),
    _Kind("phones", "Smartphone", "智能手机", "phone", ("Novu", "Lumen", "Orbit"),
          ("S{n}", "Note {n}0", "A{n}5", "Edge {n}"), 10, (199, 1199),
          {"screen_size": _Num(6.1, 6.9, 0.1, "in", None, True), "storage": _Pick((64, 128, 256, 512), "GB", True),
           "ram": _Pick((4, 6, 8, 12, 16), "GB", True), "battery_capacity": _Num(3500, 5500, 100, "mAh", None, True),
           "camera": _Pick((12, 48, 50, 108, 200), "MP", True), "os": _Fixed("Android"), "five_g": _Flag(0.85),
           "water_resistance": _Pick(("IP53", "IP67", "IP68"), None, True), "charging_port": _USBC,
           "weight": _Num(165, 230, 1, "g")},
          "A {screen_size}-inch Android phone with {storage} GB of storage, {ram} GB of RAM, a {camera} MP "
          "main camera and a {battery_capacity} mAh battery."),
    _Kind("phones", "Tablet", "平板电脑", "tablet", ("Novu", "Lumen", "Orbit"), ("Tab {n}", "Pad {n}0", "Slate {n}"),
          6, (149, 899),
          {"screen_size": _Num(8.0, 13.0, 0.5, "in", None, True), "storage": _Pick((64, 128, 256, 512), "GB", True),
           "ram": _Pick((4, 6, 8, 12), "GB", True), "battery_capacity": _Num(5000, 10000, 250, "mAh", None, True),
           "os": _Fixed("Android"), "charging_port": _USBC, "weight": _Num(300, 680, 10, "g", None, True)},
          "A {screen_size}-inch tablet with {storage} GB of storage and {ram} GB of RAM, made for reading, "
          "streaming and note-taking."),
    _Kind("mobile_accessories", "Wall Charger", "充电器", "charger", ("Voltix", "Nexcell"),
          ("GaN {n}5", "Dual {n}0", "Nano {n}0"), 5, (15, 69),
          {"output_power": _Pick((20, 30, 45, 65, 100, 140), "W", True), "ports": _Num(1, 4, 1, "ports", None, True),
           "connector": _Pick(("USB-C", "USB-C + USB-A")), "charging_standard": _Pick(("PD 3.0", "PD 3.1", "PD 3.0 + QC 4")),
           "weight": _Num(40, 220, 5, "g", None, True)},
          "A {ports}-port, {output_power} W wall charger ({connector}) with {charging_standard} fast charging.",
          relation="compatible_with", targets=_USBC_DEVICES, n_targets=(3, 5)),
    _Kind("mobile_accessories", "USB-C Cable", "数据线", "cable", ("Voltix", "Nexcell", "Kestrel"),
          ("C{n}00", "Braid {n}", "Flex {n}"), 4, (9, 29),
          {"cable_length": _Pick((1.0, 1.5, 2.0, 3.0), "m"), "connector": _Pick(("USB-C to USB-C", "USB-A to USB-C")),
           "output_power": _Pick((60, 100, 240), "W"), "material": _Pick(("braided nylon", "TPE"))},
          "A {cable_length} m {connector} cable in {material}, rated for up to {output_power} W.",
          relation="compatible_with", targets=_USBC_DEVICES, n_targets=(2, 4)),
    _Kind("mobile_accessories", "Power Bank", "移动电源", "power bank", ("Voltix", "Nexcell"),
          ("Cell {n}0", "Boost {n}", "PB{n}0"), 5, (19, 99),
          {"battery_capacity": _Pick((5000, 10000, 20000, 26800), "mAh", True),
           "output_power": _Pick((18, 20, 30, 45, 65, 100), "W", True), "ports": _Num(1, 3, 1, "ports"),
           "wireless_charging": _Flag(0.4), "weight": _Num(110, 520, 10, "g", None, True)},
          "A {battery_capacity} mAh, {ports}-port power bank with {output_power} W fast charging.",
          relation="compatible_with", targets=_USBC_DEVICES, n_targets=(2, 4)),
    _Kind("mobile_accessories", "Phone Case", "手机壳", "case", ("Armorly", "Kestrel", "Nexcell"),
          ("Shield", "Guard", "Armor", "Edge", "Core"), 7, (12, 45),
          {"material": _Pick(("TPU", "silicone", "polycarbonate", "leather", "aramid fiber")),
           "drop_protection": _Num(4, 12, 2, "ft"), "wireless_charging": _Flag(0.85), "weight": _Num(20, 60, 1, "g")},
          "A protective case for the {target} in {material}, drop-tested from up to {drop_protection} ft.",
          relation="accessory_of", targets=("Smartphone",), accessory=True),
    _Kind("mobile_accessories", "Screen Protector", "钢化膜", "screen protector", ("Armorly", "Kestrel"),
          ("Guard", "Shield", "Clarity"), 4, (8, 29),
          {"material": _Pick(("tempered glass", "hybrid glass", "PET film")), "hardness": _Pick(("9H", "8H", "6H")),
           "pack_size": _Num(1, 3, 1, "pieces")},
          "A {material} screen protector for the {target} ({hardness}), {pack_size} per pack.",
          relation="accessory_of", targets=("Smartphone", "Tablet"), accessory=True),
    _Kind("computing", "Laptop", "笔记本电脑", "laptop", ("Corvid", "Lumatek", "Orbit"),
          ("ProBook {n}4", "Air {n}3", "Zen {n}", "Flex {n}5"), 7, (499, 2299),
          {"screen_size": _Pick((13.3, 14.0, 15.6, 16.0), "in"),
           "processor": _Pick(("Intel Core i5", "AMD Ryzen 5", "Intel Core i7", "AMD Ryzen 7", "Intel Core Ultra 9"),
                              None, True),
           "ram": _Pick((8, 16, 32, 64), "GB", True), "storage": _Pick((256, 512, 1024, 2048), "GB", True),
           "battery_life": _Num(7, 20, 1, "h"), "os": _Pick(("Windows 11 Home", "Windows 11 Pro", "ChromeOS")),
           "charging_port": _USBC, "weight": _Num(1.1, 2.4, 0.05, "kg")},
          "A {screen_size}-inch laptop with an {processor} processor, {ram} GB of RAM and a {storage} GB SSD. "
          "Up to {battery_life} hours on a charge; ships with {os}."),
    _Kind("computing", "Monitor", "显示器", "monitor", ("Lumatek", "Corvid"), ("View {n}7", "M{n}0", "UltraView {n}"),
          5, (129, 899),
          {"screen_size": _Pick((24.0, 27.0, 32.0, 34.0), "in", True),
           "resolution": _Pick(("1920x1080", "2560x1440", "3840x2160"), None, True),
           "refresh_rate": _Pick((60, 75, 144, 165, 240), "Hz"), "panel_type": _Pick(("IPS", "VA", "OLED")),
           "weight": _Num(3.2, 8.5, 0.1, "kg", None, True)},
          "A {screen_size}-inch {panel_type} monitor with {resolution} resolution at {refresh_rate} Hz."),
    _Kind("computing", "Mechanical Keyboard", "机械键盘", "keyboard", ("Keyforge", "Corvid"),
          ("K{n}", "TKL {n}", "Forge {n}0"), 4, (49, 229),
          {"layout": _Pick(("full-size", "TKL", "75%", "65%")),
           "switch_type": _Pick(("red linear", "brown tactile", "blue clicky")),
           "connectivity": _Many(("USB-C wired", "2.4 GHz wireless", "Bluetooth"), 1, 3),
           "compatible_os": _Fixed(["Windows", "macOS", "Linux"]), "weight": _Num(600, 1200, 10, "g")},
          "A {layout} mechanical keyboard with {switch_type} switches; connects by {connectivity}."),
    _Kind("computing", "Wireless Mouse", "无线鼠标", "mouse", ("Glidewell", "Corvid"), ("M{n}", "Glide {n}", "Ergo {n}"),
          4, (19, 109),
          {"dpi": _Num(1600, 8000, 400, "dpi", None, True), "connectivity": _Many(("2.4 GHz wireless", "Bluetooth"), 1, 2),
           "battery_life": _Num(2, 12, 1, "months"), "compatible_os": _Fixed(["Windows", "macOS", "ChromeOS"]),
           "weight": _Num(60, 130, 1, "g")},
          "A wireless mouse with a {dpi} DPI sensor and up to {battery_life} months on one battery; connects "
          "over {connectivity}."),
    _Kind("computing", "Keyboard Folio", "平板键盘保护套", "keyboard folio", ("Keyforge", "Armorly"),
          ("Folio", "Slim Folio", "Type Cover"), 3, (39, 129),
          {"connectivity": _Many(("Bluetooth", "Smart Connector"), 1, 1), "backlit": _Flag(0.5),
           "weight": _Num(280, 480, 10, "g")},
          "A keyboard folio for the {target} that protects the screen and turns the tablet into a laptop.",
          relation="accessory_of", targets=("Tablet",), accessory=True),
    _Kind("wearables", "Smartwatch", "智能手表", "smartwatch", ("Pulsewear", "Tempo", "Vanta"),
          ("W{n}", "Fit {n}", "Active {n}", "Pro {n}0"), 7, (99, 499),
          {"battery_life": _Num(1, 14, 1, "days"), "display": _Pick(("AMOLED", "LCD", "MIP")), "gps": _Flag(0.8),
           "heart_rate": _Fixed(True), "water_resistance": _Pick(("5 ATM", "IP68", "10 ATM")),
           "compatible_os": _OS, "weight": _Num(32, 60, 1, "g")},
          "An {display} smartwatch with heart-rate tracking, {water_resistance} water resistance and up to "
          "{battery_life} days of battery life. Works with {compatible_os}."),
    _Kind("wearables", "Fitness Band", "智能手环", "fitness band", ("Pulsewear", "Tempo"), ("Band {n}", "Move {n}", "Fit {n}0"),
          5, (29, 129),
          {"battery_life": _Num(7, 21, 1, "days"), "display": _Pick(("AMOLED", "LCD")), "gps": _Flag(0.3),
           "heart_rate": _Fixed(True), "water_resistance": _Pick(("5 ATM", "IP68")), "compatible_os": _OS,
           "weight": _Num(18, 30, 1, "g")},
          "A slim fitness band that tracks steps, sleep and heart rate, with up to {battery_life} days per "
          "charge and {water_resistance} water resistance."),
    _Kind("wearables", "Watch Band", "表带", "band", ("Strapco", "Vanta"), ("Sport", "Classic", "Trail", "Urban", "Loop"),
          7, (12, 59),
          {"material": _Pick(("silicone", "nylon", "leather", "stainless steel", "fluoroelastomer")),
           "band_size": _Pick((20, 22), "mm"), "colors": _Many(_COLORS, 1, 3), "weight": _Num(15, 60, 1, "g")},
          "A replacement band for the {target} in {material}, {band_size} mm wide, in {colors}.",
          relation="accessory_of", targets=("Smartwatch", "Fitness Band"), accessory=True),
    _Kind("footwear", "Running Shoes", "跑鞋", "running shoes", ("Trailrunner", "Stridewell", "Peakline", "Urbanstep"),
          ("Pace {n}", "Velo {n}", "Cloudrun {n}", "Swift {n}"), 7, (69, 189),
          {"sizes": _Many(_SHOE_SIZES, 10, 16, span=True), "width": _Pick(("regular", "wide", "regular and wide")),
           "weight": _Num(210, 320, 5, "g"), "drop_mm": _Pick((4, 6, 8, 10, 12), "mm"), "waterproof": _Flag(0.1),
           "material": _Pick(("engineered mesh", "knit"))},
          "Neutral road running shoes with a {drop_mm} mm drop and a breathable {material} upper; "
          "{weight} g in a US men's 9."),
    _Kind("footwear", "Trail Running Shoes", "越野跑鞋", "trail shoes", ("Trailrunner", "Peakline", "Stridewell"),
          ("Ridge {n}", "Summit {n}", "Scree {n}"), 5, (89, 199),
          {"sizes": _Many(_SHOE_SIZES, 10, 16, span=True), "width": _Pick(("regular", "wide")),
           "weight": _Num(250, 360, 5, "g"), "drop_mm": _Pick((4, 6, 8), "mm"), "waterproof": _Flag(0.4),
           "material": _Pick(("engineered mesh", "ripstop mesh"))},
          "Trail running shoes with grippy lugs, a {drop_mm} mm drop and a {material} upper; {weight} g in a "
          "US men's 9."),
    _Kind("footwear", "Hiking Boots", "登山靴", "hiking boots", ("Peakline", "Trailrunner"),
          ("Alpine {n}", "Ridge Mid {n}", "Canyon {n}"), 5, (99, 259),
          {"sizes": _Many(_SHOE_SIZES, 10, 16, span=True), "width": _Pick(("regular", "wide")),
           "weight": _Num(450, 750, 10, "g"), "drop_mm": _Pick((8, 10, 12, 14), "mm"), "waterproof": _Flag(0.85),
           "material": _Pick(("leather", "suede and mesh", "synthetic"))},
          "Mid-cut hiking boots with a {material} upper, a {drop_mm} mm drop and ankle support for rough trails."),
    _Kind("footwear", "Sneakers", "休闲鞋", "sneakers", ("Urbanstep", "Stridewell"), ("City {n}", "Court {n}", "Low {n}"),
          5, (49, 139),
          {"sizes": _Many(_SHOE_SIZES, 10, 16, span=True), "width": _Pick(("regular", "wide")),
           "weight": _Num(280, 420, 10, "g"), "drop_mm": _Pick((4, 8, 12), "mm"), "waterproof": _Flag(0.05),
           "material": _Pick(("canvas", "leather", "knit"))},
          "Everyday {material} sneakers with a cushioned footbed."),
    _Kind("apparel", "Running T-Shirt", "运动T恤", "t-shirt", ("Northloom", "Peakline", "Motive"),
          ("Aero", "Breeze", "Drift", "Swift Tee", "Core {n}"), 5, (19, 49),
          {"sizes": _Many(_GARMENT_SIZES, 4, 6, span=True),
           "material": _Pick(("recycled polyester", "merino wool", "cotton blend")),
           "fit": _Pick(("regular", "slim", "relaxed")), "colors": _Many(_COLORS, 2, 4),
           "care": _Pick(("machine wash cold", "hand wash"))},
          "A lightweight {material} running tee with a {fit} fit, in {colors}."),
    _Kind("apparel", "Rain Jacket", "冲锋衣", "rain jacket", ("Northloom", "Peakline"),
          ("Storm {n}", "Drizzle", "Monsoon", "Squall {n}"), 5, (79, 279),
          {"sizes": _Many(_GARMENT_SIZES, 4, 6, span=True), "material": _Pick(("2.5-layer nylon", "3-layer nylon")),
           "fit": _Pick(("regular", "relaxed")), "colors": _Many(_COLORS, 2, 4), "waterproof": _Fixed(True),
           "weight": _Num(250, 520, 10, "g"), "care": _Fixed("machine wash cold")},
          "A packable, fully waterproof {material} jacket with taped seams and a {fit} fit."),
    _Kind("apparel", "Hoodie", "连帽卫衣", "hoodie", ("Northloom", "Motive"), ("Lounge", "Campus", "Fleece {n}"),
          4, (39, 99),
          {"sizes": _Many(_GARMENT_SIZES, 4, 6, span=True),
           "material": _Pick(("cotton fleece", "organic cotton", "cotton blend")),
           "fit": _Pick(("regular", "relaxed")), "colors": _Many(_COLORS, 2, 4), "care": _Fixed("machine wash cold")},
          "A soft {material} hoodie with a {fit} fit, in {colors}."),
    _Kind("apparel", "Running Tights", "运动紧身裤", "tights", ("Motive", "Northloom"), ("Flow", "Stride {n}", "Pulse"),
          4, (35, 95),
          {"sizes": _Many(_GARMENT_SIZES, 4, 6, span=True), "material": _Pick(("nylon and elastane", "recycled polyester")),
           "fit": _Pick(("compression", "regular")), "colors": _Many(_COLORS, 1, 3), "care": _Fixed("machine wash cold")},
          "Running tights with a {fit} fit in stretchy {material}, with a zip pocket."),
    _Kind("apparel", "Hiking Socks", "徒步袜", "socks", ("Peakline", "Northloom"), ("Trek", "Cushion {n}", "Merino Crew"),
          3, (12, 29),
          {"sizes": _Many(("S", "M", "L", "XL"), 3, 4, span=True), "material": _Fixed("merino wool blend"),
           "pack_size": _Num(1, 3, 1, "pairs"), "colors": _Many(_COLORS, 1, 3), "care": _Fixed("machine wash cold")},
          "Cushioned {material} hiking socks; pack of {pack_size}."),
    _Kind("kitchen", "Coffee Maker", "咖啡机", "coffee maker", ("Brewmaster", "Kitchara", "Hearthstone"),
          ("Barista {n}", "Drip {n}0", "Crema {n}"), 5, (39, 599),
          {"capacity": _Pick((1.0, 1.2, 1.5, 1.8), "L"), "power": _Num(900, 1600, 50, "W", None, True),
           "presets": _Num(2, 12, 1, "presets", None, True), "dishwasher_safe": _Flag(0.5),
           "color": _Pick(("black", "stainless steel", "white", "matte red")),
           "weight": _Num(2.0, 8.0, 0.1, "kg", None, True)},
          "A {power} W coffee maker with a {capacity} L reservoir and {presets} brew presets."),
    _Kind("kitchen", "Blender", "破壁机", "blender", ("Zestly", "Kitchara"), ("Blitz {n}", "Pro {n}00", "Nutri {n}"),
          5, (29, 399),
          {"capacity": _Pick((0.6, 1.5, 2.0), "L"), "power": _Num(300, 1500, 100, "W", None, True),
           "presets": _Num(0, 10, 1, "presets", None, True), "dishwasher_safe": _Flag(0.8),
           "color": _Pick(("black", "white", "stainless steel")), "weight": _Num(1.5, 5.5, 0.1, "kg", None, True)},
          "A {power} W blender with a {capacity} L jar for smoothies, soups and nut butters."),
    _Kind("kitchen", "Air Fryer", "空气炸锅", "air fryer", ("Kitchara", "Zestly", "Hearthstone"),
          ("Crisp {n}", "AF{n}0", "Duo {n}"), 5, (59, 249),
          {"capacity": _Pick((3.5, 4.5, 5.5, 6.8, 9.0), "L", True), "power": _Num(1200, 2400, 100, "W", None, True),
           "presets": _Num(4, 12, 1, "presets"), "dishwasher_safe": _Flag(0.9),
           "color": _Pick(("black", "white", "grey")), "weight": _Num(3.5, 8.0, 0.1, "kg", None, True)},
          "A {capacity} L air fryer ({power} W) with {presets} cooking presets and a nonstick basket."),
    _Kind("kitchen", "Electric Kettle", "电热水壶", "kettle", ("Hearthstone", "Brewmaster"),
          ("Pour {n}", "K{n}0", "Temp {n}"), 4, (25, 129),
          {"capacity": _Pick((1.0, 1.2, 1.7), "L"), "power": _Num(1200, 1800, 100, "W"),
           "presets": _Num(2, 6, 1, "presets", None, True), "dishwasher_safe": _Fixed(False),
           "color": _Pick(("black", "white", "stainless steel", "sage green"))},
          "A {capacity} L electric kettle ({power} W) with {presets} temperature presets and auto shut-off."),
    _Kind("kitchen", "Toaster", "多士炉", "toaster", ("Hearthstone", "Kitchara"), ("T{n}", "Crust {n}", "Golden {n}"),
          3, (29, 149),
          {"capacity": _Pick((2, 4), "slices"), "power": _Num(800, 1600, 100, "W"),
           "presets": _Num(5, 8, 1, "presets"), "dishwasher_safe": _Fixed(False),
           "color": _Pick(("black", "white", "stainless steel"))},
          "A {capacity}-slice toaster with {presets} browning levels and a removable crumb tray."),
    _Kind("outdoor", "Tent", "帐篷", "tent", ("Peakline", "Summitcraft", "Ridgeback"), ("Dome {n}", "Basecamp {n}", "Ultra {n}"),
          5, (89, 499),
          {"capacity": _Pick((1, 2, 3, 4, 6), "persons", True), "season": _Pick(("3-season", "4-season"), None, True),
           "weight": _Num(1.1, 6.0, 0.1, "kg", None, True), "waterproof": _Fixed(True),
           "water_column": _Num(1500, 5000, 500, "mm", None, True), "material": _Pick(("ripstop nylon", "polyester"))},
          "A {season}, {capacity}-person tent in {material} with a {water_column} mm waterproof rating; "
          "{weight} kg packed."),
    _Kind("outdoor", "Hiking Backpack", "登山包", "backpack", ("Ridgeback", "Peakline", "Summitcraft"),
          ("Trail {n}0", "Ascent {n}", "Day {n}"), 6, (39, 279),
          {"volume": _Pick((20, 28, 35, 45, 55, 65), "L", True), "weight": _Num(0.6, 2.2, 0.05, "kg", None, True),
           "waterproof": _Flag(0.3), "material": _Pick(("ripstop nylon", "recycled polyester")),
           "hydration_compatible": _Flag(0.7)},
          "A {volume} L hiking backpack in {material} with a ventilated back panel; {weight} kg."),
    _Kind("outdoor", "Sleeping Bag", "睡袋", "sleeping bag", ("Summitcraft", "Peakline"),
          ("Cocoon {n}", "Nest {n}", "Polar {n}"), 4, (49, 299),
          {"temperature_rating": _Pick((10, 5, 0, -5, -10), "°C", True), "fill": _Pick(("synthetic", "down"), None, True),
           "weight": _Num(0.7, 2.0, 0.05, "kg")},
          "A {fill} sleeping bag rated for comfort down to {temperature_rating} °C; {weight} kg."),
    _Kind("outdoor", "Trekking Poles", "登山杖", "trekking poles", ("Ridgeback", "Summitcraft"),
          ("Stride {n}", "Carbon {n}"), 3, (29, 149),
          {"max_length": _Pick((125, 135, 140, 145), "cm"), "material": _Pick(("aluminum", "carbon fiber"), None, True),
           "weight": _Num(380, 560, 10, "g")},
          "A pair of adjustable {material} trekking poles that extend to {max_length} cm."),
    _Kind("outdoor", "Insulated Bottle", "保温水杯", "water bottle", ("Hydrova", "Summitcraft"),
          ("Flow {n}", "Hydro {n}0", "Trek {n}"), 4, (19, 49),
          {"volume": _Pick((0.5, 0.75, 1.0), "L"), "keeps_cold": _Num(12, 24, 2, "h"), "keeps_hot": _Num(6, 12, 1, "h"),
           "material": _Fixed("stainless steel"), "dishwasher_safe": _Flag(0.5), "colors": _Many(_COLORS, 1, 4)},
          "A {volume} L {material} bottle that keeps drinks cold for {keeps_cold} hours and hot for {keeps_hot} hours."),
    _Kind("smart_home", "Smart Plug", "智能插座", "smart plug", ("Homely", "Lumio"), ("Plug {n}", "Mini {n}"), 4, (12, 39),
          {"connectivity": _HOME_NET, "voice_assistants": _ASSISTANTS, "max_current": _Pick((10, 15), "A"),
           "energy_monitoring": _Flag(0.5), "hub_required": _Flag(0.2)},
          "A smart plug ({max_current} A) you can schedule from your phone; works with {voice_assistants}."),
    _Kind("smart_home", "Smart Bulb", "智能灯泡", "smart bulb", ("Lumio", "Homely"), ("Glow {n}", "Spectrum {n}", "Warm {n}"),
          5, (9, 49),
          {"connectivity": _HOME_NET, "voice_assistants": _ASSISTANTS, "brightness": _Num(800, 1600, 100, "lm", None, True),
           "power": _Num(8, 14, 1, "W"), "full_color": _Flag(0.6), "hub_required": _Flag(0.2)},
          "A {brightness} lm, {power} W smart bulb; works with {voice_assistants}."),
    _Kind("smart_home", "Security Camera", "安防摄像头", "camera", ("Sentrix", "Homely"), ("Cam {n}", "Eye {n}", "Guard {n}0"),
          5, (29, 249),
          {"connectivity": _Many(("Wi-Fi", "Ethernet"), 1, 2), "voice_assistants": _ASSISTANTS,
           "resolution": _Pick(("1080p", "2K", "4K"), None, True), "night_vision": _Fixed(True),
           "field_of_view": _Num(110, 160, 10, "°"), "power_source": _Pick(("battery", "wired", "solar and battery")),
           "water_resistance": _Pick(("IP65", "IP66", "IP67"))},
          "A {resolution} security camera with night vision, a {field_of_view}° field of view and "
          "{water_resistance} weather resistance."),
    _Kind("smart_home", "Smart Thermostat", "智能温控器", "thermostat", ("Homely", "Thermon"), ("T{n}", "Climate {n}"),
          3, (79, 249),
          {"connectivity": _HOME_NET, "voice_assistants": _ASSISTANTS, "display": _Pick(("touchscreen", "e-ink")),
           "hub_required": _Fixed(False)},
          "A learning thermostat with a {display} display that works with {voice_assistants}."),
    _Kind("smart_home", "Robot Vacuum", "扫地机器人", "robot vacuum", ("Tidybot", "Homely"), ("V{n}", "S{n}0 Max", "Clean {n}"),
          5, (149, 899),
          {"connectivity": _Fixed(["Wi-Fi"]), "voice_assistants": _ASSISTANTS,
           "suction": _Num(2000, 8000, 500, "Pa", None, True), "battery_life": _Num(90, 240, 10, "min", None, True),
           "mopping": _Flag(0.5), "self_emptying": _Flag(0.4)},
          "A robot vacuum with {suction} Pa of suction and up to {battery_life} minutes per charge."),
    _Kind("gaming", "Game Console", "游戏主机", "console", ("Vortex", "Hexa"), ("Deck {n}", "Station {n}", "Box {n}"),
          3, (299, 599),
          {"storage": _Pick((512, 1024, 2048), "GB", True), "resolution": _Pick(("1080p", "1440p", "4K"), None, True),
           "handheld": _Flag(0.4), "connectivity": _Fixed(["Wi-Fi", "Bluetooth"]),
           "weight": _Num(0.6, 4.5, 0.1, "kg")},
          "A game console with {storage} GB of storage that plays at up to {resolution}."),
    _Kind("gaming", "Wireless Controller", "无线手柄", "controller", ("Hexa", "Krait", "Vortex"),
          ("Pro {n}", "Elite {n}", "Arc {n}"), 6, (29, 179),
          {"platforms": _Many(("PC", "Android", "iOS"), 1, 3), "connectivity": _Many(("Bluetooth", "2.4 GHz wireless",
           "USB-C wired"), 1, 3), "battery_life": _Num(10, 40, 2, "h"), "charging_port": _USBC,
           "weight": _Num(200, 290, 5, "g")},
          "A wireless controller with up to {battery_life} hours of play per charge; works with {platforms}.",
          relation="compatible_with", targets=_CONSOLES, n_targets=(1, 2)),
    _Kind("gaming", "Gaming Headset", "游戏耳机", "gaming headset", ("Krait", "Hexa", "Sonique"),
          ("G{n}00", "Siege {n}", "Raid {n}"), 5, (39, 249),
          {"platforms": _Many(("PC", "Android", "iOS"), 1, 3), "connectivity": _Many(("USB-C wired", "3.5 mm jack",
           "2.4 GHz wireless", "Bluetooth"), 1, 2), "microphone": _Pick(("detachable boom mic", "flip-to-mute mic")),
           "rgb": _Flag(0.5), "weight": _Num(250, 360, 5, "g")},
          "A gaming headset with a {microphone}; works with {platforms}.",
          relation="compatible_with", targets=_CONSOLES, n_targets=(1, 3)),
    _Kind("gaming", "Gaming Mouse", "游戏鼠标", "gaming mouse", ("Krait", "Hexa"), ("Viper {n}", "R{n}0", "Talon {n}"),
          5, (29, 149),
          {"dpi": _Num(8000, 30000, 1000, "dpi", None, True), "connectivity": _Many(("USB-C wired", "2.4 GHz wireless"),
           1, 2), "buttons": _Num(5, 11, 1, "buttons"), "rgb": _Flag(0.7), "weight": _Num(55, 110, 1, "g"),
           "platforms": _Fixed(["PC", "macOS"])},
          "A gaming mouse with a {dpi} DPI sensor and {buttons} programmable buttons; {weight} g."),
)

_BY_NOUN = {k.noun: k for k in _KINDS}
# Complementary products sold together: (source noun, target noun, how many bundles).
_BUNDLES = (
    ("Laptop", "Wireless Mouse", 3), ("Game Console", "Wireless Controller", 2), ("Tent", "Sleeping Bag", 2),
    ("Hiking Backpack", "Trekking Poles", 2), ("Running Shoes", "Running T-Shirt", 2),
    ("Smartphone", "Wall Charger", 3), ("Coffee Maker", "Electric Kettle", 1),
)

_FIXTURES: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    (FIXTURE_PRODUCT_X200, "Wireless Earbuds", "Aurora X200", {
        "price": 89.0, "stock": 124, "rating": 4.6,
        "description": "Compact true wireless earbuds with active noise cancelling. Up to 30 hours of battery "
                       "life with the charging case (8 hours per charge), Bluetooth 5.3 and IPX4 sweat "
                       "resistance. Works with iOS and Android.",
        "aliases": ["X200", "Aurora X200", "X200 earbuds"],
        "attributes": {"battery_life": (30, "h", "with the charging case"), "bluetooth_version": ("5.3",),
                       "compatible_os": (["iOS", "Android"],), "noise_cancelling": (True,),
                       "water_resistance": ("IPX4",), "charging_port": ("USB-C",), "weight": (52, "g")}}),
    (FIXTURE_PRODUCT_X200_CASE, "Charging Case", "Aurora X200", {
        "price": 29.0, "stock": 58, "rating": 4.4,
        "description": "Replacement charging case for the Aurora X200 Wireless Earbuds. Holds 22 hours of extra "
                       "listening time and charges over USB-C or any Qi wireless pad.",
        "aliases": ["X200 case", "X200 charging case", "Aurora X200 case"],
        "attributes": {"battery_life": (22, "h", "extra listening time for the earbuds"), "charging_port": ("USB-C",),
                       "wireless_charging": (True,), "weight": (38, "g")}}),
    (FIXTURE_PRODUCT_TRAILRUNNER, "Running Shoes", "Trailrunner 5", {
        "price": 129.0, "stock": 40, "rating": 4.7,
        "description": "Cushioned daily trainer for road and light trail, with an 8 mm drop, a breathable "
                       "engineered-mesh upper and a grippy rubber outsole; 255 g in a US men's 9.",
        "aliases": ["Trailrunner 5", "Trailrunner 5 shoes", "Trailrunner 5 running shoes"],
        "attributes": {"sizes": (list(_SHOE_SIZES[2:18]),), "width": ("regular",), "weight": (255, "g"),
                       "drop_mm": (8, "mm"), "waterproof": (False,), "material": ("engineered mesh",)}}),
)

# The charging-case kind exists only as the fixture's template plus same-brand replacements.
_CASE_KIND = _Kind("audio", "Charging Case", "充电盒", "charging case", (), (), 3, (19, 49),
                   {"battery_life": _Num(16, 30, 2, "h", "extra listening time for the earbuds"), "charging_port": _USBC,
                    "wireless_charging": _Flag(0.6), "weight": _Num(30, 45, 1, "g")},
                   "Replacement charging case for the {target}. Holds {battery_life} hours of extra listening "
                   "time and charges over {charging_port}.",
                   relation="accessory_of", targets=("Wireless Earbuds",), accessory=True, same_brand=True)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return value[0] if len(value) == 1 else ", ".join(value[:-1]) + " and " + value[-1]
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


_AN = re.compile(r"\b([Aa]) (?=[aeioAEIO]|LCD\b|MIP\b|8|1[18](?:\b|\.|\d\d\b))")


def _articles(text: str) -> str:
    """Turn "a" into "an" before a vowel sound ("an 8 mm drop", "an LCD", "an 11-inch")."""
    return _AN.sub(lambda m: m.group(1) + "n ", text)


def _attribute(key: str, value: Any, unit: str | None = None, note: str | None = None) -> dict[str, Any]:
    label, label_zh = _LABELS[key]
    out = {"value": value, "unit": unit, "label": label, "label_zh": label_zh}
    if note:
        out["note"] = note
    return out


def _warranty(category: str) -> dict[str, Any]:
    value, unit = _WARRANTY.get(category, (12, "months"))
    return _attribute("warranty", value, unit)


def _price(rng: random.Random, lo: float, hi: float, tier: float) -> float:
    raw = lo + tier * (hi - lo)
    if raw < 100:
        return float(max(round(raw), 6)) - (0.01 if rng.random() < 0.7 else 0.0)
    return float(round(raw / 10) * 10) - (0.01 if rng.random() < 0.7 else 0.0)


class _Builder:
    """Draws products in a fixed order; ``ref`` indexes a product until ids are assigned."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.products: list[dict[str, Any]] = []
        self.used_codes: set[str] = {"x200", "5"}  # the fixtures' model codes
        self.used_names: set[str] = set()

    def _code(self, kind: _Kind) -> str:
        for attempt in range(60):
            pattern = self.rng.choice(kind.codes)
            digit = self.rng.randint(1, 9) if attempt < 30 else self.rng.randint(10, 99)
            code = pattern.replace("{n}", str(digit))
            if "{n}" not in pattern and attempt >= 20:
                code = f"{code} {digit}"
            if code.lower() not in self.used_codes:
                self.used_codes.add(code.lower())
                return code
        raise RuntimeError(f"ran out of model codes for {kind.noun}")

    def _add(self, kind: _Kind, brand: str, model: str, target: dict | None, fields: dict) -> dict:
        if kind.accessory and not kind.same_brand:
            for_ = f"{target['brand']} {target['model']}"
            name = f"{brand} {model} {kind.noun} for {for_}"
            name_zh = f"{brand} {model} {kind.noun_zh}（适用于 {for_}）"
        else:
            name, name_zh = f"{brand} {model} {kind.noun}", f"{brand} {model} {kind.noun_zh}"
        attributes = {k: _attribute(k, *v) for k, v in fields.pop("values").items()}
        attributes["warranty"] = _warranty(kind.category)
        product = {
            "ref": len(self.products), "model": model, "name": name, "name_zh": name_zh, "brand": brand,
            "category": kind.category, "category_zh": CATEGORIES[kind.category]["name_zh"],
            "product_type": kind.product_type, "currency": "USD", "attributes": attributes, "relations": [],
            **fields,
        }
        self.used_names.add(name.lower())
        self.products.append(product)
        return product

    def add_fixture(self, pid: str, noun: str, stem: str, spec: dict[str, Any]) -> dict:
        kind = _CASE_KIND if noun == "Charging Case" else _BY_NOUN[noun]
        brand, model = stem.split(" ", 1)
        fields = {k: spec[k] for k in ("price", "stock", "rating", "description", "aliases")}
        return self._add(kind, brand, model, None, {"id": pid, "values": dict(spec["attributes"]), **fields})

    def add_kind(self, kind: _Kind, targets: list[dict] | None = None) -> None:
        for i in range(kind.count):
            tier = self.rng.random()
            values = {k: spec.draw(self.rng, tier) for k, spec in kind.attrs.items()}
            target = targets[i] if targets else None
            if kind.same_brand:
                brand, model = target["brand"], target["model"]
            elif kind.accessory:
                brand = self.rng.choice(kind.brands)
                for _ in range(40):
                    target, model = self.rng.choice(self._of(kind.targets)), self.rng.choice(kind.codes)
                    if f"{brand} {model} {kind.noun} for {target['brand']} {target['model']}".lower() \
                            not in self.used_names:
                        break
            else:
                brand, model = self.rng.choice(kind.brands), self._code(kind)
            chosen = [target] if target is not None else self._targets(kind) if kind.relation else []
            if "platforms" in values and kind.relation == "compatible_with":
                values["platforms"][0].extend(f"{t['brand']} {t['model']}" for t in chosen)
            shown = {k: _show(v[0]) for k, v in values.items()}
            if target is not None:
                shown["target"] = f"{target['brand']} {target['model']} {_NOUNS[target['product_type']]}"
            if kind.accessory:
                aliases = [f"{target['brand']} {target['model']} {kind.short}"]
            else:
                aliases = [f"{brand} {model}", f"{model} {kind.short}"]
                if re.search(r"[A-Za-z]", model) and re.search(r"\d", model):
                    aliases.insert(0, model)
            product = self._add(kind, brand, model, target, {
                "values": values,
                "price": round(_price(self.rng, *kind.price, tier), 2),
                "stock": 0 if self.rng.random() < 0.12 else self.rng.randint(1, 300),
                "rating": round(self.rng.uniform(3.2, 4.9), 1),
                "description": _articles(kind.blurb.format(**shown)),
                "aliases": aliases,
            })
            product["relations"] += [{"type": kind.relation, "target": t["ref"]} for t in chosen]

    def _of(self, nouns: tuple[str, ...]) -> list[dict]:
        types = {_BY_NOUN[n].product_type for n in nouns}
        return [p for p in self.products if p["product_type"] in types]

    def _targets(self, kind: _Kind) -> list[dict]:
        pool = self._of(kind.targets)
        k = min(self.rng.randint(*kind.n_targets), len(pool))
        return sorted(self.rng.sample(pool, k), key=lambda p: p["ref"])


_NOUNS = {k.product_type: k.noun for k in (*_KINDS, _CASE_KIND)}
_ACCESSORY_TYPES = frozenset(k.product_type for k in (*_KINDS, _CASE_KIND) if k.accessory)


def _link(b: _Builder) -> None:
    """Add ``similar_to`` (same type, nearest price within 35 %) and ``bundle`` relations."""
    for p in b.products:
        if p["product_type"] in _ACCESSORY_TYPES:
            continue
        peers = [q for q in b.products if q["product_type"] == p["product_type"] and q is not p
                 and abs(q["price"] - p["price"]) <= 0.35 * p["price"]]
        peers.sort(key=lambda q: (abs(q["price"] - p["price"]), q["ref"]))
        p["relations"] += [{"type": "similar_to", "target": q["ref"]} for q in peers[:2]]
    for source, target, n in _BUNDLES:
        sources, targets = b._of((source,)), b._of((target,))
        for p in b.rng.sample(sources, min(n, len(sources))):
            p["relations"].append({"type": "bundle", "target": b.rng.choice(targets)["ref"]})


def generate_catalog(seed: int) -> list[dict[str, Any]]:
    """Generate the demo catalog for ``seed``.

    Args:
        seed: Seed of the one ``random.Random`` that draws everything.

    Returns:
        Products sorted by id (``P1001``...), each a JSON-ready dict.

    Raises:
        ValueError: If ``seed`` is not an int.

    Example:
        >>> len(generate_catalog(7)) >= 200
        True
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    b = _Builder(seed)
    for pid, noun, stem, spec in _FIXTURES:
        b.add_fixture(pid, noun, stem, spec)
    x200, case, _ = b.products
    case["relations"].append({"type": "accessory_of", "target": x200["ref"]})
    for kind in _KINDS:
        b.add_kind(kind)
        if kind.noun == "Wireless Earbuds":
            earbuds = [p for p in b.products if p["product_type"] == kind.product_type and p is not x200]
            b.add_kind(_CASE_KIND, targets=b.rng.sample(earbuds, _CASE_KIND.count))
    _link(b)
    # Fixtures keep their ids; the rest are numbered in generation (category) order.
    next_id = 1001 + len(_FIXTURES)
    for p in b.products:
        if "id" not in p:
            p["id"], next_id = f"P{next_id}", next_id + 1
    ids = [p["id"] for p in b.products]
    for p in b.products:
        seen: set[tuple[str, str]] = set()
        relations = []
        for r in p["relations"]:
            key = (r["type"], ids[r["target"]])
            if key[1] != p["id"] and key not in seen:
                seen.add(key)
                relations.append({"type": key[0], "target": key[1]})
        p["relations"] = relations
        del p["ref"]
    _drop_ambiguous_aliases(b.products)
    return sorted(b.products, key=lambda p: p["id"])


def _drop_ambiguous_aliases(products: list[dict[str, Any]]) -> None:
    """Keep only aliases that name exactly one product (an alias is for entity linking)."""
    owners: dict[str, set[str]] = {}
    for p in products:
        for text in [p["name"], *p["aliases"]]:
            owners.setdefault(text.lower(), set()).add(p["id"])
    for p in products:
        kept = [a for a in p["aliases"] if owners[a.lower()] == {p["id"]} and a.lower() != p["name"].lower()]
        p["aliases"] = list(dict.fromkeys(kept))


def dump_catalog(products: list[dict[str, Any]]) -> str:
    """Serialize products the way ``catalog.json`` stores them (stable bytes for a seed)."""
    return json.dumps(sorted(products, key=lambda p: p["id"]), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
