{#-
    Trends across School Census days: pupils on roll at an authority school on each census day,
    and of them those eligible for free school meals on the day, on SEN support and with an EHC
    plan, in total and by sex, ethnicity, postcode district and national curriculum year.
    Long form; disclosure controlled per census, measure and breakdown.
-#}
with

enrolments as (
    select * from {{ ref('fct_school_enrolments') }}
),

children as (
    select * from {{ ref('dim_child') }}
),

pupils as (
    -- A pupil on two rolls on one census day (dual registration) is counted once.
    select
        enrolments.census_period,
        enrolments.person_key,
        min(enrolments.census_date) as census_date,
        bool_or(enrolments.is_fsm_eligible) as is_fsm_eligible,
        bool_or(enrolments.sen_provision = 'K') as has_sen_support,
        bool_or(enrolments.sen_provision = 'E') as has_ehc_plan,
        coalesce(max(enrolments.national_curriculum_year), 'not known') as nc_year
    from enrolments
    group by enrolments.census_period, enrolments.person_key
),

measures as (
    unpivot (
        select
            pupils.census_period,
            pupils.census_date,
            pupils.person_key,
            pupils.nc_year,
            true as on_roll,
            pupils.is_fsm_eligible as fsm_eligible,
            pupils.has_sen_support as sen_support,
            pupils.has_ehc_plan as ehc_plan,
            children.sex,
            coalesce(children.ethnicity, 'not known') as ethnicity,
            coalesce(children.postcode_district, 'not known') as postcode_district
        from pupils
        inner join children on pupils.person_key = children.person_key
    )
    on on_roll, fsm_eligible, sen_support, ehc_plan
    into name measure value is_counted
),

counted as (
    select * from measures
    where is_counted
),

by_characteristic as (
    unpivot counted
    on sex, ethnicity, postcode_district, nc_year
    into name breakdown value breakdown_value
),

cells as (
    select
        census_period,
        census_date,
        measure,
        breakdown,
        breakdown_value,
        false as is_total,
        count(*) as pupils
    from by_characteristic
    group by census_period, census_date, measure, breakdown, breakdown_value
    union all
    select
        census_period,
        census_date,
        measure,
        breakdown,
        'all' as breakdown_value,
        true as is_total,
        count(*) as pupils
    from by_characteristic
    group by census_period, census_date, measure, breakdown
),

controlled as (
    {{ disclosure_control('cells', ['census_period', 'measure', 'breakdown'], 'pupils',
        'breakdown_value') }}
),

final as (
    select
        controlled.census_period,
        controlled.census_date,
        controlled.measure,
        controlled.breakdown,
        controlled.breakdown_value,
        {{ breakdown_value_label('controlled.breakdown', 'controlled.breakdown_value',
            {'sex': 'dfe_sex', 'ethnicity': 'ethnicity', 'nc_year': 'nc_year'}) }}
            as breakdown_value_label,
        controlled.is_total,
        controlled.is_suppressed,
        cast(controlled.pupils as bigint) as pupils
    from controlled
)

select * from final
