//! Charts drawn as SVG on the server: the province map shaded by an indicator, bars per place,
//! columns per period. Colours come from classes in the stylesheet (the CSP refuses inline
//! styles); every chart has a title and a table beside it with the same figures.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::shapes::PROVINCE_SHAPES;

/// The number of shades of the map (class `rq0` lightest … `rq4` darkest; `rqn` no data).
pub(crate) const SHADES: usize = 5;

/// Escapes text for SVG/HTML.
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

/// The class of a value among `SHADES` equal steps from `min` to `max`.
pub(crate) fn shade(v: f64, min: f64, max: f64) -> usize {
    if max <= min {
        return SHADES / 2;
    }
    let i = ((v - min) / (max - min) * SHADES as f64).floor() as usize;
    i.min(SHADES - 1)
}

/// One step of the legend: its class and the range it shows (as text).
pub(crate) struct LegendStep {
    pub class: String,
    pub from: String,
    pub to: String,
}

/// The legend of a map for values from `min` to `max`, with `fmt` to show a bound.
pub(crate) fn legend(min: f64, max: f64, fmt: &dyn Fn(f64) -> String) -> Vec<LegendStep> {
    let step = (max - min) / SHADES as f64;
    (0..SHADES)
        .map(|i| LegendStep {
            class: format!("rq{i}"),
            from: fmt(min + step * i as f64),
            to: fmt(min + step * (i + 1) as f64),
        })
        .collect()
}

/// The map of Iran's provinces: each shaded by its value (or as having none), with its name
/// and value as a tooltip and a link to its page when `href` gives one.
pub(crate) fn province_map(
    values: &BTreeMap<String, f64>,
    title: &str,
    label: &dyn Fn(&str) -> String,
    href: &dyn Fn(&str) -> Option<String>,
) -> String {
    let (min, max) = values
        .values()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let mut s = String::with_capacity(24_000);
    let _ = write!(
        s,
        "<svg class=\"map\" viewBox=\"0 80 1040 930\" role=\"img\" aria-labelledby=\"map-title\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"map-title\">{}</title>",
        esc(title)
    );
    for (code, d) in PROVINCE_SHAPES {
        let class = match values.get(code) {
            Some(v) => format!("rq{}", shade(*v, min, max)),
            None => "rqn".to_owned(),
        };
        let tip = esc(&label(code));
        match href(code) {
            Some(h) => {
                let _ = write!(
                    s,
                    "<a href=\"{}\" aria-label=\"{tip}\"><path class=\"{class}\" d=\"{d}\"><title>{tip}</title></path></a>",
                    esc(&h)
                );
            }
            None => {
                let _ = write!(
                    s,
                    "<path class=\"{class}\" d=\"{d}\"><title>{tip}</title></path>"
                );
            }
        }
    }
    s.push_str("</svg>");
    s
}

/// Horizontal bars, largest first: (label, value, shown value).
pub(crate) fn bars(title: &str, rows: &[(String, i64, String)], rtl: bool) -> String {
    let row_h = 22;
    let label_w = 170;
    let bar_w = 330;
    let width = label_w + bar_w + 110;
    let height = row_h * rows.len().max(1) + 8;
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1) as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{}\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
        esc(title),
        esc(title)
    );
    for (i, (label, v, shown)) in rows.iter().enumerate() {
        let y = 4 + i * row_h;
        let w = ((*v).max(0) as f64 / max * bar_w as f64).round() as usize;
        let (lx, anchor_l, bx, tx, anchor_t) = if rtl {
            (
                width - 4,
                "end",
                width - label_w - w,
                width - label_w - w - 6,
                "end",
            )
        } else {
            (4, "start", label_w, label_w + w + 6, "start")
        };
        let _ = write!(
            s,
            "<text x=\"{lx}\" y=\"{}\" text-anchor=\"{anchor_l}\" class=\"lbl\">{}</text>\
             <rect x=\"{bx}\" y=\"{}\" width=\"{w}\" height=\"{}\" class=\"bar\"/>\
             <text x=\"{tx}\" y=\"{}\" text-anchor=\"{anchor_t}\" class=\"val\">{}</text>",
            y + 15,
            esc(label),
            y + 3,
            row_h - 6,
            y + 15,
            esc(shown)
        );
    }
    s.push_str("</svg>");
    s
}

/// Columns per period, oldest first: (period label, value).
pub(crate) fn columns(title: &str, points: &[(String, Option<i64>)], rtl: bool) -> String {
    let n = points.len().max(1);
    let col_w = 34;
    let gap = 8;
    let height = 200;
    let base = 160;
    let width = n * (col_w + gap) + 20;
    let max = points.iter().filter_map(|p| p.1).max().unwrap_or(0).max(1) as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{}\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>\
         <line x1=\"10\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" class=\"axis\"/>",
        esc(title),
        esc(title),
        width - 10
    );
    for (i, (label, v)) in points.iter().enumerate() {
        // Right to left: the oldest period at the right.
        let slot = if rtl { n - 1 - i } else { i };
        let x = 10 + slot * (col_w + gap) + gap / 2;
        if let Some(v) = v {
            let h = ((*v).max(0) as f64 / max * (base - 20) as f64).round() as usize;
            let _ = write!(
                s,
                "<rect x=\"{x}\" y=\"{}\" width=\"{col_w}\" height=\"{h}\" class=\"bar\"><title>{}</title></rect>",
                base - h,
                esc(&format!("{label}: {v}"))
            );
        }
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"tick\" transform=\"rotate(-45 {} {})\">{}</text>",
            x + col_w / 2,
            base + 14,
            x + col_w / 2,
            base + 14,
            esc(label)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_province_is_drawn_and_shaded_by_its_value() {
        let values: BTreeMap<String, f64> =
            [("23".to_owned(), 100.0), ("07".to_owned(), 0.0)].into();
        let svg = province_map(&values, "t", &|c| format!("p{c}"), &|c| {
            Some(format!("/reports/province/{c}"))
        });
        assert_eq!(svg.matches("<path").count(), 31);
        assert!(svg.contains("class=\"rq4\""), "Tehran has the most");
        assert!(svg.contains("class=\"rq0\""));
        assert_eq!(svg.matches("class=\"rqn\"").count(), 29);
        assert!(svg.contains("href=\"/reports/province/23\""));
        assert!(svg.len() < 40_000, "{}", svg.len());
    }

    #[test]
    fn shades_split_the_range_evenly() {
        assert_eq!(shade(0.0, 0.0, 10.0), 0);
        assert_eq!(shade(10.0, 0.0, 10.0), 4);
        assert_eq!(shade(5.0, 0.0, 10.0), 2);
        assert_eq!(shade(3.0, 3.0, 3.0), 2);
        let l = legend(0.0, 10.0, &|v| format!("{v}"));
        assert_eq!(l.len(), SHADES);
        assert_eq!(l[4].to, "10");
    }

    #[test]
    fn text_is_escaped() {
        let svg = bars("<x>", &[("a&b".into(), 3, "3".into())], true);
        assert!(svg.contains("a&amp;b") && svg.contains("&lt;x&gt;"));
    }
}
