//! The reference genome: memory-mapped plain FASTA (+ .fai), or bgzipped FASTA through htslib.
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use memmap2::Mmap;

/// One line of a `.fai` index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaiEntry {
    /// Contig name.
    pub name: String,
    /// Contig length in bases.
    pub length: u64,
    offset: u64,
    line_bases: u64,
    line_width: u64,
}

/// Parse a `.fai` index (samtools faidx format).
pub fn parse_fai(text: &str, path: &Path) -> Result<Vec<FaiEntry>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let num = |k: usize| -> Result<u64> {
            f.get(k).and_then(|s| s.parse().ok()).with_context(|| {
                format!("{}:{}: malformed .fai line {line:?}", path.display(), i + 1)
            })
        };
        let e = FaiEntry {
            name: f[0].to_string(),
            length: num(1)?,
            offset: num(2)?,
            line_bases: num(3)?,
            line_width: num(4)?,
        };
        if e.line_bases == 0 && e.length > 0 {
            bail!(
                "{}:{}: zero line length for {}",
                path.display(),
                i + 1,
                e.name
            );
        }
        out.push(e);
    }
    Ok(out)
}

enum Backend {
    Mmap(Mmap),
    // NB: htslib's faidx handle is not thread-safe; shards fetch once each, so a lock is cheap.
    Bgzf(Mutex<rust_htslib::faidx::Reader>),
}

/// A reference genome opened for random access by contig and 0-based half-open interval.
pub struct Reference {
    path: PathBuf,
    contigs: Vec<FaiEntry>,
    by_name: HashMap<String, usize>,
    backend: Backend,
}

impl std::fmt::Debug for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reference")
            .field("path", &self.path)
            .finish()
    }
}

fn is_bgzf(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let mut f =
        File::open(path).with_context(|| format!("cannot open reference {}", path.display()))?;
    let n = f.read(&mut magic)?;
    if n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
        // bgzf is gzip with the BC extra field (FLG.FEXTRA = 4).
        if n < 4 || magic[3] & 4 == 0 {
            bail!(
                "reference {} is gzip but not bgzip: recompress with `bgzip` (and `samtools faidx`)",
                path.display()
            );
        }
        return Ok(true);
    }
    Ok(false)
}

/// An index more than a minute older than its FASTA was made before the FASTA was edited:
/// its offsets point at other bases (or past the end), which reads back as another sequence
/// without any error. Refused, with the command that remakes it. (A minute's grace: a copied
/// FASTA and its index land in either order, moments apart.)
fn check_index_age(fasta: &Path, index: &Path) -> Result<()> {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(f), Some(i)) = (modified(fasta), modified(index)) {
        if i + std::time::Duration::from_secs(60) < f {
            bail!(
                "index {} is older than the reference {}: was the FASTA edited since? Remake it \
                 (`samtools faidx {}`), or, if the index is known to be current (copied before \
                 its FASTA), `touch` it",
                index.display(),
                fasta.display(),
                fasta.display()
            );
        }
    }
    Ok(())
}

impl Reference {
    /// Open a FASTA. A missing `.fai` is built with htslib (and `.gzi` for bgzipped files).
    pub fn open(path: &Path) -> Result<Self> {
        let bgzf = is_bgzf(path)?;
        let fai_path = PathBuf::from(format!("{}.fai", path.display()));
        let gzi_path = PathBuf::from(format!("{}.gzi", path.display()));
        if !fai_path.exists() || (bgzf && !gzi_path.exists()) {
            log::info!("indexing reference {}", path.display());
            // faidx::Reader::from_path builds missing indexes (fai_load3 with FAI_CREATE).
            rust_htslib::faidx::Reader::from_path(path)
                .map_err(|e| anyhow::anyhow!("cannot index reference {}: {e}", path.display()))?;
            if !fai_path.exists() {
                // htslib could not write the index (a read-only folder) and says so only on
                // stderr.
                anyhow::bail!(
                    "reference {} has no index and none can be written beside it: run \
                     `samtools faidx {}` where it can be, or copy the FASTA to a writable folder",
                    path.display(),
                    path.display()
                );
            }
        }
        check_index_age(path, &fai_path)?;
        if bgzf {
            check_index_age(path, &gzi_path)?;
        }
        let text = std::fs::read_to_string(&fai_path)
            .with_context(|| format!("cannot read {}", fai_path.display()))?;
        let contigs = parse_fai(&text, &fai_path)?;
        let by_name = contigs
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        let backend = if bgzf {
            let r = rust_htslib::faidx::Reader::from_path(path)
                .map_err(|e| anyhow::anyhow!("cannot open reference {}: {e}", path.display()))?;
            Backend::Bgzf(Mutex::new(r))
        } else {
            let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
            // SAFETY: the file is opened read-only; a reference modified during a run is a user
            // error that at worst yields wrong bases, which the contig length check cannot catch.
            let mmap = unsafe { Mmap::map(&f) }
                .with_context(|| format!("cannot memory-map {}", path.display()))?;
            Backend::Mmap(mmap)
        };
        Ok(Self {
            path: path.to_path_buf(),
            contigs,
            by_name,
            backend,
        })
    }

    /// The FASTA path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Contigs in file order.
    pub fn contigs(&self) -> &[FaiEntry] {
        &self.contigs
    }

    /// Length of `contig`, if present.
    pub fn contig_len(&self, contig: &str) -> Option<u64> {
        self.by_name.get(contig).map(|&i| self.contigs[i].length)
    }

    /// Upper-case bases of `contig[start..end)` (0-based, half-open), clamped to the contig end.
    pub fn fetch(&self, contig: &str, start: u64, end: u64) -> Result<Vec<u8>> {
        let e = self
            .by_name
            .get(contig)
            .map(|&i| &self.contigs[i])
            .with_context(|| {
                format!(
                    "contig {contig} is not in reference {}",
                    self.path.display()
                )
            })?;
        let end = end.min(e.length);
        if start >= end {
            return Ok(Vec::new());
        }
        let mut seq = match &self.backend {
            Backend::Mmap(m) => fetch_mmap(m, e, start, end).with_context(|| {
                format!(
                    "reference {} truncated at {contig}:{start}-{end}",
                    self.path.display()
                )
            })?,
            Backend::Bgzf(r) => {
                let r = r
                    .lock()
                    .map_err(|_| anyhow::anyhow!("bug: reference lock poisoned"))?;
                // htslib's end is inclusive.
                let s = r
                    .fetch_seq(contig, start as usize, (end - 1) as usize)
                    .map_err(|err| {
                        anyhow::anyhow!(
                            "cannot read {contig}:{start}-{end} from {}: {err}",
                            self.path.display()
                        )
                    })?;
                if s.len() as u64 != end - start {
                    bail!(
                        "reference {} returned {} bases for {contig}:{start}-{end}",
                        self.path.display(),
                        s.len()
                    );
                }
                s
            }
        };
        seq.make_ascii_uppercase();
        Ok(seq)
    }
}

/// Reference bases around positions visited in increasing order, fetched a block at a time,
/// so that per-record look-ups (allele normalisation) neither re-read the reference for every
/// record nor hold a whole contig in memory.
pub struct RefCursor<'a> {
    reference: &'a Reference,
    contig: String,
    start: u64,
    seq: Vec<u8>,
}

/// Bases fetched past the requested flank each time the cursor moves.
const CURSOR_BLOCK: u64 = 64 * 1024;

impl<'a> RefCursor<'a> {
    /// A cursor with nothing loaded yet.
    pub fn new(reference: &'a Reference) -> Self {
        Self {
            reference,
            contig: String::new(),
            start: 0,
            seq: Vec::new(),
        }
    }

    /// Make sure `contig:[pos - flank, pos + flank)` is loaded.
    pub fn load_around(&mut self, contig: &str, pos: u64, flank: u64) -> Result<()> {
        let (lo, hi) = (pos.saturating_sub(flank), pos + flank);
        let loaded_hi = self.start + self.seq.len() as u64;
        let len = self.reference.contig_len(contig).unwrap_or(0);
        if contig == self.contig && lo >= self.start && (hi <= loaded_hi || loaded_hi >= len) {
            return Ok(());
        }
        self.seq = self.reference.fetch(contig, lo, hi + CURSOR_BLOCK)?;
        self.contig = contig.to_string();
        self.start = lo;
        Ok(())
    }

    /// Base at `pos` on the loaded contig; `N` outside what is loaded.
    pub fn base(&self, pos: u64) -> u8 {
        pos.checked_sub(self.start)
            .and_then(|i| self.seq.get(i as usize))
            .copied()
            .unwrap_or(b'N')
    }
}

fn fetch_mmap(m: &[u8], e: &FaiEntry, start: u64, end: u64) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity((end - start) as usize);
    let mut pos = start;
    while pos < end {
        let line = pos / e.line_bases;
        let col = pos % e.line_bases;
        let take = (e.line_bases - col).min(end - pos);
        let off = (e.offset + line * e.line_width + col) as usize;
        out.extend_from_slice(m.get(off..off + take as usize)?);
        pos += take;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn test_fetch_mmap_across_lines() {
        let dir = tempfile::tempdir().unwrap();
        let fa = dir.path().join("r.fa");
        let mut f = File::create(&fa).unwrap();
        // 10 bases, lines of 4: ACGT / acgt / NN
        write!(f, ">c1 desc\nACGT\nacgt\nNN\n>c2\nTTTT\n").unwrap();
        drop(f);
        let r = Reference::open(&fa).unwrap();
        assert_eq!(r.contig_len("c1"), Some(10));
        assert_eq!(r.fetch("c1", 2, 7).unwrap(), b"GTACG");
        assert_eq!(r.fetch("c1", 8, 100).unwrap(), b"NN");
        assert_eq!(r.fetch("c2", 0, 4).unwrap(), b"TTTT");
        assert!(r.fetch("c3", 0, 1).is_err());
        let mut c = RefCursor::new(&r);
        c.load_around("c1", 3, 2).unwrap();
        assert_eq!((c.base(1), c.base(9), c.base(10)), (b'C', b'N', b'N'));
        c.load_around("c2", 1, 1).unwrap();
        assert_eq!(c.base(3), b'T');
    }
}
