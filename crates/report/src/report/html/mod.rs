//! The report as one HTML file with inline CSS and SVG: it opens offline, attaches to an
//! e-mail or a LIMS record, prints on A4 or Letter, and needs no script. Each part of the
//! report is a `<section id=...>` so tests (and users' tools) can find it.
use std::fmt::Write;

use super::{Histogram, Report, Table};

/// Rows of a score table shown on the page; the rest stay in the TSV.
const MAX_TABLE_ROWS: usize = 100;
/// Hex digits of a checksum shown on the page (the JSON keeps the whole).
const SHORT_SHA: usize = 12;

/// The sections, in page order: (id, heading).
pub const SECTIONS: [(&str, &str); 9] = [
    ("summary", "Summary"),
    ("provenance", "Provenance"),
    ("called", "What was called"),
    ("sex", "Sex"),
    ("calls", "Calls"),
    ("distributions", "Distributions of PASS calls"),
    ("variants", "Variants in the gene panel"),
    ("scores", "Scores"),
    ("limits", "Limits"),
];

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:64em;margin:1.5em auto;\
padding:0 1em;color:#222;line-height:1.4}\
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:2px solid #4a7bb7;padding-bottom:2px;\
margin-top:1.6em}h3{font-size:1.05em;margin-bottom:.3em}\
table{border-collapse:collapse;margin:.5em 0;font-size:.92em}th,td{border:1px solid #ccc;padding:2px 8px;\
text-align:left;vertical-align:top}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\
table.kv th{background:#f4f4f4;font-weight:600}.wide{overflow-x:auto}\
figure{display:inline-block;margin:.5em 1.5em .5em 0;vertical-align:top}figcaption{font-weight:600;font-size:.92em}\
svg rect.bar{fill:#4a7bb7}svg text{font-size:9px;fill:#333}svg text.n{text-anchor:middle}\
svg text.l{text-anchor:end}svg text.c{text-anchor:middle}svg line.axis{stroke:#555}\
.note{color:#555;font-size:.9em}.caveat{border-left:4px solid #d9822b;background:#fdf5ec;padding:.4em .8em}\
.big{font-size:1.4em;font-weight:600}.tiles{display:flex;flex-wrap:wrap;gap:.6em}\
.tile{border:1px solid #ccc;border-radius:4px;padding:.4em .8em;min-width:9em}\
.tile .l{font-size:.85em;color:#555}code{font-size:.9em;word-break:break-all}\
@media print{body{max-width:none;margin:0;font-size:10pt}h2{break-after:avoid}\
section,figure,tr{break-inside:avoid}.wide{overflow:visible}a{color:inherit;text-decoration:none}\
@page{margin:15mm}}";

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

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.1}%", 100.0 * v))
        .unwrap_or_else(|| "n/a".into())
}

/// `name (0123456789ab)`.
fn named_sha(name: Option<&str>, sha: Option<&str>) -> String {
    match (name, sha) {
        (Some(n), Some(s)) => format!("{n} ({})", &s[..s.len().min(SHORT_SHA)]),
        (Some(n), None) => n.to_string(),
        (None, Some(s)) => s[..s.len().min(SHORT_SHA)].to_string(),
        (None, None) => "not recorded".into(),
    }
}

/// Vertical bars over labelled categories.
fn bars(title: &str, labels: &[String], counts: &[u64]) -> String {
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let (bar_w, gap, h, top, bottom, left) = (22.0, 4.0, 120.0, 16.0, 56.0, 10.0);
    let width = labels.len() as f64 * (bar_w + gap) + left + 10.0;
    let height = top + h + bottom;
    let mut s = String::new();
    let _ = write!(
        s,
        "<figure><figcaption>{}</figcaption><svg viewBox=\"0 0 {width} {height}\" \
         style=\"width:{width}px;max-width:100%\" role=\"img\">",
        esc(title)
    );
    for (i, (label, &n)) in labels.iter().zip(counts).enumerate() {
        let x = left + i as f64 * (bar_w + gap);
        let bh = n as f64 / max * h;
        let cx = x + bar_w / 2.0;
        let _ = write!(
            s,
            "<rect class=\"bar\" x=\"{x}\" y=\"{:.1}\" width=\"{bar_w}\" height=\"{bh:.1}\"><title>{}: {n}</title></rect>\
             <text x=\"{cx:.1}\" y=\"{:.1}\" class=\"n\">{n}</text>\
             <text x=\"{cx:.1}\" y=\"{:.1}\" class=\"l\" transform=\"rotate(-60 {cx:.1} {:.1})\">{}</text>",
            top + h - bh,
            esc(label),
            top + h - bh - 3.0,
            top + h + 12.0,
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

/// Indel lengths on a linear axis from −20 to +20 (0 stays empty), with the longer ones in
/// an end bin each side: a bar per base, so gaps show and the two sides compare.
fn indel_chart(lengths: &[(i64, u64)]) -> String {
    let count = |l: i64| lengths.iter().find(|(x, _)| *x == l).map_or(0, |(_, n)| *n);
    let bins: Vec<i64> = (-21..=21).collect();
    let max = bins.iter().map(|&l| count(l)).max().unwrap_or(0).max(1) as f64;
    let (bw, h, top, left) = (12.0, 110.0, 14.0, 36.0);
    let width = left + bins.len() as f64 * bw + 10.0;
    let height = top + h + 40.0;
    let y = |n: f64| top + h - n / max * h;
    let mut s = String::new();
    let _ = write!(
        s,
        "<figure><figcaption>Indel length (bases gained; deletions negative)</figcaption>\
         <svg viewBox=\"0 0 {width} {height}\" style=\"width:{width}px;max-width:100%\" role=\"img\">\
         <line class=\"axis\" x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>\
         <line class=\"axis\" x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\"/>\
         <text x=\"{}\" y=\"{}\" class=\"l\">{}</text><text x=\"{}\" y=\"{}\" class=\"l\">0</text>",
        top + h,
        width - 10.0,
        top + h,
        top + h,
        left - 3.0,
        top + 4.0,
        max as u64,
        left - 3.0,
        top + h + 3.0
    );
    for (i, &l) in bins.iter().enumerate() {
        let x = left + i as f64 * bw;
        let n = count(l);
        let label = match l {
            -21 => "<−20".to_string(),
            21 => ">+20".to_string(),
            l if l > 0 => format!("+{l}"),
            l => format!("{l}"),
        };
        if n > 0 {
            let _ = write!(
                s,
                "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\">\
                 <title>{}: {n}</title></rect>",
                x + 1.0,
                y(n as f64),
                bw - 2.0,
                top + h - y(n as f64),
                esc(&label)
            );
        }
        // Every fifth length, and the end bins (±20 itself would crowd them).
        if (l % 5 == 0 && l.abs() != 20) || l.abs() == 21 {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"c\">{}</text>",
                x + bw / 2.0,
                top + h + 12.0,
                esc(&label)
            );
        }
    }
    let _ = write!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" class=\"c\">length change (bp)</text></svg></figure>\n",
        left + bins.len() as f64 * bw / 2.0,
        top + h + 30.0
    );
    s
}

fn table(t: &Table) -> String {
    let mut s = String::from("<div class=\"wide\"><table><tr>");
    for c in &t.columns {
        let _ = write!(s, "<th>{}</th>", esc(c));
    }
    s.push_str("</tr>\n");
    for row in t.rows.iter().take(MAX_TABLE_ROWS) {
        s.push_str("<tr>");
        for v in row {
            let class = if v.parse::<f64>().is_ok() {
                " class=\"n\""
            } else {
                ""
            };
            let _ = write!(s, "<td{class}>{}</td>", esc(v));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table></div>\n");
    if t.rows.is_empty() {
        let _ = writeln!(
            s,
            "<p class=\"note\">No rows for this sample in <code>{}</code>.</p>",
            esc(&t.file)
        );
    } else if t.rows.len() > MAX_TABLE_ROWS {
        let _ = writeln!(
            s,
            "<p class=\"note\">{} more rows in <code>{}</code>.</p>",
            t.rows.len() - MAX_TABLE_ROWS,
            esc(&t.file)
        );
    } else {
        let _ = writeln!(
            s,
            "<p class=\"note\">From <code>{}</code>.</p>",
            esc(&t.file)
        );
    }
    s
}

/// A table of chosen columns (`header`, column name) of a scorer's TSV; absent columns are
/// left out.
fn pick(
    t: &Table,
    cols: &[(&str, &str)],
    format: impl Fn(&str, &[String]) -> Option<String>,
) -> String {
    let idx = |name: &str| t.columns.iter().position(|c| c == name);
    let shown: Vec<(&str, &str)> = cols
        .iter()
        .copied()
        .filter(|(_, c)| idx(c).is_some())
        .collect();
    let mut s = String::from("<div class=\"wide\"><table><tr>");
    for (h, _) in &shown {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr>\n");
    for row in t.rows.iter().take(MAX_TABLE_ROWS) {
        s.push_str("<tr>");
        for (_, c) in &shown {
            let v = format(c, row)
                .unwrap_or_else(|| idx(c).map(|i| row[i].clone()).unwrap_or_default());
            let class = if v.parse::<f64>().is_ok() {
                " class=\"n\""
            } else {
                ""
            };
            let _ = write!(s, "<td{class}>{}</td>", esc(&v));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table></div>\n");
    let _ = writeln!(
        s,
        "<p class=\"note\">From <code>{}</code>.</p>",
        esc(&t.file)
    );
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

fn tile(label: &str, value: &str) -> String {
    format!(
        "<div class=\"tile\"><div class=\"l\">{}</div><div class=\"big\">{}</div></div>",
        esc(label),
        esc(value)
    )
}

fn open_section(o: &mut String, id: &str) {
    let heading = SECTIONS
        .iter()
        .find(|(i, _)| *i == id)
        .map_or(id, |(_, h)| h);
    let _ = writeln!(o, "<section id=\"{id}\">\n<h2>{}</h2>", esc(heading));
}

/// `YYYY-MM-DD` of a Unix time (days-from-civil inverse, proleptic Gregorian, UTC).
pub fn civil_date(unix_secs: i64) -> String {
    let z = unix_secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as i64;
    format!("{y:04}-{m:02}-{d:02}")
}

/// The date the page is written: `SOURCE_DATE_EPOCH` when set (reproducible builds), else now.
fn run_date() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    civil_date(secs)
}

/// The page.
pub fn render(r: &Report) -> String {
    let s = &r.stats;
    let p = &r.provenance;
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>varstream report: {}</title><style>{STYLE}</style></head><body>\n\
         <h1>Sample {}</h1>\n<p class=\"note\">varstream {} report, written \
         <span id=\"run-date\">{}</span>, from <code>{}</code>.</p>\n",
        esc(&r.sample),
        esc(&r.sample),
        esc(&p.version),
        run_date(),
        esc(&r.vcf)
    );

    // Summary
    open_section(&mut o, "summary");
    o.push_str("<div class=\"tiles\">");
    o.push_str(&tile("PASS calls", &s.calls.to_string()));
    o.push_str(&tile(
        "SNV / indel alleles",
        &format!("{} / {}", s.types.snv, s.types.insertion + s.types.deletion),
    ));
    o.push_str(&tile("Ti/Tv", &opt(s.ti_tv, 2)));
    match &r.run {
        Some(run) => {
            let c = &run.stats.coverage;
            o.push_str(&tile("Bases called", &group(run.stats.regions.bp)));
            o.push_str(&tile("Mean depth", &format!("{:.1}x", c.mean())));
            o.push_str(&tile("Bases ≥ 20x", &pct(c.fraction_at_least(20))));
        }
        None => o.push_str(&tile("Depth", "no stats file")),
    }
    let sex = match &r.sex.call {
        Some(c) => c.call.clone(),
        None if r.sex.status == "depth_only" => "X/Y depth only".into(),
        None => "not assessed".into(),
    };
    o.push_str(&tile("Sex", &sex));
    if let Some(f) = &r.findings {
        o.push_str(&tile(
            "Panel calls (annotated)",
            &format!("{} ({})", f.calls.len(), f.annotated),
        ));
    }
    o.push_str("</div>\n</section>\n");

    // Provenance
    open_section(&mut o, "provenance");
    let na = || "not recorded".to_string();
    o.push_str(&kv(&[
        (
            "varstream",
            format!(
                "{} (commit {})",
                p.version,
                p.commit
                    .clone()
                    .unwrap_or_else(|| "not recorded in this build".into())
            ),
        ),
        ("Caller (VCF ##source)", p.source.clone().unwrap_or_else(na)),
        (
            "Genotyping model",
            named_sha(p.model_name.as_deref(), p.model_sha256.as_deref()),
        ),
        ("Reference", p.reference.clone().unwrap_or_else(na)),
        ("Calling command", p.command.clone().unwrap_or_else(na)),
        ("Report command", p.report_command.clone()),
        ("VCF", r.vcf.clone()),
    ]));
    o.push_str("</section>\n");

    called_section(&mut o, r);
    sex_section(&mut o, r);

    // Calls
    open_section(&mut o, "calls");
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
         regions vary more.</p>\n</section>\n",
    );

    // Distributions
    open_section(&mut o, "distributions");
    o.push_str(&histogram("QUAL", &s.qual, 0));
    o.push_str(&histogram("GQ", &s.gq, 0));
    o.push_str(&histogram("Depth (DP)", &s.dp, 0));
    o.push_str(&histogram("Allele fraction (VAF)", &s.vaf, 2));
    o.push_str(&indel_chart(&s.indel_lengths));
    if !s.per_contig.is_empty() {
        let (labels, counts): (Vec<String>, Vec<u64>) = s.per_contig.iter().cloned().unzip();
        o.push_str(&bars("PASS calls per contig", &labels, &counts));
    }
    o.push_str("</section>\n");

    variants_section(&mut o, r);
    scores_section(&mut o, r);

    open_section(&mut o, "limits");
    o.push_str(
        "<p class=\"note\">Research use. These calls and scores come from software that has \
         not been validated for clinical decisions; confirm any finding that matters with an \
         orthogonal method. Annotations are matched by allele only: their meaning for this \
         person needs a clinician and the full clinical picture.</p>\n</section>\n</body></html>\n",
    );
    o
}

mod sections;
use sections::*;

#[cfg(test)]
mod tests;
