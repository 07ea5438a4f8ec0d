//! The only module that spawns threads or makes channels.
//!
//! Shards flow from a producer to `workers` threads over a bounded queue. For each shard the
//! producer also queues a one-shot receiver to the consumer (the calling thread), in shard
//! order, so results come out in genomic order whatever finishes first, and at most
//! `2 × workers + 2` shards are ever in flight: memory is bounded by the shard size, not by
//! the region. Inference runs on its own thread, batching examples from several shards.
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{anyhow, Result};
use crossbeam_channel::{bounded, Receiver, Sender};

use crate::inference::OnnxModel;
use crate::regions::Shard;

/// Run `work` on every shard with `workers` threads, each with its own state from `init`
/// (e.g. an open BAM), and hand results to `sink` in shard order. The first error anywhere
/// stops the run and is returned; a panicking worker is an error too.
pub fn run_ordered<S, T, I, W, K>(
    shards: &[Shard],
    workers: usize,
    init: I,
    work: W,
    mut sink: K,
) -> Result<()>
where
    T: Send,
    I: Fn() -> Result<S> + Sync,
    W: Fn(&mut S, &Shard) -> Result<T> + Sync,
    K: FnMut(&Shard, T) -> Result<()>,
{
    let workers = workers.max(1);
    let cancel = AtomicBool::new(false);
    let (job_tx, job_rx) = bounded::<(&Shard, Sender<Result<T>>)>(workers);
    let (slot_tx, slot_rx) = bounded::<(&Shard, Receiver<Result<T>>)>(workers + 2);
    std::thread::scope(|scope| -> Result<()> {
        let cancel = &cancel;
        scope.spawn(move || {
            for shard in shards {
                if cancel.load(Ordering::Relaxed) {
                    break;
                }
                let (tx, rx) = bounded(1);
                if slot_tx.send((shard, rx)).is_err() || job_tx.send((shard, tx)).is_err() {
                    break;
                }
            }
        });
        for _ in 0..workers {
            let job_rx = job_rx.clone();
            let (init, work) = (&init, &work);
            scope.spawn(move || {
                let mut state = match init() {
                    Ok(s) => Some(s),
                    Err(e) => {
                        // Report the failure on the first shard this worker is handed.
                        if let Ok((_, tx)) = job_rx.recv() {
                            let _ = tx.send(Err(e));
                        }
                        None
                    }
                };
                let Some(state) = state.as_mut() else { return };
                for (shard, tx) in job_rx.iter() {
                    if cancel.load(Ordering::Relaxed) {
                        break;
                    }
                    let r = work(state, shard);
                    let failed = r.is_err();
                    let _ = tx.send(r);
                    if failed {
                        break;
                    }
                }
            });
        }
        drop(job_rx);
        let result = (|| {
            for (shard, rx) in slot_rx.iter() {
                let r = rx.recv().map_err(|_| {
                    anyhow!("a worker stopped without a result for {}", shard.interval)
                })?;
                sink(shard, r?)?;
            }
            Ok(())
        })();
        if result.is_err() {
            cancel.store(true, Ordering::Relaxed);
        }
        drop(slot_rx);
        result
    })
}

/// A batch of examples sent to the inference thread, answered with one probability row each.
pub struct InferRequest {
    /// Row-major examples.
    pub data: Vec<f32>,
    /// Where to send the probabilities.
    pub reply: Sender<Result<Vec<[f32; 3]>>>,
}

/// Handle for workers to ask the inference thread for probabilities.
#[derive(Clone)]
pub struct InferClient {
    tx: Sender<InferRequest>,
}

impl InferClient {
    /// Probabilities for `data` (`example_len` values per example); blocks until answered.
    pub fn infer(&self, data: Vec<f32>) -> Result<Vec<[f32; 3]>> {
        if data.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, rx) = bounded(1);
        self.tx
            .send(InferRequest { data, reply })
            .map_err(|_| anyhow!("the inference thread has stopped"))?;
        rx.recv()
            .map_err(|_| anyhow!("the inference thread has stopped"))?
    }
}

/// Run `body` with an inference thread serving `model` in batches of up to `batch_size`
/// examples of `example_shape` (without the batch axis).
pub fn with_inference<R>(
    mut model: OnnxModel,
    example_shape: &[usize],
    batch_size: usize,
    body: impl FnOnce(InferClient) -> Result<R>,
) -> Result<R> {
    let shape = example_shape.to_vec();
    let example_len: usize = example_shape.iter().product();
    with_batches(
        move |data: &[f32]| run_batches(&mut model, data, &shape, batch_size),
        example_len,
        batch_size,
        body,
    )
}

/// [`with_inference`] when there is a model; `body` gets `None` otherwise.
pub fn with_optional_inference<R>(
    model: Option<OnnxModel>,
    example_shape: &[usize],
    batch_size: usize,
    body: impl FnOnce(Option<InferClient>) -> Result<R>,
) -> Result<R> {
    match model {
        Some(m) => with_inference(m, example_shape, batch_size, |c| body(Some(c))),
        None => body(None),
    }
}

/// [`with_inference`] over any batch function (`example_len` values per example in, one
/// probability row per example out): tests drive it with closures that fail.
pub fn with_batches<R>(
    mut infer: impl FnMut(&[f32]) -> Result<Vec<[f32; 3]>> + Send,
    example_len: usize,
    batch_size: usize,
    body: impl FnOnce(InferClient) -> Result<R>,
) -> Result<R> {
    let (tx, rx) = bounded::<InferRequest>(64);
    std::thread::scope(|scope| {
        let server = scope.spawn(move || -> Result<()> {
            while let Ok(first) = rx.recv() {
                // Gather whatever else is already waiting, up to one batch.
                let mut reqs = vec![first];
                let mut n = reqs[0].data.len() / example_len;
                while n < batch_size {
                    match rx.try_recv() {
                        Ok(r) => {
                            n += r.data.len() / example_len;
                            reqs.push(r);
                        }
                        Err(_) => break,
                    }
                }
                let data: Vec<f32> = reqs.iter().flat_map(|r| r.data.iter().copied()).collect();
                match infer(&data) {
                    Ok(probs) if probs.len() == n => {
                        let mut off = 0;
                        for r in reqs {
                            let k = r.data.len() / example_len;
                            let _ = r.reply.send(Ok(probs[off..off + k].to_vec()));
                            off += k;
                        }
                    }
                    result => {
                        let e = match result {
                            Err(e) => e,
                            Ok(p) => {
                                anyhow!("the model returned {} rows for {n} examples", p.len())
                            }
                        };
                        let msg = format!("{e:#}");
                        for r in reqs {
                            let _ = r.reply.send(Err(anyhow!("{msg}")));
                        }
                        // Fail every request still queued or yet to come, until the workers
                        // drop their clients: a request left in the queue would keep its
                        // worker waiting for ever.
                        while let Ok(r) = rx.recv() {
                            let _ = r.reply.send(Err(anyhow!("{msg}")));
                        }
                        return Err(e);
                    }
                }
            }
            Ok(())
        });
        let out = body(InferClient { tx });
        // `body` dropped its client: the server's queue closes and it returns.
        let served = server
            .join()
            .map_err(|_| anyhow!("the inference thread panicked"))?;
        match (out, served) {
            // The inference error is the cause; the workers' copies only repeat it.
            (_, Err(e)) => Err(e),
            (Err(e), Ok(())) => Err(e),
            (Ok(v), Ok(())) => Ok(v),
        }
    })
}

fn run_batches(
    model: &mut OnnxModel,
    data: &[f32],
    example_shape: &[usize],
    batch_size: usize,
) -> Result<Vec<[f32; 3]>> {
    let example_len: usize = example_shape.iter().product();
    let mut out = Vec::with_capacity(data.len() / example_len);
    for chunk in data.chunks(batch_size * example_len) {
        let n = chunk.len() / example_len;
        let mut shape = vec![n];
        shape.extend_from_slice(example_shape);
        let (oshape, values) = model.run(chunk, &shape)?;
        if oshape != [n, 3] {
            anyhow::bail!(
                "model {} returned shape {oshape:?}, expected [{n}, 3]",
                model.path().display()
            );
        }
        out.extend(values.chunks_exact(3).map(|c| [c[0], c[1], c[2]]));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regions::{shard, Interval};

    fn shards(n: u64) -> Vec<Shard> {
        shard(
            &[Interval {
                contig: "c".into(),
                start: 0,
                end: n,
            }],
            1,
        )
    }

    #[test]
    fn test_run_ordered_keeps_order_for_any_thread_count() {
        let s = shards(200);
        for workers in [1, 2, 7] {
            let mut got = Vec::new();
            run_ordered(
                &s,
                workers,
                || Ok(()),
                |_, sh| {
                    // Make later shards finish first sometimes.
                    if sh.index % 3 == 0 {
                        std::thread::sleep(std::time::Duration::from_micros(200));
                    }
                    Ok(sh.index)
                },
                |_, v| {
                    got.push(v);
                    Ok(())
                },
            )
            .unwrap();
            assert_eq!(got, (0..200).collect::<Vec<_>>());
        }
    }

    #[test]
    fn test_worker_error_fails_the_run_and_stops_output() {
        let s = shards(100);
        let mut got = Vec::new();
        let err = run_ordered(
            &s,
            2,
            || Ok(()),
            |_, sh| {
                if sh.index == 10 {
                    anyhow::bail!("boom at {}", sh.interval)
                } else {
                    Ok(sh.index)
                }
            },
            |_, v| {
                got.push(v);
                Ok(())
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("boom at c:11-11"), "{err}");
        assert_eq!(got, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn test_worker_panic_is_an_error() {
        let s = shards(20);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_ordered(
                &s,
                2,
                || Ok(()),
                |_, sh| {
                    if sh.index == 5 {
                        panic!("worker died")
                    } else {
                        Ok(())
                    }
                },
                |_, _| Ok(()),
            )
        }));
        // Either the scope re-raises the panic or the run reports the missing result;
        // both stop the caller from writing a complete-looking file.
        if let Ok(res) = r {
            assert!(res.is_err());
        }
    }

    #[test]
    fn test_failed_batch_fails_every_waiting_worker_and_the_run() {
        // The model fails on its second batch while other workers' requests are queued:
        // every worker gets the error, none waits for ever, and the run returns the cause.
        let s = shards(400);
        let (done_tx, done_rx) = bounded::<Result<()>>(1);
        std::thread::spawn(move || {
            let mut calls = 0;
            let r = with_batches(
                move |data: &[f32]| {
                    calls += 1;
                    std::thread::sleep(std::time::Duration::from_millis(2));
                    if calls >= 2 {
                        anyhow::bail!("ONNX Runtime: bad input shape");
                    }
                    Ok(vec![[0.0, 1.0, 0.0]; data.len()])
                },
                1,
                1,
                |client| {
                    run_ordered(
                        &s,
                        4,
                        || Ok(()),
                        |_, sh| client.infer(vec![sh.index as f32]),
                        |_, _| Ok(()),
                    )
                },
            );
            let _ = done_tx.send(r.map(|_| ()));
        });
        let r = done_rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the run hung after a failed batch");
        let e = r.unwrap_err();
        assert!(format!("{e:#}").contains("bad input shape"), "{e:#}");
    }

    #[test]
    fn test_init_failure_is_reported() {
        let s = shards(5);
        let err = run_ordered(
            &s,
            2,
            || -> Result<()> { anyhow::bail!("cannot open BAM") },
            |_, _| Ok(()),
            |_, _: ()| Ok(()),
        )
        .unwrap_err();
        assert!(err.to_string().contains("cannot open BAM"));
    }
}
