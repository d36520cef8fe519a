//! Every chart of the pages comes from the one drawer (`hamdeli_web::charts`): an SVG image
//! with a title, bars that grow from the right in Persian, the figures in Persian digits, and the
//! same figures in a table; none of the old per-page drawers' markup is left.

use crate::support::*;
use reqwest::StatusCode;

/// The charts in a page: each `<svg …>…</svg>` of the drawer (bars or columns).
fn charts(html: &str) -> Vec<&str> {
    html.match_indices("<svg class=\"")
        .filter_map(|(i, _)| {
            let s = &html[i..];
            let end = s.find("</svg>")?;
            let svg = &s[..end + 6];
            (svg.starts_with("<svg class=\"hbars\"")
                || svg.starts_with("<svg class=\"chart columns\""))
            .then_some(svg)
        })
        .collect()
}

#[tokio::test]
async fn every_page_draws_its_charts_with_the_one_drawer() {
    let app = spawn_app().await;
    hamdeli::demo_market::seed(&app.store).await.unwrap();
    hamdeli::demo_loans::seed(&app.store).await.unwrap();
    hamdeli::demo_network::seed(&app.store).await.unwrap();
    hamdeli::demo_reports::seed(&app.store).await.unwrap();
    let officer = app.login("tehran.officer").await;
    let admin = app.login("admin").await;
    for (who, path, with_table) in [
        (&officer, "/loans/portfolio", false),
        (&officer, "/loans/portfolio?by=month", false),
        (&officer, "/network/reports", true),
        (&officer, "/market/office/sales", false),
        (&admin, "/reports", false),
    ] {
        let (s, html) = who.get_text(path).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        let found = charts(&html);
        assert!(!found.is_empty(), "{path} has a chart");
        for svg in found {
            assert!(svg.contains("role=\"img\""), "{path}: {svg}");
            assert!(svg.contains("<title>"), "{path}: a title");
            assert!(svg.contains("direction=\"rtl\""), "{path}: right to left");
            assert!(!svg.contains("style="), "{path}: no inline style");
            // Figures in Persian digits, none in Latin ones outside the geometry.
            let texts: String = svg
                .split("<title>")
                .skip(1)
                .filter_map(|t| t.split("</title>").next())
                .collect();
            assert!(
                !texts.chars().any(|c| c.is_ascii_digit()),
                "{path}: Latin digits in {texts}"
            );
        }
        if with_table {
            assert!(html.contains("<details class=\"chart-table\">"), "{path}");
        }
        for old in [
            "network-bar",
            "market-chart",
            "loans-bar-out",
            "class=\"lbl\"",
        ] {
            assert!(!html.contains(old), "{path} still has {old}");
        }
    }
    // At risk is drawn over what is outstanding, with its key.
    let (_, html) = officer.get_text("/loans/portfolio").await;
    assert!(
        html.contains("class=\"chart-part\""),
        "the demo has a late loan"
    );
    assert!(html.contains("<ul class=\"legend chart-legend\">"));
}
