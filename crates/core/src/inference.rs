//! Stage: inference. Loading ONNX Runtime, opening sessions on CPU or CUDA, running batches.
//!
//! ONNX Runtime is loaded at run time (`ort`'s `load-dynamic`), so the binary carries no
//! native ML library; [`locate_onnxruntime`] finds one the way a user would expect.
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{bail, Context, Result};
use ort::session::{builder::GraphOptimizationLevel, Session};

/// Where inference runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Device {
    /// ONNX Runtime's CPU provider.
    #[default]
    Cpu,
    /// ONNX Runtime's CUDA provider (build with `--features cuda`, install `onnxruntime-gpu`).
    Cuda,
}

/// Environment variable naming the libonnxruntime shared library file itself.
pub const ORT_DYLIB_ENV: &str = "ORT_DYLIB_PATH";

/// The ONNX Runtime release the shipped model and `ort` are built for.
pub const ORT_VERSION: &str = "1.31.1";

/// Find libonnxruntime, first match wins:
/// 1. `$ORT_DYLIB_PATH` (the library file itself);
/// 2. beside the executable, or in `../lib` from its folder (`make install PREFIX=...`);
/// 3. a `.venv` in a folder above the executable (a checkout's `target/release/varstream`
///    finds the checkout's `.venv` made by `make setup`), in the working directory, or in
///    `$HOME` (`~/.venv`, the install hint's venv);
/// 4. an activated `$VIRTUAL_ENV`, or `pip install --user` (`~/.local`);
/// 5. the `onnxruntime` package `python3` on `PATH` would import (located, not imported).
pub fn locate_onnxruntime() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(ORT_DYLIB_ENV) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
        bail!(
            "{ORT_DYLIB_ENV}={} does not name a file (it must name the library file itself, \
             not its folder); {}",
            p.display(),
            install_hint(std::env::current_exe().ok().as_deref())
        );
    }
    let exe = std::env::current_exe().ok();
    let exe_dir = exe.as_deref().and_then(Path::parent);
    if let Some(dir) = exe_dir {
        for d in [dir.to_path_buf(), dir.join("../lib")] {
            if let Some(p) = find_lib_in(&d) {
                return Ok(p);
            }
        }
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(exe) = &exe {
        roots.extend(exe.ancestors().skip(1).map(Path::to_path_buf));
    }
    roots.extend(std::env::current_dir().ok());
    roots.extend(home.clone());
    let mut venvs: Vec<PathBuf> = roots.iter().map(|r| r.join(".venv")).collect();
    // An activated virtualenv, then `pip install --user` (same lib/pythonX.Y layout).
    venvs.extend(std::env::var_os("VIRTUAL_ENV").map(PathBuf::from));
    venvs.extend(home.map(|h| h.join(".local")));
    for venv in &venvs {
        if let Some(p) = find_in_venv(venv) {
            return Ok(p);
        }
    }
    if let Some(p) = python_onnxruntime().and_then(|pkg| find_lib_in(&pkg.join("capi"))) {
        return Ok(p);
    }
    bail!(
        "ONNX Runtime library (libonnxruntime.so.{ORT_VERSION}) not found: {ORT_DYLIB_ENV} is \
         unset, and there is none beside the executable or in ../lib from it, in a .venv above \
         it, in the working directory or in ~, in $VIRTUAL_ENV or ~/.local, nor in python3's \
         onnxruntime package; {}",
        install_hint(exe.as_deref())
    )
}

/// What to run to get ONNX Runtime, for this executable: `make setup` in a checkout, else a
/// venv in the home folder (where [`locate_onnxruntime`] looks; `pip install --user` is
/// refused by Debian 12's system Python) or a copy of the library in `../lib`.
fn install_hint(exe: Option<&Path>) -> String {
    let checkout = exe.and_then(|e| {
        e.ancestors()
            .skip(1)
            .find(|d| d.join("scripts/setup.sh").is_file() && d.join("Cargo.toml").is_file())
    });
    if let Some(root) = checkout {
        return format!(
            "fix: run `make setup` in {} (it creates .venv there with the PyPI onnxruntime=={ORT_VERSION} \
             wheel), or set {ORT_DYLIB_ENV} to a libonnxruntime.so.{ORT_VERSION} file",
            root.display()
        );
    }
    let lib_dir = exe
        .and_then(Path::parent)
        .and_then(Path::parent)
        .map(|p| p.join("lib").display().to_string())
        .unwrap_or_else(|| "../lib beside the executable's folder".into());
    format!(
        "fix: `python3 -m venv ~/.venv && ~/.venv/bin/pip install onnxruntime=={ORT_VERSION}` \
         (found there), or copy libonnxruntime.so.{ORT_VERSION} into {lib_dir}, or set \
         {ORT_DYLIB_ENV} to the library file"
    )
}

/// The folder of the `onnxruntime` package that `python3` would import, found with
/// `importlib.util.find_spec`, which does not run the package (fast, no side effects).
fn python_onnxruntime() -> Option<PathBuf> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import importlib.util as u\n\
             s = u.find_spec('onnxruntime')\n\
             print(s.submodule_search_locations[0] if s and s.submodule_search_locations else '')",
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let dir = String::from_utf8(out.stdout).ok()?;
    let dir = dir.trim();
    (out.status.success() && !dir.is_empty()).then(|| PathBuf::from(dir))
}

fn find_in_venv(venv: &Path) -> Option<PathBuf> {
    let lib = venv.join("lib");
    let mut pythons: Vec<PathBuf> = std::fs::read_dir(&lib)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("python"))
        })
        .collect();
    pythons.sort();
    pythons
        .iter()
        .find_map(|py| find_lib_in(&py.join("site-packages/onnxruntime/capi")))
}

fn find_lib_in(dir: &Path) -> Option<PathBuf> {
    let mut libs: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                n.starts_with("libonnxruntime.so") || n == "libonnxruntime.dylib"
            })
        })
        .collect();
    // Prefer the fully versioned file (libonnxruntime.so.1.31.1) over bare symlinks.
    libs.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
    libs.into_iter().next()
}

static ENVIRONMENT: OnceLock<std::result::Result<ort::environment::Environment, String>> =
    OnceLock::new();

/// Load ONNX Runtime once per process and return its environment.
pub fn environment() -> Result<&'static ort::environment::Environment> {
    let env = ENVIRONMENT.get_or_init(|| {
        let lib = locate_onnxruntime().map_err(|e| format!("{e:#}"))?;
        log::debug!("loading ONNX Runtime from {}", lib.display());
        let built = ort::init_from(&lib)
            .map_err(|e| format!("cannot load ONNX Runtime from {}: {e}", lib.display()))?
            .with_name("varstream")
            .build()
            .map_err(|e| format!("cannot start ONNX Runtime from {}: {e}", lib.display()))?;
        Ok(built)
    });
    env.as_ref().map_err(|e| anyhow::anyhow!("{e}"))
}

/// An ONNX model with one float input and (at least) one float output.
pub struct OnnxModel {
    session: Session,
    input_name: String,
    output_name: String,
    path: PathBuf,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel")
            .field("path", &self.path)
            .finish()
    }
}

// NB: builder errors in ort are not Send + Sync, so the chain lives in a function returning
// `ort::Result` and is converted to anyhow once, with the file name attached.
/// Where a session's model comes from.
enum Source<'a> {
    File(&'a Path),
    Memory(&'a [u8]),
}

fn build_session(
    env: &ort::environment::Environment,
    source: Source<'_>,
    device: Device,
    intra_threads: usize,
) -> ort::Result<Session> {
    let builder = Session::builder(env)?
        .with_optimization_level(GraphOptimizationLevel::Level3)?
        .with_intra_threads(intra_threads.max(1))?
        .with_inter_threads(1)?
        // Spinning ORT threads would compete with the pileup workers for the same cores.
        .with_intra_op_spinning(false)?;
    let mut builder = match device {
        Device::Cpu => builder,
        Device::Cuda => with_cuda(builder)?,
    };
    match source {
        Source::File(path) => builder.commit_from_file(path),
        Source::Memory(bytes) => builder.commit_from_memory(bytes),
    }
}

#[cfg(feature = "cuda")]
fn with_cuda(
    builder: ort::session::builder::SessionBuilder,
) -> ort::Result<ort::session::builder::SessionBuilder> {
    use ort::ep::cuda::ConvAlgorithmSearch;
    // Reproducibility over the last bit of speed: ORT's default cuDNN search benchmarks every
    // convolution algorithm per batch shape, so the algorithm (and the float rounding) can
    // change from run to run; TF32 would round inputs to 10 mantissa bits. See
    // benches/results/gpu.md for what remains different from the CPU.
    let cuda = ort::ep::CUDA::default()
        .with_tf32(false)
        .with_conv_algorithm_search(ConvAlgorithmSearch::Default)
        .build()
        // error_on_failure: without it ORT silently falls back to the CPU.
        .error_on_failure();
    Ok(builder
        .with_deterministic_compute(true)?
        .with_execution_providers([cuda])?)
}

#[cfg(not(feature = "cuda"))]
fn with_cuda(
    _builder: ort::session::builder::SessionBuilder,
) -> ort::Result<ort::session::builder::SessionBuilder> {
    Err(ort::Error::new(
        "this varstream was built without CUDA support: rebuild with `cargo build --release \
         --features cuda` and install the `onnxruntime-gpu` wheel (its libonnxruntime)",
    ))
}

impl OnnxModel {
    /// Open `path` on `device` with `intra_threads` ONNX Runtime threads.
    pub fn load(path: &Path, device: Device, intra_threads: usize) -> Result<Self> {
        if !path.is_file() {
            bail!("model file {} does not exist", path.display());
        }
        Self::open(Source::File(path), path, device, intra_threads)
    }

    /// Open a model held in memory; `label` names it in messages.
    pub fn load_from_memory(
        bytes: &[u8],
        label: &Path,
        device: Device,
        intra_threads: usize,
    ) -> Result<Self> {
        Self::open(Source::Memory(bytes), label, device, intra_threads)
    }

    fn open(source: Source<'_>, path: &Path, device: Device, intra_threads: usize) -> Result<Self> {
        // NB: load ONNX Runtime before anything can build an `ort::Error`: constructing one
        // calls into the library and panics when it is missing.
        let env = environment()?;
        let session = build_session(env, source, device, intra_threads).map_err(|e| {
            let hint = match (device, cfg!(feature = "cuda"), locate_onnxruntime()) {
                (Device::Cuda, true, Ok(lib)) => format!(
                    " (the ONNX Runtime loaded from {} has no usable CUDA provider: install the \
                     `onnxruntime-gpu` wheel, set ORT_DYLIB_PATH to its libonnxruntime, and check \
                     that a GPU is present and that the CUDA libraries its provider links \
                     (onnxruntime-gpu 1.31: libcudart.so.13, libcublas.so.13, libcublasLt.so.13, \
                     libcurand.so.10, and libcudnn.so.9 at run time, e.g. from the nvidia-*-cu13 \
                     wheels) are on LD_LIBRARY_PATH)",
                    lib.display()
                ),
                _ => String::new(),
            };
            anyhow::anyhow!(
                "cannot open model {} on {device:?}: {e}{hint}",
                path.display()
            )
        })?;
        let input_name = session
            .inputs()
            .first()
            .map(|o| o.name().to_string())
            .with_context(|| format!("model {} has no inputs", path.display()))?;
        let output_name = session
            .outputs()
            .first()
            .map(|o| o.name().to_string())
            .with_context(|| format!("model {} has no outputs", path.display()))?;
        Ok(Self {
            session,
            input_name,
            output_name,
            path: path.to_path_buf(),
        })
    }

    /// Check the graph against what the caller will feed it and read from it: one float
    /// input of rank `1 + input.len()` whose fixed dimensions equal `input` (after the batch
    /// axis), and a float first output of `[batch, outputs]`. A model exported for another
    /// tensor spec fails here, naming the file and the mismatch, instead of at the first batch.
    pub fn check_signature(&self, input: &[usize], outputs: usize) -> Result<()> {
        let describe = |o: &ort::value::Outlet| match o.dtype() {
            ort::value::ValueType::Tensor { ty, shape, .. } => {
                (Some(*ty), shape.iter().copied().collect::<Vec<i64>>())
            }
            _ => (None, Vec::new()),
        };
        let fits = |want: &[usize], got: &[i64]| {
            got.len() == want.len() + 1
                && want
                    .iter()
                    .zip(&got[1..])
                    .all(|(&w, &g)| g < 0 || g as usize == w)
        };
        let f32_ty = ort::value::TensorElementType::Float32;
        let ins = self.session.inputs();
        let (ty, shape) = describe(&ins[0]);
        if ins.len() != 1 || ty != Some(f32_ty) || !fits(input, &shape) {
            bail!(
                "model {} does not fit this caller: its input {} is {:?} {shape:?} ({} input(s)),                  but varstream feeds one float tensor [batch, {}]; was it exported for another tensor version?",
                self.path.display(),
                ins[0].name(),
                ty,
                ins.len(),
                input.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
            );
        }
        let (ty, shape) = describe(&self.session.outputs()[0]);
        if ty != Some(f32_ty) || !fits(&[outputs], &shape) {
            bail!(
                "model {} does not fit this caller: its output {} is {:?} {shape:?}, but varstream                  reads a float tensor [batch, {outputs}]",
                self.path.display(),
                self.output_name,
                ty
            );
        }
        Ok(())
    }

    /// The model file this session was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Run one batch: `input` is row-major with `shape` (first axis = batch). Returns the first
    /// output's shape and values.
    pub fn run(&mut self, input: &[f32], shape: &[usize]) -> Result<(Vec<usize>, Vec<f32>)> {
        let expected: usize = shape.iter().product();
        if expected != input.len() {
            bail!(
                "bug: input of {} values does not fill shape {shape:?}",
                input.len()
            );
        }
        let tensor = ort::value::TensorRef::from_array_view((shape.to_vec(), input))
            .map_err(|e| anyhow::anyhow!("cannot build input tensor {shape:?}: {e}"))?;
        let outputs = self
            .session
            .run(ort::inputs![self.input_name.as_str() => tensor])
            .map_err(|e| anyhow::anyhow!("inference failed on {}: {e}", self.path.display()))?;
        let (out_shape, values) = outputs[self.output_name.as_str()]
            .try_extract_tensor::<f32>()
            .map_err(|e| anyhow::anyhow!("model {} output is not f32: {e}", self.path.display()))?;
        let dims = out_shape.iter().map(|&d| d.max(0) as usize).collect();
        Ok((dims, values.to_vec()))
    }
}
