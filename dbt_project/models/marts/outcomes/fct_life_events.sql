{#-
    One row per child (person_key) and life event, the first time the loaded data shows it:
    first referral to children's social care that led to a child in need episode, entering care
    (the start of the first period of care that is not short breaks), the start of an EHC plan,
    the first referral to CAMHS. With the academic year it fell in, which the life-event view
    measures outcomes from.
-#}
with

cin_episodes as (
    select * from {{ ref('fct_cin_episodes') }}
),

periods_of_care as (
    select * from {{ ref('fct_periods_of_care') }}
),

ehc_plans as (
    select * from {{ ref('fct_ehc_plans') }}
),

health_events as (
    select * from {{ ref('fct_health_events') }}
),

events as (
    -- A referral with no further action is a referral, not a child in need.
    select
        person_key,
        'first CIN referral' as life_event,
        min(referral_date) as event_date
    from cin_episodes
    where not is_referral_nfa
    group by person_key
    union all
    select
        person_key,
        'entering care' as life_event,
        min(period_start_date) as event_date
    from periods_of_care
    where coalesce(legal_status_at_start not in {{ short_break_legal_statuses() }}, true)
    group by person_key
    union all
    -- SEN2 gives the start of plans issued in the return's year only.
    select
        person_key,
        'EHC plan start' as life_event,
        min(plan_start_date) as event_date
    from ehc_plans
    group by person_key
    union all
    select
        person_key,
        'first CAMHS referral' as life_event,
        min(event_date) as event_date
    from health_events
    where event_type = 'camhs_referral'
    group by person_key
),

final as (
    select
        person_key,
        life_event,
        event_date,
        {{ academic_year_of('event_date') }} as event_academic_year
    from events
    where event_date is not null
)

select * from final
