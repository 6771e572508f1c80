{#-
    The SEND cohort (living children with an EHC plan or SEN support) by presenting need, with
    health indicators: registered with a GP, known to CAMHS, attended A&E and admitted to
    hospital in the last year, and the median CAMHS wait from referral to first contact. The
    presenting need is the first-ranked need on the child's latest School Census, else the
    first-ranked need in SEN2. Disclosure controlled per need and indicator, and across the
    needs (see cells).
-#}
with

as_at as (
    select as_at_date from {{ ref('as_at_date') }}
),

children as (
    select * from {{ ref('dim_child') }}
    where not is_deceased and (has_ehc_plan or has_sen_support)
),

person_keys as (
    select * from {{ ref('int_person_keys') }}
),

census_needs as (
    select * from {{ ref('stg_school_census__sen_needs') }}
),

sen2_needs as (
    select * from {{ ref('stg_sen2__sen_needs') }}
),

sen2_plans as (
    select * from {{ ref('stg_sen2__active_plans') }}
),

health_events as (
    select * from {{ ref('fct_health_events') }}
),

needs as (
    select
        person_keys.person_key,
        census_needs.sen_type as need,
        1 as source_order,
        census_needs.census_period as period
    from census_needs
    inner join person_keys on census_needs.person_record_id = person_keys.person_record_id
    where census_needs.sen_type_rank = 1
    union all
    select
        person_keys.person_key,
        sen2_needs.sen_type as need,
        2 as source_order,
        sen2_needs.census_period as period
    from sen2_needs
    inner join sen2_plans
        on
            sen2_needs.census_period = sen2_plans.census_period
            and sen2_needs.active_plan_id = sen2_plans.active_plan_id
    inner join person_keys on sen2_plans.person_record_id = person_keys.person_record_id
    where sen2_needs.sen_type_rank = 1
),

presenting_need as (
    {{ deduplicate('needs', 'person_key',
        'source_order asc nulls last, period desc, need asc nulls last') }}
),

events_in_year as (
    select
        health_events.person_key,
        bool_or(health_events.event_type = 'ae_attendance') as attended_ae,
        bool_or(health_events.event_type = 'admission') as was_admitted
    from health_events
    cross join as_at
    where health_events.event_date > as_at.as_at_date - interval 1 year
    group by health_events.person_key
),

camhs_waits as (
    select
        person_key,
        median(waiting_days) as waiting_days
    from health_events
    where event_type = 'camhs_referral'
    group by person_key
),

profile as (
    select
        children.person_key,
        children.is_registered_with_gp as registered_with_gp,
        children.is_known_to_camhs as known_to_camhs,
        camhs_waits.waiting_days,
        coalesce(presenting_need.need, 'not recorded') as presenting_need,
        coalesce(events_in_year.attended_ae, false) as attended_ae_in_year,
        coalesce(events_in_year.was_admitted, false) as admitted_in_year
    from children
    left join presenting_need on children.person_key = presenting_need.person_key
    left join events_in_year on children.person_key = events_in_year.person_key
    left join camhs_waits on children.person_key = camhs_waits.person_key
),

by_indicator as (
    select
        person_key,
        presenting_need,
        indicator,
        has_indicator
    from profile
    unpivot (
        has_indicator for indicator in (
            registered_with_gp, known_to_camhs, attended_ae_in_year, admitted_in_year
        )
    )
),

counts as (
    select
        presenting_need,
        indicator,
        case when has_indicator then 'yes' else 'no' end as status,
        count(*) as children
    from by_indicator
    group by presenting_need, indicator, has_indicator
),

need_totals as (
    select
        presenting_need,
        count(*) as children
    from profile
    group by presenting_need
),

indicators as (
    select distinct indicator from counts
),

-- The counts are a table three ways: each need's yes and no add up to the need's children
-- (the rows published); over the needs, the yes (or no) of an indicator add up to the SEND
-- children with (without) it, e.g. the SEND children known to CAMHS of dashboard_kpis; and
-- the needs' children add up to the SEND cohort (EHC plan plus SEN support in
-- planning_cohort_counts). A count is one cell (`cell`) in each table it is part of, so
-- disclosure control withholds it in all of them or none.
cells as (
    select
        presenting_need || ' / ' || indicator as control_table,
        presenting_need,
        indicator,
        status,
        false as is_total,
        children,
        presenting_need || ' / ' || indicator || ' / ' || status as cell,
        true as is_published
    from counts
    union all
    select
        need_totals.presenting_need || ' / ' || indicators.indicator as control_table,
        need_totals.presenting_need,
        indicators.indicator,
        'all' as status,
        true as is_total,
        need_totals.children,
        need_totals.presenting_need || ' / all' as cell,
        true as is_published
    from need_totals
    cross join indicators
    union all
    select
        'all needs / ' || indicator || ' / ' || status as control_table,
        presenting_need,
        indicator,
        status,
        false as is_total,
        children,
        presenting_need || ' / ' || indicator || ' / ' || status as cell,
        false as is_published
    from counts
    union all
    select
        'all needs / ' || indicator || ' / ' || status as control_table,
        'all needs' as presenting_need,
        indicator,
        status,
        true as is_total,
        sum(children) as children,
        'all needs / ' || indicator || ' / ' || status as cell,
        false as is_published
    from counts
    group by indicator, status
    union all
    select
        'all needs' as control_table,
        presenting_need,
        null as indicator,
        'all' as status,
        false as is_total,
        children,
        presenting_need || ' / all' as cell,
        false as is_published
    from need_totals
    union all
    select
        'all needs' as control_table,
        'all needs' as presenting_need,
        null as indicator,
        'all' as status,
        true as is_total,
        sum(children) as children,
        'all needs / all' as cell,
        false as is_published
    from need_totals
),

-- Two of these totals are published elsewhere: the SEND children known to CAMHS
-- (dashboard_kpis) and the SEND cohort (planning_cohort_counts' EHC plan and SEN support
-- totals, when both are published). Withheld here as there; never withheld here otherwise.
published_elsewhere as (
    select
        'all needs / known_to_camhs / yes' as cell,
        is_suppressed
    from {{ ref('dashboard_kpis') }}
    where kpi = 'SEND (EHC plan or SEN support) known to CAMHS'
    union all
    select
        'all needs / all' as cell,
        case when not bool_or(is_suppressed) then false end as is_suppressed
    from {{ ref('planning_cohort_counts') }}
    where is_total and cohort in ('EHC plan', 'SEN support')
),

cells_with_elsewhere as (
    select
        cells.*,
        published_elsewhere.is_suppressed as is_withheld_elsewhere
    from cells
    left join published_elsewhere on cells.cell = published_elsewhere.cell
),

controlled as (
    {{ disclosure_control('cells_with_elsewhere', ['control_table'], 'children', 'cell',
        cell_by=['cell'], withheld='is_withheld_elsewhere') }}
),

need_waits as (
    select
        presenting_need,
        median(waiting_days) as median_camhs_wait_days,
        count(waiting_days) as children_with_wait
    from profile
    group by presenting_need
),

final as (
    select
        as_at.as_at_date,
        controlled.presenting_need,
        {{ code_label('sen_type', 'controlled.presenting_need') }} as presenting_need_label,
        controlled.indicator,
        controlled.status,
        controlled.is_total,
        controlled.is_suppressed,
        cast(controlled.children as bigint) as children,
        -- The need's median wait, on its total rows, when at least five children waited.
        case
            when controlled.is_total and need_waits.children_with_wait >= 5
                then need_waits.median_camhs_wait_days
        end as median_camhs_wait_days
    from controlled
    cross join as_at
    left join need_waits on controlled.presenting_need = need_waits.presenting_need
    where controlled.is_published
)

select * from final
