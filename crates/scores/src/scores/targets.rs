//! Targets for `score effects` (usually TSSs) from BED or GTF.
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use anyhow::{bail, Context, Result};

use super::chrom_key;

/// A point the model's window is centred on.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Name (BED name, GTF gene_id; else chrom:pos).
    pub id: String,
    /// Chromosome as spelled in the file.
    pub chrom: String,
    /// 0-based position of the centre base (the TSS).
    pub center: u64,
    /// `+`, `-` or `.`.
    pub strand: char,
}

fn is_gtf(path: &Path) -> bool {
    let n = path.to_string_lossy().to_ascii_lowercase();
    let n = n.strip_suffix(".gz").unwrap_or(&n);
    n.ends_with(".gtf") || n.ends_with(".gff") || n.ends_with(".gff3")
}

fn strand_of(s: &str) -> char {
    match s {
        "+" => '+',
        "-" => '-',
        _ => '.',
    }
}

/// Read targets: BED `chrom start end [name [score [strand]]]` (centre = 5' end: `start` on
/// `+`/unstranded, `end − 1` on `−`), or GTF/GFF `gene` features (`transcript` when a file has
/// no gene lines; centre = `start` on `+`, `end` on `−`, 1-based).
pub fn read_targets(path: &Path) -> Result<Vec<Target>> {
    let gtf = is_gtf(path);
    let name = path.display();
    let mut genes = Vec::new();
    let mut transcripts = Vec::new();
    for (i, line) in super::open_text(path)?.lines().enumerate() {
        let line = line.with_context(|| format!("{name}: cannot read line {}", i + 1))?;
        if line.starts_with('#')
            || line.starts_with("track")
            || line.starts_with("browser")
            || line.trim().is_empty()
        {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let at = || format!("{name}: line {}", i + 1);
        if gtf {
            if f.len() < 9 {
                bail!("{}: a GTF line needs 9 tab-separated columns", at());
            }
            let start: u64 = f[3]
                .parse()
                .with_context(|| format!("{}: bad start {:?}", at(), f[3]))?;
            let end: u64 = f[4]
                .parse()
                .with_context(|| format!("{}: bad end {:?}", at(), f[4]))?;
            if start == 0 || end == 0 {
                bail!(
                    "{}: GTF positions are 1-based, got start {start}, end {end}",
                    at()
                );
            }
            let strand = strand_of(f[6]);
            let attr = |key: &str| {
                f[8].split(';').map(str::trim).find_map(|kv| {
                    let (k, v) = kv.split_once([' ', '='])?;
                    (k == key).then(|| v.trim().trim_matches('"').to_string())
                })
            };
            let id = attr("gene_id")
                .or_else(|| attr("ID"))
                .or_else(|| attr("gene_name"))
                .unwrap_or_else(|| format!("{}:{start}", f[0]));
            let center = if strand == '-' { end - 1 } else { start - 1 };
            let t = Target {
                id,
                chrom: f[0].to_string(),
                center,
                strand,
            };
            match f[2] {
                "gene" => genes.push(t),
                "transcript" | "mRNA" => transcripts.push(t),
                _ => {}
            }
        } else {
            if f.len() < 3 {
                bail!("{}: a BED line needs chrom, start, end", at());
            }
            let start: u64 = f[1]
                .trim()
                .parse()
                .with_context(|| format!("{}: bad start {:?}", at(), f[1]))?;
            let end: u64 = f[2]
                .trim()
                .parse()
                .with_context(|| format!("{}: bad end {:?}", at(), f[2]))?;
            if end <= start {
                bail!("{}: end {end} is not after start {start}", at());
            }
            let strand = f.get(5).map(|s| strand_of(s.trim())).unwrap_or('.');
            let id = f
                .get(3)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| format!("{}:{}", f[0], start + 1));
            genes.push(Target {
                id,
                chrom: f[0].to_string(),
                center: if strand == '-' { end - 1 } else { start },
                strand,
            });
        }
    }
    let out = if genes.is_empty() { transcripts } else { genes };
    if out.is_empty() {
        bail!("{name}: no targets (BED intervals, or GTF gene/transcript lines)");
    }
    Ok(out)
}

/// Targets by chromosome key, sorted by centre, for window look-ups.
#[derive(Debug, Default)]
pub struct TargetIndex(HashMap<String, Vec<usize>>);

impl TargetIndex {
    /// Index `targets` (indices into the slice).
    pub fn new(targets: &[Target]) -> Self {
        let mut m: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, t) in targets.iter().enumerate() {
            m.entry(chrom_key(&t.chrom)).or_default().push(i);
        }
        for v in m.values_mut() {
            v.sort_by_key(|&i| targets[i].center);
        }
        Self(m)
    }

    /// Targets whose window `[center − w/2, center − w/2 + w)` contains 0-based `pos`.
    pub fn covering(&self, targets: &[Target], chrom: &str, pos: u64, window: u64) -> Vec<usize> {
        let Some(v) = self.0.get(&chrom_key(chrom)) else {
            return Vec::new();
        };
        let half = window / 2;
        // center ∈ [pos + half + 1 − window, pos + half]
        let lo = (pos + half + 1).saturating_sub(window);
        let hi = pos + half;
        let first = v.partition_point(|&i| targets[i].center < lo);
        v[first..]
            .iter()
            .copied()
            .take_while(|&i| targets[i].center <= hi)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bed_and_gtf_centres() {
        let d = tempfile::tempdir().unwrap();
        let bed = d.path().join("t.bed");
        std::fs::write(&bed, "chr1\t100\t200\tg1\t0\t+\nchr1\t100\t200\tg2\t0\t-\n").unwrap();
        let t = read_targets(&bed).unwrap();
        assert_eq!((t[0].center, t[0].strand), (100, '+'));
        assert_eq!((t[1].center, t[1].strand), (199, '-'));
        let gtf = d.path().join("t.gtf");
        std::fs::write(
            &gtf,
            "1\tx\tgene\t101\t200\t.\t-\t.\tgene_id \"G1\"; gene_name \"A\";\n1\tx\texon\t101\t150\t.\t-\t.\tgene_id \"G1\";\n",
        )
        .unwrap();
        let t = read_targets(&gtf).unwrap();
        assert_eq!(t.len(), 1);
        let bad = d.path().join("bad.gtf");
        std::fs::write(&bad, "1\tx\tgene\t0\t200\t.\t+\t.\tgene_id \"G\";\n").unwrap();
        let e = format!("{:#}", read_targets(&bad).unwrap_err());
        assert!(
            e.contains("bad.gtf: line 1") && e.contains("1-based"),
            "{e}"
        );
        assert_eq!((t[0].id.as_str(), t[0].center), ("G1", 199));
        let idx = TargetIndex::new(&t);
        // window 10 around 199 covers [194, 204)
        assert_eq!(idx.covering(&t, "chr1", 194, 10), vec![0]);
        assert_eq!(idx.covering(&t, "chr1", 203, 10), vec![0]);
        assert!(idx.covering(&t, "chr1", 204, 10).is_empty());
        assert!(idx.covering(&t, "chr1", 193, 10).is_empty());
    }
}
