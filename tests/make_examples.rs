//! `varstream make-examples` on the SAM-text fixture: labels are the planted copy numbers and
//! the shards are valid `.npy` files of the advertised shape.
mod common;

use std::io::Write;

use common::*;

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

#[test]
fn labels_match_planted_variants() {
    let fx = build(true);
    // Truth VCF (bgzipped + tabix) of the planted variants.
    let truth = fx.dir.path().join("truth.vcf.gz");
    {
        let mut w = rust_htslib::bgzf::Writer::from_path(&truth).unwrap();
        let header =
            "##fileformat=VCFv4.2\n##contig=<ID=chrT,length=3000>\n##contig=<ID=chrU,length=600>\n\
                      ##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n\
                      #CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n";
        w.write_all(header.as_bytes()).unwrap();
        for p in &fx.planted {
            let gt = if p.copies == 2 { "1/1" } else { "0/1" };
            writeln!(
                w,
                "chrT\t{}\t.\t{}\t{}\t.\tPASS\t.\tGT\t{gt}",
                p.pos, p.ref_allele, p.alt
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
    let bed = fx.dir.path().join("conf.bed");
    std::fs::write(&bed, "chrT\t100\t2900\n").unwrap();
    let out = fx.dir.path().join("ex");
    let o = run(&[
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
        "--name",
        "fixture",
    ]);
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
