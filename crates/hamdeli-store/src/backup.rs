//! Online backups of the embedded database. PostgreSQL deployments use pg_dump (README).

use std::path::Path;

use crate::{Engine, Result, Store, StoreError};

/// Writes a consistent copy of a live SQLite database to `dest` with `VACUUM INTO`, which reads
/// inside one transaction while the server keeps serving.
pub async fn sqlite_backup(store: &Store, dest: &Path) -> Result<()> {
    if store.engine() != Engine::Sqlite {
        return Err(StoreError::Invalid("backup-postgres-use-pg-dump"));
    }
    if dest.exists() {
        return Err(StoreError::Invalid("backup-destination-exists"));
    }
    let dest = dest
        .to_str()
        .ok_or(StoreError::Invalid("backup-destination-invalid"))?;
    sqlx::query("VACUUM INTO $1")
        .bind(dest.to_owned())
        .execute(store.pool())
        .await?;
    Ok(())
}
