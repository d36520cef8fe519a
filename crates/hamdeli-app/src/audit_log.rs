//! Reading the audit log (the national admin): its entries by a filter, and the actions it
//! holds. Reading the log is not itself audited.

use hamdeli_domain::Action;
use hamdeli_store::Store;
use hamdeli_store::audit::{self, Entry, Filter};

use crate::{Caller, Result};

/// The entries the filter selects, newest first.
pub async fn list(store: &Store, caller: &Caller<'_>, filter: &Filter) -> Result<Vec<Entry>> {
    caller.principal.authorize(Action::ReadAudit)?;
    Ok(audit::list(store, filter).await?)
}

/// Every action the log holds (the filter's choices).
pub async fn actions(store: &Store, caller: &Caller<'_>) -> Result<Vec<String>> {
    caller.principal.authorize(Action::ReadAudit)?;
    Ok(audit::actions(store).await?)
}
