//! Stage 0: which parts of the genome to call, cut into shards in genomic order.
use std::path::Path;

use crate::bail_input;
use crate::errors::BadInput;
use anyhow::{bail, Context, Result};

/// Default shard length. Shards are the unit of parallel work and of ordered output; the
/// partition depends only on the regions, never on the thread count, so output is identical
/// for any `--threads`. One depth tile, so each whole shard measures its own tile's depth from
/// the reads it has already fetched.
pub const DEFAULT_SHARD_BP: u64 = DEPTH_TILE;

/// A site's depth is judged against the median depth of the fixed genome tile it lies in,
/// `[k * DEPTH_TILE, (k + 1) * DEPTH_TILE)`, never of its shard: a site then gets the same
/// tensor however the run is sharded and wherever its regions start (scatter-gather by
/// intervals gives the same calls as one run).
pub const DEPTH_TILE: u64 = 25_000;

/// A 0-based, half-open interval on a named contig.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval {
    /// Contig name.
    pub contig: String,
    /// 0-based start.
    pub start: u64,
    /// 0-based exclusive end.
    pub end: u64,
}

impl std::fmt::Display for Interval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}-{}", self.contig, self.start + 1, self.end)
    }
}

/// Parse `chr`, `chr:start-end` or `chr:start` (1-based inclusive, commas allowed).
pub fn parse_region(s: &str) -> Result<(String, Option<(u64, u64)>)> {
    let Some((contig, range)) = s.rsplit_once(':') else {
        return Ok((s.to_string(), None));
    };
    let range = range.replace(',', "");
    let bad = || format!("malformed region {s:?}: expected chr:start-end (1-based, inclusive)");
    let (a, b) = match range.split_once('-') {
        Some((a, b)) => (
            a.parse::<u64>().with_context(bad)?,
            Some(b.parse::<u64>().with_context(bad)?),
        ),
        None => (range.parse::<u64>().with_context(bad)?, None),
    };
    if a == 0 || b.is_some_and(|b| b < a) {
        bail!(bad());
    }
    Ok((contig.to_string(), Some((a - 1, b.unwrap_or(u64::MAX)))))
}

/// Read a BED file's intervals (0-based half-open), skipping header lines.
pub fn read_bed(path: &Path) -> Result<Vec<Interval>> {
    let text = read_text(path)?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.is_empty()
            || line.starts_with('#')
            || line.starts_with("track")
            || line.starts_with("browser")
        {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let parse = |k: usize| -> Result<u64> {
            f.get(k)
                .and_then(|v| v.trim().parse().ok())
                .with_context(|| {
                    format!("{}:{}: malformed BED line {line:?}", path.display(), i + 1)
                })
        };
        let (start, end) = (parse(1)?, parse(2)?);
        if end < start {
            bail!("{}:{}: BED end before start", path.display(), i + 1);
        }
        out.push(Interval {
            contig: f[0].to_string(),
            start,
            end,
        });
    }
    Ok(out)
}

fn read_text(path: &Path) -> Result<String> {
    use std::io::Read;
    let mut s = String::new();
    crate::input::open_text(path, "BED")?
        .read_to_string(&mut s)
        .with_context(|| format!("cannot read BED {}", path.display()))?;
    Ok(s)
}

/// Sort and merge overlapping or touching intervals.
pub fn merge(mut v: Vec<Interval>, contig_order: &[String]) -> Vec<Interval> {
    let rank = |c: &str| {
        contig_order
            .iter()
            .position(|x| x == c)
            .unwrap_or(usize::MAX)
    };
    v.sort_by(|a, b| {
        (rank(&a.contig), &a.contig, a.start, a.end).cmp(&(
            rank(&b.contig),
            &b.contig,
            b.start,
            b.end,
        ))
    });
    let mut out: Vec<Interval> = Vec::with_capacity(v.len());
    for iv in v.into_iter().filter(|iv| iv.end > iv.start) {
        match out.last_mut() {
            Some(last) if last.contig == iv.contig && iv.start <= last.end => {
                last.end = last.end.max(iv.end)
            }
            _ => out.push(iv),
        }
    }
    out
}

/// Intersect two merged, sorted interval lists.
pub fn intersect(a: &[Interval], b: &[Interval]) -> Vec<Interval> {
    let mut out = Vec::new();
    for x in a {
        for y in b.iter().filter(|y| y.contig == x.contig) {
            let (s, e) = (x.start.max(y.start), x.end.min(y.end));
            if s < e {
                out.push(Interval {
                    contig: x.contig.clone(),
                    start: s,
                    end: e,
                });
            }
        }
    }
    out
}

/// One unit of work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    /// Position in output order.
    pub index: usize,
    /// The interval whose candidates this shard emits.
    pub interval: Interval,
}

/// Cut merged intervals into shards, in order, at multiples of `shard_bp` on the contig: shards
/// are the same pieces of the genome wherever an interval starts, and (at the default size)
/// whole depth tiles ([`DEPTH_TILE`]).
pub fn shard(intervals: &[Interval], shard_bp: u64) -> Vec<Shard> {
    let shard_bp = shard_bp.max(1);
    let mut out = Vec::new();
    for iv in intervals {
        let mut s = iv.start;
        while s < iv.end {
            let e = ((s / shard_bp + 1) * shard_bp).min(iv.end);
            out.push(Shard {
                index: out.len(),
                interval: Interval {
                    contig: iv.contig.clone(),
                    start: s,
                    end: e,
                },
            });
            s = e;
        }
    }
    out
}

/// Contigs callable in this run: named by the reads' header and present in the reference with
/// the same length. A contig the reference lacks is skipped (logged); a length mismatch is an
/// error, since it means the reads were aligned to another assembly.
pub fn callable_contigs(
    reads_contigs: &[(String, u64)],
    reference: &crate::reference::Reference,
    reads_path: &Path,
) -> Result<Vec<(String, u64)>> {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for (name, len) in reads_contigs {
        match reference.contig_len(name) {
            None => skipped.push(name.as_str()),
            Some(rl) if rl != *len => bail_input!(
                "contig {name} is {len} bp in {} but {rl} bp in reference {}: were the reads aligned to another assembly?",
                reads_path.display(),
                reference.path().display()
            ),
            Some(_) => out.push((name.clone(), *len)),
        }
    }
    if out.is_empty() {
        let reads: Vec<&str> = reads_contigs.iter().map(|(n, _)| n.as_str()).collect();
        let refs: Vec<&str> = reference
            .contigs()
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        let hint = reads
            .iter()
            .find_map(|r| {
                renamed(r, &refs).map(|m| {
                    format!(
                        ": did you mean {m}? (reads say {r}: one names contigs the UCSC way, \
                         the other the Ensembl way; use the reference the reads were aligned \
                         to, or rename the reads' @SQ names with samtools reheader)"
                    )
                })
            })
            .unwrap_or_default();
        bail_input!(
            "no contig of {} ({}) is in reference {} ({}){hint}",
            reads_path.display(),
            list(&reads),
            reference.path().display(),
            list(&refs)
        );
    }
    if !skipped.is_empty() {
        let shown: Vec<&str> = skipped.iter().take(8).copied().collect();
        log::info!(
            "skipping {} contig(s) of {} absent from the reference: {}{}",
            skipped.len(),
            reads_path.display(),
            shown.join(", "),
            if skipped.len() > shown.len() {
                ", ..."
            } else {
                ""
            }
        );
    }
    Ok(out)
}

/// Were the reads aligned to this reference? Every contig to call whose `@SQ` line carries an
/// `M5` tag should have that MD5 (of its upper-case sequence, as the SAM specification
/// defines it); one that does not is a warning naming both (a masked copy differs too). The
/// error for a reference of another sequence comes from the reads themselves
/// (`shard_stages::RefAgreement`). Contigs are hashed in 1 Mb pieces: memory stays small
/// whatever their length.
pub fn check_contig_md5s(
    md5s: &[(String, String)],
    intervals: &[Interval],
    reference: &crate::reference::Reference,
    reads_path: &Path,
) -> Result<()> {
    use md5::Digest as _;
    const PIECE: u64 = 1 << 20;
    let started = std::time::Instant::now();
    let (mut checked, mut mismatched) = (0, 0);
    for (contig, want) in md5s {
        if !intervals.iter().any(|iv| &iv.contig == contig) {
            continue;
        }
        let Some(len) = reference.contig_len(contig) else {
            continue;
        };
        let mut h = md5::Md5::new();
        let mut at = 0;
        while at < len {
            let mut piece = reference.fetch(contig, at, (at + PIECE).min(len))?;
            piece.make_ascii_uppercase();
            h.update(&piece);
            at += PIECE;
        }
        let got: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        if &got != want {
            // A masked copy (bases set to N, as test references are) differs from the
            // original only where nothing can be called, so this is a warning; reads that
            // disagree with the reference base by base fail the run (`RefAgreement`).
            log::warn!(
                "contig {contig} of reference {} is not the sequence {} was aligned to (its \
                 MD5 is {got}, the reads' @SQ M5 says {want}): expected for a masked copy of \
                 the assembly; otherwise use the reference the reads were aligned to",
                reference.path().display(),
                reads_path.display()
            );
            mismatched += 1;
        }
        checked += 1;
    }
    if checked > mismatched {
        log::info!(
            "reference matches the reads' @SQ M5 on {} of {checked} contig(s) ({:.1} s)",
            checked - mismatched,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The first few names of a list, for messages.
fn list(names: &[&str]) -> String {
    let mut s = names.iter().take(5).copied().collect::<Vec<_>>().join(", ");
    if names.len() > 5 {
        s.push_str(&format!(", ... {} in all", names.len()));
    }
    s
}

pub use crate::contig_names::renamed;

/// Resolve `--region` and `--regions` against the callable contigs into merged intervals.
/// With neither, every callable contig is called whole.
pub fn resolve(
    regions: &[String],
    bed: Option<&Path>,
    callable: &[(String, u64)],
) -> Result<Vec<Interval>> {
    let order: Vec<String> = callable.iter().map(|(n, _)| n.clone()).collect();
    let len_of = |c: &str| callable.iter().find(|(n, _)| n == c).map(|(_, l)| *l);
    let whole: Vec<Interval> = callable
        .iter()
        .map(|(n, l)| Interval {
            contig: n.clone(),
            start: 0,
            end: *l,
        })
        .collect();
    let names: Vec<&str> = order.iter().map(String::as_str).collect();
    let mut chosen = Vec::new();
    for r in regions {
        let (contig, range) = parse_region(r).bad_input()?;
        let Some(len) = len_of(&contig) else {
            let hint = renamed(&contig, &names)
                .map(|m| format!(": did you mean {m}?"))
                .unwrap_or_default();
            bail_input!(
                "region {r}: contig {contig} is not in both the reads and the reference ({}){hint}",
                list(&names)
            );
        };
        let (s, e) = range.unwrap_or((0, len));
        if s >= len {
            bail_input!("region {r} starts past the end of {contig} ({len} bp)");
        }
        chosen.push(Interval {
            contig,
            start: s,
            end: e.min(len),
        });
    }
    let mut result = if regions.is_empty() {
        whole.clone()
    } else {
        merge(chosen, &order)
    };
    if let Some(bed) = bed {
        let all = read_bed(bed).bad_input()?;
        let mut unknown: Vec<&str> = all
            .iter()
            .map(|iv| iv.contig.as_str())
            .filter(|c| len_of(c).is_none())
            .collect();
        unknown.dedup();
        if !unknown.is_empty() {
            let hint = unknown
                .iter()
                .find_map(|c| renamed(c, &names).map(|m| format!(" (did you mean {m}?)")))
                .unwrap_or_default();
            log::warn!(
                "{}: contigs not in both the reads and the reference are ignored: {}{hint}",
                bed.display(),
                list(&unknown)
            );
        }
        let b: Vec<Interval> = all
            .into_iter()
            .filter(|iv| len_of(&iv.contig).is_some())
            .collect();
        result = intersect(&result, &merge(b, &order));
        if result.iter().all(|iv| iv.end <= iv.start) {
            bail_input!(
                "no callable bases: {} names no interval on the contigs of both the reads and the reference ({}){}",
                bed.display(),
                list(&names),
                if regions.is_empty() { "" } else { " inside the --region values" }
            );
        }
    }
    let result = merge(result, &order);
    if result.iter().all(|iv| iv.end <= iv.start) {
        bail_input!("no callable bases in the regions given");
    }
    Ok(result)
}

#[cfg(test)]
mod tests {

    // A BED whose last line has no end column (a cut file without a final newline, which the
    // input layer lets through) is refused by the parser.
    #[test]
    fn test_bed_last_line_short_of_columns_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.bed");
        std::fs::write(&p, "c\t1\t5\nc\t9").unwrap();
        assert!(read_bed(&p).is_err());
    }
    use super::*;

    #[test]
    fn test_parse_region() {
        assert_eq!(parse_region("chr20").unwrap(), ("chr20".into(), None));
        assert_eq!(
            parse_region("chr20:10,000,001-10,000,100").unwrap(),
            ("chr20".into(), Some((10_000_000, 10_000_100)))
        );
        assert_eq!(
            parse_region("HLA-A*01:01:5").unwrap(),
            ("HLA-A*01:01".into(), Some((4, u64::MAX)))
        );
        assert!(parse_region("chr1:0-5").is_err());
        assert!(parse_region("chr1:9-5").is_err());
    }

    #[test]
    fn test_shard_covers_each_base_once() {
        let ivs = vec![
            Interval {
                contig: "a".into(),
                start: 3,
                end: 103,
            },
            Interval {
                contig: "b".into(),
                start: 0,
                end: 7,
            },
        ];
        for bp in [1, 7, 25, 100, 1000] {
            let shards = shard(&ivs, bp);
            let mut covered = 0;
            for (i, s) in shards.iter().enumerate() {
                assert_eq!(s.index, i);
                assert!(s.interval.end - s.interval.start <= bp);
                covered += s.interval.end - s.interval.start;
            }
            assert_eq!(covered, 107);
            for w in shards.windows(2) {
                if w[0].interval.contig == w[1].interval.contig {
                    assert_eq!(w[0].interval.end, w[1].interval.start);
                }
            }
        }
    }

    #[test]
    fn test_shards_cut_at_multiples_of_their_size() {
        let iv = |start, end| Interval {
            contig: "a".into(),
            start,
            end,
        };
        let ends = |ivs: &[Interval]| -> Vec<u64> {
            shard(ivs, 100).iter().map(|s| s.interval.end).collect()
        };
        // Wherever an interval starts, inner cuts fall on the same grid.
        assert_eq!(ends(&[iv(30, 350)]), vec![100, 200, 300, 350]);
        assert_eq!(ends(&[iv(170, 350)]), vec![200, 300, 350]);
        assert_eq!(ends(&[iv(0, 100), iv(250, 260)]), vec![100, 260]);
    }

    #[test]
    fn test_resolve_with_bed_and_regions() {
        let dir = tempfile::tempdir().unwrap();
        let bed = dir.path().join("r.bed");
        std::fs::write(&bed, "track x\nc1\t10\t20\nc1\t15\t30\nzz\t1\t2\n").unwrap();
        let callable = vec![("c1".to_string(), 100), ("c2".to_string(), 50)];
        let got = resolve(&["c1:12-40".into(), "c2".into()], Some(&bed), &callable).unwrap();
        assert_eq!(
            got,
            vec![Interval {
                contig: "c1".into(),
                start: 11,
                end: 30
            }]
        );
        let all = resolve(&[], None, &callable).unwrap();
        assert_eq!(all.len(), 2);
        assert!(resolve(&["chrX:1-5".into()], None, &callable).is_err());
    }
}
