//! The logical schema as each engine reports it, reduced to what must agree: tables, columns,
//! types (integer or text), nullability, primary keys and foreign keys.

use std::collections::BTreeMap;

use sqlx::Row;

use crate::{Engine, Result, Store};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Column {
    pub name: String,
    pub logical_type: String,
    pub not_null: bool,
    pub primary_key: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ForeignKey {
    pub column: String,
    pub references: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    pub columns: Vec<Column>,
    pub foreign_keys: Vec<ForeignKey>,
}

fn logical_type(engine_type: &str) -> String {
    let t = engine_type.to_ascii_lowercase();
    if t.contains("int") {
        "integer".into()
    } else if t.contains("char") || t == "text" {
        "text".into()
    } else if t.contains("double") || t.contains("real") || t.contains("float") {
        "real".into()
    } else if t.contains("bool") {
        "boolean".into()
    } else if t.contains("bytea") || t.contains("blob") {
        "blob".into()
    } else {
        t
    }
}

pub async fn logical_schema(store: &Store) -> Result<BTreeMap<String, Table>> {
    let mut tables = BTreeMap::new();
    match store.engine() {
        Engine::Sqlite => {
            let names = sqlx::query(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
            )
            .fetch_all(store.pool())
            .await?;
            for n in names {
                let name: String = n.get(0);
                let mut table = Table::default();
                let cols =
                    sqlx::query("SELECT name, type, \"notnull\", pk FROM pragma_table_info($1)")
                        .bind(name.clone())
                        .fetch_all(store.pool())
                        .await?;
                for c in cols {
                    let pk = c.get::<i64, _>(3) > 0;
                    table.columns.push(Column {
                        name: c.get(0),
                        logical_type: logical_type(&c.get::<String, _>(1)),
                        not_null: c.get::<i64, _>(2) != 0 || pk,
                        primary_key: pk,
                    });
                }
                let fks = sqlx::query(
                    "SELECT \"from\", \"table\", \"to\" FROM pragma_foreign_key_list($1)",
                )
                .bind(name.clone())
                .fetch_all(store.pool())
                .await?;
                for f in fks {
                    table.foreign_keys.push(ForeignKey {
                        column: f.get(0),
                        references: format!("{}.{}", f.get::<String, _>(1), f.get::<String, _>(2)),
                    });
                }
                tables.insert(name, table);
            }
        }
        Engine::Postgres => {
            let cols = sqlx::query(
                "SELECT c.table_name::text, c.column_name::text, c.data_type::text, \
                 c.is_nullable::text, \
                 CASE WHEN EXISTS (SELECT 1 FROM information_schema.table_constraints tc \
                   JOIN information_schema.key_column_usage k \
                     ON k.constraint_name = tc.constraint_name AND k.table_schema = tc.table_schema \
                   WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = c.table_schema \
                     AND tc.table_name = c.table_name AND k.column_name = c.column_name) THEN 1 ELSE 0 END \
                 FROM information_schema.columns c \
                 JOIN information_schema.tables t ON t.table_schema = c.table_schema \
                   AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' \
                 WHERE c.table_schema = current_schema() AND c.table_name NOT LIKE '_sqlx%' \
                 ORDER BY c.table_name, c.ordinal_position",
            )
            .fetch_all(store.pool())
            .await?;
            for c in cols {
                let table: &mut Table = tables.entry(c.get::<String, _>(0)).or_default();
                table.columns.push(Column {
                    name: c.get(1),
                    logical_type: logical_type(&c.get::<String, _>(2)),
                    not_null: c.get::<String, _>(3) == "NO",
                    primary_key: c.get::<i64, _>(4) != 0,
                });
            }
            let fks = sqlx::query(
                "SELECT tc.table_name::text, k.column_name::text, \
                 ccu.table_name::text, ccu.column_name::text \
                 FROM information_schema.table_constraints tc \
                 JOIN information_schema.key_column_usage k \
                   ON k.constraint_name = tc.constraint_name AND k.table_schema = tc.table_schema \
                 JOIN information_schema.constraint_column_usage ccu \
                   ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema \
                 WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()",
            )
            .fetch_all(store.pool())
            .await?;
            for f in fks {
                if let Some(table) = tables.get_mut(&f.get::<String, _>(0)) {
                    table.foreign_keys.push(ForeignKey {
                        column: f.get(1),
                        references: format!("{}.{}", f.get::<String, _>(2), f.get::<String, _>(3)),
                    });
                }
            }
        }
    }
    for t in tables.values_mut() {
        t.columns.sort();
        t.foreign_keys.sort();
    }
    Ok(tables)
}
