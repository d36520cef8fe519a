//! The written files: identical for the same seed, and readable by the import (`hamdeli-ingest`),
//! which rejects exactly the deliberately invalid rows.
#![allow(clippy::unwrap_used)] // a test or benchmark program: a failed step should stop it loudly

use std::collections::HashMap;
use std::path::PathBuf;

use hamdeli_synth::{FileFormat, ListKind, SynthOptions, generate, write_files};

fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn options() -> SynthOptions {
    SynthOptions {
        people: 30_000,
        seed: 42,
        ..SynthOptions::default()
    }
}

#[test]
fn same_seed_writes_identical_files() {
    let (a, b) = (dir("synth-same-a"), dir("synth-same-b"));
    let ma = write_files(&generate(&options()), &a).unwrap();
    let mb = write_files(&generate(&options()), &b).unwrap();
    let paths = ma
        .lists
        .iter()
        .map(|l| &l.path)
        .chain(ma.files.iter().map(|f| &f.path));
    let mut n = 0;
    for pa in paths {
        let name = pa.file_name().unwrap();
        let ba = std::fs::read(pa).unwrap();
        let bb = std::fs::read(b.join(name)).unwrap();
        assert!(ba == bb, "{name:?} differs");
        n += 1;
    }
    assert_eq!(
        n,
        6 + 4,
        "six lists (the household roster too) and four other files"
    );
    assert_eq!(ma.lists.len(), mb.lists.len());
    assert!(a.join("manifest.json").exists());
}

#[test]
fn the_import_reads_every_list_and_rejects_only_the_invalid_rows() {
    let out = dir("synth-ingest");
    let pop = generate(&options());
    let manifest = write_files(&pop, &out).unwrap();
    assert_eq!(manifest.people, 30_000);
    let truth: HashMap<(String, String), String> = {
        let mut r = csv::Reader::from_path(out.join("truth.csv")).unwrap();
        r.records()
            .map(|rec| {
                let rec = rec.unwrap();
                ((rec[0].to_owned(), rec[1].to_owned()), rec[2].to_owned())
            })
            .collect()
    };
    assert_eq!(
        truth.len(),
        manifest.lists.iter().map(|l| l.rows).sum::<usize>()
    );
    for (lm, list) in manifest.lists.iter().zip(&pop.lists) {
        let report = hamdeli_ingest::read_all(&lm.path, |_| {}).unwrap();
        assert_eq!(report.rows_in(), lm.rows, "{}", lm.name);
        assert_eq!(
            report.format.name(),
            if lm.format == FileFormat::Xlsx {
                "xlsx"
            } else {
                "csv"
            }
        );
        // Every standard column is recognised, Persian headers included.
        let known = report
            .mapping
            .columns
            .iter()
            .filter(|c| matches!(c, hamdeli_ingest::Column::Field(_)))
            .count();
        // And the household and support columns: relation, household id, zone, reason,
        // decile, disability, programme, kind, amount, date.
        let facts = list
            .extra_columns
            .iter()
            .filter(|c| hamdeli_ingest::Field::recognise(c).is_some())
            .count();
        assert_eq!(
            known,
            (if list.full_name_only { 10 } else { 11 }) + facts,
            "{}",
            lm.name
        );
        let expected_facts = match lm.name.as_str() {
            "relief_committee" => 5,
            "welfare" => 3,
            "charity" => 3,
            "red_crescent" => 4,
            "survey_female_heads" => 7,
            "household_roster" => 9,
            other => panic!("unexpected list {other}"),
        };
        assert_eq!(facts, expected_facts, "{}", lm.name);
        // Rejected: exactly the invalid rows (row numbers as a spreadsheet shows them).
        let mut rejected: Vec<u64> = report.rejected.iter().map(|r| r.row).collect();
        rejected.sort_unstable();
        let invalid: Vec<u64> = list
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.invalid)
            .map(|(i, _)| i as u64 + 2)
            .collect();
        assert_eq!(rejected, invalid, "{}", lm.name);
        assert_eq!(invalid.len(), lm.invalid_rows);
        assert!(report.rejected.iter().all(|r| r.code == "identity.missing"));
        // Accepted rows: the code read is the person's own, for most rows.
        let mut right = 0;
        let mut wrong = 0;
        let mut names = 0;
        for (rec, _) in &report.accepted {
            let key = &truth[&(lm.name.clone(), rec.source_id.clone())];
            match &rec.national_code {
                Some(code) if code == key => right += 1,
                Some(_) => wrong += 1,
                None => {}
            }
            names += usize::from(rec.first_key.is_some() && rec.last_key.is_some());
        }
        let n = report.accepted.len() as f64;
        assert_eq!(wrong, 0, "{}", lm.name);
        assert!(right as f64 / n > 0.82, "{}: {right} of {n}", lm.name);
        assert!(
            names as f64 / n > 0.97,
            "{}: {names} of {n} with names",
            lm.name
        );
        assert!(report.rows_with_warnings() > 0, "{}: no warnings", lm.name);
        if lm.list_kind == ListKind::Survey {
            assert_eq!(lm.support_kind, None);
        }
    }
}
