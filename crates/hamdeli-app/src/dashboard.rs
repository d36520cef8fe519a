//! The dashboard's live counts: inside the principal's scope for office staff, and the public
//! figures of the landing page (places only matter there).

use hamdeli_domain::{Action, PlaceFilter};
use hamdeli_store::Store;
use hamdeli_store::dashboard::{self, Counts};

use crate::{Caller, Result};

/// The counts inside the principal's scope.
pub async fn counts(store: &Store, caller: &Caller<'_>) -> Result<Counts> {
    let p = caller.principal;
    p.authorize(Action::ViewDashboard)?;
    Ok(dashboard::counts(store, &p.place_filter()).await?)
}

/// The counts of the whole country for the public landing page, which shows only the number of
/// provinces and counties (public reference data).
pub async fn public_counts(store: &Store) -> Result<Counts> {
    Ok(dashboard::counts(store, &PlaceFilter::All).await?)
}
