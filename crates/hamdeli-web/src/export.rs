//! Tables as downloads: XLSX with a right-to-left sheet for Persian, and CSV that a spreadsheet
//! cannot mistake for formulas.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// One cell of an exported table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}
impl From<i64> for Cell {
    fn from(n: i64) -> Cell {
        Cell::Int(n)
    }
}
impl From<Option<String>> for Cell {
    fn from(s: Option<String>) -> Cell {
        Cell::Text(s.unwrap_or_default())
    }
}

/// A text cell a spreadsheet would run as a formula gets a leading apostrophe.
pub fn formula_safe(s: &str) -> String {
    hamdeli_ingest::formula_safe(s).into_owned()
}

/// One cell borrowed from the row being written (see [`TableWriter`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Field<'a> {
    Text(&'a str),
    Int(i64),
}

impl<'a> From<&'a Cell> for Field<'a> {
    fn from(c: &'a Cell) -> Field<'a> {
        match c {
            Cell::Text(s) => Field::Text(s),
            Cell::Int(n) => Field::Int(*n),
        }
    }
}

/// The XLSX files' zip compression: level 1 deflates several times faster than the default 6
/// (most of the time a large download took) for files a little larger.
const XLSX_ZIP_LEVEL: u8 = 1;

/// A table written row by row into a CSV or XLSX download, from borrowed cells: no table of
/// owned cells in between, and no allocation per cell (but for a CSV text that needs the
/// formula guard).
pub struct TableWriter {
    out: Out,
    rows: u32,
}

enum Out {
    Csv(Box<csv::Writer<Vec<u8>>>),
    Xlsx(Box<rust_xlsxwriter::Worksheet>),
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> crate::error::AppError {
    crate::error::AppError::Internal(e.to_string())
}

impl TableWriter {
    /// CSV in UTF-8 with a byte-order mark (so spreadsheet programs read Persian correctly);
    /// text cells a spreadsheet would run as a formula get a leading apostrophe.
    pub fn csv(headers: &[String]) -> TableWriter {
        let mut w = csv::Writer::from_writer(Vec::from("\u{feff}".as_bytes()));
        let _ = w.write_record(headers.iter().map(|h| formula_safe(h)));
        TableWriter {
            out: Out::Csv(Box::new(w)),
            rows: 0,
        }
    }

    /// One sheet named `sheet`, right to left when `rtl`, headers bold and frozen.
    pub fn xlsx(
        sheet: &str,
        headers: &[String],
        rtl: bool,
    ) -> Result<TableWriter, rust_xlsxwriter::XlsxError> {
        let mut ws = rust_xlsxwriter::Worksheet::new();
        ws.set_name(sheet.chars().take(31).collect::<String>())?;
        ws.set_right_to_left(rtl);
        let bold = rust_xlsxwriter::Format::new().set_bold();
        for (c, h) in headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &bold)?;
            ws.set_column_width(c as u16, 18)?;
        }
        ws.set_freeze_panes(1, 0)?;
        Ok(TableWriter {
            out: Out::Xlsx(Box::new(ws)),
            rows: 0,
        })
    }

    /// `csv` or `xlsx` (see [`TableWriter::csv`] and [`TableWriter::xlsx`]).
    pub fn new(
        format: &str,
        sheet: &str,
        headers: &[String],
        rtl: bool,
    ) -> Result<TableWriter, crate::error::AppError> {
        if format == "csv" {
            Ok(TableWriter::csv(headers))
        } else {
            TableWriter::xlsx(sheet, headers, rtl).map_err(xlsx_error)
        }
    }

    /// The next row.
    pub fn row(&mut self, row: &[Field<'_>]) -> Result<(), rust_xlsxwriter::XlsxError> {
        self.rows += 1;
        match &mut self.out {
            Out::Csv(w) => {
                let mut digits = [0u8; 24];
                for f in row {
                    let _ = match *f {
                        Field::Text(s) => w.write_field(hamdeli_ingest::formula_safe(s).as_bytes()),
                        Field::Int(n) => w.write_field(int_text(n, &mut digits)),
                    };
                }
                let _ = w.write_record(None::<&[u8]>);
            }
            Out::Xlsx(ws) => {
                for (c, f) in row.iter().enumerate() {
                    let (r, c) = (self.rows, c as u16);
                    match *f {
                        // write_string never makes a formula, whatever the text starts with.
                        Field::Text(s) => ws.write_string(r, c, s)?,
                        Field::Int(n) => ws.write_number(r, c, n as f64)?,
                    };
                }
            }
        }
        Ok(())
    }

    /// The file's bytes.
    pub fn bytes(self) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        match self.out {
            Out::Csv(w) => Ok((*w)
                .into_inner()
                .map_err(|e| e.into_error())
                .unwrap_or_default()),
            Out::Xlsx(ws) => {
                let mut book = rust_xlsxwriter::Workbook::new();
                book.set_zip_compression_level(XLSX_ZIP_LEVEL);
                book.push_worksheet(*ws);
                book.save_to_buffer()
            }
        }
    }

    /// The file as a download named `{stem}.{format}`.
    pub fn download(self, stem: &str) -> Result<Response, crate::error::AppError> {
        let (content_type, format) = match self.out {
            Out::Csv(_) => (CSV, "csv"),
            Out::Xlsx(_) => (XLSX, "xlsx"),
        };
        let bytes = self.bytes().map_err(xlsx_error)?;
        Ok(download(bytes, content_type, &format!("{stem}.{format}")))
    }
}

/// `n` in decimal, written into `buf` (no allocation).
fn int_text(n: i64, buf: &mut [u8; 24]) -> &[u8] {
    let mut i = buf.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// CSV in UTF-8 with a byte-order mark (so spreadsheet programs read Persian correctly).
pub fn csv_bytes(headers: &[String], rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut w = TableWriter::csv(headers);
    let mut fields = Vec::new();
    for row in rows {
        fields.clear();
        fields.extend(row.iter().map(Field::from));
        let _ = w.row(&fields);
    }
    w.bytes().unwrap_or_default()
}

/// One sheet, right to left when `rtl`, headers bold and frozen.
pub fn xlsx_bytes(
    sheet: &str,
    headers: &[String],
    rows: &[Vec<Cell>],
    rtl: bool,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut w = TableWriter::xlsx(sheet, headers, rtl)?;
    let mut fields = Vec::new();
    for row in rows {
        fields.clear();
        fields.extend(row.iter().map(Field::from));
        w.row(&fields)?;
    }
    w.bytes()
}

pub fn download(bytes: Vec<u8>, content_type: &'static str, file_name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// The format a table page was asked to download in (`?format=csv|xlsx`), if any.
pub fn requested(format: Option<&str>) -> Option<&'static str> {
    match format {
        Some("csv") => Some("csv"),
        Some("xlsx") => Some("xlsx"),
        _ => None,
    }
}

/// A table as a download named `{stem}.{format}`: CSV, or XLSX with `sheet` as its sheet name
/// (right to left when `rtl`).
pub fn table(
    format: &str,
    stem: &str,
    sheet: &str,
    headers: &[String],
    rows: &[Vec<Cell>],
    rtl: bool,
) -> Result<Response, crate::error::AppError> {
    let mut w = TableWriter::new(format, sheet, headers, rtl)?;
    let mut fields = Vec::new();
    for row in rows {
        fields.clear();
        fields.extend(row.iter().map(Field::from));
        w.row(&fields).map_err(xlsx_error)?;
    }
    w.download(stem)
}

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const CSV: &str = "text/csv; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_never_start_a_formula() {
        let bytes = csv_bytes(
            &["نام".into()],
            &[
                vec!["=HYPERLINK(\"x\")".into()],
                vec!["-1+2".into()],
                vec![Cell::Int(-3)],
            ],
        );
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with('\u{feff}'));
        assert!(text.contains("'=HYPERLINK"));
        assert!(text.contains("'-1+2"));
        assert!(text.contains("\n-3\n"), "numbers stay numbers: {text}");
    }

    #[test]
    fn xlsx_is_a_zip_with_a_right_to_left_sheet() {
        let bytes = xlsx_bytes("گزارش", &["استان".into()], &[vec!["تهران".into()]], true).unwrap();
        assert_eq!(&bytes[..2], b"PK");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut sheet = String::new();
        std::io::Read::read_to_string(
            &mut zip.by_name("xl/worksheets/sheet1.xml").unwrap(),
            &mut sheet,
        )
        .unwrap();
        assert!(sheet.contains("rightToLeft=\"1\""), "{sheet}");
    }
}
