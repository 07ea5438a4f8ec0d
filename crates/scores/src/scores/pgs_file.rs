//! PGS Catalog scoring files, format v2.0 (raw and harmonized `hmPOS`), plain or gzipped.
//!
//! Rows are kept in file order with their line numbers because the match log must account
//! for every row; anything plink2-style additive weights cannot express is refused up front
//! rather than dropped silently.
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// How a row's allele dosage enters the score (plink2's `--score` modifiers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EffectType {
    /// weight × dosage.
    Additive,
    /// weight × min(dosage, 1).
    Dominant,
    /// weight × max(dosage − 1, 0).
    Recessive,
}

impl EffectType {
    /// Apply the dominance model to a dosage of the effect allele.
    pub fn transform(self, dosage: f64) -> f64 {
        match self {
            EffectType::Additive => dosage,
            EffectType::Dominant => dosage.min(1.0),
            EffectType::Recessive => (dosage - 1.0).max(0.0),
        }
    }

    /// Lower-case name, as written in the logs.
    pub fn name(self) -> &'static str {
        match self {
            EffectType::Additive => "additive",
            EffectType::Dominant => "dominant",
            EffectType::Recessive => "recessive",
        }
    }
}

/// One variant row of a scoring file.
#[derive(Debug, Clone)]
pub struct ScoreRow {
    /// 1-based line number in the (decompressed) file.
    pub line: usize,
    /// rsID column (empty when absent).
    pub rsid: String,
    /// Chromosome used for matching (harmonized `hm_chr` when the file is harmonized).
    pub chrom: String,
    /// Position used for matching; `None` when the file gives none for this row (e.g. a
    /// harmonized row the Catalog could not map), which leaves the row unmatched.
    pub pos: Option<u64>,
    /// Effect allele, upper-case.
    pub effect_allele: String,
    /// Other allele (or the harmonizer's single inferred other allele), upper-case.
    pub other_allele: Option<String>,
    /// `effect_weight`.
    pub weight: f64,
    /// Additive, dominant or recessive.
    pub effect_type: EffectType,
}

/// A parsed scoring file.
#[derive(Debug, Clone)]
pub struct ScoringFile {
    /// The file it came from.
    pub path: PathBuf,
    /// `pgs_id` from the header, else the file name without extensions.
    pub id: String,
    /// Every `#key=value` header line.
    pub header: BTreeMap<String, String>,
    /// Build of the positions used: `HmPOS_build` for harmonized files, else `genome_build`.
    pub build: String,
    /// Whether positions came from `hm_chr`/`hm_pos`.
    pub harmonized: bool,
    /// Variant rows, in file order.
    pub rows: Vec<ScoreRow>,
}

fn is_true(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "t" | "yes"
    )
}

fn is_nucleotides(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| matches!(b, b'A' | b'C' | b'G' | b'T'))
}

impl ScoringFile {
    /// Read and validate a scoring file; errors name the file and line.
    pub fn read(path: &Path) -> Result<Self> {
        let reader = super::open_text(path)?;
        let name = path.display();
        let mut header = BTreeMap::new();
        let mut cols: Option<Vec<String>> = None;
        let mut rows = Vec::new();
        let mut idx = Cols::default();
        for (i, line) in reader.lines().enumerate() {
            let lineno = i + 1;
            let line = line.with_context(|| format!("{name}: cannot read line {lineno}"))?;
            let line = line.trim_end_matches(['\r', '\n']);
            if line.starts_with('#') {
                // Spreadsheet exports pad header lines with tabs.
                let kv = line.trim_start_matches('#').trim_end_matches('\t');
                if let Some((k, v)) = kv.split_once('=') {
                    header.insert(k.trim().to_string(), v.trim().to_string());
                }
                continue;
            }
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            if let Some(names) = &cols {
                // A row short of the header's columns is a cut file (or a broken row): the
                // file need not end with a newline, so this is how a cut last line shows.
                if fields.len() < names.len() {
                    bail!(
                        "{name}: line {lineno} has {} columns, the header {}: is the file cut \
                         short?",
                        fields.len(),
                        names.len()
                    );
                }
            }
            let Some(_) = &cols else {
                let names: Vec<String> = fields.iter().map(|s| s.trim().to_string()).collect();
                idx = Cols::find(&names).with_context(|| format!("{name}: line {lineno}"))?;
                cols = Some(names);
                continue;
            };
            rows.push(
                idx.row(&fields)
                    .with_context(|| format!("{name}: line {lineno}"))?
                    .at(lineno),
            );
        }
        if cols.is_none() {
            bail!("{name}: no column header line (is this a PGS Catalog scoring file?)");
        }
        let id = header
            .get("pgs_id")
            .cloned()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| {
                let f = path
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                f.split('.').next().unwrap_or("score").to_string()
            });
        let build = if idx.harmonized {
            header
                .get("HmPOS_build")
                .cloned()
                .unwrap_or_else(|| "NR".into())
        } else {
            header
                .get("genome_build")
                .cloned()
                .unwrap_or_else(|| "NR".into())
        };
        if rows.is_empty() {
            bail!("{name}: no variant rows");
        }
        Ok(Self {
            path: path.to_path_buf(),
            id,
            header,
            build,
            harmonized: idx.harmonized,
            rows,
        })
    }
}

#[derive(Debug, Default)]
struct Cols {
    rsid: Option<usize>,
    chr: usize,
    pos: usize,
    effect: usize,
    other: Option<usize>,
    infer_other: Option<usize>,
    weight: usize,
    dominant: Option<usize>,
    recessive: Option<usize>,
    haplotype: Option<usize>,
    diplotype: Option<usize>,
    harmonized: bool,
}

/// A row before its line number is known.
struct Partial(ScoreRow);

impl Partial {
    fn at(mut self, line: usize) -> ScoreRow {
        self.0.line = line;
        self.0
    }
}

impl Cols {
    fn find(names: &[String]) -> Result<Self> {
        let col = |n: &str| names.iter().position(|c| c == n);
        let effect = col("effect_allele").context(
            "no effect_allele column (rsID-only or non-additive files cannot be scored)",
        )?;
        let Some(weight) = col("effect_weight") else {
            if names
                .iter()
                .any(|c| c.starts_with("dosage_") && c.ends_with("_weight"))
            {
                bail!(
                    "only dosage_0/1/2_weight columns and no effect_weight: genotype-specific \
                     weights cannot be expressed as additive/dominant/recessive and are not \
                     supported"
                );
            }
            bail!("no effect_weight column");
        };
        let (chr, pos, harmonized) = match (
            col("hm_chr"),
            col("hm_pos"),
            col("chr_name"),
            col("chr_position"),
        ) {
            (Some(c), Some(p), _, _) => (c, p, true),
            (_, _, Some(c), Some(p)) => (c, p, false),
            _ => bail!(
                "no chromosome positions (needs chr_name + chr_position, or the harmonized \
                 hm_chr + hm_pos): download the harmonized file (*_hmPOS_GRCh37/38.txt.gz) for \
                 the build of your VCF"
            ),
        };
        Ok(Self {
            rsid: col("rsID").or_else(|| col("hm_rsID")),
            chr,
            pos,
            effect,
            other: col("other_allele"),
            infer_other: col("hm_inferOtherAllele"),
            weight,
            dominant: col("is_dominant"),
            recessive: col("is_recessive"),
            haplotype: col("is_haplotype"),
            diplotype: col("is_diplotype"),
            harmonized,
        })
    }

    fn row(&self, f: &[&str]) -> Result<Partial> {
        let get = |i: usize| f.get(i).map(|s| s.trim()).unwrap_or("");
        let opt = |i: Option<usize>| i.map(get).unwrap_or("");
        if is_true(opt(self.haplotype)) || is_true(opt(self.diplotype)) {
            bail!("haplotype/diplotype row (is_haplotype/is_diplotype = True) cannot be scored");
        }
        let effect_allele = get(self.effect).to_ascii_uppercase();
        if !is_nucleotides(&effect_allele) {
            bail!(
                "effect_allele {effect_allele:?} is not a nucleotide allele (HLA/APOE-style or \
                 interaction terms cannot be scored)"
            );
        }
        let w = get(self.weight);
        let weight: f64 = w
            .parse()
            .with_context(|| format!("effect_weight {w:?} is not a number"))?;
        if !weight.is_finite() {
            bail!("effect_weight {w:?} is not a finite number");
        }
        let other = opt(self.other).to_ascii_uppercase();
        let inferred = opt(self.infer_other).to_ascii_uppercase();
        // hm_inferOtherAllele lists every candidate as "A/G" when ambiguous; only a single
        // inferred allele is usable (as pgsc_calc does).
        let other_allele = if is_nucleotides(&other) {
            Some(other)
        } else if is_nucleotides(&inferred) {
            Some(inferred)
        } else {
            None
        };
        let effect_type = match (is_true(opt(self.dominant)), is_true(opt(self.recessive))) {
            (false, false) => EffectType::Additive,
            (true, false) => EffectType::Dominant,
            (false, true) => EffectType::Recessive,
            (true, true) => bail!("row is both is_dominant and is_recessive"),
        };
        let p = get(self.pos);
        let pos = if p.is_empty() || p.eq_ignore_ascii_case("NA") {
            None
        } else {
            Some(
                p.parse()
                    .with_context(|| format!("position {p:?} is not a number"))?,
            )
        };
        Ok(Partial(ScoreRow {
            line: 0,
            rsid: self.rsid.map(get).unwrap_or("").to_string(),
            chrom: get(self.chr).to_string(),
            pos,
            effect_allele,
            other_allele,
            weight,
            effect_type,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("s.txt");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_raw_file_with_models() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            d.path(),
            "#format_version=2.0\n#pgs_id=PGS9\n#genome_build=GRCh38\n\
             rsID\tchr_name\tchr_position\teffect_allele\tother_allele\teffect_weight\tis_dominant\tis_recessive\n\
             rs1\t1\t100\ta\tG\t0.5\tFalse\tFalse\n\
             rs2\t1\t200\tT\t\t-1\tTrue\tFalse\n\
             rs3\t2\t300\tC\tG\t2\tFalse\tTrue\n",
        );
        let s = ScoringFile::read(&p).unwrap();
        assert_eq!(s.id, "PGS9");
        assert_eq!(s.build, "GRCh38");
        assert!(!s.harmonized);
        assert_eq!(s.rows.len(), 3);
        assert_eq!(s.rows[0].line, 5);
        assert_eq!(s.rows[0].effect_allele, "A");
        assert_eq!(s.rows[1].other_allele, None);
        assert_eq!(s.rows[1].effect_type, EffectType::Dominant);
        assert_eq!(s.rows[2].effect_type, EffectType::Recessive);
        assert_eq!(EffectType::Recessive.transform(1.0), 0.0);
        assert_eq!(EffectType::Dominant.transform(2.0), 1.0);
    }

    #[test]
    fn harmonized_columns_win_and_infer_other_allele() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            d.path(),
            "#pgs_id=PGS1\n#genome_build=NR\n#HmPOS_build=GRCh37\n\
             rsID\tchr_name\teffect_allele\tother_allele\teffect_weight\thm_chr\thm_pos\thm_inferOtherAllele\n\
             rs1\t11\tT\t\t0.1\t11\t500\tC\n\
             rs2\t11\tG\t\t0.1\t11\t600\tA/C\n\
             rs3\t11\tG\tA\t0.1\t\t\t\n",
        );
        let s = ScoringFile::read(&p).unwrap();
        assert!(s.harmonized);
        assert_eq!(s.build, "GRCh37");
        assert_eq!(s.rows[0].pos, Some(500));
        assert_eq!(s.rows[0].other_allele.as_deref(), Some("C"));
        assert_eq!(s.rows[1].other_allele, None);
        assert_eq!(s.rows[2].pos, None);
    }

    #[test]
    fn refuses_unscorable_files_with_line_numbers() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            d.path(),
            "#pgs_id=X\nchr_name\tchr_position\teffect_allele\tdosage_0_weight\tdosage_1_weight\n1\t5\tA\t0\t1\n",
        );
        let e = format!("{:#}", ScoringFile::read(&p).unwrap_err());
        assert!(e.contains("dosage_0/1/2_weight"), "{e}");
        let p = write(
            d.path(),
            "#pgs_id=X\nchr_name\tchr_position\teffect_allele\teffect_weight\tis_haplotype\n\
             1\t5\tA\t1\tFalse\n1\t6\tA\t1\tTrue\n",
        );
        let e = format!("{:#}", ScoringFile::read(&p).unwrap_err());
        assert!(e.contains("line 4") && e.contains("haplotype"), "{e}");
        let p = write(
            d.path(),
            "#pgs_id=X\nrsID\teffect_allele\teffect_weight\nrs1\tA\t1\n",
        );
        let e = format!("{:#}", ScoringFile::read(&p).unwrap_err());
        assert!(e.contains("hmPOS"), "{e}");
    }
}
