with

source as (
    select * from {{ source('social_care_clients', 'clients') }}
),

sex_codes as (
    select * from {{ ref('conformed_sex_codes') }}
    where code_system = 'dfe'
),

renamed as (
    select
        source._period || '/' || source.lachildid as client_record_id,
        {{ person_record_id('social_care_clients', "source._period || '/' || source.lachildid") }}
            as person_record_id,
        source._period as extract_period,
        cast(source._period_end as date) as period_end,
        {{ clean_text('source.lachildid') }} as la_child_id,
        {{ clean_text('source.forename') }} as forename,
        {{ clean_text('source.surname') }} as surname,
        {{ parse_date('source.dob', '%Y-%m-%d') }} as date_of_birth,
        coalesce(sex_codes.sex, 'U') as sex,
        {{ normalise_postcode('source.postcode') }} as postcode,
        {{ normalise_nhs_number('source.nhsnumber') }} as nhs_number,
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
    left join sex_codes on source.sex = sex_codes.code
)

select * from renamed
