# ruff: noqa: E501  (word tables read best one entry per line; wide kana count double)
"""Word tables for the demo data set: Japanese people, companies, places and campaigns.

Written out by hand (no external data). Weights are rough relative frequencies: enough
that 佐藤 and 鈴木 are common, 東京都 dominates and most contacts are 担当 or 課長.
"""

# (kanji, katakana reading, romaji for email addresses, weight)
Name = tuple[str, str, str, int]

SURNAMES: tuple[Name, ...] = (
    ("佐藤", "サトウ", "sato", 187), ("鈴木", "スズキ", "suzuki", 179),
    ("高橋", "タカハシ", "takahashi", 141), ("田中", "タナカ", "tanaka", 134),
    ("伊藤", "イトウ", "ito", 108), ("渡辺", "ワタナベ", "watanabe", 107),
    ("山本", "ヤマモト", "yamamoto", 107), ("中村", "ナカムラ", "nakamura", 104),
    ("小林", "コバヤシ", "kobayashi", 102), ("加藤", "カトウ", "kato", 89),
    ("吉田", "ヨシダ", "yoshida", 83), ("山田", "ヤマダ", "yamada", 81),
    ("佐々木", "ササキ", "sasaki", 67), ("山口", "ヤマグチ", "yamaguchi", 64),
    ("松本", "マツモト", "matsumoto", 62), ("井上", "イノウエ", "inoue", 60),
    ("木村", "キムラ", "kimura", 57), ("林", "ハヤシ", "hayashi", 54),
    ("斎藤", "サイトウ", "saito", 54), ("清水", "シミズ", "shimizu", 53),
    ("山崎", "ヤマザキ", "yamazaki", 48), ("森", "モリ", "mori", 46),
    ("池田", "イケダ", "ikeda", 44), ("橋本", "ハシモト", "hashimoto", 44),
    ("阿部", "アベ", "abe", 44), ("石川", "イシカワ", "ishikawa", 42),
    ("山下", "ヤマシタ", "yamashita", 41), ("中島", "ナカジマ", "nakajima", 40),
    ("石井", "イシイ", "ishii", 39), ("小川", "オガワ", "ogawa", 39),
    ("前田", "マエダ", "maeda", 38), ("岡田", "オカダ", "okada", 38),
    ("長谷川", "ハセガワ", "hasegawa", 38), ("藤田", "フジタ", "fujita", 37),
    ("後藤", "ゴトウ", "goto", 36), ("近藤", "コンドウ", "kondo", 36),
    ("村上", "ムラカミ", "murakami", 34), ("遠藤", "エンドウ", "endo", 33),
    ("青木", "アオキ", "aoki", 32), ("坂本", "サカモト", "sakamoto", 32),
    ("斉藤", "サイトウ", "saito", 31), ("福田", "フクダ", "fukuda", 31),
    ("太田", "オオタ", "ota", 30), ("西村", "ニシムラ", "nishimura", 30),
    ("藤井", "フジイ", "fujii", 30), ("金子", "カネコ", "kaneko", 29),
    ("岡本", "オカモト", "okamoto", 29), ("藤原", "フジワラ", "fujiwara", 29),
    ("中野", "ナカノ", "nakano", 28), ("三浦", "ミウラ", "miura", 28),
    ("原田", "ハラダ", "harada", 28), ("中川", "ナカガワ", "nakagawa", 28),
    ("松田", "マツダ", "matsuda", 28), ("竹内", "タケウチ", "takeuchi", 27),
    ("小野", "オノ", "ono", 27), ("田村", "タムラ", "tamura", 27),
    ("中山", "ナカヤマ", "nakayama", 26), ("和田", "ワダ", "wada", 26),
    ("石田", "イシダ", "ishida", 26), ("森田", "モリタ", "morita", 25),
    ("上田", "ウエダ", "ueda", 25), ("原", "ハラ", "hara", 25),
    ("内田", "ウチダ", "uchida", 25), ("柴田", "シバタ", "shibata", 24),
    ("酒井", "サカイ", "sakai", 24), ("宮崎", "ミヤザキ", "miyazaki", 24),
    ("横山", "ヨコヤマ", "yokoyama", 24), ("高木", "タカギ", "takagi", 23),
    ("安藤", "アンドウ", "ando", 23), ("宮本", "ミヤモト", "miyamoto", 23),
    ("大野", "オオノ", "ono", 23), ("小島", "コジマ", "kojima", 22),
    ("谷口", "タニグチ", "taniguchi", 22), ("今井", "イマイ", "imai", 22),
    ("工藤", "クドウ", "kudo", 22), ("高田", "タカダ", "takada", 22),
    ("増田", "マスダ", "masuda", 21), ("丸山", "マルヤマ", "maruyama", 21),
    ("杉山", "スギヤマ", "sugiyama", 21), ("村田", "ムラタ", "murata", 21),
    ("大塚", "オオツカ", "otsuka", 21), ("新井", "アライ", "arai", 20),
    ("小山", "コヤマ", "koyama", 20), ("平野", "ヒラノ", "hirano", 20),
    ("藤本", "フジモト", "fujimoto", 20), ("河野", "コウノ", "kono", 20),
    ("上野", "ウエノ", "ueno", 19), ("野口", "ノグチ", "noguchi", 19),
    ("武田", "タケダ", "takeda", 19), ("松井", "マツイ", "matsui", 19),
    ("千葉", "チバ", "chiba", 19), ("岩崎", "イワサキ", "iwasaki", 19),
    ("菅原", "スガワラ", "sugawara", 18), ("木下", "キノシタ", "kinoshita", 18),
    ("久保", "クボ", "kubo", 18), ("佐野", "サノ", "sano", 18),
    ("野村", "ノムラ", "nomura", 18), ("松尾", "マツオ", "matsuo", 18),
    ("市川", "イチカワ", "ichikawa", 17), ("菊地", "キクチ", "kikuchi", 17),
    ("杉本", "スギモト", "sugimoto", 17), ("古川", "フルカワ", "furukawa", 17),
    ("大西", "オオニシ", "onishi", 17), ("島田", "シマダ", "shimada", 17),
    ("水野", "ミズノ", "mizuno", 16), ("桜井", "サクライ", "sakurai", 16),
    ("高野", "タカノ", "takano", 16), ("渡部", "ワタナベ", "watanabe", 16),
    ("吉川", "ヨシカワ", "yoshikawa", 16), ("山内", "ヤマウチ", "yamauchi", 16),
    ("西田", "ニシダ", "nishida", 16), ("飯田", "イイダ", "iida", 16),
    ("菊池", "キクチ", "kikuchi", 16), ("西川", "ニシカワ", "nishikawa", 16),
    ("小松", "コマツ", "komatsu", 15), ("北村", "キタムラ", "kitamura", 15),
    ("安田", "ヤスダ", "yasuda", 15), ("五十嵐", "イガラシ", "igarashi", 15),
    ("川口", "カワグチ", "kawaguchi", 15), ("平田", "ヒラタ", "hirata", 15),
    ("関", "セキ", "seki", 15), ("中田", "ナカタ", "nakata", 15),
    ("久保田", "クボタ", "kubota", 15), ("服部", "ハットリ", "hattori", 15),
    ("東", "ヒガシ", "higashi", 14), ("岩田", "イワタ", "iwata", 14),
    ("土屋", "ツチヤ", "tsuchiya", 14), ("川崎", "カワサキ", "kawasaki", 14),
    ("福島", "フクシマ", "fukushima", 14), ("本田", "ホンダ", "honda", 14),
    ("辻", "ツジ", "tsuji", 14), ("樋口", "ヒグチ", "higuchi", 14),
    ("秋山", "アキヤマ", "akiyama", 14), ("田口", "タグチ", "taguchi", 14),
    ("永井", "ナガイ", "nagai", 14), ("山中", "ヤマナカ", "yamanaka", 13),
    ("中西", "ナカニシ", "nakanishi", 13), ("吉村", "ヨシムラ", "yoshimura", 13),
    ("川上", "カワカミ", "kawakami", 13), ("石原", "イシハラ", "ishihara", 13),
    ("大橋", "オオハシ", "ohashi", 13), ("松岡", "マツオカ", "matsuoka", 13),
    ("馬場", "ババ", "baba", 13), ("浜田", "ハマダ", "hamada", 13),
    ("森本", "モリモト", "morimoto", 13), ("星野", "ホシノ", "hoshino", 13),
    ("矢野", "ヤノ", "yano", 13), ("浅野", "アサノ", "asano", 13),
    ("大久保", "オオクボ", "okubo", 13), ("松下", "マツシタ", "matsushita", 13),
)  # fmt: skip

MALE_GIVEN_NAMES: tuple[Name, ...] = (
    ("翔太", "ショウタ", "shota", 10), ("大輔", "ダイスケ", "daisuke", 12),
    ("拓也", "タクヤ", "takuya", 11), ("健太", "ケンタ", "kenta", 10),
    ("直樹", "ナオキ", "naoki", 10), ("達也", "タツヤ", "tatsuya", 9),
    ("和也", "カズヤ", "kazuya", 9), ("誠", "マコト", "makoto", 10),
    ("浩", "ヒロシ", "hiroshi", 9), ("隆", "タカシ", "takashi", 9),
    ("剛", "ツヨシ", "tsuyoshi", 7), ("修", "オサム", "osamu", 6),
    ("健一", "ケンイチ", "kenichi", 8), ("大樹", "ダイキ", "daiki", 8),
    ("翔", "ショウ", "sho", 6), ("亮", "リョウ", "ryo", 7),
    ("悠斗", "ユウト", "yuto", 5), ("陽平", "ヨウヘイ", "yohei", 6),
    ("慎也", "シンヤ", "shinya", 6), ("智也", "トモヤ", "tomoya", 7),
    ("雄一", "ユウイチ", "yuichi", 6), ("秀樹", "ヒデキ", "hideki", 7),
    ("哲也", "テツヤ", "tetsuya", 7), ("浩二", "コウジ", "koji", 6),
    ("健二", "ケンジ", "kenji", 6), ("一郎", "イチロウ", "ichiro", 4),
    ("正人", "マサト", "masato", 5), ("学", "マナブ", "manabu", 5),
    ("聡", "サトシ", "satoshi", 7), ("淳", "ジュン", "jun", 5),
    ("俊介", "シュンスケ", "shunsuke", 6), ("祐介", "ユウスケ", "yusuke", 7),
    ("蓮", "レン", "ren", 3), ("拓海", "タクミ", "takumi", 4),
    ("大地", "ダイチ", "daichi", 4), ("裕太", "ユウタ", "yuta", 6),
    ("康弘", "ヤスヒロ", "yasuhiro", 5), ("英樹", "ヒデキ", "hideki", 4),
    ("真一", "シンイチ", "shinichi", 5), ("洋平", "ヨウヘイ", "yohei", 4),
    ("勇気", "ユウキ", "yuki", 5), ("航", "ワタル", "wataru", 4),
    ("圭", "ケイ", "kei", 4), ("克也", "カツヤ", "katsuya", 4),
    ("昌弘", "マサヒロ", "masahiro", 5), ("徹", "トオル", "toru", 5),
)  # fmt: skip

FEMALE_GIVEN_NAMES: tuple[Name, ...] = (
    ("陽子", "ヨウコ", "yoko", 8), ("恵子", "ケイコ", "keiko", 6),
    ("裕子", "ユウコ", "yuko", 7), ("美穂", "ミホ", "miho", 8),
    ("愛", "アイ", "ai", 7), ("彩", "アヤ", "aya", 7),
    ("麻衣", "マイ", "mai", 7), ("千尋", "チヒロ", "chihiro", 5),
    ("由美", "ユミ", "yumi", 6), ("直美", "ナオミ", "naomi", 6),
    ("真由美", "マユミ", "mayumi", 5), ("香織", "カオリ", "kaori", 7),
    ("美咲", "ミサキ", "misaki", 7), ("さくら", "サクラ", "sakura", 4),
    ("奈々", "ナナ", "nana", 4), ("優子", "ユウコ", "yuko", 6),
    ("智子", "トモコ", "tomoko", 7), ("恵", "メグミ", "megumi", 6),
    ("明美", "アケミ", "akemi", 4), ("久美子", "クミコ", "kumiko", 5),
    ("沙織", "サオリ", "saori", 6), ("理恵", "リエ", "rie", 5),
    ("結衣", "ユイ", "yui", 4), ("葵", "アオイ", "aoi", 3),
    ("友美", "トモミ", "tomomi", 5), ("亜希子", "アキコ", "akiko", 4),
    ("由佳", "ユカ", "yuka", 6), ("美紀", "ミキ", "miki", 5),
    ("早紀", "サキ", "saki", 5), ("瞳", "ヒトミ", "hitomi", 5),
    ("絵美", "エミ", "emi", 4), ("真理子", "マリコ", "mariko", 4),
    ("加奈子", "カナコ", "kanako", 4), ("千春", "チハル", "chiharu", 3),
    ("遥", "ハルカ", "haruka", 5), ("彩花", "アヤカ", "ayaka", 4),
)  # fmt: skip

# Share of contacts with a female given name: Japanese B2B buyers skew male.
FEMALE_SHARE = 0.3

# Company name stems: (text, katakana reading, romaji for the domain).
Stem = tuple[str, str, str]
COMPANY_STEMS: tuple[Stem, ...] = (
    ("東和", "トウワ", "towa"), ("日進", "ニッシン", "nissin"), ("三協", "サンキョウ", "sankyo"),
    ("大和", "ヤマト", "yamato"), ("富士", "フジ", "fuji"), ("北斗", "ホクト", "hokuto"),
    ("中央", "チュウオウ", "chuo"), ("平和", "ヘイワ", "heiwa"), ("旭", "アサヒ", "asahi"),
    ("昭和", "ショウワ", "showa"), ("大成", "タイセイ", "taisei"), ("光和", "コウワ", "kowa"),
    ("東洋", "トウヨウ", "toyo"), ("太陽", "タイヨウ", "taiyo"), ("明和", "メイワ", "meiwa"),
    ("三和", "サンワ", "sanwa"), ("協和", "キョウワ", "kyowa"), ("新光", "シンコウ", "shinko"),
    ("第一", "ダイイチ", "daiichi"), ("丸和", "マルワ", "maruwa"), ("山一", "ヤマイチ", "yamaichi"),
    ("共栄", "キョウエイ", "kyoei"), ("千代田", "チヨダ", "chiyoda"), ("青葉", "アオバ", "aoba"),
    ("若葉", "ワカバ", "wakaba"), ("日光", "ニッコウ", "nikko"), ("東邦", "トウホウ", "toho"),
    ("南海", "ナンカイ", "nankai"), ("北陸", "ホクリク", "hokuriku"), ("関東", "カントウ", "kanto"),
    ("関西", "カンサイ", "kansai"), ("中部", "チュウブ", "chubu"), ("九州", "キュウシュウ", "kyushu"),
    ("東北", "トウホク", "tohoku"), ("瀬戸内", "セトウチ", "setouchi"),
    ("湘南", "ショウナン", "shonan"), ("武蔵野", "ムサシノ", "musashino"),
    ("京浜", "ケイヒン", "keihin"), ("阪神", "ハンシン", "hanshin"), ("浪速", "ナニワ", "naniwa"),
    ("桜", "サクラ", "sakura"), ("松風", "マツカゼ", "matsukaze"), ("日立野", "ヒタチノ", "hitachino"),
    ("白鳥", "シラトリ", "shiratori"), ("朝霧", "アサギリ", "asagiri"), ("双葉", "フタバ", "futaba"),
    ("菱和", "リョウワ", "ryowa"), ("高砂", "タカサゴ", "takasago"), ("扇", "オウギ", "ougi"),
    ("栄光", "エイコウ", "eiko"), ("大同", "ダイドウ", "daido"), ("新日本", "シンニホン", "shin-nihon"),
    ("アルファ", "アルファ", "alpha"), ("ネクスト", "ネクスト", "next"),
    ("グローバル", "グローバル", "global"), ("フューチャー", "フューチャー", "future"),
    ("ユニオン", "ユニオン", "union"), ("クレスト", "クレスト", "crest"),
    ("アクシス", "アクシス", "axis"), ("ブライト", "ブライト", "bright"),
    ("ミライ", "ミライ", "mirai"), ("コスモ", "コスモ", "cosmo"), ("オリオン", "オリオン", "orion"),
    ("フロンティア", "フロンティア", "frontier"), ("サンライズ", "サンライズ", "sunrise"),
    ("リンクス", "リンクス", "links"), ("スマート", "スマート", "smart"),
    ("エコー", "エコー", "echo"), ("ヴィスタ", "ヴィスタ", "vista"), ("ソレイユ", "ソレイユ", "soleil"),
)  # fmt: skip

# Place prefixes that make a second name space ("名古屋東和工業") so a large data set
# still has distinct, plausible names.
COMPANY_PLACES: tuple[Stem, ...] = (
    ("東京", "トウキョウ", "tokyo"), ("大阪", "オオサカ", "osaka"), ("名古屋", "ナゴヤ", "nagoya"),
    ("横浜", "ヨコハマ", "yokohama"), ("京都", "キョウト", "kyoto"), ("神戸", "コウベ", "kobe"),
    ("札幌", "サッポロ", "sapporo"), ("仙台", "センダイ", "sendai"), ("広島", "ヒロシマ", "hiroshima"),
    ("福岡", "フクオカ", "fukuoka"), ("静岡", "シズオカ", "shizuoka"), ("埼玉", "サイタマ", "saitama"),
    ("千葉", "チバ", "chiba"), ("新潟", "ニイガタ", "niigata"), ("岡山", "オカヤマ", "okayama"),
    ("熊本", "クマモト", "kumamoto"), ("金沢", "カナザワ", "kanazawa"), ("浜松", "ハママツ", "hamamatsu"),
    ("日本", "ニホン", "nihon"), ("西日本", "ニシニホン", "nishinihon"), ("東日本", "ヒガシニホン", "higashinihon"),
)  # fmt: skip

# Where a place-named company has its head office (the national ones go anywhere).
PLACE_PREFECTURE: dict[str, str] = {
    "東京": "東京都", "大阪": "大阪府", "名古屋": "愛知県", "横浜": "神奈川県", "京都": "京都府",
    "神戸": "兵庫県", "札幌": "北海道", "仙台": "宮城県", "広島": "広島県", "福岡": "福岡県",
    "静岡": "静岡県", "浜松": "静岡県", "埼玉": "埼玉県", "千葉": "千葉県", "新潟": "新潟県",
    "岡山": "岡山県", "熊本": "熊本県", "金沢": "石川県",
}  # fmt: skip

# Industry → suffixes (text, kana, romaji). The keys are the Industry choices' values.
INDUSTRY_SUFFIXES: dict[str, tuple[Stem, ...]] = {
    "manufacturing": (
        ("工業", "コウギョウ", "kogyo"), ("製作所", "セイサクショ", "seisakusho"),
        ("精機", "セイキ", "seiki"), ("電機", "デンキ", "denki"), ("化学", "カガク", "kagaku"),
        ("金属", "キンゾク", "kinzoku"), ("精工", "セイコウ", "seiko"), ("産業", "サンギョウ", "sangyo"),
    ),
    "it": (
        ("システムズ", "システムズ", "systems"), ("ソフト", "ソフト", "soft"),
        ("テクノロジー", "テクノロジー", "tech"), ("情報システム", "ジョウホウシステム", "joho"),
        ("ソリューションズ", "ソリューションズ", "solutions"), ("データ", "データ", "data"),
        ("ネットワークス", "ネットワークス", "networks"), ("ラボ", "ラボ", "lab"),
    ),
    "finance": (
        ("証券", "ショウケン", "securities"), ("信用金庫", "シンヨウキンコ", "shinkin"),
        ("保険", "ホケン", "hoken"), ("ファイナンス", "ファイナンス", "finance"),
        ("リース", "リース", "lease"), ("キャピタル", "キャピタル", "capital"),
    ),
    "retail": (
        ("商事", "ショウジ", "shoji"), ("物産", "ブッサン", "bussan"), ("商会", "ショウカイ", "shokai"),
        ("ストア", "ストア", "store"), ("通商", "ツウショウ", "tsusho"),
        ("トレーディング", "トレーディング", "trading"),
    ),
    "construction": (
        ("建設", "ケンセツ", "kensetsu"), ("工務店", "コウムテン", "komuten"),
        ("不動産", "フドウサン", "fudosan"), ("ハウジング", "ハウジング", "housing"),
        ("土木", "ドボク", "doboku"), ("設計", "セッケイ", "sekkei"),
    ),
    "healthcare": (
        ("メディカル", "メディカル", "medical"), ("薬品", "ヤクヒン", "yakuhin"),
        ("ヘルスケア", "ヘルスケア", "healthcare"), ("製薬", "セイヤク", "seiyaku"),
        ("医療器", "イリョウキ", "iryoki"),
    ),
    "logistics": (
        ("運輸", "ウンユ", "unyu"), ("物流", "ブツリュウ", "butsuryu"),
        ("ロジスティクス", "ロジスティクス", "logistics"), ("倉庫", "ソウコ", "soko"),
        ("運送", "ウンソウ", "unso"), ("エクスプレス", "エクスプレス", "express"),
    ),
    "services": (
        ("コンサルティング", "コンサルティング", "consulting"),
        ("総合研究所", "ソウゴウケンキュウジョ", "soken"), ("パートナーズ", "パートナーズ", "partners"),
        ("人材サービス", "ジンザイサービス", "jinzai"), ("企画", "キカク", "kikaku"),
        ("マネジメント", "マネジメント", "management"),
    ),
    "education": (
        ("学園", "ガクエン", "gakuen"), ("教育", "キョウイク", "kyoiku"),
        ("ゼミナール", "ゼミナール", "seminar"), ("アカデミー", "アカデミー", "academy"),
        ("出版", "シュッパン", "shuppan"),
    ),
    "public": (
        ("振興財団", "シンコウザイダン", "zaidan"), ("公社", "コウシャ", "kosha"),
        ("産業振興機構", "サンギョウシンコウキコウ", "kiko"), ("協会", "キョウカイ", "kyokai"),
    ),
    "other": (
        ("ホールディングス", "ホールディングス", "hd"), ("グループ", "グループ", "group"),
        ("エンタープライズ", "エンタープライズ", "enterprise"), ("興業", "コウギョウ", "kogyo"),
    ),
}  # fmt: skip

# Industry → (share of companies, legal-entity forms with weights).
# "株式会社{name}" (前株) and "{name}株式会社" (後株) are both common; public bodies and
# schools use their own forms.
INDUSTRY_WEIGHTS: dict[str, int] = {
    "manufacturing": 24, "it": 16, "retail": 13, "construction": 10, "services": 11,
    "finance": 5, "healthcare": 6, "logistics": 6, "education": 3, "public": 2, "other": 4,
}  # fmt: skip
ENTITY_FORMS: dict[str, tuple[tuple[str, str, int], ...]] = {
    # (prefix, suffix, weight)
    "default": (("株式会社", "", 55), ("", "株式会社", 38), ("有限会社", "", 4), ("合同会社", "", 3)),
    "education": (("学校法人", "", 60), ("株式会社", "", 40)),
    "public": (("一般財団法人", "", 40), ("公益社団法人", "", 30), ("", "", 30)),
    "healthcare": (("株式会社", "", 50), ("", "株式会社", 35), ("医療法人", "", 15)),
}  # fmt: skip

# Domain endings by industry: reserved example zones keep every generated address
# undeliverable (a demo must never mail a real company), while reading like 〇〇.co.jp.
DOMAIN_ZONES: dict[str, str] = {
    "education": "example.ac.jp",
    "public": "example.or.jp",
}
DEFAULT_DOMAIN_ZONE = "example.co.jp"

# Company size buckets: (min employees, max employees, share, relative contacts per company).
SIZE_BUCKETS: tuple[tuple[int, int, int, float], ...] = (
    (3, 9, 18, 0.4),
    (10, 49, 30, 0.7),
    (50, 299, 29, 1.2),
    (300, 999, 13, 2.2),
    (1000, 4999, 7, 3.5),
    (5000, 30000, 3, 6.0),
)

# Prefecture → (weight, cities with wards where business concentrates, landline area code).
# Tokyo weighs most (head offices); the area code fills E.164 numbers (+81 3 …).
PREFECTURE_INFO: dict[str, tuple[float, tuple[str, ...], str]] = {
    "北海道": (3.0, ("札幌市中央区", "札幌市北区", "旭川市"), "11"),
    "青森県": (0.4, ("青森市", "八戸市"), "17"),
    "岩手県": (0.4, ("盛岡市",), "19"),
    "宮城県": (1.5, ("仙台市青葉区", "仙台市宮城野区"), "22"),
    "秋田県": (0.3, ("秋田市",), "18"),
    "山形県": (0.4, ("山形市",), "23"),
    "福島県": (0.6, ("福島市", "郡山市"), "24"),
    "茨城県": (1.2, ("水戸市", "つくば市"), "29"),
    "栃木県": (0.9, ("宇都宮市",), "28"),
    "群馬県": (0.9, ("前橋市", "高崎市"), "27"),
    "埼玉県": (3.5, ("さいたま市大宮区", "さいたま市浦和区", "川口市"), "48"),
    "千葉県": (2.5, ("千葉市中央区", "船橋市", "柏市"), "43"),
    "東京都": (30.0, ("千代田区", "中央区", "港区", "新宿区", "渋谷区", "品川区", "江東区", "豊島区"), "3"),
    "神奈川県": (6.0, ("横浜市西区", "横浜市港北区", "川崎市幸区", "相模原市"), "45"),
    "新潟県": (1.2, ("新潟市中央区", "長岡市"), "25"),
    "富山県": (0.6, ("富山市",), "76"),
    "石川県": (0.7, ("金沢市",), "76"),
    "福井県": (0.4, ("福井市",), "776"),
    "山梨県": (0.4, ("甲府市",), "55"),
    "長野県": (1.0, ("長野市", "松本市"), "26"),
    "岐阜県": (1.0, ("岐阜市", "大垣市"), "58"),
    "静岡県": (2.5, ("静岡市葵区", "浜松市中央区", "沼津市"), "54"),
    "愛知県": (7.0, ("名古屋市中区", "名古屋市中村区", "豊田市", "岡崎市"), "52"),
    "三重県": (0.9, ("津市", "四日市市"), "59"),
    "滋賀県": (0.6, ("大津市", "草津市"), "77"),
    "京都府": (2.0, ("京都市下京区", "京都市中京区"), "75"),
    "大阪府": (10.0, ("大阪市北区", "大阪市中央区", "大阪市西区", "堺市堺区", "東大阪市"), "6"),
    "兵庫県": (3.0, ("神戸市中央区", "姫路市", "尼崎市"), "78"),
    "奈良県": (0.4, ("奈良市",), "742"),
    "和歌山県": (0.3, ("和歌山市",), "73"),
    "鳥取県": (0.2, ("鳥取市",), "857"),
    "島根県": (0.2, ("松江市",), "852"),
    "岡山県": (1.0, ("岡山市北区", "倉敷市"), "86"),
    "広島県": (2.0, ("広島市中区", "福山市"), "82"),
    "山口県": (0.5, ("山口市", "下関市"), "83"),
    "徳島県": (0.3, ("徳島市",), "88"),
    "香川県": (0.5, ("高松市",), "87"),
    "愛媛県": (0.5, ("松山市",), "89"),
    "高知県": (0.3, ("高知市",), "88"),
    "福岡県": (4.0, ("福岡市博多区", "福岡市中央区", "北九州市小倉北区"), "92"),
    "佐賀県": (0.3, ("佐賀市",), "952"),
    "長崎県": (0.4, ("長崎市",), "95"),
    "熊本県": (0.8, ("熊本市中央区",), "96"),
    "大分県": (0.4, ("大分市",), "97"),
    "宮崎県": (0.4, ("宮崎市",), "985"),
    "鹿児島県": (0.7, ("鹿児島市",), "99"),
    "沖縄県": (0.5, ("那覇市",), "98"),
}  # fmt: skip

TOWNS: tuple[str, ...] = (
    "本町", "中央", "栄町", "駅前", "旭町", "緑町", "幸町", "昭和町", "末広町", "若松町",
    "東町", "西町", "南町", "元町", "新町", "大手町", "錦町", "港町",
)  # fmt: skip
BUILDINGS: tuple[str, ...] = (
    "ビル", "ビルディング", "センタービル", "タワー", "第一ビル", "スクエア", "プラザ",
)  # fmt: skip

# (department, weight). Buyers of a marketing–sales platform sit in these departments.
DEPARTMENTS: tuple[tuple[str, int], ...] = (
    ("営業部", 18), ("第一営業部", 5), ("営業企画部", 8), ("マーケティング部", 14),
    ("情報システム部", 12), ("経営企画部", 8), ("DX推進室", 6), ("広報部", 3),
    ("事業開発部", 5), ("カスタマーサクセス部", 4), ("総務部", 5), ("人事部", 2),
    ("経理部", 2), ("購買部", 3), ("製造部", 2), ("品質保証部", 2), ("インサイドセールス部", 4),
)  # fmt: skip

# (title, weight); "" is a contact without a title (担当者).
TITLES: tuple[tuple[str, int], ...] = (
    ("担当", 22), ("", 8), ("主任", 14), ("係長", 9), ("課長代理", 5), ("課長", 15),
    ("マネージャー", 5), ("次長", 4), ("部長", 11), ("本部長", 3), ("執行役員", 2),
    ("取締役", 1), ("代表取締役", 1),
)  # fmt: skip

# The company whose demo this is: a fictitious vendor running Renkei on its own funnel.
SELLER_SITE = "https://www.renkei-demo.example"
SITE_PAGES: tuple[tuple[str, str], ...] = (
    ("/", "トップ"), ("/product/", "製品概要"), ("/product/scoring/", "リードスコアリング"),
    ("/product/sla/", "営業・マーケティングSLA管理"), ("/product/journey/", "カスタマージャーニー"),
    ("/pricing/", "料金プラン"), ("/case/manufacturing/", "導入事例：製造業"),
    ("/case/it/", "導入事例：IT・ソフトウェア"), ("/case/logistics/", "導入事例：物流"),
    ("/whitepaper/alignment/", "ホワイトペーパー：営業とマーケティングの連携"),
    ("/blog/persona/", "BtoBペルソナの作り方"), ("/blog/journey-map/", "カスタマージャーニーマップ入門"),
    ("/blog/common-kpi/", "営業とマーケティングの共通KPI"), ("/blog/sla/", "マーケティングSLAとは"),
    ("/blog/mql/", "MQLの定義と運用"), ("/seminar/", "セミナー・イベント"),
    ("/contact/", "お問い合わせ"), ("/demo/", "デモ申込"), ("/security/", "セキュリティ"),
)  # fmt: skip
FORMS: tuple[str, ...] = (
    "資料請求",
    "お問い合わせ",
    "デモ申込",
    "ホワイトペーパーダウンロード",
    "無料トライアル",
)
REFERRERS: tuple[str, ...] = (
    "https://www.google.com/", "https://search.yahoo.co.jp/", "https://www.bing.com/",
    "https://www.linkedin.com/", "https://x.com/", "",
)  # fmt: skip

CALL_OUTCOMES: tuple[str, ...] = (
    "接続",
    "接続",
    "不在",
    "不在",
    "留守電",
    "折り返し依頼",
    "受付ブロック",
)
SALES_EMAIL_SUBJECTS: tuple[str, ...] = (
    "お問い合わせの御礼とご面談のお願い",
    "資料送付のご連絡",
    "お見積りのご送付",
    "先日のお打ち合わせの御礼",
    "導入事例のご紹介",
)
MEETING_SUBJECTS: tuple[str, ...] = (
    "初回訪問（課題ヒアリング）", "オンライン商談：製品デモ", "要件定義の打ち合わせ",
    "見積もり説明", "導入スケジュールの確認", "役員向けプレゼン", "トライアル結果の振り返り",
)  # fmt: skip
MEETING_PLACES: tuple[str, ...] = (
    "オンライン（Zoom）",
    "オンライン（Teams）",
    "先方オフィス",
    "当社オフィス",
)
NOTES: tuple[str, ...] = (
    "予算は来期（4月以降）に確保予定とのこと。",
    "現在は Excel とメールでリード管理。営業との連携に課題感あり。",
    "競合製品と比較検討中。価格より運用サポートを重視。",
    "決裁者は情報システム部長。稟議は四半期ごと。",
    "展示会で名刺交換。MA の導入時期は未定。",
    "インサイドセールスの立ち上げを検討中。",
    "既存の SFA との連携（API）について質問あり。",
    "セミナー後アンケート：「興味あり・情報収集段階」。",
)  # fmt: skip

BUDGETS: tuple[str, ...] = (
    "〜100万円",
    "100万〜500万円",
    "500万〜1,000万円",
    "1,000万円以上",
    "未定",
)
TIMELINES: tuple[str, ...] = ("3ヶ月以内", "半年以内", "1年以内", "未定")

# Reasons recorded on stage changes. Backward moves need one (see stage_is_backward).
REASONS_RECYCLED: tuple[str, ...] = (
    "検討時期が未定（半年後に再アプローチ）", "予算が確保できず見送り", "担当者の異動",
    "現行システムの契約を更新済み", "3回架電したが連絡がつかない",
)  # fmt: skip
REASONS_DISQUALIFIED: tuple[str, ...] = (
    "競合他社の社員", "学生・個人の情報収集", "重複登録", "対象外の業種・規模", "営業対象外の地域",
)  # fmt: skip
REASONS_SAL_BACK: tuple[str, ...] = (
    "ヒアリング情報不足のためマーケティングへ差し戻し", "決裁者が不明なため再育成",
)  # fmt: skip
REASONS_OPPORTUNITY_BACK: tuple[str, ...] = (
    "案件化の延期（予算確定待ち）",
    "先方の体制変更で要件再確認",
)
REASON_MQL = "スコアが閾値（60点）を超えたため自動でMQL化"
REASON_LEAD = "資料請求フォームの送信"
REASON_REENGAGED = "再エンゲージ（スコア再上昇）"

# Campaign templates: (channel, name, month, day, days, utm_source, utm_medium, slug,
# cost range in JPY). Each runs once in the demo year, in its real season.
CampaignTemplate = tuple[str, str, int, int, int, str, str, str, tuple[int, int]]
CAMPAIGN_TEMPLATES: tuple[CampaignTemplate, ...] = (
    ("trade_show", "Japan IT Week 春", 4, 23, 3, "japan-it-week", "event", "jitw-spring", (3_500_000, 6_000_000)),
    ("trade_show", "Japan IT Week 秋", 10, 22, 3, "japan-it-week", "event", "jitw-autumn", (3_000_000, 5_500_000)),
    ("trade_show", "Japan IT Week 関西", 1, 21, 3, "japan-it-week", "event", "jitw-kansai", (2_000_000, 3_500_000)),
    ("trade_show", "マーケティングWeek 夏", 7, 2, 3, "marketing-week", "event", "mkw-summer", (2_500_000, 4_500_000)),
    ("trade_show", "DX総合EXPO 春", 3, 12, 3, "dx-expo", "event", "dx-expo-spring", (2_000_000, 4_000_000)),
    ("trade_show", "ものづくりワールド 名古屋", 4, 9, 3, "monozukuri-world", "event", "mw-nagoya", (1_500_000, 3_000_000)),
    ("trade_show", "営業DX EXPO", 9, 17, 2, "sales-dx-expo", "event", "sales-dx-expo", (1_800_000, 3_200_000)),
    ("seminar", "営業とマーケティングの連携セミナー（東京）", 5, 20, 1, "seminar", "offline", "seminar-tokyo", (400_000, 900_000)),
    ("seminar", "MA活用セミナー（大阪）", 6, 11, 1, "seminar", "offline", "seminar-osaka", (300_000, 700_000)),
    ("seminar", "SLA設計ワークショップ（名古屋）", 9, 5, 1, "seminar", "offline", "workshop-nagoya", (250_000, 600_000)),
    ("seminar", "BtoBマーケティング実践セミナー（福岡）", 11, 13, 1, "seminar", "offline", "seminar-fukuoka", (250_000, 600_000)),
    ("seminar", "経営者向け 売上最大化セミナー（東京）", 2, 6, 1, "seminar", "offline", "seminar-executive", (500_000, 1_000_000)),
    ("webinar", "はじめてのリードスコアリング", 4, 15, 1, "webinar", "webinar", "webinar-scoring", (50_000, 200_000)),
    ("webinar", "MQLの定義をそろえる：営業とマーケの共通言語", 6, 18, 1, "webinar", "webinar", "webinar-mql", (50_000, 200_000)),
    ("webinar", "SLAで変わるインサイドセールス", 8, 27, 1, "webinar", "webinar", "webinar-sla", (50_000, 200_000)),
    ("webinar", "事例で学ぶABM入門", 10, 8, 1, "webinar", "webinar", "webinar-abm", (80_000, 250_000)),
    ("webinar", "カスタマージャーニーマップ作成講座", 12, 3, 1, "webinar", "webinar", "webinar-journey", (50_000, 200_000)),
    ("webinar", "共通KPIで定例会を変える", 2, 19, 1, "webinar", "webinar", "webinar-kpi", (50_000, 200_000)),
    ("web", "オウンドメディア（SEO）", 1, 1, 365, "google", "organic", "owned-media", (1_200_000, 2_400_000)),
    ("web", "ホワイトペーパー：営業とマーケティング連携の教科書", 5, 1, 180, "website", "content", "wp-alignment", (300_000, 800_000)),
    ("web", "導入事例ページ", 8, 1, 150, "website", "content", "case-studies", (200_000, 600_000)),
    ("ads", "Google 検索広告（MA・リード管理）", 1, 1, 365, "google", "cpc", "google-search", (3_000_000, 6_000_000)),
    ("ads", "Yahoo!広告 ディスプレイ", 3, 1, 120, "yahoo", "display", "yahoo-display", (800_000, 1_800_000)),
    ("ads", "LinkedIn 広告（役職ターゲティング）", 6, 1, 90, "linkedin", "paid_social", "linkedin-title", (900_000, 2_000_000)),
    ("ads", "Facebook 広告 リターゲティング", 9, 1, 120, "facebook", "paid_social", "fb-retargeting", (600_000, 1_500_000)),
    ("referral", "パートナー紹介プログラム", 1, 1, 365, "partner", "referral", "partner-program", (500_000, 1_200_000)),
    ("referral", "既存顧客からの紹介", 1, 1, 365, "customer", "referral", "customer-referral", (100_000, 300_000)),
    ("other", "プレスリリース（新機能発表）", 5, 12, 30, "prtimes", "pr", "press-release", (30_000, 100_000)),
    ("other", "テレアポ（ハウスリスト）", 11, 1, 60, "outbound", "call", "outbound-call", (400_000, 900_000)),
)  # fmt: skip
NEWSLETTER_NAME = "メールマガジン {year}年{month}月号"
NEWSLETTER_COST = (20_000, 50_000)

# First-touch channel of a contact (weight); "" is a contact with no campaign (直接流入).
FIRST_TOUCH: tuple[tuple[str, int], ...] = (
    ("web", 26), ("ads", 16), ("trade_show", 18), ("webinar", 12), ("seminar", 6),
    ("referral", 7), ("email", 3), ("other", 4), ("", 8),
)  # fmt: skip
