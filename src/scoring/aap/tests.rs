//! Hand-computed cases for the AAP indicators.

use super::*;

fn volume(month: i32, category: &str, count: u64) -> VolumeGroup {
    VolumeGroup {
        month,
        category: category.into(),
        count,
        ..Default::default()
    }
}

fn profile(
    channel: &str,
    sex: Option<&str>,
    age_group: Option<&str>,
    admin1: Option<&str>,
    count: u64,
) -> ProfileGroup {
    ProfileGroup {
        channel: channel.into(),
        sex: sex.map(Into::into),
        age_group: age_group.map(Into::into),
        admin1: admin1.map(Into::into),
        count,
    }
}

fn close(month: i32, days: f64) -> Closure {
    Closure {
        month,
        millis: (days * MILLIS_PER_DAY).round() as i64,
    }
}

fn approx(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn months_round_trip() {
    assert_eq!(month_index(2026, 1), 2026 * 12);
    assert_eq!(month_label(month_index(2026, 1)), "2026-01");
    assert_eq!(month_label(month_index(2025, 12)), "2025-12");
    assert_eq!(month_label(month_index(999, 7)), "0999-07");
    assert!(month_index(2025, 12) < month_index(2026, 1));
}

#[test]
fn empty_input_gives_zero_counts_and_null_rates() {
    let m = aap_metrics(&AapInput::default()).unwrap();
    assert_eq!(m.total, 0);
    assert!(m.by_category.is_empty() && m.by_admin1.is_empty());
    assert_eq!(m.acknowledged_within_sla_pct, None);
    assert_eq!(m.closed_pct, None);
    assert_eq!(m.responded_pct, None);
    assert_eq!(m.median_days_to_close, None);
    assert_eq!(m.satisfied_pct, None);
    assert_eq!((m.sensitive, m.overdue), (Some(0), 0));
    assert!(m.by_month.is_empty() && m.days_to_close_by_month.is_empty());
    let json = serde_json::to_value(&m).unwrap();
    assert!(json["closed_pct"].is_null());
    assert!(json["median_days_to_close"].is_null());
    assert_eq!(json["total"], 0);
    assert_eq!(json["by_sex"], serde_json::json!({}));
}

#[test]
fn marginals_sum_groups_and_show_nulls_as_unknown() {
    let jan = month_index(2026, 1);
    let feb = month_index(2026, 2);
    let input = AapInput {
        volume: vec![
            volume(jan, "complaint", 3),
            volume(jan, "complaint", 2),
            volume(feb, "question", 4),
            volume(feb, "complaint", 1),
            // A flags-only row (count 0) adds no month or category.
            VolumeGroup {
                overdue: 1,
                ..volume(feb, "request", 0)
            },
        ],
        profile: vec![
            profile("web", Some("female"), Some("18_59"), Some("Aden"), 3),
            profile("hotline", Some("male"), None, Some("Aden"), 2),
            profile("web", Some("female"), Some("60_plus"), None, 4),
            profile("sms", None, None, None, 1),
        ],
        closures: vec![],
    };
    let m = aap_metrics(&input).unwrap();
    assert_eq!(m.total, 10);
    assert_eq!(m.overdue, 1);
    let map = |pairs: &[(&str, u64)]| -> BTreeMap<String, u64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    };
    assert_eq!(m.by_category, map(&[("complaint", 6), ("question", 4)]));
    assert_eq!(m.by_channel, map(&[("hotline", 2), ("sms", 1), ("web", 7)]));
    assert_eq!(m.by_sex, map(&[("female", 7), ("male", 2), ("unknown", 1)]));
    assert_eq!(
        m.by_age_group,
        map(&[("18_59", 3), ("60_plus", 4), ("unknown", 3)])
    );
    assert_eq!(m.by_admin1, map(&[("Aden", 5), ("unknown", 5)]));
    let by_month: Vec<(&str, &str, u64)> = m
        .by_month
        .iter()
        .map(|r| (r.month.as_str(), r.category.as_str(), r.count))
        .collect();
    assert_eq!(
        by_month,
        vec![
            ("2026-01", "complaint", 5),
            ("2026-02", "complaint", 1),
            ("2026-02", "question", 4),
        ]
    );
    // Nothing closed, nothing due: the rates without a denominator are null.
    assert_eq!(m.closed_pct, Some(0.0));
    assert_eq!(m.acknowledged_within_sla_pct, None);
    assert_eq!(m.responded_pct, None);
    assert_eq!(m.satisfied_pct, None);
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["by_sex"]["unknown"], 1);
    assert_eq!(json["by_month"][0]["month"], "2026-01");
}

#[test]
fn a_real_value_named_unknown_merges_with_unset_ones() {
    let m = aap_metrics(&AapInput {
        volume: vec![volume(month_index(2026, 1), "question", 3)],
        profile: vec![
            profile("web", Some("unknown"), None, None, 1),
            profile("web", None, None, None, 2),
        ],
        closures: vec![],
    })
    .unwrap();
    assert_eq!(m.by_sex.len(), 1);
    assert_eq!(m.by_sex["unknown"], 3);
}

#[test]
fn rates_use_their_own_denominators() {
    let jan = month_index(2026, 1);
    let a = VolumeGroup {
        sensitive: 2,
        sla_due: 6,
        sla_met: 4,
        closed: 4,
        responded: 3,
        satisfaction_recorded: 3,
        satisfied: 1,
        overdue: 1,
        ..volume(jan, "complaint", 8)
    };
    let b = VolumeGroup {
        sensitive: 2,
        sla_due: 2,
        sla_met: 1,
        closed: 1,
        ..volume(jan, "sensitive", 2)
    };
    let m = aap_metrics(&AapInput {
        volume: vec![a, b],
        profile: vec![],
        closures: vec![],
    })
    .unwrap();
    assert_eq!(m.total, 10);
    assert_eq!(m.sensitive, Some(4));
    assert_eq!(m.overdue, 1);
    assert!(approx(m.acknowledged_within_sla_pct, 62.5)); // 5 / 8
    assert!(approx(m.closed_pct, 50.0)); // 5 / 10
    assert!(approx(m.responded_pct, 60.0)); // 3 / 5
    assert!(approx(m.satisfied_pct, 100.0 / 3.0)); // 1 / 3, unrounded
    assert_eq!(m.by_category["sensitive"], 2);
}

#[test]
fn median_odd_even_ties_and_by_month() {
    let jan = month_index(2026, 1);
    let feb = month_index(2026, 2);
    let mar = month_index(2026, 3);
    // Closing months: January 1, 3, 2 → 2. February 4, 1, 1, 10 → (1 + 4) / 2 = 2.5 (the
    // tie sits in the lower half). March: a single 0.25.
    let closures = vec![
        close(jan, 1.0),
        close(feb, 4.0),
        close(jan, 3.0),
        close(feb, 1.0),
        close(mar, 0.25),
        close(jan, 2.0),
        close(feb, 1.0),
        close(feb, 10.0),
    ];
    // The first seven, sorted: 0.25, 1, 1, 1, 2, 3, 4 → the fourth, 1.
    let odd: Vec<Closure> = closures[..7].to_vec();
    let m = aap_metrics(&AapInput {
        volume: vec![],
        profile: vec![],
        closures: odd,
    })
    .unwrap();
    assert!(approx(m.median_days_to_close, 1.0));

    let m = aap_metrics(&AapInput {
        volume: vec![],
        profile: vec![],
        closures,
    })
    .unwrap();
    // Sorted: 0.25, 1, 1, 1, 2, 3, 4, 10 → (1 + 2) / 2 = 1.5.
    assert!(approx(m.median_days_to_close, 1.5));
    let by: Vec<(String, f64, u64)> = m
        .days_to_close_by_month
        .iter()
        .map(|d| (d.month.clone(), d.median_days, d.closed))
        .collect();
    assert_eq!(
        by,
        vec![
            ("2026-01".to_string(), 2.0, 3),
            ("2026-02".to_string(), 2.5, 4),
            ("2026-03".to_string(), 0.25, 1),
        ]
    );
}

#[test]
fn median_is_fractional_days_to_the_millisecond() {
    let jan = month_index(2026, 1);
    // 36 h and 12 h 30 min → mean of the two: (1.5 + 0.520833…) / 2.
    let m = aap_metrics(&AapInput {
        volume: vec![],
        profile: vec![],
        closures: vec![
            Closure {
                month: jan,
                millis: 36 * 3_600_000,
            },
            Closure {
                month: jan,
                millis: 12 * 3_600_000 + 30 * 60_000,
            },
        ],
    })
    .unwrap();
    assert!(approx(m.median_days_to_close, (1.5 + 12.5 / 24.0) / 2.0));
    // A single closure with identical values: the median is that value.
    let m = aap_metrics(&AapInput {
        volume: vec![],
        profile: vec![],
        closures: vec![
            Closure {
                month: jan,
                millis: 1,
            };
            4
        ],
    })
    .unwrap();
    assert_eq!(m.median_days_to_close, Some(1.0 / MILLIS_PER_DAY));
    assert_eq!(m.days_to_close_by_month[0].closed, 4);
}

#[test]
fn one_group_per_item_gives_the_same_as_pre_aggregated_groups() {
    let jan = month_index(2026, 1);
    let mut items = Vec::new();
    for i in 0..20u64 {
        items.push(VolumeGroup {
            closed: (i % 5 != 0) as u64,
            sla_due: 1,
            sla_met: (i % 3 == 0) as u64,
            ..volume(
                jan + (i % 3) as i32,
                ["complaint", "question"][(i % 2) as usize],
                1,
            )
        });
    }
    let mut merged: Vec<VolumeGroup> = Vec::new();
    for g in &items {
        match merged
            .iter_mut()
            .find(|m| (m.month, &m.category) == (g.month, &g.category))
        {
            Some(m) => {
                m.count += g.count;
                m.closed += g.closed;
                m.sla_due += g.sla_due;
                m.sla_met += g.sla_met;
            }
            None => merged.push(g.clone()),
        }
    }
    assert!(merged.len() < items.len());
    let run = |volume: Vec<VolumeGroup>| {
        aap_metrics(&AapInput {
            volume,
            profile: vec![],
            closures: vec![],
        })
        .unwrap()
    };
    let (a, b) = (run(items), run(merged));
    assert_eq!(a, b);
    assert_eq!(a.total, 20);
    assert!(approx(a.closed_pct, 80.0));
    assert!(approx(a.acknowledged_within_sla_pct, 35.0)); // i % 3 == 0: 7 of 20
}
