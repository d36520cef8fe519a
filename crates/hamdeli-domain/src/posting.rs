//! Double-entry postings: the one rule for "balanced" that every ledger of the system (the
//! market's journal, the loans' journal) builds its entries through.
//!
//! A posting is a list of lines, each an account and an integer amount of rials, debits
//! positive and credits negative. [`Posting::new`] refuses a posting whose debits and credits
//! differ, that has no line, or whose totals do not fit in an `i64` (checked arithmetic: a sum
//! never wraps). A [`Posting`] can only be made through it, so holding one proves it is balanced.

/// Why a posting was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PostingError {
    /// No line at all.
    #[error("a posting needs at least one line")]
    Empty,
    /// Debits and credits differ (or a debit/credit line was given a negative amount).
    #[error("debits and credits differ")]
    Unbalanced,
    /// An amount or a total does not fit in 64 bits.
    #[error("amount out of range")]
    Overflow,
}

/// One line: an account and a signed amount in rials (debit positive, credit negative).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<A> {
    pub account: A,
    pub amount: i64,
}

impl<A> Line<A> {
    /// The debit side of the line (its amount when positive, else 0).
    pub fn debit(&self) -> i64 {
        self.amount.max(0)
    }
    /// The credit side of the line (its negated amount when negative, else 0). Never overflows:
    /// a posting refuses `i64::MIN`.
    pub fn credit(&self) -> i64 {
        if self.amount < 0 { -self.amount } else { 0 }
    }
}

/// A balanced posting (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting<A> {
    lines: Vec<Line<A>>,
    total: i64,
}

impl<A> Posting<A> {
    /// Checks and makes a posting: at least one line, no amount of `i64::MIN`, the sum of the
    /// debits and the sum of the credits each within `i64`, and the two equal. Lines of zero are
    /// kept (a ledger may write them or not).
    pub fn new(lines: Vec<Line<A>>) -> Result<Self, PostingError> {
        if lines.is_empty() {
            return Err(PostingError::Empty);
        }
        let mut debits: i64 = 0;
        let mut credits: i64 = 0;
        for l in &lines {
            if l.amount >= 0 {
                debits = debits.checked_add(l.amount).ok_or(PostingError::Overflow)?;
            } else {
                let c = l.amount.checked_neg().ok_or(PostingError::Overflow)?;
                credits = credits.checked_add(c).ok_or(PostingError::Overflow)?;
            }
        }
        if debits != credits {
            return Err(PostingError::Unbalanced);
        }
        Ok(Posting {
            lines,
            total: debits,
        })
    }

    /// Starts a posting written as debits and credits (each a non-negative amount).
    pub fn builder() -> Builder<A> {
        Builder {
            lines: Vec::new(),
            negative: false,
        }
    }

    /// The lines, in the order given.
    pub fn lines(&self) -> &[Line<A>] {
        &self.lines
    }

    /// The sum of the debits (= the sum of the credits).
    pub fn total(&self) -> i64 {
        self.total
    }

    /// The same posting the other way round (every debit a credit and back): what undoes it.
    /// Always balanced and within range, since its totals are this one's.
    pub fn reversed(self) -> Posting<A> {
        Posting {
            lines: self
                .lines
                .into_iter()
                .map(|l| Line {
                    // Never i64::MIN (refused by `new`), so the negation cannot overflow.
                    amount: -l.amount,
                    account: l.account,
                })
                .collect(),
            total: self.total,
        }
    }
}

/// Writes a posting as debits and credits of non-negative amounts; [`Builder::build`] checks it
/// with [`Posting::new`]. A negative debit or credit makes it refused as unbalanced.
#[derive(Debug, Clone)]
pub struct Builder<A> {
    lines: Vec<Line<A>>,
    negative: bool,
}

impl<A> Builder<A> {
    pub fn debit(mut self, account: A, amount: i64) -> Self {
        self.negative |= amount < 0;
        self.lines.push(Line { account, amount });
        self
    }

    pub fn credit(mut self, account: A, amount: i64) -> Self {
        self.negative |= amount < 0;
        // A negative credit is refused in `build`; i64::MIN's negation is refused as overflow.
        let amount = amount.checked_neg().unwrap_or(i64::MIN);
        self.lines.push(Line { account, amount });
        self
    }

    pub fn build(self) -> Result<Posting<A>, PostingError> {
        if self.negative {
            return Err(PostingError::Unbalanced);
        }
        Posting::new(self.lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(account: &'static str, amount: i64) -> Line<&'static str> {
        Line { account, amount }
    }

    #[test]
    fn a_balanced_posting_is_made_and_its_sides_are_read() {
        let p = Posting::new(vec![
            line("cash", 100),
            line("payable", -95),
            line("fee", -5),
        ])
        .unwrap();
        assert_eq!(p.total(), 100);
        assert_eq!(p.lines()[0].debit(), 100);
        assert_eq!(p.lines()[1].credit(), 95);
        assert_eq!(p.lines()[1].debit(), 0);
        let r = p.clone().reversed();
        assert_eq!(r.lines()[0].amount, -100);
        assert_eq!(r.total(), 100);
        assert_eq!(r.reversed(), p);
    }

    #[test]
    fn unbalanced_empty_and_overflowing_postings_are_refused() {
        assert_eq!(
            Posting::new(vec![line("a", 10), line("b", -9)]),
            Err(PostingError::Unbalanced)
        );
        assert_eq!(Posting::<&str>::new(vec![]), Err(PostingError::Empty));
        assert_eq!(
            Posting::new(vec![line("a", i64::MAX), line("b", 1), line("c", i64::MIN)]),
            Err(PostingError::Overflow)
        );
        assert_eq!(
            Posting::new(vec![line("a", i64::MIN), line("b", i64::MAX), line("c", 1)]),
            Err(PostingError::Overflow)
        );
        // Sums that would wrap back to "balanced" in unchecked arithmetic.
        assert_eq!(
            Posting::new(vec![line("a", i64::MAX), line("b", i64::MAX), line("c", 2)]),
            Err(PostingError::Overflow)
        );
        // Zero lines are kept; a posting of zeros is balanced.
        assert_eq!(Posting::new(vec![line("a", 0)]).unwrap().total(), 0);
    }

    #[test]
    fn the_builder_writes_debits_and_credits_and_refuses_negative_sides() {
        let p = Posting::builder()
            .debit("receivable", 1_050)
            .credit("fund", 1_000)
            .credit("fee", 50)
            .build()
            .unwrap();
        assert_eq!(
            p.lines(),
            &[
                line("receivable", 1_050),
                line("fund", -1_000),
                line("fee", -50)
            ]
        );
        assert_eq!(
            Posting::builder().debit("a", -5).credit("b", -5).build(),
            Err(PostingError::Unbalanced)
        );
        assert_eq!(
            Posting::builder().debit("a", 5).credit("b", 6).build(),
            Err(PostingError::Unbalanced)
        );
        assert!(
            Posting::builder()
                .debit("a", i64::MAX)
                .debit("b", 1)
                .credit("c", i64::MAX)
                .credit("d", 1)
                .build()
                .is_err()
        );
    }

    proptest! {
        /// Whatever lines are given, a posting that is made is balanced with exact (i128)
        /// arithmetic, its total is the exact sum of its debits, and its reversal is balanced too.
        #[test]
        fn any_posting_made_is_balanced(
            amounts in prop::collection::vec(
                prop_oneof![
                    any::<i64>(),
                    -1_000_000i64..1_000_000,
                    Just(i64::MAX),
                    Just(i64::MIN),
                    Just(0i64),
                ],
                0..8,
            ),
            close in any::<bool>(),
        ) {
            let mut lines: Vec<Line<usize>> = amounts
                .iter()
                .enumerate()
                .map(|(i, a)| Line { account: i, amount: *a })
                .collect();
            // Often close the posting with the line that balances it (when it fits).
            let exact: i128 = amounts.iter().map(|a| i128::from(*a)).sum();
            if close && let Ok(last) = i64::try_from(-exact) {
                lines.push(Line { account: usize::MAX, amount: last });
            }
            let sum: i128 = lines.iter().map(|l| i128::from(l.amount)).sum();
            let debits: i128 = lines.iter().map(|l| i128::from(l.amount.max(0))).sum();
            let credits: i128 = lines.iter().map(|l| -i128::from(l.amount.min(0))).sum();
            match Posting::new(lines.clone()) {
                Ok(p) => {
                    prop_assert_eq!(sum, 0);
                    prop_assert_eq!(i128::from(p.total()), debits);
                    prop_assert!(!lines.is_empty());
                    let r = p.reversed();
                    let rsum: i128 = r.lines().iter().map(|l| i128::from(l.amount)).sum();
                    prop_assert_eq!(rsum, 0);
                }
                Err(PostingError::Empty) => prop_assert!(lines.is_empty()),
                Err(PostingError::Overflow) => prop_assert!(
                    debits > i128::from(i64::MAX)
                        || credits > i128::from(i64::MAX)
                        || lines.iter().any(|l| l.amount == i64::MIN)
                ),
                Err(PostingError::Unbalanced) => prop_assert_ne!(debits, credits),
            }
        }

        /// The builder never makes an unbalanced posting, nor one whose sides differ from what was
        /// written.
        #[test]
        fn built_postings_are_balanced(
            debits in prop::collection::vec(any::<i64>(), 0..5),
            credits in prop::collection::vec(any::<i64>(), 0..5),
        ) {
            let mut b = Posting::builder();
            for (i, d) in debits.iter().enumerate() {
                b = b.debit(i, *d);
            }
            for (i, c) in credits.iter().enumerate() {
                b = b.credit(100 + i, *c);
            }
            let d: i128 = debits.iter().map(|x| i128::from(*x)).sum();
            let c: i128 = credits.iter().map(|x| i128::from(*x)).sum();
            if let Ok(p) = b.build() {
                prop_assert!(debits.iter().chain(&credits).all(|x| *x >= 0));
                prop_assert_eq!(d, c);
                prop_assert_eq!(i128::from(p.total()), d);
                let sum: i128 = p.lines().iter().map(|l| i128::from(l.amount)).sum();
                prop_assert_eq!(sum, 0);
            }
        }
    }
}
