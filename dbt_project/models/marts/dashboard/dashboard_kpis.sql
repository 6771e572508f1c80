{#-
    The headline numbers a dashboard shows, one row per KPI for the as-at date: children
    known, each cohort, and the shares that matter to planners. Counts of 1-4 are withheld (or
    rounded, by configuration) and a share built on a withheld count is withheld too.
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

cells as (
    select
        kpi,
        'kpis' as kpi_table,
        false as is_total,
        children
    from counts
),

controlled as (
    {{ disclosure_control('cells', ['kpi_table', 'kpi'], 'children', 'kpi') }}
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
        round(100.0 * shares.children / denominator.children, 1) as percent_of_cohort
    from shares
    cross join as_at
    left join shares as denominator on shares.share_of = denominator.kpi
)

select * from final
