//! The capability's reports: volunteers by specialty and province, hours given, cases by
//! outcome, capable women by field and province, NGOs' training. Counts only.

use hamdeli_domain::network::policy::NetworkAction;
use hamdeli_store::Store;
use hamdeli_store::network::ngos::{self, Ngo};
use hamdeli_store::network::reports::{self, Cell};

use crate::{Caller, Result};

use super::{allow, scope_province};

#[derive(Debug, Clone, serde::Serialize)]
pub struct NetworkReport {
    /// (province, specialty, verified volunteers)
    pub volunteers: Vec<Cell>,
    /// (province, specialty, minutes given)
    pub minutes: Vec<Cell>,
    /// (province, outcome or open state, cases)
    pub cases: Vec<Cell>,
    /// (province, field, women)
    pub women: Vec<Cell>,
    pub ngos: Vec<Ngo>,
}

pub async fn report(store: &Store, caller: &Caller<'_>) -> Result<NetworkReport> {
    allow(caller.principal, NetworkAction::ViewReports)?;
    let province = scope_province(caller.principal);
    let p = province.as_deref();
    Ok(NetworkReport {
        volunteers: reports::volunteers(store, p).await?,
        minutes: reports::minutes(store, p).await?,
        cases: reports::cases(store, p).await?,
        women: reports::women(store, p).await?,
        ngos: ngos::list(store, p).await?,
    })
}

/// An office's home counts: women, volunteers pending and verified, open cases, active NGOs.
pub async fn home_counts(store: &Store, caller: &Caller<'_>) -> Result<[i64; 5]> {
    allow(caller.principal, NetworkAction::ViewHome)?;
    Ok(reports::home_counts(store, scope_province(caller.principal).as_deref()).await?)
}
