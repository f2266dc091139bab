use super::*;
use crate::surveys::model::{Function, Indicator, Thresholds};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A framework function with the given indicators (titles left empty).
fn function(id: &str, inds: &[&str]) -> Function {
    Function {
        id: id.into(),
        title: Default::default(),
        indicators: inds
            .iter()
            .map(|i| Indicator {
                id: (*i).into(),
                title: Default::default(),
            })
            .collect(),
    }
}

fn framework() -> Framework {
    let f = function;
    Framework {
        id: "test".into(),
        languages: vec!["en".into()],
        title: Default::default(),
        thresholds: Thresholds::default(),
        min_respondents: 3,
        functions: vec![f("1", &["1.1", "1.2"]), f("2", &["2.1"]), f("3", &["3.1"])],
    }
}

fn item(response: u32, question: &str, indicator: &str, score: f64) -> ItemScore {
    ItemScore {
        response,
        question: question.into(),
        indicator: indicator.into(),
        score,
    }
}

fn meta(orgs: &[&str]) -> Vec<ResponseMeta> {
    orgs.iter()
        .map(|o| ResponseMeta {
            org_type: (*o).into(),
        })
        .collect()
}

fn score(fw: &Framework, responses: Vec<ResponseMeta>, items: Vec<ItemScore>) -> RoundScores {
    score_round(&RoundInput {
        framework: fw,
        responses,
        items,
        seed: seed_for_round(1),
    })
    .unwrap()
}

/// The hand-computed round used by several tests.
///
/// r0: a=100 b=50 (1.1), c=0 (1.2); r1: a=50 (1.1), c=100 (1.2); r2: b=100 (1.1);
/// r3: d=75 (2.1); r4: nothing scorable (all unanswered / "don't know").
/// Q(a)=75 Q(b)=75 Q(c)=50 Q(d)=75; I(1.1)=75 I(1.2)=50 I(2.1)=75; F1=62.5 F2=75 F3=none;
/// overall=68.75.
fn hand_items() -> Vec<ItemScore> {
    vec![
        item(0, "a", "1.1", 100.0),
        item(0, "b", "1.1", 50.0),
        item(0, "c", "1.2", 0.0),
        item(1, "a", "1.1", 50.0),
        item(1, "c", "1.2", 100.0),
        item(2, "b", "1.1", 100.0),
        item(3, "d", "2.1", 75.0),
    ]
}

fn hand_meta() -> Vec<ResponseMeta> {
    meta(&["ingo", "ingo", "ingo", "un", "ingo"])
}

#[test]
fn hierarchy_of_means_and_n() {
    let fw = framework();
    let s = score(&fw, hand_meta(), hand_items());

    let f1 = &s.functions[0];
    assert_eq!(f1.id, "1");
    assert_eq!(f1.score, Some(62.5));
    // r0, r1, r2: r0 answered two questions of 1.1 and one of 1.2, it counts once.
    assert_eq!(f1.n, 3);
    assert_eq!(f1.status, Status::Satisfactory);
    assert_eq!(f1.indicators[0].id, "1.1");
    assert_eq!(f1.indicators[0].score, Some(75.0));
    assert_eq!(f1.indicators[0].n, 3);
    // Exactly 75 is not above `good`: satisfactory.
    assert_eq!(f1.indicators[0].status, Status::Satisfactory);
    assert_eq!(f1.indicators[1].score, Some(50.0));
    assert_eq!(f1.indicators[1].n, 2);
    assert_eq!(f1.indicators[1].status, Status::InsufficientData);
    assert_eq!(f1.previous, None);
    assert_eq!(f1.change, None);

    let f2 = &s.functions[1];
    assert_eq!((f2.score, f2.n), (Some(75.0), 1));
    assert_eq!(f2.status, Status::InsufficientData, "score reported, n < 3");

    assert_eq!(s.overall.score, Some(68.75));
    assert_eq!(s.overall.n, 4, "r4 has no present item");
    assert_eq!(s.overall.status, Status::Satisfactory);

    let q: Vec<(&str, &str, f64, usize)> = s
        .questions
        .iter()
        .map(|q| (q.name.as_str(), q.indicator.as_str(), q.score, q.n))
        .collect();
    assert_eq!(
        q,
        vec![
            ("a", "1.1", 75.0, 2),
            ("b", "1.1", 75.0, 2),
            ("c", "1.2", 50.0, 2),
            ("d", "2.1", 75.0, 1),
        ]
    );
}

#[test]
fn function_and_indicator_without_data_are_listed() {
    let fw = framework();
    let s = score(&fw, hand_meta(), hand_items());
    let ids: Vec<&str> = s.functions.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3"]);
    let f3 = &s.functions[2];
    assert_eq!((f3.score, f3.n, f3.ci95), (None, 0, None));
    assert_eq!(f3.status, Status::InsufficientData);
    assert_eq!(f3.indicators.len(), 1);
    assert_eq!(f3.indicators[0].id, "3.1");
    assert_eq!(f3.indicators[0].score, None);
    assert_eq!(f3.indicators[0].n, 0);
    assert_eq!(f3.indicators[0].status, Status::InsufficientData);

    let json = serde_json::to_value(&s).unwrap();
    let f3 = &json["functions"][2];
    assert!(f3["score"].is_null() && f3["ci95"].is_null() && f3["previous"].is_null());
    assert_eq!(f3["status"], "insufficient_data");
    assert_eq!(f3["n"], 0);
    assert_eq!(f3["indicators"][0]["status"], "insufficient_data");
}

#[test]
fn an_indicator_without_data_does_not_pull_its_function_down() {
    let fw = framework();
    // Only 1.1 has data: F1 = I(1.1), not (I(1.1) + 0) / 2.
    let items = (0..3).map(|r| item(r, "a", "1.1", 80.0)).collect();
    let s = score(&fw, meta(&["un"; 3]), items);
    assert_eq!(s.functions[0].score, Some(80.0));
    assert_eq!(s.functions[0].indicators[1].score, None);
    assert_eq!(s.functions[0].indicators[1].n, 0);
    assert_eq!(
        s.overall.score,
        Some(80.0),
        "functions without data are skipped"
    );
    assert_eq!(s.functions[0].status, Status::Good);
}

#[test]
fn unanswered_and_unscored_options_are_simply_absent() {
    let fw = framework();
    // Same data plus two responses that answered nothing with a score: nothing changes
    // but the org-type counts.
    let mut responses = hand_meta();
    responses.extend(meta(&["ingo", "ingo"]));
    let a = score(&fw, hand_meta(), hand_items());
    let b = score(&fw, responses, hand_items());
    assert_eq!(a.overall, b.overall);
    assert_eq!(a.functions, b.functions);
    assert_eq!(a.questions, b.questions);
    assert_eq!(b.by_org_type[0].n, 6);
}

#[test]
fn status_bands_ties_go_down() {
    let fw = framework();
    assert_eq!(status_for(Some(100.0), 3, &fw), "good");
    assert_eq!(status_for(Some(75.000001), 3, &fw), "good");
    assert_eq!(status_for(Some(75.0), 3, &fw), "satisfactory");
    assert_eq!(status_for(Some(50.5), 3, &fw), "satisfactory");
    assert_eq!(status_for(Some(50.0), 3, &fw), "unsatisfactory");
    assert_eq!(status_for(Some(25.0), 3, &fw), "weak");
    assert_eq!(status_for(Some(25.1), 3, &fw), "unsatisfactory");
    assert_eq!(status_for(Some(0.0), 3, &fw), "weak");
    assert_eq!(status_for(Some(100.0), 2, &fw), "insufficient_data");
    assert_eq!(status_for(None, 50, &fw), "insufficient_data");

    let mut custom = fw.clone();
    custom.thresholds = Thresholds {
        good: 80.0,
        satisfactory: 60.0,
        unsatisfactory: 40.0,
    };
    custom.min_respondents = 1;
    assert_eq!(status_for(Some(80.0), 1, &custom), "satisfactory");
    assert_eq!(status_for(Some(75.0), 1, &custom), "satisfactory");
    assert_eq!(status_for(Some(40.0), 1, &custom), "weak");
}

#[test]
fn ties_through_score_round() {
    let fw = framework();
    // Function 1 at exactly 75, function 2 at exactly 50, function 3 at exactly 25.
    let mut items = Vec::new();
    for r in 0..3 {
        items.push(item(r, "a", "1.1", 75.0));
        items.push(item(r, "d", "2.1", 50.0));
        items.push(item(r, "e", "3.1", 25.0));
    }
    let s = score(&fw, meta(&["un"; 3]), items);
    let st: Vec<Status> = s.functions.iter().map(|f| f.status).collect();
    assert_eq!(
        st,
        [Status::Satisfactory, Status::Unsatisfactory, Status::Weak]
    );
    assert_eq!(s.overall.score, Some(50.0));
    assert_eq!(s.overall.status, Status::Unsatisfactory);
}

#[test]
fn org_type_groups_below_min_respondents_are_omitted() {
    let fw = framework();
    // 3 ingo, 2 un, 1 nngo, 3 government without any scored item.
    let responses = meta(&[
        "ingo",
        "un",
        "ingo",
        "nngo",
        "un",
        "ingo",
        "government",
        "government",
        "government",
    ]);
    let items = vec![
        item(0, "a", "1.1", 100.0),
        item(0, "d", "2.1", 0.0),
        item(2, "a", "1.1", 50.0),
        item(2, "c", "1.2", 25.0),
        item(5, "d", "2.1", 100.0),
        item(1, "a", "1.1", 0.0),
        item(4, "a", "1.1", 0.0),
        item(3, "a", "1.1", 0.0),
    ];
    let s = score(&fw, responses, items);
    let orgs: Vec<(&str, usize)> = s
        .by_org_type
        .iter()
        .map(|g| (g.org_type.as_str(), g.n))
        .collect();
    // Canonical order: ingo before government; un (2) and nngo (1) are left out.
    assert_eq!(orgs, [("ingo", 3), ("government", 3)]);

    let ingo = &s.by_org_type[0];
    // ingo: Q(a) = 75 → I1.1 = 75; I1.2 = 25 → F1 = 50; F2 = 50 (0 and 100); F3 none.
    let f: Vec<(&str, Option<f64>)> = ingo
        .functions
        .iter()
        .map(|f| (f.id.as_str(), f.score))
        .collect();
    assert_eq!(f, [("1", Some(50.0)), ("2", Some(50.0)), ("3", None)]);
    assert_eq!(ingo.overall, Some(50.0));

    let gov = &s.by_org_type[1];
    assert_eq!(gov.overall, None);
    assert!(gov.functions.iter().all(|f| f.score.is_none()));

    // Whole round: Q(a) = (100+50+0+0+0)/5 = 30.
    assert_eq!(s.questions[0].score, 30.0);
    assert_eq!(s.overall.n, 6);

    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["by_org_type"][0]["org_type"], "ingo");
    assert_eq!(
        json["by_org_type"][0]["functions"][2]["score"],
        serde_json::Value::Null
    );
}

#[test]
fn invalid_items_are_refused() {
    let fw = framework();
    let run = |items: Vec<ItemScore>| {
        score_round(&RoundInput {
            framework: &fw,
            responses: meta(&["un", "un"]),
            items,
            seed: 1,
        })
        .unwrap_err()
        .to_string()
    };
    assert!(run(vec![item(0, "a", "9.9", 1.0)]).contains("not in framework"));
    assert!(
        run(vec![item(0, "a", "1.1", 1.0), item(1, "a", "1.2", 1.0)]).contains("two indicators")
    );
    assert!(run(vec![item(2, "a", "1.1", 1.0)]).contains("2 responses"));
    assert!(
        run(vec![item(0, "a", "1.1", 1.0), item(0, "a", "1.1", 2.0)]).contains("two item scores")
    );
    assert!(run(vec![item(0, "a", "1.1", f64::NAN)]).contains("not a number"));
}

#[test]
fn empty_round() {
    let fw = framework();
    let s = score(&fw, meta(&["un"; 4]), vec![]);
    assert_eq!(s.overall.score, None);
    assert_eq!(s.overall.n, 0);
    assert_eq!(s.overall.ci95, None);
    assert_eq!(s.overall.status, Status::InsufficientData);
    assert!(s
        .functions
        .iter()
        .all(|f| f.score.is_none() && f.ci95.is_none()));
    assert!(s.questions.is_empty());
    assert_eq!(s.by_org_type.len(), 1);
    assert_eq!(s.by_org_type[0].overall, None);
}

/// A random round: `n` responses of 3 org types, ~85% of 8 questions answered.
fn random_round(n: u32, data_seed: u64) -> (Vec<ResponseMeta>, Vec<ItemScore>) {
    let mut rng = ChaCha8Rng::seed_from_u64(data_seed);
    let questions = [
        ("q1", "1.1"),
        ("q2", "1.1"),
        ("q3", "1.2"),
        ("q4", "2.1"),
        ("q5", "2.1"),
        ("q6", "2.1"),
        ("q7", "3.1"),
        ("q8", "3.1"),
    ];
    let orgs = ["un", "ingo", "nngo"];
    let mut responses = Vec::new();
    let mut items = Vec::new();
    for r in 0..n {
        responses.push(ResponseMeta {
            org_type: orgs[(rng.next_u32() % 3) as usize].into(),
        });
        for (qi, (q, i)) in questions.iter().enumerate() {
            if rng.next_u32() % 100 < 85 {
                // Skewed per question so that functions differ.
                let level = ((rng.next_u32() % 5) as usize + qi % 3).min(4);
                items.push(item(r, q, i, level as f64 * 25.0));
            }
        }
    }
    (responses, items)
}

fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for i in (1..v.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

#[test]
fn intervals_are_deterministic_and_order_independent() {
    let fw = framework();
    let (responses, items) = random_round(60, 7);
    let run = |items: Vec<ItemScore>, seed: u64| {
        score_round(&RoundInput {
            framework: &fw,
            responses: responses.clone(),
            items,
            seed,
        })
        .unwrap()
    };
    let a = run(items.clone(), seed_for_round(12));
    let b = run(items.clone(), seed_for_round(12));
    assert_eq!(a, b);
    let mut shuffled = items.clone();
    shuffle(&mut shuffled, 99);
    assert_ne!(shuffled, items);
    let c = run(shuffled, seed_for_round(12));
    // Bit-identical, point estimates included.
    assert_eq!(a, c);
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&c).unwrap()
    );
    let d = run(items, seed_for_round(13));
    assert_eq!(a.overall.score, d.overall.score);
    assert_ne!(
        a.overall.ci95, d.overall.ci95,
        "another round, another stream"
    );
}

#[test]
fn intervals_contain_the_estimate() {
    let fw = framework();
    for data_seed in 0..5 {
        let (responses, items) = random_round(200, data_seed);
        let s = score(&fw, responses, items);
        let mut checks: Vec<(Option<f64>, Option<[f64; 2]>)> =
            s.functions.iter().map(|f| (f.score, f.ci95)).collect();
        checks.push((s.overall.score, s.overall.ci95));
        for (score, ci) in checks {
            let (score, [lo, hi]) = (score.unwrap(), ci.unwrap());
            assert!(lo < hi, "{lo} < {hi}");
            assert!(lo <= score && score <= hi, "{lo} <= {score} <= {hi}");
            assert!(hi - lo < 20.0, "200 responses give a narrow interval");
        }
    }
}

#[test]
fn constant_data_gives_a_point_interval() {
    let fw = framework();
    let items = (0..5).map(|r| item(r, "a", "1.1", 100.0)).collect();
    let s = score(&fw, meta(&["un"; 5]), items);
    assert_eq!(s.functions[0].ci95, Some([100.0, 100.0]));
    assert_eq!(s.overall.ci95, Some([100.0, 100.0]));
    assert_eq!(s.functions[1].ci95, None);
}

#[test]
fn percentile_is_linear_between_order_statistics() {
    assert_eq!(percentile(&[], 0.5), None);
    assert_eq!(percentile(&[3.0], 0.025), Some(3.0));
    assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
    assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.0), Some(1.0));
    assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 1.0), Some(4.0));
    // numpy.percentile(range(1000), [2.5, 97.5]) == [24.975, 974.025]
    let v: Vec<f64> = (0..1000).map(f64::from).collect();
    let lo = percentile(&v, 0.025).unwrap();
    let hi = percentile(&v, 0.975).unwrap();
    assert!((lo - 24.975).abs() < 1e-9 && (hi - 974.025).abs() < 1e-9);
}

#[test]
fn seed_derivation_is_pinned() {
    // python3: int.from_bytes(hashlib.sha256(b"clusterpulse:scoring:bootstrap:v1:1")
    //          .digest()[:8], "big")
    assert_eq!(seed_for_round(1), 4423820848139540166);
    assert_eq!(seed_for_round(42), 554089598517460829);
    assert_eq!(seed_for_round(-7), 94120129547689696);
}

#[test]
fn colours() {
    assert_eq!(colour_for("good"), "#1a9850");
    assert_eq!(colour_for("satisfactory"), "#fee08b");
    assert_eq!(colour_for("unsatisfactory"), "#fc8d59");
    assert_eq!(colour_for("weak"), "#d73027");
    assert_eq!(colour_for("insufficient_data"), "#bdbdbd");
    for (name, colour) in STATUS_COLOURS {
        assert_eq!(Status::parse(name).unwrap().colour(), colour);
    }
}

#[test]
fn csv_shape() {
    let fw = framework();
    let mut responses = hand_meta();
    responses.extend(meta(&["un", "un"]));
    let s = score(&fw, responses, hand_items());
    let csv = to_csv(&s);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "level,id,parent,org_type,score,status,n,ci_low,ci_high"
    );
    assert!(lines.iter().all(|l| l.split(',').count() == 9), "{csv}");
    // overall + 3 functions + 4 indicators + 4 questions + 2 org types × (1 + 3 functions)
    assert_eq!(lines.len(), 1 + 1 + 3 + 4 + 4 + 2 * 4);
    let overall = s.overall.ci95.unwrap();
    assert_eq!(
        lines[1],
        format!(
            "overall,overall,,,68.75,satisfactory,4,{},{}",
            overall[0], overall[1]
        )
    );
    assert!(lines[2].starts_with("function,1,,,62.5,satisfactory,3,"));
    assert_eq!(lines[3], "indicator,1.1,1,,75,satisfactory,3,,");
    assert_eq!(lines[4], "indicator,1.2,1,,50,insufficient_data,2,,");
    assert_eq!(lines[7], "function,3,,,,insufficient_data,0,,");
    assert_eq!(lines[9], "question,a,1.1,,75,,2,,");
    // Canonical org-type order: un before ingo.
    assert_eq!(lines[13], "org_type_overall,overall,,un,75,,3,,");
    assert_eq!(lines[14], "org_type_function,1,,un,,,,,");
    assert_eq!(lines[15], "org_type_function,2,,un,75,,,,");
    assert_eq!(lines[17], "org_type_overall,overall,,ingo,62.5,,4,,");
    assert_eq!(lines[18], "org_type_function,1,,ingo,62.5,,,,");
    assert!(csv.ends_with('\n'));
}

/// Pinned against an independent Python implementation of the documented bootstrap,
/// `scripts/scoring_reference.py` (hashlib SHA-256 for the seed, SplitMix64 written out from
/// its definition for the stream, plain loops over responses and their draw counts for the
/// means, numpy-style percentiles). Sixths of 100 take the server's floating-point path;
/// eighths its exact integer path, which must agree with the reference's floating-point sums
/// to the last bit.
#[test]
fn intervals_match_the_reference_implementation() {
    let fw = framework();
    let s = score(&fw, hand_meta(), hand_items());
    assert_eq!(s.functions[0].ci95, Some([37.5, 100.0]));
    assert_eq!(s.functions[1].ci95, Some([75.0, 75.0]));
    assert_eq!(s.functions[2].ci95, None);
    assert_eq!(s.overall.ci95, Some([43.75, 87.5]));

    let defs = [
        ("q1", "1.1"),
        ("q2", "1.1"),
        ("q3", "1.2"),
        ("q4", "2.1"),
        ("q5", "2.1"),
        ("q6", "2.1"),
        ("q7", "3.1"),
        ("q8", "3.1"),
    ];
    let round_of = |n: u32, present: &dyn Fn(u32, u32) -> bool, value: &dyn Fn(u32, u32) -> f64| {
        let mut items = Vec::new();
        for r in 0..n {
            for (qi, (q, i)) in defs.iter().enumerate() {
                let qi = qi as u32;
                if present(r, qi) {
                    items.push(item(r, q, i, value(r, qi)));
                }
            }
        }
        items
    };
    let sixths = round_of(
        40,
        &|r, qi| !(r * 7 + qi * 3).is_multiple_of(10),
        &|r, qi| ((r * r + 3 * qi) % 7) as f64 * (100.0 / 6.0),
    );
    let s = score_round(&RoundInput {
        framework: &fw,
        responses: meta(&["un"; 40]),
        items: sixths,
        seed: seed_for_round(2),
    })
    .unwrap();
    // Scores in sixths of 100: the interval depends on the documented summation order.
    assert_eq!(
        s.functions[0].ci95,
        Some([33.05631618460566, 42.3360963666268])
    );
    assert_eq!(
        s.functions[1].ci95,
        Some([50.36739450942237, 59.19410748438013])
    );
    assert_eq!(
        s.functions[2].ci95,
        Some([47.03690087145969, 55.85719911087557])
    );
    assert_eq!(s.overall.ci95, Some([46.39567099369409, 49.55004154759841]));

    let eighths = round_of(
        60,
        &|r, qi| !(r * 5 + qi * 7).is_multiple_of(11),
        &|r, qi| ((r * 3 + qi * qi + r * qi) % 9) as f64 * 12.5,
    );
    let s = score_round(&RoundInput {
        framework: &fw,
        responses: meta(&["un"; 60]),
        items: eighths,
        seed: seed_for_round(3),
    })
    .unwrap();
    assert_eq!(
        s.functions[0].ci95,
        Some([41.22950651601992, 52.4059793881433])
    );
    assert_eq!(
        s.functions[1].ci95,
        Some([41.96252846298232, 51.46075608701173])
    );
    assert_eq!(
        s.functions[2].ci95,
        Some([21.540178571428573, 30.245976268796994])
    );
    assert_eq!(
        s.overall.ci95,
        Some([36.555414840430984, 42.98663465218951])
    );
}

/// Straight loops over the items, as DESIGN.md words it, for comparison with polars.
fn naive(fw: &Framework, items: &[ItemScore], keep: impl Fn(u32) -> bool) -> NaiveScores {
    use std::collections::{BTreeMap, BTreeSet};
    let items: Vec<&ItemScore> = items.iter().filter(|i| keep(i.response)).collect();
    let mut q: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    for it in &items {
        let e = q.entry(it.question.as_str()).or_default();
        e.0 += it.score;
        e.1 += 1;
    }
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    let responses = |pred: &dyn Fn(&ItemScore) -> bool| {
        items
            .iter()
            .filter(|i| pred(i))
            .map(|i| i.response)
            .collect::<BTreeSet<_>>()
            .len()
    };
    let mut out = NaiveScores::default();
    let mut fscores = Vec::new();
    for f in &fw.functions {
        let mut iscores = Vec::new();
        for ind in &f.indicators {
            let qs: Vec<f64> = items
                .iter()
                .filter(|i| i.indicator == ind.id)
                .map(|i| i.question.as_str())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(|name| q[name].0 / q[name].1 as f64)
                .collect();
            let s = mean(&qs);
            out.indicators
                .push((s, responses(&|i: &ItemScore| i.indicator == ind.id)));
            iscores.extend(s);
        }
        let s = mean(&iscores);
        let ids: BTreeSet<&str> = f.indicators.iter().map(|i| i.id.as_str()).collect();
        out.functions.push((
            s,
            responses(&|i: &ItemScore| ids.contains(i.indicator.as_str())),
        ));
        fscores.extend(s);
    }
    out.overall = (mean(&fscores), responses(&|_| true));
    out.questions = q
        .into_iter()
        .map(|(k, (s, n))| (k.to_string(), s / n as f64, n))
        .collect();
    out
}

#[derive(Default, Debug)]
struct NaiveScores {
    overall: (Option<f64>, usize),
    functions: Vec<(Option<f64>, usize)>,
    indicators: Vec<(Option<f64>, usize)>,
    questions: Vec<(String, f64, usize)>,
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        (None, None) => true,
        _ => false,
    }
}

#[test]
fn polars_matches_a_naive_implementation() {
    let fw = framework();
    for (n, data_seed) in [(1, 1), (5, 2), (17, 3), (120, 4), (300, 5)] {
        let (responses, mut items) = random_round(n, data_seed);
        // Thin some questions out so that whole indicators go missing in small groups.
        items.retain(|i| !(i.question == "q3" && i.response % 3 != 0));
        let s = score(&fw, responses.clone(), items.clone());

        let all = naive(&fw, &items, |_| true);
        assert!(close(s.overall.score, all.overall.0));
        assert_eq!(s.overall.n, all.overall.1);
        let inds: Vec<&IndicatorScore> = s.functions.iter().flat_map(|f| &f.indicators).collect();
        for (got, want) in s.functions.iter().zip(&all.functions) {
            assert!(close(got.score, want.0), "{got:?} {want:?}");
            assert_eq!(got.n, want.1);
        }
        for (got, want) in inds.iter().zip(&all.indicators) {
            assert!(close(got.score, want.0), "{got:?} {want:?}");
            assert_eq!(got.n, want.1);
        }
        let mut qs: Vec<(String, f64, usize)> = s
            .questions
            .iter()
            .map(|q| (q.name.clone(), q.score, q.n))
            .collect();
        qs.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(qs.len(), all.questions.len());
        for (got, want) in qs.iter().zip(&all.questions) {
            assert_eq!((&got.0, got.2), (&want.0, want.2));
            assert!((got.1 - want.1).abs() < 1e-9);
        }

        for org in ["un", "ingo", "nngo"] {
            let members = responses.iter().filter(|r| r.org_type == org).count();
            let listed = s.by_org_type.iter().find(|g| g.org_type == org);
            if members < 3 {
                assert!(listed.is_none());
                continue;
            }
            let g = listed.expect("org type listed");
            assert_eq!(g.n, members);
            let want = naive(&fw, &items, |r| responses[r as usize].org_type == org);
            assert!(close(g.overall, want.overall.0));
            for (got, want) in g.functions.iter().zip(&want.functions) {
                assert!(close(got.score, want.0), "{org}: {got:?} {want:?}");
            }
        }
    }
}

#[test]
fn many_rounds_at_once_score_exactly_as_one_at_a_time() {
    let fw = framework();
    // Scores that are not dyadic fractions, so a different summation order would show.
    let mut rounds: Vec<(Vec<ResponseMeta>, Vec<ItemScore>)> = (0..7u64)
        .map(|k| {
            let (meta, mut items) = random_round(3 + 11 * k as u32, 40 + k);
            for (i, it) in items.iter_mut().enumerate() {
                it.score = (it.score + (i % 7) as f64 * 1.1).min(100.0) / 3.0;
            }
            shuffle(&mut items, k);
            (meta, items)
        })
        .collect();
    // An empty round and a round without items in the middle.
    rounds.insert(2, (Vec::new(), Vec::new()));
    rounds.insert(4, (meta(&["un", "un", "un"]), Vec::new()));
    let inputs: Vec<RoundInput> = rounds
        .iter()
        .enumerate()
        .map(|(k, (meta, items))| RoundInput {
            framework: &fw,
            responses: meta.clone(),
            items: items.clone(),
            seed: seed_for_round(k as i64 + 1),
        })
        .collect();
    let together = score_rounds(&inputs).unwrap();
    assert_eq!(together.len(), inputs.len());
    for (input, t) in inputs.iter().zip(&together) {
        let alone = score_round(input).unwrap();
        assert_eq!(&alone, t, "bit-identical to scoring the round alone");
    }
    assert!(together[2].overall.score.is_none());
    assert!(together[0].overall.ci95.is_some());
}

/// The same rounds given as items and packed by column (two layouts with the questions in
/// different orders, a column outside the framework, rows shorter than their layout): the
/// scores are bit-identical.
#[test]
fn packed_rounds_score_exactly_as_their_items() {
    let fw = framework();
    let col = |q: &str, i: Option<&str>| PackedColumn {
        question: q.into(),
        indicator: i.map(Into::into),
    };
    let layouts = [
        vec![
            col("q1", Some("1.1")),
            col("q2", Some("1.1")),
            col("free", None),
            col("q3", Some("1.2")),
            col("q4", Some("2.1")),
            col("q7", Some("3.1")),
        ],
        vec![
            col("q7", Some("3.1")),
            col("q5", Some("2.1")),
            col("q1", Some("1.1")),
            col("q3", Some("1.2")),
        ],
    ];
    let orgs = ["donor", "zeta", "un", "ingo"];
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut items_rounds = Vec::new();
    let mut packed_rounds = Vec::new();
    for k in 0..5u32 {
        let n = 4 + 9 * k;
        let mut meta = Vec::new();
        let mut items = Vec::new();
        let mut packed = PackedRound {
            framework: &fw,
            layouts: layouts.iter().map(Vec::as_slice).collect(),
            org_types: orgs.iter().map(|o| o.to_string()).collect(),
            response_org: Vec::new(),
            response_layout: Vec::new(),
            offsets: vec![0],
            scores: Vec::new(),
            seed: seed_for_round(i64::from(k) + 7),
        };
        for r in 0..n {
            let o = rng.next_u32() % orgs.len() as u32;
            meta.push(ResponseMeta {
                org_type: orgs[o as usize].into(),
            });
            let l = rng.next_u32() % 2;
            let layout = &layouts[l as usize];
            // Some rows stop early: the missing tail has no score.
            let width = layout.len() - (rng.next_u32() % 2) as usize;
            for c in &layout[..width] {
                let v = if rng.next_u32() % 100 < 80 {
                    Some(f64::from(rng.next_u32() % 101) / 3.0)
                } else {
                    None
                };
                packed.scores.push(v.unwrap_or(f64::NAN));
                if let (Some(v), Some(i)) = (v, c.indicator.as_deref()) {
                    items.push(item(r, &c.question, i, v));
                }
            }
            packed.response_org.push(o);
            packed.response_layout.push(l);
            packed.offsets.push(packed.scores.len());
        }
        items_rounds.push(RoundInput {
            framework: &fw,
            responses: meta,
            items,
            seed: packed.seed,
        });
        packed_rounds.push(packed);
    }
    let want = score_rounds(&items_rounds).unwrap();
    let got = score_packed_rounds(&packed_rounds).unwrap();
    assert_eq!(got, want);
    assert!(want.iter().any(|s| s.by_org_type.len() >= 2));

    // A scored column outside the framework is refused, as the same item is.
    let odd = [col("q9", Some("9.9"))];
    let bad = PackedRound {
        framework: &fw,
        layouts: vec![&odd],
        org_types: vec!["un".into()],
        response_org: vec![0],
        response_layout: vec![0],
        offsets: vec![0, 1],
        scores: vec![50.0],
        seed: 1,
    };
    let err = score_packed_rounds(&[bad]).unwrap_err().to_string();
    assert!(err.contains("9.9"), "{err}");
}

/// Dumps the JSON of many random rounds (non-dyadic scores, sparse items, shuffled input) to
/// the file named by SCORING_DUMP, to compare two builds.
#[test]
#[ignore]
fn dump_random_rounds() {
    let Ok(path) = std::env::var("SCORING_DUMP") else {
        return;
    };
    std::fs::write(path, random_rounds(400)).unwrap();
}

/// The first random rounds of [`dump_random_rounds`]: each scored alone equals the batch,
/// and their JSON is the one these rules gave when the scoring moved to the dense matrix
/// (2026-12-07; main's polars long table gave the same bytes). Any change to a score, `n`,
/// status or interval, however small, changes the digest: if the change is intended (a new
/// rule), pin the new digest and say so in docs/scoring.md.
#[test]
fn random_rounds_score_as_pinned() {
    let json = random_rounds(30);
    let digest = hex::encode(&Sha256::digest(json.as_bytes())[..8]);
    assert_eq!(digest, PINNED_RANDOM_ROUNDS);
}

const PINNED_RANDOM_ROUNDS: &str = "503dc6490131de4b";

/// `count` random rounds scored together (each checked against scoring it alone), as JSON
/// lines.
fn random_rounds(count: u64) -> String {
    let f = function;
    let fw = Framework {
        id: "dump".into(),
        languages: vec!["en".into()],
        title: Default::default(),
        thresholds: Thresholds::default(),
        min_respondents: 2,
        functions: vec![
            f("1", &["1.1", "1.2", "1.3"]),
            f("2", &["2.1"]),
            f("3", &["3.1", "3.2"]),
            f("4", &["4.1"]),
            f("5", &["5.1", "5.2", "5.3", "5.4"]),
        ],
    };
    let inds = [
        "1.1", "1.2", "1.3", "2.1", "3.1", "3.2", "4.1", "5.1", "5.2", "5.3", "5.4",
    ];
    let orgs = [
        "un",
        "ingo",
        "nngo",
        "zzz",
        "government",
        "aaa",
        "donor",
        "other",
        "rcrc",
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let mut out = String::new();
    let mut inputs = Vec::new();
    for k in 0..count {
        let n = match k % 5 {
            0 => rng.next_u32() % 4,
            1 => rng.next_u32() % 30,
            2 => 50 + rng.next_u32() % 100,
            3 => 100,
            _ => 200 + rng.next_u32() % 300,
        };
        let nq = 5 + rng.next_u32() % 30;
        let kind = rng.next_u32() % 4;
        let density = 30 + rng.next_u32() % 70;
        let norgs = 1 + rng.next_u32() % orgs.len() as u32;
        let responses: Vec<ResponseMeta> = (0..n)
            .map(|_| ResponseMeta {
                org_type: orgs[(rng.next_u32() % norgs) as usize].into(),
            })
            .collect();
        let mut items = Vec::new();
        for r in 0..n {
            for q in 0..nq {
                // Early responses answer little, so first appearance is not question order.
                let d = if r < 3 { density / 4 } else { density };
                if rng.next_u32() % 100 >= d {
                    continue;
                }
                let x = f64::from(rng.next_u32() % 101);
                let score = match kind {
                    0 => (x / 25.0).round() * 25.0,
                    1 => x / 3.0,
                    2 => x * 1.1 / 7.0,
                    _ => (x * 0.37).sqrt() * 13.0,
                };
                items.push(ItemScore {
                    response: r,
                    question: format!("q{:02}", (q * 7 + k as u32) % 40),
                    indicator: inds[(((q * 7 + k as u32) % 40) % inds.len() as u32) as usize]
                        .into(),
                    score,
                });
            }
        }
        shuffle(&mut items, k);
        inputs.push(RoundInput {
            framework: &fw,
            responses,
            items,
            seed: seed_for_round(k as i64 + 1),
        });
    }
    let together = score_rounds(&inputs).unwrap();
    for (input, t) in inputs.iter().zip(&together) {
        let alone = score_round(input).unwrap();
        assert_eq!(&alone, t);
        out.push_str(&serde_json::to_string(t).unwrap());
        out.push('\n');
    }
    out
}
