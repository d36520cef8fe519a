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

/// CSV in UTF-8 with a byte-order mark (so spreadsheet programs read Persian correctly).
pub fn csv_bytes(headers: &[String], rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let _ = w.write_record(headers.iter().map(|h| formula_safe(h)));
        for row in rows {
            let _ = w.write_record(row.iter().map(|c| match c {
                Cell::Text(s) => formula_safe(s),
                Cell::Int(n) => n.to_string(),
            }));
        }
        let _ = w.flush();
    }
    out
}

/// One sheet, right to left when `rtl`, headers bold and frozen.
pub fn xlsx_bytes(
    sheet: &str,
    headers: &[String],
    rows: &[Vec<Cell>],
    rtl: bool,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet.chars().take(31).collect::<String>())?;
    ws.set_right_to_left(rtl);
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold)?;
        ws.set_column_width(c as u16, 18)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            match cell {
                // write_string never makes a formula, whatever the text starts with.
                Cell::Text(s) => ws.write_string(r, c, s)?,
                Cell::Int(n) => ws.write_number(r, c, *n as f64)?,
            };
        }
    }
    ws.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
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
    let name = format!("{stem}.{format}");
    if format == "csv" {
        Ok(download(csv_bytes(headers, rows), CSV, &name))
    } else {
        let bytes = xlsx_bytes(sheet, headers, rows, rtl)
            .map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
        Ok(download(bytes, XLSX, &name))
    }
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
