//! Files as other tools write them (issue 23's corpus): reads aligned by minimap2 with its
//! long-read presets, CRAM 3.0 and 3.1 written by samtools. Each is written here by the real
//! tool (Debian packages that scripts/setup.sh installs), so what is tested is what a user
//! has. A missing tool skips the test, and fails it under CI=true.
use std::path::PathBuf;
use std::process::Command;

use crate::common::*;

/// Run a tool, or skip (`None`) when it is not installed outside CI.
pub(crate) fn tool(name: &str, args: &[&str]) -> Option<std::process::Output> {
    match Command::new(name).args(args).output() {
        Ok(o) => {
            assert!(
                o.status.success(),
                "{name} {args:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            Some(o)
        }
        Err(e) => {
            assert!(
                !ci(),
                "{name} is required when CI=true (scripts/setup.sh): {e}"
            );
            eprintln!("SKIP: {name} not found ({e})");
            None
        }
    }
}

use crate::common::call_fixture as call;

/// The fixture's reads as FASTQ (bases as stored, qualities `I`), as a sequencer would give
/// them to an aligner.
fn fastq_of(fx: &Fixture) -> PathBuf {
    let fq = fx.dir.path().join("reads.fq");
    let mut text = String::new();
    for (_, line) in sam_records(&fx.bam) {
        let f: Vec<&str> = line.split('\t').collect();
        text.push_str(&format!(
            "@{}\n{}\n+\n{}\n",
            f[0],
            f[9],
            "I".repeat(f[9].len())
        ));
    }
    std::fs::write(&fq, text).unwrap();
    fq
}

/// Align the fixture's reads with `minimap2 -ax PRESET` and a read group without a platform,
/// sorted and indexed with samtools.
fn minimap2_bam(fx: &Fixture, preset: &str) -> Option<PathBuf> {
    let fq = fastq_of(fx);
    let sam = fx.dir.path().join(format!("{preset}.sam"));
    let ref_s = fx.fasta.to_str().unwrap();
    let o = tool(
        "minimap2",
        &[
            "-ax",
            preset,
            "-R",
            "@RG\\tID:rg1\\tSM:S1",
            "-o",
            sam.to_str().unwrap(),
            ref_s,
            fq.to_str().unwrap(),
        ],
    )?;
    drop(o);
    let bam = fx.dir.path().join(format!("{preset}.bam"));
    tool(
        "samtools",
        &["sort", "-o", bam.to_str().unwrap(), sam.to_str().unwrap()],
    )?;
    tool("samtools", &["index", bam.to_str().unwrap()])?;
    Some(bam)
}

// HiFi-like and ONT-like reads of 10-100 kb aligned by minimap2 with its own presets, as users
// align them: `map-hifi` is recognised as HiFi from minimap2's @PG line; `map-ont` names no
// chemistry, so --platform auto asks for it, and with --platform ont-r10 the run calls. Every
// primary alignment is used (none dropped for length), and the planted variants are found.
#[test]
fn minimap2_long_read_alignments_are_called() {
    if !require_ort() {
        return;
    }
    for (errors, preset, seed) in [
        (LongReadErrors::Hifi, "map-hifi", 31),
        (LongReadErrors::Ont, "map-ont", 32),
    ] {
        let fx = build_long_reads(errors, (10_000, 100_000), seed);
        let Some(bam) = minimap2_bam(&fx, preset) else {
            return;
        };
        let (o, vcf) = match errors {
            LongReadErrors::Hifi => {
                let (o, vcf) = call(&fx, &bam, "mm2.vcf.gz", &[]);
                assert_ok(&o);
                let header = vcf_header(&vcf);
                assert!(
                    header.iter().any(|l| l
                        .starts_with("##varstream_platform=<ID=hifi,Source=auto,")
                        && l.contains("@PG minimap2")),
                    "{header:?}"
                );
                (o, vcf)
            }
            LongReadErrors::Ont => {
                let (o, _) = call(&fx, &bam, "auto.vcf.gz", &[]);
                assert_eq!(o.status.code(), Some(2), "{preset}");
                let err = String::from_utf8_lossy(&o.stderr);
                assert!(
                    err.contains("chemistry") && err.contains("--platform"),
                    "{err}"
                );
                call(&fx, &bam, "mm2.vcf.gz", &["--platform", "ont-r10"])
            }
        };
        assert_ok(&o);
        let stats: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(fx.dir.path().join("mm2.stats.json")).unwrap(),
        )
        .unwrap();
        let reads = &stats["reads"];
        assert_eq!(
            reads["kept"],
            reads["seen"].as_u64().unwrap() - reads["flagged"].as_u64().unwrap(),
            "{preset}: {reads}"
        );
        assert!(reads["kept"].as_u64().unwrap() > 20, "{preset}: {reads}");
        let (n, _) = planted_found(&fx, &vcf_body(&vcf));
        eprintln!("{preset}: {n} of {} planted variants", fx.planted.len());
        assert!(
            n * 10 >= fx.planted.len() * 9,
            "{preset}: {n} of {}",
            fx.planted.len()
        );
    }
}

// CRAM 3.0 and 3.1 as samtools writes them (decoded against --ref) give the BAM's records.
#[test]
fn cram_3_0_and_3_1_from_samtools_give_the_bam_records() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let (o, bam_vcf) = call(&fx, &fx.bam, "bam.vcf.gz", &[]);
    assert_ok(&o);
    for version in ["3.0", "3.1"] {
        let cram = fx.dir.path().join(format!("v{version}.cram"));
        let Some(_) = tool(
            "samtools",
            &[
                "view",
                "-C",
                "-T",
                fx.fasta.to_str().unwrap(),
                "--output-fmt-option",
                &format!("version={version}"),
                "-o",
                cram.to_str().unwrap(),
                fx.bam.to_str().unwrap(),
            ],
        ) else {
            return;
        };
        tool("samtools", &["index", cram.to_str().unwrap()]);
        let head = std::fs::read(&cram).unwrap();
        assert_eq!(
            &head[..6],
            &[
                b'C',
                b'R',
                b'A',
                b'M',
                3,
                if version == "3.0" { 0 } else { 1 }
            ]
        );
        let (o, vcf) = call(&fx, &cram, &format!("v{version}.vcf.gz"), &[]);
        assert_ok(&o);
        assert_eq!(vcf_body(&vcf), vcf_body(&bam_vcf), "CRAM {version}");
    }
}
