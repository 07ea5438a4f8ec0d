//! Each subcommand's run, from its resolved [`Settings`]: the stages' entry points in order
//! (for `call`: call, then the scores, then the report), and nothing else.
use anyhow::Result;

use crate::errors::BadInput;
use crate::settings::{CallSettings, Settings};

/// Run one subcommand.
pub fn run(settings: Settings) -> Result<()> {
    match settings {
        Settings::Call(s) => call(*s),
        Settings::MakeExamples(cfg) => {
            let s = crate::make_examples::run(&cfg)?;
            log::info!(
                "examples by label (hom_ref, het, hom_alt): {:?}; skipped near complex truth: \
                 {}; truth alleles without a candidate: {}",
                s.per_label,
                s.skipped,
                s.truth_missed
            );
            Ok(())
        }
        Settings::Eval(e) => {
            let reference = crate::reference::Reference::open(&e.reference).bad_input()?;
            let rep = crate::eval::evaluate(
                &e.truth,
                &e.query,
                &e.regions,
                &reference,
                (e.samples.0.as_deref(), e.samples.1.as_deref()),
            )?;
            print!("{}", rep.table());
            Ok(())
        }
        Settings::Score(c) => c.run(),
        Settings::Report(r) => crate::report::run(&r.inputs, &r.prefix).map(|_| ()),
        Settings::Shards(cfg) => crate::scatter_beds::run(&cfg).map(|_| ()),
    }
}

/// Call, then score the finished VCF, then report on both.
fn call(s: CallSettings) -> Result<()> {
    crate::call_command::run(&s.call)?;
    let prefix = crate::output::output_prefix(&s.call.output);
    let tables = crate::scores::score_after_call(&s.call.output, &prefix, s.scores)?;
    if let Some(findings) = s.report {
        let inputs = crate::report::ReportInputs {
            vcf: s.call.output.clone(),
            stats: Some(crate::run_stats::path_for(&prefix)),
            prs: tables.prs,
            expression: tables.expression,
            findings,
            command_line: s.call.command_line.clone(),
            ..Default::default()
        };
        crate::report::run(&inputs, &prefix)?;
    }
    Ok(())
}
