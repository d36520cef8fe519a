//! One large CSV for the import benchmark (`bench/import.sh`): the organisations' noisy lists
//! of a synthetic population (relief, welfare, Red Crescent, the county survey; not the
//! full-name-only charity list), then clean population rows until the file has ROWS rows. Every
//! row has the canonical columns
//! `source_id,national_code,first_name,last_name,father_name,birth_date,gender,phone,province,county,address`.
//!
//!     cargo run --release -p hamdeli-synth --example bench_csv -- OUT.csv [ROWS] [SEED]
#![allow(clippy::unwrap_used)] // a test or benchmark program: a failed step should stop it loudly

use std::io::Write;
use std::time::Instant;

use hamdeli_synth::{SynthOptions, generate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next() else {
        eprintln!("usage: bench_csv OUT.csv [ROWS] [SEED]");
        std::process::exit(2);
    };
    let rows: usize = args
        .next()
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let mut options = SynthOptions {
        people: rows,
        ..SynthOptions::default()
    };
    if let Some(s) = args.next() {
        options.seed = s.parse()?;
    }
    let t = Instant::now();
    let pop = generate(&options);
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(std::fs::File::create(&out)?));
    w.write_record([
        "source_id",
        "national_code",
        "first_name",
        "last_name",
        "father_name",
        "birth_date",
        "gender",
        "phone",
        "province",
        "county",
        "address",
    ])?;
    let mut written = 0usize;
    let mut from_lists = 0usize;
    'lists: for list in pop.lists.iter().filter(|l| !l.full_name_only) {
        for r in &list.rows {
            if written == rows {
                break 'lists;
            }
            w.write_record([
                &format!("{}-{}", list.name, r.source_id),
                &r.national_code,
                &r.first_name,
                &r.last_name,
                &r.father_name,
                &r.birth_date,
                &r.gender,
                &r.phone,
                &r.province,
                &r.county,
                &r.address,
            ])?;
            written += 1;
            from_lists += 1;
        }
    }
    'people: for h in &pop.households {
        for &i in &h.members {
            if written == rows {
                break 'people;
            }
            let p = &pop.persons[i];
            w.write_record([
                format!("P{:07}", i + 1).as_str(),
                &p.national_code,
                &p.first_name,
                &p.last_name,
                &p.father_name,
                &p.birth_date.to_string(),
                p.gender.code(),
                p.mobile.as_deref().unwrap_or(""),
                &pop.geography.provinces[h.province].name_fa,
                &pop.geography.counties[h.county].name_fa,
                &h.address,
            ])?;
            written += 1;
        }
    }
    w.flush()?;
    drop(w);
    std::io::stderr().flush()?;
    println!(
        "SYNTHETIC DATA: {out}: {written} rows ({from_lists} from organisations' lists, {} clean population rows), {} people, seed {}, {:.1} s",
        written - from_lists,
        pop.persons.len(),
        options.seed,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
