//! Deterministic pseudo-random choices and realistic Japanese and English names.

/// SplitMix64: small, fast, reproducible from a seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x6D61_6D6F_7269_0001)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A GUID-shaped id.
    pub fn guid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }
}

/// (romanised, kanji) family names.
pub const FAMILY_JA: &[(&str, &str)] = &[
    ("sato", "佐藤"),
    ("suzuki", "鈴木"),
    ("takahashi", "高橋"),
    ("tanaka", "田中"),
    ("ito", "伊藤"),
    ("watanabe", "渡辺"),
    ("yamamoto", "山本"),
    ("nakamura", "中村"),
    ("kobayashi", "小林"),
    ("kato", "加藤"),
    ("yoshida", "吉田"),
    ("yamada", "山田"),
    ("sasaki", "佐々木"),
    ("yamaguchi", "山口"),
    ("matsumoto", "松本"),
    ("inoue", "井上"),
    ("kimura", "木村"),
    ("hayashi", "林"),
    ("shimizu", "清水"),
    ("mori", "森"),
];

/// (romanised, kanji) given names.
pub const GIVEN_JA: &[(&str, &str)] = &[
    ("hiroshi", "浩"),
    ("yuki", "由紀"),
    ("takeshi", "武"),
    ("akiko", "明子"),
    ("kenji", "健二"),
    ("naoko", "直子"),
    ("daisuke", "大輔"),
    ("megumi", "恵"),
    ("shota", "翔太"),
    ("haruka", "遥"),
    ("ryo", "亮"),
    ("misaki", "美咲"),
    ("kazuya", "和也"),
    ("ayumi", "あゆみ"),
    ("taro", "太郎"),
    ("hanako", "花子"),
    ("satoshi", "聡"),
    ("emi", "恵美"),
    ("makoto", "誠"),
    ("sakura", "さくら"),
];

pub const FAMILY_EN: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor",
    "Clark",
];

pub const GIVEN_EN: &[&str] = &[
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Emily",
];

/// A person: (mail local part, display name). About one in five has an English name.
pub fn person(rng: &mut Rng, i: usize) -> (String, String) {
    if rng.chance(20) {
        let g = rng.pick(GIVEN_EN);
        let f = rng.pick(FAMILY_EN);
        (
            format!("{}.{}{}", g.to_lowercase(), f.to_lowercase(), i),
            format!("{g} {f}"),
        )
    } else {
        let (gr, gk) = *rng.pick(GIVEN_JA);
        let (fr, fk) = *rng.pick(FAMILY_JA);
        (format!("{gr}.{fr}{i}"), format!("{fk} {gk}"))
    }
}
