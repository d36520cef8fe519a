//! The `hamdeli` binary itself: help, migrate, admin, backup.

use std::process::Command;

use crate::support::temp_dir;

fn hamdeli(data_dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hamdeli"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("HAMDELI_DATABASE_URL")
        .env_remove("HAMDELI_CONFIG")
        .output()
        .expect("run hamdeli");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `hamdeli` with `HAMDELI_PASSWORD` set: passwords never go on the command line.
fn hamdeli_with_password(
    data_dir: &std::path::Path,
    args: &[&str],
    password: &str,
) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hamdeli"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("HAMDELI_DATABASE_URL")
        .env_remove("HAMDELI_CONFIG")
        .env("HAMDELI_PASSWORD", password)
        .output()
        .expect("run hamdeli");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn help_documents_the_subcommands() {
    let dir = temp_dir();
    let (ok, text) = hamdeli(&dir.0, &["--help"]);
    assert!(ok, "{text}");
    for sub in ["serve", "migrate", "demo", "admin", "backup", "openapi"] {
        assert!(text.contains(sub), "--help lacks {sub}: {text}");
    }
}

#[test]
fn admin_commands_create_list_and_reset_users_then_backup() {
    let dir = temp_dir();
    let (ok, text) = hamdeli(&dir.0, &["migrate"]);
    assert!(ok, "{text}");
    let (ok, text) = hamdeli(
        &dir.0,
        &[
            "admin",
            "create-user",
            "--username",
            "expert.rey",
            "--display-name",
            "کارشناس ری",
            "--role",
            "county_expert",
            "--county",
            "2303",
        ],
    );
    assert!(ok, "{text}");
    assert!(
        text.contains("county:2303") && text.contains("password: "),
        "{text}"
    );
    let (ok, text) = hamdeli(
        &dir.0,
        &[
            "admin",
            "create-user",
            "--username",
            "x1",
            "--display-name",
            "x",
            "--role",
            "county_expert",
        ],
    );
    assert!(!ok, "a county expert needs a county: {text}");
    let (ok, text) = hamdeli(
        &dir.0,
        &[
            "admin",
            "create-user",
            "--username",
            "expert.rey",
            "--display-name",
            "x",
            "--role",
            "donor",
        ],
    );
    assert!(!ok && text.contains("This username is taken."), "{text}");
    let (ok, text) = hamdeli(
        &dir.0,
        &[
            "admin",
            "set-role",
            "--username",
            "expert.rey",
            "--role",
            "provincial_officer",
            "--province",
            "23",
        ],
    );
    assert!(ok && text.contains("province:23"), "{text}");
    let (ok, text) = hamdeli_with_password(
        &dir.0,
        &["admin", "reset-password", "--username", "expert.rey"],
        "short",
    );
    assert!(!ok && text.contains("at least 10"), "{text}");
    let (ok, text) = hamdeli_with_password(
        &dir.0,
        &["admin", "reset-password", "--username", "expert.rey"],
        "long-enough-pass",
    );
    assert!(ok, "{text}");
    let (ok, text) = hamdeli(&dir.0, &["admin", "list-users"]);
    assert!(
        ok && text.contains("expert.rey") && text.contains("provincial_officer"),
        "{text}"
    );

    let backup = dir.0.join("backup.db");
    let (ok, text) = hamdeli(&dir.0, &["backup", "--out", backup.to_str().unwrap()]);
    assert!(ok, "{text}");
    let (ok, text) = hamdeli(&dir.0, &["backup", "--out", backup.to_str().unwrap()]);
    assert!(
        !ok && text.contains("already exists"),
        "never overwrites: {text}"
    );
    // The backup is a working database with the user in it.
    let (ok, text) = hamdeli(
        &dir.0,
        &[
            "admin",
            "list-users",
            "--database-url",
            &format!("sqlite://{}", backup.display()),
        ],
    );
    assert!(ok && text.contains("expert.rey"), "{text}");
}

#[test]
fn ledger_verify_names_the_first_broken_entry() {
    let dir = temp_dir();
    assert!(hamdeli(&dir.0, &["migrate"]).0);
    let (ok, text) = hamdeli(&dir.0, &["ledger", "verify"]);
    assert!(ok && text.contains("ok: 0 entries"), "{text}");
    // Three entries, then a change behind the triggers' back.
    let db = dir.0.join("hamdeli.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = hamdeli_store::Store::open(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        for i in 0..3 {
            let mut tx = store.begin().await.unwrap();
            hamdeli_store::ledger::append(&mut tx, "pledge", &serde_json::json!({ "n": i }))
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        sqlx::query("DROP TRIGGER transparency_log_no_update")
            .execute(store.pool())
            .await
            .unwrap();
        sqlx::query("UPDATE transparency_log SET at = at + 1 WHERE seq = 2")
            .execute(store.pool())
            .await
            .unwrap();
        store.close().await;
    });
    let (ok, text) = hamdeli(&dir.0, &["ledger", "verify"]);
    assert!(!ok && text.contains("BROKEN at entry 2"), "{text}");
}

#[test]
fn allocate_works_on_files() {
    let dir = temp_dir();
    let requests = dir.0.join("requests.csv");
    std::fs::write(
        &requests,
        "request_id,need,weight\nr1,10,1\nr2,10,1\nr3,10,2\n",
    )
    .unwrap();
    let out = dir.0.join("allocations.csv");
    let (ok, text) = hamdeli(
        &dir.0,
        &[
            "allocate",
            "--requests",
            requests.to_str().unwrap(),
            "--pool",
            "12",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(ok, "{text}");
    let csv = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        csv,
        "request_id,allocated,served_fraction,reason\nr1,3,0.300000,level\nr2,3,0.300000,level\nr3,6,0.600000,level\n"
    );
    let (ok, text) = hamdeli(
        &dir.0,
        &[
            "allocate",
            "--requests",
            requests.to_str().unwrap(),
            "--pool",
            "12",
            "--out",
            out.to_str().unwrap(),
            "--policy",
            "priority",
        ],
    );
    assert!(ok, "{text}");
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("r3,10,1.000000,full_need")
    );
    std::fs::write(&requests, "request_id,need,weight\nr1,ten,1\n").unwrap();
    let (ok, text) = hamdeli(
        &dir.0,
        &[
            "allocate",
            "--requests",
            requests.to_str().unwrap(),
            "--pool",
            "12",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(!ok && text.contains("row 2"), "{text}");
}

#[test]
fn import_reports_every_row_and_reimport_updates() {
    let dir = temp_dir();
    assert!(hamdeli(&dir.0, &["demo"]).0);
    let file = dir.0.join("list.csv");
    // Windows-1256, as older Excel exports are: Arabic yeh and kaf (it has no Persian digits).
    let text = "شناسه,کد ملي,نام,نام خانوادگي,تاريخ تولد,استان,شهرستان\n\
                101,0010350829,زهرا,احمدي,1360/5/12,تهران,ري\n\
                102,10350829,مريم,كريمي,1365-02-01,اصفهان,كاشان\n\
                103,,,,,تهران,\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1256.encode(text);
    std::fs::write(&file, &bytes).unwrap();
    let report = dir.0.join("report.csv");
    let args = [
        "import",
        "--organisation",
        "کمیته امداد (نمایشی)",
        "--list",
        "مستمری",
        "--file",
        file.to_str().unwrap(),
    ];
    let (ok, out) = hamdeli(&dir.0, &[&args[..], &["--dry-run"]].concat());
    assert!(
        ok && out.contains("windows1256") && out.contains("dry run: nothing written"),
        "{out}"
    );
    let (ok, out) = hamdeli(
        &dir.0,
        &[&args[..], &["--report", report.to_str().unwrap()]].concat(),
    );
    assert!(ok, "{out}");
    assert!(
        out.contains("rows in 3 = accepted 2 (with warnings 1) + rejected 1"),
        "{out}"
    );
    assert!(out.contains("2 inserted, 0 updated"), "{out}");
    let report = std::fs::read_to_string(report).unwrap();
    assert!(
        report.contains("4,rejected,identity.missing")
            && report.contains("3,warning,national_code.padded"),
        "{report}"
    );
    let (ok, out) = hamdeli(&dir.0, &args);
    assert!(
        ok && out.contains("0 inserted, 2 updated"),
        "re-import updates by source_id: {out}"
    );
    // A bulk load written while it is read, linked afterwards: the same per-row report.
    let bulk = [
        "import",
        "--organisation",
        "سازمان بهزیستی (نمایشی)",
        "--list",
        "انبوه",
        "--defer-link",
        "--file",
        file.to_str().unwrap(),
    ];
    let (ok, out) = hamdeli(&dir.0, &bulk);
    assert!(
        ok && out.contains("rows in 3 = accepted 2 (with warnings 1) + rejected 1")
            && out.contains("2 inserted, 0 updated")
            && out.contains("row 4: rejected (identity.missing)"),
        "{out}"
    );
    let (ok, out) = hamdeli(&dir.0, &bulk);
    assert!(ok && out.contains("0 inserted, 2 updated"), "{out}");
    let (ok, out) = hamdeli(&dir.0, &["relink"]);
    assert!(
        ok && out.contains("linked 2 records without a person")
            && out.contains("2 joined existing persons"),
        "{out}"
    );
    let (ok, out) = hamdeli(
        &dir.0,
        &[
            "import",
            "--organisation",
            "nobody",
            "--list",
            "x",
            "--file",
            file.to_str().unwrap(),
        ],
    );
    assert!(!ok && out.contains("no organisation"), "{out}");
}

#[test]
fn link_writes_one_cluster_row_per_readable_input_row() {
    let dir = temp_dir();
    let a = dir.0.join("a.csv");
    let b = dir.0.join("b.csv");
    std::fs::write(&a, "source_id,national_code,first_name,last_name,father_name,birth_date\n1,0010350829,زهرا,احمدی,علی,1360/05/12\n2,0084575948,مریم,کریمی,حسن,1365/02/01\n3,,فاطمه,رضایی,رضا,1370/01/01\n").unwrap();
    // The same Zahra with Arabic yeh and Persian digits; a repeated id; a twin-like neighbour.
    std::fs::write(&b, "کد ملی,نام,نام خانوادگی,نام پدر,تاریخ تولد,شناسه\n۰۰۱۰۳۵۰۸۲۹,زهرا,احمدي,علي,۱۳۶۰/۰۵/۱۲,x1\n,نرگس,رضایی,رضا,1370/01/01,x2\n,x,y,z,1,x2\n").unwrap();
    let out = dir.0.join("clusters.csv");
    let rejects = dir.0.join("rejects.csv");
    let pairs = dir.0.join("pairs.csv");
    let (ok, text) = hamdeli(
        &dir.0,
        &[
            "link",
            "--input",
            &format!("A={}", a.display()),
            "--input",
            &format!("B={}", b.display()),
            "--out",
            out.to_str().unwrap(),
            "--rejects",
            rejects.to_str().unwrap(),
            "--pairs",
            pairs.to_str().unwrap(),
        ],
    );
    assert!(ok, "{text}");
    let clusters = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<Vec<&str>> = clusters
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(clusters.lines().next(), Some("source,source_id,cluster_id"));
    assert_eq!(
        rows.len(),
        5,
        "3 + 2 readable rows, the repeated id rejected: {clusters}"
    );
    let cluster = |s: &str, id: &str| {
        rows.iter()
            .find(|r| r[0] == s && r[1] == id)
            .map(|r| r[2].to_owned())
            .unwrap()
    };
    assert_eq!(
        cluster("A", "1"),
        cluster("B", "x1"),
        "the same person across lists"
    );
    assert_ne!(
        cluster("A", "3"),
        cluster("B", "x2"),
        "sisters with different first names stay apart"
    );
    assert_ne!(cluster("A", "1"), cluster("A", "2"));
    let rejects = std::fs::read_to_string(&rejects).unwrap();
    assert!(rejects.contains("B,4,source_id.duplicate"), "{rejects}");
    assert!(
        std::fs::read_to_string(&pairs)
            .unwrap()
            .starts_with("source_a,source_id_a,source_b,source_id_b,probability")
    );
}
