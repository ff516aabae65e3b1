"""Japan's eight regions (地方) as routing territories, each a set of prefectures."""

from renkei.lib.japanese import PREFECTURES

REGIONS: dict[str, tuple[str, ...]] = {
    "北海道": ("北海道",),
    "東北": ("青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県"),
    "関東": ("茨城県", "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県"),
    "中部": (
        "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県", "愛知県",
    ),
    # 近畿 is called 関西 in sales territories.
    "関西": ("三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県"),
    "中国": ("鳥取県", "島根県", "岡山県", "広島県", "山口県"),
    "四国": ("徳島県", "香川県", "愛媛県", "高知県"),
    "九州・沖縄": (
        "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
    ),
}  # fmt: skip

REGION_CHOICES = [(name, name) for name in REGIONS]

assert sorted(p for ps in REGIONS.values() for p in ps) == sorted(PREFECTURES)


def prefectures_of(regions: list[str], prefectures: list[str]) -> frozenset[str]:
    """The prefectures a territory covers: its regions' and the ones named one by one."""
    out = set(prefectures)
    for region in regions:
        out.update(REGIONS.get(region, ()))
    return frozenset(out)
