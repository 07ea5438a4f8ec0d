//! Writing outputs: every file is written under a temporary name in its destination folder,
//! closed with its errors checked, and renamed into place only when complete. Destinations
//! are checked before any work starts, and an output that names an input is refused.
//! SIGINT and SIGTERM remove every temporary file still open.
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use anyhow::{Context, Result};

use crate::errors::input_error;

/// The 28-byte empty block that ends every complete BGZF file.
pub const BGZF_EOF: [u8; 28] = [
    0x1f, 0x8b, 0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x06, 0x00, 0x42, 0x43, 0x02, 0x00,
    0x1b, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];

/// `PREFIX` + `suffix` (appended, not `with_extension`, because prefixes often contain dots).
pub fn prefixed(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// `out.vcf.gz` → `out`, the prefix for files written beside the VCF.
pub fn output_prefix(vcf: &Path) -> PathBuf {
    let s = vcf.display().to_string();
    let stem = s
        .strip_suffix(".vcf.gz")
        .or_else(|| s.strip_suffix(".vcf"))
        .unwrap_or(&s);
    PathBuf::from(stem)
}

/// Temporary files not yet renamed into place; the signal handler removes them. Commits hold
/// the lock while they rename, so an interrupt never removes half of a finished pair.
static TEMPORARIES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

fn temporaries() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    TEMPORARIES.lock().unwrap_or_else(|e| e.into_inner())
}

/// On SIGINT or SIGTERM, remove every registered temporary file and exit 130 or 143.
/// Call once, early in `main`.
pub fn install_signal_handlers() -> Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
        .context("cannot install signal handlers")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let held = temporaries();
                for p in held.iter() {
                    let _ = std::fs::remove_file(p);
                }
                let name = if sig == SIGINT { "SIGINT" } else { "SIGTERM" };
                eprintln!("varstream: interrupted by {name}; temporary files removed");
                // Exit while holding the lock: no commit can rename after the cleanup.
                // `_exit`, not `std::process::exit`: the latter runs the C++ static
                // destructors of ONNX Runtime and htslib while the worker and inference
                // threads are still inside them, which can end the process with SIGSEGV
                // (exit 139) instead of 130/143.
                signal_hook::low_level::exit(128 + sig);
            }
        })
        .context("cannot start the signal thread")?;
    Ok(())
}

/// A registered temporary path: removed on drop unless [`TempPath::commit`] renamed it.
#[derive(Debug)]
pub struct TempPath {
    tmp: PathBuf,
    dest: PathBuf,
    done: bool,
}

impl TempPath {
    /// A fresh temporary name beside `dest` (`.NAME.tmpPID.N`), registered for cleanup.
    /// `suffix` is appended, for tools that choose a format by extension.
    pub fn new(dest: &Path, suffix: &str) -> Result<Self> {
        let name = dest
            .file_name()
            .ok_or_else(|| input_error(format!("output {} has no file name", dest.display())))?;
        let n = NEXT_TEMP.fetch_add(1, Ordering::Relaxed);
        let tmp = dest.with_file_name(format!(
            ".{}.tmp{}.{n}{suffix}",
            name.to_string_lossy(),
            std::process::id()
        ));
        temporaries().push(tmp.clone());
        Ok(Self {
            tmp,
            dest: dest.to_path_buf(),
            done: false,
        })
    }

    /// The temporary path.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// The final path.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Rename into place.
    pub fn commit(self) -> Result<()> {
        commit_all(vec![self])
    }
}

/// Rename several temporaries into place under one hold of the registry (e.g. an index and
/// its VCF), so an interrupt sees all or none of them renamed.
pub fn commit_all(mut paths: Vec<TempPath>) -> Result<()> {
    let mut held = temporaries();
    for p in &mut paths {
        std::fs::rename(&p.tmp, &p.dest).with_context(|| {
            format!("cannot rename {} to {}", p.tmp.display(), p.dest.display())
        })?;
        p.done = true;
        held.retain(|t| *t != p.tmp);
    }
    Ok(())
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
            temporaries().retain(|t| *t != self.tmp);
        }
    }
}

enum Sink {
    Plain(BufWriter<std::fs::File>),
    Gzip(flate2::write::GzEncoder<BufWriter<std::fs::File>>),
}

/// A text output written under a temporary name (gzip-compressed when the name ends in
/// `.gz`); [`OutputFile::commit`] finishes it, checks every close error and renames it.
/// Dropped without a commit, it leaves nothing behind.
pub struct OutputFile {
    sink: Option<Sink>,
    temp: TempPath,
}

impl OutputFile {
    /// Start writing `dest`.
    pub fn create(dest: &Path) -> Result<Self> {
        let temp = TempPath::new(dest, "")?;
        let f = std::fs::File::create(temp.path())
            .with_context(|| format!("cannot create {}", temp.path().display()))?;
        let w = BufWriter::new(f);
        let sink = if dest.extension().is_some_and(|e| e == "gz") {
            Sink::Gzip(flate2::write::GzEncoder::new(
                w,
                flate2::Compression::default(),
            ))
        } else {
            Sink::Plain(w)
        };
        Ok(Self {
            sink: Some(sink),
            temp,
        })
    }

    /// Flush, write the gzip trailer, sync to disk (a full disk shows up here at the latest)
    /// and rename into place.
    pub fn commit(self) -> Result<()> {
        self.finish()?.commit()
    }

    /// [`OutputFile::commit`] without the rename: the complete, synced temporary, for
    /// [`commit_all`] with the run's other outputs.
    pub fn finish(self) -> Result<TempPath> {
        let OutputFile { sink, temp } = self;
        let ctx = || format!("cannot write {}", temp.dest().display());
        let buffered = match sink.context("bug: commit twice")? {
            Sink::Plain(w) => w,
            Sink::Gzip(g) => g.finish().with_context(ctx)?,
        };
        let file = buffered
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(ctx)?;
        file.sync_all().with_context(ctx)?;
        drop(file);
        Ok(temp)
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.sink.as_mut() {
            Some(Sink::Plain(w)) => w.write(buf),
            Some(Sink::Gzip(g)) => g.write(buf),
            None => Err(std::io::Error::other("bug: write after commit")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.sink.as_mut() {
            Some(Sink::Plain(w)) => w.flush(),
            Some(Sink::Gzip(g)) => g.flush(),
            None => Ok(()),
        }
    }
}

/// Write a whole file from bytes, through a temporary.
pub fn write_file(dest: &Path, bytes: &[u8]) -> Result<()> {
    write_file_uncommitted(dest, bytes)?.commit()
}

/// [`write_file`] up to the rename, for [`commit_all`].
pub fn write_file_uncommitted(dest: &Path, bytes: &[u8]) -> Result<TempPath> {
    let mut out = OutputFile::create(dest)?;
    out.write_all(bytes)
        .with_context(|| format!("cannot write {}", dest.display()))?;
    out.finish()
}

/// Index files htslib and samtools keep beside an input.
const INDEX_SUFFIXES: [&str; 6] = [".bai", ".crai", ".csi", ".fai", ".gzi", ".tbi"];

/// `path` made absolute and resolved as far as it exists (the file itself may not).
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match (std::fs::canonicalize(parent), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

/// Outputs are regular files, written under a temporary name and renamed into place. An
/// existing output that is anything else (a FIFO, a device, `/dev/stdout`, a symbolic link)
/// would be replaced by that rename, not written to: refused, as is `-` (standard output,
/// which a bgzipped, indexed output cannot be).
fn check_regular(out: &Path) -> Result<()> {
    if out.as_os_str() == "-" {
        return Err(input_error(
            "output - (standard output) is not supported: outputs are indexed files; give a \
             file name",
        ));
    }
    let Ok(meta) = std::fs::symlink_metadata(out) else {
        return Ok(()); // does not exist yet
    };
    let t = meta.file_type();
    if t.is_file() || t.is_dir() {
        return Ok(()); // a folder is refused below, with its own message
    }
    use std::os::unix::fs::FileTypeExt as _;
    let kind = if t.is_symlink() {
        match std::fs::read_link(out) {
            Ok(to) => format!("a symbolic link to {}", to.display()),
            Err(_) => "a symbolic link".to_string(),
        }
    } else if t.is_fifo() {
        "a FIFO".to_string()
    } else if t.is_char_device() || t.is_block_device() {
        "a device".to_string()
    } else if t.is_socket() {
        "a socket".to_string()
    } else {
        "not a regular file".to_string()
    };
    Err(input_error(format!(
        "output {} is {kind}: outputs are written under a temporary name and renamed into \
         place, which would replace it; give the name of a regular file{}",
        out.display(),
        if t.is_symlink() {
            " (the link's target, to write there)"
        } else {
            ""
        }
    )))
}

/// Check, before any work starts, that each output can be written: its folder exists and
/// accepts a new file, and it names no input nor an input's index (`x.bam.bai`, `x.bai`,
/// `ref.fa.fai`, ...). All of these are the user's to fix, so they are input errors.
pub fn check_outputs(outputs: &[PathBuf], inputs: &[PathBuf]) -> Result<()> {
    let mut protected: Vec<(PathBuf, &Path)> = Vec::new();
    for input in inputs {
        let r = resolved(input);
        for s in INDEX_SUFFIXES {
            let mut with = r.clone().into_os_string();
            with.push(s);
            protected.push((PathBuf::from(with), input));
            protected.push((r.with_extension(&s[1..]), input));
        }
        protected.push((r, input));
    }
    for (i, out) in outputs.iter().enumerate() {
        check_regular(out)?;
        let r = resolved(out);
        // Two outputs of one run naming one file (a gVCF named as the VCF, or as its index).
        if let Some(other) = outputs[..i].iter().find(|o| resolved(o) == r) {
            return Err(input_error(format!(
                "output {} is also output {} of this run: choose another output name",
                out.display(),
                other.display()
            )));
        }
        if let Some((_, input)) = protected.iter().find(|(p, _)| *p == r) {
            return Err(input_error(format!(
                "output {} would overwrite input {}: choose another output name",
                out.display(),
                input.display()
            )));
        }
        let dir = out
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !dir.is_dir() {
            return Err(input_error(format!(
                "output folder {} of {} does not exist",
                dir.display(),
                out.display()
            )));
        }
        if out.is_dir() {
            return Err(input_error(format!(
                "output {} is a folder; give a file name",
                out.display()
            )));
        }
        // Permission bits do not tell (root, read-only mounts, ACLs): try it.
        let probe = TempPath::new(out, ".probe")?;
        match std::fs::File::create(probe.path()) {
            Ok(_) => drop(probe),
            Err(e) => {
                return Err(input_error(format!(
                    "cannot write to folder {} for output {}: {e}",
                    dir.display(),
                    out.display()
                )))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_output_file_appears_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("t.tsv.gz");
        {
            let mut o = OutputFile::create(&dest).unwrap();
            writeln!(o, "a\tb").unwrap();
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut o = OutputFile::create(&dest).unwrap();
        writeln!(o, "a\tb").unwrap();
        o.commit().unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("t.tsv.gz")]);
        let mut s = String::new();
        use std::io::Read;
        flate2::read::GzDecoder::new(std::fs::File::open(&dest).unwrap())
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "a\tb\n");
        assert!(temporaries().iter().all(|t| !t.starts_with(dir.path())));
    }

    #[test]
    fn test_outputs_naming_inputs_or_missing_folders_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let bam = dir.path().join("s.bam");
        std::fs::write(&bam, b"x").unwrap();
        let check = |o: &str| check_outputs(&[dir.path().join(o)], std::slice::from_ref(&bam));
        for bad in ["s.bam", "s.bam.bai", "s.bai", "s.bam.csi"] {
            let e = check(bad).unwrap_err();
            assert!(crate::errors::is_input(&e), "{bad}: {e:#}");
            assert!(format!("{e:#}").contains("would overwrite input"), "{e:#}");
        }
        let e = check_outputs(
            &[dir.path().join("a.vcf.gz"), dir.path().join("./a.vcf.gz")],
            std::slice::from_ref(&bam),
        )
        .unwrap_err();
        assert!(crate::errors::is_input(&e), "{e:#}");
        assert!(format!("{e:#}").contains("is also output"), "{e:#}");
        let e = check("no/such/out.vcf.gz").unwrap_err();
        assert!(format!("{e:#}").contains("does not exist"), "{e:#}");
        check("out.vcf.gz").unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
