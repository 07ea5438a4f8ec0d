//! `varstream make-examples` on the SAM-text fixture: labels are the planted copy numbers and
//! the shards are valid `.npy` files of the advertised shape.

use std::io::Write;

use crate::common::*;

fn npy_shape(path: &std::path::Path) -> (String, Vec<usize>, usize) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[..8], b"\x93NUMPY\x01\x00");
    let hl = u16::from_le_bytes([b[8], b[9]]) as usize;
    let head = String::from_utf8_lossy(&b[10..10 + hl]).into_owned();
    let shape_txt = head
        .split("'shape': (")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    let shape = shape_txt
        .split(',')
        .filter_map(|x| x.trim().parse().ok())
        .collect();
    (head, shape, b.len() - 10 - hl)
}

/// A bgzipped, tabix-indexed truth VCF of the fixture's planted variants, on `contig`.
fn write_truth(fx: &Fixture, contig: &str) -> std::path::PathBuf {
    write_truth_of(fx, contig, &["S"])
}

/// [`write_truth`] with `samples` columns, each with the planted genotypes.
fn write_truth_of(fx: &Fixture, contig: &str, samples: &[&str]) -> std::path::PathBuf {
    let truth = fx
        .dir
        .path()
        .join(format!("truth_{contig}_{}.vcf.gz", samples.len()));
    {
        let mut w = rust_htslib::bgzf::Writer::from_path(&truth).unwrap();
        let header = vcf_head(&[(contig, 3000)], &[], &["GT"], samples);
        w.write_all(header.as_bytes()).unwrap();
        for p in &fx.planted {
            let gt = if p.copies == 2 { "1/1" } else { "0/1" };
            writeln!(
                w,
                "{contig}\t{}\t.\t{}\t{}\t.\tPASS\t.\tGT\t{}",
                p.pos,
                p.ref_allele,
                p.alt,
                vec![gt; samples.len()].join("\t")
            )
            .unwrap();
        }
    }
    rust_htslib::bcf::index::build(
        &truth,
        None::<&std::path::PathBuf>,
        1,
        rust_htslib::bcf::index::Type::Tbx,
    )
    .unwrap();
    truth
}

/// `varstream make-examples` on the fixture's reads with `truth`, the confident region
/// chrT:101-2900, into `fx.dir/OUT`, with `extra` flags.
fn make_examples(
    fx: &Fixture,
    truth: &std::path::Path,
    out: &str,
    extra: &[&str],
) -> std::process::Output {
    let bed = fx.dir.path().join("conf.bed");
    std::fs::write(&bed, "chrT\t100\t2900\n").unwrap();
    let out = fx.dir.path().join(out);
    let mut args = vec![
        "make-examples",
        "--ref",
        fx.fasta.to_str().unwrap(),
        "--reads",
        fx.bam.to_str().unwrap(),
        "--truth",
        truth.to_str().unwrap(),
        "--confident",
        bed.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

// A truth VCF that names the contig otherwise (`T` against the reads' `chrT`) would label
// every example hom-ref: an error naming both.
#[test]
fn truth_with_other_contig_names_is_refused() {
    let fx = build(true);
    let truth = write_truth(&fx, "T");
    let o = make_examples(&fx, &truth, "ex", &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no contig chrT") && err.contains("it names T"),
        "{err}"
    );
}

#[test]
fn labels_match_planted_variants() {
    let fx = build(true);
    let truth = write_truth(&fx, "chrT");
    let out = fx.dir.path().join("ex");
    let o = make_examples(&fx, &truth, "ex", &["--name", "fixture"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let meta = std::fs::read_to_string(out.join("shard-00000.meta.tsv")).unwrap();
    let rows: Vec<Vec<&str>> = meta
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    // Perfect reads: exactly the planted alleles are candidates, labelled with their copies.
    let got: Vec<(u64, String, String, u8)> = rows
        .iter()
        .map(|r| {
            (
                r[2].parse().unwrap(),
                r[3].to_string(),
                r[4].to_string(),
                r[5].parse().unwrap(),
            )
        })
        .collect();
    let want: Vec<(u64, String, String, u8)> = fx
        .planted
        .iter()
        .map(|p| (p.pos, p.ref_allele.clone(), p.alt.clone(), p.copies))
        .collect();
    assert_eq!(got, want);
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("examples.json")).unwrap()).unwrap();
    assert_eq!(spec["tensor_version"], varstream::tensors::TENSOR_VERSION);
    assert_eq!(spec["sources"][0]["intervals"][0], "chrT:101-2900");
    let (head, shape, bytes) = npy_shape(&out.join("shard-00000.x.npy"));
    assert!(head.contains("'descr': '<f4'"));
    assert_eq!(
        shape,
        vec![
            rows.len(),
            varstream::tensors::WINDOW,
            varstream::tensors::N_CHANNELS
        ]
    );
    assert_eq!(bytes, 4 * shape.iter().product::<usize>());
    let (yhead, yshape, ybytes) = npy_shape(&out.join("shard-00000.y.npy"));
    assert!(yhead.contains("'descr': '<i8'"));
    assert_eq!(yshape, vec![rows.len()]);
    let y = std::fs::read(out.join("shard-00000.y.npy")).unwrap();
    let labels: Vec<i64> = y[y.len() - ybytes..]
        .chunks(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(
        labels,
        fx.planted
            .iter()
            .map(|p| p.copies as i64)
            .collect::<Vec<_>>()
    );
}

// Reads of two samples: make-examples picks one as `call` does (--sample), instead of pooling
// both into one sample's examples.
#[test]
fn several_samples_need_sample_as_in_call() {
    let (fx, _bob) = build_two_samples();
    let truth = write_truth(&fx, "chrT");
    let pooled = make_examples(&fx, &truth, "pooled", &[]);
    assert_eq!(pooled.status.code(), Some(2));
    let err = String::from_utf8_lossy(&pooled.stderr);
    assert!(
        err.contains("--sample") && err.contains("ALICE") && err.contains("BOB"),
        "{err}"
    );
    let alice = make_examples(&fx, &truth, "alice", &["--sample", "ALICE"]);
    assert!(
        alice.status.success(),
        "{}",
        String::from_utf8_lossy(&alice.stderr)
    );
    // BOB's homozygous SNV is no candidate in ALICE's examples.
    let meta = std::fs::read_to_string(fx.dir.path().join("alice/shard-00000.meta.tsv")).unwrap();
    assert!(
        !meta.lines().any(|l| l.split('\t').nth(2) == Some("2501")),
        "{meta}"
    );
}

// make-examples ends as `call` does (one preamble and one set of checks): reads seen and none
// usable is exit 3 with the counts, and nothing is written (the shards appear together, at
// the end, or not at all). A folder holding an earlier run's examples is refused: fewer
// shards would leave the earlier ones beside the new.
#[test]
fn unusable_reads_write_no_examples_and_earlier_examples_are_kept() {
    let fx = build(true);
    let truth = write_truth(&fx, "chrT");
    let o = make_examples(&fx, &truth, "none", &["--min-mapq", "61"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr_text(&o));
    let err = stderr_text(&o);
    assert!(
        err.lines()
            .last()
            .unwrap_or_default()
            .contains("none could be used")
            && err.contains("no examples written"),
        "{err}"
    );
    assert_empty(&fx.dir.path().join("none"));
    let first = make_examples(&fx, &truth, "ex", &[]);
    assert_ok(&first);
    let meta = fx.dir.path().join("ex/shard-00000.meta.tsv");
    let before = std::fs::read(&meta).unwrap();
    let again = make_examples(&fx, &truth, "ex", &["--name", "second"]);
    assert_fails(
        &again,
        &[INPUT],
        &["already holds examples", "empty folder"],
    );
    assert_eq!(std::fs::read(&meta).unwrap(), before);
}

// A truth of several samples: labels from the wrong one would look right, so it is refused
// with the way to cut one out.
#[test]
fn truth_of_several_samples_is_refused() {
    let fx = build(true);
    let truth = write_truth_of(&fx, "chrT", &["HG001", "HG002"]);
    let o = make_examples(&fx, &truth, "two", &[]);
    assert_fails(
        &o,
        &[INPUT],
        &["2 samples", "HG001, HG002", "bcftools view -s"],
    );
    assert_empty(&fx.dir.path().join("two"));
}

#[test]
fn read_tensors_are_exact_int8_rows_alt_reads_first() {
    let fx = build(true);
    let truth = write_truth(&fx, "chrT");
    let out = fx.dir.path().join("ex");
    let o = make_examples(&fx, &truth, "ex", &["--read-tensors"]);
    assert_ok(&o);
    use varstream::read_tensors::{GRID, MAX_ROWS, N_READ_CHANNELS, READ_CHANNELS};
    use varstream::tensors::{CENTER, WINDOW};
    let path = out.join("shard-00000.r.npy");
    let (head, shape, bytes) = npy_shape(&path);
    let n = fx.planted.len();
    assert!(head.contains("'descr': '|i1'"), "{head}");
    assert_eq!(shape, vec![n, MAX_ROWS, WINDOW, N_READ_CHANNELS]);
    let b = std::fs::read(&path).unwrap();
    let rows: Vec<f32> = b[b.len() - bytes..]
        .iter()
        .map(|&v| v as i8 as f32 / GRID)
        .collect();
    assert_eq!(rows.len(), n * MAX_ROWS * WINDOW * N_READ_CHANNELS);
    // 40x of 100 bp reads: every row is filled, and at the anchor the `allele` channel
    // counts the planted copies: all rows ALT for the hom deletion, some REF for the hets.
    let allele = READ_CHANNELS.iter().position(|c| *c == "allele").unwrap();
    for (e, p) in fx.planted.iter().enumerate() {
        let at =
            |row: usize| rows[((e * MAX_ROWS + row) * WINDOW + CENTER) * N_READ_CHANNELS + allele];
        let alt = (0..MAX_ROWS).filter(|&r| at(r) == 1.0).count();
        let refs = (0..MAX_ROWS).filter(|&r| at(r) == -1.0).count();
        if p.copies == 2 {
            assert_eq!((alt, refs), (MAX_ROWS, 0), "{}", p.pos);
        } else {
            assert!(alt > 5 && refs > 5, "{}: {alt} ALT, {refs} REF rows", p.pos);
            // ALT rows come first.
            assert!((0..alt).all(|r| at(r) == 1.0));
        }
    }
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("examples.json")).unwrap()).unwrap();
    assert_eq!(
        spec["read_tensors"]["read_tensor_version"],
        varstream::read_tensors::READ_TENSOR_VERSION
    );
}
