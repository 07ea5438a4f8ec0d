//! `varstream call` end to end on small BAM/CRAM fixtures built from SAM text.
//!
//! Over 600 lines: every behaviour of `call` on the shared SAM-text fixtures; the options'
//! tests are in options_call.rs.

use crate::common::*;

use crate::common::call_fixture as call;

// The planted SNV, deletion and insertion come back with their genotypes, and nothing else.
#[test]
fn calls_planted_variants() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let (out, vcf) = call(&fx, &fx.bam, "out.vcf.gz", &["--threads", "2"]);
    assert_ok(&out);
    assert!(fx.dir.path().join("out.vcf.gz.tbi").exists());
    let got = pass_calls(&vcf_body(&vcf));
    let want: Vec<(u64, String, String, String)> = fx
        .planted
        .iter()
        .map(|p| {
            (
                p.pos,
                p.ref_allele.clone(),
                p.alt.clone(),
                if p.copies == 2 {
                    "1/1".into()
                } else {
                    "0/1".into()
                },
            )
        })
        .collect();
    assert_eq!(got, want, "expected PASS calls {want:?}\ngot {got:?}");
    let text = {
        use std::io::Read;
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(&vcf).unwrap())
            .read_to_string(&mut s)
            .unwrap();
        s
    };
    assert!(text.contains("##contig=<ID=chrT,length=3000>"));
    assert!(text.contains("##varstream_model=<Name=varstream-v4,SHA256="));
    assert!(text.contains("##varstream_command="));
    assert!(
        text.contains("\tFORMAT\tFIXTURE\n"),
        "sample name comes from @RG SM"
    );
}

// Output must not depend on the number of threads (many small shards make this bite).
#[test]
fn same_body_for_any_thread_count() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let (o1, v1) = call(
        &fx,
        &fx.bam,
        "t1.vcf.gz",
        &["--threads", "1", "--shard-size", "250"],
    );
    let (o2, v2) = call(
        &fx,
        &fx.bam,
        "t2.vcf.gz",
        &["--threads", "2", "--shard-size", "250"],
    );
    let (o3, v3) = call(&fx, &fx.bam, "t3.vcf.gz", &["--threads", "2"]);
    assert!(o1.status.success() && o2.status.success() && o3.status.success());
    assert_eq!(vcf_body(&v1), vcf_body(&v2));
    assert_eq!(
        vcf_body(&v1),
        vcf_body(&v3),
        "shard size must not change the calls"
    );
    assert!(!vcf_body(&v1).is_empty());
}

// Calls must not depend on how the run is cut up: a site's depth is judged against its fixed
// genome tile, not its shard, so small shards and a region split at an arbitrary base give
// the same records (QUAL included) as one run, even where depth changes along the contig.
#[test]
fn same_records_however_the_run_is_sharded() {
    if !require_ort() {
        return;
    }
    let fx = build_uneven_depth();
    let (o1, whole) = call(&fx, &fx.bam, "whole.vcf.gz", &[]);
    let (o2, small) = call(&fx, &fx.bam, "small.vcf.gz", &["--shard-size", "300"]);
    let (o3, left) = call(&fx, &fx.bam, "left.vcf.gz", &["--region", "chrT:1-1733"]);
    let (o4, right) = call(
        &fx,
        &fx.bam,
        "right.vcf.gz",
        &["--region", "chrT:1734-3000"],
    );
    for o in [&o1, &o2, &o3, &o4] {
        assert_ok(o);
    }
    let body = vcf_body(&whole);
    let got: Vec<u64> = pass_calls(&body).iter().map(|c| c.0).collect();
    let want: Vec<u64> = fx.planted.iter().map(|p| p.pos).collect();
    assert_eq!(got, want);
    assert_eq!(vcf_body(&small), body, "--shard-size changed the records");
    let mut pieces = vcf_body(&left);
    pieces.extend(vcf_body(&right));
    assert_eq!(pieces, body, "a region split changed the records");
}

// CRAM decoded with --ref gives the same records as BAM.
#[test]
fn bam_and_cram_give_same_body() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let cram = to_cram(&fx);
    let (ob, vb) = call(&fx, &fx.bam, "b.vcf.gz", &[]);
    let (oc, vc) = call(&fx, &cram, "c.vcf.gz", &[]);
    assert_ok(&ob);
    assert_ok(&oc);
    assert_eq!(vcf_body(&vb), vcf_body(&vc));
}

// A 30 bp insertion that every read crossing it has soft-clipped: local realignment puts the
// clipped bases back and it is called; with `--no-realign` candidate finding never sees it,
// which is what makes this fixture a test of realignment.
#[test]
fn soft_clipped_insertion_is_called_after_realignment() {
    if !require_ort() {
        return;
    }
    let fx = build_clipped_insertion();
    let p = &fx.planted[0];
    let (out, vcf) = call(&fx, &fx.bam, "ra.vcf.gz", &[]);
    assert_ok(&out);
    let got = pass_calls(&vcf_body(&vcf));
    assert_eq!(
        got,
        vec![(
            p.pos,
            p.ref_allele.clone(),
            p.alt.clone(),
            "0/1".to_string()
        )]
    );
    let (out, vcf) = call(&fx, &fx.bam, "nora.vcf.gz", &["--no-realign"]);
    assert!(out.status.success());
    let body = vcf_body(&vcf);
    assert!(
        body.iter().all(|l| !l.contains(&p.alt)),
        "without realignment the clipped insertion is not a candidate: {body:?}"
    );
}

// Reads stored without base qualities ('*') are still used.
#[test]
fn reads_without_qualities() {
    if !require_ort() {
        return;
    }
    let fx = build(false);
    let (out, vcf) = call(&fx, &fx.bam, "nq.vcf.gz", &[]);
    assert_ok(&out);
    let got = pass_calls(&vcf_body(&vcf));
    assert_eq!(got.len(), fx.planted.len(), "{got:?}");
}

// --region limits the calls; a region on an unknown contig is an input error (exit 2).
#[test]
fn region_restricts_calls() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let (out, vcf) = call(&fx, &fx.bam, "r.vcf.gz", &["--region", "chrT:900-1100"]);
    assert!(out.status.success());
    let got = pass_calls(&vcf_body(&vcf));
    assert_eq!(got.iter().map(|c| c.0).collect::<Vec<_>>(), vec![1001]);
    let (bad, bad_vcf) = call(&fx, &fx.bam, "bad.vcf.gz", &["--region", "chrZ:1-10"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("chrZ"));
    assert!(!bad_vcf.exists());
}

// A BAM without its index is an error that names the file, and no VCF is left behind.
#[test]
fn missing_index_is_a_clear_error() {
    let fx = build(true);
    std::fs::remove_file(fx.dir.path().join("reads.bam.bai")).unwrap();
    let (out, vcf) = call(&fx, &fx.bam, "x.vcf.gz", &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("reads.bam") && err.contains("index"), "{err}");
    assert!(!vcf.exists());
    let leftovers: Vec<_> = std::fs::read_dir(fx.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

// A contig whose length differs between reads and reference means another assembly.
#[test]
fn contig_length_mismatch_is_an_error() {
    let fx = build(true);
    let header = sam_header(&[("chrT", 3001), ("chrU", 600)], "S");
    let bam = fx.dir.path().join("wrong.bam");
    write_alignments(&bam, &header, vec![], None);
    let (out, _) = call(&fx, &bam, "w.vcf.gz", &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("chrT") && err.contains("3001") && err.contains("3000"),
        "{err}"
    );
}

// Contigs in the reads' header that the reference lacks are skipped, not an error.
#[test]
fn contigs_absent_from_reference_are_skipped() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let header = sam_header(&[("chrM", 16571), ("chrT", 3000), ("chrU", 600)], "S");
    let mut reader = rust_htslib::bam::Reader::from_path(&fx.bam).unwrap();
    use rust_htslib::bam::Read;
    let records: Vec<(u64, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let seq = String::from_utf8(r.seq().as_bytes()).unwrap();
            let q: String = r.qual().iter().map(|q| (q + 33) as char).collect();
            let flag = if r.is_reverse() { 16 } else { 0 };
            (
                r.pos() as u64,
                format!(
                    "{}\t{flag}\tchrT\t{}\t60\t{}\t*\t0\t0\t{seq}\t{q}",
                    String::from_utf8_lossy(r.qname()),
                    r.pos() + 1,
                    r.cigar()
                ),
            )
        })
        .collect();
    let bam = fx.dir.path().join("withM.bam");
    write_alignments(&bam, &header, records, None);
    let (out, vcf) = call(&fx, &bam, "m.vcf.gz", &[]);
    assert_ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("skipping 1 contig"));
    assert_eq!(pass_calls(&vcf_body(&vcf)).len(), fx.planted.len());
}

// Asking for CUDA never silently runs on the CPU.
#[test]
fn cuda_without_support_fails_loudly() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let (out, vcf) = call(&fx, &fx.bam, "g.vcf.gz", &["--device", "cuda"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.to_lowercase().contains("cuda"), "{err}");
    assert!(!vcf.exists());
}

// A model whose sidecar describes another tensor layout is refused before any work.
#[test]
fn model_with_other_tensor_layout_is_refused() {
    let fx = build(true);
    let model_dir = fx.dir.path().join("m");
    std::fs::create_dir(&model_dir).unwrap();
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/varstream-v4");
    std::fs::copy(shipped.with_extension("onnx"), model_dir.join("x.onnx")).unwrap();
    let mut side: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(shipped.with_extension("json")).unwrap())
            .unwrap();
    side["tensor"]["shape"] = serde_json::json!([21, 7]);
    std::fs::write(model_dir.join("x.json"), side.to_string()).unwrap();
    let m = model_dir.join("x.onnx");
    let (out, _) = call(&fx, &fx.bam, "l.vcf.gz", &["--model", m.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("shape mismatch"));
}

// Issue 13: at about 5x one read with a mismatch (0.2 of the reads, above the 0.12 fraction)
// is a candidate only with --min-alt-reads 1 or a model whose sidecar says
// calling.min_alt_reads 1; the flag overrides the sidecar either way.
#[test]
fn min_alt_reads_from_flag_or_sidecar() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    // Every 8th read of the 40x fixture: about 5x.
    let mut records: Vec<(u64, String)> = sam_records(&fx.bam)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % 8 == 0)
        .map(|(_, r)| r)
        .collect();
    // One read covering 0-based position 500 (no planted variant near) gets another base there.
    let target = 500u64;
    let k = records
        .iter()
        .position(|(pos, line)| {
            *pos + 10 <= target && target < *pos + 90 && line.split('\t').nth(5) == Some("100M")
        })
        .expect("a read over position 500");
    let mut f: Vec<String> = records[k].1.split('\t').map(String::from).collect();
    let mut seq = f[9].clone().into_bytes();
    let off = (target - records[k].0) as usize;
    seq[off] = if seq[off] == b'A' { b'C' } else { b'A' };
    f[9] = String::from_utf8(seq).unwrap();
    records[k].1 = f.join("\t");
    let bam = fx.dir.path().join("thin.bam");
    write_alignments(
        &bam,
        &sam_header(&[("chrT", 3000), ("chrU", 600)], "FIXTURE"),
        records,
        None,
    );
    let at_501 = |body: &[String]| body.iter().any(|l| l.starts_with("chrT\t501\t"));
    let (o, v2) = call(&fx, &bam, "two.vcf.gz", &["--threads", "1"]);
    assert_ok(&o);
    let two = vcf_body(&v2);
    assert!(!at_501(&two), "a 1-read allele is no candidate by default");
    let (o, v1) = call(
        &fx,
        &bam,
        "one.vcf.gz",
        &["--threads", "1", "--min-alt-reads", "1"],
    );
    assert_ok(&o);
    let one = vcf_body(&v1);
    assert!(
        at_501(&one),
        "--min-alt-reads 1 makes it a candidate:\n{one:?}"
    );
    // A copy of the shipped model whose sidecar says 1.
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/varstream-v4");
    let m = fx.dir.path().join("onealt.onnx");
    std::fs::copy(shipped.with_extension("onnx"), &m).unwrap();
    let mut side: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(shipped.with_extension("json")).unwrap())
            .unwrap();
    side["calling"]["min_alt_reads"] = serde_json::json!(1);
    std::fs::write(m.with_extension("json"), side.to_string()).unwrap();
    let ms = m.to_str().unwrap();
    let (o, vs) = call(&fx, &bam, "side.vcf.gz", &["--threads", "1", "--model", ms]);
    assert_ok(&o);
    assert_eq!(vcf_body(&vs), one, "the sidecar's 1 is used");
    let (o, vo) = call(
        &fx,
        &bam,
        "over.vcf.gz",
        &["--threads", "1", "--model", ms, "--min-alt-reads", "2"],
    );
    assert_ok(&o);
    assert_eq!(vcf_body(&vo), two, "the flag overrides the sidecar");
}

/// A PGS Catalog scoring file `PGS_TEST` weighting the ALT of each planted variant.
pub(crate) fn write_pgs(
    fx: &Fixture,
    rows: &[(&crate::common::Planted, f64)],
) -> std::path::PathBuf {
    let mut text = "#pgs_id=PGS_TEST\n#genome_build=GRCh38\n\
                    chr_name\tchr_position\teffect_allele\tother_allele\teffect_weight\n"
        .to_string();
    for (v, w) in rows {
        text += &format!("chrT\t{}\t{}\t{}\t{w}\n", v.pos, v.alt, v.ref_allele);
    }
    let path = fx.dir.path().join("PGS_TEST.txt");
    std::fs::write(&path, text).unwrap();
    path
}

// One command gives the VCF and the scores: `call --pgs` scores the finished VCF.
#[test]
fn call_with_pgs_writes_scores_from_the_same_run() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let pgs = write_pgs(&fx, &[(&fx.planted[1], 0.25), (&fx.planted[2], 0.5)]);
    let (out, _) = call(&fx, &fx.bam, "s.vcf.gz", &["--pgs", pgs.to_str().unwrap()]);
    assert_ok(&out);
    let tsv = std::fs::read_to_string(fx.dir.path().join("s.prs.tsv")).unwrap();
    let header: Vec<&str> = tsv.lines().next().unwrap().split('\t').collect();
    let row: Vec<&str> = tsv.lines().nth(1).unwrap().split('\t').collect();
    let col = |n: &str| row[header.iter().position(|h| *h == n).unwrap()];
    assert_eq!(col("sample"), "FIXTURE");
    assert_eq!(col("score_id"), "PGS_TEST");
    // hom deletion (2 copies) x 0.25 + het insertion (1 copy) x 0.5
    assert!(
        (col("SUM").parse::<f64>().unwrap() - 1.0).abs() < 1e-9,
        "{tsv}"
    );
    assert_eq!(col("variants_matched"), "2");
    assert!(fx.dir.path().join("s.prs_matches.tsv.gz").exists());
}

// `call --report` summarises the VCF it just wrote, with the scores of the same run.
#[test]
fn call_with_report_summarises_its_own_vcf() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let pgs = write_pgs(&fx, &[(&fx.planted[1], 0.25)]);
    // A panel over the SNV and the deletion (not the insertion at 2001), annotated from a
    // VCF that names the deletion by its alleles.
    let panel = fx.dir.path().join("panel.bed");
    std::fs::write(&panel, "chrT	900	1600	GENE_A\n").unwrap();
    let del = &fx.planted[1];
    let annotations = fx.dir.path().join("ann.vcf");
    std::fs::write(
        &annotations,
        format!(
            "{}chrT\t{}\tVAR1\t{}\t{}\t.\t.\tCLNSIG=Pathogenic\n",
            vcf_head(&[], &[], &[], &[]),
            del.pos,
            del.ref_allele,
            del.alt
        ),
    )
    .unwrap();
    let (out, vcf) = call(
        &fx,
        &fx.bam,
        "r.vcf.gz",
        &[
            "--pgs",
            pgs.to_str().unwrap(),
            "--report",
            "--panel",
            panel.to_str().unwrap(),
            "--annotations",
            annotations.to_str().unwrap(),
        ],
    );
    assert_ok(&out);
    let pass_calls = vcf_body(&vcf)
        .iter()
        .filter(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            f[6] == "PASS" && !f[9].starts_with("0/0")
        })
        .count();
    assert!(pass_calls >= fx.planted.len(), "{pass_calls} PASS calls");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fx.dir.path().join("r.report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["sample"], "FIXTURE");
    assert_eq!(report["stats"]["calls"], pass_calls);
    assert!(report["provenance"]["model"]
        .as_str()
        .unwrap()
        .starts_with("Name=varstream-v4, SHA256="));
    assert_eq!(report["prs"]["rows"][0][1], "PGS_TEST");
    // The run's own stats file, and the panel's calls with the deletion annotated.
    assert_eq!(report["run"]["stats"]["regions"]["bp"], 3600);
    assert_eq!(
        report["run"]["file"],
        fx.dir.path().join("r.stats.json").to_str().unwrap()
    );
    let found: Vec<(u64, &str)> = report["findings"]["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["pos"].as_u64().unwrap(),
                c["annotations"][0]["id"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(found, [(1001, "-"), (del.pos, "VAR1")]);
    assert!(report["findings"]["normalisation"]
        .as_str()
        .unwrap()
        .contains("left-aligned"));
    assert!(fx.dir.path().join("r.report.html").exists());
    assert!(fx.dir.path().join("r.report_mqc.json").exists());
}

// Without a usable ONNX Runtime the caller says what to install instead of crashing.
#[test]
fn missing_onnxruntime_says_what_to_install() {
    let fx = build(true);
    let vcf = fx.dir.path().join("o.vcf.gz");
    let out = bin()
        .env(
            "ORT_DYLIB_PATH",
            fx.dir.path().join("no-such-libonnxruntime.so"),
        )
        .args([
            "call",
            "--ref",
            fx.fasta.to_str().unwrap(),
            "--reads",
            fx.bam.to_str().unwrap(),
        ])
        .args(["--output", vcf.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ORT_DYLIB_PATH") && err.contains("onnxruntime==1.31.1"),
        "{err}"
    );
    assert!(!vcf.exists());
}

// A 60 bp STR across a shard edge: its realignment window must come out the same whichever
// shard (or region piece) holds each site, so the body is byte-identical for any shard size,
// thread count and split point, including splits inside the repeat.
#[test]
fn str_across_a_shard_edge_gives_one_body() {
    if !require_ort() {
        return;
    }
    let fx = build_str_across_edge();
    let (o, whole) = call(&fx, &fx.bam, "whole.vcf.gz", &["--threads", "1"]);
    assert_ok(&o);
    let body = vcf_body(&whole);
    let got: Vec<u64> = pass_calls(&body).iter().map(|c| c.0).collect();
    let want: Vec<u64> = fx.planted.iter().map(|p| p.pos).collect();
    assert_eq!(got, want, "{body:#?}");
    for (name, extra) in [
        ("s300", vec!["--shard-size", "300", "--threads", "2"]),
        ("s1000", vec!["--shard-size", "1000", "--threads", "2"]),
        ("s25000t8", vec!["--shard-size", "25000", "--threads", "8"]),
    ] {
        let (o, v) = call(&fx, &fx.bam, &format!("{name}.vcf.gz"), &extra);
        assert_ok(&o);
        assert_eq!(vcf_body(&v), body, "{name} changed the body");
    }
    for split in [2971u64, 2987, 3000, 3001, 3133] {
        let (o1, left) = call(
            &fx,
            &fx.bam,
            &format!("l{split}.vcf.gz"),
            &["--region", &format!("chrT:1-{split}")],
        );
        let (o2, right) = call(
            &fx,
            &fx.bam,
            &format!("r{split}.vcf.gz"),
            &["--region", &format!("chrT:{}-6000", split + 1)],
        );
        assert_ok(&o1);
        assert_ok(&o2);
        let mut pieces = vcf_body(&left);
        pieces.extend(vcf_body(&right));
        assert_eq!(pieces, body, "a split after {split} changed the body");
    }
}

// With the depth cap biting (40x and 100x against --max-depth 30), which reads are kept must
// not depend on where a shard's fetch began: small shards and region splits give one body.
#[test]
fn depth_cap_decisions_do_not_depend_on_sharding() {
    if !require_ort() {
        return;
    }
    let fx = build_uneven_depth();
    let cap = ["--max-depth", "30"];
    let (o1, whole) = call(&fx, &fx.bam, "whole.vcf.gz", &cap);
    let (o2, small) = call(
        &fx,
        &fx.bam,
        "small.vcf.gz",
        &["--max-depth", "30", "--shard-size", "300", "--threads", "2"],
    );
    let (o3, left) = call(
        &fx,
        &fx.bam,
        "left.vcf.gz",
        &["--max-depth", "30", "--region", "chrT:1-1201"],
    );
    let (o4, right) = call(
        &fx,
        &fx.bam,
        "right.vcf.gz",
        &["--max-depth", "30", "--region", "chrT:1202-3000"],
    );
    for o in [&o1, &o2, &o3, &o4] {
        assert_ok(o);
    }
    let body = vcf_body(&whole);
    assert!(!pass_calls(&body).is_empty(), "{body:?}");
    // The cap is on: DP stays near 30 where the raw depth is 100.
    let dp_at = |line: &str| -> u32 {
        line.split('\t')
            .nth(9)
            .unwrap()
            .split(':')
            .nth(2)
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(body.iter().all(|l| dp_at(l) <= 60), "{body:?}");
    assert_eq!(vcf_body(&small), body, "--shard-size changed the records");
    let mut pieces = vcf_body(&left);
    pieces.extend(vcf_body(&right));
    assert_eq!(pieces, body, "a region split changed the records");
}

fn stats(vcf: &std::path::Path) -> serde_json::Value {
    let path = vcf.to_str().unwrap().replace(".vcf.gz", ".stats.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The sum of two stats files' `coverage` and `reads`.
fn summed(a: &serde_json::Value, b: &serde_json::Value) -> serde_json::Value {
    let mut out = a.clone();
    for part in ["coverage", "reads"] {
        for (k, v) in a[part].as_object().unwrap() {
            out[part][k] = match v {
                serde_json::Value::Array(x) => x
                    .iter()
                    .zip(b[part][k].as_array().unwrap())
                    .map(|(p, q)| p.as_u64().unwrap() + q.as_u64().unwrap())
                    .collect(),
                n => (n.as_u64().unwrap() + b[part][k].as_u64().unwrap()).into(),
            };
        }
    }
    out
}

// PREFIX.stats.json: the depth over the called bases equals `samtools depth` with the same
// read filters (deletions counted), the read counts account for every record, and neither
// depends on threads, shard size or a split of the regions, with the depth cap biting or not.
#[test]
fn stats_file_counts_depth_and_reads_whatever_the_sharding() {
    if !require_ort() {
        return;
    }
    let fx = build_uneven_depth();
    let (o, whole) = call(&fx, &fx.bam, "whole.vcf.gz", &["--threads", "1"]);
    assert_ok(&o);
    let s = stats(&whole);
    assert_eq!(s["stats_version"], 2);
    assert_eq!(s["sample"], "FIXTURE");
    assert_eq!(s["regions"]["bp"], 3000);
    assert_eq!(s["per_contig"][0]["contig"], "chrT");
    let reads = &s["reads"];
    let n_records = sam_records(&fx.bam).len() as u64;
    assert_eq!(reads["seen"], n_records);
    assert_eq!(reads["kept"], n_records, "perfect reads, no cap: all kept");
    if let Ok(o) = std::process::Command::new("samtools")
        .args(["depth", "-a", "-J", "-Q", "5", "-r", "chrT"])
        .arg(&fx.bam)
        .output()
    {
        let text = String::from_utf8_lossy(&o.stdout);
        let depths: Vec<u64> = text
            .lines()
            .map(|l| l.split('\t').nth(2).unwrap().parse().unwrap())
            .collect();
        assert_eq!(depths.len(), 3000);
        assert_eq!(s["coverage"]["depth_sum"], depths.iter().sum::<u64>());
        let at_least = |t: u64| depths.iter().filter(|&&d| d >= t).count() as u64;
        assert_eq!(
            s["coverage"]["bp_at_least"],
            serde_json::json!([at_least(1), at_least(10), at_least(20), at_least(30)])
        );
    } else {
        skip("samtools not installed: the depth comparison did not run");
    }
    for cap in [&[][..], &["--max-depth", "30"][..]] {
        let run = |name: &str, extra: &[&str]| {
            let mut args = extra.to_vec();
            args.extend_from_slice(cap);
            let (o, v) = call(&fx, &fx.bam, name, &args);
            assert_ok(&o);
            stats(&v)
        };
        let base = run("a.vcf.gz", &["--threads", "1"]);
        if !cap.is_empty() {
            assert!(base["reads"]["downsampled"].as_u64().unwrap() > 0, "{base}");
        }
        let small = run("b.vcf.gz", &["--shard-size", "300", "--threads", "2"]);
        assert_eq!(small, base, "--shard-size changed the stats");
        let left = run("l.vcf.gz", &["--region", "chrT:1-1201"]);
        let right = run("r.vcf.gz", &["--region", "chrT:1202-3000"]);
        assert_eq!(
            summed(&left, &right)["coverage"],
            base["coverage"],
            "a split changed the depth"
        );
        assert_eq!(
            summed(&left, &right)["reads"],
            base["reads"],
            "a split changed the read counts"
        );
    }
}

// Long reads (issue 21): HiFi-like and ONT-like reads of 10-100 kb are all used, none dropped
// for its length, and the records are the same for any thread count, shard size and region
// split, with every read crossing many shards.
#[test]
fn long_reads_are_used_and_called_the_same_however_the_run_is_cut() {
    if !require_ort() {
        return;
    }
    for (errors, seed) in [(LongReadErrors::Hifi, 21), (LongReadErrors::Ont, 22)] {
        let fx = build_long_reads(errors, (10_000, 100_000), seed);
        let (o, whole) = call(&fx, &fx.bam, "whole.vcf.gz", &["--threads", "2"]);
        assert_ok(&o);
        let s = stats(&whole);
        let n = sam_records(&fx.bam).len() as u64;
        assert_eq!(s["reads"]["seen"], n, "{errors:?}: {}", s["reads"]);
        assert_eq!(s["reads"]["kept"], n, "{errors:?}: {}", s["reads"]);
        // --platform auto read the platform from the read group, as the platform's tools
        // write it, and says so in the VCF header.
        let want = match errors {
            LongReadErrors::Hifi => "##varstream_platform=<ID=hifi,Source=auto,",
            LongReadErrors::Ont => "##varstream_platform=<ID=ont-r10,Source=auto,",
        };
        assert!(
            vcf_header(&whole).iter().any(|l| l.starts_with(want)),
            "{errors:?}"
        );
        // The platform picks its own built-in model where one ships (docs/long-reads.md), and
        // the VCF header names the model used; --model still wins.
        let model = match errors {
            LongReadErrors::Hifi => "##varstream_model=<Name=varstream-hifi-v1,",
            LongReadErrors::Ont => "##varstream_model=<Name=varstream-ont-r10-v1,",
        };
        assert!(
            vcf_header(&whole).iter().any(|l| l.starts_with(model)),
            "{errors:?}: {:?}",
            vcf_header(&whole)
        );
        let v4 = concat!(env!("CARGO_MANIFEST_DIR"), "/models/varstream-v4.onnx");
        let (o, forced) = call(&fx, &fx.bam, "forced.vcf.gz", &["--model", v4]);
        assert_ok(&o);
        assert!(vcf_header(&forced)
            .iter()
            .any(|l| l.starts_with("##varstream_model=<Name=varstream-v4,")));
        let warned = String::from_utf8_lossy(&o.stderr).contains("model yet");
        assert!(
            !warned,
            "{errors:?}: --model given, yet the no-model warning"
        );
        let body = vcf_body(&whole);
        let (found, planted) = planted_found(&fx, &body);
        eprintln!("{errors:?}: {found} of {planted} planted variants called with their genotype");
        assert!(
            found * 10 >= planted * 9,
            "{errors:?}: {found} of {planted}"
        );
        // The platform's indel threshold applies unless --min-indel-fraction is given
        // (0.08 HiFi, 0.15 ONT, Clair3's defaults): the same records as giving it, and fewer
        // than under Illumina's 0.06, which makes homopolymer errors candidates.
        let platform_default = match errors {
            LongReadErrors::Hifi => "0.08",
            LongReadErrors::Ont => "0.15",
        };
        let (o, given) = call(
            &fx,
            &fx.bam,
            "given.vcf.gz",
            &["--min-indel-fraction", platform_default],
        );
        assert_ok(&o);
        assert_eq!(vcf_body(&given), body, "{errors:?}");
        let (o, illumina) = call(
            &fx,
            &fx.bam,
            "illumina_indels.vcf.gz",
            &["--min-indel-fraction", "0.06"],
        );
        assert_ok(&o);
        eprintln!(
            "{errors:?}: {} records at the platform's indel threshold, {} at 0.06",
            body.len(),
            vcf_body(&illumina).len()
        );
        assert!(vcf_body(&illumina).len() > body.len(), "{errors:?}");
        let runs: [(&str, &[&str]); 4] = [
            ("t1.vcf.gz", &["--threads", "1"]),
            ("s1k.vcf.gz", &["--shard-size", "1000"]),
            ("s25k.vcf.gz", &["--shard-size", "25000", "--threads", "1"]),
            ("s7k.vcf.gz", &["--shard-size", "7000"]),
        ];
        for (name, extra) in runs {
            let (o, v) = call(&fx, &fx.bam, name, extra);
            assert_ok(&o);
            assert_eq!(
                vcf_body(&v),
                body,
                "{errors:?}: {extra:?} changed the records"
            );
        }
        let (o1, left) = call(&fx, &fx.bam, "left.vcf.gz", &["--region", "chrL:1-61234"]);
        let (o2, right) = call(
            &fx,
            &fx.bam,
            "right.vcf.gz",
            &["--region", "chrL:61235-150000"],
        );
        assert_ok(&o1);
        assert_ok(&o2);
        let mut pieces = vcf_body(&left);
        pieces.extend(vcf_body(&right));
        assert_eq!(
            pieces, body,
            "{errors:?}: a region split changed the records"
        );
        // The same reads with a header that names no platform: long reads of an unknown
        // platform are an error asking for --platform; given, it is used and recorded.
        let bare = fx.dir.path().join("no_platform.bam");
        let contig = [("chrL", 150_000usize)];
        write_alignments(
            &bare,
            &sam_header(&contig, "FIXTURE"),
            sam_records(&fx.bam),
            None,
        );
        let (o, _) = call(&fx, &bare, "bare.vcf.gz", &[]);
        assert_eq!(o.status.code(), Some(2), "{errors:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("no_platform.bam") && err.contains("--platform"),
            "{err}"
        );
        let (o, given) = call(&fx, &bare, "given.vcf.gz", &["--platform", "hifi"]);
        assert_ok(&o);
        let header = vcf_header(&given);
        assert!(header
            .iter()
            .any(|l| l.starts_with("##varstream_platform=<ID=hifi,Source=user")));
    }
}

// Reads seen in the called regions and none usable: no VCF, one line with the counts by
// reason, exit 3 (not a 0-record VCF and exit 0).
#[test]
fn a_run_that_can_use_no_read_fails_with_the_counts() {
    let fx = build(true);
    let (o, vcf) = call(&fx, &fx.bam, "none.vcf.gz", &["--min-mapq", "61"]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.contains("none could be used") && last.contains("MAPQ under --min-mapq 61"),
        "{err}"
    );
    assert!(!vcf.exists() && !fx.dir.path().join("none.stats.json").exists());
}

// The inputs of --pgs, --pgs-reference, --weights and --panel are read before calling: a bad
// one fails at once (exit 2, naming it) and leaves no VCF, index or stats behind.
#[test]
fn bad_score_and_report_inputs_fail_before_calling() {
    let fx = build(true);
    let bad = fx.dir.path().join("bad_input.txt");
    std::fs::write(&bad, "not\ta\tscoring\tfile\n1\t2\n").unwrap();
    let b = bad.to_str().unwrap();
    for extra in [
        vec!["--pgs", b],
        vec!["--weights", b],
        vec!["--report", "--panel", b],
    ] {
        let (o, vcf) = call(&fx, &fx.bam, "early.vcf.gz", &extra);
        assert_eq!(o.status.code(), Some(2), "{extra:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.lines().last().unwrap().contains("bad_input.txt"),
            "{extra:?}: {err}"
        );
        assert!(
            !err.contains("calling "),
            "{extra:?}: calling started: {err}"
        );
        assert!(!vcf.exists() && !fx.dir.path().join("early.stats.json").exists());
    }
}

// SEQ written with `=` for bases that match the reference (`samtools calmd -e`) reads as the
// reference base: the same records as the plain BAM (an `=` read as N made heterozygous
// sites look homozygous ALT).
#[test]
fn bases_stored_as_equals_read_as_the_reference() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let eq_bam = fx.dir.path().join("calmd_e.bam");
    let calmd = std::process::Command::new("samtools")
        .args(["calmd", "-e", "-b"])
        .arg(&fx.bam)
        .arg(&fx.fasta)
        .output();
    let Ok(calmd) = calmd else {
        assert!(
            !ci(),
            "samtools is required when CI=true (scripts/setup.sh)"
        );
        eprintln!("SKIP: samtools not found");
        return;
    };
    assert!(
        calmd.status.success(),
        "{}",
        String::from_utf8_lossy(&calmd.stderr)
    );
    std::fs::write(&eq_bam, &calmd.stdout).unwrap();
    rust_htslib::bam::index::build(&eq_bam, None, rust_htslib::bam::index::Type::Bai, 1).unwrap();
    let equals = sam_records(&eq_bam)
        .iter()
        .filter(|(_, l)| l.split('\t').nth(9).is_some_and(|s| s.contains('=')))
        .count();
    assert!(equals > 100, "calmd -e wrote {equals} reads with `=`");
    let (o1, plain) = call(&fx, &fx.bam, "plain.vcf.gz", &[]);
    let (o2, eq) = call(&fx, &eq_bam, "eq.vcf.gz", &[]);
    assert_ok(&o1);
    assert_ok(&o2);
    assert_eq!(vcf_body(&eq), vcf_body(&plain));
}

// Issue 25 (calibration): a clear homozygous-ALT SNV, every read ALT, at about 26x reaches
// GQ of at least 50 with the shipped calibration (fifth version; the third gave about 30 at
// 20-39 reads, where one power served hets and hom-alts alike).
#[test]
fn clear_homozygous_alt_snvs_at_26x_are_confident() {
    if !require_ort() {
        return;
    }
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(25);
    let len = 6_000;
    let reference = random_seq(&mut rng, len);
    let (dir, fasta) = temp_fasta(&[("chrH", &reference)]);
    let mut variants: Vec<(u64, Vec<u8>, Vec<u8>)> = Vec::new();
    let mut planted = Vec::new();
    for p in (300..len - 300).step_by(400) {
        let (v, p) = planted_snv(&reference, p + rng.random_range(0..50), 2);
        variants.push(v);
        planted.push(p);
    }
    let v: Vec<(u64, &[u8], &[u8])> = variants
        .iter()
        .map(|(p, r, a)| (*p, &r[..], &a[..]))
        .collect();
    let hap = apply(&reference, &v);
    // 100 bp reads every 8 bp on each copy: about 25 reads over a site.
    let mut records = tiled_reads("chrH", &hap, 8, "h0", "");
    records.extend(tiled_reads("chrH", &hap, 8, "h1", ""));
    let fx = fixture(dir, fasta, &[("chrH", len)], records, planted);
    let (o, vcf) = call(&fx, &fx.bam, "hom.vcf.gz", &[]);
    assert_ok(&o);
    let mut gqs: Vec<(u32, u32)> = Vec::new();
    for l in vcf_body(&vcf) {
        let f: Vec<&str> = l.split('\t').collect();
        let keys: Vec<&str> = f[8].split(':').collect();
        let vals: Vec<&str> = f[9].split(':').collect();
        let at = |k: &str| vals[keys.iter().position(|x| *x == k).unwrap()];
        assert_eq!((f[6], at("GT")), ("PASS", "1/1"), "{l}");
        gqs.push((at("GQ").parse().unwrap(), at("DP").parse().unwrap()));
    }
    assert_eq!(gqs.len(), fx.planted.len(), "{gqs:?}");
    assert!(gqs.iter().all(|&(_, dp)| (20..40).contains(&dp)), "{gqs:?}");
    gqs.sort_unstable();
    let median = gqs[gqs.len() / 2].0;
    assert!(median >= 50, "median GQ {median}: {gqs:?}");
}
