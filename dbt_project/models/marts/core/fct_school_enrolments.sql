{#- One row per pupil on roll per School Census, with the pupil's status on census day. -#}
with

pupils_on_census_day as (
    select * from {{ ref('int_school_census_pupils_on_census_day') }}
),

person_keys as (
    select * from {{ ref('int_person_keys') }}
),

final as (
    select
        person_keys.source_record_id as enrolment_id,
        person_keys.person_key,
        pupils_on_census_day.census_period,
        pupils_on_census_day.census_date,
        pupils_on_census_day.establishment_number,
        pupils_on_census_day.national_curriculum_year,
        {{ code_label('nc_year', 'pupils_on_census_day.national_curriculum_year') }}
            as national_curriculum_year_label,
        pupils_on_census_day.sen_provision,
        {{ code_label('sen_provision', 'pupils_on_census_day.sen_provision') }}
            as sen_provision_label,
        pupils_on_census_day.is_fsm_eligible
    from pupils_on_census_day
    inner join person_keys
        on pupils_on_census_day.person_record_id = person_keys.person_record_id
)

select * from final
