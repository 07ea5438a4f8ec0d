#![allow(unused_imports)]
//! The HTML report's sections, each written from the [`Report`].
use super::{Histogram, Report, Table};
use std::fmt::Write;

use super::*;

/// `1234567` → `1,234,567`.
pub(super) fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(super) fn called_section(o: &mut String, r: &Report) {
    open_section(o, "called");
    let Some(run) = &r.run else {
        o.push_str(
            "<p class=\"note\">No stats file was given, so the regions called, their depth and \
             the reads filtered are unknown here. <code>varstream call</code> writes \
             <code>PREFIX.stats.json</code>; pass it with <code>--stats</code>.</p>\n</section>\n",
        );
        return;
    };
    let st = &run.stats;
    let c = &st.coverage;
    o.push_str(&kv(&[
        (
            "Regions",
            format!(
                "{} interval(s), {} bp on {} contig(s)",
                st.regions.intervals,
                group(st.regions.bp),
                st.per_contig.len()
            ),
        ),
        ("Mean depth", format!("{:.1}x", c.mean())),
        (
            "Bases at ≥ 1x / 10x / 20x / 30x",
            format!(
                "{} / {} / {} / {}",
                pct(c.fraction_at_least(1)),
                pct(c.fraction_at_least(10)),
                pct(c.fraction_at_least(20)),
                pct(c.fraction_at_least(30))
            ),
        ),
        (
            "Read filters",
            format!(
                "MAPQ ≥ {}, base quality ≥ {}, depth capped at {}",
                st.read_filters.min_mapq, st.read_filters.min_baseq, st.read_filters.max_depth
            ),
        ),
    ]));
    o.push_str(
        "<h3>Depth per contig</h3><div class=\"wide\"><table><tr><th>contig</th>\
         <th class=\"n\">intervals</th><th class=\"n\">bases</th><th class=\"n\">mean depth</th>\
         <th class=\"n\">≥ 10x</th><th class=\"n\">≥ 20x</th></tr>\n",
    );
    for k in &st.per_contig {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.1}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&k.contig),
            k.intervals,
            group(k.coverage.bp),
            k.coverage.mean(),
            pct(k.coverage.fraction_at_least(10)),
            pct(k.coverage.fraction_at_least(20))
        );
    }
    o.push_str("</table></div>\n<h3>Reads</h3>");
    let rc = &st.reads;
    let share = |n: u64| {
        if rc.seen == 0 {
            "n/a".to_string()
        } else {
            format!("{:.2}%", 100.0 * n as f64 / rc.seen as f64)
        }
    };
    o.push_str(
        "<div class=\"wide\"><table><tr><th>records starting in the called regions</th>\
         <th class=\"n\">reads</th><th class=\"n\">share</th></tr>\n",
    );
    for (label, n) in [
        ("seen", rc.seen),
        (
            "unmapped, secondary, supplementary, duplicate or QC-fail",
            rc.flagged,
        ),
        ("MAPQ below the minimum", rc.low_mapq),
        ("another sample's read group", rc.other_sample),
        ("without sequence", rc.unusable),
        ("dropped by the depth cap", rc.downsampled),
        ("kept as evidence", rc.kept),
    ] {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(label),
            group(n),
            share(n)
        );
    }
    o.push_str("</table></div>\n");
    if let Some(ph) = &st.phasing {
        phasing_table(o, ph);
    }
    let _ = writeln!(
        o,
        "<p class=\"note\">Depth: {}. From <code>{}</code>.</p>\n</section>",
        esc(&st.depth_definition),
        esc(&run.file)
    );
}

/// `call --phase`: heterozygous PASS calls phased, blocks and block N50, per contig.
fn phasing_table(o: &mut String, ph: &crate::phasing::PhasingStats) {
    o.push_str(
        "<h3>Phasing</h3><div class=\"wide\"><table><tr><th>contig</th>\
         <th class=\"n\">heterozygous PASS calls</th><th class=\"n\">phased</th>\
         <th class=\"n\">blocks</th><th class=\"n\">block N50 (bp)</th>\
         <th class=\"n\">PhaseConflict</th></tr>\n",
    );
    let total = crate::phasing::ContigPhasing {
        contig: "all".into(),
        ..ph.total.clone()
    };
    for c in ph.contigs.iter().chain(std::iter::once(&total)) {
        let share = if c.het_calls == 0 {
            "n/a".to_string()
        } else {
            format!("{:.1}%", 100.0 * c.phased as f64 / c.het_calls as f64)
        };
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{} ({share})</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&c.contig),
            group(c.het_calls),
            group(c.phased),
            group(c.blocks),
            group(c.block_n50),
            group(c.conflicts)
        );
    }
    o.push_str(
        "</table></div>\n<p class=\"note\">Read-backed phasing (<code>call --phase</code>): \
         calls written <code>0|1</code> or <code>1|0</code> with the block's <code>PS</code>; a \
         block is at least two variants, its span first to last. <code>PhaseConflict</code>: \
         heterozygous calls filtered because their reads are split between the haplotypes of \
         their block (not counted as PASS).</p>\n",
    );
}

pub(super) fn sex_section(o: &mut String, r: &Report) {
    open_section(o, "sex");
    let x = &r.sex;
    let mut rows: Vec<(&str, String)> = Vec::new();
    match &x.call {
        Some(c) => {
            rows.push(("Call", format!("{} ({})", c.call, c.source)));
            if let Some(v) = c.x_depth_ratio {
                rows.push(("chrX / autosomal depth", format!("{v:.3}")));
            }
            if let Some(v) = c.y_depth_ratio {
                rows.push(("chrY / autosomal depth", format!("{v:.3}")));
            }
            if let Some(n) = &c.note {
                rows.push(("Note", n.clone()));
            }
        }
        None => rows.push((
            "Call",
            if x.status == "depth_only" {
                "not inferred".into()
            } else {
                "not assessed".into()
            },
        )),
    }
    if x.call.is_none() {
        if let Some(v) = x.autosomal_mean_depth {
            rows.push(("Autosomal mean depth", format!("{v:.1}x")));
        }
        if let Some(v) = x.x_mean_depth {
            rows.push((
                "chrX mean depth",
                format!("{v:.1}x (ratio {})", opt(x.x_depth_ratio, 3)),
            ));
        }
        if let Some(v) = x.y_mean_depth {
            rows.push((
                "chrY mean depth",
                format!("{v:.1}x (ratio {})", opt(x.y_depth_ratio, 3)),
            ));
        }
    }
    o.push_str(&kv(&rows));
    let _ = writeln!(o, "<p class=\"note\">{}</p>\n</section>", esc(&x.note));
}

pub(super) fn variants_section(o: &mut String, r: &Report) {
    open_section(o, "variants");
    let Some(f) = &r.findings else {
        o.push_str(
            "<p class=\"note\">No gene panel was given. With <code>--panel GENES.bed</code> \
             (and <code>--annotations clinvar.vcf.gz</code>) this lists the PASS calls inside \
             the panel with their annotations.</p>\n</section>\n",
        );
        return;
    };
    let _ = writeln!(
        o,
        "<p>{} PASS call(s) inside the panel <code>{}</code> ({} region(s), {} bp){}.</p>",
        f.calls.len(),
        esc(&f.panel),
        f.panel_regions,
        group(f.panel_bp),
        match &f.annotations {
            Some(a) => format!(
                "; {} match a record of <code>{}</code>",
                f.annotated,
                esc(a)
            ),
            None => "; no annotation VCF was given".into(),
        }
    );
    if !f.calls.is_empty() {
        o.push_str(
            "<div class=\"wide\"><table><tr><th>region</th><th>variant</th><th>genotype</th>\
             <th class=\"n\">GQ</th><th class=\"n\">DP</th><th class=\"n\">VAF</th>",
        );
        if f.annotations.is_some() {
            o.push_str("<th>annotation</th>");
        }
        o.push_str("</tr>\n");
        for c in &f.calls {
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}:{} {}&gt;{}</td><td>{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{}</td><td class=\"n\">{}</td>",
                esc(&c.region),
                esc(&c.chrom),
                c.pos,
                esc(&c.reference),
                esc(&c.alt),
                esc(&c.genotype),
                opt(c.gq, 0),
                opt(c.dp, 0),
                opt(c.vaf, 2)
            );
            if f.annotations.is_some() {
                let text = if c.annotations.is_empty() {
                    "no record".to_string()
                } else {
                    c.annotations
                        .iter()
                        .map(|a| {
                            let fields: Vec<String> =
                                a.info.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                            match a.id.as_str() {
                                "." | "" => fields.join("; "),
                                id => format!("{id} ({})", fields.join("; ")),
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(" | ")
                };
                let _ = write!(o, "<td>{}</td>", esc(&text));
            }
            o.push_str("</tr>\n");
        }
        o.push_str("</table></div>\n");
    }
    if !f.phase_groups.is_empty() {
        o.push_str(
            "<h3>Phase within regions</h3><div class=\"wide\"><table><tr><th>region</th>\
             <th>phase set</th><th>copy 1</th><th>copy 2</th><th>relation</th></tr>\n",
        );
        for g in &f.phase_groups {
            let set = if g.phase_set == 0 {
                format!("{} (whole chromosome)", esc(&g.chrom))
            } else {
                format!("{}:{}", esc(&g.chrom), g.phase_set)
            };
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{set}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&g.region),
                esc(&g.copy_1.join(", ")),
                esc(&g.copy_2.join(", ")),
                esc(&g.relation)
            );
        }
        o.push_str(
            "</table></div>\n<p class=\"note\">From the VCF's phased genotypes (e.g. \
             <code>call --phase</code>, read-backed): ALTs in one phase set are on the copy \
             shown. <em>In trans</em>: the two copies each carry one (compound \
             heterozygosity, if both are damaging); <em>in cis</em>: one copy carries them \
             all. Heterozygous ALTs without a phase, or alone in their phase set, are not \
             listed here.</p>\n",
        );
    }
    let _ = writeln!(
        o,
        "<p class=\"note\">Matching: {}.</p>\n</section>",
        esc(&f.normalisation)
    );
}

pub(super) fn scores_section(o: &mut String, r: &Report) {
    open_section(o, "scores");
    let mut any = false;
    if let Some(t) = &r.prs {
        any = true;
        o.push_str("<h3>Polygenic scores</h3>\n");
        let col = |name: &str, row: &[String]| t.cell(name, row);
        o.push_str(&pick(
            t,
            &[
                ("score", "score_id"),
                ("SUM", "SUM"),
                ("variants matched", "match_rate"),
                ("status", "status"),
                ("Z", "Z"),
                ("percentile", "percentile"),
                ("reference population", "reference_population"),
            ],
            |c, row| match c {
                "match_rate" => Some(format!(
                    "{} / {} ({})",
                    col("variants_matched", row)?,
                    col("variants_total", row)?,
                    pct(col("match_rate", row)?.parse().ok())
                )),
                "percentile" => col("percentile", row)?
                    .parse::<f64>()
                    .ok()
                    .map(|v| format!("{v:.1}")),
                "Z" => col("Z", row)?
                    .parse::<f64>()
                    .ok()
                    .map(|v| format!("{v:.2}")),
                _ => None,
            },
        ));
        let has_ref = t.columns.iter().any(|c| c == "percentile");
        o.push_str(if has_ref {
            "<p class=\"note\">Z and percentile place the SUM in the named reference \
             population's distribution; they mean little for a person from another \
             population. A FAIL score matched too few variants and has no value.</p>\n"
        } else {
            "<p class=\"note\">No reference distribution was given, so a SUM cannot be read \
             as high or low (<code>--reference-distribution</code> adds Z and percentile). A \
             FAIL score matched too few variants and has no value.</p>\n"
        });
    }
    if let Some(t) = &r.risk {
        any = true;
        o.push_str("<h3>Risk</h3>\n");
        let col = |name: &str, row: &[String]| t.cell(name, row);
        o.push_str(&pick(
            t,
            &[
                ("trait", "trait"),
                ("horizon", "horizon"),
                ("probability", "probability"),
                ("model", "model"),
                ("features missing", "features_missing"),
            ],
            |c, row| match c {
                "probability" => col("probability", row)?
                    .parse::<f64>()
                    .ok()
                    .map(|v| format!("{:.1}%", 100.0 * v)),
                "model" => Some(named_sha(
                    col("model", row).as_deref(),
                    col("model_sha256", row).as_deref(),
                )),
                _ => None,
            },
        ));
        for row in &t.rows {
            let _ = writeln!(
                o,
                "<p class=\"caveat\">Calibration: {}. Trained on: {}. A probability is only as \
                 good as the cohort it was calibrated in: for anyone unlike that cohort it may \
                 be far off, and it is not a diagnosis.</p>",
                esc(&col("calibration", row).unwrap_or_else(|| "not stated".into())),
                esc(&col("training_cohort", row).unwrap_or_else(|| "not stated".into()))
            );
        }
    }
    if let Some(t) = &r.expression {
        any = true;
        o.push_str("<h3>Predicted expression</h3>\n");
        o.push_str(&table(t));
    }
    if let Some(t) = &r.effects {
        any = true;
        o.push_str("<h3>Variant effects</h3>\n");
        o.push_str(&table(t));
    }
    if !any {
        o.push_str(
            "<p class=\"note\">No score tables were given (<code>--prs</code>, \
             <code>--risk</code>, <code>--expression</code>, <code>--effects</code>).</p>\n",
        );
    }
    o.push_str("</section>\n");
}
