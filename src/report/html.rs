//! The report as one HTML file with inline CSS and SVG: it opens offline, attaches to an
//! e-mail or a LIMS record, and needs no script.
use std::fmt::Write;

use super::{Histogram, Report, Table};

/// Rows of a score table shown on the page; the rest stay in the TSV.
const MAX_TABLE_ROWS: usize = 100;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn opt(x: Option<f64>, digits: usize) -> String {
    x.map(|v| format!("{v:.digits$}"))
        .unwrap_or_else(|| "n/a".into())
}

/// Horizontal-axis bar chart of labelled counts.
fn bars(title: &str, labels: &[String], counts: &[u64]) -> String {
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let (bar_w, gap, h, top, bottom, left) = (22.0, 4.0, 120.0, 16.0, 56.0, 40.0);
    let width = labels.len() as f64 * (bar_w + gap) + left + 10.0;
    let mut s = String::new();
    let _ = write!(
        s,
        "<figure><figcaption>{}</figcaption><svg width=\"{width}\" height=\"{}\" role=\"img\">",
        esc(title),
        top + h + bottom
    );
    for (i, (label, &n)) in labels.iter().zip(counts).enumerate() {
        let x = left + i as f64 * (bar_w + gap);
        let bh = n as f64 / max * h;
        let _ = write!(
            s,
            "<rect x=\"{x}\" y=\"{:.1}\" width=\"{bar_w}\" height=\"{bh:.1}\"><title>{}: {n}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"n\">{n}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"l\" transform=\"rotate(-60 {:.1} {:.1})\">{}</text>",
            top + h - bh,
            esc(label),
            x + bar_w / 2.0,
            top + h - bh - 3.0,
            x + bar_w / 2.0,
            top + h + 12.0,
            x + bar_w / 2.0,
            top + h + 12.0,
            esc(label)
        );
    }
    s.push_str("</svg></figure>\n");
    s
}

fn histogram(title: &str, h: &Histogram, digits: usize) -> String {
    if h.counts.iter().all(|&n| n == 0) {
        // Other callers' VCFs often lack GQ, DP or AD; say so rather than draw empty bars.
        return format!(
            "<figure><figcaption>{}</figcaption><p class=\"note\">Not in this VCF.</p></figure>\n",
            esc(title)
        );
    }
    let labels: Vec<String> = h
        .edges
        .iter()
        .enumerate()
        .map(|(i, e)| match h.edges.get(i + 1) {
            Some(next) => format!("{e:.digits$}-{next:.digits$}"),
            None => format!("≥{e:.digits$}"),
        })
        .collect();
    bars(title, &labels, &h.counts)
}

fn table(t: &Table) -> String {
    let mut s = String::from("<table><tr>");
    for c in &t.columns {
        let _ = write!(s, "<th>{}</th>", esc(c));
    }
    s.push_str("</tr>\n");
    for row in t.rows.iter().take(MAX_TABLE_ROWS) {
        s.push_str("<tr>");
        for v in row {
            let _ = write!(s, "<td>{}</td>", esc(v));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
    if t.rows.len() > MAX_TABLE_ROWS {
        let _ = writeln!(
            s,
            "<p>{} more rows in <code>{}</code>.</p>",
            t.rows.len() - MAX_TABLE_ROWS,
            esc(&t.file)
        );
    } else {
        let _ = writeln!(s, "<p>From <code>{}</code>.</p>", esc(&t.file));
    }
    s
}

fn kv(rows: &[(&str, String)]) -> String {
    let mut s = String::from("<table class=\"kv\">\n");
    for (k, v) in rows {
        let _ = writeln!(s, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    }
    s.push_str("</table>\n");
    s
}

/// The page.
pub fn render(r: &Report) -> String {
    let s = &r.stats;
    let p = &r.provenance;
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>varstream report: {}</title><style>\
         body{{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}}\
         table{{border-collapse:collapse;margin:.5em 0}}th,td{{border:1px solid #ccc;padding:2px 8px;text-align:left}}\
         table.kv th{{background:#f4f4f4}}figure{{display:inline-block;margin:.5em 1em .5em 0}}\
         figcaption{{font-weight:bold}}rect{{fill:#4a7bb7}}text{{font-size:9px}}text.n{{text-anchor:middle}}\
         text.l{{text-anchor:end}}.note{{color:#555;font-size:90%}}\
         </style></head><body>\n<h1>Sample {}</h1>\n",
        esc(&r.sample),
        esc(&r.sample)
    );
    o.push_str("<h2>Run</h2>\n");
    let na = || "not recorded".to_string();
    o.push_str(&kv(&[
        ("VCF", r.vcf.clone()),
        ("Caller", p.source.clone().unwrap_or_else(na)),
        ("Model", p.model.clone().unwrap_or_else(na)),
        ("Reference", p.reference.clone().unwrap_or_else(na)),
        ("Command", p.command.clone().unwrap_or_else(na)),
        ("Report", r.generated_by.clone()),
    ]));
    o.push_str("<h2>Calls</h2>\n");
    let filters = s
        .filters
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    o.push_str(&kv(&[
        ("Records", s.records.to_string()),
        ("By FILTER", filters),
        ("PASS calls (non-reference genotype)", s.calls.to_string()),
        ("SNV alleles", s.types.snv.to_string()),
        ("Insertion alleles", s.types.insertion.to_string()),
        ("Deletion alleles", s.types.deletion.to_string()),
        (
            "MNP / complex alleles",
            format!("{} / {}", s.types.mnp, s.types.complex),
        ),
        ("Multi-allelic calls", s.multiallelic.to_string()),
        (
            "Het / hom-alt / het-alt / hemizygous",
            format!(
                "{} / {} / {} / {}",
                s.zygosity.het, s.zygosity.hom_alt, s.zygosity.het_alt, s.zygosity.hemizygous
            ),
        ),
        ("Het/hom ratio", opt(s.het_hom_ratio, 2)),
        (
            "Ti/Tv (SNVs)",
            format!(
                "{} ({} / {})",
                opt(s.ti_tv, 2),
                s.transitions,
                s.transversions
            ),
        ),
    ]));
    o.push_str(
        "<p class=\"note\">Whole-genome germline calls usually show Ti/Tv near 2.0-2.1 and a \
         het/hom ratio of 1.5-2 (lower in consanguineous samples); far-off values on a \
         genome-wide run suggest contamination, a wrong sample or many false calls. Small \
         regions vary more.</p>\n",
    );
    o.push_str("<h2>Distributions of PASS calls</h2>\n");
    o.push_str(&histogram("QUAL", &s.qual, 0));
    o.push_str(&histogram("GQ", &s.gq, 0));
    o.push_str(&histogram("Depth (DP)", &s.dp, 0));
    o.push_str(&histogram("Allele fraction (VAF)", &s.vaf, 2));
    let (labels, counts): (Vec<String>, Vec<u64>) = s
        .indel_lengths
        .iter()
        .map(|&(len, n)| {
            let l = match len {
                21 => ">+20".to_string(),
                -21 => "<-20".to_string(),
                l if l > 0 => format!("+{l}"),
                l => l.to_string(),
            };
            (l, n)
        })
        .unzip();
    if !labels.is_empty() {
        o.push_str(&bars("Indel length (bases gained)", &labels, &counts));
    }
    if !s.per_contig.is_empty() {
        let (labels, counts): (Vec<String>, Vec<u64>) = s.per_contig.iter().cloned().unzip();
        o.push_str(&bars("PASS calls per contig", &labels, &counts));
    }
    if let Some(t) = &r.prs {
        o.push_str("<h2>Polygenic scores</h2>\n");
        o.push_str(
            "<p class=\"note\">A score whose matched fraction is under the minimum overlap is \
             FAIL and has no value. Without a reference distribution a raw SUM cannot be read \
             as a risk.</p>\n",
        );
        o.push_str(&table(t));
    }
    if let Some(t) = &r.expression {
        o.push_str("<h2>Predicted expression</h2>\n");
        o.push_str(&table(t));
    }
    o.push_str(
        "<h2>Limits</h2>\n<p class=\"note\">Research use. These calls and scores come from \
         software that has not been validated for clinical decisions; confirm any finding that \
         matters with an orthogonal method.</p>\n</body></html>\n",
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_histogram_says_so() {
        let h = Histogram {
            edges: vec![0.0, 10.0],
            counts: vec![0, 0],
        };
        assert!(histogram("GQ", &h, 0).contains("Not in this VCF."));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("<a href=\"x\">&"), "&lt;a href=&quot;x&quot;&gt;&amp;");
        let svg = bars("t", &["<b>".into()], &[3]);
        assert!(svg.contains("&lt;b&gt;: 3"));
        assert!(!svg.contains("<b>"));
    }
}
