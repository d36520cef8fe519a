//! Writes the synthetic population and its lists to a directory and prints the manifest.
//!
//!     cargo run -p hamdeli-synth --example synth -- OUT_DIR [PEOPLE] [SEED] [--households]
#![allow(clippy::unwrap_used)] // a test or benchmark program: a failed step should stop it loudly

use std::path::PathBuf;
use std::time::Instant;

use hamdeli_synth::{SynthOptions, generate, write_files};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `--households`: the household patterns of real relief and charity lists (issue 18).
    let all: Vec<String> = std::env::args().skip(1).collect();
    let households = all.iter().any(|a| a == "--households");
    let mut args = all.into_iter().filter(|a| a != "--households");
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: synth OUT_DIR [PEOPLE] [SEED] [--households]");
        std::process::exit(2);
    };
    let mut options = SynthOptions::default();
    if let Some(n) = args.next() {
        options.people = n.parse()?;
    }
    if let Some(s) = args.next() {
        options.seed = s.parse()?;
    }
    options.household_patterns = households;
    let t = Instant::now();
    let pop = generate(&options);
    let generated = t.elapsed();
    let t = Instant::now();
    let manifest = write_files(&pop, &dir)?;
    let written = t.elapsed();
    println!(
        "SYNTHETIC DATA: {} people in {} households ({} female-headed), seed {}",
        manifest.people, manifest.households, manifest.female_headed_households, manifest.seed
    );
    println!("generated in {generated:.2?}, written in {written:.2?}");
    println!();
    println!(
        "{:<34} {:<14} {:<10} {:<8} {:>7} {:>7} {:>7}",
        "file", "organisation", "kind", "support", "rows", "invalid", "people"
    );
    for l in &manifest.lists {
        println!(
            "{:<34} {:<14} {:<10} {:<8} {:>7} {:>7} {:>7}",
            l.path.display(),
            l.organisation.code(),
            l.list_kind.code(),
            l.support_kind.map_or("-", |k| k.code()),
            l.rows,
            l.invalid_rows,
            l.people
        );
        for p in &l.programmes {
            println!(
                "    programme {:<24} {:<8} {:>7}",
                p.code,
                p.support_kind.code(),
                p.rows
            );
        }
    }
    for f in &manifest.files {
        println!("{:<34} {:>41}", f.path.display(), f.rows);
    }
    Ok(())
}
