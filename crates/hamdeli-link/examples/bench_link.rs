//! Linkage benchmark on the contract CSVs of `../shared/bench/linkage`:
//!
//!     cargo run --release -p hamdeli-link --example bench_link -- DIR [--out clusters.csv]
//!         [--threshold 0.9] [--pairs pairs.csv] [--max-block N] [--window N] [--model]
//!
//! Reads every `DIR/org_*.csv` (UTF-8, columns `source_id,national_code,first_name,last_name,
//! father_name,birth_date,gender,phone,province,county,address`), links them and writes
//! `clusters.csv` (`source,source_id,cluster_id`, `source` = file stem). Prints the wall time
//! of each stage and the peak resident memory (VmHWM).
#![allow(clippy::unwrap_used)] // a test or benchmark program: a failed step should stop it loudly

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use hamdeli_link::{Field, LinkOptions, RawRecord, RecordSet, link};
use rayon::prelude::*;

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

struct Args {
    dir: PathBuf,
    out: PathBuf,
    pairs: Option<PathBuf>,
    options: LinkOptions,
    show_model: bool,
}

fn args() -> Args {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        dir: PathBuf::new(),
        out: PathBuf::from("clusters.csv"),
        pairs: None,
        options: LinkOptions::default(),
        show_model: false,
    };
    while let Some(x) = it.next() {
        let mut val = || it.next().expect("missing value");
        match x.as_str() {
            "--out" => a.out = val().into(),
            "--pairs" => a.pairs = Some(val().into()),
            "--threshold" => a.options.threshold = val().parse().expect("threshold"),
            "--max-block" => a.options.max_block_size = val().parse().expect("max-block"),
            "--window" => a.options.window = val().parse().expect("window"),
            "--keep" => a.options.keep_pairs_above = val().parse().expect("keep"),
            "--model" => a.show_model = true,
            _ => a.dir = x.into(),
        }
    }
    a
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = args();
    let t0 = Instant::now();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("org_") && name.ends_with(".csv")
        })
        .collect();
    files.sort();
    let stems: Vec<String> = files
        .iter()
        .map(|p| {
            p.file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();

    // Read: the files' bytes, in parallel.
    let contents: Vec<Vec<u8>> = std::thread::scope(|s| {
        let handles: Vec<_> = files
            .iter()
            .map(|f| s.spawn(move || std::fs::read(f)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("reader thread"))
            .collect::<Result<_, _>>()
    })?;
    let t_read = t0.elapsed();

    // Prepare: a reader thread parses the CSV rows into batches while this thread normalises
    // them into link records.
    let t1 = Instant::now();
    const COLUMNS: [&str; 10] = [
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
    ];
    struct Batch {
        file: usize,
        cols: [Option<usize>; 10],
        rows: Vec<csv::ByteRecord>,
        len: usize,
    }
    let mut set = RecordSet::new();
    let mut ids = String::new();
    let mut id_ends: Vec<u32> = Vec::new();
    let mut id_source: Vec<u16> = Vec::new();
    std::thread::scope(|s| -> Result<(), Box<dyn std::error::Error>> {
        let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<Result<Batch, csv::Error>>(2);
        let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Vec<csv::ByteRecord>>();
        let contents = &contents;
        s.spawn(move || {
            for (file, bytes) in contents.iter().enumerate() {
                let mut reader = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
                let cols = match reader.byte_headers() {
                    Ok(h) => COLUMNS.map(|c| {
                        h.iter().position(|x| {
                            x.strip_prefix("\u{feff}".as_bytes()).unwrap_or(x) == c.as_bytes()
                        })
                    }),
                    Err(e) => {
                        let _ = full_tx.send(Err(e));
                        return;
                    }
                };
                loop {
                    let mut rows = empty_rx.try_recv().unwrap_or_default();
                    rows.resize_with(8192, csv::ByteRecord::new);
                    let mut len = 0;
                    while len < rows.len() {
                        match reader.read_byte_record(&mut rows[len]) {
                            Ok(true) => len += 1,
                            Ok(false) => break,
                            Err(e) => {
                                let _ = full_tx.send(Err(e));
                                return;
                            }
                        }
                    }
                    let done = len < rows.len();
                    if full_tx
                        .send(Ok(Batch {
                            file,
                            cols,
                            rows,
                            len,
                        }))
                        .is_err()
                        || done
                    {
                        break;
                    }
                }
            }
        });
        for batch in full_rx {
            let batch = batch?;
            let raws: Vec<(Option<&str>, RawRecord<'_>)> = batch.rows[..batch.len]
                .par_iter()
                .map(|row| {
                    let get = |c: usize| {
                        batch.cols[c]
                            .and_then(|i| row.get(i))
                            .filter(|s| !s.is_empty())
                            .and_then(|b| std::str::from_utf8(b).ok())
                    };
                    (
                        get(0),
                        RawRecord {
                            national_code: get(1),
                            first_name: get(2),
                            last_name: get(3),
                            father_name: get(4),
                            birth_date: get(5),
                            gender: get(6),
                            phone: get(7),
                            province: get(8),
                            county: get(9),
                            ..Default::default()
                        },
                    )
                })
                .collect();
            for (id, _) in &raws {
                ids.push_str(id.unwrap_or(""));
                id_ends.push(ids.len() as u32);
                id_source.push(batch.file as u16);
            }
            let raws: Vec<RawRecord<'_>> = raws.into_iter().map(|(_, r)| r).collect();
            set.extend_raw(batch.file as u16, &raws);
            drop(raws);
            let _ = empty_tx.send(batch.rows);
        }
        Ok(())
    })?;
    drop(contents);
    set.shrink();
    let t_prepare = t1.elapsed();

    let result = link(&set, &args.options, &|_, _, _| {});

    // Write.
    let t2 = Instant::now();
    let id = |i: usize| &ids[if i == 0 { 0 } else { id_ends[i - 1] as usize }..id_ends[i] as usize];
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&args.out)?);
    writeln!(w, "source,source_id,cluster_id")?;
    for (i, c) in result.cluster_of.iter().enumerate() {
        writeln!(
            w,
            "{},{},{}",
            stems[id_source[i] as usize],
            csv_field(id(i)),
            c
        )?;
    }
    w.flush()?;
    drop(w);
    if let Some(path) = &args.pairs {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
        let fields: Vec<&str> = Field::ALL.iter().map(|f| f.code()).collect();
        writeln!(
            w,
            "source_a,source_id_a,source_b,source_id_b,probability,weight,family,decision,{}",
            fields.join(",")
        )?;
        for p in &result.pairs {
            let (a, b) = (p.a as usize, p.b as usize);
            writeln!(
                w,
                "{},{},{},{},{:.6},{:.3},{},{},{}",
                stems[id_source[a] as usize],
                csv_field(id(a)),
                stems[id_source[b] as usize],
                csv_field(id(b)),
                p.probability,
                p.weight,
                u8::from(p.family),
                p.decision.code(),
                p.evidence.codes().join(",")
            )?;
        }
        w.flush()?;
    }
    let t_write = t2.elapsed();
    let total = t0.elapsed();

    let s = &result.stats;
    println!(
        "records {}  candidate pairs {}  above threshold {}  merges {}  refused {}  clusters {}",
        s.records, s.candidate_pairs, s.pairs_above_threshold, s.merges, s.refused, s.clusters
    );
    for r in &s.rules {
        println!(
            "  rule {:<22} records {:>9} blocks {:>8} oversized {:>5} largest {:>6} new pairs {:>9}",
            r.rule, r.records, r.blocks, r.oversized_blocks, r.largest_block, r.pairs
        );
    }
    let m = &result.model;
    println!(
        "model: prior {:.3e}  family prior {:.3}  training {:?}",
        m.prior, m.family_prior, m.training
    );
    if args.show_model {
        for family in [false, true] {
            println!("{} model:", if family { "family" } else { "general" });
            for lw in m.describe(family) {
                println!(
                    "  {:<36} m {:>9.5} u {:>10.3e} {:>+7.2} bits {}",
                    lw.code,
                    lw.m,
                    lw.u,
                    lw.bits,
                    lw.strength.code()
                );
            }
        }
    }
    println!("stage times (s; * = inside link()):");
    println!("  read      {:>7.3}", t_read.as_secs_f64());
    println!("  prepare   {:>7.3}", t_prepare.as_secs_f64());
    for (stage, d) in &s.timings {
        println!(
            "  {:<9} {:>7.3}",
            format!("{}*", stage.code()),
            d.as_secs_f64()
        );
    }
    println!("  write     {:>7.3}", t_write.as_secs_f64());
    println!("  total     {:>7.3}", total.as_secs_f64());
    println!("peak RSS {:.0} MB", peak_rss_mb());
    Ok(())
}
