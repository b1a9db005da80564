//! The search index: small enough to load on a phone, rich enough to rank.
//!
//! Each document contributes its id, title, kind, severity, services and tags
//! (matched by prefix and ranked first), and its most distinctive body words
//! by TF-IDF (a budget of `POSTINGS` shared by all documents, between
//! `MIN_TERMS` and `MAX_TERMS` each), so the index grows with the number of
//! documents, not with their length. `static/search.js` reads it.
//!
//! Counting words is most of the work (10,000 documents have some 60 MB of
//! text), so it is done with bit masks rather than character by character:
//! `Counter::scan` marks 64 bytes at a time, `runs` finds the words' runs of
//! bytes, `word` trims and filters them. Short ASCII words (most of them) are
//! counted by their bytes as two integers, other words by their text.
//! Documents share a `Dictionary` that numbers words, so a document's counts
//! are two integers per distinct word, and the index is built from numbers.

use crate::kb::KnowledgeBase;
use crate::site::DocSummary;
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};

/// Postings in the whole index: small knowledge bases index nearly every
/// word of every document; 10,000 documents keep their 24 most distinctive.
const POSTINGS: usize = 240_000;
const MIN_TERMS: usize = 24;
const MAX_TERMS: usize = 1_000;
const STOP: [&str; 59] = [
    "the", "and", "for", "was", "were", "that", "this", "with", "from", "into", "have", "has",
    "had", "are", "but", "not", "our", "its", "all", "any", "can", "will", "which", "when", "then",
    "than", "there", "their", "they", "what", "who", "also", "after", "before", "over", "under",
    "out", "one", "two", "would", "could", "should", "been", "being", "more", "most", "some",
    "such", "only", "other", "about", "each", "per", "via", "did", "does", "how", "why", "where",
];

// ---------------------------------------------------------------------------
// Stop words: looked up by a perfect hash of their bytes as an integer.

/// The longest stop word (all are ASCII). `pack` keeps 8 bytes, so a longer
/// one would not compile.
const STOP_MAX_LEN: usize = {
    let mut max = 0;
    let mut i = 0;
    while i < STOP.len() {
        if STOP[i].len() > max {
            max = STOP[i].len();
        }
        i += 1;
    }
    assert!(max <= 8, "stop words are looked up by 8 packed bytes");
    max
};
const STOP_SLOTS: usize = 512;
/// A multiplier that sends each stop word to its own slot, searched for at
/// compile time.
const STOP_MULTIPLIER: u64 = {
    let mut k: u64 = 0x9E37_79B9_7F4A_7C15;
    loop {
        let mut used = [false; STOP_SLOTS];
        let mut i = 0;
        while i < STOP.len() {
            let slot = stop_slot(pack(STOP[i].as_bytes()), k);
            if used[slot] {
                break;
            }
            used[slot] = true;
            i += 1;
        }
        if i == STOP.len() {
            break k;
        }
        k = k
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407)
            | 1;
    }
};
/// Each stop word in its slot; zero (no word) elsewhere.
const STOP_TABLE: [u64; STOP_SLOTS] = {
    let mut table = [0; STOP_SLOTS];
    let mut i = 0;
    while i < STOP.len() {
        let packed = pack(STOP[i].as_bytes());
        table[stop_slot(packed, STOP_MULTIPLIER)] = packed;
        i += 1;
    }
    table
};

const fn stop_slot(packed: u64, multiplier: u64) -> usize {
    (packed.wrapping_mul(multiplier) >> (64 - STOP_SLOTS.trailing_zeros())) as usize
}

/// Up to 8 bytes as a little-endian integer, zero-padded: equal integers are
/// equal words, since words have no NUL byte.
const fn pack(w: &[u8]) -> u64 {
    let mut v = 0;
    let mut i = 0;
    while i < w.len() && i < 8 {
        v |= (w[i] as u64) << (8 * i);
        i += 1;
    }
    v
}

/// Whether a word of at most `STOP_MAX_LEN` bytes, `pack`ed, is a stop word.
fn is_stop(packed: u64) -> bool {
    STOP_TABLE[stop_slot(packed, STOP_MULTIPLIER)] == packed
}

// ---------------------------------------------------------------------------
// Scanning: which bytes are in words.
//
// A word is a run of letters, digits (`char::is_alphanumeric`), `-` and `_`,
// trimmed of `-` and `_`, of 3 to 32 bytes, not all ASCII digits, lowercased
// (`str::to_lowercase`) when it has an uppercase letter, and not a stop word.

/// What the scanner knows of 64 bytes of text, one bit per byte.
#[derive(Clone, Copy, Default)]
struct Block {
    /// Bytes of words: letters and digits (any script), `-` and `_`.
    word: u64,
    /// `-` and `_`, trimmed from words.
    edge: u64,
    /// ASCII digits.
    digit: u64,
    /// Bytes of non-ASCII characters.
    high: u64,
}

/// Classifies 64 ASCII bytes (other bytes only get `high`). Written as byte
/// comparisons into arrays, which the compiler turns into vector code.
fn classify(chunk: &[u8; 64]) -> Block {
    let mut word = [0u8; 64];
    let mut edge = [0u8; 64];
    let mut digit = [0u8; 64];
    let mut high = [0u8; 64];
    for i in 0..64 {
        let b = chunk[i];
        let d = b.wrapping_sub(b'0') < 10;
        let l = (b | 0x20).wrapping_sub(b'a') < 26;
        let e = (b == b'-') | (b == b'_');
        word[i] = u8::from(d | l | e);
        edge[i] = u8::from(e);
        digit[i] = u8::from(d);
        high[i] = b >> 7;
    }
    // Bytes of 0 or 1 into bits: the multiply moves byte i's bit to bit 56 + i.
    let bits = |v: &[u8; 64]| {
        let mut m = 0u64;
        for (i, x) in v.chunks_exact(8).enumerate() {
            let x = u64::from_le_bytes(x.try_into().expect("8 bytes"));
            m |= (x.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * i);
        }
        m
    };
    Block {
        word: bits(&word),
        edge: bits(&edge),
        digit: bits(&digit),
        high: bits(&high),
    }
}

/// `len` (1 to 64) bits from bit `start` of `edge`, `digit` and `high`; the
/// block after the one of `start` must exist.
#[inline(always)]
fn windows(blocks: &[Block], start: usize, len: usize) -> [u64; 3] {
    let (w, off) = (start / 64, start % 64);
    let (a, b) = (&blocks[w], &blocks[w + 1]);
    let keep = if len < 64 { (1 << len) - 1 } else { u64::MAX };
    // Two shifts, so that `off == 0` shifts `y` out entirely.
    let join = |x: u64, y: u64| ((x >> off) | ((y << 1) << (63 - off))) & keep;
    [
        join(a.edge, b.edge),
        join(a.digit, b.digit),
        join(a.high, b.high),
    ]
}

/// Calls `f(start, end)` for each run of at least 3 word bytes; `blocks`
/// ends with an empty one. Shorter runs are never words, and are dropped
/// with bit operations rather than tested one by one.
fn runs(blocks: &[Block], mut f: impl FnMut(usize, usize)) {
    let mut carry = 0;
    for w in 0..blocks.len() {
        let word = blocks[w].word;
        if word == 0 {
            carry = 0;
            continue;
        }
        let next = blocks.get(w + 1).map_or(0, |b| b.word);
        let starts = word & !((word << 1) | carry);
        let mut long = starts & ((word >> 1) | (next << 63)) & ((word >> 2) | (next << 62));
        while long != 0 {
            let p = long.trailing_zeros() as usize;
            long &= long - 1;
            let (mut e, mut clear) = (w, !word & (u64::MAX << p));
            while clear == 0 {
                e += 1;
                clear = !blocks[e].word;
            }
            f(w * 64 + p, e * 64 + clear.trailing_zeros() as usize);
        }
        carry = word >> 63;
    }
}

/// The word in the run `start..end` of `text`, if any: its bounds without
/// leading and trailing `-` and `_`, and whether it is ASCII.
#[inline(always)]
fn word(text: &str, blocks: &[Block], start: usize, end: usize) -> Option<(usize, usize, bool)> {
    let len = end - start;
    if len > 64 {
        return long_word(text, start, end);
    }
    let [edge, digit, high] = windows(blocks, start, len);
    let lead = edge.trailing_ones() as usize;
    if lead == len {
        return None;
    }
    let trail = (edge << (64 - len)).leading_ones() as usize;
    let n = len - lead - trail;
    if !(3..=32).contains(&n) {
        return None;
    }
    let mask = ((1u64 << n) - 1) << lead;
    if digit & mask == mask {
        return None;
    }
    Some((start + lead, end - trail, high & mask == 0))
}

/// `word` for runs longer than one window of bits.
#[inline(never)]
fn long_word(text: &str, mut start: usize, mut end: usize) -> Option<(usize, usize, bool)> {
    let b = text.as_bytes();
    while start < end && matches!(b[start], b'-' | b'_') {
        start += 1;
    }
    while end > start && matches!(b[end - 1], b'-' | b'_') {
        end -= 1;
    }
    let w = &b[start..end];
    if w.len() < 3 || w.len() > 32 || w.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some((start, end, w.is_ascii()))
}

// ---------------------------------------------------------------------------
// Counting one document's words.

/// ASCII words of at most this many bytes are counted by their bytes as two
/// integers (`short_key`): no string hashing or comparison.
const SHORT: usize = 16;

/// A short ASCII word, lowercased, as two little-endian integers (zero-padded).
#[inline(always)]
fn short_key(text: &[u8], start: usize, len: usize) -> [u64; 2] {
    let mut padded = [0; SHORT];
    let bytes = match text.get(start..start + SHORT) {
        Some(b) => b,
        None => {
            padded[..len].copy_from_slice(&text[start..start + len]);
            &padded
        }
    };
    let half = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
    let keep = KEEP[len];
    [
        ascii_lowercase(half(0) & keep[0]),
        ascii_lowercase(half(8) & keep[1]),
    ]
}

/// Masks of the first `n` bytes of 16, as two little-endian integers.
const KEEP: [[u64; 2]; SHORT + 1] = {
    let mut keep = [[0; 2]; SHORT + 1];
    let mut n = 0;
    while n <= SHORT {
        keep[n] = [low_bytes(n), low_bytes(n.saturating_sub(8))];
        n += 1;
    }
    keep
};

/// A mask of the low `n` bytes of an integer.
const fn low_bytes(n: usize) -> u64 {
    if n >= 8 {
        u64::MAX
    } else {
        (1 << (8 * n)) - 1
    }
}

const HIGH: u64 = 0x8080_8080_8080_8080;
const ONES: u64 = 0x0101_0101_0101_0101;

/// ASCII bytes lowercased, 8 at a time.
fn ascii_lowercase(x: u64) -> u64 {
    // The high bit of each byte set where the byte is at least `c`; no byte
    // borrows from the next, as bytes are ASCII and `c` at most 0x80.
    let at_least = |c: u8| ((x | HIGH) - ONES * u64::from(c)) & HIGH;
    let upper = at_least(b'A') & !at_least(b'Z' + 1);
    x | (upper >> 2)
}

/// The hash of a `short_key`: a folded multiply. The constants have every
/// byte's high bit set, so neither factor is zero for ASCII keys.
fn hash_short(key: [u64; 2]) -> u64 {
    let p = u128::from(key[0] ^ 0xA5F3_9C1D_E7B2_C4D8) * u128::from(key[1] ^ 0xD1B5_8E3F_C2A7_94E6);
    (p as u64) ^ ((p >> 64) as u64)
}

/// The hash of any other word.
fn hash_long(w: &str) -> u64 {
    foldhash::fast::FixedState::with_seed(0x5ea7c4).hash_one(w)
}

/// Whether `a == b`: a few integer comparisons for the short words this
/// compares, instead of a call to `memcmp`.
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
    let half = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().expect("4 bytes"));
    match n {
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        _ => a == b,
    }
}

#[derive(Clone, Copy, Default)]
struct ShortWord {
    key: [u64; 2],
    hash: u64,
    len: u32,
    /// Zero for an empty slot.
    count: u32,
}

/// The short words of a document: open addressing, at most a quarter full
/// (few collisions, whose branch is hard to predict), kept
/// from one document to the next and emptied slot by slot, so that it costs
/// nothing to clear.
#[derive(Default)]
struct ShortWords {
    slots: Vec<ShortWord>,
    /// The occupied slots, in order of insertion: `used[..len]`.
    used: Vec<u32>,
    len: usize,
}

impl ShortWords {
    #[inline(always)]
    fn add(&mut self, key: [u64; 2], len: usize) {
        if 4 * (self.len + 1) > self.slots.len() {
            self.grow();
        }
        let hash = hash_short(key);
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let slot = &mut self.slots[i];
            let empty = slot.count == 0;
            if empty | ((slot.key[0] ^ key[0]) | (slot.key[1] ^ key[1]) == 0) {
                // A new word or the same: one path for both, as which it is
                // cannot be predicted.
                *slot = ShortWord {
                    key,
                    hash,
                    len: len as u32,
                    count: slot.count + 1,
                };
                self.used[self.len] = i as u32;
                self.len += usize::from(empty);
                return;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let old: Vec<ShortWord> = self.iter().copied().collect();
        let size = (2 * self.slots.len()).max(2048);
        self.slots.clear();
        self.slots.resize(size, ShortWord::default());
        self.used.resize(size / 4 + 1, 0);
        self.len = 0;
        for w in old {
            let mut i = w.hash as usize & (size - 1);
            while self.slots[i].count != 0 {
                i = (i + 1) & (size - 1);
            }
            self.slots[i] = w;
            self.used[self.len] = i as u32;
            self.len += 1;
        }
    }

    fn iter(&self) -> impl Iterator<Item = &ShortWord> {
        self.used[..self.len]
            .iter()
            .map(|&i| &self.slots[i as usize])
    }

    fn clear(&mut self) {
        for &i in &self.used[..self.len] {
            self.slots[i as usize].count = 0;
        }
        self.len = 0;
    }
}

/// Buffers for counting the words of one document after another.
#[derive(Default)]
struct Counter {
    /// The text in blocks of 64 bytes, and an empty block after.
    blocks: Vec<Block>,
    /// Blocks with non-ASCII characters.
    non_ascii: Vec<usize>,
    short: ShortWords,
    /// The other words (long or not ASCII): few.
    long: HashMap<String, u32, foldhash::fast::FixedState>,
    /// Words the dictionary did not have: where in the entries, and their hash.
    missing: Vec<(usize, u64, Missing)>,
}

impl Counter {
    /// Classifies the bytes of `text`.
    fn scan(&mut self, text: &str) {
        let bytes = text.as_bytes();
        self.blocks.clear();
        self.non_ascii.clear();
        let mut chunks = bytes.chunks_exact(64);
        for chunk in &mut chunks {
            self.blocks
                .push(classify(chunk.try_into().expect("64 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut chunk = [b' '; 64];
            chunk[..rest.len()].copy_from_slice(rest);
            self.blocks.push(classify(&chunk));
        }
        self.blocks.push(Block::default());
        // Non-ASCII letters and digits: decoded from each first byte of a character.
        self.non_ascii
            .extend((0..self.blocks.len()).filter(|&b| self.blocks[b].high != 0));
        for &b in &self.non_ascii {
            for i in b * 64..bytes.len().min(b * 64 + 64) {
                if bytes[i] >= 0xC0 {
                    let c = text[i..].chars().next().expect("a character starts here");
                    if c.is_alphanumeric() {
                        for j in i..i + c.len_utf8() {
                            self.blocks[j / 64].word |= 1 << (j % 64);
                        }
                    }
                }
            }
        }
    }

    /// The distinct words of `text` (but stop words) and their counts, with
    /// their numbers in `dictionary`.
    fn count(&mut self, text: &str, dictionary: &Dictionary) -> Terms {
        self.scan(text);
        self.short.clear();
        self.long.clear();
        let Counter {
            blocks,
            short,
            long,
            missing,
            ..
        } = self;
        let bytes = text.as_bytes();
        // Stop words are counted too, and left out below: cheaper than
        // looking each word up.
        runs(blocks, |start, end| {
            let Some((start, end, ascii)) = word(text, blocks, start, end) else {
                return;
            };
            let len = end - start;
            if ascii && len <= SHORT {
                short.add(short_key(bytes, start, len), len);
                return;
            }
            // Long or not ASCII: lowercased, then counted by the word itself
            // (unless lowercasing made it short and ASCII).
            let w = &text[start..end];
            let w = if ascii {
                Cow::Owned(w.to_ascii_lowercase())
            } else if w.chars().any(char::is_uppercase) {
                let w = w.to_lowercase();
                if w.is_ascii() && w.len() <= SHORT {
                    short.add(short_key(w.as_bytes(), 0, w.len()), w.len());
                    return;
                }
                Cow::Owned(w)
            } else {
                Cow::Borrowed(w)
            };
            match long.get_mut(w.as_ref()) {
                Some(n) => *n += 1,
                None => {
                    long.insert(w.into_owned(), 1);
                }
            }
        });
        // The words but stop words, numbered by the dictionary: those it
        // has under a shared lock, the new ones (rarer) under an exclusive
        // one.
        let mut entries = Vec::with_capacity(short.len + long.len());
        missing.clear();
        {
            let words = dictionary.words.read().unwrap();
            for w in short.iter() {
                // `&`, not `&&`: no branch on the length, which is unpredictable.
                if (w.len as usize <= STOP_MAX_LEN) & is_stop(w.key[0]) {
                    continue;
                }
                let key = [w.key[0].to_le_bytes(), w.key[1].to_le_bytes()];
                let word = &key.as_flattened()[..w.len as usize];
                let id = words.find(w.hash, word).unwrap_or_else(|| {
                    missing.push((entries.len(), w.hash, Missing::Short(key, w.len)));
                    0
                });
                entries.push(Entry { id, count: w.count });
            }
            // Stop words are short and ASCII: none among the long words.
            for (w, &count) in long.iter() {
                let hash = hash_long(w);
                let id = words.find(hash, w.as_bytes()).unwrap_or_else(|| {
                    missing.push((entries.len(), hash, Missing::Long(w.clone())));
                    0
                });
                entries.push(Entry { id, count });
            }
        }
        if !missing.is_empty() {
            let mut words = dictionary.words.write().unwrap();
            for &(at, hash, ref m) in missing.iter() {
                let key;
                let word = match *m {
                    Missing::Short(k, len) => {
                        key = k;
                        &key.as_flattened()[..len as usize]
                    }
                    Missing::Long(ref w) => w.as_bytes(),
                };
                entries[at].id = words.number(hash, word);
            }
        }
        Terms { entries }
    }
}

/// A word the dictionary did not have.
enum Missing {
    /// `short_key` as bytes, and the length.
    Short([[u8; 8]; 2], u32),
    Long(String),
}

// ---------------------------------------------------------------------------
// The dictionary: every word seen, numbered.

/// Words by number, kept across builds (with `TermCache`) so that counts
/// kept for a document keep their meaning. Counting threads look words up
/// under a shared lock, and add the ones it lacks under an exclusive one.
#[derive(Default)]
struct Dictionary {
    words: std::sync::RwLock<Words>,
}

#[derive(Default)]
struct Words {
    /// Open addressing, at most half full: the top 32 bits of a word's hash
    /// and its number + 1 (0 for an empty slot).
    slots: Vec<u64>,
    /// Each word: its bytes if at most 16, else its place in `text`.
    words: Vec<Stored>,
    text: Vec<u8>,
}

#[derive(Clone, Copy)]
struct Stored {
    bytes: [u8; SHORT],
    /// For a longer word: `text[start..start + len]`.
    start: u32,
    len: u32,
}

impl Words {
    fn len(&self) -> usize {
        self.words.len()
    }

    fn word(&self, n: usize) -> &[u8] {
        let w = &self.words[n];
        let len = w.len as usize;
        if len <= SHORT {
            &w.bytes[..len]
        } else {
            &self.text[w.start as usize..w.start as usize + len]
        }
    }

    /// The number of `word` (whose hash is `hash`), if it has one.
    fn find(&self, hash: u64, word: &[u8]) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let (tag, mask) = (hash >> 32, self.slots.len() - 1);
        let mut i = hash as usize & mask;
        loop {
            let slot = self.slots[i];
            if slot == 0 {
                return None;
            }
            let n = (slot & u64::from(u32::MAX)) as u32 - 1;
            if slot >> 32 == tag && same(word, self.word(n as usize)) {
                return Some(n);
            }
            i = (i + 1) & mask;
        }
    }

    /// The number of `word` (whose hash is `hash`), added if new.
    fn number(&mut self, hash: u64, word: &[u8]) -> u32 {
        if let Some(n) = self.find(hash, word) {
            return n;
        }
        if 2 * (self.words.len() + 1) > self.slots.len() {
            self.grow();
        }
        let n = u32::try_from(self.words.len()).expect("fewer than 4 billion words");
        let mut stored = Stored {
            bytes: [0; SHORT],
            start: 0,
            len: word.len() as u32,
        };
        if word.len() <= SHORT {
            stored.bytes[..word.len()].copy_from_slice(word);
        } else {
            stored.start = u32::try_from(self.text.len()).expect("a dictionary under 4 GiB");
            self.text.extend_from_slice(word);
        }
        self.words.push(stored);
        self.place(hash, n);
        n
    }

    fn place(&mut self, hash: u64, n: u32) {
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        while self.slots[i] != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = (hash >> 32 << 32) | u64::from(n + 1);
    }

    fn grow(&mut self) {
        let size = (2 * self.slots.len()).max(1 << 12);
        let old = std::mem::replace(&mut self.slots, vec![0; size]);
        // The low bits of the hash are not kept: take them from the word.
        for slot in old.into_iter().filter(|&s| s != 0) {
            let n = (slot & u64::from(u32::MAX)) as u32 - 1;
            let hash = word_hash(self.word(n as usize));
            self.place(hash, n);
        }
    }
}

/// The hash a word is counted and numbered by: `hash_short` of its key if
/// short and ASCII, else `hash_long`.
fn word_hash(word: &[u8]) -> u64 {
    if word.len() <= SHORT && word.is_ascii() {
        let mut key = [0; SHORT];
        key[..word.len()].copy_from_slice(word);
        let half = |i: usize| u64::from_le_bytes(key[i..i + 8].try_into().expect("8 bytes"));
        hash_short([half(0), half(8)])
    } else {
        hash_long(std::str::from_utf8(word).expect("words of UTF-8 text"))
    }
}

// ---------------------------------------------------------------------------
// Documents' counts, kept between builds.

/// A document's distinct words (but stop words) by number, with their counts.
#[derive(Debug, Default)]
struct Terms {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    id: u32,
    count: u32,
}

/// Term frequencies of each document by path, with a hash of the text they
/// were counted from, so `serve` counts only the documents that changed; and
/// the dictionary of their words.
#[derive(Default)]
pub struct TermCache {
    tfs: Mutex<HashMap<String, (TextKey, Arc<Terms>)>>,
    dictionary: Dictionary,
}

/// A body's length and hash.
type TextKey = (usize, u64);

fn term_frequencies(
    doc: &crate::model::Document,
    cache: &TermCache,
    counter: &mut Counter,
) -> Arc<Terms> {
    let body = doc.body();
    let key: TextKey = (
        body.len(),
        foldhash::quality::FixedState::with_seed(0x5ea7c4).hash_one(body),
    );
    if let Some((k, tf)) = cache.tfs.lock().unwrap().get(&doc.rel_path) {
        if *k == key {
            return tf.clone();
        }
    }
    let tf = Arc::new(counter.count(body, &cache.dictionary));
    cache
        .tfs
        .lock()
        .unwrap()
        .insert(doc.rel_path.clone(), (key, tf.clone()));
    tf
}

// ---------------------------------------------------------------------------
// The index.

pub fn index(kb: &KnowledgeBase, summaries: &[DocSummary], cache: &TermCache) -> String {
    // Term frequencies per document, in parallel (or from the cache).
    let tfs: Vec<Arc<Terms>> = kb
        .documents
        .par_iter()
        .with_max_len(crate::PAR_CHUNK)
        .map_init(Counter::default, |counter, doc| {
            term_frequencies(doc, cache, counter)
        })
        .collect();
    let words = cache.dictionary.words.read().unwrap();
    let word = |id: u32| words.word(id as usize);
    let ids = words.len();
    // Document frequencies: per chunk of documents, then summed.
    let chunk = tfs.len().div_ceil(rayon::current_num_threads()).max(1);
    let df: Vec<u32> = tfs
        .par_chunks(chunk)
        .map(|tfs| {
            let mut df = vec![0u32; ids];
            for tf in tfs {
                for e in &tf.entries {
                    df[e.id as usize] += 1;
                }
            }
            df
        })
        .reduce(
            || vec![0; ids],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
                a
            },
        );
    // The words in these documents, sorted: ranks break ties in scores and
    // order the index.
    // Sorted by their first 8 bytes as a big-endian integer (zero-padded:
    // shorter first), then by the rest only where those are equal.
    let mut sorted: Vec<(u64, u32)> = (0..ids as u32)
        .filter(|&id| df[id as usize] > 0)
        .map(|id| {
            let w = word(id);
            let mut prefix = [0; 8];
            prefix[..w.len().min(8)].copy_from_slice(&w[..w.len().min(8)]);
            (u64::from_be_bytes(prefix), id)
        })
        .collect();
    sorted.par_sort_unstable_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| {
            word(a.1)[8.min(word(a.1).len())..].cmp(&word(b.1)[8.min(word(b.1).len())..])
        })
    });
    let sorted: Vec<u32> = sorted.into_iter().map(|(_, id)| id).collect();
    let mut rank = vec![0u32; ids];
    for (r, &id) in sorted.iter().enumerate() {
        rank[id as usize] = r as u32;
    }
    let n = tfs.len().max(1) as f64;
    let idf: Vec<f64> = df.iter().map(|&d| (n / f64::from(d)).ln()).collect();
    let ln_1p: [f64; 64] = std::array::from_fn(|c| (c as f64).ln_1p());
    let per_doc = (POSTINGS / tfs.len().max(1)).clamp(MIN_TERMS, MAX_TERMS);
    // Each document's most distinctive words by TF-IDF, in parallel, as
    // ranks. Score (descending; positive, so ordered as its bits) then rank
    // are one integer.
    let tops: Vec<Vec<u32>> = tfs
        .par_iter()
        .with_max_len(crate::PAR_CHUNK)
        .map(|tf| {
            let mut scored: Vec<u128> = Vec::with_capacity(tf.entries.len());
            for e in &tf.entries {
                let tf = ln_1p
                    .get(e.count as usize)
                    .copied()
                    .unwrap_or_else(|| f64::from(e.count).ln_1p());
                let score = tf * idf[e.id as usize];
                if score > 0.0 {
                    let r = rank[e.id as usize];
                    scored.push((u128::from(!score.to_bits()) << 64) | u128::from(r));
                }
            }
            // Selecting the top `per_doc` first, then sorting only those,
            // gives the same list as sorting all.
            if scored.len() > per_doc {
                scored.select_nth_unstable(per_doc - 1);
                scored.truncate(per_doc);
            }
            scored.sort_unstable();
            scored.into_iter().map(|k| k as u32).collect()
        })
        .collect();
    // Postings: the documents of each word, ascending, words by rank.
    let mut count = vec![0u32; sorted.len()];
    for top in &tops {
        for &r in top {
            count[r as usize] += 1;
        }
    }
    let mut next = vec![0u32; sorted.len()];
    let mut total = 0;
    for (r, &n) in count.iter().enumerate() {
        next[r] = total;
        total += n;
    }
    let mut docs = vec![0u32; total as usize];
    for (d, top) in tops.iter().enumerate() {
        for &r in top {
            docs[next[r as usize] as usize] = d as u32;
            next[r as usize] += 1;
        }
    }
    let mut at = 0;
    let terms: Vec<(&str, &[u32])> = count
        .iter()
        .zip(&sorted)
        .filter(|(&n, _)| n > 0)
        .map(|(&n, &id)| {
            let n = n as usize;
            at += n;
            let w = std::str::from_utf8(word(id)).expect("words of UTF-8 text");
            (w, &docs[at - n..at])
        })
        .collect();
    let json = to_json(summaries, &terms);
    drop(terms);
    drop(words);
    // The cache only grows while `serve` runs: drop the counts of documents
    // that are gone, and start afresh once most of the dictionary's words are
    // in no document any more (every edit can add words; none removes any).
    let mut cached = cache.tfs.lock().unwrap();
    if cached.len() > kb.documents.len() {
        let live: HashSet<&str> = kb.documents.iter().map(|d| d.rel_path.as_str()).collect();
        cached.retain(|path, _| live.contains(path.as_str()));
    }
    if ids > 2 * sorted.len() + 4096 {
        cached.clear();
        *cache.dictionary.words.write().unwrap() = Words::default();
    }
    json
}

/// `n` in decimal.
fn push_number(out: &mut Vec<u8>, mut n: u32) {
    let mut digits = [0; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// The index as compact JSON, written directly (the same bytes as
/// `serde_json::to_string` of the equivalent `json!` value, keys sorted):
/// `{"docs":[[id,title,kind,url,severity,date,keywords]…],"fields":[…],
/// "terms":[[term,[gap…]]…],"version":1}`.
fn to_json(summaries: &[DocSummary], terms: &[(&str, &[u32])]) -> String {
    fn string(out: &mut Vec<u8>, s: &str) {
        serde_json::to_writer(out, s).expect("a string to a Vec");
    }
    // The documents and the terms are written at the same time.
    let (mut out, terms) = rayon::join(
        || {
            let mut out = Vec::with_capacity(200 * summaries.len());
            out.extend_from_slice(b"{\"docs\":[");
            for (i, s) in summaries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.push(b'[');
                let keywords = format!("{} {}", s.services.join(" "), s.tags.join(" "));
                let fields = [
                    s.id.as_str(),
                    &s.title,
                    &s.kind,
                    &s.url,
                    s.severity.as_deref().unwrap_or_default(),
                    s.date.as_deref().unwrap_or_default(),
                    &keywords,
                ];
                for (j, f) in fields.into_iter().enumerate() {
                    if j > 0 {
                        out.push(b',');
                    }
                    string(&mut out, f);
                }
                out.push(b']');
            }
            out
        },
        || {
            let postings: usize = terms.iter().map(|(_, d)| d.len()).sum();
            let mut out = Vec::with_capacity(16 * terms.len() + 5 * postings);
            // Postings as gaps between ascending document numbers: smaller
            // numbers, smaller file.
            for (i, (t, docs)) in terms.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.push(b'[');
                string(&mut out, t);
                out.extend_from_slice(b",[");
                let mut prev = 0;
                for (j, &d) in docs.iter().enumerate() {
                    if j > 0 {
                        out.push(b',');
                    }
                    push_number(&mut out, d - prev);
                    prev = d;
                }
                out.extend_from_slice(b"]]");
            }
            out
        },
    );
    out.extend_from_slice(
        br#"],"fields":["id","title","kind","url","severity","date","keywords"],"terms":["#,
    );
    out.extend_from_slice(&terms);
    out.extend_from_slice(br#"],"version":1}"#);
    String::from_utf8(out).expect("JSON of strings is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// The words of a text as the index counted them before it counted with
    /// bit masks, character by character: the specification.
    fn reference(text: &str) -> BTreeMap<String, u32> {
        let mut counts = BTreeMap::new();
        for w in text.split(|c: char| !c.is_alphanumeric() && c != '-' && c != '_') {
            let w = w.trim_matches(['-', '_']);
            if w.len() < 3 || w.len() > 32 || w.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let w = if w.chars().any(char::is_uppercase) {
                w.to_lowercase()
            } else {
                w.to_string()
            };
            if !STOP.contains(&w.as_str()) {
                *counts.entry(w).or_insert(0) += 1;
            }
        }
        counts
    }

    fn counts_with(counter: &mut Counter, text: &str) -> BTreeMap<String, u32> {
        let dictionary = Dictionary::default();
        let terms = counter.count(text, &dictionary);
        let words = dictionary.words.read().unwrap();
        let counts: BTreeMap<String, u32> = (terms.entries.iter())
            .map(|e| {
                let w = String::from_utf8(words.word(e.id as usize).to_vec()).unwrap();
                (w, e.count)
            })
            .collect();
        assert_eq!(counts.len(), terms.entries.len(), "a word counted twice");
        counts
    }

    fn counts(text: &str) -> BTreeMap<String, u32> {
        counts_with(&mut Counter::default(), text)
    }

    fn map(pairs: &[(&str, u32)]) -> BTreeMap<String, u32> {
        pairs.iter().map(|&(w, n)| (w.to_string(), n)).collect()
    }

    #[test]
    fn words_are_lowercased_and_counted_together() {
        assert_eq!(
            counts("Error error, ERROR; eRRor.\nretry"),
            map(&[("error", 4), ("retry", 1)])
        );
    }

    #[test]
    fn stop_words_are_left_out_in_any_case() {
        assert_eq!(
            counts("The THE there Their them thee Should"),
            map(&[("them", 1), ("thee", 1)])
        );
        for w in STOP {
            assert!(is_stop(pack(w.as_bytes())), "{w}");
        }
        // Through the counter, whose length test comes first.
        assert_eq!(counts(&STOP.join(" ").to_uppercase()), map(&[]));
        for w in ["them", "an", "th", "ther", "whom", "shoulder", "abc"] {
            assert!(!is_stop(pack(w.as_bytes())), "{w}");
        }
    }

    #[test]
    fn words_are_trimmed_of_dashes_and_underscores() {
        assert_eq!(
            counts("--foo-- __bar_ -_- 3-b-c x_y _-q-_"),
            map(&[("foo", 1), ("bar", 1), ("3-b-c", 1), ("x_y", 1)])
        );
    }

    #[test]
    fn words_are_3_to_32_bytes_after_trimming() {
        let w32 = "w".repeat(32);
        let w33 = "w".repeat(33);
        assert_eq!(
            counts(&format!("ab abc --ab-- {w32} {w33} -{w32}-")),
            map(&[("abc", 1), (&w32, 2)])
        );
    }

    #[test]
    fn numbers_are_not_words_but_words_with_digits_are() {
        assert_eq!(
            counts("2024 503 v2 v20 12-34 2024-11-26 4xx 10_000 -999-"),
            map(&[
                ("v20", 1),
                ("12-34", 1),
                ("2024-11-26", 1),
                ("4xx", 1),
                ("10_000", 1)
            ])
        );
    }

    #[test]
    fn letters_of_any_script_are_lowercased_like_str_to_lowercase() {
        assert_eq!(
            counts("Café CAFÉ café ΟΔΟΣ naïve Straße STRASSE İstanbul 日本語 ǅemal"),
            map(&[
                ("café", 3),
                // The final sigma, as `str::to_lowercase` has it.
                ("οδος", 1),
                ("naïve", 1),
                ("straße", 1),
                ("strasse", 1),
                ("i\u{307}stanbul", 1),
                ("日本語", 1),
                // A titlecase letter is not uppercase: kept as written.
                ("ǅemal", 1),
            ])
        );
    }

    #[test]
    fn a_kelvin_sign_lowercases_to_the_ascii_word() {
        assert_eq!(counts("\u{212A}ube kube KUBE"), map(&[("kube", 3)]));
    }

    #[test]
    fn punctuation_of_any_script_separates_words() {
        assert_eq!(
            counts("foo—bar baz·qux «quux» e\u{301}te\u{301}"),
            // A combining accent is a mark, not a letter: it splits words.
            map(&[("foo", 1), ("bar", 1), ("baz", 1), ("qux", 1), ("quux", 1)])
        );
    }

    #[test]
    fn words_across_blocks_and_at_the_end_of_the_text() {
        let mut counter = Counter::default();
        for offset in 0..140 {
            for tail in ["boundary Words", "boundary words-", "über-Straße", "x  y"] {
                let text = format!("{}{tail}", " ".repeat(offset));
                assert_eq!(
                    counts_with(&mut counter, &text),
                    reference(&text),
                    "{text:?}"
                );
                let text = format!("{}{tail}", "é".repeat(offset / 2));
                assert_eq!(
                    counts_with(&mut counter, &text),
                    reference(&text),
                    "{text:?}"
                );
            }
        }
    }

    #[test]
    fn runs_longer_than_a_block_are_trimmed_too() {
        let text = format!(
            "{}Abc{} {} {}",
            "-".repeat(40),
            "_".repeat(40),
            "x".repeat(70),
            "-".repeat(100)
        );
        assert_eq!(counts(&text), map(&[("abc", 1)]));
    }

    #[test]
    fn an_empty_text_has_no_words() {
        assert_eq!(counts(""), map(&[]));
        assert_eq!(counts("a"), map(&[]));
    }

    #[test]
    fn a_counter_is_reused_from_one_document_to_the_next() {
        let mut counter = Counter::default();
        let big: String = (0..3000).map(|i| format!("word{i} ")).collect();
        for text in [big.as_str(), "small text", big.as_str(), ""] {
            assert_eq!(counts_with(&mut counter, text), reference(text));
        }
    }

    fn text() -> impl Strategy<Value = String> {
        let word = "[a-zA-Z0-9_\\-éÉßİΣς\u{212A}日\u{301}]{1,14}";
        let gap = "[ .,:/()\n—\u{a0}·]{1,2}";
        prop::collection::vec((word, gap), 0..80)
            .prop_map(|parts| parts.into_iter().map(|(w, g)| w + &g).collect())
    }

    proptest! {
        #[test]
        fn counts_as_the_reference(text in text(), cut in 0usize..4) {
            // Also without the last separator, so that a word ends the text.
            let end = text.char_indices().rev().nth(cut).map_or(text.len(), |(i, _)| i);
            let text = &text[..end];
            prop_assert_eq!(counts(text), reference(text));
        }
    }

    // ------------------------------------------------------------------
    // The index.

    /// The index as it was built before: maps of strings, `serde_json`
    /// values. The specification of the output, byte for byte.
    fn reference_index(kb: &KnowledgeBase, summaries: &[DocSummary]) -> String {
        let tfs: Vec<BTreeMap<String, u32>> =
            kb.documents.iter().map(|d| reference(d.body())).collect();
        let mut df: HashMap<&str, u32> = HashMap::new();
        for tf in &tfs {
            for term in tf.keys() {
                *df.entry(term.as_str()).or_default() += 1;
            }
        }
        let n = tfs.len().max(1) as f64;
        let per_doc = (POSTINGS / tfs.len().max(1)).clamp(MIN_TERMS, MAX_TERMS);
        let tops: Vec<Vec<&str>> = (tfs.iter())
            .map(|tf| {
                let mut scored: Vec<(&str, f64)> = (tf.iter())
                    .map(|(t, &c)| {
                        let idf = (n / f64::from(df[t.as_str()])).ln();
                        (t.as_str(), f64::from(c).ln_1p() * idf)
                    })
                    .filter(|(_, s)| *s > 0.0)
                    .collect();
                scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
                scored.into_iter().take(per_doc).map(|(t, _)| t).collect()
            })
            .collect();
        let mut postings: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, top) in tops.iter().enumerate() {
            for t in top {
                postings.entry(t).or_default().push(i);
            }
        }
        let docs: Vec<serde_json::Value> = (summaries.iter())
            .map(|s| {
                serde_json::json!([
                    s.id,
                    s.title,
                    s.kind,
                    s.url,
                    s.severity.clone().unwrap_or_default(),
                    s.date.clone().unwrap_or_default(),
                    format!("{} {}", s.services.join(" "), s.tags.join(" "))
                ])
            })
            .collect();
        let terms: Vec<serde_json::Value> = (postings.iter())
            .map(|(t, docs)| {
                let mut prev = 0;
                let gaps: Vec<usize> = (docs.iter())
                    .map(|&d| {
                        let g = d - prev;
                        prev = d;
                        g
                    })
                    .collect();
                serde_json::json!([t, gaps])
            })
            .collect();
        serde_json::to_string(&serde_json::json!({"version": 1, "fields": ["id", "title", "kind", "url", "severity", "date", "keywords"], "docs": docs, "terms": terms}))
            .unwrap()
    }

    fn summary(doc: &crate::model::Document) -> DocSummary {
        DocSummary {
            id: doc.id.clone(),
            title: format!("Title of \"{}\"\t\u{1}é", doc.id),
            kind: doc.kind.clone(),
            url: format!("/runbooks/{}/", doc.id.to_lowercase()),
            severity: Some("SEV2".into()),
            severity_class: "sev-2".into(),
            status: None,
            services: vec!["api".into(), "db".into()],
            tags: vec!["tls".into()],
            date: None,
            year: None,
            duration: None,
            people: vec![],
            summary: String::new(),
        }
    }

    /// A knowledge base of `bodies` as runbooks, in a temporary folder.
    fn knowledge_base(bodies: &[String]) -> (tempfile::TempDir, KnowledgeBase) {
        let dir = tempfile::tempdir().unwrap();
        let runbooks = dir.path().join("content/runbooks");
        std::fs::create_dir_all(&runbooks).unwrap();
        for (i, body) in bodies.iter().enumerate() {
            let text = format!("---\nid: RB-{i:03}\ntitle: Runbook {i}\n---\n{body}\n");
            std::fs::write(runbooks.join(format!("rb-{i:03}.md")), text).unwrap();
        }
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let kb = crate::kb::open(dir.path(), today).unwrap();
        assert_eq!(kb.documents.len(), bodies.len());
        (dir, kb)
    }

    /// Bodies of words from a small vocabulary, in a fixed pseudo-random
    /// order: shared and distinctive words, cases, scripts, numbers.
    fn bodies(n: usize, words: usize) -> Vec<String> {
        let vocabulary = [
            "Latency",
            "latency",
            "checkout",
            "payments",
            "TLS",
            "certificate",
            "expired",
            "the",
            "failover",
            "Postgres",
            "replica",
            "lag",
            "2024-11-26",
            "503",
            "über",
            "Straße",
            "retry",
            "retries",
            "timeout",
            "kafka-cluster",
            "on_call",
            "--flag",
            "CAFÉ",
            "日本",
            "deploy",
            "rollback",
            "canary",
            "queue",
            "dead-letter",
            "p99",
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..n)
            .map(|d| {
                let mut body = format!("## Summary\n\nUnique{d} word{d} ");
                for _ in 0..words {
                    let r = next() as usize;
                    body.push_str(vocabulary[r % vocabulary.len()]);
                    body.push_str(if r.is_multiple_of(7) { ".\n" } else { " " });
                    if r.is_multiple_of(11) {
                        body.push_str(&format!("rare{} ", r % 97));
                    }
                }
                body
            })
            .collect()
    }

    #[test]
    fn the_index_is_the_reference_index() {
        for (n, words) in [(1, 10), (12, 60), (40, 200)] {
            let (_dir, kb) = knowledge_base(&bodies(n, words));
            let summaries: Vec<DocSummary> = kb.documents.iter().map(summary).collect();
            let got = index(&kb, &summaries, &TermCache::default());
            assert_eq!(got, reference_index(&kb, &summaries), "{n} documents");
            let parsed: serde_json::Value = serde_json::from_str(&got).unwrap();
            assert_eq!(parsed["docs"].as_array().unwrap().len(), n);
        }
    }

    #[test]
    fn a_document_keeps_its_most_distinctive_words_when_it_has_too_many() {
        // 1,500 distinct words in one document: more than `MAX_TERMS`.
        let mut bodies = bodies(3, 50);
        bodies.push((0..1500).map(|i| format!("term{i} ")).collect());
        let (_dir, kb) = knowledge_base(&bodies);
        let summaries: Vec<DocSummary> = kb.documents.iter().map(summary).collect();
        let got = index(&kb, &summaries, &TermCache::default());
        assert_eq!(got, reference_index(&kb, &summaries));
        let parsed: serde_json::Value = serde_json::from_str(&got).unwrap();
        let of_last = (parsed["terms"].as_array().unwrap().iter())
            .filter(|t| {
                t[1].as_array()
                    .unwrap()
                    .iter()
                    .map(|g| g.as_u64().unwrap())
                    .sum::<u64>()
                    == 3
            })
            .count();
        assert_eq!(of_last, MAX_TERMS);
    }

    #[test]
    fn an_empty_knowledge_base_has_an_empty_index() {
        let (_dir, kb) = knowledge_base(&[]);
        assert_eq!(
            index(&kb, &[], &TermCache::default()),
            r#"{"docs":[],"fields":["id","title","kind","url","severity","date","keywords"],"terms":[],"version":1}"#
        );
    }

    #[test]
    fn the_cache_forgets_gone_documents_and_words_no_document_has() {
        let (_dir, mut kb) = knowledge_base(&bodies(5, 80));
        let cache = TermCache::default();
        let summaries: Vec<DocSummary> = kb.documents.iter().map(summary).collect();
        index(&kb, &summaries, &cache);
        kb.documents.remove(4);
        let summaries: Vec<DocSummary> = kb.documents.iter().map(summary).collect();
        index(&kb, &summaries, &cache);
        assert_eq!(cache.tfs.lock().unwrap().len(), 4);
        // Edit after edit brings new words and drops the old: the dictionary
        // starts afresh before it holds far more words than the documents do,
        // and the index stays the one a fresh cache gives.
        let mut most = 0;
        // The body is the text after the front matter, which stays.
        let doc = &kb.documents[0];
        let head = doc.text[..doc.text.len() - doc.body().len()].to_string();
        for edit in 0..3000 {
            // Words of letters only: `edit` in base 26.
            let letters: String = (0..4)
                .map(|k| char::from(b'a' + (edit / 26usize.pow(k) % 26) as u8))
                .collect();
            kb.documents[0].text = format!("{head}zz{letters} yy{letters}\n");
            let got = index(&kb, &summaries, &cache);
            most = most.max(cache.dictionary.words.read().unwrap().len());
            if edit % 1000 == 999 {
                assert_eq!(got, index(&kb, &summaries, &TermCache::default()));
            }
        }
        assert!(most < 6000, "the dictionary grew to {most} words");
    }

    #[test]
    fn the_cache_counts_only_documents_whose_text_changed() {
        let (_dir, mut kb) = knowledge_base(&bodies(5, 80));
        let summaries: Vec<DocSummary> = kb.documents.iter().map(summary).collect();
        let cache = TermCache::default();
        let first = index(&kb, &summaries, &cache);
        let counted = |kb: &KnowledgeBase, cache: &TermCache| -> Vec<Arc<Terms>> {
            let tfs = cache.tfs.lock().unwrap();
            kb.documents
                .iter()
                .map(|d| tfs[&d.rel_path].1.clone())
                .collect()
        };
        let before = counted(&kb, &cache);
        assert_eq!(index(&kb, &summaries, &cache), first);
        let after = counted(&kb, &cache);
        assert!(before.iter().zip(&after).all(|(a, b)| Arc::ptr_eq(a, b)));

        // A change to one body: that document is counted again, and the
        // index is the one a fresh cache gives.
        kb.documents[2]
            .text
            .push_str("\nRollback rollback quasar\n");
        let changed = index(&kb, &summaries, &cache);
        assert_ne!(changed, first);
        assert!(changed.contains("\"quasar\""));
        assert_eq!(changed, index(&kb, &summaries, &TermCache::default()));
        assert_eq!(changed, reference_index(&kb, &summaries));
        let again = counted(&kb, &cache);
        for (i, (a, b)) in before.iter().zip(&again).enumerate() {
            assert_eq!(Arc::ptr_eq(a, b), i != 2, "document {i}");
        }
    }
}
