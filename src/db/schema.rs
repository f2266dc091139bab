// Diesel table definitions for both backends (kept in step with migrations/).
// Written by hand: one schema serves SQLite and PostgreSQL through MultiConnection.

diesel::table! {
    clusters (id) {
        id -> Integer,
        code -> Text,
        name -> Text,
        lead_emails -> Text,
        language -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    operations (id) {
        id -> Integer,
        slug -> Text,
        cluster_id -> Integer,
        country -> Text,
        name -> Text,
        created_at -> Timestamp,
        default_language -> Nullable<Text>,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    organizations (id) {
        id -> Integer,
        name -> Text,
        name_key -> Text,
        org_type -> Text,
        created_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    users (id) {
        id -> Integer,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        cluster_id -> Nullable<Integer>,
        disabled -> Bool,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        password_set_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    account_links (id) {
        id -> Integer,
        user_id -> Integer,
        purpose -> Text,
        token_hash -> Text,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    user_operations (user_id,operation_id) {
        user_id -> Integer,
        operation_id -> Integer,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Integer,
        user_id -> Integer,
        token_hash -> Text,
        label -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Integer,
        user_id -> Integer,
        token_hash -> Text,
        csrf -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    survey_definitions (id) {
        id -> Integer,
        survey_id -> Text,
        version -> Integer,
        kind -> Text,
        fingerprint -> Text,
        definition -> Text,
        loaded_at -> Timestamp,
        origin -> Text,
    }
}

diesel::table! {
    survey_uploads (id) {
        id -> Integer,
        survey_id -> Text,
        version -> Integer,
        file_name -> Text,
        definition -> Text,
        notes -> Text,
        uploaded_by -> Nullable<Integer>,
        created_at -> Timestamp,
        published_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    rounds (id) {
        id -> Integer,
        operation_id -> Nullable<Integer>,
        framework -> Text,
        surveys -> Text,
        title -> Text,
        opens_at -> Timestamp,
        closes_at -> Timestamp,
        state -> Text,
        remind_days_before -> Nullable<Integer>,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        cluster_id -> Nullable<Integer>,
    }
}

diesel::table! {
    user_countries (user_id, country) {
        user_id -> Integer,
        country -> Text,
    }
}

diesel::table! {
    invitations (id) {
        id -> Integer,
        round_id -> Integer,
        survey_id -> Text,
        email -> Text,
        organization_id -> Integer,
        org_type -> Text,
        token_hash -> Text,
        reminder_token_hash -> Nullable<Text>,
        language -> Nullable<Text>,
        submission_key -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        reminded_at -> Nullable<Timestamp>,
        responded_at -> Nullable<Timestamp>,
        membership -> Nullable<Text>,
    }
}

diesel::table! {
    response_drafts (invitation_id) {
        invitation_id -> Integer,
        language -> Text,
        answers -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// One row per response: the answers whole (a JSON object) and the item scores packed
    /// by position (`crate::db::packed`, layout in `response_score_columns`).
    responses (id) {
        id -> Integer,
        uuid -> Text,
        round_id -> Integer,
        survey_id -> Text,
        survey_version -> Integer,
        org_type -> Text,
        language -> Text,
        answers_digest -> Text,
        submitted_at -> Timestamp,
        snapshot -> Nullable<Integer>,
        answers -> Text,
        scores -> Text,
    }
}

diesel::table! {
    /// Which question each position of `responses.scores` holds, per survey version.
    response_score_columns (survey_id, survey_version, position) {
        survey_id -> Text,
        survey_version -> Integer,
        position -> Integer,
        question -> Text,
    }
}

diesel::table! {
    feedback (id) {
        id -> Integer,
        reference -> Text,
        operation_id -> Integer,
        channel -> Text,
        language -> Text,
        category -> Text,
        priority -> Text,
        status -> Text,
        sensitive -> Bool,
        message -> Text,
        answers -> Text,
        consent_to_contact -> Bool,
        contact_encrypted -> Nullable<Text>,
        sex -> Nullable<Text>,
        age_group -> Nullable<Text>,
        disability -> Nullable<Text>,
        admin1 -> Nullable<Text>,
        admin2 -> Nullable<Text>,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        ack_due_at -> Timestamp,
        acknowledged_at -> Nullable<Timestamp>,
        responded_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        satisfied -> Nullable<Bool>,
        contact_purged_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    feedback_sum_items (operation_id, grain, period, sensitive, category) {
        operation_id -> Integer,
        grain -> Integer,
        period -> Date,
        sensitive -> Bool,
        category -> Text,
        items -> BigInt,
        acknowledged -> BigInt,
        ack_in_sla -> BigInt,
        closed -> BigInt,
        closed_responded -> BigInt,
        closed_rated -> BigInt,
        closed_satisfied -> BigInt,
    }
}

diesel::table! {
    feedback_sum_profile (operation_id, grain, period, sensitive, dimension, value) {
        operation_id -> Integer,
        grain -> Integer,
        period -> Date,
        sensitive -> Bool,
        dimension -> Text,
        value -> Text,
        items -> BigInt,
    }
}

diesel::table! {
    feedback_sum_unacked (operation_id, grain, period, sensitive, due_day) {
        operation_id -> Integer,
        grain -> Integer,
        period -> Date,
        sensitive -> Bool,
        due_day -> Date,
        items -> BigInt,
        open_items -> BigInt,
    }
}

diesel::table! {
    feedback_sum_closures (operation_id, grain, period, sensitive, closed_month, bucket) {
        operation_id -> Integer,
        grain -> Integer,
        period -> Date,
        sensitive -> Bool,
        closed_month -> Date,
        bucket -> Integer,
        items -> BigInt,
    }
}

diesel::table! {
    feedback_events (id) {
        id -> Integer,
        feedback_id -> Integer,
        action -> Text,
        note -> Nullable<Text>,
        referred_to -> Nullable<Text>,
        satisfied -> Nullable<Bool>,
        actor_user_id -> Nullable<Integer>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    action_items (id) {
        id -> Integer,
        round_id -> Integer,
        indicator -> Text,
        action -> Text,
        owner -> Text,
        due_date -> Nullable<Date>,
        support_needed -> Text,
        status -> Text,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> Integer,
        kind -> Text,
        dedupe_key -> Nullable<Text>,
        recipient -> Text,
        subject -> Text,
        message -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_by -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    admin_areas (id) {
        id -> Integer,
        operation_id -> Integer,
        level -> Integer,
        pcode -> Text,
        name -> Text,
        parent_pcode -> Nullable<Text>,
    }
}

diesel::table! {
    scorecard_sends (id) {
        id -> Integer,
        cluster_id -> Integer,
        period -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Integer,
        actor_user_id -> Nullable<Integer>,
        action -> Text,
        target -> Text,
        detail -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    totp_credentials (user_id) {
        user_id -> Integer,
        secret_sealed -> Text,
        created_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        last_step -> Nullable<BigInt>,
    }
}

diesel::table! {
    totp_recovery_codes (id) {
        id -> Integer,
        user_id -> Integer,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    collectors (id) {
        id -> Integer,
        operation_id -> Integer,
        name -> Text,
        channel -> Text,
        token_hash -> Text,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    collector_submissions (id) {
        id -> Integer,
        operation_id -> Integer,
        instance_id -> Text,
        collector_id -> Integer,
        feedback_id -> Integer,
        digest -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(totp_credentials -> users (user_id));

diesel::joinable!(totp_recovery_codes -> users (user_id));

diesel::joinable!(operations -> clusters (cluster_id));

diesel::joinable!(users -> clusters (cluster_id));

diesel::joinable!(user_operations -> users (user_id));

diesel::joinable!(user_operations -> operations (operation_id));

diesel::joinable!(api_tokens -> users (user_id));

diesel::joinable!(sessions -> users (user_id));

diesel::joinable!(account_links -> users (user_id));

diesel::joinable!(audit_log -> users (actor_user_id));

diesel::joinable!(rounds -> operations (operation_id));
diesel::joinable!(user_countries -> users (user_id));

diesel::joinable!(invitations -> rounds (round_id));

diesel::joinable!(invitations -> organizations (organization_id));

diesel::joinable!(responses -> rounds (round_id));

diesel::joinable!(feedback -> operations (operation_id));

diesel::joinable!(feedback_events -> feedback (feedback_id));

diesel::joinable!(action_items -> rounds (round_id));

diesel::joinable!(scorecard_sends -> clusters (cluster_id));

diesel::table! {
    memberships (id) {
        id -> Integer,
        operation_id -> Integer,
        organization_id -> Integer,
        status -> Text,
        level -> Text,
        since -> Date,
        focal_point_email -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    membership_events (id) {
        id -> Integer,
        membership_id -> Integer,
        action -> Text,
        status -> Text,
        level -> Text,
        since -> Date,
        focal_point_email -> Nullable<Text>,
        actor_user_id -> Nullable<Integer>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    self_assessments (id) {
        id -> Integer,
        membership_id -> Integer,
        year -> Integer,
        answers -> Text,
        via -> Text,
        entered_by -> Nullable<Integer>,
        submitted_at -> Timestamp,
    }
}

diesel::table! {
    self_assessment_links (id) {
        id -> Integer,
        membership_id -> Integer,
        year -> Integer,
        email -> Text,
        token_hash -> Text,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    onboarding_ticks (membership_id, item) {
        membership_id -> Integer,
        item -> Text,
        ticked_by -> Nullable<Integer>,
        ticked_at -> Timestamp,
    }
}

diesel::joinable!(memberships -> operations (operation_id));

diesel::joinable!(memberships -> organizations (organization_id));

diesel::joinable!(membership_events -> memberships (membership_id));

diesel::joinable!(self_assessments -> memberships (membership_id));

diesel::joinable!(onboarding_ticks -> memberships (membership_id));

diesel::joinable!(onboarding_ticks -> users (ticked_by));

diesel::joinable!(membership_events -> users (actor_user_id));
diesel::joinable!(collectors -> operations (operation_id));

diesel::joinable!(collector_submissions -> collectors (collector_id));

diesel::joinable!(collector_submissions -> feedback (feedback_id));

diesel::allow_tables_to_appear_in_same_query!(
    clusters,
    operations,
    organizations,
    users,
    user_operations,
    api_tokens,
    sessions,
    account_links,
    survey_definitions,
    rounds,
    user_countries,
    invitations,
    response_drafts,
    responses,
    response_score_columns,
    feedback,
    feedback_events,
    feedback_sum_items,
    feedback_sum_profile,
    feedback_sum_unacked,
    feedback_sum_closures,
    action_items,
    outbox,
    scorecard_sends,
    admin_areas,
    audit_log,
    totp_credentials,
    totp_recovery_codes,
    memberships,
    membership_events,
    self_assessments,
    self_assessment_links,
    onboarding_ticks,
    collectors,
    collector_submissions,
);
