//! The chart of an indicator as an accessible SVG document: the series as a line with its
//! points, the baseline as a dashed line, the targets as marks, a title and a description,
//! and the data as a table (XHTML in a `foreignObject`) for those who read rather than look.

use std::fmt::Write;

use super::indicators::Indicator;
use super::series::Point;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 360.0;
const MARGIN: f64 = 48.0;
/// Room below the plot for the data table.
const TABLE_ROW: f64 = 18.0;

/// Escapes text for XML.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn number(v: f64) -> String {
    let rounded = (v * 1000.0).round() / 1000.0;
    format!("{rounded}")
}

/// Draws `indicator`'s `series`.
pub fn svg(indicator: &Indicator, all: &[Point]) -> String {
    let i = &indicator.model;
    // Withheld values (a barometer of fewer than five answers) are in the table, not drawn.
    let series: Vec<(chrono::NaiveDate, f64)> = all
        .iter()
        .filter_map(|p| p.value.map(|v| (p.period, v)))
        .collect();
    let series = series.as_slice();
    let baseline = (i.baseline_period, i.baseline_value);
    let targets: Vec<_> = indicator
        .targets
        .iter()
        .map(|t| (t.due_on, t.value))
        .collect();
    let dates: Vec<_> = std::iter::once(baseline.0)
        .chain(series.iter().map(|p| p.0))
        .chain(targets.iter().map(|t| t.0))
        .collect();
    let values: Vec<f64> = std::iter::once(baseline.1)
        .chain(series.iter().map(|p| p.1))
        .chain(targets.iter().map(|t| t.1))
        .collect();
    let (first, last) = (
        dates.iter().min().copied().unwrap_or(baseline.0),
        dates.iter().max().copied().unwrap_or(baseline.0),
    );
    let (low, high) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(*v), h.max(*v))
        });
    let (low, high) = if (high - low).abs() < f64::EPSILON {
        (low - 1.0, high + 1.0)
    } else {
        (low, high)
    };
    let span_days = ((last - first).num_days() as f64).max(1.0);
    let x = |d: chrono::NaiveDate| {
        MARGIN + (d - first).num_days() as f64 / span_days * (WIDTH - 2.0 * MARGIN)
    };
    let y = |v: f64| HEIGHT - MARGIN - (v - low) / (high - low) * (HEIGHT - 2.0 * MARGIN);
    let rows = all.len() + targets.len() + 2;
    let total_height = HEIGHT + TABLE_ROW * rows as f64 + 8.0;
    let title = format!("{} ({})", i.name, i.unit);
    let latest = series
        .last()
        .map(|p| format!("latest {} for the period starting {}", number(p.1), p.0))
        .unwrap_or_else(|| "no measurement yet".into());
    let desc = format!(
        "{} measured {}, {} is better. Baseline {} for the period starting {}; {}; {} target(s). Source: {}.",
        i.name,
        format!("{:?}", i.periodicity).to_lowercase(),
        match i.direction {
            entity::Direction::Increase => "higher",
            entity::Direction::Decrease => "lower",
        },
        number(i.baseline_value),
        i.baseline_period,
        latest,
        targets.len(),
        i.source
    );
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{total_height}" viewBox="0 0 {WIDTH} {total_height}" role="img" aria-labelledby="title desc"><title id="title">{}</title><desc id="desc">{}</desc>"#,
        esc(&title),
        esc(&desc)
    );
    let _ = write!(
        out,
        r##"<g class="axes" stroke="#444" stroke-width="1"><line x1="{MARGIN}" y1="{b}" x2="{r}" y2="{b}"/><line x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{b}"/></g><text x="{MARGIN}" y="{ty}" font-size="11" text-anchor="start">{first}</text><text x="{r}" y="{ty}" font-size="11" text-anchor="end">{last}</text><text x="4" y="{yl}" font-size="11">{lo}</text><text x="4" y="{yh}" font-size="11">{hi}</text>"##,
        b = HEIGHT - MARGIN,
        r = WIDTH - MARGIN,
        ty = HEIGHT - MARGIN + 16.0,
        yl = y(low),
        yh = y(high) + 4.0,
        lo = number(low),
        hi = number(high),
    );
    let _ = write!(
        out,
        r##"<line class="baseline" x1="{MARGIN}" y1="{by}" x2="{r}" y2="{by}" stroke="#888" stroke-dasharray="6 4"><title>baseline {bv}</title></line>"##,
        by = y(baseline.1),
        r = WIDTH - MARGIN,
        bv = number(baseline.1),
    );
    for (due, value) in &targets {
        let _ = write!(
            out,
            r##"<circle class="target" cx="{}" cy="{}" r="6" fill="none" stroke="#c0392b" stroke-width="2"><title>target {} by {due}</title></circle>"##,
            x(*due),
            y(*value),
            number(*value),
        );
    }
    if !series.is_empty() {
        let points: Vec<String> = series
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.0), y(p.1)))
            .collect();
        let _ = write!(
            out,
            r##"<polyline class="series" fill="none" stroke="#1f5fa8" stroke-width="2" points="{}"/>"##,
            points.join(" ")
        );
        for (period, value) in series {
            let _ = write!(
                out,
                r##"<circle class="point" cx="{:.1}" cy="{:.1}" r="3" fill="#1f5fa8"><title>{period}: {}</title></circle>"##,
                x(*period),
                y(*value),
                number(*value),
            );
        }
    }
    let _ = write!(
        out,
        r#"<foreignObject x="0" y="{HEIGHT}" width="{WIDTH}" height="{}"><table xmlns="http://www.w3.org/1999/xhtml"><caption>{}</caption><thead><tr><th scope="col">period</th><th scope="col">kind</th><th scope="col">value</th></tr></thead><tbody>"#,
        total_height - HEIGHT,
        esc(&title)
    );
    let _ = write!(
        out,
        "<tr><td>{}</td><td>baseline</td><td>{}</td></tr>",
        baseline.0,
        number(baseline.1)
    );
    for p in all {
        let value = match (p.value, p.responses) {
            (Some(v), _) => number(v),
            (None, Some(n)) => format!("withheld ({n} answers, fewer than 5)"),
            (None, None) => "withheld".into(),
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>measured</td><td>{value}</td></tr>",
            p.period
        );
    }
    for (due, value) in &targets {
        let _ = write!(
            out,
            "<tr><td>{due}</td><td>target</td><td>{}</td></tr>",
            number(*value)
        );
    }
    out.push_str("</tbody></table></foreignObject></svg>");
    out
}
