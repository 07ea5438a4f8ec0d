//! `varstream shards`: BED files that cover the callable set once, balanced by reads or bases,
//! and calling them one by one then concatenating gives the single run's VCF body.
use crate::common::shard_genome;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use rand::{Rng, SeedableRng};
use shard_genome::build_genome;

/// `varstream shards` into a new folder `name` of the fixture; the BED files in name order.
fn shards(fx: &Fixture, name: &str, extra: &[&str]) -> (std::process::Output, Vec<PathBuf>) {
    let dir = fx.dir.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let mut args = vec![
        "shards",
        "--ref",
        fx.fasta.to_str().unwrap(),
        "--output",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = run(&args);
    let mut beds: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bed"))
        .collect();
    beds.sort();
    (out, beds)
}

/// BED lines as (contig, start, end).
fn bed(path: &Path) -> Vec<(String, u64, u64)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[0].to_string(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
            )
        })
        .collect()
}

/// Every base of the BED files, in order, as (contig rank, position): a base covered twice
/// or out of order shows up when compared with the callable set's list.
fn bases(beds: &[PathBuf], order: &[&str]) -> Vec<(usize, u64)> {
    let mut out = Vec::new();
    for b in beds {
        for (c, s, e) in bed(b) {
            let rank = order.iter().position(|x| *x == c).unwrap();
            out.extend((s..e).map(|p| (rank, p)));
        }
    }
    out
}

fn call(fx: &Fixture, out: &Path, extra: &[&str]) {
    let mut args = vec!["--threads", "2"];
    args.extend_from_slice(extra);
    assert_ok(&call_with(&fx.fasta, &fx.bam, out, &args));
}

/// A BED of 1 to `most` random intervals (each under `max_len`) over the fixture's contigs (seeded), and its bases in
/// order as [`bases`] gives them.
fn random_bed(seed: u64, path: &Path, most: usize, max_len: u64) -> Vec<(usize, u64)> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let contigs = [("chrA", 130_000u64), ("chrB", 60_000), ("chrC", 8_000)];
    let mut text = String::new();
    let mut covered = std::collections::BTreeSet::new();
    for _ in 0..rng.random_range(1..=most) {
        let k = rng.random_range(0..contigs.len());
        let (c, len) = contigs[k];
        let s = rng.random_range(0..len);
        let e = (s + rng.random_range(1..max_len)).min(len);
        text.push_str(&format!("{c}\t{s}\t{e}\n"));
        covered.extend((s..e).map(|p| (k, p)));
    }
    std::fs::write(path, text).unwrap();
    covered.into_iter().collect()
}

// The property: for the whole genome and for random region sets (one of them smaller than
// four grid cells, so fewer than four files come back), the BED files cover the callable set
// exactly once, and calling each one then concatenating in file-name order gives the single
// run's VCF body, by line and through `bcftools concat --naive` + tabix.
#[test]
fn four_shards_called_apart_give_the_single_run_body() {
    if !require_ort() {
        return;
    }
    let have_bcftools = Command::new("bcftools").arg("--version").output().is_ok();
    assert!(have_bcftools || !ci(), "bcftools is required when CI=true");
    let fx = build_genome();
    let order = ["chrA", "chrB", "chrC"];
    let whole: Vec<(usize, u64)> = [130_000u64, 60_000, 8_000]
        .iter()
        .enumerate()
        .flat_map(|(k, &len)| (0..len).map(move |p| (k, p)))
        .collect();
    let cases: Vec<(String, Option<PathBuf>, Vec<(usize, u64)>)> = {
        let mut v = vec![("whole".to_string(), None, whole)];
        // The last is one interval of at most two grid cells.
        for (seed, most, max_len) in [(1u64, 5, 70_000u64), (2, 5, 40_000), (3, 1, 25_000)] {
            let p = fx.dir.path().join(format!("random{seed}.bed"));
            let want = random_bed(seed, &p, most, max_len);
            v.push((format!("random{seed}"), Some(p), want));
        }
        v
    };
    let mut fewer_than_four = false;
    for (name, regions, want) in &cases {
        let mut extra = vec!["--reads", fx.bam.to_str().unwrap(), "--count", "4"];
        if let Some(r) = regions {
            extra.extend(["--regions", r.to_str().unwrap()]);
        }
        let (out, beds) = shards(&fx, &format!("{name}_shards"), &extra);
        assert_ok(&out);
        assert!(!beds.is_empty() && beds.len() <= 4, "{name}: {beds:?}");
        fewer_than_four |= beds.len() < 4;
        assert_eq!(
            &bases(&beds, &order),
            want,
            "{name}: not the callable set once"
        );

        let single = fx.dir.path().join(format!("{name}.vcf.gz"));
        let region_args: Vec<&str> = match regions {
            Some(r) => vec!["--regions", r.to_str().unwrap()],
            None => vec![],
        };
        call(&fx, &single, &region_args);
        let body = vcf_body(&single);
        let mut pieces = Vec::new();
        let mut shard_vcfs = Vec::new();
        for (i, b) in beds.iter().enumerate() {
            let v = fx.dir.path().join(format!("{name}.shard{i}.vcf.gz"));
            call(&fx, &v, &["--regions", b.to_str().unwrap()]);
            pieces.extend(vcf_body(&v));
            shard_vcfs.push(v);
        }
        assert_eq!(
            pieces, body,
            "{name}: shards concatenated differ from one run"
        );
        if name == "whole" {
            let calls = body.iter().filter(|l| l.contains("\tPASS\t")).count();
            assert!(
                calls > 100,
                "the whole genome should give many calls: {calls}"
            );
            if have_bcftools {
                let gathered = fx.dir.path().join("gathered.vcf.gz");
                let st = Command::new("bcftools")
                    .args(["concat", "--naive", "-o", gathered.to_str().unwrap()])
                    .args(&shard_vcfs)
                    .output()
                    .unwrap();
                assert!(
                    st.status.success(),
                    "{}",
                    String::from_utf8_lossy(&st.stderr)
                );
                let st = Command::new("tabix")
                    .args(["-p", "vcf", gathered.to_str().unwrap()])
                    .output()
                    .unwrap();
                assert!(
                    st.status.success(),
                    "{}",
                    String::from_utf8_lossy(&st.stderr)
                );
                assert_eq!(vcf_body(&gathered), body, "bcftools concat --naive");
            }
        }
    }
    assert!(
        fewer_than_four,
        "one case should have fewer cells than shards"
    );
}

// Work follows the reads when the BAM index is there: the first cell, with 3.5 times the reads
// of the others, gets a shard to itself, while balancing by bases puts more cells in it.
// Without --reads every reference contig is callable, so the BEDs then cover chrA-chrC whole.
#[test]
fn shards_balance_by_reads_from_the_bam_index() {
    let fx = build_genome();
    let (out, by_reads) = shards(
        &fx,
        "by_reads",
        &["--reads", fx.bam.to_str().unwrap(), "--count", "4"],
    );
    assert_ok(&out);
    let (out, by_bases) = shards(&fx, "by_bases", &["--count", "4"]);
    assert_ok(&out);
    assert_eq!(by_reads.len(), 4);
    assert_eq!(by_bases.len(), 4);
    assert_eq!(bed(&by_reads[0]), vec![("chrA".to_string(), 0, 25_000)]);
    assert_eq!(bed(&by_bases[0]), vec![("chrA".to_string(), 0, 50_000)]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!log.contains("balancing by reads"), "{log}");
    // The index was used, and every base is still covered once.
    let order = ["chrA", "chrB", "chrC"];
    assert_eq!(bases(&by_reads, &order), bases(&by_bases, &order));
    assert_eq!(bases(&by_reads, &order).len(), 198_000);
}

// Bad input is a one-line error and exit 2, with nothing written.
#[test]
fn shards_bad_input_exits_2() {
    let fx = build_genome();
    let reads = fx.bam.to_str().unwrap();
    let check = |name: &str, extra: &[&str], want: &str| {
        let (out, beds) = shards(&fx, name, extra);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(
            err.trim_end().lines().last().unwrap().contains(want),
            "{name}: {err}"
        );
        assert!(!err.contains("panicked"), "{name}: {err}");
        beds
    };
    assert!(check(
        "zero",
        &["--count", "0"],
        "--count <COUNT>': must be at least 1"
    )
    .is_empty());
    let empty = fx.dir.path().join("empty.bed");
    std::fs::write(&empty, "chrZ\t0\t100\n").unwrap();
    let e = empty.to_str().unwrap();
    assert!(check(
        "nothing",
        &["--count", "2", "--regions", e],
        "no callable bases"
    )
    .is_empty());
    assert!(check(
        "region",
        &["--count", "2", "--region", "chrA:9-3"],
        "malformed"
    )
    .is_empty());
    assert!(check(
        "reads",
        &["--count", "2", "--reads", "/no/such.bam"],
        "does not exist"
    )
    .is_empty());
    // A file from an earlier run with more shards would be gathered too: refused, kept.
    let stale = fx.dir.path().join("stale");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join("shard-0007.bed"), "chrA\t0\t10\n").unwrap();
    let beds = check(
        "stale",
        &["--count", "2", "--reads", reads],
        "shard-0007.bed",
    );
    assert_eq!(beds, vec![stale.join("shard-0007.bed")]);
    // A folder that does not exist is not created.
    let missing = fx.dir.path().join("missing");
    let out = run(&[
        "shards",
        "--ref",
        fx.fasta.to_str().unwrap(),
        "--count",
        "2",
        "--output",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!missing.exists());
}
