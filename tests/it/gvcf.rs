//! `varstream call --gvcf`: reference blocks tile the called regions, variant records are the
//! VCF's, the output does not depend on threads or shards, and bcftools reads it.
//!
//! Over 600 lines: the block writer's tiling is checked on synthetic and called data with
//! one parser of gVCF lines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::*;
use rand::{Rng, SeedableRng};
use varstream::gvcf::{BlockWriter, GqBands, GvcfRecord, RefPosition};
use varstream::regions::{shard, Interval};

/// One gVCF data line, parsed as far as tiling needs.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    contig: String,
    /// 0-based start.
    start: u64,
    /// Exclusive end: END for a block, POS + len(REF) for a record.
    end: u64,
    block: bool,
    gq: u32,
    text: String,
}

fn parse(body: &[String]) -> Vec<Line> {
    body.iter()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let start = f[1].parse::<u64>().unwrap() - 1;
            let block = f[4] == "<*>";
            let end = if block {
                f[7].strip_prefix("END=").unwrap().parse().unwrap()
            } else {
                start + f[3].len() as u64
            };
            let keys: Vec<&str> = f[8].split(':').collect();
            let vals: Vec<&str> = f[9].split(':').collect();
            let gq = vals[keys.iter().position(|k| *k == "GQ").unwrap()]
                .parse()
                .unwrap();
            Line {
                contig: f[0].to_string(),
                start,
                end,
                block,
                gq,
                text: l.clone(),
            }
        })
        .collect()
}

/// The GT of a line (its ploidy shows in it).
fn gt(l: &Line) -> &str {
    l.text
        .split('\t')
        .nth(9)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
}

/// Check that `lines` cover each base of `regions` exactly once, by a reference block or the
/// span of a variant record, that blocks lie inside the regions and overlap nothing, that
/// lines are in order, and that two touching blocks differ in band or ploidy (else they
/// would be one block).
#[track_caller]
fn assert_tiles(lines: &[Line], regions: &[Interval], bands: &GqBands) {
    let mut by_contig: BTreeMap<&str, Vec<&Line>> = BTreeMap::new();
    for l in lines {
        by_contig.entry(&l.contig).or_default().push(l);
    }
    for ls in by_contig.values() {
        for w in ls.windows(2) {
            assert!(w[0].start <= w[1].start, "out of order: {w:?}");
        }
        let blocks: Vec<&&Line> = ls.iter().filter(|l| l.block).collect();
        for w in blocks.windows(2) {
            if w[0].end == w[1].start && gt(w[0]) == gt(w[1]) {
                assert_ne!(
                    bands.band(w[0].gq as u8),
                    bands.band(w[1].gq as u8),
                    "touching blocks of one band and ploidy: {} / {}",
                    w[0].text,
                    w[1].text
                );
            }
        }
    }
    for l in lines.iter().filter(|l| l.block) {
        assert!(
            regions
                .iter()
                .any(|iv| iv.contig == l.contig && iv.start <= l.start && l.end <= iv.end),
            "block outside the called regions: {}",
            l.text
        );
    }
    // Blocks and records over each base, by difference arrays.
    for (contig, ls) in &by_contig {
        let n = ls.iter().map(|l| l.end).max().unwrap_or(0) as usize + 1;
        let (mut blocks, mut records) = (vec![0i32; n + 1], vec![0i32; n + 1]);
        for l in ls {
            let d = if l.block { &mut blocks } else { &mut records };
            d[l.start as usize] += 1;
            d[l.end as usize] -= 1;
        }
        let (mut b, mut r) = (0, 0);
        let mut cover = vec![(0, 0); n];
        for p in 0..n {
            b += blocks[p];
            r += records[p];
            cover[p] = (b, r);
        }
        for (p, &(b, r)) in cover.iter().enumerate() {
            assert!(
                b <= 1 && (b == 0 || r == 0),
                "{contig}:{} is in {b} blocks and {r} records",
                p + 1
            );
        }
        for iv in regions.iter().filter(|iv| iv.contig == *contig) {
            for p in iv.start..iv.end {
                let (b, r) = cover.get(p as usize).copied().unwrap_or((0, 0));
                assert!(b + r >= 1, "{contig}:{} is in no line", p + 1);
            }
        }
    }
    for iv in regions {
        assert!(
            by_contig.contains_key(iv.contig.as_str()) || iv.start == iv.end,
            "no line on {}",
            iv.contig
        );
    }
}

/// A made-up genome's worth of per-position evidence, fixed by the seed: GQ and depth that
/// drift along the contig, haploid stretches, and variant records of 1-60 bp (some spanning
/// several shards, some overlapping the one before).
struct Synthetic {
    positions: Vec<RefPosition>,
    records: Vec<GvcfRecord>,
}

impl Synthetic {
    fn new(len: u64, rng: &mut impl Rng) -> Self {
        let mut positions = Vec::new();
        let mut gq: i32 = 50;
        let mut ploidy = 2;
        for _ in 0..len {
            gq = (gq + rng.random_range(-9..=9)).clamp(0, 99);
            if rng.random_bool(0.002) {
                ploidy = 3 - ploidy;
            }
            let dp = (gq / 3) as u16;
            positions.push(RefPosition {
                base: b"ACGTN"[rng.random_range(0..5)],
                ploidy,
                gq: gq as u8,
                dp,
                pl: [0, gq as u16, 3 * gq as u16],
            });
        }
        let mut records = Vec::new();
        let mut pos = rng.random_range(0..50);
        while pos < len {
            let span = if rng.random_bool(0.2) {
                rng.random_range(2..=60)
            } else {
                1
            };
            records.push(GvcfRecord {
                pos,
                end: pos + span,
                line: format!(
                    "chrS\t{}\t.\t{}\tA,<*>\t30\tPASS\t.\tGT:GQ\t0/1:30\n",
                    pos + 1,
                    "C".repeat(span as usize)
                ),
            });
            pos += rng.random_range(1..120);
        }
        Self { positions, records }
    }

    /// The gVCF body for `regions` cut into shards of `shard_bp`, as the writer thread sees it.
    fn gvcf(&self, regions: &[Interval], shard_bp: u64, bands: &GqBands) -> String {
        let mut w = BlockWriter::new(bands.clone());
        let mut out = String::new();
        for s in shard(regions, shard_bp) {
            let iv = &s.interval;
            let recs: Vec<GvcfRecord> = self
                .records
                .iter()
                .filter(|r| r.pos >= iv.start && r.pos < iv.end)
                .cloned()
                .collect();
            let positions = &self.positions[iv.start as usize..iv.end as usize];
            w.shard(&iv.contig, iv.start, positions, &recs, &mut out);
        }
        w.close(&mut out);
        out
    }
}

// Property: for random region sets, shard sizes and bands, blocks tile the called regions
// (every base once, in a block or a record), and the bytes do not depend on the shard size.
#[test]
fn blocks_tile_random_regions_for_any_shard_size() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let len = 20_000u64;
    for round in 0..40 {
        let genome = Synthetic::new(len, &mut rng);
        let mut regions = Vec::new();
        let mut at = rng.random_range(0..500);
        while at < len {
            let end = (at + rng.random_range(1..4_000)).min(len);
            regions.push(Interval {
                contig: "chrS".into(),
                start: at,
                end,
            });
            // Some regions touch (merged by the caller), others leave a gap.
            at = end
                + if rng.random_bool(0.3) {
                    0
                } else {
                    rng.random_range(1..700)
                };
        }
        let regions = varstream::regions::merge(regions, &["chrS".to_string()]);
        let bands = match round % 3 {
            0 => GqBands::parse("gatk").unwrap(),
            1 => GqBands::parse("deepvariant").unwrap(),
            _ => GqBands::parse("20,60").unwrap(),
        };
        let whole = genome.gvcf(&regions, 25_000, &bands);
        let body: Vec<String> = whole.lines().map(str::to_string).collect();
        assert_tiles(&parse(&body), &regions, &bands);
        for shard_bp in [1, 7, 300, 1000, rng.random_range(2..5_000)] {
            assert_eq!(
                genome.gvcf(&regions, shard_bp, &bands),
                whole,
                "round {round}: --shard-size {shard_bp} changed the gVCF"
            );
        }
    }
}

fn call_gvcf(fx: &Fixture, name: &str, extra: &[&str]) -> (PathBuf, PathBuf) {
    let vcf = fx.dir.path().join(format!("{name}.vcf.gz"));
    let gvcf = fx.dir.path().join(format!("{name}.g.vcf.gz"));
    let mut args = vec!["--gvcf", gvcf.to_str().unwrap()];
    args.extend_from_slice(extra);
    assert_ok(&call_with(&fx.fasta, &fx.bam, &vcf, &args));
    assert!(PathBuf::from(format!("{}.tbi", gvcf.display())).exists());
    (vcf, gvcf)
}

/// The regions a run called: `--region` values, or every contig of the fixture.
fn regions_of(fx: &Fixture, given: &[(u64, u64)]) -> Vec<Interval> {
    if given.is_empty() {
        return read_fasta(&fx.fasta)
            .into_iter()
            .map(|(c, s)| Interval {
                contig: c,
                start: 0,
                end: s.len() as u64,
            })
            .collect();
    }
    given
        .iter()
        .map(|&(s, e)| Interval {
            contig: "chrT".into(),
            start: s,
            end: e,
        })
        .collect()
}

// The binary on a real (simulated) sample: random region sets and shard sizes, every base of
// the called regions once. The whole-genome run also covers a contig with no reads.
#[test]
fn gvcf_tiles_the_called_regions() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let bands = GqBands::parse(varstream::gvcf::DEFAULT_BANDS).unwrap();
    let (_, g) = call_gvcf(&fx, "all", &[]);
    let lines = parse(&vcf_body(&g));
    assert_tiles(&lines, &regions_of(&fx, &[]), &bands);
    assert!(lines.iter().any(|l| l.contig == "chrU" && l.block));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    for k in 0..3 {
        let mut given = Vec::new();
        let mut at = rng.random_range(0..400u64);
        while at < 2900 {
            let end = (at + rng.random_range(50..900)).min(3000);
            given.push((at, end));
            at = end + rng.random_range(1..400);
        }
        let mut args: Vec<String> = Vec::new();
        for (s, e) in &given {
            args.extend(["--region".into(), format!("chrT:{}-{}", s + 1, e)]);
        }
        let size = rng.random_range(100..3000u64).to_string();
        args.extend(["--shard-size".into(), size.clone()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (_, g) = call_gvcf(&fx, &format!("r{k}"), &args);
        let lines = parse(&vcf_body(&g));
        assert_tiles(&lines, &regions_of(&fx, &given), &bands);
        assert!(
            lines.iter().any(|l| !l.block) || given.iter().all(|&(s, e)| e < 1000 || s > 2001),
            "regions {given:?} (shard size {size}) hold a planted variant but no record"
        );
    }
}

/// A gVCF variant line without `<*>`: its ALT entry, its AD and VAF entries and the PL of
/// the genotypes that include it.
fn drop_non_ref(line: &str) -> String {
    let mut f: Vec<String> = line.split('\t').map(str::to_string).collect();
    let alts: Vec<&str> = f[4].split(',').collect();
    assert_eq!(*alts.last().unwrap(), "<*>", "{line}");
    let n = alts.len(); // alleles without <*>, REF included
    f[4] = alts[..n - 1].join(",");
    let keys: Vec<String> = f[8].split(':').map(str::to_string).collect();
    let mut vals: Vec<String> = f[9].split(':').map(str::to_string).collect();
    let diploid = vals[0].contains('/');
    for (k, v) in keys.iter().zip(vals.iter_mut()) {
        let items: Vec<&str> = v.split(',').collect();
        let keep = match k.as_str() {
            "AD" => n,
            "VAF" => n - 1,
            "PL" if diploid => n * (n + 1) / 2,
            "PL" => n,
            _ => continue,
        };
        assert_eq!(
            items.len(),
            match k.as_str() {
                "AD" => n + 1,
                "VAF" => n,
                "PL" if diploid => (n + 1) * (n + 2) / 2,
                _ => n + 1,
            },
            "{k} of {line}"
        );
        *v = items[..keep].join(",");
    }
    f[9] = vals.join(":");
    f.join("\t")
}

// The gVCF's variant records are the VCF's, byte for byte, once `<*>` is taken out.
#[test]
fn gvcf_records_are_the_vcf_records() {
    if !require_ort() {
        return;
    }
    for fx in [build(true), build_str_across_edge()] {
        let (v, g) = call_gvcf(&fx, "out", &["--shard-size", "1000"]);
        let vcf = vcf_body(&v);
        let records: Vec<String> = vcf_body(&g)
            .iter()
            .filter(|l| l.split('\t').nth(4) != Some("<*>"))
            .map(|l| drop_non_ref(l))
            .collect();
        assert!(vcf.len() >= fx.planted.len(), "{vcf:?}");
        assert_eq!(records, vcf);
    }
}

/// Header lines of a bgzipped VCF.
fn header_lines(path: &Path) -> Vec<String> {
    use std::io::Read;
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    s.lines()
        .take_while(|l| l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

// The header declares every INFO and FORMAT key and symbolic allele the body uses.
#[test]
fn gvcf_header_declares_every_field() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let (_, g) = call_gvcf(&fx, "out", &[]);
    let header = header_lines(&g).join("\n");
    for l in vcf_body(&g) {
        let f: Vec<&str> = l.split('\t').collect();
        for k in f[7].split(';').filter(|k| *k != ".") {
            let key = k.split('=').next().unwrap();
            assert!(header.contains(&format!("##INFO=<ID={key},")), "{key}");
        }
        for key in f[8].split(':') {
            assert!(header.contains(&format!("##FORMAT=<ID={key},")), "{key}");
        }
        if f[4].contains("<*>") {
            assert!(header.contains("##ALT=<ID=*,"));
        }
    }
    assert!(header.contains("##varstream_gvcf=<GQBands="));
}

// Output does not depend on --threads or --shard-size, with --gvcf too: one fixture with
// indels and one whose repeat and deletion cross a shard edge.
#[test]
fn gvcf_same_for_any_threads_and_shard_size() {
    if !require_ort() {
        return;
    }
    for fx in [build(true), build_str_across_edge()] {
        let (v0, g0) = call_gvcf(&fx, "base", &["--threads", "1", "--shard-size", "25000"]);
        let (vcf, gvcf) = (vcf_body(&v0), vcf_body(&g0));
        assert!(gvcf.len() > vcf.len());
        // --gvcf does not change the VCF.
        let (out, plain) = call_fixture(&fx, &fx.bam, "plain.vcf.gz", &[]);
        assert_ok(&out);
        assert_eq!(vcf_body(&plain), vcf, "--gvcf changed the VCF");
        for (i, (threads, size)) in [("2", "25000"), ("1", "300"), ("2", "300"), ("2", "1000")]
            .into_iter()
            .enumerate()
        {
            let (v, g) = call_gvcf(
                &fx,
                &format!("t{i}"),
                &["--threads", threads, "--shard-size", size],
            );
            assert_eq!(
                vcf_body(&v),
                vcf,
                "--threads {threads} --shard-size {size}: VCF"
            );
            assert_eq!(
                vcf_body(&g),
                gvcf,
                "--threads {threads} --shard-size {size}: gVCF"
            );
        }
    }
}

// A region split in one run (two adjacent --region values) is one region: the same gVCF.
// Run as two jobs, the pieces have the same records and give every base the same GQ band.
#[test]
fn gvcf_region_split() {
    if !require_ort() {
        return;
    }
    let fx = build_str_across_edge();
    let (_, whole) = call_gvcf(&fx, "whole", &[]);
    let (_, joined) = call_gvcf(
        &fx,
        "joined",
        &["--region", "chrT:1-2987", "--region", "chrT:2988-6000"],
    );
    assert_eq!(vcf_body(&joined), vcf_body(&whole));
    let (_, left) = call_gvcf(&fx, "left", &["--region", "chrT:1-2987"]);
    let (_, right) = call_gvcf(&fx, "right", &["--region", "chrT:2988-6000"]);
    let bands = GqBands::parse(varstream::gvcf::DEFAULT_BANDS).unwrap();
    let per_base = |lines: &[Line]| -> Vec<(u64, bool, usize)> {
        let mut v = Vec::new();
        for l in lines {
            for p in l.start..l.end.min(6000) {
                v.push((p, l.block, if l.block { bands.band(l.gq as u8) } else { 0 }));
            }
        }
        v
    };
    let mut pieces = parse(&vcf_body(&left));
    pieces.extend(parse(&vcf_body(&right)));
    let whole = parse(&vcf_body(&whole));
    let records = |ls: &[Line]| -> Vec<String> {
        ls.iter()
            .filter(|l| !l.block)
            .map(|l| l.text.clone())
            .collect()
    };
    assert_eq!(records(&pieces), records(&whole));
    // A deletion record ending past the split covers the first bases of the right piece in
    // one run; in the right-hand job those bases are a block, so compare where both are blocks.
    let (a, b) = (per_base(&pieces), per_base(&whole));
    let b: BTreeMap<u64, (bool, usize)> =
        b.into_iter().map(|(p, k, band)| (p, (k, band))).collect();
    for (p, k, band) in a {
        if let Some(&(kw, bw)) = b.get(&p) {
            if k && kw {
                assert_eq!(band, bw, "GQ band at {} differs", p + 1);
            }
        }
    }
}

fn bcftools(args: &[&str]) -> Option<std::process::Output> {
    match std::process::Command::new("bcftools").args(args).output() {
        Ok(o) => Some(o),
        Err(_) => {
            assert!(
                !ci(),
                "bcftools is required when CI=true (scripts/setup.sh)"
            );
            eprintln!("SKIP: bcftools not found");
            None
        }
    }
}

#[track_caller]
fn bcf_ok(o: &std::process::Output) -> String {
    assert!(
        o.status.success(),
        "bcftools failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// The genotype of each sample at `pos` (1-based) in VCF text, as allele sequences
/// (`T/C`): bcftools may list the merged ALTs in another order than either input.
fn genotypes_at(text: &str, pos: u64) -> Vec<String> {
    let line = text
        .lines()
        .find(|l| !l.starts_with('#') && l.split('\t').nth(1) == Some(&pos.to_string()))
        .unwrap_or_else(|| panic!("no record at {pos}"));
    let f: Vec<&str> = line.split('\t').collect();
    let mut alleles = vec![f[3]];
    alleles.extend(f[4].split(','));
    f[9..]
        .iter()
        .map(|s| {
            let gt = s.split(':').next().unwrap();
            gt.split(['/', '|'])
                .map(|a| a.parse::<usize>().map_or(".", |i| alleles[i]))
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect()
}

// Two samples' gVCFs merged with `bcftools merge --gvcf`, then expanded with
// `bcftools convert --gvcf2vcf` and read by `bcftools view`: each sample's variant shows
// with the other's block genotype (0/0) beside it, and every base of chrT has a record.
#[test]
fn bcftools_merges_and_converts_two_gvcfs() {
    if !require_ort() {
        return;
    }
    let (fx, bob) = build_two_samples();
    let (_, a) = call_gvcf(&fx, "alice", &["--sample", "ALICE"]);
    let (_, b) = call_gvcf(&fx, "bob", &["--sample", "BOB"]);
    let merged = fx.dir.path().join("merged.g.vcf.gz");

    let fasta = fx.fasta.to_str().unwrap();
    let Some(o) = bcftools(&[
        "merge",
        "--gvcf",
        fasta,
        "-Oz",
        "-o",
        merged.to_str().unwrap(),
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]) else {
        return;
    };
    bcf_ok(&o);
    let text = bcf_ok(&bcftools(&["view", merged.to_str().unwrap()]).unwrap());
    let samples = text.lines().find(|l| l.starts_with("#CHROM")).unwrap();
    assert!(samples.ends_with("\tALICE\tBOB"), "{samples}");
    // BOB's hom SNV: ALICE's block gives hom-ref there.
    let (r, a) = (&bob.ref_allele, &bob.alt);
    assert_eq!(
        genotypes_at(&text, bob.pos),
        vec![format!("{r}/{r}"), format!("{a}/{a}")]
    );
    // ALICE's het SNV at 1001: BOB is hom-ref.
    let snv = &fx.planted[0];
    let (r1, a1) = (&snv.ref_allele, &snv.alt);
    assert_eq!(
        genotypes_at(&text, snv.pos),
        vec![format!("{r1}/{a1}"), format!("{r1}/{r1}")]
    );

    let vcf = fx.dir.path().join("merged.vcf.gz");
    bcf_ok(
        &bcftools(&[
            "convert",
            "--gvcf2vcf",
            "--fasta-ref",
            fasta,
            "-Oz",
            "-o",
            vcf.to_str().unwrap(),
            merged.to_str().unwrap(),
        ])
        .unwrap(),
    );
    let expanded = bcf_ok(&bcftools(&["view", "-H", vcf.to_str().unwrap()]).unwrap());
    let positions: std::collections::BTreeSet<u64> = expanded
        .lines()
        .filter(|l| l.starts_with("chrT\t"))
        .map(|l| l.split('\t').nth(1).unwrap().parse().unwrap())
        .collect();
    // Every base of chrT has a site (a deletion's record stands for the bases it covers).
    let del = &fx.planted[1];
    for p in 1..=3000u64 {
        let in_del = p > del.pos && p < del.pos + del.ref_allele.len() as u64;
        assert!(
            positions.contains(&p) || in_del,
            "no site at chrT:{p} after --gvcf2vcf"
        );
    }
    assert_eq!(
        genotypes_at(&expanded, bob.pos),
        vec![format!("{r}/{r}"), format!("{a}/{a}")]
    );
    let base2 = read_fasta(&fx.fasta)[0].1[1] as char;
    assert_eq!(
        genotypes_at(&expanded, 2),
        vec![format!("{base2}/{base2}"); 2]
    );
    // bcftools view -i selects the variant sites from the expanded file.
    let called =
        bcf_ok(&bcftools(&["view", "-H", "-i", "GT=\"alt\"", vcf.to_str().unwrap()]).unwrap());
    let called: Vec<u64> = called
        .lines()
        .map(|l| l.split('\t').nth(1).unwrap().parse().unwrap())
        .collect();
    let mut want: Vec<u64> = fx.planted.iter().map(|p| p.pos).collect();
    want.push(bob.pos);
    want.sort();
    assert_eq!(called, want);
}
