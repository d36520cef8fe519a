//! Opening a list file: XLSX (its first visible worksheet, cells streamed) or CSV in UTF-8,
//! UTF-8 with BOM, UTF-16 with BOM or Windows-1256 (detected honestly: bytes that are none of
//! these are refused), with `,`, `;` or tab as the delimiter. A file that is not a spreadsheet
//! at all (a picture, a PDF, an archive) is refused as such. Every reader is bounded
//! ([`Limits`]): a sheet declaring or holding more rows, columns or cells than the limits, a zip
//! part that unpacks too large, an over-long CSV field or row are refused before they are
//! read into memory. The header is found below title rows ([`crate::header::locate_header`]);
//! rows come out as cells of text; a row that cannot be split is still a row, with the reason.

use std::io::{Cursor, Read};
use std::path::Path;
use std::sync::mpsc;

use calamine::{DataRef, Reader, SheetType, SheetVisible, Xlsx};

use crate::IngestError;
use crate::header::{ColumnMapping, HEADER_SCAN_ROWS, locate_header};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    Windows1256,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "format", rename_all = "snake_case")]
pub enum FileFormat {
    Csv { encoding: Encoding, delimiter: char },
    Xlsx,
}

impl FileFormat {
    pub fn name(&self) -> &'static str {
        match self {
            FileFormat::Csv { .. } => "csv",
            FileFormat::Xlsx => "xlsx",
        }
    }
}

/// How much a file may hold. Past a limit the file is refused with the reason, before the
/// excess is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The file itself.
    pub max_file_bytes: u64,
    /// Rows of a CSV file or a sheet (declared or real).
    pub max_rows: u64,
    /// Columns of a row (declared or real).
    pub max_columns: u64,
    /// Cells of a sheet: its declared rows × columns, and its filled cells.
    pub max_cells: u64,
    /// One CSV field, and one CSV record.
    pub max_field_bytes: usize,
    pub max_record_bytes: usize,
    /// The unpacked size of a workbook part read whole into memory (shared strings, styles,
    /// the workbook) and of a worksheet (streamed).
    pub max_part_bytes: u64,
    pub max_sheet_bytes: u64,
}

impl Limits {
    /// For imports into the registry (one list of up to a million rows).
    pub const IMPORT: Limits = Limits {
        max_file_bytes: 2 << 30,
        max_rows: 1_100_000,
        max_columns: 300,
        max_cells: 40_000_000,
        max_field_bytes: 32 << 10,
        max_record_bytes: 1 << 20,
        max_part_bytes: 256 << 20,
        max_sheet_bytes: 2 << 30,
    };

    /// For `hamdeli link`, which holds several lists of millions of rows by design.
    pub const LINKAGE: Limits = Limits {
        max_file_bytes: 16 << 30,
        max_rows: 50_000_000,
        max_cells: 1_000_000_000,
        ..Limits::IMPORT
    };

    /// For a bulk load from the command line (`hamdeli import --defer-link`, the national
    /// demo): a national list of millions of rows, written while it is read. Uploads through
    /// the web keep [`Limits::IMPORT`].
    pub const BULK: Limits = Limits::LINKAGE;
}

impl Default for Limits {
    fn default() -> Self {
        Limits::IMPORT
    }
}

/// One data row: its number as a spreadsheet shows it and its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    pub row: u64,
    pub cells: Result<Vec<String>, String>,
    /// Whether a cell of the row is a formula (a totals row's sums are).
    pub formula: bool,
}

/// The rows below the header; an error ends the file (nothing after it is read).
pub type Rows = Box<dyn Iterator<Item = Result<RawRow, IngestError>> + Send>;

pub struct Source {
    pub format: FileFormat,
    pub mapping: ColumnMapping,
    /// The header's (last) row number; data rows come after it.
    pub header_row: u64,
    pub rows: Rows,
}

pub fn open(path: &Path) -> Result<Source, IngestError> {
    open_with(path, &Limits::IMPORT)
}

pub fn open_with(path: &Path, limits: &Limits) -> Result<Source, IngestError> {
    let io = |e| IngestError::Io(path.display().to_string(), e);
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > limits.max_file_bytes {
        return Err(IngestError::TooLarge(format!(
            "the file has {len} bytes (at most {})",
            limits.max_file_bytes
        )));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    from_bytes_with(bytes, limits)
}

pub fn from_bytes(bytes: Vec<u8>) -> Result<Source, IngestError> {
    from_bytes_with(bytes, &Limits::IMPORT)
}

pub fn from_bytes_with(bytes: Vec<u8>, limits: &Limits) -> Result<Source, IngestError> {
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(IngestError::TooLarge(format!(
            "the file has {} bytes (at most {})",
            bytes.len(),
            limits.max_file_bytes
        )));
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(IngestError::Empty);
    }
    match sniff(&bytes) {
        Sniffed::Zip => xlsx(bytes, limits),
        Sniffed::Cfb => Err(IngestError::LegacyWorkbook),
        Sniffed::Binary => Err(IngestError::NotASpreadsheet),
        Sniffed::Text => csv_source(bytes, limits),
    }
}

enum Sniffed {
    Zip,
    /// An OLE compound file: an old .xls workbook or a password-protected .xlsx.
    Cfb,
    Binary,
    Text,
}

/// What the first bytes say the file is.
fn sniff(bytes: &[u8]) -> Sniffed {
    const BINARY: [&[u8]; 14] = [
        b"\x89PNG",
        b"\xFF\xD8\xFF",
        b"GIF87a",
        b"GIF89a",
        b"%PDF",
        b"RIFF",
        b"II*\x00",
        b"MM\x00*",
        b"\x1F\x8B",
        b"7z\xBC\xAF\x27\x1C",
        b"Rar!",
        b"\x7FELF",
        b"MZ\x90\x00",
        b"\x00\x00\x01\x00",
    ];
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Sniffed::Zip;
    }
    if bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        return Sniffed::Cfb;
    }
    if BINARY.iter().any(|m| bytes.starts_with(m)) || bytes.get(4..8).is_some_and(|b| b == b"ftyp")
    {
        return Sniffed::Binary;
    }
    Sniffed::Text
}

/// Arabic-script letters, marks and ZWNJ/ZWJ.
fn arabic_script(c: char) -> bool {
    matches!(c, '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}' | '\u{200C}' | '\u{200D}')
}

/// Control characters other than tab, line feed and carriage return: text has almost none.
fn control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Whether text decoded as Windows-1256 reads as Persian or Arabic text: almost no control
/// characters, and most characters outside ASCII in the Arabic script (Windows-1256 decodes any
/// byte; random bytes give controls and a mix of Latin letters).
fn reads_as_arabic_script(text: &str) -> bool {
    let (mut total, mut controls, mut non_ascii, mut arabic) = (0usize, 0usize, 0usize, 0usize);
    for c in text.chars().take(4 << 20) {
        total += 1;
        if control(c) {
            controls += 1;
        }
        if !c.is_ascii() {
            non_ascii += 1;
            if arabic_script(c) {
                arabic += 1;
            }
        }
    }
    total > 0 && controls * 200 <= total && arabic > 0 && arabic * 10 >= non_ascii * 7
}

/// The text of a CSV file and its encoding, or why it is refused.
fn decode(bytes: Vec<u8>) -> Result<(String, Encoding), IngestError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return match std::str::from_utf8(rest) {
            Ok(s) => Ok((s.to_owned(), Encoding::Utf8Bom)),
            Err(e) => Err(IngestError::Encoding(format!(
                "the file says it is UTF-8 (it starts with a byte-order mark) but byte {} is not",
                e.valid_up_to() + 3
            ))),
        };
    }
    for (bom, encoding, label) in [
        (&b"\xFF\xFE"[..], encoding_rs::UTF_16LE, Encoding::Utf16Le),
        (&b"\xFE\xFF"[..], encoding_rs::UTF_16BE, Encoding::Utf16Be),
    ] {
        if bytes.starts_with(bom) {
            let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[2..]);
            let text = text.into_owned();
            let bad = text
                .chars()
                .filter(|c| *c == '\u{FFFD}' || control(*c))
                .count();
            if had_errors && bad * 100 > text.chars().count().max(1) {
                return Err(IngestError::Encoding(
                    "the file starts as UTF-16 text but much of it is not".into(),
                ));
            }
            return Ok((text, label));
        }
    }
    if bytes.contains(&0) {
        // Text files have no NUL bytes (UTF-16 without a byte-order mark is not taken).
        return Err(IngestError::NotASpreadsheet);
    }
    let bytes = match String::from_utf8(bytes) {
        Ok(s) => return Ok((s, Encoding::Utf8)),
        Err(e) => e.into_bytes(),
    };
    // Not UTF-8: Windows-1256 only when it reads as Persian text; UTF-8 with a few damaged bytes
    // is refused rather than misread.
    let lossy = String::from_utf8_lossy(&bytes[..bytes.len().min(4 << 20)]);
    let damaged = lossy.chars().filter(|c| *c == '\u{FFFD}').count();
    let multibyte = lossy
        .chars()
        .filter(|c| !c.is_ascii() && *c != '\u{FFFD}')
        .count();
    if multibyte >= 20 * damaged.max(1) {
        let at = std::str::from_utf8(&bytes)
            .err()
            .map(|e| e.valid_up_to())
            .unwrap_or(0);
        return Err(IngestError::Encoding(format!(
            "the file is UTF-8 text with damaged bytes (first at byte {at})"
        )));
    }
    let (text, _, _) = encoding_rs::WINDOWS_1256.decode(&bytes);
    if reads_as_arabic_script(&text) {
        return Ok((text.into_owned(), Encoding::Windows1256));
    }
    if text.chars().take(1 << 16).filter(|c| control(*c)).count() * 50
        > text.chars().take(1 << 16).count()
    {
        return Err(IngestError::NotASpreadsheet);
    }
    Err(IngestError::Encoding(
        "the text is neither UTF-8, UTF-16 nor Windows-1256 (Persian)".into(),
    ))
}

/// The delimiter used most over the first lines (a title line above the header may have none).
fn detect_delimiter(text: &str) -> u8 {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(HEADER_SCAN_ROWS)
        .collect();
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| {
            let n: usize = lines
                .iter()
                .map(|l| l.bytes().filter(|b| b == d).count())
                .sum();
            (n, *d == b',')
        })
        .unwrap_or(b',')
}

/// Finds the header among the first rows and hands on the rest: rows above the header (titles)
/// are dropped, rows below it come out as data. `first_rows` are the rows read so far (each
/// with its number and formula flag).
fn with_header(
    format: FileFormat,
    mut rows: Rows,
    default_header_row: u64,
) -> Result<Source, IngestError> {
    let mut head: Vec<RawRow> = Vec::new();
    while head.len() < HEADER_SCAN_ROWS + 1 {
        match rows.next() {
            Some(Ok(r)) => head.push(r),
            Some(Err(e)) => return Err(e),
            None => break,
        }
    }
    let texts: Vec<Vec<String>> = head
        .iter()
        .map(|r| r.cells.clone().unwrap_or_default())
        .collect();
    if texts.iter().all(|r| r.iter().all(|c| c.trim().is_empty())) {
        return Err(IngestError::Empty);
    }
    let (start, depth, mapping) = match locate_header(&texts) {
        Some(l) => (l.start, l.depth, l.mapping),
        None => {
            // No known header anywhere: the first row is taken as the header, to say so.
            let first = texts
                .iter()
                .position(|r| r.iter().any(|c| !c.trim().is_empty()))
                .unwrap_or(0);
            (first, 1, ColumnMapping::from_headers(texts[first].clone()))
        }
    };
    let header_row = head
        .get(start + depth - 1)
        .map(|r| r.row)
        .unwrap_or(default_header_row);
    let rest: Vec<Result<RawRow, IngestError>> =
        head.into_iter().skip(start + depth).map(Ok).collect();
    Ok(Source {
        format,
        mapping,
        header_row,
        rows: Box::new(rest.into_iter().chain(rows)),
    })
}

fn csv_source(bytes: Vec<u8>, limits: &Limits) -> Result<Source, IngestError> {
    let (text, encoding) = decode(bytes)?;
    let delimiter = detect_delimiter(&text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(Cursor::new(text.into_bytes()));
    let limits = *limits;
    let mut row = 0u64;
    let mut record = csv::StringRecord::new();
    let mut failed = false;
    let rows = std::iter::from_fn(move || {
        if failed {
            return None;
        }
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => return None,
                Ok(true) => {
                    // The reader skips blank lines: rows are numbered as records.
                    row += 1;
                    if row > limits.max_rows + HEADER_SCAN_ROWS as u64 {
                        failed = true;
                        return Some(Err(IngestError::TooLarge(format!(
                            "more than {} rows",
                            limits.max_rows
                        ))));
                    }
                    // Rows of empty cells between rows are not rows.
                    if record.iter().all(|c| c.trim().is_empty()) {
                        continue;
                    }
                    let cells = if record.len() as u64 > limits.max_columns {
                        Err(format!(
                            "{} cells (at most {})",
                            record.len(),
                            limits.max_columns
                        ))
                    } else if record.as_slice().len() > limits.max_record_bytes {
                        Err(format!(
                            "the row has {} bytes (at most {})",
                            record.as_slice().len(),
                            limits.max_record_bytes
                        ))
                    } else if let Some(long) =
                        record.iter().find(|c| c.len() > limits.max_field_bytes)
                    {
                        Err(format!(
                            "a cell has {} bytes (at most {})",
                            long.len(),
                            limits.max_field_bytes
                        ))
                    } else {
                        Ok(record.iter().map(str::to_owned).collect())
                    };
                    return Some(Ok(RawRow {
                        row,
                        cells,
                        formula: false,
                    }));
                }
                Err(e) => {
                    row += 1;
                    return Some(Ok(RawRow {
                        row,
                        cells: Err(e.to_string()),
                        formula: false,
                    }));
                }
            }
        }
    });
    with_header(
        FileFormat::Csv {
            encoding,
            delimiter: delimiter as char,
        },
        Box::new(rows),
        1,
    )
}

/// A cell as text: whole numbers without `.0` (national codes arrive as numbers), dates as ISO.
fn cell_text(cell: &DataRef<'_>) -> String {
    match cell {
        DataRef::Empty | DataRef::Error(_) => String::new(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => match hamdeli_text::from_excel_serial(d.as_f64()) {
            Ok(iso) => iso.to_string(),
            Err(_) => d.as_f64().to_string(),
        },
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
    }
}

/// Checks a workbook's zip before any part is unpacked: it is a workbook (it has
/// `xl/workbook.xml`), no part calamine reads whole unpacks past the limit (the zip reader stops
/// any part at its declared size, so the declared sizes bound what is read), and the shared
/// strings do not declare more strings than the part could hold (calamine reserves room for the
/// declared count).
fn check_zip(bytes: &[u8], limits: &Limits) -> Result<(), IngestError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| IngestError::Xlsx(format!("the zip cannot be read: {e}")))?;
    if zip.len() > 10_000 {
        return Err(IngestError::TooLarge(format!(
            "the workbook has {} parts",
            zip.len()
        )));
    }
    let mut workbook = false;
    let mut shared_strings = None;
    for i in 0..zip.len() {
        let part = zip
            .by_index_raw(i)
            .map_err(|e| IngestError::Xlsx(format!("the zip cannot be read: {e}")))?;
        let shown = part
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("#{i}"));
        let name = shown.to_ascii_lowercase();
        let size = part.size();
        if name.ends_with("workbook.xml") {
            workbook = true;
        }
        if !(name.ends_with(".xml") || name.ends_with(".rels")) {
            continue;
        }
        let limit = if name.contains("worksheets/") {
            limits.max_sheet_bytes
        } else {
            limits.max_part_bytes
        };
        if size > limit {
            return Err(IngestError::TooLarge(format!(
                "the part {shown} unpacks to {size} bytes (at most {limit})"
            )));
        }
        if name.ends_with("sharedstrings.xml") {
            shared_strings = Some((i, size));
        }
    }
    if !workbook {
        return Err(IngestError::NotASpreadsheet);
    }
    if let Some((i, size)) = shared_strings {
        let mut head = Vec::with_capacity(4096);
        zip.by_index(i)
            .map_err(|e| IngestError::Xlsx(format!("the zip cannot be read: {e}")))?
            .take(1 << 16)
            .read_to_end(&mut head)
            .map_err(|e| IngestError::Xlsx(format!("the shared strings cannot be read: {e}")))?;
        let declared = declared_count(&head, b"uniqueCount");
        // Each string takes at least `<si/>` (5 bytes) of the part.
        if declared.is_some_and(|n| n > size / 5 || n > limits.max_cells) {
            return Err(IngestError::TooLarge(format!(
                "the shared strings declare {} strings in {size} bytes",
                declared.unwrap_or(0)
            )));
        }
    }
    Ok(())
}

/// The largest number given to an attribute `name="…"` in the start of an XML part.
fn declared_count(xml: &[u8], name: &[u8]) -> Option<u64> {
    let mut best: Option<u64> = None;
    let mut at = 0;
    while let Some(pos) = xml[at..].windows(name.len()).position(|w| w == name) {
        let mut i = at + pos + name.len();
        while i < xml.len() && matches!(xml[i], b' ' | b'=' | b'"' | b'\'') {
            i += 1;
        }
        let digits: Vec<u8> = xml[i..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .copied()
            .collect();
        let n = if digits.is_empty() {
            None
        } else {
            // A number too long for u64 is as good as infinite.
            Some(
                std::str::from_utf8(&digits)
                    .ok()
                    .and_then(|s| s.parse::<u64>().ok())
                    .unwrap_or(u64::MAX),
            )
        };
        best = best.max(n);
        at = i.max(at + pos + 1);
    }
    best
}

/// Rows sent from the sheet reader's thread at a time.
const XLSX_BATCH: usize = 512;

fn xlsx(bytes: Vec<u8>, limits: &Limits) -> Result<Source, IngestError> {
    let rows = xlsx_rows(bytes, limits)?;
    with_header(FileFormat::Xlsx, rows, 1)
}

fn xlsx_rows(bytes: Vec<u8>, limits: &Limits) -> Result<Rows, IngestError> {
    check_zip(&bytes, limits)?;
    let (tx, rx) = mpsc::sync_channel::<Result<Vec<RawRow>, IngestError>>(4);
    let limits = *limits;
    std::thread::Builder::new()
        .name("xlsx-reader".into())
        .spawn(move || stream_sheet(bytes, &limits, &tx))
        .map_err(|e| IngestError::Xlsx(e.to_string()))?;
    Ok(Box::new(XlsxRows {
        rx,
        batch: Vec::new().into_iter(),
        done: false,
    }))
}

/// The filled rows of a workbook's first worksheet as text cells, without looking for a
/// header — for sheets other than registry lists (cooperatives, bank statements, reports' bulk
/// entry, indicator imports). The same guards as a list import: the file size, the zip checked
/// before any part is unpacked (no part past its limit, no shared-strings bomb), the declared
/// dimension refused before a cell is read, the real cells counted while streamed. Anything
/// that is not a zip workbook is `NotASpreadsheet` (or `LegacyWorkbook`).
pub fn sheet_rows(bytes: Vec<u8>, limits: &Limits) -> Result<Rows, IngestError> {
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(IngestError::TooLarge(format!(
            "the file has {} bytes (at most {})",
            bytes.len(),
            limits.max_file_bytes
        )));
    }
    match sniff(&bytes) {
        Sniffed::Zip => xlsx_rows(bytes, limits),
        Sniffed::Cfb => Err(IngestError::LegacyWorkbook),
        Sniffed::Binary | Sniffed::Text => Err(IngestError::NotASpreadsheet),
    }
}

/// The rows the sheet reader's thread sends, one at a time.
struct XlsxRows {
    rx: mpsc::Receiver<Result<Vec<RawRow>, IngestError>>,
    batch: std::vec::IntoIter<RawRow>,
    done: bool,
}

impl Iterator for XlsxRows {
    type Item = Result<RawRow, IngestError>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(r) = self.batch.next() {
                return Some(Ok(r));
            }
            if self.done {
                return None;
            }
            match self.rx.recv() {
                Ok(Ok(batch)) => self.batch = batch.into_iter(),
                Ok(Err(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Err(_) => {
                    self.done = true;
                    return None;
                }
            }
        }
    }
}

/// Reads the first visible worksheet cell by cell (no dense range: memory follows the filled
/// cells) and sends its rows in batches; stops when the receiver goes away. A sheet whose
/// declared dimension or whose real cells pass the limits is refused before (or as soon as)
/// they are read.
fn stream_sheet(
    bytes: Vec<u8>,
    limits: &Limits,
    tx: &mpsc::SyncSender<Result<Vec<RawRow>, IngestError>>,
) {
    if let Err(e) = read_sheet(bytes, limits, tx) {
        let _ = tx.send(Err(e));
    }
}

fn read_sheet(
    bytes: Vec<u8>,
    limits: &Limits,
    tx: &mpsc::SyncSender<Result<Vec<RawRow>, IngestError>>,
) -> Result<(), IngestError> {
    let xlsx_error = |e: calamine::XlsxError| IngestError::Xlsx(e.to_string());
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(xlsx_error)?;
    let sheets = book.sheets_metadata();
    let name = sheets
        .iter()
        .find(|s| s.typ == SheetType::WorkSheet && s.visible == SheetVisible::Visible)
        .or_else(|| sheets.iter().find(|s| s.typ == SheetType::WorkSheet))
        .map(|s| s.name.clone())
        .ok_or(IngestError::Empty)?;
    let mut cells = book.worksheet_cells_reader(&name).map_err(xlsx_error)?;
    let dim = cells.dimensions();
    let rows = u64::from(dim.end.0.saturating_sub(dim.start.0)) + 1;
    let cols = u64::from(dim.end.1.saturating_sub(dim.start.1)) + 1;
    if rows > limits.max_rows || cols > limits.max_columns || rows * cols > limits.max_cells {
        return Err(IngestError::TooLarge(format!(
            "the sheet declares {rows} rows × {cols} columns (at most {} rows, {} columns, {} cells)",
            limits.max_rows, limits.max_columns, limits.max_cells
        )));
    }
    let mut batch: Vec<RawRow> = Vec::with_capacity(XLSX_BATCH);
    let mut current: Option<(u32, Vec<String>, bool)> = None;
    let mut filled = 0u64;
    let flush = |row: (u32, Vec<String>, bool), batch: &mut Vec<RawRow>| {
        let (r, cells, formula) = row;
        if cells.iter().any(|c| !c.trim().is_empty()) || formula {
            batch.push(RawRow {
                row: u64::from(r) + 1,
                cells: Ok(cells),
                formula,
            });
        }
    };
    while let Some(cell) = cells
        .next_cell_with_formula_metadata()
        .map_err(xlsx_error)?
    {
        let (r, c) = cell.pos;
        let has_formula = cell.formula.is_some();
        if matches!(cell.value, DataRef::Empty) && !has_formula {
            continue;
        }
        if u64::from(r) >= limits.max_rows || u64::from(c) >= limits.max_columns {
            return Err(IngestError::TooLarge(format!(
                "the sheet has a cell at row {}, column {} (at most {} rows, {} columns)",
                u64::from(r) + 1,
                u64::from(c) + 1,
                limits.max_rows,
                limits.max_columns
            )));
        }
        filled += 1;
        if filled > limits.max_cells {
            return Err(IngestError::TooLarge(format!(
                "the sheet has more than {} filled cells",
                limits.max_cells
            )));
        }
        let text = cell_text(&cell.value);
        if text.len() > limits.max_field_bytes {
            return Err(IngestError::TooLarge(format!(
                "the cell at row {}, column {} has {} bytes (at most {})",
                u64::from(r) + 1,
                u64::from(c) + 1,
                text.len(),
                limits.max_field_bytes
            )));
        }
        match &current {
            Some((cur, _, _)) if *cur == r => {}
            Some((cur, _, _)) if *cur > r => {
                return Err(IngestError::Xlsx(format!(
                    "the sheet's rows are out of order (row {} after row {})",
                    r + 1,
                    cur + 1
                )));
            }
            _ => {
                if let Some(done) = current.take() {
                    flush(done, &mut batch);
                    if batch.len() >= XLSX_BATCH && tx.send(Ok(std::mem::take(&mut batch))).is_err()
                    {
                        return Ok(());
                    }
                }
                current = Some((r, Vec::new(), false));
            }
        }
        if let Some((_, row_cells, formula)) = current.as_mut() {
            let c = c as usize;
            if row_cells.len() <= c {
                row_cells.resize(c + 1, String::new());
            }
            row_cells[c] = text;
            *formula |= has_formula;
        }
    }
    if let Some(done) = current.take() {
        flush(done, &mut batch);
    }
    if !batch.is_empty() {
        let _ = tx.send(Ok(batch));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rows(s: Source) -> Vec<RawRow> {
        s.rows.map(|r| r.unwrap()).collect()
    }

    #[test]
    fn utf8_bom_and_semicolons() {
        let s = from_bytes(
            "\u{feff}کد ملی;نام\n0010350829;زهرا\n\n;مریم\n"
                .as_bytes()
                .to_vec(),
        )
        .unwrap();
        assert_eq!(
            s.format,
            FileFormat::Csv {
                encoding: Encoding::Utf8Bom,
                delimiter: ';'
            }
        );
        assert_eq!(s.mapping.headers, vec!["کد ملی", "نام"]);
        let r = rows(s);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].row, 3, "blank lines are not rows");
    }

    #[test]
    fn windows_1256_is_detected() {
        // Windows-1256 has only the Arabic yeh (ي): that is what such exports contain.
        let (bytes, _, _) = encoding_rs::WINDOWS_1256.encode("نام,نام خانوادگي\nفاطمه,كريمي\n");
        let s = from_bytes(bytes.into_owned()).unwrap();
        assert_eq!(
            s.format,
            FileFormat::Csv {
                encoding: Encoding::Windows1256,
                delimiter: ','
            }
        );
        assert_eq!(s.mapping.headers[1], "نام خانوادگي");
        assert_eq!(
            rows(s)[0].cells,
            Ok(vec!["فاطمه".to_owned(), "كريمي".to_owned()])
        );
    }

    #[test]
    fn utf16_with_a_bom_is_read_as_utf16() {
        let text = "کد ملی\tنام\n0010350829\tزهرا\n";
        for (bom, le) in [(&[0xFF, 0xFE], true), (&[0xFE, 0xFF], false)] {
            let mut bytes = bom.to_vec();
            for u in text.encode_utf16() {
                bytes.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
            }
            let s = from_bytes(bytes).unwrap();
            assert_eq!(
                s.format,
                FileFormat::Csv {
                    encoding: if le {
                        Encoding::Utf16Le
                    } else {
                        Encoding::Utf16Be
                    },
                    delimiter: '\t'
                }
            );
            assert_eq!(
                rows(s)[0].cells,
                Ok(vec!["0010350829".to_owned(), "زهرا".to_owned()])
            );
        }
    }

    #[test]
    fn damaged_utf8_and_other_encodings_are_refused() {
        // Persian UTF-8 with one byte cut: not read as Windows-1256 mojibake.
        let mut bytes = "کد ملی,نام,نام خانوادگی\n0010350829,زهرا,احمدی\n0084575948,مریم,کریمی\n"
            .as_bytes()
            .to_vec();
        bytes.insert(30, 0xD8);
        let e = from_bytes(bytes).err().unwrap();
        assert_eq!(e.code(), "ingest.encoding", "{e}");
        // Latin-1 (Windows-1252) French: not Persian.
        let (latin, _, _) =
            encoding_rs::WINDOWS_1252.encode("nom,prénom,âge\nDupré,Hélène,32\nCôté,Zoé,41\n");
        let e = from_bytes(latin.into_owned()).err().unwrap();
        assert_eq!(e.code(), "ingest.encoding", "{e}");
    }

    #[test]
    fn pictures_and_other_files_are_not_spreadsheets() {
        let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
        assert_eq!(
            from_bytes(png).err().unwrap().code(),
            "ingest.not_spreadsheet"
        );
        let jpeg = [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[0x10; 64]].concat();
        assert_eq!(
            from_bytes(jpeg).err().unwrap().code(),
            "ingest.not_spreadsheet"
        );
        let pdf = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
        assert_eq!(
            from_bytes(pdf).err().unwrap().code(),
            "ingest.not_spreadsheet"
        );
        // Random bytes with control characters: a binary file.
        let binary: Vec<u8> = (0..2000u32).map(|i| (i * 7919 % 251) as u8 | 1).collect();
        assert_eq!(
            from_bytes(binary).err().unwrap().code(),
            "ingest.not_spreadsheet"
        );
        // A zip that is not a workbook.
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file(
            "word/document.xml",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        std::io::Write::write_all(&mut zip, b"<w/>").unwrap();
        let docx = zip.finish().unwrap().into_inner();
        assert_eq!(
            from_bytes(docx).err().unwrap().code(),
            "ingest.not_spreadsheet"
        );
        let xls = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00".to_vec();
        assert_eq!(
            from_bytes(xls).err().unwrap().code(),
            "ingest.legacy_workbook"
        );
    }

    #[test]
    fn csv_rows_are_bounded() {
        let limits = Limits {
            max_rows: 3,
            max_field_bytes: 12,
            max_columns: 3,
            ..Limits::IMPORT
        };
        let text = "کد ملی,نام\n1,زهرا\n2,abcdefghijklmnop\n3,a,b,c,d\n";
        let s = from_bytes_with(text.as_bytes().to_vec(), &limits).unwrap();
        let r: Vec<_> = s.rows.collect();
        assert!(
            r[1].as_ref()
                .unwrap()
                .cells
                .as_ref()
                .unwrap_err()
                .contains("bytes"),
            "{r:?}"
        );
        assert!(
            r[2].as_ref()
                .unwrap()
                .cells
                .as_ref()
                .unwrap_err()
                .contains("cells")
        );
        let many = format!("کد ملی,نام\n{}", "1,زهرا\n".repeat(50));
        let s = from_bytes_with(many.into_bytes(), &limits).unwrap();
        let last = s.rows.last().unwrap();
        assert_eq!(last.err().unwrap().code(), "ingest.too_large");
    }

    #[test]
    fn xlsx_numbers_and_dates() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "کد ملی").unwrap();
        sheet.write_string(0, 1, "تاریخ تولد").unwrap();
        sheet.write_number(1, 0, 10350829.0).unwrap();
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(1981, 8, 3).unwrap();
        let fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        sheet.write_datetime_with_format(1, 1, &date, &fmt).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let s = from_bytes(bytes).unwrap();
        assert_eq!(s.format, FileFormat::Xlsx);
        let r = rows(s);
        assert_eq!(r[0].row, 2);
        assert_eq!(
            r[0].cells,
            Ok(vec!["10350829".to_owned(), "1981-08-03".to_owned()])
        );
    }

    /// A workbook of a few hand-written parts: `sheet` is the worksheet XML.
    pub(crate) fn tiny_xlsx(sheet: &str, shared: Option<&str>) -> Vec<u8> {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        let mut part = |name: &str, body: &str| {
            zip.start_file(name, opts).unwrap();
            zip.write_all(body.as_bytes()).unwrap();
        };
        part(
            "[Content_Types].xml",
            r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        );
        part(
            "_rels/.rels",
            r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        );
        part(
            "xl/workbook.xml",
            r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        );
        let rels = if shared.is_some() {
            r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#
        } else {
            r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
        };
        part("xl/_rels/workbook.xml.rels", rels);
        part("xl/worksheets/sheet1.xml", sheet);
        if let Some(s) = shared {
            part("xl/sharedStrings.xml", s);
        }
        zip.finish().unwrap().into_inner()
    }

    const SHEET_HEAD: &str = r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#;

    #[test]
    fn a_sheet_declaring_the_whole_grid_is_refused_at_once() {
        let sheet = format!(
            r#"{SHEET_HEAD}<dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>کد ملی</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>"#
        );
        let bytes = tiny_xlsx(&sheet, None);
        assert!(bytes.len() < 4096);
        let started = std::time::Instant::now();
        let e = from_bytes(bytes).err().unwrap();
        assert_eq!(e.code(), "ingest.too_large", "{e}");
        assert!(e.to_string().contains("16384 columns"), "{e}");
        assert!(started.elapsed().as_secs() < 2);
    }

    #[test]
    fn sheet_rows_reads_any_sheet_under_the_same_guards() {
        // No registry header needed: the rows as they are.
        let sheet = format!(
            r#"{SHEET_HEAD}<dimension ref="A1:B3"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>province</t></is></c><c r="B1" t="inlineStr"><is><t>value</t></is></c></row><row r="3"><c r="A3"><v>23</v></c><c r="B3"><v>12.5</v></c></row></sheetData></worksheet>"#
        );
        let rows: Vec<RawRow> = sheet_rows(tiny_xlsx(&sheet, None), &Limits::IMPORT)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].row, 3);
        assert_eq!(rows[1].cells.as_ref().unwrap(), &["23", "12.5"]);
        // A declared whole grid is refused before its cells are read.
        let sheet = format!(
            r#"{SHEET_HEAD}<dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>"#
        );
        let e = sheet_rows(tiny_xlsx(&sheet, None), &Limits::IMPORT)
            .unwrap()
            .find_map(Result::err)
            .unwrap();
        assert_eq!(e.code(), "ingest.too_large", "{e}");
        // Not a workbook at all, or too big a file.
        for bytes in [b"province,value\n23,1\n".to_vec(), b"\x89PNG....".to_vec()] {
            let e = sheet_rows(bytes, &Limits::IMPORT).err().unwrap();
            assert_eq!(e.code(), "ingest.not_spreadsheet");
        }
        let small = Limits {
            max_file_bytes: 10,
            ..Limits::IMPORT
        };
        let e = sheet_rows(tiny_xlsx(&sheet, None), &small).err().unwrap();
        assert_eq!(e.code(), "ingest.too_large");
    }

    #[test]
    fn a_far_cell_under_a_small_dimension_is_refused() {
        let sheet = format!(
            r#"{SHEET_HEAD}<dimension ref="A1:B2"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>کد ملی</t></is></c></row><row r="2"><c r="A2"><v>10350829</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>"#
        );
        // Refused while the header is looked for (or, further down, when the cell is reached).
        let e = match from_bytes(tiny_xlsx(&sheet, None)) {
            Err(e) => e,
            Ok(mut s) => s.rows.find_map(Result::err).unwrap(),
        };
        assert_eq!(e.code(), "ingest.too_large", "{e}");
    }

    #[test]
    fn shared_strings_declaring_billions_are_refused() {
        let sheet = format!(r#"{SHEET_HEAD}<sheetData/></worksheet>"#);
        let sst = r#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="4000000000000"><si><t>a</t></si></sst>"#;
        let e = from_bytes(tiny_xlsx(&sheet, Some(sst))).err().unwrap();
        assert_eq!(e.code(), "ingest.too_large", "{e}");
    }

    #[test]
    fn a_part_that_unpacks_too_large_is_refused() {
        let big = format!(
            "{SHEET_HEAD}<sheetData>{}</sheetData></worksheet>",
            " ".repeat(300_000)
        );
        let limits = Limits {
            max_sheet_bytes: 100_000,
            ..Limits::IMPORT
        };
        let e = from_bytes_with(tiny_xlsx(&big, None), &limits)
            .err()
            .unwrap();
        assert_eq!(e.code(), "ingest.too_large", "{e}");
    }

    #[test]
    fn empty_files_are_refused() {
        assert!(matches!(from_bytes(vec![]), Err(IngestError::Empty)));
        assert!(matches!(
            from_bytes(b"\n\n".to_vec()),
            Err(IngestError::Empty)
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(s) = from_bytes(bytes) {
                for r in s.rows.take(1000) {
                    let _ = r;
                }
            }
        }

        #[test]
        fn arbitrary_bytes_in_a_zip_never_panic(
            bytes in prop::collection::vec(any::<u8>(), 0..600),
            sheet in ".{0,200}",
        ) {
            let mut zipped = b"PK\x03\x04".to_vec();
            zipped.extend(&bytes);
            if let Ok(s) = from_bytes(zipped) {
                let _ = s.rows.count();
            }
            if let Ok(s) = from_bytes(tiny_xlsx(&format!("{SHEET_HEAD}<sheetData>{sheet}</sheetData></worksheet>"), None)) {
                let _ = s.rows.count();
            }
            if let Ok(s) = from_bytes(tiny_xlsx(&sheet, Some(&sheet))) {
                let _ = s.rows.count();
            }
        }

        #[test]
        fn arbitrary_csv_text_never_panics(text in "(.{0,30}[,;\t\n\"]){0,30}") {
            if let Ok(s) = from_bytes(text.into_bytes()) {
                let _ = s.rows.count();
            }
        }
    }
}
