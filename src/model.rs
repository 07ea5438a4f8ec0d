//! The genotyping model: its ONNX file, its JSON sidecar, and the check that the sidecar's
//! tensor layout is the one this build encodes.
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::tensors;

/// File stem of the model shipped in `models/`.
pub const DEFAULT_MODEL: &str = "varstream-v1";

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
    /// The whole sidecar.
    pub sidecar: serde_json::Value,
}

/// The sidecar path of a model: `X.onnx` → `X.json`.
pub fn sidecar_path(model: &Path) -> PathBuf {
    model.with_extension("json")
}

/// Find the default model: `models/` beside the executable's ancestors or the working directory.
pub fn default_model_path() -> Result<PathBuf> {
    let file = format!("models/{DEFAULT_MODEL}.onnx");
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(exe.ancestors().skip(1).map(Path::to_path_buf));
    }
    if let Ok(cwd) = std::env::current_dir() {
        roots.push(cwd);
    }
    roots
        .iter()
        .map(|r| r.join(&file))
        .find(|p| p.is_file())
        .with_context(|| {
            format!(
                "default model {file} not found beside the executable or here; pass --model FILE"
            )
        })
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
    let v: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("model sidecar {} is not JSON", side.display()))?;
    check_tensor_spec(&v["tensor"]).with_context(|| {
        format!(
            "model {} was trained on another tensor layout than this varstream builds",
            model.display()
        )
    })?;
    let bytes =
        std::fs::read(model).with_context(|| format!("cannot read model {}", model.display()))?;
    let sha256 = format!("{:x}", Sha256::digest(&bytes));
    let name = v["name"].as_str().unwrap_or(DEFAULT_MODEL).to_string();
    let min_qual = v["calling"]["min_qual"].as_f64();
    Ok(ModelInfo {
        path: model.to_path_buf(),
        name,
        sha256,
        min_qual,
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
