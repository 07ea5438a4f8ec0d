//! The contig-name rule, in one place: `chr20`, `CHR20` and `20` name one chromosome, and so
//! do `chrM`, `M` and `MT`. Files from different sources disagree on both (UCSC and Ensembl
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
