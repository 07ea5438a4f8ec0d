//! Stage: read tensors, the read-level tier's input (issue 25). Where the pileup example
//! ([`crate::tensors`]) counts bases per position, this one keeps the reads apart: rows are
//! reads over the anchor, columns the same 33 positions, channels what each read shows there.
//! A pileup model cannot see which alleles travel together on one read (an ALT on reads that
//! also carry a paralog's mismatches, an indel whose reads all end inside its repeat); a model
//! over rows can.
//!
//! The read tier's input is one flat vector per example: the first tier's three
//! probabilities, the pileup example, then the rows ([`TIER_INPUT_LEN`]). Every value lies on a
//! grid of 1/[`GRID`], so make-examples stores the rows as `i8` without loss and training sees
//! exactly what calling computes.
use crate::candidates::{ReadAllele, Site};
use crate::reads::{AlignedRead, Indel, DEL};
use crate::tensors::{CENTER, EXAMPLE_LEN, WINDOW};

/// Layout version of the rows; bump whenever rows, channels or scaling change.
pub const READ_TENSOR_VERSION: u32 = 1;
/// Reads per example. Above it a deterministic sample (by read name) is kept: at the depths
/// the tier is for (routed sites, mostly under 30x) nothing is dropped.
pub const MAX_ROWS: usize = 32;
/// Channels per read and position.
pub const READ_CHANNELS: &[&str] = &[
    "matches_ref",
    "base_A",
    "base_C",
    "base_G",
    "base_T",
    "deleted",
    "insertion_after",
    "base_quality",
    "strand",
    "mapq",
    "allele",
];
/// Channels per cell.
pub const N_READ_CHANNELS: usize = READ_CHANNELS.len();
/// Values in one example's rows.
pub const ROWS_LEN: usize = MAX_ROWS * WINDOW * N_READ_CHANNELS;
/// Values in one read-tier input: first-tier probabilities, pileup example, rows.
pub const TIER_INPUT_LEN: usize = 3 + EXAMPLE_LEN + ROWS_LEN;
/// Every row value is a multiple of 1/GRID in [-1, 1].
pub const GRID: f32 = 64.0;

/// How the rows are encoded, for make-examples output and the model sidecar.
pub const READ_ENCODING: &str = "rows: reads whose alignment covers the anchor, at most 32 \
(above that the 32 with the smallest name hash), ordered: reads supporting an alt of the set, \
then another non-reference allele, then REF, then unassigned, each by alignment start; empty \
rows are zero. Per position of the 33-base window: matches_ref +1 (read base = reference) / -1 \
(another base) / 0 (N, deleted or not covered); base one-hot; deleted 1; insertion_after \
min(len,10)/10 for an insertion anchored there; base_quality min(BQ,40)/40; strand +1 forward \
/ -1 reverse and mapq min(MAPQ,60)/60 on every covered position (deletions included); allele \
+1 supports an alt of the set, +0.5 another non-reference allele, -1 REF, 0 unassigned, on \
covered positions. Every value rounded to a multiple of 1/64.";

/// Round to the grid, so that an `i8` of `value * GRID` holds it exactly.
fn on_grid(v: f32) -> f32 {
    (v.clamp(-1.0, 1.0) * GRID).round() / GRID
}

/// Write the rows of the example for alts `set` of `site` into `out` (length [`ROWS_LEN`],
/// row-major `[read][position][channel]`). `reads` and `assigned` are the site's nearby reads
/// and their alleles, as [`crate::tensors::encode`] gets them; `ref_seq` (ASCII) starts at
/// `ref_from` and covers the window.
pub fn encode_rows(
    site: &Site,
    set: &[usize],
    reads: &[AlignedRead],
    assigned: &[Option<ReadAllele>],
    ref_seq: &[u8],
    ref_from: u64,
    out: &mut [f32],
) {
    debug_assert_eq!(out.len(), ROWS_LEN);
    out.fill(0.0);
    let mut chosen: Vec<usize> = (0..reads.len())
        .filter(|&i| reads[i].start <= site.pos && site.pos < reads[i].end())
        .collect();
    if chosen.len() > MAX_ROWS {
        // By name, not by position: a sample that does not favour one side of the window.
        chosen.sort_by_key(|&i| (reads[i].name, reads[i].start, reads[i].reverse));
        chosen.truncate(MAX_ROWS);
    }
    // Row order and the `allele` channel's value, by what the read carries.
    const ALLELE_VALUE: [f32; 4] = [1.0, 0.5, -1.0, 0.0];
    let rank = |a: &Option<ReadAllele>| -> usize {
        match a {
            Some(ReadAllele::Alt(j)) if set.contains(j) => 0,
            Some(ReadAllele::Alt(_)) | Some(ReadAllele::Other) => 1,
            Some(ReadAllele::Ref) => 2,
            None => 3,
        }
    };
    chosen.sort_by_key(|&i| {
        (
            rank(&assigned[i]),
            reads[i].start,
            reads[i].name,
            reads[i].reverse,
        )
    });
    let lo = site.pos as i64 - CENTER as i64;
    let ref_code = |pos: u64| {
        pos.checked_sub(ref_from)
            .and_then(|o| ref_seq.get(o as usize))
            .map_or(4, |&b| crate::reads::base_code(b))
    };
    for (row, &i) in chosen.iter().enumerate() {
        let r = &reads[i];
        let allele = ALLELE_VALUE[rank(&assigned[i])];
        let strand = if r.reverse { -1.0 } else { 1.0 };
        let mapq = on_grid(r.mapq.min(60) as f32 / 60.0);
        let cells = &mut out[row * WINDOW * N_READ_CHANNELS..(row + 1) * WINDOW * N_READ_CHANNELS];
        for w in 0..WINDOW {
            let pos = lo + w as i64;
            if pos < 0 {
                continue;
            }
            let Some((code, q)) = r.base_at(pos as u64) else {
                continue;
            };
            let c = &mut cells[w * N_READ_CHANNELS..(w + 1) * N_READ_CHANNELS];
            match code {
                0..=3 => {
                    c[1 + code as usize] = 1.0;
                    let rc = ref_code(pos as u64);
                    if rc < 4 {
                        c[0] = if rc == code { 1.0 } else { -1.0 };
                    }
                    c[7] = on_grid(q.min(40) as f32 / 40.0);
                }
                DEL => c[5] = 1.0,
                4 => c[7] = on_grid(q.min(40) as f32 / 40.0),
                // Skipped reference (GAP): the read does not cover this position.
                _ => continue,
            }
            c[8] = strand;
            c[9] = mapq;
            c[10] = allele;
        }
        for ev in &r.indels {
            if let Indel::Ins { anchor, seq } = ev {
                let w = *anchor as i64 - lo;
                if (0..WINDOW as i64).contains(&w) {
                    cells[w as usize * N_READ_CHANNELS + 6] =
                        on_grid(seq.len().min(10) as f32 / 10.0);
                }
            }
        }
    }
}

/// The rows as `i8` (value x [`GRID`]), exactly, for make-examples.
pub fn quantize(rows: &[f32]) -> Vec<u8> {
    rows.iter()
        .map(|&v| ((v * GRID).round() as i8) as u8)
        .collect()
}

/// Assemble one read-tier input from the first tier's probabilities, the pileup example and
/// the rows.
pub fn tier_input(probs: [f32; 3], pileup_example: &[f32], rows: &[f32], out: &mut Vec<f32>) {
    debug_assert_eq!(pileup_example.len(), EXAMPLE_LEN);
    debug_assert_eq!(rows.len(), ROWS_LEN);
    out.extend_from_slice(&probs);
    out.extend_from_slice(pileup_example);
    out.extend_from_slice(rows);
}

/// The row spec as JSON, for make-examples output and model sidecars.
pub fn spec_json() -> serde_json::Value {
    serde_json::json!({
        "read_tensor_version": READ_TENSOR_VERSION,
        "max_rows": MAX_ROWS,
        "window": WINDOW,
        "channels": READ_CHANNELS,
        "shape": [MAX_ROWS, WINDOW, N_READ_CHANNELS],
        "grid": GRID,
        "encoding": READ_ENCODING,
        "tier_input": ["first-tier probabilities (3)", "pileup example", "rows"],
        "tier_input_len": TIER_INPUT_LEN,
    })
}

/// A site is genotyped again by the read tier when the first tier's call has a GQ below this
/// (every first-tier genotype error on the fitting sets had GQ < 30: tier_routing.md) ...
pub const ROUTE_BELOW_GQ: u32 = 30;
/// ... or when fewer reads than this cover it (where counts say least).
pub const ROUTE_BELOW_DEPTH: u32 = 15;

/// Whether a site with this depth and first-tier GQ goes to the read tier
/// (benches/results/read_tier.md, the rule).
pub fn routed(depth: u32, first_tier_gq: u32) -> bool {
    first_tier_gq < ROUTE_BELOW_GQ || depth < ROUTE_BELOW_DEPTH
}

/// Check a read-tier model's sidecar against this build's rows and the first-tier model it
/// will correct (its input holds that model's probabilities, so another first tier would feed
/// it numbers it never saw).
pub fn check_sidecar(sidecar: &serde_json::Value, first_tier_sha256: &str) -> anyhow::Result<()> {
    if sidecar["tier"] != "read" {
        anyhow::bail!("not a read-tier model (its sidecar has no \"tier\": \"read\")");
    }
    let want = spec_json();
    for key in ["read_tensor_version", "shape", "channels", "grid"] {
        if sidecar["read_tensors"][key] != want[key] {
            anyhow::bail!(
                "trained on other read rows than this varstream builds: read_tensors.{key} = {} \
                 but this build uses {}",
                sidecar["read_tensors"][key],
                want[key]
            );
        }
    }
    let trained_on = sidecar["first_tier"]["sha256"].as_str().unwrap_or("");
    if trained_on != first_tier_sha256 {
        anyhow::bail!(
            "trained to correct the first-tier model {} (sha256 {trained_on}), but this run's \
             genotyping model has sha256 {first_tier_sha256}",
            sidecar["first_tier"]["name"]
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidates::{assign_reads, find_sites, CandidateParams, Pileup};
    use crate::reads::test_read as read;

    /// Rows for site 0 of `reads` over `refseq`, set {0}.
    fn rows_of(refseq: &[u8], reads: &[AlignedRead]) -> (Vec<f32>, Site) {
        let p = Pileup::build(0, refseq.to_vec(), reads, 10);
        let sites = find_sites(
            "c",
            &p,
            reads,
            0,
            refseq.len() as u64,
            &CandidateParams::default(),
        );
        let assigned = assign_reads(&sites[0], &p, reads, 10);
        let mut out = vec![0f32; ROWS_LEN];
        encode_rows(&sites[0], &[0], reads, &assigned, refseq, 0, &mut out);
        (out, sites[0].clone())
    }

    fn cell(rows: &[f32], row: usize, w: usize, ch: &str) -> f32 {
        let c = READ_CHANNELS.iter().position(|n| *n == ch).unwrap();
        rows[(row * WINDOW + w) * N_READ_CHANNELS + c]
    }

    #[test]
    fn rows_put_alt_reads_first_and_mark_what_each_read_shows() {
        let refseq = b"ACGTACGTAAAAAAAAAAAACAAAAAAAAAAAACGTTGCA".to_vec();
        let r = String::from_utf8(refseq.clone()).unwrap();
        // Three reference reads first in the input, then three reads with C>T at 20, one of
        // them also carrying a mismatch at 25 (A>G).
        let snv = format!("{}T{}", &r[..20], &r[21..]);
        let snv2 = format!("{}T{}G{}", &r[..20], &r[21..25], &r[26..]);
        let reads = vec![
            read(0, &r, vec![], false),
            read(0, &r, vec![], true),
            read(0, &r, vec![], false),
            read(0, &snv, vec![], true),
            read(0, &snv2, vec![], false),
            read(0, &snv, vec![], false),
            // A read ending before the site is not a row.
            read(0, &r[..10], vec![], false),
        ];
        let (rows, site) = rows_of(&refseq, &reads);
        assert_eq!(site.pos, 20);
        let center = CENTER;
        // Rows 0-2: the alt reads; 3-5: REF; then empty.
        for row in 0..3 {
            assert_eq!(cell(&rows, row, center, "allele"), 1.0);
            assert_eq!(cell(&rows, row, center, "matches_ref"), -1.0);
            assert_eq!(cell(&rows, row, center, "base_T"), 1.0);
        }
        for row in 3..6 {
            assert_eq!(cell(&rows, row, center, "allele"), -1.0);
            assert_eq!(cell(&rows, row, center, "matches_ref"), 1.0);
        }
        assert!(rows[6 * WINDOW * N_READ_CHANNELS..]
            .iter()
            .all(|&v| v == 0.0));
        // The alt read with the second mismatch shows it 5 positions right of the anchor.
        let second: Vec<f32> = (0..3)
            .map(|row| cell(&rows, row, center + 5, "matches_ref"))
            .collect();
        assert_eq!(second.iter().filter(|&&v| v == -1.0).count(), 1);
        // Strand and quality on covered positions.
        assert_eq!(cell(&rows, 3, center, "base_quality"), on_grid(30.0 / 40.0));
        assert!(cell(&rows, 0, center, "strand").abs() == 1.0);
        // Every value is on the grid: the int8 copy is exact.
        for (&v, &q) in rows.iter().zip(&quantize(&rows)) {
            assert_eq!(v, (q as i8) as f32 / GRID);
        }
    }

    #[test]
    fn more_reads_than_rows_keep_a_sample_chosen_by_name() {
        let refseq = b"ACGTACGTACGTACGTACGTCCGTACGTACGTACGTACGT".to_vec();
        let r = String::from_utf8(refseq.clone()).unwrap();
        let alt = format!("{}A{}", &r[..20], &r[21..]);
        let mut reads = Vec::new();
        for k in 0..50u64 {
            let mut x = read(0, if k % 2 == 0 { &alt } else { &r }, vec![], k % 3 == 0);
            x.name = k.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            reads.push(x);
        }
        let (a, _) = rows_of(&refseq, &reads);
        reads.reverse();
        let (b, _) = rows_of(&refseq, &reads);
        assert_eq!(a, b, "rows depend on the reads' order in the input");
        let filled = (0..MAX_ROWS)
            .filter(|&row| cell(&a, row, CENTER, "strand") != 0.0)
            .count();
        assert_eq!(filled, MAX_ROWS);
    }

    #[test]
    fn routing_rule() {
        assert!(routed(40, 29));
        assert!(!routed(40, 30));
        assert!(routed(14, 99));
        assert!(!routed(15, 99));
    }

    #[test]
    fn sidecar_must_match_rows_and_first_tier() {
        let good = serde_json::json!({
            "tier": "read",
            "read_tensors": spec_json(),
            "first_tier": {"name": "varstream-v4", "sha256": "abc"},
        });
        check_sidecar(&good, "abc").unwrap();
        let e = check_sidecar(&good, "def").unwrap_err().to_string();
        assert!(e.contains("first-tier model") && e.contains("def"), "{e}");
        let mut other = good.clone();
        other["read_tensors"]["read_tensor_version"] = serde_json::json!(READ_TENSOR_VERSION + 1);
        assert!(check_sidecar(&other, "abc")
            .unwrap_err()
            .to_string()
            .contains("read_tensor_version"));
        let mut pileup = good.clone();
        pileup["tier"] = serde_json::Value::Null;
        assert!(check_sidecar(&pileup, "abc").is_err());
    }
}
