//! Charts as inline SVG, made at build time: pure functions from numbers to a
//! string. No script, no external font or stylesheet.
//!
//! Colours come from the page: text, axes and single series use
//! `currentColor`; series and stacks use CSS custom properties with a
//! `currentColor` fallback (`var(--sev1,currentColor)`), so the theme sets them
//! for light and dark mode. Every element has a class (`chart`, `chart-line`,
//! `grid`, `bar`, `point`, `legend`, …) for further styling.
//!
//! Each chart is `role="img"` with an `aria-label` and a `<title>`; bars and
//! points carry their own `<title>` (shown on hover). All text is escaped.
//! Without data a chart is a small box that says "No data".
//!
//! The `*_chart` functions at the end draw the metrics page's standard charts
//! from `aggregate::Metrics`.

use crate::aggregate::{GroupStats, Metrics, Summary};
use std::fmt::Write as _;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 48.0;
// Room for half of the last x-axis label, which is centred on its tick.
const RIGHT: f64 = 28.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 28.0;
/// At most this many x-axis labels; the others are skipped evenly.
const MAX_X_LABELS: usize = 12;

/// A line of a line chart: `None` values leave a gap.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    pub name: &'a str,
    /// A CSS custom property for its colour, e.g. `--ttr` (see `css_var`).
    pub color: &'a str,
    pub values: &'a [Option<f64>],
}

/// One layer of a stacked bar chart.
#[derive(Debug, Clone, Copy)]
pub struct Stack<'a> {
    pub name: &'a str,
    pub color: &'a str,
    pub values: &'a [f64],
}

/// A CSS custom property name for a key: `SEV1` -> `--sev1`, `Checkout API` -> `--checkout-api`.
pub fn css_var(key: &str) -> String {
    let mut out = String::from("--");
    for c in key.chars() {
        match c {
            'a'..='z' | '0'..='9' | '-' | '_' => out.push(c),
            'A'..='Z' => out.push(c.to_ascii_lowercase()),
            _ if !out.ends_with('-') || out.len() == 2 => out.push('-'),
            _ => {}
        }
    }
    out
}

/// `var(--x,currentColor)` for a property name, whatever the caller passed.
fn color(var: &str) -> String {
    let name = css_var(var.trim_start_matches('-'));
    format!("var({name},currentColor)")
}

/// Escapes text for SVG element content and attribute values. XML 1.0
/// forbids most control characters, so they become spaces first.
pub fn escape(s: &str) -> String {
    if s.chars().any(char::is_control) {
        crate::render::escape(&s.replace(char::is_control, " "))
    } else {
        crate::render::escape(s)
    }
}

/// A number for a label: integers without decimals, others with one.
pub fn number(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

fn open(out: &mut String, kind: &str, title: &str, label: &str, width: f64, height: f64) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" viewBox="0 0 {width} {height}" role="img" aria-label="{}" font-size="11" fill="currentColor"><title>{}</title>"#,
        escape(label),
        escape(title)
    );
}

/// The chart that stands in when there is nothing to draw.
pub fn no_data(title: &str) -> String {
    let mut out = String::new();
    open(
        &mut out,
        "empty",
        title,
        &format!("{title}: no data"),
        WIDTH,
        60.0,
    );
    let _ = write!(
        out,
        r#"<rect class="frame" x="0.5" y="0.5" width="{}" height="59" fill="none" stroke="currentColor" stroke-opacity="0.3"/><text class="no-data" x="{}" y="34" text-anchor="middle">No data</text></svg>"#,
        WIDTH - 1.0,
        WIDTH / 2.0
    );
    out
}

/// A round upper bound for an axis and its step: 0..=max in 1, 2 or 5 times a power of ten.
fn nice_axis(max: f64) -> (f64, f64) {
    if max <= 0.0 || !max.is_finite() {
        return (1.0, 1.0);
    }
    let raw = max / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let step = if max.fract() == 0.0 && max <= 4.0 {
        1.0
    } else {
        step
    };
    ((max / step).ceil() * step, step)
}

/// Horizontal grid lines with their values on the left.
fn y_axis(out: &mut String, top: f64, unit: &str) {
    let (_, step) = nice_axis(top);
    let mut v = 0.0;
    while v <= top + step / 2.0 {
        let y = y_of(v, top);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="currentColor" stroke-opacity="0.15"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            escape(&number(v))
        );
        v += step;
    }
    if !unit.is_empty() {
        let _ = write!(
            out,
            r#"<text class="unit" x="4" y="{:.1}">{}</text>"#,
            TOP - 14.0,
            escape(unit)
        );
    }
}

fn y_of(v: f64, top: f64) -> f64 {
    TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - v / top)
}

/// Labels under the plot, at most `MAX_X_LABELS` of them.
fn x_labels<S: AsRef<str>>(out: &mut String, labels: &[S], x_of: impl Fn(usize) -> f64) {
    let every = labels.len().div_ceil(MAX_X_LABELS).max(1);
    for (i, label) in labels.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let _ = write!(
            out,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x_of(i),
            HEIGHT - BOTTOM + 16.0,
            escape(label.as_ref())
        );
    }
}

/// Coloured keys above the plot.
fn legend(out: &mut String, entries: &[(&str, &str)]) {
    let mut x = LEFT;
    out.push_str(r#"<g class="legend">"#);
    for (name, var) in entries {
        let _ = write!(
            out,
            r#"<rect x="{x:.1}" y="6" width="10" height="10" style="fill:{}"/><text x="{:.1}" y="15">{}</text>"#,
            color(var),
            x + 14.0,
            escape(name)
        );
        x += 24.0 + 6.5 * name.chars().count() as f64;
    }
    out.push_str("</g>");
}

fn summary_label<S: AsRef<str>>(title: &str, labels: &[S]) -> String {
    match (labels.first(), labels.last()) {
        (Some(first), Some(last)) if labels.len() > 1 => {
            format!(
                "{title}: {} points, {} to {}",
                labels.len(),
                first.as_ref(),
                last.as_ref()
            )
        }
        (Some(first), _) => format!("{title}: {}", first.as_ref()),
        _ => title.to_string(),
    }
}

/// Lines over shared x labels (e.g. months). Gaps where a value is `None`.
pub fn line_chart<S: AsRef<str>>(
    title: &str,
    labels: &[S],
    series: &[Series],
    unit: &str,
) -> String {
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .copied()
        .fold(f64::NAN, f64::max);
    if labels.is_empty() || max.is_nan() {
        return no_data(title);
    }
    let (top, _) = nice_axis(max);
    let n = labels.len();
    let plot = WIDTH - LEFT - RIGHT;
    let x_of = |i: usize| {
        if n == 1 {
            LEFT + plot / 2.0
        } else {
            LEFT + plot * i as f64 / (n - 1) as f64
        }
    };
    let mut out = String::new();
    open(
        &mut out,
        "line",
        title,
        &summary_label(title, labels),
        WIDTH,
        HEIGHT,
    );
    y_axis(&mut out, top, unit);
    x_labels(&mut out, labels, x_of);
    legend(
        &mut out,
        &series.iter().map(|s| (s.name, s.color)).collect::<Vec<_>>(),
    );
    for s in series {
        let stroke = color(s.color);
        let _ = write!(
            out,
            r#"<g class="series" style="stroke:{stroke};fill:{stroke}">"#
        );
        // One path per run of values without a gap.
        let mut d = String::new();
        let mut pen_down = false;
        for (i, v) in s.values.iter().enumerate().take(n) {
            match v {
                Some(v) => {
                    let _ = write!(
                        d,
                        "{}{:.1},{:.1}",
                        if pen_down { " L" } else { " M" },
                        x_of(i),
                        y_of(*v, top)
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let _ = write!(
            out,
            r#"<path class="line" d="{}" fill="none" stroke-width="2"/>"#,
            d.trim_start()
        );
        for (i, v) in s.values.iter().enumerate().take(n) {
            if let Some(v) = v {
                let _ = write!(
                    out,
                    r#"<circle class="point" cx="{:.1}" cy="{:.1}" r="3"><title>{}: {} {}</title></circle>"#,
                    x_of(i),
                    y_of(*v, top),
                    escape(labels[i].as_ref()),
                    escape(&number(*v)),
                    escape(&format!("{unit} ({})", s.name))
                );
            }
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

/// Vertical bars, one per label, each split into stacks (e.g. incidents per month by severity).
pub fn stacked_bars<S: AsRef<str>>(title: &str, labels: &[S], stacks: &[Stack]) -> String {
    let n = labels.len();
    let totals: Vec<f64> = (0..n)
        .map(|i| stacks.iter().filter_map(|s| s.values.get(i)).sum())
        .collect();
    let max = totals.iter().copied().fold(0.0, f64::max);
    if n == 0 || max <= 0.0 {
        return no_data(title);
    }
    let (top, _) = nice_axis(max);
    let slot = (WIDTH - LEFT - RIGHT) / n as f64;
    let bar = (slot * 0.7).max(1.0);
    let x_of = |i: usize| LEFT + slot * (i as f64 + 0.5);
    let mut out = String::new();
    open(
        &mut out,
        "stacked",
        title,
        &summary_label(title, labels),
        WIDTH,
        HEIGHT,
    );
    y_axis(&mut out, top, "");
    x_labels(&mut out, labels, x_of);
    legend(
        &mut out,
        &stacks.iter().map(|s| (s.name, s.color)).collect::<Vec<_>>(),
    );
    for (i, label) in labels.iter().enumerate() {
        let mut base = 0.0;
        for s in stacks {
            let v = s.values.get(i).copied().unwrap_or(0.0);
            if v <= 0.0 {
                continue;
            }
            let (y0, y1) = (y_of(base, top), y_of(base + v, top));
            let _ = write!(
                out,
                r#"<rect class="bar" x="{:.1}" y="{y1:.1}" width="{bar:.1}" height="{:.1}" style="fill:{}"><title>{} {}: {}</title></rect>"#,
                x_of(i) - bar / 2.0,
                y0 - y1,
                color(s.color),
                escape(label.as_ref()),
                escape(s.name),
                escape(&number(v))
            );
            base += v;
        }
    }
    out.push_str("</svg>");
    out
}

/// One horizontal bar per row (e.g. median TTR per service), largest scale first as given.
pub fn horizontal_bars<S: AsRef<str>>(title: &str, rows: &[(S, f64)], unit: &str) -> String {
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max);
    if rows.is_empty() {
        return no_data(title);
    }
    const ROW: f64 = 22.0;
    let label_width = rows
        .iter()
        .map(|r| r.0.as_ref().chars().count().min(28))
        .max()
        .unwrap_or(0) as f64
        * 6.5
        + 12.0;
    let label_width = label_width.clamp(60.0, 200.0);
    let value_room = 70.0;
    let plot = WIDTH - label_width - value_room;
    let height = TOP + ROW * rows.len() as f64 + 8.0;
    let mut out = String::new();
    open(
        &mut out,
        "hbar",
        title,
        &format!("{title}: {} rows", rows.len()),
        WIDTH,
        height,
    );
    if !unit.is_empty() {
        let _ = write!(
            out,
            r#"<text class="unit" x="{:.1}" y="16">{}</text>"#,
            label_width,
            escape(unit)
        );
    }
    for (i, (label, v)) in rows.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let w = if max > 0.0 {
            plot * v.max(0.0) / max
        } else {
            0.0
        };
        let label = label.as_ref();
        let shown: String = if label.chars().count() > 28 {
            label.chars().take(27).chain(['…']).collect()
        } else {
            label.to_string()
        };
        let _ = write!(
            out,
            r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect class="bar" x="{label_width:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" style="fill:var(--bar,currentColor)"><title>{}: {} {}</title></rect><text class="value" x="{:.1}" y="{:.1}">{}</text>"#,
            label_width - 6.0,
            y + 15.0,
            escape(&shown),
            y + 3.0,
            ROW - 6.0,
            escape(label),
            escape(&number(*v)),
            escape(unit),
            label_width + w + 4.0,
            y + 15.0,
            escape(&number(*v))
        );
    }
    out.push_str("</svg>");
    out
}

/// A word-sized trend line without axes (e.g. incidents per month on a service page).
pub fn sparkline(title: &str, values: &[Option<f64>]) -> String {
    const W: f64 = 120.0;
    const H: f64 = 24.0;
    let max = values.iter().flatten().copied().fold(f64::NAN, f64::max);
    let min = values.iter().flatten().copied().fold(f64::NAN, f64::min);
    if max.is_nan() {
        let mut out = String::new();
        open(&mut out, "spark", title, &format!("{title}: no data"), W, H);
        let _ = write!(
            out,
            r#"<text class="no-data" x="{}" y="16" text-anchor="middle">no data</text></svg>"#,
            W / 2.0
        );
        return out;
    }
    let n = values.len();
    let span = if max > min { max - min } else { 1.0 };
    let x_of = |i: usize| {
        if n == 1 {
            W / 2.0
        } else {
            2.0 + (W - 4.0) * i as f64 / (n - 1) as f64
        }
    };
    let y_of = |v: f64| {
        if max > min {
            H - 3.0 - (H - 6.0) * (v - min) / span
        } else {
            H / 2.0
        }
    };
    let last = values.iter().rposition(Option::is_some);
    let label = format!(
        "{title}: {} values, from {} to {}",
        values.iter().flatten().count(),
        number(min),
        number(max)
    );
    let mut out = String::new();
    open(&mut out, "spark", title, &label, W, H);
    let mut d = String::new();
    let mut pen_down = false;
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => {
                let _ = write!(
                    d,
                    "{}{:.1},{:.1}",
                    if pen_down { " L" } else { " M" },
                    x_of(i),
                    y_of(*v)
                );
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    let _ = write!(
        out,
        r#"<path class="line" d="{}" fill="none" stroke="currentColor" stroke-width="1.5"/>"#,
        d.trim_start()
    );
    if let Some(i) = last {
        let v = values[i].unwrap_or_default();
        let _ = write!(
            out,
            r#"<circle class="point" cx="{:.1}" cy="{:.1}" r="2"/>"#,
            x_of(i),
            y_of(v)
        );
    }
    out.push_str("</svg>");
    out
}

fn keys(groups: &[GroupStats]) -> Vec<&str> {
    groups.iter().map(|g| g.key.as_str()).collect()
}

/// Mean TTR and mean TTD by month, in minutes.
pub fn durations_by_month_chart(m: &Metrics) -> String {
    let mean =
        |f: fn(&GroupStats) -> &Summary| m.by_month.iter().map(|g| f(g).mean).collect::<Vec<_>>();
    let ttr = mean(|g| &g.ttr_minutes);
    let ttd = mean(|g| &g.ttd_minutes);
    line_chart(
        "Mean time to resolve and to detect, by month",
        &keys(&m.by_month),
        &[
            Series {
                name: "MTTR",
                color: "--ttr",
                values: &ttr,
            },
            Series {
                name: "MTTD",
                color: "--ttd",
                values: &ttd,
            },
        ],
        "minutes",
    )
}

/// Incidents per month, stacked by severity (colours `--sev1`, `--sev2`, …).
pub fn incidents_by_month_chart(m: &Metrics) -> String {
    let labels: Vec<&str> = m.counts_by_month.iter().map(|c| c.month.as_str()).collect();
    let names: Vec<&str> = m.counts_by_month.first().map_or(vec![], |c| {
        c.by_severity.iter().map(|s| s.severity.as_str()).collect()
    });
    let values: Vec<Vec<f64>> = (0..names.len())
        .map(|k| {
            m.counts_by_month
                .iter()
                .map(|c| c.by_severity[k].count as f64)
                .collect()
        })
        .collect();
    let vars: Vec<String> = names.iter().map(|n| css_var(n)).collect();
    let stacks: Vec<Stack> = names
        .iter()
        .zip(&values)
        .zip(&vars)
        .map(|((name, values), var)| Stack {
            name,
            color: var,
            values,
        })
        .collect();
    stacked_bars("Incidents by month and severity", &labels, &stacks)
}

/// Median time to resolve per service, in minutes (services without a resolved incident are left out).
pub fn ttr_by_service_chart(m: &Metrics) -> String {
    let rows: Vec<(&str, f64)> = m
        .by_service
        .iter()
        .filter_map(|g| Some((g.key.as_str(), g.ttr_minutes.median?)))
        .collect();
    horizontal_bars("Median time to resolve by service", &rows, "minutes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(svg: &str, needle: &str) -> usize {
        svg.matches(needle).count()
    }

    fn well_formed(svg: &str) {
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"), "{svg}");
        assert!(
            svg.contains(r#"role="img""#)
                && svg.contains("aria-label=\"")
                && svg.contains("<title>"),
            "{svg}"
        );
        // Nothing runs and nothing is fetched: the only URL is the namespace.
        assert!(!svg.contains("<script") && !svg.contains("href"), "{svg}");
        assert_eq!(count(svg, "http"), 1);
        assert_eq!(count(svg, "<svg"), 1);
        assert!(!svg.contains("NaN") && !svg.contains("inf\""), "{svg}");
    }

    #[test]
    fn line_chart_draws_a_point_per_value_and_breaks_at_gaps() {
        let a = [Some(10.0), None, Some(30.0), Some(20.0)];
        let b = [Some(1.0), Some(2.0), Some(3.0), Some(4.0)];
        let svg = line_chart(
            "TTR",
            &["2026-01", "2026-02", "2026-03", "2026-04"],
            &[
                Series {
                    name: "MTTR",
                    color: "--ttr",
                    values: &a,
                },
                Series {
                    name: "MTTD",
                    color: "--ttd",
                    values: &b,
                },
            ],
            "minutes",
        );
        well_formed(&svg);
        assert_eq!(count(&svg, "<circle"), 3 + 4);
        // The gap splits the first line into two runs: two `M`oves.
        let first_path = svg.split(r#"<path class="line" d=""#).nth(1).unwrap();
        assert_eq!(
            first_path.split('"').next().unwrap().matches('M').count(),
            2
        );
        assert!(svg.contains("var(--ttr,currentColor)") && svg.contains("var(--ttd,currentColor)"));
        assert!(
            svg.contains("<title>2026-03: 30 minutes (MTTR)</title>"),
            "{svg}"
        );
    }

    #[test]
    fn stacked_bars_draw_one_rect_per_nonzero_cell() {
        let sev1 = [1.0, 0.0, 2.0];
        let sev2 = [0.0, 3.0, 1.0];
        let svg = stacked_bars(
            "Incidents",
            &["2026-01", "2026-02", "2026-03"],
            &[
                Stack {
                    name: "SEV1",
                    color: "--sev1",
                    values: &sev1,
                },
                Stack {
                    name: "SEV2",
                    color: "--sev2",
                    values: &sev2,
                },
            ],
        );
        well_formed(&svg);
        assert_eq!(count(&svg, r#"<rect class="bar""#), 4);
        assert!(svg.contains("var(--sev1,currentColor)"));
        assert!(svg.contains("<title>2026-03 SEV2: 1</title>"));
        // The tallest bar (3) reaches the top of a 0..3 axis.
        assert!(svg.contains(&format!(r#"y="{TOP:.1}""#)), "{svg}");
    }

    #[test]
    fn horizontal_bars_scale_to_the_largest() {
        let svg = horizontal_bars(
            "By service",
            &[
                ("checkout", 100.0),
                ("search", 50.0),
                ("Very long service name that goes on and on", 0.0),
            ],
            "minutes",
        );
        well_formed(&svg);
        assert_eq!(count(&svg, r#"<rect class="bar""#), 3);
        assert!(svg.contains("Very long service name that…"));
        let widths: Vec<f64> = svg
            .split(r#"<rect class="bar""#)
            .skip(1)
            .map(|r| {
                r.split("width=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        assert_eq!(widths[1] * 2.0, widths[0]);
        assert_eq!(widths[2], 0.0);
    }

    #[test]
    fn sparkline_has_a_point_at_the_last_value() {
        let svg = sparkline(
            "Incidents per month",
            &[Some(1.0), Some(3.0), None, Some(2.0)],
        );
        well_formed(&svg);
        assert_eq!(count(&svg, "<circle"), 1);
        assert!(svg.contains("3 values, from 1 to 3"));
        // A flat line stays in the middle.
        let flat = sparkline("flat", &[Some(2.0), Some(2.0)]);
        assert!(flat.contains("M2.0,12.0 L118.0,12.0"), "{flat}");
    }

    #[test]
    fn text_is_escaped_everywhere() {
        let evil = r#"<script>alert("x")</script> & 'y'"#;
        let vals = [Some(1.0)];
        let svgs = [
            line_chart(
                evil,
                &[evil],
                &[Series {
                    name: evil,
                    color: "--a\"><script>",
                    values: &vals,
                }],
                evil,
            ),
            stacked_bars(
                evil,
                &[evil],
                &[Stack {
                    name: evil,
                    color: evil,
                    values: &[1.0],
                }],
            ),
            horizontal_bars(evil, &[(evil, 1.0)], evil),
            sparkline(evil, &vals),
            no_data(evil),
        ];
        for svg in &svgs {
            well_formed(svg);
            assert!(
                !svg.contains("<script>") && !svg.contains(r#""x""#),
                "{svg}"
            );
            assert!(
                svg.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"),
                "{svg}"
            );
        }
        assert!(
            svgs[0].contains("var(--a-script-,currentColor)"),
            "{}",
            svgs[0]
        );
    }

    #[test]
    fn empty_input_says_no_data() {
        let none: [Option<f64>; 2] = [None, None];
        let empty: [&str; 0] = [];
        for svg in [
            line_chart("T", &empty, &[], "m"),
            line_chart(
                "T",
                &["a", "b"],
                &[Series {
                    name: "s",
                    color: "--s",
                    values: &none,
                }],
                "m",
            ),
            stacked_bars(
                "T",
                &["a"],
                &[Stack {
                    name: "s",
                    color: "--s",
                    values: &[0.0],
                }],
            ),
            horizontal_bars::<&str>("T", &[], "m"),
        ] {
            well_formed(&svg);
            assert!(
                svg.contains("No data") && svg.contains(r#"aria-label="T: no data""#),
                "{svg}"
            );
        }
        let spark = sparkline("T", &none);
        well_formed(&spark);
        assert!(spark.contains("no data"));
    }

    #[test]
    fn axes_are_round() {
        assert_eq!(nice_axis(126.0), (150.0, 50.0));
        assert_eq!(nice_axis(3.0), (3.0, 1.0));
        assert_eq!(nice_axis(7.0), (8.0, 2.0));
        assert_eq!(nice_axis(0.0), (1.0, 1.0));
        assert_eq!(css_var("SEV1"), "--sev1");
        assert_eq!(css_var("Checkout API"), "--checkout-api");
        assert_eq!(
            (number(2.0), number(2.25)),
            ("2".to_string(), "2.2".to_string())
        );
    }

    #[test]
    fn the_metrics_charts_draw_the_fixture() {
        let m = &*crate::aggregate::tests::M;
        let line = durations_by_month_chart(m);
        well_formed(&line);
        // MTTR: Dec, Jan, Mar (Feb empty); MTTD: Dec, Jan, Mar.
        assert_eq!(count(&line, "<circle"), 6);
        let bars = incidents_by_month_chart(m);
        well_formed(&bars);
        // Dec SEV2, Jan SEV1, Mar SEV2 + SEV3.
        assert_eq!(count(&bars, r#"<rect class="bar""#), 4);
        let services = ttr_by_service_chart(m);
        well_formed(&services);
        assert_eq!(count(&services, r#"<rect class="bar""#), 3);
    }
}
