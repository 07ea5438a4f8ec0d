//! What every run over reads does first and last, in one place for `call`, `make-examples`
//! and `shards`: open the reference and the reads, choose the sample, find the contigs both
//! name, resolve the regions, check the reads' `@SQ M5` against the reference; and at the end,
//! refuse a run whose reads were aligned to another reference or none of whose reads could be
//! used.
use std::path::Path;
use std::sync::Arc;

use anyhow::Result;

use crate::errors::BadInput;
use crate::reads::{ReadCounts, ReadFilter, ReadSource};
use crate::reference::Reference;
use crate::regions::{self, Interval};
use crate::run_stats::{Coverage, RunStats, StatsCollector};
use crate::shard_stages::RefAgreement;

/// Whose reads a run reads.
#[derive(Debug, Clone, Copy)]
pub enum SampleChoice<'a> {
    /// One sample, as `call --sample` chooses it: a file of several samples needs the name,
    /// and only that sample's read groups are read ([`ReadSource::select_sample`]).
    One(Option<&'a str>),
    /// Every read, whatever its sample (`shards` only weighs work).
    AllReads,
}

/// A run's inputs, opened and checked against each other.
pub struct Preamble {
    /// The reference, shared by the workers.
    pub reference: Arc<Reference>,
    /// A first reader of the reads, with the sample chosen: the workers open their own
    /// with [`open_reads`].
    pub reads: ReadSource,
    /// The sample's name for the output (`SAMPLE` for reads without `SM`; with
    /// [`SampleChoice::AllReads`], that name or the first sample's).
    pub sample: String,
    /// Contigs (name, length) of both the reads and the reference, in the reference's order.
    pub callable: Vec<(String, u64)>,
    /// The regions to work on: `--region`s and the BED, merged, on callable contigs.
    pub intervals: Vec<Interval>,
}

impl Preamble {
    /// Open `reference` and `reads`, choose the sample and resolve `regions` and `bed` on the
    /// contigs both name. A bad input is a one-line error naming it (exit 2).
    pub fn open(
        reference: &Path,
        reads: &Path,
        sample: SampleChoice,
        regions: &[String],
        bed: Option<&Path>,
    ) -> Result<Self> {
        let fasta = Arc::new(Reference::open(reference).bad_input()?);
        let (source, sample) = open_reads(reads, reference, sample)?;
        let callable = regions::callable_contigs(&source.contigs(), &fasta, reads)?;
        let intervals = regions::resolve(regions, bed, &callable)?;
        regions::check_contig_md5s(&source.contig_md5s(), &intervals, &fasta, reads)?;
        Ok(Self {
            reference: fasta,
            reads: source,
            sample,
            callable,
            intervals,
        })
    }
}

/// Open the reads (CRAM decoded against `reference`) and choose the sample: what each
/// worker does for its own reader.
pub fn open_reads(
    reads: &Path,
    reference: &Path,
    sample: SampleChoice,
) -> Result<(ReadSource, String)> {
    let mut source = ReadSource::open(reads, reference)?;
    let name = match sample {
        SampleChoice::One(wanted) => source.select_sample(wanted)?,
        SampleChoice::AllReads => source
            .samples()
            .into_iter()
            .next()
            .unwrap_or_else(|| "SAMPLE".to_string()),
    };
    Ok((source, name))
}

/// What the shards' reads showed, gathered in shard order, for the checks at the end of a run.
pub struct ReadsUsed {
    stats: StatsCollector,
    agreement: RefAgreement,
    bases: u64,
}

impl ReadsUsed {
    /// Nothing seen yet over `intervals`.
    pub fn new(intervals: &[Interval]) -> Self {
        Self {
            stats: StatsCollector::new(intervals),
            agreement: RefAgreement::default(),
            bases: intervals.iter().map(|i| i.end - i.start).sum(),
        }
    }

    /// One shard's depth, read counts and agreement with the reference.
    pub fn add(
        &mut self,
        contig: &str,
        coverage: &Coverage,
        reads: &ReadCounts,
        agreement: &RefAgreement,
    ) {
        self.stats.add(contig, coverage, reads);
        self.agreement.add(agreement);
    }

    /// The run's statistics, or the error that the run must end with: reads that disagree
    /// with the reference far beyond sequencing error (exit 2), or reads seen and none used
    /// ([`crate::errors::NothingUsable`], exit 3). `what` says what is not written ("no VCF
    /// written").
    pub fn finish(
        self,
        sample: &str,
        filter: &ReadFilter,
        reads: &Path,
        reference: &Path,
        what: &str,
    ) -> Result<RunStats> {
        // Reads that disagree with the reference at a quarter of their bases were aligned to
        // another sequence (a same-length reference of another assembly, patch or sample).
        let a = &self.agreement;
        log::debug!(
            "read bases differing from the reference: {} of {}",
            a.mismatches,
            a.bases
        );
        if a.disagrees() {
            crate::bail_input!(
                "{} disagrees with reference {} at {:.1} % of {} read bases (sequencing error \
                 is a few %): were the reads aligned to another reference? {what}",
                reads.display(),
                reference.display(),
                100.0 * a.mismatches as f64 / a.bases as f64,
                a.bases
            );
        }
        // Reads seen and none used: no output, and an exit status a workflow can tell apart.
        let stats = self.stats.finish(sample, filter);
        if let Some(why) = stats.nothing_usable() {
            return Err(anyhow::Error::new(crate::errors::NothingUsable(format!(
                "{}: {why}; {what}",
                reads.display()
            ))));
        }
        // Reads used, and not one of their bases good enough to count (a --min-baseq above
        // the reads' qualities): nothing could be called, which must not look like a success.
        if stats.reads.kept > 0 && a.bases == 0 {
            return Err(anyhow::Error::new(crate::errors::NothingUsable(format!(
                "{}: {} read(s) used and none of their bases at or above --min-baseq {}; {what}",
                reads.display(),
                stats.reads.kept,
                filter.min_baseq
            ))));
        }
        if stats.reads.seen == 0 && stats.coverage.depth_sum == 0 && self.bases > 0 {
            log::warn!(
                "{}: no reads in the regions: nothing is called there",
                reads.display()
            );
        }
        Ok(stats)
    }
}
