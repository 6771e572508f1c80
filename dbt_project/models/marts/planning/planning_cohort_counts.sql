{#-
    How many living children are in each cohort as at the as-at date, in total and broken
    down by sex, age band, ethnicity and postcode district. Long form: one row per cohort,
    breakdown and value, with the cohort total as the breakdown's total row. Disclosure
    controlled (macros/disclosure_control.sql).
-#}
with

as_at as (
    select as_at_date from {{ ref('as_at_date') }}
),

children as (
    select * from {{ ref('dim_child') }}
    where not is_deceased
),

all_children as (
    select
        person_key,
        'all children' as cohort,
        sex,
        coalesce(age_band, 'not known') as age_band,
        coalesce(ethnicity, 'not known') as ethnicity,
        coalesce(postcode_district, 'not known') as postcode_district
    from children
),

memberships as (
    select * from all_children
    union all
    {{ cohort_memberships('children') }}
),

by_characteristic as (
    select * from memberships
    unpivot (breakdown_value for breakdown in (sex, age_band, ethnicity, postcode_district))
),

-- A cohort's total is one count (`cell_breakdown` 'all') in each of its breakdowns' tables.
cells as (
    select
        cohort,
        breakdown,
        breakdown_value,
        false as is_total,
        count(*) as children,
        breakdown as cell_breakdown
    from by_characteristic
    group by cohort, breakdown, breakdown_value
    union all
    select
        memberships.cohort,
        breakdowns.breakdown,
        'all' as breakdown_value,
        true as is_total,
        count(*) as children,
        'all' as cell_breakdown
    from memberships
    cross join
        (values ('sex'), ('age_band'), ('ethnicity'), ('postcode_district')) as breakdowns (breakdown)
    group by memberships.cohort, breakdowns.breakdown
),

controlled as (
    {{ disclosure_control('cells', ['cohort', 'breakdown'], 'children', 'breakdown_value',
        cell_by=['cohort', 'cell_breakdown', 'breakdown_value']) }}
),

final as (
    select
        as_at.as_at_date,
        controlled.cohort,
        controlled.breakdown,
        controlled.breakdown_value,
        {{ breakdown_value_label('controlled.breakdown', 'controlled.breakdown_value',
            {'sex': 'dfe_sex', 'ethnicity': 'ethnicity'}) }} as breakdown_value_label,
        controlled.is_total,
        cast(controlled.children as bigint) as children,
        controlled.is_suppressed
    from controlled
    cross join as_at
)

select * from final
