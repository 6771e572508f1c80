{#-
    The headline numbers a dashboard shows, one row per KPI for the as-at date: children
    known, each cohort, and the shares that matter to planners. Counts of 1-4 are withheld (or
    rounded, by configuration) and a share built on a withheld count is withheld too.

    Every count here is also published by a planning mart: each cohort (and children known to
    any service) is a cohort total of planning_cohort_counts, each overlap a count of
    planning_cohort_overlaps, where complementary suppression may withhold it. A KPI is
    withheld wherever its count is withheld there, so the dashboard never gives away what a
    planning mart withholds.
-#}
with

as_at as (
    select as_at_date from {{ ref('as_at_date') }}
),

children as (
    select * from {{ ref('dim_child') }}
    where not is_deceased
),

counts as (
    select
        'children known to any service' as kpi,
        count(*) as children
    from children
    {%- for name, flag in cohorts() %}
        union all
        select
            '{{ name }}' as kpi,
            count(*) filter (where {{ flag }}) as children
        from children
    {%- endfor %}
    union all
    select
        'looked after with an EHC plan' as kpi,
        count(*) filter (where is_currently_looked_after and has_ehc_plan) as children
    from children
    union all
    select
        'children in need eligible for free school meals' as kpi,
        count(*) filter (where is_currently_cin and is_fsm_eligible) as children
    from children
    union all
    select
        'SEND (EHC plan or SEN support) known to CAMHS' as kpi,
        count(*) filter (where (has_ehc_plan or has_sen_support) and is_known_to_camhs)
            as children
    from children
),

-- The same counts in the planning marts, withheld or not there.
planning_counts as (
    select
        case cohort
            when 'all children' then 'children known to any service' else cohort
        end as kpi,
        bool_or(is_suppressed) as is_suppressed
    from {{ ref('planning_cohort_counts') }}
    where is_total
    group by cohort
    union all
    select
        case
            when cohort = 'looked after' and other_cohort = 'EHC plan'
                then 'looked after with an EHC plan'
            when cohort = 'children in need' and other_cohort = 'free school meals'
                then 'children in need eligible for free school meals'
        end as kpi,
        is_suppressed and children_also_in_other is null as is_suppressed
    from {{ ref('planning_cohort_overlaps') }}
    where
        (cohort = 'looked after' and other_cohort = 'EHC plan')
        or (cohort = 'children in need' and other_cohort = 'free school meals')
),

cells as (
    select
        counts.kpi,
        'kpis' as kpi_table,
        false as is_total,
        counts.children,
        planning_counts.is_suppressed as is_withheld_in_planning
    from counts
    left join planning_counts on counts.kpi = planning_counts.kpi
),

controlled as (
    {{ disclosure_control('cells', ['kpi_table', 'kpi'], 'children', 'kpi',
        withheld='is_withheld_in_planning') }}
),

shares as (
    select
        controlled.kpi,
        controlled.children,
        controlled.is_suppressed,
        case controlled.kpi
            when 'looked after with an EHC plan' then 'looked after'
            when 'children in need eligible for free school meals' then 'children in need'
            when 'SEND (EHC plan or SEN support) known to CAMHS' then null
        end as share_of
    from controlled
),

final as (
    select
        as_at.as_at_date,
        shares.kpi,
        cast(shares.children as bigint) as children,
        shares.share_of,
        shares.is_suppressed,
        round(100 * cast(shares.children as double) / denominator.children, 1)
            as percent_of_cohort
    from shares
    cross join as_at
    left join shares as denominator on shares.share_of = denominator.kpi
)

select * from final
