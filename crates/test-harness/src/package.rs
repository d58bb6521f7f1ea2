//! The deploy package `scripts/package` writes to `dist/`: the zips and
//! manifest of Netlify's packager, and how the binaries were linked. Tests
//! build it once per process ([`Package::build`]) and read it back.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde::Deserialize;

use crate::lambda::{is_per_package_cargo_var, workspace_root};

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("could not run scripts/package: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("scripts/package failed ({status}):\n{output}")]
    Failed { status: String, output: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not what scripts/package writes: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{zip} holds no `{entry}`; run scripts/package again")]
    MissingEntry { zip: PathBuf, entry: &'static str },
    #[error("{path} is not a readable zip: {source}")]
    Zip {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
}

/// `dist/build-info.json`: how scripts/package linked the binaries.
#[derive(Debug, Clone, Deserialize)]
pub struct BuildInfo {
    /// `musl` or `static-glibc`.
    pub linkage: String,
    pub target: String,
    pub rustc: String,
    pub functions: usize,
}

/// `dist/functions/manifest.json`, as zip-it-and-ship-it writes it.
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub functions: Vec<ManifestFunction>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestFunction {
    pub name: String,
    pub runtime: String,
    /// The zip.
    pub path: PathBuf,
    #[serde(default)]
    pub schedule: Option<String>,
    pub main_file: PathBuf,
}

/// One file in a function's zip.
#[derive(Debug, Clone)]
pub struct ZipEntry {
    pub name: String,
    /// Unix permission bits, when the zip records them.
    pub mode: Option<u32>,
    pub bytes: Vec<u8>,
}

impl ZipEntry {
    pub fn is_executable(&self) -> bool {
        self.mode.is_some_and(|mode| mode & 0o111 != 0)
    }
}

#[derive(Debug, Clone)]
pub struct Package {
    /// `<repo>/dist`.
    pub dir: PathBuf,
    pub build_info: BuildInfo,
    pub manifest: Manifest,
}

static BUILT: OnceLock<Result<Package, String>> = OnceLock::new();

impl Package {
    /// Runs `scripts/package` once per process (a release build of every
    /// function, cargo's no-op when fresh, then the packager) and reads
    /// what it wrote. Panics with the script's output when it fails.
    pub fn build() -> Package {
        BUILT
            .get_or_init(|| {
                run_package_script()
                    .and_then(|()| Package::read(&workspace_root().join("dist")))
                    .map_err(|e| e.to_string())
            })
            .clone()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Reads a package already in `dir`.
    pub fn read(dir: &Path) -> Result<Package, PackageError> {
        Ok(Package {
            dir: dir.to_owned(),
            build_info: read_json(&dir.join("build-info.json"))?,
            manifest: read_json(&dir.join("functions").join("manifest.json"))?,
        })
    }

    /// `dist/functions`, where the zips and the manifest are.
    pub fn functions_dir(&self) -> PathBuf {
        self.dir.join("functions")
    }

    pub fn function(&self, name: &str) -> Option<&ManifestFunction> {
        self.manifest.functions.iter().find(|f| f.name == name)
    }

    /// Extracts `bootstrap` of `function` to `<into>/<function>/bootstrap`
    /// (executable) and returns its path.
    pub fn extract_bootstrap(&self, function: &str, into: &Path) -> Result<PathBuf, PackageError> {
        let zip = self.functions_dir().join(format!("{function}.zip"));
        let entry = read_zip(&zip)?
            .into_iter()
            .find(|e| e.name == "bootstrap")
            .ok_or_else(|| PackageError::MissingEntry {
                zip: zip.clone(),
                entry: "bootstrap",
            })?;
        let dir = into.join(function);
        let path = dir.join("bootstrap");
        let write = || -> std::io::Result<()> {
            use std::os::unix::fs::PermissionsExt;
            std::fs::create_dir_all(&dir)?;
            std::fs::write(&path, &entry.bytes)?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        };
        write().map_err(|source| PackageError::Read {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }
}

/// Every file in the zip at `path`, in order.
pub fn read_zip(path: &Path) -> Result<Vec<ZipEntry>, PackageError> {
    let zip_error = |source| PackageError::Zip {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(|source| PackageError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut archive = zip::ZipArchive::new(file).map_err(zip_error)?;
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).map_err(zip_error)?;
            let name = file.name().map_err(zip_error)?.into_owned();
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)
                .map_err(|source| PackageError::Read {
                    path: path.join(&name),
                    source,
                })?;
            Ok(ZipEntry {
                mode: file.unix_mode(),
                name,
                bytes,
            })
        })
        .collect()
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, PackageError> {
    let bytes = std::fs::read(path).map_err(|source| PackageError::Read {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| PackageError::Json {
        path: path.to_owned(),
        source,
    })
}

fn run_package_script() -> Result<(), PackageError> {
    let root = workspace_root();
    let mut command = Command::new("bash");
    command
        .arg(root.join("scripts/package"))
        .current_dir(&root)
        .stdin(Stdio::null());
    // As for the harness's own builds: `cargo test`'s per-package variables
    // would change fingerprints and rebuild everything next time.
    for (name, _) in std::env::vars_os() {
        if is_per_package_cargo_var(&name.to_string_lossy()) {
            command.env_remove(name);
        }
    }
    let output = command.output().map_err(PackageError::Spawn)?;
    if !output.status.success() {
        return Err(PackageError::Failed {
            status: output.status.to_string(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        });
    }
    Ok(())
}
