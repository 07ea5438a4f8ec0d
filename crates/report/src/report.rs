//! Stage: report. One sample's calls (and any scores written beside them) summarised as JSON,
//! a self-contained HTML page and a MultiQC custom-content table.
//!
//! The numbers are the ones sequencing cores already read in `bcftools stats` and DeepVariant's
//! visual report: counts by FILTER and variant type, Ti/Tv, het/hom, indel lengths, and QUAL,
//! GQ, DP and VAF distributions. Counting rules, so they can be checked against those tools:
//! - A call is a record whose FILTER is PASS (or `.`) and whose sample genotype carries an ALT.
//! - Variant types count the ALT alleles in the genotype (a 1/2 call counts two alleles), each
//!   classified after trimming the bases it shares with REF.
//! - Het/hom: 0/1 is het, 1/1 hom-alt, 1/2 het-alt (two different ALTs).
//!
//! Version 2 adds what a sequencing core and a clinic read first: what was called and how well
//! it was covered (from the `PREFIX.stats.json` that `call` writes), the sample's sex when
//! known (else its X/Y depth), the scores with their reference population and the risk with
//! its calibration caveat, PASS calls inside a gene panel annotated from a VCF such as ClinVar
//! ([`findings`]), and provenance. The JSON follows `docs/report.schema.json`
//! ([`REPORT_VERSION`]).
//!
//! The JSON carries no timestamp, so the same inputs give byte-identical JSON; the HTML shows
//! the date it was written (`SOURCE_DATE_EPOCH` fixes it).
use std::path::{Path, PathBuf};

use crate::errors::BadInput;
use anyhow::{bail, Context, Result};
use rust_htslib::bcf::{self, record::Numeric, Read};

use crate::vcf_genotypes;

mod calls;
pub mod findings;
mod html;
mod model;

pub use calls::*;
pub use model::*;

use findings::{Finding, Findings, FindingsInputs, Panel};

/// Version of the report JSON's layout (`docs/report.schema.json`).
pub const REPORT_VERSION: u32 = 2;

/// Read the VCF and any score tables into a [`Report`].
pub fn build(inputs: &ReportInputs) -> Result<Report> {
    let path = &inputs.vcf;
    let mut reader = vcf_genotypes::open(path)?;
    let header = reader.header().clone();
    let samples = vcf_genotypes::header_samples(&reader);
    let sample_index =
        vcf_genotypes::sample_column(&samples, inputs.sample.as_deref(), path, "--sample", true)?;
    if !header_is_utf8(&header) {
        bail!("{}: the VCF header is not UTF-8", path.display());
    }
    let mut provenance = provenance(&header);
    provenance.report_command = inputs.command_line.clone();
    // Read the small inputs first: a wrong panel or stats file fails before the VCF is read.
    let run = match &inputs.stats {
        Some(p) => Some(RunSection {
            file: p.display().to_string(),
            stats: crate::run_stats::read(p).bad_input()?,
        }),
        None => None,
    };
    let panel = match &inputs.findings {
        Some(f) => Some(Panel::new(findings::read_panel(&f.panel).bad_input()?)),
        None => None,
    };
    let mut found: Vec<Finding> = Vec::new();
    // Contigs (by the contig-name rule) that hold a record: a panel on none of them lists
    // nothing, which is said rather than shown as an empty table.
    let mut record_contigs: std::collections::BTreeSet<String> = Default::default();
    let mut col = Collector::new();
    let mut rec = reader.empty_record();
    let mut n = 0u64;
    while let Some(r) = reader.read(&mut rec) {
        n += 1;
        r.with_context(|| format!("{}: cannot parse record {n}", path.display()))?;
        let contig = match rec.rid() {
            // The record's header, not `header`: htslib adds contigs and FILTERs the header
            // does not declare to the reader's header as it meets them.
            Some(rid) => vcf_genotypes::chrom_name(rec.header(), rid, path, n)?,
            None => bail!("{}: record {n} has no chromosome", path.display()),
        };
        vcf_genotypes::check_numeric_format(&rec, &[b"GT", b"GQ", b"DP", b"AD", b"VAF"], path, n)?;
        if panel.is_some() && !record_contigs.contains(&contig) {
            record_contigs.insert(contig.clone());
        }
        let locus = || format!("{}: at {contig}:{}", path.display(), rec.pos() + 1);
        let alleles = rec.alleles();
        let mut filters: Vec<String> = rec
            .filters()
            .map(|id| String::from_utf8_lossy(&rec.header().id_to_name(id)).into_owned())
            .collect();
        if filters.is_empty() {
            filters.push("PASS".into());
        }
        let qual = rec.qual();
        let gt = vcf_genotypes::genotypes(&rec, samples.len())[sample_index];
        let int_field = |tag: &[u8]| -> Option<Vec<i32>> {
            let v = rec.format(tag).integer().ok()?;
            Some(v.get(sample_index)?.to_vec())
        };
        let gq = int_field(b"GQ")
            .and_then(|v| v.first().copied())
            .filter(|x| !x.is_missing())
            .map(f64::from);
        let dp = int_field(b"DP")
            .and_then(|v| v.first().copied())
            .filter(|x| !x.is_missing())
            .map(f64::from);
        let n_alt = alleles.len().saturating_sub(1);
        let vaf = match rec.format(b"VAF").float() {
            Ok(v) => {
                let v = v.get(sample_index).map(|x| x.to_vec()).unwrap_or_default();
                (0..n_alt)
                    .map(|i| {
                        v.get(i)
                            .filter(|x| !x.is_missing() && !x.is_nan())
                            .map(|&x| x as f64)
                    })
                    .collect()
            }
            Err(_) => match int_field(b"AD") {
                Some(ad) if ad.len() == alleles.len() => {
                    let total: i64 = ad
                        .iter()
                        .filter(|x| !x.is_missing())
                        .map(|&x| x as i64)
                        .sum();
                    (0..n_alt)
                        .map(|i| {
                            (total > 0 && !ad[i + 1].is_missing())
                                .then(|| ad[i + 1] as f64 / total as f64)
                        })
                        .collect()
                }
                _ => vec![None; n_alt],
            },
        };
        let phase = vcf_genotypes::phased_alleles(&rec, sample_index).map(|alleles| {
            let set = int_field(b"PS")
                .and_then(|v| v.first().copied())
                .filter(|x| !x.is_missing() && *x > 0)
                .map_or(0, |x| x as u64);
            (set, alleles)
        });
        let r = Rec {
            contig: &contig,
            alleles,
            filters,
            qual: if qual.is_missing() {
                f64::NAN
            } else {
                qual as f64
            },
            gt,
            gq,
            dp,
            vaf,
            phase,
        };
        if r.gt
            .is_some_and(|g| g.alleles().iter().any(|&a| a as usize >= r.alleles.len()))
        {
            bail!(
                "{}: genotype names an allele the record does not list",
                locus()
            );
        }
        col.add(&r);
        if let Some(panel) = &panel {
            panel_calls(panel, &r, rec.pos() as u64, &mut found);
        }
    }
    let sample = samples[sample_index].clone();
    if let Some(run) = run.as_ref().filter(|r| r.stats.sample != sample) {
        log::warn!(
            "{} is for sample {}, the report for {sample}",
            run.file,
            run.stats.sample
        );
    }
    if let (Some(f), Some(panel)) = (&inputs.findings, &panel) {
        let keys: std::collections::BTreeSet<String> = record_contigs
            .iter()
            .map(|c| crate::contig_names::chrom_key(c))
            .collect();
        let panel_contigs = panel.contigs();
        if n > 0 && !panel_contigs.iter().any(|c| keys.contains(c)) {
            log::warn!(
                "panel BED {}: none of its {} region(s) lies on a contig with a record in {} \
                 (panel contigs {}; VCF contigs {}): no variant can be listed; is the panel for \
                 another build or region?",
                f.panel.display(),
                panel.regions(),
                path.display(),
                panel_contigs
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                record_contigs
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let findings = match (&inputs.findings, &panel) {
        (Some(f), Some(panel)) => Some(findings_section(f, panel, found)?),
        _ => None,
    };
    let table = |p: &Option<PathBuf>| -> Result<Option<Table>> {
        p.as_deref()
            .map(|p| read_table(p, &sample).bad_input())
            .transpose()
    };
    Ok(Report {
        report_version: REPORT_VERSION,
        generated_by: format!("varstream {}", crate::VERSION),
        vcf: path.display().to_string(),
        sex: sex_section(run.as_ref()),
        run,
        provenance,
        stats: col.finish(),
        findings,
        prs: table(&inputs.prs)?,
        risk: table(&inputs.risk)?,
        expression: table(&inputs.expression)?,
        effects: table(&inputs.effects)?,
        sample,
    })
}

/// The varstream version the report names.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The source commit, when the build recorded one (varstream-io's build script).
pub fn commit() -> Option<&'static str> {
    Some(crate::GIT_COMMIT).filter(|c| !c.is_empty())
}

/// The record's called ALT alleles that lie in the panel (its REF span overlaps a region).
fn panel_calls(panel: &Panel, r: &Rec, pos0: u64, out: &mut Vec<Finding>) {
    let Some(gt) = r.gt else { return };
    if gt.alleles().iter().all(|&a| a == 0) || !r.filters.iter().any(|f| f == "PASS") {
        return;
    }
    let end = pos0 + r.alleles[0].len().max(1) as u64;
    let Some(region) = panel.names_overlapping(r.contig, pos0, end) else {
        return;
    };
    let mut called: Vec<u16> = gt.alleles().iter().copied().filter(|&a| a > 0).collect();
    called.dedup();
    for a in called {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        out.push(Finding {
            region: region.clone(),
            chrom: r.contig.to_string(),
            pos: pos0 + 1,
            reference: text(r.alleles[0]),
            alt: text(r.alleles[a as usize]),
            genotype: match (r.phase, gt.alleles()) {
                (Some((_, [h1, h2])), _) => format!("{h1}|{h2}"),
                (None, &[a]) => a.to_string(),
                (None, &[a, b]) => format!("{}/{}", a.min(b), a.max(b)),
                _ => String::new(),
            },
            phase_set: r.phase.map(|(set, _)| set),
            // The copy that carries this ALT, where only one does.
            haplotype: r.phase.and_then(|(_, [h1, h2])| match (h1 == a, h2 == a) {
                (true, false) => Some(1),
                (false, true) => Some(2),
                _ => None,
            }),
            copies: gt.count(a as usize) as u8,
            gq: r.gq,
            dp: r.dp,
            // FORMAT floats are f32: four decimals, not f32 noise.
            vaf: r
                .vaf
                .get(a as usize - 1)
                .copied()
                .flatten()
                .map(|v| (v * 1e4).round() / 1e4),
            annotations: Vec::new(),
        });
    }
}

fn findings_section(
    f: &FindingsInputs,
    panel: &Panel,
    mut calls: Vec<Finding>,
) -> Result<Findings> {
    let reference = match &f.reference {
        Some(p) => Some(crate::reference::Reference::open(p).bad_input()?),
        None => None,
    };
    let annotated = match &f.annotations {
        Some(p) => {
            // A field the file does not declare would show nothing, and say nothing.
            let declared = findings::declared_info(p).bad_input()?;
            let absent: Vec<&str> = f
                .fields
                .iter()
                .filter(|w| !declared.contains(w))
                .map(String::as_str)
                .collect();
            if !absent.is_empty() {
                log::warn!(
                    "--annotation-fields: {} not declared as INFO in {}, so not shown (it \
                     declares {})",
                    absent.join(","),
                    p.display(),
                    if declared.is_empty() {
                        "none".to_string()
                    } else {
                        declared.join(",")
                    }
                );
            }
            findings::annotate(&mut calls, p, &f.fields, panel, reference.as_ref()).bad_input()?
        }
        None => 0,
    };
    Ok(Findings {
        panel: f.panel.display().to_string(),
        panel_regions: panel.regions() as u64,
        panel_bp: panel.bp(),
        annotations: f.annotations.as_ref().map(|p| p.display().to_string()),
        annotation_fields: if f.annotations.is_some() {
            f.fields.clone()
        } else {
            Vec::new()
        },
        normalisation: if reference.is_some() {
            "split into one ALT per row, trimmed and left-aligned against the reference".into()
        } else {
            "split into one ALT per row and trimmed (no reference given, so indels are not \
             left-aligned)"
                .into()
        },
        phase_groups: findings::phase_groups(&calls),
        calls,
        annotated,
    })
}

fn sex_section(run: Option<&RunSection>) -> SexSection {
    let mut s = SexSection {
        status: "not_assessed".into(),
        call: None,
        x_mean_depth: None,
        y_mean_depth: None,
        autosomal_mean_depth: None,
        x_depth_ratio: None,
        y_depth_ratio: None,
        note: String::new(),
    };
    let Some(run) = run else {
        s.note =
            "not assessed: no stats file (PREFIX.stats.json from varstream call) was given".into();
        return s;
    };
    let stats = &run.stats;
    let mut auto = crate::run_stats::Coverage::default();
    for c in &stats.per_contig {
        let k = crate::scores::chrom_key(&c.contig);
        if k == "X" {
            s.x_mean_depth = Some(c.mean_depth);
        } else if k == "Y" {
            s.y_mean_depth = Some(c.mean_depth);
        } else if crate::contig_names::is_autosome(&c.contig) {
            auto.add(&c.coverage);
        }
    }
    if auto.bp > 0 {
        let a = auto.mean();
        s.autosomal_mean_depth = Some((a * 1e4).round() / 1e4);
        let ratio = |x: Option<f64>| x.filter(|_| a > 0.0).map(|x| ((x / a) * 1e4).round() / 1e4);
        s.x_depth_ratio = ratio(s.x_mean_depth);
        s.y_depth_ratio = ratio(s.y_mean_depth);
    }
    if let Some(ev) = &stats.sex {
        s.status = "reported".into();
        s.call = Some(ev.clone());
        s.note = format!("{} ({})", ev.call, ev.source);
    } else if s.x_mean_depth.is_some() || s.y_mean_depth.is_some() {
        s.status = "depth_only".into();
        s.note = "sex not inferred; X and Y depth shown. Against autosomal depth, XY samples \
                  show about half on chrX and some on chrY, XX samples about the same on chrX \
                  and next to none on chrY (chrY maps poorly, so its ratio stays low)"
            .into();
    } else {
        s.note = "not assessed: the called regions include neither chrX nor chrY".into();
    }
    s
}

/// Whether the header's text is UTF-8, as rust-htslib's `header_records` (which unwraps every
/// key and value as UTF-8) needs.
fn header_is_utf8(header: &bcf::header::HeaderView) -> bool {
    use rust_htslib::htslib;
    let mut text = htslib::kstring_t {
        l: 0,
        m: 0,
        s: std::ptr::null_mut(),
    };
    // SAFETY: htslib formats the header into a buffer it allocates; we read `l` bytes of it
    // and free it once.
    unsafe {
        let ok = htslib::bcf_hdr_format(header.as_ptr(), 0, &mut text) >= 0
            && (text.s.is_null()
                || std::str::from_utf8(std::slice::from_raw_parts(text.s as *const u8, text.l))
                    .is_ok());
        if !text.s.is_null() {
            htslib::free(text.s as *mut std::ffi::c_void);
        }
        ok
    }
}

fn provenance(header: &bcf::header::HeaderView) -> Provenance {
    let mut p = Provenance {
        version: version().to_string(),
        commit: commit().map(String::from),
        ..Default::default()
    };
    for r in header.header_records() {
        let (key, value) = match r {
            bcf::header::HeaderRecord::Generic { key, value } => (key, value),
            // `##varstream_model=<Name=..,SHA256=..>` parses as a structured line.
            bcf::header::HeaderRecord::Structured { key, values } => {
                let v: Vec<String> = values.iter().map(|(k, v)| format!("{k}={v}")).collect();
                (key, v.join(", "))
            }
            _ => continue,
        };
        let slot = match key.as_str() {
            "source" => &mut p.source,
            "varstream_command" => &mut p.command,
            "varstream_model" => &mut p.model,
            "reference" => &mut p.reference,
            _ => continue,
        };
        slot.get_or_insert(value);
    }
    // `Name=varstream-v3, SHA256=0245...`
    if let Some(m) = &p.model {
        for part in m.split(", ") {
            match part.split_once('=') {
                Some(("Name", v)) => p.model_name = Some(v.to_string()),
                Some(("SHA256", v)) => p.model_sha256 = Some(v.to_string()),
                _ => {}
            }
        }
    }
    p
}

/// A scorer's TSV, keeping the header and the rows whose `sample` column is `sample` (all
/// rows when there is no such column).
pub fn read_table(path: &Path, sample: &str) -> Result<Table> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lines = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let columns: Vec<String> = lines
        .next()
        .with_context(|| format!("{}: empty table", path.display()))?
        .split('\t')
        .map(str::to_string)
        .collect();
    let sample_col = columns.iter().position(|c| c == "sample");
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let row: Vec<String> = line.split('\t').map(str::to_string).collect();
        if row.len() != columns.len() {
            bail!(
                "{}: line {} has {} columns, the header {}",
                path.display(),
                i + 2,
                row.len(),
                columns.len()
            );
        }
        if sample_col.is_none_or(|c| row[c] == sample) {
            rows.push(row);
        }
    }
    Ok(Table {
        file: path.display().to_string(),
        columns,
        rows,
    })
}

/// MultiQC custom content: one general-statistics-style table row for the sample.
pub fn multiqc(report: &Report) -> serde_json::Value {
    let s = &report.stats;
    let mut row = serde_json::Map::new();
    row.insert("PASS calls".into(), s.calls.into());
    row.insert("SNVs".into(), s.types.snv.into());
    row.insert(
        "Indels".into(),
        (s.types.insertion + s.types.deletion).into(),
    );
    if let Some(x) = s.ti_tv {
        row.insert("Ti/Tv".into(), round3(x).into());
    }
    if let Some(x) = s.het_hom_ratio {
        row.insert("Het/Hom".into(), round3(x).into());
    }
    if let Some(run) = &report.run {
        let c = &run.stats.coverage;
        row.insert("Mean depth".into(), round3(c.mean()).into());
        if let Some(f) = c.fraction_at_least(20) {
            row.insert("% bases >= 20x".into(), round3(100.0 * f).into());
        }
        if let Some(ph) = &run.stats.phasing {
            let t = &ph.total;
            if t.het_calls > 0 {
                let share = 100.0 * t.phased as f64 / t.het_calls as f64;
                row.insert("% hets phased".into(), round3(share).into());
            }
            row.insert("Phase blocks".into(), t.blocks.into());
            row.insert("Phase block N50".into(), t.block_n50.into());
            row.insert("PhaseConflict calls".into(), t.conflicts.into());
        }
    }
    let mut data = serde_json::Map::new();
    data.insert(report.sample.clone(), row.into());
    serde_json::json!({
        "id": "varstream_calls",
        "section_name": "varstream calls",
        "description": "PASS calls per sample, from varstream report",
        "plot_type": "table",
        "data": data,
    })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Files a report writes for `prefix`.
pub fn output_paths(prefix: &Path) -> [PathBuf; 3] {
    [".report.json", ".report.html", ".report_mqc.json"].map(|s| crate::output::prefixed(prefix, s))
}

/// Write `PREFIX.report.json`, `PREFIX.report.html` and `PREFIX.report_mqc.json`, each under a
/// temporary name first.
pub fn write(report: &Report, prefix: &Path) -> Result<[PathBuf; 3]> {
    let paths = output_paths(prefix);
    let json = serde_json::to_string_pretty(report)? + "\n";
    let mqc = serde_json::to_string_pretty(&multiqc(report))? + "\n";
    let page = html::render(report);
    for (path, text) in paths.iter().zip([json, page, mqc]) {
        crate::output::write_file(path, text.as_bytes())?;
    }
    Ok(paths)
}

/// Build and write the report; returns the paths written.
pub fn run(inputs: &ReportInputs, prefix: &Path) -> Result<[PathBuf; 3]> {
    let mut read = vec![inputs.vcf.clone()];
    for p in [
        &inputs.stats,
        &inputs.prs,
        &inputs.expression,
        &inputs.effects,
        &inputs.risk,
    ] {
        read.extend(p.iter().cloned());
    }
    if let Some(f) = &inputs.findings {
        read.push(f.panel.clone());
        read.extend(f.annotations.iter().cloned());
        read.extend(f.reference.iter().cloned());
    }
    crate::output::check_outputs(&output_paths(prefix), &read)?;
    let report = build(inputs).bad_input()?;
    let paths = write(&report, prefix)?;
    log::info!(
        "report for {}: {} PASS calls ({} SNV, {} indel alleles) -> {}",
        report.sample,
        report.stats.calls,
        report.stats.types.snv,
        report.stats.types.insertion + report.stats.types.deletion,
        paths[1].display()
    );
    Ok(paths)
}

#[cfg(test)]
mod tests;
