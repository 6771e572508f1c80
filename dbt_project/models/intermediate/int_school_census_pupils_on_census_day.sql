{#- Each pupil's status on its census day: FSM eligibility is an open period on that day. -#}
with

pupils as (
    select * from {{ ref('stg_school_census__pupils') }}
),

censuses as (
    select * from {{ ref('stg_school_census__censuses') }}
),

fsm_periods as (
    select * from {{ ref('stg_school_census__fsm_periods') }}
),

fsm_on_census_day as (
    select distinct
        fsm_periods.census_period,
        fsm_periods.pupil_on_roll_id
    from fsm_periods
    inner join pupils
        on
            fsm_periods.census_period = pupils.census_period
            and fsm_periods.pupil_on_roll_id = pupils.pupil_on_roll_id
    inner join censuses
        on
            pupils.census_period = censuses.census_period
            and pupils.school_census_id = censuses.school_census_id
    where
        fsm_periods.fsm_start_date <= censuses.census_date
        and (fsm_periods.fsm_end_date is null or fsm_periods.fsm_end_date >= censuses.census_date)
)

select
    pupils.census_period,
    censuses.census_date,
    censuses.establishment_number,
    pupils.national_curriculum_year,
    pupils.sen_provision,
    pupils.person_record_id,
    fsm_on_census_day.pupil_on_roll_id is not null as is_fsm_eligible
from pupils
inner join censuses
    on
        pupils.census_period = censuses.census_period
        and pupils.school_census_id = censuses.school_census_id
left join fsm_on_census_day
    on
        pupils.census_period = fsm_on_census_day.census_period
        and pupils.pupil_on_roll_id = fsm_on_census_day.pupil_on_roll_id
