//! Reading an organisation's list file (DESIGN.md §3 A, issue 3 item 2) into typed rows with a
//! per-row report: every row is accepted (possibly with warnings) or rejected with its reason
//! and row number, and rows in = accepted + rejected. No database or web dependency.

pub mod header;
pub mod record;
pub mod source;

use std::path::Path;

use rayon::prelude::*;
use rustc_hash::FxHashSet;

pub use header::{Column, ColumnMapping, Field};
pub use record::{CleanRecord, Gender, InputRecord, Reject, Warning, map_row, validate};
pub use source::{Encoding, FileFormat, RawRow, Source, from_bytes, open};

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("the file has no header row")]
    Empty,
    #[error("the header row cannot be read: {0}")]
    Header(String),
    #[error("the workbook cannot be read: {0}")]
    Xlsx(String),
    #[error(
        "no column is recognised (expected e.g. national_code, first_name, last_name, or کد ملی، نام، نام خانوادگی)"
    )]
    NoKnownColumns,
}

impl IngestError {
    /// A stable code for translation.
    pub fn code(&self) -> &'static str {
        match self {
            IngestError::Io(..) => "ingest.io",
            IngestError::Empty => "ingest.empty",
            IngestError::Header(_) => "ingest.header",
            IngestError::Xlsx(_) => "ingest.xlsx",
            IngestError::NoKnownColumns => "ingest.no_known_columns",
        }
    }
}

/// The outcome of reading a whole file.
#[derive(Debug)]
pub struct ReadReport {
    pub format: FileFormat,
    pub mapping: ColumnMapping,
    pub accepted: Vec<(CleanRecord, Vec<Warning>)>,
    pub rejected: Vec<Reject>,
}

impl ReadReport {
    pub fn rows_in(&self) -> usize {
        self.accepted.len() + self.rejected.len()
    }

    pub fn rows_with_warnings(&self) -> usize {
        self.accepted.iter().filter(|(_, w)| !w.is_empty()).count()
    }
}

/// Rows typed in parallel at a time.
const PARALLEL_CHUNK: usize = 16_384;

/// The rows of one chunk of a file, typed: accepted (with warnings) and rejected, in file order.
#[derive(Debug, Default)]
pub struct Chunk {
    pub accepted: Vec<(CleanRecord, Vec<Warning>)>,
    pub rejected: Vec<Reject>,
}

/// An opened source whose header is recognised, read a chunk at a time (so a caller can write
/// one chunk while the next is read).
pub struct ChunkReader {
    pub format: FileFormat,
    pub mapping: ColumnMapping,
    rows: Box<dyn Iterator<Item = RawRow> + Send>,
    seen_ids: FxHashSet<String>,
    read: u64,
}

impl ChunkReader {
    pub fn new(source: Source) -> Result<ChunkReader, IngestError> {
        let mapping = ColumnMapping::from_headers(source.headers);
        if !mapping
            .columns
            .iter()
            .any(|c| matches!(c, Column::Field(_)))
        {
            return Err(IngestError::NoKnownColumns);
        }
        Ok(ChunkReader {
            format: source.format,
            mapping,
            rows: source.rows,
            seen_ids: FxHashSet::default(),
            read: 0,
        })
    }

    /// Rows read so far.
    pub fn rows_read(&self) -> u64 {
        self.read
    }

    /// The next [`PARALLEL_CHUNK`] rows, parsed in file order and typed in parallel (typing —
    /// normalising names, checking codes and dates — is most of the work); `None` at the end.
    /// A `source_id` the file already had is rejected as a duplicate.
    pub fn next_chunk(&mut self) -> Option<Chunk> {
        let raw: Vec<RawRow> = self.rows.by_ref().take(PARALLEL_CHUNK).collect();
        if raw.is_empty() {
            return None;
        }
        self.read += raw.len() as u64;
        let mapping = &self.mapping;
        let typed: Vec<_> = raw
            .into_par_iter()
            .map(|raw| map_row(mapping, raw).and_then(validate))
            .collect();
        let has_ids = self.mapping.has(Field::SourceId);
        let mut chunk = Chunk {
            accepted: Vec::with_capacity(typed.len()),
            rejected: Vec::new(),
        };
        for outcome in typed {
            match outcome {
                Ok((rec, warnings)) => {
                    if has_ids && !self.seen_ids.insert(rec.source_id.clone()) {
                        chunk.rejected.push(Reject {
                            row: rec.row,
                            code: "source_id.duplicate",
                            detail: rec.source_id,
                        });
                    } else {
                        chunk.accepted.push((rec, warnings));
                    }
                }
                Err(reject) => chunk.rejected.push(reject),
            }
        }
        Some(chunk)
    }
}

/// Reads and validates every row of an opened source. `progress` is called every
/// [`PARALLEL_CHUNK`] rows.
pub fn read_source(
    source: Source,
    mut progress: impl FnMut(u64),
) -> Result<ReadReport, IngestError> {
    let mut reader = ChunkReader::new(source)?;
    // Accepted rows a chunk at a time, joined once at the end: a growing vector of a million
    // records would copy them over and over as it doubles.
    let mut accepted_chunks = Vec::new();
    let mut rejected = Vec::new();
    loop {
        progress(reader.rows_read());
        let Some(chunk) = reader.next_chunk() else {
            break;
        };
        accepted_chunks.push(chunk.accepted);
        rejected.extend(chunk.rejected);
    }
    let mut accepted = Vec::with_capacity(accepted_chunks.iter().map(Vec::len).sum());
    for chunk in accepted_chunks {
        accepted.extend(chunk);
    }
    Ok(ReadReport {
        format: reader.format,
        mapping: reader.mapping,
        accepted,
        rejected,
    })
}

/// Opens, reads and validates a file.
pub fn read_all(path: &Path, progress: impl FnMut(u64)) -> Result<ReadReport, IngestError> {
    read_source(open(path)?, progress)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rows_in_equals_accepted_plus_rejected() {
        let csv = "source_id,national_code,first_name,last_name\n1,0010350829,زهرا,احمدی\n1,,مریم,کریمی\n2,,,\n3,\"broken,x\n";
        let r = read_source(from_bytes(csv.as_bytes().to_vec()).unwrap(), |_| {}).unwrap();
        assert_eq!(r.rows_in(), r.accepted.len() + r.rejected.len());
        assert_eq!(r.accepted.len(), 1);
        let codes: Vec<&str> = r.rejected.iter().map(|x| x.code).collect();
        assert!(
            codes.contains(&"source_id.duplicate") && codes.contains(&"identity.missing"),
            "{codes:?}"
        );
    }

    #[test]
    fn unknown_columns_only_is_an_error() {
        let e = read_source(from_bytes(b"a,b\n1,2\n".to_vec()).unwrap(), |_| {}).unwrap_err();
        assert_eq!(e.code(), "ingest.no_known_columns");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        #[test]
        fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..400)) {
            let mut bytes = b"national_code,first_name,last_name,birth_date,phone\n".to_vec();
            bytes.extend(body);
            let source = from_bytes(bytes).unwrap();
            let r = read_source(source, |_| {}).unwrap();
            prop_assert_eq!(r.rows_in(), r.accepted.len() + r.rejected.len());
        }

        #[test]
        fn arbitrary_text_rows_never_panic(cells in prop::collection::vec(".{0,20}", 5)) {
            let m = ColumnMapping::from_headers(["national_code", "first_name", "full_name", "birth_date", "gender"].map(String::from).to_vec());
            let _ = map_row(&m, RawRow { row: 2, cells: Ok(cells) }).and_then(validate);
        }
    }
}
