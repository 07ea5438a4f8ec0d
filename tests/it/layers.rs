//! The layers of the source, checked: until the crates are split by layer (issue 22), this
//! test keeps the module graph layered, so the split stays a matter of moving files.
//! io (files in and out, the contig-name rule) imports nothing above it; the core stages
//! import io; scores import io and core; the report imports those and scores; the CLI
//! imports anything. Comment lines (doc links) are not imports.
use std::collections::BTreeMap;
use std::path::Path;

const LAYERS: &[(&str, &[&str])] = &[
    (
        "io",
        &[
            "errors",
            "output",
            "input",
            "reference",
            "contig_names",
            "vcf_genotypes",
        ],
    ),
    (
        "core",
        &[
            "regions",
            "reads",
            "candidates",
            "realign",
            "tensors",
            "inference",
            "model",
            "genotypes",
            "ploidy",
            "ref_confidence",
            "gvcf",
            "vcf",
            "shard_stages",
            "pipeline",
            "run_stats",
            "platform",
            "make_examples",
            "eval",
            "call_command",
            "cluster_shards",
        ],
    ),
    ("scores", &["scores"]),
    ("report", &["report"]),
    ("cli", &["cli", "main", "lib"]),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, mods)| mods.contains(&module))
}

#[test]
fn modules_import_only_their_own_layer_and_those_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let mut bad: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut seen = 0;
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
        let top = rel.split(['/', '.']).next().unwrap().to_string();
        let Some(from) = layer_of(&top) else {
            panic!(
                "src/{rel}: module {top} is in no layer: add it to LAYERS in {}",
                file!()
            );
        };
        seen += 1;
        let text = std::fs::read_to_string(f).unwrap();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (i, _) in line.match_indices("crate::") {
                let name: String = line[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let Some(to) = layer_of(&name) else { continue };
                if to > from {
                    bad.entry(format!("src/{rel} ({})", LAYERS[from].0))
                        .or_default()
                        .push(format!("{name} ({})", LAYERS[to].0));
                }
            }
        }
    }
    assert!(seen > 40, "read {seen} source files");
    assert!(bad.is_empty(), "imports from a higher layer: {bad:#?}");
}
