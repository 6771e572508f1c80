with

source as (
    select * from {{ source('emergency_care', 'attendances') }}
),

sex_codes as (
    select * from {{ ref('conformed_sex_codes') }}
    where code_system = 'nhs'
),

ethnicity_codes as (
    select * from {{ ref('ethnicity_nhs_to_dfe') }}
),

renamed as (
    select
        source._period as extract_period,
        cast(source._period_end as date) as period_end,
        source.org_id_prov as provider_code,
        source.ethnic_category,
        ethnicity_codes.dfe_code as ethnicity_code,
        source.chief_complaint as chief_complaint_code,
        source.diagnosis as diagnosis_code,
        source._source_file as source_file,
        source._row_number as source_row_number,
        source._period || '/' || source.attendance_id as attendance_record_id,
        {{ person_record_id('emergency_care', "source._period || '/' || source.attendance_id") }}
            as person_record_id,
        cast(source.attendance_id as integer) as attendance_id,
        {{ normalise_nhs_number('source.nhs_number') }} as nhs_number,
        {{ parse_date('source.person_birth_date', '%Y-%m-%d') }} as date_of_birth,
        coalesce(sex_codes.sex, 'U') as sex,
        {{ normalise_postcode('source.postcode') }} as postcode,
        {{ parse_date('source.arrival_date', '%Y-%m-%d') }} as arrival_date,
        {{ time_of_day('source.arrival_time') }} as arrival_time,
        -- Y, or a SNOMED CT concept naming the concern; blank or N: none recorded.
        coalesce(nullif(trim(source.safeguarding_concern), '') <> 'N', false)
            as has_safeguarding_concern
    from source
    left join sex_codes on source.person_stated_gender_code = sex_codes.code
    left join ethnicity_codes on upper(trim(source.ethnic_category)) = ethnicity_codes.nhs_code
)

select * from renamed
