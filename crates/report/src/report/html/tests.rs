//! Unit tests of [`super`].
use super::*;

#[test]
fn empty_histogram_says_so() {
    let h = Histogram {
        edges: vec![0.0, 10.0],
        counts: vec![0, 0],
    };
    assert!(histogram("GQ", &h, 0).contains("Not in this VCF."));
}

#[test]
fn text_is_escaped() {
    assert_eq!(esc("<a href=\"x\">&"), "&lt;a href=&quot;x&quot;&gt;&amp;");
    let svg = bars("t", &["<b>".into()], &[3]);
    assert!(svg.contains("&lt;b&gt;: 3"));
    assert!(!svg.contains("<b>"));
}

#[test]
fn indel_axis_is_linear() {
    let svg = indel_chart(&[(-3, 2), (2, 1), (21, 1)]);
    // One bar per non-empty length, placed by its length: -3 is bin 18, +2 bin 23.
    assert_eq!(svg.matches("<rect").count(), 3);
    let x = |bin: f64| format!("x=\"{:.1}\"", 36.0 + bin * 12.0 + 1.0);
    assert!(svg.contains(&x(18.0)) && svg.contains(&x(23.0)) && svg.contains(&x(42.0)));
    // End bins and every fifth length are labelled.
    assert!(svg.contains(">&lt;−20<") && svg.contains(">-15<") && svg.contains(">+15<"));
}

#[test]
fn dates_are_civil() {
    assert_eq!(civil_date(0), "1970-01-01");
    assert_eq!(civil_date(951_782_400), "2000-02-29");
    assert_eq!(civil_date(1_764_374_400), "2025-11-29");
}

#[test]
fn numbers_are_grouped() {
    assert_eq!(group(100001), "100,001");
    assert_eq!(group(999), "999");
}
