//! The one chart drawer of the web pages: bar charts drawn as SVG on the server (no script,
//! nothing from another host, no inline style: colours come from classes in the stylesheet).
//!
//! - [`bars`]: horizontal bars, one row a label, its bar and its figure as shown; a bar may carry
//!   a part of it drawn over it in another colour (e.g. the share at risk of what is outstanding).
//!   Drawn in percentages of the page's width with real-size text, so it reads the same on a
//!   360 px phone and a 1280 px screen; the bars grow from the right in right-to-left pages.
//! - [`columns`]: a series over periods (Jalali months), the oldest at the start of the reading
//!   direction (the right in Persian); a period without a figure has no column.
//!
//! Every chart has `role="img"`, an `aria-label` and a `<title>`, and every row its own
//! `<title>` with the figure as shown (Persian digits when the page is Persian: the caller
//! formats them). [`table`] gives the same figures as a table for pages that show no table of
//! them already. Labels and figures are escaped. Values below zero draw no bar (the figure is
//! still shown); the largest value fills the width, computed in `i128`, so huge values neither
//! overflow nor lose the order of the bars. An empty series draws nothing (an empty string), so
//! that a page can say "nothing here" instead.

use std::fmt::Write;

/// One horizontal bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bar {
    pub label: String,
    pub value: i64,
    /// The value as shown (localised digits, unit).
    pub shown: String,
    /// A part of the value drawn over the bar in the second colour (class `chart-part`).
    pub part: Option<i64>,
}

impl Bar {
    pub fn new(label: impl Into<String>, value: i64, shown: impl Into<String>) -> Bar {
        Bar {
            label: label.into(),
            value,
            shown: shown.into(),
            part: None,
        }
    }
}

/// One period of a series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Point {
    pub label: String,
    pub value: Option<i64>,
    /// The value as shown.
    pub shown: String,
}

/// Escapes text for SVG and HTML (text and attribute values).
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `value / max` in hundredths of a per cent (0 ..= 10 000); 0 for a value at or below zero.
fn share(value: i64, max: i64) -> i64 {
    if value <= 0 || max <= 0 {
        return 0;
    }
    let s = i128::from(value) * 10_000 / i128::from(max);
    i64::try_from(s.min(10_000)).unwrap_or(10_000)
}

/// Hundredths of a per cent as an SVG length (`37.5%`).
fn pct(hundredths: i64) -> String {
    let (whole, frac) = (hundredths / 100, hundredths % 100);
    if frac == 0 {
        format!("{whole}%")
    } else if frac % 10 == 0 {
        format!("{whole}.{}%", frac / 10)
    } else {
        format!("{whole}.{frac:02}%")
    }
}

/// The largest positive value (at least 1).
fn largest(values: impl Iterator<Item = i64>) -> i64 {
    values.max().unwrap_or(0).max(1)
}

/// A label shortened for the drawing (the whole one is in the row's title and in the table).
fn short(label: &str, max_chars: usize) -> String {
    if label.chars().count() <= max_chars {
        return label.to_owned();
    }
    let mut s: String = label.chars().take(max_chars - 1).collect();
    s.push('…');
    s
}

/// The height of one row of [`bars`], in pixels.
const ROW: usize = 34;
/// The longest label drawn whole.
const LABEL_CHARS: usize = 34;

/// Horizontal bars in the given order (see the module's documentation).
pub(crate) fn bars(title: &str, rows: &[Bar], rtl: bool) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let max = largest(rows.iter().map(|r| r.value));
    let height = ROW * rows.len() + 2;
    let dir = if rtl { "rtl" } else { "ltr" };
    let title = esc(title);
    let mut s = String::with_capacity(300 + rows.len() * 420);
    let _ = write!(
        s,
        "<svg class=\"hbars\" width=\"100%\" height=\"{height}\" direction=\"{dir}\" role=\"img\" \
         aria-label=\"{title}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{title}</title>"
    );
    // Labels at the start of the reading direction, figures at its end; `text-anchor` follows
    // `direction`, so "start" is the right edge in a right-to-left chart.
    let (start_x, end_x) = if rtl { ("100%", "0") } else { ("0", "100%") };
    for (i, r) in rows.iter().enumerate() {
        let y = i * ROW;
        let w = share(r.value, max);
        let bar_x = |w: i64| if rtl { pct(10_000 - w) } else { "0".to_owned() };
        let _ = write!(
            s,
            "<g><title>{}: {}</title>\
             <text x=\"{start_x}\" y=\"{}\" text-anchor=\"start\" class=\"chart-label\">{}</text>\
             <text x=\"{end_x}\" y=\"{}\" text-anchor=\"end\" class=\"chart-value\">{}</text>\
             <rect x=\"0\" y=\"{}\" width=\"100%\" height=\"11\" rx=\"2\" class=\"chart-track\"/>",
            esc(&r.label),
            esc(&r.shown),
            y + 14,
            esc(&short(&r.label, LABEL_CHARS)),
            y + 14,
            esc(&r.shown),
            y + 20,
        );
        if w > 0 {
            let _ = write!(
                s,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"11\" rx=\"2\" class=\"chart-bar\"/>",
                bar_x(w),
                y + 20,
                pct(w)
            );
        }
        let p = r.part.map(|p| share(p, max).min(w)).unwrap_or(0);
        if p > 0 {
            let _ = write!(
                s,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"11\" rx=\"2\" class=\"chart-part\"/>",
                bar_x(p),
                y + 20,
                pct(p)
            );
        }
        s.push_str("</g>");
    }
    s.push_str("</svg>");
    s
}

/// Columns per period, oldest first in `points` (see the module's documentation).
pub(crate) fn columns(title: &str, points: &[Point], rtl: bool) -> String {
    if points.is_empty() {
        return String::new();
    }
    let n = points.len();
    // At least six slots wide, so that a short series is not drawn with giant columns.
    let slots = n.max(6);
    let col_w = 34;
    let gap = 8;
    // The period labels hang below the axis and to the left of their column (rotated by 45°):
    // room for them below and at the left.
    let left = 70;
    let height = 240;
    let base = 150;
    let width = left + slots * (col_w + gap) + 10;
    let max = largest(points.iter().filter_map(|p| p.value));
    let dir = if rtl { "rtl" } else { "ltr" };
    let title = esc(title);
    let mut s = String::with_capacity(300 + n * 400);
    // Drawn at its own size (one user unit a CSS pixel, so its 12 px text stays 12 px on a
    // phone) in a box that scrolls sideways when the screen is narrower than the chart.
    let _ = write!(
        s,
        "<div class=\"chart-scroll\" tabindex=\"0\" role=\"region\" aria-label=\"{title}\">\
         <svg class=\"chart columns\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" direction=\"{dir}\" \
         role=\"img\" aria-label=\"{title}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{title}</title>\
         <line x1=\"{left}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" class=\"axis\"/>",
        width - 10
    );
    for (i, p) in points.iter().enumerate() {
        // Right to left: the oldest period at the right.
        let slot = if rtl { slots - 1 - i } else { i };
        let x = left + slot * (col_w + gap) + gap / 2;
        let cx = x + col_w / 2;
        let _ = write!(s, "<g><title>{}: {}</title>", esc(&p.label), esc(&p.shown));
        if let Some(v) = p.value {
            let h = usize::try_from(share(v, max) * (base as i64 - 20) / 10_000).unwrap_or(0);
            if h > 0 {
                let _ = write!(
                    s,
                    "<rect x=\"{x}\" y=\"{}\" width=\"{col_w}\" height=\"{h}\" class=\"bar\"/>",
                    base - h
                );
            }
        }
        // The label ends under its column and hangs down to the left of it; "end" is the left
        // edge of right-to-left text, so such a label is anchored at its "start".
        let anchor = if rtl { "start" } else { "end" };
        let _ = write!(
            s,
            "<text x=\"{cx}\" y=\"{}\" text-anchor=\"{anchor}\" class=\"tick\" \
             transform=\"rotate(-45 {cx} {})\">{}</text></g>",
            base + 14,
            base + 14,
            esc(&short(&p.label, 18))
        );
    }
    s.push_str("</svg></div>");
    s
}

/// The figures of a chart as a table, folded under `summary`: the first column the row's
/// header. `caption` names the table for screen readers.
pub(crate) fn table(summary: &str, caption: &str, heads: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = String::with_capacity(200 + rows.len() * 80);
    let _ = write!(
        s,
        "<details class=\"chart-table\"><summary>{}</summary><div class=\"table-wrap\" tabindex=\"0\" \
         role=\"region\" aria-label=\"{}\"><table><thead><tr>",
        esc(summary),
        esc(caption)
    );
    for h in heads {
        let _ = write!(s, "<th scope=\"col\">{}</th>", esc(h));
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        s.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            if i == 0 {
                let _ = write!(s, "<th scope=\"row\">{}</th>", esc(c));
            } else {
                let _ = write!(s, "<td>{}</td>", esc(c));
            }
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></div></details>");
    s
}

/// [`bars`] with its figures as a [`table`] (heads: the label's, the figure's).
pub(crate) fn bars_with_table(
    title: &str,
    rows: &[Bar],
    rtl: bool,
    summary: &str,
    heads: [&str; 2],
) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| vec![r.label.clone(), r.shown.clone()])
        .collect();
    bars(title, rows, rtl) + &table(summary, title, &heads, &cells)
}

/// [`columns`] with its figures as a [`table`] (heads: the period's, the figure's).
pub(crate) fn columns_with_table(
    title: &str,
    points: &[Point],
    rtl: bool,
    summary: &str,
    heads: [&str; 2],
) -> String {
    if points.is_empty() {
        return String::new();
    }
    let cells: Vec<Vec<String>> = points
        .iter()
        .map(|p| vec![p.label.clone(), p.shown.clone()])
        .collect();
    columns(title, points, rtl) + &table(summary, title, &heads, &cells)
}

/// The key of a chart's colours: (class of the swatch, name).
pub(crate) fn legend(keys: &[(&str, &str)]) -> String {
    let mut s = String::from("<ul class=\"legend chart-legend\">");
    for (class, name) in keys {
        let _ = write!(
            s,
            "<li><svg class=\"swatch\" viewBox=\"0 0 10 10\" aria-hidden=\"true\" focusable=\"false\">\
             <rect class=\"{}\" width=\"10\" height=\"10\"/></svg>{}</li>",
            esc(class),
            esc(name)
        );
    }
    s.push_str("</ul>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: i64) -> Bar {
        Bar::new(label, value, value.to_string())
    }

    fn rect_widths(svg: &str, class: &str) -> Vec<String> {
        svg.split("<rect ")
            .skip(1)
            .filter(|r| r.contains(&format!("class=\"{class}\"")))
            .map(|r| {
                let w = r.split("width=\"").nth(1).unwrap_or("");
                w[..w.find('"').unwrap_or(0)].to_owned()
            })
            .collect()
    }

    #[test]
    fn labels_titles_and_figures_are_escaped() {
        let svg = bars(
            "<t> & \"q\"",
            &[Bar::new("a&b<script>", 3, "۳ '<i>'")],
            true,
        );
        assert!(svg.contains("aria-label=\"&lt;t&gt; &amp; &quot;q&quot;\""));
        assert!(svg.contains("<title>&lt;t&gt; &amp; &quot;q&quot;</title>"));
        assert!(svg.contains("a&amp;b&lt;script&gt;"));
        assert!(svg.contains("۳ &#39;&lt;i&gt;&#39;"));
        assert!(!svg.contains("<script") && !svg.contains("<i>"));
        let col = columns(
            "x",
            &[Point {
                label: "<b>".into(),
                value: Some(1),
                shown: "\"1\"".into(),
            }],
            false,
        );
        assert!(col.contains("&lt;b&gt;") && col.contains("&quot;1&quot;"));
        assert!(!col.contains("<b>"));
        let t = table("s<", "c\"", &["h&"], &[vec!["<r>".into(), "v'".into()]]);
        assert!(t.contains("s&lt;") && t.contains("c&quot;") && t.contains("h&amp;"));
        assert!(t.contains("<th scope=\"row\">&lt;r&gt;</th><td>v&#39;</td>"));
    }

    #[test]
    fn charts_are_accessible_images() {
        let svg = bars("t", &[bar("a", 1)], false);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("role=\"img\"") && svg.contains("<title>t</title>"));
        assert!(
            svg.contains("<title>a: 1</title>"),
            "every row says its figure"
        );
        let col = columns(
            "t",
            &[Point {
                label: "فروردین ۱۴۰۴".into(),
                value: Some(5),
                shown: "۵".into(),
            }],
            true,
        );
        assert!(col.contains("role=\"img\"") && col.contains("<title>فروردین ۱۴۰۴: ۵</title>"));
        assert!(
            !svg.contains("style=") && !col.contains("style="),
            "the CSP refuses inline style"
        );
    }

    #[test]
    fn the_largest_fills_the_width_and_the_others_are_in_proportion() {
        let svg = bars("t", &[bar("a", 200), bar("b", 50), bar("c", 1)], false);
        assert_eq!(rect_widths(&svg, "chart-bar"), ["100%", "25%", "0.5%"]);
        assert_eq!(rect_widths(&svg, "chart-track").len(), 3);
        // Right to left: the bars end at the right edge.
        let rtl = bars("t", &[bar("a", 200), bar("b", 50)], true);
        assert!(
            rtl.contains("<rect x=\"75%\" y=\"54\" width=\"25%\""),
            "{rtl}"
        );
        assert!(rtl.contains("direction=\"rtl\""));
        assert!(rtl.contains("x=\"100%\" y=\"14\" text-anchor=\"start\""));
    }

    #[test]
    fn zero_negative_and_huge_values_draw_without_overflow() {
        let svg = bars(
            "t",
            &[
                bar("max", i64::MAX),
                bar("almost", i64::MAX - 1),
                bar("zero", 0),
                bar("negative", -5),
                bar("min", i64::MIN),
            ],
            false,
        );
        // Only the two positive values draw a bar; the negative figures are still shown.
        assert_eq!(rect_widths(&svg, "chart-bar"), ["100%", "99.99%"]);
        assert!(svg.contains(">-5<") && svg.contains(&format!(">{}<", i64::MIN)));
        // All zero or negative: no bar, no division by zero.
        let none = bars("t", &[bar("a", 0), bar("b", -1)], true);
        assert!(rect_widths(&none, "chart-bar").is_empty());
        let col = columns(
            "t",
            &[
                Point {
                    label: "1".into(),
                    value: Some(i64::MAX),
                    shown: "m".into(),
                },
                Point {
                    label: "2".into(),
                    value: Some(-3),
                    shown: "-3".into(),
                },
                Point {
                    label: "3".into(),
                    value: None,
                    shown: "—".into(),
                },
                Point {
                    label: "4".into(),
                    value: Some(0),
                    shown: "0".into(),
                },
            ],
            false,
        );
        assert_eq!(col.matches("class=\"bar\"").count(), 1);
        assert!(
            col.contains("height=\"130\""),
            "the largest reaches the top: {col}"
        );
    }

    #[test]
    fn a_part_is_drawn_over_its_bar_never_beyond_it() {
        let mut a = bar("a", 100);
        a.part = Some(40);
        let mut b = bar("b", 50);
        b.part = Some(500);
        let mut c = bar("c", 10);
        c.part = Some(-1);
        let svg = bars("t", &[a, b, c], false);
        assert_eq!(rect_widths(&svg, "chart-part"), ["40%", "50%"]);
    }

    #[test]
    fn empty_series_draw_nothing() {
        assert_eq!(bars("t", &[], true), "");
        assert_eq!(columns("t", &[], true), "");
        assert_eq!(bars_with_table("t", &[], true, "s", ["a", "b"]), "");
        assert_eq!(columns_with_table("t", &[], false, "s", ["a", "b"]), "");
    }

    #[test]
    fn long_labels_are_shortened_in_the_drawing_only() {
        let long = "ا".repeat(60);
        let out = bars_with_table("t", &[bar(&long, 1)], true, "s", ["a", "b"]);
        assert!(out.contains(&format!("{}…", "ا".repeat(LABEL_CHARS - 1))));
        assert!(
            out.contains(&format!("<th scope=\"row\">{long}</th>")),
            "the table has it whole"
        );
        assert!(out.contains(&format!("<title>{long}: 1</title>")));
    }

    #[test]
    fn columns_run_from_the_start_of_the_reading_direction() {
        let pts: Vec<Point> = (1..=2)
            .map(|i| Point {
                label: format!("m{i}"),
                value: Some(i),
                shown: i.to_string(),
            })
            .collect();
        let ltr = columns("t", &pts, false);
        let rtl = columns("t", &pts, true);
        // Six slots at least: left to right the second period in the second slot (x = 116), right
        // to left the first period in the last slot (x = 284).
        assert!(ltr.contains("<rect x=\"116\""), "{ltr}");
        assert!(rtl.contains("<rect x=\"284\""), "{rtl}");
        assert!(ltr.find(">m1<") < ltr.find(">m2<"));
        assert!(rtl.contains("text-anchor=\"start\"") && ltr.contains("text-anchor=\"end\""));
    }

    #[test]
    fn columns_are_drawn_at_their_own_size_in_a_scrolling_box() {
        let pts: Vec<Point> = (1..=12)
            .map(|i| Point {
                label: format!("1404/{i:02}"),
                value: Some(i),
                shown: i.to_string(),
            })
            .collect();
        let svg = columns("t", &pts, true);
        // One user unit a CSS pixel: the 12 px text is not scaled down on a narrow screen
        // (it was drawn at 100% of a 330 px phone column: about 7 px); the box scrolls instead.
        assert!(svg.starts_with("<div class=\"chart-scroll\""), "{svg}");
        assert!(
            svg.contains("width=\"584\" height=\"240\" viewBox=\"0 0 584 240\""),
            "{svg}"
        );
        assert!(svg.ends_with("</svg></div>"));
    }

    #[test]
    fn percentages_are_printed_exactly() {
        assert_eq!(pct(10_000), "100%");
        assert_eq!(pct(2_550), "25.5%");
        assert_eq!(pct(5), "0.05%");
        assert_eq!(share(1, 3), 3_333);
        assert_eq!(share(i64::MAX, i64::MAX), 10_000);
        assert_eq!(share(5, 0), 0);
    }
}
