//! The genotyping model: its ONNX file, its JSON sidecar, and the check that the sidecar's
//! tensor layout is the one this build encodes.
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::tensors;

/// Name of the model shipped in `models/` and built into the binary.
pub const DEFAULT_MODEL: &str = "varstream-v4";

/// What the caller reads from a model's sidecar.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    /// The ONNX file.
    pub path: PathBuf,
    /// Model name from the sidecar.
    pub name: String,
    /// SHA-256 of the ONNX file.
    pub sha256: String,
    /// QUAL threshold for LowQual chosen at training time (on validation data), if any.
    pub min_qual: Option<f64>,
    /// GQ/QUAL calibration by depth (`calling.calibration`; none when absent).
    pub calibration: crate::genotypes::Calibration,
    /// Reads an allele needs to become a candidate (`calling.min_alt_reads`): a model trained
    /// on 1-read candidates says 1. Absent: the caller's default (2).
    pub min_alt_reads: Option<u32>,
    /// The whole sidecar.
    pub sidecar: serde_json::Value,
}

/// The sidecar path of a model: `X.onnx` → `X.json`.
pub fn sidecar_path(model: &Path) -> PathBuf {
    model.with_extension("json")
}

/// The shipped model, built into the binary so that an installed `varstream` needs no model
/// files beside it. `--model FILE` overrides it.
pub const EMBEDDED_ONNX: &[u8] = include_bytes!("../../../models/varstream-v4.onnx");
/// The shipped model's sidecar.
pub const EMBEDDED_SIDECAR: &str = include_str!("../../../models/varstream-v4.json");

/// A model built into the binary.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedModel {
    /// Its name (the sidecar's).
    pub name: &'static str,
    /// The ONNX bytes.
    pub onnx: &'static [u8],
    /// The sidecar.
    pub sidecar: &'static str,
}

/// The built-in models trained for a platform other than Illumina, each shipped only after it
/// passed the rule in docs/long-reads.md ("Long-read models: how one is chosen"). A platform
/// missing here is called with the Illumina model (and a warning).
pub const PLATFORM_MODELS: &[(crate::platform::Platform, EmbeddedModel)] = &[
    (
        crate::platform::Platform::Hifi,
        EmbeddedModel {
            name: "varstream-hifi-v1",
            onnx: include_bytes!("../../../models/varstream-hifi-v1.onnx"),
            sidecar: include_str!("../../../models/varstream-hifi-v1.json"),
        },
    ),
    (
        crate::platform::Platform::OntR10,
        EmbeddedModel {
            name: "varstream-ont-r10-v1",
            onnx: include_bytes!("../../../models/varstream-ont-r10-v1.onnx"),
            sidecar: include_str!("../../../models/varstream-ont-r10-v1.json"),
        },
    ),
];

/// The built-in model `call` uses for a platform when `--model` is not given: the platform's
/// own (see [`PLATFORM_MODELS`]), else the Illumina-trained default.
pub fn embedded_for(platform: crate::platform::Platform) -> EmbeddedModel {
    PLATFORM_MODELS
        .iter()
        .find(|(p, _)| *p == platform)
        .map(|(_, m)| *m)
        .unwrap_or(EmbeddedModel {
            name: DEFAULT_MODEL,
            onnx: EMBEDDED_ONNX,
            sidecar: EMBEDDED_SIDECAR,
        })
}

/// Whether a platform has a built-in model of its own.
pub fn has_platform_model(platform: crate::platform::Platform) -> bool {
    platform == crate::platform::Platform::Illumina
        || PLATFORM_MODELS.iter().any(|(p, _)| *p == platform)
}

/// Check and describe a built-in model.
pub fn embedded_model_info(m: &EmbeddedModel) -> Result<ModelInfo> {
    info_from(
        m.sidecar,
        m.onnx,
        Path::new(&format!("<built-in {}>", m.name)),
    )
}

/// Read and check a model's sidecar against this build's tensor layout.
pub fn load_info(model: &Path) -> Result<ModelInfo> {
    let side = sidecar_path(model);
    let text = std::fs::read_to_string(&side).with_context(|| {
        format!(
            "cannot read model sidecar {} (every model needs one)",
            side.display()
        )
    })?;
    let bytes =
        std::fs::read(model).with_context(|| format!("cannot read model {}", model.display()))?;
    info_from(&text, &bytes, model).with_context(|| format!("model sidecar {}", side.display()))
}

fn info_from(sidecar: &str, onnx: &[u8], model: &Path) -> Result<ModelInfo> {
    let v: serde_json::Value = serde_json::from_str(sidecar).context("not JSON")?;
    check_tensor_spec(&v["tensor"]).with_context(|| {
        format!(
            "model {} was trained on another tensor layout than this varstream builds",
            model.display()
        )
    })?;
    let sha256 = format!("{:x}", Sha256::digest(onnx));
    let name = v["name"].as_str().unwrap_or(DEFAULT_MODEL).to_string();
    let min_qual = v["calling"]["min_qual"].as_f64();
    let calibration = crate::genotypes::Calibration::from_sidecar(&v["calling"]["calibration"])?;
    let min_alt_reads = match &v["calling"]["min_alt_reads"] {
        serde_json::Value::Null => None,
        x => Some(
            x.as_u64()
                .ok_or_else(|| anyhow::anyhow!("not a whole number"))
                .and_then(crate::candidates::check_min_alt_reads)
                .with_context(|| format!("calling.min_alt_reads {x}"))?,
        ),
    };
    Ok(ModelInfo {
        path: model.to_path_buf(),
        name,
        sha256,
        min_qual,
        calibration,
        min_alt_reads,
        sidecar: v,
    })
}

/// Compare a sidecar's `tensor` block with [`tensors::spec_json`].
pub fn check_tensor_spec(t: &serde_json::Value) -> Result<()> {
    let want = tensors::spec_json();
    for key in ["tensor_version", "shape", "channels"] {
        if t[key] != want[key] {
            bail!(
                "shape mismatch: sidecar {key} = {} but this build uses {}",
                t[key],
                want[key]
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_embedded_model_matches_its_sidecar() {
        let info = embedded_model_info(&embedded_for(crate::platform::Platform::Illumina)).unwrap();
        assert_eq!(info.name, DEFAULT_MODEL);
        assert_eq!(info.sidecar["sha256"].as_str(), Some(info.sha256.as_str()));
    }

    #[test]
    fn test_platform_models() {
        use crate::platform::Platform;
        // Illumina keeps the default, byte for byte.
        let m = embedded_for(Platform::Illumina);
        assert_eq!(m.name, DEFAULT_MODEL);
        assert!(m.onnx == EMBEDDED_ONNX && m.sidecar == EMBEDDED_SIDECAR);
        for (p, m) in PLATFORM_MODELS {
            assert_ne!(*p, Platform::Illumina);
            let info = embedded_model_info(m).unwrap();
            assert_eq!(info.name, m.name, "{p}");
            assert_eq!(info.sidecar["sha256"].as_str(), Some(info.sha256.as_str()));
            assert_eq!(embedded_for(*p).name, m.name);
            assert!(has_platform_model(*p));
        }
        for p in [Platform::Hifi, Platform::OntR10, Platform::OntR9] {
            if !PLATFORM_MODELS.iter().any(|(q, _)| *q == p) {
                assert_eq!(embedded_for(p).name, DEFAULT_MODEL);
                assert!(!has_platform_model(p));
            }
        }
    }

    #[test]
    fn test_sidecar_min_alt_reads() {
        let with = |x: serde_json::Value| {
            let mut v: serde_json::Value = serde_json::from_str(EMBEDDED_SIDECAR).unwrap();
            v["calling"]["min_alt_reads"] = x;
            info_from(&v.to_string(), EMBEDDED_ONNX, Path::new("m.onnx"))
        };
        assert_eq!(
            embedded_model_info(&embedded_for(crate::platform::Platform::Illumina))
                .unwrap()
                .min_alt_reads,
            None
        );
        assert_eq!(with(serde_json::json!(1)).unwrap().min_alt_reads, Some(1));
        for bad in [
            serde_json::json!(0),
            serde_json::json!(-1),
            serde_json::json!(1.5),
            serde_json::json!("1"),
        ] {
            let err = format!("{:#}", with(bad.clone()).unwrap_err());
            assert!(err.contains("calling.min_alt_reads"), "{bad}: {err}");
        }
    }

    #[test]
    fn test_check_tensor_spec() {
        let good = tensors::spec_json();
        assert!(check_tensor_spec(&good).is_ok());
        let mut bad = good.clone();
        bad["shape"] = serde_json::json!([33, 24]);
        let err = check_tensor_spec(&bad).unwrap_err().to_string();
        assert!(err.contains("shape"), "{err}");
        let mut old = good;
        old["tensor_version"] = serde_json::json!(0);
        assert!(check_tensor_spec(&old).is_err());
    }
}
