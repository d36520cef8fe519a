//! Reading an organisation's list file (DESIGN.md §3 A, issue 3 item 2) into typed rows with a
//! per-row report: every row is accepted (possibly with warnings) or rejected with its reason
//! and row number, and rows in = accepted + rejected. No database or web dependency.

pub mod facts;
pub mod guard;
pub mod header;
pub mod record;
pub mod source;

use std::path::Path;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

pub use facts::RowFacts;
pub use guard::formula_safe;
pub use header::{Column, ColumnMapping, Field};
pub use record::{
    CleanRecord, Gender, InputRecord, Reject, Warning, map_row, skip_reason, validate,
};
pub use source::{
    Encoding, FileFormat, Limits, RawRow, Rows, Source, from_bytes, from_bytes_with, open,
    open_with, sheet_rows,
};

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
    #[error(
        "this file is not a spreadsheet (a picture, a document or another kind of file): save the list as .xlsx or .csv"
    )]
    NotASpreadsheet,
    #[error(
        "this is an old Excel (.xls) or a password-protected workbook: save it as .xlsx without a password"
    )]
    LegacyWorkbook,
    #[error("the text encoding cannot be read: {0}")]
    Encoding(String),
    #[error("the file is too large to read: {0}")]
    TooLarge(String),
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
            IngestError::NotASpreadsheet => "ingest.not_spreadsheet",
            IngestError::LegacyWorkbook => "ingest.legacy_workbook",
            IngestError::Encoding(_) => "ingest.encoding",
            IngestError::TooLarge(_) => "ingest.too_large",
        }
    }
}

/// Something about the whole file the report says (a stable code).
pub const NOTICE_NO_ID_COLUMN: &str = "source_id.no_column";

/// The outcome of reading a whole file: rows in = accepted + rejected + skipped.
#[derive(Debug)]
pub struct ReadReport {
    pub format: FileFormat,
    pub mapping: ColumnMapping,
    pub accepted: Vec<(CleanRecord, Vec<Warning>)>,
    pub rejected: Vec<Reject>,
    /// Rows that are not persons (totals, footers, repeated headers), with the reason.
    pub skipped: Vec<Reject>,
    /// Notices about the whole file (e.g. [`NOTICE_NO_ID_COLUMN`]).
    pub notices: Vec<&'static str>,
}

impl ReadReport {
    pub fn rows_in(&self) -> usize {
        self.accepted.len() + self.rejected.len() + self.skipped.len()
    }

    pub fn rows_with_warnings(&self) -> usize {
        self.accepted.iter().filter(|(_, w)| !w.is_empty()).count()
    }
}

/// Rows typed in parallel at a time.
const PARALLEL_CHUNK: usize = 16_384;

/// The rows of one chunk of a file, typed: accepted (with warnings), rejected and skipped, in
/// file order.
#[derive(Debug, Default)]
pub struct Chunk {
    pub accepted: Vec<(CleanRecord, Vec<Warning>)>,
    pub rejected: Vec<Reject>,
    pub skipped: Vec<Reject>,
}

/// An opened source whose header is recognised, read a chunk at a time (so a caller can write
/// one chunk while the next is read).
pub struct ChunkReader {
    pub format: FileFormat,
    pub mapping: ColumnMapping,
    rows: source::Rows,
    seen_ids: FxHashSet<String>,
    /// How often each id made from a row (no id column) has come: a second identical row gets
    /// `#2`.
    derived_seen: FxHashMap<String, u32>,
    read: u64,
}

impl ChunkReader {
    pub fn new(source: Source) -> Result<ChunkReader, IngestError> {
        if source.mapping.known_fields() == 0 {
            return Err(IngestError::NoKnownColumns);
        }
        Ok(ChunkReader {
            format: source.format,
            mapping: source.mapping,
            rows: source.rows,
            seen_ids: FxHashSet::default(),
            derived_seen: FxHashMap::default(),
            read: 0,
        })
    }

    /// Rows read so far.
    pub fn rows_read(&self) -> u64 {
        self.read
    }

    /// Notices about the whole file: no id column (rows are then found again on re-import by
    /// national code with name and relation, see [`record::validate`]).
    pub fn notices(&self) -> Vec<&'static str> {
        if self.mapping.has(Field::SourceId) {
            Vec::new()
        } else {
            vec![NOTICE_NO_ID_COLUMN]
        }
    }

    /// The next [`PARALLEL_CHUNK`] rows, parsed in file order and typed in parallel (typing —
    /// normalising names, checking codes and dates — is most of the work); `None` at the end.
    /// A `source_id` the file already had is rejected as a duplicate. An error ends the file.
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>, IngestError> {
        let mut raw = Vec::with_capacity(1024);
        for r in self.rows.by_ref().take(PARALLEL_CHUNK) {
            raw.push(r?);
        }
        if raw.is_empty() {
            return Ok(None);
        }
        self.read += raw.len() as u64;
        let mapping = &self.mapping;
        let typed: Vec<_> = raw
            .into_par_iter()
            .map(|raw| match skip_reason(mapping, &raw) {
                Some(skip) => Err(Ok(skip)),
                None => map_row(mapping, raw).and_then(validate).map_err(Err),
            })
            .collect();
        let has_ids = self.mapping.has(Field::SourceId);
        let mut chunk = Chunk {
            accepted: Vec::with_capacity(typed.len()),
            rejected: Vec::new(),
            skipped: Vec::new(),
        };
        for outcome in typed {
            match outcome {
                Ok((mut rec, warnings)) => {
                    if rec.id_derived {
                        let n = self.derived_seen.entry(rec.source_id.clone()).or_insert(0);
                        *n += 1;
                        if *n > 1 {
                            rec.source_id = format!("{}#{n}", rec.source_id);
                        }
                        chunk.accepted.push((rec, warnings));
                    } else if has_ids && !self.seen_ids.insert(rec.source_id.clone()) {
                        chunk.rejected.push(Reject {
                            row: rec.row,
                            code: "source_id.duplicate",
                            detail: rec.source_id,
                        });
                    } else {
                        chunk.accepted.push((rec, warnings));
                    }
                }
                Err(Ok(skip)) => chunk.skipped.push(skip),
                Err(Err(reject)) => chunk.rejected.push(reject),
            }
        }
        Ok(Some(chunk))
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
    let mut skipped = Vec::new();
    loop {
        progress(reader.rows_read());
        let Some(chunk) = reader.next_chunk()? else {
            break;
        };
        accepted_chunks.push(chunk.accepted);
        rejected.extend(chunk.rejected);
        skipped.extend(chunk.skipped);
    }
    let mut accepted = Vec::with_capacity(accepted_chunks.iter().map(Vec::len).sum());
    for chunk in accepted_chunks {
        accepted.extend(chunk);
    }
    Ok(ReadReport {
        format: reader.format,
        notices: reader.notices(),
        mapping: reader.mapping,
        accepted,
        rejected,
        skipped,
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
            if let Ok(source) = from_bytes(bytes)
                && let Ok(r) = read_source(source, |_| {})
            {
                prop_assert_eq!(r.rows_in(), r.accepted.len() + r.rejected.len() + r.skipped.len());
            }
        }

        #[test]
        fn arbitrary_text_rows_never_panic(cells in prop::collection::vec(".{0,20}", 5)) {
            let m = ColumnMapping::from_headers(["national_code", "first_name", "full_name", "birth_date", "gender"].map(String::from).to_vec());
            let raw = RawRow { row: 2, cells: Ok(cells), formula: true };
            let _ = skip_reason(&m, &raw);
            let _ = map_row(&m, raw).and_then(validate);
        }
    }
}
