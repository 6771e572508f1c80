{#-
    The as-at date: the latest date the loaded data covers, the reference day of every
    "current" flag and age in the marts. It is the latest of the School Census days, the ends
    of the CIN census and SSDA903 collection years (31 March), the SEN2 census days, the
    ends of the months of the monthly health and case-management extracts and the results days
    of the attainment sources (cadence assessment, as the loader set them).
-#}
{%- set monthly_extracts = [
    'stg_gp__registrations', 'stg_social_care_clients__clients',
    'stg_community_services__patients', 'stg_camhs__patients', 'stg_cyps__referrals',
    'stg_emergency_care__attendances', 'stg_admitted_care__episodes',
    'stg_child_health__events', 'stg_births__births', 'stg_deaths__deaths',
] -%}
with

school_censuses as (
    select * from {{ ref('stg_school_census__censuses') }}
),

cin_children as (
    select * from {{ ref('stg_children_in_need__children') }}
),

looked_after_children as (
    select * from {{ ref('stg_looked_after__children') }}
),

sen2_persons as (
    select * from {{ ref('stg_sen2__persons') }}
),

attainment_periods as (
    select * from {{ ref('int_attainment_periods_unioned') }}
),

collection_years as (
    select collection_year from cin_children
    union all
    select collection_year from looked_after_children
),

-- Generated branches confuse the layout rules; the rendered SQL is what runs.
-- noqa: disable=LT02
monthly_extracts as (
    {%- for model in monthly_extracts %}
    select max(extract_period) as extract_period from {{ ref(model) }}
    {{- "\n    union all" if not loop.last }}
    {%- endfor %}
),
-- noqa: enable=LT02

latest_dates as (
    select
        (select max(census_date) from school_censuses) as latest_school_census_date,
        (
            select max({{ collection_year_end('collection_year') }}) from collection_years
        ) as latest_collection_year_end,
        (
            select max({{ blade_export_date('source_file') }}) from sen2_persons
        ) as latest_sen2_census_date,
        (
            select max({{ monthly_period_end('extract_period') }}) from monthly_extracts
        ) as latest_monthly_extract_end,
        (
            select max(results_date) from attainment_periods
        ) as latest_assessment_results_date
),

final as (
    select
        latest_school_census_date,
        latest_collection_year_end,
        latest_sen2_census_date,
        latest_monthly_extract_end,
        latest_assessment_results_date,
        greatest(
            latest_school_census_date,
            latest_collection_year_end,
            latest_sen2_census_date,
            latest_monthly_extract_end,
            latest_assessment_results_date
        ) as as_at_date
    from latest_dates
)

select * from final
