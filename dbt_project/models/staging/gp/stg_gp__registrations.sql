with

source as (
    select * from {{ source('gp', 'registrations') }}
),

sex_codes as (
    select * from {{ ref('conformed_sex_codes') }}
    where code_system = 'nhs'
),

renamed as (
    select
        source._period || '/' || source.registration_id as registration_record_id,
        {{ person_record_id('gp', "source._period || '/' || source.registration_id") }}
            as person_record_id,
        source._period as extract_period,
        cast(source._period_end as date) as period_end,
        cast(source.registration_id as integer) as registration_id,
        {{ normalise_nhs_number('source.nhs_number') }} as nhs_number,
        {{ clean_text('source.forename') }} as forename,
        {{ clean_text('source.surname') }} as surname,
        {{ parse_date('source.date_of_birth', '%Y-%m-%d') }} as date_of_birth,
        coalesce(sex_codes.sex, 'U') as sex,
        {{ normalise_postcode('source.postcode') }} as postcode,
        source.practice_code,
        {{ parse_date('source.registration_start_date', '%Y-%m-%d') }} as registration_start_date,
        {{ parse_date('source.registration_end_date', '%Y-%m-%d') }} as registration_end_date,
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
    left join sex_codes on source.sex = sex_codes.code
)

select * from renamed
