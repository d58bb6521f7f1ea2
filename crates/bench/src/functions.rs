//! Each function's deployable binary, as `scripts/package` builds it
//! (`dist/prebuilt/<name>`: release, static, symbols kept): its size, its
//! cold start (process start to the first answer through the Lambda Runtime
//! API) and its peak memory. The first request carries no API key, so the
//! function answers 401 from its own code without touching Notion or Blobs:
//! what is measured is the process and runtime start, not a sync.

use std::path::{Path, PathBuf};
use std::time::Instant;

use test_harness::app::TestApp;
use test_harness::event::ApiEvent;
use test_harness::lambda::{workspace_root, FunctionProcess};

use crate::measure::BinaryFigures;
use crate::scenarios::{BenchError, Result};

/// Cold starts measured per function (the median is reported).
pub const COLD_STARTS: usize = 5;

/// `dist/prebuilt`, when scripts/package has filled it.
pub fn packaged_binaries() -> Option<PathBuf> {
    let dir = workspace_root().join("dist").join("prebuilt");
    dir.is_dir().then_some(dir)
}

/// Every function under netlify/functions, from its binary in `dir`.
pub async fn measure_all(app: &TestApp, dir: &Path) -> Result<Vec<BinaryFigures>> {
    let mut figures = Vec::new();
    for name in test_harness::site::function_names() {
        figures.push(measure(app, &name, &dir.join(&name)).await?);
    }
    Ok(figures)
}

async fn measure(app: &TestApp, name: &str, path: &Path) -> Result<BinaryFigures> {
    crate::scenarios::progress(&format!(
        "function binaries: {name}, {COLD_STARTS} cold starts"
    ));
    let step = format!("cold start of {name}");
    let size_bytes = std::fs::metadata(path)
        .map_err(|e| BenchError::Unexpected {
            step: step.clone(),
            message: format!("{}: {e}; run scripts/package", path.display()),
        })?
        .len();
    let env = app.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let function_error = |e| BenchError::Function {
        step: step.clone(),
        source: Box::new(e),
    };
    let mut cold_starts = Vec::with_capacity(COLD_STARTS);
    let mut peak_rss_kib = None;
    for _ in 0..COLD_STARTS {
        let started = Instant::now();
        let process = FunctionProcess::start_as(name, path, &env)
            .await
            .map_err(function_error)?;
        let answer = process
            .invoke(ApiEvent::get(&format!("/.netlify/functions/{name}")).build())
            .await
            .map_err(function_error)?;
        cold_starts.push(started.elapsed());
        if answer.status != 401 {
            return Err(BenchError::Unexpected {
                step,
                message: format!(
                    "expected 401 without the key, got {}: {}",
                    answer.status, answer.body
                ),
            });
        }
        let rss = process.pid().and_then(crate::scenarios::peak_rss_kib);
        peak_rss_kib = peak_rss_kib.max(rss);
    }
    Ok(BinaryFigures {
        function: name.to_string(),
        size_bytes,
        cold_starts,
        peak_rss_kib,
    })
}
