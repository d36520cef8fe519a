//! `hamdeli link`: deduplicate organisations' list files without a database. Every row that can
//! be read gets exactly one line in `clusters.csv`; the others go to the rejects file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

use hamdeli_ingest::{
    ColumnMapping, Field as Column, InputRecord, Limits, RawRow, Reject, formula_safe, map_row,
    skip_reason,
};
use hamdeli_link::{Field, LinkOptions, RawRecord, RecordSet};

#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub path: PathBuf,
}

impl std::str::FromStr for Input {
    type Err = String;
    fn from_str(s: &str) -> Result<Input, String> {
        let (name, path) = s.split_once('=').ok_or("expected NAME=PATH")?;
        if name.is_empty() || path.is_empty() {
            return Err("expected NAME=PATH".into());
        }
        Ok(Input {
            name: name.to_owned(),
            path: PathBuf::from(path),
        })
    }
}

pub struct Rejected {
    pub source: String,
    pub row: u64,
    pub reason: String,
}

pub struct Loaded {
    pub set: RecordSet,
    /// (input index, source id) per record.
    pub ids: Vec<(u16, String)>,
    pub rejects: Vec<Rejected>,
}

fn field(rec: &InputRecord, f: Column) -> Option<&str> {
    rec.get(f)
}

fn raw_of(rec: &InputRecord) -> RawRecord<'_> {
    RawRecord {
        national_code: field(rec, Column::NationalCode),
        first_name: field(rec, Column::FirstName),
        last_name: field(rec, Column::LastName),
        full_name: field(rec, Column::FullName),
        father_name: field(rec, Column::FatherName),
        birth_date: field(rec, Column::BirthDate),
        gender: field(rec, Column::Gender),
        phone: field(rec, Column::Phone),
        province: field(rec, Column::Province),
        county: field(rec, Column::County),
    }
}

/// What the reader thread hands over: an input's column mapping, then its rows in chunks.
enum Read {
    Opened(usize, ColumnMapping),
    Rows(usize, Vec<RawRow>),
}

/// Reads every input into the record set, a chunk at a time (rows that cannot be read become
/// rejects; a repeated source id in one input is a reject too). One thread splits the files
/// into rows while the chunks it already split are mapped to fields (in parallel) and added to
/// the set; records keep the file order.
pub fn load(inputs: &[Input], progress: &dyn Fn(&str, u64)) -> Result<Loaded> {
    use rayon::prelude::*;
    const CHUNK: usize = 100_000;
    let mut loaded = Loaded {
        set: RecordSet::new(),
        ids: Vec::new(),
        rejects: Vec::new(),
    };
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Read>>(2);
        let reader = scope.spawn(move || {
            for (k, input) in inputs.iter().enumerate() {
                let source = match hamdeli_ingest::open_with(&input.path, &Limits::LINKAGE)
                    .with_context(|| format!("reading {}", input.path.display()))
                {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                if tx.send(Ok(Read::Opened(k, source.mapping))).is_err() {
                    return;
                }
                let mut rows = source.rows;
                loop {
                    let batch: Result<Vec<RawRow>, _> = rows.by_ref().take(CHUNK).collect();
                    let batch =
                        match batch.with_context(|| format!("reading {}", input.path.display())) {
                            Ok(b) => b,
                            Err(e) => {
                                let _ = tx.send(Err(e));
                                return;
                            }
                        };
                    if batch.is_empty() || tx.send(Ok(Read::Rows(k, batch))).is_err() {
                        break;
                    }
                }
            }
        });
        let mut mapping = ColumnMapping::from_headers(Vec::new());
        let mut seen: rustc_hash::FxHashSet<String> = rustc_hash::FxHashSet::default();
        let mut n = 0u64;
        for msg in rx {
            let (k, batch) = match msg? {
                Read::Opened(k, m) => {
                    mapping = m;
                    seen.clear();
                    n = 0;
                    progress(&inputs[k].name, 0);
                    continue;
                }
                Read::Rows(k, batch) => (k, batch),
            };
            let input = &inputs[k];
            n += batch.len() as u64;
            // Totals, footers and repeated headers are not persons: they go to the rejects.
            let mapped: Vec<Result<InputRecord, Reject>> = batch
                .into_par_iter()
                .map(|raw| match skip_reason(&mapping, &raw) {
                    Some(skip) => Err(Reject {
                        detail: format!("skipped {}", skip.detail),
                        ..skip
                    }),
                    None => map_row(&mapping, raw),
                })
                .collect();
            let mut chunk: Vec<InputRecord> = Vec::with_capacity(mapped.len());
            for rec in mapped {
                let rec = match rec {
                    Ok(r) => r,
                    Err(reject) => {
                        loaded.rejects.push(Rejected {
                            source: input.name.clone(),
                            row: reject.row,
                            reason: format!("{}: {}", reject.code, reject.detail),
                        });
                        continue;
                    }
                };
                let id = field(&rec, Column::SourceId)
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("row-{}", rec.row));
                if !seen.insert(id.clone()) {
                    loaded.rejects.push(Rejected {
                        source: input.name.clone(),
                        row: rec.row,
                        reason: format!("source_id.duplicate: {id}"),
                    });
                    continue;
                }
                loaded.ids.push((k as u16, id));
                chunk.push(rec);
            }
            let raws: Vec<RawRecord<'_>> = chunk.iter().map(raw_of).collect();
            let relations: Vec<Option<&str>> =
                chunk.iter().map(|r| field(r, Column::Relation)).collect();
            loaded.set.extend_raw_related(k as u16, &raws, &relations);
            progress(&input.name, n);
        }
        reader
            .join()
            .map_err(|_| anyhow::anyhow!("the reader thread panicked"))?;
        Ok(())
    })?;
    Ok(loaded)
}

/// A CSV field: guarded against formula injection (the file is opened in spreadsheets), then
/// quoted when it needs to be.
fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    let s = formula_safe(s);
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s
    }
}

pub struct LinkArgs {
    pub inputs: Vec<Input>,
    pub out: PathBuf,
    pub threshold: f64,
    pub pairs: Option<PathBuf>,
    pub rejects: Option<PathBuf>,
}

fn writer(path: &Path) -> Result<std::io::BufWriter<std::fs::File>> {
    Ok(std::io::BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(path).with_context(|| format!("writing {}", path.display()))?,
    ))
}

pub fn run(args: &LinkArgs) -> Result<()> {
    let t0 = Instant::now();
    let say = |what: &str| eprintln!("[{:>6.2} s] {what}", t0.elapsed().as_secs_f64());
    let loaded = load(&args.inputs, &|name, n| {
        eprint!(
            "\r[{:>6.2} s] reading {name}: {n} rows   ",
            t0.elapsed().as_secs_f64()
        )
    })?;
    eprintln!();
    say(&format!(
        "read {} records, {} rejected",
        loaded.ids.len(),
        loaded.rejects.len()
    ));
    let options = LinkOptions {
        threshold: args.threshold,
        ..Default::default()
    };
    let last_stage = std::cell::Cell::new(None);
    let result = hamdeli_link::link(&loaded.set, &options, &|stage, _done, _total| {
        if last_stage.get() != Some(stage) {
            last_stage.set(Some(stage));
            say(stage.code());
        }
    });
    let mut w = writer(&args.out)?;
    writeln!(w, "source,source_id,cluster_id")?;
    for (i, (src, id)) in loaded.ids.iter().enumerate() {
        writeln!(
            w,
            "{},{},{}",
            csv_field(&args.inputs[*src as usize].name),
            csv_field(id),
            result.cluster_of[i]
        )?;
    }
    w.flush()?;
    let clusters = result.cluster_of.iter().max().map_or(0, |m| m + 1);
    say(&format!(
        "{} records in {clusters} clusters written to {} ({} candidate pairs, {} merges, {} refused for conflicting national codes)",
        loaded.ids.len(),
        args.out.display(),
        result.stats.candidate_pairs,
        result.stats.merges,
        result.stats.refused
    ));
    if let Some(path) = &args.pairs {
        let mut w = writer(path)?;
        let fields: Vec<&str> = Field::ALL.iter().map(|f| f.code()).collect();
        writeln!(
            w,
            "source_a,source_id_a,source_b,source_id_b,probability,decision,{}",
            fields.join(",")
        )?;
        for p in &result.pairs {
            let (sa, ia) = &loaded.ids[p.a as usize];
            let (sb, ib) = &loaded.ids[p.b as usize];
            writeln!(
                w,
                "{},{},{},{},{:.6},{},{}",
                csv_field(&args.inputs[*sa as usize].name),
                csv_field(ia),
                csv_field(&args.inputs[*sb as usize].name),
                csv_field(ib),
                p.probability,
                p.decision.code(),
                p.evidence.codes().join(",")
            )?;
        }
        w.flush()?;
        say(&format!(
            "{} scored pairs written to {}",
            result.pairs.len(),
            path.display()
        ));
    }
    if let Some(path) = &args.rejects {
        let mut w = writer(path)?;
        writeln!(w, "source,row,reason")?;
        for r in &loaded.rejects {
            writeln!(
                w,
                "{},{},{}",
                csv_field(&r.source),
                r.row,
                csv_field(&r.reason)
            )?;
        }
        w.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_never_start_a_formula() {
        assert_eq!(
            csv_field("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        assert_eq!(csv_field("+98912"), "'+98912");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("@x"), "'@x");
        assert_eq!(csv_field("\tx"), "'\tx");
        assert_eq!(csv_field("\rx"), "\"'\rx\"");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("101"), "101");
    }
}
