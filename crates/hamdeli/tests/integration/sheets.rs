//! Real office sheets through the real app: title rows, merged two-level headers, totals and
//! footer rows, household lists without an id column, odd encodings, files that are not
//! spreadsheets and a workbook that declares the whole grid. Rows in = accepted + rejected +
//! skipped, always.

use std::process::Command;

use reqwest::StatusCode;
use rust_xlsxwriter::{Format, Workbook};

use hamdeli_store::registry;

use crate::support::{Client, TestApp, spawn_app, temp_dir, wait_for_batch};

const RELIEF: &str = "کمیته امداد (نمایشی)";

/// source_id, first name, last name, national code, county of a stored record.
type StoredRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

async fn upload(
    client: &Client,
    org: i64,
    mode: &str,
    name: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    let token = client.csrf().await;
    // The CSRF token is the form's first field.
    let form = reqwest::multipart::Form::new()
        .text("_csrf", token.clone())
        .text("organisation", org.to_string())
        .text("list", "فهرست اداره")
        .text("kind", "support")
        .text("mode", mode.to_owned())
        .part(
            "file",
            reqwest::multipart::Part::bytes(body).file_name(name.to_owned()),
        );
    client
        .http
        .post(format!("{}/registry/imports?_csrf={token}", client.base))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn relief(app: &TestApp) -> i64 {
    hamdeli_store::organisations::id_by_name(&app.store, RELIEF)
        .await
        .unwrap()
        .unwrap()
}

/// The numbers of the stats block `import-counts`, in order (rows in, accepted, with warnings,
/// rejected, skipped, …), read back from Persian digits.
fn counts(html: &str) -> Vec<i64> {
    let start = html
        .find("data-testid=\"import-counts\"")
        .expect("counts block");
    let block = &html[start..];
    let block = &block[..block.find("</section>").unwrap_or(block.len())];
    block
        .split("class=\"value\"")
        .skip(1)
        .map(|part| {
            let text = &part[part.find('>').unwrap() + 1..];
            let digits: String = hamdeli_text::fold_digits(&text[..text.find('<').unwrap()])
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            digits.parse().unwrap()
        })
        .collect()
}

/// A list as an office keeps it: a merged title, a blank row, a merged two-level header
/// («نام و نام خانوادگی» over «نام | نام خانوادگی», «محل سکونت» over «استان | شهرستان»), a
/// «ردیف» counter, three people, a totals row with a formula, a row of formulas alone and a
/// footer.
fn office_sheet() -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let merged = Format::new();
    sheet
        .merge_range(
            0,
            0,
            0,
            7,
            "فهرست زنان سرپرست خانوار تحت پوشش — شهرستان ری",
            &merged,
        )
        .unwrap();
    // Row 2 blank. The header: rows 3 and 4.
    sheet.merge_range(2, 0, 3, 0, "ردیف", &merged).unwrap();
    sheet
        .merge_range(2, 1, 2, 2, "نام و نام خانوادگی", &merged)
        .unwrap();
    sheet.write_string(3, 1, "نام").unwrap();
    sheet.write_string(3, 2, "نام خانوادگی").unwrap();
    sheet.merge_range(2, 3, 3, 3, "کد ملی", &merged).unwrap();
    sheet.merge_range(2, 4, 2, 5, "محل سکونت", &merged).unwrap();
    sheet.write_string(3, 4, "استان").unwrap();
    sheet.write_string(3, 5, "شهرستان").unwrap();
    sheet
        .merge_range(2, 6, 3, 6, "شماره موبایل", &merged)
        .unwrap();
    sheet
        .merge_range(2, 7, 3, 7, "مبلغ کمک (ریال)", &merged)
        .unwrap();
    let people = [
        (
            "زهرا",
            "احمدی",
            10350829.0,
            "تهران",
            "ری",
            "09121234567",
            5_000_000.0,
        ),
        (
            "مریم",
            "کریمی",
            84575948.0,
            "تهران",
            "ری",
            "9121112233",
            3_000_000.0,
        ),
        ("فاطمه", "رضایی", 0.0, "تهران", "ری", "", 2_000_000.0),
    ];
    for (i, (first, last, code, province, county, phone, amount)) in people.iter().enumerate() {
        let r = 4 + i as u32;
        sheet.write_number(r, 0, (i + 1) as f64).unwrap();
        sheet.write_string(r, 1, *first).unwrap();
        sheet.write_string(r, 2, *last).unwrap();
        if *code > 0.0 {
            // Stored as a number: the leading zeros are lost, as Excel does.
            sheet.write_number(r, 3, *code).unwrap();
        }
        sheet.write_string(r, 4, *province).unwrap();
        sheet.write_string(r, 5, *county).unwrap();
        sheet.write_string(r, 6, *phone).unwrap();
        sheet.write_number(r, 7, *amount).unwrap();
    }
    // Row 8: totals, «جمع کل» across the name cells, a sum.
    sheet.merge_range(7, 1, 7, 2, "جمع کل", &merged).unwrap();
    sheet.write_formula(7, 7, "=SUM(H5:H7)").unwrap();
    // Row 9: a formula alone (a count), no identity.
    sheet.write_formula(8, 0, "=COUNTA(B5:B7)").unwrap();
    // Row 11: the footer.
    sheet
        .write_string(10, 1, "تهیه کننده: کارشناس شهرستان")
        .unwrap();
    book.save_to_buffer().unwrap()
}

#[tokio::test]
async fn an_office_sheet_imports_its_people_and_skips_titles_headers_totals_and_footers() {
    let app = spawn_app().await;
    let org = relief(&app).await;
    let partner = app.login("relief.partner").await;

    // Dry run: 3 people, 3 rows skipped, none rejected; the sub-header row is no person.
    let r = upload(&partner, org, "dry_run", "office.xlsx", office_sheet()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let c = counts(&html);
    assert_eq!(&c[..5], &[6, 3, c[2], 0, 3], "{html}");
    assert_eq!(
        c[0],
        c[1] + c[3] + c[4],
        "rows in = accepted + rejected + skipped"
    );
    assert!(html.contains("سطر جمع است"), "totals row reported: {html}");
    assert!(html.contains("پانویس فهرست است"), "footer reported");
    assert!(html.contains("سطری از فرمول‌ها"), "formula row reported");
    assert!(
        html.contains("data-testid=\"import-notice\"") && html.contains("ستون شناسه ندارد"),
        "no id column: the dry run says so"
    );
    assert!(
        html.contains("محل سکونت / شهرستان"),
        "the two-level header flattened"
    );

    // Commit: only the three people are stored.
    let r = upload(&partner, org, "commit", "office.xlsx", office_sheet()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let batch = wait_for_batch(&app.store, &location).await;
    let stored: Vec<StoredRow> = sqlx::query_as(
        "SELECT source_id, first_name, last_name, national_code, county_code FROM source_records \
             WHERE batch_id = $1 ORDER BY row_number",
    )
    .bind(batch)
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    let names: Vec<(&str, &str)> = stored
        .iter()
        .map(|r| (r.1.as_deref().unwrap_or(""), r.2.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        names,
        vec![("زهرا", "احمدی"), ("مریم", "کریمی"), ("فاطمه", "رضایی")]
    );
    assert_eq!(
        stored[0].3.as_deref(),
        Some("0010350829"),
        "leading zeros back"
    );
    assert!(
        stored.iter().all(|r| r.4.is_some()),
        "«استان/شهرستان» under «محل سکونت» read"
    );
    assert!(
        stored
            .iter()
            .all(|r| !r.0.starts_with("row-") && r.0 != "1"),
        "no row counter as id: {stored:?}"
    );
    let (status, html) = partner.get_text(&location).await;
    assert_eq!(status, StatusCode::OK);
    let c = counts(&html);
    assert_eq!((c[0], c[1], c[3], c[4]), (6, 3, 0, 3), "{html}");
    let b = registry::batch(&app.store, batch).await.unwrap().unwrap();
    assert_eq!(
        (b.rows_accepted, b.rows_rejected, b.rows_inserted),
        (3, 0, 3)
    );

    // A re-import finds the rows again by code and name: updated, not doubled.
    let r = upload(&partner, org, "commit", "office.xlsx", office_sheet()).await;
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let batch = wait_for_batch(&app.store, &location).await;
    let b = registry::batch(&app.store, batch).await.unwrap().unwrap();
    assert_eq!((b.rows_inserted, b.rows_updated), (0, 3));
    let (_, html) = partner.get_text("/registry/imports").await;
    assert!(html.contains("office.xlsx"));
}

#[tokio::test]
async fn a_household_list_keeps_members_apart_and_a_reordered_reimport_updates_them() {
    let app = spawn_app().await;
    let org = relief(&app).await;
    let partner = app.login("relief.partner").await;
    // The head's code on every member's row; «رديف» with an Arabic yeh; no id column.
    let csv = |rows: &[&str]| {
        let mut s =
            "رديف,کدملی سرپرست خانوار,نام,نام خانوادگی,نسبت با سرپرست,شماره همراه\n".to_owned();
        for r in rows {
            s.push_str(r);
            s.push('\n');
        }
        s.push_str(",,جمع,,,\n");
        s.into_bytes()
    };
    let head = "0010350829,زهرا,احمدی,سرپرست,09121234567";
    let daughter = "0010350829,سارا,احمدی,فرزند,09121234567";
    let son = "0010350829,علی,احمدی,فرزند,";
    let first = csv(&[
        &format!("1,{head}"),
        &format!("2,{daughter}"),
        &format!("3,{son}"),
    ]);
    let r = upload(&partner, org, "commit", "household.csv", first).await;
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let batch = wait_for_batch(&app.store, &location).await;
    let b = registry::batch(&app.store, batch).await.unwrap().unwrap();
    assert_eq!(
        (b.rows_accepted, b.rows_rejected, b.rows_inserted),
        (3, 0, 3)
    );
    let (_, html) = partner.get_text(&location).await;
    let c = counts(&html);
    assert_eq!((c[0], c[4]), (4, 1), "the «جمع» row is skipped: {html}");
    let codes: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "SELECT first_name, national_code, extra FROM source_records WHERE batch_id = $1 ORDER BY row_number",
    )
    .bind(batch)
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(
        codes[0].1.as_deref(),
        Some("0010350829"),
        "the head's own code"
    );
    assert_eq!(codes[1].1, None, "the head's code is not the daughter's");
    assert!(
        codes[1].2.contains("0010350829") && codes[1].2.contains("فرزند"),
        "{codes:?}"
    );
    let persons: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT person_id) FROM source_records WHERE batch_id = $1",
    )
    .bind(batch)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(persons, 3, "one code on three rows is three people");

    // The same household, rows reordered and renumbered: every row found again.
    let again = csv(&[
        &format!("1,{son}"),
        &format!("2,{head}"),
        &format!("3,{daughter}"),
    ]);
    let r = upload(&partner, org, "commit", "household.csv", again).await;
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let batch = wait_for_batch(&app.store, &location).await;
    let b = registry::batch(&app.store, batch).await.unwrap().unwrap();
    assert_eq!((b.rows_inserted, b.rows_updated), (0, 3));
}

#[tokio::test]
async fn utf16_and_windows_1256_lists_are_read_and_pictures_and_bombs_are_refused() {
    let app = spawn_app().await;
    let org = relief(&app).await;
    let partner = app.login("relief.partner").await;

    // UTF-16 LE with a BOM, tab-separated (as Excel's "Unicode text" saves).
    let text = "شناسه\tکد ملی\tنام\tنام خانوادگی\nu1\t0010350829\tزهرا\tاحمدی\n";
    let mut utf16 = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        utf16.extend(u.to_le_bytes());
    }
    let r = upload(&partner, org, "dry_run", "unicode.csv", utf16).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("زهرا") && html.contains("u1"), "{html}");
    assert_eq!(counts(&html)[..2], [1, 1]);

    // Persian UTF-8 with a damaged byte is refused, not misread as Windows-1256.
    let mut damaged = "شناسه,نام\n1,زهرا\n2,مریم\n3,فاطمه\n4,سارا\n"
        .as_bytes()
        .to_vec();
    damaged.insert(12, 0xD8);
    let r = upload(&partner, org, "dry_run", "damaged.csv", damaged).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("کدگذاری متن فایل خوانا نیست")
    );

    // A picture renamed .xlsx or .csv: not a spreadsheet (not "no column is recognised").
    let png = [&b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"[..], &[7u8; 200]].concat();
    for name in ["photo.xlsx", "photo.csv"] {
        let r = upload(&partner, org, "dry_run", name, png.clone()).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let html = r.text().await.unwrap();
        assert!(html.contains("این فایل صفحه‌گسترده نیست"), "{html}");
        assert!(!html.contains("هیچ ستون شناخته‌شده‌ای نیست"));
    }

    // 1.5 KB declaring A1:XFD1048576: refused at once, with nothing allocated for the grid.
    let bomb = grid_bomb();
    assert!(bomb.len() < 2048, "{}", bomb.len());
    let started = std::time::Instant::now();
    let r = upload(&partner, org, "dry_run", "bomb.xlsx", bomb).await;
    let took = started.elapsed();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("فایل بیش از اندازه بزرگ است")
    );
    assert!(took.as_secs() < 5, "{took:?}");
    eprintln!(
        "the A1:XFD1048576 workbook refused in {} ms",
        took.as_millis()
    );
}

/// A hand-made workbook whose sheet declares every cell of the grid and fills its two corners.
fn grid_bomb() -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
        (
            "xl/worksheets/sheet1.xml",
            r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>کد ملی</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>"#,
        ),
    ];
    for (name, body) in parts {
        zip.start_file(name, opts).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn hamdeli(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hamdeli"))
        .args(args)
        .env_remove("HAMDELI_DATABASE_URL")
        .env_remove("HAMDELI_CONFIG")
        .output()
        .expect("run hamdeli");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn link_guards_its_csv_output_and_refuses_what_is_not_a_sheet() {
    let dir = temp_dir();
    let a = dir.0.join("a.csv");
    std::fs::write(
        &a,
        "شناسه,کد ملی,نام,نام خانوادگی\n\
         \"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",0010350829,زهرا,احمدی\n\
         +98912,0084575948,مریم,کریمی\n\
         -1,,فاطمه,رضایی\n\
         @SUM(A1),,سارا,کاظمی\n\
         ,,جمع کل,\n",
    )
    .unwrap();
    let out = dir.0.join("clusters.csv");
    let rejects = dir.0.join("rejects.csv");
    let (ok, text) = hamdeli(&[
        "link",
        "--input",
        &format!("A={}", a.display()),
        "--out",
        out.to_str().unwrap(),
        "--rejects",
        rejects.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    let clusters = std::fs::read_to_string(&out).unwrap();
    assert_eq!(clusters.lines().count(), 5, "{clusters}");
    for guarded in [
        "A,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",",
        "A,'+98912,",
        "A,'-1,",
        "A,'@SUM(A1),",
    ] {
        assert!(clusters.contains(guarded), "{guarded} in {clusters}");
    }
    let rejects = std::fs::read_to_string(&rejects).unwrap();
    assert!(rejects.contains("row.totals"), "{rejects}");

    // A picture given as a list: said so, in English on the command line.
    let png = dir.0.join("photo.csv");
    std::fs::write(&png, [&b"\x89PNG\r\n\x1a\n"[..], &[0u8; 64]].concat()).unwrap();
    let (ok, text) = hamdeli(&[
        "link",
        "--input",
        &format!("P={}", png.display()),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        !ok && text.contains("this file is not a spreadsheet"),
        "{text}"
    );
}
