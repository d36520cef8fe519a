//! The market's double-entry postings, built through [`crate::posting`]: a sale, its refund,
//! a bulk order's accepted part, a payout.
//!
//! Accounts: `platform_cash` (what the platform holds of buyers' money), `producer_payable`
//! (what it owes a producer; one per producer), `commission_income`.

use crate::posting::{Posting, PostingError};

pub const PLATFORM_CASH: &str = "platform_cash";
pub const PRODUCER_PAYABLE: &str = "producer_payable";
pub const COMMISSION_INCOME: &str = "commission_income";

/// An account of the market's ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Account {
    PlatformCash,
    /// What the platform owes one producer (her id).
    ProducerPayable(i64),
    CommissionIncome,
}

impl Account {
    /// The account's code as stored.
    pub fn code(&self) -> &'static str {
        match self {
            Account::PlatformCash => PLATFORM_CASH,
            Account::ProducerPayable(_) => PRODUCER_PAYABLE,
            Account::CommissionIncome => COMMISSION_INCOME,
        }
    }

    /// The producer of a payable account.
    pub fn producer_id(&self) -> Option<i64> {
        match self {
            Account::ProducerPayable(id) => Some(*id),
            _ => None,
        }
    }
}

/// A sub-order's sale: the buyer's money to the platform's cash, owed to the producer, the
/// commission to the platform's income. Its refund is [`Posting::reversed`].
pub fn sale(
    producer_id: i64,
    total_rials: i64,
    commission_rials: i64,
) -> Result<Posting<Account>, PostingError> {
    let owed = total_rials
        .checked_sub(commission_rials)
        .ok_or(PostingError::Overflow)?;
    Posting::builder()
        .debit(Account::PlatformCash, total_rials)
        .credit(Account::ProducerPayable(producer_id), owed)
        .credit(Account::CommissionIncome, commission_rials)
        .build()
}

/// A bulk order's accepted part: paid to the platform, owed in full to the producer.
pub fn bulk(producer_id: i64, amount: i64) -> Result<Posting<Account>, PostingError> {
    Posting::builder()
        .debit(Account::PlatformCash, amount)
        .credit(Account::ProducerPayable(producer_id), amount)
        .build()
}

/// A payout: what the platform owes the producer goes down, and so does its cash.
pub fn payout(producer_id: i64, amount: i64) -> Result<Posting<Account>, PostingError> {
    Posting::builder()
        .debit(Account::ProducerPayable(producer_id), amount)
        .credit(Account::PlatformCash, amount)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::money;
    use crate::posting::Line;

    #[test]
    fn a_sale_splits_into_cash_payable_and_commission_and_its_refund_undoes_it() {
        let s = money::split(123_457, 750).unwrap();
        let p = sale(7, s.total, s.commission).unwrap();
        assert_eq!(
            p.lines(),
            &[
                Line {
                    account: Account::PlatformCash,
                    amount: 123_457
                },
                Line {
                    account: Account::ProducerPayable(7),
                    amount: -(123_457 - 9_259)
                },
                Line {
                    account: Account::CommissionIncome,
                    amount: -9_259
                },
            ]
        );
        let r = p.reversed();
        assert_eq!(r.lines()[1].amount, 123_457 - 9_259);
        assert_eq!(r.lines()[1].account.producer_id(), Some(7));
        assert_eq!(r.lines()[1].account.code(), PRODUCER_PAYABLE);
    }

    #[test]
    fn wrong_amounts_are_refused_not_wrapped() {
        assert_eq!(sale(1, 100, 101), Err(PostingError::Unbalanced));
        assert_eq!(sale(1, -100, 0), Err(PostingError::Unbalanced));
        assert_eq!(sale(1, i64::MIN, 1), Err(PostingError::Overflow));
        assert_eq!(payout(1, -5), Err(PostingError::Unbalanced));
        assert_eq!(bulk(1, i64::MAX).unwrap().total(), i64::MAX);
        assert_eq!(sale(1, 0, 0).unwrap().total(), 0);
    }
}
