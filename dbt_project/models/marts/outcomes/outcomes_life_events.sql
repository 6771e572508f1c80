{#-
    Outcomes before and after a life event, for trend lines: for each event of fct_life_events
    (first CIN referral, entering care, EHC plan start, first CAMHS referral) the attendance,
    exclusions and attainment of the children who had it, by academic year relative to the
    year of the event (-1 the academic year before, 0 the year of the event, +1 the year after,
    ...), over every event year loaded. The measures are those of outcomes_by_group
    (macros/outcome_groups.sql); disclosure controlled the same way.
-#}
with

life_events as (
    select * from {{ ref('fct_life_events') }}
),

pupil_outcomes as (
    select * from {{ ref('fct_pupil_outcomes') }}
),

event_years as (
    select
        pupil_outcomes.*,
        life_events.life_event,
        false as is_total,
        {{ academic_year_start_year('pupil_outcomes.academic_year') }}
        - {{ academic_year_start_year('life_events.event_academic_year') }} as years_from_event
    from life_events
    inner join pupil_outcomes on life_events.person_key = pupil_outcomes.person_key
),

cells as (
    {{ outcome_measure_cells('event_years', ['life_event', 'years_from_event', 'is_total']) }}
),

controlled as (
    {{ controlled_outcome_measures(
        'cells', ['life_event', 'years_from_event', 'measure'], 'years_from_event') }}
),

labelled as (
    -- The relative year is a label ('-1', '0', '+1'): a number would read as a count to the
    -- privacy scan of controlled marts.
    select
        *,
        case
            when years_from_event > 0 then '+' || cast(years_from_event as string)
            else cast(years_from_event as string)
        end as relative_year
    from controlled
),

final as (
    select
        life_event,
        relative_year,
        measure,
        pupils,
        numerator,
        denominator,
        rate_per_100,
        average_score,
        is_suppressed
    from labelled
    order by life_event, years_from_event, measure
)

select * from final
