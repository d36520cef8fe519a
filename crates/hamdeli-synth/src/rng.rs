//! The seeded random source and the few draws the generator needs.

use rand::{Rng as _, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(crate) struct Rng(ChaCha8Rng);

impl Rng {
    /// A stream for `seed` and a purpose, so that changing one part of the generator does not
    /// shift the draws of another.
    pub fn new(seed: u64, stream: &str) -> Rng {
        // FNV-1a of the stream name, mixed into the seed.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in stream.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Rng(ChaCha8Rng::seed_from_u64(seed ^ h.rotate_left(17)))
    }

    /// True with probability `p` (clamped to 0..=1).
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (p >= 1.0 || self.0.random::<f64>() < p)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.0.random_range(0..n)
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: i32, hi: i32) -> i32 {
        if hi <= lo {
            lo
        } else {
            self.0.random_range(lo..=hi)
        }
    }

    pub fn unit(&mut self) -> f64 {
        self.0.random::<f64>()
    }

    pub fn digit(&mut self) -> u8 {
        self.0.random_range(0..10)
    }

    /// An element of `list`, earlier ones more likely: index `⌊n·u^skew⌋`.
    pub fn skewed<'a>(&mut self, list: &[&'a str], skew: f64) -> &'a str {
        let u = self.unit().powf(skew);
        list[((u * list.len() as f64) as usize).min(list.len() - 1)]
    }

    /// Any element of `list`, uniformly.
    pub fn pick<'a, T>(&mut self, list: &'a [T]) -> &'a T {
        &list[self.below(list.len())]
    }

    /// An index drawn with the given weights (not all zero).
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

/// Cumulative weights for repeated draws by binary search.
pub(crate) struct Cumulative<T> {
    items: Vec<T>,
    cum: Vec<f64>,
}

impl<T: Copy> Cumulative<T> {
    pub fn new(pairs: impl IntoIterator<Item = (T, f64)>) -> Cumulative<T> {
        let mut items = Vec::new();
        let mut cum = Vec::new();
        let mut total = 0.0;
        for (item, w) in pairs {
            total += w.max(0.0);
            items.push(item);
            cum.push(total);
        }
        Cumulative { items, cum }
    }

    pub fn draw(&self, rng: &mut Rng) -> T {
        let total = *self.cum.last().unwrap_or(&0.0);
        let x = rng.unit() * total;
        let i = self.cum.partition_point(|&c| c <= x);
        self.items[i.min(self.items.len() - 1)]
    }
}
