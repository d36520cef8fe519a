//! The province map drawn as SVG on the server, shaded by an indicator (bars and columns are
//! drawn by `crate::charts`). Colours come from classes in the stylesheet (the CSP refuses
//! inline styles); the map has a title and a table beside it with the same figures.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::shapes::PROVINCE_SHAPES;
use crate::charts::esc;

/// The number of shades of the map (class `rq0` lightest … `rq4` darkest; `rqn` no data).
pub(crate) const SHADES: usize = 5;

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
}
