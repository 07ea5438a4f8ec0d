//! A genome of ten 25 kb grid cells for the scatter-gather tests (`tests/it/shards.rs`,
//! `tests/it/workflows.rs`), built from `common`'s helpers.
use std::path::Path;

use rand::{Rng, SeedableRng};
use rust_htslib::bam;

use crate::common::*;

/// Three contigs: `chrA` (130 kb, reads over all of it, 140x over its first 25 kb and 40x
/// after), `chrB` (60 kb, 40x over its first 30 kb only) and `chrC` (8 kb, no reads), with a
/// het SNV about every 400 bp where there are reads: ten 25 kb grid cells in all.
pub fn build_genome() -> Fixture {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(31);
    let a = random_seq(&mut rng, 130_000);
    let b = random_seq(&mut rng, 60_000);
    let c = random_seq(&mut rng, 8_000);
    let (dir, fasta) = temp_fasta(&[("chrA", &a), ("chrB", &b), ("chrC", &c)]);
    let mut records = Vec::new();
    let mut planted = Vec::new();
    for (name, seq, covered) in [("chrA", &a, 130_000usize), ("chrB", &b, 30_000)] {
        let mut variants: Vec<(u64, Vec<u8>, Vec<u8>)> = Vec::new();
        let mut p = 300;
        while p + 300 < covered {
            let alt = if seq[p] == b'G' { b'T' } else { b'G' };
            variants.push((p as u64, vec![seq[p]], vec![alt]));
            planted.push(Planted {
                pos: p as u64 + 1,
                ref_allele: (seq[p] as char).to_string(),
                alt: (alt as char).to_string(),
                copies: 1,
            });
            p += 300 + rng.random_range(0..200);
        }
        let v: Vec<(u64, &[u8], &[u8])> = variants
            .iter()
            .map(|(p, r, a)| (*p, &r[..], &a[..]))
            .collect();
        let haps = [apply(&seq[..covered], &v), apply(&seq[..covered], &[])];
        for (h, hap) in haps.iter().enumerate() {
            records.extend(tiled_reads(name, hap, 5, &format!("{name}h{h}"), ""));
            if name == "chrA" {
                // 100x more over the first grid cell: work the index should see.
                records.extend(
                    tiled_reads(name, hap, 2, &format!("deep{h}"), "")
                        .into_iter()
                        .filter(|(pos, _)| *pos < 25_000),
                );
            }
        }
    }
    let bam = dir.path().join("reads.bam");
    let header = sam_header(
        &[("chrA", 130_000), ("chrB", 60_000), ("chrC", 8_000)],
        "SHARDS",
    );
    write_sorted_bam(&bam, &header, records);
    Fixture {
        dir,
        fasta,
        bam,
        planted,
    }
}

/// A coordinate-sorted, indexed BAM of SAM `records` on several contigs: sorted by the
/// contig's place in the header, then position ([`write_alignments`] sorts by position only,
/// which suits its one-contig fixtures).
fn write_sorted_bam(path: &Path, header: &str, mut records: Vec<(u64, String)>) {
    let view = bam::HeaderView::from_bytes(header.as_bytes());
    let tid = |line: &str| {
        view.tid(line.split('\t').nth(2).unwrap().as_bytes())
            .unwrap()
    };
    records.sort_by(|a, b| (tid(&a.1), a.0, &a.1).cmp(&(tid(&b.1), b.0, &b.1)));
    {
        let hdr = bam::Header::from_template(&view);
        let mut w = bam::Writer::from_path(path, &hdr, bam::Format::Bam).unwrap();
        for (_, line) in &records {
            w.write(&bam::Record::from_sam(&view, line.as_bytes()).unwrap())
                .unwrap();
        }
    }
    bam::index::build(path, None, bam::index::Type::Bai, 1).unwrap();
}
