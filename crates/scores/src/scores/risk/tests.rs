//! Unit tests of [`super`].
use super::*;

fn feature(name: &str, action: &str) -> serde_json::Value {
    let missing = match action {
        "impute" => serde_json::json!({"action": "impute", "value": 2.0}),
        a => serde_json::json!({ "action": a }),
    };
    serde_json::json!({"name": name, "source": "covariate", "column": name,
                       "center": 1.0, "scale": 2.0, "missing": missing})
}

fn calibration() -> serde_json::Value {
    serde_json::json!({"data": "d", "n": 10, "cases": 2, "auc": 0.7, "slope": 1.0,
                       "intercept": 0.0, "caveat": "c"})
}

fn sidecar(features: Vec<serde_json::Value>, subs: Vec<(&str, Vec<&str>)>) -> RiskSidecar {
    let subs: Vec<serde_json::Value> = subs
        .into_iter()
        .map(|(n, f)| {
            serde_json::json!({"name": n, "file": "x.onnx", "sha256": "00",
                               "features": f, "calibration": calibration()})
        })
        .collect();
    let v = serde_json::json!({
        "format": SIDECAR_FORMAT, "format_version": 1, "name": "m", "sha256": "00",
        "trait": {"id": "t", "name": "T", "horizon": "10 years"},
        "features": features, "submodels": subs,
        "training": {"cohort": "c"}, "calibration": calibration()
    });
    let s: RiskSidecar = serde_json::from_value(v).unwrap();
    s.check().unwrap();
    s
}

fn runnables(sc: &RiskSidecar) -> Vec<Runnable> {
    let idx = |n: &String| sc.features.iter().position(|f| &f.name == n).unwrap();
    let mut v = vec![Runnable {
        name: sc.name.clone(),
        path: PathBuf::new(),
        sha256: String::new(),
        features: (0..sc.features.len()).collect(),
        calibration: sc.calibration.clone(),
    }];
    for m in &sc.submodels {
        v.push(Runnable {
            name: m.name.clone(),
            path: PathBuf::new(),
            sha256: String::new(),
            features: m.features.iter().map(idx).collect(),
            calibration: m.calibration.clone(),
        });
    }
    v
}

#[test]
fn scaling_imputation_and_refusal() {
    let sc = sidecar(vec![feature("a", "impute"), feature("b", "refuse")], vec![]);
    let m = runnables(&sc);
    let p = plan(&sc, &m, &[Some(5.0), Some(3.0)]).unwrap();
    assert_eq!((p.model, p.input.clone()), (0, vec![2.0, 1.0]));
    assert_eq!(p.used, ["a", "b"]);
    // a imputed with its raw value 2 → (2 − 1) / 2.
    let p = plan(&sc, &m, &[None, Some(3.0)]).unwrap();
    assert_eq!(p.input, vec![0.5, 1.0]);
    assert_eq!(p.missing, ["a:imputed=2"]);
    let e = plan(&sc, &m, &[Some(5.0), None]).unwrap_err();
    assert!(e.contains("b is missing") && e.contains("refuses"), "{e}");
}

#[test]
fn submodel_fallback_picks_the_first_that_does_without() {
    let sc = sidecar(
        vec![
            feature("p", "submodel"),
            feature("q", "submodel"),
            feature("c", "impute"),
        ],
        vec![("no_p", vec!["q", "c"]), ("c_only", vec!["c"])],
    );
    let m = runnables(&sc);
    let p = plan(&sc, &m, &[None, Some(3.0), Some(1.0)]).unwrap();
    assert_eq!(p.model, 1);
    assert_eq!(p.input, vec![1.0, 0.0]);
    assert_eq!(p.missing, ["p:submodel"]);
    let p = plan(&sc, &m, &[None, None, None]).unwrap();
    assert_eq!(p.model, 2);
    assert_eq!(p.missing, ["p:submodel", "q:submodel", "c:imputed=2"]);
    // Only q missing: no_p takes q, so c_only runs.
    assert_eq!(
        plan(&sc, &m, &[Some(1.0), None, Some(1.0)]).unwrap().model,
        2
    );
    let sc = sidecar(
        vec![feature("p", "submodel"), feature("c", "impute")],
        vec![("needs_p", vec!["p"])],
    );
    let e = plan(&sc, &runnables(&sc), &[None, Some(1.0)]).unwrap_err();
    assert!(e.contains("no sub-model"), "{e}");
}

#[test]
fn sidecar_faults_are_refused() {
    let base = |f: serde_json::Value| {
        serde_json::json!({
            "format": SIDECAR_FORMAT, "format_version": 1, "name": "m", "sha256": "00",
            "trait": {"id": "t", "name": "T", "horizon": "h"}, "features": [f],
            "training": {"cohort": "c"}, "calibration": calibration()
        })
    };
    let check = |v: serde_json::Value| -> String {
        match serde_json::from_value::<RiskSidecar>(v) {
            Err(e) => e.to_string(),
            Ok(s) => s
                .check()
                .map(|_| "ok".into())
                .unwrap_or_else(|e| format!("{e:#}")),
        }
    };
    let ok = feature("a", "refuse");
    assert_eq!(check(base(ok.clone())), "ok");
    let mut no_score = serde_json::json!({"name": "p", "source": "prs", "value": "SUM",
                                           "missing": {"action": "refuse"}});
    assert!(check(base(no_score.clone())).contains("needs score_id"));
    no_score["score_id"] = "PGS1".into();
    no_score["value"] = "MEAN".into();
    assert!(check(base(no_score)).contains("SUM, AVG or Z"));
    let mut wrong_key = ok.clone();
    wrong_key["gene"] = "G".into();
    assert!(check(base(wrong_key)).contains("does not apply"));
    let mut zero = ok.clone();
    zero["scale"] = 0.0.into();
    assert!(check(base(zero)).contains("non-zero"));
    let mut typo = ok.clone();
    typo["scael"] = 1.0.into();
    assert!(check(base(typo)).contains("unknown field"));
    assert!(check(base(feature("a", "submodel"))).contains("no submodels"));
    let mut v = base(ok);
    v["format_version"] = 2.into();
    assert!(check(v).contains("version"));
}
