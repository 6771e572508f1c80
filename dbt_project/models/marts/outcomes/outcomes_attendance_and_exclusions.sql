{#-
    Attendance and exclusions per academic year, by DfE's definitions, for trends over years.
    Long form: one row per academic year and measure, with the count, what it is a share of
    and the rate per 100.

    Attendance: each child's sessions over the terms of the year the censuses have reported
    so far (fct_attendance, all enrolments added up), so persistent and severe absence are
    over the year. Exclusions: counted in the academic year they began in, per 100 children on
    roll at the January (spring) census of the year, as DfE computes its full-year rates;
    without that census loaded the rates are blank. Disclosure controlled: counts of 1-4
    withheld (or every count rounded), and a rate is blank where its count is withheld or the
    count it is a share of is below the threshold.
-#}
{#- (measure, its count in by_year, the count in by_year it is a share of) -#}
{%- set measures = [
    ('pupils_with_possible_sessions', 'pupils_with_possible_sessions', none),
    ('persistent_absentees', 'persistent_absentees', 'pupils_with_possible_sessions'),
    ('severe_absentees', 'severe_absentees', 'pupils_with_possible_sessions'),
    ('sessions_overall_absence', 'sessions_overall_absence', 'sessions_possible'),
    ('sessions_authorised_absence', 'sessions_authorised_absence', 'sessions_possible'),
    ('sessions_unauthorised_absence', 'sessions_unauthorised_absence', 'sessions_possible'),
    ('pupils_on_roll_in_january', 'pupils_on_roll', none),
    ('suspensions', 'suspensions', 'pupils_on_roll'),
    ('lunchtime_suspensions', 'lunchtime_suspensions', 'pupils_on_roll'),
    ('permanent_exclusions', 'permanent_exclusions', 'pupils_on_roll'),
    ('pupils_suspended', 'pupils_suspended', 'pupils_on_roll'),
] -%}
with

attendance as (
    select * from {{ ref('fct_attendance') }}
),

exclusions as (
    select * from {{ ref('fct_exclusions') }}
),

enrolments as (
    select * from {{ ref('fct_school_enrolments') }}
),

children_attendance as (
    select
        academic_year,
        person_key,
        sum(sessions_possible) as sessions_possible,
        sum(sessions_authorised_absence) as sessions_authorised_absence,
        sum(sessions_unauthorised_absence) as sessions_unauthorised_absence,
        sum(sessions_overall_absence) as sessions_overall_absence
    from attendance
    where sessions_possible > 0
    group by academic_year, person_key
),

attendance_by_year as (
    select
        academic_year,
        count(*) as pupils_with_possible_sessions,
        count(*) filter (
            where {{ is_persistently_absent('sessions_overall_absence', 'sessions_possible') }}
        ) as persistent_absentees,
        count(*) filter (
            where {{ is_severely_absent('sessions_overall_absence', 'sessions_possible') }}
        ) as severe_absentees,
        sum(sessions_possible) as sessions_possible,
        sum(sessions_authorised_absence) as sessions_authorised_absence,
        sum(sessions_unauthorised_absence) as sessions_unauthorised_absence,
        sum(sessions_overall_absence) as sessions_overall_absence
    from children_attendance
    group by academic_year
),

terms_reported as (
    select
        academic_year,
        {{ string_agg_distinct('term', ', ') }} as attendance_terms_reported
    from attendance
    group by academic_year
),

exclusions_by_year as (
    select
        academic_year,
        count(*) filter (where is_suspension) as suspensions,
        count(*) filter (where is_lunchtime_suspension) as lunchtime_suspensions,
        count(*) filter (where is_permanent_exclusion) as permanent_exclusions,
        count(distinct person_key) filter (where is_suspension) as pupils_suspended
    from exclusions
    group by academic_year
),

-- Pupils on roll in January: the spring census of the academic year (2025-spring for
-- 2024-25), each child once however many schools they are on roll at.
on_roll_in_january as (
    select
        cast(cast(left(census_period, 4) as integer) - 1 as string)
        || '-' || right(left(census_period, 4), 2) as academic_year,
        count(distinct person_key) as pupils_on_roll
    from enrolments
    where census_period like '%-spring'
    group by census_period
),

years as (
    select academic_year from attendance_by_year
    union
    select academic_year from exclusions_by_year
),

by_year as (
    select
        years.academic_year,
        terms_reported.attendance_terms_reported,
        attendance_by_year.pupils_with_possible_sessions,
        attendance_by_year.persistent_absentees,
        attendance_by_year.severe_absentees,
        attendance_by_year.sessions_possible,
        attendance_by_year.sessions_authorised_absence,
        attendance_by_year.sessions_unauthorised_absence,
        attendance_by_year.sessions_overall_absence,
        on_roll_in_january.pupils_on_roll,
        coalesce(exclusions_by_year.suspensions, 0) as suspensions,
        coalesce(exclusions_by_year.lunchtime_suspensions, 0) as lunchtime_suspensions,
        coalesce(exclusions_by_year.permanent_exclusions, 0) as permanent_exclusions,
        coalesce(exclusions_by_year.pupils_suspended, 0) as pupils_suspended
    from years
    left join attendance_by_year on years.academic_year = attendance_by_year.academic_year
    left join terms_reported on years.academic_year = terms_reported.academic_year
    left join exclusions_by_year on years.academic_year = exclusions_by_year.academic_year
    left join on_roll_in_january on years.academic_year = on_roll_in_january.academic_year
),

-- Generated branches confuse the layout rules; the rendered SQL is what runs.
-- noqa: disable=LT02
cells as (
    select
        by_year.academic_year,
        by_year.attendance_terms_reported,
        measures.measure,
        measures.numerator,
        measures.denominator,
        false as is_total
    from by_year,
        lateral (
            {%- for measure, numerator, denominator in measures %}
            select
                '{{ measure }}' as measure,
                by_year.{{ numerator }} as numerator,
                {{ 'by_year.' ~ denominator if denominator else 'null' }} as denominator
            {{ "union all" if not loop.last }}
            {%- endfor %}
        ) as measures
    -- No attendance reported for a year: no attendance measures, rather than zeros.
    where measures.numerator is not null
),
-- noqa: enable=LT02

controlled as (
    {{ disclosure_control('cells', ['academic_year', 'measure'], 'numerator', 'measure') }}
),

final as (
    select
        academic_year,
        measure,
        cast(numerator as bigint) as numerator,
        cast(
            case when denominator >= {{ var('disclosure_threshold', 5) }} then denominator end
            as bigint
        ) as denominator,
        case
            when denominator >= {{ var('disclosure_threshold', 5) }} and denominator > 0
                then 100 * cast(numerator as double) / denominator
        end as rate_per_100,
        attendance_terms_reported,
        is_suppressed
    from controlled
)

select * from final
