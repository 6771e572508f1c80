{#-
    The as-at date: the latest date the loaded data covers, the reference day of every
    "current" flag and age in the marts. It is the latest period end of any person record, as
    the loader set it by the calendar each source's schema declares (census days, 31 March,
    month ends, results days); the other columns show it by kind of collection.
-#}
{%- set latest_by_cadence = [
    ('latest_school_census_date', ['school_census']),
    ('latest_collection_year_end', ['children_in_need', 'looked_after']),
    ('latest_sen2_census_date', ['sen2']),
    ('latest_monthly_extract_end', [
        'gp', 'social_care_clients', 'community_services', 'camhs', 'cyps', 'emergency_care',
        'admitted_care', 'child_health', 'births', 'deaths',
    ]),
    ('latest_assessment_results_date', ['eyfsp', 'phonics', 'ks2', 'ks4']),
] -%}
with

person_records as (
    select * from {{ ref('int_person_records_unioned') }}
),

-- Generated columns confuse the layout rules; the rendered SQL is what runs.
-- noqa: disable=LT02
final as (
    select
        max(period_end) as as_at_date,
        {%- for column, sources in latest_by_cadence %}
        max(period_end) filter (where source in ('{{ sources | join("', '") }}'))
            as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from person_records
)
-- noqa: enable=LT02

select * from final
