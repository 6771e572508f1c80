with

source as (
    select * from {{ source('school_census', 'pupilonroll') }}
),

sex_codes as (
    select * from {{ ref('conformed_sex_codes') }}
    where code_system = 'dfe'
),

renamed as (
    select
        source._period || '/' || source.pupilonrolltableid as pupil_record_id,
        {{ person_record_id('school_census', "source._period || '/' || source.pupilonrolltableid") }}
            as person_record_id,
        source._period as census_period,
        cast(source._period_end as date) as period_end,
        source.pupilonrolltableid as pupil_on_roll_id,
        source.schoolcensustableid as school_census_id,
        upper({{ clean_text('source.upn') }}) as upn,
        upper({{ clean_text('source.formerupn') }}) as former_upn,
        {{ clean_text('source.uniquelearnernumber') }} as unique_learner_number,
        {{ clean_text('source.forename') }} as forename,
        {{ clean_text('source.middlenames') }} as middle_names,
        {{ clean_text('source.surname') }} as surname,
        {{ clean_text('source.preferredsurname') }} as preferred_surname,
        {{ clean_text('source.formersurname') }} as former_surname,
        {{ parse_blade_date('source.dob') }} as date_of_birth,
        coalesce(sex_codes.sex, 'U') as sex,
        {{ clean_text('source.ethnicity') }} as ethnicity_code,
        {{ clean_text('source.language') }} as language_code,
        source.enrolstatus as enrolment_status,
        source.senprovision as sen_provision,
        source.ncyearactual as national_curriculum_year,
        {{ parse_blade_date('source.entrydate') }} as entry_date,
        {{ parse_boolean('source.parttime') }} as is_part_time,
        {{ clean_text('source.plaa') }} as previously_looked_after_code,
        {{ clean_text('source.youngcarer') }} as young_carer_code,
        {{ clean_text('source.servicechild') }} as service_child_code,
        source.youngcarer in ('P', 'S') as is_young_carer,
        source.servicechild = 'Y' as is_service_child,
        cast(source.termlysessionspossible as integer) as termly_sessions_possible,
        cast(source.termlysessionsauthorised as integer) as termly_sessions_authorised,
        cast(source.termlysessionsunauthorised as integer) as termly_sessions_unauthorised,
        cast(source.summerhalfterm2sessionspossible as integer)
            as summer_half_term_2_sessions_possible,
        cast(source.summerhalfterm2sessionsauthorised as integer)
            as summer_half_term_2_sessions_authorised,
        cast(source.summerhalfterm2sessionsunauthorised as integer)
            as summer_half_term_2_sessions_unauthorised,
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
    left join sex_codes on source.sex = sex_codes.code
)

select * from renamed
