//! `call --phase` (issue 24): simulated genomes whose heterozygous variants lie on known
//! haplotypes, read as Illumina-like pairs and as HiFi-like long reads. The phase must match
//! the haplotypes wherever reads link the sites (no switch error), cover nearly every
//! heterozygous call, and not depend on threads, shard size or how a run's regions are split.
use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};

use crate::common::*;
use crate::other_tools::tool;

const CONTIG: usize = 60_000;

/// 0-based position, REF, ALT.
type Variant = (u64, Vec<u8>, Vec<u8>);

#[derive(Debug, Clone, Copy)]
enum Reads {
    /// 2x100 pairs, fragments of 200-500 bp, 25x per haplotype, perfect.
    Pairs,
    /// 8-20 kb reads, 10x per haplotype, a substitution in 300 bases and an insertion in 1,000.
    Long,
}

/// A genome with heterozygous SNVs on random haplotypes (and some homozygous ones), and for
/// each heterozygous variant's 1-based POS, whether its ALT is on haplotype 1.
fn build_phased(kind: Reads, seed: u64) -> (Fixture, BTreeMap<u64, bool>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let reference = random_seq(&mut rng, CONTIG);
    let (dir, fasta) = temp_fasta(&[("chrP", &reference)]);
    let spacing = match kind {
        Reads::Pairs => 150..350,
        Reads::Long => 300..1_500,
    };
    let mut hap_vars: [Vec<Variant>; 2] = [Vec::new(), Vec::new()];
    let (mut planted, mut het) = (Vec::new(), BTreeMap::new());
    let mut p = 1_000;
    while p < CONTIG - 1_000 {
        let alt = b"ACGT"[(b"ACGT".iter().position(|&b| b == reference[p]).unwrap() + 1) % 4];
        let v = (p as u64, vec![reference[p]], vec![alt]);
        let copies = if rng.random_range(0..5) == 0 { 2 } else { 1 };
        if copies == 2 {
            hap_vars[0].push(v.clone());
            hap_vars[1].push(v);
        } else {
            let h = rng.random_range(0..2);
            hap_vars[h].push(v);
            het.insert(p as u64 + 1, h == 0);
        }
        planted.push(Planted {
            pos: p as u64 + 1,
            ref_allele: (reference[p] as char).to_string(),
            alt: (alt as char).to_string(),
            copies,
        });
        p += rng.random_range(spacing.clone());
    }
    let haps: Vec<Hap> = hap_vars
        .iter()
        .map(|v| {
            let v: Vec<(u64, &[u8], &[u8])> =
                v.iter().map(|(p, r, a)| (*p, &r[..], &a[..])).collect();
            apply(&reference, &v)
        })
        .collect();
    let mut records = Vec::new();
    for (h, hap) in haps.iter().enumerate() {
        match kind {
            Reads::Pairs => {
                let mut i = 0;
                let mut n = 0;
                while i + 500 <= hap.len() {
                    let frag = rng.random_range(200..500);
                    let name = format!("h{h}f{n}");
                    let r1 = sam_line(&name, "chrP", hap, i, 100, false, true);
                    let r2 = sam_line(&name, "chrP", hap, i + frag - 100, 100, true, true);
                    if let (Some(a), Some(b)) = (r1, r2) {
                        let tlen = (b.0 + 100) as i64 - a.0 as i64;
                        let (pa, pb) = (a.0, b.0);
                        records.push(mate(a, 99, pb, tlen));
                        records.push(mate(b, 147, pa, -tlen));
                    }
                    i += 8;
                    n += 1;
                }
            }
            Reads::Long => {
                for n in 0..(10 * CONTIG / 14_000) {
                    let l = rng.random_range(8_000..20_000).min(hap.len());
                    let i = rng.random_range(0..=hap.len() - l);
                    let mut read: Hap = Vec::with_capacity(l + l / 500);
                    for &(p, b) in &hap[i..i + l] {
                        match rng.random_range(0..3_000) {
                            0..10 => read.push((p, b"ACGT"[(b as usize + 1) % 4])),
                            10..13 => {
                                read.push((p, b));
                                read.push((None, b"ACGT"[rng.random_range(0..4)]));
                            }
                            _ => read.push((p, b)),
                        }
                    }
                    let name = format!("h{h}long{n}");
                    let len = read.len();
                    if let Some(rec) = sam_line(&name, "chrP", &read, 0, len, n % 2 == 1, true) {
                        records.push(rec);
                    }
                }
            }
        }
    }
    let mut header = sam_header(&[("chrP", CONTIG)], "PHASED");
    if let Reads::Long = kind {
        header = header.replace(
            "@RG\tID:rg1\tSM:PHASED\n",
            "@RG\tID:rg1\tSM:PHASED\tPL:PACBIO\tDS:READTYPE=CCS\n",
        );
    }
    let bam = dir.path().join("reads.bam");
    write_alignments(&bam, &header, records, None);
    let fx = Fixture {
        dir,
        fasta,
        bam,
        planted,
    };
    (fx, het)
}

/// A SAM line made a properly paired mate: FLAG, RNEXT `=`, PNEXT and TLEN.
fn mate((pos, line): (u64, String), flag: u16, mate_pos: u64, tlen: i64) -> (u64, String) {
    let mut f: Vec<String> = line.split('\t').map(String::from).collect();
    f[1] = flag.to_string();
    f[6] = "=".into();
    f[7] = (mate_pos + 1).to_string();
    f[8] = tlen.to_string();
    (pos, f.join("\t"))
}

/// A record's GT and PS (when FORMAT has one), from a VCF body line.
fn gt_ps(line: &str) -> (u64, String, String, Option<u64>) {
    let f: Vec<&str> = line.split('\t').collect();
    let keys: Vec<&str> = f[8].split(':').collect();
    let vals: Vec<&str> = f[9].split(':').collect();
    let at = |k: &str| keys.iter().position(|x| *x == k).map(|i| vals[i]);
    (
        f[1].parse().unwrap(),
        f[6].to_string(),
        at("GT").unwrap().to_string(),
        at("PS").map(|s| s.parse().unwrap()),
    )
}

/// Phased records against the truth: (heterozygous PASS calls, phased ones, switch errors);
/// phased calls of no planted variant must be rare.
/// A switch error is a phased site whose orientation relative to the truth differs from the
/// previous phased site's in the same block.
fn judge(body: &[String], het: &BTreeMap<u64, bool>) -> (usize, usize, usize) {
    let (mut calls, mut phased, mut switches, mut false_phased) = (0, 0, 0, 0);
    let mut last: BTreeMap<u64, bool> = BTreeMap::new();
    for line in body {
        let (pos, filter, gt, ps) = gt_ps(line);
        let het_call = gt == "0/1" || gt == "0|1" || gt == "1|0";
        if filter != "PASS" || !het_call {
            assert!(
                !gt.contains('|'),
                "{line}: phased but not a heterozygous PASS call"
            );
            continue;
        }
        calls += 1;
        if !gt.contains('|') {
            assert!(ps.is_none(), "{line}: PS on an unphased call");
            continue;
        }
        phased += 1;
        let ps = ps.unwrap_or_else(|| panic!("{line}: phased without PS"));
        assert!(ps <= pos, "{line}: PS after the variant");
        let alt_first = gt == "1|0";
        // A false heterozygote (read errors that happen to lie on one haplotype) may be
        // phased; it has no truth to switch against.
        let Some(&alt_on_1) = het.get(&pos) else {
            false_phased += 1;
            continue;
        };
        let relation = alt_first == alt_on_1;
        if let Some(prev) = last.insert(ps, relation) {
            switches += (prev != relation) as usize;
        }
    }
    assert!(
        false_phased * 20 <= phased,
        "{false_phased} of {phased} phased calls are no planted variant"
    );
    (calls, phased, switches)
}

fn stats(vcf: &std::path::Path) -> serde_json::Value {
    let path = vcf.to_str().unwrap().replace(".vcf.gz", ".stats.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn phased_calls_follow_the_haplotypes_and_do_not_depend_on_how_the_run_is_cut() {
    if !require_ort() {
        return;
    }
    for (kind, seed) in [(Reads::Pairs, 31), (Reads::Long, 32)] {
        let (fx, het) = build_phased(kind, seed);
        let (o, vcf) = call_fixture(&fx, &fx.bam, "phased.vcf.gz", &["--phase"]);
        assert_ok(&o);
        let body = vcf_body(&vcf);
        let (calls, phased, switches) = judge(&body, &het);
        eprintln!("{kind:?}: {phased} of {calls} heterozygous PASS calls phased, {switches} switch errors ({} planted)", het.len());
        assert!(
            calls * 10 >= het.len() * 9,
            "{kind:?}: {calls} of {} called",
            het.len()
        );
        assert_eq!(switches, 0, "{kind:?}");
        // Every call of a planted heterozygous variant with another a fragment's length away
        // (or within the long reads' span) is linked by several reads, so it is phased. (A
        // false heterozygote, from read errors, is left unphased: its reads disagree.)
        let near = match kind {
            Reads::Pairs => 300,
            Reads::Long => 5_000,
        };
        let hets: Vec<(u64, bool)> = body
            .iter()
            .map(|l| gt_ps(l))
            .filter(|(pos, f, gt, _)| {
                f == "PASS" && (gt == "0/1" || gt.contains('|')) && het.contains_key(pos)
            })
            .map(|(pos, _, gt, _)| (pos, gt.contains('|')))
            .collect();
        let mut linked = 0;
        for (i, &(pos, is_phased)) in hets.iter().enumerate() {
            let near_another = [i.wrapping_sub(1), i + 1]
                .iter()
                .filter_map(|&j| hets.get(j))
                .any(|&(p, _)| p.abs_diff(pos) <= near);
            linked += near_another as usize;
            assert!(
                is_phased || !near_another,
                "{kind:?}: {pos} is linked but not phased"
            );
        }
        assert!(
            linked * 10 >= calls * 8,
            "{kind:?}: {linked} of {calls} linked"
        );
        // PS is the position of a phased record of its block: its first.
        let firsts: BTreeMap<u64, u64> = body
            .iter()
            .map(|l| gt_ps(l))
            .filter_map(|(pos, _, _, ps)| ps.map(|ps| (ps, pos)))
            .fold(BTreeMap::new(), |mut m, (ps, pos)| {
                m.entry(ps)
                    .and_modify(|p: &mut u64| *p = (*p).min(pos))
                    .or_insert(pos);
                m
            });
        assert!(
            firsts.iter().all(|(ps, first)| ps == first),
            "{kind:?}: {firsts:?}"
        );
        let header = vcf_header(&vcf);
        assert!(
            header.iter().any(|l| l.starts_with("##FORMAT=<ID=PS,")),
            "{kind:?}"
        );
        // The stats file counts what the VCF holds.
        let s = &stats(&vcf)["phasing"]["total"];
        assert_eq!(s["het_calls"], calls as u64, "{kind:?}: {s}");
        assert_eq!(s["phased"], phased as u64, "{kind:?}: {s}");
        assert_eq!(s["blocks"], firsts.len() as u64, "{kind:?}: {s}");
        let conflicts = body
            .iter()
            .filter(|l| l.split('\t').nth(6) == Some("PhaseConflict"))
            .count();
        assert_eq!(s["conflicts"], conflicts as u64, "{kind:?}: {s}");
        assert!(
            header
                .iter()
                .any(|l| l.starts_with("##FILTER=<ID=PhaseConflict,")),
            "{kind:?}"
        );
        if let Some(o) = tool("bcftools", &["view", "-H", vcf.to_str().unwrap()]) {
            assert_eq!(
                String::from_utf8_lossy(&o.stdout).lines().count(),
                body.len()
            );
        }
        // One body for any thread count, shard size and split of the regions in a run.
        let runs: [(&str, &[&str]); 4] = [
            ("t1.vcf.gz", &["--phase", "--threads", "1"]),
            ("s1k.vcf.gz", &["--phase", "--shard-size", "1000"]),
            (
                "s7k.vcf.gz",
                &["--phase", "--shard-size", "7000", "--threads", "2"],
            ),
            (
                "split.vcf.gz",
                &[
                    "--phase",
                    "--region",
                    "chrP:1-21234",
                    "--region",
                    "chrP:21235-60000",
                ],
            ),
        ];
        for (name, extra) in runs {
            let (o, v) = call_fixture(&fx, &fx.bam, name, extra);
            assert_ok(&o);
            assert_eq!(
                vcf_body(&v),
                body,
                "{kind:?}: {extra:?} changed the phasing"
            );
        }
        // Without --phase nothing is phased and the calls are the same.
        let (o, plain) = call_fixture(&fx, &fx.bam, "plain.vcf.gz", &[]);
        assert_ok(&o);
        let unphased: Vec<String> = body
            .iter()
            .map(|l| {
                let mut f: Vec<&str> = l.split('\t').collect();
                // The filter that phasing adds; the call is PASS without it.
                if f[6] == "PhaseConflict" {
                    f[6] = "PASS";
                }
                if !f[8].ends_with(":PS") {
                    return f.join("\t");
                }
                let sample = f[9]
                    .rsplit_once(':')
                    .unwrap()
                    .0
                    .replace('|', "/")
                    .replace("1/0", "0/1");
                [&f[..8], &[f[8].trim_end_matches(":PS"), &sample]]
                    .concat()
                    .join("\t")
            })
            .collect();
        assert_eq!(vcf_body(&plain), unphased, "{kind:?}");
        assert!(!vcf_header(&plain)
            .iter()
            .any(|l| l.contains("ID=PS,") || l.contains("ID=PhaseConflict,")));
        assert!(stats(&plain).get("phasing").is_none());
    }
}

// The gVCF's variant lines are the VCF's, phase included; scores count a phased `1|0` as
// one copy, as they count `0/1`; the report and its MultiQC section show the phasing.
#[test]
fn gvcf_scores_and_report_read_phased_genotypes() {
    if !require_ort() {
        return;
    }
    let (fx, het) = build_phased(Reads::Pairs, 33);
    let gvcf = fx.dir.path().join("phased.g.vcf.gz");
    let panel = fx.dir.path().join("panel.bed");
    std::fs::write(
        &panel,
        "chrP\t0\t30000\tGENE_A\nchrP\t30000\t60000\tGENE_B\n",
    )
    .unwrap();
    let (o, vcf) = call_fixture(
        &fx,
        &fx.bam,
        "phased.vcf.gz",
        &[
            "--phase",
            "--gvcf",
            gvcf.to_str().unwrap(),
            "--report",
            "--panel",
            panel.to_str().unwrap(),
        ],
    );
    assert_ok(&o);
    let body = vcf_body(&vcf);
    let s = &stats(&vcf)["phasing"]["total"];
    let html = std::fs::read_to_string(fx.dir.path().join("phased.report.html")).unwrap();
    let phased_cell = format!("<td class=\"n\">{} (", s["phased"]);
    assert!(
        html.contains("<h3>Phasing</h3>") && html.contains(&phased_cell),
        "{s}"
    );
    let mqc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fx.dir.path().join("phased.report_mqc.json")).unwrap(),
    )
    .unwrap();
    let json = fx.dir.path().join("phased.report.json");
    if let Some(errors) = crate::report::schema_errors(&json) {
        assert!(errors.is_empty(), "{errors:?}");
    }
    // The report's findings keep the phase, and say which copy carries which ALT: against
    // the simulation's haplotypes, copy 1 and copy 2 of each group are each one haplotype.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let findings = &report["findings"];
    let ps_of: BTreeMap<u64, (String, Option<u64>)> = body
        .iter()
        .map(|l| gt_ps(l))
        .map(|(pos, _, gt, ps)| (pos, (gt, ps)))
        .collect();
    for c in findings["calls"].as_array().unwrap() {
        let pos = c["pos"].as_u64().unwrap();
        let (gt, ps) = &ps_of[&pos];
        assert_eq!(c["genotype"], gt.as_str(), "{c}");
        assert_eq!(c["phase_set"].as_u64(), *ps, "{c}");
    }
    let groups = findings["phase_groups"].as_array().unwrap();
    assert!(!groups.is_empty(), "{findings}");
    let truth_hap = |label: &serde_json::Value| -> bool {
        let pos: u64 = label
            .as_str()
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        het[&pos]
    };
    for g in groups {
        let (c1, c2) = (
            g["copy_1"].as_array().unwrap(),
            g["copy_2"].as_array().unwrap(),
        );
        let on1: Vec<bool> = c1.iter().map(truth_hap).collect();
        let on2: Vec<bool> = c2.iter().map(truth_hap).collect();
        assert!(on1.windows(2).all(|w| w[0] == w[1]), "{g}");
        assert!(on2.windows(2).all(|w| w[0] == w[1]), "{g}");
        if let (Some(a), Some(b)) = (on1.first(), on2.first()) {
            assert_ne!(a, b, "{g}");
            assert_eq!(g["relation"], "in trans", "{g}");
        } else {
            assert_eq!(g["relation"], "in cis", "{g}");
        }
    }
    assert!(html.contains("<h3>Phase within regions</h3>"));
    let row = &mqc["data"]["PHASED"];
    assert_eq!(row["Phase blocks"], s["blocks"], "{row}");
    assert_eq!(row["Phase block N50"], s["block_n50"], "{row}");
    assert_eq!(row["PhaseConflict calls"], s["conflicts"], "{row}");
    let share = 100.0 * s["phased"].as_f64().unwrap() / s["het_calls"].as_f64().unwrap();
    assert!(
        (row["% hets phased"].as_f64().unwrap() - share).abs() < 0.01,
        "{row}"
    );
    let g: BTreeMap<u64, String> = vcf_body(&gvcf)
        .into_iter()
        .filter(|l| !l.split('\t').nth(4).unwrap().starts_with("<*>"))
        .map(|l| (gt_ps(&l).0, l))
        .collect();
    let mut phased = 0;
    for line in &body {
        let (pos, _, gt, ps) = gt_ps(line);
        let (_, _, ggt, gps) = gt_ps(&g[&pos]);
        assert_eq!((&gt, ps), (&ggt, gps), "{line}\n{}", g[&pos]);
        phased += gt.contains('|') as usize;
    }
    assert!(phased > 50, "{phased}");
    // A score over every planted heterozygous SNV with weight 1 per ALT copy: phased or
    // not, each one is one copy.
    let pgs = fx.dir.path().join("het.txt");
    let mut text = String::from(
        "#pgs_id=PGS_HET\nchr_name\tchr_position\teffect_allele\tother_allele\teffect_weight\n",
    );
    for p in fx.planted.iter().filter(|p| het.contains_key(&p.pos)) {
        text.push_str(&format!(
            "chrP\t{}\t{}\t{}\t1\n",
            p.pos, p.alt, p.ref_allele
        ));
    }
    std::fs::write(&pgs, text).unwrap();
    let score = |vcf: &std::path::Path, out: &str| {
        let prefix = fx.dir.path().join(out);
        let o = run(&[
            "score",
            "prs",
            "--vcf",
            vcf.to_str().unwrap(),
            "--pgs",
            pgs.to_str().unwrap(),
            "--output",
            prefix.to_str().unwrap(),
        ]);
        assert_ok(&o);
        std::fs::read_to_string(format!("{}.prs.tsv", prefix.display())).unwrap()
    };
    let (o, plain) = call_fixture(&fx, &fx.bam, "plain.vcf.gz", &[]);
    assert_ok(&o);
    let (a, b) = (score(&vcf, "phased"), score(&plain, "plain"));
    assert_eq!(a, b);
    eprintln!("{a}");
}

/// A real HG002 long-read set of `$VARSTREAM_DATA/longreads`: (name, folder, FASTA, BAM,
/// region).
type LongReadSet = (
    &'static str,
    std::path::PathBuf,
    std::path::PathBuf,
    std::path::PathBuf,
    &'static str,
);

/// The real long-read sets, or `None` (with a line saying so) where they are absent; under
/// CI they must be there.
fn real_long_read_sets() -> Option<Vec<LongReadSet>> {
    let root = shared_data().join("longreads");
    let sets = [
        (
            "hg002_hifi_sequel2_modkit_chr20_0.06mb",
            "grch38.chr20.masked_0-0.3mb.fa.gz",
            "chr20:65001-160000",
        ),
        (
            "hg002_ont_r10_dorado_chr20_5.00mb",
            "grch38.chr20.masked_4.99-5.02mb.fa.gz",
            "chr20:5000001-5010000",
        ),
    ];
    if !root.join(sets[0].0).is_dir() {
        assert!(
            !ci(),
            "long-read data not found at {} under CI=true",
            root.display()
        );
        eprintln!(
            "SKIP: long-read data not found at {} (set VARSTREAM_DATA)",
            root.display()
        );
        return None;
    }
    Some(
        sets.iter()
            .map(|&(name, fasta, region)| {
                let dir = root.join(name);
                let bam = std::fs::read_dir(&dir)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .find(|p| p.extension().is_some_and(|x| x == "bam"))
                    .unwrap();
                let fasta = dir.join(fasta);
                (name, dir, fasta, bam, region)
            })
            .collect(),
    )
}

/// The real HG002 long-read sets (validation; never used to choose a rule): with `--phase`,
/// at least 90 % of the heterozygous PASS calls are phased (issue 24's target), no call
/// `PhaseConflict` filters is a GIAB heterozygote with the same alleles, and accuracy against
/// GIAB in the confident BED is no worse than without.
#[test]
fn real_long_reads_are_phased_and_the_phase_conflict_filter_costs_no_true_heterozygote() {
    let Some(sets) = real_long_read_sets() else {
        return;
    };
    if !require_ort() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for (set, dir, fasta, bam, region) in sets {
        let run = |name: &str, extra: &[&str]| {
            let out = tmp.path().join(format!("{set}.{name}.vcf.gz"));
            let args = [&["--region", region][..], extra].concat();
            assert_ok(&call_with(&fasta, &bam, &out, &args));
            out
        };
        let (plain, phased) = (run("plain", &[]), run("phased", &["--phase"]));
        let body = vcf_body(&phased);
        let hets: Vec<(u64, String, String, Option<u64>)> = body
            .iter()
            .map(|l| gt_ps(l))
            .filter(|(_, f, gt, _)| {
                f == "PASS" && {
                    let a: Vec<&str> = gt.split(['/', '|']).collect();
                    a.len() == 2 && a[0] != a[1]
                }
            })
            .collect();
        let phased_n = hets.iter().filter(|h| h.3.is_some()).count();
        eprintln!(
            "{set}: {phased_n} of {} heterozygous PASS calls phased",
            hets.len()
        );
        assert!(hets.len() >= 10, "{set}: {} heterozygous calls", hets.len());
        assert!(
            phased_n * 10 >= hets.len() * 9,
            "{set}: {phased_n} of {} phased",
            hets.len()
        );
        // (POS, REF, ALT) of GIAB's heterozygotes.
        let truth_hets: std::collections::HashSet<(String, String, String)> =
            vcf_body(&dir.join("truth.vcf.gz"))
                .iter()
                .filter_map(|l| {
                    let f: Vec<&str> = l.split('\t').collect();
                    let gt = f[9].split(':').next()?;
                    let a: Vec<&str> = gt.split(['/', '|']).collect();
                    (a.len() == 2 && a[0] != a[1])
                        .then(|| (f[1].to_string(), f[3].to_string(), f[4].to_string()))
                })
                .collect();
        for l in body
            .iter()
            .filter(|l| l.split('\t').nth(6) == Some("PhaseConflict"))
        {
            let f: Vec<&str> = l.split('\t').collect();
            let key = (f[1].to_string(), f[3].to_string(), f[4].to_string());
            assert!(
                !truth_hets.contains(&key),
                "{set}: a GIAB heterozygote filtered: {l}"
            );
        }
        let reference = varstream::reference::Reference::open(&fasta).unwrap();
        let f1 = |vcf: &std::path::Path| {
            varstream::eval::evaluate(
                &dir.join("truth.vcf.gz"),
                vcf,
                &dir.join("confident.bed"),
                &reference,
                (None, None),
            )
            .unwrap()
            .all()
            .f1_gt()
        };
        let (before, after) = (f1(&plain), f1(&phased));
        eprintln!("{set}: confident ALL F1_GT {before:.4} without --phase, {after:.4} with");
        assert!(
            after >= before,
            "{set}: F1_GT {after:.4} with --phase < {before:.4}"
        );
    }
}

/// Overlapping PASS calls never carry more ALT alleles over a base than a diploid genome has
/// (the real HiFi set had a heterozygous 8 bp deletion overlapping a homozygous one at
/// chr20:157,927), and the groups are resolved the same for any shard size or thread count.
#[test]
fn real_long_reads_overlapping_calls_fit_two_copies_for_any_shards() {
    let Some(sets) = real_long_read_sets() else {
        return;
    };
    if !require_ort() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for (set, _, fasta, bam, region) in sets {
        let mut bodies = Vec::new();
        // Small shards: groups of overlapping calls meet shard edges.
        for (name, extra) in [
            ("default", &[][..]),
            ("s3872", &["--shard-size", "3872", "--threads", "2"][..]),
            ("s1000", &["--shard-size", "1000", "--threads", "1"][..]),
        ] {
            let out = tmp.path().join(format!("{set}.{name}.vcf.gz"));
            let args = [&["--region", region][..], extra].concat();
            assert_ok(&call_with(&fasta, &bam, &out, &args));
            bodies.push(vcf_body(&out));
        }
        assert_eq!(bodies[0], bodies[1], "{set}: shard size changed the calls");
        assert_eq!(bodies[0], bodies[2], "{set}: shard size changed the calls");
        // (first, last) changed base of each ALT copy of a PASS call, in half bases.
        let mut copies: Vec<(u64, u64)> = Vec::new();
        for l in &bodies[0] {
            let f: Vec<&str> = l.split('\t').collect();
            if f[6] != "PASS" {
                continue;
            }
            let pos: u64 = f[1].parse::<u64>().unwrap() - 1;
            let alts: Vec<&str> = f[4].split(',').collect();
            for a in f[9].split(':').next().unwrap().split(['/', '|']) {
                let k: usize = a.parse().unwrap();
                if k > 0 {
                    copies.push(varstream::overlapping_calls::allele_span(
                        pos,
                        f[3].as_bytes(),
                        alts[k - 1].as_bytes(),
                    ));
                }
            }
        }
        for &(s, _) in &copies {
            let load = copies.iter().filter(|&&(a, b)| a <= s && s <= b).count();
            assert!(load <= 2, "{set}: {load} ALT alleles over half-base {s}");
        }
    }
}
