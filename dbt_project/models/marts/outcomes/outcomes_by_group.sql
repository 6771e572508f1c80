{#-
    DfE's outcomes for children in need, for the authority's own children: attendance,
    exclusions and attainment per academic year and outcome group (all pupils, children in
    need, child protection plan, looked after 12 months or more, in need in the last six years,
    SEN support, EHC plan, free school meals), in total and by key stage, sex, ethnicity group
    and postcode district. Long form: one row per year, group, breakdown value and measure.
    Groups and measures are defined once (macros/outcome_groups.sql, fct_pupil_outcomes);
    disclosure controlled as every aggregate mart.
-#}
with

pupil_outcomes as (
    select * from {{ ref('fct_pupil_outcomes') }}
),

children as (
    select * from {{ ref('dim_child') }}
),

attendance as (
    select * from {{ ref('fct_attendance') }}
),

-- Generated branches confuse the layout rules; the rendered SQL is what runs.
-- noqa: disable=LT02
memberships as (
    {%- for name, flag in outcome_groups() %}
    select
        *,
        '{{ name }}' as outcome_group
    from pupil_outcomes
    where {{ flag }}
    {{- "\n    union all" if not loop.last }}
    {%- endfor %}
),
-- noqa: enable=LT02

characterised as (
    select
        memberships.*,
        coalesce(children.sex, 'U') as sex,
        {{ ethnicity_group('children.ethnicity') }} as ethnicity_group,
        coalesce(children.postcode_district, 'not known') as postcode_district
    from memberships
    left join children on memberships.person_key = children.person_key
),

by_characteristic as (
    select * from characterised
    unpivot (breakdown_value for breakdown in (key_stage, sex, ethnicity_group, postcode_district))
),

breakdown_rows as (
    -- Each breakdown's values, and its total: every member once more, as value 'all'.
    select
        *,
        false as is_total
    from by_characteristic
    union all
    select
        {{ star_except(['breakdown_value']) }},
        'all' as breakdown_value,
        true as is_total
    from by_characteristic
),

cells as (
    {{ outcome_measure_cells(
        'breakdown_rows',
        ['academic_year', 'outcome_group', 'breakdown', 'breakdown_value', 'is_total']) }}
),

controlled as (
    {{ controlled_outcome_measures(
        'cells', ['academic_year', 'outcome_group', 'breakdown', 'measure'], 'breakdown_value') }}
),

terms_reported as (
    select
        academic_year,
        {{ string_agg_distinct('term', ', ') }} as attendance_terms_reported
    from attendance
    group by academic_year
),

final as (
    select
        controlled.academic_year,
        controlled.outcome_group,
        controlled.breakdown,
        controlled.breakdown_value,
        {{ breakdown_value_label('controlled.breakdown', 'controlled.breakdown_value',
            {'sex': 'dfe_sex'}) }} as breakdown_value_label,
        controlled.is_total,
        controlled.measure,
        controlled.pupils,
        controlled.numerator,
        controlled.denominator,
        controlled.rate_per_100,
        controlled.average_score,
        terms_reported.attendance_terms_reported,
        controlled.is_suppressed
    from controlled
    left join terms_reported on controlled.academic_year = terms_reported.academic_year
)

select * from final
