//! Capability loans, end to end.

use std::process::Command;

/// `hamdeli loans schedule` prints the CSV, accepts Persian digits, and refuses a bad
/// argument with one line and a non-zero exit.
#[test]
fn schedule_cli_prints_the_csv_and_refuses_bad_arguments() {
    let dir = crate::support::temp_dir();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hamdeli"))
            .arg("--data-dir")
            .arg(&dir.0)
            .args(["loans", "schedule"])
            .args(args)
            .output()
            .expect("run hamdeli")
    };
    let out = run(&[
        "--principal",
        "۱۰۰۰۰۰۰۰۰",
        "--months",
        "12",
        "--fee-percent",
        "4",
        "--start",
        "1405/01/31",
        "--defer-from",
        "4",
        "--defer-months",
        "3",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "n,due_jalali,due_gregorian,principal_rials,fee_rials,total_rials,balance_rials"
    );
    assert_eq!(lines.len(), 13);
    // Fee ⌊100,000,000 × 4 × 13 / 2400⌋ = 2,166,666; instalments 8,513,888, last 8,513,898.
    assert_eq!(
        lines[1],
        "1,1405/02/31,2026-05-21,8333333,180555,8513888,93652778"
    );
    // Instalment 4 was due in Mordad (the 31st) and moves to Aban, which has 30 days.
    assert_eq!(
        lines[4],
        "4,1405/08/30,2026-11-21,8333333,180555,8513888,68111114"
    );
    assert_eq!(
        lines[12],
        "12,1406/04/31,2027-07-22,8333337,180561,8513898,0"
    );

    let out = run(&[
        "--principal",
        "50000000",
        "--months",
        "3",
        "--fee-percent",
        "2.5",
        "--start",
        "۱۴۰۳/۱۱/۳۰",
        "--grace-months",
        "1",
    ]);
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).expect("utf-8");
    // ⌊50,000,000 × 2.5 × 4 / 2400⌋ = 208,333; each 16,736,111, last 16,736,111; fee 69,444 (last 69,445).
    // 1403 is leap: Esfand 1403 has 30 days, so 1403/11/30 + 1 grace + 1 = 1404/01/30.
    assert_eq!(
        csv.lines().nth(1),
        Some("1,1404/01/30,2025-04-19,16666667,69444,16736111,33472222")
    );
    assert_eq!(
        csv.lines().nth(3),
        Some("3,1404/03/30,2025-06-20,16666666,69445,16736111,0")
    );

    for bad in [
        vec![
            "--principal",
            "abc",
            "--months",
            "12",
            "--fee-percent",
            "4",
            "--start",
            "1405/01/31",
        ],
        vec![
            "--principal",
            "1000000",
            "--months",
            "0",
            "--fee-percent",
            "4",
            "--start",
            "1405/01/31",
        ],
        vec![
            "--principal",
            "1000000",
            "--months",
            "12",
            "--fee-percent",
            "4.12345",
            "--start",
            "1405/01/31",
        ],
        vec![
            "--principal",
            "1000000",
            "--months",
            "12",
            "--fee-percent",
            "4",
            "--start",
            "1405/12/30",
        ],
        vec![
            "--principal",
            "1000000",
            "--months",
            "12",
            "--fee-percent",
            "4",
            "--start",
            "1405/01/31",
            "--defer-from",
            "13",
            "--defer-months",
            "1",
        ],
        vec![
            "--months",
            "12",
            "--fee-percent",
            "4",
            "--start",
            "1405/01/31",
        ],
    ] {
        let out = run(&bad);
        assert!(!out.status.success(), "{bad:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8(out.stderr).expect("utf-8");
        assert_eq!(err.trim_end().lines().count(), 1, "{bad:?}: {err}");
    }
}
