//! The loans' double-entry journal entries, built through [`crate::posting`]: the fund pays a
//! loan out (it becomes a receivable, with its fees), a repayment turns the receivable back into
//! money in the bank.

use crate::posting::{Posting, PostingError};

/// What a borrower owes (principal and fees).
pub const LOAN_RECEIVABLE: &str = "loan_receivable";
/// The fees earned.
pub const FEE_INCOME: &str = "fee_income";
/// Repayments received.
pub const BANK: &str = "bank";

/// The account of a fund source (`fund:campaign`, `fund:bank_line`, `fund:fund`).
pub fn fund(source: &str) -> String {
    format!("fund:{source}")
}

/// A disbursement: the receivable is debited with the principal and the fees, the fund source
/// credited with the principal, the fee income with the fees.
pub fn disbursement(
    fund_source: &str,
    principal: i64,
    fee_total: i64,
) -> Result<Posting<String>, PostingError> {
    let owed = principal
        .checked_add(fee_total)
        .ok_or(PostingError::Overflow)?;
    Posting::builder()
        .debit(LOAN_RECEIVABLE.to_owned(), owed)
        .credit(fund(fund_source), principal)
        .credit(FEE_INCOME.to_owned(), fee_total)
        .build()
}

/// A repayment: the bank debited, the receivable credited.
pub fn repayment(amount: i64) -> Result<Posting<String>, PostingError> {
    Posting::builder()
        .debit(BANK.to_owned(), amount)
        .credit(LOAN_RECEIVABLE.to_owned(), amount)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disbursement_owes_the_principal_and_the_fees() {
        let p = disbursement("campaign", 100_000_000, 2_166_000).unwrap();
        let sides: Vec<(&str, i64, i64)> = p
            .lines()
            .iter()
            .map(|l| (l.account.as_str(), l.debit(), l.credit()))
            .collect();
        assert_eq!(
            sides,
            [
                ("loan_receivable", 102_166_000, 0),
                ("fund:campaign", 0, 100_000_000),
                ("fee_income", 0, 2_166_000),
            ]
        );
        // No fee: the fee line is still written, as zero.
        assert_eq!(disbursement("fund", 5, 0).unwrap().lines().len(), 3);
    }

    #[test]
    fn overflowing_or_negative_amounts_are_refused() {
        assert_eq!(
            disbursement("fund", i64::MAX, 1),
            Err(PostingError::Overflow)
        );
        assert_eq!(disbursement("fund", 10, -1), Err(PostingError::Unbalanced));
        assert_eq!(repayment(-1), Err(PostingError::Unbalanced));
        assert_eq!(repayment(7).unwrap().lines()[1].credit(), 7);
    }
}
