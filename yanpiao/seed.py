"""Deterministic demo invoices: realistic Beijing invoices of every type, in the import format.

The records are plain DESIGN 3.3 dicts and are stored through the same
``registry.parse_import_record`` + ``registry.store_invoice`` path as a JSON Lines import, so the
demo registry can never hold anything an import would refuse.

Everything is drawn from one ``random.Random(seed)`` and ``today``; the same arguments give the
same records, and a shorter run is a prefix of a longer one.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session

from . import registry
from .types import ExtraField, InvoiceType, Status

REGION = "1100"  # Beijing
MAX_AGE_DAYS = 1643  # 4.5 years: every demo invoice stays inside the 5-year verification window
RECENT_DAYS = 60
DIGITAL_MAX_AGE_DAYS = 730  # 数电 invoices only reached Beijing recently

T = InvoiceType

# The first records: one of each type, then one of each warning status, so a demo registry of
# any useful size lets people try every type and see every outcome.
SHOWCASE_STATUSES = (
    (T.VAT_ORDINARY, Status.VOID),
    (T.DIGITAL_ORDINARY, Status.RED_REVERSED),
    (T.VAT_SPECIAL, Status.OUT_OF_CONTROL),
    (T.VAT_ELECTRONIC_SPECIAL, Status.ABNORMAL),
)

_TYPE_WEIGHTS = {
    T.DIGITAL_ORDINARY: 22,
    T.VAT_ELECTRONIC_ORDINARY: 14,
    T.TOLL_ELECTRONIC: 12,
    T.DIGITAL_SPECIAL: 10,
    T.VAT_SPECIAL: 10,
    T.VAT_ORDINARY: 8,
    T.VAT_ELECTRONIC_SPECIAL: 8,
    T.VAT_ROLL: 6,
    T.MOTOR_VEHICLE: 5,
    T.USED_VEHICLE: 5,
}

_WARNING_STATUSES = (
    (Status.VOID, 0.30),
    (Status.RED_REVERSED, 0.65),
    (Status.OUT_OF_CONTROL, 0.82),
    (Status.ABNORMAL, 1.0),
)
NORMAL_SHARE = 0.80

# Only paper invoices can be voided (作废); an electronic one can only be red-reversed (红冲).
_PAPER_TYPES = frozenset(
    {T.VAT_SPECIAL, T.MOTOR_VEHICLE, T.VAT_ORDINARY, T.VAT_ROLL, T.USED_VEHICLE}
)

_SPECIAL_TYPES = frozenset({T.VAT_SPECIAL, T.VAT_ELECTRONIC_SPECIAL, T.DIGITAL_SPECIAL})

# Last two digits of a 12-digit code starting with 0 (DESIGN 1.3).
_KIND_12 = {
    T.VAT_ELECTRONIC_ORDINARY: ("11",),
    T.VAT_ORDINARY: ("04", "05"),
    T.VAT_ROLL: ("06", "07"),
    T.TOLL_ELECTRONIC: ("12",),
    T.VAT_ELECTRONIC_SPECIAL: ("13",),
    T.USED_VEHICLE: ("17",),
}

# Any step coprime to 10**n walks every n-digit number once before repeating, so numbers drawn
# from a counter this way look scattered but can never collide, even over a million invoices.
_LEGACY_STEP = 7_654_321
_DIGITAL_STEP = 982_451_653


# --- unified social credit codes (GB 32100-2015) ------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {char: value for value, char in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organization_code_check(body: str) -> str:
    """Check character of an 8-character organization code body (GB 11714)."""
    total = sum(int(char, 36) * weight for char, weight in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def uscc_check(first17: str) -> str:
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    return (
        len(code) == 18
        and all(char in _USCC_VALUE for char in code)
        and uscc_check(code[:17]) == code[17]
    )


# --- word lists -----------------------------------------------------------------------------

# District, its administrative division code (digits 3-8 of a tax ID), streets.
_DISTRICTS = (
    ("东城区", "110101", ("东直门南大街", "建国门内大街", "东四十条", "和平里东街", "朝阳门北大街")),
    ("西城区", "110102", ("金融大街", "西直门外大街", "复兴门内大街", "德胜门外大街", "阜成门外大街")),
    ("朝阳区", "110105", ("建国路", "东三环中路", "朝阳门外大街", "酒仙桥路", "望京街", "光华路", "北苑路")),
    ("海淀区", "110108", ("中关村大街", "海淀大街", "学院路", "知春路", "上地十街", "苏州街", "北四环西路")),
    ("丰台区", "110106", ("南四环西路", "丰台北路", "西三环南路", "科学城星火路")),
    ("石景山区", "110107", ("石景山路", "鲁谷路", "实兴大街")),
    ("通州区", "110112", ("新华西街", "运河东大街", "通胡大街")),
    ("顺义区", "110113", ("府前中街", "天竺路", "仁和路")),
    ("昌平区", "110114", ("回龙观西大街", "白浮泉路", "昌平路")),
    ("大兴区", "110115", ("兴华大街", "黄村西大街", "荣华中路")),
    ("房山区", "110111", ("拱辰大街", "良乡西路")),
    ("门头沟区", "110109", ("新桥大街", "滨河路")),
    ("怀柔区", "110116", ("青春路", "府前街")),
    ("平谷区", "110117", ("府前街", "新平北路")),
    ("密云区", "110118", ("鼓楼东大街", "新中街")),
    ("延庆区", "110119", ("妫水北街", "东外大街")),
)
# Most businesses sit in the central districts.
_DISTRICT_WEIGHTS = (8, 7, 18, 18, 7, 3, 5, 4, 5, 6, 2, 1, 1, 1, 1, 1)

_TRADE_NAME_FIRST = "华中金博天恒瑞鼎泰宏嘉致启海京新正安佳明同卓弘盛德晟永优云星蓝青鸿广和凯远睿润"
_TRADE_NAME_SECOND = "信科桥远通达盛和图禾诚元泰成创越毅联源航辉邦锐途宇捷拓峰川安美航智"

_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡"
    "贾丁魏薛叶余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙段雷钱"
)
_GIVEN_NAMES = (
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 霞 平 刚 桂英 华 建华 建国 红 玉兰 "
    "志强 晓东 海燕 鹏 婷 欣怡 子涵 浩然 宇轩 雨桐 俊杰 佳 琳 雪 晨 昊 博 帅 颖 文静 立新 春梅"
).split()

# Bank, account-number prefix, digits after the prefix.
_BANKS = (
    ("中国工商银行北京{}支行", "0200", 15),
    ("中国建设银行北京{}支行", "11050", 15),
    ("中国银行北京{}支行", "3", 11),
    ("中国农业银行北京{}支行", "11", 15),
    ("交通银行北京{}支行", "110060", 15),
    ("招商银行北京{}支行", "1109", 11),
    ("北京银行{}支行", "2000", 16),
    ("中信银行北京{}支行", "7111", 15),
    ("上海浦东发展银行北京{}支行", "9108", 14),
)
_BANK_BRANCHES = (
    "中关村", "海淀", "朝阳", "望京", "国贸", "西单", "东四", "亚运村", "上地", "亦庄", "通州",
    "顺义", "昌平", "丰台", "金融街", "建国门", "安贞",
)

# An item: tax-classified name, specs, unit, unit price range in cents, quantity range,
# whether the quantity has decimals, tax rate in percent.
_Item = tuple[str, tuple[str, ...], str, int, int, int, int, bool, int]

_INDUSTRIES: dict[str, tuple[tuple[str, ...], tuple[_Item, ...]]] = {
    "office": (
        ("商贸有限公司", "办公用品有限公司", "贸易有限公司", "科贸有限公司"),
        (
            ("*纸制品*复印纸", ("A4 70g 500张/包", "A4 80g 500张/包", "A3 70g 500张/包"), "包",
             1800, 3500, 5, 100, False, 13),
            ("*办公用品*中性笔", ("0.5mm 黑色", "0.5mm 蓝色", "0.38mm 黑色"), "支", 150, 600, 10, 200, False, 13),
            ("*办公用品*文件夹", ("A4 双强力夹", "A4 单夹"), "个", 500, 2500, 5, 50, False, 13),
            ("*办公用品*订书机", ("12号",), "个", 1500, 6000, 1, 10, False, 13),
            ("*日用杂品*抽纸", ("3层 130抽 24包/箱",), "箱", 4000, 9000, 1, 10, False, 13),
            ("*计算机外部设备*激光打印机", ("黑白 A4 双面", "彩色 A4"), "台", 120000, 450000, 1, 3, False, 13),
            ("*计算机外部设备*硒鼓", ("黑色 标准容量",), "个", 20000, 80000, 1, 10, False, 13),
            ("*电子计算机*笔记本电脑", ("14英寸 16G 512G", "13.3英寸 16G 1T"), "台",
             450000, 1200000, 1, 5, False, 13),
            ("*计算机外部设备*显示器", ("27英寸 2K", "24英寸 1080P"), "台", 90000, 250000, 1, 10, False, 13),
            ("*家具*办公椅", ("人体工学 网面",), "把", 40000, 180000, 1, 20, False, 13),
            ("*家具*办公桌", ("1.4m", "1.6m"), "张", 60000, 250000, 1, 10, False, 13),
            ("*饮料*瓶装饮用水", ("550ml*24瓶",), "箱", 2500, 4500, 1, 20, False, 13),
        ),
    ),
    "tech": (
        ("科技有限公司", "信息技术有限公司", "软件有限公司", "网络科技有限公司", "数据科技有限公司"),
        (
            ("*信息技术服务*技术服务费", ("",), "项", 500000, 30000000, 1, 1, False, 6),
            ("*信息技术服务*软件开发服务", ("",), "项", 2000000, 50000000, 1, 1, False, 6),
            ("*信息技术服务*运维服务费", ("",), "月", 300000, 3000000, 1, 12, False, 6),
            ("*信息技术服务*云服务费", ("",), "月", 50000, 2000000, 1, 12, False, 6),
            ("*软件*应用软件", ("V3.0", "V5.2 企业版"), "套", 500000, 8000000, 1, 5, False, 13),
        ),
    ),
    "catering": (
        ("餐饮管理有限公司", "餐饮有限公司", "餐饮文化有限公司"),
        (("*餐饮服务*餐费", ("",), "", 5000, 300000, 1, 1, False, 6),),
    ),
    "hotel": (
        ("酒店管理有限公司", "宾馆有限公司", "酒店有限公司"),
        (
            ("*住宿服务*住宿费", ("大床房", "标准间"), "间夜", 35000, 120000, 1, 5, False, 6),
            ("*会展服务*会议服务费", ("",), "次", 300000, 5000000, 1, 1, False, 6),
            ("*餐饮服务*餐费", ("",), "", 10000, 200000, 1, 1, False, 6),
        ),
    ),
    "freight": (
        ("物流有限公司", "运输有限公司", "供应链管理有限公司"),
        (
            ("*运输服务*货物运输服务", ("",), "车次", 80000, 1500000, 1, 10, False, 9),
            ("*物流辅助服务*仓储服务", ("",), "月", 200000, 3000000, 1, 6, False, 6),
            ("*物流辅助服务*装卸搬运服务", ("",), "次", 20000, 300000, 1, 5, False, 6),
            ("*物流辅助服务*收派服务", ("",), "件", 1200, 3500, 10, 300, False, 6),
        ),
    ),
    "taxi": (
        ("出租汽车有限公司", "汽车租赁有限公司", "客运有限公司"),
        (("*运输服务*客运服务费", ("",), "次", 1500, 40000, 1, 1, False, 9),),
    ),
    "construction": (
        ("建筑工程有限公司", "装饰工程有限公司", "建设工程有限公司"),
        (
            ("*建筑服务*装饰装修工程", ("",), "项", 5000000, 80000000, 1, 1, False, 9),
            ("*建筑服务*安装工程", ("",), "项", 1000000, 20000000, 1, 1, False, 9),
            ("*建筑服务*维修工程", ("",), "项", 100000, 3000000, 1, 1, False, 9),
        ),
    ),
    "consulting": (
        ("管理咨询有限公司", "企业管理咨询有限公司", "会计师事务所有限公司"),
        (
            ("*咨询服务*咨询服务费", ("",), "项", 500000, 20000000, 1, 1, False, 6),
            ("*鉴证服务*审计服务费", ("",), "项", 1000000, 15000000, 1, 1, False, 6),
            ("*商务辅助服务*企业管理服务费", ("",), "月", 100000, 2000000, 1, 12, False, 6),
        ),
    ),
    "media": (
        ("文化传媒有限公司", "广告有限公司", "文化发展有限公司"),
        (
            ("*广告服务*广告发布费", ("",), "项", 500000, 20000000, 1, 1, False, 6),
            ("*设计服务*设计服务费", ("",), "项", 200000, 5000000, 1, 1, False, 6),
            ("*会展服务*展览服务费", ("",), "次", 1000000, 10000000, 1, 1, False, 6),
        ),
    ),
    "fuel": (
        ("石油销售有限公司", "石化加油站有限公司", "能源有限公司"),
        (
            ("*汽油*92号车用汽油(ⅥB)", ("",), "升", 650, 760, 20, 70, True, 13),
            ("*汽油*95号车用汽油(ⅥB)", ("",), "升", 690, 810, 20, 70, True, 13),
            ("*柴油*0号车用柴油(Ⅵ)", ("",), "升", 620, 720, 30, 200, True, 13),
        ),
    ),
    "property": (
        ("物业管理有限公司", "置业有限公司", "资产管理有限公司"),
        (
            ("*物业管理服务*物业管理费", ("",), "月", 200000, 3000000, 1, 12, False, 6),
            ("*不动产经营租赁服务*房屋租金", ("",), "月", 1000000, 20000000, 1, 12, False, 9),
        ),
    ),
    "training": (
        ("教育科技有限公司", "培训学校有限公司", "教育咨询有限公司"),
        (("*非学历教育服务*培训费", ("",), "人次", 80000, 600000, 1, 30, False, 6),),
    ),
}

# Industries that also appear as buyers only.
_BUYER_SUFFIXES = (
    "机械设备有限公司", "医药科技有限公司", "生物技术有限公司", "投资管理有限公司", "电子有限公司",
    "新材料科技有限公司", "环保科技有限公司", "汽车服务有限公司", "食品有限公司",
)

# Which seller industries issue which invoice types.
_SPECIAL_INDUSTRIES = (
    "office", "tech", "freight", "construction", "consulting", "media", "fuel", "property",
    "hotel", "training",
)
_ORDINARY_INDUSTRIES = _SPECIAL_INDUSTRIES + ("catering", "catering", "taxi", "office")
_ROLL_INDUSTRIES = ("catering", "office", "fuel", "taxi")

_SMALL_SHOPS = {
    "catering": ("家常菜馆", "面馆", "烤鸭店", "小吃店", "火锅店"),
    "office": ("文具店", "便利店", "办公用品商店"),
    "taxi": ("汽车租赁服务部",),
}

# Expressways of the toll operators and destinations of freight runs.
# Expressways opened before 2016 may charge the simplified 3 %; newer ones charge 9 %.
_EXPRESSWAYS = (
    ("京承", 3), ("京开", 3), ("京藏", 3), ("京港澳", 3), ("机场", 3), ("京哈", 3),
    ("京沪", 3), ("京新", 9), ("京礼", 9), ("大兴机场", 9),
)
_DESTINATIONS = (
    "天津市滨海新区", "河北省廊坊市", "河北省保定市", "河北省石家庄市", "天津市武清区",
    "山东省济南市", "北京市顺义区", "北京市大兴区",
)
_CARGO = ("办公家具", "电子设备", "日用百货", "建筑材料", "食品饮料", "机械配件")

# Brand, VIN world manufacturer identifier, model-designation prefix, price range (yuan).
_CARS = (
    ("大众", "LSV", "SVW7", 120_000, 260_000),
    ("大众", "LFV", "FV7", 110_000, 240_000),
    ("丰田", "LVG", "GTM7", 130_000, 280_000),
    ("本田", "LHG", "GHA7", 120_000, 250_000),
    ("比亚迪", "LC0", "BYD7", 90_000, 300_000),
    ("吉利", "L6T", "MR7", 70_000, 160_000),
    ("别克", "LSG", "SGM7", 130_000, 260_000),
    ("奥迪", "LFV", "FV7", 260_000, 480_000),
    ("宝马", "LBV", "BMW7", 280_000, 520_000),
    ("长安", "LS5", "SC7", 60_000, 150_000),
)
_CAR_KINDS = ("小型轿车", "小型普通客车", "纯电动小型轿车")
_CAR_ORIGINS = ("上海市", "长春市", "广州市", "深圳市", "宁波市", "重庆市", "沈阳市", "北京市")
_VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
# Letters of a VIN stand for these digits in its check sum (ISO 3779 transliteration).
_VIN_VALUES = dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ", "12345678123457923456789", strict=True))
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"  # model years 2010, 2011, … in a 30-year cycle
_PLATE_LETTERS = "ACEFHJKLMNPQ"
_PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
_DIGITS = "0123456789"


def vin_check(vin: str) -> str:
    """Check digit (9th character) of a 17-character VIN, ISO 3779 / GB 16735."""
    total = sum(
        int(_VIN_VALUES.get(char, char)) * weight
        for char, weight in zip(vin, _VIN_WEIGHTS, strict=True)
    )
    check = total % 11
    return "X" if check == 10 else str(check)


def _yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass(frozen=True, slots=True)
class _Party:
    name: str
    tax_id: str
    address_phone: str
    bank_account: str
    drawer: str = ""
    small_scale: bool = False
    district: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "tax_id": self.tax_id,
            "address_phone": self.address_phone,
            "bank_account": self.bank_account,
        }


class _Generator:
    def __init__(self, rng: random.Random, today: datetime.date) -> None:
        self.rng = rng
        self.today = today
        self._names: set[str] = set()
        self._tax_ids: set[str] = set()
        rnd = rng.random
        # Pools first, from the same stream, so record i does not depend on how many follow.
        self.sellers = {
            industry: [self._company(suffixes) for _ in range(40)]
            for industry, (suffixes, _items) in _INDUSTRIES.items()
        }
        self.small_sellers = {
            industry: [self._shop(shops) for _ in range(25)]
            + [self._company(_INDUSTRIES[industry][0], small_scale=True) for _ in range(10)]
            for industry, shops in _SMALL_SHOPS.items()
        }
        self.tolls = [
            (self._company((), name=f"北京{road}高速公路发展有限公司"), rate)
            for road, rate in _EXPRESSWAYS
        ]
        self.car_dealers = [
            self._company(("汽车销售服务有限公司", "汽车销售有限公司")) for _ in range(30)
        ]
        self.used_car_sellers = [
            self._company(("二手车交易市场有限公司", "旧机动车经纪有限公司", "二手车经销有限公司"))
            for _ in range(15)
        ]
        buyer_suffixes = (
            tuple(s for suffixes, _ in _INDUSTRIES.values() for s in suffixes) + _BUYER_SUFFIXES
        )
        self.buyers = [self._company(buyer_suffixes) for _ in range(400)]
        self.type_keys = list(_TYPE_WEIGHTS)
        cum, total = [], 0
        for weight in _TYPE_WEIGHTS.values():
            total += weight
            cum.append(total)
        self.type_cum = cum
        self.legacy_next = {t: int(rnd() * 10**8) for t in InvoiceType if not t.is_digital}
        self.digital_next = int(rnd() * 10**12)

    # --- parties ------------------------------------------------------------------------

    def _person(self) -> str:
        rng = self.rng
        return rng.choice(_SURNAMES) + rng.choice(_GIVEN_NAMES)

    def _trade_name(self) -> str:
        first = self.rng.choice(_TRADE_NAME_FIRST)
        second = self.rng.choice(_TRADE_NAME_SECOND.replace(first, ""))
        return first + second

    def _district(self):
        return self.rng.choices(_DISTRICTS, weights=_DISTRICT_WEIGHTS)[0]

    def _tax_id(self, division: str, individual: bool) -> str:
        rng = self.rng
        while True:
            if rng.random() < 0.65:
                body = "MA0" + rng.choice("1234") + "".join(rng.choices(USCC_ALPHABET, k=4))
            else:
                body = rng.choice("5678") + "".join(rng.choices(_DIGITS, k=7))
            kind = "92" if individual else "91"  # 9 market regulator; 1 company, 2 sole trader
            first17 = kind + division + body + organization_code_check(body)
            tax_id = first17 + uscc_check(first17)
            if tax_id not in self._tax_ids:
                self._tax_ids.add(tax_id)
                return tax_id

    def _address(self, district: str, streets: tuple[str, ...]) -> str:
        rng = self.rng
        address = f"北京市{district}{rng.choice(streets)}{rng.randint(1, 300)}号"
        if rng.random() < 0.6:
            address += f"院{rng.randint(1, 20)}号楼{rng.randint(1, 25)}{rng.randint(1, 30):02d}室"
        if rng.random() < 0.85:
            phone = f"010-{rng.choice('568')}{''.join(rng.choices(_DIGITS, k=7))}"
        else:
            phone = f"1{rng.choice('3589')}{''.join(rng.choices(_DIGITS, k=9))}"
        return f"{address} {phone}"

    def _bank_account(self) -> str:
        rng = self.rng
        bank, prefix, length = rng.choice(_BANKS)
        account = prefix + "".join(rng.choices(_DIGITS, k=length))
        return f"{bank.format(rng.choice(_BANK_BRANCHES))} {account}"

    def _unique_name(self, make) -> str:
        while True:
            name = make()
            if name not in self._names:
                self._names.add(name)
                return name

    def _company(
        self, suffixes: tuple[str, ...], *, small_scale: bool = False, name: str = ""
    ) -> _Party:
        district, division, streets = self._district()
        if not name:
            name = self._unique_name(lambda: "北京" + self._trade_name() + self.rng.choice(suffixes))
        return _Party(
            name=name,
            tax_id=self._tax_id(division, individual=False),
            address_phone=self._address(district, streets),
            bank_account=self._bank_account(),
            drawer=self._person(),
            small_scale=small_scale,
            district=district,
        )

    def _shop(self, kinds: tuple[str, ...]) -> _Party:
        """A sole proprietorship (个体工商户): small-scale, often without a bank account."""
        district, division, streets = self._district()
        name = self._unique_name(
            lambda: f"北京市{district}{self._trade_name()}{self.rng.choice(kinds)}"
        )
        return _Party(
            name=name,
            tax_id=self._tax_id(division, individual=True),
            address_phone=self._address(district, streets),
            bank_account=self._bank_account() if self.rng.random() < 0.3 else "",
            drawer=self._person(),
            small_scale=True,
            district=district,
        )

    def _buyer(self, *, individual_share: float, full: bool) -> dict[str, str]:
        rng = self.rng
        if rng.random() < individual_share:
            return {"name": self._person(), "tax_id": "", "address_phone": "", "bank_account": ""}
        buyer = rng.choice(self.buyers).as_dict()
        if not full and rng.random() < 0.7:
            # An ordinary invoice usually carries only the buyer's name and tax ID.
            buyer["address_phone"] = buyer["bank_account"] = ""
        return buyer

    # --- identifiers ----------------------------------------------------------------------

    def _legacy_number(self, invoice_type: InvoiceType) -> str:
        value = self.legacy_next[invoice_type]
        self.legacy_next[invoice_type] = (value + _LEGACY_STEP) % 10**8
        return f"{value:08d}"

    def _digital_number(self, issue_date: datetime.date) -> str:
        value = self.digital_next
        self.digital_next = (value + _DIGITAL_STEP) % 10**12
        channel = "2" if self.rng.random() < 0.9 else "1"
        return f"{issue_date.year % 100:02d}11{channel}{value:015d}"

    def _code(self, invoice_type: InvoiceType, issue_date: datetime.date) -> str:
        rng = self.rng
        year = issue_date.year
        if invoice_type in _PAPER_TYPES and rng.random() < 0.2:
            year -= 1  # paper stock printed the year before
        yy = f"{year % 100:02d}"
        if invoice_type is T.MOTOR_VEHICLE:
            return f"1{REGION}{yy}2{rng.randint(0, 9999):04d}"
        if invoice_type is T.VAT_SPECIAL:
            kind = "1" if rng.random() < 0.85 else "5"
            return f"{REGION}{yy}{rng.randint(1, 9)}{kind}{rng.choice('36')}0"
        if invoice_type is T.VAT_ORDINARY and rng.random() < 0.15:
            return f"{REGION}{yy}{rng.randint(1, 9)}{rng.choice('36')}{rng.choice('25')}0"
        return f"0{REGION}{yy}{rng.randint(1, 12):03d}{rng.choice(_KIND_12[invoice_type])}"

    def _vin(self, wmi: str, year: int) -> str:
        rng = self.rng
        head = wmi + "".join(rng.choices(_VIN_CHARS, k=5))
        model_year = _VIN_YEAR_CODES[(year - 2010) % 30]
        tail = model_year + rng.choice(_VIN_CHARS) + "".join(rng.choices(_DIGITS, k=6))
        return head + vin_check(head + "0" + tail) + tail

    def _plate(self) -> str:
        rng = self.rng
        if rng.random() < 0.25:  # green new-energy plate, one character longer
            return f"京A{rng.choice('DF')}{''.join(rng.choices(_DIGITS, k=5))}"
        return f"京{rng.choice(_PLATE_LETTERS)}{''.join(rng.choices(_PLATE_CHARS, k=5))}"

    # --- invoices -------------------------------------------------------------------------

    def issue_date(self, invoice_type: InvoiceType, recent: bool) -> datetime.date:
        if recent:
            days = RECENT_DAYS
        elif invoice_type.is_digital:
            days = DIGITAL_MAX_AGE_DAYS
        else:
            days = MAX_AGE_DAYS
        return self.today - datetime.timedelta(days=int(self.rng.random() * (days + 1)))

    def pick_type(self) -> InvoiceType:
        return self.rng.choices(self.type_keys, cum_weights=self.type_cum)[0]

    def pick_status(self, invoice_type: InvoiceType) -> Status:
        rnd = self.rng.random
        if rnd() < NORMAL_SHARE:
            return Status.NORMAL
        draw = rnd()
        status = next(s for s, edge in _WARNING_STATUSES if draw < edge)
        if status is Status.VOID and invoice_type not in _PAPER_TYPES:
            status = Status.RED_REVERSED
        return status

    def _small_rate(self, issue_date: datetime.date) -> int:
        # Small-scale taxpayers have mostly paid a reduced 1 % since 2023, 3 % or 1 % before.
        if issue_date.year >= 2023:
            return 1
        return 3 if self.rng.random() < 0.5 else 1

    def _line(
        self, spec: _Item, rate: int, max_price: int | None = None
    ) -> tuple[dict[str, str], int, int]:
        rng = self.rng
        name, specs, unit, lo, hi, q_lo, q_hi, decimal_quantity, _rate = spec
        if max_price is not None:
            hi = min(hi, max_price)
            lo = min(lo, hi)
            if not decimal_quantity:
                q_hi = min(q_hi, q_lo + 2)
        price = lo + int(rng.random() * (hi - lo + 1))
        if price >= 100_000:
            price -= price % 100  # large prices are quoted in whole yuan
        if decimal_quantity:
            hundredths = q_lo * 100 + int(rng.random() * ((q_hi - q_lo) * 100 + 1))
            amount = (hundredths * price + 50) // 100
            quantity = f"{hundredths // 100}.{hundredths % 100:02d}"
        else:
            count = q_lo + int(rng.random() * (q_hi - q_lo + 1))
            amount = count * price
            quantity = str(count)
        tax = (amount * rate + 50) // 100
        item = {
            "name": name,
            "spec": specs[0] if len(specs) == 1 else rng.choice(specs),
            "unit": unit,
            "quantity": quantity,
            "unit_price": _yuan(price),
            "amount": _yuan(amount),
            "tax_rate": f"0.{rate:02d}",
            "tax": _yuan(tax),
        }
        return item, amount, tax

    def _goods_and_services(self, invoice_type, issue_date):
        rng = self.rng
        special = invoice_type in _SPECIAL_TYPES
        if invoice_type is T.VAT_ROLL:
            industry = rng.choice(_ROLL_INDUSTRIES)
        elif special:
            industry = rng.choice(_SPECIAL_INDUSTRIES)
        else:
            industry = rng.choice(_ORDINARY_INDUSTRIES)
        roll = invoice_type is T.VAT_ROLL
        small_share = 0.8 if roll else 0.35
        if industry in self.small_sellers and not special and rng.random() < small_share:
            seller = rng.choice(self.small_sellers[industry])
        else:
            seller = rng.choice(self.sellers[industry])
        catalogue = _INDUSTRIES[industry][1]
        if roll or rng.random() < 0.55:
            lines = 1
        else:
            lines = min(len(catalogue), rng.choice((2, 2, 3, 3, 4, 5)))
        small_rate = self._small_rate(issue_date) if seller.small_scale else None
        # Roll invoices are for small sales at the counter.
        max_price = 20_000 if roll else None
        items, amount, tax = [], 0, 0
        chosen = (rng.choice(catalogue),) if lines == 1 else rng.sample(catalogue, lines)
        for spec in chosen:
            item, line_amount, line_tax = self._line(spec, small_rate or spec[8], max_price)
            items.append(item)
            amount += line_amount
            tax += line_tax
        remarks = self._remarks(industry, items[0]["name"], seller, issue_date)
        return seller, items, amount, tax, remarks

    def _remarks(self, industry: str, first_item: str, seller: _Party, issue_date) -> str:
        rng = self.rng
        if first_item == "*运输服务*货物运输服务":
            return (
                f"起运地: 北京市{seller.district} 到达地: {rng.choice(_DESTINATIONS)} "
                f"车种车号: 重型厢式货车 {self._plate()} 运输货物信息: {rng.choice(_CARGO)}"
            )
        if industry == "construction":
            district = self._district()[0]
            return f"建筑服务发生地: 北京市{district} 建筑项目名称: 办公区{first_item.rsplit('*', 1)[1]}"
        if first_item == "*不动产经营租赁服务*房屋租金":
            district, _division, streets = self._district()
            start = issue_date.replace(day=1)
            address = f"北京市{district}{rng.choice(streets)}{rng.randint(1, 300)}号"
            return f"不动产地址: {address} 租赁期起: {start.isoformat()}"
        if rng.random() < 0.12:
            return f"合同编号: HT{issue_date.year}{rng.randint(1, 9999):04d}"
        return ""

    def _vehicle(self, invoice_type, issue_date):
        rng = self.rng
        brand, wmi, model, low, high = rng.choice(_CARS)
        kind = rng.choice(_CAR_KINDS)
        spec = f"{brand}牌{model}{rng.randint(100, 999)}{rng.choice(('', 'A', 'B', 'D', 'E'))}"
        new = invoice_type is T.MOTOR_VEHICLE
        vin = self._vin(wmi, issue_date.year if new else issue_date.year - rng.randint(2, 10))
        if invoice_type is T.MOTOR_VEHICLE:
            seller = rng.choice(self.car_dealers)
            amount = (low + int(rng.random() * (high - low))) * 100
            rate = 13
            engine = "".join(rng.choices(_VIN_CHARS, k=8))
            remarks = f"车辆识别代号: {vin} 发动机号码: {engine} 产地: {rng.choice(_CAR_ORIGINS)}"
            name = f"*机动车*{kind}"
        else:
            seller = rng.choice(self.used_car_sellers)
            new_price = low + rng.random() * (high - low)
            amount = int(new_price * (0.3 + 0.5 * rng.random())) // 100 * 10_000
            # The used-vehicle invoice states only the vehicle price (车价合计); the market's
            # own VAT is declared separately and never printed on it.
            rate = 0
            registration = "110" + "".join(rng.choices(_DIGITS, k=9))
            remarks = f"车牌照号: {self._plate()} 登记证号: {registration} 车辆识别代号: {vin}"
            name = f"*二手车*{kind}"
        tax = (amount * rate + 50) // 100
        item = {
            "name": name,
            "spec": spec,
            "unit": "辆",
            "quantity": "1",
            "unit_price": _yuan(amount),
            "amount": _yuan(amount),
            "tax_rate": f"0.{rate:02d}" if rate else "0",
            "tax": _yuan(tax),
        }
        return seller, [item], amount, tax, remarks

    def _toll(self, issue_date):
        rng = self.rng
        seller, rate = rng.choice(self.tolls)
        plate = self._plate()
        items, amount, tax = [], 0, 0
        for _ in range(1 if rng.random() < 0.6 else rng.randint(2, 5)):
            line = 500 + int(rng.random() * 15000)
            line_tax = (line * rate + 50) // 100
            items.append(
                {
                    "name": "*经营租赁*通行费",
                    "spec": plate,
                    "unit": "次",
                    "quantity": "1",
                    "unit_price": _yuan(line),
                    "amount": _yuan(line),
                    "tax_rate": f"0.{rate:02d}",
                    "tax": _yuan(line_tax),
                }
            )
            amount += line
            tax += line_tax
        return seller, items, amount, tax, f"车牌号: {plate} 通行日期: {issue_date.isoformat()}"

    def record(self, invoice_type: InvoiceType, status: Status, recent: bool) -> dict:
        rng = self.rng
        issue_date = self.issue_date(invoice_type, recent)
        if invoice_type.is_digital:
            code, number = "", self._digital_number(issue_date)
        else:
            code, number = self._code(invoice_type, issue_date), self._legacy_number(invoice_type)
        if invoice_type in (T.MOTOR_VEHICLE, T.USED_VEHICLE):
            seller, items, amount, tax, remarks = self._vehicle(invoice_type, issue_date)
            buyer = self._buyer(individual_share=0.7, full=True)
        elif invoice_type is T.TOLL_ELECTRONIC:
            seller, items, amount, tax, remarks = self._toll(issue_date)
            buyer = self._buyer(individual_share=0.4, full=False)
        else:
            seller, items, amount, tax, remarks = self._goods_and_services(invoice_type, issue_date)
            special = invoice_type in _SPECIAL_TYPES
            buyer = self._buyer(individual_share=0.0 if special else 0.3, full=special)
        check_code = ""
        if invoice_type.extra_field is ExtraField.CHECK_CODE:
            check_code = f"{int(rng.random() * 10**10):010d}{int(rng.random() * 10**10):010d}"
        return {
            "type": invoice_type.code,
            "invoice_code": code,
            "invoice_number": number,
            "issue_date": issue_date.isoformat(),
            "check_code": check_code,
            "amount": _yuan(amount),
            "tax": _yuan(tax),
            "total": _yuan(amount + tax),
            "status": status.value,
            "seller": seller.as_dict(),
            "buyer": buyer,
            "items": items,
            "remarks": remarks,
            "drawer": seller.drawer,
        }


def iter_demo_invoices(
    count: int, *, today: datetime.date, seed: int = 2024
) -> Iterator[dict]:
    """``count`` demo invoices in the import format, one at a time (see ``demo_invoices``)."""
    if count < 0:
        raise ValueError("count must not be negative")
    if isinstance(today, datetime.datetime):
        today = today.date()
    generator = _Generator(random.Random(seed), today)  # nosec B311 # reproducible demo data
    showcase = [(t, Status.NORMAL) for t in InvoiceType] + list(SHOWCASE_STATUSES)
    for index in range(count):
        if index < len(showcase):
            invoice_type, status = showcase[index]
            yield generator.record(invoice_type, status, recent=True)
        else:
            invoice_type = generator.pick_type()
            yield generator.record(invoice_type, generator.pick_status(invoice_type), recent=False)


def demo_invoices(count: int, *, today: datetime.date, seed: int = 2024) -> list[dict]:
    """Deterministic realistic Beijing invoices of every type, as DESIGN 3.3 import records.

    The first ten are one normal invoice of each type issued in the last 60 days; the next
    four are one of each warning status; the rest are spread over the last 4.5 years, about
    80 % of them normal. Code and number are unique across the whole set.
    """
    return list(iter_demo_invoices(count, today=today, seed=seed))


def seed_registry(
    session: Session,
    count: int,
    *,
    today: datetime.date,
    seed: int = 2024,
    batch_size: int = 500,
) -> registry.ImportReport:
    """Store ``count`` demo invoices the way an import does; running it again changes nothing."""
    records = iter_demo_invoices(count, today=today, seed=seed)
    return registry.import_records(
        session,
        ((index, record, None) for index, record in enumerate(records, start=1)),
        batch_size=batch_size,
        demo=True,
    )
