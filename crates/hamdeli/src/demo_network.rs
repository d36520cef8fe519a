//! The demo data of capability network, made through its use cases as a user would (never by
//! writing tables directly).

use hamdeli_store::Store;

/// Seeds capability network's demo data once; returns a line for the console.
pub async fn seed(_store: &Store) -> anyhow::Result<String> {
    Ok(String::new())
}
