//! Inferring the sample's sex from read counts in a fixed sample of windows on the autosomes,
//! chrX and chrY, independent of the regions called.
use anyhow::Result;

use crate::reads::ReadSource;
use crate::reference::Reference;

use super::*;

/// Windows sampled per autosome, and on chrX and chrY.
const AUTOSOME_WINDOWS: u64 = 8;
const SEX_CONTIG_WINDOWS: u64 = 48;
const WINDOW_BP: u64 = 2_000;
/// Reads below this MAPQ are not counted: X-Y homologous and repeat reads would blur chrY.
const SEX_MIN_MAPQ: u8 = 20;
/// Fewer autosomal reads than this, or fewer than this expected on chrX: not assessed.
const MIN_READS: f64 = 200.0;

/// Evenly spaced windows of `contig` (length `len`) outside `skip`, whose reference is
/// mostly not N.
fn sample_windows(
    reference: &Reference,
    contig: &str,
    len: u64,
    n: u64,
    skip: &[(u64, u64)],
) -> Result<Vec<(u64, u64)>> {
    let mut out = Vec::new();
    if len < WINDOW_BP {
        return Ok(out);
    }
    for i in 0..n {
        let mid = (2 * i + 1) * len / (2 * n);
        let s = mid.saturating_sub(WINDOW_BP / 2).min(len - WINDOW_BP);
        let e = s + WINDOW_BP;
        if skip.iter().any(|&(a, b)| a < e && s < b) {
            continue;
        }
        let seq = reference.fetch(contig, s, e)?;
        let n_count = seq.iter().filter(|b| matches!(b, b'N' | b'n')).count();
        if n_count * 10 < seq.len() {
            out.push((s, e));
        }
    }
    Ok(out)
}

/// Reads (MAPQ ≥ [`SEX_MIN_MAPQ`]) starting in each window, summed, and the bases sampled.
fn count_reads(
    source: &mut ReadSource,
    contig: &str,
    windows: &[(u64, u64)],
) -> Result<(u64, u64)> {
    let filter = ReadFilter {
        min_mapq: SEX_MIN_MAPQ,
        min_baseq: 0,
        max_depth: usize::MAX,
    };
    let (mut reads, mut bp) = (0, 0);
    for &(s, e) in windows {
        let (starts, _) = source.fetch_with(contig, s, e, &filter, |rec| {
            let p = rec.pos().max(0) as u64;
            Ok((s <= p && p < e).then_some(()))
        })?;
        reads += starts.len() as u64;
        bp += e - s;
    }
    Ok((reads, bp))
}

/// Infer the sample's sex from read rates on chrX and chrY against the autosomes (contigs
/// named 1-22 or chr1-chr22; every other contig when there are none). `pars` are skipped.
/// XX: X ratio ≥ 0.8 and Y ratio < 0.05. XY: X ratio ≤ 0.65 and Y ratio ≥ 0.15. Anything else
/// (X0, XXY, too few reads, no chrX) is ambiguous.
pub fn infer_sex(
    source: &mut ReadSource,
    reference: &Reference,
    contigs: &[(String, u64)],
    pars: &[(String, Vec<(u64, u64)>)],
) -> Result<SexCall> {
    let human = contigs.iter().any(|(n, _)| is_autosome(n));
    let skip_of = |name: &str| {
        pars.iter()
            .find(|(c, _)| c == name)
            .map(|(_, p)| p.clone())
            .unwrap_or_default()
    };
    let mut totals = [(0u64, 0u64); 3];
    for (name, len) in contigs {
        let (slot, n) = if is_x(name) {
            (1, SEX_CONTIG_WINDOWS)
        } else if is_y(name) {
            (2, SEX_CONTIG_WINDOWS)
        } else if (human && is_autosome(name)) || (!human && !is_mito(name)) {
            (0, AUTOSOME_WINDOWS)
        } else {
            continue;
        };
        let windows = sample_windows(reference, name, *len, n, &skip_of(name))?;
        let (r, bp) = count_reads(source, name, &windows)?;
        totals[slot].0 += r;
        totals[slot].1 += bp;
    }
    let rate = |(r, bp): (u64, u64)| (bp > 0).then(|| r as f64 / bp as f64);
    let (a, x, y) = (rate(totals[0]), rate(totals[1]), rate(totals[2]));
    let x_ratio = a.zip(x).filter(|(a, _)| *a > 0.0).map(|(a, x)| x / a);
    let y_ratio = a.zip(y).filter(|(a, _)| *a > 0.0).map(|(a, y)| y / a);
    let reads = [totals[0].0, totals[1].0, totals[2].0];
    let expected_x = a.unwrap_or(0.0) * totals[1].1 as f64 * 0.5;
    let (sex, note) = if x.is_none() {
        (None, "no chrX in the reads' header".to_string())
    } else if (reads[0] as f64) < MIN_READS || expected_x < MIN_READS {
        (
            None,
            format!(
                "too few reads to judge ({} autosomal, {} chrX in the sampled windows)",
                reads[0], reads[1]
            ),
        )
    } else {
        let xr = x_ratio.unwrap_or(0.0);
        let yr = y_ratio.unwrap_or(0.0);
        match (xr, yr) {
            (xr, yr) if xr >= 0.8 && yr < 0.05 => (Some(Sex::XX), "two X, no Y".to_string()),
            (xr, yr) if xr <= 0.65 && yr >= 0.15 => (Some(Sex::XY), "one X, a Y".to_string()),
            (xr, yr) if xr <= 0.65 && yr < 0.05 => {
                (None, "one X and no Y (X0?): ambiguous".to_string())
            }
            (xr, yr) if xr >= 0.8 && yr >= 0.15 => {
                (None, "two X and a Y (XXY?): ambiguous".to_string())
            }
            _ => (
                None,
                "ratios between the XX and XY ranges: ambiguous".to_string(),
            ),
        }
    };
    Ok(SexCall {
        sex,
        source: "inferred",
        x_ratio,
        y_ratio,
        reads,
        note,
    })
}
