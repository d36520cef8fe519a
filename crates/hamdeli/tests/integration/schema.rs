//! Both engines reach the same logical schema.

use hamdeli_store::schema::logical_schema;
use hamdeli_store::{Engine, Store, migrations};

use crate::support::{drop_postgres_database, fresh_database, postgres_base, temp_dir};

fn created_tables(sql: &str) -> Vec<String> {
    let mut names: Vec<String> = sql
        .lines()
        .filter_map(|l| l.trim().strip_prefix("CREATE TABLE "))
        .map(|rest| rest.split_whitespace().next().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn sqlite_and_postgres_reach_the_same_schema() {
    // Always: both migration trees create the same tables, and SQLite applies its tree.
    let sqlite_sql = migrations::scripts(Engine::Sqlite).join("\n");
    let postgres_sql = migrations::scripts(Engine::Postgres).join("\n");
    assert_eq!(created_tables(&sqlite_sql), created_tables(&postgres_sql));
    let dir = temp_dir();
    let sqlite = Store::open(&format!("sqlite://{}", dir.0.join("s.db").display()))
        .await
        .unwrap();
    let sqlite_schema = logical_schema(&sqlite).await.unwrap();
    let names: Vec<String> = sqlite_schema.keys().cloned().collect();
    assert_eq!(names, created_tables(&sqlite_sql));

    // With PostgreSQL at hand: the whole logical schema agrees, column by column.
    if postgres_base().is_none() {
        return;
    }
    let pg_dir = temp_dir();
    let pg_url = fresh_database(&pg_dir.0).await;
    let pg = Store::open(&pg_url).await.unwrap();
    let pg_schema = logical_schema(&pg).await.unwrap();
    pg.close().await;
    drop_postgres_database(&pg_url);
    assert_eq!(
        sqlite_schema.keys().collect::<Vec<_>>(),
        pg_schema.keys().collect::<Vec<_>>()
    );
    for (table, s) in &sqlite_schema {
        assert_eq!(
            Some(s),
            pg_schema.get(table),
            "table {table} differs between engines"
        );
    }
}
