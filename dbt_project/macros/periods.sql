{#-
    The date a record speaks for, read from its source's period label. Used for the as-at
    date (models/marts/core/as_at_date.sql) and to order records by recency in survivorship.
-#}

{% macro monthly_period_end(period) -%}
    {#- A monthly extract, 2024-10 -> 2024-10-31. -#}
    last_day(cast(try_strptime({{ period }} || '-01', '%Y-%m-%d') as date))
{%- endmacro %}

{% macro collection_year_end(period) -%}
    {#- A CIN census or SSDA903 year runs to 31 March: 2024-25 -> 2025-03-31. -#}
    make_date(try_cast(left({{ period }}, 4) as integer) + 1, 3, 31)
{%- endmacro %}

{% macro school_census_month_end(period) -%}
    {#- A School Census term, 2024-autumn -> 2024-10-31: the end of its census month
        (autumn October, spring January, summer May). The census day itself is in
        stg_school_census__censuses; this is for ordering records by recency. -#}
    last_day(make_date(
        try_cast(left({{ period }}, 4) as integer),
        case split_part({{ period }}, '-', 2) when 'autumn' then 10 when 'spring' then 1 else 5 end,
        1
    ))
{%- endmacro %}

{% macro blade_export_date(source_file) -%}
    {#- A Blade export's day is in its file name: Blade-Export_16-01-2025_person.csv. -#}
    cast(
        try_strptime(regexp_extract({{ source_file }}, '(\d{2}-\d{2}-\d{4})', 1), '%d-%m-%Y')
        as date
    )
{%- endmacro %}

{% macro attainment_results_date(source_column, period_column) -%}
    {#- The results day of an attainment period (cadence assessment), as the loader set it from
        the source schema's results_due rule (2024-25 Key Stage 2 -> 2025-07-08): the rule is
        read in one place only. Pass qualified columns (records.source): the subquery has a
        source of its own. -#}
    (
        select attainment_periods.results_date
        from {{ ref('int_attainment_periods_unioned') }} as attainment_periods
        where
            attainment_periods.source = {{ source_column }}
            and attainment_periods.academic_year = {{ period_column }}
    )
{%- endmacro %}

{% macro record_period_end(source_column, period_column) -%}
    {#- The period end of a person record (int_person_records_unioned: source, period). SEN2's
        period is the year of its January census, taken as 31 January; an attainment source's
        (cadence assessment) is its results day, as loaded. -#}
    case
        when {{ source_column }} in ('children_in_need', 'looked_after')
            then {{ collection_year_end(period_column) }}
        when {{ source_column }} = 'school_census'
            then {{ school_census_month_end(period_column) }}
        when {{ source_column }} = 'sen2'
            then make_date(try_cast({{ period_column }} as integer), 1, 31)
        when {{ source_column }} in (
            select attainment_periods.source
            from {{ ref('int_attainment_periods_unioned') }} as attainment_periods
        )
            then {{ attainment_results_date(source_column, period_column) }}
        else {{ monthly_period_end(period_column) }}
    end
{%- endmacro %}
