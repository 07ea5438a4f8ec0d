//! The contig-name rule, in one place: `chr20`, `CHR20` and `20` name one chromosome, and so
//! do `chrM`, `M` and `MT`; which names are autosomes, X, Y and the mitochondrion. Files from different sources disagree on both (UCSC and Ensembl
//! references, PGS Catalog scoring files, VCFs).

/// Chromosome key used for matching across files: `chr1`, `CHR1` and `1` are the same
/// chromosome, and so are `chrM`, `M` and `MT` (scoring files and VCFs disagree on both).
pub fn chrom_key(name: &str) -> String {
    let s = name.trim();
    // `get`, not `[..3]`: a name may have a multi-byte character in its first bytes.
    let s = match s.get(..3) {
        Some(p) if s.len() > 3 && p.eq_ignore_ascii_case("chr") => &s[3..],
        _ => s,
    };
    if s.eq_ignore_ascii_case("M") || s.eq_ignore_ascii_case("MT") {
        "MT".to_string()
    } else {
        s.to_ascii_uppercase()
    }
}

/// Whether `name` is a human autosome: `1`-`22` under [`chrom_key`] (`chr7`, `CHR7`, `7`;
/// not `07`, which no reference names so).
pub fn is_autosome(name: &str) -> bool {
    let key = chrom_key(name);
    !key.starts_with('0') && key.parse::<u8>().is_ok_and(|n| (1..=22).contains(&n))
}

/// Whether `name` is chrX (`chrX`, `X`).
pub fn is_x(name: &str) -> bool {
    chrom_key(name) == "X"
}

/// Whether `name` is chrY (`chrY`, `Y`).
pub fn is_y(name: &str) -> bool {
    chrom_key(name) == "Y"
}

/// Whether `name` is the mitochondrial genome (`chrM`, `M`, `MT`, `chrMT`).
pub fn is_mito(name: &str) -> bool {
    chrom_key(name) == "MT"
}

/// `name` as spelled in `among` under the other naming convention (`chr20` and `20`,
/// `chrM` and `MT`), if it is there.
pub fn renamed<S: AsRef<str>>(name: &str, among: &[S]) -> Option<String> {
    let bare = name.strip_prefix("chr").unwrap_or(name);
    let mut tries = vec![format!("chr{bare}"), bare.to_string()];
    match bare {
        "M" => tries.push("MT".into()),
        "MT" => tries.push("chrM".into()),
        _ => {}
    }
    tries
        .into_iter()
        .find(|t| t != name && among.iter().any(|a| a.as_ref() == t))
}

#[cfg(test)]
mod tests {
    use super::*;

    // One rule for the caller's ploidy and the report's depth summary (they had two, which
    // disagreed on `CHR1` and `01`).
    #[test]
    fn autosomes_sex_contigs_and_the_mitochondrion() {
        for a in ["chr1", "22", "chr22", "CHR7"] {
            assert!(is_autosome(a), "{a}");
        }
        for n in [
            "chr23",
            "chrX",
            "chr01",
            "01",
            "chr1_KI270706v1_random",
            "chrM",
        ] {
            assert!(!is_autosome(n), "{n}");
        }
        assert!(is_x("chrX") && is_x("X") && !is_x("chrXY"));
        assert!(is_y("chrY") && is_y("Y") && !is_y("chrY_random"));
        assert!(["chrM", "M", "MT", "chrMT"].iter().all(|m| is_mito(m)));
        assert!(!is_mito("chrM_random"));
    }
}
