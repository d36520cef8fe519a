//! A stable LSD radix sort of `(key, payload)` pairs: positive finite `f64`s sort like their bit
//! patterns, and a stable sort keeps the input order among equal keys, which is the engine's
//! tie-break. Several times faster than a comparison sort on millions of breakpoints.

/// The sortable bits of a non-negative finite float.
pub fn key_of(x: f64) -> u64 {
    debug_assert!(x >= 0.0);
    x.to_bits()
}

pub fn sort_pairs(items: &mut Vec<(u64, u32)>) {
    const BITS: u32 = 16;
    const BUCKETS: usize = 1 << BITS;
    if items.len() < 2048 {
        items.sort_by_key(|p| p.0);
        return;
    }
    let max = items.iter().map(|p| p.0).max().unwrap_or(0);
    let min = items.iter().map(|p| p.0).min().unwrap_or(0);
    let span_bits = 64 - (max ^ min).leading_zeros();
    let mut buf = vec![(0u64, 0u32); items.len()];
    let mut shift = 0;
    while shift < span_bits {
        let mut counts = vec![0usize; BUCKETS + 1];
        for p in items.iter() {
            counts[((p.0 >> shift) as usize & (BUCKETS - 1)) + 1] += 1;
        }
        for b in 0..BUCKETS {
            counts[b + 1] += counts[b];
        }
        for p in items.iter() {
            let b = (p.0 >> shift) as usize & (BUCKETS - 1);
            buf[counts[b]] = *p;
            counts[b] += 1;
        }
        std::mem::swap(items, &mut buf);
        shift += BITS;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_stably_like_a_comparison_sort() {
        let mut state = 12345u64;
        let mut items: Vec<(u64, u32)> = (0..20_000)
            .map(|i| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (key_of(((state >> 40) % 500) as f64 / 7.0), i)
            })
            .collect();
        let mut expected = items.clone();
        expected.sort_by_key(|p| p.0);
        sort_pairs(&mut items);
        assert_eq!(items, expected);
    }
}
